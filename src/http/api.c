/*
 * The read-only JSON API (docs/api.md). Replies are built with jansson and
 * sent whole, except the event stream: a chunked reply kept open, fed by
 * obs/live.h's subscribers, with a comment line every API_KEEPALIVE_S so
 * that proxies and the client know it is alive.
 *
 * A stream ends when the client closes it (noticed at once: each stream
 * watches its socket itself, as evhttp goes on reading while it writes but
 * tells no one what it read; it buffers at most HTTP_CONN_READ_MAX of it,
 * so a client that sends rather than reads is noticed then at the latest),
 * when it stops reading (API_STREAM_BACKLOG_MAX bytes waiting), or when the
 * daemon stops. Whichever way, evhttp frees the connection and its close
 * callback frees the stream: one close path.
 */
#include "http/api.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

#include "boot/policy.h"
#include "conf/config.h"
#include "core/log.h"
#include "core/util.h"
#include "dhcp/rogue.h"
#include "dhcp/server.h"
#include "http/discovered.h"
#include "obs/explain.h"
#include "obs/live.h"
#include "obs/obs.h"
#include "pxed.h"
#include "store/machines.h"
#include "store/store.h"

#define API_KEEPALIVE_S 15
/* A stream whose client lets this much pile up unread is dropped. */
#define API_STREAM_BACKLOG_MAX (1u << 20)
/* A stream's socket may take this long to accept what is queued. */
#define API_STREAM_WRITE_TIMEOUT_S 60
/* Machines in /api/v1/status, and how far back in the events it looks for them. */
#define API_STATUS_MACHINES 50
#define API_STATUS_SCAN 20000
#define API_MACHINES_MAX 500
/* Events of a machine's last session read per machine in lists, and for one machine. */
#define API_SUMMARY_EVENTS 64
#define API_TIMELINE_EVENTS 1000
/* A machine with boot activity this recent and no outcome yet is "booting". */
#define API_BOOTING_US (120 * 1000000ll)
#define API_POOLS_MAX 64

struct api_stream {
	struct http_api *api;
	struct api_stream *prev, *next;
	struct evhttp_request *req;
	struct evhttp_connection *conn;
	struct event *tick; /* keep-alive comments; also the deferred close */
	struct event *eof;  /* the client's end of the socket */
	bool closing;	    /* being dropped: nothing more is written */
};

struct http_api {
	struct pxed *d;
	struct api_stream *streams; /* open streams, owned here */
	size_t n_streams;
	struct store_machines *machines; /* opened on first use */
};

/* ---- JSON values ---------------------------------------------------------- */

/* RFC 3339, UTC, milliseconds: 2026-11-23T17:40:00.123Z. */
static json_t *api_time(int64_t us)
{
	char buf[40];
	time_t s = (time_t)(us / 1000000);
	struct tm tm;
	size_t n;

	if (us < 0 || gmtime_r(&s, &tm) == NULL)
		return json_null();
	n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof(buf) - n, ".%03dZ", (int)((us / 1000) % 1000));
	return json_string(buf);
}

static json_t *api_mac(const uint8_t mac[6], bool has)
{
	char s[18];
	return has ? json_string(mac_format(s, mac)) : json_null();
}

static json_t *api_ip(uint32_t ip)
{
	char s[16];
	return ip != 0 ? json_string(ip4_format(s, ip)) : json_null();
}

/* Stored text is escaped ASCII; anything else would be our bug: never a NULL value. */
static json_t *api_str(const char *s)
{
	json_t *j = json_string(s);
	return j != NULL ? j : json_string("?");
}

static json_t *api_uint(uint64_t v)
{
	return json_integer(v > (uint64_t)INT64_MAX ? INT64_MAX : (json_int_t)v);
}

