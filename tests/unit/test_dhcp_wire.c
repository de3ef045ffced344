/* DHCPv4 codec: byte-vector tables, truncation, bad inputs, building replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dhcp/wire.h"

/* A test packet: the fixed header, the cookie, then the given option bytes. */
static size_t pkt(uint8_t *buf, uint8_t hlen, const uint8_t *opts, size_t n)
{
	memset(buf, 0, DHCP_MIN_LEN);
	buf[0] = DHCP_BOOTREQUEST;
	buf[1] = 1;
	buf[2] = hlen;
	buf[4] = 0xde, buf[5] = 0xad, buf[6] = 0xbe, buf[7] = 0xef; /* xid */
	const uint8_t mac[6] = {0x52, 0x54, 0x00, 0xaa, 0x00, 0x01};
	memcpy(buf + 28, mac, 6);
	buf[236] = 0x63, buf[237] = 0x82, buf[238] = 0x53, buf[239] = 0x63;
	memcpy(buf + DHCP_MIN_LEN, opts, n);
	return DHCP_MIN_LEN + n;
}

/* Shaped like the DISCOVER of QEMU's iPXE ROM: type, max size, 93, 94, 60, 77, 175. */
static const uint8_t ipxe_discover_opts[] = {
    53,	 1,   1,   57,	2,   0x05, 0xc0, 93,   2,   0,	 0,   94,  3,	1,   2,	  1,   60,
    32,	 'P', 'X', 'E', 'C', 'l',  'i',	 'e',  'n', 't', ':', 'A', 'r', 'c', 'h', ':', '0',
    '0', '0', '0', '0', ':', 'U',  'N',	 'D',  'I', ':', '0', '0', '2', '0', '0', '1', 77,
    4,	 'i', 'P', 'X', 'E', 175,  3,	 0x13, 1,   1,	 55,  4,   1,	3,   6,	  67,  255};

static void test_decode_ipxe_discover(void **state)
{
	uint8_t buf[DHCP_MAX_LEN];
	struct dhcp_msg m;
	size_t n = pkt(buf, 6, ipxe_discover_opts, sizeof(ipxe_discover_opts));
	size_t l;
	uint16_t v;

	assert_int_equal(dhcp_decode(buf, n, &m), DHCP_OK);
	assert_int_equal(dhcp_msg_type(&m), DHCPDISCOVER);
	assert_int_equal(m.xid, 0xdeadbeef);
	assert_int_equal(m.chaddr[5], 0x01);
	assert_true(dhcp_opt_u16(&m, DHCP_OPT_MAX_SIZE, &v));
	assert_int_equal(v, 1472);
	const uint8_t *vc = dhcp_opt(&m, DHCP_OPT_VENDOR_CLASS, &l);
	assert_int_equal(l, 32);
	assert_memory_equal(vc, "PXEClient:Arch:00000", 20);
	assert_non_null(dhcp_opt(&m, DHCP_OPT_IPXE, &l));
	assert_int_equal(l, 3);
	assert_null(dhcp_opt(&m, DHCP_OPT_HOSTNAME, NULL));
}

static void test_every_truncated_prefix_rejected(void **state)
{
	uint8_t buf[DHCP_MAX_LEN];
	struct dhcp_msg m;
	size_t n = pkt(buf, 6, ipxe_discover_opts, sizeof(ipxe_discover_opts));
	for (size_t i = 0; i < n; i++)
		assert_int_not_equal(dhcp_decode(buf, i, &m), DHCP_OK);
	assert_int_equal(dhcp_decode(buf, n, &m), DHCP_OK);
}

/* Bad inputs that real servers got wrong (shared/PXE-NOTES.md). */
struct bad_case {
	const char *name;
	uint8_t hlen;
	uint8_t opts[64];
	size_t n;
	enum dhcp_decode_err want;
};

