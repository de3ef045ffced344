/*
 * Counters of everything pxed does and refuses, rendered as Prometheus text
 * at /metrics (exposition format 0.0.4). One table gives each counter its
 * name, labels and help; a second one the histograms. Counting is a plain
 * increment on the event loop's thread: no locks, no allocation.
 *
 * Rows of one family (same name) need not be adjacent: the renderer gathers
 * them, so a new row can go wherever it reads best. Every row of a family
 * must carry the same help text.
 */
#ifndef PXED_OBS_METRICS_H
#define PXED_OBS_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define METRICS_TABLE(X)                                                                           \
	X(DHCP_RX, "pxed_dhcp_packets_received_total", "", "DHCP packets received")                \
	X(DHCP_RX_DISCOVER, "pxed_dhcp_messages_received_total", "type=\"discover\"",              \
	  "DHCP messages received (well-formed), by message type")                                 \
	X(DHCP_RX_REQUEST, "pxed_dhcp_messages_received_total", "type=\"request\"",                \
	  "DHCP messages received (well-formed), by message type")                                 \
	X(DHCP_RX_DECLINE, "pxed_dhcp_messages_received_total", "type=\"decline\"",                \
	  "DHCP messages received (well-formed), by message type")                                 \
	X(DHCP_RX_RELEASE, "pxed_dhcp_messages_received_total", "type=\"release\"",                \
	  "DHCP messages received (well-formed), by message type")                                 \
	X(DHCP_RX_INFORM, "pxed_dhcp_messages_received_total", "type=\"inform\"",                  \
	  "DHCP messages received (well-formed), by message type")                                 \
	X(DHCP_RX_OTHER, "pxed_dhcp_messages_received_total", "type=\"other\"",                    \
	  "DHCP messages received (well-formed), by message type")                                 \
	X(DHCP_BAD, "pxed_dhcp_packets_dropped_total", "reason=\"malformed\"",                     \
	  "DHCP packets dropped")                                                                  \
	X(DHCP_IGNORED, "pxed_dhcp_packets_dropped_total", "reason=\"ignored\"",                   \
	  "DHCP packets dropped")                                                                  \
	X(DHCP_RATE_LIMITED, "pxed_dhcp_packets_dropped_total", "reason=\"rate_limited\"",         \
	  "DHCP packets dropped")                                                                  \
	X(DHCP_UNKNOWN, "pxed_dhcp_packets_dropped_total", "reason=\"unknown_client\"",            \
	  "DHCP packets dropped")                                                                  \
	X(DHCP_UNKNOWN_IGNORED, "pxed_dhcp_packets_dropped_total", "reason=\"unknown_ignored\"",   \
	  "DHCP packets dropped")                                                                  \
	X(DHCP_DISCOVERED, "pxed_dhcp_discovered_total", "",                                       \
	  "unknown machines registered (or seen again) on subnets with unknown: discover")         \
	X(DHCP_LEASE_LIMIT, "pxed_dhcp_lease_limit_total", "",                                     \
	  "DISCOVERs and REQUESTs refused: dhcp.max_leases or a subnet's max_leases was reached")  \
	X(DHCP_BRIEF_OFFER, "pxed_dhcp_brief_offers_total", "",                                    \
	  "offers made while new clients came faster than dhcp.new_client_rate: the address is "   \
	  "held only briefly")                                                                     \
	X(DHCP_OFFER, "pxed_dhcp_replies_total", "type=\"offer\"", "DHCP replies sent")            \
	X(DHCP_ACK, "pxed_dhcp_replies_total", "type=\"ack\"", "DHCP replies sent")                \
	X(DHCP_NAK, "pxed_dhcp_replies_total", "type=\"nak\"", "DHCP replies sent")                \
	X(DHCP_RELEASE, "pxed_dhcp_releases_total", "", "DHCP leases released")                    \
	X(DHCP_DECLINE, "pxed_dhcp_declines_total", "", "addresses declined by clients")           \
	X(DHCP_POOL_EMPTY, "pxed_dhcp_pool_exhausted_total", "", "DISCOVERs with no free address") \
	X(DHCP_STORE_FAIL, "pxed_dhcp_store_failures_total", "",                                   \
	  "leases not granted because the store failed")                                           \
	X(DHCP_ROGUE_SERVERS, "pxed_dhcp_rogue_servers_total", "",                                 \
	  "other DHCP servers found answering on pxed's interfaces (dhcp/rogue.h)")                \
	X(DHCP_ROGUE_REPLIES, "pxed_dhcp_rogue_replies_total", "",                                 \
	  "DHCP replies (OFFER, ACK, NAK) seen from other servers")                                \
	X(DHCP_ROGUE_PROBES, "pxed_dhcp_rogue_probes_total", "",                                   \
	  "DISCOVERs pxed sent to find other DHCP servers")                                        \
	X(TFTP_RX, "pxed_tftp_packets_received_total", "", "TFTP packets received")                \
	X(TFTP_BAD, "pxed_tftp_packets_dropped_total", "reason=\"malformed\"",                     \
	  "TFTP packets dropped")                                                                  \
	X(TFTP_REFUSED_BUSY, "pxed_tftp_requests_refused_total", "reason=\"busy\"",                \
	  "TFTP requests refused")                                                                 \
	X(TFTP_RATE_LIMITED, "pxed_tftp_requests_refused_total", "reason=\"rate_limited\"",        \
	  "TFTP requests refused")                                                                 \
	X(TFTP_UNANSWERED_TIMEOUT, "pxed_tftp_transfers_unanswered_total", "end=\"timeout\"",      \
	  "TFTP transfers whose client never answered the first packet (lost or spoofed "          \
	  "requests)")                                                                             \
	X(TFTP_UNANSWERED_EVICTED, "pxed_tftp_transfers_unanswered_total", "end=\"evicted\"",      \
	  "TFTP transfers whose client never answered the first packet (lost or spoofed "          \
	  "requests)")                                                                             \
	X(TFTP_ERROR_SENT, "pxed_tftp_errors_sent_total", "", "TFTP ERROR packets sent")           \
	X(TFTP_STARTED, "pxed_tftp_transfers_total", "outcome=\"started\"", "TFTP transfers")      \
	X(TFTP_DONE, "pxed_tftp_transfers_total", "outcome=\"complete\"", "TFTP transfers")        \
	X(TFTP_FAILED, "pxed_tftp_transfers_total", "outcome=\"failed\"", "TFTP transfers")        \
	X(TFTP_ENDED_BY_CLIENT, "pxed_tftp_transfers_ended_by_client_total", "",                   \
	  "failed TFTP transfers the client ended itself with an ERROR (EDK2 after its tsize "     \
	  "probe)")                                                                                \
	X(TFTP_BYTES, "pxed_tftp_bytes_sent_total", "", "TFTP file bytes sent")                    \
	X(TFTP_RETRANSMITS, "pxed_tftp_retransmits_total", "",                                     \
	  "TFTP packets sent again after a timeout or a lost packet")                              \
	X(TFTP_UPLOAD_STARTED, "pxed_tftp_uploads_total", "outcome=\"started\"", "TFTP uploads")   \
	X(TFTP_UPLOAD_DONE, "pxed_tftp_uploads_total", "outcome=\"complete\"", "TFTP uploads")     \
	X(TFTP_UPLOAD_FAILED, "pxed_tftp_uploads_total", "outcome=\"failed\"", "TFTP uploads")     \
	X(TFTP_UPLOAD_BYTES, "pxed_tftp_bytes_received_total", "",                                 \
	  "TFTP file bytes received and stored")                                                   \
	X(HTTP_REQUESTS, "pxed_http_requests_total", "", "HTTP requests")                          \
	X(HTTP_ERRORS, "pxed_http_errors_total", "", "HTTP requests answered with 4xx/5xx")        \
	X(HTTP_STARTED, "pxed_http_transfers_total", "outcome=\"started\"",                        \
	  "HTTP file transfers (GET and HEAD of the served files)")                                \
	X(HTTP_DONE, "pxed_http_transfers_total", "outcome=\"complete\"",                          \
	  "HTTP file transfers (GET and HEAD of the served files)")                                \
	X(HTTP_FAILED, "pxed_http_transfers_total", "outcome=\"failed\"",                          \
	  "HTTP file transfers (GET and HEAD of the served files)")                                \
	X(HTTP_BYTES, "pxed_http_bytes_sent_total", "",                                            \
	  "HTTP file body bytes sent (of complete and failed transfers)")                          \
	X(HTTP_API_REQUESTS, "pxed_http_api_requests_total", "",                                   \
	  "requests to /api/v1/ and /metrics")                                                     \
	X(HTTP_STREAMS_REFUSED, "pxed_http_event_streams_refused_total", "",                       \
	  "event streams refused: too many open")                                                  \
	X(HTTP_CONN_ACCEPTED, "pxed_http_connections_total", "", "HTTP connections accepted")    \
	X(HTTP_CONN_REFUSED_MAX, "pxed_http_connections_refused_total", "reason=\"max_connections\"", \
	  "HTTP connections closed at once: over a connection cap or the TLS handshake rate")     \
	X(HTTP_CONN_REFUSED_CLIENT, "pxed_http_connections_refused_total",                         \
	  "reason=\"max_connections_per_client\"",                                                 \
	  "HTTP connections closed at once: over a connection cap or the TLS handshake rate")     \
	X(HTTP_CONN_REFUSED_TLS_RATE, "pxed_http_connections_refused_total", "reason=\"tls_rate\"", \
	  "HTTP connections closed at once: over a connection cap or the TLS handshake rate")     \
	X(HTTP_HEADER_TIMEOUT, "pxed_http_timeouts_total", "reason=\"header\"",                    \
	  "HTTP connections closed by pxed's timeouts (http.header_timeout, http.idle_timeout)")  \
	X(HTTP_IDLE_TIMEOUT, "pxed_http_timeouts_total", "reason=\"idle\"",                        \
	  "HTTP connections closed by pxed's timeouts (http.header_timeout, http.idle_timeout)")  \
	X(HTTP_RATE_LIMITED, "pxed_http_requests_refused_total", "reason=\"rate_limited\"",      \
	  "HTTP requests answered 429: over http.rate_per_address")                                \
	X(HTTP_TLS_HANDSHAKE_FAILED, "pxed_http_tls_handshakes_failed_total", "",                  \
	  "HTTPS connections whose TLS handshake failed (plain HTTP, a refused certificate...)")   \
	X(API_UNAUTHORIZED, "pxed_api_requests_refused_total", "reason=\"unauthorized\"",         \
	  "inventory API requests refused: a missing or wrong bearer token")                      \
	X(INVENTORY_CHANGES, "pxed_inventory_changes_total", "",                                   \
	  "hosts and profiles put or deleted through the API")                                    \
	X(RELOAD_DONE, "pxed_reloads_total", "outcome=\"done\"",                                   \
	  "configuration reloads (SIGHUP or POST /api/v1/reload): done, or refused")              \
	X(RELOAD_REFUSED, "pxed_reloads_total", "outcome=\"refused\"",                             \
	  "configuration reloads (SIGHUP or POST /api/v1/reload): done, or refused")              \
	X(BOOT_STARTED, "pxed_boot_sessions_total", "outcome=\"started\"",                         \
	  "boot sessions that started, and how those that ended did (docs/api.md)")    \
	X(BOOT_BOOTED, "pxed_boot_sessions_total", "outcome=\"booted\"",                           \
	  "boot sessions that started, and how those that ended did (docs/api.md)")    \
	X(BOOT_FAILED, "pxed_boot_sessions_total", "outcome=\"failed\"",                           \
	  "boot sessions that started, and how those that ended did (docs/api.md)")              \
	X(INSTALL_CALLBACK_DONE, "pxed_install_callbacks_total", "outcome=\"done\"",                \
	  "installers' callbacks (POST /callback/MAC/TOKEN): done, or refused")                  \
	X(INSTALL_CALLBACK_REFUSED, "pxed_install_callbacks_total", "outcome=\"refused\"",          \
	  "installers' callbacks (POST /callback/MAC/TOKEN): done, or refused")                  \
	X(INSTALL_MARKED, "pxed_install_marked_total", "",                                       \
	  "hosts marked for install (config install: true, or the API)")

