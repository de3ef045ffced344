/*
 * `pxed status` and `pxed events`: a small blocking HTTP/1.1 client for the
 * daemon's own API. One request per connection (Connection: close), every
 * wait bounded by ppoll() with a timeout, every line, header block and body
 * capped, chunked and Content-Length bodies both understood. SIGINT and
 * SIGTERM end a --watch or --follow cleanly (exit status 0).
 */
#include "http/client.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conf/config.h"
#include "http/admin.h"
#include "core/util.h"

#define HC_CONNECT_TIMEOUT_MS 5000
#define HC_READ_TIMEOUT_MS 10000
/* A stream sends a comment every 15 s: three missed ones mean it is gone. */
#define HC_STREAM_TIMEOUT_MS 45000
#define HC_LINE_MAX 8192 /* a status line or header */
#define HC_HEADERS_MAX 100
#define HC_BODY_MAX (16u << 20) /* a JSON reply */
#define HC_EVENT_MAX (1u << 20) /* one SSE event's data */
#define HC_RECONNECT_S 1

static const char usage_status[] =
    "usage: pxed status [--url URL | --config FILE] [--watch [--interval S]] [--json]\n"
    "\n"
    "Shows what the running daemon is doing: transfers in progress with their\n"
    "progress, DHCP pools and their use, the machines seen most recently with\n"
    "their state and last step, and other DHCP servers answering on its networks.\n"
    "\n"
    "  --url URL       the daemon's HTTP server (default: http://127.0.0.1:80, or\n"
    "                  the http port and listen address of --config FILE)\n"
    "  --config FILE   take the URL from the daemon's configuration file\n"
    "  --watch         redraw every second until interrupted (Ctrl-C); on a\n"
    "                  terminal in place, else one view after another\n"
    "  --interval S    seconds between two views with --watch (default 1)\n"
    "  --json          print /api/v1/status as JSON (with --watch: one line a second)\n";

static const char usage_events[] =
    "usage: pxed events [--url URL | --config FILE] [--follow] [--json] [--since SEQ]\n"
    "\n"
    "Prints the daemon's recent events (the last 1024 it keeps in memory), one a\n"
    "line, oldest first; with --follow, then every new one as it happens.\n"
    "\n"
    "  --url URL       the daemon's HTTP server (default: http://127.0.0.1:80, or\n"
    "                  the http port and listen address of --config FILE)\n"
    "  --config FILE   take the URL from the daemon's configuration file\n"
    "  --follow        keep the event stream open until interrupted (Ctrl-C);\n"
    "                  reconnects when the daemon restarts\n"
    "  --json          one JSON object per event (docs/api.md) instead of text\n"
    "  --since SEQ     only the events after sequence number SEQ\n";

/* SIGINT or SIGTERM: the loops end at their next wake-up. */
static volatile sig_atomic_t hc_stop;

static void hc_on_signal(int sig)
{
	(void)sig;
	hc_stop = 1;
}

/*
 * SIGINT and SIGTERM are blocked but while hc_wait() waits: one that comes
 * between a check of hc_stop and the wait stays pending, and ends the wait.
 */
static void hc_catch_signals(void)
{
	struct sigaction sa = {.sa_handler = hc_on_signal};
	sigset_t set;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

/*
 * Waits up to timeout_ms for events on fd (fd < 0: only the time), letting
 * SIGINT and SIGTERM in during the wait alone (ppoll). Returns 1 when ready,
 * 0 on timeout, -EINTR when a signal asked us to stop, or -errno.
 */
static int hc_wait(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	struct timespec ts = {.tv_sec = timeout_ms / 1000,
			      .tv_nsec = (long)(timeout_ms % 1000) * 1000000L};
	sigset_t during;
	int n;

	if (hc_stop)
		return -EINTR;
	sigprocmask(SIG_BLOCK, NULL, &during);
	sigdelset(&during, SIGINT);
	sigdelset(&during, SIGTERM);
	n = ppoll(fd >= 0 ? &pfd : NULL, fd >= 0 ? 1 : 0, &ts, &during);
	if (n < 0)
		return errno == EINTR ? -EINTR : -errno;
	return n;
}

/* ---- URLs --------------------------------------------------------------- */

struct hc_url {
	char host[256], port[8], prefix[256]; /* prefix: a path before /api, "" or "/x" */
	char token[ADMIN_TOKEN_MAX + 1];      /* the inventory API's bearer token, or "" */
};

/* "http://HOST[:PORT][/PREFIX]"; HOST may be a name, an IPv4 address or [IPv6]. */
static int hc_url_parse(const char *url, struct hc_url *u)
{
	const char *p = url, *end, *colon;
	size_t hl;

	memset(u, 0, sizeof(*u));
	if (strncasecmp(p, "http://", 7) != 0)
		return -EINVAL;
	p += 7;
	end = p + strcspn(p, "/");
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));
		if (rb == NULL)
			return -EINVAL;
		hl = (size_t)(rb - p - 1);
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
		p++;
	} else {
		colon = memchr(p, ':', (size_t)(end - p));
		hl = (size_t)((colon != NULL ? colon : end) - p);
	}
	if (hl == 0 || hl >= sizeof(u->host))
		return -EINVAL;
	memcpy(u->host, p, hl);
	if (colon != NULL) {
		uint64_t port;
		char ps[8] = "";
		if ((size_t)(end - colon - 1) >= sizeof(ps))
			return -EINVAL;
		memcpy(ps, colon + 1, (size_t)(end - colon - 1));
		if (parse_u64(ps, 1, 65535, &port) < 0)
			return -EINVAL;
		snprintf(u->port, sizeof(u->port), "%u", (unsigned)port);
	} else {
		snprintf(u->port, sizeof(u->port), "80");
	}
	if (strlen(end) >= sizeof(u->prefix))
		return -EINVAL;
	snprintf(u->prefix, sizeof(u->prefix), "%s", end);
	while (u->prefix[0] != '\0' && u->prefix[strlen(u->prefix) - 1] == '/')
		u->prefix[strlen(u->prefix) - 1] = '\0';
	/* Spaces or controls would break the request line. */
	for (const char *c = u->prefix; *c; c++)
		if (*c <= ' ' || *c == 0x7f)
			return -EINVAL;
	return 0;
}