/* One event as docs/api.md shows it; seq 0 leaves "seq" out, t0 < 0 "offset_ms". */
static json_t *api_event(uint64_t seq, const struct store_event *e, int64_t t0_us)
{
	json_t *o = json_object();

	if (seq != 0)
		json_object_set_new(o, "seq", api_uint(seq));
	json_object_set_new(o, "time", api_time(e->ts_us));
	if (t0_us >= 0)
		json_object_set_new(o, "offset_ms", json_integer((e->ts_us - t0_us) / 1000));
	json_object_set_new(o, "mac", api_mac(e->mac, e->has_mac));
	json_object_set_new(o, "ip", api_ip(e->ip));
	json_object_set_new(o, "proto", api_str(e->proto));
	json_object_set_new(o, "kind", api_str(e->kind));
	json_object_set_new(o, "detail", api_str(e->detail));
	json_object_set_new(o, "bytes", api_uint(e->bytes));
	json_object_set_new(o, "duration_ms", api_uint(e->duration_us / 1000));
	json_object_set_new(o, "ok", json_boolean(e->ok));
	json_object_set_new(o, "expected", json_boolean(e->expected));
	return o;
}

/* ---- replies -------------------------------------------------------------- */

static void api_send(struct http_api *a, struct evhttp_request *req, int code, const char *reason,
		     json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT);
	struct evbuffer *b = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	json_decref(body);
	if (text == NULL || b == NULL) {
		free(text);
		if (b != NULL)
			evbuffer_free(b);
		code = 500;
		reason = "Internal Server Error";
		text = strdup("{\"error\":\"out of memory\"}");
		b = evbuffer_new();
	}
	if (code >= 400)
		metric_inc(&a->d->metrics, METRIC_HTTP_ERRORS);
	evhttp_add_header(h, "Content-Type", "application/json; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (b != NULL && text != NULL) {
		evbuffer_add(b, text, strlen(text));
		evbuffer_add(b, "\n", 1);
	}
	evhttp_send_reply(req, code, reason, b);
	if (b != NULL)
		evbuffer_free(b);
	free(text);
}

static void api_error(struct http_api *a, struct evhttp_request *req, int code, const char *reason,
		      const char *why)
{
	api_send(a, req, code, reason, json_pack("{s:s}", "error", why));
}

/*
 * ?since=SEQ, or else the Last-Event-ID header (a reconnecting EventSource).
 * 0 when absent; -EINVAL when malformed. A SEQ beyond the newest event
 * means the daemon restarted since (sequence numbers start again at 1):
 * everything in memory is new to that client.
 */
static int api_since(struct http_api *a, struct evhttp_request *req, uint64_t *since)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	const char *v = NULL;
	struct evkeyvalq params;
	int rc = 0;

	*since = 0;
	TAILQ_INIT(&params);
	if (query != NULL && evhttp_parse_query_str(query, &params) < 0)
		return -EINVAL;
	v = evhttp_find_header(&params, "since");
	if (v == NULL)
		v = evhttp_find_header(evhttp_request_get_input_headers(req), "Last-Event-ID");
	if (v != NULL && parse_u64(v, 0, UINT64_MAX, since) < 0)
		rc = -EINVAL;
	evhttp_clear_headers(&params);
	if (rc == 0 && a->d->live != NULL && *since > obs_live_last_seq(a->d->live))
		*since = 0;
	return rc;
}

/* ---- /api/v1/status --------------------------------------------------------- */

/* The transfers in progress, oldest first: a copy the caller frees (NULL: none, or no memory). */
struct api_live {
	struct obs_transfer *t;
	size_t n;
};

static void api_live_take(struct http_api *a, struct api_live *l)
{
	l->n = 0;
	l->t = a->d->live != NULL ? calloc(OBS_LIVE_TRANSFERS, sizeof(*l->t)) : NULL;
	if (l->t != NULL)
		l->n = obs_transfers(a->d->live, l->t, OBS_LIVE_TRANSFERS);
}

