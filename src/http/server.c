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
#include "core/log.h"
#include "core/util.h"
#include "obs/obs.h"
#include "pxed.h"

#define HTTP_MAX_HEADERS 8192
#define HTTP_MAX_BODY 65536
#define HTTP_TIMEOUT_S 60

struct http_server {
	struct pxed *d;
	struct evhttp *http;
};

/* What we remember about one request until its response has been sent. */
struct http_xfer {
	struct http_server *s;
	uint32_t ip;
	uint64_t start_us;
	uint64_t bytes;
	char detail[300];
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

static void http_serve_metrics(struct http_server *s, struct evhttp_request *req)
{
	char *text = malloc(65536);
	int n = text != NULL ? metrics_render(&s->d->metrics, text, 65536) : -ENOMEM;
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

/* Runs once the whole response has been written: the timeline entry. */
static void http_on_complete(struct evhttp_request *req, void *arg)
{
	struct http_xfer *x = arg;
	obs_event(x->s->d->obs, &(struct obs_event){.ip = x->ip,
						    .proto = "http",
						    .kind = "transfer",
						    .detail = x->detail,
						    .bytes = x->bytes,
						    .duration_us = now_mono_us() - x->start_us,
						    .ok = true});
	metric_add(&x->s->d->metrics, METRIC_HTTP_BYTES, x->bytes);
	free(x);
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
	x->bytes = evhttp_request_get_command(req) == EVHTTP_REQ_HEAD ? 0 : f->size;
	evhttp_add_header(h, "Content-Type", http_content_type(path));
	evhttp_request_set_on_complete_cb(req, http_on_complete, x);
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
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
	http_peer(req, &cl.ip, &cl.server_ip);
	int rc = vfs_open(s->d->conf, VFS_ROOT_HTTP, path, &cl, &f);
	struct http_xfer *x = rc == 0 ? calloc(1, sizeof(*x)) : NULL;
	if (rc < 0 || x == NULL) {
		char esc[200];
		int code = rc < 0 ? http_vfs_status(rc, &reason) : 500;
		log_info("http", "%s %s: %d", cmd == EVHTTP_REQ_HEAD ? "HEAD" : "GET",
			 log_escape(esc, sizeof(esc), path, strlen(path)), code);
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
	if (s->http == NULL) {
		free(s);
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
	if (s->http != NULL)
		evhttp_free(s->http);
	free(s);
}