/* --url, else the config's http listen address and port, else 127.0.0.1:80. */
static int hc_default_url(const char *config, char *out, size_t cap)
{
	struct conf *c = NULL;
	struct conf_errors errs = {0};
	char ip[16];

	if (config == NULL) {
		snprintf(out, cap, "http://127.0.0.1:80");
		return 0;
	}
	if (conf_load(config, &c, &errs) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		if (errs.n == 0)
			fprintf(stderr, "%s: cannot be loaded\n", config);
		conf_errors_free(&errs);
		return -EINVAL;
	}
	/* A daemon listening on every address answers on the loopback too. */
	snprintf(out, cap, "http://%s:%u",
		 c->listen_address != 0 ? ip4_format(ip, c->listen_address) : "127.0.0.1",
		 c->http_port);
	conf_free(c);
	return 0;
}

/* ---- one connection ------------------------------------------------------- */

struct hc_conn {
	int fd;
	int timeout_ms;	 /* for every wait for more bytes */
	bool chunked;	 /* Transfer-Encoding: chunked */
	bool need_chunk; /* the next chunk's size line comes before any more data */
	bool first_chunk;
	int64_t left; /* body bytes still to come (Content-Length or chunk); -1: to EOF */
	bool body_done;
	size_t off, len; /* unread bytes: buf[off, len) */
	char buf[16384];
};

static int hc_connect(const struct hc_url *u, struct hc_conn *c)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	int fd = -1, rc;

	if ((rc = getaddrinfo(u->host, u->port, &hints, &res)) != 0) {
		fprintf(stderr, "pxed: %s: %s\n", u->host, gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		int err = 0;
		socklen_t el = sizeof(err);

		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			continue;
		rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
		if (rc < 0 && errno == EINPROGRESS &&
		    hc_wait(fd, POLLOUT, HC_CONNECT_TIMEOUT_MS) == 1 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0)
			rc = 0;
		if (rc < 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		return -ECONNREFUSED;
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->timeout_ms = HC_READ_TIMEOUT_MS;
	c->left = -1;
	return 0;
}

static int hc_send_all(struct hc_conn *c, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
		int rc;
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if ((rc = hc_wait(c->fd, POLLOUT, c->timeout_ms)) <= 0)
			return rc == 0 ? -ETIMEDOUT : rc;
	}
	return 0;
}

static int hc_request(struct hc_conn *c, const struct hc_url *u, const char *path,
		      const char *accept)
{
	char req[1024 + ADMIN_TOKEN_MAX];
	int n = snprintf(req, sizeof(req),
			 "GET %s%s HTTP/1.1\r\nHost: %s:%s\r\nAccept: %s\r\n%s%s%s"
			 "User-Agent: pxed/" PXED_VERSION "\r\nConnection: close\r\n\r\n",
			 u->prefix, path, u->host, u->port, accept,
			 u->token[0] != '\0' ? "Authorization: Bearer " : "", u->token,
			 u->token[0] != '\0' ? "\r\n" : "");

	if (n < 0 || (size_t)n >= sizeof(req))
		return -E2BIG;
	return hc_send_all(c, req, (size_t)n);
}

/* More bytes into buf: > 0 read, 0 EOF, or -errno (-ETIMEDOUT, -EINTR on a signal). */
static int hc_fill(struct hc_conn *c)
{
	ssize_t r;

	if (c->off > 0) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->len == sizeof(c->buf))
		return -ENOBUFS;
	for (;;) {
		if (hc_stop)
			return -EINTR;
		r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (r >= 0)
			break;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		int p = hc_wait(c->fd, POLLIN, c->timeout_ms);
		if (p <= 0)
			return p == 0 ? -ETIMEDOUT : p;
	}
	c->len += (size_t)r;
	return (int)r;
}

/* One CRLF- (or LF-) terminated line of the head or of chunk framing, at most cap - 1 bytes. */
static int hc_line(struct hc_conn *c, char *out, size_t cap)
{
	for (;;) {
		char *nl = memchr(c->buf + c->off, '\n', c->len - c->off);
		if (nl != NULL) {
			size_t n = (size_t)(nl - (c->buf + c->off));
			if (n > 0 && nl[-1] == '\r')
				n--;
			if (n >= cap)
				return -E2BIG;
			memcpy(out, c->buf + c->off, n);
			out[n] = '\0';
			c->off = (size_t)(nl - c->buf) + 1;
			return 0;
		}
		if (c->len - c->off >= cap)
			return -E2BIG;
		int r = hc_fill(c);
		if (r <= 0)
			return r == 0 ? -ECONNRESET : r;
	}
}

/* The status line and headers; returns the status code or -errno. */
static int hc_head(struct hc_conn *c)
{
	char line[HC_LINE_MAX];
	int status, rc, n;

	if ((rc = hc_line(c, line, sizeof(line))) < 0)
		return rc;
	if (sscanf(line, "HTTP/1.%*1[01] %3d", &status) != 1 || status < 100 || status > 599)
		return -EPROTO;
	for (n = 0; n < HC_HEADERS_MAX; n++) {
		uint64_t len;
		if ((rc = hc_line(c, line, sizeof(line))) < 0)
			return rc;
		if (line[0] == '\0')
			return status;
		if (strncasecmp(line, "Transfer-Encoding:", 18) == 0 &&
		    strcasestr(line + 18, "chunked") != NULL)
			c->chunked = true;
		else if (strncasecmp(line, "Content-Length:", 15) == 0 &&
			 parse_u64(line + 15 + strspn(line + 15, " \t"), 0, INT64_MAX, &len) == 0)
			c->left = (int64_t)len;
	}
	return -EPROTO;
}

