#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "boot/vfs.h"
#include "conf/config.h"
#include "core/log.h"
#include "core/util.h"
#include "dhcp/server.h"
#include "http/api.h"
#include "http/dashboard.h"
#include "obs/live.h"
#include "obs/obs.h"
#include "pxed.h"

#define HTTP_MAX_HEADERS 8192
#define HTTP_MAX_BODY 65536
#define HTTP_TIMEOUT_S 60
/* /metrics: the first buffer tried, and the most it may take (64 pools of gauges fit). */
#define HTTP_METRICS_BUF (64 * 1024)
#define HTTP_METRICS_MAX (1024 * 1024)

struct http_server {
	struct pxed *d;
	struct evhttp *http;
	struct http_api *api; /* /api/v1/ */
};

/*
 * One file being sent, from the request until the response has been
 * written (http_on_complete) or the connection died (http_on_close): the
 * one of the two that runs first frees it.
 */
struct http_xfer {
	struct http_server *s;
	struct evhttp_connection *conn;
	struct evbuffer *out;		 /* the connection's output, watched for progress */
	struct evbuffer_cb_entry *watch; /* NULL: not watched */
	uint32_t ip;
	uint64_t start_us;
	uint64_t size;	  /* body bytes to send (0 for HEAD) */
	uint64_t sent;	  /* body bytes the socket took so far */
	unsigned live_id; /* obs/live.h's entry; 0: not shown */
	char detail[300];
	char file[200]; /* the path asked for, escaped, without the leading slash */
};

