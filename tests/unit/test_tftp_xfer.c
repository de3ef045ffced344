/*
 * The transfer state machine with a fake clock, a memory-backed (or
 * generated) file and a capture of every packet it sends.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tftp/wire.h"
#include "tftp/xfer.h"

#define SEC 1000000ull
#define MAX_PKTS 80
#define PKT_MAX 1600

struct pkt {
	uint8_t b[PKT_MAX];
	size_t len;
};

struct fake {
	const uint8_t *data; /* NULL: bytes come from pattern() */
	uint64_t size;
	int fail_reads;	   /* reads fail once this many have succeeded; -1 never */
	long fail_send_at; /* send call number that fails; -1 never */
	long sends;
	struct pkt pkts[MAX_PKTS]; /* what the last step sent */
	size_t npkts;
	struct tftp_xfer x;
	uint8_t *buf;
	uint64_t timer;
};

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 7 + (off >> 8) * 13 + (off >> 16));
}

static ssize_t fake_read(void *ctx, uint64_t off, void *dst, size_t n)
{
	struct fake *f = ctx;

	assert_true(off <= f->size && n <= f->size - off);
	if (f->fail_reads == 0)
		return -EIO;
	if (f->fail_reads > 0)
		f->fail_reads--;
	for (size_t i = 0; i < n; i++)
		((uint8_t *)dst)[i] = f->data ? f->data[off + i] : pattern(off + i);
	return (ssize_t)n;
}

static int fake_send(void *ctx, const void *pkt, size_t len)
{
	struct fake *f = ctx;

	if (f->sends++ == f->fail_send_at)
		return -EAGAIN;
	assert_true(f->npkts < MAX_PKTS);
	assert_true(len <= PKT_MAX);
	memcpy(f->pkts[f->npkts].b, pkt, len);
	f->pkts[f->npkts].len = len;
	f->npkts++;
	return 0;
}

/*
 * ops->send_data as the server implements it: the window's DATA packets at
 * once, payloads taken from the file. Each block counts as one send, so
 * fail_send_at and fail_reads mean the same in both modes.
 */
static int fake_send_data(void *ctx, const struct tftp_block *b, unsigned n)
{
	struct fake *f = ctx;

	assert_true(n >= 1 && n <= TFTP_WINDOW_MAX);
	for (unsigned i = 0; i < n; i++) {
		struct pkt *p;

		assert_int_equal(b[i].off, (b[i].block - 1) * f->x.p.blksize);
		assert_true(b[i].off + b[i].len <= f->size);
		if (f->fail_reads == 0)
			return -EIO;
		if (f->fail_reads > 0)
			f->fail_reads--;
		if (f->sends++ == f->fail_send_at)
			return (int)i;
		assert_true(f->npkts < MAX_PKTS);
		assert_true(b[i].len + TFTP_DATA_HDR <= PKT_MAX);
		p = &f->pkts[f->npkts++];
		p->b[0] = 0;
		p->b[1] = TFTP_DATA;
		p->b[2] = (uint8_t)(b[i].block >> 8);
		p->b[3] = (uint8_t)b[i].block;
		for (size_t k = 0; k < b[i].len; k++)
			p->b[TFTP_DATA_HDR + k] =
			    f->data ? f->data[b[i].off + k] : pattern(b[i].off + k);
		p->len = TFTP_DATA_HDR + b[i].len;
	}
	return (int)n;
}

static const struct tftp_xfer_ops fake_ops = {.read = fake_read, .send = fake_send};
static const struct tftp_xfer_ops fake_ops_direct = {
    .read = fake_read, .send = fake_send, .send_data = fake_send_data};
/* Every test runs twice: packets built one by one, then whole windows through send_data. */
static bool direct;

static struct fake *fake_new(const uint8_t *data, uint64_t size, enum tftp_mode mode,
			     const struct tftp_opts *asked)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct tftp_xfer_params p;
	struct tftp_opts none = {0};
	size_t cap;

	assert_non_null(f);
	f->data = data;
	f->size = size;
	f->fail_reads = -1;
	f->fail_send_at = -1;
	assert_int_equal(
	    tftp_xfer_negotiate(asked ? asked : &none, mode, size, TFTP_BLKSIZE_MAX, &p), 0);
	cap = tftp_xfer_buf_size(&p);
	f->buf = malloc(cap);
	assert_non_null(f->buf);
	assert_int_equal(
	    tftp_xfer_init(&f->x, &p, direct ? &fake_ops_direct : &fake_ops, f, f->buf, cap), 0);
	assert_int_equal(f->x.state, TFTP_XS_INIT);
	return f;
}

