#include "http/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "conf/config.h"
#include "core/log.h"
#include "core/ratelimit.h"
#include "core/util.h"
#include "http/tls.h"
#include "pxed.h"

/*
 * libevent 2.1 tells us of a new connection only through evhttp_set_bevcb
 * (we make its bufferevent, before evhttp gives it the socket) and of its
 * end not at all until a request has been seen (evhttp_connection_set_closecb,
 * which the transfers and the event streams use for themselves). So:
 *   - each bufferevent we make gets a record, admitted in the same loop turn
 *     once evhttp has set its socket (the admit event runs before any read);
 *   - a record knows its socket by descriptor and inode: a record whose
 *     descriptor is closed, or now names another socket, is stale. Stale
 *     records are dropped when their timer fires (a busy record's every
 *     CONN_BUSY_CHECK_S), and before a cap refuses a connection: the
 *     client's own records for its cap, all of them for the global cap, so
 *     a cap counts live connections and a refusal costs one fstat per
 *     record of that client, not one per record of the table;
 *   - the bufferevent's buffers tell the state: bytes in while idle start a
 *     request's deadline; the output drained while busy ends the reply.
 */
/* How often a busy record checks that its socket is still there. */
#define CONN_BUSY_CHECK_S 600
/* evhttp's timeout when ours are shorter: a socket that takes nothing this long is cut. */
#define CONN_EVHTTP_TIMEOUT_S 60
/*
 * http.rate_per_address on the TLS port's new connections: addresses in
 * its table (32 bytes each, core/ratelimit.h); more only evict the idlest.
 */
#define CONN_TLS_RL_ADDRESSES 4096

enum http_conn_state {
	CONN_NEW,     /* made, not yet admitted */
	CONN_HEADERS, /* a request is being read: the header deadline runs */
	CONN_BUSY,    /* a request is being answered: the stale check runs */
	CONN_IDLE,    /* kept alive between requests: the idle timer runs */
};

static const char *const conn_state_names[] = {
    [CONN_NEW] = "new", [CONN_HEADERS] = "headers", [CONN_BUSY] = "busy", [CONN_IDLE] = "idle"};

struct http_conn {
	struct http_conns *owner;
	struct http_conn *next_new; /* in owner->fresh until admitted */
	struct bufferevent *bev;    /* evhttp's; touched only while the socket is ours */
	struct evbuffer_cb_entry *in_watch, *out_watch;
	struct event *timer;
	int fd;
	dev_t dev;
	ino_t ino;
	uint32_t ip; /* host order; 0: not IPv4 */
	enum http_conn_state state;
	bool refuse; /* a plain bufferevent on the TLS port (no memory for OpenSSL's) */
	bool tls;    /* on the TLS port: its handshakes are rate limited */
};

struct http_conns {
	struct pxed *d;
	struct event *admit;	  /* admits the records in fresh */
	struct http_conn *fresh;  /* made this loop turn */
	struct http_conn **table; /* admitted, at most cap */
	size_t n, cap;
	struct http_tls *tls; /* the TLS port's (http/server.c's); NULL: none */
	/* http.rate_per_address, for TLS handshakes (NULL: no limit). */
	struct ratelimit *rl_tls;
	uint64_t tls_rate_refused; /* so far, for the log */
};

static void conn_free(struct http_conn *k)
{
	if (k->timer != NULL)
		event_free(k->timer);
	free(k);
}

/* The socket is still the one admitted (not closed, not reused). */
static bool conn_alive(const struct http_conn *k)
{
	struct stat st;
	return k->fd >= 0 && fstat(k->fd, &st) == 0 && st.st_dev == k->dev && st.st_ino == k->ino;
}

/* Forgets k; live: the socket is still open, so its buffers' callbacks go too. */
static void conns_drop(struct http_conns *c, struct http_conn *k, bool live)
{
	for (size_t i = 0; i < c->n; i++) {
		if (c->table[i] == k) {
			c->table[i] = c->table[--c->n];
			break;
		}
	}
	if (live && k->in_watch != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_input(k->bev), k->in_watch);
	if (live && k->out_watch != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_output(k->bev), k->out_watch);
	conn_free(k);
}

/* The one place a record changes state; it arms or clears the timer. */
static void conn_set_state(struct http_conn *k, enum http_conn_state st)
{
	const struct conf *cf = k->owner->d->conf;
	struct timeval tv = {0};

	k->state = st;
	switch (st) {
	case CONN_HEADERS:
		tv.tv_sec = cf->http_header_timeout_s;
		evtimer_add(k->timer, &tv);
		break;
	case CONN_IDLE:
		tv.tv_sec = cf->http_idle_timeout_s;
		evtimer_add(k->timer, &tv);
		break;
	case CONN_BUSY:
		/* A reply may take hours: the timer only drops a record whose socket went. */
		tv.tv_sec = CONN_BUSY_CHECK_S;
		evtimer_add(k->timer, &tv);
		break;
	case CONN_NEW:
		evtimer_del(k->timer);
		break;
	}
}

