#include "boot/script.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/policy.h"
#include "boot/states.h"
#include "boot/template.h"
#include "conf/config.h"
#include "core/util.h"

/* Room for the fixed text of any rendered file, besides its command line. */
#define SCRIPT_BASE_CAP 4096
/* GRUB quoting turns each "$ " (2 bytes) into " '$'" (4): the worst case, per byte. */
#define SCRIPT_QUOTE_FACTOR 2

/* Room for one URL a variable holds (a base, files/<profile>/initrdN). */
#define BOOT_URL_LEN 256
/* The host's and the profile's vars, then the built-in ones. */
#define BOOT_VARS_MAX (2 * CONF_MAX_VARS + 32)

/* The variables of one rendering, and the text they point into. */
struct boot_vars {
	struct tmpl_var v[BOOT_VARS_MAX];
	size_t n;
	char mac[18], mac_dashes[18], ip[16], server_ip[16];
	char http_url[64], tftp_url[64], install_url[128];
	char callback_url[160]; /* boot/states.h: "" unless the machine is being installed */
	char kernel_url[BOOT_URL_LEN], initrd_urls[CONF_MAX_INITRDS * BOOT_URL_LEN];
};

/* What every rendered file is made from. */
struct boot_render {
	const struct conf_host *host;	    /* NULL when not in the inventory */
	const struct conf_profile *profile; /* never NULL once prepared */
	char mac[18];			    /* "52:54:00:aa:00:01", for the header comment */
	char cmdline[CONF_MAX_CMDLINE];	    /* empty while the command line is rendered */
	struct boot_vars vars;
};

static void boot_var(struct boot_vars *bv, const char *name, const char *value)
{
	if (bv->n < BOOT_VARS_MAX)
		bv->v[bv->n++] = (struct tmpl_var){.name = name, .value = value};
}

