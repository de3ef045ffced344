/* The boot decision: facts -> plan, as a table. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "boot/policy.h"
#include "boot/script.h"
#include "boot/states.h"
#include "boot/vfs.h"
#include "conf/config.h"
#include "core/util.h"

#define SERVER 0x0a4d0001u /* 10.77.0.1 */

static struct conf *make_conf(bool with_default)
{
	struct conf *c = conf_new_defaults();
	struct conf_profile *p = &c->profiles[c->n_profiles++];
	p->name = strdup("linux");
	p->kernel = strdup("/boot/vmlinuz");
	p->initrds[p->n_initrds++] = strdup("/boot/initrd.img");
	p->cmdline = strdup("console=ttyS0");
	c->hosts = calloc(1, sizeof(*c->hosts));
	c->n_hosts = 1;
	const uint8_t mac[6] = {0x52, 0x54, 0, 0, 0, 0x09};
	memcpy(c->hosts[0].mac, mac, 6);
	c->hosts[0].profile = strdup("linux");
	c->hosts[0].cmdline = strdup("role=db");
	if (with_default)
		c->default_profile = strdup("linux");
	return c;
}

struct plan_case {
	const char *name;
	bool pxe, http, ipxe, has_arch;
	uint16_t arch;
	uint8_t last_mac_byte;
	enum boot_action want;
	const char *file;
};

static const struct plan_case plan_cases[] = {
    {"BIOS PXE ROM", true, false, false, true, 0, 1, BOOT_TFTP, "undionly.kpxe"},
    {"no option 93 means BIOS", true, false, false, false, 0, 1, BOOT_TFTP, "undionly.kpxe"},
    {"EFI x64 (7)", true, false, false, true, 7, 1, BOOT_TFTP, "snponly.efi"},
    {"EFI x64 (9, RFC 4578)", true, false, false, true, 9, 1, BOOT_TFTP, "snponly.efi"},
    {"UEFI HTTP x64", false, true, false, true, 16, 1, BOOT_URL, "http://10.77.0.1/ipxe.efi"},
    {"iPXE gets its script", true, false, true, true, 7, 1, BOOT_URL,
     "http://10.77.0.1/boot/52-54-00-00-00-01.ipxe"},
    {"EFI ARM64 has no program", true, false, false, true, 11, 1, BOOT_NONE, ""},
    {"unknown architecture 999", true, false, false, true, 999, 1, BOOT_NONE, ""},
};

static void test_plans(void **state)
{
	struct conf *c = make_conf(true);
	for (size_t i = 0; i < sizeof(plan_cases) / sizeof(plan_cases[0]); i++) {
		const struct plan_case *pc = &plan_cases[i];
		struct boot_facts f = {.mac = {0x52, 0x54, 0, 0, 0, pc->last_mac_byte},
				       .pxe_client = pc->pxe,
				       .http_client = pc->http,
				       .ipxe = pc->ipxe,
				       .has_arch = pc->has_arch,
				       .arch = pc->arch};
		struct boot_plan p;
		boot_decide(c, &f, SERVER, &p);
		if (p.action != pc->want || strcmp(p.file, pc->file) != 0)
			fail_msg("%s: got action %d file '%s' (%s)", pc->name, p.action, p.file,
				 p.reason);
		assert_true(p.reason[0] != '\0');
	}
	conf_free(c);
}

static void test_unknown_machine_without_default(void **state)
{
	struct conf *c = make_conf(false);
	struct boot_facts f = {.mac = {0x52, 0x54, 0, 0, 0, 1}, .pxe_client = true};
	struct boot_plan p;
	boot_decide(c, &f, SERVER, &p);
	assert_int_equal(p.action, BOOT_NONE);
	assert_non_null(strstr(p.reason, "unknown machine"));
	/* The host in the inventory still boots its profile. */
	f.mac[5] = 9;
	boot_decide(c, &f, SERVER, &p);
	assert_int_equal(p.action, BOOT_TFTP);
	assert_non_null(p.host);
	assert_string_equal(p.profile->name, "linux");
	conf_free(c);
}

