#include "tftp/xfer.h"

#include <errno.h>
#include <string.h>

static const char *const tftp_xfer_state_names[TFTP_XS_COUNT] = {
    [TFTP_XS_INIT] = "init", [TFTP_XS_OACK_SENT] = "oack-sent", [TFTP_XS_DATA_SENT] = "data-sent",
    [TFTP_XS_DONE] = "done", [TFTP_XS_FAILED] = "failed",
};

const char *tftp_xfer_state_name(enum tftp_xfer_state s)
{
	return (unsigned)s < TFTP_XS_COUNT ? tftp_xfer_state_names[s] : "?";
}

static uint64_t u64_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

int tftp_xfer_negotiate(const struct tftp_opts *asked, enum tftp_mode mode, uint64_t size,
			uint16_t max_blksize, struct tftp_xfer_params *out)
{
	bool octet = mode == TFTP_MODE_OCTET;

	if (max_blksize < TFTP_BLKSIZE_MIN || max_blksize > TFTP_BLKSIZE_MAX)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->size = size;
	out->mode = mode;
	out->blksize = TFTP_BLKSIZE_DEFAULT;
	out->windowsize = 1;
	/* RFC 2348: the server may answer a smaller block size than asked. */
	if (tftp_opt_has(asked, TFTP_OPT_BLKSIZE)) {
		out->blksize = (uint16_t)u64_min(asked->val[TFTP_OPT_BLKSIZE], max_blksize);
		tftp_opt_set(&out->oack, TFTP_OPT_BLKSIZE, out->blksize);
	}
	/*
	 * RFC 2349: the reply carries the real size, whatever the RRQ said. curl
	 * (lib/tftp.c) fails on "tsize 0" in an OACK; RFC 2347 lets a server leave
	 * any option out, so an empty file is sent without it.
	 */
	if (octet && size > 0 && tftp_opt_has(asked, TFTP_OPT_TSIZE))
		tftp_opt_set(&out->oack, TFTP_OPT_TSIZE, size);
	/* RFC 2349: the timeout is accepted as asked and echoed unchanged. */
	if (tftp_opt_has(asked, TFTP_OPT_TIMEOUT)) {
		out->timeout_s = (uint8_t)asked->val[TFTP_OPT_TIMEOUT];
		tftp_opt_set(&out->oack, TFTP_OPT_TIMEOUT, out->timeout_s);
	}
	if (octet && tftp_opt_has(asked, TFTP_OPT_WINDOWSIZE)) {
		out->windowsize = tftp_window_cap(asked->val[TFTP_OPT_WINDOWSIZE], out->blksize,
						  TFTP_WINDOW_MAX, TFTP_WINDOW_BYTES_MAX);
		tftp_opt_set(&out->oack, TFTP_OPT_WINDOWSIZE, out->windowsize);
	}
	return 0;
}

size_t tftp_xfer_buf_size(const struct tftp_xfer_params *p)
{
	size_t data = (size_t)p->blksize + TFTP_DATA_HDR;

	return data > TFTP_CTRL_MAX ? data : TFTP_CTRL_MAX;
}

int tftp_xfer_init(struct tftp_xfer *x, const struct tftp_xfer_params *p,
		   const struct tftp_xfer_ops *ops, void *ctx, uint8_t *buf, size_t cap)
{
	if (p->blksize < TFTP_BLKSIZE_MIN || p->windowsize == 0 || cap < tftp_xfer_buf_size(p))
		return -EINVAL;
	if (p->mode == TFTP_MODE_NETASCII && p->windowsize != 1)
		return -EINVAL; /* a netascii block is rebuilt from its start: lockstep only */
	memset(x, 0, sizeof(*x));
	x->state = TFTP_XS_INIT;
	x->p = *p;
	x->ops = ops;
	x->ctx = ctx;
	x->buf = buf;
	x->cap = cap;
	/* RFC 1350: a block shorter than blksize, possibly empty, ends the file. */
	if (p->mode == TFTP_MODE_OCTET)
		x->final_block = p->size / p->blksize + 1;
	return 0;
}

/* Exponential backoff from the negotiated (RFC 2349) or default timeout. */
static uint64_t tftp_xfer_interval(const struct tftp_xfer *x)
{
	return tftp_backoff_us(x->p.timeout_s, x->retries, TFTP_TIMEOUT_DEFAULT_US,
			       TFTP_BACKOFF_CAP_US);
}

