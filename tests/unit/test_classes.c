/*
 * Classes and architecture overrides: each match condition alone, all of
 * them together, the order and cap of boot_classes_match(), and the
 * longest-prefix rule of boot_arch_override().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "boot/classes.h"
#include "boot/policy.h"
#include "conf/config.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const uint8_t mac_pi[6] = {0xb8, 0x27, 0xeb, 0x12, 0x34, 0x56};
static const uint8_t mac_qemu[6] = {0x52, 0x54, 0x00, 0xaa, 0x00, 0x01};

static void facts_init(struct boot_facts *f, const uint8_t mac[6])
{
	memset(f, 0, sizeof(*f));
	memcpy(f->mac, mac, 6);
}

static void set_vendor_class(struct boot_facts *f, const char *s)
{
	f->vendor_class_len = strlen(s);
	memcpy(f->vendor_class, s, f->vendor_class_len);
}

static void set_user_class(struct boot_facts *f, const void *v, size_t len)
{
	f->user_class_len = len;
	memcpy(f->user_class, v, len);
}

static void test_vendor_class(void **state)
{
	struct conf_class cl = {.match.vendor_class_prefix = "PXEClient:Arch:00007"};
	struct boot_facts f;

	facts_init(&f, mac_qemu);
	assert_false(boot_class_matches(&cl, &f)); /* no option 60 at all */
	set_vendor_class(&f, "PXEClient:Arch:00007:UNDI:003016");
	assert_true(boot_class_matches(&cl, &f));
	set_vendor_class(&f, "PXEClient:Arch:00007");
	assert_true(boot_class_matches(&cl, &f));
	set_vendor_class(&f, "PXEClient:Arch:00000:UNDI:002001");
	assert_false(boot_class_matches(&cl, &f));
	set_vendor_class(&f, "PXEClient");
	assert_false(boot_class_matches(&cl, &f));
	set_vendor_class(&f, "pxeclient:arch:00007"); /* case matters */
	assert_false(boot_class_matches(&cl, &f));
}

static void test_user_class(void **state)
{
	struct conf_class cl = {.match.user_class = "iPXE"};
	struct boot_facts f;

	facts_init(&f, mac_qemu);
	assert_false(boot_class_matches(&cl, &f));
	set_user_class(&f, "iPXE", 4); /* what iPXE sends */
	assert_true(boot_class_matches(&cl, &f));
	set_user_class(&f, "iPXE2", 5);
	assert_false(boot_class_matches(&cl, &f));
	set_user_class(&f, "iPX", 3);
	assert_false(boot_class_matches(&cl, &f));
	/* RFC 3004: length-prefixed entries, any of which may match. */
	set_user_class(&f, "\x04iPXE", 5);
	assert_true(boot_class_matches(&cl, &f));
	set_user_class(&f, "\x03lab\x04iPXE", 9);
	assert_true(boot_class_matches(&cl, &f));
	set_user_class(&f, "\x03lab\x05iPXEx", 10);
	assert_false(boot_class_matches(&cl, &f));
	/* Entries that run past the option, or are empty, are not RFC 3004. */
	set_user_class(&f, "\x09iPXE", 5);
	assert_false(boot_class_matches(&cl, &f));
	set_user_class(&f, "\x00\x04iPXE", 6);
	assert_false(boot_class_matches(&cl, &f));
}

static void test_arch(void **state)
{
	struct conf_class cl = {.match = {.arches = {7, 9}, .n_arches = 2}};
	struct boot_facts f;

	facts_init(&f, mac_qemu);
	assert_false(boot_class_matches(&cl, &f)); /* no option 93 */
	f.has_arch = true;
	f.arch = 7;
	assert_true(boot_class_matches(&cl, &f));
	f.arch = 9;
	assert_true(boot_class_matches(&cl, &f));
	f.arch = 0;
	assert_false(boot_class_matches(&cl, &f));
	/* BIOS is 0: a class for it must not match clients without option 93. */
	cl.match.arches[0] = 0;
	cl.match.n_arches = 1;
	assert_true(boot_class_matches(&cl, &f));
	f.has_arch = false;
	assert_false(boot_class_matches(&cl, &f));
}