static void fake_free(struct fake *f)
{
	free(f->buf);
	free(f);
}

static enum tftp_xfer_state step(struct fake *f, enum tftp_xfer_event_kind kind,
				 const struct tftp_msg *m, uint64_t now)
{
	struct tftp_xfer_event ev = {.kind = kind, .msg = m};

	f->npkts = 0;
	return tftp_xfer_step(&f->x, &ev, now, &f->timer);
}

static enum tftp_xfer_state ack(struct fake *f, uint16_t block, uint64_t now)
{
	struct tftp_msg m = {.opcode = TFTP_ACK, .block = block};

	return step(f, TFTP_XEV_PACKET, &m, now);
}

static uint16_t pkt_op(const struct pkt *p)
{
	return (uint16_t)(p->b[0] << 8 | p->b[1]);
}

static uint16_t pkt_block(const struct pkt *p)
{
	return (uint16_t)(p->b[2] << 8 | p->b[3]);
}

/* Checks that p is DATA for 64-bit block b with the right payload. */
static size_t check_data(const struct fake *f, const struct pkt *p, uint64_t b)
{
	uint16_t bs = f->x.p.blksize;
	uint64_t off = (b - 1) * bs;
	size_t n = off >= f->size ? 0 : (size_t)(f->size - off < bs ? f->size - off : bs);

	assert_int_equal(pkt_op(p), TFTP_DATA);
	assert_int_equal(pkt_block(p), (uint16_t)b);
	assert_int_equal(p->len, TFTP_DATA_HDR + n);
	for (size_t i = 0; i < n; i++)
		if (p->b[TFTP_DATA_HDR + i] != (f->data ? f->data[off + i] : pattern(off + i)))
			fail_msg("block %llu byte %zu differs", (unsigned long long)b, i);
	return n;
}

/*
 * A well-behaved client: acknowledges the last block of each window. Returns
 * the number of DATA blocks received; asserts that the payload is the file.
 */
static uint64_t run_client(struct fake *f, uint64_t now)
{
	uint64_t next = 1, blocks = 0;
	enum tftp_xfer_state st = step(f, TFTP_XEV_START, NULL, now);

	if (f->x.p.oack.present != 0) {
		assert_int_equal(st, TFTP_XS_OACK_SENT);
		assert_int_equal(f->npkts, 1);
		assert_int_equal(pkt_op(&f->pkts[0]), TFTP_OACK);
		st = ack(f, 0, now);
	}
	while (st == TFTP_XS_DATA_SENT) {
		assert_true(f->npkts >= 1 && f->npkts <= f->x.p.windowsize);
		assert_int_equal(f->timer, now + SEC);
		for (size_t i = 0; i < f->npkts; i++, next++, blocks++)
			check_data(f, &f->pkts[i], next);
		st = ack(f, (uint16_t)(next - 1), now);
	}
	assert_int_equal(st, TFTP_XS_DONE);
	assert_int_equal(f->npkts, 0);
	assert_int_equal(f->timer, 0);
	assert_int_equal(f->x.retransmits, 0);
	assert_true(f->x.bytes_sent == f->size);
	return blocks;
}

static void test_lockstep_sizes(void **state)
{
	static const struct {
		uint64_t size, blocks;
	} cases[] = {{0, 1}, {1, 1}, {511, 1}, {512, 2}, {513, 2}, {1024, 3}, {5000, 10}};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake *f = fake_new(NULL, cases[i].size, TFTP_MODE_OCTET, NULL);
		print_message("size %llu\n", (unsigned long long)cases[i].size);
		assert_int_equal(f->x.p.blksize, 512);
		assert_int_equal(f->x.p.oack.present, 0); /* no options: DATA 1 straight away */
		assert_true(run_client(f, 10 * SEC) == cases[i].blocks);
		fake_free(f);
	}
}

static void test_oack_blksize_tsize(void **state)
{
	struct tftp_opts o = {0};
	struct fake *f;

	tftp_opt_set(&o, TFTP_OPT_BLKSIZE, 1468);
	tftp_opt_set(&o, TFTP_OPT_TSIZE, 0);
	f = fake_new(NULL, 100000, TFTP_MODE_OCTET, &o);
	assert_int_equal(step(f, TFTP_XEV_START, NULL, 0), TFTP_XS_OACK_SENT);
	assert_int_equal(f->npkts, 1);
	static const uint8_t want[] = "\0\6blksize\0"
				      "1468\0tsize\0"
				      "100000";
	assert_int_equal(f->pkts[0].len, sizeof(want));
	assert_memory_equal(f->pkts[0].b, want, sizeof(want));
	/* An ACK for anything but block 0 does not start the data. */
	assert_int_equal(ack(f, 1, 0), TFTP_XS_OACK_SENT);
	assert_int_equal(f->npkts, 0);
	fake_free(f);

	f = fake_new(NULL, 100000, TFTP_MODE_OCTET, &o);
	assert_true(run_client(f, 0) == 100000 / 1468 + 1);
	fake_free(f);
}