static json_t *api_transfers(const struct api_live *l)
{
	json_t *arr = json_array();
	const struct obs_transfer *t = l->t;

	for (size_t i = 0; i < l->n; i++) {
		json_t *o =
		    json_pack("{s:s, s:o, s:o, s:s, s:s, s:o, s:o, s:o}", "proto", t[i].proto,
			      "mac", api_mac(t[i].mac, t[i].has_mac), "ip", api_ip(t[i].ip), "file",
			      t[i].path, "what", t[i].what, "size", api_uint(t[i].size), "bytes",
			      api_uint(t[i].bytes), "started", api_time((int64_t)t[i].start_us));
		if (o != NULL && strcmp(t[i].proto, "tftp") == 0) {
			json_object_set_new(o, "blksize", json_integer(t[i].blksize));
			json_object_set_new(o, "windowsize", json_integer(t[i].windowsize));
		}
		if (o != NULL)
			json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *api_pools(struct http_api *a)
{
	struct dhcp_pool_usage u[API_POOLS_MAX];
	json_t *arr = json_array();
	size_t n = a->d->dhcp != NULL ? dhcp_server_pools(a->d->dhcp, u, API_POOLS_MAX) : 0;

	for (size_t i = 0; i < n; i++) {
		char net[16], subnet[24];
		snprintf(subnet, sizeof(subnet), "%s/%d", ip4_format(net, u[i].network),
			 u[i].prefix_len);
		json_array_append_new(
		    arr, json_pack("{s:s, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I}", "subnet",
				   subnet, "first", api_ip(u[i].first), "last", api_ip(u[i].last),
				   "size", (json_int_t)u[i].size, "leased", (json_int_t)u[i].leased,
				   "offered", (json_int_t)u[i].offered, "declined",
				   (json_int_t)u[i].declined, "reserved", (json_int_t)u[i].reserved,
				   "free", (json_int_t)u[i].free));
	}
	return arr;
}

static json_t *api_rogues(struct http_api *a)
{
	struct rogue_server r[ROGUE_MAX];
	json_t *arr = json_array();
	size_t n = a->d->rogue != NULL ? rogue_list(a->d->rogue, r, ROGUE_MAX) : 0;

	for (size_t i = 0; i < n; i++) {
		char iface[sizeof(r[i].interface) * 4 + 1];
		log_escape(iface, sizeof(iface), r[i].interface, strnlen(r[i].interface, 16));
		json_array_append_new(
		    arr, json_pack(
			     "{s:o, s:o, s:s, s:o, s:o, s:I, s:o, s:o}", "server_ip",
			     api_ip(r[i].server_ip), "server_mac", api_mac(r[i].server_mac, true),
			     "interface", iface, "first_seen", api_time((int64_t)r[i].first_us),
			     "last_seen", api_time((int64_t)r[i].last_us), "replies",
			     (json_int_t)r[i].replies, "last_offered", api_ip(r[i].last_offered_ip),
			     "last_client", api_mac(r[i].last_client_mac, true)));
	}
	return arr;
}

/* ---- machines ------------------------------------------------------------- */

/* What a machine's last session says, folded event by event. */
struct api_machine {
	const struct conf *conf;
	size_t n;
	int64_t first_us;
	struct store_event last;
	uint32_t ip;	    /* the newest address it had */
	bool booted;	    /* the profile's last file went out whole */
	bool boot_activity; /* a boot client's DHCP, or a transfer */
	char profile[64];
	const char *arch;
	json_t *timeline; /* NULL: not collected */
};

static int api_machine_fold(const struct store_event *e, void *arg)
{
	struct api_machine *m = arg;

	if (m->n++ == 0)
		m->first_us = e->ts_us;
	m->last = *e;
	if (e->ip != 0)
		m->ip = e->ip;
	m->booted |= obs_event_boots(m->conf, e);
	m->boot_activity |= e->decision[0] != '\0' || strcmp(e->kind, "transfer") == 0;
	obs_event_profile(e, m->profile, sizeof(m->profile));
	if (e->has_arch)
		m->arch = boot_arch_name(e->arch);
	if (m->timeline != NULL)
		json_array_append_new(m->timeline, api_event(0, e, m->first_us));
	return 0;
}

/* "booted", "failed", "booting" or "idle" (docs/api.md). */
static const char *api_machine_state(const struct api_machine *m, int64_t now_us)
{
	if (m->booted)
		return "booted";
	if (obs_event_fails(&m->last))
		return "failed";
	if (m->boot_activity && now_us - m->last.ts_us < API_BOOTING_US)
		return "booting";
	return "idle";
}

/* The last step in words: "tftp nbp snponly.efi", "dhcp ack 10.0.0.50". */
static void api_machine_step(const struct store_event *e, char *out, size_t cap)
{
	char ip[16];
	size_t words = strcspn(e->detail, " ");

	if (strcmp(e->kind, "transfer") == 0 && e->detail[words] == ' ')
		words += 1 + strcspn(e->detail + words + 1, " ");
	if (strcmp(e->kind, "transfer") == 0)
		snprintf(out, cap, "%s %.*s", e->proto, (int)words, e->detail);
	else if (strcmp(e->kind, "refused") == 0)
		snprintf(out, cap, "%s refused %s", e->proto, e->file);
	else if (e->ip != 0)
		snprintf(out, cap, "%s %s %s", e->proto, e->kind, ip4_format(ip, e->ip));
	else
		snprintf(out, cap, "%s %s", e->proto, e->kind);
}

/* Reads mac's last session into m; false when it has no events (or the store failed). */
static bool api_machine_read(struct http_api *a, const uint8_t mac[6], size_t limit,
			     struct api_machine *m)
{
	m->conf = a->d->conf;
	return store_event_last_session(a->d->store, mac, limit, OBS_SESSION_GAP_US,
					api_machine_fold, m) >= 0 &&
	       m->n > 0;
}

/* mac's newest transfer in progress, or NULL. */
static const struct obs_transfer *api_live_of(const struct api_live *l, const uint8_t mac[6])
{
	const struct obs_transfer *found = NULL;

	for (size_t i = 0; l != NULL && i < l->n; i++)
		if (l->t[i].has_mac && memcmp(l->t[i].mac, mac, 6) == 0)
			found = &l->t[i];
	return found;
}

/*
 * The machine as the lists show it. A transfer in progress is its newest
 * step (the store records a transfer when it ends): the machine is booting.
 */
static json_t *api_machine_summary(const uint8_t mac[6], const struct api_machine *m,
				   const struct api_live *l, int64_t now_us)
{
	const struct obs_transfer *t = api_live_of(l, mac);
	const char *state = api_machine_state(m, now_us);
	char step[256];

	api_machine_step(&m->last, step, sizeof(step));
	if (t != NULL && strcmp(state, "booted") != 0) {
		state = "booting";
		snprintf(step, sizeof(step), "%s %s %s (in progress)", t->proto, t->what, t->path);
	}
	return json_pack("{s:o, s:o, s:o, s:s, s:s, s:o, s:o}", "mac", api_mac(mac, true), "ip",
			 api_ip(m->ip), "last_seen", api_time(t != NULL ? now_us : m->last.ts_us),
			 "state", state, "step", step, "profile",
			 m->profile[0] ? json_string(m->profile) : json_null(), "arch",
			 m->arch != NULL ? json_string(m->arch) : json_null());
}

/* The machines with the newest events, each with its state; [] when the store says nothing. */
static json_t *api_machine_list(struct http_api *a, const struct api_live *l, size_t cap,
				size_t scan)
{
	json_t *arr = json_array();
	uint8_t(*macs)[6] = calloc(cap, 6);
	int64_t now = now_wall_us();
	int n = -ENOMEM;

	if (a->machines == NULL && store_machines_open(a->d->conf->state_dir, &a->machines) < 0)
		a->machines = NULL;
	if (macs != NULL && a->machines != NULL)
		n = store_machines_recent(a->machines, scan, macs, cap);
	for (int i = 0; i < n; i++) {
		struct api_machine m = {0};
		if (api_machine_read(a, macs[i], API_SUMMARY_EVENTS, &m))
			json_array_append_new(arr, api_machine_summary(macs[i], &m, l, now));
	}
	free(macs);
	return arr;
}

static void api_status(struct http_api *a, struct evhttp_request *req)
{
	json_t *o = json_object();
	int64_t started = a->d->live != NULL ? obs_live_started_us(a->d->live) : -1;
	struct api_live l;

	api_live_take(a, &l);
	json_object_set_new(o, "version", json_string(PXED_VERSION));
	json_object_set_new(o, "started", api_time(started));
	json_object_set_new(o, "now", api_time(now_wall_us()));
	json_object_set_new(o, "transfers", api_transfers(&l));
	json_object_set_new(o, "pools", api_pools(a));
	json_object_set_new(o, "machines",
			    api_machine_list(a, &l, API_STATUS_MACHINES, API_STATUS_SCAN));
	json_object_set_new(o, "rogues", api_rogues(a));
	free(l.t);
	api_send(a, req, 200, "OK", o);
}

static void api_machines(struct http_api *a, struct evhttp_request *req)
{
	struct api_live l;

	api_live_take(a, &l);
	api_send(a, req, 200, "OK",
		 json_pack("{s:o}", "machines", api_machine_list(a, &l, API_MACHINES_MAX, 0)));
	free(l.t);
}

static void api_machine(struct http_api *a, struct evhttp_request *req, const char *macs)
{
	struct api_machine m = {.timeline = json_array()};
	uint8_t mac[6];
	json_t *o;

	if (mac_parse(macs, mac) < 0) {
		json_decref(m.timeline);
		api_error(a, req, 400, "Bad Request", "not a MAC address (like 52:54:00:12:34:56)");
		return;
	}
	if (!api_machine_read(a, mac, API_TIMELINE_EVENTS, &m)) {
		json_decref(m.timeline);
		api_error(a, req, 404, "Not Found", "no events for this MAC");
		return;
	}
	struct api_live l;
	api_live_take(a, &l);
	o = api_machine_summary(mac, &m, &l, now_wall_us());
	free(l.t);
	json_object_set_new(o, "timeline", m.timeline);
	/* What `pxed explain --json` prints; null when the store cannot be read. */
	json_t *why = explain_json(a->d->store, a->d->conf, mac);
	json_object_set_new(o, "explain", why != NULL ? why : json_null());
	api_send(a, req, 200, "OK", o);
}

/* ---- /api/v1/events ------------------------------------------------------- */

static int api_collect_event(void *arg, uint64_t seq, const struct store_event *e)
{
	json_array_append_new(arg, api_event(seq, e, -1));
	return 0;
}

static void api_events(struct http_api *a, struct evhttp_request *req)
{
	json_t *arr = json_array();
	uint64_t since;

	if (api_since(a, req, &since) < 0) {
		json_decref(arr);
		api_error(a, req, 400, "Bad Request", "since: expected a sequence number");
		return;
	}
	if (a->d->live != NULL)
		obs_live_since(a->d->live, since, api_collect_event, arr);
	api_send(a, req, 200, "OK",
		 json_pack("{s:o, s:o}", "last_seq",
			   api_uint(a->d->live != NULL ? obs_live_last_seq(a->d->live) : 0),
			   "events", arr));
}

/* ---- /api/v1/events/stream -------------------------------------------------- */

static void api_stream_write(struct api_stream *st, const char *text, size_t len)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL)
		return;
	evbuffer_add(b, text, len);
	evhttp_send_reply_chunk(st->req, b);
	evbuffer_free(b);
}

