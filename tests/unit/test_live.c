/*
 * The live state (obs/live.h) and the metrics (obs/metrics.h): the event
 * ring and its sequence numbers, subscribers, the transfer table and its
 * ids, what events mean for a boot, the boot-session counters, histogram
 * buckets and the rendered text.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conf/config.h"
#include "core/util.h"
#include "dhcp/pool.h"
#include "obs/live.h"
#include "obs/metrics.h"

static uint64_t seen[OBS_LIVE_EVENTS + 8];
static size_t n_seen;

static int collect(void *arg, uint64_t seq, const struct store_event *e)
{
	(void)arg;
	assert_int_equal(e->bytes, seq); /* each test event carries its own number */
	seen[n_seen++] = seq;
	return 0;
}

static void push_n(struct obs_live *l, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		struct store_event e = {.bytes = obs_live_last_seq(l) + 1};
		obs_live_push(l, &e);
	}
}

static void test_ring_and_since(void **state)
{
	struct obs_live *l;
	static const struct {
		uint64_t since, n, first, last;
	} cases[] = {
	    {0, OBS_LIVE_EVENTS, 1500 - OBS_LIVE_EVENTS + 1, 1500}, /* the oldest are gone */
	    {1400, 100, 1401, 1500},
	    {1499, 1, 1500, 1500},
	    {1500, 0, 0, 0},
	    {UINT64_MAX, 0, 0, 0},
	};

	assert_int_equal(obs_live_new(&l), 0);
	assert_int_equal(obs_live_last_seq(l), 0);
	push_n(l, 1500);
	assert_int_equal(obs_live_last_seq(l), 1500);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n_seen = 0;
		assert_int_equal(obs_live_since(l, cases[i].since, collect, NULL), 0);
		assert_int_equal(n_seen, cases[i].n);
		if (n_seen > 0) {
			assert_int_equal(seen[0], cases[i].first);
			assert_int_equal(seen[n_seen - 1], cases[i].last);
		}
	}
	obs_live_free(l);
}

static int calls;

static void count_and_leave(void *arg, uint64_t seq, const struct store_event *e)
{
	struct obs_live *l = arg;
	calls++;
	if (l != NULL)
		obs_live_unsubscribe(l, count_and_leave, l); /* from its own callback */
}

static void test_subscribers(void **state)
{
	struct obs_live *l;
	int dummy[OBS_LIVE_SUBSCRIBERS];

	assert_int_equal(obs_live_new(&l), 0);
	assert_int_equal(obs_live_subscribe(l, count_and_leave, l), 0);
	push_n(l, 3);
	assert_int_equal(calls, 1);
	for (int i = 0; i < OBS_LIVE_SUBSCRIBERS; i++)
		assert_int_equal(obs_live_subscribe(l, count_and_leave, &dummy[i]), 0);
	assert_int_equal(obs_live_subscribe(l, count_and_leave, l), -ENOSPC);
	obs_live_unsubscribe(l, count_and_leave, &dummy[7]);
	assert_int_equal(obs_live_subscribe(l, count_and_leave, NULL), 0);
	obs_live_free(l);
}

