/*
 * DHCP messages captured from real firmware in the QEMU lab
 * (tests/fuzz/capture-seeds.sh menu), read from the fuzzers' seed files in
 * tests/fuzz/corpus/dhcp: QEMU's iPXE ROM on a BIOS machine, OVMF's EDK2 PXE,
 * and the snponly.efi iPXE that EDK2 chainloads, each DISCOVER and REQUEST,
 * and the port-4011 boot server REQUESTs both firmware sent after a PXE menu
 * timed out on item 1. Each must decode, give the facts pxed decides on, be
 * refused when cut short, and get the plan the PXE menu promises.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "boot/policy.h"
#include "conf/config.h"
#include "core/util.h"
#include "dhcp/pxe.h"
#include "dhcp/server.h"
#include "dhcp/wire.h"

#define SERVER 0x0a4d2f01u /* 10.77.47.1, the capture lab's server */

struct capture {
	const char *name; /* tests/fuzz/corpus/dhcp/<name>.bin */
	uint8_t bytes[DHCP_MAX_LEN + 1];
	size_t len;
	uint8_t type;	    /* DHCP message type */
	uint8_t mac_last;   /* 52:54:00:77:2f:XX */
	uint16_t arch;	    /* option 93 */
	bool ipxe;	    /* user class "iPXE" and option 175 */
	bool pxext;	    /* option 175 lists PXEXT: iPXE shows PXE menus */
	const char *vendor; /* option 60 as sent */
	bool boot_item;	    /* option 43 sub-option 71: type 1, layer 0 */
};

/* The packets themselves are read from the fuzzers' seed files by load_captures(). */
#define CAP(n) n, {0}, 0
static struct capture captures[] = {
    {CAP("bios-ipxe-discover"), DHCPDISCOVER, 1, 0, true, true, "PXEClient:Arch:00000:UNDI:002001",
     false},
    {CAP("bios-ipxe-request"), DHCPREQUEST, 1, 0, true, true, "PXEClient:Arch:00000:UNDI:002001",
     false},
    {CAP("bios-ipxe-request-4011"), DHCPREQUEST, 1, 0, true, true, "PXEClient", true},
    {CAP("uefi-edk2-discover"), DHCPDISCOVER, 2, 7, false, false,
     "PXEClient:Arch:00007:UNDI:003000", false},
    {CAP("uefi-edk2-request"), DHCPREQUEST, 2, 7, false, false, "PXEClient:Arch:00007:UNDI:003000",
     false},
    {CAP("uefi-edk2-request-4011"), DHCPREQUEST, 2, 7, false, false,
     "PXEClient:Arch:00007:UNDI:003000", true},
    {CAP("uefi-ipxe-discover"), DHCPDISCOVER, 2, 7, true, false, "PXEClient:Arch:00007:UNDI:003010",
     false},
    {CAP("uefi-ipxe-request"), DHCPREQUEST, 2, 7, true, false, "PXEClient:Arch:00007:UNDI:003010",
     false},
};

/* Option 175 is a list of iPXE feature TLVs; PXEXT (0x10) means PXE menus work. */
static bool has_pxext(const struct dhcp_msg *m)
{
	size_t len;
	const uint8_t *p = dhcp_opt(m, DHCP_OPT_IPXE, &len);
	for (size_t i = 0; p != NULL && i + 2 <= len; i += 2 + (size_t)p[i + 1])
		if (p[i] == 0x10)
			return true;
	return false;
}

/* The offset just after END in the options field. */
static size_t options_end(const uint8_t *b, size_t len)
{
	size_t i = DHCP_MIN_LEN;
	while (i < len && b[i] != DHCP_OPT_END)
		i += b[i] == DHCP_OPT_PAD ? 1 : 2 + (size_t)b[i + 1];
	return i + 1;
}

static void test_facts(void **state)
{
	static struct dhcp_msg m;
	for (size_t i = 0; i < PXED_ARRAY_LEN(captures); i++) {
		const struct capture *c = &captures[i];
		struct boot_facts f;
		size_t len;
		const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x77, 0x2f, c->mac_last};

		if (dhcp_decode(c->bytes, c->len, &m) != DHCP_OK)
			fail_msg("%s: does not decode", c->name);
		assert_int_equal(m.op, DHCP_BOOTREQUEST);
		assert_int_equal(dhcp_msg_type(&m), c->type);
		dhcp_facts(&m, &f);
		assert_memory_equal(f.mac, mac, 6);
		assert_true(f.pxe_client);
		assert_false(f.http_client);
		if (f.ipxe != c->ipxe || has_pxext(&m) != c->pxext)
			fail_msg("%s: ipxe %d pxext %d", c->name, f.ipxe, has_pxext(&m));
		assert_true(f.has_arch);
		assert_int_equal(f.arch, c->arch);
		assert_int_equal(f.vendor_class_len, strlen(c->vendor));
		assert_memory_equal(f.vendor_class, c->vendor, f.vendor_class_len);
		/* PXE clients send a UUID (option 97: type 0 and 16 bytes; QEMU's is zero). */
		const uint8_t *uuid = dhcp_opt(&m, DHCP_OPT_UUID, &len);
		if (uuid == NULL || len != 17 || uuid[0] != 0)
			fail_msg("%s: no type-0 UUID", c->name);
		assert_int_equal(f.has_boot_item, c->boot_item);
		if (c->boot_item) {
			assert_int_equal(f.boot_item_type, 1);
			assert_int_equal(f.boot_item_layer, 0);
		}
	}
}