/* The URLs of a profile's files, for {{kernel_url}} and {{initrd_urls}}. */
static void boot_vars_urls(struct boot_vars *bv, const struct conf_profile *p)
{
	size_t used = 0;

	bv->kernel_url[0] = bv->initrd_urls[0] = '\0';
	if (p == NULL)
		return;
	snprintf(bv->kernel_url, sizeof(bv->kernel_url), "%s/files/%s/kernel", bv->http_url,
		 p->name);
	for (size_t i = 0; i < p->n_initrds && used < sizeof(bv->initrd_urls); i++) {
		int n =
		    snprintf(bv->initrd_urls + used, sizeof(bv->initrd_urls) - used,
			     "%s%s/files/%s/initrd%zu", i > 0 ? " " : "", bv->http_url, p->name, i);
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/*
 * THE list of template variables (docs/config.md, "Templates"). A new
 * variable is one boot_var() line below and nothing else: the config
 * checker knows the names through boot_template_var_known(), which reads
 * this list. The host's vars come first, then the profile's: the first of
 * a name wins (boot/template.h), and the config refuses vars named like a
 * built-in one. Values point into bv and r, which outlive the rendering.
 */
static void boot_vars_fill(struct boot_vars *bv, const struct conf *c, const struct boot_machine *m,
			   const struct boot_render *r)
{
	const struct conf_profile *p = r->profile;
	const struct conf_host *h = r->host;
	char *tftp = bv->tftp_url;

	bv->n = 0;
	for (size_t i = 0; h != NULL && i < h->vars.n; i++)
		boot_var(bv, h->vars.v[i].name, h->vars.v[i].value);
	for (size_t i = 0; p != NULL && i < p->vars.n; i++)
		boot_var(bv, p->vars.v[i].name, p->vars.v[i].value);
	mac_format(bv->mac, m->mac);
	mac_format_dash(bv->mac_dashes, m->mac);
	if (m->ip != 0)
		ip4_format(bv->ip, m->ip);
	else
		bv->ip[0] = '\0';
	ip4_format(bv->server_ip, c->server_address != 0 ? c->server_address : m->server_ip);
	boot_http_base(c, m->server_ip, bv->http_url, sizeof(bv->http_url));
	if (c->tftp_port == 69)
		snprintf(tftp, sizeof(bv->tftp_url), "tftp://%s", bv->server_ip);
	else
		snprintf(tftp, sizeof(bv->tftp_url), "tftp://%s:%u", bv->server_ip, c->tftp_port);
	snprintf(bv->install_url, sizeof(bv->install_url), "%s/install/%s/", bv->http_url, bv->mac);
	boot_vars_urls(bv, p);

	boot_var(bv, "mac", bv->mac);		    /* 52:54:00:aa:00:01 */
	boot_var(bv, "mac_dashes", bv->mac_dashes); /* 52-54-00-aa-00-01 */
	boot_var(bv, "ip", bv->ip);		    /* the requester's address, if known */
	boot_var(bv, "hostname", h != NULL && h->name != NULL ? h->name : "");
	boot_var(bv, "arch", m->arch != NULL ? m->arch : "");
	boot_var(bv, "uuid", m->uuid != NULL ? m->uuid : "");
	boot_var(bv, "server_ip", bv->server_ip);
	boot_var(bv, "http_url", bv->http_url);
	boot_var(bv, "tftp_url", bv->tftp_url);
	boot_var(bv, "profile", p != NULL ? p->name : "");
	boot_var(bv, "kernel_url", bv->kernel_url);
	boot_var(bv, "initrd_urls", bv->initrd_urls);
	boot_var(bv, "cmdline", r->cmdline);
	boot_var(bv, "install_url", bv->install_url);
	/* The install life cycle's: POST here when installed (boot/states.h); "" if none. */
	boot_states_callback_url(m->states, c, m->mac, m->server_ip, bv->callback_url,
				 sizeof(bv->callback_url));
	boot_var(bv, "callback_url", bv->callback_url);
}

bool boot_template_var_known(const char *name, size_t len)
{
	static const uint8_t mac[6];
	static const struct conf defaults = {.tftp_port = 69, .http_port = 80};
	const struct boot_machine m = {.mac = mac};
	struct boot_render *r = calloc(1, sizeof(*r));
	bool known = false;

	if (r == NULL)
		return false;
	boot_vars_fill(&r->vars, &defaults, &m, r);
	for (size_t i = 0; i < r->vars.n && !known; i++)
		known =
		    strncmp(r->vars.v[i].name, name, len) == 0 && r->vars.v[i].name[len] == '\0';
	free(r);
	return known;
}

/*
 * One command line (a template) rendered into out at *used. Compiled here,
 * not kept: the loader checked those of the file (conf_load), and those of
 * flags or of the API are short. A name that is not a variable is empty.
 */
static int boot_cmdline_part(const char *cmdline, const struct boot_vars *bv, char *out, size_t cap,
			     size_t *used)
{
	struct tmpl_error err;
	struct tmpl *t;
	char *text;
	size_t len;
	int rc;

	if (cmdline == NULL || cmdline[0] == '\0')
		return 0;
	rc = tmpl_compile(cmdline, strlen(cmdline), NULL, NULL, &t, &err);
	if (rc < 0)
		return rc == -ENOMEM ? rc : -EINVAL;
	rc = tmpl_render(t, bv->v, bv->n, cap, &text, &len);
	tmpl_free(t);
	if (rc < 0)
		return rc;
	/*
	 * An {{#if}} that left nothing leaves no space at either end; a
	 * command line without tags stays exactly as written.
	 */
	const char *w = text;
	bool templated = strstr(cmdline, "{{") != NULL;
	while (templated && *w == ' ')
		w++;
	while (templated && len > (size_t)(w - text) && text[len - 1] == ' ')
		text[--len] = '\0';
	if (*w == '\0') {
		free(text);
		return 0;
	}
	int n = snprintf(out + *used, cap - *used, "%s%s", *used > 0 ? " " : "", w);
	free(text);
	if (n < 0 || (size_t)n >= cap - *used)
		return -ENOSPC;
	*used += (size_t)n;
	return 0;
}

/* The profile's command line, then the host's, with one space between. */
static int boot_cmdline_render(struct boot_render *r, char *out, size_t cap)
{
	size_t used = 0;
	int rc;

	out[0] = '\0';
	rc = boot_cmdline_part(r->profile->cmdline, &r->vars, out, cap, &used);
	if (rc == 0 && r->host != NULL)
		rc = boot_cmdline_part(r->host->cmdline, &r->vars, out, cap, &used);
	return rc;
}

/*
 * The machine's profile (the named one, else its host entry's, else the
 * default), its variables and its command line. A control character is
 * refused: the config loader already refuses them, this keeps a hand-built
 * config from injecting a directive into any of the formats below.
 */
static int boot_render_prepare(const struct conf *c, const struct boot_machine *m,
			       const char *profile, struct boot_render *r)
{
	const struct conf_profile *p = boot_profile_for(c, m->mac, &r->host);

	if (profile != NULL)
		p = conf_find_profile(c, profile);
	if (p == NULL)
		return -ENOENT;
	r->profile = p;
	r->cmdline[0] = '\0';
	boot_vars_fill(&r->vars, c, m, r);
	int rc = boot_cmdline_render(r, r->cmdline, sizeof(r->cmdline));
	if (rc < 0)
		return rc;
	for (const char *q = r->cmdline; *q != '\0'; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			return -EINVAL;
	mac_format(r->mac, m->mac);
	return 0;
}

int boot_cmdline(const struct conf *c, const uint8_t mac[6], char *out, size_t cap)
{
	const struct boot_machine m = {.mac = mac};
	struct boot_render *r = calloc(1, sizeof(*r));
	int rc;

	if (r == NULL)
		return -ENOMEM;
	rc = boot_render_prepare(c, &m, NULL, r);
	if (rc == 0 && strlen(r->cmdline) >= cap)
		rc = -ENOSPC;
	if (rc == 0)
		memcpy(out, r->cmdline, strlen(r->cmdline) + 1);
	free(r);
	return rc;
}

/* The profile's template called name, or NULL. */
static const struct conf_template *boot_template(const struct conf_profile *p, const char *name)
{
	for (size_t i = 0; i < p->n_templates; i++)
		if (strcmp(p->templates[i].name, name) == 0)
			return &p->templates[i];
	return NULL;
}

/* A template not compiled (a config built by hand, not loaded) is not served. */
static int boot_render_template(const struct conf_template *t, const struct boot_render *r,
				char **out, size_t *len)
{
	if (t->tmpl == NULL)
		return -ENOENT;
	return tmpl_render(t->tmpl, r->vars.v, r->vars.n, 0, out, len);
}

/* Appends to a growing script; a failed append poisons the buffer. */
struct script_buf {
	char *p;
	size_t len, cap;
	int err;
};

static void script_add(struct script_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void script_add(struct script_buf *b, const char *fmt, ...)
{
	va_list ap;
	if (b->err)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->err = -ENOSPC;
		return;
	}
	b->len += (size_t)n;
}

static int script_open(struct script_buf *b, size_t cap)
{
	*b = (struct script_buf){.cap = cap};
	b->p = malloc(cap);
	return b->p != NULL ? 0 : -ENOMEM;
}

/* Hands the text over to the caller, or frees it after a failed append. */
static int script_finish(struct script_buf *b, char **out, size_t *len)
{
	if (b->err) {
		free(b->p);
		return b->err;
	}
	*out = b->p;
	*len = b->len;
	return 0;
}

/* "# rendered by pxed for 52:54:00:aa:00:01 node1, profile debian": a comment in all three. */
static void script_header(struct script_buf *b, const struct boot_render *r)
{
	const char *name = r->host != NULL && r->host->name != NULL ? r->host->name : NULL;
	script_add(b, "# rendered by pxed for %s%s%s, profile %s\n", r->mac, name ? " " : "",
		   name ? name : "", r->profile->name);
}

/* ---------------------------------------------------------------------- */
/* iPXE                                                                   */

int boot_render_ipxe(const struct conf *c, const uint8_t mac[6], uint32_t server_ip, char **out,
		     size_t *len)
{
	return boot_render_ipxe_profile(c, mac, NULL, server_ip, out, len);
}

int boot_render_ipxe_profile(const struct conf *c, const uint8_t mac[6], const char *profile,
			     uint32_t server_ip, char **out, size_t *len)
{
	const struct boot_machine m = {.mac = mac, .server_ip = server_ip};
	return boot_render_ipxe_for(c, &m, profile, out, len);
}

/*
 * Each of the three loaders' files: the profile's template of that name
 * when it has one, else the built-in text. An installed host's "boot
 * locally" variant (boot_render_local) is chosen by the caller, vfs.c.
 */
int boot_render_ipxe_for(const struct conf *c, const struct boot_machine *m, const char *profile,
			 char **out, size_t *len)
{
	struct boot_render r;
	struct script_buf b;
	const char *base = r.vars.http_url;
	int rc = boot_render_prepare(c, m, profile, &r);

	if (rc < 0)
		return rc;
	const struct conf_profile *p = r.profile;
	const struct conf_template *t = boot_template(p, "ipxe");
	if (t != NULL)
		return boot_render_template(t, &r, out, len);
	if (script_open(&b, SCRIPT_BASE_CAP + CONF_MAX_CMDLINE) < 0)
		return -ENOMEM;
	script_add(&b, "#!ipxe\n");
	script_header(&b, &r);
	/*
	 * iPXE's EFI build hands an initrd to the kernel's EFI stub only when
	 * the command line names it with initrd=; BIOS kernels ignore it.
	 */
	script_add(&b, "kernel %s/files/%s/kernel", base, p->name);
	for (size_t i = 0; i < p->n_initrds; i++)
		script_add(&b, " initrd=initrd%zu", i);
	script_add(&b, "%s%s\n", r.cmdline[0] ? " " : "", r.cmdline);
	for (size_t i = 0; i < p->n_initrds; i++)
		script_add(&b, "initrd --name initrd%zu %s/files/%s/initrd%zu\n", i, base, p->name,
			   i);
	script_add(&b, "boot\n");
	return script_finish(&b, out, len);
}

/* ---------------------------------------------------------------------- */
/* pxelinux (syslinux 6)                                                  */

int boot_render_pxelinux(const struct conf *c, const uint8_t mac[6], char **out, size_t *len)
{
	const struct boot_machine m = {.mac = mac};
	return boot_render_pxelinux_for(c, &m, out, len);
}

int boot_render_pxelinux_for(const struct conf *c, const struct boot_machine *m, char **out,
			     size_t *len)
{
	struct boot_render r;
	struct script_buf b;
	int rc = boot_render_prepare(c, m, NULL, &r);

	if (rc < 0)
		return rc;
	const struct conf_template *t = boot_template(r.profile, "pxelinux");
	if (t != NULL)
		return boot_render_template(t, &r, out, len);
	if (script_open(&b, SCRIPT_BASE_CAP + CONF_MAX_CMDLINE) < 0)
		return -ENOMEM;
	const struct conf_profile *p = r.profile;
	script_header(&b, &r);
	/* PROMPT 0: no boot: prompt, the default label boots at once. */
	script_add(&b, "DEFAULT pxed\nPROMPT 0\nLABEL pxed\n");
	/*
	 * LINUX, not KERNEL: KERNEL guesses the kind of image from its
	 * extension. Relative paths are taken from pxelinux's path prefix (the
	 * boot file's directory, or option 210), over the protocol it came by.
	 */
	script_add(&b, "  LINUX files/%s/kernel\n", p->name);
	/* INITRD takes a comma-separated list and loads the files in order. */
	for (size_t i = 0; i < p->n_initrds; i++)
		script_add(&b, "%sfiles/%s/initrd%zu", i == 0 ? "  INITRD " : ",", p->name, i);
	if (p->n_initrds > 0)
		script_add(&b, "\n");
	/* APPEND takes the rest of its line as it is: no quoting to undo. */
	if (r.cmdline[0] != '\0')
		script_add(&b, "  APPEND %s\n", r.cmdline);
	return script_finish(&b, out, len);
}

/* ---------------------------------------------------------------------- */
/* GRUB 2                                                                 */

/* Characters GRUB's script lexer reads as themselves outside quotes. */
static bool grub_plain(char ch)
{
	return ch != '\0' && (isalnum((unsigned char)ch) || strchr("-_.,:/=+@%", ch) != NULL);
}

/*
 * The next parameter of a command line as the kernel reads it (next_arg()
 * in the kernel's lib/cmdline.c, which iPXE and pxelinux leave it to): a
 * word ends at a space outside double quotes; a quote that opens the word,
 * or its value right after the first '=' (past the first character), is
 * dropped, and so is a quote that ends the word then. Other quotes stay in
 * the parameter. args starts at a non-space; the word, without the dropped
 * quotes, goes to word (room for strlen(args) + 1). Returns the length of
 * args the word took.
 */
static size_t grub_kernel_word(const char *args, char *word, size_t *wlen)
{
	const char *a = args + (args[0] == '"');
	bool quoted = args[0] == '"', in_quote = quoted;
	size_t n, equals = 0, drop_value = SIZE_MAX, drop_last = SIZE_MAX;

	for (n = 0; a[n] != '\0' && (a[n] != ' ' || in_quote); n++) {
		if (equals == 0 && a[n] == '=')
			equals = n;
		if (a[n] == '"')
			in_quote = !in_quote;
	}
	if (equals != 0 && a[equals + 1] == '"')
		drop_value = equals + 1;
	if ((quoted || drop_value != SIZE_MAX) && n > 0 && a[n - 1] == '"')
		drop_last = n - 1;
	*wlen = 0;
	for (size_t i = 0; i < n; i++)
		if (i != drop_value && i != drop_last)
			word[(*wlen)++] = a[i];
	word[*wlen] = '\0';
	return (size_t)(a - args) + n;
}

/*
 * One parameter as one GRUB argument, so that the kernel reads the same
 * parameter from GRUB as from the command line as written. GRUB 2.06's
 * grub_create_loader_cmdline() (lib/cmdline.c) joins its arguments with
 * spaces, puts one that holds a space in double quotes ("key=a b", which
 * the kernel reads as key="a b") and a backslash before every ", ' and \
 * it passes on, which the kernel does not take off: a parameter holding
 * one of those cannot go through GRUB unchanged, and is refused.
 * The argument itself is written as it is when plain, else in single
 * quotes, where GRUB's lexer sees nothing special ($, ;, {, #...).
 */
static int grub_add_word(struct script_buf *b, const char *w, size_t n)
{
	bool plain = true;

	for (size_t i = 0; i < n; i++) {
		if (w[i] == '"' || w[i] == '\'' || w[i] == '\\')
			return -EINVAL;
		plain = plain && grub_plain(w[i]);
	}
	script_add(b, plain ? " %.*s" : " '%.*s'", (int)n, w);
	return 0;
}

/*
 * The command line split as the kernel splits it, each parameter its own
 * argument: `ds="nocloud-net;s=http://x/"` becomes 'ds=nocloud-net;s=http://x/'
 * and `quoted="a b"` becomes 'quoted=a b'. An empty parameter ("") is
 * refused too: GRUB drops an empty argument, the kernel would not.
 */
static int grub_add_cmdline(struct script_buf *b, const char *cmdline)
{
	char word[CONF_MAX_CMDLINE];
	const char *q = cmdline;
	size_t n;

	if (strlen(cmdline) >= sizeof(word))
		return -ENOSPC;
	for (;;) {
		while (*q == ' ')
			q++;
		if (*q == '\0')
			return 0;
		q += grub_kernel_word(q, word, &n);
		if (n == 0 || grub_add_word(b, word, n) < 0)
			return -EINVAL;
	}
}

/* "(tftp,10.77.0.1)"; GRUB 2.12 and later also read a port after a ':'. */
static void grub_device(const struct conf *c, enum boot_proto proto, uint32_t server_ip, char *out,
			size_t cap)
{
	char ip[16];
	uint16_t port = proto == BOOT_PROTO_HTTP ? c->http_port : c->tftp_port;
	uint16_t usual = proto == BOOT_PROTO_HTTP ? 80 : 69;

	ip4_format(ip, c->server_address != 0 ? c->server_address : server_ip);
	if (port == usual)
		snprintf(out, cap, "(%s,%s)", proto == BOOT_PROTO_HTTP ? "http" : "tftp", ip);
	else
		snprintf(out, cap, "(%s,%s:%u)", proto == BOOT_PROTO_HTTP ? "http" : "tftp", ip,
			 port);
}

int boot_render_grub(const struct conf *c, const uint8_t mac[6], enum boot_proto proto,
		     uint32_t server_ip, char **out, size_t *len)
{
	const struct boot_machine m = {.mac = mac, .server_ip = server_ip};
	return boot_render_grub_for(c, &m, proto, out, len);
}

int boot_render_grub_for(const struct conf *c, const struct boot_machine *m, enum boot_proto proto,
			 char **out, size_t *len)
{
	struct boot_render r;
	struct script_buf b;
	char dev[48];
	uint32_t server_ip = m->server_ip;
	int rc = boot_render_prepare(c, m, NULL, &r);

	if (rc < 0)
		return rc;
	const struct conf_template *t = boot_template(r.profile, "grub");
	if (t != NULL)
		return boot_render_template(t, &r, out, len);
	if (script_open(&b, SCRIPT_BASE_CAP + SCRIPT_QUOTE_FACTOR * CONF_MAX_CMDLINE) < 0)
		return -ENOMEM;
	const struct conf_profile *p = r.profile;
	grub_device(c, proto, server_ip, dev, sizeof(dev));
	script_header(&b, &r);
	/* One entry, booted at once. */
	script_add(&b, "set default=0\nset timeout=0\n");
	/* Profile names are letters, digits, '.', '_' and '-': safe in quotes. */
	script_add(&b, "menuentry 'pxed: %s' {\n", p->name);
	script_add(&b, "\tlinux %s/files/%s/kernel", dev, p->name);
	rc = grub_add_cmdline(&b, r.cmdline);
	if (rc < 0 && b.err == 0)
		b.err = rc; /* script_finish() frees the text and returns it */
	script_add(&b, "\n");
	if (p->n_initrds > 0) {
		/* initrd takes several files and loads them one after the other. */
		script_add(&b, "\tinitrd");
		for (size_t i = 0; i < p->n_initrds; i++)
			script_add(&b, " %s/files/%s/initrd%zu", dev, p->name, i);
		script_add(&b, "\n");
	}
	script_add(&b, "}\n");
	return script_finish(&b, out, len);
}

/*
 * Debian's grubnetx64.efi (prefix /grub) runs `normal (memdisk)/grub.cfg`,
 * whose script sources $prefix/grub.cfg: GRUB 2.06 searches
 * grub.cfg-01-<mac>, grub.cfg-<hex IP>... only when `normal` runs without
 * a file, so this file takes the machine to its own. GRUB script cannot
 * replace the colons of $net_default_mac; regexp can take them apart.
 * Without a configuration (no profile for the MAC) GRUB goes back to the
 * firmware, which tries its next boot option.
 */
static const char grub_loader[] =
    "# rendered by pxed: each machine's own configuration is grub.cfg-01-<its MAC>\n"
    "regexp --set=1:m1 --set=2:m2 --set=3:m3 --set=4:m4 --set=5:m5 --set=6:m6 "
    "'^(..):(..):(..):(..):(..):(..)$' \"$net_default_mac\"\n"
    "configfile \"$prefix/grub.cfg-01-$m1-$m2-$m3-$m4-$m5-$m6\"\n"
    "echo \"pxed: no boot configuration for $net_default_mac\"\n"
    "sleep 3\n"
    "exit\n";

/* ---------------------------------------------------------------------- */
/* Install files (kickstart, preseed, cloud-init...)                      */

/* The loaders' own files are not install files: they have their paths. */
static bool boot_template_is_loader(const char *name)
{
	return strcmp(name, "ipxe") == 0 || strcmp(name, "pxelinux") == 0 ||
	       strcmp(name, "grub") == 0;
}

int boot_render_install(const struct conf *c, const struct boot_machine *m, const char *name,
			char **out, size_t *len)
{
	struct boot_render r;
	int rc = boot_render_prepare(c, m, NULL, &r);

	if (rc < 0)
		return rc;
	const struct conf_template *t = boot_template(r.profile, name);
	if (t == NULL || boot_template_is_loader(name))
		return -ENOENT;
	return boot_render_template(t, &r, out, len);
}

int boot_render_grub_loader(char **out, size_t *len)
{
	*out = strdup(grub_loader);
	if (*out == NULL)
		return -ENOMEM;
	*len = sizeof(grub_loader) - 1;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Local boot (an installed host)                                         */

int boot_render_local(enum boot_loader loader, const uint8_t mac[6], char **out, size_t *len)
{
	struct script_buf b;
	char m[18];

	if (script_open(&b, SCRIPT_BASE_CAP) < 0)
		return -ENOMEM;
	mac_format(m, mac);
	if (loader == BOOT_LOADER_IPXE)
		script_add(&b, "#!ipxe\n");
	script_add(&b, "# rendered by pxed for %s: installed, boots from its local disk\n", m);
	switch (loader) {
	case BOOT_LOADER_IPXE:
		/* exit ends iPXE: the BIOS or UEFI boot manager tries its next device. */
		script_add(&b, "echo pxed: installed, booting from the local disk\nexit\n");
		break;
	case BOOT_LOADER_PXELINUX:
		/* LOCALBOOT 0: the first hard disk, through the BIOS. */
		script_add(&b, "DEFAULT local\nPROMPT 0\nLABEL local\n  LOCALBOOT 0\n");
		break;
	case BOOT_LOADER_GRUB:
		/* Back to the UEFI boot manager, whose next entry is the disk. */
		script_add(&b, "echo \"pxed: installed, booting from the local disk\"\nexit\n");
		break;
	}
	return script_finish(&b, out, len);
}