static void test_transfers(void **state)
{
	struct obs_live *l;
	unsigned ids[OBS_LIVE_TRANSFERS], id;
	struct obs_transfer *out = calloc(OBS_LIVE_TRANSFERS, sizeof(*out));
	size_t n;

	assert_non_null(out);
	assert_int_equal(obs_live_new(&l), 0);
	/* Started newest first: the table must give them back oldest first. */
	for (unsigned i = 0; i < OBS_LIVE_TRANSFERS; i++) {
		struct obs_transfer t = {.start_us = 10000 - i, .size = 100};
		snprintf(t.proto, sizeof(t.proto), "%s", i % 2 ? "http" : "tftp");
		ids[i] = obs_transfer_begin(l, &t);
		assert_int_not_equal(ids[i], 0);
	}
	assert_int_equal(obs_transfer_begin(l, &(struct obs_transfer){0}), 0); /* full */
	assert_int_equal(obs_transfers_active(l, "tftp"), OBS_LIVE_TRANSFERS / 2);
	n = obs_transfers(l, out, OBS_LIVE_TRANSFERS);
	assert_int_equal(n, OBS_LIVE_TRANSFERS);
	assert_int_equal(out[0].start_us, 10000 - (OBS_LIVE_TRANSFERS - 1));
	assert_int_equal(out[n - 1].start_us, 10000);
	n = obs_transfers(l, out, 3); /* fewer than tracked: the three oldest */
	assert_int_equal(n, 3);
	assert_int_equal(out[0].start_us, 10000 - (OBS_LIVE_TRANSFERS - 1));
	assert_int_equal(out[2].start_us, 10000 - (OBS_LIVE_TRANSFERS - 3));

	/* Progress is capped at the size; an ended id is dead for good, also when its slot is
	 * reused. */
	obs_transfer_progress(l, ids[0], 1000);
	obs_transfer_end(l, ids[0]);
	obs_transfer_end(l, ids[0]);
	obs_transfer_end(l, 0);
	assert_int_equal(obs_transfers_active(l, "tftp"), OBS_LIVE_TRANSFERS / 2 - 1);
	id = obs_transfer_begin(l, &(struct obs_transfer){.size = 10, .start_us = 1});
	assert_int_not_equal(id, 0);
	assert_int_not_equal(id, ids[0]);
	obs_transfer_progress(l, ids[0], 5); /* stale */
	n = obs_transfers(l, out, 1);
	assert_int_equal(out[0].id, id);
	assert_int_equal(out[0].bytes, 0);
	obs_transfer_progress(l, id, 999);
	n = obs_transfers(l, out, 1);
	assert_int_equal(out[0].bytes, 10);
	obs_transfer_progress(NULL, id, 1); /* no live state: nothing happens */
	free(out);
	obs_live_free(l);
}

/* A store event as obs_event() makes one, in *e; returns e. */
static struct store_event *ev(struct store_event *e, const char *proto, const char *kind,
			      const char *file, bool ok)
{
	*e = (struct store_event){
	    .ok = ok, .has_mac = true, .session = 1, .mac = {0x52, 0x54, 0, 0, 0, 1}};
	snprintf(e->proto, sizeof(e->proto), "%s", proto);
	snprintf(e->kind, sizeof(e->kind), "%s", kind);
	snprintf(e->file, sizeof(e->file), "%s", file);
	snprintf(e->detail, sizeof(e->detail), "x %s", file);
	return e;
}

static void test_event_meaning(void **state)
{
	struct conf *c = conf_new_defaults();
	struct conf_profile *p = &c->profiles[c->n_profiles++];
	struct store_event e;
	char prof[64];

	p->name = strdup("deb");
	p->kernel = strdup("/k");
	p->initrds[p->n_initrds++] = strdup("/i0");
	p->initrds[p->n_initrds++] = strdup("/i1");

	assert_false(obs_event_boots(c, ev(&e, "tftp", "transfer", "files/deb/kernel", true)));
	assert_false(obs_event_boots(c, ev(&e, "http", "transfer", "files/deb/initrd0", true)));
	assert_true(obs_event_boots(c, ev(&e, "http", "transfer", "/files/deb/initrd1", true)));
	assert_false(obs_event_boots(NULL, &e));
	assert_false(obs_event_boots(c, ev(&e, "http", "transfer", "files/deb/initrd1", false)));
	assert_false(obs_event_boots(c, ev(&e, "http", "transfer", "files/other/kernel", true)));
	ev(&e, "http", "transfer", "files/deb/initrd1", true);
	snprintf(e.detail, sizeof(e.detail), "initrd /files/deb/initrd1 (HEAD)");
	assert_false(obs_event_boots(c, &e));
	p->n_initrds = 0; /* no initrds: the kernel is the last file */
	assert_true(obs_event_boots(c, ev(&e, "tftp", "transfer", "files/deb/kernel", true)));
	p->n_initrds = 2; /* conf_free() frees them */

	assert_true(obs_event_fails(ev(&e, "tftp", "transfer", "files/deb/kernel", false)));
	e.expected = true; /* EDK2 ended it after its tsize probe */
	assert_false(obs_event_fails(&e));
	assert_true(obs_event_fails(ev(&e, "dhcp", "discover", "", false)));
	assert_true(obs_event_fails(ev(&e, "proxy", "request", "", false)));
	assert_false(obs_event_fails(ev(&e, "dhcp", "nak", "", false)));
	assert_false(obs_event_fails(ev(&e, "tftp", "refused", "pxelinux.cfg/x", false)));
	assert_false(obs_event_fails(ev(&e, "tftp", "upload", "x", false)));
	assert_false(obs_event_fails(ev(&e, "tftp", "transfer", "x", true)));

	assert_true(obs_event_profile(ev(&e, "http", "transfer", "/files/deb/initrd0", true), prof,
				      sizeof(prof)));
	assert_string_equal(prof, "deb");
	ev(&e, "dhcp", "ack", "", true);
	snprintf(e.profile, sizeof(e.profile), "rescue");
	assert_true(obs_event_profile(&e, prof, sizeof(prof)));
	assert_string_equal(prof, "rescue");
	assert_false(
	    obs_event_profile(ev(&e, "tftp", "transfer", "snponly.efi", true), prof, sizeof(prof)));
	conf_free(c);
}

