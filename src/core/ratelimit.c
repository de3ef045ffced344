#include "core/ratelimit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

struct ratelimit_slot {
	uint64_t tat; /* when the bucket is full again (GCRA's theoretical arrival time) */
	uint8_t key[RATELIMIT_KEY_MAX];
	uint8_t key_len; /* 0: the slot is free */
};

struct ratelimit {
	uint64_t interval_us;  /* one token is earned every interval_us */
	uint64_t tolerance_us; /* (burst - 1) intervals: how far tat may run ahead */
	size_t n_sets;	       /* a power of two */
	size_t n_keys;
	struct ratelimit_slot slots[]; /* n_sets * RATELIMIT_WAYS */
};

struct ratelimit *ratelimit_new(size_t capacity, uint32_t rate_per_s, uint32_t burst)
{
	size_t sets = 1;
	struct ratelimit *rl;

	if (capacity == 0 || capacity > (1u << 24) || rate_per_s == 0 ||
	    rate_per_s > RATELIMIT_RATE_MAX || burst == 0)
		return NULL;
	while (sets * RATELIMIT_WAYS < capacity)
		sets <<= 1;
	rl = calloc(1, sizeof(*rl) + sets * RATELIMIT_WAYS * sizeof(rl->slots[0]));
	if (rl == NULL)
		return NULL;
	rl->interval_us = 1000000u / rate_per_s;
	rl->tolerance_us = rl->interval_us * (uint64_t)(burst - 1);
	rl->n_sets = sets;
	return rl;
}

int ratelimit_from_conf(size_t capacity, uint32_t rate_per_s, struct ratelimit **out)
{
	*out = rate_per_s != 0 ? ratelimit_new(capacity, rate_per_s, 2 * rate_per_s) : NULL;
	return rate_per_s == 0 || *out != NULL ? 0 : -ENOMEM;
}

void ratelimit_free(struct ratelimit *rl)
{
	free(rl);
}

/* key's slot in its set, or the one it should take (free, else the fullest bucket). */
static struct ratelimit_slot *ratelimit_find(struct ratelimit *rl, const uint8_t *key, size_t len,
					     bool *found)
{
	/*
	 * FNV-1a: keys are MACs and addresses, not chosen to collide on purpose,
	 * and if they are, the worst is an evicted key that starts over full.
	 */
	size_t set = fnv1a32(key, len) & (rl->n_sets - 1);
	struct ratelimit_slot *s = &rl->slots[set * RATELIMIT_WAYS], *victim = NULL;

	for (size_t i = 0; i < RATELIMIT_WAYS; i++) {
		if (s[i].key_len == len && memcmp(s[i].key, key, len) == 0) {
			*found = true;
			return &s[i];
		}
		if (s[i].key_len == 0) {
			if (victim == NULL || victim->key_len != 0)
				victim = &s[i];
		} else if (victim == NULL || (victim->key_len != 0 && s[i].tat < victim->tat)) {
			victim = &s[i];
		}
	}
	*found = false;
	return victim;
}

bool ratelimit_allow(struct ratelimit *rl, const void *key, size_t key_len, uint64_t now_us)
{
	struct ratelimit_slot *s;
	bool found;
	uint64_t tat;

	if (rl == NULL)
		return true;
	if (key_len > RATELIMIT_KEY_MAX)
		key_len = RATELIMIT_KEY_MAX;
	if (key_len == 0)
		return true; /* nothing to tell clients apart by */
	s = ratelimit_find(rl, key, key_len, &found);
	if (!found) {
		/* A new key, or one evicted earlier: a full bucket. */
		rl->n_keys += s->key_len == 0;
		memcpy(s->key, key, key_len);
		s->key_len = (uint8_t)key_len;
		s->tat = now_us;
	}
	tat = s->tat > now_us ? s->tat : now_us;
	if (tat - now_us > rl->tolerance_us)
		return false; /* the bucket is empty: no token taken */
	s->tat = tat + rl->interval_us;
	return true;
}

size_t ratelimit_keys(const struct ratelimit *rl)
{
	return rl != NULL ? rl->n_keys : 0;
}

size_t ratelimit_bytes(const struct ratelimit *rl)
{
	if (rl == NULL)
		return 0;
	return sizeof(*rl) + rl->n_sets * RATELIMIT_WAYS * sizeof(rl->slots[0]);
}
