/*
 * The write (upload) state machine with a fake clock, a memory-backed file
 * and a capture of every packet it sends.
 */
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
#include "tftp/wxfer.h"

#define SEC 1000000ull
#define MAX_PKTS 8
#define FILE_CAP (1u << 20)
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct pkt {
	uint8_t b[TFTP_CTRL_MAX];
	size_t len;
};

struct fake {
	uint8_t *file; /* FILE_CAP bytes: what was written */
	uint64_t size; /* highest offset written */
	uint64_t writes;
	long fail_write_at; /* write call number that fails with write_err; -1 never */
	int write_err;
	int finish_rc;
	unsigned finishes;
	uint64_t finish_size;	   /* size when finish ran: nothing may be written after */
	struct pkt pkts[MAX_PKTS]; /* what the last step sent */
	size_t npkts;
	struct tftp_wxfer x;
	uint64_t timer;
};

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 7 + (off >> 8) * 13 + (off >> 16));
}

static ssize_t fake_write(void *ctx, uint64_t off, const void *data, size_t n)
{
	struct fake *f = ctx;

	assert_true(n > 0);
	assert_int_equal(f->finishes, 0);
	if ((long)f->writes++ == f->fail_write_at)
		return -f->write_err;
	assert_true(off == f->size); /* appends only, in order */
	assert_true(off + n <= FILE_CAP);
	memcpy(f->file + off, data, n);
	f->size = off + n;
	return (ssize_t)n;
}

static int fake_finish(void *ctx)
{
	struct fake *f = ctx;

	f->finishes++;
	f->finish_size = f->size;
	return f->finish_rc;
}

static int fake_send(void *ctx, const void *pkt, size_t len)
{
	struct fake *f = ctx;

	assert_true(f->npkts < MAX_PKTS);
	assert_true(len <= TFTP_CTRL_MAX);
	memcpy(f->pkts[f->npkts].b, pkt, len);
	f->pkts[f->npkts].len = len;
	f->npkts++;
	return 0;
}

static const struct tftp_wxfer_ops fake_ops = {
    .write = fake_write, .finish = fake_finish, .send = fake_send};

static struct fake *fake_new_max(enum tftp_mode mode, const struct tftp_opts *asked,
				 uint64_t max_bytes)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct tftp_wxfer_params p;
	struct tftp_opts none = {0};

	assert_non_null(f);
	f->file = calloc(1, FILE_CAP);
	assert_non_null(f->file);
	f->fail_write_at = -1;
	assert_int_equal(
	    tftp_wxfer_negotiate(asked ? asked : &none, mode, TFTP_BLKSIZE_MAX, max_bytes, &p), 0);
	assert_int_equal(tftp_wxfer_init(&f->x, &p, &fake_ops, f), 0);
	assert_int_equal(f->x.state, TFTP_WS_INIT);
	return f;
}

static struct fake *fake_new(enum tftp_mode mode, const struct tftp_opts *asked)
{
	return fake_new_max(mode, asked, FILE_CAP);
}

static void fake_free(struct fake *f)
{
	free(f->file);
	free(f);
}

static enum tftp_wxfer_state step(struct fake *f, enum tftp_wxfer_event_kind kind, const void *pkt,
				  size_t len, uint64_t now)
{
	struct tftp_wxfer_event ev = {.kind = kind, .pkt = pkt, .len = len};

	f->npkts = 0;
	return tftp_wxfer_step(&f->x, &ev, now, &f->timer);
}

static enum tftp_wxfer_state start(struct fake *f, uint64_t now)
{
	return step(f, TFTP_WEV_START, NULL, 0, now);
}

static enum tftp_wxfer_state timeout(struct fake *f, uint64_t now)
{
	return step(f, TFTP_WEV_TIMEOUT, NULL, 0, now);
}

/* Sends DATA with 16-bit block number wire and payload data[0..n). */
static enum tftp_wxfer_state data(struct fake *f, uint16_t wire, const void *payload, size_t n,
				  uint64_t now)
{
	uint8_t *pkt = malloc(n + TFTP_DATA_HDR);
	enum tftp_wxfer_state st;

	assert_non_null(pkt);
	assert_int_equal(tftp_encode_data(pkt, n + TFTP_DATA_HDR, wire, payload, n),
			 (int)(n + TFTP_DATA_HDR));
	st = step(f, TFTP_WEV_PACKET, pkt, n + TFTP_DATA_HDR, now);
	free(pkt);
	return st;
}