static void api_stream_on_event(void *arg, uint64_t seq, const struct store_event *e);

/* Drops the stream from the next loop turn, outside whatever is calling us now. */
static void api_stream_drop(struct api_stream *st)
{
	if (st->closing)
		return;
	st->closing = true;
	obs_live_unsubscribe(st->api->d->live, api_stream_on_event, st);
	event_del(st->eof);
	event_active(st->tick, EV_TIMEOUT, 0);
}

/* One event as SSE: id, event name, the JSON of /api/v1/events on one data line. */
static int api_stream_send(void *arg, uint64_t seq, const struct store_event *e)
{
	struct api_stream *st = arg;
	struct bufferevent *bev = evhttp_connection_get_bufferevent(st->conn);
	json_t *o;
	char *text, head[64];
	int n;

	if (st->closing)
		return 1;
	if (evbuffer_get_length(bufferevent_get_output(bev)) > API_STREAM_BACKLOG_MAX) {
		log_info("http", "event stream dropped: the client does not read");
		api_stream_drop(st);
		return 1;
	}
	o = api_event(seq, e, -1);
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		return 0;
	n = snprintf(head, sizeof(head), "id: %llu\nevent: event\ndata: ", (unsigned long long)seq);
	struct evbuffer *b = evbuffer_new();
	if (b != NULL) {
		evbuffer_add(b, head, (size_t)n);
		evbuffer_add(b, text, strlen(text));
		evbuffer_add(b, "\n\n", 2);
		evhttp_send_reply_chunk(st->req, b);
		evbuffer_free(b);
	}
	free(text);
	return 0;
}

