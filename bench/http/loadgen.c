/*
 * http-loadgen: an HTTP/1.1 GET load generator for bench/http/run.sh.
 *
 * --connections N connections each GET --path --requests R times in a row
 * on one keep-alive connection (RFC 9112 section 9.3: persistent by default
 * in HTTP/1.1), one request at a time, no pipelining. Every response must
 * be 200 with a Content-Length equal to the size of --local and exactly that
 * many body bytes; anything else (another status, chunked coding, a short
 * body, a connection closed early, no progress for --timeout-ms) fails the
 * request. A server that closes the connection after a complete response
 * (Connection: close) is reconnected to, and counted.
 *
 * The timed run throws the body away without copying it: recv(MSG_TRUNC)
 * on a TCP socket discards up to that many queued bytes in the kernel
 * (tcp(7)), so the client costs little and the server sets the pace.
 * --verify instead copies every body byte out, compares it with --local
 * (mapped in memory) and folds it into a 64-bit FNV-1a checksum, which is
 * printed beside that of --local: one such run shows the bytes are right.
 *
 * Bounded: at most HL_MAX_CONNECTIONS connections and HL_MAX_REQUESTS
 * requests in all; it stops after --duration seconds whatever is left.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
#include <unistd.h>

#include "../common.h"
#include "core/util.h"

#define HL_MAX_CONNECTIONS 5000u
#define HL_MAX_REQUESTS 10000000u
#define HL_HEAD_MAX 8192	    /* the status line and headers of one response */
#define HL_COPY_BUF (1024 * 1024)   /* --verify: body bytes copied per recv */
#define HL_DISCARD_MAX (1ull << 30) /* body bytes thrown away per recv */
#define HL_EVENTS 256		    /* epoll events per wait */
#define HL_RECV_ROUNDS 8	    /* recv calls per connection per wake; then the others' */
#define HL_TICK_MS 200		    /* how often the timeouts are looked at */
#define HL_FAIL_LOGS 10		    /* failed requests described on stderr */
#define HL_FNV_OFFSET 0xcbf29ce484222325ull
#define HL_FNV_PRIME 0x100000001b3ull

enum hl_state {
	HL_IDLE,       /* no socket: the next request connects first */
	HL_CONNECTING, /* connect() in progress */
	HL_READY,      /* connected, the next request not sent yet */
	HL_HEAD,       /* request sent: the status line and headers arriving */
	HL_BODY,       /* the body arriving */
	HL_DONE,       /* all its requests made */
};

/* Why a request failed; the names are the report's fail_* keys. */
enum hl_fail {
	HL_FAIL_CONNECT,    /* connect() failed or was refused */
	HL_FAIL_STATUS,	    /* not 200 */
	HL_FAIL_LENGTH,	    /* no Content-Length, or not the size of --local */
	HL_FAIL_PROTOCOL,   /* a malformed or oversized head, chunked coding, excess bytes */
	HL_FAIL_DATA,	    /* --verify: a body byte differs from --local */
	HL_FAIL_CLOSED,	    /* the server closed before the end of the response */
	HL_FAIL_TIMEOUT,    /* no progress for --timeout-ms */
	HL_FAIL_SOCKET,	    /* our own socket failed */
	HL_FAIL_UNFINISHED, /* still running at --duration */
	HL_FAIL_COUNT
};

static const char *const hl_fail_names[HL_FAIL_COUNT] = {
    [HL_FAIL_CONNECT] = "connect",
    [HL_FAIL_STATUS] = "status",
    [HL_FAIL_LENGTH] = "length",
    [HL_FAIL_PROTOCOL] = "protocol",
    [HL_FAIL_DATA] = "data",
    [HL_FAIL_CLOSED] = "closed",
    [HL_FAIL_TIMEOUT] = "timeout",
    [HL_FAIL_SOCKET] = "socket",
    [HL_FAIL_UNFINISHED] = "unfinished",
};

