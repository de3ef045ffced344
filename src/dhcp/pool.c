#include "dhcp/pool.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

int pool_init(struct dhcp_pool *p, uint32_t first, uint32_t last)
{
	memset(p, 0, sizeof(*p));
	p->live_at = -1;
	if (first == 0 || last < first || last - first >= (1u << 24))
		return -EINVAL;
	p->first = first;
	p->last = last;
	p->size = last - first + 1;
	uint32_t cap = 16;
	while (cap < p->size * 2)
		cap <<= 1;
	p->slots = calloc(p->size, sizeof(*p->slots));
	p->by_mac = calloc(cap, sizeof(*p->by_mac));
	p->mask = cap - 1;
	if (p->slots == NULL || p->by_mac == NULL) {
		pool_fini(p);
		return -ENOMEM;
	}
	return 0;
}

void pool_fini(struct dhcp_pool *p)
{
	free(p->slots);
	free(p->by_mac);
	memset(p, 0, sizeof(*p));
}

void pool_reset(struct dhcp_pool *p)
{
	memset(p->slots, 0, p->size * sizeof(*p->slots));
	memset(p->by_mac, 0, (p->mask + 1) * sizeof(*p->by_mac));
	p->cursor = 0;
	p->n_leased = 0;
	p->reclaim_after = 0;
	p->live_at = -1;
}

struct pool_slot *pool_at(struct dhcp_pool *p, uint32_t ip)
{
	return pool_contains(p, ip) ? &p->slots[ip - p->first] : NULL;
}

/* The bucket holding mac, or the empty bucket where it would go. */
static uint32_t pool_bucket(const struct dhcp_pool *p, const uint8_t mac[6])
{
	uint32_t b = mac_hash(mac) & p->mask;
	while (p->by_mac[b] != 0 && memcmp(p->slots[p->by_mac[b] - 1].mac, mac, 6) != 0)
		b = (b + 1) & p->mask;
	return b;
}

/* Removes bucket b, shifting later entries of its run back (no tombstones). */
static void pool_unindex_bucket(struct dhcp_pool *p, uint32_t b)
{
	uint32_t next = (b + 1) & p->mask;
	p->by_mac[b] = 0;
	while (p->by_mac[next] != 0) {
		uint32_t entry = p->by_mac[next];
		uint32_t home = mac_hash(p->slots[entry - 1].mac) & p->mask;
		/* Move it back unless its home lies cyclically in (b, next]. */
		bool stays = b <= next ? (home > b && home <= next) : (home > b || home <= next);
		if (!stays) {
			p->by_mac[b] = entry;
			p->by_mac[next] = 0;
			b = next;
		}
		next = (next + 1) & p->mask;
	}
}

/* Drops idx from the MAC index if the index points at it. */
static void pool_unindex(struct dhcp_pool *p, uint32_t idx)
{
	uint32_t b = pool_bucket(p, p->slots[idx].mac);
	if (p->by_mac[b] == idx + 1)
		pool_unindex_bucket(p, b);
}

void pool_set(struct dhcp_pool *p, uint32_t ip, enum pool_state st, const uint8_t *mac,
	      int64_t until)
{
	struct pool_slot *s = pool_at(p, ip);
	if (s == NULL)
		return;
	uint32_t idx = ip - p->first;
	pool_unindex(p, idx);
	if (s->state == POOL_LEASED || st == POOL_LEASED)
		p->live_at = -1; /* the count of unexpired leases changes */
	p->reclaim_after = 0;
	p->n_leased -= s->state == POOL_LEASED;
	p->n_leased += st == POOL_LEASED;
	s->state = (uint8_t)st;
	s->brief = false;
	s->until = until;
	s->made = 0;
	memset(s->mac, 0, 6);
	/*
	 * A freed address keeps its last MAC, so a client that comes back is
	 * offered its previous address while nobody else took it (RFC 2131 §4.3.1).
	 */
	if (mac == NULL)
		return;
	memcpy(s->mac, mac, 6);
	/* The newest address of a MAC wins the index entry. */
	uint32_t b = pool_bucket(p, mac);
	p->by_mac[b] = idx + 1;
}

void pool_offer(struct dhcp_pool *p, uint32_t ip, const uint8_t mac[6], int64_t now, int64_t until,
		bool brief)
{
	struct pool_slot *s = pool_at(p, ip);
	if (s == NULL)
		return;
	pool_set(p, ip, POOL_OFFERED, mac, until);
	s->brief = brief;
	s->made = now;
}