/* Sends 64-bit block b of a pattern file of size bytes (blocks of blksize). */
static enum tftp_wxfer_state data_block(struct fake *f, uint64_t b, uint64_t size, uint64_t now)
{
	uint16_t bs = f->x.p.blksize;
	uint64_t off = (b - 1) * bs;
	size_t n = off >= size ? 0 : (size_t)(size - off < bs ? size - off : bs);
	uint8_t buf[TFTP_BLKSIZE_MAX];

	for (size_t i = 0; i < n; i++)
		buf[i] = pattern(off + i);
	return data(f, (uint16_t)b, buf, n, now);
}

static uint16_t pkt_op(const struct pkt *p)
{
	return (uint16_t)(p->b[0] << 8 | p->b[1]);
}

static uint16_t pkt_block(const struct pkt *p)
{
	return (uint16_t)(p->b[2] << 8 | p->b[3]);
}

static void check_ack(const struct fake *f, size_t i, uint16_t block)
{
	assert_true(i < f->npkts);
	assert_int_equal(f->pkts[i].len, 4);
	assert_int_equal(pkt_op(&f->pkts[i]), TFTP_ACK);
	assert_int_equal(pkt_block(&f->pkts[i]), block);
}

static void check_error(const struct fake *f, uint16_t code)
{
	assert_int_equal(f->npkts, 1);
	assert_int_equal(pkt_op(&f->pkts[0]), TFTP_ERROR);
	assert_int_equal(pkt_block(&f->pkts[0]), code);
	assert_true(f->x.error_sent);
}

static void check_file(const struct fake *f, uint64_t size)
{
	assert_true(f->size == size);
	for (uint64_t i = 0; i < size; i++)
		if (f->file[i] != pattern(i))
			fail_msg("byte %llu differs", (unsigned long long)i);
}

/*
 * A well-behaved client sending a pattern file of size bytes in windows of
 * windowsize; asserts an ACK exactly at the end of every window and of the
 * file. Returns the number of DATA blocks sent.
 */
static uint64_t run_client(struct fake *f, uint64_t size, uint64_t now)
{
	uint16_t bs;
	uint64_t blocks = 0, last;
	enum tftp_wxfer_state st = start(f, now);

	assert_int_equal(f->npkts, 1);
	if (f->x.p.oack.present != 0) {
		assert_int_equal(st, TFTP_WS_OACK_SENT);
		assert_int_equal(pkt_op(&f->pkts[0]), TFTP_OACK);
	} else {
		assert_int_equal(st, TFTP_WS_RECEIVING);
		check_ack(f, 0, 0);
	}
	bs = f->x.p.blksize;
	last = size / bs + 1;
	for (uint64_t b = 1; b <= last; b++, blocks++) {
		st = data_block(f, b, size, now);
		if (b == last) {
			assert_int_equal(st, TFTP_WS_DALLY);
			assert_int_equal(f->npkts, 1);
			check_ack(f, 0, (uint16_t)b);
		} else if (b % f->x.p.windowsize == 0) {
			assert_int_equal(st, TFTP_WS_RECEIVING);
			assert_int_equal(f->npkts, 1);
			check_ack(f, 0, (uint16_t)b);
		} else {
			assert_int_equal(f->npkts, 0);
		}
	}
	assert_int_equal(f->finishes, 1);
	assert_true(f->finish_size == size);
	assert_true(f->x.file_off == size);
	assert_true(f->x.bytes_received == size);
	assert_true(f->x.retransmits == 0);
	assert_true(f->x.complete_us == now);
	check_file(f, size);
	/* The dally ends quietly on its timer. */
	assert_true(f->timer == now + TFTP_WXFER_DALLY_US);
	assert_int_equal(timeout(f, f->timer), TFTP_WS_DONE);
	assert_int_equal(f->npkts, 0);
	assert_int_equal(f->timer, 0);
	return blocks;
}

static void test_lockstep_sizes(void **state)
{
	static const struct {
		uint64_t size, blocks;
	} cases[] = {{0, 1}, {1, 1}, {511, 1}, {512, 2}, {513, 2}, {1024, 3}, {5000, 10}};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct fake *f = fake_new(TFTP_MODE_OCTET, NULL);
		print_message("size %llu\n", (unsigned long long)cases[i].size);
		assert_int_equal(f->x.p.blksize, 512);
		assert_int_equal(f->x.p.oack.present, 0); /* no options: ACK 0 */
		assert_true(run_client(f, cases[i].size, 10 * SEC) == cases[i].blocks);
		fake_free(f);
	}
}