enum metric_id {
#define METRIC_ENUM(id, name, labels, help) METRIC_##id,
	METRICS_TABLE(METRIC_ENUM)
#undef METRIC_ENUM
	    METRIC_COUNT
};

/*
 * Histograms: name, help and bucket set (upper bounds in microseconds,
 * defined in metrics.c). Observed once per finished thing, not per packet.
 */
#define METRICS_HISTOGRAMS(X)                                                                      \
	X(TFTP_SECONDS, "pxed_tftp_transfer_seconds", "complete TFTP transfers, by duration",      \
	  METRIC_BUCKETS_TRANSFER)                                                                 \
	X(HTTP_SECONDS, "pxed_http_transfer_seconds", "complete HTTP file transfers, by duration", \
	  METRIC_BUCKETS_TRANSFER)                                                                 \
	X(DHCP_SECONDS, "pxed_dhcp_discover_to_ack_seconds",                                       \
	  "time from the OFFER answering a machine's DISCOVER to the ACK it was sent",             \
	  METRIC_BUCKETS_DHCP)

enum metric_hist_id {
#define METRIC_HIST_ENUM(id, name, help, buckets) METRIC_HIST_##id,
	METRICS_HISTOGRAMS(METRIC_HIST_ENUM)
#undef METRIC_HIST_ENUM
	    METRIC_HIST_COUNT
};

