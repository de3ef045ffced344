#include "http/files.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot/vfs.h"
#include "conf/config.h"
#include "core/log.h"
#include "core/util.h"
#include "http/conn.h"
#include "http/range.h"
#include "http/tls.h"
#include "obs/live.h"
#include "obs/obs.h"
#include "pxed.h"

/* "\"" + four 16-digit hex numbers and their dashes + "\"", with room to spare. */
#define HTTP_ETAG_LEN 80

/* Room for an If-Match or If-None-Match sent on several lines: evhttp caps all headers at 8 KiB. */
#define HTTP_LIST_MAX 8192

/*
 * One file being sent, from the request until the response has been
 * written (http_on_complete) or the connection died (http_on_close): the
 * one of the two that runs first frees it.
 */
struct http_xfer {
	struct pxed *d;
	struct evhttp_connection *conn;
	struct evbuffer *out;		 /* the connection's output, watched for progress */
	struct evbuffer_cb_entry *watch; /* NULL: not watched */
	uint32_t ip;
	uint64_t start_us;
	uint64_t size;	  /* body bytes to send (0 for HEAD) */
	uint64_t sent;	  /* body bytes the socket took so far */
	unsigned live_id; /* obs/live.h's entry; 0: not shown */
	/* An HTTPS body, read from the file as it goes (http/tls.h); or NULL. */
	struct http_tls_pump *pump;
	bool cut; /* the body could not be started: the connection was shut down */
	char detail[340];
	char file[200]; /* the path asked for, escaped, without the leading slash */
};

/* What one request gets: the file, its validators, and the ranges to send. */
struct http_answer {
	struct vfs_file f;
	struct http_validators v;
	char etag[HTTP_ETAG_LEN];
	const char *type;
	struct http_range r[HTTP_RANGE_MAX];
	size_t n; /* ranges; 0: the whole file */
	bool head;
	bool pump; /* over TLS: the body is not queued but pumped from f.fd (http/tls.h) */
};

/*
 * By extension. Boot programs (.efi, .0, .kpxe, .pxe, .c32), disk images
 * and anything unknown are application/octet-stream: firmware does not care, and a
 * browser then saves rather than shows them.
 */
static const char *http_content_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
	    {".ipxe", "text/plain; charset=utf-8"},
	    {".cfg", "text/plain; charset=utf-8"},
	    {".conf", "text/plain; charset=utf-8"},
	    {".txt", "text/plain; charset=utf-8"},
	    {".sh", "text/plain; charset=utf-8"},
	    {".html", "text/html; charset=utf-8"},
	    {".htm", "text/html; charset=utf-8"},
	    {".css", "text/css; charset=utf-8"},
	    {".js", "text/javascript; charset=utf-8"},
	    {".json", "application/json"},
	    {".xml", "application/xml"},
	    {".svg", "image/svg+xml"},
	    {".png", "image/png"},
	    {".ico", "image/vnd.microsoft.icon"},
	    {".iso", "application/x-iso9660-image"},
	    {".img", "application/octet-stream"},
	    {".xz", "application/x-xz"},
	    {".gz", "application/gzip"},
	    {".tgz", "application/gzip"},
	    {".zst", "application/zstd"},
	    {".bz2", "application/x-bzip2"},
	    {".tar", "application/x-tar"},
	    {".cpio", "application/x-cpio"},
	    {".squashfs", "application/octet-stream"},
	};
	const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');

	if (dot == NULL || (slash != NULL && dot < slash))
		return "application/octet-stream";
	for (size_t i = 0; i < PXED_ARRAY_LEN(types); i++)
		if (strcasecmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

void http_reply_error(struct pxed *d, struct evhttp_request *req, int code, const char *reason)
{
	struct evbuffer *b = evbuffer_new();
	metric_inc(&d->metrics, METRIC_HTTP_ERRORS);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; charset=utf-8");
	if (b != NULL && evhttp_request_get_command(req) != EVHTTP_REQ_HEAD)
		evbuffer_add_printf(b, "%d %s\n", code, reason);
	evhttp_send_reply(req, code, reason, b);
	if (b != NULL)
		evbuffer_free(b);
}

static void http_peer(struct evhttp_request *req, uint32_t *peer, uint32_t *local)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd = bufferevent_getfd(evhttp_connection_get_bufferevent(conn));

	*peer = *local = 0;
	if (fd >= 0 && getpeername(fd, (struct sockaddr *)&sa, &sl) == 0 &&
	    sa.sin_family == AF_INET)
		*peer = ntohl(sa.sin_addr.s_addr);
	sl = sizeof(sa);
	if (fd >= 0 && getsockname(fd, (struct sockaddr *)&sa, &sl) == 0 &&
	    sa.sin_family == AF_INET)
		*local = ntohl(sa.sin_addr.s_addr);
}

