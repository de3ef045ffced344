/*
 * libFuzzer target for the TFTP write (upload) state machine.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *     tests/fuzz/fuzz_tftp_wxfer.c src/tftp/wire.c src/tftp/wxfer.c src/core/buf.c \
 *     src/core/util.c -o fuzz_tftp_wxfer
 *
 * The first byte says how many of the following bytes are a WRQ; if that
 * WRQ decodes, its options are negotiated (with a size limit taken from the
 * second byte) and an upload runs a script made of the remaining bytes:
 * timeouts, the next DATA in order, DATA with any block number and length,
 * raw client packets. Every step keeps the machine's invariants.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tftp/wire.h"
#include "tftp/wxfer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_ctx {
	uint64_t written; /* bytes written, in order */
	uint64_t max_bytes;
	unsigned finishes;
	unsigned sends;
	unsigned writes;
};

static ssize_t fuzz_write(void *ctx, uint64_t off, const void *src, size_t n)
{
	struct fuzz_ctx *c = ctx;

	assert(c->finishes == 0);
	assert(off == c->written); /* in order, never twice */
	assert(n > 0 && off + n <= c->max_bytes);
	/* One in 97 writes fails like a full disk. */
	if (++c->writes % 97 == 0)
		return -ENOSPC;
	c->written += n;
	(void)src;
	return (ssize_t)n;
}

static int fuzz_finish(void *ctx)
{
	struct fuzz_ctx *c = ctx;

	c->finishes++;
	return 0;
}

static int fuzz_send(void *ctx, const void *pkt, size_t len)
{
	struct fuzz_ctx *c = ctx;
	struct tftp_msg m;

	assert(len >= 4 && len <= TFTP_CTRL_MAX);
	/* Whatever we send is one of our own packet kinds. */
	assert(tftp_decode_msg(pkt, len, &m) == 0);
	assert(m.opcode == TFTP_ACK || m.opcode == TFTP_OACK || m.opcode == TFTP_ERROR);
	/* One in 7 sends "fails", exercising the lost-packet path. */
	return (++c->sends % 7 == 0) ? -EAGAIN : 0;
}

static const struct tftp_wxfer_ops fuzz_ops = {
    .write = fuzz_write, .finish = fuzz_finish, .send = fuzz_send};

static void fuzz_check(const struct tftp_wxfer *x, const struct fuzz_ctx *c, uint64_t timer)
{
	assert(x->acked <= x->received);
	assert(x->file_off == c->written && x->file_off <= x->p.max_bytes);
	assert(tftp_wxfer_ended(x) ? timer == 0 : timer != 0 || x->state == TFTP_WS_INIT);
	assert(x->retries <= TFTP_WXFER_RETRIES_MAX);
	assert(c->finishes == (tftp_wxfer_complete(x) ? 1u : 0u));
}

/* Builds DATA for wire block b with n payload bytes (n <= blksize + 1) into pkt. */
static size_t fuzz_data(uint8_t *pkt, size_t cap, uint16_t b, size_t n, uint8_t fill)
{
	memset(pkt + TFTP_DATA_HDR, fill, n);
	return (size_t)tftp_encode_data(pkt, cap, b, pkt + TFTP_DATA_HDR, n);
}

/* Runs the script s against an upload; every step keeps the invariants. */
static void fuzz_upload(const struct tftp_req *req, uint64_t max_bytes, const uint8_t *s, size_t n)
{
	struct fuzz_ctx c = {.max_bytes = max_bytes};
	struct tftp_wxfer_params p;
	struct tftp_wxfer x;
	uint64_t now = 1000, timer = 0;
	size_t cap;
	uint8_t *pkt;

	if (tftp_wxfer_negotiate(&req->opts, req->mode, TFTP_BLKSIZE_MAX, max_bytes, &p) < 0 ||
	    tftp_wxfer_init(&x, &p, &fuzz_ops, &c) < 0)
		return;
	cap = tftp_wxfer_rx_size(&p) + 1;
	pkt = malloc(cap);
	if (pkt == NULL)
		return;
	tftp_wxfer_step(&x, &(struct tftp_wxfer_event){.kind = TFTP_WEV_START}, now, &timer);
	fuzz_check(&x, &c, timer);
	for (size_t i = 0; i < n && !tftp_wxfer_ended(&x); i++) {
		struct tftp_wxfer_event ev = {.kind = TFTP_WEV_PACKET, .pkt = pkt};
		uint8_t op = s[i];
		now += op >> 4; /* time passes a little with every step */
		switch (op & 3) {
		case 0:
			ev.kind = TFTP_WEV_TIMEOUT;
			now = timer > now ? timer : now;
			break;
		case 1: { /* the next block in order: full, or short (the last) */
			size_t len = (op & 4) ? p.blksize : (op >> 3) % (p.blksize + 1u);
			ev.len = fuzz_data(pkt, cap, (uint16_t)(x.received + 1), len, op);
			break;
		}
		case 2: { /* any block number, any length up to blksize + 1 */
			uint16_t b = i + 2 < n ? (uint16_t)(s[i + 1] << 8 | s[i + 2]) : 0;
			size_t len = i + 3 < n ? s[i + 3] * (p.blksize + 1u) / 255u : 0;
			i += 3;
			ev.len = fuzz_data(pkt, cap, b, len, op);
			break;
		}
		case 3: { /* a raw packet of up to 15 bytes */
			size_t len = (op >> 2) & 15;
			if (len > n - i - 1)
				len = n - i - 1;
			memcpy(pkt, s + i + 1, len);
			ev.len = len;
			i += len;
			break;
		}
		}
		tftp_wxfer_step(&x, &ev, now, &timer);
		fuzz_check(&x, &c, timer);
	}
	if (!tftp_wxfer_ended(&x))
		tftp_wxfer_step(&x, &(struct tftp_wxfer_event){.kind = TFTP_WEV_ABORT}, now,
				&timer);
	assert(tftp_wxfer_ended(&x) && timer == 0);
	free(pkt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tftp_req req;
	size_t wrq_len;

	if (size < 2)
		return 0;
	wrq_len = data[0] < size - 2 ? data[0] : size - 2;
	if (tftp_decode_req(data + 2, wrq_len, &req) == 0 && req.opcode == TFTP_WRQ)
		fuzz_upload(&req, 1 + (uint64_t)data[1] * 97, data + 2 + wrq_len,
			    size - 2 - wrq_len);
	return 0;
}
