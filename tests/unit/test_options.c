/*
 * The DHCP option catalogue: the table itself, lookups by name, alias and
 * number, text -> wire -> text round trips per type, every bad value with
 * its reason, and hostile wire values (escaping, compression loops,
 * truncated prefixes) when formatting for logs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/util.h"
#include "dhcp/options.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static const struct dhcp_optdef *def_named(const char *name)
{
	const struct dhcp_optdef *d = dhcp_optdef_by_name(name);

	if (d == NULL)
		print_message("no option named '%s'\n", name);
	assert_non_null(d);
	return d;
}

/* ---------------------------------------------------------------------- */
/* The table                                                              */

static bool name_is_kebab(const char *s)
{
	if (!islower((unsigned char)s[0]))
		return false;
	for (; *s != '\0'; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-')
			return false;
	return s[-1] != '-';
}

static void test_table(void **state)
{
	size_t n = dhcp_optdef_count();

	assert_true(n > 80);
	assert_null(dhcp_optdef_at(n));
	for (size_t i = 0; i < n; i++) {
		const struct dhcp_optdef *d = dhcp_optdef_at(i);

		print_message("%u %s\n", d->code, d->name);
		assert_true(i == 0 || dhcp_optdef_at(i - 1)->code < d->code); /* sorted */
		assert_true(d->code != 0 && d->code != 255);
		assert_true(name_is_kebab(d->name));
		assert_true(d->min_len <= d->max_len);
		assert_true(d->max_len <= 1024);
		assert_true(d->multiple >= 1);
		assert_true(dhcp_optdef_known(d));
		assert_ptr_equal(dhcp_optdef_by_code(d->code), d);
		assert_ptr_equal(dhcp_optdef_by_name(d->name), d);
		assert_string_not_equal(dhcp_opttype_name(d->type), "?");
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(dhcp_optdef_at(j)->name, d->name);
	}
}

/* RFC 2132 in full, the PXE options and the others the issue names. */
static void test_coverage(void **state)
{
	static const uint8_t extra[] = {77, 82, 93, 94, 97, 119, 121, 150, 175, 209, 210, 252};
	static const uint8_t managed[] = {50, 51, 52, 53, 54, 55, 57, 58, 59, 61, 82};

	for (unsigned code = 1; code <= 76; code++)
		assert_true(dhcp_optdef_known(dhcp_optdef_by_code((uint8_t)code)));
	for (size_t i = 0; i < PXED_ARRAY_LEN(extra); i++)
		assert_true(dhcp_optdef_known(dhcp_optdef_by_code(extra[i])));
	for (unsigned code = 0; code < 256; code++) {
		bool want = memchr(managed, (int)code, sizeof(managed)) != NULL;
		const struct dhcp_optdef *d = dhcp_optdef_by_code((uint8_t)code);
		assert_int_equal(d->code, code);
		assert_int_equal((d->flags & DHCP_OPTF_MANAGED) != 0, want);
	}
	assert_int_equal(dhcp_optdef_by_code(93)->type, DHCP_OT_ARCHES);
	assert_int_equal(dhcp_optdef_by_code(97)->type, DHCP_OT_UUID);
	assert_int_equal(dhcp_optdef_by_code(119)->type, DHCP_OT_DOMAINS);
	assert_int_equal(dhcp_optdef_by_code(121)->type, DHCP_OT_ROUTES);
	assert_int_equal(dhcp_optdef_by_code(150)->type, DHCP_OT_IPS);
	assert_int_equal(dhcp_optdef_by_code(175)->type, DHCP_OT_BYTES);
	assert_int_equal(dhcp_optdef_by_code(209)->type, DHCP_OT_STRING);
	assert_int_equal(dhcp_optdef_by_code(252)->type, DHCP_OT_STRING);
}

static void test_lookup(void **state)
{
	static const struct {
		const char *name;
		int code; /* -1: no such option */
	} cases[] = {
	    {"routers", 3},
	    {"ROUTERS", 3},
	    {"router", 3},
	    {"dns", 6},
	    {"Domain_Name_Servers", 6},
	    {"domain-name-servers", 6},
	    {"vendor-class-identifier", 60},
	    {"6", 6},
	    {"06", 6},
	    {"150", 150},
	    {"224", 224},
	    {"option-224", 224},
	    {"OPTION-1", 1},
	    {"254", 254},
	    {"1", 1},
	    {"client-arch", 93},
	    {"uuid", 97},
	    {"wpad", 252},
	    {"0", -1},
	    {"255", -1},
	    {"256", -1},
	    {"-1", -1},
	    {"option-0", -1},
	    {"option-", -1},
	    {"", -1},
	    {"nope", -1},
	    {"router ", -1},
	    {"rout", -1},
	    {"routers-x", -1},
	};
	char buf[DHCP_OPTDEF_LABEL_MAX];

	for (size_t i = 0; i < PXED_ARRAY_LEN(cases); i++) {
		const struct dhcp_optdef *d = dhcp_optdef_by_name(cases[i].name);
		print_message("lookup '%s'\n", cases[i].name);
		if (cases[i].code < 0) {
			assert_null(d);
			continue;
		}
		assert_non_null(d);
		assert_int_equal(d->code, cases[i].code);
		assert_ptr_equal(d, dhcp_optdef_by_code((uint8_t)cases[i].code));
	}
	/* Codes the catalogue lacks: generic bytes, named by number. */
	assert_false(dhcp_optdef_known(dhcp_optdef_by_code(224)));
	assert_null(dhcp_optdef_by_code(224)->name);
	assert_int_equal(dhcp_optdef_by_code(224)->type, DHCP_OT_BYTES);
	assert_string_equal(dhcp_optdef_label(dhcp_optdef_by_code(224), buf), "option-224");
	assert_string_equal(dhcp_optdef_label(dhcp_optdef_by_code(3), buf), "routers");
	assert_string_equal(dhcp_opttype_name(DHCP_OT_ROUTES), "classless-routes");
	assert_string_equal(dhcp_opttype_name((enum dhcp_opttype)99), "?");
}

/* The decoder's rules, kept as they were before the catalogue replaced them. */
static void test_len_rules(void **state)
{
	static const struct {
		uint8_t code;
		size_t len;
		bool ok;
	} cases[] = {
	    {1, 4, true},      {1, 3, false},	 {1, 5, false},	    {3, 4, true},
	    {3, 252, true},    {3, 256, false},	 {3, 6, false},	    {3, 0, false},
	    {6, 8, true},      {28, 4, true},	 {50, 3, false},    {51, 4, true},
	    {52, 1, true},     {52, 2, false},	 {53, 1, true},	    {53, 2, false},
	    {53, 0, false},    {54, 4, true},	 {57, 2, true},	    {57, 3, false},
	    {58, 4, true},     {59, 5, false},	 {61, 1, false},    {61, 2, true},
	    {61, 255, true},   {61, 256, false}, {93, 2, true},	    {93, 3, false},
	    {93, 254, true},   {93, 256, false}, {94, 3, true},	    {94, 2, false},
	    {97, 17, true},    {97, 16, false},	 {224, 0, true},    {224, 255, true},
	    {224, 256, false}, {68, 0, true},	 {119, 1024, true}, {119, 1025, false},
	};

	for (size_t i = 0; i < PXED_ARRAY_LEN(cases); i++) {
		print_message("option %u length %zu\n", cases[i].code, cases[i].len);
		assert_int_equal(
		    dhcp_optdef_len_ok(dhcp_optdef_by_code(cases[i].code), cases[i].len),
		    cases[i].ok);
	}
}

/* ---------------------------------------------------------------------- */
/* Text -> wire -> text                                                   */

struct rt_case {
	const char *name, *text;
	size_t len;
	const char *wire;
	const char *back; /* NULL: the text itself */
};

static const struct rt_case rt_cases[] = {
    {"subnet-mask", "255.255.255.0", 4, "\xff\xff\xff\x00", NULL},
    {"routers", "10.0.0.1, 10.0.0.2", 8, "\x0a\x00\x00\x01\x0a\x00\x00\x02", NULL},
    {"routers", "10.0.0.1,10.0.0.2", 8, "\x0a\x00\x00\x01\x0a\x00\x00\x02", "10.0.0.1, 10.0.0.2"},
    {"dns", " 9.9.9.9 ", 4, "\x09\x09\x09\x09", "9.9.9.9"},
    {"policy-filter", "10.0.0.0 255.0.0.0", 8, "\x0a\x00\x00\x00\xff\x00\x00\x00", NULL},
    {"static-routes", "10.0.0.0 10.1.1.1, 192.168.0.0 10.1.1.2", 16,
     "\x0a\x00\x00\x00\x0a\x01\x01\x01\xc0\xa8\x00\x00\x0a\x01\x01\x02", NULL},
    {"default-ip-ttl", "64", 1, "\x40", NULL},
    {"netbios-node-type", "8", 1, "\x08", NULL},
    {"interface-mtu", "1500", 2, "\x05\xdc", NULL},
    {"boot-size", "0", 2, "\x00\x00", NULL},
    {"max-datagram-reassembly", "576", 2, "\x02\x40", NULL},
    {"arp-cache-timeout", "4294967295", 4, "\xff\xff\xff\xff", NULL},
    {"time-offset", "-3600", 4, "\xff\xff\xf1\xf0", NULL},
    {"time-offset", "2147483647", 4, "\x7f\xff\xff\xff", NULL},
    {"time-offset", "-2147483648", 4, "\x80\x00\x00\x00", NULL},
    {"time-offset", "0", 4, "\x00\x00\x00\x00", NULL},
    {"path-mtu-plateau-table", "68, 296, 1500", 6, "\x00\x44\x01\x28\x05\xdc", NULL},
    {"ip-forwarding", "true", 1, "\x01", NULL},
    {"ip-forwarding", "false", 1, "\x00", NULL},
    {"ip-forwarding", "yes", 1, "\x01", "true"},
    {"ip-forwarding", "off", 1, "\x00", "false"},
    {"host-name", "node1", 5, "node1", NULL},
    {"message", "hello, world", 12, "hello, world", NULL},
    {"vendor-encapsulated-options", "01:04:de:ad:be:ef", 6, "\x01\x04\xde\xad\xbe\xef", NULL},
    {"vendor-encapsulated-options", "0x0102FF", 3, "\x01\x02\xff", "01:02:ff"},
    {"vendor-encapsulated-options", "FF", 1, "\xff", "ff"},
    {"client-ndi", "01:02:01", 3, "\x01\x02\x01", NULL},
    {"domain-search", "lab.example, example.com", 26,
     "\x03lab\x07"
     "example\x00\x07"
     "example\x03"
     "com\x00",
     NULL},
    {"domain-search", "a.example  b.example", 22,
     "\x01"
     "a\x07"
     "example\x00\x01"
     "b\x07"
     "example\x00",
     "a.example, b.example"},
    {"domain-search", "example.com.", 13,
     "\x07"
     "example\x03"
     "com\x00",
     "example.com"},
    {"domain-search", "_srv.x-1.example", 18,
     "\x04_srv\x03x-1\x07"
     "example\x00",
     NULL},
    {"classless-static-routes", "10.0.0.0/8 via 10.1.1.1, 0.0.0.0/0 via 10.1.1.254", 11,
     "\x08\x0a\x0a\x01\x01\x01\x00\x0a\x01\x01\xfe", NULL},
    {"classless-static-routes", "192.168.1.0/24 10.0.0.1", 8, "\x18\xc0\xa8\x01\x0a\x00\x00\x01",
     "192.168.1.0/24 via 10.0.0.1"},
    {"classless-static-routes", "10.1.2.3/32 via 10.0.0.1", 9,
     "\x20\x0a\x01\x02\x03\x0a\x00\x00\x01", NULL},
    {"classless-static-routes", "172.16.0.0/12 via 10.0.0.1", 7, "\x0c\xac\x10\x0a\x00\x00\x01",
     NULL},
    {"client-arch", "7, 9", 4, "\x00\x07\x00\x09", NULL},
    {"client-arch", "0", 2, "\x00\x00", NULL},
    {"uuid", "01234567-89ab-cdef-0123-456789abcdef", 17,
     "\x00\x01\x23\x45\x67\x89\xab\xcd\xef\x01\x23\x45\x67\x89\xab\xcd\xef", NULL},
    {"uuid", "0123456789ABCDEF0123456789ABCDEF", 17,
     "\x00\x01\x23\x45\x67\x89\xab\xcd\xef\x01\x23\x45\x67\x89\xab\xcd\xef",
     "01234567-89ab-cdef-0123-456789abcdef"},
    {"tftp-server-address", "10.0.0.5", 4, "\x0a\x00\x00\x05", NULL},
    {"pxelinux-configfile", "pxelinux.cfg/default", 20, "pxelinux.cfg/default", NULL},
    {"pxelinux-pathprefix", "/srv/tftp/", 10, "/srv/tftp/", NULL},
    {"wpad", "http://wpad.example/wpad.dat", 28, "http://wpad.example/wpad.dat", NULL},
    {"mobile-ip-home-agent", "", 0, "", NULL},
    {"224", "01:02:03", 3, "\x01\x02\x03", NULL},
    {"224", "hello", 5, "hello", "68:65:6c:6c:6f"},
    {"224", "12", 1, "\x12", NULL},
    {"224", "cafe", 4, "cafe", "63:61:66:65"},
};

static void test_round_trips(void **state)
{
	for (size_t i = 0; i < PXED_ARRAY_LEN(rt_cases); i++) {
		const struct rt_case *t = &rt_cases[i];
		const struct dhcp_optdef *d = def_named(t->name);
		const char *back = t->back ? t->back : t->text;
		uint8_t wire[1024];
		char why[DHCP_OPTDEF_WHY_MAX] = "x", text[512];
		int n;

		print_message("%s: '%s'\n", t->name, t->text);
		n = dhcp_optdef_parse(d, t->text, wire, sizeof(wire), why, sizeof(why));
		if (n < 0)
			print_message("  why: %s\n", why);
		assert_int_equal(n, (int)t->len);
		assert_string_equal(why, "");
		assert_memory_equal(wire, t->wire, t->len);
		assert_true(dhcp_optdef_len_ok(d, (size_t)n));
		assert_int_equal(dhcp_optdef_format(d, wire, (size_t)n, text, sizeof(text)),
				 (int)strlen(back));
		assert_string_equal(text, back);
	}
}

/* A value of every type, each of which formats back to itself. */
static const char *example_of(const struct dhcp_optdef *d)
{
	static const char *const examples[] = {
	    [DHCP_OT_BYTES] = "01:02:ff",
	    [DHCP_OT_STRING] = "pxe boot",
	    [DHCP_OT_IP] = "10.0.0.1",
	    [DHCP_OT_IPS] = "10.0.0.1, 10.0.0.2",
	    [DHCP_OT_IP_PAIRS] = "10.0.0.0 255.0.0.0",
	    [DHCP_OT_U8] = "64",
	    [DHCP_OT_U16] = "1500",
	    [DHCP_OT_U32] = "86400",
	    [DHCP_OT_I32] = "-3600",
	    [DHCP_OT_U16S] = "1500, 9000",
	    [DHCP_OT_BOOL] = "true",
	    [DHCP_OT_DOMAINS] = "lab.example, example.com",
	    [DHCP_OT_ROUTES] = "10.0.0.0/8 via 10.1.1.1",
	    [DHCP_OT_ARCHES] = "7, 9",
	    [DHCP_OT_UUID] = "01234567-89ab-cdef-0123-456789abcdef",
	};
	return examples[d->type];
}

static void test_every_option(void **state)
{
	for (size_t i = 0; i < dhcp_optdef_count(); i++) {
		const struct dhcp_optdef *d = dhcp_optdef_at(i);
		uint8_t wire[1024];
		char why[DHCP_OPTDEF_WHY_MAX], text[256];
		int n = dhcp_optdef_parse(d, example_of(d), wire, sizeof(wire), why, sizeof(why));

		print_message("%s (%s): '%s' %s\n", d->name, dhcp_opttype_name(d->type),
			      example_of(d), n < 0 ? why : "");
		assert_true(n >= 0);
		assert_true(dhcp_optdef_format(d, wire, (size_t)n, text, sizeof(text)) >= 0);
		assert_string_equal(text, example_of(d));
	}
}

/* ---------------------------------------------------------------------- */
/* Bad values and their reasons                                           */

struct bad_case {
	const char *name, *text, *why;
};

static const struct bad_case bad_cases[] = {
    {"routers", "10.0.0.256", "'10.0.0.256' is not an IPv4 address"},
    {"routers", "", "the value is 0 bytes long; the option needs at least 4"},
    {"routers", "10.0.0.1,", "the list has an empty item"},
    {"routers", ",10.0.0.1", "the list has an empty item"},
    {"routers", "10.0.0.1, , 10.0.0.2", "the list has an empty item"},
    {"routers", "10.0.0.1 10.0.0.2", "'10.0.0.1 10.0.0.2' is not an IPv4 address"},
    {"subnet-mask", "10.0.0.1, 10.0.0.2", "'10.0.0.1, 10.0.0.2' is not an IPv4 address"},
    {"subnet-mask", "", "'' is not an IPv4 address"},
    {"default-ip-ttl", "0", "'0' is out of range (1-255)"},
    {"default-ip-ttl", "256", "'256' is out of range (1-255)"},
    {"default-ip-ttl", "x", "'x' is not a number"},
    {"default-ip-ttl", "-1", "'-1' is not a number"},
    {"default-ip-ttl", "1.5", "'1.5' is not a number"},
    {"default-ip-ttl", "0x10", "'0x10' is not a number"},
    {"interface-mtu", "67", "'67' is out of range (68-65535)"},
    {"max-datagram-reassembly", "575", "'575' is out of range (576-65535)"},
    {"boot-size", "65536", "'65536' is out of range (0-65535)"},
    {"arp-cache-timeout", "4294967296", "'4294967296' is out of range (0-4294967295)"},
    {"time-offset", "2147483648", "'2147483648' is out of range (-2147483648-2147483647)"},
    {"time-offset", "-2147483649", "'-2147483649' is out of range (-2147483648-2147483647)"},
    {"time-offset", "--1", "'--1' is not a number"},
    {"time-offset", "-", "'-' is not a number"},
    {"time-offset", "+1", "'+1' is not a number"},
    {"path-mtu-plateau-table", "1500, 67", "'67' is out of range (68-65535)"},
    {"ip-forwarding", "maybe", "'maybe' is not true or false"},
    {"ip-forwarding", "2", "'2' is not true or false"},
    {"vendor-encapsulated-options", "01:0", "'01:0' is not hex bytes (like 01:02:ff or 0x0102ff)"},
    {"vendor-encapsulated-options", "0x", "'0x' is not hex bytes (like 01:02:ff or 0x0102ff)"},
    {"vendor-encapsulated-options", "0x123",
     "'0x123' is not hex bytes (like 01:02:ff or 0x0102ff)"},
    {"vendor-encapsulated-options", "01::02",
     "'01::02' is not hex bytes (like 01:02:ff or 0x0102ff)"},
    {"vendor-encapsulated-options", "01:", "'01:' is not hex bytes (like 01:02:ff or 0x0102ff)"},
    {"vendor-encapsulated-options", "zz", "'zz' is not hex bytes (like 01:02:ff or 0x0102ff)"},
    {"vendor-encapsulated-options", "0102", "'0102' is not hex bytes (like 01:02:ff or 0x0102ff)"},
    {"vendor-encapsulated-options", "", "'' is not hex bytes (like 01:02:ff or 0x0102ff)"},
    {"client-ndi", "01:02", "the value is 2 bytes long; the option needs at least 3"},
    {"host-name", "", "the value is 0 bytes long; the option needs at least 1"},
    {"domain-search", "a..example", "'a..example' is not a domain name"},
    {"domain-search", ".", "'.' is not a domain name"},
    {"domain-search", "a!b.example", "'a!b.example' is not a domain name"},
    {"domain-search", "x.example,", "the list has an empty item"},
    {"domain-search", "", "the value is 0 bytes long; the option needs at least 2"},
    {"domain-search", "a234567890123456789012345678901234567890123456789012345678901234.example",
     "'a23456789012345678901234567890123456789012345678901234567890' is not a domain "
     "name"},
    {"classless-static-routes", "10.0.0.0/8",
     "'10.0.0.0/8' is not a route (like 10.0.0.0/8 via "
     "10.1.1.1)"},
    {"classless-static-routes", "10.0.0.1/8 via 10.1.1.1",
     "'10.0.0.1/8 via 10.1.1.1' has host bits set in its destination"},
    {"classless-static-routes", "10.0.0.0/33 via 10.1.1.1",
     "'10.0.0.0/33 via 10.1.1.1' is not a route (like 10.0.0.0/8 via 10.1.1.1)"},
    {"classless-static-routes", "10.0.0.0/8 via",
     "'10.0.0.0/8 via' is not a route (like 10.0.0.0/8 via 10.1.1.1)"},
    {"classless-static-routes", "10.0.0.0/8 via 10.1.1.1 x",
     "'10.0.0.0/8 via 10.1.1.1 x' is not a route (like 10.0.0.0/8 via 10.1.1.1)"},
    {"classless-static-routes", "10.0.0.0/8 via 10.1.1", "'10.1.1' is not an IPv4 address"},
    {"classless-static-routes", "10.0.0.0 via 10.1.1.1",
     "'10.0.0.0 via 10.1.1.1' is not a route (like 10.0.0.0/8 via 10.1.1.1)"},
    {"classless-static-routes", "10.0.0.0/8 via 100000000000000000000000000000000000000",
     "'10.0.0.0/8 via 100000000000000000000000000000000000000' is not a route (like "
     "10.0.0.0/8 via 10.1.1.1)"},
    {"client-arch", "65536", "'65536' is out of range (0-65535)"},
    {"client-arch", "7,", "the list has an empty item"},
    {"uuid", "0123", "'0123' is not a UUID (like 01234567-89ab-cdef-0123-456789abcdef)"},
    {"uuid", "0123456-789ab-cdef-0123-456789abcdef",
     "'0123456-789ab-cdef-0123-456789abcdef' is not a UUID (like "
     "01234567-89ab-cdef-0123-456789abcdef)"},
    {"uuid", "0123456789abcdef0123456789abcdef00",
     "'0123456789abcdef0123456789abcdef00' is not a UUID (like "
     "01234567-89ab-cdef-0123-456789abcdef)"},
    {"policy-filter", "10.0.0.0", "'10.0.0.0' is not two addresses (like 10.0.0.0 255.0.0.0)"},
    {"policy-filter", "10.0.0.0 255.0.0.0 1.2.3.4",
     "'10.0.0.0 255.0.0.0 1.2.3.4' is not two addresses (like 10.0.0.0 255.0.0.0)"},
    {"policy-filter", "10.0.0.0 255.0.0", "'255.0.0' is not an IPv4 address"},
    {"224", "0x1", "'0x1' is not hex bytes (like 01:02:ff or 0x0102ff)"},
    {"224", "aa:bb:c", "'aa:bb:c' is not hex bytes (like 01:02:ff or 0x0102ff)"},
};

static void test_bad_values(void **state)
{
	for (size_t i = 0; i < PXED_ARRAY_LEN(bad_cases); i++) {
		const struct bad_case *t = &bad_cases[i];
		uint8_t wire[1024];
		char why[DHCP_OPTDEF_WHY_MAX];

		print_message("%s: '%s'\n", t->name, t->text);
		assert_int_equal(dhcp_optdef_parse(def_named(t->name), t->text, wire, sizeof(wire),
						   why, sizeof(why)),
				 -EINVAL);
		assert_string_equal(why, t->why);
	}
}

/* Values longer than their option or the caller's buffer. */
static void test_too_long(void **state)
{
	char text[4096], why[DHCP_OPTDEF_WHY_MAX];
	uint8_t wire[1024];
	size_t n = 0;

	for (int i = 0; i < 64; i++)
		n += (size_t)sprintf(text + n, "%s10.0.0.%d", i ? ", " : "", i + 1);
	assert_int_equal(
	    dhcp_optdef_parse(def_named("routers"), text, wire, sizeof(wire), why, sizeof(why)),
	    -EINVAL);
	assert_string_equal(why, "the value is 256 bytes long; the option takes at most 252");

	memset(text, 'x', 256);
	text[256] = '\0';
	assert_int_equal(
	    dhcp_optdef_parse(def_named("host-name"), text, wire, sizeof(wire), why, sizeof(why)),
	    -EINVAL);
	assert_string_equal(why, "the value is 256 bytes long; the option takes at most 255");

	n = 0;
	for (int i = 0; i < 256; i++)
		n += (size_t)sprintf(text + n, "%s%02x", i ? ":" : "", i);
	assert_int_equal(dhcp_optdef_parse(def_named("vendor-encapsulated-options"), text, wire,
					   sizeof(wire), why, sizeof(why)),
			 -EINVAL);
	assert_string_equal(why, "the value is 256 bytes long; the option takes at most 255");

	/* The caller's buffer is a cap too. */
	assert_int_equal(dhcp_optdef_parse(def_named("routers"), "10.0.0.1, 10.0.0.2", wire, 4, why,
					   sizeof(why)),
			 -EINVAL);
	assert_string_equal(why, "the value is too long (at most 4 bytes)");

	/* One item past the item limit. */
	memset(text, 'a', 400);
	text[400] = '\0';
	assert_int_equal(dhcp_optdef_parse(def_named("domain-search"), text, wire, sizeof(wire),
					   why, sizeof(why)),
			 -EINVAL);
	assert_string_equal(why, "an item is longer than 300 characters");
	assert_int_equal(dhcp_optdef_parse(def_named("interface-mtu"), text, wire, sizeof(wire),
					   why, sizeof(why)),
			 -EINVAL);
	assert_string_equal(why, "the value is longer than 300 characters");

	/* A domain list over 255 bytes is fine: RFC 3396 splits it. */
	n = 0;
	for (int i = 0; i < 30; i++)
		n += (size_t)sprintf(text + n, "%shost%02d.example.com", i ? ", " : "", i);
	assert_int_equal(dhcp_optdef_parse(def_named("domain-search"), text, wire, sizeof(wire),
					   why, sizeof(why)),
			 30 * 20); /* "\x06host00\x07example\x03com\0" */
	/* And a why buffer of 0 bytes is never written. */
	assert_int_equal(dhcp_optdef_parse(def_named("routers"), "x", wire, sizeof(wire), NULL, 0),
			 -EINVAL);
}

static void test_opaque(void **state)
{
	uint8_t out[255];
	char why[DHCP_OPTDEF_WHY_MAX];

	assert_int_equal(
	    dhcp_optdef_parse_opaque("01:52:54:00:aa:00:01", out, sizeof(out), why, sizeof(why)),
	    7);
	assert_memory_equal(out, "\x01\x52\x54\x00\xaa\x00\x01", 7);
	assert_int_equal(dhcp_optdef_parse_opaque("node-1", out, sizeof(out), why, sizeof(why)), 6);
	assert_memory_equal(out, "node-1", 6);
	assert_int_equal(dhcp_optdef_parse_opaque("0xffff", out, sizeof(out), why, sizeof(why)), 2);
	assert_int_equal(dhcp_optdef_parse_opaque("01:52:5", out, sizeof(out), why, sizeof(why)),
			 -EINVAL);
	assert_string_equal(why, "'01:52:5' is not hex bytes (like 01:02:ff or 0x0102ff)");
	assert_int_equal(dhcp_optdef_parse_opaque("abc", out, 2, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "the value is too long (at most 2 bytes)");
}

/* ---------------------------------------------------------------------- */
/* Wire -> text for logs: peer data                                       */

static void expect_format(const char *name, const void *v, size_t len, int rc, const char *want)
{
	char out[256];

	print_message("format %s (%zu bytes)\n", name, len);
	assert_int_equal(dhcp_optdef_format(def_named(name), v, len, out, sizeof(out)), rc);
	assert_string_equal(out, want);
}

static void test_format_peer(void **state)
{
	/* Peer strings are escaped; the quote and backslash too. */
	expect_format("vendor-class-identifier", "ab\"c\\\x01\xff", 7, 19,
		      "ab\\x22c\\x5c\\x01\\xff");
	expect_format("host-name", "node\n1", 6, 9, "node\\x0a1");
	/* Values their type cannot hold fall back to hex. */
	expect_format("ip-forwarding", "\x05", 1, -EINVAL, "05");
	expect_format("routers", "\x0a\x00\x01", 3, -EINVAL, "0a:00:01");
	expect_format("routers", "", 0, -EINVAL, "");
	expect_format("uuid",
		      "\x01\x01\x23\x45\x67\x89\xab\xcd\xef\x01\x23\x45\x67\x89\xab\xcd\xef", 17,
		      -EINVAL, "01:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef");
	expect_format("classless-static-routes", "\x21\x0a\x00\x00\x00\x0a\x00\x00\x01", 9, -EINVAL,
		      "21:0a:00:00:00:0a:00:00:01");
	expect_format("client-arch", "\x00\x07\x00\x0b", 4, 5, "7, 11");
	expect_format("224", "\x01\xff", 2, 5, "01:ff");
	/* Domain lists with compression pointers (RFC 1035 §4.1.4). */
	expect_format("domain-search",
		      "\x03lab\x07"
		      "example\x00\x03"
		      "dev\xc0\x04",
		      19, 24, "lab.example, dev.example");
	expect_format("domain-search", "\x01\x80\x00", 3, 4, "\\x80");
	/* Forward pointers, self pointers and loops are refused. */
	expect_format("domain-search", "\xc0\x00", 2, -EINVAL, "c0:00");
	expect_format("domain-search", "\x01x\xc0\x05\x00\x00", 6, -EINVAL, "01:78:c0:05:00:00");
	expect_format("domain-search", "\x01x\x00\x01y\xc0\x03", 7, -EINVAL,
		      "01:78:00:01:79:c0:03");
	/* Label types 01 and 10 are not defined. */
	expect_format("domain-search", "\x41x\x00", 3, -EINVAL, "41:78:00");
}

/* A name made of labels that point back at themselves must stop. */
static void test_format_pointer_loop(void **state)
{
	uint8_t v[200];
	char out[1024];
	size_t n = 0;

	/* "a" then a pointer to 0: following it reads "a" again, forever. */
	v[n++] = 1, v[n++] = 'a', v[n++] = 0xc0, v[n++] = 0;
	assert_int_equal(dhcp_optdef_format(def_named("domain-search"), v, n, out, sizeof(out)),
			 -EINVAL);
	/* Each pointer points at the one before it: the 65th hop is refused. */
	n = 0;
	v[n++] = 0;
	for (int i = 0; i < 80; i++, n += 2) {
		v[n] = 0xc0;
		v[n + 1] = (uint8_t)(i == 0 ? 0 : n - 2);
	}
	/* 65 root names "." (the last after 64 hops), joined by ", " */
	assert_int_equal(
	    dhcp_optdef_format(def_named("domain-search"), v, 2 * 64 + 1, out, sizeof(out)),
	    65 + 64 * 2);
	assert_int_equal(dhcp_optdef_format(def_named("domain-search"), v, n, out, sizeof(out)),
			 -EINVAL);
}

/* Every truncated prefix of a valid list is refused (or is a shorter valid list). */
static void test_format_prefixes(void **state)
{
	static const struct {
		const char *name;
		const char *wire;
		size_t len;
		size_t ok[4]; /* prefix lengths that are whole values; 0 ends */
	} cases[] = {
	    {"classless-static-routes",
	     "\x08\x0a\x0a\x01\x01\x01\x00\x0a\x01\x01\xfe",
	     11,
	     {6, 11}},
	    {"domain-search",
	     "\x03lab\x07"
	     "example\x00\x03"
	     "dev\xc0\x04",
	     19,
	     {13, 19}},
	    {"uuid",
	     "\x00\x01\x23\x45\x67\x89\xab\xcd\xef\x01\x23\x45\x67\x89\xab\xcd\xef",
	     17,
	     {17}},
	    {"routers", "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8, {4, 8}},
	};
	char out[256];

	for (size_t i = 0; i < PXED_ARRAY_LEN(cases); i++) {
		for (size_t len = 1; len <= cases[i].len; len++) {
			bool whole = false;
			int rc;
			for (size_t k = 0; k < 4 && cases[i].ok[k] != 0; k++)
				whole = whole || cases[i].ok[k] == len;
			rc = dhcp_optdef_format(def_named(cases[i].name),
						(const uint8_t *)cases[i].wire, len, out,
						sizeof(out));
			print_message("%s prefix %zu: %d '%s'\n", cases[i].name, len, rc, out);
			assert_int_equal(rc >= 0, whole);
		}
	}
}

static void test_format_truncation(void **state)
{
	const uint8_t v[8] = {10, 0, 0, 1, 10, 0, 0, 2};
	char out[10];

	assert_int_equal(dhcp_optdef_format(def_named("routers"), v, 8, out, sizeof(out)), -ENOSPC);
	assert_string_equal(out, "10.0.0.1,");
	assert_int_equal(dhcp_optdef_format(def_named("routers"), v, 8, out, 0), -ENOSPC);
	assert_int_equal(dhcp_optdef_format(def_named("routers"), v, 4, out, 9), 8);
	assert_string_equal(out, "10.0.0.1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_coverage),
	    cmocka_unit_test(test_lookup),
	    cmocka_unit_test(test_len_rules),
	    cmocka_unit_test(test_round_trips),
	    cmocka_unit_test(test_every_option),
	    cmocka_unit_test(test_bad_values),
	    cmocka_unit_test(test_too_long),
	    cmocka_unit_test(test_opaque),
	    cmocka_unit_test(test_format_peer),
	    cmocka_unit_test(test_format_pointer_loop),
	    cmocka_unit_test(test_format_prefixes),
	    cmocka_unit_test(test_format_truncation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