static void test_mac_prefix(void **state)
{
	struct conf_class cl = {.match = {.mac_prefix = {0xb8, 0x27, 0xeb}, .mac_prefix_len = 3}};
	struct boot_facts f;

	facts_init(&f, mac_pi);
	assert_true(boot_class_matches(&cl, &f));
	facts_init(&f, mac_qemu);
	assert_false(boot_class_matches(&cl, &f));
	/* A whole MAC is a prefix of six bytes. */
	memcpy(cl.match.mac_prefix, mac_qemu, 6);
	cl.match.mac_prefix_len = 6;
	assert_true(boot_class_matches(&cl, &f));
	f.mac[5] ^= 1;
	assert_false(boot_class_matches(&cl, &f));
}

static void test_relay_and_interface(void **state)
{
	struct conf_class relay = {.match.relay = 0x0a000501};
	struct conf_class iface = {.match.interface = "eth1"};
	struct boot_facts f;

	facts_init(&f, mac_qemu);
	assert_false(boot_class_matches(&relay, &f)); /* not relayed */
	f.relay = 0x0a000501;
	assert_true(boot_class_matches(&relay, &f));
	f.relay = 0x0a000502;
	assert_false(boot_class_matches(&relay, &f));

	assert_false(boot_class_matches(&iface, &f)); /* interface unknown */
	f.interface = "eth1";
	assert_true(boot_class_matches(&iface, &f));
	f.interface = "eth10";
	assert_false(boot_class_matches(&iface, &f));
	f.interface = "eth";
	assert_false(boot_class_matches(&iface, &f));
}

/* Option 97's 16 bytes as sent: 52540000-aa01-... is what pxed prints for these. */
static const uint8_t uuid_a[16] = {0x52, 0x54, 0x00, 0x00, 0xaa, 0x01, 0x40, 0x00,
				   0x80, 0x00, 0x52, 0x54, 0x00, 0xaa, 0x00, 0x01};
static const uint8_t uuid_b[16] = {0x00, 0x00, 0x54, 0x52, 0x01, 0xaa, 0x00, 0x40,
				   0x80, 0x00, 0x52, 0x54, 0x00, 0xaa, 0x00, 0x01};

static void test_uuid(void **state)
{
	uint8_t list[2][16];
	struct conf_class cl = {.match = {.uuids = list, .n_uuids = 2}};
	struct boot_facts f;

	memcpy(list[0], uuid_b, 16);
	memset(list[1], 0x11, 16);
	facts_init(&f, mac_qemu);
	assert_false(boot_class_matches(&cl, &f)); /* no option 97 */
	memcpy(f.uuid, uuid_b, 16);
	assert_false(boot_class_matches(&cl, &f)); /* bytes without has_uuid: never */
	f.has_uuid = true;
	assert_true(boot_class_matches(&cl, &f));
	memset(f.uuid, 0x11, 16);
	assert_true(boot_class_matches(&cl, &f)); /* the second of the list */
	/* The same UUID with its first fields byte-swapped is another UUID. */
	memcpy(f.uuid, uuid_a, 16);
	assert_false(boot_class_matches(&cl, &f));
	f.uuid[15] ^= 1;
	assert_false(boot_class_matches(&cl, &f));
}

static void test_subnet(void **state)
{
	struct conf_class cl = {
	    .match = {.subnets = {{0x0a8c0000, 16}, {0xc0a80100, 24}}, .n_subnets = 2}};
	struct conf_class host = {.match = {.subnets = {{0x0a8c0501, 32}}, .n_subnets = 1}};
	struct boot_facts f;

	facts_init(&f, mac_qemu);
	assert_false(boot_class_matches(&cl, &f)); /* link unknown */
	f.link = 0x0a8c0001;			   /* our interface, 10.140.0.1 */
	f.interface = "br0";
	assert_true(boot_class_matches(&cl, &f));
	assert_false(boot_class_matches(&host, &f));
	f.relay = f.link = 0x0a8c0501; /* relayed by 10.140.5.1 */
	assert_true(boot_class_matches(&cl, &f));
	assert_true(boot_class_matches(&host, &f));
	f.relay = f.link = 0xc0a801fe; /* relayed by 192.168.1.254 */
	assert_true(boot_class_matches(&cl, &f));
	assert_false(boot_class_matches(&host, &f));
	f.relay = f.link = 0x0a8d0001; /* 10.141.0.1: outside */
	assert_false(boot_class_matches(&cl, &f));
	f.relay = f.link = 0xc0a80201;
	assert_false(boot_class_matches(&cl, &f));
}

