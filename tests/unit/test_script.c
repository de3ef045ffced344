/*
 * Files rendered per machine: the exact pxelinux and GRUB configurations
 * for profiles with 0, 1 and 2 initrds, with and without command lines;
 * GRUB's quoting, checked against how GRUB and the kernel read it; the
 * refusal of control characters and of what GRUB would escape; and the names
 * pxelinux and GRUB probe, through the virtual tree.
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
#include "boot/vfs.h"
#include "conf/config.h"
#include "core/util.h"

#define SERVER 0x0a4d0001u /* 10.77.0.1 */

static const uint8_t MAC_ONE[6] = {0x52, 0x54, 0, 0, 0, 0x01};	    /* node1, profile one */
static const uint8_t MAC_TWO[6] = {0x52, 0x54, 0, 0, 0, 0x02};	    /* profile two */
static const uint8_t MAC_ZERO[6] = {0x52, 0x54, 0, 0, 0, 0x03};	    /* profile zero + cmdline */
static const uint8_t MAC_BARE[6] = {0x52, 0x54, 0, 0, 0, 0x04};	    /* profile zero, nothing */
static const uint8_t MAC_NONE[6] = {0x52, 0x54, 0, 0, 0, 0x05};	    /* no profile */
static const uint8_t MAC_STRANGER[6] = {0x52, 0x54, 0, 0, 0, 0x99}; /* not a host */

static void add_profile(struct conf *c, const char *name, size_t n_initrds, const char *cmdline)
{
	struct conf_profile *p = &c->profiles[c->n_profiles++];
	p->name = strdup(name);
	p->kernel = strdup("/boot/vmlinuz");
	for (size_t i = 0; i < n_initrds; i++)
		p->initrds[p->n_initrds++] = strdup("/boot/initrd.img");
	p->cmdline = cmdline != NULL ? strdup(cmdline) : NULL;
}

static void add_host(struct conf *c, const uint8_t mac[6], const char *name, const char *profile,
		     const char *cmdline)
{
	struct conf_host *h = &c->hosts[c->n_hosts++];
	memcpy(h->mac, mac, 6);
	h->has_mac = true;
	h->name = name != NULL ? strdup(name) : NULL;
	h->profile = profile != NULL ? strdup(profile) : NULL;
	h->cmdline = cmdline != NULL ? strdup(cmdline) : NULL;
}

static struct conf *make_conf(void)
{
	struct conf *c = conf_new_defaults();
	add_profile(c, "zero", 0, NULL);
	add_profile(c, "one", 1, "console=ttyS0");
	add_profile(c, "two", 2, "console=ttyS0 panic=-1");
	c->hosts = calloc(8, sizeof(*c->hosts));
	add_host(c, MAC_ONE, "node1", "one", "role=web");
	add_host(c, MAC_TWO, NULL, "two", NULL);
	add_host(c, MAC_ZERO, NULL, "zero", "x=1");
	add_host(c, MAC_BARE, NULL, "zero", NULL);
	add_host(c, MAC_NONE, "lonely", NULL, NULL);
	conf_sort_hosts(c);
	return c;
}

/* Renders with fn and compares the whole text. */
#define EXPECT_TEXT(call, want)                                                                    \
	do {                                                                                       \
		char *text_ = NULL;                                                                \
		size_t len_ = 0;                                                                   \
		assert_int_equal((call), 0);                                                       \
		assert_int_equal(strlen(text_), len_);                                             \
		if (strcmp(text_, (want)) != 0)                                                    \
			fail_msg("rendered:\n%s\nwant:\n%s", text_, (want));                       \
		free(text_);                                                                       \
	} while (0)