void pool_take_offers(struct dhcp_pool *dst, const struct dhcp_pool *src, int64_t now)
{
	for (uint32_t i = 0; i < src->size; i++) {
		const struct pool_slot *s = &src->slots[i];
		uint32_t ip = src->first + i;
		const struct pool_slot *d = pool_at(dst, ip);
		if (s->state == POOL_OFFERED && s->until > now && d != NULL &&
		    d->state == POOL_FREE)
			pool_offer(dst, ip, s->mac, s->made, s->until, s->brief);
	}
}

uint32_t pool_by_mac(const struct dhcp_pool *p, const uint8_t mac[6])
{
	if (p->size == 0)
		return 0;
	uint32_t b = pool_bucket(p, mac);
	return p->by_mac[b] != 0 ? p->first + p->by_mac[b] - 1 : 0;
}

bool pool_usable(const struct dhcp_pool *p, uint32_t ip, const uint8_t mac[6], int64_t now)
{
	if (!pool_contains(p, ip))
		return false;
	const struct pool_slot *s = &p->slots[ip - p->first];
	switch (s->state) {
	case POOL_FREE:
		return true;
	case POOL_RESERVED:
		return memcmp(s->mac, mac, 6) == 0;
	case POOL_DECLINED:
		return s->until <= now;
	case POOL_OFFERED:
		/* A brief offer (a flood was on) binds nobody: the first REQUEST wins. */
		return s->brief || memcmp(s->mac, mac, 6) == 0 || s->until <= now;
	default: /* leased: to this client, or expired */
		return memcmp(s->mac, mac, 6) == 0 || s->until <= now;
	}
}

uint32_t pool_find_free(struct dhcp_pool *p, int64_t now)
{
	for (uint32_t n = 0; n < p->size; n++) {
		uint32_t idx = (p->cursor + n) % p->size;
		const struct pool_slot *s = &p->slots[idx];
		bool free_now =
		    s->state == POOL_FREE || (s->state != POOL_RESERVED && s->until <= now);
		if (free_now) {
			p->cursor = (idx + 1) % p->size;
			return p->first + idx;
		}
	}
	return 0;
}

uint32_t pool_find_reclaimable(struct dhcp_pool *p, int64_t now, int64_t min_age_s)
{
	int64_t next = INT64_MAX; /* when the youngest brief offer seen becomes reclaimable */

	if (now < p->reclaim_after)
		return 0;
	for (uint32_t n = 0; n < p->size; n++) {
		uint32_t idx = (p->cursor + n) % p->size;
		const struct pool_slot *s = &p->slots[idx];
		if (s->state != POOL_OFFERED)
			continue;
		if (s->until <= now || s->made + min_age_s <= now) {
			p->cursor = (idx + 1) % p->size;
			return p->first + idx;
		}
		if (s->made + min_age_s < next)
			next = s->made + min_age_s;
	}
	/* Offers made from now on are younger: none is reclaimable before next. */
	p->reclaim_after = next;
	return 0;
}

uint32_t pool_live_leases(struct dhcp_pool *p, int64_t now)
{
	struct pool_counts k;

	if (p->live_at != now) {
		pool_count(p, now, &k);
		p->live_leased = k.leased;
		p->live_at = now;
		p->n_scans++;
	}
	return p->live_leased;
}

bool pool_at_lease_limit(struct dhcp_pool *p, uint32_t limit, int64_t now)
{
	/* n_leased also counts leases that expired in place: count the live ones. */
	return limit != 0 && p->n_leased >= limit && pool_live_leases(p, now) >= limit;
}

void pool_count(const struct dhcp_pool *p, int64_t now, struct pool_counts *out)
{
	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < p->size; i++) {
		const struct pool_slot *s = &p->slots[i];
		/* A reservation holds its address for good; anything else only until `until`. */
		bool held = s->state == POOL_RESERVED || (s->state != POOL_FREE && s->until > now);
		if (!held)
			out->free++;
		else if (s->state == POOL_LEASED)
			out->leased++;
		else if (s->state == POOL_OFFERED)
			out->offered++;
		else if (s->state == POOL_DECLINED)
			out->declined++;
		else
			out->reserved++;
	}
}