/*
 * Body bytes the socket took: the body is the tail of what is queued, so
 * it is what was queued of it (all of it, or what the pump read so far)
 * less what is still queued. One subtraction per write; no copy, no clock.
 */
static uint64_t http_xfer_sent(const struct http_xfer *x)
{
	uint64_t queued = x->pump != NULL ? http_tls_pump_queued(x->pump) : x->size;
	size_t left = evbuffer_get_length(x->out);

	return queued > left ? queued - left : 0;
}

/* The connection's output shrank (the socket took some) or grew. */
static void http_on_output(struct evbuffer *out, const struct evbuffer_cb_info *info, void *arg)
{
	struct http_xfer *x = arg;
	uint64_t sent = http_xfer_sent(x);

	if (info->n_deleted == 0 || sent <= x->sent)
		return;
	x->sent = sent;
	obs_transfer_progress(x->d->live, x->live_id, sent);
}

/* Stops watching x and forgets it in the live view and on the connection. */
static void http_xfer_detach(struct http_xfer *x)
{
	if (x->watch != NULL)
		evbuffer_remove_cb_entry(x->out, x->watch);
	x->watch = NULL;
	http_tls_pump_free(x->pump);
	x->pump = NULL;
	obs_transfer_end(x->d->live, x->live_id);
	evhttp_connection_set_closecb(x->conn, NULL, NULL);
}

static void http_xfer_report(struct http_xfer *x, bool ok)
{
	char detail[sizeof(x->detail) + 64];
	uint64_t us = now_mono_us() - x->start_us;

	snprintf(detail, sizeof(detail), "%s%s", x->detail,
		 ok ? "" : ": the connection closed before the end");
	obs_event(x->d->obs, &(struct obs_event){.ip = x->ip,
						 .proto = "http",
						 .kind = "transfer",
						 .detail = detail,
						 .bytes = x->sent,
						 .duration_us = us,
						 .ok = ok,
						 .file = x->file});
	metric_inc(&x->d->metrics, ok ? METRIC_HTTP_DONE : METRIC_HTTP_FAILED);
	metric_add(&x->d->metrics, METRIC_HTTP_BYTES, x->sent);
	if (ok)
		metric_observe_us(&x->d->metrics, METRIC_HIST_HTTP_SECONDS, us);
}

/*
 * Runs once the response has been written: the timeline entry. A pump
 * that could not read the whole body (the file shrank) cut the connection,
 * and evhttp sees the output written: not a complete transfer.
 */
static void http_on_complete(struct evhttp_request *req, void *arg)
{
	struct http_xfer *x = arg;
	bool whole = !x->cut && (x->pump == NULL || http_tls_pump_queued(x->pump) == x->size);

	x->sent = whole ? x->size : http_xfer_sent(x);
	/* The connection may wait for another request: evhttp's read timeout again. */
	if (x->size > 0 && whole)
		http_conn_body_done(x->conn, x->d->conf);
	http_xfer_detach(x);
	http_xfer_report(x, whole);
	free(x);
}

/*
 * The connection went before the response was written (the client left,
 * a timeout, the daemon stopping): evhttp then never calls on_complete.
 */
static void http_on_close(struct evhttp_connection *conn, void *arg)
{
	struct http_xfer *x = arg;

	/* The output is still intact here: evhttp empties it after this callback. */
	if (x->size > 0 && x->out != NULL && http_xfer_sent(x) > x->sent)
		x->sent = http_xfer_sent(x);
	http_xfer_detach(x);
	http_xfer_report(x, false);
	free(x);
}