/* From the file: UUIDs in either case, and subnets, as conf_load reads them. */
static void test_uuid_subnet_from_file(void **state)
{
	static const char yaml[] =
	    "interfaces: [br0]\n"
	    "classes:\n"
	    "  - name: lab\n"
	    "    match:\n"
	    "      uuid: [00005452-01AA-0040-8000-525400AA0001, "
	    "11111111-1111-1111-1111-111111111111]\n"
	    "  - name: branch\n"
	    "    match: {subnet: 10.140.0.0/16}\n"
	    "  - name: both\n"
	    "    match: {uuid: 00005452-01aa-0040-8000-525400aa0001, subnet: [192.168.0.0/16]}\n";
	char path[] = "/tmp/test_classes.XXXXXX";
	struct conf_errors errs = {0};
	struct conf *c = NULL;
	const struct conf_class *out[4];
	struct boot_facts f;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, sizeof(yaml) - 1), (ssize_t)sizeof(yaml) - 1);
	close(fd);
	int rc = conf_load(path, &c, &errs);
	unlink(path);
	for (size_t i = 0; i < errs.n; i++)
		print_message("  got: %s\n", errs.msgs[i]);
	assert_int_equal(rc, 0);
	conf_errors_free(&errs);
	assert_int_equal(c->classes[0].match.n_uuids, 2);
	assert_memory_equal(c->classes[0].match.uuids[0], uuid_b, 16);

	facts_init(&f, mac_qemu);
	f.has_uuid = true;
	memcpy(f.uuid, uuid_b, 16);
	f.link = 0xc0a80a01;
	assert_int_equal(boot_classes_match(c, &f, out, 4), 2);
	assert_string_equal(out[0]->name, "lab");
	assert_string_equal(out[1]->name, "both");
	f.link = 0x0a8c0001;
	assert_int_equal(boot_classes_match(c, &f, out, 4), 2);
	assert_string_equal(out[1]->name, "branch");
	f.has_uuid = false;
	assert_int_equal(boot_classes_match(c, &f, out, 4), 1);
	assert_string_equal(out[0]->name, "branch");
	conf_free(c);
}

/* Every condition that is set must hold; one failing is enough to miss. */
static void test_all_conditions(void **state)
{
	struct conf_class cl = {.match = {.vendor_class_prefix = "PXEClient",
					  .user_class = "iPXE",
					  .arches = {0},
					  .n_arches = 1,
					  .mac_prefix = {0xb8, 0x27},
					  .mac_prefix_len = 2,
					  .relay = 0x0a000501,
					  .interface = "br0",
					  .uuids = (uint8_t(*)[16])uuid_b,
					  .n_uuids = 1,
					  .subnets = {{0x0a000500, 24}},
					  .n_subnets = 1}};
	struct boot_facts f, g;

	facts_init(&f, mac_pi);
	set_vendor_class(&f, "PXEClient:Arch:00000:UNDI:002001");
	set_user_class(&f, "iPXE", 4);
	f.has_arch = true;
	f.relay = 0x0a000501;
	f.interface = "br0";
	f.link = 0x0a000501;
	f.has_uuid = true;
	memcpy(f.uuid, uuid_b, 16);
	assert_true(boot_class_matches(&cl, &f));

	g = f, set_vendor_class(&g, "HTTPClient");
	assert_false(boot_class_matches(&cl, &g));
	g = f, g.user_class_len = 0;
	assert_false(boot_class_matches(&cl, &g));
	g = f, g.arch = 7;
	assert_false(boot_class_matches(&cl, &g));
	g = f, g.mac[1] = 0;
	assert_false(boot_class_matches(&cl, &g));
	g = f, g.relay = 0;
	assert_false(boot_class_matches(&cl, &g));
	g = f, g.interface = "br1";
	assert_false(boot_class_matches(&cl, &g));
	g = f, g.has_uuid = false;
	assert_false(boot_class_matches(&cl, &g));
	g = f, g.link = 0x0a000601;
	assert_false(boot_class_matches(&cl, &g));
}