/* More than 65535 blocks: the wire block number wraps to 0 and the data
 * still comes from the right offset. */
static void test_rollover(void **state)
{
	for (uint64_t win = 1; win <= 4; win += 3) {
		struct tftp_opts o = {0};
		struct fake *f;

		tftp_opt_set(&o, TFTP_OPT_BLKSIZE, 8);
		tftp_opt_set(&o, TFTP_OPT_WINDOWSIZE, win);
		f = fake_new(NULL, 8ull * 70000 + 3, TFTP_MODE_OCTET, &o);
		assert_int_equal(f->x.p.windowsize, win);
		assert_true(run_client(f, 0) == 70001);
		assert_true(f->x.acked == 70001);
		fake_free(f);
	}
}

static void test_window_with_loss(void **state)
{
	struct tftp_opts o = {0};
	struct fake *f;

	tftp_opt_set(&o, TFTP_OPT_WINDOWSIZE, 4);
	f = fake_new(NULL, 512 * 10 + 100, TFTP_MODE_OCTET, &o);
	step(f, TFTP_XEV_START, NULL, 0);
	assert_int_equal(pkt_op(&f->pkts[0]), TFTP_OACK);
	assert_int_equal(ack(f, 0, 0), TFTP_XS_DATA_SENT);
	assert_int_equal(f->npkts, 4);
	for (int i = 0; i < 4; i++)
		check_data(f, &f->pkts[i], 1 + (uint64_t)i);
	/* Block 3 was lost: the client acknowledges 2, the window resumes at 3. */
	assert_int_equal(ack(f, 2, 1000), TFTP_XS_DATA_SENT);
	assert_int_equal(f->npkts, 4);
	for (int i = 0; i < 4; i++)
		check_data(f, &f->pkts[i], 3 + (uint64_t)i);
	assert_true(f->x.retransmits == 2); /* 3 and 4 went out twice */
	assert_int_equal(f->timer, 1000 + SEC);
	/* An ACK older than the window and a duplicate are both ignored. */
	assert_int_equal(ack(f, 1, 2000), TFTP_XS_DATA_SENT);
	assert_int_equal(f->npkts, 0);
	assert_int_equal(ack(f, 2, 2000), TFTP_XS_DATA_SENT);
	assert_int_equal(f->npkts, 0);
	assert_int_equal(f->timer, 1000 + SEC);
	/* A block never sent is not acknowledgeable. */
	assert_int_equal(ack(f, 9, 2000), TFTP_XS_DATA_SENT);
	assert_int_equal(f->npkts, 0);
	assert_int_equal(ack(f, 6, 3000), TFTP_XS_DATA_SENT);
	assert_int_equal(f->npkts, 4);
	check_data(f, &f->pkts[0], 7);
	check_data(f, &f->pkts[3], 10);
	/* The last window holds only the short block 11. */
	assert_int_equal(ack(f, 10, 4000), TFTP_XS_DATA_SENT);
	assert_int_equal(f->npkts, 1);
	assert_int_equal(check_data(f, &f->pkts[0], 11), 100);
	assert_int_equal(ack(f, 11, 5000), TFTP_XS_DONE);
	assert_int_equal(f->timer, 0);
	assert_true(f->x.bytes_sent == 512 * 10 + 100);
	fake_free(f);
}

/* The window ends early at the last block even when it would hold more. */
static void test_window_larger_than_file(void **state)
{
	struct tftp_opts o = {0};
	struct fake *f;

	tftp_opt_set(&o, TFTP_OPT_WINDOWSIZE, 8);
	f = fake_new(NULL, 1024, TFTP_MODE_OCTET, &o);
	step(f, TFTP_XEV_START, NULL, 0);
	assert_int_equal(ack(f, 0, 0), TFTP_XS_DATA_SENT);
	assert_int_equal(f->npkts, 3); /* 512, 512, empty */
	assert_int_equal(check_data(f, &f->pkts[2], 3), 0);
	assert_int_equal(ack(f, 3, 0), TFTP_XS_DONE);
	fake_free(f);
}

