#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf/config.h"
#include "core/log.h"
#include "core/ratelimit.h"
#include "core/util.h"
#include "dhcp/server.h"
#include "http/api.h"
#include "http/conn.h"
#include "http/dashboard.h"
#include "http/files.h"
#include "http/tls.h"
#include "http/provision.h"
#include "obs/live.h"
#include "obs/obs.h"
#include "pxed.h"

#define HTTP_MAX_HEADERS 8192
#define HTTP_MAX_BODY 65536
/* A connection reads no more than this ahead: a whole request must fit. */
_Static_assert(HTTP_MAX_HEADERS + HTTP_MAX_BODY < HTTP_CONN_READ_MAX, "HTTP_CONN_READ_MAX");
/* /metrics: the first buffer tried, and the most it may take (64 pools of gauges fit). */
#define HTTP_METRICS_BUF (64 * 1024)
#define HTTP_METRICS_MAX (1024 * 1024)
/*
 * http.rate_per_address: requests a second from one client address, in
 * bursts of twice that. The rate table holds this many addresses (32 bytes
 * each, core/ratelimit.h); more only evict the idlest.
 */
#define HTTP_RL_ADDRESSES 4096

struct http_server {
	struct pxed *d;
	struct evhttp *http;
	struct evhttp *https;	   /* http.tls_port's, serving the same; NULL: no TLS */
	struct http_tls *tls;	   /* https's certificate and key */
	struct http_api *api;	   /* /api/v1/ */
	struct http_conns *conns;  /* connection caps and timeouts */
	struct ratelimit *rl_addr; /* requests per client address (NULL: no limit) */
	uint64_t rate_limited;	   /* requests refused so far, for the log */
};

static void http_error(struct http_server *s, struct evhttp_request *req, int code,
		       const char *reason)
{
	http_reply_error(s->d, req, code, reason);
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
 * http.rate_per_address, before any routing: a request over it is answered
 * 429 with Retry-After (a TCP peer cannot be spoofed, so an answer reflects
 * nothing), cheaply: no file is opened. An event stream counts once, as the
 * request that opens it.
 */
static bool http_within_rate(struct http_server *s, struct evhttp_request *req)
{
	const struct sockaddr *sa = evhttp_connection_get_addr(evhttp_request_get_connection(req));
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	char ipbuf[16];

	if (s->rl_addr == NULL || sa == NULL || sa->sa_family != AF_INET ||
	    ratelimit_allow(s->rl_addr, &sin->sin_addr.s_addr, 4, now_mono_us()))
		return true;
	metric_inc(&s->d->metrics, METRIC_HTTP_RATE_LIMITED);
	s->rate_limited++;
	if ((s->rate_limited & (s->rate_limited - 1)) == 0)
		log_warn("http",
			 "%s: over http.rate_per_address, answered 429 (%" PRIu64 " so far)",
			 ip4_format(ipbuf, ntohl(sin->sin_addr.s_addr)), s->rate_limited);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
	http_error(s, req, 429, "Too Many Requests");
	return false;
}

static void http_on_request(struct evhttp_request *req, void *arg)
{
	struct http_server *s = arg;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *raw = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	size_t plen = 0;

	metric_inc(&s->d->metrics, METRIC_HTTP_REQUESTS);
	http_conns_request(s->conns, req);
	if (!http_within_rate(s, req))
		return;
	/* An installer's callback is a POST (http/provision.h), which answers the rest itself. */
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD &&
	    (raw == NULL || strncmp(raw, "/callback/", 10) != 0)) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
		http_error(s, req, 405, "Method Not Allowed");
		return;
	}
	/*
	 * Decoded once: "%252e" stays "%2e" (a literal name), never "..". A
	 * decoded NUL would cut the path short: refused outright. vfs_open
	 * refuses "..", control characters, and anything outside the roots.
	 */
	char *path = raw != NULL ? evhttp_uridecode(raw, 0, &plen) : NULL;
	if (path == NULL || strlen(path) != plen || path[0] != '/') {
		free(path);
		http_error(s, req, 400, "Bad Request");
		return;
	}
	if (strcmp(path, "/metrics") == 0) {
		free(path);
		http_serve_metrics(s, req);
		return;
	}
	/* An installer's callback (http/provision.h), public: it cannot reach localhost. */
	if (provision_callback_handle(s->d, req, path)) {
		free(path);
		return;
	}
	if (strncmp(path, "/api/", 5) == 0) {
		http_api_handle(s->api, req, path);
		/* An event stream accepted (200 started, not refused): it lives on its own. */
		if (strcmp(path, "/api/v1/events/stream") == 0 &&
		    evhttp_request_get_response_code(req) == 200)
			http_conns_stream(s->conns, req);
		free(path);
		return;
	}
	/* The dashboard's files; "/" too, unless http.root has an index.html: then it is that. */
	if (dashboard_handle(req, path, s->d->conf->http_root)) {
		free(path);
		return;
	}
	http_files_serve(s->d, req, strcmp(path, "/") == 0 ? "/index.html" : path);
	free(path);
}