static const struct bad_case bad_cases[] = {
    {"no END", 6, {53, 1, 1}, 3, DHCP_ERR_NO_END},
    {"option runs past the packet", 6, {53, 1, 1, 61, 20, 1, 2}, 7, DHCP_ERR_OPTION},
    {"length byte missing", 6, {53, 1, 1, 61}, 4, DHCP_ERR_OPTION},
    {"hlen 17", 17, {53, 1, 1, 255}, 4, DHCP_ERR_HLEN},
    {"two message types", 6, {53, 1, 1, 53, 1, 3, 255}, 7, DHCP_ERR_OPTION_LEN},
    {"zero-length message type", 6, {53, 0, 255}, 3, DHCP_ERR_OPTION_LEN},
    {"message type 0", 6, {53, 1, 0, 255}, 4, DHCP_ERR_NO_TYPE},
    {"message type 9", 6, {53, 1, 9, 255}, 4, DHCP_ERR_NO_TYPE},
    {"no message type", 6, {61, 2, 1, 2, 255}, 5, DHCP_ERR_NO_TYPE},
    {"requested ip of 3 bytes", 6, {53, 1, 3, 50, 3, 1, 2, 3, 255}, 9, DHCP_ERR_OPTION_LEN},
    {"overload value 4", 6, {53, 1, 1, 52, 1, 4, 255}, 7, DHCP_ERR_OPTION_LEN},
    {"odd-length architecture", 6, {53, 1, 1, 93, 3, 0, 0, 7, 255}, 9, DHCP_ERR_OPTION_LEN},
    {"client id of 1 byte", 6, {53, 1, 1, 61, 1, 1, 255}, 7, DHCP_ERR_OPTION_LEN},
};

static void test_bad_inputs(void **state)
{
	uint8_t buf[DHCP_MAX_LEN + 8];
	struct dhcp_msg m;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		size_t n = pkt(buf, c->hlen, c->opts, c->n);
		enum dhcp_decode_err got = dhcp_decode(buf, n, &m);
		if (got != c->want)
			fail_msg("%s: got %s, want %s", c->name, dhcp_decode_strerror(got),
				 dhcp_decode_strerror(c->want));
	}
}

static void test_sizes(void **state)
{
	uint8_t buf[DHCP_MAX_LEN + 8] = {0};
	struct dhcp_msg m;
	assert_int_equal(dhcp_decode(buf, 0, &m), DHCP_ERR_SHORT);
	assert_int_equal(dhcp_decode(buf, 239, &m), DHCP_ERR_SHORT);
	assert_int_equal(dhcp_decode(buf, DHCP_MAX_LEN + 1, &m), DHCP_ERR_TOO_LONG);
	/* Garbage of the right size has no cookie. */
	memset(buf, 0xa5, 300);
	assert_int_equal(dhcp_decode(buf, 300, &m), DHCP_ERR_MAGIC);
}

static void test_long_client_id_and_concatenation(void **state)
{
	/* A 255-byte client id, and option 77 split in two (RFC 3396). */
	uint8_t opts[600], buf[DHCP_MAX_LEN];
	size_t o = 0;
	struct dhcp_msg m;
	size_t l;
	opts[o++] = 53, opts[o++] = 1, opts[o++] = 1;
	opts[o++] = 61, opts[o++] = 255;
	memset(opts + o, 'x', 255);
	o += 255;
	opts[o++] = 77, opts[o++] = 2, opts[o++] = 'i', opts[o++] = 'P';
	opts[o++] = 0; /* pad between the two parts */
	opts[o++] = 77, opts[o++] = 2, opts[o++] = 'X', opts[o++] = 'E';
	opts[o++] = 255;
	size_t n = pkt(buf, 6, opts, o);
	assert_int_equal(dhcp_decode(buf, n, &m), DHCP_OK);
	assert_non_null(dhcp_opt(&m, DHCP_OPT_CLIENT_ID, &l));
	assert_int_equal(l, 255);
	const uint8_t *uc = dhcp_opt(&m, DHCP_OPT_USER_CLASS, &l);
	assert_int_equal(l, 4);
	assert_memory_equal(uc, "iPXE", 4);
}