static const char *http_content_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
	    {".ipxe", "text/plain; charset=utf-8"}, {".cfg", "text/plain; charset=utf-8"},
	    {".txt", "text/plain; charset=utf-8"},  {".html", "text/html; charset=utf-8"},
	    {".json", "application/json"},	    {".iso", "application/x-iso9660-image"},
	};
	const char *dot = strrchr(path, '.');
	for (size_t i = 0; dot != NULL && i < PXED_ARRAY_LEN(types); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
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

static void http_error(struct http_server *s, struct evhttp_request *req, int code,
		       const char *reason)
{
	struct evbuffer *b = evbuffer_new();
	metric_inc(&s->d->metrics, METRIC_HTTP_ERRORS);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; charset=utf-8");
	if (b != NULL)
		evbuffer_add_printf(b, "%d %s\n", code, reason);
	evhttp_send_reply(req, code, reason, b);
	if (b != NULL)
		evbuffer_free(b);
}

/* The gauges of /metrics: pools, transfers in progress, streams. */
static void http_metrics_gauges(struct http_server *s, struct metrics_pool *pools, size_t cap,
				struct metrics_gauges *g)
{
	struct dhcp_pool_usage u[CONF_MAX_SUBNETS];
	size_t n = s->d->dhcp != NULL ? dhcp_server_pools(s->d->dhcp, u, CONF_MAX_SUBNETS) : 0;
	char net[16];

	*g = (struct metrics_gauges){.pools = pools, .streams = http_api_streams(s->api)};
	for (size_t i = 0; i < n && i < cap; i++) {
		struct metrics_pool *p = &pools[g->n_pools++];
		snprintf(p->subnet, sizeof(p->subnet), "%s/%d", ip4_format(net, u[i].network),
			 u[i].prefix_len);
		p->size = u[i].size;
		p->leased = u[i].leased;
		p->offered = u[i].offered;
		p->declined = u[i].declined;
		p->reserved = u[i].reserved;
		p->free = u[i].free;
	}
	if (s->d->live != NULL) {
		g->tftp_active = obs_transfers_active(s->d->live, "tftp");
		g->http_active = obs_transfers_active(s->d->live, "http");
		g->start_time_s = obs_live_started_us(s->d->live) / 1000000;
	}
}

static void http_serve_metrics(struct http_server *s, struct evhttp_request *req)
{
	struct metrics_pool pools[CONF_MAX_SUBNETS];
	struct metrics_gauges g;
	size_t cap = HTTP_METRICS_BUF;
	char *text = NULL;
	int n = -ENOSPC;

	metric_inc(&s->d->metrics, METRIC_HTTP_API_REQUESTS);
	http_metrics_gauges(s, pools, CONF_MAX_SUBNETS, &g);
	/* Counters only grow: a buffer too small is doubled, within reason. */
	for (; n == -ENOSPC && cap <= HTTP_METRICS_MAX; cap *= 2) {
		char *p = realloc(text, cap);
		if (p == NULL)
			break;
		text = p;
		n = metrics_render(&s->d->metrics, &g, text, cap);
	}
	if (n < 0) {
		free(text);
		http_error(s, req, 500, "Internal Server Error");
		return;
	}
	struct evbuffer *b = evbuffer_new();
	evbuffer_add(b, text, (size_t)n);
	free(text);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; version=0.0.4");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

/*
 * The connection's output shrank (the socket took some) or grew: the body
 * is the tail of what is queued, so what is sent of it is its size less
 * what is still queued. One subtraction per write; no copy, no clock.
 */
static void http_on_output(struct evbuffer *out, const struct evbuffer_cb_info *info, void *arg)
{
	struct http_xfer *x = arg;
	size_t left = evbuffer_get_length(out);
	uint64_t sent = x->size > left ? x->size - left : 0;

	if (info->n_deleted == 0 || sent <= x->sent)
		return;
	x->sent = sent;
	obs_transfer_progress(x->s->d->live, x->live_id, sent);
}

/* Stops watching x and forgets it in the live view and on the connection. */
static void http_xfer_detach(struct http_xfer *x)
{
	if (x->watch != NULL)
		evbuffer_remove_cb_entry(x->out, x->watch);
	x->watch = NULL;
	obs_transfer_end(x->s->d->live, x->live_id);
	evhttp_connection_set_closecb(x->conn, NULL, NULL);
}

static void http_xfer_report(struct http_xfer *x, bool ok)
{
	char detail[sizeof(x->detail) + 64];
	uint64_t us = now_mono_us() - x->start_us;

	snprintf(detail, sizeof(detail), "%s%s", x->detail,
		 ok ? "" : ": the connection closed before the end");
	obs_event(x->s->d->obs, &(struct obs_event){.ip = x->ip,
						    .proto = "http",
						    .kind = "transfer",
						    .detail = detail,
						    .bytes = x->sent,
						    .duration_us = us,
						    .ok = ok,
						    .file = x->file});
	metric_inc(&x->s->d->metrics, ok ? METRIC_HTTP_DONE : METRIC_HTTP_FAILED);
	metric_add(&x->s->d->metrics, METRIC_HTTP_BYTES, x->sent);
	if (ok)
		metric_observe_us(&x->s->d->metrics, METRIC_HIST_HTTP_SECONDS, us);
}

/* Runs once the whole response has been written: the timeline entry. */
static void http_on_complete(struct evhttp_request *req, void *arg)
{
	struct http_xfer *x = arg;

	x->sent = x->size;
	http_xfer_detach(x);
	http_xfer_report(x, true);
	free(x);
}

/*
 * The connection went before the response was written (the client left,
 * a timeout, the daemon stopping): evhttp then never calls on_complete.
 */
static void http_on_close(struct evhttp_connection *conn, void *arg)
{
	struct http_xfer *x = arg;

	http_xfer_detach(x);
	http_xfer_report(x, false);
	free(x);
}

/*
 * A boot file that cannot be served is a timeline event ("refused", with
 * the root it was looked for under); obs keeps a few per boot session.
 */
static void http_report_refusal(struct http_server *s, uint32_t ip, const char *path, int code,
				const char *reason)
{
	const char *root = s->d->conf->http_root;
	char detail[400];

	if (s->d->obs == NULL || strcmp(path, "/index.html") == 0 ||
	    strcmp(path, "/favicon.ico") == 0)
		return;
	snprintf(detail, sizeof(detail), "%s: %d %s%s%s", path, code, reason,
		 root != NULL ? " under " : ", no http.root", root != NULL ? root : "");
	obs_event(s->d->obs, &(struct obs_event){.ip = ip,
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
static void http_xfer_show(struct http_server *s, struct http_xfer *x, const struct vfs_file *f)
{
	struct obs_transfer o = {.ip = x->ip, .size = x->size, .start_us = (uint64_t)now_wall_us()};

	if (s->d->live == NULL || x->size == 0)
		return;
	snprintf(o.proto, sizeof(o.proto), "http");
	snprintf(o.path, sizeof(o.path), "%.*s", (int)sizeof(o.path) - 1, x->file);
	snprintf(o.what, sizeof(o.what), "%s", f->what != NULL ? f->what : "file");
	o.has_mac = s->d->obs != NULL && obs_lookup(s->d->obs, x->ip, o.mac);
	x->live_id = obs_transfer_begin(s->d->live, &o);
}

/* Sends a file from the virtual tree; the body is omitted for HEAD by libevent. */
static void http_send_file(struct http_server *s, struct evhttp_request *req, struct vfs_file *f,
			   struct http_xfer *x, const char *path)
{
	struct evbuffer *b = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	int rc;

	if (f->kind == VFS_FILE) {
		/* evbuffer_add_file owns the fd from here and uses sendfile. */
		rc = f->size > 0 ? evbuffer_add_file(b, f->fd, 0, (ev_off_t)f->size) : 0;
		if (f->size == 0)
			close(f->fd);
	} else {
		rc = evbuffer_add(b, f->data, f->size);
		free(f->data);
	}
	if (rc < 0) {
		evbuffer_free(b);
		free(x);
		http_error(s, req, 500, "Internal Server Error");
		return;
	}
	x->size = evhttp_request_get_command(req) == EVHTTP_REQ_HEAD ? 0 : f->size;
	x->conn = evhttp_request_get_connection(req);
	x->out = bufferevent_get_output(evhttp_connection_get_bufferevent(x->conn));
	http_xfer_show(s, x, f);
	metric_inc(&s->d->metrics, METRIC_HTTP_STARTED);
	evhttp_add_header(h, "Content-Type", http_content_type(path));
	/* Exactly one of the two runs: on_complete clears the close callback. */
	evhttp_request_set_on_complete_cb(req, http_on_complete, x);
	evhttp_connection_set_closecb(x->conn, http_on_close, x);
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
	/* evhttp writes from the loop, never before evhttp_send_reply returns: x is alive. */
	if (x->size > 0 && x->live_id != 0)
		x->watch = evbuffer_add_cb(x->out, http_on_output, x);
}

static void http_on_request(struct evhttp_request *req, void *arg)
{
	struct http_server *s = arg;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *raw = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	struct vfs_client cl = {0};
	struct vfs_file f;
	size_t plen = 0;
	const char *reason = "Internal Server Error";

	metric_inc(&s->d->metrics, METRIC_HTTP_REQUESTS);
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
		http_error(s, req, 405, "Method Not Allowed");
		return;
	}
	char *path = raw != NULL ? evhttp_uridecode(raw, 0, &plen) : NULL;
	/* A decoded NUL would cut the path short: refuse it outright. */
	if (path == NULL || strlen(path) != plen) {
		free(path);
		http_error(s, req, 400, "Bad Request");
		return;
	}
	if (strcmp(path, "/metrics") == 0) {
		free(path);
		http_serve_metrics(s, req);
		return;
	}
	if (strncmp(path, "/api/", 5) == 0) {
		http_api_handle(s->api, req, path);
		free(path);
		return;
	}
	/* The dashboard's files; "/" too, unless http.root has an index.html: then it is that. */
	if (dashboard_handle(req, path, s->d->conf->http_root)) {
		free(path);
		return;
	}
	char *index = strcmp(path, "/") == 0 ? realloc(path, sizeof("/index.html")) : NULL;
	if (index != NULL)
		path = strcpy(index, "/index.html");
	http_peer(req, &cl.ip, &cl.server_ip);
	int rc = vfs_open(s->d->conf, VFS_ROOT_HTTP, path, &cl, &f);
	struct http_xfer *x = rc == 0 ? calloc(1, sizeof(*x)) : NULL;
	if (rc < 0 || x == NULL) {
		char esc[200];
		int code = rc < 0 ? http_vfs_status(rc, &reason) : 500;
		log_info("http", "%s %s: %d", cmd == EVHTTP_REQ_HEAD ? "HEAD" : "GET",
			 log_escape(esc, sizeof(esc), path, strlen(path)), code);
		if (rc < 0)
			http_report_refusal(s, cl.ip, esc, code, reason);
		if (rc == 0)
			vfs_file_close(&f);
		free(path);
		http_error(s, req, code, reason);
		return;
	}
	*x = (struct http_xfer){.s = s, .ip = cl.ip, .start_us = now_mono_us()};
	char esc[200];
	snprintf(x->detail, sizeof(x->detail), "%s %s%s", f.what,
		 log_escape(esc, sizeof(esc), path, strlen(path)),
		 cmd == EVHTTP_REQ_HEAD ? " (HEAD)" : "");
	snprintf(x->file, sizeof(x->file), "%s", esc[0] == '/' ? esc + 1 : esc);
	http_send_file(s, req, &f, x, path);
	free(path);
}

int http_server_start(struct pxed *d, uint32_t ip, uint16_t port, struct http_server **out)
{
	struct http_server *s = calloc(1, sizeof(*s));
	char ips[16];

	if (s == NULL)
		return -ENOMEM;
	s->d = d;
	s->http = evhttp_new(d->base);
	if (s->http == NULL || http_api_new(d, &s->api) < 0) {
		http_server_stop(s);
		return -ENOMEM;
	}
	evhttp_set_max_headers_size(s->http, HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(s->http, HTTP_MAX_BODY);
	evhttp_set_timeout(s->http, HTTP_TIMEOUT_S);
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
						EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_gencb(s->http, http_on_request, s);
	if (evhttp_bind_socket(s->http, ip4_format(ips, ip), port) != 0) {
		int err = errno ? errno : EADDRINUSE;
		http_server_stop(s);
		return -err;
	}
	*out = s;
	return 0;
}

void http_server_stop(struct http_server *s)
{
	if (s == NULL)
		return;
	/* Freeing the connections reports the transfers cut short and closes the streams. */
	if (s->http != NULL)
		evhttp_free(s->http);
	http_api_free(s->api);
	free(s);
}
