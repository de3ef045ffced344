/* The TFTP codec: tables of byte vectors, truncation loops, encoders. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tftp/wire.h"

#define BLK (1u << TFTP_OPT_BLKSIZE)
#define TSZ (1u << TFTP_OPT_TSIZE)
#define TMO (1u << TFTP_OPT_TIMEOUT)
#define WIN (1u << TFTP_OPT_WINDOWSIZE)

struct req_case {
	const char *what;
	const uint8_t *pkt;
	size_t len;
	int rc;		      /* expected return */
	uint16_t err_code;    /* when rc < 0 */
	uint16_t opcode;      /* when rc == 0 */
	const char *filename; /* when rc == 0 */
	enum tftp_mode mode;
	unsigned present;
	uint64_t val[TFTP_OPT_COUNT];
};

/* Designated initialisers: every field a case leaves out is zero. */
#define PKT(s) .pkt = (const uint8_t *)(s), .len = sizeof(s) - 1
#define REJECT(w, s, r, code)                                                                      \
	{                                                                                          \
		.what = (w), PKT(s), .rc = (r), .err_code = (code)                                 \
	}
#define ACCEPT(w, s, op, name, m)                                                                  \
	{                                                                                          \
		.what = (w), PKT(s), .opcode = (op), .filename = (name), .mode = (m)               \
	}
#define ACCEPT_OPTS(w, s, name, opts, ...)                                                         \
	{                                                                                          \
		.what = (w), PKT(s), .opcode = TFTP_RRQ, .filename = (name),                       \
		.mode = TFTP_MODE_OCTET, .present = (opts),                                        \
		.val = { __VA_ARGS__ }                                                             \
	}