/*
 * Chunked framing (RFC 9112 §7.1): the CRLF that ends the previous chunk's
 * data, then the next size line. A size of 0 ends the body (trailers are
 * left unread: the connection closes after it).
 */
static int hc_chunk_next(struct hc_conn *c)
{
	char line[64], *end;
	unsigned long long n;
	int rc;

	if (!c->first_chunk && ((rc = hc_line(c, line, sizeof(line))) < 0 || line[0] != '\0'))
		return rc < 0 ? rc : -EPROTO;
	c->first_chunk = false;
	if ((rc = hc_line(c, line, sizeof(line))) < 0)
		return rc;
	errno = 0;
	n = strtoull(line, &end, 16);
	if (end == line || errno != 0 || n > INT64_MAX || (*end != '\0' && *end != ';'))
		return -EPROTO;
	c->left = (int64_t)n;
	c->need_chunk = false;
	c->body_done = n == 0;
	return 0;
}

/*
 * Up to cap body bytes into out: > 0, 0 at the end of the body, or -errno.
 * Returns what has arrived without waiting for more: an event stream's
 * events come out as they come in.
 */
static ssize_t hc_body(struct hc_conn *c, char *out, size_t cap)
{
	size_t n;
	int rc;

	if (c->need_chunk && (rc = hc_chunk_next(c)) < 0)
		return rc;
	if (c->body_done || cap == 0)
		return 0;
	while (c->off == c->len) {
		int r = hc_fill(c);
		if (r < 0)
			return r;
		if (r == 0 && c->left < 0 && !c->chunked) {
			c->body_done =
			    true; /* no length given: the body ends with the connection */
			return 0;
		}
		if (r == 0)
			return -ECONNRESET;
	}
	n = c->len - c->off;
	if (n > cap)
		n = cap;
	if (c->left >= 0 && (uint64_t)n > (uint64_t)c->left)
		n = (size_t)c->left;
	memcpy(out, c->buf + c->off, n);
	c->off += n;
	if (c->left > 0 && (c->left -= (int64_t)n) == 0) {
		if (c->chunked)
			c->need_chunk = true;
		else
			c->body_done = true;
	}
	return (ssize_t)n;
}

static void hc_close(struct hc_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Connects, sends GET url+path, reads the head: the status code, or -errno (said on stderr). */
static int hc_get(const struct hc_url *u, const char *path, const char *accept, struct hc_conn *c)
{
	int rc;

	c->fd = -1;
	rc = hc_connect(u, c);

	if (rc == 0 && (rc = hc_request(c, u, path, accept)) == 0 && (rc = hc_head(c)) > 0) {
		if (c->chunked) {
			c->need_chunk = c->first_chunk = true;
		} else if (c->left == 0) {
			c->body_done = true;
		}
		return rc;
	}
	if (rc != -EINTR)
		fprintf(stderr, "pxed: http://%s:%s%s%s: %s\n", u->host, u->port, u->prefix, path,
			rc == -EPROTO ? "not an HTTP reply" : strerror(-rc));
	hc_close(c);
	return rc;
}

/* GET path as JSON: 0 and *out, or -errno (said on stderr). */
static int hc_get_json(const struct hc_url *u, const char *path, json_t **out)
{
	struct hc_conn c = {.fd = -1};
	size_t len = 0, cap = 65536;
	char *body = malloc(cap);
	json_error_t err;
	int status;
	ssize_t n = 0;

	*out = NULL;
	if (body == NULL)
		return -ENOMEM;
	status = hc_get(u, path, "application/json", &c);
	while (status > 0) {
		if (len + 1 == cap) {
			char *p = cap < HC_BODY_MAX ? realloc(body, cap * 2) : NULL;
			if (p == NULL) {
				n = cap < HC_BODY_MAX ? -ENOMEM : -EFBIG;
				break;
			}
			body = p;
			cap *= 2;
		}
		if ((n = hc_body(&c, body + len, cap - len - 1)) <= 0)
			break;
		len += (size_t)n;
	}
	hc_close(&c);
	if (status > 0 && n < 0)
		fprintf(stderr, "pxed: %s%s: %s\n", u->prefix, path, strerror((int)-n));
	if (status > 0 && n == 0) {
		body[len] = '\0';
		*out = json_loadb(body, len, 0, &err);
		if (*out == NULL)
			fprintf(stderr, "pxed: %s%s: HTTP %d, not JSON: %s\n", u->prefix, path,
				status, err.text);
		else if (status != 200) {
			json_t *why = json_object_get(*out, "error");
			fprintf(stderr, "pxed: %s%s: HTTP %d%s%s\n", u->prefix, path, status,
				json_is_string(why) ? ": " : "",
				json_is_string(why) ? json_string_value(why) : "");
			json_decref(*out);
			*out = NULL;
		}
	}
	free(body);
	if (status < 0)
		return status;
	return n < 0 ? (int)n : *out != NULL ? 0 : -EPROTO;
}

/* ---- values from the API's JSON ------------------------------------------ */

/* A string member, or def when absent or not a string. */
static const char *hc_str(const json_t *o, const char *key, const char *def)
{
	const json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : def;
}

static uint64_t hc_uint(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v)
							       : 0;
}

