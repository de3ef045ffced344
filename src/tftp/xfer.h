/*
 * One TFTP read transfer as a pure state machine: events in (start, a packet
 * from the client, a timeout, an abort), packets out through a callback, the
 * clock passed in (monotonic microseconds). The caller owns the socket, the
 * file and the timer; tftp_xfer_step() tells it when the timer fires next.
 *
 *   INIT --start--> OACK_SENT --ACK 0--> DATA_SENT --ACK last--> DONE
 *     \--start (no options)-----------/      |
 *   any --client ERROR / read error / too many timeouts / abort--> FAILED
 */
#ifndef PXED_TFTP_XFER_H
#define PXED_TFTP_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tftp/wire.h"

/* Retransmissions of one packet or window before the transfer is given up. */
#define TFTP_RETRIES_MAX 5
/*
 * The same before the client has answered anything: a request whose first
 * packet is never acknowledged (lost, or sent from a spoofed address) ends
 * after 15 s instead of 31, so such requests cannot hold the transfer table
 * long (a full table evicts them sooner). Not sooner: a client whose ACKs of
 * our first three sends (0, 1 and 3 s) were all lost ACKs again 5 s after the
 * last one it got (tftp-hpa, atftp, curl), and that must find us.
 */
#define TFTP_RETRIES_UNANSWERED 3
/* First retransmission timeout when the client did not ask for one. */
#define TFTP_TIMEOUT_DEFAULT_US 1000000u
/* Exponential backoff stops growing here (unless the client asked for more). */
#define TFTP_BACKOFF_CAP_US 8000000u
/* Largest window we agree to (RFC 7440 lets the server answer less). */
#define TFTP_WINDOW_MAX 64
/*
 * Bytes in flight per window. A client that asks for a window declares it
 * can take it; this only bounds absurd asks (64 blocks of 65464 bytes).
 */
#define TFTP_WINDOW_BYTES_MAX (1024u * 1024u)

enum tftp_xfer_state {
	TFTP_XS_INIT,	   /* created, nothing sent */
	TFTP_XS_OACK_SENT, /* waiting for ACK 0 (RFC 2347) */
	TFTP_XS_DATA_SENT, /* a window of DATA is out, waiting for an ACK */
	TFTP_XS_DONE,	   /* the last block was acknowledged */
	TFTP_XS_FAILED,	   /* ended early: see fail_reason */
	TFTP_XS_COUNT
};

enum tftp_xfer_event_kind {
	TFTP_XEV_START,	  /* send OACK or the first window */
	TFTP_XEV_PACKET,  /* a decoded packet from the client's TID */
	TFTP_XEV_TIMEOUT, /* the timer the last step asked for has fired */
	TFTP_XEV_ABORT,	  /* the server is stopping: send ERROR 0 and fail */
	TFTP_XEV_EVICT,	  /* the server needs the slot: fail without a word to the client */
};

struct tftp_xfer_event {
	enum tftp_xfer_event_kind kind;
	const struct tftp_msg *msg; /* TFTP_XEV_PACKET only */
};

/* One DATA packet of an octet transfer: block's payload is the file's [off, off + len). */
struct tftp_block {
	uint64_t block; /* 64-bit block number; the wire carries the low 16 bits */
	uint64_t off;
	size_t len;
};

struct tftp_xfer_ops {
	/* Copies exactly n bytes at offset off into dst; returns n or -errno. */
	ssize_t (*read)(void *ctx, uint64_t off, void *dst, size_t n);
	/* Sends one packet to the client; 0 or -errno (a failure is a lost packet). */
	int (*send)(void *ctx, const void *pkt, size_t len);
	/*
	 * Optional, octet transfers only: sends the DATA packets of a window in
	 * one go, taking the payloads from the file itself (no copy through
	 * buf), headers included. Returns how many leading packets the socket
	 * took (0..n; the rest count as lost), or -EIO when the file can no
	 * longer be read. NULL: every packet goes through read and send.
	 */
	int (*send_data)(void *ctx, const struct tftp_block *blocks, unsigned n);
};