static void tftp_xfer_arm(struct tftp_xfer *x, uint64_t now_us)
{
	x->deadline_us = now_us + tftp_xfer_interval(x);
}

static void tftp_xfer_send(struct tftp_xfer *x, size_t len, int *rc)
{
	x->packets_sent++;
	*rc = x->ops->send(x->ctx, x->buf, len);
}

/* Ends the transfer; code >= 0 also tells the client with an ERROR packet. */
static void tftp_xfer_fail(struct tftp_xfer *x, const char *reason, int code, const char *msg)
{
	int len, rc;

	if (code >= 0) {
		len = tftp_encode_error(x->buf, x->cap, (uint16_t)code, msg);
		if (len > 0) {
			tftp_xfer_send(x, (size_t)len, &rc);
			x->error_sent = rc == 0;
		}
	}
	x->fail_reason = reason;
	x->state = TFTP_XS_FAILED;
	x->deadline_us = 0;
}

/*
 * RFC 1350 netascii (RFC 764): LF goes out as CR LF and CR as CR NUL. The
 * second byte of a pair that does not fit waits for the next block.
 */
static size_t tftp_ascii_put(uint8_t *out, size_t o, size_t cap, uint8_t c,
			     struct tftp_ascii_pos *pos)
{
	uint8_t second = c == '\n' ? '\n' : '\0';

	if (c != '\n' && c != '\r') {
		out[o++] = c;
		return o;
	}
	out[o++] = '\r';
	if (o < cap) {
		out[o++] = second;
	} else {
		pos->pending = second;
		pos->has_pending = true;
	}
	return o;
}

/* Builds block acked+1 from na_start (lockstep) and records where it ends. */
static int tftp_ascii_fill(struct tftp_xfer *x, uint8_t *out, size_t cap, size_t *len)
{
	struct tftp_ascii_pos pos = x->na_start;
	uint8_t chunk[512];
	size_t o = 0;

	if (pos.has_pending) {
		out[o++] = pos.pending;
		pos.has_pending = false;
	}
	while (o < cap && pos.off < x->p.size) {
		size_t want = (size_t)u64_min(u64_min(sizeof(chunk), cap - o), x->p.size - pos.off);
		size_t i;

		if (x->ops->read(x->ctx, pos.off, chunk, want) != (ssize_t)want)
			return -EIO;
		for (i = 0; i < want && o < cap; i++)
			o = tftp_ascii_put(out, o, cap, chunk[i], &pos);
		pos.off += i;
	}
	x->na_next = pos;
	*len = o;
	return 0;
}

/* Puts block b's payload after the DATA header; *n is its length. */
static int tftp_xfer_fill(struct tftp_xfer *x, uint64_t b, size_t *n)
{
	uint8_t *payload = x->buf + TFTP_DATA_HDR;
	uint64_t off;

	if (x->p.mode == TFTP_MODE_NETASCII)
		return tftp_ascii_fill(x, payload, x->p.blksize, n);
	/* pread offset from the 64-bit block number: rollover never aliases. */
	off = (b - 1) * x->p.blksize;
	*n = off >= x->p.size ? 0 : (size_t)u64_min(x->p.blksize, x->p.size - off);
	if (*n > 0 && x->ops->read(x->ctx, off, payload, *n) != (ssize_t)*n)
		return -EIO;
	return 0;
}

/* Sends block b: 0, -EIO (the file could not be read) or -EAGAIN (not sent). */
static int tftp_xfer_send_block(struct tftp_xfer *x, uint64_t b, size_t *n)
{
	int len, rc;

	if (tftp_xfer_fill(x, b, n) < 0)
		return -EIO;
	/* RFC 1350 section 2: the wire carries the block number modulo 2^16. */
	len = tftp_encode_data(x->buf, x->cap, (uint16_t)b, x->buf + TFTP_DATA_HDR, *n);
	if (len < 0)
		return -EIO;
	if (b > x->sent_hi) {
		x->sent_hi = b;
		x->bytes_sent += *n;
	} else {
		x->retransmits++;
	}
	tftp_xfer_send(x, (size_t)len, &rc);
	return rc < 0 ? -EAGAIN : 0;
}