/* The API's times (2026-11-23T17:40:00.123Z) in microseconds; 0 when malformed. */
static int64_t hc_time(const char *s)
{
	struct tm tm = {0};
	unsigned ms = 0;
	const char *rest;

	if (s == NULL || (rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return 0;
	if (sscanf(rest, ".%3uZ", &ms) != 1)
		ms = 0;
	return (int64_t)timegm(&tm) * 1000000 + (int64_t)ms * 1000;
}

/* "512 KiB", "1.0 MiB": one decimal below 10 of a unit. */
static const char *hc_bytes(char out[16], uint64_t v)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double d = (double)v;
	size_t u = 0;

	while (d >= 1024 && u + 1 < PXED_ARRAY_LEN(units)) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, 16, "%llu B", (unsigned long long)v);
	else if (d < 10)
		snprintf(out, 16, "%.1f %s", d, units[u]);
	else
		snprintf(out, 16, "%.0f %s", d, units[u]);
	return out;
}

/* "3s", "4m05s", "2h07m", "3d04h". */
static const char *hc_duration(char out[16], int64_t us)
{
	int64_t s = us > 0 ? us / 1000000 : 0;

	if (s < 60)
		snprintf(out, 16, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(out, 16, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
	else if (s < 86400)
		snprintf(out, 16, "%lldh%02lldm", (long long)(s / 3600), (long long)(s / 60 % 60));
	else
		snprintf(out, 16, "%lldd%02lldh", (long long)(s / 86400),
			 (long long)(s / 3600 % 24));
	return out;
}

/* "[#####-----]" for done of total, 10 wide; total 0 (unknown): "[?         ]". */
static const char *hc_bar(char out[16], uint64_t done, uint64_t total)
{
	/* Rounded: one address of eleven in use shows, a 97% transfer is not yet full. */
	uint64_t d = done > total ? total : done;
	unsigned fill = total > 0 ? (unsigned)((d * 20 + total) / (2 * total)) : 0;

	if (fill == 10 && d < total)
		fill = 9;
	if (fill == 0 && d > 0)
		fill = 1;

	out[0] = '[';
	for (unsigned i = 0; i < 10; i++)
		out[1 + i] = total == 0 ? (i == 0 ? '?' : ' ') : i < fill ? '#' : '-';
	out[11] = ']';
	out[12] = '\0';
	return out;
}

/* ---- `pxed status` ----------------------------------------------------------- */

/* At most this many rows of a list in the text view; the rest are counted. */
#define HC_ROWS_MAX 20

static void hc_more(FILE *f, size_t n)
{
	if (n > HC_ROWS_MAX)
		fprintf(f, "  ... and %zu more (--json shows them all)\n", n - HC_ROWS_MAX);
}

static void hc_render_transfers(FILE *f, const json_t *arr, int64_t now)
{
	size_t i, n = json_array_size(arr);
	const json_t *t;

	fprintf(f, "TRANSFERS  %zu in progress\n", n);
	json_array_foreach(arr, i, t)
	{
		char bar[16], done[16], size[16], took[16];
		uint64_t bytes = hc_uint(t, "bytes"), total = hc_uint(t, "size");
		if (i == HC_ROWS_MAX)
			break;
		fprintf(f, "  %-4s  %-15s  %-17s  %-6s  %s %3u%%  %s/%s  %s  %s\n",
			hc_str(t, "proto", "?"), hc_str(t, "ip", "-"), hc_str(t, "mac", "-"),
			hc_str(t, "what", "?"), hc_bar(bar, bytes, total),
			total > 0 ? (unsigned)((bytes > total ? total : bytes) * 100 / total) : 0,
			hc_bytes(done, bytes), total > 0 ? hc_bytes(size, total) : "?",
			hc_duration(took, now - hc_time(hc_str(t, "started", NULL))),
			hc_str(t, "file", "?"));
	}
	hc_more(f, n);
}

static void hc_render_pools(FILE *f, const json_t *arr)
{
	size_t i;
	const json_t *p;

	if (json_array_size(arr) == 0)
		return; /* no DHCP server (proxy mode, --no-dhcp): nothing to say */
	fprintf(f, "\nPOOLS\n");
	json_array_foreach(arr, i, p)
	{
		char bar[16], range[40];
		uint64_t size = hc_uint(p, "size"), used = size - hc_uint(p, "free");
		snprintf(range, sizeof(range), "%s-%s", hc_str(p, "first", "?"),
			 hc_str(p, "last", "?"));
		fprintf(f,
			"  %-18s  %-31s  %s %3u%%  %llu/%llu in use: %llu leased, %llu offered, "
			"%llu declined, %llu reserved\n",
			hc_str(p, "subnet", "?"), range, hc_bar(bar, used, size),
			size > 0 ? (unsigned)(used * 100 / size) : 0, (unsigned long long)used,
			(unsigned long long)size, (unsigned long long)hc_uint(p, "leased"),
			(unsigned long long)hc_uint(p, "offered"),
			(unsigned long long)hc_uint(p, "declined"),
			(unsigned long long)hc_uint(p, "reserved"));
	}
}

static void hc_render_machines(FILE *f, const json_t *arr, int64_t now)
{
	size_t i, n = json_array_size(arr);
	const json_t *m;

	fprintf(f, "\nMACHINES  most recent first\n");
	if (n == 0)
		fprintf(f, "  none seen yet\n");
	json_array_foreach(arr, i, m)
	{
		char ago[16];
		if (i == HC_ROWS_MAX)
			break;
		fprintf(f, "  %-17s  %-15s  %-7s  %8s ago  %-8s  %-12s  %s\n",
			hc_str(m, "mac", "?"), hc_str(m, "ip", "-"), hc_str(m, "state", "?"),
			hc_duration(ago, now - hc_time(hc_str(m, "last_seen", NULL))),
			hc_str(m, "arch", "-"), hc_str(m, "profile", "-"), hc_str(m, "step", ""));
	}
	hc_more(f, n);
}

static void hc_render_rogues(FILE *f, const json_t *arr, int64_t now)
{
	size_t i;
	const json_t *r;

	fprintf(f, "\nOTHER DHCP SERVERS\n");
	if (json_array_size(arr) == 0)
		fprintf(f, "  none seen\n");
	json_array_foreach(arr, i, r)
	{
		char ago[16];
		fprintf(f,
			"  %s (%s) on %s: %llu replies, last offered %s to %s, last seen %s ago\n",
			hc_str(r, "server_ip", "?"), hc_str(r, "server_mac", "?"),
			hc_str(r, "interface", "?"), (unsigned long long)hc_uint(r, "replies"),
			hc_str(r, "last_offered", "-"), hc_str(r, "last_client", "-"),
			hc_duration(ago, now - hc_time(hc_str(r, "last_seen", NULL))));
	}
}

static void hc_render_status(FILE *f, const json_t *st, const char *url)
{
	int64_t now = hc_time(hc_str(st, "now", NULL));
	char up[16];

	fprintf(f, "pxed %s at %s, up %s  (%s)\n\n", hc_str(st, "version", "?"), url,
		hc_duration(up, now - hc_time(hc_str(st, "started", NULL))),
		hc_str(st, "now", "?"));
	hc_render_transfers(f, json_object_get(st, "transfers"), now);
	hc_render_pools(f, json_object_get(st, "pools"));
	hc_render_machines(f, json_object_get(st, "machines"), now);
	hc_render_rogues(f, json_object_get(st, "rogues"), now);
}

/* Sleeps ms unless a signal comes first. */
static void hc_sleep_ms(int ms)
{
	hc_wait(-1, 0, ms);
}

/* Terminal rows that text takes on a terminal cols wide (long lines wrap). */
static unsigned hc_rows(const char *text, size_t len, unsigned cols)
{
	unsigned rows = 0;
	size_t line = 0;

	for (size_t i = 0; i < len; i++) {
		if (text[i] != '\n') {
			line++;
			continue;
		}
		rows += line == 0 ? 1 : (unsigned)((line + cols - 1) / cols);
		line = 0;
	}
	return rows;
}

/*
 * A --watch redraw on a terminal: over the previous view (the cursor goes
 * back up the rows it took, and what is below is cleared), so what was on
 * the screen before stays; the whole screen when the view is taller than it.
 */
struct hc_screen {
	bool tty;
	unsigned prev_rows;
};

static void hc_redraw(struct hc_screen *sc, const char *text, size_t len)
{
	struct winsize ws = {0};
	unsigned cols = 80, lines = 24, rows;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
		cols = ws.ws_col;
		lines = ws.ws_row;
	}
	rows = hc_rows(text, len, cols);
	if (rows >= lines || sc->prev_rows >= lines)
		fputs("\033[H\033[2J", stdout); /* home, clear the screen */
	else if (sc->prev_rows > 0)
		printf("\033[%uA\r\033[J", sc->prev_rows); /* up, clear below */
	fwrite(text, 1, len, stdout);
	sc->prev_rows = rows;
}

/* One view of the status, written at once so that a redraw does not flicker. */
static int hc_status_once(const struct hc_url *u, const char *url, bool json, struct hc_screen *sc)
{
	json_t *st;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc = hc_get_json(u, "/api/v1/status", &st);

	if (rc < 0)
		return rc;
	if (json) {
		char *s = json_dumps(st, sc != NULL ? JSON_COMPACT : JSON_INDENT(2));
		if (s != NULL)
			puts(s);
		free(s);
	} else if ((f = open_memstream(&text, &len)) != NULL) {
		hc_render_status(f, st, url);
		fclose(f);
		if (sc != NULL && sc->tty) {
			hc_redraw(sc, text, len);
		} else {
			if (sc != NULL)
				fputs("\n", stdout); /* a log of views: a blank line between two */
			fwrite(text, 1, len, stdout);
		}
		free(text);
	}
	fflush(stdout);
	json_decref(st);
	return 0;
}

/* ---- options ---------------------------------------------------------------- */

struct hc_opts {
	const char *url, *config;
	bool watch, follow, json, help;
	uint64_t since;
	uint64_t interval_s; /* --watch: seconds between two views */
};

static int hc_parse(int argc, char **argv, const char *cmd, struct hc_opts *o)
{
	enum { O_URL = 256, O_CONFIG, O_WATCH, O_INTERVAL, O_FOLLOW, O_JSON, O_SINCE, O_HELP };
	static const struct option opts[] = {
	    {"url", required_argument, NULL, O_URL},
	    {"config", required_argument, NULL, O_CONFIG},
	    {"watch", no_argument, NULL, O_WATCH},
	    {"interval", required_argument, NULL, O_INTERVAL},
	    {"follow", no_argument, NULL, O_FOLLOW},
	    {"json", no_argument, NULL, O_JSON},
	    {"since", required_argument, NULL, O_SINCE},
	    {"help", no_argument, NULL, O_HELP},
	    {NULL, 0, NULL, 0},
	};
	bool status = strcmp(cmd, "status") == 0;
	int opt;

	memset(o, 0, sizeof(*o));
	o->interval_s = 1;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "hf", opts, NULL)) != -1) {
		switch (opt) {
		case O_URL:
			o->url = optarg;
			break;
		case O_CONFIG:
			o->config = optarg;
			break;
		case O_WATCH:
			o->watch = status;
			if (!status)
				goto bad;
			break;
		case O_INTERVAL:
			if (!status || parse_u64(optarg, 1, 3600, &o->interval_s) < 0)
				goto bad;
			break;
		case 'f':
		case O_FOLLOW:
			o->follow = !status;
			if (status)
				goto bad;
			break;
		case O_JSON:
			o->json = true;
			break;
		case O_SINCE:
			if (status || parse_u64(optarg, 0, UINT64_MAX, &o->since) < 0)
				goto bad;
			break;
		case 'h':
		case O_HELP:
			o->help = true;
			break;
		default:
			goto bad;
		}
	}
	if (optind < argc || (o->url != NULL && o->config != NULL))
		goto bad;
	return 0;