static void test_options_oack(void **state)
{
	static const uint8_t want[] = "\0\6blksize\0"
				      "1468\0tsize\0"
				      "100000\0timeout\0"
				      "3\0windowsize\0"
				      "8";
	struct tftp_opts o = {0};
	struct fake *f;

	tftp_opt_set(&o, TFTP_OPT_BLKSIZE, 1468);
	tftp_opt_set(&o, TFTP_OPT_TSIZE, 100000);
	tftp_opt_set(&o, TFTP_OPT_TIMEOUT, 3);
	tftp_opt_set(&o, TFTP_OPT_WINDOWSIZE, 8);
	f = fake_new(TFTP_MODE_OCTET, &o);
	assert_int_equal(start(f, 0), TFTP_WS_OACK_SENT);
	assert_int_equal(f->npkts, 1);
	assert_int_equal(f->pkts[0].len, sizeof(want));
	assert_memory_equal(f->pkts[0].b, want, sizeof(want));
	assert_int_equal(f->timer, 3 * SEC); /* the client's timeout */
	fake_free(f);

	f = fake_new(TFTP_MODE_OCTET, &o);
	assert_true(run_client(f, 100000, 0) == 100000 / 1468 + 1);
	fake_free(f);
}

static void test_negotiate_caps(void **state)
{
	struct tftp_wxfer_params p;
	struct tftp_opts o = {0};

	/* blksize capped by the caller, windowsize by the bytes per window. */
	tftp_opt_set(&o, TFTP_OPT_BLKSIZE, 65464);
	tftp_opt_set(&o, TFTP_OPT_WINDOWSIZE, 65535);
	assert_int_equal(tftp_wxfer_negotiate(&o, TFTP_MODE_OCTET, 1468, 100, &p), 0);
	assert_int_equal(p.blksize, 1468);
	assert_int_equal(p.windowsize, TFTP_WXFER_WINDOW_BYTES_MAX / 1468);
	assert_true(p.oack.val[TFTP_OPT_BLKSIZE] == 1468);
	assert_true(p.oack.val[TFTP_OPT_WINDOWSIZE] == p.windowsize);
	assert_int_equal(tftp_wxfer_negotiate(&o, TFTP_MODE_OCTET, TFTP_BLKSIZE_MAX, 100, &p), 0);
	assert_int_equal(p.windowsize, 1);
	tftp_opt_set(&o, TFTP_OPT_BLKSIZE, 512);
	assert_int_equal(tftp_wxfer_negotiate(&o, TFTP_MODE_OCTET, TFTP_BLKSIZE_MAX, 100, &p), 0);
	assert_int_equal(p.windowsize, TFTP_WXFER_WINDOW_MAX);
	/* Netascii uploads may use a window: blocks are translated as they come. */
	assert_int_equal(tftp_wxfer_negotiate(&o, TFTP_MODE_NETASCII, 1468, 100, &p), 0);
	assert_true(tftp_opt_has(&p.oack, TFTP_OPT_WINDOWSIZE));
	assert_int_equal(tftp_wxfer_negotiate(&o, TFTP_MODE_OCTET, 7, 100, &p), -EINVAL);
	assert_int_equal(tftp_wxfer_negotiate(&o, TFTP_MODE_OCTET, 65465, 100, &p), -EINVAL);
	/* No options: nothing to echo, ACK 0 answers. */
	memset(&o, 0, sizeof(o));
	assert_int_equal(tftp_wxfer_negotiate(&o, TFTP_MODE_OCTET, 1468, 100, &p), 0);
	assert_int_equal(p.oack.present, 0);
	assert_int_equal(p.blksize, 512);
	assert_false(p.has_tsize);
}

/* More than 65535 blocks: the wire block number wraps to 0, the file goes on. */
static void test_rollover(void **state)
{
	for (uint64_t win = 1; win <= 4; win += 3) {
		struct tftp_opts o = {0};
		struct fake *f;

		tftp_opt_set(&o, TFTP_OPT_BLKSIZE, 8);
		tftp_opt_set(&o, TFTP_OPT_WINDOWSIZE, win);
		f = fake_new(TFTP_MODE_OCTET, &o);
		assert_true(run_client(f, 8ull * 70000 + 3, 0) == 70001);
		assert_true(f->x.received == 70001);
		fake_free(f);
	}
}

