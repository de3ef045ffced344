#include "tftp/wxfer.h"

#include <errno.h>
#include <string.h>

static const char *const tftp_wxfer_state_names[TFTP_WS_COUNT] = {
    [TFTP_WS_INIT] = "init",   [TFTP_WS_OACK_SENT] = "oack-sent", [TFTP_WS_RECEIVING] = "receiving",
    [TFTP_WS_DALLY] = "dally", [TFTP_WS_DONE] = "done",		  [TFTP_WS_FAILED] = "failed",
};

const char *tftp_wxfer_state_name(enum tftp_wxfer_state s)
{
	return (unsigned)s < TFTP_WS_COUNT ? tftp_wxfer_state_names[s] : "?";
}

static uint64_t u64_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

int tftp_wxfer_negotiate(const struct tftp_opts *asked, enum tftp_mode mode, uint16_t max_blksize,
			 uint64_t max_bytes, struct tftp_wxfer_params *out)
{
	if (max_blksize < TFTP_BLKSIZE_MIN || max_blksize > TFTP_BLKSIZE_MAX)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->mode = mode;
	out->blksize = TFTP_BLKSIZE_DEFAULT;
	out->windowsize = 1;
	out->max_bytes = max_bytes;
	/* RFC 2348: the server may answer a smaller block size than asked. */
	if (tftp_opt_has(asked, TFTP_OPT_BLKSIZE)) {
		out->blksize = (uint16_t)u64_min(asked->val[TFTP_OPT_BLKSIZE], max_blksize);
		tftp_opt_set(&out->oack, TFTP_OPT_BLKSIZE, out->blksize);
	}
	/* RFC 2349: "In Write Request packets, the size of the file ... is echoed back." */
	if (tftp_opt_has(asked, TFTP_OPT_TSIZE)) {
		out->has_tsize = true;
		out->tsize = asked->val[TFTP_OPT_TSIZE];
		tftp_opt_set(&out->oack, TFTP_OPT_TSIZE, out->tsize);
	}
	/* RFC 2349: the timeout is accepted as asked and echoed unchanged. */
	if (tftp_opt_has(asked, TFTP_OPT_TIMEOUT)) {
		out->timeout_s = (uint8_t)asked->val[TFTP_OPT_TIMEOUT];
		tftp_opt_set(&out->oack, TFTP_OPT_TIMEOUT, out->timeout_s);
	}
	/*
	 * RFC 7440 on the receiving side: we ACK at the end of each window and,
	 * on a gap, the last block received in order. Netascii needs no
	 * restriction here: blocks are translated in order as they arrive.
	 */
	if (tftp_opt_has(asked, TFTP_OPT_WINDOWSIZE)) {
		/*
		 * RFC 7440 section 4: the server may answer a smaller window. A
		 * window is a burst into our socket's receive buffer: keep it small.
		 */
		out->windowsize =
		    tftp_window_cap(asked->val[TFTP_OPT_WINDOWSIZE], out->blksize,
				    TFTP_WXFER_WINDOW_MAX, TFTP_WXFER_WINDOW_BYTES_MAX);
		tftp_opt_set(&out->oack, TFTP_OPT_WINDOWSIZE, out->windowsize);
	}
	return 0;
}

size_t tftp_wxfer_rx_size(const struct tftp_wxfer_params *p)
{
	size_t data = (size_t)p->blksize + TFTP_DATA_HDR;

	return data > TFTP_CTRL_MAX ? data : TFTP_CTRL_MAX;
}

int tftp_wxfer_init(struct tftp_wxfer *x, const struct tftp_wxfer_params *p,
		    const struct tftp_wxfer_ops *ops, void *ctx)
{
	if (p->blksize < TFTP_BLKSIZE_MIN || p->blksize > TFTP_BLKSIZE_MAX || p->windowsize == 0)
		return -EINVAL;
	memset(x, 0, sizeof(*x));
	x->state = TFTP_WS_INIT;
	x->p = *p;
	x->ops = ops;
	x->ctx = ctx;
	return 0;
}

/* Exponential backoff from the negotiated (RFC 2349) or default timeout. */
static uint64_t tftp_wxfer_interval(const struct tftp_wxfer *x)
{
	return tftp_backoff_us(x->p.timeout_s, x->retries, TFTP_WXFER_TIMEOUT_DEFAULT_US,
			       TFTP_WXFER_BACKOFF_CAP_US);
}

