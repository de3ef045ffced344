#include "obs/metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct metric_def {
	const char *name, *labels, *help;
};

static const struct metric_def metric_defs[METRIC_COUNT] = {
#define METRIC_DEF(id, name, labels, help) [METRIC_##id] = {name, labels, help},
    METRICS_TABLE(METRIC_DEF)
#undef METRIC_DEF
};

/*
 * Bucket upper bounds in microseconds, ascending; 0 ends a shorter list.
 * Transfers: a 40 KiB script to a 1 GiB image over a slow link. DHCP: one
 * exchange answered in the same loop turn, to a firmware that waits
 * seconds between its DISCOVER retries.
 */
static const uint64_t metric_bounds[METRIC_BUCKETS_COUNT][METRIC_HIST_BUCKETS] = {
    [METRIC_BUCKETS_TRANSFER] = {10000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000,
				 10000000, 30000000, 60000000, 120000000, 300000000},
    [METRIC_BUCKETS_DHCP] = {1000, 5000, 10000, 50000, 100000, 250000, 500000, 1000000, 2500000,
			     5000000, 10000000, 30000000},
};

struct metric_hist_def {
	const char *name, *help;
	enum metric_buckets buckets;
};

static const struct metric_hist_def metric_hist_defs[METRIC_HIST_COUNT] = {
#define METRIC_HIST_DEF(id, name, help, buckets) [METRIC_HIST_##id] = {name, help, buckets},
    METRICS_HISTOGRAMS(METRIC_HIST_DEF)
#undef METRIC_HIST_DEF
};

/*
 * The families of pxed_errors_total: a view over counters kept elsewhere,
 * summed when rendered so that no hot path counts twice. sub, when not
 * METRIC_COUNT, is subtracted (failed TFTP transfers the client ended
 * itself are no error of ours).
 */
static const struct {
	const char *kind;
	enum metric_id add, sub;
} metric_error_kinds[] = {
    {"dhcp_malformed", METRIC_DHCP_BAD, METRIC_COUNT},
    {"dhcp_pool_exhausted", METRIC_DHCP_POOL_EMPTY, METRIC_COUNT},
    {"dhcp_store", METRIC_DHCP_STORE_FAIL, METRIC_COUNT},
    {"tftp_malformed", METRIC_TFTP_BAD, METRIC_COUNT},
    {"tftp_refused_busy", METRIC_TFTP_REFUSED_BUSY, METRIC_COUNT},
    {"tftp_transfer_failed", METRIC_TFTP_FAILED, METRIC_TFTP_ENDED_BY_CLIENT},
    {"tftp_upload_failed", METRIC_TFTP_UPLOAD_FAILED, METRIC_COUNT},
    {"http_error_response", METRIC_HTTP_ERRORS, METRIC_COUNT},
    {"http_transfer_failed", METRIC_HTTP_FAILED, METRIC_COUNT},
};

void metric_observe_us(struct metrics *m, enum metric_hist_id id, uint64_t us)
{
	const uint64_t *b = metric_bounds[metric_hist_defs[id].buckets];
	struct metric_hist *h = &m->h[id];
	unsigned i = 0;

	while (i < METRIC_HIST_BUCKETS && b[i] != 0 && us > b[i])
		i++;
	if (i < METRIC_HIST_BUCKETS && b[i] == 0)
		i = METRIC_HIST_BUCKETS; /* beyond the last bound: the +Inf bucket */
	h->bucket[i]++;
	h->count++;
	h->sum_us += us;
}

/* A bounded writer: the first overflow sticks and fails the render. */
struct metrics_out {
	char *p;
	size_t len, cap;
	bool full;
};

__attribute__((format(printf, 2, 3))) static void mo_printf(struct metrics_out *o, const char *fmt,
							    ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->full = true;
		return;
	}
	o->len += (size_t)n;
}