static void test_script_and_cmdline(void **state)
{
	struct conf *c = make_conf(false);
	const uint8_t mac[6] = {0x52, 0x54, 0, 0, 0, 9};
	char *s;
	size_t len;
	c->http_port = 8080;
	assert_int_equal(boot_render_ipxe(c, mac, SERVER, &s, &len), 0);
	assert_int_equal(strlen(s), len);
	assert_true(strncmp(s, "#!ipxe\n", 7) == 0);
	assert_non_null(strstr(s, "kernel http://10.77.0.1:8080/files/linux/kernel "
				  "initrd=initrd0 console=ttyS0 role=db\n"));
	assert_non_null(
	    strstr(s, "initrd --name initrd0 http://10.77.0.1:8080/files/linux/initrd0\n"));
	assert_non_null(strstr(s, "\nboot\n"));
	free(s);
	const uint8_t stranger[6] = {0x52, 0x54, 0, 0, 0, 1};
	assert_int_equal(boot_render_ipxe(c, stranger, SERVER, &s, &len), -2 /* -ENOENT */);
	conf_free(c);
}

/* ---- issue 3: overrides, classes, the PXE menu, boot items --------------- */

static void add_profile(struct conf *c, const char *name, const char *cmdline)
{
	struct conf_profile *p = &c->profiles[c->n_profiles++];
	p->name = strdup(name);
	p->kernel = strdup("/boot/vmlinuz");
	p->cmdline = strdup(cmdline);
}

static struct conf_class *add_class(struct conf *c, const char *name, const char *profile)
{
	struct conf_class *cl = &c->classes[c->n_classes++];
	cl->name = strdup(name);
	cl->profile = profile != NULL ? strdup(profile) : NULL;
	return cl;
}

static void add_override(struct conf *c, const uint8_t *prefix, size_t len, uint16_t arch)
{
	struct conf_arch_override *o = &c->arch_overrides[c->n_arch_overrides++];
	memcpy(o->mac_prefix, prefix, len);
	o->mac_prefix_len = len;
	o->arch = arch;
}

static void add_item(struct conf *c, uint16_t type, const char *label, const char *profile)
{
	if (c->pxe_menu == NULL) {
		c->pxe_menu = calloc(1, sizeof(*c->pxe_menu));
		c->pxe_menu->prompt = strdup("Press F8");
		c->pxe_menu->timeout_s = 3;
	}
	struct conf_menu_item *it = &c->pxe_menu->items[c->pxe_menu->n_items++];
	it->type = type;
	it->label = strdup(label);
	it->profile = profile != NULL ? strdup(profile) : NULL;
}

/* Frees the parts built here, so conf_free() sees none of them either way. */
static void drop_extras(struct conf *c)
{
	for (size_t i = 0; i < c->n_classes; i++) {
		free(c->classes[i].name);
		free(c->classes[i].profile);
	}
	c->n_classes = 0;
	if (c->pxe_menu != NULL) {
		for (size_t i = 0; i < c->pxe_menu->n_items; i++) {
			free(c->pxe_menu->items[i].label);
			free(c->pxe_menu->items[i].profile);
		}
		free(c->pxe_menu->prompt);
		free(c->pxe_menu);
		c->pxe_menu = NULL;
	}
}

static struct boot_facts facts(uint8_t last, uint16_t arch, bool ipxe)
{
	struct boot_facts f = {.mac = {0x52, 0x54, 0, 0, 0, last},
			       .pxe_client = true,
			       .ipxe = ipxe,
			       .has_arch = true,
			       .arch = arch};
	return f;
}

static void expect_plan(const struct boot_plan *p, enum boot_action action, const char *file,
			const char *profile)
{
	if (p->action != action || strcmp(p->file, file) != 0 ||
	    (profile == NULL) != (p->profile == NULL) ||
	    (profile != NULL && strcmp(p->profile->name, profile) != 0))
		fail_msg("got action %d file '%s' profile %s (%s); want %d '%s' %s", p->action,
			 p->file, p->profile != NULL ? p->profile->name : "-", p->reason, action,
			 file, profile != NULL ? profile : "-");
	assert_true(p->reason[0] != '\0');
}

