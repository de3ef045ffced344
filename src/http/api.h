/*
 * The read-only JSON API (docs/api.md) on the HTTP server's evhttp:
 *
 *   GET /api/v1/status              transfers, pools, recent machines, rogue servers
 *   GET /api/v1/events?since=SEQ    the events still in memory above SEQ
 *   GET /api/v1/events/stream       the same, then every new one (Server-Sent Events)
 *   GET /api/v1/machines            machines in the store, newest first
 *   GET /api/v1/machines/MAC        one machine's last boot session
 *
 * Reading needs no token. Everything runs on the event loop's thread.
 */
#ifndef PXED_HTTP_API_H
#define PXED_HTTP_API_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct pxed;
struct http_api;
struct evhttp_request;

/* Event streams open at once; one more gets 503. */
#define API_MAX_STREAMS 64

int http_api_new(struct pxed *d, struct http_api **out);
/* Call after evhttp_free(): freeing the connections has closed the streams. */
void http_api_free(struct http_api *a);

/* Answers a GET or HEAD whose decoded path starts with "/api/" (404 for the unknown ones). */
void http_api_handle(struct http_api *a, struct evhttp_request *req, const char *path);

/*
 * A JSON reply (body is taken over), and an error reply {"error": why}, as
 * every endpoint answers them; for the inventory API (http/admin.c).
 */
void http_api_reply(struct http_api *a, struct evhttp_request *req, int code, const char *reason,
		    json_t *body);
void http_api_reply_error(struct http_api *a, struct evhttp_request *req, int code,
			  const char *reason, const char *why);

/*
 * The API's JSON values: a time in microseconds since the epoch as RFC 3339
 * UTC with milliseconds (null when negative), an address (null when 0).
 */
json_t *http_api_time(int64_t us);
json_t *http_api_ip(uint32_t ip);
/* The daemon the API answers for. */
struct pxed *http_api_daemon(const struct http_api *a);

/* Event streams open now (for /metrics). */
size_t http_api_streams(const struct http_api *a);

#endif