static void test_classes_match(void **state)
{
	struct conf *c = conf_new_defaults();
	const struct conf_class *out[8];
	struct boot_facts f;

	c->classes[0].name = strdup("pi");
	c->classes[0].match.mac_prefix_len = 3;
	memcpy(c->classes[0].match.mac_prefix, mac_pi, 3);
	c->classes[1].name = strdup("efi");
	c->classes[1].match.n_arches = 1;
	c->classes[1].match.arches[0] = 7;
	c->classes[2].name = strdup("ipxe");
	c->classes[2].match.user_class = strdup("iPXE");
	c->classes[3].name = strdup("pxe");
	c->classes[3].match.vendor_class_prefix = strdup("PXEClient");
	c->n_classes = 4;

	facts_init(&f, mac_pi);
	set_vendor_class(&f, "PXEClient:Arch:00007");
	f.has_arch = true;
	f.arch = 7;
	/* In config order, whatever order they would be found in otherwise. */
	assert_int_equal(boot_classes_match(c, &f, out, 8), 3);
	assert_string_equal(out[0]->name, "pi");
	assert_string_equal(out[1]->name, "efi");
	assert_string_equal(out[2]->name, "pxe");
	/* At most max. */
	assert_int_equal(boot_classes_match(c, &f, out, 2), 2);
	assert_string_equal(out[1]->name, "efi");
	assert_int_equal(boot_classes_match(c, &f, out, 0), 0);
	facts_init(&f, mac_qemu);
	assert_int_equal(boot_classes_match(c, &f, out, 8), 0);
	conf_free(c);
}

static void add_override(struct conf *c, const char *prefix, size_t len, uint16_t arch)
{
	struct conf_arch_override *o = &c->arch_overrides[c->n_arch_overrides++];

	memcpy(o->mac_prefix, prefix, len);
	o->mac_prefix_len = len;
	o->arch = arch;
}

static void test_arch_override(void **state)
{
	struct conf *c = conf_new_defaults();
	uint16_t arch = 999;

	assert_false(boot_arch_override(c, mac_pi, &arch));
	assert_int_equal(arch, 999);
	add_override(c, "\xb8\x27", 2, 11);
	add_override(c, "\xb8\x27\xeb", 3, 41);
	add_override(c, "\xb8\x27\xeb", 3, 7); /* same length: the first one wins */
	add_override(c, "\xb8\x27\xec\x12\x34\x56", 6, 6);
	add_override(c, "", 0, 5); /* a prefix of nothing never matches */

	assert_true(boot_arch_override(c, mac_pi, &arch));
	assert_int_equal(arch, 41);
	assert_true(boot_arch_override(c, (const uint8_t *)"\xb8\x27\x00\x00\x00\x01", &arch));
	assert_int_equal(arch, 11);
	assert_true(boot_arch_override(c, (const uint8_t *)"\xb8\x27\xec\x12\x34\x56", &arch));
	assert_int_equal(arch, 6);
	arch = 999;
	assert_false(boot_arch_override(c, mac_qemu, &arch));
	assert_int_equal(arch, 999);
	conf_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vendor_class),
	    cmocka_unit_test(test_user_class),
	    cmocka_unit_test(test_arch),
	    cmocka_unit_test(test_mac_prefix),
	    cmocka_unit_test(test_relay_and_interface),
	    cmocka_unit_test(test_uuid),
	    cmocka_unit_test(test_subnet),
	    cmocka_unit_test(test_uuid_subnet_from_file),
	    cmocka_unit_test(test_all_conditions),
	    cmocka_unit_test(test_classes_match),
	    cmocka_unit_test(test_arch_override),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