static void tftp_wxfer_arm(struct tftp_wxfer *x, uint64_t now_us)
{
	x->deadline_us = now_us + tftp_wxfer_interval(x);
}

static void tftp_wxfer_send(struct tftp_wxfer *x, size_t len, int *rc)
{
	x->packets_sent++;
	*rc = x->ops->send(x->ctx, x->buf, len);
}

/* Ends the transfer; code >= 0 also tells the client with an ERROR packet. */
static void tftp_wxfer_fail(struct tftp_wxfer *x, const char *reason, int code, const char *msg)
{
	int len, rc;

	if (code >= 0) {
		len = tftp_encode_error(x->buf, sizeof(x->buf), (uint16_t)code, msg);
		if (len > 0) {
			tftp_wxfer_send(x, (size_t)len, &rc);
			x->error_sent = rc == 0;
		}
	}
	x->fail_reason = reason;
	x->state = TFTP_WS_FAILED;
	x->deadline_us = 0;
}

/* RFC 1350 appendix: code 3 is "disk full or allocation exceeded". */
static void tftp_wxfer_fail_store(struct tftp_wxfer *x, int rc, const char *what)
{
	if (rc == -EFBIG)
		tftp_wxfer_fail(x, "over the size limit", TFTP_ERR_DISKFULL,
				"disk full or allocation exceeded");
	else if (rc == -ENOSPC || rc == -EDQUOT)
		tftp_wxfer_fail(x, "disk full", TFTP_ERR_DISKFULL,
				"disk full or allocation exceeded");
	else
		tftp_wxfer_fail(x, what, TFTP_ERR_UNDEF, what);
}

/*
 * Sends ACK for block b (its low 16 bits: RFC 1350 section 2). The client
 * takes it as the base of its next window (RFC 7440).
 */
static void tftp_wxfer_send_ack(struct tftp_wxfer *x, uint64_t b)
{
	int len = tftp_encode_ack(x->buf, sizeof(x->buf), (uint16_t)b);
	int rc;

	if (len < 0)
		return;
	if (x->packets_sent > 0 && b == x->acked)
		x->retransmits++;
	x->acked = b;
	tftp_wxfer_send(x, (size_t)len, &rc);
}

/* RFC 2347: the OACK takes the place of ACK 0; the client answers DATA 1. */
static void tftp_wxfer_send_oack(struct tftp_wxfer *x, uint64_t now_us)
{
	int len = tftp_encode_oack(x->buf, sizeof(x->buf), &x->p.oack);
	int rc;

	if (len < 0) {
		tftp_wxfer_fail(x, "OACK does not fit", TFTP_ERR_UNDEF, "internal error");
		return;
	}
	if (x->state == TFTP_WS_OACK_SENT)
		x->retransmits++;
	tftp_wxfer_send(x, (size_t)len, &rc);
	x->state = TFTP_WS_OACK_SENT;
	tftp_wxfer_arm(x, now_us);
}

static void tftp_wxfer_start(struct tftp_wxfer *x, uint64_t now_us)
{
	/* RFC 2349: a client that announces a file we will not take hears it before any data. */
	if (x->p.has_tsize && x->p.tsize > x->p.max_bytes) {
		tftp_wxfer_fail(x, "announced size over the limit", TFTP_ERR_DISKFULL,
				"disk full or allocation exceeded");
		return;
	}
	if (x->p.oack.present != 0) {
		tftp_wxfer_send_oack(x, now_us);
		return;
	}
	/* RFC 1350 section 4: a WRQ is acknowledged with ACK 0. */
	tftp_wxfer_send_ack(x, 0);
	x->state = TFTP_WS_RECEIVING;
	tftp_wxfer_arm(x, now_us);
}

/* Writes n file bytes at the end of the file, within max_bytes: 0 or -errno. */
static int tftp_wxfer_write(struct tftp_wxfer *x, const uint8_t *data, size_t n)
{
	if (n == 0)
		return 0;
	if (n > x->p.max_bytes || x->file_off > x->p.max_bytes - n)
		return -EFBIG;
	ssize_t w = x->ops->write(x->ctx, x->file_off, data, n);
	if (w < 0)
		return (int)w;
	if ((size_t)w != n)
		return -EIO;
	x->file_off += n;
	return 0;
}

/* Netascii output, written a chunk at a time. */
struct tftp_ascii_out {
	uint8_t b[512];
	size_t n;
	int rc;
};