static void api_stream_on_event(void *arg, uint64_t seq, const struct store_event *e)
{
	api_stream_send(arg, seq, e);
}

static void api_stream_tick(evutil_socket_t fd, short what, void *arg)
{
	struct api_stream *st = arg;
	static const char keepalive[] = ": keep-alive\n\n";

	if (st->closing) {
		/* The close callback frees st. */
		evhttp_connection_free(st->conn);
		return;
	}
	api_stream_write(st, keepalive, sizeof(keepalive) - 1);
}

/*
 * The client's end became readable: it closed (or reset) the connection,
 * or it sends something, which an event-stream client never does.
 */
static void api_stream_readable(evutil_socket_t fd, short what, void *arg)
{
	struct api_stream *st = arg;
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	api_stream_drop(st);
}

/* The one close path: evhttp is freeing the stream's connection. */
static void api_stream_closed(struct evhttp_connection *conn, void *arg)
{
	struct api_stream *st = arg;
	struct http_api *a = st->api;

	obs_live_unsubscribe(a->d->live, api_stream_on_event, st);
	event_free(st->tick);
	event_free(st->eof);
	if (st->prev != NULL)
		st->prev->next = st->next;
	else
		a->streams = st->next;
	if (st->next != NULL)
		st->next->prev = st->prev;
	a->n_streams--;
	/*
	 * After a network error evhttp detaches a reply still being streamed
	 * from its connection and leaves the request to us: ending the reply
	 * frees it. Otherwise the request goes with the connection.
	 */
	if (evhttp_request_get_connection(st->req) == NULL)
		evhttp_send_reply_end(st->req);
	free(st);
}

