/*
 * One TFTP write transfer (a WRQ: the client uploads) as a pure state
 * machine: events in (start, a packet from the client, a timeout, an
 * abort), packets out through a callback, file bytes out through another,
 * the clock passed in (monotonic microseconds). The caller owns the socket,
 * the file and the timer; tftp_wxfer_step() tells it when the timer fires.
 *
 *   INIT --start, options--> OACK_SENT --DATA 1--> RECEIVING --short DATA--> DALLY --timeout-->
 * DONE
 *     \--start, none: ACK 0 sent-------------------/    ^  \--DATA n: write, ACK--/
 *   any but DALLY --client ERROR / write error / size limit / too many timeouts / abort--> FAILED
 *
 * The file is complete when DALLY is entered: ops->finish() has stored it
 * and only then does the client get the ACK of its last block. DALLY keeps
 * the transfer a little longer so that a retransmitted last DATA (our ACK
 * was lost) is answered with that ACK again rather than with an error.
 */
#ifndef PXED_TFTP_WXFER_H
#define PXED_TFTP_WXFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tftp/wire.h"

/* Timeouts in a row (no new block) before the transfer is given up. */
#define TFTP_WXFER_RETRIES_MAX 5
/* First retransmission timeout when the client did not ask for one. */
#define TFTP_WXFER_TIMEOUT_DEFAULT_US 1000000u
/* Exponential backoff stops growing here (unless the client asked for more). */
#define TFTP_WXFER_BACKOFF_CAP_US 8000000u
/*
 * How long a finished transfer waits for a retransmitted last DATA. tftp-hpa,
 * atftp and curl all retransmit after 5 s by default: wait a little longer.
 */
#define TFTP_WXFER_DALLY_US 6000000u
/* Largest window we agree to (RFC 7440 lets the server answer less). */
#define TFTP_WXFER_WINDOW_MAX 64
/* Bytes per window we agree to: a window must fit the socket's receive buffer. */
#define TFTP_WXFER_WINDOW_BYTES_MAX (64u * 1024u)

enum tftp_wxfer_state {
	TFTP_WS_INIT,	   /* created, nothing sent */
	TFTP_WS_OACK_SENT, /* OACK out (RFC 2347), waiting for DATA 1 */
	TFTP_WS_RECEIVING, /* ACK 0 or some block ACKed, waiting for DATA */
	TFTP_WS_DALLY,	   /* file stored, last block ACKed, answering its duplicates */
	TFTP_WS_DONE,	   /* complete and no longer needed */
	TFTP_WS_FAILED,	   /* ended early, nothing stored: see fail_reason */
	TFTP_WS_COUNT
};

enum tftp_wxfer_event_kind {
	TFTP_WEV_START,	  /* answer the WRQ: OACK, ACK 0, or ERROR 3 for a tsize too big */
	TFTP_WEV_PACKET,  /* a datagram from the client's TID, raw bytes */
	TFTP_WEV_TIMEOUT, /* the timer the last step asked for has fired */
	TFTP_WEV_ABORT,	  /* the server is stopping: send ERROR 0 and fail */
};

struct tftp_wxfer_event {
	enum tftp_wxfer_event_kind kind;
	const uint8_t *pkt; /* TFTP_WEV_PACKET only: the whole datagram */
	size_t len;
};

struct tftp_wxfer_ops {
	/* Stores exactly n bytes at file offset off; returns n or -errno. */
	ssize_t (*write)(void *ctx, uint64_t off, const void *data, size_t n);
	/*
	 * Called once, after the last byte is written and before the last ACK:
	 * makes the file permanent. 0 or -errno (the client then gets an ERROR).
	 */
	int (*finish)(void *ctx);
	/* Sends one packet to the client; 0 or -errno (a failure is a lost packet). */
	int (*send)(void *ctx, const void *pkt, size_t len);
};

