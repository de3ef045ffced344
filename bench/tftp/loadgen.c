/*
 * tftp-loadgen: a TFTP read load generator for bench/tftp/run.sh.
 *
 * Client mode: --concurrency clients read --file from the server until
 * --transfers reads have been made, each read from a socket of its own (a
 * new one per read, as a ROM has after a reboot). A read locks onto the port
 * of the server's first reply (RFC 1350 section 4: the server answers from a
 * new TID) and ignores every other port. It asks blksize (RFC 2348),
 * windowsize (RFC 7440) and tsize (RFC 2349) only when told to, refuses an
 * OACK with anything it did not ask or more than it asked (RFC 2347), and
 * compares every DATA payload with the same bytes of --local, mapped in
 * memory, and the length of the whole with its size: one byte off and the
 * read has failed.
 *
 * The receiver of RFC 7440: an ACK after `windowsize` blocks in order or the
 * last block; a block past a gap is answered with an ACK of the last block
 * in order (once per gap), so that the sender starts its window again there.
 * Block numbers are 64-bit here and roll over past 65535 to 0 on the wire,
 * as every server does. Without progress for --timeout-ms the last RRQ or
 * ACK is sent again, --retries times, then the read fails.
 *
 * Raw mode (--raw-server): the ceiling a TFTP server can reach here with the
 * same send-a-window-then-wait pattern and no machinery: one read at a time,
 * answered from a new socket, the window sent from memory with one sendmmsg
 * (no GSO), then a blocking wait for its ACK. It speaks just enough TFTP for
 * the client above to verify every byte it sends.
 *
 * Bounded: at most LG_MAX_CONCURRENCY clients and LG_MAX_TRANSFERS reads;
 * either mode stops after --duration seconds whatever is left.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/buf.h"
#include "../common.h"
#include "core/util.h"
#include "tftp/wire.h"

#define LG_MAX_CONCURRENCY 20000u
#define LG_MAX_TRANSFERS 10000000u
#define LG_RX_BATCH 64 /* datagrams per recvmmsg: a whole window of 64 */
#define LG_RX_ROUNDS 8 /* recvmmsg calls per socket per wake; then the others' turn */
#define LG_EVENTS 256  /* epoll events per wait */
#define LG_NONE UINT32_MAX
/* A window of 64 blocks of 64 KiB, with room: the server must never lose one to us. */
#define LG_SOCKBUF (8 * 1024 * 1024)
#define LG_FAIL_LOGS 10	 /* failed reads described on stderr; the rest are counted */
#define LG_CTRL_MIN 1024 /* receive room for an OACK or ERROR when blksize is small */
#define LG_RAW_WINDOW_MAX 256

enum lg_state {
	LG_IDLE,       /* the slot is free */
	LG_REQUESTING, /* RRQ sent: waiting for OACK, DATA 1 or ERROR */
	LG_RECEIVING,  /* ACK 0 or a DATA ACK sent: blocks arriving */
};

/* Why a read failed; the names are the report's fail_* keys. */
enum lg_fail {
	LG_FAIL_TIMEOUT,
	LG_FAIL_SERVER,	    /* the server sent ERROR */
	LG_FAIL_DATA,	    /* a payload or the length differs from --local */
	LG_FAIL_PROTOCOL,   /* an OACK we cannot accept, an oversized packet */
	LG_FAIL_TSIZE,	    /* the OACK's tsize is not the file's size */
	LG_FAIL_SOCKET,	    /* our own socket failed */
	LG_FAIL_REFUSED,    /* --strict: the server left out an option asked */
	LG_FAIL_UNFINISHED, /* still running at --duration */
	LG_FAIL_COUNT
};

static const char *const lg_fail_names[LG_FAIL_COUNT] = {
    [LG_FAIL_TIMEOUT] = "timeout", [LG_FAIL_SERVER] = "server_error",
    [LG_FAIL_DATA] = "data",	   [LG_FAIL_PROTOCOL] = "protocol",
    [LG_FAIL_TSIZE] = "tsize",	   [LG_FAIL_SOCKET] = "socket",
    [LG_FAIL_REFUSED] = "refused", [LG_FAIL_UNFINISHED] = "unfinished",
};

struct lg_client {
	int fd;
	uint8_t state;
	uint8_t tries;		  /* sends of the current RRQ or ACK */
	bool gap_acked;		  /* the current gap has had its ACK */
	uint16_t tid;		  /* the server's port for this read; 0 until it answers */
	uint16_t blksize, window; /* as agreed */
	uint16_t since_ack;	  /* blocks in order since the last ACK */
	uint32_t xfer;		  /* which read this is, for the logs */
	uint64_t next_block;	  /* the next block in order */
	uint64_t gap_hi;	  /* highest block seen past the gap */
	uint64_t start_us, deadline_us;
	uint32_t prev, next; /* in the deadline list while in flight */
};

struct lg_opts {
	uint32_t server, raw_addr; /* host order */
	uint32_t source;	   /* client i's address is source + i; 0: the kernel's choice */
	uint16_t port, raw_port;   /* raw_port != 0: raw server mode */
	const char *file, *local, *label;
	uint32_t blksize, windowsize; /* 0: not asked */
	bool tsize, strict;
	uint32_t timeout_ms, retries, concurrency, transfers, duration_s;
};

struct lg_stats {
	uint64_t ok, failed[LG_FAIL_COUNT];
	uint64_t bytes; /* verified payload of the reads that completed */
	uint64_t rx, ignored, dups, gap_acks, retransmits;
	uint64_t no_oack, ws_refused, blk_reduced, tsize_missing;
	uint64_t blksize, windowsize, tsize; /* agreed by the last OACK */
	uint64_t error_code;		     /* of the last ERROR from the server */
	uint64_t first_us, last_us;
	unsigned fail_logs;
};

struct lg {
	struct lg_opts o;
	const uint8_t *data; /* --local, mapped */
	uint64_t size;
	int ep;
	uint8_t rrq[TFTP_FILENAME_MAX + TFTP_CTRL_MAX];
	size_t rrq_len;
	struct lg_client *c;  /* o.concurrency slots */
	uint32_t *free_slots; /* a stack of the idle ones */
	uint32_t n_free;
	uint32_t *latency_us; /* of completed reads, in completion order */
	uint32_t started, in_flight;
	uint32_t head, tail; /* every read in flight, by deadline */
	struct lg_stats st;
	size_t rx_size; /* bytes of each receive buffer */
	uint8_t *rx;	/* LG_RX_BATCH buffers of rx_size */
};