static void test_pxelinux_exact(void **state)
{
	struct conf *c = make_conf();

	/* One initrd; the host's command line after the profile's. */
	EXPECT_TEXT(boot_render_pxelinux(c, MAC_ONE, &text_, &len_),
		    "# rendered by pxed for 52:54:00:00:00:01 node1, profile one\n"
		    "DEFAULT pxed\n"
		    "PROMPT 0\n"
		    "LABEL pxed\n"
		    "  LINUX files/one/kernel\n"
		    "  INITRD files/one/initrd0\n"
		    "  APPEND console=ttyS0 role=web\n");
	/* Two initrds, comma-separated, in order; no host command line. */
	EXPECT_TEXT(boot_render_pxelinux(c, MAC_TWO, &text_, &len_),
		    "# rendered by pxed for 52:54:00:00:00:02, profile two\n"
		    "DEFAULT pxed\n"
		    "PROMPT 0\n"
		    "LABEL pxed\n"
		    "  LINUX files/two/kernel\n"
		    "  INITRD files/two/initrd0,files/two/initrd1\n"
		    "  APPEND console=ttyS0 panic=-1\n");
	/* No initrd; only the host's command line. */
	EXPECT_TEXT(boot_render_pxelinux(c, MAC_ZERO, &text_, &len_),
		    "# rendered by pxed for 52:54:00:00:00:03, profile zero\n"
		    "DEFAULT pxed\n"
		    "PROMPT 0\n"
		    "LABEL pxed\n"
		    "  LINUX files/zero/kernel\n"
		    "  APPEND x=1\n");
	/* Neither initrd nor command line: no INITRD, no APPEND. */
	EXPECT_TEXT(boot_render_pxelinux(c, MAC_BARE, &text_, &len_),
		    "# rendered by pxed for 52:54:00:00:00:04, profile zero\n"
		    "DEFAULT pxed\n"
		    "PROMPT 0\n"
		    "LABEL pxed\n"
		    "  LINUX files/zero/kernel\n");
	conf_free(c);
}

static void test_grub_exact(void **state)
{
	struct conf *c = make_conf();

	EXPECT_TEXT(boot_render_grub(c, MAC_ONE, BOOT_PROTO_TFTP, SERVER, &text_, &len_),
		    "# rendered by pxed for 52:54:00:00:00:01 node1, profile one\n"
		    "set default=0\n"
		    "set timeout=0\n"
		    "menuentry 'pxed: one' {\n"
		    "\tlinux (tftp,10.77.0.1)/files/one/kernel console=ttyS0 role=web\n"
		    "\tinitrd (tftp,10.77.0.1)/files/one/initrd0\n"
		    "}\n");
	/* Over HTTP, from the HTTP server, both initrds on one line. */
	EXPECT_TEXT(
	    boot_render_grub(c, MAC_TWO, BOOT_PROTO_HTTP, SERVER, &text_, &len_),
	    "# rendered by pxed for 52:54:00:00:00:02, profile two\n"
	    "set default=0\n"
	    "set timeout=0\n"
	    "menuentry 'pxed: two' {\n"
	    "\tlinux (http,10.77.0.1)/files/two/kernel console=ttyS0 panic=-1\n"
	    "\tinitrd (http,10.77.0.1)/files/two/initrd0 (http,10.77.0.1)/files/two/initrd1\n"
	    "}\n");
	EXPECT_TEXT(boot_render_grub(c, MAC_BARE, BOOT_PROTO_TFTP, SERVER, &text_, &len_),
		    "# rendered by pxed for 52:54:00:00:00:04, profile zero\n"
		    "set default=0\n"
		    "set timeout=0\n"
		    "menuentry 'pxed: zero' {\n"
		    "\tlinux (tftp,10.77.0.1)/files/zero/kernel\n"
		    "}\n");
	/* server_address wins over the address asked; a port that is not the usual one is named. */
	c->server_address = 0x0a4d0002u;
	c->http_port = 8080;
	EXPECT_TEXT(boot_render_grub(c, MAC_ZERO, BOOT_PROTO_HTTP, SERVER, &text_, &len_),
		    "# rendered by pxed for 52:54:00:00:00:03, profile zero\n"
		    "set default=0\n"
		    "set timeout=0\n"
		    "menuentry 'pxed: zero' {\n"
		    "\tlinux (http,10.77.0.2:8080)/files/zero/kernel x=1\n"
		    "}\n");
	conf_free(c);
}

/*
 * GRUB would expand $, end the command at ; or start a comment at #:
 * such words go in single quotes. Runs of spaces separate words and vanish.
 */
