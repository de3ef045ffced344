/*
 * The TFTP codec: RFC 1350 packets with the option extension of RFC 2347
 * (blksize RFC 2348, tsize and timeout RFC 2349, windowsize RFC 7440).
 * Pure functions over caller-supplied buffers: no I/O, no globals.
 */
#ifndef PXED_TFTP_WIRE_H
#define PXED_TFTP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 1350 section 5 and RFC 2347: the opcodes. */
enum tftp_opcode {
	TFTP_RRQ = 1,
	TFTP_WRQ = 2,
	TFTP_DATA = 3,
	TFTP_ACK = 4,
	TFTP_ERROR = 5,
	TFTP_OACK = 6,
};

/* RFC 1350 appendix and RFC 2347: the error codes. */
enum tftp_error_code {
	TFTP_ERR_UNDEF = 0,    /* not defined, see message */
	TFTP_ERR_NOTFOUND = 1, /* file not found */
	TFTP_ERR_ACCESS = 2,   /* access violation */
	TFTP_ERR_DISKFULL = 3, /* disk full or allocation exceeded */
	TFTP_ERR_BADOP = 4,    /* illegal TFTP operation */
	TFTP_ERR_BADID = 5,    /* unknown transfer ID */
	TFTP_ERR_EXISTS = 6,   /* file already exists */
	TFTP_ERR_NOUSER = 7,   /* no such user */
	TFTP_ERR_OPTNEG = 8,   /* option negotiation refused (RFC 2347) */
};

enum tftp_mode {
	TFTP_MODE_OCTET,
	TFTP_MODE_NETASCII,
};

/* RFC 1350: the default block size; RFC 2348: the negotiable range. */
#define TFTP_BLKSIZE_DEFAULT 512
#define TFTP_BLKSIZE_MIN 8
#define TFTP_BLKSIZE_MAX 65464
/* Opcode and block number in front of every DATA payload. */
#define TFTP_DATA_HDR 4
/* Longest file name we accept; real boot paths are far shorter. */
#define TFTP_FILENAME_MAX 512
/* Longest peer ERROR message we keep (the rest is dropped). */
#define TFTP_ERRMSG_MAX 64
/* Room for any ERROR or OACK we build: 4 options with 20-digit values. */
#define TFTP_CTRL_MAX 512

/* The options this server understands, in the order an OACK lists them. */
enum tftp_opt {
	TFTP_OPT_BLKSIZE,    /* RFC 2348 */
	TFTP_OPT_TSIZE,	     /* RFC 2349 */
	TFTP_OPT_TIMEOUT,    /* RFC 2349 */
	TFTP_OPT_WINDOWSIZE, /* RFC 7440 */
	TFTP_OPT_COUNT
};

struct tftp_opts {
	unsigned present; /* bit (1u << enum tftp_opt) set when the option is given */
	uint64_t val[TFTP_OPT_COUNT];
};

static inline bool tftp_opt_has(const struct tftp_opts *o, enum tftp_opt id)
{
	return (o->present >> id) & 1u;
}

static inline void tftp_opt_set(struct tftp_opts *o, enum tftp_opt id, uint64_t v)
{
	o->present |= 1u << id;
	o->val[id] = v;
}

/* A decoded RRQ or WRQ. */
struct tftp_req {
	uint16_t opcode;		      /* TFTP_RRQ or TFTP_WRQ */
	char filename[TFTP_FILENAME_MAX + 1]; /* raw peer bytes, NUL-terminated */
	size_t filename_len;
	enum tftp_mode mode;
	struct tftp_opts opts; /* the recognised options the client asked for */
	/* When decoding fails: the ERROR to answer with (static message). */
	uint16_t err_code;
	const char *err_msg;
};

/* Any packet a client sends to a transfer: ACK, ERROR or something else. */
struct tftp_msg {
	uint16_t opcode;
	uint16_t block;	     /* DATA, ACK */
	uint16_t err_code;   /* ERROR */
	const uint8_t *text; /* ERROR message inside the packet, not NUL-terminated */
	size_t text_len;
};

/* The option's name as it goes on the wire ("blksize", ...). */
const char *tftp_opt_name(enum tftp_opt id);

/*
 * Decodes a read or write request. Trailing 0xFF and NUL padding (old PXE
 * ROMs) is trimmed first; the file name and mode must each end in a NUL.
 * Returns 0, or on refusal -EBADMSG (malformed: ERROR 4), -EPROTONOSUPPORT
 * (mode other than netascii/octet: ERROR 4), -ERANGE (an option value
 * out of range or repeated: ERROR 8), with out->err_code and err_msg set.
 */
int tftp_decode_req(const void *pkt, size_t len, struct tftp_req *out);

/*
 * Decodes a packet arriving on a transfer's socket. Returns 0, or -EBADMSG
 * when it is shorter than 4 bytes or its opcode is unknown.
 */
int tftp_decode_msg(const void *pkt, size_t len, struct tftp_msg *out);

/*
 * Encoders: each writes one packet into buf (capacity cap) and returns its
 * length, or -ENOSPC when it does not fit.
 *
 * tftp_encode_data may be given data == buf + TFTP_DATA_HDR, so a payload
 * read in place is not copied.
 */
int tftp_encode_data(void *buf, size_t cap, uint16_t block, const void *data, size_t n);
int tftp_encode_ack(void *buf, size_t cap, uint16_t block);
/* Lists every option present in opts, in enum order (RFC 2347). */
int tftp_encode_oack(void *buf, size_t cap, const struct tftp_opts *opts);
/* Truncates msg to fit the buffer; the message is always NUL-terminated. */
int tftp_encode_error(void *buf, size_t cap, uint16_t code, const char *msg);
/* Builds an RRQ (for tests and fuzz seeds): options in opts, in enum order. */
int tftp_encode_rrq(void *buf, size_t cap, const char *filename, const char *mode,
		    const struct tftp_opts *opts);

/*
 * The transfer state machines' shared arithmetic (xfer.c sends, wxfer.c
 * receives).
 *
 * RFC 7440 section 4: the window agreed, at most max_blocks and max_bytes of
 * blksize blocks (never 0).
 */
uint16_t tftp_window_cap(uint64_t asked, uint16_t blksize, uint16_t max_blocks, uint32_t max_bytes);
/*
 * The retransmission interval after `retries` timeouts: exponential backoff
 * from the negotiated (RFC 2349) timeout_s, or default_us when none was
 * asked, growing up to cap_us (or the negotiated timeout, if larger).
 */
uint64_t tftp_backoff_us(uint8_t timeout_s, unsigned retries, uint64_t default_us, uint64_t cap_us);

#endif