static void mo_family(struct metrics_out *o, const char *name, const char *type, const char *help)
{
	mo_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Every counter, grouped by family: HELP and TYPE once, then each row. */
static void metrics_render_counters(struct metrics_out *o, const struct metrics *m)
{
	for (int i = 0; i < METRIC_COUNT; i++) {
		const struct metric_def *d = &metric_defs[i];
		bool seen = false;
		for (int j = 0; j < i && !seen; j++)
			seen = strcmp(metric_defs[j].name, d->name) == 0;
		if (seen)
			continue;
		mo_family(o, d->name, "counter", d->help);
		for (int j = i; j < METRIC_COUNT; j++) {
			const struct metric_def *e = &metric_defs[j];
			if (strcmp(e->name, d->name) != 0)
				continue;
			if (e->labels[0] != '\0')
				mo_printf(o, "%s{%s} %" PRIu64 "\n", e->name, e->labels, m->c[j]);
			else
				mo_printf(o, "%s %" PRIu64 "\n", e->name, m->c[j]);
		}
	}
}

static void metrics_render_errors(struct metrics_out *o, const struct metrics *m)
{
	mo_family(o, "pxed_errors_total", "counter",
		  "errors by kind (a sum over the counters of each protocol)");
	for (size_t i = 0; i < sizeof(metric_error_kinds) / sizeof(metric_error_kinds[0]); i++) {
		uint64_t v = m->c[metric_error_kinds[i].add];
		uint64_t sub =
		    metric_error_kinds[i].sub != METRIC_COUNT ? m->c[metric_error_kinds[i].sub] : 0;
		mo_printf(o, "pxed_errors_total{kind=\"%s\"} %" PRIu64 "\n",
			  metric_error_kinds[i].kind, v > sub ? v - sub : 0);
	}
}

/* Prometheus histograms: cumulative buckets, +Inf equal to _count, _sum in seconds. */
static void metrics_render_histograms(struct metrics_out *o, const struct metrics *m)
{
	for (int i = 0; i < METRIC_HIST_COUNT; i++) {
		const struct metric_hist_def *d = &metric_hist_defs[i];
		const uint64_t *b = metric_bounds[d->buckets];
		const struct metric_hist *h = &m->h[i];
		uint64_t cum = 0;

		mo_family(o, d->name, "histogram", d->help);
		for (unsigned k = 0; k < METRIC_HIST_BUCKETS && b[k] != 0; k++) {
			cum += h->bucket[k];
			mo_printf(o, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", d->name,
				  (double)b[k] / 1e6, cum);
		}
		mo_printf(o, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", d->name, h->count);
		mo_printf(o, "%s_sum %.6f\n", d->name, (double)h->sum_us / 1e6);
		mo_printf(o, "%s_count %" PRIu64 "\n", d->name, h->count);
	}
}

static void metrics_render_pools(struct metrics_out *o, const struct metrics_gauges *g)
{
	static const char *const states[] = {"leased", "offered", "declined", "reserved", "free"};

	mo_family(o, "pxed_dhcp_pool_size", "gauge", "addresses in each DHCP pool");
	for (size_t i = 0; i < g->n_pools; i++)
		mo_printf(o, "pxed_dhcp_pool_size{subnet=\"%s\"} %" PRIu32 "\n", g->pools[i].subnet,
			  g->pools[i].size);
	mo_family(o, "pxed_dhcp_pool_addresses", "gauge",
		  "addresses of each DHCP pool by state (expired leases and offers count as free)");
	for (size_t i = 0; i < g->n_pools; i++) {
		const struct metrics_pool *p = &g->pools[i];
		const uint32_t v[] = {p->leased, p->offered, p->declined, p->reserved, p->free};
		for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++)
			mo_printf(
			    o, "pxed_dhcp_pool_addresses{subnet=\"%s\",state=\"%s\"} %" PRIu32 "\n",
			    p->subnet, states[k], v[k]);
	}
}

static void metrics_render_gauges(struct metrics_out *o, const struct metrics_gauges *g)
{
	metrics_render_pools(o, g);
	mo_family(o, "pxed_transfers_in_progress", "gauge", "file transfers in progress");
	mo_printf(o, "pxed_transfers_in_progress{proto=\"tftp\"} %" PRIu64 "\n", g->tftp_active);
	mo_printf(o, "pxed_transfers_in_progress{proto=\"http\"} %" PRIu64 "\n", g->http_active);
	mo_family(o, "pxed_http_event_streams", "gauge", "open event streams");
	mo_printf(o, "pxed_http_event_streams %" PRIu64 "\n", g->streams);
	mo_family(o, "pxed_start_time_seconds", "gauge", "when the daemon started, epoch seconds");
	mo_printf(o, "pxed_start_time_seconds %" PRId64 "\n", g->start_time_s);
}

int metrics_render(const struct metrics *m, const struct metrics_gauges *g, char *out, size_t cap)
{
	struct metrics_out o = {.p = out, .cap = cap};

	if (cap == 0)
		return -ENOSPC;
	metrics_render_counters(&o, m);
	metrics_render_errors(&o, m);
	metrics_render_histograms(&o, m);
	if (g != NULL)
		metrics_render_gauges(&o, g);
	if (o.full || o.len > INT32_MAX)
		return -ENOSPC;
	return (int)o.len;
}