static void tftp_ascii_emit(struct tftp_wxfer *x, struct tftp_ascii_out *o, uint8_t c)
{
	if (o->n == sizeof(o->b)) {
		if (o->rc == 0)
			o->rc = tftp_wxfer_write(x, o->b, o->n);
		o->n = 0;
	}
	o->b[o->n++] = c;
}

/*
 * RFC 1350 netascii (RFC 764) back to the local form: CR LF becomes LF and
 * CR NUL becomes CR. A CR that ends a block waits for the next block's
 * first byte; at the end of the file it is kept. A CR before anything else
 * is kept too, with what follows: be lenient with what clients send.
 */
static int tftp_wxfer_store_ascii(struct tftp_wxfer *x, const uint8_t *data, size_t n, bool last)
{
	struct tftp_ascii_out o = {.n = 0, .rc = 0};

	for (size_t i = 0; i < n && o.rc == 0; i++) {
		uint8_t c = data[i];
		if (x->pending_cr) {
			x->pending_cr = false;
			if (c == '\n' || c == '\0') {
				tftp_ascii_emit(x, &o, c == '\n' ? '\n' : '\r');
				continue;
			}
			tftp_ascii_emit(x, &o, '\r');
		}
		if (c == '\r')
			x->pending_cr = true;
		else
			tftp_ascii_emit(x, &o, c);
	}
	if (last && x->pending_cr && o.rc == 0) {
		x->pending_cr = false;
		tftp_ascii_emit(x, &o, '\r');
	}
	if (o.rc == 0)
		o.rc = tftp_wxfer_write(x, o.b, o.n);
	return o.rc;
}

/* The file is complete: store it for good, then (only then) ACK the last block. */
static void tftp_wxfer_complete_file(struct tftp_wxfer *x, uint64_t now_us)
{
	uint64_t base = x->p.timeout_s ? x->p.timeout_s * 1000000ull : 0;
	int rc = x->ops->finish(x->ctx);

	if (rc < 0) {
		tftp_wxfer_fail_store(x, rc, "cannot store the file");
		return;
	}
	tftp_wxfer_send_ack(x, x->received);
	x->state = TFTP_WS_DALLY;
	x->complete_us = now_us;
	x->deadline_us = now_us + (base > TFTP_WXFER_DALLY_US ? base : TFTP_WXFER_DALLY_US);
}

/* The next block in order: write it, then ACK at the end of a window or of the file. */
static void tftp_wxfer_on_next(struct tftp_wxfer *x, const uint8_t *data, size_t n, uint64_t now_us)
{
	/* RFC 1350: a block shorter than blksize, possibly empty, ends the file. */
	bool last = n < x->p.blksize;
	int rc;

	if (x->p.mode == TFTP_MODE_NETASCII)
		rc = tftp_wxfer_store_ascii(x, data, n, last);
	else
		rc = tftp_wxfer_write(x, data, n);
	if (rc < 0) {
		tftp_wxfer_fail_store(x, rc, "write error");
		return;
	}
	x->state = TFTP_WS_RECEIVING; /* DATA 1 answers the OACK */
	x->received++;
	x->bytes_received += n;
	x->retries = 0;
	x->gap_acked = false;
	if (last) {
		tftp_wxfer_complete_file(x, now_us);
		return;
	}
	if (x->received - x->acked >= x->p.windowsize)
		tftp_wxfer_send_ack(x, x->received);
	tftp_wxfer_arm(x, now_us);
}

/*
 * Places a DATA block's 16-bit number relative to the last block received
 * in order: 1 is the next one; 0 the same again (our ACK was lost: RFC 1350
 * wants it ACKed again, which on this side cannot cause the Sorcerer's
 * Apprentice); 2..windowsize a later block of the window, so one before it
 * was lost; anything else an old duplicate.
 */
