/*
 * HTTP connection limits beside libevent 2.1's evhttp, which has none of
 * its own beyond a header size and a read timeout that every byte resets:
 *   - at most http.max_connections at once, http.max_connections_per_client
 *     from one address: a connection over either is closed at once;
 *   - a request's headers must be in within http.header_timeout of the
 *     connection (or the request's first byte): a client that dribbles a
 *     byte a second cannot stretch it;
 *   - a kept-alive connection may sit idle http.idle_timeout between requests;
 *   - evhttp holds at most HTTP_CONN_READ_MAX bytes a client sent and it has
 *     not used yet: libevent 2.1.12 goes on reading while a reply is being
 *     written, and would otherwise buffer all a client sends meanwhile.
 * Event streams (/api/v1/events/stream) leave all this once they start:
 * they are long-lived by design and capped by http/api.h.
 *
 * Beneath these, evhttp's own timeout (http_conn_timeout_s) is both the
 * read and the write timeout of every connection's bufferevent. libevent
 * 2.1 keeps reading while it writes a reply (to see the client go), so its
 * read timeout, last reset by the request, would end any reply that takes
 * longer than that however fast it moves (libevent issue #715). A file's
 * body is therefore sent with the write timeout alone (http_conn_body_start:
 * a socket that takes nothing for that long is cut), and the read timeout
 * comes back when the reply is written (http_conn_body_done).
 */
#ifndef PXED_HTTP_CONN_H
#define PXED_HTTP_CONN_H

/* More than a request's headers and body may take (http/server.c's caps). */
#define HTTP_CONN_READ_MAX (128 * 1024)

struct conf;
struct pxed;
struct evhttp;
struct evhttp_connection;
struct evhttp_request;
struct http_conns;
struct http_tls;

/* Watches every connection evhttp accepts from now on. 0 or -ENOMEM. */
int http_conns_new(struct pxed *d, struct evhttp *http, struct http_conns **out);
/*
 * Watches the TLS port's connections too, in the same table: the caps count
 * both ports' connections together. http.rate_per_address also limits its
 * new connections per address, before their handshake (a table of its
 * own). tls stays the caller's. 0 or -ENOMEM.
 */
int http_conns_add_tls(struct http_conns *c, struct evhttp *https, struct http_tls *tls);
/* After evhttp_free() of both: the connections are gone, only our records remain. */
void http_conns_free(struct http_conns *c);

/* A request's headers are in: its connection is busy until the reply is written. */
void http_conns_request(struct http_conns *c, struct evhttp_request *req);
/* The request became an event stream: no timeouts, and it no longer counts. */
void http_conns_stream(struct http_conns *c, struct evhttp_request *req);

/* evhttp's timeout in seconds: 60, or 1 more than the longer of ours if that is more. */
int http_conn_timeout_s(const struct conf *cf);
/* A body is about to be written: no read timeout, a write timeout (no progress). */
void http_conn_body_start(struct evhttp_connection *conn, const struct conf *cf);
/* The body is written: evhttp's read and write timeouts again, for the next request. */
void http_conn_body_done(struct evhttp_connection *conn, const struct conf *cf);

#endif