bad:
	fprintf(stderr, "pxed %s: bad or unknown option (see pxed %s --help)\n", cmd, cmd);
	return -EINVAL;
}

/* The URL to use, parsed; -EINVAL said on stderr. */
static int hc_target(const struct hc_opts *o, char *url, size_t cap, struct hc_url *u)
{
	if (o->url != NULL)
		snprintf(url, cap, "%s", o->url);
	else if (hc_default_url(o->config, url, cap) < 0)
		return -EINVAL;
	if (hc_url_parse(url, u) < 0) {
		fprintf(stderr, "pxed: '%s' is not a URL like http://127.0.0.1:80\n", url);
		return -EINVAL;
	}
	return 0;
}

int http_cli_status(int argc, char **argv)
{
	struct hc_opts o;
	struct hc_url u;
	char url[512];

	if (hc_parse(argc, argv, "status", &o) < 0)
		return 2;
	if (o.help) {
		fputs(usage_status, stdout);
		return 0;
	}
	if (hc_target(&o, url, sizeof(url), &u) < 0)
		return 2;
	hc_catch_signals();
	if (!o.watch)
		return hc_status_once(&u, url, o.json, NULL) < 0 ? 1 : 0;
	/* Until Ctrl-C; a daemon that does not answer is said and asked again. */
	struct hc_screen sc = {.tty = isatty(STDOUT_FILENO)};
	while (!hc_stop) {
		if (hc_status_once(&u, url, o.json, &sc) < 0)
			sc.prev_rows = 0; /* the error went to the terminal: draw below it */
		hc_sleep_ms((int)o.interval_s * 1000);
	}
	return 0;
}

