/*
 * The store: leases and boot events, in SQLite in the state directory.
 * A lease write returns only once it is on stable storage (WAL + synchronous
 * FULL), so the ACK that grants it can leave afterwards (RFC 2131 §4.3.1).
 */
#ifndef PXED_STORE_STORE_H
#define PXED_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

struct store_lease {
	uint32_t ip; /* host order */
	uint8_t mac[6];
	int64_t expires; /* seconds since the epoch */
	char hostname[64];
};

struct store_event {
	int64_t ts_us; /* wall clock */
	uint8_t mac[6];
	bool has_mac;
	uint32_t ip;
	char proto[16];
	char kind[24];
	char detail[512];
	uint64_t bytes;
	uint64_t duration_us;
	bool ok;
};

/* Opens (creating if needed) state_dir/pxed.db. 0 or -errno / -EIO. */
int store_open(const char *state_dir, struct store **out);
void store_close(struct store *st);

/*
 * Group commit: between begin and commit, writes share one transaction and
 * none is durable until store_batch_commit() returns 0 (one fsync for all).
 * Reads inside the batch see its writes. A failed write makes the commit
 * fail and roll everything back. Without a batch, each write commits alone.
 */
int store_batch_begin(struct store *st);
int store_batch_commit(struct store *st);

/* 0 and *out, or -ENOENT, or -EIO. */
int store_lease_by_ip(struct store *st, uint32_t ip, struct store_lease *out);
int store_lease_by_mac(struct store *st, const uint8_t mac[6], struct store_lease *out);
/* Inserts or replaces the lease on ip; durable when it returns 0. */
int store_lease_put(struct store *st, const struct store_lease *l);
int store_lease_delete(struct store *st, uint32_t ip);
/*
 * A client declined ip (RFC 2131 §4.3.3: in use by someone else): the lease
 * is removed and the address kept out of the pool until `until` (epoch s).
 */
int store_lease_decline(struct store *st, uint32_t ip, int64_t until);
/* The end of ip's probation (epoch seconds), or 0 if it was never declined. */
int64_t store_declined_until(struct store *st, uint32_t ip);
/* Calls fn for every declined address; stops early if fn returns non-zero. */
int store_declined_each(struct store *st, int (*fn)(uint32_t ip, int64_t until, void *), void *arg);
/* Calls fn for every lease in address order; stops early if fn returns non-zero. */
int store_lease_each(struct store *st, int (*fn)(const struct store_lease *, void *), void *arg);

int store_event_add(struct store *st, const struct store_event *ev);
/* Calls fn for mac's events, oldest first, limited to the newest `limit`. */
int store_event_each(struct store *st, const uint8_t mac[6], size_t limit,
		     int (*fn)(const struct store_event *, void *), void *arg);

#endif