/* Every prefix that stops before END is refused; padding after END is not needed. */
static void test_truncated(void **state)
{
	static struct dhcp_msg m;
	for (size_t i = 0; i < PXED_ARRAY_LEN(captures); i++) {
		const struct capture *c = &captures[i];
		size_t end = options_end(c->bytes, c->len);
		assert_true(end <= c->len);
		for (size_t n = 0; n < end; n++)
			if (dhcp_decode(c->bytes, n, &m) == DHCP_OK)
				fail_msg("%s: a prefix of %zu bytes decodes", c->name, n);
		assert_int_equal(dhcp_decode(c->bytes, end, &m), DHCP_OK);
	}
}

/* The menu these firmware were booted with: item 1 "first", item 2 "second". */
static struct conf *menu_conf(void)
{
	struct conf *c = conf_new_defaults();
	static const char *const names[2] = {"first", "second"};
	c->pxe_menu = calloc(1, sizeof(*c->pxe_menu));
	c->pxe_menu->timeout_s = 2;
	for (size_t i = 0; i < 2; i++) {
		struct conf_profile *p = &c->profiles[c->n_profiles++];
		p->name = strdup(names[i]);
		p->kernel = strdup("/boot/vmlinuz");
		struct conf_menu_item *it = &c->pxe_menu->items[c->pxe_menu->n_items++];
		it->type = (uint16_t)(i + 1);
		it->label = strdup(names[i]);
		it->profile = strdup(names[i]);
	}
	return c;
}

static void drop_menu(struct conf *c)
{
	for (size_t i = 0; i < c->pxe_menu->n_items; i++) {
		free(c->pxe_menu->items[i].label);
		free(c->pxe_menu->items[i].profile);
	}
	free(c->pxe_menu);
	c->pxe_menu = NULL;
}

/*
 * What pxed answered in the lab: the menu to both firmware (QEMU's iPXE ROM
 * and EDK2), item 1's plan with sub-option 71 echoed on port 4011, and to
 * the chainloaded iPXE, which cannot show menus, the default item's script.
 */
static void test_plans(void **state)
{
	static struct dhcp_msg m;
	static const uint8_t echo71[] = {71, 4, 0, 1, 0, 0, 255};
	struct conf *c = menu_conf();
	for (size_t i = 0; i < PXED_ARRAY_LEN(captures); i++) {
		const struct capture *cap = &captures[i];
		struct boot_facts f;
		struct boot_plan p;
		uint8_t o43[255];

		assert_int_equal(dhcp_decode(cap->bytes, cap->len, &m), DHCP_OK);
		dhcp_facts(&m, &f);
		boot_decide(c, &f, SERVER, &p);
		assert_string_equal(p.profile->name, "first");
		assert_int_equal(p.action, cap->ipxe ? BOOT_URL : BOOT_TFTP);
		int n = pxe_build_vendor_opts(c, &f, &p, SERVER, cap->boot_item, o43, sizeof(o43));
		if (cap->boot_item) {
			assert_false(p.pxe_menu);
			assert_int_equal(p.source, BOOT_SRC_MENU);
			assert_int_equal(n, (int)sizeof(echo71));
			assert_memory_equal(o43, echo71, sizeof(echo71));
		} else {
			assert_true(p.pxe_menu);
			assert_int_equal(n, pxe_menu_check(c->pxe_menu));
		}
	}
	drop_menu(c);
	conf_free(c);
}

/* Reads every capture from the source tree (meson sets PXED_SRCDIR). */
static int load_captures(void **state)
{
	const char *src = getenv("PXED_SRCDIR");
	for (size_t i = 0; i < PXED_ARRAY_LEN(captures); i++) {
		char path[512];
		struct capture *c = &captures[i];
		snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/dhcp/%s.bin", src ? src : ".",
			 c->name);
		FILE *f = fopen(path, "rb");
		if (f == NULL) {
			fprintf(stderr, "%s: cannot open\n", path);
			return -1;
		}
		c->len = fread(c->bytes, 1, sizeof(c->bytes), f);
		fclose(f);
		if (c->len == 0 || c->len > DHCP_MAX_LEN) {
			fprintf(stderr, "%s: %zu bytes\n", path, c->len);
			return -1;
		}
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_facts),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_plans),
	};
	return cmocka_run_group_tests(tests, load_captures, NULL);
}