/* ---- `pxed events` ----------------------------------------------------------- */

/* One event as a line of text: time, seq, MAC, address, step, detail, outcome. */
static void hc_print_event(const json_t *e)
{
	const char *time = hc_str(e, "time", ""), *kind = hc_str(e, "kind", "?");
	const json_t *ok = json_object_get(e, "ok"), *expected = json_object_get(e, "expected");
	char size[16], extra[64] = "";

	if (strcmp(kind, "transfer") == 0)
		snprintf(extra, sizeof(extra), " [%s in %.2f s]",
			 hc_bytes(size, hc_uint(e, "bytes")),
			 (double)hc_uint(e, "duration_ms") / 1000);
	printf("%.12s  #%-6llu %-17s  %-15s  %-7s %-9s %s%s%s\n",
	       strlen(time) > 11 ? time + 11 : time, (unsigned long long)hc_uint(e, "seq"),
	       hc_str(e, "mac", "-"), hc_str(e, "ip", "-"), hc_str(e, "proto", "?"), kind,
	       hc_str(e, "detail", ""), extra,
	       json_is_false(ok) ? (json_is_true(expected) ? " (ended by the client)" : " FAILED")
				 : "");
}

/* Prints one event given as JSON text; its seq goes to *last. */
static void hc_emit(const char *text, size_t len, bool json, uint64_t *last)
{
	json_error_t err;
	json_t *e = json_loadb(text, len, 0, &err);

	if (!json_is_object(e)) {
		fprintf(stderr, "pxed: an event that is not a JSON object: %s\n", err.text);
		json_decref(e);
		return;
	}
	if (hc_uint(e, "seq") > *last)
		*last = hc_uint(e, "seq");
	if (json) {
		char *s = json_dumps(e, JSON_COMPACT);
		if (s != NULL)
			puts(s);
		free(s);
	} else {
		hc_print_event(e);
	}
	fflush(stdout);
	json_decref(e);
}

static int hc_events_once(const struct hc_url *u, const struct hc_opts *o)
{
	char path[64];
	json_t *r, *e;
	size_t i;
	uint64_t last = 0;

	snprintf(path, sizeof(path), "/api/v1/events?since=%llu", (unsigned long long)o->since);
	if (hc_get_json(u, path, &r) < 0)
		return 1;
	json_array_foreach(json_object_get(r, "events"), i, e)
	{
		char *s = json_dumps(e, JSON_COMPACT);
		if (s != NULL)
			hc_emit(s, strlen(s), o->json, &last);
		free(s);
	}
	json_decref(r);
	return 0;
}

/*
 * Server-Sent Events (the WHATWG format): "data:" lines gather into one
 * event, a blank line dispatches it, lines starting with ':' are comments
 * (the keep-alives), "id:", "event:" and "retry:" are known and not needed.
 */
struct hc_sse {
	char *line; /* the line being read, at most HC_EVENT_MAX */
	size_t line_len;
	char *data; /* the event's data so far */
	size_t data_len;
	bool json;
	uint64_t *last;
};

static int hc_sse_line(struct hc_sse *s)
{
	char *l = s->line;
	size_t n = s->line_len;

	if (n > 0 && l[n - 1] == '\r')
		l[--n] = '\0';
	if (n == 0) {
		if (s->data_len > 0)
			hc_emit(s->data, s->data_len, s->json, s->last);
		s->data_len = 0;
		return 0;
	}
	if (n >= 5 && memcmp(l, "data:", 5) == 0) {
		size_t skip = n > 5 && l[5] == ' ' ? 6 : 5;
		if (s->data_len + (n - skip) + 1 > HC_EVENT_MAX)
			return -EFBIG;
		if (s->data_len > 0)
			s->data[s->data_len++] = '\n';
		memcpy(s->data + s->data_len, l + skip, n - skip);
		s->data_len += n - skip;
	}
	return 0;
}

