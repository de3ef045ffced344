/*
 * The daemon's live state (see live.h): a table of the transfers in
 * progress, a ring of the last OBS_LIVE_EVENTS events, the subscribers to
 * new events, and per machine the little that the counters of boot
 * sessions need. Everything is allocated once, at creation.
 */
#include "obs/live.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "core/util.h"
#include "obs/metrics.h"

/*
 * Machines followed for the boot-session counters: an open-addressing table
 * keyed by the exact MAC. A machine lives within OBS_LIVE_PROBE slots of its
 * hash's slot (linear probing), so a lookup reads at most that many. Slots
 * are never emptied, only reused, so a lookup may stop at the first empty
 * slot. When all OBS_LIVE_PROBE slots are taken by other machines, the least
 * recently seen of them is evicted: its session state (an OFFER waiting for
 * its ACK, the outcome) is forgotten, and its next event counts as a new
 * session. obs_live_machines_evicted() counts those evictions.
 */
#define OBS_LIVE_PROBE 8
_Static_assert((OBS_LIVE_MACHINES & (OBS_LIVE_MACHINES - 1)) == 0,
	       "OBS_LIVE_MACHINES must be a power of two");
_Static_assert(OBS_LIVE_PROBE <= OBS_LIVE_MACHINES, "probe window larger than the table");

enum obs_outcome { OBS_UNDECIDED, OBS_BOOTED, OBS_FAILED };

/* A machine's current boot session, as far as the counters care. */
struct obs_live_machine {
	uint8_t mac[6];
	bool used;
	uint8_t outcome;   /* enum obs_outcome */
	uint64_t session;  /* the session's id (store_event.session) */
	int64_t offer_us;  /* an OFFER waiting for its ACK; 0: none */
	uint64_t seen_seq; /* seq of the machine's last event: the least recent is evicted */
};

struct obs_live_sub {
	obs_live_cb cb; /* NULL: free */
	void *arg;
};

struct obs_live {
	int64_t started_us;
	struct metrics *metrics; /* NULL: nobody counts (tests, tools) */
	const struct conf *conf;

	/* Transfers: slot i holds the transfer with id % OBS_LIVE_TRANSFERS == i + 1. */
	struct obs_transfer xfers[OBS_LIVE_TRANSFERS];
	unsigned free_slots[OBS_LIVE_TRANSFERS]; /* a stack of unused slot numbers */
	size_t n_free;
	unsigned generation; /* makes ids unique over time: a stale id finds nothing */

	/* Events: seq s lives in ring[(s - 1) % OBS_LIVE_EVENTS]. */
	struct store_event ring[OBS_LIVE_EVENTS];
	uint64_t last_seq;

	struct obs_live_sub subs[OBS_LIVE_SUBSCRIBERS];
	struct obs_live_machine machines[OBS_LIVE_MACHINES];
	size_t n_machines;	   /* slots in use; never more than OBS_LIVE_MACHINES */
	uint64_t machines_evicted; /* machines forgotten to make room for another */
};

int obs_live_new(struct obs_live **out)
{
	struct obs_live *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return -ENOMEM;
	l->started_us = now_wall_us();
	/* Popped from the end: slot 0 is used first. */
	for (unsigned i = 0; i < OBS_LIVE_TRANSFERS; i++)
		l->free_slots[i] = OBS_LIVE_TRANSFERS - 1 - i;
	l->n_free = OBS_LIVE_TRANSFERS;
	*out = l;
	return 0;
}

void obs_live_free(struct obs_live *l)
{
	free(l);
}

void obs_live_attach(struct obs_live *l, struct metrics *m, const struct conf *c)
{
	l->metrics = m;
	l->conf = c;
}

int64_t obs_live_started_us(const struct obs_live *l)
{
	return l->started_us;
}

/* --- transfers ---------------------------------------------------------- */

static struct obs_transfer *obs_transfer_find(struct obs_live *l, unsigned id)
{
	struct obs_transfer *t;

	if (id == 0)
		return NULL;
	t = &l->xfers[(id - 1) % OBS_LIVE_TRANSFERS];
	return t->id == id ? t : NULL;
}

unsigned obs_transfer_begin(struct obs_live *l, const struct obs_transfer *t)
{
	unsigned slot, id;

	if (l == NULL || l->n_free == 0)
		return 0;
	slot = l->free_slots[--l->n_free];
	/* id = generation * N + slot + 1, never 0 (N is a power of two: wraps cleanly). */
	do
		id = ++l->generation * OBS_LIVE_TRANSFERS + slot + 1;
	while (id == 0);
	l->xfers[slot] = *t;
	l->xfers[slot].id = id;
	l->xfers[slot].bytes = 0;
	return id;
}