/*
 * A boot file that cannot be served is a timeline event ("refused", with
 * the root it was looked for under); obs keeps a few per boot session.
 */
static void http_report_refusal(struct pxed *d, uint32_t ip, const char *path, int code,
				const char *reason)
{
	const char *root = d->conf->http_root;
	char detail[400];

	if (d->obs == NULL || strcmp(path, "/index.html") == 0 || strcmp(path, "/favicon.ico") == 0)
		return;
	snprintf(detail, sizeof(detail), "%s: %d %s%s%s", path, code, reason,
		 root != NULL ? " under " : ", no http.root", root != NULL ? root : "");
	obs_event(d->obs, &(struct obs_event){.ip = ip,
					      .proto = "http",
					      .kind = "refused",
					      .detail = detail,
					      .file = path[0] == '/' ? path + 1 : path});
}

static int http_vfs_status(int rc, const char **reason)
{
	switch (rc) {
	case -ENOENT:
		*reason = "Not Found";
		return 404;
	case -EACCES:
		*reason = "Forbidden";
		return 403;
	default:
		*reason = "Bad Request";
		return 400;
	}
}

/* The status view's entry for a GET (obs/live.h); HEADs send no body: not shown. */
static void http_xfer_show(struct pxed *d, struct http_xfer *x, const struct vfs_file *f)
{
	struct obs_transfer o = {.ip = x->ip, .size = x->size, .start_us = (uint64_t)now_wall_us()};

	if (d->live == NULL || x->size == 0)
		return;
	snprintf(o.proto, sizeof(o.proto), "http");
	snprintf(o.path, sizeof(o.path), "%.*s", (int)sizeof(o.path) - 1, x->file);
	snprintf(o.what, sizeof(o.what), "%s", f->what != NULL ? f->what : "file");
	o.has_mac = d->obs != NULL && obs_lookup(d->obs, x->ip, o.mac);
	x->live_id = obs_transfer_begin(d->live, &o);
}