struct hl_conn {
	int fd;
	uint8_t state;
	bool server_closes;   /* the response said Connection: close */
	uint32_t made;	      /* requests ended (ok or not) on this connection's slot */
	uint64_t body_len;    /* Content-Length of the current response */
	uint64_t body_got;    /* body bytes received of it */
	uint64_t fnv;	      /* --verify: FNV-1a of the body so far */
	uint64_t start_us;    /* the current request was sent */
	uint64_t progress_us; /* the last byte arrived (or the request left) */
	size_t head_len;      /* bytes in head */
	char head[HL_HEAD_MAX + 1];
};

struct hl_opts {
	uint32_t server; /* host order */
	uint32_t source; /* connection i binds to source + i; 0: the kernel's choice */
	uint16_t port;
	const char *path, *local, *label;
	uint32_t connections, requests, timeout_ms, duration_s;
	bool verify;
};

struct hl_stats {
	uint64_t ok, failed[HL_FAIL_COUNT];
	uint64_t bytes;	   /* body bytes of the requests that completed */
	uint64_t connects; /* connections opened, the first of each slot included */
	uint64_t verified; /* --verify: responses compared byte for byte and checksummed */
	uint64_t body_fnv; /* --verify: the checksum of the last verified body */
	uint64_t first_us, last_us;
	unsigned fail_logs;
};

struct hl {
	struct hl_opts o;
	const uint8_t *data; /* --local, mapped (--verify only) */
	uint64_t size;
	uint64_t file_fnv; /* --verify: FNV-1a of --local */
	int ep;
	char request[512];
	size_t request_len;
	struct hl_conn *c; /* o.connections slots */
	uint32_t active;   /* slots not yet HL_DONE */
	uint32_t *latency_us;
	uint64_t n_latency;
	struct hl_stats st;
	uint8_t *buf; /* the receive buffer: HL_COPY_BUF bytes */
};

static const char usage_text[] =
    "usage: http-loadgen --server IP:PORT --path /PATH --local FILE [OPTIONS]\n"
    "\n"
    "GETs PATH over HTTP/1.1 with --connections keep-alive connections, --requests\n"
    "times on each, checks every response (200, Content-Length = the size of FILE,\n"
    "that many bytes), and reports throughput and per-request latency.\n"
    "\n"
    "  --server IP:PORT     the HTTP server\n"
    "  --path /PATH         the path to GET\n"
    "  --local FILE         the same file on disk: its size is the expected length\n"
    "  --connections N      connections at once (default 1)\n"
    "  --requests N         requests on each connection, one after the other (default 1)\n"
    "  --verify             copy every body byte, compare it with FILE and checksum it\n"
    "                       (FNV-1a 64); without it the body is discarded in the kernel\n"
    "  --timeout-ms N       fail a request without progress for N ms (default 30000)\n"
    "  --source IP          connection i connects from IP + i (e.g. 127.1.0.1 on\n"
    "                       loopback: one address per client, as in a rack booting)\n"
    "  --duration S         stop after S seconds whatever is left (default 600)\n"
    "  --label TEXT         a name printed with the results (e.g. the server)\n"
    "\n"
    "Output: one line of key=value pairs on stdout, a summary on stderr. Exit status\n"
    "0 when every request succeeded, 1 when one did not, 2 usage error, 3 system error.\n";

/* ---- checksums ---------------------------------------------------------- */

static uint64_t hl_fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t k = 0; k < n; k++)
		h = (h ^ p[k]) * HL_FNV_PRIME;
	return h;
}

/* ---- the end of a request ----------------------------------------------- */

static void hl_close(struct hl_conn *c)
{
	if (c->fd >= 0)
		close(c->fd); /* also takes it out of the epoll set */
	c->fd = -1;
}

/* The request on c has ended: the next one, on this connection or a new one, or none. */
static void hl_next(struct hl *g, struct hl_conn *c, uint64_t now)
{
	c->made++;
	g->st.last_us = now;
	if (c->made >= g->o.requests) {
		hl_close(c);
		c->state = HL_DONE;
		g->active--;
		return;
	}
	c->state = c->fd >= 0 ? HL_READY : HL_IDLE;
}

