/*
 * Counters of everything pxed does and refuses, rendered as Prometheus text
 * at /metrics. One table gives each counter its name, labels and help.
 */
#ifndef PXED_OBS_METRICS_H
#define PXED_OBS_METRICS_H

#include <stdint.h>
#include <stddef.h>

#define METRICS_TABLE(X)                                                                           \
	X(DHCP_RX, "pxed_dhcp_packets_received_total", "", "DHCP packets received")                \
	X(DHCP_BAD, "pxed_dhcp_packets_dropped_total", "reason=\"malformed\"",                     \
	  "DHCP packets dropped")                                                                  \
	X(DHCP_IGNORED, "pxed_dhcp_packets_dropped_total", "reason=\"ignored\"",                   \
	  "DHCP packets dropped")                                                                  \
	X(DHCP_OFFER, "pxed_dhcp_replies_total", "type=\"offer\"", "DHCP replies sent")            \
	X(DHCP_ACK, "pxed_dhcp_replies_total", "type=\"ack\"", "DHCP replies sent")                \
	X(DHCP_NAK, "pxed_dhcp_replies_total", "type=\"nak\"", "DHCP replies sent")                \
	X(DHCP_RELEASE, "pxed_dhcp_releases_total", "", "DHCP leases released")                    \
	X(DHCP_DECLINE, "pxed_dhcp_declines_total", "", "addresses declined by clients")           \
	X(DHCP_POOL_EMPTY, "pxed_dhcp_pool_exhausted_total", "", "DISCOVERs with no free address") \
	X(DHCP_STORE_FAIL, "pxed_dhcp_store_failures_total", "",                                   \
	  "leases not granted because the store failed")                                           \
	X(TFTP_RX, "pxed_tftp_packets_received_total", "", "TFTP packets received")                \
	X(TFTP_BAD, "pxed_tftp_packets_dropped_total", "reason=\"malformed\"",                     \
	  "TFTP packets dropped")                                                                  \
	X(TFTP_REFUSED_BUSY, "pxed_tftp_requests_refused_total", "reason=\"busy\"",                \
	  "TFTP requests refused")                                                                 \
	X(TFTP_ERROR_SENT, "pxed_tftp_errors_sent_total", "", "TFTP ERROR packets sent")           \
	X(TFTP_STARTED, "pxed_tftp_transfers_total", "outcome=\"started\"", "TFTP transfers")      \
	X(TFTP_DONE, "pxed_tftp_transfers_total", "outcome=\"complete\"", "TFTP transfers")        \
	X(TFTP_FAILED, "pxed_tftp_transfers_total", "outcome=\"failed\"", "TFTP transfers")        \
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
	X(HTTP_BYTES, "pxed_http_bytes_sent_total", "", "HTTP body bytes queued")

enum metric_id {
#define METRIC_ENUM(id, name, labels, help) METRIC_##id,
	METRICS_TABLE(METRIC_ENUM)
#undef METRIC_ENUM
	    METRIC_COUNT
};

struct metrics {
	uint64_t c[METRIC_COUNT];
};

static inline void metric_add(struct metrics *m, enum metric_id id, uint64_t n)
{
	m->c[id] += n;
}

static inline void metric_inc(struct metrics *m, enum metric_id id)
{
	m->c[id]++;
}

/* Renders Prometheus text exposition format into out; returns bytes written
 * (truncated output is never returned: -ENOSPC instead). */
int metrics_render(const struct metrics *m, char *out, size_t cap);

#endif