/* Feeds body bytes to the parser, line by line. */
static int hc_sse_feed(struct hc_sse *s, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != '\n') {
			if (s->line_len + 1 >= HC_EVENT_MAX)
				return -EFBIG;
			s->line[s->line_len++] = p[i];
			continue;
		}
		s->line[s->line_len] = '\0';
		int rc = hc_sse_line(s);
		s->line_len = 0;
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * One connection to the stream: the status code (200: it ran until the
 * stream ended, the connection broke or a signal came), or -errno.
 */
static int hc_follow_once(const struct hc_url *u, bool json, uint64_t *last)
{
	struct hc_sse s = {
	    .line = malloc(HC_EVENT_MAX), .data = malloc(HC_EVENT_MAX), .json = json, .last = last};
	struct hc_conn c;
	char path[80], buf[8192];
	ssize_t n = 0;
	int status = -ENOMEM;

	snprintf(path, sizeof(path), "/api/v1/events/stream?since=%llu", (unsigned long long)*last);
	if (s.line != NULL && s.data != NULL)
		status = hc_get(u, path, "text/event-stream", &c);
	if (status == 200) {
		c.timeout_ms = HC_STREAM_TIMEOUT_MS;
		while ((n = hc_body(&c, buf, sizeof(buf))) > 0 &&
		       hc_sse_feed(&s, buf, (size_t)n) == 0)
			;
		if (n < 0 && n != -EINTR)
			fprintf(stderr, "pxed: the event stream broke: %s\n", strerror((int)-n));
	} else if (status > 0) {
		fprintf(stderr, "pxed: %s%s: HTTP %d\n", u->prefix, path, status);
	}
	if (status > 0)
		hc_close(&c);
	free(s.line);
	free(s.data);
	return status;
}

/* The stream until Ctrl-C, again after each break (a daemon restarting, say). */
static int hc_follow(const struct hc_url *u, const struct hc_opts *o)
{
	uint64_t last = o->since;
	bool connected = false;

	while (!hc_stop) {
		int status = hc_follow_once(u, o->json, &last);
		if (hc_stop)
			break;
		/* A daemon that never answered is a mistake worth an exit status. */
		if (!connected && status != 200 && status != 503)
			return 1;
		connected = true;
		fprintf(stderr, "pxed: reconnecting to the event stream in %d s\n", HC_RECONNECT_S);
		hc_sleep_ms(HC_RECONNECT_S * 1000);
	}
	return 0;
}

int http_cli_events(int argc, char **argv)
{
	struct hc_opts o;
	struct hc_url u;
	char url[512];

	if (hc_parse(argc, argv, "events", &o) < 0)
		return 2;
	if (o.help) {
		fputs(usage_events, stdout);
		return 0;
	}
	if (hc_target(&o, url, sizeof(url), &u) < 0)
		return 2;
	hc_catch_signals();
	return o.follow ? hc_follow(&u, &o) : hc_events_once(&u, &o);
}

/* ---- pxed hosts, pxed profiles --------------------------------------------- */

static const char usage_hosts[] =
    "usage: pxed hosts [--config FILE | --url URL --token-file FILE] [--discovered] [--json]\n"
    "       pxed profiles [--config FILE | --url URL --token-file FILE] [--json]\n"
    "\n"
    "Lists the running daemon's inventory: the hosts (MAC, name, reserved address,\n"
    "profile) or the profiles (kernel, initrds, command line), from the config file\n"
    "and from the API (docs/api.md \"Inventory\"), each with where it comes from;\n"
    "with --discovered, the unknown machines that subnets with `unknown: discover`\n"
    "registered, with what they said about themselves.\n"
    "\n"
    "  --config FILE      the daemon's configuration: the API's address (api.listen,\n"
    "                     api.port) and its token (api.token_file)\n"
    "  --url URL          the inventory API (default http://127.0.0.1:8780)\n"
    "  --token-file FILE  the file holding the API's bearer token\n"
    "  --discovered       (hosts) the machines discovered, not the hosts\n"
    "  --json             print the API's JSON\n";

struct hc_inv_opts {
	const char *config, *url, *token_file;
	bool json, help, discovered;
};

static int hc_inv_parse(int argc, char **argv, const char *cmd, struct hc_inv_opts *o)
{
	enum { O_URL = 256, O_CONFIG, O_TOKEN_FILE, O_JSON, O_HELP, O_DISCOVERED };
	static const struct option opts[] = {
	    {"discovered", no_argument, NULL, O_DISCOVERED},
	    {"url", required_argument, NULL, O_URL},
	    {"config", required_argument, NULL, O_CONFIG},
	    {"token-file", required_argument, NULL, O_TOKEN_FILE},
	    {"json", no_argument, NULL, O_JSON},
	    {"help", no_argument, NULL, O_HELP},
	    {NULL, 0, NULL, 0},
	};
	int opt;

	memset(o, 0, sizeof(*o));
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == O_URL)
			o->url = optarg;
		else if (opt == O_CONFIG)
			o->config = optarg;
		else if (opt == O_TOKEN_FILE)
			o->token_file = optarg;
		else if (opt == O_JSON)
			o->json = true;
		else if (opt == O_DISCOVERED && strcmp(cmd, "hosts") == 0)
			o->discovered = true;
		else if (opt == 'h' || opt == O_HELP)
			o->help = true;
		else
			goto bad;
	}
	if (optind < argc || (o->config != NULL && (o->url != NULL || o->token_file != NULL)) ||
	    (o->config == NULL && o->token_file == NULL && !o->help))
		goto bad;
	return 0;
bad:
	fprintf(stderr, "pxed %s: bad or missing option (see pxed %s --help)\n", cmd, cmd);
	return -EINVAL;
}