/* RFC 1123 4.2.3.1: a duplicate ACK never triggers a retransmission. */
static void test_duplicate_ack(void **state)
{
	struct fake *f = fake_new(NULL, 2000, TFTP_MODE_OCTET, NULL);

	step(f, TFTP_XEV_START, NULL, 0);
	assert_int_equal(ack(f, 1, 100), TFTP_XS_DATA_SENT);
	assert_int_equal(f->npkts, 1);
	check_data(f, &f->pkts[0], 2);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(ack(f, 1, 200), TFTP_XS_DATA_SENT);
		assert_int_equal(f->npkts, 0);
		assert_int_equal(f->timer, 100 + SEC);
	}
	assert_int_equal(ack(f, 0, 300), TFTP_XS_DATA_SENT);
	assert_int_equal(f->npkts, 0);
	assert_true(f->x.retransmits == 0);
	fake_free(f);
}

static void test_timeout_backoff_and_give_up(void **state)
{
	/* 1 s, then doubling, capped at 8 s; five retries, then failure. */
	static const uint64_t deadlines[] = {1, 3, 7, 15, 23, 31};
	struct fake *f = fake_new(NULL, 2000, TFTP_MODE_OCTET, NULL);

	assert_int_equal(step(f, TFTP_XEV_START, NULL, 0), TFTP_XS_DATA_SENT);
	/* The client answers block 1; block 2 is never acknowledged. */
	assert_int_equal(ack(f, 1, 0), TFTP_XS_DATA_SENT);
	assert_int_equal(f->timer, deadlines[0] * SEC);
	/* A wake-up before the deadline changes nothing. */
	assert_int_equal(step(f, TFTP_XEV_TIMEOUT, NULL, SEC / 2), TFTP_XS_DATA_SENT);
	assert_int_equal(f->npkts, 0);
	assert_int_equal(f->timer, SEC);
	for (int i = 1; i < 6; i++) {
		assert_int_equal(step(f, TFTP_XEV_TIMEOUT, NULL, deadlines[i - 1] * SEC),
				 TFTP_XS_DATA_SENT);
		assert_int_equal(f->npkts, 1);
		check_data(f, &f->pkts[0], 2);
		assert_int_equal(f->timer, deadlines[i] * SEC);
	}
	assert_int_equal(step(f, TFTP_XEV_TIMEOUT, NULL, 31 * SEC), TFTP_XS_FAILED);
	assert_int_equal(f->npkts, 0);
	assert_int_equal(f->timer, 0);
	assert_string_equal(f->x.fail_reason, "timed out");
	assert_true(f->x.retransmits == 5);
	/* Once ended, nothing moves it. */
	assert_int_equal(ack(f, 1, 32 * SEC), TFTP_XS_FAILED);
	assert_int_equal(f->npkts, 0);
	assert_int_equal(f->timer, 0);
	fake_free(f);
}

static void test_timeout_negotiated_and_progress_resets(void **state)
{
	struct tftp_opts o = {0};
	struct fake *f;

	tftp_opt_set(&o, TFTP_OPT_TIMEOUT, 3);
	f = fake_new(NULL, 5000, TFTP_MODE_OCTET, &o);
	step(f, TFTP_XEV_START, NULL, 0);
	assert_int_equal(f->timer, 3 * SEC); /* RFC 2349: the client's timeout */
	step(f, TFTP_XEV_TIMEOUT, NULL, 3 * SEC);
	assert_int_equal(pkt_op(&f->pkts[0]), TFTP_OACK);
	assert_int_equal(f->timer, 9 * SEC);
	step(f, TFTP_XEV_TIMEOUT, NULL, 9 * SEC);
	assert_int_equal(f->timer, 17 * SEC); /* 12 s capped at 8 s */
	assert_int_equal(ack(f, 0, 10 * SEC), TFTP_XS_DATA_SENT);
	assert_int_equal(f->timer, 13 * SEC);
	assert_int_equal(f->x.retries, 0);
	fake_free(f);
}

/* The last ACK is lost: the last block is resent, then the transfer fails. */
static void test_lost_last_ack(void **state)
{
	struct fake *f = fake_new(NULL, 600, TFTP_MODE_OCTET, NULL);
	uint64_t now = 0;

	step(f, TFTP_XEV_START, NULL, now);
	ack(f, 1, now);
	while (step(f, TFTP_XEV_TIMEOUT, NULL, now = f->timer) == TFTP_XS_DATA_SENT)
		check_data(f, &f->pkts[0], 2);
	assert_int_equal(f->x.state, TFTP_XS_FAILED);
	assert_string_equal(f->x.fail_reason, "no ACK for the last block");
	assert_true(now < 60 * SEC); /* an idle transfer always ends */
	fake_free(f);
}

