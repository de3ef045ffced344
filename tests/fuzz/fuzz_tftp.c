/*
 * libFuzzer target for the TFTP codec and the transfer state machine.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *     tests/fuzz/fuzz_tftp.c src/tftp/wire.c src/tftp/xfer.c src/core/buf.c \
 *     src/core/util.c -o fuzz_tftp
 *
 * The whole input is fed to both decoders. Then it is split: the first byte
 * says how many of the following bytes are an RRQ; if that RRQ decodes, its
 * options are negotiated and a transfer of a generated file runs a script
 * made of the remaining bytes (timeouts, ACKs, raw client packets).
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tftp/wire.h"
#include "tftp/xfer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_ctx {
	uint64_t size;
	size_t cap;
	uint64_t last_data_block; /* 16-bit wire number of the last DATA sent */
	unsigned sends;
};

static ssize_t fuzz_read(void *ctx, uint64_t off, void *dst, size_t n)
{
	struct fuzz_ctx *c = ctx;

	assert(off <= c->size && n <= c->size - off);
	for (size_t i = 0; i < n; i++)
		((uint8_t *)dst)[i] = (uint8_t)(off + i);
	return (ssize_t)n;
}

static int fuzz_send(void *ctx, const void *pkt, size_t len)
{
	struct fuzz_ctx *c = ctx;
	const uint8_t *p = pkt;
	struct tftp_msg m;

	assert(len <= c->cap && len >= 2);
	/* Whatever we send must decode as one of our own packet kinds. */
	assert(tftp_decode_msg(p, len, &m) == 0 || len < 4);
	if (len >= 4 && m.opcode == TFTP_DATA)
		c->last_data_block = m.block;
	/* One in 7 sends "fails", exercising the lost-packet path. */
	return (++c->sends % 7 == 0) ? -11 : 0;
}

/* The server's window path: blocks in order, in the file, one window at most. */
static int fuzz_send_data(void *ctx, const struct tftp_block *b, unsigned n)
{
	struct fuzz_ctx *c = ctx;
	unsigned i;

	assert(n >= 1 && n <= TFTP_WINDOW_MAX);
	for (i = 0; i < n; i++) {
		assert(b[i].off <= c->size && b[i].len <= c->size - b[i].off);
		assert(i == 0 || b[i].block == b[i - 1].block + 1);
		if (++c->sends % 7 == 0)
			break; /* the socket takes only the first i packets */
		c->last_data_block = (uint16_t)b[i].block;
	}
	return (int)i;
}

static const struct tftp_xfer_ops fuzz_ops = {.read = fuzz_read, .send = fuzz_send};
static const struct tftp_xfer_ops fuzz_ops_direct = {
    .read = fuzz_read, .send = fuzz_send, .send_data = fuzz_send_data};

static void fuzz_check(const struct tftp_xfer *x, uint64_t timer)
{
	assert(x->acked <= x->sent_hi);
	assert(x->sent_hi - x->acked <= x->p.windowsize);
	assert(tftp_xfer_ended(x) ? timer == 0 : timer != 0 || x->state == TFTP_XS_INIT);
	assert(x->retries <= TFTP_RETRIES_MAX);
}

/* Runs the script in s against a transfer; every step keeps the invariants. */
static void fuzz_transfer(const struct tftp_req *req, const uint8_t *s, size_t n)
{
	struct fuzz_ctx c = {0};
	struct tftp_xfer_params p;
	struct tftp_xfer x;
	uint64_t now = 1000, timer = 0;
	uint8_t *buf;

	/* A file size from the RRQ's name length: small, and sometimes a block multiple. */
	c.size = (uint64_t)req->filename_len * 97 % 5000;
	if (tftp_xfer_negotiate(&req->opts, req->mode, c.size, TFTP_BLKSIZE_MAX, &p) < 0)
		return;
	c.cap = tftp_xfer_buf_size(&p);
	buf = malloc(c.cap);
	/* Odd name lengths take the server's window path. */
	if (buf == NULL ||
	    tftp_xfer_init(&x, &p, req->filename_len & 1 ? &fuzz_ops_direct : &fuzz_ops, &c, buf,
			   c.cap) < 0) {
		free(buf);
		return;
	}
	tftp_xfer_step(&x, &(struct tftp_xfer_event){.kind = TFTP_XEV_START}, now, &timer);
	fuzz_check(&x, timer);
	for (size_t i = 0; i < n && !tftp_xfer_ended(&x); i++) {
		struct tftp_xfer_event ev = {.kind = TFTP_XEV_PACKET};
		struct tftp_msg m = {.opcode = TFTP_ACK};
		uint8_t op = s[i];
		now += op >> 4; /* time passes a little with every step */
		switch (op & 3) {
		case 0:
			ev.kind = TFTP_XEV_TIMEOUT;
			now = timer > now ? timer : now;
			break;
		case 1: /* ACK the last DATA sent (progress) */
			m.block = (uint16_t)c.last_data_block;
			ev.msg = &m;
			break;
		case 2: /* ACK of an arbitrary block */
			m.block = i + 2 < n ? (uint16_t)(s[i + 1] << 8 | s[i + 2]) : 0;
			i += 2;
			ev.msg = &m;
			break;
		case 3: { /* a raw packet of up to 15 bytes */
			size_t len = (op >> 2) & 15;
			if (len > n - i - 1)
				len = n - i - 1;
			if (tftp_decode_msg(s + i + 1, len, &m) < 0) {
				i += len;
				continue;
			}
			i += len;
			ev.msg = &m;
			break;
		}
		}
		tftp_xfer_step(&x, &ev, now, &timer);
		fuzz_check(&x, timer);
	}
	if (!tftp_xfer_ended(&x))
		tftp_xfer_step(&x, &(struct tftp_xfer_event){.kind = TFTP_XEV_ABORT}, now, &timer);
	assert(tftp_xfer_ended(&x) && timer == 0);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tftp_req req;
	struct tftp_msg msg;
	size_t rrq_len;

	if (tftp_decode_req(data, size, &req) == 0) {
		assert(req.filename_len > 0 && req.filename_len <= TFTP_FILENAME_MAX);
		assert(strlen(req.filename) == req.filename_len);
	} else {
		assert(req.err_msg != NULL);
	}
	if (tftp_decode_msg(data, size, &msg) == 0 && msg.opcode == TFTP_ERROR)
		assert(msg.text_len <= size - 4);
	if (size < 1)
		return 0;
	rrq_len = data[0] < size - 1 ? data[0] : size - 1;
	if (tftp_decode_req(data + 1, rrq_len, &req) == 0 && req.opcode == TFTP_RRQ)
		fuzz_transfer(&req, data + 1 + rrq_len, size - 1 - rrq_len);
	return 0;
}
