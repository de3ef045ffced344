/*
 * Rate limits keyed by a client's MAC or IPv4 address: one token bucket per
 * key, in a table whose size is fixed at creation, so a flood of new keys
 * costs no memory, only evictions. Pure: the caller passes the time (a
 * monotonic clock in microseconds), so tests use a fake one.
 *
 * Each bucket is kept as a theoretical arrival time (GCRA, the token bucket
 * in one number): a key may send `burst` packets at once, then one every
 * 1/rate seconds. A key not in the table starts with a full bucket.
 *
 * The table is set-associative: a key lives in one of RATELIMIT_WAYS slots
 * chosen by its hash. A new key takes a free slot, else the slot whose
 * bucket is fullest (the key least recently limited, or idle longest); a
 * key evicted that way starts over with a full bucket, as a new one would.
 */
#ifndef PXED_CORE_RATELIMIT_H
#define PXED_CORE_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest key compared in full: an IPv6 address. Longer keys are cut here. */
#define RATELIMIT_KEY_MAX 16
/* Slots a key may occupy (searched on every call). */
#define RATELIMIT_WAYS 8
/* Largest rate accepted: one packet per microsecond. */
#define RATELIMIT_RATE_MAX 1000000u

struct ratelimit;

/*
 * A table of at least `capacity` keys (rounded up to a power of two, at
 * least RATELIMIT_WAYS), each allowed rate_per_s packets a second in bursts
 * of up to `burst`. NULL when out of memory or a value is out of range
 * (capacity 0 or over 2^24, rate 0 or over RATELIMIT_RATE_MAX, burst 0).
 */
struct ratelimit *ratelimit_new(size_t capacity, uint32_t rate_per_s, uint32_t burst);
/*
 * The rule of every `rate_*` config key: 0 turns the limit off (*out NULL),
 * else rate_per_s in bursts of twice that. 0, or -ENOMEM.
 */
int ratelimit_from_conf(size_t capacity, uint32_t rate_per_s, struct ratelimit **out);
void ratelimit_free(struct ratelimit *rl);

/*
 * Takes one token from key's bucket at time now_us: true when there was
 * one (the packet may pass), false when the key is over its rate. A NULL
 * table (a limit that is off) allows everything. now_us must not go back.
 */
bool ratelimit_allow(struct ratelimit *rl, const void *key, size_t key_len, uint64_t now_us);

/* Keys in the table now, and the table's whole allocation in bytes. */
size_t ratelimit_keys(const struct ratelimit *rl);
size_t ratelimit_bytes(const struct ratelimit *rl);

#endif