static void conn_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *k = arg;
	struct http_conns *c = k->owner;
	char ip[16];

	if (!conn_alive(k)) {
		conns_drop(c, k, false);
		return;
	}
	if (k->state == CONN_BUSY) {
		conn_set_state(k, CONN_BUSY);
		return;
	}
	metric_inc(&c->d->metrics, k->state == CONN_HEADERS ? METRIC_HTTP_HEADER_TIMEOUT
							    : METRIC_HTTP_IDLE_TIMEOUT);
	http_tls_bev_cut(k->bev); /* counted here, not as a failed handshake */
	log_debug("http", "%s: connection closed after %u s (%s)", ip4_format(ip, k->ip),
		  k->state == CONN_HEADERS ? c->d->conf->http_header_timeout_s
					   : c->d->conf->http_idle_timeout_s,
		  k->state == CONN_HEADERS ? "no whole request" : conn_state_names[k->state]);
	/* evhttp reads the end of the stream and frees the connection itself. */
	shutdown(k->fd, SHUT_RDWR);
	conns_drop(c, k, true);
}

/* Bytes came in: an idle connection starts a request, and its deadline. */
static void conn_on_input(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	struct http_conn *k = arg;

	if (info->n_added > 0 && k->state == CONN_IDLE)
		conn_set_state(k, CONN_HEADERS);
}

/* The socket took the last of a reply: the connection waits for the next request. */
static void conn_on_output(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	struct http_conn *k = arg;

	if (k->state != CONN_BUSY || info->n_deleted == 0 || evbuffer_get_length(b) != 0)
		return;
	/* A request already (partly) in: its deadline runs from now. */
	conn_set_state(k, evbuffer_get_length(bufferevent_get_input(k->bev)) > 0 ? CONN_HEADERS
										 : CONN_IDLE);
}

/*
 * Closes a connection evhttp has not read from yet: the client sees the end
 * at once, and what it already sent is thrown away (Linux still hands out
 * data queued before SHUT_RD), so evhttp reads only the end and frees the
 * connection without answering anything.
 */
static void conn_refuse(int fd)
{
	char sink[4096];

	shutdown(fd, SHUT_RDWR);
	for (int i = 0; i < 16 && recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; i++)
		;
}

/* Connections from ip, stale ones included. */
static size_t conns_from(const struct http_conns *c, uint32_t ip)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n; i++)
		n += c->table[i]->ip == ip;
	return n;
}

/* Drops the stale records (a socket closed, or reused for another): all, or ip's. */
static void conns_prune(struct http_conns *c, bool all, uint32_t ip)
{
	for (size_t i = c->n; i-- > 0;)
		if ((all || c->table[i]->ip == ip) && !conn_alive(c->table[i]))
			conns_drop(c, c->table[i], false);
}

/*
 * The cap k would exceed, or METRIC_COUNT. Before refusing, the records
 * that cap counts are checked and the stale ones dropped: the client's for
 * its own cap, every record only when the table is full.
 */
static enum metric_id conns_over(struct http_conns *c, uint32_t ip)
{
	const struct conf *cf = c->d->conf;

	if (c->n >= c->cap)
		conns_prune(c, true, 0);
	if (c->n >= c->cap)
		return METRIC_HTTP_CONN_REFUSED_MAX;
	if (conns_from(c, ip) >= cf->http_max_per_client)
		conns_prune(c, false, ip);
	if (conns_from(c, ip) >= cf->http_max_per_client)
		return METRIC_HTTP_CONN_REFUSED_CLIENT;
	return METRIC_COUNT;
}

/*
 * Does evhttp still hold k's bufferevent? When it fails to set up a
 * connection (no memory for the request, say) it frees the bufferevent in
 * the loop turn that made it, before this record is admitted. The memory
 * outlives that: bufferevent_free() clears the callbacks and deletes the
 * events at once, but libevent 2.1 releases the memory in a finalizer that
 * it queues as an active callback, at the default priority, behind the
 * admit event, which conns_make_bev activated earlier. A bufferevent
 * evhttp uses always has its error callback set. Holding a reference
 * instead (bufferevent_incref) would keep the freed one's read event
 * registered on a descriptor number the next accept may reuse.
 */
static bool conn_kept(const struct http_conn *k)
{
	bufferevent_event_cb on_event = NULL;

	bufferevent_getcb(k->bev, NULL, NULL, &on_event, NULL);
	return on_event != NULL;
}

