/*
 * HTTPS beside plain HTTP (http.tls_cert, http.tls_key, http.tls_port):
 * OpenSSL under libevent's bufferevent_openssl. The certificate chain and
 * the key are read once, at start, before privileges are dropped (the key
 * may be readable by root only); TLS 1.2 at least, OpenSSL's default
 * ciphers, no compression, no renegotiation.
 */
#ifndef PXED_HTTP_TLS_H
#define PXED_HTTP_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

struct bufferevent;
struct event_base;
struct http_tls;
struct pxed;

/* Loads cert (a PEM chain) and key (PEM). 0, or -EINVAL with why filled in, or -ENOMEM. */
int http_tls_new(struct pxed *d, const char *cert, const char *key, struct http_tls **out,
		 char *why, size_t cap);
void http_tls_free(struct http_tls *t);

/*
 * evhttp's bufferevent for a connection to the TLS port: no socket yet
 * (evhttp sets it), the handshake runs as the server's. NULL: no memory.
 */
struct bufferevent *http_tls_bev_new(struct http_tls *t, struct event_base *base);

/* bev speaks TLS: it cannot sendfile(). */
bool http_tls_bev_is(struct bufferevent *bev);

/*
 * pxed is about to cut bev itself (a cap, the handshake rate, a timeout,
 * each counted by its own metric): its handshake's end is then not counted
 * as a failed handshake. No effect on a plain bufferevent.
 */
void http_tls_bev_cut(struct bufferevent *bev);

/*
 * A file's body over TLS. libevent can only encrypt bytes in memory: a file
 * segment would be mapped whole (a 4 GiB image, 4 GiB of the daemon's RSS
 * by its end, and SIGBUS if the file shrinks meanwhile). The pump reads the
 * file as the socket takes it instead, keeping HTTP_TLS_PUMP_HIGH bytes at
 * most queued, so a connection costs about that much however large the
 * file, and a reader that stops reading pins no more. 256 KiB still keeps
 * a 10 Gbit/s link with a 0.2 ms round trip busy; a refill below 64 KiB
 * reads in chunks of 192 KiB or more, not a syscall per TLS record.
 */
#define HTTP_TLS_PUMP_LOW (64 * 1024)
#define HTTP_TLS_PUMP_HIGH (256 * 1024)

/*
 * The TLS 1.2 session cache's cap (OpenSSL's default is 20480 entries, a
 * few MiB anyone may fill); TLS 1.3 resumes with stateless tickets.
 */
#define HTTP_TLS_SESSION_CACHE 1024

struct http_tls_pump;

/*
 * Queues bytes [first, first + len) of fd behind what bev's output holds
 * (the reply's headers), as it drains. Takes fd in every case. 0 or -errno.
 */
int http_tls_pump_start(struct bufferevent *bev, int fd, uint64_t first, uint64_t len,
			struct http_tls_pump **out);
/* Body bytes queued so far (some may still wait in the output): for the byte counts. */
uint64_t http_tls_pump_queued(const struct http_tls_pump *p);
/* Stops feeding (the reply is written, or its connection gone) and closes the file. */
void http_tls_pump_free(struct http_tls_pump *p);

#endif
