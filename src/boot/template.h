/*
 * Templates for the files rendered per machine (kickstart, preseed,
 * cloud-init, iPXE, pxelinux, GRUB, the kernel command line). The syntax is
 * deliberately tiny:
 *
 *   {{ name }}                       the variable's value
 *   {{#if name}} ... {{else}} ... {{/if}}       when the value is not empty
 *   {{#unless name}} ... {{else}} ... {{/unless}}  when it is empty
 *
 * and nothing else: no loops, no includes, no code. A block tag alone on
 * its line takes the whole line with it, so a template reads like the file
 * it renders.
 *
 * A template is compiled once (at config load) into a list of operations;
 * every variable it names must be known then, so a typo is a load error
 * with the template's line, not a surprise at boot. Rendering is a walk of
 * the list. Pure: no I/O, no globals.
 */
#ifndef PXED_BOOT_TEMPLATE_H
#define PXED_BOOT_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#define TMPL_MAX_SIZE (256u * 1024u)	/* bytes of template text */
#define TMPL_MAX_DEPTH 16		/* {{#if}} and {{#unless}} inside each other */
#define TMPL_MAX_OUTPUT (1024u * 1024u) /* bytes of one rendered file, by default */
#define TMPL_MAX_NAME 64		/* bytes of a variable's name */

struct tmpl;

/* Why a template did not compile: its line (1-based) and what is wrong. */
struct tmpl_error {
	int line;
	char msg[160];
};

/* Whether a template may name the variable name (len bytes, not terminated). */
typedef bool tmpl_known_fn(const char *name, size_t len, void *ctx);

/*
 * Compiles len bytes of text. known (NULL: every well-formed name) decides
 * which variables exist. Returns 0 and *out, -EINVAL with *err filled,
 * -EFBIG for a template longer than TMPL_MAX_SIZE, or -ENOMEM.
 */
int tmpl_compile(const char *text, size_t len, tmpl_known_fn *known, void *ctx, struct tmpl **out,
		 struct tmpl_error *err);

void tmpl_free(struct tmpl *t);

/* One variable of a rendering; the first of a name in the list wins. */
struct tmpl_var {
	const char *name;
	const char *value; /* NULL is the same as "" */
};

/*
 * Renders t with the n variables vars into a new NUL-terminated heap buffer
 * (*out, *len). A variable missing from vars is empty. Returns 0, -EINVAL
 * when a value used holds a control character (a newline would add a line,
 * that is a directive, to the file: refused, never escaped), -ENOSPC when
 * the text would pass max_out bytes (0: TMPL_MAX_OUTPUT; never cut short),
 * or -ENOMEM.
 */
int tmpl_render(const struct tmpl *t, const struct tmpl_var *vars, size_t n, size_t max_out,
		char **out, size_t *len);

/* Whether s is a variable name: [a-z_][a-z0-9_]*, at most TMPL_MAX_NAME bytes. */
bool tmpl_name_valid(const char *s, size_t len);

/* Whether a value may be rendered: no control character (and no DEL). */
bool tmpl_value_valid(const char *s);

#endif