static const char usage_text[] =
    "usage: tftp-loadgen --server IP:PORT --file NAME --local PATH [OPTIONS]\n"
    "       tftp-loadgen --raw-server [IP:]PORT --local PATH [--duration S]\n"
    "\n"
    "Reads NAME from a TFTP server with --concurrency clients, --transfers reads in\n"
    "all, checks every byte against PATH, and reports throughput and latency.\n"
    "\n"
    "  --server IP:PORT     the TFTP server\n"
    "  --file NAME          the remote file name\n"
    "  --local PATH         the same file on disk: every byte is compared\n"
    "  --blksize N          ask blksize N, 8-65464 (RFC 2348; default: not asked)\n"
    "  --windowsize N       ask windowsize N, 1-65535 (RFC 7440; default: not asked)\n"
    "  --tsize              ask tsize 0 and check the OACK's value (RFC 2349)\n"
    "  --strict             end a read at once when the server leaves blksize or\n"
    "                       windowsize out of its OACK (counted as fail_refused)\n"
    "  --timeout-ms N       send the last RRQ or ACK again after N ms (default 1000)\n"
    "  --retries N          times to send it again before the read fails (default 5)\n"
    "  --concurrency N      clients reading at once (default 1)\n"
    "  --transfers N        reads in all (default: --concurrency)\n"
    "  --duration S         stop after S seconds whatever is left (default 600)\n"
    "  --source IP          client i sends from IP + i (e.g. 127.1.0.1 on loopback:\n"
    "                       one address per client, as in a real boot storm)\n"
    "  --label TEXT         a name printed with the results (e.g. the server)\n"
    "\n"
    "  --raw-server [IP:]PORT  serve PATH to every RRQ, one read at a time, with\n"
    "                       nothing but sendmmsg of a window and a wait for its ACK:\n"
    "                       the raw-UDP ceiling (IP defaults to 127.0.0.1)\n"
    "\n"
    "Output: one line of key=value pairs on stdout, a summary on stderr. Exit\n"
    "status 0 when every read completed, 1 when one did not, 2 usage error,\n"
    "3 system error.\n";

/* ---- the deadline list -------------------------------------------------- */

static void lg_list_unlink(struct lg *g, uint32_t i)
{
	struct lg_client *c = &g->c[i];
	if (c->prev != LG_NONE)
		g->c[c->prev].next = c->next;
	else if (g->head == i)
		g->head = c->next;
	if (c->next != LG_NONE)
		g->c[c->next].prev = c->prev;
	else if (g->tail == i)
		g->tail = c->prev;
	c->prev = c->next = LG_NONE;
}

/* Re-arms i's timer: with one timeout for all, the newest deadline is the last. */
static void lg_list_append(struct lg *g, uint32_t i, uint64_t now)
{
	struct lg_client *c = &g->c[i];
	lg_list_unlink(g, i);
	c->deadline_us = now + (uint64_t)g->o.timeout_ms * 1000;
	c->prev = g->tail;
	if (g->tail != LG_NONE)
		g->c[g->tail].next = i;
	else
		g->head = i;
	g->tail = i;
}

/* ---- sending ------------------------------------------------------------ */

static void lg_send(const struct lg *g, const struct lg_client *c, const void *pkt, size_t len,
		    uint16_t port)
{
	struct sockaddr_in to = {
	    .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(g->o.server)};
	/* A failed send is a lost packet: the timer covers it, as it would a real one. */
	if (c->tid != 0 && port == c->tid)
		(void)send(c->fd, pkt, len, 0); /* connected: no route lookup per packet */
	else
		(void)sendto(c->fd, pkt, len, 0, (struct sockaddr *)&to, sizeof(to));
}

/*
 * Locks the read onto the server's TID. Connected, the socket costs less per
 * packet (one route, a cheap IP ID) and the kernel keeps other ports out.
 */