static void test_session_counters(void **state)
{
	struct conf *c = conf_new_defaults();
	struct conf_profile *p = &c->profiles[c->n_profiles++];
	struct metrics m = {0};
	struct obs_live *l;
	struct store_event e;

	p->name = strdup("deb");
	p->kernel = strdup("/k");
	assert_int_equal(obs_live_new(&l), 0);
	obs_live_attach(l, &m, c);
	/* Session 1: OFFER, ACK 3 ms later, a failed transfer, then the kernel: failed stays. */
	ev(&e, "dhcp", "offer", "", true);
	e.ts_us = 1000000;
	obs_live_push(l, &e);
	ev(&e, "dhcp", "ack", "", true);
	e.ts_us = 1003000;
	obs_live_push(l, &e);
	obs_live_push(l, ev(&e, "tftp", "transfer", "snponly.efi", false));
	obs_live_push(l, ev(&e, "http", "transfer", "files/deb/kernel", true));
	/* Session 2 (a new id): booted. An event without a MAC counts nowhere. */
	ev(&e, "http", "transfer", "files/deb/kernel", true);
	e.session = 2;
	obs_live_push(l, &e);
	e.has_mac = false;
	e.session = 0;
	obs_live_push(l, &e);
	assert_int_equal(m.c[METRIC_BOOT_STARTED], 2);
	assert_int_equal(m.c[METRIC_BOOT_FAILED], 1);
	assert_int_equal(m.c[METRIC_BOOT_BOOTED], 1);
	assert_int_equal(m.h[METRIC_HIST_DHCP_SECONDS].count, 1);
	assert_int_equal(m.h[METRIC_HIST_DHCP_SECONDS].sum_us, 3000);
	assert_int_equal(m.h[METRIC_HIST_DHCP_SECONDS].bucket[1], 1); /* 0.001 < 3 ms <= 0.005 */
	obs_live_free(l);
	conf_free(c);
}

/* Pushes one DHCP event of kind for mac in session, at ts_us. */
static void push_dhcp(struct obs_live *l, const uint8_t mac[6], uint64_t session, const char *kind,
		      int64_t ts_us)
{
	struct store_event e;

	ev(&e, "dhcp", kind, "", true);
	memcpy(e.mac, mac, 6);
	e.session = session;
	e.ts_us = ts_us;
	obs_live_push(l, &e);
}

/*
 * Two machines whose MACs hash to the same slot, each doing DISCOVER,
 * OFFER, REQUEST, ACK, interleaved: two sessions started, two DISCOVER to
 * ACK timings. (A table with one machine per slot reset one for the other
 * on every event: 8 sessions, no timings.)
 */