static void test_grub_quoting(void **state)
{
	struct conf *c = make_conf();
	struct conf_host *h = (struct conf_host *)conf_find_host(c, MAC_BARE);

	h->cmdline = strdup("a=$x  b;c {h} #i k=l,m:n/o@p%q+r.s_t-u ");
	EXPECT_TEXT(boot_render_grub(c, MAC_BARE, BOOT_PROTO_TFTP, SERVER, &text_, &len_),
		    "# rendered by pxed for 52:54:00:00:00:04, profile zero\n"
		    "set default=0\n"
		    "set timeout=0\n"
		    "menuentry 'pxed: zero' {\n"
		    "\tlinux (tftp,10.77.0.1)/files/zero/kernel 'a=$x' 'b;c' '{h}' '#i' "
		    "k=l,m:n/o@p%q+r.s_t-u\n"
		    "}\n");
	/* pxelinux's APPEND takes the line as it is. */
	EXPECT_TEXT(boot_render_pxelinux(c, MAC_BARE, &text_, &len_),
		    "# rendered by pxed for 52:54:00:00:00:04, profile zero\n"
		    "DEFAULT pxed\n"
		    "PROMPT 0\n"
		    "LABEL pxed\n"
		    "  LINUX files/zero/kernel\n"
		    "  APPEND a=$x  b;c {h} #i k=l,m:n/o@p%q+r.s_t-u \n");
	conf_free(c);
}

/*
 * The kernel's own reading of a command line, as next_arg() in its
 * lib/cmdline.c does it, in place: the parameters, each "param" or
 * "param=value", joined with '\n'. iPXE and pxelinux hand the kernel the
 * command line as written; this is what it then sees.
 */
static void kernel_params(const char *cmdline, char *out, size_t cap)
{
	char buf[1024], *args = buf;
	size_t len = 0;

	snprintf(buf, sizeof(buf), "%s", cmdline);
	out[0] = '\0';
	while (*args == ' ')
		args++;
	while (*args != '\0') {
		unsigned int i, equals = 0;
		int in_quote = 0, quoted = 0;
		char *param, *val;

		if (*args == '"') {
			args++;
			in_quote = quoted = 1;
		}
		for (i = 0; args[i]; i++) {
			if (args[i] == ' ' && !in_quote)
				break;
			if (equals == 0 && args[i] == '=')
				equals = i;
			if (args[i] == '"')
				in_quote = !in_quote;
		}
		param = args;
		val = NULL;
		if (equals) {
			args[equals] = '\0';
			val = args + equals + 1;
			if (*val == '"') {
				val++;
				if (args[i - 1] == '"')
					args[i - 1] = '\0';
			}
		}
		if (quoted && i > 0 && args[i - 1] == '"')
			args[i - 1] = '\0';
		if (args[i]) {
			args[i] = '\0';
			args += i + 1;
		} else {
			args += i;
		}
		while (*args == ' ')
			args++;
		len += (size_t)snprintf(out + len, cap - len, "%s%s%s\n", param,
					val != NULL ? "=" : "", val != NULL ? val : "");
	}
}

/*
 * What GRUB 2.06 makes of the arguments of `linux` as pxed writes them
 * (plain words and '...' words, one space apart), joined by
 * grub_create_loader_cmdline() (lib/cmdline.c): an argument holding a
 * space in double quotes, a backslash before each ", ' and \.
 */
static void grub_loader_cmdline(const char *args, char *out, size_t cap)
{
	char arg[1024];
	size_t len = 0;

	out[0] = '\0';
	while (*args != '\0') {
		size_t n = 0;
		int in_single = 0, space = 0;

		while (*args == ' ')
			args++;
		for (; *args != '\0' && (*args != ' ' || in_single); args++) {
			if (*args == '\'')
				in_single = !in_single;
			else
				arg[n++] = *args;
		}
		arg[n] = '\0';
		if (n == 0)
			continue;
		space = strchr(arg, ' ') != NULL;
		len += (size_t)snprintf(out + len, cap - len, "%s%s", len > 0 ? " " : "",
					space ? "\"" : "");
		for (size_t i = 0; i < n; i++)
			len +=
			    (size_t)snprintf(out + len, cap - len, "%s%c",
					     strchr("\\'\"", arg[i]) != NULL ? "\\" : "", arg[i]);
		len += (size_t)snprintf(out + len, cap - len, "%s", space ? "\"" : "");
	}
}