static void test_arch_override(void **state)
{
	struct conf *c = make_conf(true);
	static const uint8_t rpi[5] = {0x52, 0x54, 0, 0, 0};
	static const uint8_t all[3] = {0x52, 0x54, 0};
	struct boot_plan p;
	struct boot_facts f = facts(1, 0, false);

	/* The longest prefix wins over the firmware's word. */
	add_override(c, all, sizeof(all), 7);
	add_override(c, rpi, sizeof(rpi), 11);
	boot_decide(c, &f, SERVER, &p);
	expect_plan(&p, BOOT_NONE, "", "linux");
	assert_int_equal(p.arch, 11);
	assert_non_null(strstr(p.reason, "override"));
	/* An override applies to a client that sent no option 93 at all. */
	c->n_arch_overrides = 1;
	f.has_arch = false;
	boot_decide(c, &f, SERVER, &p);
	expect_plan(&p, BOOT_TFTP, "snponly.efi", "linux");
	/* Classes see the overridden architecture. */
	struct conf_class *cl = add_class(c, "efi", "rescue");
	add_profile(c, "rescue", "rescue=1");
	cl->match.arches[cl->match.n_arches++] = 7;
	boot_decide(c, &f, SERVER, &p);
	expect_plan(&p, BOOT_TFTP, "snponly.efi", "rescue");
	assert_int_equal(p.source, BOOT_SRC_CLASS);
	/* The input facts are not changed: the decision is pure. */
	assert_false(f.has_arch);
	drop_extras(c);
	conf_free(c);
}