/* What was agreed with the client: the outcome of tftp_xfer_negotiate(). */
struct tftp_xfer_params {
	uint64_t size; /* bytes in the file */
	enum tftp_mode mode;
	uint16_t blksize;
	uint16_t windowsize;
	uint8_t timeout_s;     /* 0: the client asked none */
	struct tftp_opts oack; /* options accepted, echoed in the OACK; none: no OACK */
};

/* The netascii translator's place in the file: where a block starts. */
struct tftp_ascii_pos {
	uint64_t off;	 /* next source byte */
	uint8_t pending; /* second byte of a CR LF / CR NUL pair that did not fit */
	bool has_pending;
};

struct tftp_xfer {
	enum tftp_xfer_state state;
	struct tftp_xfer_params p;
	const struct tftp_xfer_ops *ops;
	void *ctx;
	uint8_t *buf; /* one packet; owned by the caller, see tftp_xfer_buf_size() */
	size_t cap;

	/* Block numbers are 64-bit here; the wire carries the low 16 bits. */
	uint64_t acked;	      /* highest block the client acknowledged */
	uint64_t sent_hi;     /* highest block sent so far */
	uint64_t final_block; /* the short (last) block; 0 while unknown (netascii) */
	struct tftp_ascii_pos na_start, na_next; /* netascii: block acked+1, and after it */

	unsigned retries;     /* timeouts since the last progress */
	bool answered;	      /* a packet came from the client's TID (an ACK or an ERROR) */
	uint64_t deadline_us; /* when the timer fires; 0 = not armed */
	uint64_t bytes_sent;  /* file payload bytes, counted once per block */
	uint64_t packets_sent;
	uint64_t retransmits;

	const char *fail_reason; /* static text when FAILED */
	bool error_sent;	 /* we told the client why with an ERROR packet */
	bool client_error;	 /* FAILED because the client sent ERROR */
	uint16_t client_err_code;
	uint8_t client_err_text[TFTP_ERRMSG_MAX]; /* raw peer bytes: escape before logging */
	size_t client_err_len;
};

const char *tftp_xfer_state_name(enum tftp_xfer_state s);

/*
 * Decides what to accept of the options the client asked (RFC 2347: only
 * accepted options are echoed). max_blksize caps blksize at what fits the
 * path (at most TFTP_BLKSIZE_MAX). Netascii transfers ignore windowsize and
 * tsize: the translated size is not known in advance, and lockstep lets a
 * block be rebuilt from its start. Returns 0 or -EINVAL.
 */
int tftp_xfer_negotiate(const struct tftp_opts *asked, enum tftp_mode mode, uint64_t size,
			uint16_t max_blksize, struct tftp_xfer_params *out);

/* Bytes of packet buffer a transfer with these parameters needs. */
size_t tftp_xfer_buf_size(const struct tftp_xfer_params *p);

/* buf (cap >= tftp_xfer_buf_size) stays owned by the caller and must outlive x. */
int tftp_xfer_init(struct tftp_xfer *x, const struct tftp_xfer_params *p,
		   const struct tftp_xfer_ops *ops, void *ctx, uint8_t *buf, size_t cap);

/*
 * The one transition function. Returns the new state and sets *timer_us to
 * the absolute time the caller must deliver TFTP_XEV_TIMEOUT, or 0 when the
 * transfer has ended (DONE or FAILED) and no timer is needed.
 */
enum tftp_xfer_state tftp_xfer_step(struct tftp_xfer *x, const struct tftp_xfer_event *ev,
				    uint64_t now_us, uint64_t *timer_us);

/*
 * The transfer table is full: may this transfer, started at start_us, make
 * room for a new one? Only when its client has not answered and a first
 * retransmission timeout has passed (TFTP_EVICT_AGE_US): before that its
 * first ACK may just be in flight, and a legitimate client would lose it.
 */
#define TFTP_EVICT_AGE_US TFTP_TIMEOUT_DEFAULT_US
bool tftp_xfer_evictable(const struct tftp_xfer *x, uint64_t start_us, uint64_t now_us);

static inline bool tftp_xfer_ended(const struct tftp_xfer *x)
{
	return x->state == TFTP_XS_DONE || x->state == TFTP_XS_FAILED;
}

#endif