static void tftp_wxfer_on_data(struct tftp_wxfer *x, uint16_t wire, const uint8_t *data, size_t n,
			       uint64_t now_us)
{
	uint16_t delta = (uint16_t)(wire - (uint16_t)x->received);

	if (x->state == TFTP_WS_DALLY) {
		if (delta == 0 && n <= x->p.blksize) {
			x->duplicates++;
			tftp_wxfer_send_ack(x, x->received);
		}
		return; /* anything else: the file is stored, the deadline stands */
	}
	if (n > x->p.blksize) {
		tftp_wxfer_fail(x, "DATA larger than blksize", TFTP_ERR_BADOP,
				"illegal TFTP operation");
		return;
	}
	if (delta == 1) {
		tftp_wxfer_on_next(x, data, n, now_us);
	} else if (delta == 0 && x->received > 0) {
		x->duplicates++;
		tftp_wxfer_send_ack(x, x->received);
		tftp_wxfer_arm(x, now_us);
	} else if (delta >= 2 && delta <= x->p.windowsize) {
		/* RFC 7440: ACK the last block in order once; the sender resends from there. */
		if (!x->gap_acked) {
			x->gap_acked = true;
			tftp_wxfer_send_ack(x, x->received);
			x->state = TFTP_WS_RECEIVING;
			tftp_wxfer_arm(x, now_us);
		}
	} else {
		x->duplicates++; /* older than the window, or DATA 0 before any block */
	}
}

/* RFC 1350: an ERROR ends the transfer and is never acknowledged. */
static void tftp_wxfer_on_error(struct tftp_wxfer *x, const struct tftp_msg *m)
{
	size_t n = m->text_len < TFTP_ERRMSG_MAX ? m->text_len : TFTP_ERRMSG_MAX;

	x->client_error = true;
	x->client_err_code = m->err_code;
	if (n > 0)
		memcpy(x->client_err_text, m->text, n);
	x->client_err_len = n;
	tftp_wxfer_fail(x, "client sent ERROR", -1, NULL);
}

static void tftp_wxfer_on_packet(struct tftp_wxfer *x, const uint8_t *pkt, size_t len,
				 uint64_t now_us)
{
	struct tftp_msg m;

	if (pkt == NULL || tftp_decode_msg(pkt, len, &m) < 0) {
		x->bad_packets++;
		return;
	}
	if (m.opcode == TFTP_DATA)
		tftp_wxfer_on_data(x, m.block, pkt + TFTP_DATA_HDR, len - TFTP_DATA_HDR, now_us);
	else if (m.opcode == TFTP_ERROR && x->state != TFTP_WS_DALLY)
		tftp_wxfer_on_error(x, &m);
	else
		x->bad_packets++; /* ACK, OACK, requests: no meaning on a write transfer */
}

static void tftp_wxfer_on_timeout(struct tftp_wxfer *x, uint64_t now_us)
{
	if (x->deadline_us == 0 || now_us < x->deadline_us)
		return; /* early or stale wake-up: keep the deadline */
	if (x->state == TFTP_WS_DALLY) {
		x->state = TFTP_WS_DONE;
		x->deadline_us = 0;
		return;
	}
	if (x->retries >= TFTP_WXFER_RETRIES_MAX) {
		tftp_wxfer_fail(x, x->received == 0 ? "no DATA" : "timed out", -1, NULL);
		return;
	}
	x->retries++;
	if (x->state == TFTP_WS_OACK_SENT) {
		tftp_wxfer_send_oack(x, now_us);
		return;
	}
	/* RFC 7440: the ACK of the last block in order restarts the client's window. */
	tftp_wxfer_send_ack(x, x->received);
	tftp_wxfer_arm(x, now_us);
}

static void tftp_wxfer_on_abort(struct tftp_wxfer *x)
{
	if (x->state == TFTP_WS_DALLY) {
		x->state = TFTP_WS_DONE; /* stored and acknowledged: nothing to tell */
		x->deadline_us = 0;
		return;
	}
	tftp_wxfer_fail(x, "server stopping", TFTP_ERR_UNDEF, "server stopping");
}

enum tftp_wxfer_state tftp_wxfer_step(struct tftp_wxfer *x, const struct tftp_wxfer_event *ev,
				      uint64_t now_us, uint64_t *timer_us)
{
	if (!tftp_wxfer_ended(x)) {
		switch (ev->kind) {
		case TFTP_WEV_START:
			if (x->state == TFTP_WS_INIT)
				tftp_wxfer_start(x, now_us);
			break;
		case TFTP_WEV_PACKET:
			if (x->state != TFTP_WS_INIT)
				tftp_wxfer_on_packet(x, ev->pkt, ev->len, now_us);
			break;
		case TFTP_WEV_TIMEOUT:
			tftp_wxfer_on_timeout(x, now_us);
			break;
		case TFTP_WEV_ABORT:
			tftp_wxfer_on_abort(x);
			break;
		}
	}
	*timer_us = tftp_wxfer_ended(x) ? 0 : x->deadline_us;
	return x->state;
}