static void test_duplicate_data(void **state)
{
	struct fake *f = fake_new(TFTP_MODE_OCTET, NULL);
	uint64_t size = 512 * 2 + 10;

	start(f, 0);
	assert_int_equal(data_block(f, 1, size, 0), TFTP_WS_RECEIVING);
	check_ack(f, 0, 1);
	/* Our ACK 1 was lost: the same DATA again is ACKed again, not written again. */
	assert_int_equal(data_block(f, 1, size, 100), TFTP_WS_RECEIVING);
	assert_int_equal(f->npkts, 1);
	check_ack(f, 0, 1);
	assert_true(f->x.duplicates == 1 && f->x.retransmits == 1);
	assert_true(f->size == 512);
	assert_int_equal(f->timer, 100 + SEC);
	assert_int_equal(data_block(f, 2, size, 200), TFTP_WS_RECEIVING);
	check_ack(f, 0, 2);
	/* An older duplicate (delayed in the network) is ignored. */
	assert_int_equal(data_block(f, 1, size, 300), TFTP_WS_RECEIVING);
	assert_int_equal(f->npkts, 0);
	assert_int_equal(f->timer, 200 + SEC);
	/* The last block: stored, ACKed; its duplicate gets the ACK again in the dally. */
	assert_int_equal(data_block(f, 3, size, 400), TFTP_WS_DALLY);
	check_ack(f, 0, 3);
	assert_int_equal(data_block(f, 3, size, 500), TFTP_WS_DALLY);
	assert_int_equal(f->npkts, 1);
	check_ack(f, 0, 3);
	assert_int_equal(f->finishes, 1);
	check_file(f, size);
	/* Anything else in the dally is ignored, an ERROR included. */
	assert_int_equal(data_block(f, 2, size, 600), TFTP_WS_DALLY);
	assert_int_equal(f->npkts, 0);
	assert_int_equal(step(f, TFTP_WEV_PACKET, "\0\5\0\0x", 6, 600), TFTP_WS_DALLY);
	assert_int_equal(f->timer, 400 + TFTP_WXFER_DALLY_US);
	/* An early wake-up does not end it; the deadline does. */
	assert_int_equal(timeout(f, 401), TFTP_WS_DALLY);
	assert_int_equal(timeout(f, 400 + TFTP_WXFER_DALLY_US), TFTP_WS_DONE);
	assert_int_equal(f->timer, 0);
	fake_free(f);
}

/* A lost ACK: our timer sends it again, with backoff, until the client resends. */
static void test_lost_ack(void **state)
{
	struct fake *f = fake_new(TFTP_MODE_OCTET, NULL);
	uint64_t size = 512 * 3;

	start(f, 0);
	data_block(f, 1, size, 0);
	assert_int_equal(f->timer, SEC);
	assert_int_equal(timeout(f, SEC), TFTP_WS_RECEIVING);
	check_ack(f, 0, 1);
	assert_int_equal(f->x.retries, 1);
	assert_int_equal(f->timer, 3 * SEC); /* 2 s after 1 s */
	assert_int_equal(timeout(f, 3 * SEC), TFTP_WS_RECEIVING);
	check_ack(f, 0, 1);
	assert_int_equal(f->timer, 7 * SEC);
	assert_true(f->x.retransmits == 2);
	/* Progress resets the backoff. */
	assert_int_equal(data_block(f, 2, size, 4 * SEC), TFTP_WS_RECEIVING);
	check_ack(f, 0, 2);
	assert_int_equal(f->x.retries, 0);
	assert_int_equal(f->timer, 5 * SEC);
	data_block(f, 3, size, 5 * SEC);
	assert_int_equal(data_block(f, 4, size, 5 * SEC), TFTP_WS_DALLY);
	check_file(f, size);
	fake_free(f);
}