static void test_class_profiles(void **state)
{
	struct conf *c = make_conf(true);
	struct boot_plan p;
	add_profile(c, "rescue", "rescue=1");
	add_profile(c, "efi", "efi=1");
	/* A matching class without a profile does not stop the search. */
	struct conf_class *opts_only = add_class(c, "options-only", NULL);
	opts_only->match.arches[opts_only->match.n_arches++] = 7;
	struct conf_class *efi = add_class(c, "efi", "efi");
	efi->match.arches[efi->match.n_arches++] = 7;
	struct conf_class *any = add_class(c, "all", "rescue");

	struct boot_facts f = facts(1, 7, false);
	boot_decide(c, &f, SERVER, &p);
	expect_plan(&p, BOOT_TFTP, "snponly.efi", "efi");
	assert_ptr_equal(p.cls, efi);
	f.arch = 0;
	boot_decide(c, &f, SERVER, &p);
	expect_plan(&p, BOOT_TFTP, "undionly.kpxe", "rescue");
	assert_non_null(strstr(p.reason, "class all"));
	/* iPXE fetches a class's profile by a path that names it. */
	f.ipxe = true;
	boot_decide(c, &f, SERVER, &p);
	expect_plan(&p, BOOT_URL, "http://10.77.0.1/boot/rescue/52-54-00-00-00-01.ipxe", "rescue");
	/* The host's own profile beats every class, and keeps the short path. */
	f = facts(9, 7, true);
	boot_decide(c, &f, SERVER, &p);
	expect_plan(&p, BOOT_URL, "http://10.77.0.1/boot/52-54-00-00-00-09.ipxe", "linux");
	assert_int_equal(p.source, BOOT_SRC_HOST);
	/* No class matches: the default profile. */
	c->n_classes = 2;
	f = facts(2, 0, false);
	boot_decide(c, &f, SERVER, &p);
	expect_plan(&p, BOOT_TFTP, "undionly.kpxe", "linux");
	assert_int_equal(p.source, BOOT_SRC_DEFAULT);
	/* A script URL that cannot fit the 128-byte file field is no plan, not a cut URL. */
	char longname[121];
	memset(longname, 'p', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	add_profile(c, longname, "x=1");
	free(any->profile);
	any->profile = strdup(longname);
	c->n_classes = 3;
	f = facts(2, 0, true);
	boot_decide(c, &f, SERVER, &p);
	expect_plan(&p, BOOT_NONE, "", longname);
	assert_non_null(strstr(p.reason, "too long"));
	drop_extras(c);
	conf_free(c);
}

static struct conf *make_menu_conf(void)
{
	struct conf *c = make_conf(true);
	add_profile(c, "alpha", "item=alpha");
	add_profile(c, "beta", "item=beta");
	add_item(c, 1, "Alpha", "alpha");
	add_item(c, 2, "Beta", "beta");
	add_item(c, 0, "Local disk", NULL);
	return c;
}

static void test_menu(void **state)
{
	struct conf *c = make_menu_conf();
	struct boot_plan p;

	/* EDK2: the menu, and the default item's program for clients that skip it. */
	struct boot_facts f = facts(1, 7, false);
	boot_decide(c, &f, SERVER, &p);
	expect_plan(&p, BOOT_TFTP, "snponly.efi", "alpha");
	assert_true(p.pxe_menu);
	assert_non_null(strstr(p.reason, "PXE menu"));
	/* QEMU's iPXE ROM (BIOS) shows PXE menus too; its default is a script. */
	f = facts(1, 0, true);
	boot_decide(c, &f, SERVER, &p);
	expect_plan(&p, BOOT_URL, "http://10.77.0.1/boot/alpha/52-54-00-00-00-01.ipxe", "alpha");
	assert_true(p.pxe_menu);
	/* UEFI HTTP Boot has no PXE menus. */
	f = facts(1, 16, false);
	f.pxe_client = false;
	f.http_client = true;
	boot_decide(c, &f, SERVER, &p);
	expect_plan(&p, BOOT_URL, "http://10.77.0.1/ipxe.efi", "linux");
	assert_false(p.pxe_menu);
	/* Nor does a client that is not PXE. */
	f = facts(1, 0, false);
	f.pxe_client = false;
	boot_decide(c, &f, SERVER, &p);
	assert_false(p.pxe_menu);
	/* A host entry with its own profile boots it without a menu. */
	f = facts(9, 7, false);
	boot_decide(c, &f, SERVER, &p);
	expect_plan(&p, BOOT_TFTP, "snponly.efi", "linux");
	assert_false(p.pxe_menu);
	/* A local-boot default: the menu without a file of its own. */
	struct conf_menu_item first = c->pxe_menu->items[0];
	c->pxe_menu->items[0] = c->pxe_menu->items[2];
	c->pxe_menu->items[2] = first;
	f = facts(1, 7, false);
	boot_decide(c, &f, SERVER, &p);
	expect_plan(&p, BOOT_MENU, "", NULL);
	assert_true(p.pxe_menu);
	drop_extras(c);
	conf_free(c);
}

static void test_boot_items(void **state)
{
	struct conf *c = make_menu_conf();
	struct boot_plan p;

	/* EDK2 chose item 2 on port 4011: item 2's program, no menu. */
	struct boot_facts f = facts(1, 7, false);
	f.has_boot_item = true;
	f.boot_item_type = 2;
	boot_decide(c, &f, SERVER, &p);
	expect_plan(&p, BOOT_TFTP, "snponly.efi", "beta");
	assert_false(p.pxe_menu);
	assert_int_equal(p.source, BOOT_SRC_MENU);
	assert_int_equal(p.item->type, 2);
	/* Item 1 is item 1's, also for a host that pins another profile. */
	f.mac[5] = 9;
	f.boot_item_type = 1;
	boot_decide(c, &f, SERVER, &p);
	expect_plan(&p, BOOT_TFTP, "snponly.efi", "alpha");
	/* The iPXE that item 2 loaded, remembered by the server: item 2's script. */
	f = facts(1, 7, true);
	f.has_boot_item = f.boot_item_remembered = true;
	f.boot_item_type = 2;
	boot_decide(c, &f, SERVER, &p);
	expect_plan(&p, BOOT_URL, "http://10.77.0.1/boot/beta/52-54-00-00-00-01.ipxe", "beta");
	/* Firmware that boots again sees the menu again. */
	f.ipxe = false;
	boot_decide(c, &f, SERVER, &p);
	expect_plan(&p, BOOT_TFTP, "snponly.efi", "alpha");
	assert_true(p.pxe_menu);
	/* Local boot, an unknown type, a BIS layer: no plan, and a reason. */
	static const struct {
		uint16_t type, layer;
		const char *why;
	} refused[] = {{0, 0, "local boot"}, {9, 0, "not in the PXE menu"}, {2, 0x8000, "BIS"}};
	for (size_t i = 0; i < PXED_ARRAY_LEN(refused); i++) {
		f = facts(1, 7, false);
		f.has_boot_item = true;
		f.boot_item_type = refused[i].type;
		f.boot_item_layer = refused[i].layer;
		boot_decide(c, &f, SERVER, &p);
		assert_int_equal(p.action, BOOT_NONE);
		assert_false(p.pxe_menu);
		if (strstr(p.reason, refused[i].why) == NULL)
			fail_msg("type %u: reason '%s' lacks '%s'", refused[i].type, p.reason,
				 refused[i].why);
	}
	drop_extras(c);
	conf_free(c);
}

/* boot/<profile>/<mac>.ipxe renders that profile, with the host's command line. */
static void test_profile_scripts(void **state)
{
	struct conf *c = make_menu_conf();
	const uint8_t mac[6] = {0x52, 0x54, 0, 0, 0, 9};
	struct vfs_client cl = {.mac = NULL, .server_ip = SERVER};
	struct vfs_file vf;
	char *s;
	size_t len;

	assert_int_equal(boot_render_ipxe_profile(c, mac, "beta", SERVER, &s, &len), 0);
	assert_non_null(strstr(s, "kernel http://10.77.0.1/files/beta/kernel item=beta role=db\n"));
	free(s);
	assert_int_equal(boot_render_ipxe_profile(c, mac, "nosuch", SERVER, &s, &len), -ENOENT);
	assert_int_equal(vfs_open(c, VFS_ROOT_HTTP, "boot/alpha/52-54-00-00-00-01.ipxe", &cl, &vf),
			 0);
	assert_non_null(strstr(vf.data, "files/alpha/kernel item=alpha\n"));
	vfs_file_close(&vf);
	assert_int_equal(vfs_open(c, VFS_ROOT_HTTP, "boot/52-54-00-00-00-01.ipxe", &cl, &vf), 0);
	assert_non_null(strstr(vf.data, "files/linux/kernel initrd=initrd0 console=ttyS0\n"));
	vfs_file_close(&vf);
	static const char *const bad[] = {
	    "boot/nosuch/52-54-00-00-00-01.ipxe", "boot/alpha/x/52-54-00-00-00-01.ipxe",
	    "boot/alpha/52-54-00-00-00-01.pxe", "boot/alpha/52-54-00-00-00.ipxe"};
	for (size_t i = 0; i < PXED_ARRAY_LEN(bad); i++)
		if (vfs_open(c, VFS_ROOT_HTTP, bad[i], &cl, &vf) != -ENOENT)
			fail_msg("%s: not refused", bad[i]);
	drop_extras(c);
	conf_free(c);
}

static void add_program(struct conf *c, const char *profile, uint16_t arch, const char *file)
{
	struct conf_profile *p = (struct conf_profile *)conf_find_profile(c, profile);
	struct conf_program *prog = &p->programs[p->n_programs++];
	prog->arch = arch;
	prog->file = strdup(file);
}

/*
 * programs: a profile's boot program for an architecture replaces the
 * default iPXE build; iPXE firmware runs it too, unless it is iPXE itself.
 */
static void test_profile_programs(void **state)
{
	struct conf *c = make_conf(true);
	struct boot_plan p;
	struct boot_facts f;

	add_program(c, "linux", 0, "pxelinux.0");
	add_program(c, "linux", 7, "grubnetx64.efi");
	add_program(c, "linux", 16, "grub/grubnetx64.efi");
	c->hosts[0].name = strdup("db1");

	/* The host's profile: its bios program, named in the reason. */
	f = facts(9, 0, false);
	boot_decide(c, &f, SERVER, &p);
	expect_plan(&p, BOOT_TFTP, "pxelinux.0", "linux");
	assert_string_equal(
	    p.reason, "host db1: architecture 0 (bios): pxelinux.0, profile linux's bios program");
	/* efi-x64 stands for 9 as for 7; the default profile's programs apply alike. */
	f = facts(1, 9, false);
	boot_decide(c, &f, SERVER, &p);
	expect_plan(&p, BOOT_TFTP, "grubnetx64.efi", "linux");
	assert_string_equal(p.reason, "default profile: architecture 9 (efi-x64): grubnetx64.efi, "
				      "profile linux's efi-x64 program");
	/* UEFI HTTP Boot gets it as a URL. */
	f = facts(1, 16, false);
	f.pxe_client = false;
	f.http_client = true;
	boot_decide(c, &f, SERVER, &p);
	expect_plan(&p, BOOT_URL, "http://10.77.0.1/grub/grubnetx64.efi", "linux");
	/* No program for efi-ia32 here, nor an iPXE build: nothing, as before. */
	f = facts(1, 6, false);
	boot_decide(c, &f, SERVER, &p);
	expect_plan(&p, BOOT_NONE, "", "linux");
	/* iPXE firmware (QEMU's BIOS ROM) runs pxelinux as asked. */
	f = facts(9, 0, true);
	boot_decide(c, &f, SERVER, &p);
	expect_plan(&p, BOOT_TFTP, "pxelinux.0", "linux");
	assert_string_equal(p.reason, "host db1: iPXE client, architecture 0 (bios): pxelinux.0, "
				      "profile linux's bios program");
	conf_free(c);

	/* A program that is iPXE is never handed to iPXE: it gets its script. */
	static const char *const ipxe_builds[] = {"ipxe.efi",	   "snponly.efi",
						  "undionly.kpxe", "custom/my-iPXE.efi",
						  "site.kpxe",	   "site.KKPXE"};
	for (size_t i = 0; i < PXED_ARRAY_LEN(ipxe_builds); i++) {
		c = make_conf(true);
		add_program(c, "linux", 7, ipxe_builds[i]);
		f = facts(1, 7, false);
		boot_decide(c, &f, SERVER, &p);
		expect_plan(&p, BOOT_TFTP, ipxe_builds[i], "linux");
		f = facts(1, 7, true);
		boot_decide(c, &f, SERVER, &p);
		expect_plan(&p, BOOT_URL, "http://10.77.0.1/boot/52-54-00-00-00-01.ipxe", "linux");
		conf_free(c);
	}
	assert_false(boot_program_is_ipxe("pxelinux.0"));
	assert_false(boot_program_is_ipxe("grubnetx64.efi"));
	assert_false(boot_program_is_ipxe("kpxe/pxelinux.0"));
}

/* A class's profile and a menu item's profile bring their programs along. */
static void test_programs_of_class_and_menu(void **state)
{
	struct conf *c = make_conf(false);
	struct boot_plan p;
	struct boot_facts f;

	add_profile(c, "rescue", "rescue=1");
	add_program(c, "rescue", 0, "lpxelinux.0");
	struct conf_class *cl = add_class(c, "legacy", "rescue");
	cl->match.mac_prefix[0] = 0x52;
	cl->match.mac_prefix_len = 1;
	f = facts(1, 0, false);
	boot_decide(c, &f, SERVER, &p);
	expect_plan(&p, BOOT_TFTP, "lpxelinux.0", "rescue");
	assert_string_equal(p.reason, "class legacy: architecture 0 (bios): lpxelinux.0, "
				      "profile rescue's bios program");
	drop_extras(c);
	add_item(c, 1, "Rescue", "rescue");
	f = facts(1, 0, false);
	boot_decide(c, &f, SERVER, &p);
	expect_plan(&p, BOOT_TFTP, "lpxelinux.0", "rescue");
	assert_true(p.pxe_menu);
	assert_non_null(strstr(p.reason, "profile rescue's bios program"));
	drop_extras(c);
	conf_free(c);
}

/* ---- issue 5: the install life cycle ------------------------------------- */

/* An installed host keeps its boot program; its reason says it boots locally. */
static void test_installed_boots_locally(void **state)
{
	struct conf *c = make_conf(false);
	struct boot_facts f = {.mac = {0x52, 0x54, 0, 0, 0, 9}, .pxe_client = true};
	struct boot_plan p;

	boot_decide(c, &f, SERVER, &p);
	assert_null(strstr(p.reason, "installed"));
	f.installed = true;
	boot_decide(c, &f, SERVER, &p);
	assert_int_equal(p.action, BOOT_TFTP);
	assert_string_equal(p.file, "undionly.kpxe");
	assert_non_null(strstr(p.reason, "installed: boots from its local disk"));
	/* iPXE still gets its script URL: the script is what says `exit`. */
	f.ipxe = true;
	boot_decide(c, &f, SERVER, &p);
	assert_int_equal(p.action, BOOT_URL);
	assert_string_equal(p.file, "http://10.77.0.1/boot/52-54-00-00-00-09.ipxe");
	assert_non_null(strstr(p.reason, "installed: boots from its local disk"));
	/* A machine not in the inventory has no life cycle, whatever the flag says. */
	f.mac[5] = 1;
	c->default_profile = strdup("linux");
	boot_decide(c, &f, SERVER, &p);
	assert_null(strstr(p.reason, "installed"));
	conf_free(c);
}

/* The files an installed host fetches send it to its local disk; others are unchanged. */
static void test_installed_files(void **state)
{
	struct conf *c = make_conf(false);
	const uint8_t mac[6] = {0x52, 0x54, 0, 0, 0, 9};
	struct boot_states *st;
	struct vfs_file f;
	static const struct {
		const char *path, *want;
	} cases[] = {
	    {"boot/52-54-00-00-00-09.ipxe", "\nexit\n"},
	    {"boot/linux/52-54-00-00-00-09.ipxe", "\nexit\n"},
	    {"pxelinux.cfg/01-52-54-00-00-00-09", "  LOCALBOOT 0\n"},
	    {"grub/grub.cfg-01-52-54-00-00-00-09", "\nexit\n"},
	};

	assert_int_equal(boot_states_new(16, &st), 0);
	struct vfs_client cl = {.server_ip = SERVER, .states = st};
	c->hosts[0].install = true;
	for (size_t i = 0; i < PXED_ARRAY_LEN(cases); i++) {
		/* install: true and no stored state yet: the installer (the profile). */
		assert_int_equal(vfs_open(c, VFS_ROOT_TFTP, cases[i].path, &cl, &f), 0);
		assert_null(strstr(f.data, cases[i].want));
		assert_non_null(strstr(f.data, "files/linux/kernel"));
		vfs_file_close(&f);
	}
	assert_int_equal(boot_states_set(st, mac, BOOT_STATE_INSTALLED, NULL, 1), 0);
	for (size_t i = 0; i < PXED_ARRAY_LEN(cases); i++) {
		assert_int_equal(vfs_open(c, VFS_ROOT_TFTP, cases[i].path, &cl, &f), 0);
		if (strstr(f.data, cases[i].want) == NULL)
			fail_msg("%s: no '%s' in:\n%s", cases[i].path, cases[i].want, f.data);
		assert_null(strstr(f.data, "files/linux/kernel"));
		vfs_file_close(&f);
	}
	/* Marked again: the installer once more. */
	assert_int_equal(
	    boot_states_set(st, mac, BOOT_STATE_INSTALL, "0123456789abcdef0123456789abcdef", 2), 0);
	assert_int_equal(vfs_open(c, VFS_ROOT_HTTP, cases[0].path, &cl, &f), 0);
	assert_non_null(strstr(f.data, "files/linux/kernel"));
	vfs_file_close(&f);
	boot_states_free(st);
	conf_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plans),
	    cmocka_unit_test(test_unknown_machine_without_default),
	    cmocka_unit_test(test_script_and_cmdline),
	    cmocka_unit_test(test_arch_override),
	    cmocka_unit_test(test_class_profiles),
	    cmocka_unit_test(test_menu),
	    cmocka_unit_test(test_boot_items),
	    cmocka_unit_test(test_profile_scripts),
	    cmocka_unit_test(test_profile_programs),
	    cmocka_unit_test(test_programs_of_class_and_menu),
	    cmocka_unit_test(test_installed_boots_locally),
	    cmocka_unit_test(test_installed_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
