#include "obs/timeline.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "store/store.h"

#define TIMELINE_MAX_EVENTS 2000
/* A pause this long between two events starts a new boot session. */
#define TIMELINE_SESSION_GAP_US (120 * 1000000ll)

struct timeline {
	struct store_event *ev;
	size_t n, cap;
};

static int timeline_collect(const struct store_event *e, void *arg)
{
	struct timeline *t = arg;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct store_event *p = realloc(t->ev, cap * sizeof(*p));
		if (p == NULL)
			return -1;
		t->ev = p;
		t->cap = cap;
	}
	t->ev[t->n++] = *e;
	return 0;
}

static size_t timeline_session_start(const struct timeline *t)
{
	size_t start = 0;
	for (size_t i = 1; i < t->n; i++)
		if (t->ev[i].ts_us - t->ev[i - 1].ts_us > TIMELINE_SESSION_GAP_US)
			start = i;
	return start;
}

static bool timeline_is_dhcp(const struct store_event *e)
{
	return strcmp(e->proto, "dhcp") == 0 || strcmp(e->proto, "proxy") == 0 ||
	       strcmp(e->proto, "pxe4011") == 0;
}

static void timeline_print_json(const struct timeline *t)
{
	json_t *arr = json_array();
	char mac[18], ip[16];
	for (size_t i = 0; i < t->n; i++) {
		const struct store_event *e = &t->ev[i];
		json_array_append_new(
		    arr, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:b}", "ts_us",
				   (json_int_t)e->ts_us, "mac",
				   e->has_mac ? mac_format(mac, e->mac) : "", "ip",
				   ip4_format(ip, e->ip), "proto", e->proto, "kind", e->kind,
				   "detail", e->detail, "bytes", (json_int_t)e->bytes,
				   "duration_us", (json_int_t)e->duration_us, "ok", e->ok));
	}
	char *s = json_dumps(arr, JSON_INDENT(2));
	if (s != NULL)
		puts(s);
	free(s);
	json_decref(arr);
}

/* The step a transfer is, from the first word of its detail ("kernel ..."). */
static void timeline_step_name(const struct store_event *e, char *out, size_t cap)
{
	size_t n = strcspn(e->detail, " ");
	if (n == 0 || n >= cap)
		n = 0;
	memcpy(out, e->detail, n);
	out[n] = '\0';
	if (strcmp(out, "nbp") == 0)
		snprintf(out, cap, "NBP");
	else if (n == 0)
		snprintf(out, cap, "%.15s", e->kind);
}

static void timeline_print_dhcp_step(const struct timeline *t, size_t first, size_t last,
				     int64_t t0)
{
	const struct store_event *a = &t->ev[first], *z = &t->ev[last];
	char ip[16];
	printf("  %-8s +%7.2fs %7.2fs  %s %s %s: %s\n", "DHCP", (a->ts_us - t0) / 1e6,
	       (z->ts_us - a->ts_us) / 1e6, z->proto, z->kind,
	       z->ip != 0 ? ip4_format(ip, z->ip) : "-", z->detail);
}

static void timeline_print_steps(const struct timeline *t, size_t start)
{
	int64_t t0 = t->ev[start].ts_us;
	time_t secs = (time_t)(t0 / 1000000);
	char when[40], mac[18];
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	printf("boot of %s, %s\n", mac_format(mac, t->ev[start].mac), when);
	printf("  %-8s %9s %8s  %s\n", "step", "start", "took", "detail");
	for (size_t i = start; i < t->n; i++) {
		const struct store_event *e = &t->ev[i];
		if (timeline_is_dhcp(e)) {
			size_t j = i;
			while (j + 1 < t->n && timeline_is_dhcp(&t->ev[j + 1]))
				j++;
			timeline_print_dhcp_step(t, i, j, t0);
			i = j;
			continue;
		}
		char step[16];
		int64_t begin = e->ts_us - (int64_t)e->duration_us;
		timeline_step_name(e, step, sizeof(step));
		printf("  %-8s +%7.2fs %7.2fs  %s over %s, %llu bytes%s\n", step,
		       (begin - t0) / 1e6, e->duration_us / 1e6, e->detail, e->proto,
		       (unsigned long long)e->bytes, e->ok ? "" : " FAILED");
	}
}

int timeline_print(const char *state_dir, const uint8_t mac[6], bool json, bool all)
{
	struct timeline t = {0};
	struct store *st;
	char path[PATH_MAX], macs[18];

	snprintf(path, sizeof(path), "%s/pxed.db", state_dir);
	if (access(path, R_OK) < 0) {
		fprintf(stderr, "pxed: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (store_open(state_dir, &st) < 0) {
		fprintf(stderr, "pxed: cannot open the store in %s\n", state_dir);
		return 1;
	}
	int rc = store_event_each(st, mac, TIMELINE_MAX_EVENTS, timeline_collect, &t);
	store_close(st);
	if (rc < 0) {
		free(t.ev);
		fprintf(stderr, "pxed: cannot read events\n");
		return 1;
	}
	if (json) {
		timeline_print_json(&t);
	} else if (t.n == 0) {
		printf("no boot recorded for %s\n", mac_format(macs, mac));
	} else {
		timeline_print_steps(&t, all ? 0 : timeline_session_start(&t));
	}
	free(t.ev);
	return 0;
}