/* What was agreed with the client: the outcome of tftp_wxfer_negotiate(). */
struct tftp_wxfer_params {
	enum tftp_mode mode;
	uint16_t blksize;
	uint16_t windowsize;
	uint8_t timeout_s;     /* 0: the client asked none */
	uint64_t max_bytes;    /* the largest file we store */
	bool has_tsize;	       /* the client announced the size (RFC 2349) */
	uint64_t tsize;	       /* ...as this many bytes */
	struct tftp_opts oack; /* options accepted, echoed in the OACK; none: ACK 0 */
};

struct tftp_wxfer {
	enum tftp_wxfer_state state;
	struct tftp_wxfer_params p;
	const struct tftp_wxfer_ops *ops;
	void *ctx;

	/* Block numbers are 64-bit here; the wire carries the low 16 bits. */
	uint64_t received; /* every block up to this one is written */
	uint64_t acked;	   /* the block our last ACK named (the client's window base) */
	bool gap_acked;	   /* a gap in this window was answered already */
	bool pending_cr;   /* netascii: a CR ended the last block */
	uint64_t file_off; /* bytes written to the file */

	unsigned retries;	 /* timeouts since the last new block */
	uint64_t deadline_us;	 /* when the timer fires; 0 = not armed */
	uint64_t complete_us;	 /* when DALLY was entered; 0 = not yet */
	uint64_t bytes_received; /* DATA payload bytes of new blocks */
	uint64_t packets_sent;
	uint64_t retransmits; /* OACKs and ACKs sent again */
	uint64_t duplicates;  /* DATA we had already */
	uint64_t bad_packets; /* undecodable or meaningless datagrams */

	const char *fail_reason; /* static text when FAILED */
	bool error_sent;	 /* we told the client why with an ERROR packet */
	bool client_error;	 /* FAILED because the client sent ERROR */
	uint16_t client_err_code;
	uint8_t client_err_text[TFTP_ERRMSG_MAX]; /* raw peer bytes: escape before logging */
	size_t client_err_len;

	uint8_t buf[TFTP_CTRL_MAX]; /* the one packet we build: ACK, OACK or ERROR */
};

const char *tftp_wxfer_state_name(enum tftp_wxfer_state s);

/*
 * Decides what to accept of the options the client asked (RFC 2347: only
 * accepted options are echoed). max_blksize caps blksize (at most
 * TFTP_BLKSIZE_MAX); max_bytes is the largest file stored. A tsize larger
 * than max_bytes is not refused here: TFTP_WEV_START answers it with
 * ERROR 3. Returns 0 or -EINVAL.
 */
int tftp_wxfer_negotiate(const struct tftp_opts *asked, enum tftp_mode mode, uint16_t max_blksize,
			 uint64_t max_bytes, struct tftp_wxfer_params *out);

/* Bytes a receive buffer needs for the largest DATA of this transfer. */
size_t tftp_wxfer_rx_size(const struct tftp_wxfer_params *p);

int tftp_wxfer_init(struct tftp_wxfer *x, const struct tftp_wxfer_params *p,
		    const struct tftp_wxfer_ops *ops, void *ctx);

/*
 * The one transition function. Returns the new state and sets *timer_us to
 * the absolute time the caller must deliver TFTP_WEV_TIMEOUT, or 0 when the
 * transfer has ended (DONE or FAILED) and no timer is needed.
 */
enum tftp_wxfer_state tftp_wxfer_step(struct tftp_wxfer *x, const struct tftp_wxfer_event *ev,
				      uint64_t now_us, uint64_t *timer_us);

static inline bool tftp_wxfer_ended(const struct tftp_wxfer *x)
{
	return x->state == TFTP_WS_DONE || x->state == TFTP_WS_FAILED;
}

/* The file was stored (DALLY or DONE). */
static inline bool tftp_wxfer_complete(const struct tftp_wxfer *x)
{
	return x->state == TFTP_WS_DALLY || x->state == TFTP_WS_DONE;
}

#endif