static const struct req_case req_cases[] = {
    ACCEPT("plain octet", "\0\1pxelinux.0\0octet\0", TFTP_RRQ, "pxelinux.0", TFTP_MODE_OCTET),
    ACCEPT("netascii", "\0\1a.txt\0netascii\0", TFTP_RRQ, "a.txt", TFTP_MODE_NETASCII),
    ACCEPT("upper case mode", "\0\1a\0OCTET\0", TFTP_RRQ, "a", TFTP_MODE_OCTET),
    ACCEPT("mixed case mode", "\0\1a\0NetAscii\0", TFTP_RRQ, "a", TFTP_MODE_NETASCII),
    REJECT("mail mode", "\0\1a\0mail\0", -EPROTONOSUPPORT, TFTP_ERR_BADOP),
    REJECT("unknown mode", "\0\1a\0binary\0", -EPROTONOSUPPORT, TFTP_ERR_BADOP),
    ACCEPT("0xFF padding", "\0\1undionly.kpxe\0octet\0\xff\xff\xff\xff", TFTP_RRQ, "undionly.kpxe",
	   TFTP_MODE_OCTET),
    ACCEPT("NUL padding", "\0\1undionly.kpxe\0octet\0\0\0\0\0\0", TFTP_RRQ, "undionly.kpxe",
	   TFTP_MODE_OCTET),
    ACCEPT("mixed padding", "\0\1f\0octet\0\xff\0\xff\0", TFTP_RRQ, "f", TFTP_MODE_OCTET),
    ACCEPT_OPTS("padding after options",
		"\0\1f\0octet\0blksize\0"
		"1468\0\xff\xff",
		"f", BLK, [TFTP_OPT_BLKSIZE] = 1468),
    REJECT("mode without NUL, padded", "\0\1f\0octet\xff\xff", -EBADMSG, TFTP_ERR_BADOP),
    ACCEPT("WRQ", "\0\2upload\0octet\0", TFTP_WRQ, "upload", TFTP_MODE_OCTET),
    ACCEPT_OPTS("blksize and tsize",
		"\0\1f\0octet\0blksize\0"
		"1468\0tsize\0"
		"0\0",
		"f", BLK | TSZ, [TFTP_OPT_BLKSIZE] = 1468, [TFTP_OPT_TSIZE] = 0),
    ACCEPT_OPTS("every option, any case",
		"\0\1f\0octet\0BLKSIZE\0"
		"8\0TSize\0"
		"99\0Timeout\0"
		"255\0WINDOWSIZE\0"
		"65535\0",
		"f", BLK | TSZ | TMO | WIN, [TFTP_OPT_BLKSIZE] = 8, [TFTP_OPT_TSIZE] = 99,
		[TFTP_OPT_TIMEOUT] = 255, [TFTP_OPT_WINDOWSIZE] = 65535),
    REJECT("blksize 7",
	   "\0\1f\0octet\0blksize\0"
	   "7\0",
	   -ERANGE, TFTP_ERR_OPTNEG),
    ACCEPT_OPTS("blksize 8",
		"\0\1f\0octet\0blksize\0"
		"8\0",
		"f", BLK, [TFTP_OPT_BLKSIZE] = 8),
    ACCEPT_OPTS("blksize 65464",
		"\0\1f\0octet\0blksize\0"
		"65464\0",
		"f", BLK, [TFTP_OPT_BLKSIZE] = 65464),
    REJECT("blksize 65465",
	   "\0\1f\0octet\0blksize\0"
	   "65465\0",
	   -ERANGE, TFTP_ERR_OPTNEG),
    REJECT("blksize 0",
	   "\0\1f\0octet\0blksize\0"
	   "0\0",
	   -ERANGE, TFTP_ERR_OPTNEG),
    REJECT("blksize huge",
	   "\0\1f\0octet\0blksize\0"
	   "99999999999999999999999\0",
	   -ERANGE, TFTP_ERR_OPTNEG),
    REJECT("blksize not a number",
	   "\0\1f\0octet\0blksize\0"
	   "abc\0",
	   -ERANGE, TFTP_ERR_OPTNEG),
    REJECT("blksize negative",
	   "\0\1f\0octet\0blksize\0"
	   "-512\0",
	   -ERANGE, TFTP_ERR_OPTNEG),
    REJECT("blksize with plus",
	   "\0\1f\0octet\0blksize\0"
	   "+512\0",
	   -ERANGE, TFTP_ERR_OPTNEG),
    REJECT("blksize with space",
	   "\0\1f\0octet\0blksize\0"
	   " 512\0",
	   -ERANGE, TFTP_ERR_OPTNEG),
    REJECT("blksize trailing junk",
	   "\0\1f\0octet\0blksize\0"
	   "512x\0",
	   -ERANGE, TFTP_ERR_OPTNEG),
    REJECT("blksize empty", "\0\1f\0octet\0blksize\0\0", -ERANGE, TFTP_ERR_OPTNEG),
    REJECT("windowsize 0",
	   "\0\1f\0octet\0windowsize\0"
	   "0\0",
	   -ERANGE, TFTP_ERR_OPTNEG),
    ACCEPT_OPTS("windowsize 1",
		"\0\1f\0octet\0windowsize\0"
		"1\0",
		"f", WIN, [TFTP_OPT_WINDOWSIZE] = 1),
    REJECT("windowsize 65536",
	   "\0\1f\0octet\0windowsize\0"
	   "65536\0",
	   -ERANGE, TFTP_ERR_OPTNEG),
    REJECT("timeout 0",
	   "\0\1f\0octet\0timeout\0"
	   "0\0",
	   -ERANGE, TFTP_ERR_OPTNEG),
    ACCEPT_OPTS("timeout 1",
		"\0\1f\0octet\0timeout\0"
		"1\0",
		"f", TMO, [TFTP_OPT_TIMEOUT] = 1),
    REJECT("timeout 256",
	   "\0\1f\0octet\0timeout\0"
	   "256\0",
	   -ERANGE, TFTP_ERR_OPTNEG),
    ACCEPT_OPTS("tsize max",
		"\0\1f\0octet\0tsize\0"
		"18446744073709551615\0",
		"f", TSZ, [TFTP_OPT_TSIZE] = UINT64_MAX),
    REJECT("tsize past max",
	   "\0\1f\0octet\0tsize\0"
	   "18446744073709551616\0",
	   -ERANGE, TFTP_ERR_OPTNEG),
    REJECT("duplicate blksize",
	   "\0\1f\0octet\0blksize\0"
	   "512\0blksize\0"
	   "1024\0",
	   -ERANGE, TFTP_ERR_OPTNEG),
    REJECT("duplicate in other case",
	   "\0\1f\0octet\0tsize\0"
	   "0\0TSIZE\0"
	   "0\0",
	   -ERANGE, TFTP_ERR_OPTNEG),
    ACCEPT_OPTS("unknown options ignored",
		"\0\1f\0octet\0rollover\0"
		"0\0blksize\0"
		"512\0rollover\0"
		"1\0",
		"f", BLK, [TFTP_OPT_BLKSIZE] = 512),
    ACCEPT("blksizex is not blksize",
	   "\0\1f\0octet\0blksizex\0"
	   "7\0",
	   TFTP_RRQ, "f", TFTP_MODE_OCTET),
    REJECT("option name without NUL", "\0\1f\0octet\0blksize", -EBADMSG, TFTP_ERR_BADOP),
    REJECT("option value without NUL",
	   "\0\1f\0octet\0blksize\0"
	   "512",
	   -EBADMSG, TFTP_ERR_BADOP),
    REJECT("missing mode", "\0\1file\0", -EBADMSG, TFTP_ERR_BADOP),
    REJECT("empty mode", "\0\1file\0\0", -EBADMSG, TFTP_ERR_BADOP),
    REJECT("mode without NUL", "\0\1file\0octet", -EBADMSG, TFTP_ERR_BADOP),
    REJECT("file name without NUL", "\0\1file", -EBADMSG, TFTP_ERR_BADOP),
    REJECT("empty file name", "\0\1\0octet\0", -EBADMSG, TFTP_ERR_BADOP),
    REJECT("embedded NUL in name", "\0\1pxe\0linux.0\0octet\0", -EPROTONOSUPPORT, TFTP_ERR_BADOP),
    ACCEPT("0xFF inside name is kept",
	   "\0\1a\xff"
	   "b\0octet\0",
	   TFTP_RRQ,
	   "a\xff"
	   "b",
	   TFTP_MODE_OCTET),
    REJECT("only padding", "\0\1\xff\xff\xff\xff", -EBADMSG, TFTP_ERR_BADOP),
    REJECT("only NULs", "\0\1\0\0\0\0", -EBADMSG, TFTP_ERR_BADOP),
    REJECT("empty", "", -EBADMSG, TFTP_ERR_BADOP),
    REJECT("one byte", "\0", -EBADMSG, TFTP_ERR_BADOP),
    REJECT("opcode only", "\0\1", -EBADMSG, TFTP_ERR_BADOP),
    REJECT("three bytes", "\0\1a", -EBADMSG, TFTP_ERR_BADOP),
    REJECT("opcode 0", "\0\0f\0octet\0", -EBADMSG, TFTP_ERR_BADOP),
    REJECT("opcode DATA", "\0\3f\0octet\0", -EBADMSG, TFTP_ERR_BADOP),
    REJECT("opcode ACK", "\0\4\0\1", -EBADMSG, TFTP_ERR_BADOP),
    REJECT("opcode 7", "\0\7f\0octet\0", -EBADMSG, TFTP_ERR_BADOP),
    REJECT("opcode 0x0101", "\1\1f\0octet\0", -EBADMSG, TFTP_ERR_BADOP),
    REJECT("opcode 0xffff",
	   "\xff\xff"
	   "f\0octet\0",
	   -EBADMSG, TFTP_ERR_BADOP),
};