/*
 * A TLS handshake costs the server a signature (RSA-2048: about 1 ms of
 * CPU), and the peer far less: http.rate_per_address applies to the TLS
 * port's new connections, per address, before any byte of the handshake
 * is read. A TCP peer cannot be spoofed, so one address cannot use up
 * another's. Over the rate, the connection is closed and counted.
 */
static bool conns_tls_within_rate(struct http_conns *c, const struct http_conn *k)
{
	uint32_t key = htonl(k->ip);
	char ips[16];

	if (!k->tls || c->rl_tls == NULL || k->ip == 0 ||
	    ratelimit_allow(c->rl_tls, &key, sizeof(key), now_mono_us()))
		return true;
	metric_inc(&c->d->metrics, METRIC_HTTP_CONN_REFUSED_TLS_RATE);
	c->tls_rate_refused++;
	if ((c->tls_rate_refused & (c->tls_rate_refused - 1)) == 0)
		log_warn("http",
			 "%s: TLS connections over http.rate_per_address, closed (%" PRIu64
			 " so far)",
			 ip4_format(ips, k->ip), c->tls_rate_refused);
	return false;
}

static void conns_admit_one(struct http_conns *c, struct http_conn *k)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	struct stat st;
	char ips[16];

	if (!conn_kept(k)) {
		conn_free(k);
		return;
	}
	k->fd = bufferevent_getfd(k->bev);
	if (k->fd < 0 || fstat(k->fd, &st) < 0) {
		conn_free(k); /* evhttp failed to set it up */
		return;
	}
	if (k->refuse) {
		conn_refuse(k->fd);
		conn_free(k);
		return;
	}
	k->dev = st.st_dev;
	k->ino = st.st_ino;
	if (getpeername(k->fd, (struct sockaddr *)&sa, &sl) == 0 && sa.sin_family == AF_INET)
		k->ip = ntohl(sa.sin_addr.s_addr);
	if (!conns_tls_within_rate(c, k)) {
		http_tls_bev_cut(k->bev);
		conn_refuse(k->fd);
		conn_free(k);
		return;
	}
	/* A record with this socket or this bufferevent is stale: both are unique while alive. */
	for (size_t i = c->n; i-- > 0;)
		if (c->table[i]->fd == k->fd || c->table[i]->bev == k->bev)
			conns_drop(c, c->table[i], false);
	enum metric_id over = conns_over(c, k->ip);
	if (over != METRIC_COUNT) {
		metric_inc(&c->d->metrics, over);
		log_debug("http", "%s: connection refused: %s", ip4_format(ips, k->ip),
			  over == METRIC_HTTP_CONN_REFUSED_MAX ? "http.max_connections"
							       : "http.max_connections_per_client");
		http_tls_bev_cut(k->bev);
		conn_refuse(k->fd);
		conn_free(k);
		return;
	}
	metric_inc(&c->d->metrics, METRIC_HTTP_CONN_ACCEPTED);
	c->table[c->n++] = k;
	log_debug("http", "%s: connection %zu of %zu", ip4_format(ips, k->ip), c->n, c->cap);
	k->in_watch = evbuffer_add_cb(bufferevent_get_input(k->bev), conn_on_input, k);
	k->out_watch = evbuffer_add_cb(bufferevent_get_output(k->bev), conn_on_output, k);
	conn_set_state(k, CONN_HEADERS);
}

static void conns_admit(evutil_socket_t fd, short what, void *arg)
{
	struct http_conns *c = arg;
	struct http_conn *k;

	while ((k = c->fresh) != NULL) {
		c->fresh = k->next_new;
		conns_admit_one(c, k);
	}
}

/*
 * Records bev, a bufferevent with no socket yet (evhttp sets it next).
 * Without memory for the record the connection goes unwatched, as before.
 */
static struct bufferevent *conns_watch_bev(struct http_conns *c, struct event_base *base,
					   struct bufferevent *bev, bool refuse, bool tls)
{
	struct http_conn *k = bev != NULL ? calloc(1, sizeof(*k)) : NULL;

	/* evhttp stops reading past this until it has used what it read (http/conn.h). */
	if (bev != NULL)
		bufferevent_setwatermark(bev, EV_READ, 0, HTTP_CONN_READ_MAX);
	if (k == NULL)
		return bev;
	*k = (struct http_conn){
	    .owner = c, .bev = bev, .fd = -1, .state = CONN_NEW, .refuse = refuse, .tls = tls};
	if ((k->timer = evtimer_new(base, conn_on_timer, k)) == NULL) {
		free(k);
		return bev;
	}
	k->next_new = c->fresh;
	c->fresh = k;
	event_active(c->admit, EV_TIMEOUT, 0);
	return bev;
}