__attribute__((format(printf, 5, 6))) static void
hl_fail(struct hl *g, struct hl_conn *c, enum hl_fail why, uint64_t now, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (g->st.fail_logs < HL_FAIL_LOGS) {
		fprintf(stderr,
			"http-loadgen: %s: request %" PRIu32 " of connection %td failed: %s\n",
			g->o.label ? g->o.label : "-", c->made + 1, c - g->c, msg);
		if (++g->st.fail_logs == HL_FAIL_LOGS)
			fprintf(stderr, "http-loadgen: further failures are counted, not shown\n");
	}
	g->st.failed[why]++;
	/* What is left of the response is unknown: the next request gets a new connection. */
	hl_close(c);
	hl_next(g, c, now);
}

static void hl_complete(struct hl *g, struct hl_conn *c, uint64_t now)
{
	uint64_t lat = now - c->start_us;

	g->latency_us[g->n_latency++] = lat > UINT32_MAX ? UINT32_MAX : (uint32_t)lat;
	g->st.ok++;
	g->st.bytes += c->body_len;
	if (g->o.verify) {
		g->st.verified++;
		g->st.body_fnv = c->fnv;
	}
	if (c->server_closes)
		hl_close(c);
	hl_next(g, c, now);
}

/* ---- sending ------------------------------------------------------------ */