static void test_overload_into_file(void **state)
{
	const uint8_t opts[] = {53, 1, 1, 52, 1, 1, 255};
	uint8_t buf[DHCP_MAX_LEN];
	struct dhcp_msg m;
	size_t l;
	size_t n = pkt(buf, 6, opts, sizeof(opts));
	/* The file field (offset 108) now carries option 12 "pxe". */
	const uint8_t in_file[] = {12, 3, 'p', 'x', 'e', 255};
	memcpy(buf + 108, in_file, sizeof(in_file));
	assert_int_equal(dhcp_decode(buf, n, &m), DHCP_OK);
	assert_true(m.overload_file);
	const uint8_t *h = dhcp_opt(&m, DHCP_OPT_HOSTNAME, &l);
	assert_non_null(h);
	assert_int_equal(l, 3);
	/* An option in file that runs past its 128 bytes is malformed. */
	buf[108 + 127] = 12;
	memset(buf + 108, 0, 127);
	assert_int_equal(dhcp_decode(buf, n, &m), DHCP_ERR_OPTION);
}

static void test_build_reply(void **state)
{
	uint8_t chaddr[16] = {0x52, 0x54, 0, 0xaa, 0, 1};
	struct dhcp_reply_hdr h = {.op = DHCP_BOOTREPLY,
				   .htype = 1,
				   .hlen = 6,
				   .xid = 42,
				   .yiaddr = 0x0a4d0064,
				   .siaddr = 0x0a4d0001,
				   .chaddr = chaddr,
				   .file = "snponly.efi"};
	uint8_t out[DHCP_MAX_LEN], big[300];
	struct dhcp_builder b;
	struct dhcp_msg m;
	size_t l;

	memset(big, 'a', sizeof(big));
	dhcp_build_start(&b, out, sizeof(out), &h);
	dhcp_build_opt_u8(&b, DHCP_OPT_MSG_TYPE, DHCPOFFER);
	dhcp_build_opt_ip(&b, DHCP_OPT_SERVER_ID, 0x0a4d0001);
	int n = dhcp_build_finish(&b);
	/* Short replies are padded to 300 bytes for old relays and ROMs. */
	assert_int_equal(n, DHCP_MIN_REPLY_LEN);
	out[0] = DHCP_BOOTREQUEST; /* decode it back as if it were a request */
	assert_int_equal(dhcp_decode(out, (size_t)n, &m), DHCP_OK);
	assert_int_equal(m.yiaddr, 0x0a4d0064);
	assert_string_equal((const char *)m.file, "snponly.efi");

	/* A 300-byte option is split in two and reassembled by the decoder. */
	dhcp_build_start(&b, out, sizeof(out), &h);
	dhcp_build_opt_u8(&b, DHCP_OPT_MSG_TYPE, DHCPOFFER);
	dhcp_build_opt(&b, DHCP_OPT_VENDOR, big, sizeof(big));
	n = dhcp_build_finish(&b);
	assert_true(n > 0);
	assert_int_equal(dhcp_decode(out, (size_t)n, &m), DHCP_OK);
	assert_non_null(dhcp_opt(&m, DHCP_OPT_VENDOR, &l));
	assert_int_equal(l, 300);

	/* Overflowing the caller's buffer is reported, never written past. */
	dhcp_build_start(&b, out, 250, &h);
	dhcp_build_opt(&b, DHCP_OPT_VENDOR, big, 100);
	assert_int_equal(dhcp_build_finish(&b), -28 /* -ENOSPC */);
	/* A file name that does not fit the 128-byte field is refused. */
	char longname[200];
	memset(longname, 'f', sizeof(longname) - 1);
	longname[199] = 0;
	h.file = longname;
	dhcp_build_start(&b, out, sizeof(out), &h);
	assert_true(dhcp_build_finish(&b) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode_ipxe_discover),
	    cmocka_unit_test(test_every_truncated_prefix_rejected),
	    cmocka_unit_test(test_bad_inputs),
	    cmocka_unit_test(test_sizes),
	    cmocka_unit_test(test_long_client_id_and_concatenation),
	    cmocka_unit_test(test_overload_into_file),
	    cmocka_unit_test(test_build_reply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
