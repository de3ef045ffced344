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
};

struct dhcp_pool {
	uint32_t first, last; /* host order, inclusive */
	uint32_t size;
	struct pool_slot *slots;
	uint32_t cursor;  /* next-fit: where the last search stopped */
	uint32_t *by_mac; /* open addressing: slot index + 1, 0 = empty */
	uint32_t mask;	  /* table size - 1 (a power of two) */
	uint32_t n_leased;
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

/* The address most recently given to mac in this pool (any state), or 0. */
uint32_t pool_by_mac(const struct dhcp_pool *p, const uint8_t mac[6]);

/* May mac have ip at time now? (Free, expired, or already mac's.) */
bool pool_usable(const struct dhcp_pool *p, uint32_t ip, const uint8_t mac[6], int64_t now);

/* The next address nobody holds at time now (next-fit), or 0 when full. */
uint32_t pool_find_free(struct dhcp_pool *p, int64_t now);

/*
 * Under a DISCOVER flood: the next address held only by an offer that is
 * brief, or that was made at least min_age_s ago (until - hold_s is when),
 * so that the flood's offers cannot hold the pool. 0 when there is none.
 */
uint32_t pool_find_reclaimable(struct dhcp_pool *p, int64_t now, int64_t hold_s, int64_t min_age_s);

/*
 * Leases held at time now (expired ones do not count); cheap while the
 * pool's lease counter is below limit, one pass over the pool otherwise.
 */
bool pool_at_lease_limit(const struct dhcp_pool *p, uint32_t limit, int64_t now);

/* A pool's addresses by state at time now, for the status view and the metrics. */
struct pool_counts {
	uint32_t leased, offered, declined, reserved;
	uint32_t free; /* nobody holds it: never given, released, or expired */
};

/* Counts every address (one pass over the pool: read-only, no allocation). */
void pool_count(const struct dhcp_pool *p, int64_t now, struct pool_counts *out);

#endif
