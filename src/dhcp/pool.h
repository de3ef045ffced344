/*
 * The state of every address of a pool, in memory: free, leased, offered,
 * declined or reserved, with its MAC and until when. The store stays the
 * source of truth (loaded at start, written before each ACK); this index
 * only answers "which address?" without a query per address.
 */
#ifndef PXED_DHCP_POOL_H
#define PXED_DHCP_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pool_state {
	POOL_FREE = 0,
	POOL_LEASED,   /* until = lease expiry (epoch s) */
	POOL_OFFERED,  /* until = end of the offer's hold */
	POOL_DECLINED, /* until = end of the probation */
	POOL_RESERVED, /* for mac only, always */
};

struct pool_slot {
	uint8_t mac[6];
	uint8_t state;
	/*
	 * POOL_OFFERED only: an offer made while new clients came faster than
	 * the server's budget (a DISCOVER flood). It binds nobody: any client
	 * may request the address, and another new client may be offered it.
	 */
	bool brief;
	int64_t until;
	int64_t made; /* POOL_OFFERED only: when the offer was made (epoch s) */
};

struct dhcp_pool {
	uint32_t first, last; /* host order, inclusive */
	uint32_t size;
	struct pool_slot *slots;
	uint32_t cursor;   /* next-fit: where the last search stopped */
	uint32_t *by_mac;  /* open addressing: slot index + 1, 0 = empty */
	uint32_t mask;	   /* table size - 1 (a power of two) */
	uint32_t n_leased; /* POOL_LEASED slots, expired ones included */
	/*
	 * Nothing is reclaimable before this time (epoch s): set when a search
	 * for a reclaimable offer fails, so a flood does not rescan the pool.
	 */
	int64_t reclaim_after;
	/* Unexpired leases counted at second live_at (-1: not counted), and full counts made. */
	int64_t live_at;
	uint32_t live_leased;
	uint64_t n_scans;
};

int pool_init(struct dhcp_pool *p, uint32_t first, uint32_t last);
void pool_fini(struct dhcp_pool *p);
/* Back to all-free, keeping the allocation (to reload from the store). */
void pool_reset(struct dhcp_pool *p);

static inline bool pool_contains(const struct dhcp_pool *p, uint32_t ip)
{
	return p->size > 0 && ip >= p->first && ip <= p->last;
}

/* The slot of ip, or NULL outside the pool. */
struct pool_slot *pool_at(struct dhcp_pool *p, uint32_t ip);

/*
 * Sets ip's state. mac may be NULL for states that belong to nobody; with
 * POOL_FREE it is remembered as the previous holder.
 */
void pool_set(struct dhcp_pool *p, uint32_t ip, enum pool_state st, const uint8_t *mac,
	      int64_t until);

/*
 * Holds ip for mac's offer from now until `until`. A brief offer (a DISCOVER
 * flood) binds nobody: any client may request it, and it may be offered
 * again (pool_find_reclaimable) once old enough.
 */
void pool_offer(struct dhcp_pool *p, uint32_t ip, const uint8_t mac[6], int64_t now, int64_t until,
		bool brief);

/*
 * Copies src's offers that still hold at time now, and whose address is in
 * dst and free there, into dst (a pool built again with another range keeps
 * the offers of the boot in progress). Made, until and brief are kept.
 */
void pool_take_offers(struct dhcp_pool *dst, const struct dhcp_pool *src, int64_t now);

/* The address most recently given to mac in this pool (any state), or 0. */
uint32_t pool_by_mac(const struct dhcp_pool *p, const uint8_t mac[6]);

/* May mac have ip at time now? (Free, expired, or already mac's.) */
bool pool_usable(const struct dhcp_pool *p, uint32_t ip, const uint8_t mac[6], int64_t now);

/* The next address nobody holds at time now (next-fit), or 0 when full. */
uint32_t pool_find_free(struct dhcp_pool *p, int64_t now);

/*
 * Under a DISCOVER flood: the next address held only by an offer (brief, or
 * made before the flood was seen) made at least min_age_s ago, so that the
 * flood's offers cannot hold the pool while a real client has time to
 * request its offer. 0 when there is none (and then, until the oldest offer
 * is old enough, 0 without a search).
 */
uint32_t pool_find_reclaimable(struct dhcp_pool *p, int64_t now, int64_t min_age_s);

/*
 * Are `limit` leases held at time now (expired ones do not count)? Cheap
 * while the pool's lease counter is below limit; otherwise one pass over the
 * pool, at most once a second while no lease changes.
 */
bool pool_at_lease_limit(struct dhcp_pool *p, uint32_t limit, int64_t now);

/*
 * Unexpired leases at time now: one pass over the pool, at most once a
 * second while no lease changes (n_leased is the cheap upper bound).
 */
uint32_t pool_live_leases(struct dhcp_pool *p, int64_t now);

/* A pool's addresses by state at time now, for the status view and the metrics. */
struct pool_counts {
	uint32_t leased, offered, declined, reserved;
	uint32_t free; /* nobody holds it: never given, released, or expired */
};

/* Counts every address (one pass over the pool: read-only, no allocation). */
void pool_count(const struct dhcp_pool *p, int64_t now, struct pool_counts *out);

#endif