static void test_send_failure_is_a_loss(void **state)
{
	struct tftp_opts o = {0};
	struct fake *f;

	tftp_opt_set(&o, TFTP_OPT_WINDOWSIZE, 4);
	f = fake_new(NULL, 4096, TFTP_MODE_OCTET, &o);
	step(f, TFTP_XEV_START, NULL, 0);
	f->fail_send_at = 2; /* the OACK was send 0; blocks 1, 2(lost), ... */
	assert_int_equal(ack(f, 0, 0), TFTP_XS_DATA_SENT);
	assert_int_equal(f->npkts, 1); /* the burst stops at the refused packet */
	assert_int_equal(f->timer, SEC);
	assert_int_equal(step(f, TFTP_XEV_TIMEOUT, NULL, SEC), TFTP_XS_DATA_SENT);
	assert_int_equal(f->npkts, 4);
	check_data(f, &f->pkts[0], 1);
	check_data(f, &f->pkts[3], 4);
	fake_free(f);
}

/* EDK2 aborts its tsize probe with ERROR 8: the transfer ends, nothing is sent. */
static void test_client_error(void **state)
{
	static const uint8_t pkt[] = "\0\5\0\x08"
				     "User aborted the transfer";
	struct tftp_opts o = {0};
	struct tftp_msg m;
	struct fake *f;

	tftp_opt_set(&o, TFTP_OPT_TSIZE, 0);
	f = fake_new(NULL, 4096, TFTP_MODE_OCTET, &o);
	step(f, TFTP_XEV_START, NULL, 0);
	assert_int_equal(tftp_decode_msg(pkt, sizeof(pkt), &m), 0);
	assert_int_equal(step(f, TFTP_XEV_PACKET, &m, 100), TFTP_XS_FAILED);
	assert_int_equal(f->npkts, 0);
	assert_int_equal(f->timer, 0);
	assert_true(f->x.client_error);
	assert_false(f->x.error_sent); /* an ERROR is never answered */
	assert_int_equal(f->x.client_err_code, 8);
	assert_int_equal(f->x.client_err_len, strlen("User aborted the transfer"));
	assert_memory_equal(f->x.client_err_text, "User aborted", 12);
	fake_free(f);

	/* Mid-transfer, with a message longer than we keep. */
	uint8_t big[200] = {0, 5, 0, 0};
	memset(big + 4, 'x', sizeof(big) - 4);
	f = fake_new(NULL, 4096, TFTP_MODE_OCTET, NULL);
	step(f, TFTP_XEV_START, NULL, 0);
	ack(f, 1, 0);
	assert_int_equal(tftp_decode_msg(big, sizeof(big), &m), 0);
	assert_int_equal(step(f, TFTP_XEV_PACKET, &m, 100), TFTP_XS_FAILED);
	assert_int_equal(f->x.client_err_len, TFTP_ERRMSG_MAX);
	fake_free(f);
}

static void test_other_packets_ignored(void **state)
{
	struct fake *f = fake_new(NULL, 4096, TFTP_MODE_OCTET, NULL);
	struct tftp_msg data = {.opcode = TFTP_DATA, .block = 1};
	struct tftp_msg rrq = {.opcode = TFTP_RRQ};

	step(f, TFTP_XEV_START, NULL, 0);
	assert_int_equal(step(f, TFTP_XEV_PACKET, &data, 1), TFTP_XS_DATA_SENT);
	assert_int_equal(step(f, TFTP_XEV_PACKET, &rrq, 1), TFTP_XS_DATA_SENT);
	assert_int_equal(step(f, TFTP_XEV_PACKET, NULL, 1), TFTP_XS_DATA_SENT);
	assert_int_equal(step(f, TFTP_XEV_START, NULL, 1), TFTP_XS_DATA_SENT);
	assert_int_equal(f->npkts, 0);
	assert_int_equal(f->timer, SEC);
	fake_free(f);
}

static void test_abort(void **state)
{
	struct fake *f = fake_new(NULL, 4096, TFTP_MODE_OCTET, NULL);

	step(f, TFTP_XEV_START, NULL, 0);
	assert_int_equal(step(f, TFTP_XEV_ABORT, NULL, 1), TFTP_XS_FAILED);
	assert_int_equal(f->npkts, 1);
	assert_int_equal(pkt_op(&f->pkts[0]), TFTP_ERROR);
	assert_int_equal(pkt_block(&f->pkts[0]), TFTP_ERR_UNDEF);
	assert_true(f->x.error_sent);
	assert_int_equal(f->timer, 0);
	fake_free(f);
}

