/* The token-bucket table of core/ratelimit.h, on a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/ratelimit.h"

static const uint8_t mac_a[6] = {0x52, 0x54, 0, 0, 0, 1};
static const uint8_t mac_b[6] = {0x52, 0x54, 0, 0, 0, 2};

/* How many of n packets at time now pass. */
static unsigned passed(struct ratelimit *rl, const void *key, size_t len, unsigned n, uint64_t now)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++)
		k += ratelimit_allow(rl, key, len, now);
	return k;
}

static void test_bad_parameters(void **state)
{
	(void)state;
	assert_null(ratelimit_new(0, 10, 10));
	assert_null(ratelimit_new(16, 0, 10));
	assert_null(ratelimit_new(16, 10, 0));
	assert_null(ratelimit_new(16, RATELIMIT_RATE_MAX + 1, 1));
	assert_null(ratelimit_new((1u << 24) + 1, 10, 10));
	/* A limit that is off is a NULL table: everything passes. */
	assert_true(ratelimit_allow(NULL, mac_a, 6, 0));
	assert_int_equal(ratelimit_keys(NULL), 0);
}

/* A burst, then one packet per interval; an empty bucket refills with time. */
static void test_burst_then_rate(void **state)
{
	struct ratelimit *rl = ratelimit_new(64, 10, 5); /* 10/s: one per 100 ms */
	uint64_t t = 1000000;

	(void)state;
	assert_non_null(rl);
	assert_int_equal(passed(rl, mac_a, 6, 20, t), 5);
	/* 99 ms later: still nothing; at 100 ms exactly one more. */
	assert_int_equal(passed(rl, mac_a, 6, 3, t + 99999), 0);
	assert_int_equal(passed(rl, mac_a, 6, 3, t + 100000), 1);
	/* Another key is not affected. */
	assert_int_equal(passed(rl, mac_b, 6, 20, t + 100000), 5);
	/* A long silence refills the bucket to the burst, not beyond. */
	assert_int_equal(passed(rl, mac_a, 6, 20, t + 60000000), 5);
	/* A steady 10/s passes in full: one every 100 ms for 10 s. */
	unsigned k = 0;
	for (uint64_t ms = 0; ms < 10000; ms += 100)
		k += passed(rl, mac_b, 6, 1, t + 120000000 + ms * 1000);
	assert_int_equal(k, 100);
	/* 10 s at 1,000 packets a second: 10/s of them pass, plus the burst. */
	k = 0;
	for (uint64_t ms = 0; ms < 10000; ms++)
		k += passed(rl, mac_a, 6, 1, t + 200000000 + ms * 1000);
	assert_in_range(k, 100, 105);
	ratelimit_free(rl);
}

/* Keys of different lengths never match; an IPv4 key is 4 bytes. */
static void test_key_lengths(void **state)
{
	struct ratelimit *rl = ratelimit_new(64, 1, 1);
	const uint8_t ip[4] = {10, 77, 110, 20};
	uint8_t long_key[40];

	(void)state;
	assert_true(ratelimit_allow(rl, ip, 4, 0));
	assert_false(ratelimit_allow(rl, ip, 4, 0));
	assert_true(ratelimit_allow(rl, ip, 3, 0)); /* a different key */
	/* Keys longer than RATELIMIT_KEY_MAX are compared by their first 16 bytes. */
	memset(long_key, 7, sizeof(long_key));
	assert_true(ratelimit_allow(rl, long_key, sizeof(long_key), 0));
	long_key[39] = 8;
	assert_false(ratelimit_allow(rl, long_key, sizeof(long_key), 0));
	/* An empty key cannot be told apart from others: not limited. */
	assert_true(ratelimit_allow(rl, ip, 0, 0));
	assert_true(ratelimit_allow(rl, ip, 0, 0));
	ratelimit_free(rl);
}

/*
 * 100,000 random MACs: the table never grows past its size, the memory is
 * what it was at creation, and a key that keeps sending after the flood is
 * limited again at once.
 */
static void test_flood_bounded(void **state)
{
	struct ratelimit *rl = ratelimit_new(1000, 5, 10);
	size_t bytes;
	uint64_t t = 0;
	uint32_t x = 12345;

	(void)state;
	assert_non_null(rl);
	bytes = ratelimit_bytes(rl);
	assert_true(bytes < 1024 * 64); /* 1024 slots of 32 bytes */
	for (int i = 0; i < 100000; i++) {
		uint8_t mac[6] = {0x52, 0x54};
		x = x * 1103515245u + 12345u;
		memcpy(mac + 2, &x, 4);
		assert_true(ratelimit_allow(rl, mac, 6, t)); /* each new MAC: a full bucket */
		t += 10;
	}
	assert_true(ratelimit_keys(rl) <= 1024);
	assert_int_equal(ratelimit_bytes(rl), bytes);
	/* One MAC that floods is held to its burst, whatever the others did. */
	assert_int_equal(passed(rl, mac_a, 6, 100, t), 10);
	ratelimit_free(rl);
}

/* Eviction takes the fullest bucket: a key being limited stays limited. */
static void test_eviction_keeps_limited_keys(void **state)
{
	struct ratelimit *rl = ratelimit_new(8, 1, 2); /* one set of 8 ways */
	uint64_t t = 5000000;

	(void)state;
	assert_int_equal(passed(rl, mac_a, 6, 10, t), 2); /* mac_a is now limited */
	/* Seven idle keys fill the set; an eighth new key must evict one of them. */
	for (uint8_t i = 0; i < 8; i++) {
		const uint8_t k[6] = {0x02, 0, 0, 0, 0, i};
		assert_true(ratelimit_allow(rl, k, 6, t));
	}
	assert_int_equal(ratelimit_keys(rl), 8);
	assert_false(ratelimit_allow(rl, mac_a, 6, t));
	ratelimit_free(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_parameters),
	    cmocka_unit_test(test_burst_then_rate),
	    cmocka_unit_test(test_key_lengths),
	    cmocka_unit_test(test_flood_bounded),
	    cmocka_unit_test(test_eviction_keeps_limited_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