void obs_transfer_progress(struct obs_live *l, unsigned id, uint64_t bytes)
{
	struct obs_transfer *t = l != NULL ? obs_transfer_find(l, id) : NULL;

	if (t == NULL)
		return;
	/* Acknowledged blocks times blksize overshoot the file's end: cap them. */
	t->bytes = t->size != 0 && bytes > t->size ? t->size : bytes;
}

void obs_transfer_end(struct obs_live *l, unsigned id)
{
	struct obs_transfer *t = l != NULL ? obs_transfer_find(l, id) : NULL;

	if (t == NULL)
		return;
	t->id = 0;
	l->free_slots[l->n_free++] = (id - 1) % OBS_LIVE_TRANSFERS;
}

static int obs_transfer_cmp(const void *a, const void *b)
{
	const struct obs_transfer *x = a, *y = b;

	if (x->start_us != y->start_us)
		return x->start_us < y->start_us ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

size_t obs_transfers(const struct obs_live *l, struct obs_transfer *out, size_t cap)
{
	size_t n = 0, tracked = OBS_LIVE_TRANSFERS - l->n_free;

	if (cap >= tracked) {
		for (size_t i = 0; i < OBS_LIVE_TRANSFERS; i++)
			if (l->xfers[i].id != 0)
				out[n++] = l->xfers[i];
		qsort(out, n, sizeof(*out), obs_transfer_cmp);
		return n;
	}
	/* Fewer wanted than tracked: keep the cap oldest, in order, as they come. */
	for (size_t i = 0; i < OBS_LIVE_TRANSFERS; i++) {
		const struct obs_transfer *t = &l->xfers[i];
		size_t pos = n;
		if (t->id == 0)
			continue;
		while (pos > 0 && obs_transfer_cmp(t, &out[pos - 1]) < 0)
			pos--;
		if (pos == cap)
			continue;
		if (n < cap)
			n++;
		memmove(&out[pos + 1], &out[pos], (n - 1 - pos) * sizeof(*out));
		out[pos] = *t;
	}
	return n;
}

size_t obs_transfers_active(const struct obs_live *l, const char *proto)
{
	size_t n = 0;

	for (size_t i = 0; i < OBS_LIVE_TRANSFERS; i++)
		n += l->xfers[i].id != 0 && strcmp(l->xfers[i].proto, proto) == 0;
	return n;
}

/* --- what events mean ---------------------------------------------------- */

static bool obs_is_transfer(const struct store_event *e)
{
	return strcmp(e->kind, "transfer") == 0;
}

/* A transfer's "files/<profile>/<file>" split into profile and file; false otherwise. */
static bool obs_profile_path(const struct store_event *e, char *profile, size_t cap,
			     const char **file)
{
	const char *p = e->file, *slash;

	while (*p == '/') /* HTTP paths start with a slash, TFTP ones need not */
		p++;
	if (strncmp(p, "files/", 6) != 0)
		return false;
	p += 6;
	slash = strchr(p, '/');
	if (slash == NULL || slash == p || (size_t)(slash - p) >= cap)
		return false;
	memcpy(profile, p, (size_t)(slash - p));
	profile[slash - p] = '\0';
	*file = slash + 1;
	return true;
}

bool obs_event_profile(const struct store_event *e, char *out, size_t cap)
{
	const char *file;

	if (e->profile[0] != '\0') {
		snprintf(out, cap, "%s", e->profile);
		return true;
	}
	return obs_is_transfer(e) && obs_profile_path(e, out, cap, &file);
}

bool obs_event_boots(const struct conf *c, const struct store_event *e)
{
	char name[128], last[32];
	const struct conf_profile *p;
	const char *file;

	if (c == NULL || !e->ok || !obs_is_transfer(e) || strstr(e->detail, "(HEAD)") != NULL ||
	    !obs_profile_path(e, name, sizeof(name), &file) ||
	    (p = conf_find_profile(c, name)) == NULL)
		return false;
	if (p->n_initrds == 0)
		return strcmp(file, "kernel") == 0;
	snprintf(last, sizeof(last), "initrd%zu", p->n_initrds - 1);
	return strcmp(file, last) == 0;
}

bool obs_event_fails(const struct store_event *e)
{
	/*
	 * The kinds a boot fails at: a transfer; a DISCOVER or REQUEST that got
	 * nothing (no address, no boot plan, the store). Others are not boot steps
	 * (uploads, rogue servers) or DHCP's normal course (NAK, DECLINE, a
	 * refused probe for an optional file, "chose-other").
	 */
	static const char *const steps[] = {"transfer", "discover", "request"};

	if (e->ok || e->expected)
		return false;
	for (size_t i = 0; i < PXED_ARRAY_LEN(steps); i++)
		if (strcmp(e->kind, steps[i]) == 0)
			return true;
	return false;
}

/* --- boot sessions, for the counters -------------------------------------- */

/*
 * The machine's slot, found by its exact MAC within its probe window. A
 * machine not there gets the window's first empty slot or, none left, the
 * slot of the window's least recently seen machine; *fresh says so.
 */
static struct obs_live_machine *obs_live_machine(struct obs_live *l, const uint8_t mac[6],
						 bool *fresh)
{
	uint32_t home = mac_hash(mac) & (OBS_LIVE_MACHINES - 1);
	struct obs_live_machine *m, *oldest = NULL;

	*fresh = true;
	for (uint32_t i = 0; i < OBS_LIVE_PROBE; i++) {
		m = &l->machines[(home + i) & (OBS_LIVE_MACHINES - 1)];
		if (!m->used) {
			l->n_machines++;
			return m;
		}
		if (memcmp(m->mac, mac, 6) == 0) {
			*fresh = false;
			return m;
		}
		if (oldest == NULL || m->seen_seq < oldest->seen_seq)
			oldest = m;
	}
	l->machines_evicted++;
	return oldest;
}

size_t obs_live_machines_tracked(const struct obs_live *l)
{
	return l->n_machines;
}

uint64_t obs_live_machines_evicted(const struct obs_live *l)
{
	return l->machines_evicted;
}

/*
 * Follows one machine's events: a new session, its outcome (the first of
 * "booted" and "failed" wins), and DISCOVER to ACK: from the OFFER that
 * answered the DISCOVER to the next ACK.
 */
static void obs_live_count(struct obs_live *l, const struct store_event *e)
{
	struct obs_live_machine *m;
	bool fresh;

	if (l->metrics == NULL || !e->has_mac)
		return;
	m = obs_live_machine(l, e->mac, &fresh);
	/* obs/events.c tells sessions apart (a pause, or a DISCOVER after progress). */
	if (fresh || m->session != e->session) {
		*m = (struct obs_live_machine){.used = true, .session = e->session};
		memcpy(m->mac, e->mac, 6);
		metric_inc(l->metrics, METRIC_BOOT_STARTED);
	}
	m->seen_seq = l->last_seq;
	if (strcmp(e->kind, "offer") == 0 && e->ok) {
		m->offer_us = e->ts_us;
	} else if (strcmp(e->kind, "ack") == 0 && e->ok && m->offer_us != 0) {
		int64_t d = e->ts_us - m->offer_us;
		metric_observe_us(l->metrics, METRIC_HIST_DHCP_SECONDS, d > 0 ? (uint64_t)d : 0);
		m->offer_us = 0;
	}
	if (m->outcome != OBS_UNDECIDED)
		return;
	if (obs_event_boots(l->conf, e)) {
		m->outcome = OBS_BOOTED;
		metric_inc(l->metrics, METRIC_BOOT_BOOTED);
	} else if (obs_event_fails(e)) {
		m->outcome = OBS_FAILED;
		metric_inc(l->metrics, METRIC_BOOT_FAILED);
	}
}

/* --- events ------------------------------------------------------------- */

void obs_live_push(struct obs_live *l, const struct store_event *e)
{
	uint64_t seq = ++l->last_seq;

	l->ring[(seq - 1) % OBS_LIVE_EVENTS] = *e;
	obs_live_count(l, e);
	/* A subscriber may unsubscribe (itself or another) from its callback. */
	for (size_t i = 0; i < OBS_LIVE_SUBSCRIBERS; i++)
		if (l->subs[i].cb != NULL)
			l->subs[i].cb(l->subs[i].arg, seq, e);
}

uint64_t obs_live_last_seq(const struct obs_live *l)
{
	return l->last_seq;
}

int obs_live_since(const struct obs_live *l, uint64_t since,
		   int (*fn)(void *arg, uint64_t seq, const struct store_event *e), void *arg)
{
	uint64_t last = l->last_seq;
	uint64_t first = last > OBS_LIVE_EVENTS ? last - OBS_LIVE_EVENTS + 1 : 1;
	int rc;

	if (since >= last)
		return 0;
	if (since + 1 > first)
		first = since + 1;
	for (uint64_t s = first; s <= last; s++)
		if ((rc = fn(arg, s, &l->ring[(s - 1) % OBS_LIVE_EVENTS])) != 0)
			return rc;
	return 0;
}

int obs_live_subscribe(struct obs_live *l, obs_live_cb cb, void *arg)
{
	for (size_t i = 0; i < OBS_LIVE_SUBSCRIBERS; i++) {
		if (l->subs[i].cb == NULL) {
			l->subs[i] = (struct obs_live_sub){cb, arg};
			return 0;
		}
	}
	return -ENOSPC;
}

void obs_live_unsubscribe(struct obs_live *l, obs_live_cb cb, void *arg)
{
	for (size_t i = 0; i < OBS_LIVE_SUBSCRIBERS; i++)
		if (l->subs[i].cb == cb && l->subs[i].arg == arg)
			l->subs[i] = (struct obs_live_sub){NULL, NULL};
}