/* The arguments of the rendered `linux` line, after the kernel's path. */
static int grub_linux_args(struct conf *c, const char *cmdline, char *out, size_t cap)
{
	struct conf_host *h = (struct conf_host *)conf_find_host(c, MAC_BARE);
	const char *kernel = "\tlinux (tftp,10.77.0.1)/files/zero/kernel";
	char *text = NULL;
	size_t len;

	free(h->cmdline);
	h->cmdline = strdup(cmdline);
	int rc = boot_render_grub(c, MAC_BARE, BOOT_PROTO_TFTP, SERVER, &text, &len);
	if (rc < 0)
		return rc;
	char *line = strstr(text, kernel);
	assert_non_null(line);
	line += strlen(kernel);
	snprintf(out, cap, "%.*s", (int)strcspn(line, "\n"), line);
	free(text);
	return 0;
}

/*
 * The kernel gets from GRUB the parameters it gets from iPXE and pxelinux:
 * the command line is split as the kernel splits it (double quotes group
 * words and are dropped), and each parameter goes to GRUB as one argument.
 * GRUB 2.06 would have put `ds=\"nocloud-net;s=http://x/\"` on the
 * kernel's command line had the quotes gone through.
 */
static void test_grub_kernel_parameters(void **state)
{
	static const struct {
		const char *cmdline, *args;
	} cases[] = {
	    {"ds=\"nocloud-net;s=http://x/\" quoted=\"a b\"",
	     " 'ds=nocloud-net;s=http://x/' 'quoted=a b'"},
	    {"ip=dhcp ds=\"nocloud;s=http://10.0.0.1/cfg/\" console=ttyS0",
	     " ip=dhcp 'ds=nocloud;s=http://10.0.0.1/cfg/' console=ttyS0"},
	    {"\"key=a b\" quiet", " 'key=a b' quiet"},
	    {"  console=ttyS0   panic=-1  ", " console=ttyS0 panic=-1"},
	    {"\"a b\" c", " 'a b' c"},
	    {"k=\"\" x", " k= x"},
	    {"k=\"a  b\"", " 'k=a  b'"},
	    {"k=\"a b", " 'k=a b'"}, /* unterminated: to the end, as the kernel reads it */
	    {"k=\"$x;y\"", " 'k=$x;y'"},
	    {"", ""},
	    {"   ", ""},
	};
	struct conf *c = make_conf();
	char args[1024], from_grub[1024], want[1024], got[1024];

	for (size_t i = 0; i < PXED_ARRAY_LEN(cases); i++) {
		assert_int_equal(grub_linux_args(c, cases[i].cmdline, args, sizeof(args)), 0);
		if (strcmp(args, cases[i].args) != 0)
			fail_msg("%s: linux ...%s, want ...%s", cases[i].cmdline, args,
				 cases[i].args);
		grub_loader_cmdline(args, from_grub, sizeof(from_grub));
		kernel_params(cases[i].cmdline, want, sizeof(want));
		kernel_params(from_grub, got, sizeof(got));
		if (strcmp(got, want) != 0)
			fail_msg("%s: kernel got from GRUB [%s]:\n%s\nwant:\n%s", cases[i].cmdline,
				 from_grub, got, want);
	}
	conf_free(c);
}

/*
 * What GRUB would put a backslash before and the kernel would keep: a ',
 * a \, a " that does not group a word; and an empty parameter (""), which
 * GRUB would leave out. The GRUB file is refused (the tree
 * says so rather than "not found"); iPXE and pxelinux still pass it on.
 */