static uint64_t fnv1a64(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/*
 * Strong validators (RFC 9110 §8.8): a real file's tag changes with its
 * device, inode, size or modification time (to the nanosecond); a rendered
 * file's is a hash of its bytes, and it has no Last-Modified. A
 * modification time in the future is sent as now: the Date evhttp gives
 * the reply, which is this second or a later one (§8.8.2.1).
 */
static int http_validators_of(struct http_answer *a)
{
	struct vfs_file *f = &a->f;
	int64_t now = now_wall_us() / 1000000;

	if (f->kind == VFS_RENDERED) {
		uint64_t h = fnv1a64(0xcbf29ce484222325ull, f->data, f->size);
		snprintf(a->etag, sizeof(a->etag), "\"r%016" PRIx64 "-%" PRIx64 "\"", h, f->size);
		a->v = (struct http_validators){a->etag, -1, now};
		return 0;
	}
	/* boot/vfs.c's fstat of the file opened: device, inode, size, modification time. */
	uint64_t ns = (uint64_t)f->mtime.tv_sec * 1000000000u + (uint64_t)f->mtime.tv_nsec;
	snprintf(a->etag, sizeof(a->etag), "\"%" PRIx64 "-%" PRIx64 "-%" PRIx64 "-%" PRIx64 "\"",
		 f->dev, f->ino, f->size, ns);
	a->v =
	    (struct http_validators){a->etag, f->mtime.tv_sec < now ? f->mtime.tv_sec : now, now};
	return 0;
}

static void http_add_validators(struct evkeyvalq *h, const struct http_answer *a)
{
	char date[HTTP_DATE_LEN];

	evhttp_add_header(h, "ETag", a->etag);
	if (a->v.last_modified >= 0) {
		http_date_format(a->v.last_modified, date);
		evhttp_add_header(h, "Last-Modified", date);
	}
}

static void http_add_length(struct evkeyvalq *h, uint64_t n)
{
	char len[24];

	snprintf(len, sizeof(len), "%" PRIu64, n);
	evhttp_add_header(h, "Content-Length", len);
}

/* Appends bytes [first, first+len) of the file: a sendfile segment, or a copy of rendered bytes. */
static int http_add_body(struct evbuffer *b, struct http_answer *a,
			 struct evbuffer_file_segment *seg, uint64_t first, uint64_t len)
{
	if (len == 0)
		return 0;
	if (seg != NULL)
		return evbuffer_add_file_segment(b, seg, (ev_off_t)first, (ev_off_t)len);
	return evbuffer_add(b, a->f.data + first, len);
}

/*
 * The body of a 206 with several ranges (RFC 9110 §14.6): each part's
 * header, then its bytes (file segments: nothing is read into memory),
 * then the closing delimiter. Returns the body's length, or -errno.
 */
static int64_t http_build_multipart(struct evbuffer *b, struct http_answer *a,
				    struct evbuffer_file_segment *seg, const char *boundary)
{
	char head[512];
	int64_t total = 0;
	int n;

	for (size_t i = 0; i < a->n; i++) {
		uint64_t len = a->r[i].last - a->r[i].first + 1;
		n = http_multipart_head(head, sizeof(head), boundary, a->type, &a->r[i], a->f.size);
		if (n < 0)
			return n;
		if ((b != NULL && (evbuffer_add(b, head, (size_t)n) < 0 ||
				   http_add_body(b, a, seg, a->r[i].first, len) < 0)))
			return -ENOMEM;
		total += n + (int64_t)len;
	}
	n = http_multipart_tail(head, sizeof(head), boundary);
	if (n < 0 || (b != NULL && evbuffer_add(b, head, (size_t)n) < 0))
		return n < 0 ? n : -ENOMEM;
	return total + n;
}

/*
 * Status line headers and body of a 200 or 206: b gets the body (nothing
 * for HEAD), the headers get Content-Length and, for ranges, Content-Range
 * or the multipart type. Returns the body length, or -errno.
 */
static int64_t http_build_body(struct evbuffer *b, struct evkeyvalq *h, struct http_answer *a)
{
	struct evbuffer_file_segment *seg = NULL;
	uint64_t first = 0, len = a->f.size;
	int64_t total;
	char cr[96], boundary[40], type[96];

	if (a->f.kind == VFS_FILE && !a->head && a->f.size > 0 && !a->pump) {
		/* The segment owns the fd from here: it closes it when the last part is sent. */
		seg = evbuffer_file_segment_new(a->f.fd, 0, (ev_off_t)a->f.size,
						EVBUF_FS_CLOSE_ON_FREE);
		if (seg == NULL)
			return -ENOMEM;
		a->f.fd = -1;
	}
	if (a->n > 1) {
		snprintf(boundary, sizeof(boundary), "pxed-%016" PRIx64,
			 fnv1a64(now_mono_us(), a->etag, strlen(a->etag)));
		snprintf(type, sizeof(type), "multipart/byteranges; boundary=%s", boundary);
		evhttp_add_header(h, "Content-Type", type);
		total = http_build_multipart(a->head ? NULL : b, a, seg, boundary);
	} else {
		if (a->n == 1) {
			first = a->r[0].first;
			len = a->r[0].last - first + 1;
			http_content_range(cr, sizeof(cr), &a->r[0], a->f.size);
			evhttp_add_header(h, "Content-Range", cr);
		}
		evhttp_add_header(h, "Content-Type", a->type);
		total = a->head || a->pump || http_add_body(b, a, seg, first, len) == 0
			    ? (int64_t)len
			    : -ENOMEM;
	}
	if (seg != NULL)
		evbuffer_file_segment_free(seg);
	if (total >= 0)
		http_add_length(h, (uint64_t)total);
	return total;
}

/* Sends a 200 or 206 for a; x (the transfer's record) is taken over. */
static void http_send_file(struct pxed *d, struct evhttp_request *req, struct http_answer *a,
			   struct http_xfer *x)
{
	struct evbuffer *b = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct bufferevent *bev =
	    evhttp_connection_get_bufferevent(evhttp_request_get_connection(req));
	bool tls = http_tls_bev_is(bev);
	int64_t total;
	int fd = -1;

	/*
	 * b only ever drains into the socket: with this flag the file segments
	 * added to it (every part of a multipart body too) stay sendfile chains;
	 * without it libevent maps the whole file and copies from the mapping.
	 * TLS cannot sendfile: the body (the file, or its one range; see
	 * http_files_serve for several) is pumped from the file as the socket
	 * takes it.
	 */
	if (b != NULL && !tls)
		evbuffer_set_flags(b, EVBUFFER_FLAG_DRAINS_TO_FD);
	a->pump = tls && a->f.kind == VFS_FILE && !a->head && a->n <= 1 && a->f.size > 0;
	total = b != NULL ? http_build_body(b, h, a) : -ENOMEM;
	if (a->pump && total >= 0) {
		fd = a->f.fd; /* the pump's, below */
		a->f.fd = -1;
	}
	vfs_file_close(&a->f);
	if (total < 0) {
		if (b != NULL)
			evbuffer_free(b);
		free(x);
		evhttp_clear_headers(h);
		http_reply_error(d, req, 500, "Internal Server Error");
		return;
	}
	x->size = a->head ? 0 : (uint64_t)total;
	x->conn = evhttp_request_get_connection(req);
	x->out = bufferevent_get_output(evhttp_connection_get_bufferevent(x->conn));
	http_xfer_show(d, x, &a->f);
	metric_inc(&d->metrics, METRIC_HTTP_STARTED);
	/* Exactly one of the two runs: on_complete clears the close callback. */
	evhttp_request_set_on_complete_cb(req, http_on_complete, x);
	evhttp_connection_set_closecb(x->conn, http_on_close, x);
	evhttp_send_reply(req, a->n > 0 ? 206 : 200, a->n > 0 ? "Partial Content" : "OK", b);
	evbuffer_free(b);
	/* Behind the headers, before the loop writes any of it; a pump that cannot start cuts. */
	if (fd >= 0 && http_tls_pump_start(bev, fd, a->n == 1 ? a->r[0].first : 0, (uint64_t)total,
					   &x->pump) < 0) {
		x->cut = true;
		shutdown(bufferevent_getfd(bev), SHUT_RDWR);
	}
	/* A body may take hours: only a socket that takes nothing is cut (http/conn.h). */
	if (x->size > 0)
		http_conn_body_start(x->conn, d->conf);
	/* evhttp writes from the loop, never before evhttp_send_reply returns: x is alive. */
	if (x->size > 0 && x->live_id != 0)
		x->watch = evbuffer_add_cb(x->out, http_on_output, x);
}

/*
 * A list header's value: its lines joined with ", " (RFC 9110 §5.3), as
 * evhttp keeps each line apart and finds only the first. NULL when absent;
 * a list longer than buf (evhttp's header size cap keeps it shorter) is
 * sent on as a malformed one, which matches no tag.
 */
static const char *http_header_list(struct evkeyvalq *in, const char *name, char *buf, size_t cap)
{
	const struct evkeyval *kv;
	const char *first = NULL;
	size_t used = 0;

	for (kv = TAILQ_FIRST(in); kv != NULL; kv = TAILQ_NEXT(kv, next)) {
		if (strcasecmp(kv->key, name) != 0)
			continue;
		if (first == NULL) {
			first = kv->value;
			continue;
		}
		if (used == 0)
			used = (size_t)snprintf(buf, cap, "%s", first);
		if (used < cap)
			used += (size_t)snprintf(buf + used, cap - used, ", %s", kv->value);
	}
	if (used == 0)
		return first;
	return used < cap ? buf : "<too long>";
}

/*
 * Preconditions, then the Range (GET only: RFC 9110 §14.2 defines ranges
 * for GET alone). Returns 0 to send the file (a->n ranges), or the status
 * already answered (304, 412, 416).
 */
static int http_evaluate(struct pxed *d, struct evhttp_request *req, struct http_answer *a)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	char match[HTTP_LIST_MAX], none_match[HTTP_LIST_MAX];
	const struct http_conditions c = {
	    .if_match = http_header_list(in, "If-Match", match, sizeof(match)),
	    .if_none_match = http_header_list(in, "If-None-Match", none_match, sizeof(none_match)),
	    .if_modified_since = evhttp_find_header(in, "If-Modified-Since"),
	    .if_unmodified_since = evhttp_find_header(in, "If-Unmodified-Since"),
	    .if_range = evhttp_find_header(in, "If-Range"),
	};
	const char *range = a->head ? NULL : evhttp_find_header(in, "Range");
	char cr[64];

	switch (http_preconditions(&c, &a->v, true)) {
	case HTTP_PRECOND_NOT_MODIFIED:
		http_add_validators(h, a);
		evhttp_send_reply(req, 304, "Not Modified", NULL);
		return 304;
	case HTTP_PRECOND_FAILED:
		http_reply_error(d, req, 412, "Precondition Failed");
		return 412;
	case HTTP_PRECOND_PROCEED:
		break;
	}
	http_add_validators(h, a);
	evhttp_add_header(h, "Accept-Ranges", "bytes");
	if (range == NULL || !http_if_range_allows(c.if_range, &a->v))
		return 0;
	if (http_range_parse(range, a->f.size, a->r, &a->n) == HTTP_RANGE_UNSATISFIABLE) {
		http_content_range(cr, sizeof(cr), NULL, a->f.size);
		evhttp_add_header(h, "Content-Range", cr);
		http_reply_error(d, req, 416, "Range Not Satisfiable");
		return 416;
	}
	return 0;
}