static void test_decode_req_table(void **state)
{
	for (size_t i = 0; i < sizeof(req_cases) / sizeof(req_cases[0]); i++) {
		const struct req_case *c = &req_cases[i];
		struct tftp_req r;
		int rc = tftp_decode_req(c->pkt, c->len, &r);

		print_message("case: %s\n", c->what);
		assert_int_equal(rc, c->rc);
		if (rc < 0) {
			assert_int_equal(r.err_code, c->err_code);
			assert_non_null(r.err_msg);
			continue;
		}
		assert_int_equal(r.opcode, c->opcode);
		assert_string_equal(r.filename, c->filename);
		assert_int_equal(r.filename_len, strlen(c->filename));
		assert_int_equal(r.mode, c->mode);
		assert_int_equal(r.opts.present, c->present);
		for (int o = 0; o < TFTP_OPT_COUNT; o++)
			if (c->present & (1u << o))
				assert_true(r.opts.val[o] == c->val[o]);
	}
}

/* The decoder must not read past len: each prefix is copied to a heap block
 * of exactly that size so ASan catches any over-read. */
static int decode_prefix(const uint8_t *pkt, size_t n, struct tftp_req *r)
{
	uint8_t *copy = malloc(n ? n : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, pkt, n);
	rc = tftp_decode_req(copy, n, r);
	free(copy);
	return rc;
}

static void test_truncated_plain_rrq(void **state)
{
	static const uint8_t pkt[] = "\0\1pxelinux.cfg/default\0octet";
	const size_t full = sizeof(pkt); /* includes the final NUL */
	struct tftp_req r;

	assert_int_equal(decode_prefix(pkt, full, &r), 0);
	for (size_t n = 0; n < full; n++)
		assert_true(decode_prefix(pkt, n, &r) < 0);
}

