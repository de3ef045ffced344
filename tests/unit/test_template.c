/*
 * Templates (boot/template.c): every construct as a table of template,
 * variables and exact output; every compile error with its line; the
 * bounds (size, depth, output); values with control characters refused.
 * Then through the config and the virtual tree: templates: and vars: of
 * profiles and hosts, install/<mac>/<name>, the ipxe/pxelinux/grub
 * overrides, templated command lines, and load errors that name the
 * template's file and line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "boot/script.h"
#include "boot/template.h"
#include "boot/vfs.h"
#include "conf/config.h"

static const struct tmpl_var VARS[] = {
    {"mac", "52:54:00:aa:00:01"},
    {"hostname", "node1"},
    {"empty", ""},
    {"null", NULL},
    {"disk", "sda"},
};

static bool known_vars(const char *name, size_t len, void *ctx)
{
	(void)ctx;
	for (size_t i = 0; i < sizeof(VARS) / sizeof(VARS[0]); i++)
		if (strlen(VARS[i].name) == len && memcmp(VARS[i].name, name, len) == 0)
			return true;
	return false;
}

/* Compiles and renders text; returns the output (to free) or NULL with *rc. */
static char *render(const char *text, size_t max_out, int *rc)
{
	struct tmpl_error err;
	struct tmpl *t;
	char *out = NULL;
	size_t len = 0;

	*rc = tmpl_compile(text, strlen(text), known_vars, NULL, &t, &err);
	if (*rc < 0)
		return NULL;
	*rc = tmpl_render(t, VARS, sizeof(VARS) / sizeof(VARS[0]), max_out, &out, &len);
	tmpl_free(t);
	if (*rc == 0)
		assert_int_equal(strlen(out), len);
	return out;
}

static void test_constructs(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"", ""},
	    {"plain text\n", "plain text\n"},
	    {"{{mac}}", "52:54:00:aa:00:01"},
	    {"{{ mac }} {{\thostname\t}}", "52:54:00:aa:00:01 node1"},
	    {"a{{empty}}b{{null}}c", "abc"},
	    {"{{#if hostname}}yes{{/if}}", "yes"},
	    {"{{#if empty}}yes{{/if}}", ""},
	    {"{{#if null}}yes{{else}}no{{/if}}", "no"},
	    {"{{#if disk}}d={{disk}}{{else}}none{{/if}}!", "d=sda!"},
	    {"{{#unless empty}}e{{/unless}}", "e"},
	    {"{{#unless disk}}x{{else}}{{disk}}{{/unless}}", "sda"},
	    {"{{#if disk}}{{#if empty}}1{{else}}2{{/if}}{{#unless empty}}3{{/unless}}{{/if}}",
	     "23"},
	    {"{{#if empty}}{{#if disk}}1{{/if}}{{else}}4{{/if}}", "4"},
	    /* A block tag alone on its line takes the line with it. */
	    {"a\n{{#if disk}}\nb\n{{else}}\nc\n{{/if}}\nd\n", "a\nb\nd\n"},
	    {"  {{#if empty}}  \nb\n  {{/if}}\nd", "d"},
	    {"{{#if disk}}\r\nb\r\n{{/if}}\r\n", "b\r\n"},
	    /* ...but not when it shares the line. */
	    {"x {{#if disk}}y{{/if}}\n", "x y\n"},
	    /* Variables keep their line. */
	    {"{{mac}}\n", "52:54:00:aa:00:01\n"},
	    /* Braces that are not a tag are text. */
	    {"} { }} {x}", "} { }} {x}"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;
		char *out = render(cases[i].in, 0, &rc);
		if (rc != 0)
			fail_msg("case %zu '%s': rc %d", i, cases[i].in, rc);
		if (strcmp(out, cases[i].out) != 0)
			fail_msg("case %zu '%s': got '%s', want '%s'", i, cases[i].in, out,
				 cases[i].out);
		free(out);
	}
}