/* The timeline's words for what was sent: the file, and the ranges if any. */
static void http_xfer_describe(struct http_xfer *x, const struct http_answer *a, const char *esc)
{
	char ranges[48] = "";

	if (a->n == 1)
		snprintf(ranges, sizeof(ranges), " bytes %" PRIu64 "-%" PRIu64, a->r[0].first,
			 a->r[0].last);
	else if (a->n > 1)
		snprintf(ranges, sizeof(ranges), " (%zu ranges)", a->n);
	snprintf(x->detail, sizeof(x->detail), "%s %s%s%s", a->f.what, esc, ranges,
		 a->head ? " (HEAD)" : "");
	snprintf(x->file, sizeof(x->file), "%s", esc[0] == '/' ? esc + 1 : esc);
}

void http_files_serve(struct pxed *d, struct evhttp_request *req, const char *path)
{
	struct vfs_client cl = {
	    .states = d->states, .facts = obs_facts_of_requester, .facts_ctx = d};
	struct http_answer a = {.head = evhttp_request_get_command(req) == EVHTTP_REQ_HEAD};
	const char *reason = "Internal Server Error";
	struct http_xfer *x = NULL;
	char esc[200];
	int code = 500;

	http_peer(req, &cl.ip, &cl.server_ip);
	log_escape(esc, sizeof(esc), path, strlen(path));
	int rc = vfs_open(d->conf, VFS_ROOT_HTTP, path, &cl, &a.f);
	if (rc < 0)
		code = http_vfs_status(rc, &reason);
	else if (http_validators_of(&a) == 0 && (x = calloc(1, sizeof(*x))) != NULL)
		code = 0;
	if (code != 0) {
		log_info("http", "%s %s: %d", a.head ? "HEAD" : "GET", esc, code);
		if (rc < 0)
			http_report_refusal(d, cl.ip, esc, code, reason);
		else
			vfs_file_close(&a.f);
		http_reply_error(d, req, code, reason);
		return;
	}
	a.type = http_content_type(path);
	if (http_evaluate(d, req, &a) != 0) {
		vfs_file_close(&a.f);
		free(x);
		return;
	}
	/*
	 * Several ranges over TLS: the whole file instead, a 200 (RFC 9110
	 * §14.2 lets a server ignore Range). A multipart body would be file
	 * segments, which TLS can only send mapped: memory the size of the file,
	 * and SIGBUS if it shrinks meanwhile. One range is pumped like a file.
	 */
	if (a.n > 1 && a.f.kind == VFS_FILE &&
	    http_tls_bev_is(evhttp_connection_get_bufferevent(evhttp_request_get_connection(req))))
		a.n = 0;
	*x = (struct http_xfer){.d = d, .ip = cl.ip, .start_us = now_mono_us()};
	http_xfer_describe(x, &a, esc);
	http_send_file(d, req, &a, x);
}