static void test_truncated_rrq_with_options(void **state)
{
	static const uint8_t pkt[] = "\0\1f.bin\0octet\0blksize\0"
				     "1468\0tsize\0"
				     "0\0windowsize\0"
				     "4";
	const size_t full = sizeof(pkt);
	/* Prefixes that end after the mode or after a whole name/value pair are
	 * shorter but valid requests; every other prefix must be refused. */
	const size_t ok[] = {14, 27, 35, full};
	const unsigned ok_present[] = {0, BLK, BLK | TSZ, BLK | TSZ | WIN};
	struct tftp_req r;

	for (size_t n = 0; n <= full; n++) {
		int rc = decode_prefix(pkt, n, &r);
		size_t k;

		for (k = 0; k < 4 && ok[k] != n; k++)
			;
		if (k == 4) {
			assert_true(rc < 0);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(r.opts.present, ok_present[k]);
	}
}

static void test_filename_length(void **state)
{
	uint8_t pkt[TFTP_FILENAME_MAX + 32];
	struct tftp_req r;
	size_t n;

	for (size_t name = TFTP_FILENAME_MAX; name <= TFTP_FILENAME_MAX + 1; name++) {
		n = 0;
		pkt[n++] = 0;
		pkt[n++] = TFTP_RRQ;
		memset(pkt + n, 'a', name);
		n += name;
		pkt[n++] = 0;
		memcpy(pkt + n, "octet", 6);
		n += 6;
		int rc = tftp_decode_req(pkt, n, &r);
		if (name == TFTP_FILENAME_MAX) {
			assert_int_equal(rc, 0);
			assert_int_equal(r.filename_len, TFTP_FILENAME_MAX);
		} else {
			assert_int_equal(rc, -EBADMSG);
		}
	}
}

struct msg_case {
	const char *what;
	const uint8_t *pkt;
	size_t len;
	int rc;
	uint16_t opcode, block, err_code;
	const char *text;
};

#define MSG_BAD(w, s)                                                                              \
	{                                                                                          \
		.what = (w), PKT(s), .rc = -EBADMSG                                                \
	}
#define MSG_OK(w, s, op, blk)                                                                      \
	{                                                                                          \
		.what = (w), PKT(s), .opcode = (op), .block = (blk)                                \
	}
#define MSG_ERR(w, s, code, t)                                                                     \
	{                                                                                          \
		.what = (w), PKT(s), .opcode = TFTP_ERROR, .err_code = (code), .text = (t)         \
	}

static const struct msg_case msg_cases[] = {
    MSG_OK("ACK 7", "\0\4\0\7", TFTP_ACK, 7),
    MSG_OK("ACK 65535", "\0\4\xff\xff", TFTP_ACK, 65535),
    MSG_OK("ACK with trailing bytes", "\0\4\0\1\0\0", TFTP_ACK, 1),
    MSG_OK("DATA", "\0\3\0\2xyz", TFTP_DATA, 2),
    MSG_ERR("ERROR 8",
	    "\0\5\0\x08"
	    "User aborted\0",
	    8, "User aborted"),
    MSG_ERR("ERROR without NUL", "\0\5\0\1ab", 1, "ab"),
    MSG_ERR("ERROR without text", "\0\5\0\0", 0, ""),
    MSG_ERR("ERROR text stops at NUL",
	    "\0\5\0\2"
	    "a\0b",
	    2, "a"),
    MSG_OK("RRQ", "\0\1f\0octet\0", TFTP_RRQ, 0),
    MSG_OK("OACK",
	   "\0\6tsize\0"
	   "1\0",
	   TFTP_OACK, 0),
    MSG_BAD("three bytes", "\0\4\0"),
    MSG_BAD("empty", ""),
    MSG_BAD("opcode 0", "\0\0\0\0"),
    MSG_BAD("opcode 7", "\0\7\0\0"),
    MSG_BAD("opcode 0x0400", "\4\0\0\1"),
};

static void test_decode_msg_table(void **state)
{
	for (size_t i = 0; i < sizeof(msg_cases) / sizeof(msg_cases[0]); i++) {
		const struct msg_case *c = &msg_cases[i];
		struct tftp_msg m;

		print_message("case: %s\n", c->what);
		assert_int_equal(tftp_decode_msg(c->pkt, c->len, &m), c->rc);
		if (c->rc < 0)
			continue;
		assert_int_equal(m.opcode, c->opcode);
		if (c->opcode == TFTP_ACK || c->opcode == TFTP_DATA)
			assert_int_equal(m.block, c->block);
		if (c->opcode == TFTP_ERROR) {
			assert_int_equal(m.err_code, c->err_code);
			assert_int_equal(m.text_len, strlen(c->text));
			assert_memory_equal(m.text, c->text, m.text_len);
		}
	}
}

static void test_encode_data(void **state)
{
	uint8_t buf[16];

	assert_int_equal(tftp_encode_data(buf, sizeof(buf), 1, "abc", 3), 7);
	assert_memory_equal(buf, "\0\3\0\1abc", 7);
	assert_int_equal(tftp_encode_data(buf, sizeof(buf), 65535, "", 0), 4);
	assert_memory_equal(buf, "\0\3\xff\xff", 4);
	/* Payload already in place: header written, payload untouched. */
	memcpy(buf + 4, "in place", 8);
	assert_int_equal(tftp_encode_data(buf, sizeof(buf), 0x1234, buf + 4, 8), 12);
	assert_memory_equal(buf, "\0\3\x12\x34in place", 12);
	assert_int_equal(tftp_encode_data(buf, 12, 2, "0123456789", 9), -ENOSPC);
	assert_int_equal(tftp_encode_data(buf, 3, 2, "", 0), -ENOSPC);
}

static void test_encode_ack(void **state)
{
	uint8_t buf[4];

	assert_int_equal(tftp_encode_ack(buf, sizeof(buf), 258), 4);
	assert_memory_equal(buf, "\0\4\1\2", 4);
	assert_int_equal(tftp_encode_ack(buf, 3, 1), -ENOSPC);
}

static void test_encode_oack(void **state)
{
	struct tftp_opts o = {0};
	uint8_t buf[128];
	static const uint8_t want[] = "\0\6blksize\0"
				      "1468\0tsize\0"
				      "33554532\0timeout\0"
				      "3\0windowsize\0"
				      "4";

	assert_int_equal(tftp_encode_oack(buf, sizeof(buf), &o), 2);
	assert_memory_equal(buf, "\0\6", 2);
	/* Set out of order: the OACK still lists them in table order. */
	tftp_opt_set(&o, TFTP_OPT_WINDOWSIZE, 4);
	tftp_opt_set(&o, TFTP_OPT_TSIZE, 33554532);
	tftp_opt_set(&o, TFTP_OPT_BLKSIZE, 1468);
	tftp_opt_set(&o, TFTP_OPT_TIMEOUT, 3);
	assert_int_equal(tftp_encode_oack(buf, sizeof(buf), &o), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(tftp_encode_oack(buf, sizeof(want) - 1, &o), -ENOSPC);

	struct tftp_opts one = {0};
	tftp_opt_set(&one, TFTP_OPT_TSIZE, 0);
	assert_int_equal(tftp_encode_oack(buf, sizeof(buf), &one), 10);
	assert_memory_equal(buf,
			    "\0\6tsize\0"
			    "0",
			    10);
}

static void test_encode_error(void **state)
{
	uint8_t buf[64];

	assert_int_equal(tftp_encode_error(buf, sizeof(buf), 1, "file not found"), 19);
	assert_memory_equal(buf, "\0\5\0\1file not found", 19);
	/* A message longer than the buffer is cut, still NUL-terminated. */
	assert_int_equal(tftp_encode_error(buf, 8, 0, "too many transfers"), 8);
	assert_memory_equal(buf, "\0\5\0\0too", 8);
	assert_int_equal(tftp_encode_error(buf, 5, 5, "x"), 5);
	assert_memory_equal(buf, "\0\5\0\5", 5);
	assert_int_equal(tftp_encode_error(buf, 4, 5, "x"), -ENOSPC);
}

static void test_rrq_round_trip(void **state)
{
	struct tftp_opts o = {0};
	struct tftp_req r;
	uint8_t buf[128];
	int n;

	tftp_opt_set(&o, TFTP_OPT_BLKSIZE, 1468);
	tftp_opt_set(&o, TFTP_OPT_WINDOWSIZE, 8);
	n = tftp_encode_rrq(buf, sizeof(buf), "boot/snponly.efi", "octet", &o);
	assert_true(n > 0);
	assert_int_equal(tftp_decode_req(buf, (size_t)n, &r), 0);
	assert_string_equal(r.filename, "boot/snponly.efi");
	assert_int_equal(r.opts.present, BLK | WIN);
	assert_true(r.opts.val[TFTP_OPT_BLKSIZE] == 1468);
	assert_true(r.opts.val[TFTP_OPT_WINDOWSIZE] == 8);
	assert_int_equal(tftp_encode_rrq(buf, 10, "boot/snponly.efi", "octet", NULL), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode_req_table),
	    cmocka_unit_test(test_truncated_plain_rrq),
	    cmocka_unit_test(test_truncated_rrq_with_options),
	    cmocka_unit_test(test_filename_length),
	    cmocka_unit_test(test_decode_msg_table),
	    cmocka_unit_test(test_encode_data),
	    cmocka_unit_test(test_encode_ack),
	    cmocka_unit_test(test_encode_oack),
	    cmocka_unit_test(test_encode_error),
	    cmocka_unit_test(test_rrq_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