/* One listener's evhttp: both ports get the same caps, timeouts and routes. */
static void http_setup(struct http_server *s, struct evhttp *http)
{
	evhttp_set_max_headers_size(http, HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(http, HTTP_MAX_BODY);
	/*
	 * evhttp's own timeout, a backstop: a socket that takes nothing for it
	 * (write), and time since the last bytes in (read), which libevent
	 * 2.1 leaves running while a reply is written: file bodies are sent
	 * without it (http/conn.h). Ours end slow requests and idle
	 * connections before it.
	 */
	evhttp_set_timeout(http, http_conn_timeout_s(s->d->conf));
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
					     EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_gencb(http, http_on_request, s);
}

static int http_bind(struct evhttp *http, uint32_t ip, uint16_t port)
{
	char ips[16];

	if (evhttp_bind_socket(http, ip4_format(ips, ip), port) != 0)
		return errno ? -errno : -EADDRINUSE;
	return 0;
}

/*
 * http.tls_cert and http.tls_key: a second listener on http.tls_port. The
 * key is read now, before privileges are dropped: it may be root's alone.
 */
static int http_tls_start(struct http_server *s, uint32_t ip)
{
	const struct conf *cf = s->d->conf;
	char why[512], ips[16];
	int rc;

	rc = http_tls_new(s->d, cf->http_tls_cert, cf->http_tls_key, &s->tls, why, sizeof(why));
	if (rc < 0) {
		log_err("http", "HTTPS: %s", why);
		return rc;
	}
	if ((s->https = evhttp_new(s->d->base)) == NULL ||
	    http_conns_add_tls(s->conns, s->https, s->tls) < 0)
		return -ENOMEM;
	http_setup(s, s->https);
	rc = http_bind(s->https, ip, cf->http_tls_port);
	if (rc < 0) {
		log_err("http", "HTTPS on %s:%u: %s", ip4_format(ips, ip), cf->http_tls_port,
			strerror(-rc));
		return rc;
	}
	log_info("http", "HTTPS on %s:%u", ip4_format(ips, ip), cf->http_tls_port);
	return 0;
}

int http_server_start(struct pxed *d, uint32_t ip, uint16_t port, struct http_server **out)
{
	struct http_server *s = calloc(1, sizeof(*s));
	int rc;

	if (s == NULL)
		return -ENOMEM;
	s->d = d;
	s->http = evhttp_new(d->base);
	if (s->http == NULL || http_api_new(d, &s->api) < 0 ||
	    http_conns_new(d, s->http, &s->conns) < 0) {
		http_server_stop(s);
		return -ENOMEM;
	}
	if (ratelimit_from_conf(HTTP_RL_ADDRESSES, d->conf->http_rate_per_address, &s->rl_addr) <
	    0) {
		http_server_stop(s);
		return -ENOMEM;
	}
	http_setup(s, s->http);
	rc = http_bind(s->http, ip, port);
	if (rc == 0 && d->conf->http_tls_cert != NULL)
		rc = http_tls_start(s, ip);
	if (rc < 0) {
		http_server_stop(s);
		return rc;
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
	if (s->https != NULL)
		evhttp_free(s->https);
	http_tls_free(s->tls);
	http_api_free(s->api);
	http_conns_free(s->conns);
	if (s->rate_limited > 0)
		log_info("http", "%" PRIu64 " requests answered 429: over http.rate_per_address",
			 s->rate_limited);
	ratelimit_free(s->rl_addr);
	free(s);
}