/*
 * RFC 7440: sends up to windowsize blocks after the last acknowledged one,
 * stopping after the short block that ends the file. A packet the socket
 * refused ends the burst early; the timer resends it.
 */
/*
 * The window of an octet transfer handed to ops->send_data in one call: the
 * payloads never pass through buf, and the caller can send them all with
 * one system call. Block lengths follow from the file size alone.
 */
static void tftp_xfer_send_window_direct(struct tftp_xfer *x)
{
	struct tftp_block blocks[TFTP_WINDOW_MAX];
	uint64_t last = x->acked + x->p.windowsize;
	unsigned n = 0;
	int sent;

	if (last > x->final_block)
		last = x->final_block;
	for (uint64_t b = x->acked + 1; b <= last; b++, n++) {
		uint64_t off = (b - 1) * x->p.blksize;
		blocks[n] = (struct tftp_block){
		    .block = b,
		    .off = off,
		    .len = off >= x->p.size ? 0 : (size_t)u64_min(x->p.blksize, x->p.size - off)};
	}
	if (n == 0)
		return; /* cannot happen: the final block ends the transfer when acked */
	sent = x->ops->send_data(x->ctx, blocks, n);
	if (sent < 0) {
		tftp_xfer_fail(x, "read error", TFTP_ERR_UNDEF, "read error");
		return;
	}
	/* As in the one-by-one path: the refused packet counts (as lost), those after it do not. */
	x->packets_sent += (unsigned)sent < n ? (unsigned)sent + 1 : n;
	for (unsigned i = 0; i < (unsigned)sent && i < n; i++) {
		if (blocks[i].block > x->sent_hi) {
			x->sent_hi = blocks[i].block;
			x->bytes_sent += blocks[i].len;
		} else {
			x->retransmits++;
		}
	}
}

static void tftp_xfer_send_window(struct tftp_xfer *x, uint64_t now_us)
{
	uint64_t last = x->acked + x->p.windowsize;
	size_t n = 0;

	if (x->ops->send_data != NULL && x->p.mode == TFTP_MODE_OCTET) {
		tftp_xfer_send_window_direct(x);
		if (x->state == TFTP_XS_FAILED)
			return;
		x->state = TFTP_XS_DATA_SENT;
		tftp_xfer_arm(x, now_us);
		return;
	}
	for (uint64_t b = x->acked + 1; b <= last; b++) {
		int rc = tftp_xfer_send_block(x, b, &n);
		if (rc == -EIO) {
			tftp_xfer_fail(x, "read error", TFTP_ERR_UNDEF, "read error");
			return;
		}
		if (n < x->p.blksize)
			x->final_block = b;
		if (rc < 0 || b == x->final_block)
			break;
	}
	x->state = TFTP_XS_DATA_SENT;
	tftp_xfer_arm(x, now_us);
}

/* RFC 2347: the OACK takes the place of DATA 1; the client answers ACK 0. */
static void tftp_xfer_send_oack(struct tftp_xfer *x, uint64_t now_us)
{
	int len = tftp_encode_oack(x->buf, x->cap, &x->p.oack);
	int rc;

	if (len < 0) {
		tftp_xfer_fail(x, "OACK does not fit", TFTP_ERR_UNDEF, "internal error");
		return;
	}
	tftp_xfer_send(x, (size_t)len, &rc);
	x->state = TFTP_XS_OACK_SENT;
	tftp_xfer_arm(x, now_us);
}

static void tftp_xfer_start(struct tftp_xfer *x, uint64_t now_us)
{
	if (x->p.oack.present != 0)
		tftp_xfer_send_oack(x, now_us);
	else
		tftp_xfer_send_window(x, now_us);
}

/*
 * Maps an ACK's 16-bit block number onto a block sent but not yet
 * acknowledged. Anything else (a duplicate, an old or a never-sent block)
 * is ignored: answering duplicates is the Sorcerer's Apprentice bug
 * (RFC 1123 section 4.2.3.1).
 */
static bool tftp_xfer_map_ack(const struct tftp_xfer *x, uint16_t wire, uint64_t *block)
{
	uint64_t delta = (uint16_t)(wire - (uint16_t)x->acked);

	if (delta == 0 || delta > x->sent_hi - x->acked)
		return false;
	*block = x->acked + delta;
	return true;
}