/* RFC 7440 on the receiving side: ACK the end of each window, and a gap once. */
static void test_window_gap(void **state)
{
	struct tftp_opts o = {0};
	uint64_t size = 512 * 10 + 100;
	struct fake *f;

	tftp_opt_set(&o, TFTP_OPT_WINDOWSIZE, 4);
	f = fake_new(TFTP_MODE_OCTET, &o);
	assert_int_equal(start(f, 0), TFTP_WS_OACK_SENT);
	for (uint64_t b = 1; b <= 4; b++)
		data_block(f, b, size, 0);
	assert_int_equal(f->npkts, 1);
	check_ack(f, 0, 4);
	/* Block 6 is lost: 7 shows the gap, ACK 5 once; 8 says nothing more. */
	assert_int_equal(data_block(f, 5, size, 10), TFTP_WS_RECEIVING);
	assert_int_equal(f->npkts, 0);
	assert_int_equal(data_block(f, 7, size, 20), TFTP_WS_RECEIVING);
	check_ack(f, 0, 5);
	assert_int_equal(f->timer, 20 + SEC);
	assert_int_equal(data_block(f, 8, size, 30), TFTP_WS_RECEIVING);
	assert_int_equal(f->npkts, 0);
	/* A block past the window is no gap of this window: ignored. */
	assert_int_equal(data_block(f, 10, size, 30), TFTP_WS_RECEIVING);
	assert_int_equal(f->npkts, 0);
	assert_true(f->size == 512 * 5);
	/* The client resumes after 5: the window now ends at 9. */
	for (uint64_t b = 6; b <= 8; b++) {
		data_block(f, b, size, 40);
		assert_int_equal(f->npkts, 0);
	}
	data_block(f, 9, size, 40);
	check_ack(f, 0, 9);
	data_block(f, 10, size, 50);
	assert_int_equal(f->npkts, 0);
	/* Our ACK at 9 was heard: the short block 11 ends the file within the window. */
	assert_int_equal(data_block(f, 11, size, 60), TFTP_WS_DALLY);
	check_ack(f, 0, 11);
	check_file(f, size);
	fake_free(f);
}

/* A window whose ACK was lost comes again: its last block gets the ACK again. */
static void test_window_lost_ack(void **state)
{
	struct tftp_opts o = {0};
	uint64_t size = 512 * 6 + 1;
	struct fake *f;

	tftp_opt_set(&o, TFTP_OPT_WINDOWSIZE, 3);
	f = fake_new(TFTP_MODE_OCTET, &o);
	start(f, 0);
	/* DATA 1 lost: 2 shows the gap, ACK 0 (the client restarts after the OACK). */
	assert_int_equal(data_block(f, 2, size, 0), TFTP_WS_RECEIVING);
	check_ack(f, 0, 0);
	for (uint64_t b = 1; b <= 3; b++)
		data_block(f, b, size, 10);
	check_ack(f, 0, 3);
	/* ACK 3 lost: the client times out and resends 1..3. */
	data_block(f, 1, size, 20);
	data_block(f, 2, size, 20);
	assert_int_equal(f->npkts, 0);
	data_block(f, 3, size, 20);
	check_ack(f, 0, 3);
	for (uint64_t b = 4; b <= 6; b++)
		data_block(f, b, size, 30);
	check_ack(f, 0, 6);
	assert_int_equal(data_block(f, 7, size, 40), TFTP_WS_DALLY);
	check_ack(f, 0, 7);
	check_file(f, size);
	fake_free(f);
}

static void test_size_limit_tsize(void **state)
{
	struct tftp_opts o = {0};
	struct fake *f;

	/* Announced over the limit: ERROR 3 before any data. */
	tftp_opt_set(&o, TFTP_OPT_TSIZE, 1001);
	f = fake_new_max(TFTP_MODE_OCTET, &o, 1000);
	assert_int_equal(start(f, 0), TFTP_WS_FAILED);
	check_error(f, TFTP_ERR_DISKFULL);
	assert_int_equal(f->timer, 0);
	assert_true(f->writes == 0 && f->finishes == 0);
	fake_free(f);

	/* Exactly the limit: accepted and echoed. */
	o.val[TFTP_OPT_TSIZE] = 1000;
	f = fake_new_max(TFTP_MODE_OCTET, &o, 1000);
	assert_int_equal(start(f, 0), TFTP_WS_OACK_SENT);
	static const uint8_t want[] = "\0\6tsize\0"
				      "1000";
	assert_memory_equal(f->pkts[0].b, want, sizeof(want));
	fake_free(f);
	f = fake_new_max(TFTP_MODE_OCTET, &o, 1000);
	run_client(f, 1000, 0);
	fake_free(f);
}