static void test_read_error(void **state)
{
	struct fake *f = fake_new(NULL, 4096, TFTP_MODE_OCTET, NULL);

	f->fail_reads = 1;
	step(f, TFTP_XEV_START, NULL, 0);
	assert_int_equal(ack(f, 1, 10), TFTP_XS_FAILED);
	assert_int_equal(f->npkts, 1);
	assert_int_equal(pkt_op(&f->pkts[0]), TFTP_ERROR);
	assert_string_equal(f->x.fail_reason, "read error");
	fake_free(f);
}

static void test_negotiate(void **state)
{
	struct tftp_xfer_params p;
	struct tftp_opts o = {0};

	tftp_opt_set(&o, TFTP_OPT_BLKSIZE, 65464);
	tftp_opt_set(&o, TFTP_OPT_WINDOWSIZE, 65535);
	tftp_opt_set(&o, TFTP_OPT_TSIZE, 12345);
	assert_int_equal(tftp_xfer_negotiate(&o, TFTP_MODE_OCTET, 77, 1468, &p), 0);
	assert_int_equal(p.blksize, 1468); /* capped by the path */
	assert_true(p.oack.val[TFTP_OPT_BLKSIZE] == 1468);
	assert_true(p.oack.val[TFTP_OPT_TSIZE] == 77); /* the real size */
	assert_int_equal(p.windowsize, TFTP_WINDOW_MAX);
	assert_true(p.oack.val[TFTP_OPT_WINDOWSIZE] == TFTP_WINDOW_MAX);
	assert_true(tftp_xfer_buf_size(&p) >= 1468 + 4);

	assert_int_equal(tftp_xfer_negotiate(&o, TFTP_MODE_OCTET, 77, TFTP_BLKSIZE_MAX, &p), 0);
	assert_int_equal(p.blksize, 65464);
	assert_int_equal(p.windowsize, TFTP_WINDOW_BYTES_MAX / 65464); /* bytes in flight */
	assert_int_equal(p.windowsize, 16);
	assert_int_equal(tftp_xfer_buf_size(&p), 65468);

	/* Netascii: no windowsize (lockstep rebuild) and no tsize (size unknown). */
	assert_int_equal(tftp_xfer_negotiate(&o, TFTP_MODE_NETASCII, 77, 1468, &p), 0);
	assert_int_equal(p.windowsize, 1);
	assert_int_equal(p.oack.present, 1u << TFTP_OPT_BLKSIZE);

	/* An empty file: no tsize in the OACK (curl refuses "tsize 0"). */
	struct tftp_opts ts = {0};
	tftp_opt_set(&ts, TFTP_OPT_TSIZE, 0);
	assert_int_equal(tftp_xfer_negotiate(&ts, TFTP_MODE_OCTET, 0, 1468, &p), 0);
	assert_int_equal(p.oack.present, 0);
	assert_int_equal(tftp_xfer_negotiate(&ts, TFTP_MODE_OCTET, 1, 1468, &p), 0);
	assert_int_equal(p.oack.present, 1u << TFTP_OPT_TSIZE);

	struct tftp_opts none = {0};
	assert_int_equal(tftp_xfer_negotiate(&none, TFTP_MODE_OCTET, 77, 1468, &p), 0);
	assert_int_equal(p.blksize, 512);
	assert_int_equal(p.oack.present, 0);
	assert_int_equal(tftp_xfer_buf_size(&p), 516);
	assert_int_equal(tftp_xfer_negotiate(&none, TFTP_MODE_OCTET, 77, 7, &p), -EINVAL);
}

static void ascii_case(const char *in, uint64_t blksize, const char *const *blocks,
		       const size_t *lens, size_t nblocks)
{
	struct tftp_opts o = {0};
	struct fake *f;

	if (blksize != 512)
		tftp_opt_set(&o, TFTP_OPT_BLKSIZE, blksize);
	f = fake_new((const uint8_t *)in, strlen(in), TFTP_MODE_NETASCII, &o);
	step(f, TFTP_XEV_START, NULL, 0);
	if (f->x.p.oack.present)
		ack(f, 0, 0);
	for (size_t i = 0; i < nblocks; i++) {
		assert_int_equal(f->npkts, 1);
		assert_int_equal(pkt_block(&f->pkts[0]), i + 1);
		assert_int_equal(f->pkts[0].len, TFTP_DATA_HDR + lens[i]);
		assert_memory_equal(f->pkts[0].b + TFTP_DATA_HDR, blocks[i], lens[i]);
		/* A timeout resends the same bytes (rebuilt from the block's start). */
		step(f, TFTP_XEV_TIMEOUT, NULL, f->timer);
		assert_int_equal(f->pkts[0].len, TFTP_DATA_HDR + lens[i]);
		assert_memory_equal(f->pkts[0].b + TFTP_DATA_HDR, blocks[i], lens[i]);
		ack(f, (uint16_t)(i + 1), f->timer);
	}
	assert_int_equal(f->x.state, TFTP_XS_DONE);
	fake_free(f);
}