static void tftp_xfer_on_ack(struct tftp_xfer *x, uint16_t wire, uint64_t now_us)
{
	uint64_t b;

	if (x->state == TFTP_XS_OACK_SENT) {
		if (wire != 0)
			return;
		x->retries = 0;
		tftp_xfer_send_window(x, now_us);
		return;
	}
	if (x->state != TFTP_XS_DATA_SENT || !tftp_xfer_map_ack(x, wire, &b))
		return;
	x->retries = 0;
	x->acked = b;
	if (x->p.mode == TFTP_MODE_NETASCII)
		x->na_start = x->na_next;
	if (b == x->final_block) {
		x->state = TFTP_XS_DONE;
		x->deadline_us = 0;
		return;
	}
	/* RFC 7440: an ACK inside the window means a gap: resend from there. */
	tftp_xfer_send_window(x, now_us);
}

/* RFC 1350: an ERROR ends the transfer and is never acknowledged. */
static void tftp_xfer_on_error(struct tftp_xfer *x, const struct tftp_msg *m)
{
	size_t n = m->text_len < TFTP_ERRMSG_MAX ? m->text_len : TFTP_ERRMSG_MAX;

	x->client_error = true;
	x->client_err_code = m->err_code;
	if (n > 0)
		memcpy(x->client_err_text, m->text, n);
	x->client_err_len = n;
	tftp_xfer_fail(x, "client sent ERROR", -1, NULL);
}

static void tftp_xfer_on_packet(struct tftp_xfer *x, const struct tftp_msg *m, uint64_t now_us)
{
	if (m == NULL)
		return;
	if (m->opcode == TFTP_ACK || m->opcode == TFTP_ERROR)
		x->answered = true;
	if (m->opcode == TFTP_ACK)
		tftp_xfer_on_ack(x, m->block, now_us);
	else if (m->opcode == TFTP_ERROR)
		tftp_xfer_on_error(x, m);
	/* DATA, requests and OACKs have no meaning on a read transfer: ignore. */
}

static void tftp_xfer_on_timeout(struct tftp_xfer *x, uint64_t now_us)
{
	if (x->deadline_us == 0 || now_us < x->deadline_us)
		return; /* early or stale wake-up: keep the deadline */
	if (!x->answered && x->retries >= TFTP_RETRIES_UNANSWERED) {
		tftp_xfer_fail(x, "no answer to the first packet", -1, NULL);
		return;
	}
	if (x->retries >= TFTP_RETRIES_MAX) {
		/* A client that got everything but whose last ACK was lost ends here too. */
		bool all_sent = x->final_block != 0 && x->sent_hi == x->final_block;
		tftp_xfer_fail(x, all_sent ? "no ACK for the last block" : "timed out", -1, NULL);
		return;
	}
	x->retries++;
	if (x->state == TFTP_XS_OACK_SENT)
		tftp_xfer_send_oack(x, now_us);
	else
		tftp_xfer_send_window(x, now_us);
}

enum tftp_xfer_state tftp_xfer_step(struct tftp_xfer *x, const struct tftp_xfer_event *ev,
				    uint64_t now_us, uint64_t *timer_us)
{
	if (!tftp_xfer_ended(x)) {
		switch (ev->kind) {
		case TFTP_XEV_START:
			if (x->state == TFTP_XS_INIT)
				tftp_xfer_start(x, now_us);
			break;
		case TFTP_XEV_PACKET:
			tftp_xfer_on_packet(x, ev->msg, now_us);
			break;
		case TFTP_XEV_TIMEOUT:
			tftp_xfer_on_timeout(x, now_us);
			break;
		case TFTP_XEV_ABORT:
			tftp_xfer_fail(x, "server stopping", TFTP_ERR_UNDEF, "server stopping");
			break;
		case TFTP_XEV_EVICT:
			/* No ERROR: the request may have come from a spoofed address. */
			tftp_xfer_fail(x, "evicted: the transfer table is full", -1, NULL);
			break;
		}
	}
	*timer_us = tftp_xfer_ended(x) ? 0 : x->deadline_us;
	return x->state;
}

bool tftp_xfer_evictable(const struct tftp_xfer *x, uint64_t start_us, uint64_t now_us)
{
	return !x->answered && !tftp_xfer_ended(x) && now_us >= start_us &&
	       now_us - start_us >= TFTP_EVICT_AGE_US;
}