static int lg_lock_tid(const struct lg *g, struct lg_client *c, uint16_t port)
{
	struct sockaddr_in to = {
	    .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(g->o.server)};
	if (connect(c->fd, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -errno;
	c->tid = port;
	return 0;
}

static void lg_send_ack(struct lg *g, uint32_t i, uint64_t block, uint64_t now)
{
	struct lg_client *c = &g->c[i];
	uint8_t pkt[4];

	/* The wire carries the low 16 bits: past 65535 the numbers roll over to 0. */
	tftp_encode_ack(pkt, sizeof(pkt), (uint16_t)block);
	lg_send(g, c, pkt, sizeof(pkt), c->tid);
	c->since_ack = 0;
	lg_list_append(g, i, now);
}

/* ---- the end of a read -------------------------------------------------- */

static void lg_end(struct lg *g, uint32_t i, bool ok, uint64_t now)
{
	struct lg_client *c = &g->c[i];

	lg_list_unlink(g, i);
	if (c->fd >= 0)
		close(c->fd); /* also takes it out of the epoll set */
	c->fd = -1;
	c->state = LG_IDLE;
	g->in_flight--;
	g->free_slots[g->n_free++] = i;
	g->st.last_us = now;
	if (ok) {
		uint64_t lat = now - c->start_us;
		g->latency_us[g->st.ok++] = lat > UINT32_MAX ? UINT32_MAX : (uint32_t)lat;
		g->st.bytes += g->size;
	}
}

/* Peer text for the logs: printable ASCII as it is, the rest as \xHH. */
static void lg_escape(const uint8_t *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t k = 0; k < n && o + 5 < cap; k++) {
		if (s[k] >= 0x20 && s[k] < 0x7f && s[k] != '\\' && s[k] != '\'')
			out[o++] = (char)s[k];
		else
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", s[k]);
	}
	out[o] = '\0';
}

__attribute__((format(printf, 5, 6))) static void
lg_fail(struct lg *g, uint32_t i, enum lg_fail why, uint64_t now, const char *fmt, ...)
{
	struct lg_client *c = &g->c[i];
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (g->st.fail_logs < LG_FAIL_LOGS) {
		fprintf(stderr,
			"tftp-loadgen: %s: read %" PRIu32 " failed at block %" PRIu64 ": %s\n",
			g->o.label ? g->o.label : "-", c->xfer, c->next_block, msg);
		if (++g->st.fail_logs == LG_FAIL_LOGS)
			fprintf(stderr, "tftp-loadgen: further failures are counted, not shown\n");
	}
	/* Tell the server, so that it stops sending (RFC 1350 section 7, error 0). */
	if (c->tid != 0 && why != LG_FAIL_SERVER && why != LG_FAIL_TIMEOUT) {
		uint8_t pkt[96];
		int n =
		    tftp_encode_error(pkt, sizeof(pkt), TFTP_ERR_UNDEF, "tftp-loadgen: aborted");
		if (n > 0)
			lg_send(g, c, pkt, (size_t)n, c->tid);
	}
	g->st.failed[why]++;
	lg_end(g, i, false, now);
}

/* ---- the OACK ----------------------------------------------------------- */

/* One NUL-terminated string off the cursor, or NULL with r->err set. */
static const char *lg_rd_cstr(struct rd *r, size_t *n)
{
	size_t left = rd_left(r);
	const uint8_t *start = r->p + r->off;
	const uint8_t *nul = left > 0 ? memchr(start, 0, left) : NULL;

	if (nul == NULL) {
		r->err = true;
		return NULL;
	}
	*n = (size_t)(nul - start);
	return (const char *)rd_take(r, *n + 1);
}

static int lg_oack_option(const char *name, size_t nlen, const char *val, size_t vlen,
			  struct tftp_opts *got)
{
	char digits[21];
	uint64_t v;

	for (int id = 0; id < TFTP_OPT_COUNT; id++) {
		const char *known = tftp_opt_name((enum tftp_opt)id);
		if (strlen(known) != nlen || strncasecmp(name, known, nlen) != 0)
			continue;
		if (tftp_opt_has(got, (enum tftp_opt)id) || vlen == 0 || vlen >= sizeof(digits))
			return -EPROTO;
		memcpy(digits, val, vlen);
		digits[vlen] = '\0';
		if (parse_u64(digits, 0, UINT64_MAX, &v) < 0)
			return -EPROTO;
		tftp_opt_set(got, (enum tftp_opt)id, v);
		return 0;
	}
	return -EPROTO; /* RFC 2347: the server names only options the client asked */
}

/* RFC 2347: the OACK is the opcode and then name/value pairs, each NUL-terminated. */
static int lg_parse_oack(const uint8_t *p, size_t len, struct tftp_opts *got)
{
	struct rd r = rd_init(p, len);

	memset(got, 0, sizeof(*got));
	while (rd_left(&r) > 0) {
		size_t nlen = 0, vlen = 0;
		const char *name = lg_rd_cstr(&r, &nlen);
		const char *val = name != NULL ? lg_rd_cstr(&r, &vlen) : NULL;
		if (val == NULL || lg_oack_option(name, nlen, val, vlen, got) < 0)
			return -EPROTO;
	}
	return got->present != 0 ? 0 : -EPROTO;
}

/* What the server agreed, checked against what we asked. NULL when acceptable. */
static const char *lg_check_oack(const struct lg *g, const struct tftp_opts *got, enum lg_fail *why)
{
	*why = LG_FAIL_PROTOCOL;
	if (tftp_opt_has(got, TFTP_OPT_TIMEOUT))
		return "OACK names timeout, which was not asked";
	if (tftp_opt_has(got, TFTP_OPT_BLKSIZE) &&
	    (g->o.blksize == 0 || got->val[TFTP_OPT_BLKSIZE] < TFTP_BLKSIZE_MIN ||
	     got->val[TFTP_OPT_BLKSIZE] > g->o.blksize))
		return "OACK blksize not asked or out of range";
	if (tftp_opt_has(got, TFTP_OPT_WINDOWSIZE) &&
	    (g->o.windowsize == 0 || got->val[TFTP_OPT_WINDOWSIZE] < 1 ||
	     got->val[TFTP_OPT_WINDOWSIZE] > g->o.windowsize))
		return "OACK windowsize not asked or out of range";
	if (tftp_opt_has(got, TFTP_OPT_TSIZE) && !g->o.tsize)
		return "OACK names tsize, which was not asked";
	*why = LG_FAIL_TSIZE;
	if (tftp_opt_has(got, TFTP_OPT_TSIZE) && got->val[TFTP_OPT_TSIZE] != g->size)
		return "OACK tsize differs from the size of --local";
	return NULL;
}

/* The options in force for a read, with what the server declined counted. */
static void lg_agree(struct lg *g, struct lg_client *c, const struct tftp_opts *got)
{
	c->blksize = tftp_opt_has(got, TFTP_OPT_BLKSIZE) ? (uint16_t)got->val[TFTP_OPT_BLKSIZE]
							 : TFTP_BLKSIZE_DEFAULT;
	c->window =
	    tftp_opt_has(got, TFTP_OPT_WINDOWSIZE) ? (uint16_t)got->val[TFTP_OPT_WINDOWSIZE] : 1;
	if (g->o.blksize != 0 && c->blksize < g->o.blksize)
		g->st.blk_reduced++;
	if (g->o.windowsize != 0 && !tftp_opt_has(got, TFTP_OPT_WINDOWSIZE))
		g->st.ws_refused++;
	if (g->o.tsize && !tftp_opt_has(got, TFTP_OPT_TSIZE))
		g->st.tsize_missing++;
	g->st.blksize = c->blksize;
	g->st.windowsize = tftp_opt_has(got, TFTP_OPT_WINDOWSIZE) ? c->window : 0;
	g->st.tsize = tftp_opt_has(got, TFTP_OPT_TSIZE) ? got->val[TFTP_OPT_TSIZE] : 0;
	c->state = LG_RECEIVING;
	c->next_block = 1;
	c->tries = 1;
}

/* --strict: a read the server would run without blksize or windowsize ends at once. */
static bool lg_refused(struct lg *g, uint32_t i, const struct tftp_opts *got, uint64_t now)
{
	const char *what = NULL;

	if (!g->o.strict)
		return false;
	if (g->o.windowsize != 0 && !tftp_opt_has(got, TFTP_OPT_WINDOWSIZE))
		what = "windowsize";
	if (g->o.blksize != 0 && !tftp_opt_has(got, TFTP_OPT_BLKSIZE))
		what = "blksize";
	if (what == NULL)
		return false;
	lg_fail(g, i, LG_FAIL_REFUSED, now, "the server left %s out (--strict)", what);
	return true;
}

static void lg_on_oack(struct lg *g, uint32_t i, const uint8_t *p, size_t len, uint64_t now)
{
	struct lg_client *c = &g->c[i];
	struct tftp_opts got;
	enum lg_fail why;
	const char *bad;

	if (c->state != LG_REQUESTING) {
		g->st.dups++; /* sent again before our ACK 0 arrived: the timer covers a loss */
		return;
	}
	if (lg_parse_oack(p, len, &got) < 0) {
		lg_fail(g, i, LG_FAIL_PROTOCOL, now, "unreadable OACK (%zu bytes)", len + 2);
		return;
	}
	if ((bad = lg_check_oack(g, &got, &why)) != NULL) {
		lg_fail(g, i, why, now, "%s", bad);
		return;
	}
	lg_agree(g, c, &got);
	if (!lg_refused(g, i, &got, now))
		lg_send_ack(g, i, 0, now); /* RFC 2347: ACK 0 confirms the OACK */
}

/* ---- DATA --------------------------------------------------------------- */

/* RFC 7440 section 4: a block past a gap is answered with the last block in order. */
static void lg_on_gap(struct lg *g, uint32_t i, uint64_t block, uint64_t now)
{
	struct lg_client *c = &g->c[i];

	/*
	 * Once per gap; but a block at or below the highest already seen past
	 * it means the sender began the window again and lost its head again.
	 */
	if (c->gap_acked && block > c->gap_hi) {
		c->gap_hi = block;
		return;
	}
	c->gap_acked = true;
	c->gap_hi = block;
	g->st.gap_acks++;
	lg_send_ack(g, i, c->next_block - 1, now);
}

static void lg_on_data(struct lg *g, uint32_t i, uint16_t wire, const uint8_t *p, size_t n,
		       uint64_t now)
{
	struct lg_client *c = &g->c[i];
	static const struct tftp_opts none;

	if (c->state == LG_REQUESTING) {
		/* DATA 1 straight away: the server took none of the options (RFC 2347). */
		if (g->o.blksize != 0 || g->o.windowsize != 0 || g->o.tsize)
			g->st.no_oack++;
		lg_agree(g, c, &none);
		if (lg_refused(g, i, &none, now))
			return;
	}
	/* How far past the block expected, on the 16-bit wire (it rolls over to 0). */
	int16_t ahead = (int16_t)(uint16_t)(wire - (uint16_t)c->next_block);
	if (ahead < 0) {
		g->st.dups++;
		return;
	}
	if (ahead > 0) {
		lg_on_gap(g, i, c->next_block + (uint64_t)ahead, now);
		return;
	}
	uint64_t block = c->next_block, off = (block - 1) * c->blksize;
	if (n > c->blksize || off + n > g->size || memcmp(g->data + off, p, n) != 0) {
		lg_fail(g, i, LG_FAIL_DATA, now,
			"%zu bytes at offset %" PRIu64 " differ from --local (%" PRIu64 " bytes)",
			n, off, g->size);
		return;
	}
	bool last = n < c->blksize;
	if (last && off + n != g->size) {
		lg_fail(g, i, LG_FAIL_DATA, now, "ended at %" PRIu64 " bytes, --local has %" PRIu64,
			off + n, g->size);
		return;
	}
	c->next_block++;
	c->since_ack++;
	c->gap_acked = false;
	c->tries = 1;
	if (last) {
		lg_send_ack(g, i, block, now);
		lg_end(g, i, true, now);
	} else if (c->since_ack >= c->window) {
		lg_send_ack(g, i, block, now);
	} else {
		lg_list_append(g, i, now); /* progress re-arms the timer */
	}
}

/* ---- receiving ---------------------------------------------------------- */

static void lg_on_packet(struct lg *g, uint32_t i, const uint8_t *pkt, size_t len,
			 const struct sockaddr_in *from, bool truncated, uint64_t now)
{
	struct lg_client *c = &g->c[i];
	uint16_t port = ntohs(from->sin_port);
	struct tftp_msg m;
	char text[TFTP_ERRMSG_MAX * 4 + 1];

	g->st.rx++;
	if (ntohl(from->sin_addr.s_addr) != g->o.server) {
		g->st.ignored++;
		return;
	}
	/*
	 * RFC 1350 section 4: after the first reply only the server's TID is
	 * heard; another port (a second transfer the server began for an RRQ
	 * sent again) gets ERROR 5 so that it ends, and this read goes on.
	 */
	if (c->tid != 0 && port != c->tid) {
		uint8_t err[64];
		int n = tftp_encode_error(err, sizeof(err), TFTP_ERR_BADID, "unknown transfer ID");
		if (n > 0)
			lg_send(g, c, err, (size_t)n, port);
		g->st.ignored++;
		return;
	}
	if (truncated || tftp_decode_msg(pkt, len, &m) < 0) {
		lg_fail(g, i, LG_FAIL_PROTOCOL, now, "malformed or oversized packet (%zu bytes)",
			len);
		return;
	}
	int rc = c->tid == 0 ? lg_lock_tid(g, c, port) : 0;
	if (rc < 0) {
		lg_fail(g, i, LG_FAIL_SOCKET, now, "connect: %s", strerror(-rc));
		return;
	}
	switch (m.opcode) {
	case TFTP_OACK:
		lg_on_oack(g, i, pkt + 2, len - 2, now);
		return;
	case TFTP_DATA:
		lg_on_data(g, i, m.block, pkt + TFTP_DATA_HDR, len - TFTP_DATA_HDR, now);
		return;
	case TFTP_ERROR:
		lg_escape(m.text, m.text_len < TFTP_ERRMSG_MAX ? m.text_len : TFTP_ERRMSG_MAX, text,
			  sizeof(text));
		g->st.error_code = m.err_code;
		lg_fail(g, i, LG_FAIL_SERVER, now, "ERROR %u '%s'", m.err_code, text);
		return;
	default:
		g->st.ignored++;
	}
}

/* Reads what client i's socket holds, a window at a time. */
static void lg_drain(struct lg *g, uint32_t i, uint64_t now)
{
	struct mmsghdr mm[LG_RX_BATCH];
	struct iovec iov[LG_RX_BATCH];
	struct sockaddr_in from[LG_RX_BATCH];

	for (int round = 0; round < LG_RX_ROUNDS && g->c[i].state != LG_IDLE; round++) {
		int fd = g->c[i].fd;
		/*
		 * As many datagrams as a window holds: in lockstep one, so that
		 * recvmmsg does not go back to the socket for a second in vain.
		 */
		unsigned vlen = g->c[i].state == LG_RECEIVING && g->c[i].window < LG_RX_BATCH
				    ? g->c[i].window
				: g->c[i].state == LG_RECEIVING ? LG_RX_BATCH
								: 1;
		for (unsigned k = 0; k < vlen; k++) {
			iov[k] = (struct iovec){.iov_base = g->rx + (size_t)k * g->rx_size,
						.iov_len = g->rx_size};
			mm[k] = (struct mmsghdr){.msg_hdr = {.msg_name = &from[k],
							     .msg_namelen = sizeof(from[k]),
							     .msg_iov = &iov[k],
							     .msg_iovlen = 1}};
		}
		int n = recvmmsg(fd, mm, vlen, MSG_DONTWAIT, NULL);
		if (n < 0) {
			/* ECONNREFUSED: an ICMP error for an ACK sent after the server left. */
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
			    errno != ECONNREFUSED)
				lg_fail(g, i, LG_FAIL_SOCKET, now, "recvmmsg: %s", strerror(errno));
			return;
		}
		/* A read that ends mid-batch leaves the rest to its closed socket. */
		for (int k = 0; k < n && g->c[i].state != LG_IDLE; k++)
			lg_on_packet(g, i, iov[k].iov_base, mm[k].msg_len, &from[k],
				     (mm[k].msg_hdr.msg_flags & MSG_TRUNC) != 0 ||
					 mm[k].msg_len >= g->rx_size,
				     now);
		if ((unsigned)n < vlen)
			return;
	}
}