static void test_size_limit_data(void **state)
{
	uint64_t size = 512 * 2;
	struct fake *f = fake_new_max(TFTP_MODE_OCTET, NULL, 1000);

	start(f, 0);
	assert_int_equal(data_block(f, 1, size, 0), TFTP_WS_RECEIVING);
	/* 1024 bytes would pass 1000: ERROR 3, nothing more written, nothing stored. */
	assert_int_equal(data_block(f, 2, size, 0), TFTP_WS_FAILED);
	check_error(f, TFTP_ERR_DISKFULL);
	assert_true(f->size == 512 && f->finishes == 0);
	assert_string_equal(f->x.fail_reason, "over the size limit");
	/* Ended: later packets change nothing. */
	assert_int_equal(data_block(f, 2, size, 0), TFTP_WS_FAILED);
	assert_int_equal(f->npkts, 0);
	fake_free(f);

	/* The limit itself fits; netascii counts the bytes stored, after translation. */
	f = fake_new_max(TFTP_MODE_NETASCII, NULL, 5);
	start(f, 0);
	assert_int_equal(data(f, 1, "a\r\nb\r\nc", 7, 0), TFTP_WS_DALLY);
	assert_true(f->size == 5);
	assert_memory_equal(f->file, "a\nb\nc", 5);
	fake_free(f);
	f = fake_new_max(TFTP_MODE_NETASCII, NULL, 4);
	start(f, 0);
	assert_int_equal(data(f, 1, "a\r\nb\r\nc", 7, 0), TFTP_WS_FAILED);
	check_error(f, TFTP_ERR_DISKFULL);
	assert_int_equal(f->finishes, 0);
	fake_free(f);
}

/* Netascii back to local text, with pairs split across blocks (blksize 8). */
static void test_netascii(void **state)
{
	static const struct {
		const char *wire;
		size_t wire_len;
		const char *local;
		size_t local_len;
	} cases[] = {
#define S(s) s, sizeof(s) - 1
	    {S("line\r\n"), S("line\n")},
	    {S("1234567\r\nabc"), S("1234567\nabc")},	/* CR ends block 1, LF starts 2 */
	    {S("1234567\r\0abc"), S("1234567\rabc")},	/* CR NUL across the boundary */
	    {S("1234567\rxabc"), S("1234567\rxabc")},	/* a bare CR is kept */
	    {S("12345678\r\n\r\n"), S("12345678\n\n")}, /* block 2 holds both pairs */
	    {S("1234567\r"), S("1234567\r")},		/* a CR at the end of the file */
	    {S("1234567\r\r\n"), S("1234567\r\n")},	/* CR, then CR LF */
	    {S("a\nb\r\0\r\0\r\n"), S("a\nb\r\r\n")},	/* a bare LF passes */
	    {S("12345678"), S("12345678")},		/* an empty last block */
	    {S(""), S("")},
#undef S
	};
	struct tftp_opts o = {0};

	tftp_opt_set(&o, TFTP_OPT_BLKSIZE, 8);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct fake *f = fake_new(TFTP_MODE_NETASCII, &o);
		size_t off = 0;
		uint16_t b = 1;
		print_message("case %zu\n", i);
		start(f, 0);
		for (;; b++) {
			size_t n = cases[i].wire_len - off < 8 ? cases[i].wire_len - off : 8;
			enum tftp_wxfer_state st = data(f, b, cases[i].wire + off, n, 0);
			off += n;
			if (n < 8) {
				assert_int_equal(st, TFTP_WS_DALLY);
				break;
			}
			assert_int_equal(st, TFTP_WS_RECEIVING);
		}
		assert_true(f->size == cases[i].local_len);
		assert_memory_equal(f->file, cases[i].local, cases[i].local_len);
		assert_true(f->x.bytes_received == cases[i].wire_len);
		fake_free(f);
	}
}

static void test_client_error(void **state)
{
	static const uint8_t err[] = "\0\5\0\3disk full here";
	struct fake *f = fake_new(TFTP_MODE_OCTET, NULL);

	start(f, 0);
	data_block(f, 1, 2000, 0);
	assert_int_equal(step(f, TFTP_WEV_PACKET, err, sizeof(err), 10), TFTP_WS_FAILED);
	assert_int_equal(f->npkts, 0); /* an ERROR is never answered */
	assert_true(f->x.client_error);
	assert_int_equal(f->x.client_err_code, 3);
	assert_int_equal(f->x.client_err_len, strlen("disk full here"));
	assert_memory_equal(f->x.client_err_text, "disk full here", f->x.client_err_len);
	assert_false(f->x.error_sent);
	assert_int_equal(f->timer, 0);
	assert_int_equal(f->finishes, 0);
	fake_free(f);
}