static void test_session_collision(void **state)
{
	static const uint8_t a[6] = {0x52, 0x54, 0x00, 0x12, 0x01, 0x5f};
	static const uint8_t b[6] = {0x52, 0x54, 0x00, 0x12, 0x04, 0x00};
	static const char *const steps[] = {"discover", "offer", "request", "ack"};
	struct metrics m = {0};
	struct obs_live *l;

	/* Same home slot in the table too, so this takes the probe path. */
	assert_int_equal(mac_hash(a) % OBS_LIVE_MACHINES, mac_hash(b) % OBS_LIVE_MACHINES);
	assert_int_equal(obs_live_new(&l), 0);
	obs_live_attach(l, &m, NULL);
	for (size_t i = 0; i < PXED_ARRAY_LEN(steps); i++) {
		push_dhcp(l, a, 100, steps[i], 1000000 + (int64_t)i * 1000);
		push_dhcp(l, b, 200, steps[i], 1000500 + (int64_t)i * 2000);
	}
	assert_int_equal(m.c[METRIC_BOOT_STARTED], 2);
	assert_int_equal(m.h[METRIC_HIST_DHCP_SECONDS].count, 2);
	/* OFFER to ACK: 2 ms for a, 4 ms for b. */
	assert_int_equal(m.h[METRIC_HIST_DHCP_SECONDS].sum_us, 2000 + 4000);
	obs_live_free(l);
}

/*
 * More distinct machines than the table holds, each doing OFFER then ACK:
 * every one is one session and one timing, the table never holds more than
 * it has slots, and each machine past those evicts one.
 */