static int hl_send_request(struct hl *g, struct hl_conn *c, uint64_t now)
{
	/* A few hundred bytes into an empty send buffer: all or nothing. */
	ssize_t n = send(c->fd, g->request, g->request_len, MSG_NOSIGNAL);
	if (n != (ssize_t)g->request_len)
		return n < 0 ? -errno : -EIO;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
	if (epoll_ctl(g->ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		return -errno;
	c->state = HL_HEAD;
	c->head_len = 0;
	c->body_len = c->body_got = 0;
	c->fnv = HL_FNV_OFFSET;
	c->server_closes = false;
	c->start_us = c->progress_us = now;
	return 0;
}

/* A new non-blocking connection for slot c; the request goes once it is up. */
static int hl_connect(struct hl *g, struct hl_conn *c, uint64_t now)
{
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(g->o.port),
				 .sin_addr.s_addr = htonl(g->o.server)};
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	/* A machine of its own per connection: servers cap connections per address. */
	if (g->o.source != 0) {
		struct sockaddr_in me = {.sin_family = AF_INET,
					 .sin_addr.s_addr =
					     htonl(g->o.source + (uint32_t)(c - g->c))};
		if (bind(c->fd, (struct sockaddr *)&me, sizeof(me)) < 0)
			return -errno;
	}
	/* The request is one small write: never held back behind an unacknowledged one. */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	g->st.connects++;
	c->state = HL_CONNECTING;
	c->start_us = c->progress_us = now;
	struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
	if (epoll_ctl(g->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		return -errno;
	if (connect(c->fd, (struct sockaddr *)&to, sizeof(to)) < 0 && errno != EINPROGRESS)
		hl_fail(g, c, HL_FAIL_CONNECT, now, "connect: %s", strerror(errno));
	return 0;
}

static void hl_on_connected(struct hl *g, struct hl_conn *c, uint64_t now)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err != 0) {
		hl_fail(g, c, HL_FAIL_CONNECT, now, "connect: %s", strerror(err));
		return;
	}
	if ((err = hl_send_request(g, c, now)) < 0)
		hl_fail(g, c, HL_FAIL_SOCKET, now, "send: %s", strerror(-err));
}

/* ---- the response head -------------------------------------------------- */

/* The value of header `name` on one line "Name: value", or NULL; *vlen its length. */
static const char *hl_header(const char *line, size_t len, const char *name, size_t *vlen)
{
	size_t nlen = strlen(name);
	const char *v, *end = line + len;

	if (len <= nlen || line[nlen] != ':' || strncasecmp(line, name, nlen) != 0)
		return NULL;
	/* RFC 9110 section 5.5: optional whitespace on either side of the value. */
	for (v = line + nlen + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*vlen = (size_t)(end - v);
	return v;
}

/* True when the comma-separated value has the token tok (any case). */
static bool hl_has_token(const char *v, size_t n, const char *tok)
{
	size_t tlen = strlen(tok);

	for (size_t k = 0; k + tlen <= n; k++)
		if (strncasecmp(v + k, tok, tlen) == 0 &&
		    (k == 0 || v[k - 1] == ',' || v[k - 1] == ' ') &&
		    (k + tlen == n || v[k + tlen] == ',' || v[k + tlen] == ' '))
			return true;
	return false;
}

/*
 * One header line of the response: Content-Length (twice only with the same
 * value, RFC 9112 section 6.3), Transfer-Encoding (refused: a file is sent
 * with a length) and Connection. NULL when acceptable, else why not.
 */
static const char *hl_head_line(struct hl_conn *c, const char *line, size_t len, bool *have_len)
{
	char digits[21];
	uint64_t v;
	size_t vlen = 0;
	const char *val;

	if ((val = hl_header(line, len, "Content-Length", &vlen)) != NULL) {
		if (vlen == 0 || vlen >= sizeof(digits))
			return "a Content-Length that is not a number";
		memcpy(digits, val, vlen);
		digits[vlen] = '\0';
		if (parse_u64(digits, 0, UINT64_MAX, &v) < 0 || (*have_len && v != c->body_len))
			return "a bad or repeated Content-Length";
		c->body_len = v;
		*have_len = true;
	} else if (hl_header(line, len, "Transfer-Encoding", &vlen) != NULL) {
		return "Transfer-Encoding instead of a length";
	} else if ((val = hl_header(line, len, "Connection", &vlen)) != NULL) {
		c->server_closes = hl_has_token(val, vlen, "close");
	}
	return NULL;
}

/*
 * Parses the head (head_len bytes, ending at end with the empty line) into
 * c: status, length, whether the server closes. 0, or a failure and why.
 */
static int hl_parse_head(struct hl_conn *c, size_t end, int *status, const char **why)
{
	const char *p = c->head, *stop = c->head + end;
	const char *eol = memchr(p, '\n', (size_t)(stop - p));
	bool have_len = false;

	*why = "a malformed status line";
	/* RFC 9112 section 4: HTTP-version SP 3DIGIT SP [reason]. */
	if (eol == NULL || eol - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' ||
	    p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9')
		return HL_FAIL_PROTOCOL;
	*status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	/* HTTP/1.0 closes after each response unless it says keep-alive; we never ask. */
	c->server_closes = p[7] == '0';
	for (p = eol + 1; p < stop; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(stop - p));
		size_t len = (size_t)(eol - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len == 0)
			break;
		if ((*why = hl_head_line(c, p, len, &have_len)) != NULL)
			return HL_FAIL_PROTOCOL;
	}
	*why = NULL;
	if (*status != 200)
		return HL_FAIL_STATUS;
	*why = "no Content-Length";
	return have_len ? 0 : HL_FAIL_LENGTH;
}

/* The end of the head (the byte after its empty line), or 0 when not there yet. */
static size_t hl_head_end(const char *h, size_t n)
{
	for (size_t k = 0; k + 1 < n; k++) {
		if (h[k] != '\n')
			continue;
		if (h[k + 1] == '\n')
			return k + 2;
		if (k + 2 < n && h[k + 1] == '\r' && h[k + 2] == '\n')
			return k + 3;
	}
	return 0;
}

/* ---- the body ----------------------------------------------------------- */

/* Body bytes p[0..n) at the current offset: compared and checksummed with --verify. */
static bool hl_body_bytes(struct hl *g, struct hl_conn *c, const uint8_t *p, size_t n)
{
	if (g->o.verify) {
		if (memcmp(p, g->data + c->body_got, n) != 0)
			return false;
		c->fnv = hl_fnv(c->fnv, p, n);
	}
	c->body_got += n;
	return true;
}

static void hl_on_head(struct hl *g, struct hl_conn *c, size_t end, uint64_t now)
{
	const char *why = NULL;
	int status = 0;
	int rc = hl_parse_head(c, end, &status, &why);
	size_t extra = c->head_len - end;

	if (rc == HL_FAIL_STATUS) {
		hl_fail(g, c, HL_FAIL_STATUS, now, "status %d", status);
		return;
	}
	if (rc == 0 && c->body_len != g->size) {
		rc = HL_FAIL_LENGTH;
		why = "Content-Length is not the size of --local";
	}
	/* No pipelining: nothing may follow the body in what has arrived. */
	if (rc == 0 && extra > c->body_len) {
		rc = HL_FAIL_PROTOCOL;
		why = "bytes past the end of the body";
	}
	if (rc == 0 && !hl_body_bytes(g, c, (const uint8_t *)c->head + end, extra)) {
		rc = HL_FAIL_DATA;
		why = "the body differs from --local";
	}
	if (rc != 0) {
		hl_fail(g, c, (enum hl_fail)rc, now, "%s", why);
		return;
	}
	c->state = HL_BODY;
	if (c->body_got == c->body_len)
		hl_complete(g, c, now);
}

/* One recv of the head; false when there is nothing more to read now. */
static bool hl_read_head(struct hl *g, struct hl_conn *c, uint64_t now)
{
	ssize_t n = recv(c->fd, c->head + c->head_len, HL_HEAD_MAX - c->head_len, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (n <= 0) {
		hl_fail(g, c, n == 0 ? HL_FAIL_CLOSED : HL_FAIL_SOCKET, now, "%s before the head",
			n == 0 ? "closed" : strerror(errno));
		return false;
	}
	c->progress_us = now;
	/* The search restarts 3 bytes back: the empty line may straddle two reads. */
	size_t from = c->head_len > 3 ? c->head_len - 3 : 0;
	c->head_len += (size_t)n;
	size_t end = hl_head_end(c->head + from, c->head_len - from);
	if (end != 0) {
		hl_on_head(g, c, from + end, now);
		return c->state == HL_BODY;
	}
	if (c->head_len == HL_HEAD_MAX) {
		hl_fail(g, c, HL_FAIL_PROTOCOL, now, "a head over %d bytes", HL_HEAD_MAX);
		return false;
	}
	return true;
}

/* One recv of the body; false when there is nothing more to read now. */
static bool hl_read_body(struct hl *g, struct hl_conn *c, uint64_t now)
{
	uint64_t left = c->body_len - c->body_got;
	ssize_t n;

	/*
	 * Never more than the body: the next response must stay queued. With
	 * MSG_TRUNC TCP drops the bytes without writing g->buf (tcp(7)).
	 */
	if (g->o.verify)
		n = recv(c->fd, g->buf, left < HL_COPY_BUF ? left : HL_COPY_BUF, MSG_DONTWAIT);
	else
		n = recv(c->fd, g->buf, left < HL_DISCARD_MAX ? left : HL_DISCARD_MAX,
			 MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (n <= 0) {
		hl_fail(g, c, n == 0 ? HL_FAIL_CLOSED : HL_FAIL_SOCKET, now,
			"%s after %" PRIu64 " of %" PRIu64 " body bytes",
			n == 0 ? "closed" : strerror(errno), c->body_got, c->body_len);
		return false;
	}
	c->progress_us = now;
	if (!hl_body_bytes(g, c, g->buf, (size_t)n)) {
		hl_fail(g, c, HL_FAIL_DATA, now, "the body differs from --local near byte %" PRIu64,
			c->body_got);
		return false;
	}
	if (c->body_got < c->body_len)
		return true;
	hl_complete(g, c, now);
	return false; /* the next response needs the next request first */
}

/* c is readable: a few reads, then the other connections' turn. */
static void hl_on_readable(struct hl *g, struct hl_conn *c, uint64_t now)
{
	for (int k = 0; k < HL_RECV_ROUNDS; k++) {
		bool more = false;
		if (c->state == HL_HEAD)
			more = hl_read_head(g, c, now);
		else if (c->state == HL_BODY)
			more = hl_read_body(g, c, now);
		if (!more)
			return;
	}
}

/* ---- the loop ----------------------------------------------------------- */

/* Starts what each slot has to do next: a connection, or the next request on its own. */
static void hl_kick(struct hl *g, uint64_t now)
{
	for (uint32_t i = 0; i < g->o.connections; i++) {
		struct hl_conn *c = &g->c[i];
		int rc = 0;
		if (c->state == HL_IDLE)
			rc = hl_connect(g, c, now);
		else if (c->state == HL_READY)
			rc = hl_send_request(g, c, now);
		if (rc < 0)
			hl_fail(g, c, HL_FAIL_SOCKET, now, "%s", strerror(-rc));
	}
}

static void hl_expire(struct hl *g, uint64_t now)
{
	uint64_t limit = (uint64_t)g->o.timeout_ms * 1000;

	for (uint32_t i = 0; i < g->o.connections; i++) {
		struct hl_conn *c = &g->c[i];
		if ((c->state == HL_CONNECTING || c->state == HL_HEAD || c->state == HL_BODY) &&
		    now - c->progress_us > limit)
			hl_fail(g, c, HL_FAIL_TIMEOUT, now, "nothing for %" PRIu32 " ms",
				g->o.timeout_ms);
	}
}

static int hl_run(struct hl *g)
{
	struct epoll_event ev[HL_EVENTS];
	uint64_t now = now_mono_us();
	uint64_t end = now + (uint64_t)g->o.duration_s * 1000000;
	uint64_t tick = now;

	g->st.first_us = now;
	while (now < end && g->active > 0) {
		hl_kick(g, now);
		int n = epoll_wait(g->ep, ev, HL_EVENTS, HL_TICK_MS);
		if (n < 0 && errno != EINTR)
			return -errno;
		now = now_mono_us();
		for (int k = 0; k < n; k++) {
			struct hl_conn *c = ev[k].data.ptr;
			if (c->state == HL_CONNECTING)
				hl_on_connected(g, c, now);
			else
				hl_on_readable(g, c, now);
		}
		if (now - tick >= HL_TICK_MS * 1000) {
			hl_expire(g, now);
			tick = now;
		}
	}
	for (uint32_t i = 0; i < g->o.connections; i++)
		while (g->c[i].state != HL_DONE)
			hl_fail(g, &g->c[i], HL_FAIL_UNFINISHED, now,
				"still running after %" PRIu32 " s", g->o.duration_s);
	return 0;
}

/* ---- results ------------------------------------------------------------ */

static uint64_t hl_failed(const struct hl_stats *s)
{
	uint64_t n = 0;
	for (int k = 0; k < HL_FAIL_COUNT; k++)
		n += s->failed[k];
	return n;
}

static void hl_report(struct hl *g)
{
	struct hl_stats *s = &g->st;
	double secs = s->last_us > s->first_us ? (s->last_us - s->first_us) / 1e6 : 0;
	double mib_s = secs > 0 ? s->bytes / secs / 1048576.0 : 0;
	uint32_t *lat = g->latency_us;
	const char *label = g->o.label ? g->o.label : "-";

	qsort(lat, g->n_latency, sizeof(*lat), bench_cmp_u32);
	printf("server=%s connections=%" PRIu32 " requests=%" PRIu64 " ok=%" PRIu64
	       " failed=%" PRIu64 " bytes=%" PRIu64 " size=%" PRIu64 " secs=%.3f mib_s=%.3f"
	       " p50_ms=%.3f p99_ms=%.3f max_ms=%.3f connects=%" PRIu64 " client_cpu_s=%.3f",
	       label, g->o.connections, (uint64_t)g->o.connections * g->o.requests, s->ok,
	       hl_failed(s), s->bytes, g->size, secs, mib_s, bench_pct_ms(lat, g->n_latency, 0.50),
	       bench_pct_ms(lat, g->n_latency, 0.99),
	       g->n_latency ? lat[g->n_latency - 1] / 1000.0 : 0, s->connects, bench_self_cpu_s());
	if (g->o.verify)
		printf(" verified=%" PRIu64 " body_fnv1a=%016" PRIx64 " file_fnv1a=%016" PRIx64,
		       s->verified, s->body_fnv, g->file_fnv);
	for (int k = 0; k < HL_FAIL_COUNT; k++)
		printf(" fail_%s=%" PRIu64, hl_fail_names[k], s->failed[k]);
	printf("\n");
	fflush(stdout);
	fprintf(stderr,
		"http-loadgen: %s: %" PRIu64 " of %" PRIu64 " requests ok on %" PRIu32
		" connections, %.1f MiB in %.3f s = %.1f MiB/s, p50 %.1f ms, p99 %.1f ms%s\n",
		label, s->ok, (uint64_t)g->o.connections * g->o.requests, g->o.connections,
		s->bytes / 1048576.0, secs, mib_s, bench_pct_ms(lat, g->n_latency, 0.50),
		bench_pct_ms(lat, g->n_latency, 0.99),
		!g->o.verify			? ""
		: s->verified == s->ok && s->ok ? ", every body verified"
						: ", NOT verified");
}

/* ---- command line ------------------------------------------------------- */

enum {
	OPT_SERVER = 256,
	OPT_PATH,
	OPT_LOCAL,
	OPT_CONNECTIONS,
	OPT_REQUESTS,
	OPT_VERIFY,
	OPT_TIMEOUT_MS,
	OPT_DURATION,
	OPT_LABEL,
	OPT_SOURCE,
	OPT_HELP,
};

static const struct option hl_long_opts[] = {
    {"server", required_argument, NULL, OPT_SERVER},
    {"path", required_argument, NULL, OPT_PATH},
    {"local", required_argument, NULL, OPT_LOCAL},
    {"connections", required_argument, NULL, OPT_CONNECTIONS},
    {"requests", required_argument, NULL, OPT_REQUESTS},
    {"verify", no_argument, NULL, OPT_VERIFY},
    {"timeout-ms", required_argument, NULL, OPT_TIMEOUT_MS},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"label", required_argument, NULL, OPT_LABEL},
    {"source", required_argument, NULL, OPT_SOURCE},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* "IP:PORT". */
static int hl_endpoint(const char *s, uint32_t *ip, uint16_t *port)
{
	char host[16];
	const char *colon = strrchr(s, ':');
	size_t hlen = colon != NULL ? (size_t)(colon - s) : 0;
	uint32_t v;

	if (colon == NULL || hlen == 0 || hlen >= sizeof(host))
		goto bad;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (ip4_parse(host, ip) < 0 || *ip == 0 ||
	    bench_num("http-loadgen", "server", colon + 1, 1, 65535, &v) < 0)
		goto bad;
	*port = (uint16_t)v;
	return 0;
bad:
	fprintf(stderr, "http-loadgen: --server: '%s' is not IP:PORT\n", s);
	return -EINVAL;
}

/* A path we can put on the request line as it is: printable, no spaces, from "/". */
static int hl_path(const char *s)
{
	if (s[0] != '/' || strlen(s) > 400)
		return -EINVAL;
	for (const char *p = s; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f)
			return -EINVAL;
	return 0;
}

static int hl_opt(struct hl_opts *o, int opt, const char *arg)
{
	switch (opt) {
	case OPT_SERVER:
		return hl_endpoint(arg, &o->server, &o->port);
	case OPT_PATH:
		o->path = arg;
		return hl_path(arg);
	case OPT_LOCAL:
		o->local = arg;
		return 0;
	case OPT_CONNECTIONS:
		return bench_num("http-loadgen", "connections", arg, 1, HL_MAX_CONNECTIONS,
				 &o->connections);
	case OPT_REQUESTS:
		return bench_num("http-loadgen", "requests", arg, 1, HL_MAX_REQUESTS, &o->requests);
	case OPT_VERIFY:
		o->verify = true;
		return 0;
	case OPT_TIMEOUT_MS:
		return bench_num("http-loadgen", "timeout-ms", arg, 1, 600000, &o->timeout_ms);
	case OPT_DURATION:
		return bench_num("http-loadgen", "duration", arg, 1, 86400, &o->duration_s);
	case OPT_LABEL:
		o->label = arg;
		return strpbrk(arg, " \t\n\"\\=") == NULL ? 0 : -EINVAL;
	case OPT_SOURCE:
		if (ip4_parse(arg, &o->source) < 0 || o->source == 0) {
			fprintf(stderr, "http-loadgen: --source: '%s' is not an IPv4 address\n",
				arg);
			return -EINVAL;
		}
		return 0;
	default:
		return -EINVAL;
	}
}

static int hl_parse(int argc, char **argv, struct hl_opts *o)
{
	int opt;

	*o = (struct hl_opts){
	    .connections = 1, .requests = 1, .timeout_ms = 30000, .duration_s = 600};
	while ((opt = getopt_long(argc, argv, "", hl_long_opts, NULL)) != -1) {
		if (opt == OPT_HELP) {
			fputs(usage_text, stdout);
			exit(0);
		}
		if (hl_opt(o, opt, optarg) < 0) {
			fprintf(stderr, "http-loadgen: bad option (see --help)\n");
			return -EINVAL;
		}
	}
	if ((uint64_t)o->connections * o->requests > HL_MAX_REQUESTS) {
		fprintf(stderr, "http-loadgen: more than %u requests in all\n", HL_MAX_REQUESTS);
		return -EINVAL;
	}
	if (o->source != 0 && o->source + (uint64_t)o->connections > UINT32_MAX) {
		fprintf(stderr, "http-loadgen: --source: no room for %" PRIu32 " addresses\n",
			o->connections);
		return -EINVAL;
	}
	if (optind != argc || o->server == 0 || o->path == NULL || o->local == NULL) {
		fputs(usage_text, stderr);
		return -EINVAL;
	}
	return 0;
}

/* ---- set-up ------------------------------------------------------------- */

/* The size of --local; with --verify, its bytes mapped and its checksum. */
static int hl_local(struct hl *g)
{
	struct stat st;
	int fd = open(g->o.local, O_RDONLY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	g->size = (uint64_t)st.st_size;
	g->data = (const uint8_t *)"";
	if (g->o.verify && g->size > 0) {
		void *p = mmap(NULL, g->size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
		if (p == MAP_FAILED)
			rc = -errno;
		else
			g->data = p;
	}
	close(fd);
	if (rc == 0 && g->o.verify)
		g->file_fnv = hl_fnv(HL_FNV_OFFSET, g->data, g->size);
	return rc;
}

static int hl_setup(struct hl *g)
{
	char ip[16];
	int n = snprintf(g->request, sizeof(g->request),
			 "GET %s HTTP/1.1\r\nHost: %s:%u\r\nUser-Agent: http-loadgen\r\n\r\n",
			 g->o.path, ip4_format(ip, g->o.server), g->o.port);

	if (n < 0 || (size_t)n >= sizeof(g->request))
		return -EINVAL;
	g->request_len = (size_t)n;
	g->c = calloc(g->o.connections, sizeof(*g->c));
	g->latency_us = calloc((size_t)g->o.connections * g->o.requests, sizeof(*g->latency_us));
	g->buf = malloc(HL_COPY_BUF);
	if (g->c == NULL || g->latency_us == NULL || g->buf == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < g->o.connections; i++)
		g->c[i] = (struct hl_conn){.fd = -1, .state = HL_IDLE};
	g->active = g->o.connections;
	g->ep = epoll_create1(EPOLL_CLOEXEC);
	return g->ep < 0 ? -errno : 0;
}

int main(int argc, char **argv)
{
	struct hl *g = calloc(1, sizeof(*g));
	int rc;

	if (g == NULL)
		return 3;
	if (hl_parse(argc, argv, &g->o) < 0)
		return 2;
	if ((rc = hl_local(g)) < 0) {
		fprintf(stderr, "http-loadgen: --local %s: %s\n", g->o.local, strerror(-rc));
		return 3;
	}
	if ((rc = hl_setup(g)) < 0 || (rc = hl_run(g)) < 0) {
		fprintf(stderr, "http-loadgen: %s\n", strerror(-rc));
		return 3;
	}
	hl_report(g);
	return g->st.ok == (uint64_t)g->o.connections * g->o.requests ? 0 : 1;
}