static void test_timeouts_give_up(void **state)
{
	static const uint64_t waits[] = {1, 2, 4, 8, 8};
	struct tftp_opts o = {0};

	/* Without options: ACK 0 again; with them: the OACK again. */
	for (int opts = 0; opts < 2; opts++) {
		struct fake *f;
		uint64_t now = 0;

		if (opts)
			tftp_opt_set(&o, TFTP_OPT_BLKSIZE, 1024);
		f = fake_new(TFTP_MODE_OCTET, opts ? &o : NULL);
		start(f, now);
		for (size_t i = 0; i < ARRAY_LEN(waits); i++) {
			assert_int_equal(f->timer, now + waits[i] * SEC);
			/* Early and stale wake-ups change nothing. */
			timeout(f, f->timer - 1);
			assert_int_equal(f->npkts, 0);
			now = f->timer;
			timeout(f, now);
			assert_int_equal(f->npkts, 1);
			if (opts)
				assert_int_equal(pkt_op(&f->pkts[0]), TFTP_OACK);
			else
				check_ack(f, 0, 0);
		}
		assert_int_equal(timeout(f, f->timer), TFTP_WS_FAILED);
		assert_int_equal(f->npkts, 0);
		assert_string_equal(f->x.fail_reason, "no DATA");
		assert_true(f->x.retransmits == ARRAY_LEN(waits));
		assert_int_equal(f->timer, 0);
		fake_free(f);
	}
}

/* A timeout asked by the client is the base of the backoff and of the dally. */
static void test_timeout_option(void **state)
{
	struct tftp_opts o = {0};
	struct fake *f;

	tftp_opt_set(&o, TFTP_OPT_TIMEOUT, 10);
	f = fake_new(TFTP_MODE_OCTET, &o);
	start(f, 0);
	assert_int_equal(f->timer, 10 * SEC);
	timeout(f, 10 * SEC);
	assert_int_equal(f->timer, 20 * SEC); /* no backoff past what the client asked */
	assert_int_equal(data(f, 1, "x", 1, 21 * SEC), TFTP_WS_DALLY);
	assert_int_equal(f->timer, 31 * SEC);
	fake_free(f);
}

static void test_bad_packets(void **state)
{
	static const struct {
		const char *what;
		const uint8_t *b;
		size_t len;
	} bad[] = {
	    {"empty", (const uint8_t *)"", 0},
	    {"3 bytes", (const uint8_t *)"\0\3\0", 3},
	    {"unknown opcode", (const uint8_t *)"\0\11\0\1", 4},
	    {"ACK", (const uint8_t *)"\0\4\0\1", 4},
	    {"OACK", (const uint8_t *)"\0\6blksize\0008\0", 13},
	    {"RRQ", (const uint8_t *)"\0\1f\0octet\0", 10},
	    {"WRQ", (const uint8_t *)"\0\2f\0octet\0", 10},
	    {"DATA 0", (const uint8_t *)"\0\3\0\0abc", 7},
	    {"DATA far ahead", (const uint8_t *)"\0\3\1\0abc", 7},
	};
	static const uint8_t data1[] = "\0\3\0\1hello";
	struct fake *f = fake_new(TFTP_MODE_OCTET, NULL);
	uint8_t big[4 + 513];

	/* Before START nothing is answered. */
	assert_int_equal(step(f, TFTP_WEV_PACKET, data1, sizeof(data1) - 1, 0), TFTP_WS_INIT);
	assert_int_equal(f->npkts, 0);
	start(f, 0);
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		print_message("%s\n", bad[i].what);
		assert_int_equal(step(f, TFTP_WEV_PACKET, bad[i].b, bad[i].len, 5),
				 TFTP_WS_RECEIVING);
		assert_int_equal(f->npkts, 0);
		assert_int_equal(f->timer, SEC);
	}
	assert_int_equal(step(f, TFTP_WEV_PACKET, NULL, 0, 5), TFTP_WS_RECEIVING);
	/* Every truncated prefix of a DATA shorter than its header is ignored. */
	for (size_t n = 0; n < TFTP_DATA_HDR; n++)
		assert_int_equal(step(f, TFTP_WEV_PACKET, data1, n, 5), TFTP_WS_RECEIVING);
	assert_true(f->writes == 0);
	/* DATA larger than the block size: ERROR 4. */
	memset(big, 'x', sizeof(big));
	big[0] = 0, big[1] = 3, big[2] = 0, big[3] = 1;
	assert_int_equal(step(f, TFTP_WEV_PACKET, big, sizeof(big), 5), TFTP_WS_FAILED);
	check_error(f, TFTP_ERR_BADOP);
	fake_free(f);
}