static void test_netascii(void **state)
{
	static const char *const one[] = {"a\r\nb\r\0\r\nc"};
	static const size_t one_len[] = {9};
	ascii_case("a\nb\r\nc", 512, one, one_len, 1);

	/* The CR LF pair straddles the block boundary. */
	static const char *const split[] = {"abcdefg\r", "\n"};
	static const size_t split_len[] = {8, 1};
	ascii_case("abcdefg\n", 8, split, split_len, 2);

	/* Exactly one full block of output: an empty block ends the file. */
	static const char *const full[] = {"abcdef\r\0", ""};
	static const size_t full_len[] = {8, 0};
	ascii_case("abcdef\r", 8, full, full_len, 2);

	static const char *const empty[] = {""};
	static const size_t empty_len[] = {0};
	ascii_case("", 512, empty, empty_len, 1);
}

/*
 * A client that never answers (a lost or spoofed request) is given up after
 * three retransmissions, at 15 s, where one that answered once gets five (31 s).
 */
static void test_unanswered_ends_sooner(void **state)
{
	struct tftp_opts o = {0};
	struct fake *f = fake_new(NULL, 2000, TFTP_MODE_OCTET, NULL);

	step(f, TFTP_XEV_START, NULL, 0);
	assert_false(f->x.answered);
	assert_int_equal(step(f, TFTP_XEV_TIMEOUT, NULL, 1 * SEC), TFTP_XS_DATA_SENT);
	assert_int_equal(step(f, TFTP_XEV_TIMEOUT, NULL, 3 * SEC), TFTP_XS_DATA_SENT);
	assert_int_equal(step(f, TFTP_XEV_TIMEOUT, NULL, 7 * SEC), TFTP_XS_DATA_SENT);
	assert_int_equal(f->timer, 15 * SEC);
	assert_int_equal(step(f, TFTP_XEV_TIMEOUT, NULL, 15 * SEC), TFTP_XS_FAILED);
	assert_string_equal(f->x.fail_reason, "no answer to the first packet");
	assert_int_equal(f->npkts, 0); /* no ERROR to an address that may be spoofed */
	assert_false(f->x.error_sent);
	fake_free(f);
	/* The same with an OACK that is never acknowledged. */
	tftp_opt_set(&o, TFTP_OPT_BLKSIZE, 1024);
	f = fake_new(NULL, 5000, TFTP_MODE_OCTET, &o);
	step(f, TFTP_XEV_START, NULL, 0);
	step(f, TFTP_XEV_TIMEOUT, NULL, 1 * SEC);
	step(f, TFTP_XEV_TIMEOUT, NULL, 3 * SEC);
	step(f, TFTP_XEV_TIMEOUT, NULL, 7 * SEC);
	assert_int_equal(step(f, TFTP_XEV_TIMEOUT, NULL, 15 * SEC), TFTP_XS_FAILED);
	fake_free(f);
	/* ACK 0 of the OACK is an answer: the long patience applies from then on. */
	f = fake_new(NULL, 5000, TFTP_MODE_OCTET, &o);
	step(f, TFTP_XEV_START, NULL, 0);
	assert_int_equal(ack(f, 0, 0), TFTP_XS_DATA_SENT);
	assert_true(f->x.answered);
	for (uint64_t t = 1; t <= 23; t = f->timer / SEC)
		assert_int_equal(step(f, TFTP_XEV_TIMEOUT, NULL, f->timer), TFTP_XS_DATA_SENT);
	assert_int_equal(step(f, TFTP_XEV_TIMEOUT, NULL, 31 * SEC), TFTP_XS_FAILED);
	assert_string_equal(f->x.fail_reason, "timed out");
	fake_free(f);
}

/*
 * A lossy link eats the client's ACK of each of our first three DATA 1
 * (sent at 0, 1 and 3 s). tftp-hpa, atftp and curl ACK every DATA 1 they
 * get and, hearing nothing more, ACK again 5 s after the last one (8 s):
 * that ACK must still find the transfer. (Given up at 7 s, it did not, and
 * tftp-hpa waited out its 25 s and failed: a CI run of tftp-lossy.sh.)
 */