static void test_errors(void **state)
{
	static const struct {
		const char *in;
		int line;
		const char *msg; /* a part of the message */
	} cases[] = {
	    {"a\nb {{hostnme}}\n", 2, "unknown variable 'hostnme'"},
	    {"{{#if hostnme}}x{{/if}}", 1, "unknown variable 'hostnme'"},
	    {"{{ Mac }}", 1, "not a variable name"},
	    {"{{ 1x }}", 1, "not a variable name"},
	    {"{{}}", 1, "not a variable name"},
	    {"{{ mac hostname }}", 1, "not a variable name"},
	    {"\n\n{{mac", 3, "not closed"},
	    {"{{mac\n}}", 1, "not closed"},
	    {"{{#each mac}}", 1, "unknown tag"},
	    {"{{> include}}", 1, "not a variable name"},
	    {"{{#if}}", 1, "needs a variable name"},
	    {"{{/if mac}}", 1, "takes no name"},
	    {"x\n{{else}}", 2, "outside"},
	    {"{{/if}}", 1, "closes no block"},
	    {"{{#if mac}}\n{{/unless}}", 2, "closes the {{#if}} opened at line 1"},
	    {"{{#if mac}}a{{else}}b{{else}}c{{/if}}", 1, "second {{else}}"},
	    {"1\n{{#unless mac}}\n2\n", 2, "{{#unless}} is never closed"},
	    {"a\n\nb\0c", 3, "NUL"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tmpl_error err;
		struct tmpl *t = (struct tmpl *)&err;
		size_t len = strlen(cases[i].in);
		if (strstr(cases[i].msg, "NUL") != NULL)
			len = 6;
		int rc = tmpl_compile(cases[i].in, len, known_vars, NULL, &t, &err);
		if (rc != -EINVAL || t != NULL)
			fail_msg("case %zu: rc %d", i, rc);
		if (err.line != cases[i].line || strstr(err.msg, cases[i].msg) == NULL)
			fail_msg("case %zu: line %d '%s', want line %d '%s'", i, err.line, err.msg,
				 cases[i].line, cases[i].msg);
	}
}

static void test_bounds(void **state)
{
	struct tmpl_error err;
	struct tmpl *t;
	char *big, *out;
	size_t len;
	int rc;

	(void)state;
	/* The size: one byte past the limit is refused at compile. */
	big = malloc(TMPL_MAX_SIZE + 2);
	assert_non_null(big);
	memset(big, 'a', TMPL_MAX_SIZE + 1);
	big[TMPL_MAX_SIZE + 1] = '\0';
	assert_int_equal(tmpl_compile(big, TMPL_MAX_SIZE + 1, NULL, NULL, &t, &err), -EFBIG);
	assert_int_equal(tmpl_compile(big, TMPL_MAX_SIZE, NULL, NULL, &t, &err), 0);
	/* The output: exactly the cap is fine, one byte less is -ENOSPC, never cut. */
	assert_int_equal(tmpl_render(t, NULL, 0, TMPL_MAX_SIZE, &out, &len), 0);
	assert_int_equal(len, TMPL_MAX_SIZE);
	free(out);
	out = (char *)1;
	assert_int_equal(tmpl_render(t, NULL, 0, TMPL_MAX_SIZE - 1, &out, &len), -ENOSPC);
	assert_null(out);
	tmpl_free(t);
	free(big);
	/* Variables count toward the cap too. */
	out = render("{{mac}}{{mac}}", 33, &rc);
	assert_int_equal(rc, -ENOSPC);
	out = render("{{mac}}{{mac}}", 34, &rc);
	assert_int_equal(rc, 0);
	free(out);

	/* Nesting: TMPL_MAX_DEPTH blocks are fine, one more is refused at its line. */
	char deep[2048] = "";
	for (int i = 0; i <= TMPL_MAX_DEPTH; i++)
		strcat(deep, "{{#if mac}}\n");
	assert_int_equal(tmpl_compile(deep, strlen(deep), known_vars, NULL, &t, &err), -EINVAL);
	assert_int_equal(err.line, TMPL_MAX_DEPTH + 1);
	assert_non_null(strstr(err.msg, "nested deeper"));
	deep[0] = '\0';
	for (int i = 0; i < TMPL_MAX_DEPTH; i++)
		strcat(deep, "{{#if mac}}");
	strcat(deep, "x");
	for (int i = 0; i < TMPL_MAX_DEPTH; i++)
		strcat(deep, "{{/if}}");
	out = render(deep, 0, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(out, "x");
	free(out);
}

static void test_injection_refused(void **state)
{
	static const char *const bad[] = {"a\nreboot", "a\rb", "\x1b[2J", "tab\there", "del\x7f"};
	struct tmpl_error err;
	struct tmpl *t;
	char *out;
	size_t len;

	(void)state;
	assert_int_equal(tmpl_compile("x={{v}}\n", 8, NULL, NULL, &t, &err), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tmpl_var v = {"v", bad[i]};
		out = (char *)1;
		assert_int_equal(tmpl_render(t, &v, 1, 0, &out, &len), -EINVAL);
		assert_null(out);
	}
	struct tmpl_var ok = {"v", "quiet splash"};
	assert_int_equal(tmpl_render(t, &ok, 1, 0, &out, &len), 0);
	assert_string_equal(out, "x=quiet splash\n");
	free(out);
	tmpl_free(t);
	/* A value only tested by #if is not written: it may hold anything. */
	assert_int_equal(tmpl_compile("{{#if v}}set{{/if}}", 19, NULL, NULL, &t, &err), 0);
	struct tmpl_var nl = {"v", "a\nb"};
	assert_int_equal(tmpl_render(t, &nl, 1, 0, &out, &len), 0);
	assert_string_equal(out, "set");
	free(out);
	tmpl_free(t);
	assert_true(tmpl_value_valid("ok value"));
	assert_false(tmpl_value_valid("no\n"));
}

/* ---------------------------------------------------------------------- */
/* Through the config and the virtual tree                                */

static char dir[] = "/tmp/pxed-test-template-XXXXXX";

static void write_file(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char CONFIG[] =
    "dhcp: {mode: off}\n"
    "profiles:\n"
    "  inst:\n"
    "    kernel: vmlinuz\n"
    "    initrds: [initrd.img]\n"
    "    cmdline: \"inst.ks={{install_url}}ks.cfg console={{console}}\"\n"
    "    vars: {console: ttyS0, timezone: UTC}\n"
    "    templates:\n"
    "      ks.cfg: ks.tmpl\n"
    "      ipxe: boot.ipxe.tmpl\n"
    "  plain:\n"
    "    kernel: vmlinuz\n"
    "    cmdline: \"{{#if role}}role={{role}}{{/if}} ip={{ip}}\"\n"
    "hosts:\n"
    "  - {mac: \"52:54:00:aa:00:01\", name: node1, profile: inst,\n"
    "     vars: {timezone: Europe/Paris, role: db}, cmdline: \"rd.{{hostname}}\"}\n"
    "  - {mac: \"52:54:00:aa:00:02\", profile: inst}\n"
    "  - {mac: \"52:54:00:aa:00:03\", profile: plain}\n";

static const char KS[] =
    "# kickstart for {{hostname}}\n"
    "network --hostname={{#if hostname}}{{hostname}}{{else}}node-{{mac_dashes}}{{/if}}\n"
    "timezone {{timezone}}\n"
    "{{#if role}}\n"
    "%post\necho {{role}} > /etc/role\n%end\n"
    "{{/if}}\n"
    "url --url={{http_url}}/repo profile={{profile}}\n";

static struct conf *load(const char *config, struct conf_errors *errs)
{
	char path[256];
	struct conf *c = NULL;

	write_file("pxed.yaml", config);
	snprintf(path, sizeof(path), "%s/pxed.yaml", dir);
	int rc = conf_load(path, &c, errs);
	if (rc < 0)
		return NULL;
	return c;
}

static int setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	write_file("vmlinuz", "k");
	write_file("initrd.img", "i");
	write_file("ks.tmpl", KS);
	write_file("boot.ipxe.tmpl", "#!ipxe\nkernel {{kernel_url}} {{cmdline}}\n"
				     "initrd {{initrd_urls}}\nboot\n");
	return 0;
}

static int teardown(void **state)
{
	static const char *const names[] = {"pxed.yaml", "vmlinuz",	   "initrd.img",
					    "ks.tmpl",	 "boot.ipxe.tmpl", "bad.tmpl"};
	char path[256];
	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
	return 0;
}

/* vfs_client.facts: the requester is every machine, an EFI x64 one without a UUID. */
static void efi_facts(void *ctx, uint32_t ip, const uint8_t mac[6], const char **arch,
		      const char **uuid, char buf[VFS_UUID_TEXT])
{
	(void)ctx, (void)ip, (void)mac, (void)buf;
	*arch = "efi-x64";
	*uuid = NULL;
}

/* The text vfs_open gives for path, as a new string; NULL with *rc on refusal. */
static char *open_text(const struct conf *c, enum vfs_root root, const char *path, int *rc)
{
	struct vfs_client cl = {.ip = 0x0a830064u, .server_ip = 0x0a830001u, .facts = efi_facts};
	struct vfs_file f;

	*rc = vfs_open(c, root, path, &cl, &f);
	if (*rc < 0)
		return NULL;
	assert_int_equal(f.kind, VFS_RENDERED);
	char *s = strndup(f.data, f.size);
	vfs_file_close(&f);
	return s;
}

static void test_install_files(void **state)
{
	struct conf_errors errs = {0};
	struct conf *c = load(CONFIG, &errs);
	int rc;

	(void)state;
	if (c == NULL)
		fail_msg("load: %s", errs.n > 0 ? errs.msgs[0] : "?");
	char *t = open_text(c, VFS_ROOT_HTTP, "/install/52:54:00:aa:00:01/ks.cfg", &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(t, "# kickstart for node1\n"
			       "network --hostname=node1\n"
			       "timezone Europe/Paris\n"
			       "%post\necho db > /etc/role\n%end\n"
			       "url --url=http://10.131.0.1/repo profile=inst\n");
	/* The same bytes over TFTP. */
	char *u = open_text(c, VFS_ROOT_TFTP, "install/52:54:00:aa:00:01/ks.cfg", &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(t, u);
	free(t);
	free(u);
	/* A host without vars of its own: the profile's, and no role. */
	t = open_text(c, VFS_ROOT_HTTP, "install/52-54-00-aa-00-02/ks.cfg", &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(t, "# kickstart for \n"
			       "network --hostname=node-52-54-00-aa-00-02\n"
			       "timezone UTC\n"
			       "url --url=http://10.131.0.1/repo profile=inst\n");
	free(t);
	/* No such template, no profile with templates, loader names, bad paths. */
	static const char *const missing[] = {"install/52:54:00:aa:00:01/preseed.cfg",
					      "install/52:54:00:aa:00:03/ks.cfg",
					      "install/52:54:00:aa:00:99/ks.cfg",
					      "install/52:54:00:aa:00:01/ipxe",
					      "install/52:54:00:aa:00:01/",
					      "install/52:54:00:aa:00:01/ks.cfg/x",
					      "install/nonsense/ks.cfg",
					      "install/ks.cfg"};
	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		t = open_text(c, VFS_ROOT_HTTP, missing[i], &rc);
		if (rc != -ENOENT)
			fail_msg("%s: rc %d", missing[i], rc);
	}
	conf_free(c);
	conf_errors_free(&errs);
}

static void test_overrides_and_cmdline(void **state)
{
	struct conf_errors errs = {0};
	struct conf *c = load(CONFIG, &errs);
	char cmdline[CONF_MAX_CMDLINE];
	int rc;

	(void)state;
	assert_non_null(c);
	/* The ipxe template replaces the built-in script; the cmdline is rendered into it. */
	char *t = open_text(c, VFS_ROOT_HTTP, "boot/52:54:00:aa:00:01.ipxe", &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(t, "#!ipxe\nkernel http://10.131.0.1/files/inst/kernel "
			       "inst.ks=http://10.131.0.1/install/52:54:00:aa:00:01/ks.cfg "
			       "console=ttyS0 rd.node1\n"
			       "initrd http://10.131.0.1/files/inst/initrd0\nboot\n");
	free(t);
	/* pxelinux keeps its built-in text, with the rendered command line. */
	t = open_text(c, VFS_ROOT_TFTP, "pxelinux.cfg/01-52-54-00-aa-00-01", &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(t, "  APPEND inst.ks=http://10.131.0.1/install/52:54:00:aa:00:01/"
				  "ks.cfg console=ttyS0 rd.node1\n"));
	free(t);
	/* {{#if}} in a command line, and the requester's address. */
	t = open_text(c, VFS_ROOT_HTTP, "boot/52:54:00:aa:00:03.ipxe", &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(t, "/kernel ip=10.131.0.100\n"));
	free(t);
	assert_int_equal(boot_cmdline(c, (const uint8_t[6]){0x52, 0x54, 0, 0xaa, 0, 2}, cmdline,
				      sizeof(cmdline)),
			 0);
	assert_string_equal(
	    cmdline, "inst.ks=http://0.0.0.0/install/52:54:00:aa:00:02/ks.cfg console=ttyS0");
	conf_free(c);
	conf_errors_free(&errs);
}

/* A hand-built host var with a newline never reaches a file. */
static void test_hand_built_injection(void **state)
{
	struct conf_errors errs = {0};
	struct conf *c = load(CONFIG, &errs);
	int rc;

	(void)state;
	assert_non_null(c);
	struct conf_host *h =
	    (struct conf_host *)conf_find_host(c, (const uint8_t[6]){0x52, 0x54, 0, 0xaa, 0, 1});
	assert_non_null(h);
	free(h->vars.v[1].value); /* role */
	h->vars.v[1].value = strdup("db\nreboot");
	char *t = open_text(c, VFS_ROOT_HTTP, "install/52:54:00:aa:00:01/ks.cfg", &rc);
	assert_null(t);
	assert_int_equal(rc, -EACCES);
	conf_free(c);
	conf_errors_free(&errs);
}

/* conf_load's messages: the template's file:line, or the config's for vars. */
static void test_load_errors(void **state)
{
	static const struct {
		const char *config_tail, *template, *want;
	} cases[] = {
	    {"    templates: {ks.cfg: bad.tmpl}\n", "a\nb\n{{ hostnme }}\n",
	     "bad.tmpl:3: unknown variable 'hostnme' (template ks.cfg of profile 'p')"},
	    {"    templates: {ks.cfg: bad.tmpl}\n", "{{#if mac}}\n",
	     "bad.tmpl:1: {{#if}} is never"},
	    {"    templates: {ks.cfg: missing.tmpl}\n", "",
	     "pxed.yaml:5: profile 'p': template "
	     "ks.cfg: "},
	    {"    templates: {../ks.cfg: bad.tmpl}\n", "",
	     "pxed.yaml:5: profile.templates: "
	     "'../ks.cfg' is not a file name"},
	    {"    vars: {mac: x}\n", "", "pxed.yaml:5: profile.vars: 'mac' is a built-in"},
	    {"    vars: {Bad: x}\n", "", "pxed.yaml:5: profile.vars: 'Bad' is not a variable"},
	    {"    cmdline: \"a={{nope}}\"\n", "",
	     "pxed.yaml:3: profile 'p': cmdline: unknown "
	     "variable 'nope'"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct conf_errors errs = {0};
		char config[1024];
		snprintf(config, sizeof(config),
			 "dhcp: {mode: off}\nprofiles:\n  p:\n    kernel: vmlinuz\n%s",
			 cases[i].config_tail);
		write_file("bad.tmpl", cases[i].template);
		struct conf *c = load(config, &errs);
		assert_null(c);
		bool found = false;
		for (size_t j = 0; j < errs.n && !found; j++)
			found = strstr(errs.msgs[j], cases[i].want) != NULL;
		if (!found)
			fail_msg("case %zu: want '%s', got '%s'", i, cases[i].want,
				 errs.n > 0 ? errs.msgs[0] : "(nothing)");
		conf_errors_free(&errs);
	}
	/* At most CONF_MAX_VARS vars; the one past them is refused at its line. */
	char many[2048] = "dhcp: {mode: off}\nprofiles:\n  p:\n    kernel: vmlinuz\n    vars:\n";
	for (int i = 0; i <= CONF_MAX_VARS; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "      v%d: x\n", i);
	struct conf_errors many_errs = {0};
	assert_null(load(many, &many_errs));
	assert_int_equal(many_errs.n, 1);
	assert_non_null(
	    strstr(many_errs.msgs[0], ":38: profile.vars: too many entries (at most 32)"));
	conf_errors_free(&many_errs);

	/* A host's var makes the name known to its profile's templates. */
	struct conf_errors errs = {0};
	write_file("bad.tmpl", "{{rack}}");
	struct conf *c = load("dhcp: {mode: off}\nprofiles:\n  p:\n    kernel: vmlinuz\n"
			      "    templates: {meta-data: bad.tmpl}\n"
			      "hosts:\n  - {mac: \"52:54:00:aa:00:09\", vars: {rack: r1}}\n"
			      "default_profile: p\n",
			      &errs);
	if (c == NULL)
		fail_msg("load: %s", errs.n > 0 ? errs.msgs[0] : "?");
	conf_free(c);
	conf_errors_free(&errs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_constructs),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_injection_refused),
	    cmocka_unit_test(test_install_files),
	    cmocka_unit_test(test_overrides_and_cmdline),
	    cmocka_unit_test(test_hand_built_injection),
	    cmocka_unit_test(test_load_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