static void test_grub_refuses_what_it_would_escape(void **state)
{
	static const char *const bad[] = {
	    "it's",	"a\\b",	   "a\"b",	  "k=\"a\"b",	"\"a\"b",
	    "=\"x y\"", "x='a b'", "k=v \"x\"\"", "a==\"b c\"", "\"\" x",
	};
	struct conf *c = make_conf();
	struct conf_host *h = (struct conf_host *)conf_find_host(c, MAC_BARE);
	struct vfs_client cl = {.server_ip = SERVER};
	struct vfs_file f;
	char args[1024], *text = NULL;
	size_t len;

	for (size_t i = 0; i < PXED_ARRAY_LEN(bad); i++) {
		if (grub_linux_args(c, bad[i], args, sizeof(args)) != -EINVAL)
			fail_msg("%s: not refused", bad[i]);
		assert_int_equal(
		    vfs_open(c, VFS_ROOT_TFTP, "grub/grub.cfg-01-52-54-00-00-00-04", &cl, &f),
		    -EACCES);
		assert_int_equal(
		    vfs_open(c, VFS_ROOT_HTTP, "grub/grub.cfg-01-52-54-00-00-00-04", &cl, &f),
		    -EACCES);
		assert_int_equal(boot_render_pxelinux(c, MAC_BARE, &text, &len), 0);
		assert_non_null(strstr(text, h->cmdline));
		free(text);
		assert_int_equal(boot_render_ipxe(c, MAC_BARE, SERVER, &text, &len), 0);
		assert_non_null(strstr(text, h->cmdline));
		free(text);
	}
	conf_free(c);
}

/*
 * The loader refuses control characters in a command line (the YAML
 * loader already does; this is for configurations built by hand): a
 * newline must never become a directive in any format. The tree then
 * refuses the file rather than saying it does not exist.
 */
static void test_control_characters_refused(void **state)
{
	static const char *const bad[] = {"x=1\nDEFAULT evil", "x=1\rKERNEL evil", "a\tb",
					  "boot\x7f", "}\nmenuentry evil {"};
	struct conf *c = make_conf();
	struct conf_host *h = (struct conf_host *)conf_find_host(c, MAC_BARE);
	struct vfs_client cl = {.server_ip = SERVER};
	struct vfs_file f;
	char *text = NULL;
	size_t len;

	for (size_t i = 0; i < PXED_ARRAY_LEN(bad); i++) {
		free(h->cmdline);
		h->cmdline = strdup(bad[i]);
		assert_int_equal(boot_render_pxelinux(c, MAC_BARE, &text, &len), -EINVAL);
		assert_int_equal(
		    boot_render_grub(c, MAC_BARE, BOOT_PROTO_TFTP, SERVER, &text, &len), -EINVAL);
		assert_int_equal(boot_render_ipxe(c, MAC_BARE, SERVER, &text, &len), -EINVAL);
		assert_null(text);
		assert_int_equal(
		    vfs_open(c, VFS_ROOT_TFTP, "pxelinux.cfg/01-52-54-00-00-00-04", &cl, &f),
		    -EACCES);
		assert_int_equal(
		    vfs_open(c, VFS_ROOT_HTTP, "grub/grub.cfg-01-52-54-00-00-00-04", &cl, &f),
		    -EACCES);
		assert_int_equal(vfs_open(c, VFS_ROOT_HTTP, "boot/52-54-00-00-00-04.ipxe", &cl, &f),
				 -EACCES);
	}
	/* A profile's own, built from `pxed boot --cmdline`, is caught by conf_validate. */
	struct conf_profile *p = (struct conf_profile *)conf_find_profile(c, "one");
	struct conf_errors errs = {0};
	bool found = false;
	free(p->cmdline);
	p->cmdline = strdup("quiet\nDEFAULT evil");
	assert_int_not_equal(conf_validate(c, &errs), 0);
	for (size_t i = 0; i < errs.n; i++)
		found = found ||
			strstr(errs.msgs[i], "profile 'one': cmdline contains a control character");
	assert_true(found);
	conf_errors_free(&errs);
	conf_free(c);
}