/* evhttp's bevcb for the plain port. */
static struct bufferevent *conns_make_bev(struct event_base *base, void *arg)
{
	return conns_watch_bev(arg, base, bufferevent_socket_new(base, -1, 0), false, false);
}

/*
 * The TLS port's: the same record, on OpenSSL's bufferevent. A client that
 * never ends its handshake sends no request: http.header_timeout cuts it.
 */
static struct bufferevent *conns_make_tls_bev(struct event_base *base, void *arg)
{
	struct http_conns *c = arg;
	struct bufferevent *bev = http_tls_bev_new(c->tls, base);

	/* Given none, evhttp would make a plain one: this one is closed as it is admitted. */
	if (bev == NULL)
		return conns_watch_bev(c, base, bufferevent_socket_new(base, -1, 0), true, true);
	return conns_watch_bev(c, base, bev, false, true);
}

static struct http_conn *conns_find(struct http_conns *c, struct evhttp_request *req)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent *bev = conn != NULL ? evhttp_connection_get_bufferevent(conn) : NULL;

	for (size_t i = 0; bev != NULL && i < c->n; i++)
		if (c->table[i]->bev == bev)
			return c->table[i];
	return NULL;
}

void http_conns_request(struct http_conns *c, struct evhttp_request *req)
{
	struct http_conn *k = conns_find(c, req);

	if (k != NULL)
		conn_set_state(k, CONN_BUSY);
	else
		log_debug("http", "a request on a connection not watched (refused, or no memory)");
}

void http_conns_stream(struct http_conns *c, struct evhttp_request *req)
{
	struct http_conn *k = conns_find(c, req);

	if (k != NULL)
		conns_drop(c, k, true);
}

int http_conn_timeout_s(const struct conf *cf)
{
	uint32_t ours = cf->http_header_timeout_s > cf->http_idle_timeout_s
			    ? cf->http_header_timeout_s
			    : cf->http_idle_timeout_s;

	/* Longer than ours, which must end slow and idle connections first (and count them). */
	return ours >= CONN_EVHTTP_TIMEOUT_S ? (int)ours + 1 : CONN_EVHTTP_TIMEOUT_S;
}

void http_conn_body_start(struct evhttp_connection *conn, const struct conf *cf)
{
	const struct timeval tv = {.tv_sec = http_conn_timeout_s(cf)};

	/* The write event's timeout restarts each time the socket takes some: no progress. */
	bufferevent_set_timeouts(evhttp_connection_get_bufferevent(conn), NULL, &tv);
}

void http_conn_body_done(struct evhttp_connection *conn, const struct conf *cf)
{
	const struct timeval tv = {.tv_sec = http_conn_timeout_s(cf)};

	/* As evhttp_set_timeout left it; the read timeout starts again from now. */
	bufferevent_set_timeouts(evhttp_connection_get_bufferevent(conn), &tv, &tv);
}

int http_conns_new(struct pxed *d, struct evhttp *http, struct http_conns **out)
{
	struct http_conns *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -ENOMEM;
	c->d = d;
	c->cap = d->conf->http_max_connections;
	c->table = calloc(c->cap, sizeof(*c->table));
	c->admit = event_new(d->base, -1, 0, conns_admit, c);
	if (c->table == NULL || c->admit == NULL) {
		http_conns_free(c);
		return -ENOMEM;
	}
	evhttp_set_bevcb(http, conns_make_bev, c);
	*out = c;
	return 0;
}

int http_conns_add_tls(struct http_conns *c, struct evhttp *https, struct http_tls *tls)
{
	/* A table of its own: a handshake does not use up a request's token. */
	int rc = ratelimit_from_conf(CONN_TLS_RL_ADDRESSES, c->d->conf->http_rate_per_address,
				     &c->rl_tls);

	if (rc < 0)
		return rc;
	c->tls = tls;
	evhttp_set_bevcb(https, conns_make_tls_bev, c);
	return 0;
}

void http_conns_free(struct http_conns *c)
{
	struct http_conn *k;

	if (c == NULL)
		return;
	while ((k = c->fresh) != NULL) {
		c->fresh = k->next_new;
		conn_free(k);
	}
	for (size_t i = 0; i < c->n; i++)
		conn_free(c->table[i]);
	if (c->admit != NULL)
		event_free(c->admit);
	if (c->tls_rate_refused > 0)
		log_info("http", "%" PRIu64 " TLS connections closed: over http.rate_per_address",
			 c->tls_rate_refused);
	ratelimit_free(c->rl_tls);
	free(c->table);
	free(c);
}
