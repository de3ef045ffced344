/*
 * The daemon's live state, for `pxed status`, `pxed events --follow`, the
 * JSON API and the dashboard: what is happening now, kept in memory and
 * bounded. The store keeps history; this keeps the present.
 *
 *   - transfers in progress (TFTP and HTTP), with their progress;
 *   - the last OBS_LIVE_EVENTS events, each with a sequence number, and
 *     subscribers called for every new one (streams).
 *
 * (Other DHCP servers seen on our segments live in dhcp/rogue.h.)
 * Everything here runs on the event loop's thread; nothing blocks.
 */
#ifndef PXED_OBS_LIVE_H
#define PXED_OBS_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct obs_live;
struct metrics;
struct conf;

/* Events kept in memory for streams that join late (the store has them all). */
#define OBS_LIVE_EVENTS 1024
/* Transfers tracked at once; more are still served, just not shown. */
#define OBS_LIVE_TRANSFERS 2048
/*
 * Machines whose boot session the counters follow at once (a power of two);
 * past that, the least recently seen nearby are forgotten (see live.c).
 */
#define OBS_LIVE_MACHINES 2048

/* One transfer in progress, as the status view shows it. */
struct obs_transfer {
	unsigned id;	/* > 0 while tracked */
	char proto[8];	/* "tftp", "http" */
	uint8_t mac[6]; /* valid when has_mac */
	bool has_mac;
	uint32_t ip;		      /* client, host order */
	char path[160];		      /* escaped */
	char what[16];		      /* "nbp", "kernel", "initrd", "script", "config", "file" */
	uint64_t size;		      /* bytes in the file; 0 when unknown */
	uint64_t bytes;		      /* bytes acknowledged (TFTP) or written (HTTP) so far */
	uint64_t start_us;	      /* wall clock, microseconds since the epoch */
	uint16_t blksize, windowsize; /* TFTP only */
};

/* Called for every new event; seq grows by one per event, from 1. */
typedef void (*obs_live_cb)(void *arg, uint64_t seq, const struct store_event *e);

int obs_live_new(struct obs_live **out);
void obs_live_free(struct obs_live *l);
/*
 * Lets the live state keep the counters that only the sequence of a
 * machine's events can tell (boot sessions, DISCOVER to ACK): m and c must
 * outlive l. Without it those counters stay at 0.
 */
void obs_live_attach(struct obs_live *l, struct metrics *m, const struct conf *c);
/* When the live state was made (the daemon's start), wall clock microseconds. */
int64_t obs_live_started_us(const struct obs_live *l);
/* Machines the session counters follow now (at most OBS_LIVE_MACHINES). */
size_t obs_live_machines_tracked(const struct obs_live *l);
/*
 * Machines forgotten to make room for another: each one's pending OFFER is
 * lost, and its next event counts as a new boot session.
 */
uint64_t obs_live_machines_evicted(const struct obs_live *l);

/* --- transfers: the TFTP and HTTP servers report theirs ---------------- */

/* Starts tracking; returns an id for the calls below, or 0 when the table is full. */
unsigned obs_transfer_begin(struct obs_live *l, const struct obs_transfer *t);
/* Bytes done so far (cheap: one store into the table). */
void obs_transfer_progress(struct obs_live *l, unsigned id, uint64_t bytes);
/* Stops tracking (id 0 is ignored). */
void obs_transfer_end(struct obs_live *l, unsigned id);
/* Copies up to cap transfers in progress into out, oldest first; returns how many. */
size_t obs_transfers(const struct obs_live *l, struct obs_transfer *out, size_t cap);
/* Transfers in progress with this proto ("tftp", "http") that the table tracks. */
size_t obs_transfers_active(const struct obs_live *l, const char *proto);

/* --- events: obs_event() feeds these ------------------------------------ */

/* Called by obs_event() for every event; assigns the next sequence number. */
void obs_live_push(struct obs_live *l, const struct store_event *e);

/* The sequence number of the newest event (0: none yet). */
uint64_t obs_live_last_seq(const struct obs_live *l);
/*
 * Calls fn for each event still in memory with a sequence number above
 * since, oldest first; stops early when fn returns non-zero.
 */
int obs_live_since(const struct obs_live *l, uint64_t since,
		   int (*fn)(void *arg, uint64_t seq, const struct store_event *e), void *arg);
/* Adds or removes a subscriber (at most OBS_LIVE_SUBSCRIBERS). 0, or -ENOSPC. */
#define OBS_LIVE_SUBSCRIBERS 64
int obs_live_subscribe(struct obs_live *l, obs_live_cb cb, void *arg);
void obs_live_unsubscribe(struct obs_live *l, obs_live_cb cb, void *arg);

/* --- what a machine's events mean (pure; the API's machine states too) ---- */

/*
 * The step that completes a boot: a whole transfer (GET, not HEAD) of the
 * last file of the profile its path names: files/<profile>/initrd<N-1>, or
 * files/<profile>/kernel for a profile without initrds. c may be NULL: never.
 */
bool obs_event_boots(const struct conf *c, const struct store_event *e);
/*
 * A boot step that failed: a transfer (unless the client ended it itself,
 * as EDK2 does after its tsize probe: e->expected), or a DISCOVER or
 * REQUEST that got nothing (no address left, no boot plan, a store
 * failure). NAK, DECLINE, a refused probe for an optional file,
 * "chose-other", uploads and rogue servers are not.
 */
bool obs_event_fails(const struct store_event *e);
/*
 * The profile of an event: the one a DHCP decision named, or the one a
 * transfer's path names (files/<profile>/...), copied into out; false when
 * neither says.
 */
bool obs_event_profile(const struct store_event *e, char *out, size_t cap);

#endif