enum metric_buckets { METRIC_BUCKETS_TRANSFER, METRIC_BUCKETS_DHCP, METRIC_BUCKETS_COUNT };

/* Finite buckets at most; one more counts what lies above them (+Inf). */
#define METRIC_HIST_BUCKETS 14

struct metric_hist {
	uint64_t bucket[METRIC_HIST_BUCKETS + 1]; /* per bucket, not cumulative */
	uint64_t count;
	uint64_t sum_us;
};

struct metrics {
	uint64_t c[METRIC_COUNT];
	struct metric_hist h[METRIC_HIST_COUNT];
};

static inline void metric_add(struct metrics *m, enum metric_id id, uint64_t n)
{
	m->c[id] += n;
}

static inline void metric_inc(struct metrics *m, enum metric_id id)
{
	m->c[id]++;
}

/* Counts one observation of us microseconds (a short loop over <= 14 bounds). */
void metric_observe_us(struct metrics *m, enum metric_hist_id id, uint64_t us);

/* One DHCP pool's addresses by state, for the gauges. */
struct metrics_pool {
	char subnet[20]; /* "10.0.0.0/24" */
	uint32_t size, leased, offered, declined, reserved, free;
};

/* What the renderer shows besides the counters: gauges of the present. */
struct metrics_gauges {
	const struct metrics_pool *pools;
	size_t n_pools;
	uint64_t tftp_active, http_active; /* transfers in progress */
	uint64_t streams;		   /* open event streams (/api/v1/events/stream) */
	int64_t start_time_s;		   /* when the daemon started, epoch seconds */
};

/*
 * Renders Prometheus text exposition format into out; returns bytes written
 * (truncated output is never returned: -ENOSPC instead). g may be NULL.
 */
int metrics_render(const struct metrics *m, const struct metrics_gauges *g, char *out, size_t cap);

#endif