static void test_first_acks_lost_client_retry_in_time(void **state)
{
	struct fake *f = fake_new(NULL, 2000, TFTP_MODE_OCTET, NULL);

	step(f, TFTP_XEV_START, NULL, 0);
	assert_int_equal(step(f, TFTP_XEV_TIMEOUT, NULL, 1 * SEC), TFTP_XS_DATA_SENT);
	assert_int_equal(step(f, TFTP_XEV_TIMEOUT, NULL, 3 * SEC), TFTP_XS_DATA_SENT);
	assert_int_equal(step(f, TFTP_XEV_TIMEOUT, NULL, 7 * SEC), TFTP_XS_DATA_SENT);
	assert_int_equal(ack(f, 1, 8 * SEC), TFTP_XS_DATA_SENT);
	assert_true(f->x.answered);
	assert_int_equal(f->npkts, 1);
	assert_int_equal(pkt_block(&f->pkts[0]), 2);
	assert_int_equal(ack(f, 2, 8 * SEC + 1), TFTP_XS_DATA_SENT);
	assert_int_equal(ack(f, 3, 8 * SEC + 2), TFTP_XS_DATA_SENT);
	assert_int_equal(ack(f, 4, 8 * SEC + 3), TFTP_XS_DONE); /* 2000 bytes: 4 blocks */
	fake_free(f);
}

/* Eviction ends a transfer at once and sends nothing. */
static void test_evict(void **state)
{
	struct fake *f = fake_new(NULL, 2000, TFTP_MODE_OCTET, NULL);

	step(f, TFTP_XEV_START, NULL, 0);
	assert_int_equal(step(f, TFTP_XEV_EVICT, NULL, 10), TFTP_XS_FAILED);
	assert_int_equal(f->npkts, 0);
	assert_int_equal(f->timer, 0);
	assert_false(f->x.error_sent);
	fake_free(f);
}

/*
 * A full table ends an unanswered transfer for a new one only after a first
 * retransmission timeout: before that its first ACK may be in flight.
 */
static void test_evictable_after_one_timeout(void **state)
{
	struct fake *f = fake_new(NULL, 5000, TFTP_MODE_OCTET, NULL);

	step(f, TFTP_XEV_START, NULL, 10 * SEC);
	assert_false(tftp_xfer_evictable(&f->x, 10 * SEC, 10 * SEC));
	assert_false(tftp_xfer_evictable(&f->x, 10 * SEC, 10 * SEC + TFTP_EVICT_AGE_US - 1));
	assert_true(tftp_xfer_evictable(&f->x, 10 * SEC, 10 * SEC + TFTP_EVICT_AGE_US));
	assert_false(tftp_xfer_evictable(&f->x, 10 * SEC, 9 * SEC)); /* clock before start */
	/* Answered, it is never evicted, however old. */
	assert_int_equal(ack(f, 1, 10 * SEC + 1), TFTP_XS_DATA_SENT);
	assert_false(tftp_xfer_evictable(&f->x, 10 * SEC, 100 * SEC));
	fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lockstep_sizes),
	    cmocka_unit_test(test_oack_blksize_tsize),
	    cmocka_unit_test(test_rollover),
	    cmocka_unit_test(test_window_with_loss),
	    cmocka_unit_test(test_window_larger_than_file),
	    cmocka_unit_test(test_duplicate_ack),
	    cmocka_unit_test(test_timeout_backoff_and_give_up),
	    cmocka_unit_test(test_timeout_negotiated_and_progress_resets),
	    cmocka_unit_test(test_lost_last_ack),
	    cmocka_unit_test(test_send_failure_is_a_loss),
	    cmocka_unit_test(test_client_error),
	    cmocka_unit_test(test_other_packets_ignored),
	    cmocka_unit_test(test_abort),
	    cmocka_unit_test(test_read_error),
	    cmocka_unit_test(test_negotiate),
	    cmocka_unit_test(test_netascii),
	    cmocka_unit_test(test_unanswered_ends_sooner),
	    cmocka_unit_test(test_first_acks_lost_client_retry_in_time),
	    cmocka_unit_test(test_evict),
	    cmocka_unit_test(test_evictable_after_one_timeout),
	};
	int failed = cmocka_run_group_tests_name("one packet per send", tests, NULL, NULL);

	direct = true;
	return failed + cmocka_run_group_tests_name("a window per send_data", tests, NULL, NULL);
}