static struct api_stream *api_stream_new(struct http_api *a, struct evhttp_request *req)
{
	struct api_stream *st = calloc(1, sizeof(*st));
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	evutil_socket_t fd = bufferevent_getfd(evhttp_connection_get_bufferevent(conn));

	if (st == NULL)
		return NULL;
	st->api = a;
	st->req = req;
	st->conn = conn;
	st->tick = event_new(a->d->base, -1, EV_PERSIST, api_stream_tick, st);
	st->eof = event_new(a->d->base, fd, EV_READ | EV_PERSIST, api_stream_readable, st);
	if (st->tick == NULL || st->eof == NULL ||
	    obs_live_subscribe(a->d->live, api_stream_on_event, st) < 0) {
		if (st->tick != NULL)
			event_free(st->tick);
		if (st->eof != NULL)
			event_free(st->eof);
		free(st);
		return NULL;
	}
	return st;
}

static void api_stream(struct http_api *a, struct evhttp_request *req)
{
	const struct timeval keepalive = {API_KEEPALIVE_S, 0};
	const struct timeval write_tv = {API_STREAM_WRITE_TIMEOUT_S, 0};
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct api_stream *st;
	uint64_t since;

	if (api_since(a, req, &since) < 0) {
		api_error(a, req, 400, "Bad Request", "since: expected a sequence number");
		return;
	}
	if (a->d->live == NULL || a->n_streams >= API_MAX_STREAMS ||
	    (st = api_stream_new(a, req)) == NULL) {
		metric_inc(&a->d->metrics, METRIC_HTTP_STREAMS_REFUSED);
		evhttp_add_header(h, "Retry-After", "10");
		api_error(a, req, 503, "Service Unavailable", "too many event streams");
		return;
	}
	st->next = a->streams;
	if (a->streams != NULL)
		a->streams->prev = st;
	a->streams = st;
	a->n_streams++;
	evhttp_add_header(h, "Content-Type", "text/event-stream; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_send_reply_start(req, 200, "OK");
	evhttp_connection_set_closecb(st->conn, api_stream_closed, st);
	/* No read timeout (the client says nothing), but one for writes that never drain. */
	bufferevent_set_timeouts(evhttp_connection_get_bufferevent(st->conn), NULL, &write_tv);
	event_add(st->tick, &keepalive);
	event_add(st->eof, NULL);
	/* The retry delay for EventSource, then what the client missed. */
	api_stream_write(st, "retry: 2000\n\n", 13);
	obs_live_since(a->d->live, since, api_stream_send, st);
}

/* ---- routing -------------------------------------------------------------- */

void http_api_handle(struct http_api *a, struct evhttp_request *req, const char *path)
{
	static const char machines[] = "/api/v1/machines/";
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);

	metric_inc(&a->d->metrics, METRIC_HTTP_API_REQUESTS);
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
		api_error(a, req, 405, "Method Not Allowed", "the API is read-only here");
	} else if (strcmp(path, "/api/v1/status") == 0) {
		api_status(a, req);
	} else if (strcmp(path, "/api/v1/events") == 0) {
		api_events(a, req);
	} else if (strcmp(path, "/api/v1/events/stream") == 0) {
		if (cmd == EVHTTP_REQ_GET)
			api_stream(a, req);
		else
			api_error(a, req, 405, "Method Not Allowed",
				  "the event stream is GET only");
	} else if (strcmp(path, "/api/v1/machines") == 0) {
		api_machines(a, req);
	} else if (strncmp(path, machines, sizeof(machines) - 1) == 0) {
		api_machine(a, req, path + sizeof(machines) - 1);
	} else if (discovered_api_handle(a, req, path)) {
		/* answered by http/discovered.c */
	} else {
		api_error(a, req, 404, "Not Found", "no such API endpoint (see docs/api.md)");
	}
}

int http_api_new(struct pxed *d, struct http_api **out)
{
	struct http_api *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return -ENOMEM;
	a->d = d;
	*out = a;
	return 0;
}

void http_api_free(struct http_api *a)
{
	if (a == NULL)
		return;
	/* evhttp_free() closed every connection, and with them the streams. */
	if (a->n_streams != 0)
		log_warn("http", "%zu event streams still open at exit", a->n_streams);
	store_machines_close(a->machines);
	free(a);
}

size_t http_api_streams(const struct http_api *a)
{
	return a != NULL ? a->n_streams : 0;
}

struct pxed *http_api_daemon(const struct http_api *a)
{
	return a->d;
}

json_t *http_api_time(int64_t us)
{
	return api_time(us);
}

json_t *http_api_ip(uint32_t ip)
{
	return api_ip(ip);
}

void http_api_reply(struct http_api *a, struct evhttp_request *req, int code, const char *reason,
		    json_t *body)
{
	api_send(a, req, code, reason, body);
}

void http_api_reply_error(struct http_api *a, struct evhttp_request *req, int code,
			  const char *reason, const char *why)
{
	api_error(a, req, code, reason, why);
}