static int hc_read_token(const char *file, struct hc_url *u)
{
	char why[PATH_MAX + 128];
	int rc = http_admin_token_read(file, u->token, sizeof(u->token), why, sizeof(why));

	if (rc < 0)
		fprintf(stderr, "pxed: %s\n", why);
	return rc;
}

/* The API's URL and token: from --url/--token-file, or the config's api section. */
static int hc_inv_target(const struct hc_inv_opts *o, struct hc_url *u)
{
	char url[300], ip[16];
	const char *token_file = o->token_file;
	struct conf *c = NULL;
	struct conf_errors errs = {0};
	int rc;

	snprintf(url, sizeof(url), "%s", o->url != NULL ? o->url : "http://127.0.0.1:8780");
	if (o->config != NULL) {
		if (conf_load(o->config, &c, &errs) < 0) {
			for (size_t i = 0; i < errs.n; i++)
				fprintf(stderr, "%s\n", errs.msgs[i]);
			conf_errors_free(&errs);
			return -EINVAL;
		}
		if (c->api_token_file == NULL) {
			fprintf(stderr,
				"pxed: %s has no api.token_file: the daemon has no inventory API\n",
				o->config);
			conf_free(c);
			return -EINVAL;
		}
		snprintf(url, sizeof(url), "http://%s:%u", ip4_format(ip, c->api_address),
			 c->api_port);
		token_file = c->api_token_file;
	}
	rc = hc_url_parse(url, u);
	if (rc < 0)
		fprintf(stderr, "pxed: '%s' is not a URL like http://127.0.0.1:8780\n", url);
	else
		rc = hc_read_token(token_file, u);
	conf_free(c);
	return rc;
}

static const char *hc_source(const json_t *o, char *out, size_t cap)
{
	const json_t *line = json_object_get(o, "line");

	if (strcmp(hc_str(o, "source", ""), "api") == 0)
		snprintf(out, cap, "api");
	else if (json_is_integer(line) && json_integer_value(line) > 0)
		snprintf(out, cap, "config:%" JSON_INTEGER_FORMAT, json_integer_value(line));
	else
		snprintf(out, cap, "flags");
	return out;
}

static void hc_print_hosts(const json_t *list)
{
	size_t i;
	const json_t *h;
	char src[32];

	printf("%-17s  %-20s  %-15s  %-16s  %-10s  %s\n", "MAC", "NAME", "ADDRESS", "PROFILE",
	       "INSTALL", "SOURCE");
	json_array_foreach(list, i, h)
	{
		bool unused = json_is_false(json_object_get(h, "used"));
		printf("%-17s  %-20s  %-15s  %-16s  %-10s  %s%s\n", hc_str(h, "mac", "-"),
		       hc_str(h, "name", "-"), hc_str(h, "address", "-"),
		       hc_str(h, "profile", "(default)"), hc_str(h, "install", "-"),
		       hc_source(h, src, sizeof(src)), unused ? " (not used: see the log)" : "");
	}
}

static void hc_print_profiles(const json_t *list)
{
	size_t i;
	const json_t *p;
	char src[32];

	printf("%-20s  %-40s  %-7s  %s\n", "NAME", "KERNEL", "INITRDS", "SOURCE");
	json_array_foreach(list, i, p)
	{
		bool def = json_is_true(json_object_get(p, "default"));
		printf("%-20s  %-40s  %-7zu  %s%s\n", hc_str(p, "name", "?"),
		       hc_str(p, "kernel", "-"), json_array_size(json_object_get(p, "initrds")),
		       hc_source(p, src, sizeof(src)), def ? " (default_profile)" : "");
	}
}

static void hc_print_discovered(const json_t *list)
{
	size_t i;
	const json_t *m;

	printf("%-17s  %-15s  %-8s  %-36s  %-24s  %s\n", "MAC", "ADDRESS", "ARCH", "VENDOR CLASS",
	       "LAST SEEN", "INTERFACE");
	json_array_foreach(list, i, m)
	{
		printf("%-17s  %-15s  %-8s  %-36s  %-24s  %s\n", hc_str(m, "mac", "?"),
		       hc_str(m, "ip", "-"), hc_str(m, "arch_name", "-"),
		       hc_str(m, "vendor_class", "-"), hc_str(m, "last_seen", "-"),
		       hc_str(m, "interface", "-"));
	}
}

static int hc_inventory(int argc, char **argv, const char *cmd)
{
	struct hc_inv_opts o;
	struct hc_url u;
	json_t *j = NULL;
	bool hosts = strcmp(cmd, "hosts") == 0;

	if (hc_inv_parse(argc, argv, cmd, &o) < 0)
		return 2;
	if (o.help) {
		fputs(usage_hosts, stdout);
		return 0;
	}
	if (hc_inv_target(&o, &u) < 0)
		return 1;
	int rc = hc_get_json(&u,
			     o.discovered ? "/api/v1/discovered"
			     : hosts	  ? "/api/v1/hosts"
					  : "/api/v1/profiles",
			     &j);
	explicit_bzero(u.token, sizeof(u.token));
	if (rc < 0)
		return 1;
	if (o.json) {
		char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (text != NULL)
			puts(text);
		free(text);
	} else if (o.discovered) {
		hc_print_discovered(json_object_get(j, "machines"));
	} else if (hosts) {
		hc_print_hosts(json_object_get(j, "hosts"));
	} else {
		hc_print_profiles(json_object_get(j, "profiles"));
	}
	json_decref(j);
	return 0;
}

int http_cli_hosts(int argc, char **argv)
{
	return hc_inventory(argc, argv, "hosts");
}

int http_cli_profiles(int argc, char **argv)
{
	return hc_inventory(argc, argv, "profiles");
}