static int lg_start(struct lg *g, uint64_t now)
{
	uint32_t i = g->free_slots[--g->n_free];
	struct lg_client *c = &g->c[i];
	int size = LG_SOCKBUF;

	*c = (struct lg_client){.fd = -1, .prev = LG_NONE, .next = LG_NONE, .xfer = g->started++};
	g->in_flight++;
	c->start_us = now;
	if (g->st.first_us == 0)
		g->st.first_us = now;
	c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	/* FORCE needs CAP_NET_ADMIN; without it the kernel caps at rmem_max. */
	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	/* A machine of its own per client: servers limit reads per address. */
	if (g->o.source != 0) {
		struct sockaddr_in me = {.sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(g->o.source + i)};
		if (bind(c->fd, (struct sockaddr *)&me, sizeof(me)) < 0)
			return -errno;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
	if (epoll_ctl(g->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		return -errno;
	c->state = LG_REQUESTING;
	c->tries = 1;
	lg_send(g, c, g->rrq, g->rrq_len, g->o.port);
	lg_list_append(g, i, now);
	return 0;
}

/* Sends the last RRQ or ACK again, or gives the read up. */
static void lg_expire(struct lg *g, uint64_t now)
{
	while (g->head != LG_NONE && g->c[g->head].deadline_us <= now) {
		uint32_t i = g->head;
		struct lg_client *c = &g->c[i];
		if (c->tries > g->o.retries) {
			lg_fail(g, i, LG_FAIL_TIMEOUT, now, "no answer to %u sends of the %s",
				c->tries, c->state == LG_REQUESTING ? "RRQ" : "ACK");
			continue;
		}
		c->tries++;
		g->st.retransmits++;
		if (c->state == LG_REQUESTING) {
			lg_send(g, c, g->rrq, g->rrq_len, g->o.port);
			lg_list_append(g, i, now);
		} else {
			lg_send_ack(g, i, c->next_block - 1, now);
		}
	}
}

static int lg_run(struct lg *g)
{
	struct epoll_event ev[LG_EVENTS];
	uint64_t now = now_mono_us();
	uint64_t end = now + (uint64_t)g->o.duration_s * 1000000;
	int rc;

	while (now < end && (g->started < g->o.transfers || g->in_flight > 0)) {
		while (g->n_free > 0 && g->started < g->o.transfers)
			if ((rc = lg_start(g, now)) < 0)
				return rc;
		uint64_t wake = g->head != LG_NONE ? g->c[g->head].deadline_us : end;
		if (wake > end)
			wake = end;
		int ms = wake > now ? (int)((wake - now + 999) / 1000) : 0;
		int n = epoll_wait(g->ep, ev, LG_EVENTS, ms);
		if (n < 0 && errno != EINTR)
			return -errno;
		now = now_mono_us();
		for (int k = 0; k < n; k++)
			lg_drain(g, ev[k].data.u32, now);
		lg_expire(g, now);
	}
	for (uint32_t i = 0; i < g->o.concurrency; i++)
		if (g->c[i].state != LG_IDLE)
			lg_fail(g, i, LG_FAIL_UNFINISHED, now, "still running after %" PRIu32 " s",
				g->o.duration_s);
	return 0;
}

/* ---- results ------------------------------------------------------------ */

/* One figure of the report: an integer, or a float printed with 3 decimals. */
struct lg_field {
	const char *name;
	bool real;
	uint64_t u;
	double d;
};

static uint64_t lg_failed(const struct lg_stats *s)
{
	uint64_t n = 0;
	for (int k = 0; k < LG_FAIL_COUNT; k++)
		n += s->failed[k];
	return n;
}

static void lg_report(struct lg *g)
{
	struct lg_stats *s = &g->st;
	double secs = s->last_us > s->first_us ? (s->last_us - s->first_us) / 1e6 : 0;
	double mib_s = secs > 0 ? s->bytes / secs / 1048576.0 : 0;
	uint32_t *lat = g->latency_us;
	uint64_t failed = lg_failed(s);

	qsort(lat, s->ok, sizeof(*lat), bench_cmp_u32);
	const struct lg_field f[] = {
	    {"transfers", false, g->o.transfers, 0},
	    {"ok", false, s->ok, 0},
	    {"failed", false, failed, 0},
	    {"not_started", false, g->o.transfers - g->started, 0},
	    {"bytes", false, s->bytes, 0},
	    {"secs", true, 0, secs},
	    {"mib_s", true, 0, mib_s},
	    {"p50_ms", true, 0, bench_pct_ms(lat, s->ok, 0.50)},
	    {"p99_ms", true, 0, bench_pct_ms(lat, s->ok, 0.99)},
	    {"max_ms", true, 0, s->ok ? lat[s->ok - 1] / 1000.0 : 0},
	    {"blksize", false, s->blksize, 0},
	    {"windowsize", false, s->windowsize, 0},
	    {"tsize", false, s->tsize, 0},
	    {"no_oack", false, s->no_oack, 0},
	    {"blk_reduced", false, s->blk_reduced, 0},
	    {"ws_refused", false, s->ws_refused, 0},
	    {"tsize_missing", false, s->tsize_missing, 0},
	    {"retransmits", false, s->retransmits, 0},
	    {"gap_acks", false, s->gap_acks, 0},
	    {"dups", false, s->dups, 0},
	    {"ignored", false, s->ignored, 0},
	    {"error_code", false, s->error_code, 0},
	    {"client_cpu_s", true, 0, bench_self_cpu_s()},
	};
	printf("server=%s", g->o.label ? g->o.label : "-");
	for (size_t k = 0; k < PXED_ARRAY_LEN(f); k++) {
		if (f[k].real)
			printf(" %s=%.3f", f[k].name, f[k].d);
		else
			printf(" %s=%" PRIu64, f[k].name, f[k].u);
	}
	for (int k = 0; k < LG_FAIL_COUNT; k++)
		printf(" fail_%s=%" PRIu64, lg_fail_names[k], s->failed[k]);
	printf("\n");
	fflush(stdout);
	fprintf(stderr,
		"tftp-loadgen: %s: %" PRIu64 " of %" PRIu32 " reads ok, %.1f MiB in %.3f s = %.1f "
		"MiB/s, p99 %.1f ms; blksize %" PRIu64 ", windowsize %" PRIu64 "%s\n",
		g->o.label ? g->o.label : "-", s->ok, g->o.transfers, s->bytes / 1048576.0, secs,
		mib_s, bench_pct_ms(lat, s->ok, 0.99), s->blksize,
		s->windowsize ? s->windowsize : 1,
		g->o.windowsize == 0 ? ""
		: s->ws_refused	     ? " (refused)"
				     : "");
}

/* ---- the raw-UDP ceiling ------------------------------------------------ */

static volatile sig_atomic_t lg_stop;

static void lg_on_signal(int sig)
{
	(void)sig;
	lg_stop = 1;
}

/* One read of the raw server: a connected socket and the window's packets. */
struct lg_raw_xfer {
	int fd;
	uint16_t blksize, window;
	uint64_t last;	/* the final (short, maybe empty) block */
	uint64_t acked; /* the highest block the client acknowledged */
	uint64_t end_us;
	uint8_t hdr[LG_RAW_WINDOW_MAX][TFTP_DATA_HDR];
	struct iovec iov[LG_RAW_WINDOW_MAX][2];
	struct mmsghdr mm[LG_RAW_WINDOW_MAX];
};

/* Blocks first..end in one sendmmsg: header and payload straight from memory. */
static int lg_raw_send_window(const struct lg *g, struct lg_raw_xfer *x, uint64_t first,
			      uint64_t end)
{
	unsigned n = 0;

	for (uint64_t b = first; b <= end; b++, n++) {
		uint64_t off = (b - 1) * x->blksize;
		size_t len = off >= g->size ? 0 : (size_t)(g->size - off);
		if (len > x->blksize)
			len = x->blksize;
		x->hdr[n][0] = 0;
		x->hdr[n][1] = TFTP_DATA;
		x->hdr[n][2] = (uint8_t)(b >> 8);
		x->hdr[n][3] = (uint8_t)b;
		x->iov[n][0] = (struct iovec){.iov_base = x->hdr[n], .iov_len = TFTP_DATA_HDR};
		x->iov[n][1] = (struct iovec){.iov_base = (void *)(g->data + off), .iov_len = len};
		x->mm[n] = (struct mmsghdr){.msg_hdr = {.msg_iov = x->iov[n], .msg_iovlen = 2}};
	}
	for (unsigned sent = 0; sent < n;) {
		int k = sendmmsg(x->fd, x->mm + sent, n - sent, 0);
		if (k >= 0) {
			sent += (unsigned)k;
			continue;
		}
		if (lg_stop)
			return -EINTR;
		if (errno == ECONNREFUSED)
			return -ECONNREFUSED; /* the client has gone */
		if (errno != EINTR)
			sent++; /* EPERM (a firewall), ENOBUFS: lost, as on a network */
	}
	return 0;
}

/*
 * Waits for an ACK in acked..end (64-bit, from the 16-bit wire number) and
 * moves acked there. 0, -ETIMEDOUT, or -errno (ECONNREFUSED: the client left;
 * ECONNABORTED: it sent ERROR).
 */
static int lg_raw_wait_ack(struct lg_raw_xfer *x, uint64_t end)
{
	uint8_t buf[TFTP_CTRL_MAX];
	struct tftp_msg m;

	while (!lg_stop && now_mono_us() < x->end_us) {
		ssize_t n = recv(x->fd, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -ETIMEDOUT;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (tftp_decode_msg(buf, (size_t)n, &m) < 0)
			continue;
		if (m.opcode == TFTP_ERROR)
			return -ECONNABORTED;
		uint64_t b = x->acked + (uint16_t)(m.block - (uint16_t)x->acked);
		if (m.opcode != TFTP_ACK || b > end)
			continue; /* stale or nonsense: the bare minimum ignores it */
		x->acked = b;	  /* below end: a gap, the next window starts after it */
		return 0;
	}
	return -EINTR;
}

/* Sends x's next window, again on each timeout, until an ACK moves acked. */
static int lg_raw_window(const struct lg *g, struct lg_raw_xfer *x)
{
	uint64_t first = x->acked + 1;
	uint64_t end = x->acked + x->window < x->last ? x->acked + x->window : x->last;

	for (uint32_t tries = 0; tries <= g->o.retries; tries++) {
		int rc = lg_raw_send_window(g, x, first, end);
		if (rc == 0)
			rc = lg_raw_wait_ack(x, end);
		if (rc != -ETIMEDOUT)
			return rc;
	}
	return -ETIMEDOUT;
}

/* The OACK (RFC 2347) for the options asked, and its ACK 0. */
static int lg_raw_oack(const struct lg *g, struct lg_raw_xfer *x, const struct tftp_req *req)
{
	struct tftp_opts oack = {0};
	uint8_t buf[TFTP_CTRL_MAX];

	if (tftp_opt_has(&req->opts, TFTP_OPT_BLKSIZE))
		tftp_opt_set(&oack, TFTP_OPT_BLKSIZE, x->blksize);
	if (tftp_opt_has(&req->opts, TFTP_OPT_WINDOWSIZE))
		tftp_opt_set(&oack, TFTP_OPT_WINDOWSIZE, x->window);
	if (tftp_opt_has(&req->opts, TFTP_OPT_TSIZE))
		tftp_opt_set(&oack, TFTP_OPT_TSIZE, g->size);
	if (oack.present == 0)
		return 0;
	int n = tftp_encode_oack(buf, sizeof(buf), &oack);
	if (n < 0)
		return n;
	for (uint32_t tries = 0; tries <= g->o.retries; tries++) {
		if (send(x->fd, buf, (size_t)n, 0) < 0 && errno == ECONNREFUSED)
			return -ECONNREFUSED;
		int rc = lg_raw_wait_ack(x, 0);
		if (rc != -ETIMEDOUT)
			return rc;
	}
	return -ETIMEDOUT;
}

static int lg_raw_socket(const struct lg *g, const struct sockaddr_in *peer)
{
	struct sockaddr_in me = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(g->o.raw_addr)};
	struct timeval tv = {.tv_sec = g->o.timeout_ms / 1000,
			     .tv_usec = (g->o.timeout_ms % 1000) * 1000};
	int size = LG_SOCKBUF;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	/* Connected: the kernel keeps every other port out, and the ACK wait times out. */
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0 ||
	    connect(fd, (const struct sockaddr *)peer, sizeof(*peer)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

static int lg_raw_transfer(const struct lg *g, const struct sockaddr_in *peer,
			   const struct tftp_req *req, uint64_t end_us)
{
	struct lg_raw_xfer *x = calloc(1, sizeof(*x));
	int rc;

	if (x == NULL)
		return -ENOMEM;
	x->end_us = end_us;
	x->blksize = tftp_opt_has(&req->opts, TFTP_OPT_BLKSIZE)
			 ? (uint16_t)req->opts.val[TFTP_OPT_BLKSIZE]
			 : TFTP_BLKSIZE_DEFAULT;
	x->window = 1;
	if (tftp_opt_has(&req->opts, TFTP_OPT_WINDOWSIZE))
		x->window = req->opts.val[TFTP_OPT_WINDOWSIZE] < LG_RAW_WINDOW_MAX
				? (uint16_t)req->opts.val[TFTP_OPT_WINDOWSIZE]
				: LG_RAW_WINDOW_MAX;
	x->last = g->size / x->blksize + 1;
	if ((rc = x->fd = lg_raw_socket(g, peer)) >= 0) {
		rc = lg_raw_oack(g, x, req);
		while (rc == 0 && x->acked < x->last)
			rc = lg_raw_window(g, x);
		close(x->fd);
	}
	free(x);
	return rc;
}

static int lg_raw_listen(const struct lg *g)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(g->o.raw_port),
				 .sin_addr.s_addr = htonl(g->o.raw_addr)};
	int one = 1;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* Answers RRQs one at a time until a signal or --duration. */
static int lg_raw_serve(const struct lg *g)
{
	struct sigaction sa = {.sa_handler = lg_on_signal}; /* no SA_RESTART: waits end */
	uint64_t end = now_mono_us() + (uint64_t)g->o.duration_s * 1000000;
	uint64_t served = 0, aborted = 0;
	uint8_t buf[TFTP_FILENAME_MAX + TFTP_CTRL_MAX];
	struct tftp_req req;
	int fd = lg_raw_listen(g);

	if (fd < 0)
		return fd;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fprintf(stderr, "tftp-loadgen: raw server on port %u, %" PRIu64 " bytes\n", g->o.raw_port,
		g->size);
	while (!lg_stop && now_mono_us() < end) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		ssize_t n =
		    recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&peer, &plen);
		if (n < 0 || tftp_decode_req(buf, (size_t)n, &req) < 0 || req.opcode != TFTP_RRQ)
			continue; /* the bare minimum: no ERROR for what it cannot serve */
		int rc = lg_raw_transfer(g, &peer, &req, end);
		if (rc == 0) {
			served++;
		} else {
			aborted++;
			fprintf(stderr, "tftp-loadgen: raw server: a read ended early: %s\n",
				strerror(-rc));
		}
	}
	close(fd);
	fprintf(stderr, "tftp-loadgen: raw server: %" PRIu64 " reads served, %" PRIu64 " aborted\n",
		served, aborted);
	return 0;
}

/* ---- command line ------------------------------------------------------- */

enum {
	OPT_SERVER = 256,
	OPT_FILE,
	OPT_LOCAL,
	OPT_BLKSIZE,
	OPT_WINDOWSIZE,
	OPT_TSIZE,
	OPT_STRICT,
	OPT_TIMEOUT_MS,
	OPT_RETRIES,
	OPT_CONCURRENCY,
	OPT_TRANSFERS,
	OPT_DURATION,
	OPT_SOURCE,
	OPT_LABEL,
	OPT_RAW_SERVER,
	OPT_HELP,
};

static const struct option lg_long_opts[] = {
    {"server", required_argument, NULL, OPT_SERVER},
    {"file", required_argument, NULL, OPT_FILE},
    {"local", required_argument, NULL, OPT_LOCAL},
    {"blksize", required_argument, NULL, OPT_BLKSIZE},
    {"windowsize", required_argument, NULL, OPT_WINDOWSIZE},
    {"tsize", no_argument, NULL, OPT_TSIZE},
    {"strict", no_argument, NULL, OPT_STRICT},
    {"timeout-ms", required_argument, NULL, OPT_TIMEOUT_MS},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"concurrency", required_argument, NULL, OPT_CONCURRENCY},
    {"transfers", required_argument, NULL, OPT_TRANSFERS},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"source", required_argument, NULL, OPT_SOURCE},
    {"label", required_argument, NULL, OPT_LABEL},
    {"raw-server", required_argument, NULL, OPT_RAW_SERVER},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* "IP:PORT", or "PORT" alone when def_ip is nonzero. */
static int lg_endpoint(const char *name, const char *s, uint32_t def_ip, uint32_t *ip,
		       uint16_t *port)
{
	char host[16];
	const char *colon = strrchr(s, ':');
	uint32_t v;

	*ip = def_ip;
	if (colon != NULL) {
		size_t hlen = (size_t)(colon - s);
		*ip = 0;
		if (hlen < sizeof(host)) {
			memcpy(host, s, hlen);
			host[hlen] = '\0';
			if (ip4_parse(host, ip) < 0)
				*ip = 0;
		}
	}
	if (*ip == 0 ||
	    bench_num("tftp-loadgen", name, colon != NULL ? colon + 1 : s, 1, 65535, &v) < 0) {
		fprintf(stderr, "tftp-loadgen: --%s: '%s' is not IP:PORT\n", name, s);
		return -EINVAL;
	}
	*port = (uint16_t)v;
	return 0;
}

static int lg_opt(struct lg_opts *o, int opt, const char *arg)
{
	switch (opt) {
	case OPT_SERVER:
		return lg_endpoint("server", arg, 0, &o->server, &o->port);
	case OPT_FILE:
		o->file = arg;
		return strlen(arg) > 0 && strlen(arg) <= TFTP_FILENAME_MAX ? 0 : -EINVAL;
	case OPT_LOCAL:
		o->local = arg;
		return 0;
	case OPT_BLKSIZE:
		return bench_num("tftp-loadgen", "blksize", arg, TFTP_BLKSIZE_MIN, TFTP_BLKSIZE_MAX,
				 &o->blksize);
	case OPT_WINDOWSIZE:
		return bench_num("tftp-loadgen", "windowsize", arg, 1, 65535, &o->windowsize);
	case OPT_TSIZE:
		o->tsize = true;
		return 0;
	case OPT_STRICT:
		o->strict = true;
		return 0;
	case OPT_TIMEOUT_MS:
		return bench_num("tftp-loadgen", "timeout-ms", arg, 1, 60000, &o->timeout_ms);
	case OPT_RETRIES:
		return bench_num("tftp-loadgen", "retries", arg, 0, 20, &o->retries);
	case OPT_CONCURRENCY:
		return bench_num("tftp-loadgen", "concurrency", arg, 1, LG_MAX_CONCURRENCY,
				 &o->concurrency);
	case OPT_TRANSFERS:
		return bench_num("tftp-loadgen", "transfers", arg, 1, LG_MAX_TRANSFERS,
				 &o->transfers);
	case OPT_DURATION:
		return bench_num("tftp-loadgen", "duration", arg, 1, 86400, &o->duration_s);
	case OPT_SOURCE:
		if (ip4_parse(arg, &o->source) < 0 || o->source == 0) {
			fprintf(stderr, "tftp-loadgen: --source: '%s' is not an IPv4 address\n",
				arg);
			return -EINVAL;
		}
		return 0;
	case OPT_LABEL:
		o->label = arg;
		return strpbrk(arg, " \t\n\"\\=") == NULL ? 0 : -EINVAL;
	case OPT_RAW_SERVER:
		return lg_endpoint("raw-server", arg, INADDR_LOOPBACK, &o->raw_addr, &o->raw_port);
	default:
		return -EINVAL;
	}
}

static int lg_parse(int argc, char **argv, struct lg_opts *o)
{
	int opt;

	*o =
	    (struct lg_opts){.timeout_ms = 1000, .retries = 5, .concurrency = 1, .duration_s = 600};
	while ((opt = getopt_long(argc, argv, "", lg_long_opts, NULL)) != -1) {
		if (opt == OPT_HELP) {
			fputs(usage_text, stdout);
			exit(0);
		}
		if (lg_opt(o, opt, optarg) < 0) {
			fprintf(stderr, "tftp-loadgen: bad option (see --help)\n");
			return -EINVAL;
		}
	}
	if (o->transfers == 0)
		o->transfers = o->concurrency;
	if (o->concurrency > o->transfers)
		o->concurrency = o->transfers;
	bool client = o->server != 0 && o->file != NULL;
	if (o->source != 0 && o->source + (uint64_t)o->concurrency > UINT32_MAX) {
		fprintf(stderr, "tftp-loadgen: --source: no room for %" PRIu32 " addresses\n",
			o->concurrency);
		return -EINVAL;
	}
	if (optind != argc || o->local == NULL || client == (o->raw_port != 0)) {
		fputs(usage_text, stderr);
		return -EINVAL;
	}
	return 0;
}

/* ---- set-up ------------------------------------------------------------- */

/* Maps --local whole, faulted in now so that no page fault lands in a timing. */
static int lg_map(struct lg *g)
{
	struct stat st;
	int fd = open(g->o.local, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	g->size = (uint64_t)st.st_size;
	if (g->size > 0) {
		void *p = mmap(NULL, g->size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
		if (p == MAP_FAILED) {
			int rc = -errno;
			close(fd);
			return rc;
		}
		g->data = p;
	} else {
		g->data = (const uint8_t *)"";
	}
	close(fd);
	return 0;
}

static int lg_client_setup(struct lg *g)
{
	struct tftp_opts ask = {0};
	size_t room = g->o.blksize > 0 ? g->o.blksize : TFTP_BLKSIZE_DEFAULT;

	if (g->o.blksize > 0)
		tftp_opt_set(&ask, TFTP_OPT_BLKSIZE, g->o.blksize);
	if (g->o.tsize)
		tftp_opt_set(&ask, TFTP_OPT_TSIZE, 0);
	if (g->o.windowsize > 0)
		tftp_opt_set(&ask, TFTP_OPT_WINDOWSIZE, g->o.windowsize);
	int n = tftp_encode_rrq(g->rrq, sizeof(g->rrq), g->o.file, "octet", &ask);
	if (n < 0)
		return n;
	g->rrq_len = (size_t)n;
	/* One byte more than the largest DATA: a longer one shows as oversized. */
	g->rx_size = (room > LG_CTRL_MIN ? room : LG_CTRL_MIN) + TFTP_DATA_HDR + 1;
	g->rx = malloc(LG_RX_BATCH * g->rx_size);
	g->c = calloc(g->o.concurrency, sizeof(*g->c));
	g->free_slots = calloc(g->o.concurrency, sizeof(*g->free_slots));
	g->latency_us = calloc(g->o.transfers, sizeof(*g->latency_us));
	if (g->rx == NULL || g->c == NULL || g->free_slots == NULL || g->latency_us == NULL)
		return -ENOMEM;
	/* Slot 0 on top: a single read always uses the same one. */
	for (uint32_t i = 0; i < g->o.concurrency; i++) {
		g->c[i] = (struct lg_client){.fd = -1, .prev = LG_NONE, .next = LG_NONE};
		g->free_slots[g->n_free++] = g->o.concurrency - 1 - i;
	}
	g->head = g->tail = LG_NONE;
	g->ep = epoll_create1(EPOLL_CLOEXEC);
	return g->ep < 0 ? -errno : 0;
}

int main(int argc, char **argv)
{
	struct lg *g = calloc(1, sizeof(*g));
	int rc;

	if (g == NULL)
		return 3;
	if (lg_parse(argc, argv, &g->o) < 0)
		return 2;
	if ((rc = lg_map(g)) < 0) {
		fprintf(stderr, "tftp-loadgen: --local %s: %s\n", g->o.local, strerror(-rc));
		return 3;
	}
	if (g->o.raw_port != 0) {
		if ((rc = lg_raw_serve(g)) < 0) {
			fprintf(stderr, "tftp-loadgen: raw server: %s\n", strerror(-rc));
			return 3;
		}
		return 0;
	}
	if ((rc = lg_client_setup(g)) < 0 || (rc = lg_run(g)) < 0) {
		fprintf(stderr, "tftp-loadgen: %s\n", strerror(-rc));
		return 3;
	}
	lg_report(g);
	return g->st.ok == g->o.transfers ? 0 : 1;
}