static void test_session_flood(void **state)
{
	const uint32_t n = 3 * OBS_LIVE_MACHINES + 17;
	struct metrics m = {0};
	struct obs_live *l;
	uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0};

	assert_int_equal(obs_live_new(&l), 0);
	obs_live_attach(l, &m, NULL);
	for (uint32_t i = 0; i < n; i++) {
		mac[2] = (uint8_t)(i >> 24), mac[3] = (uint8_t)(i >> 16);
		mac[4] = (uint8_t)(i >> 8), mac[5] = (uint8_t)i;
		push_dhcp(l, mac, 1000 + i, "offer", 1000000 + (int64_t)i * 10);
		push_dhcp(l, mac, 1000 + i, "ack", 1000000 + (int64_t)i * 10 + 1000);
		assert_true(obs_live_machines_tracked(l) <= OBS_LIVE_MACHINES);
	}
	assert_int_equal(m.c[METRIC_BOOT_STARTED], n);
	assert_int_equal(m.h[METRIC_HIST_DHCP_SECONDS].count, n);
	assert_int_equal(m.h[METRIC_HIST_DHCP_SECONDS].sum_us, (uint64_t)n * 1000);
	assert_true(obs_live_machines_evicted(l) > 0);
	assert_int_equal(obs_live_machines_tracked(l) + obs_live_machines_evicted(l), n);

	/* The last machine, just seen, is still known: its REQUEST is no new session. */
	push_dhcp(l, mac, 1000 + n - 1, "request", 9000000);
	assert_int_equal(m.c[METRIC_BOOT_STARTED], n);
	/* A machine seen long ago may have been forgotten: counted again, never lost. */
	mac[2] = mac[3] = mac[4] = mac[5] = 0;
	push_dhcp(l, mac, 1000, "request", 9000001);
	assert_true(m.c[METRIC_BOOT_STARTED] == n || m.c[METRIC_BOOT_STARTED] == n + 1);
	assert_true(obs_live_machines_tracked(l) <= OBS_LIVE_MACHINES);
	obs_live_free(l);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void test_histogram_render(void **state)
{
	struct metrics m = {0};
	struct metrics_pool pool = {.subnet = "10.0.0.0/24", .size = 10, .leased = 2, .free = 8};
	struct metrics_gauges g = {.pools = &pool, .n_pools = 1, .tftp_active = 3};
	char *buf = malloc(65536);
	int n;

	assert_non_null(buf);
	metric_observe_us(&m, METRIC_HIST_TFTP_SECONDS, 10000);	    /* le 0.01 exactly */
	metric_observe_us(&m, METRIC_HIST_TFTP_SECONDS, 10001);	    /* le 0.05 */
	metric_observe_us(&m, METRIC_HIST_TFTP_SECONDS, 999000000); /* above every bound */
	metric_inc(&m, METRIC_TFTP_FAILED);
	metric_inc(&m, METRIC_TFTP_FAILED);
	metric_inc(&m, METRIC_TFTP_ENDED_BY_CLIENT);
	n = metrics_render(&m, &g, buf, 65536);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "pxed_tftp_transfer_seconds_bucket{le=\"0.01\"} 1\n"));
	assert_non_null(strstr(buf, "pxed_tftp_transfer_seconds_bucket{le=\"0.05\"} 2\n"));
	assert_non_null(strstr(buf, "pxed_tftp_transfer_seconds_bucket{le=\"300\"} 2\n"));
	assert_non_null(strstr(buf, "pxed_tftp_transfer_seconds_bucket{le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(buf, "pxed_tftp_transfer_seconds_count 3\n"));
	assert_non_null(strstr(buf, "pxed_tftp_transfer_seconds_sum 999.020001\n"));
	assert_non_null(strstr(buf, "pxed_errors_total{kind=\"tftp_transfer_failed\"} 1\n"));
	assert_non_null(
	    strstr(buf, "pxed_dhcp_pool_addresses{subnet=\"10.0.0.0/24\",state=\"free\"} 8\n"));
	assert_non_null(strstr(buf, "pxed_transfers_in_progress{proto=\"tftp\"} 3\n"));
	/* One HELP and one TYPE per family, however the table orders its rows. */
	assert_int_equal(count(buf, "# HELP pxed_tftp_transfers_total "), 1);
	assert_int_equal(count(buf, "# TYPE pxed_boot_sessions_total counter\n"), 1);
	assert_int_equal(count(buf, "pxed_boot_sessions_total{outcome="), 3);
	/* Every buffer too small is refused whole, never truncated. */
	for (int cap = 0; cap < n; cap += 97)
		assert_int_equal(metrics_render(&m, &g, buf, (size_t)cap), -ENOSPC);
	assert_int_equal(metrics_render(&m, &g, buf, (size_t)n), -ENOSPC); /* no room for the NUL */
	free(buf);
}

static void test_pool_count(void **state)
{
	struct dhcp_pool p;
	struct pool_counts k;
	const uint8_t mac[6] = {0x52, 0x54, 0, 0, 0, 9};

	assert_int_equal(pool_init(&p, 0x0a000064u, 0x0a000064u + 9), 0);
	pool_set(&p, 0x0a000064u, POOL_LEASED, mac, 2000);
	pool_set(&p, 0x0a000065u, POOL_LEASED, mac, 500); /* expired at 1000: free */
	pool_set(&p, 0x0a000066u, POOL_OFFERED, mac, 1060);
	pool_set(&p, 0x0a000067u, POOL_DECLINED, NULL, 4600);
	pool_set(&p, 0x0a000068u, POOL_RESERVED, mac, 0);
	pool_count(&p, 1000, &k);
	assert_int_equal(k.leased, 1);
	assert_int_equal(k.offered, 1);
	assert_int_equal(k.declined, 1);
	assert_int_equal(k.reserved, 1);
	assert_int_equal(k.free, 6);
	pool_fini(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ring_and_since),   cmocka_unit_test(test_subscribers),
	    cmocka_unit_test(test_transfers),	     cmocka_unit_test(test_event_meaning),
	    cmocka_unit_test(test_session_counters), cmocka_unit_test(test_histogram_render),
	    cmocka_unit_test(test_pool_count),	     cmocka_unit_test(test_session_collision),
	    cmocka_unit_test(test_session_flood),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