/* A machine without a profile has no file; default_profile gives every machine one. */
static void test_unknown_machines(void **state)
{
	struct conf *c = make_conf();
	char *text = NULL;
	size_t len;

	assert_int_equal(boot_render_pxelinux(c, MAC_STRANGER, &text, &len), -ENOENT);
	assert_int_equal(boot_render_pxelinux(c, MAC_NONE, &text, &len), -ENOENT);
	assert_int_equal(boot_render_grub(c, MAC_STRANGER, BOOT_PROTO_TFTP, SERVER, &text, &len),
			 -ENOENT);
	assert_null(text);
	c->default_profile = strdup("one");
	EXPECT_TEXT(boot_render_pxelinux(c, MAC_STRANGER, &text_, &len_),
		    "# rendered by pxed for 52:54:00:00:00:99, profile one\n"
		    "DEFAULT pxed\n"
		    "PROMPT 0\n"
		    "LABEL pxed\n"
		    "  LINUX files/one/kernel\n"
		    "  INITRD files/one/initrd0\n"
		    "  APPEND console=ttyS0\n");
	/* A host entry without a profile takes the default, with its name. */
	assert_int_equal(boot_render_pxelinux(c, MAC_NONE, &text, &len), 0);
	assert_true(strncmp(text, "# rendered by pxed for 52:54:00:00:00:05 lonely, profile one\n",
			    60) == 0);
	free(text);
	conf_free(c);
}

struct fixture {
	char root[64];
	struct conf *c;
};