static void test_store_errors(void **state)
{
	static const struct {
		int err;
		uint16_t code;
		const char *reason;
	} cases[] = {
	    {ENOSPC, TFTP_ERR_DISKFULL, "disk full"},
	    {EDQUOT, TFTP_ERR_DISKFULL, "disk full"},
	    {EIO, TFTP_ERR_UNDEF, "write error"},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct fake *f = fake_new(TFTP_MODE_OCTET, NULL);
		f->fail_write_at = 1;
		f->write_err = cases[i].err;
		start(f, 0);
		assert_int_equal(data_block(f, 1, 2000, 0), TFTP_WS_RECEIVING);
		assert_int_equal(data_block(f, 2, 2000, 0), TFTP_WS_FAILED);
		check_error(f, cases[i].code);
		assert_string_equal(f->x.fail_reason, cases[i].reason);
		fake_free(f);
	}
	/* finish fails: the last block is not acknowledged, the client hears why. */
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct fake *f = fake_new(TFTP_MODE_OCTET, NULL);
		f->finish_rc = -cases[i].err;
		start(f, 0);
		assert_int_equal(data_block(f, 1, 100, 0), TFTP_WS_FAILED);
		check_error(f, cases[i].code);
		assert_false(tftp_wxfer_complete(&f->x));
		fake_free(f);
	}
}

static void test_abort(void **state)
{
	struct fake *f = fake_new(TFTP_MODE_OCTET, NULL);

	start(f, 0);
	data_block(f, 1, 2000, 0);
	assert_int_equal(step(f, TFTP_WEV_ABORT, NULL, 0, 0), TFTP_WS_FAILED);
	check_error(f, TFTP_ERR_UNDEF);
	assert_int_equal(f->finishes, 0);
	fake_free(f);

	/* In the dally the file is stored and acknowledged: end quietly. */
	f = fake_new(TFTP_MODE_OCTET, NULL);
	start(f, 0);
	assert_int_equal(data_block(f, 1, 10, 0), TFTP_WS_DALLY);
	assert_int_equal(step(f, TFTP_WEV_ABORT, NULL, 0, 0), TFTP_WS_DONE);
	assert_int_equal(f->npkts, 0);
	assert_true(tftp_wxfer_complete(&f->x));
	fake_free(f);
}

static void test_state_names(void **state)
{
	assert_string_equal(tftp_wxfer_state_name(TFTP_WS_DALLY), "dally");
	assert_string_equal(tftp_wxfer_state_name(TFTP_WS_COUNT), "?");
	for (int s = 0; s < TFTP_WS_COUNT; s++)
		assert_non_null(tftp_wxfer_state_name((enum tftp_wxfer_state)s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lockstep_sizes),
	    cmocka_unit_test(test_options_oack),
	    cmocka_unit_test(test_negotiate_caps),
	    cmocka_unit_test(test_rollover),
	    cmocka_unit_test(test_duplicate_data),
	    cmocka_unit_test(test_lost_ack),
	    cmocka_unit_test(test_window_gap),
	    cmocka_unit_test(test_window_lost_ack),
	    cmocka_unit_test(test_size_limit_tsize),
	    cmocka_unit_test(test_size_limit_data),
	    cmocka_unit_test(test_netascii),
	    cmocka_unit_test(test_client_error),
	    cmocka_unit_test(test_timeouts_give_up),
	    cmocka_unit_test(test_timeout_option),
	    cmocka_unit_test(test_bad_packets),
	    cmocka_unit_test(test_store_errors),
	    cmocka_unit_test(test_abort),
	    cmocka_unit_test(test_state_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