static void put_file(const char *root, const char *rel, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	FILE *fp = fopen(p, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char p[128];
	snprintf(f->root, sizeof(f->root), "/tmp/pxed-script-XXXXXX");
	if (mkdtemp(f->root) == NULL)
		return -1;
	snprintf(p, sizeof(p), "%s/pxelinux.cfg", f->root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/grub", f->root);
	mkdir(p, 0755);
	/* An operator's own files beside pxed's. */
	put_file(f->root, "pxelinux.cfg/default", "DEFAULT local\n");
	put_file(f->root, "pxelinux.cfg/01-52-54-00-00-00-99", "DEFAULT stranger\n");
	put_file(f->root, "pxelinux.cfg/01-52-54-00-00-00-01", "DEFAULT shadowed\n");
	f->c = make_conf();
	f->c->tftp_root = strdup(f->root);
	f->c->http_root = strdup(f->root);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	if (system(cmd) != 0)
		return -1;
	conf_free(f->c);
	free(f);
	return 0;
}

/* Opens path; returns its rc, and what/first line through the out parameters. */
static int open_text(const struct conf *c, enum vfs_root root, const char *path, char *text,
		     size_t cap, const char **what)
{
	struct vfs_client cl = {.ip = 0x0a4d0065u, .server_ip = SERVER};
	struct vfs_file f;
	int rc = vfs_open(c, root, path, &cl, &f);
	text[0] = '\0';
	if (rc < 0)
		return rc;
	*what = f.what;
	if (f.kind == VFS_RENDERED) {
		snprintf(text, cap, "%.*s", (int)f.size, f.data);
	} else {
		ssize_t n = read(f.fd, text, cap - 1);
		text[n > 0 ? n : 0] = '\0';
	}
	vfs_file_close(&f);
	return 0;
}

/*
 * pxelinux 6 asks for pxelinux.cfg/<uuid>, 01-<mac>, the client's address
 * in hex with one digit fewer each time, then default; pxed renders only
 * 01-<mac> of a machine with a profile and leaves the rest to the root.
 */
static void test_pxelinux_probes(void **state)
{
	struct fixture *fx = *state;
	static const char *const missing[] = {
	    "pxelinux.cfg/8a3bd1c2-1234-4cde-9f00-525400000001",
	    "pxelinux.cfg/0A4D0065",
	    "pxelinux.cfg/0A4D006",
	    "pxelinux.cfg/0A4D00",
	    "pxelinux.cfg/0A4D0",
	    "pxelinux.cfg/0A4D",
	    "pxelinux.cfg/0A4",
	    "pxelinux.cfg/0A",
	    "pxelinux.cfg/0",
	    "pxelinux.cfg/01-52-54-00-00-00-05",  /* a host without a profile */
	    "pxelinux.cfg/01-52:54:00:00:00:01",  /* not a name pxelinux asks */
	    "pxelinux.cfg/52-54-00-00-00-01",	  /* no ARP type */
	    "pxelinux.cfg/06-52-54-00-00-00-01",  /* not Ethernet */
	    "pxelinux.cfg/01-52-54-00-00-00-01x", /* longer */
	    "pxelinux.cfg/01-52-54-00-00-00",	  /* shorter */
	    "pxelinux.cfg/01-52-54-00-00-00-0g",
	    "x/pxelinux.cfg/01-52-54-00-00-00-01",
	};
	char text[512];
	const char *what = NULL;

	for (size_t i = 0; i < PXED_ARRAY_LEN(missing); i++)
		if (open_text(fx->c, VFS_ROOT_TFTP, missing[i], text, sizeof(text), &what) !=
		    -ENOENT)
			fail_msg("%s: not 'not found'", missing[i]);
	/* The machine's own, rendered: it shadows an operator's file of that name. */
	assert_int_equal(open_text(fx->c, VFS_ROOT_TFTP, "pxelinux.cfg/01-52-54-00-00-00-01", text,
				   sizeof(text), &what),
			 0);
	assert_string_equal(what, "config");
	assert_non_null(strstr(text, "LINUX files/one/kernel\n"));
	/* Over HTTP (lpxelinux) the same text; hex in either case. */
	assert_int_equal(open_text(fx->c, VFS_ROOT_HTTP, "/pxelinux.cfg/01-52-54-00-00-00-01", text,
				   sizeof(text), &what),
			 0);
	assert_non_null(strstr(text, "LINUX files/one/kernel\n"));
	assert_int_equal(open_text(fx->c, VFS_ROOT_TFTP, "pxelinux.cfg/01-52-54-00-00-00-02", text,
				   sizeof(text), &what),
			 0);
	assert_non_null(strstr(text, "files/two/initrd0,files/two/initrd1"));
	/* Names pxed does not render come from the root: default, a stranger's. */
	assert_int_equal(
	    open_text(fx->c, VFS_ROOT_TFTP, "pxelinux.cfg/default", text, sizeof(text), &what), 0);
	assert_string_equal(what, "file");
	assert_string_equal(text, "DEFAULT local\n");
	assert_int_equal(open_text(fx->c, VFS_ROOT_TFTP, "pxelinux.cfg/01-52-54-00-00-00-99", text,
				   sizeof(text), &what),
			 0);
	assert_string_equal(text, "DEFAULT stranger\n");
	/* default_profile renders a stranger's too: pxed's file wins over the root's. */
	fx->c->default_profile = strdup("zero");
	assert_int_equal(open_text(fx->c, VFS_ROOT_TFTP, "pxelinux.cfg/01-52-54-00-00-00-99", text,
				   sizeof(text), &what),
			 0);
	assert_non_null(strstr(text, "LINUX files/zero/kernel\n"));
	assert_int_equal(open_text(fx->c, VFS_ROOT_TFTP, "PXELINUX.CFG/01-52-54-00-00-00-99", text,
				   sizeof(text), &what),
			 -ENOENT);
}

/*
 * GRUB 2.06 asks for grub.cfg-01-<mac>, grub.cfg-<hex IP> shorter and
 * shorter, then grub.cfg, all under its prefix (/grub for Debian's
 * grubnetx64.efi). The generic grub.cfg hands over to the machine's own.
 */
static void test_grub_probes(void **state)
{
	struct fixture *fx = *state;
	static const char *const missing[] = {"grub/grub.cfg-0A4D0065",
					      "grub/grub.cfg-0A4D006",
					      "grub/grub.cfg-0",
					      "grub/grub.cfg-01-52-54-00-00-00-05",
					      "grub/grub.cfg-01-52-54-00-00-00-99",
					      "grub/x86_64-efi/grub.cfg",
					      "grub.cfg-01-52-54-00-00-00-01",
					      "grub/grub.cfg-01-52:54:00:00:00:01"};
	char text[1024];
	const char *what = NULL;

	for (size_t i = 0; i < PXED_ARRAY_LEN(missing); i++)
		if (open_text(fx->c, VFS_ROOT_TFTP, missing[i], text, sizeof(text), &what) !=
		    -ENOENT)
			fail_msg("%s: not 'not found'", missing[i]);
	assert_int_equal(open_text(fx->c, VFS_ROOT_TFTP, "grub/grub.cfg-01-52-54-00-00-00-01", text,
				   sizeof(text), &what),
			 0);
	assert_string_equal(what, "config");
	assert_non_null(strstr(text, "\tlinux (tftp,10.77.0.1)/files/one/kernel console=ttyS0 "
				     "role=web\n"));
	/* The protocol the request came by is the one the kernel is fetched with. */
	assert_int_equal(open_text(fx->c, VFS_ROOT_HTTP, "grub/grub.cfg-01-52-54-00-00-00-01", text,
				   sizeof(text), &what),
			 0);
	assert_non_null(strstr(text, "\tinitrd (http,10.77.0.1)/files/one/initrd0\n"));
	/* The generic one, rendered while the root has none. */
	assert_int_equal(
	    open_text(fx->c, VFS_ROOT_TFTP, "grub/grub.cfg", text, sizeof(text), &what), 0);
	assert_string_equal(what, "config");
	assert_non_null(strstr(text, "'^(..):(..):(..):(..):(..):(..)$' \"$net_default_mac\"\n"));
	assert_non_null(
	    strstr(text, "\nconfigfile \"$prefix/grub.cfg-01-$m1-$m2-$m3-$m4-$m5-$m6\"\n"));
	/* An operator's own grub.cfg wins. */
	put_file(fx->root, "grub/grub.cfg", "menuentry mine {}\n");
	assert_int_equal(
	    open_text(fx->c, VFS_ROOT_TFTP, "grub/grub.cfg", text, sizeof(text), &what), 0);
	assert_string_equal(what, "file");
	assert_string_equal(text, "menuentry mine {}\n");
}

static void test_grub_loader_text(void **state)
{
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(boot_render_grub_loader(&text, &len), 0);
	assert_int_equal(strlen(text), len);
	/* Every line a command GRUB 2.06 has, nothing else. */
	assert_string_equal(
	    text, "# rendered by pxed: each machine's own configuration is grub.cfg-01-<its MAC>\n"
		  "regexp --set=1:m1 --set=2:m2 --set=3:m3 --set=4:m4 --set=5:m5 --set=6:m6 "
		  "'^(..):(..):(..):(..):(..):(..)$' \"$net_default_mac\"\n"
		  "configfile \"$prefix/grub.cfg-01-$m1-$m2-$m3-$m4-$m5-$m6\"\n"
		  "echo \"pxed: no boot configuration for $net_default_mac\"\n"
		  "sleep 3\n"
		  "exit\n");
	free(text);
}

/* The iPXE script keeps its form: only its header comment is shared now. */
static void test_ipxe_exact(void **state)
{
	struct conf *c = make_conf();

	EXPECT_TEXT(boot_render_ipxe(c, MAC_TWO, SERVER, &text_, &len_),
		    "#!ipxe\n"
		    "# rendered by pxed for 52:54:00:00:00:02, profile two\n"
		    "kernel http://10.77.0.1/files/two/kernel initrd=initrd0 initrd=initrd1 "
		    "console=ttyS0 panic=-1\n"
		    "initrd --name initrd0 http://10.77.0.1/files/two/initrd0\n"
		    "initrd --name initrd1 http://10.77.0.1/files/two/initrd1\n"
		    "boot\n");
	EXPECT_TEXT(boot_render_ipxe(c, MAC_BARE, SERVER, &text_, &len_),
		    "#!ipxe\n"
		    "# rendered by pxed for 52:54:00:00:00:04, profile zero\n"
		    "kernel http://10.77.0.1/files/zero/kernel\n"
		    "boot\n");
	conf_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pxelinux_exact),
	    cmocka_unit_test(test_grub_exact),
	    cmocka_unit_test(test_grub_quoting),
	    cmocka_unit_test(test_grub_kernel_parameters),
	    cmocka_unit_test(test_grub_refuses_what_it_would_escape),
	    cmocka_unit_test(test_control_characters_refused),
	    cmocka_unit_test(test_unknown_machines),
	    cmocka_unit_test_setup_teardown(test_pxelinux_probes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_grub_probes, setup, teardown),
	    cmocka_unit_test(test_grub_loader_text),
	    cmocka_unit_test(test_ipxe_exact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
