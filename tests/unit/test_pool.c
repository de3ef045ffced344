/* The in-memory pool index: states, next-fit allocation, and the MAC index. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dhcp/pool.h"

#define BASE 0x0a000064u /* 10.0.0.100 */

static void mac_of(uint32_t n, uint8_t mac[6])
{
	const uint8_t m[6] = {
	    0x52, 0x54, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
	memcpy(mac, m, 6);
}

static void test_states_and_usable(void **state)
{
	struct dhcp_pool p;
	uint8_t a[6], b[6];
	mac_of(1, a);
	mac_of(2, b);
	assert_int_equal(pool_init(&p, BASE, BASE + 9), 0);
	assert_false(pool_contains(&p, BASE - 1));
	assert_true(pool_usable(&p, BASE, a, 1000));
	pool_set(&p, BASE, POOL_LEASED, a, 2000);
	assert_true(pool_usable(&p, BASE, a, 1000));  /* its own */
	assert_false(pool_usable(&p, BASE, b, 1000)); /* somebody else's */
	assert_true(pool_usable(&p, BASE, b, 2000));  /* expired */
	pool_set(&p, BASE + 1, POOL_RESERVED, b, 0);
	assert_false(pool_usable(&p, BASE + 1, a, 99999));
	assert_true(pool_usable(&p, BASE + 1, b, 0));
	pool_set(&p, BASE + 2, POOL_DECLINED, NULL, 1500);
	assert_false(pool_usable(&p, BASE + 2, a, 1000));
	assert_true(pool_usable(&p, BASE + 2, a, 1500));
	assert_int_equal(p.n_leased, 1);
	pool_set(&p, BASE, POOL_FREE, a, 0);
	assert_int_equal(p.n_leased, 0);
	/* A freed address remembers its client, for its return. */
	assert_int_equal(pool_by_mac(&p, a), BASE);
	pool_fini(&p);
}

static void test_next_fit(void **state)
{
	struct dhcp_pool p;
	uint8_t m[6];
	assert_int_equal(pool_init(&p, BASE, BASE + 3), 0);
	pool_set(&p, BASE + 1, POOL_RESERVED, (mac_of(9, m), m), 0);
	uint32_t got[3];
	for (int i = 0; i < 3; i++) {
		got[i] = pool_find_free(&p, 100);
		mac_of((uint32_t)i, m);
		pool_set(&p, got[i], POOL_LEASED, m, 200);
	}
	assert_int_equal(got[0], BASE);
	assert_int_equal(got[1], BASE + 2); /* the reservation is skipped */
	assert_int_equal(got[2], BASE + 3);
	assert_int_equal(pool_find_free(&p, 100), 0); /* full */
	/* Once leases expire their addresses come back, next-fit from the cursor. */
	assert_int_equal(pool_find_free(&p, 200), BASE);
	pool_fini(&p);
}

/* The MAC index against a brute-force model, through many sets and frees. */
static void test_mac_index_model(void **state)
{
	enum { N = 512, STEPS = 20000 };
	struct dhcp_pool p;
	uint32_t owner[N]; /* model: client number + 1 holding each address, 0 = none */
	uint8_t m[6];
	memset(owner, 0, sizeof(owner));
	assert_int_equal(pool_init(&p, BASE, BASE + N - 1), 0);
	srand(7);
	for (int step = 0; step < STEPS; step++) {
		uint32_t i = (uint32_t)rand() % N, client = (uint32_t)rand() % (N / 2);
		mac_of(client, m);
		if (rand() % 3 == 0) {
			pool_set(&p, BASE + i, POOL_DECLINED, NULL, 0);
			owner[i] = 0;
		} else {
			/* A client moves: its previous address is freed, as the server does. */
			uint32_t old = pool_by_mac(&p, m);
			if (old != 0 && owner[old - BASE] == client + 1) {
				pool_set(&p, old, POOL_DECLINED, NULL, 0);
				owner[old - BASE] = 0;
			}
			pool_set(&p, BASE + i, POOL_LEASED, m, 1);
			owner[i] = client + 1;
		}
	}
	for (uint32_t c = 0; c < N / 2; c++) {
		uint32_t want = 0;
		for (uint32_t i = 0; i < N; i++)
			if (owner[i] == c + 1)
				want = BASE + i;
		mac_of(c, m);
		if (pool_by_mac(&p, m) != want)
			fail_msg("client %u: index says %x, model %x", c, pool_by_mac(&p, m), want);
	}
	pool_fini(&p);
}

/*
 * Brief offers (a DISCOVER flood) bind nobody; under a flood they, and the
 * offers made before it, may be offered again once min_age old, not sooner.
 */
static void test_brief_offers_and_limits(void **state)
{
	struct dhcp_pool p;
	uint8_t a[6], b[6];
	mac_of(1, a);
	mac_of(2, b);
	assert_int_equal(pool_init(&p, BASE, BASE + 2), 0);
	pool_offer(&p, BASE, a, 1000, 1060, false); /* held 60 s from 1000 */
	pool_offer(&p, BASE + 1, a, 1000, 1005, true);
	pool_set(&p, BASE + 2, POOL_LEASED, b, 5000);
	assert_false(pool_usable(&p, BASE, b, 1001));	 /* a held offer is a's */
	assert_true(pool_usable(&p, BASE + 1, b, 1001)); /* a brief one is anyone's */
	assert_int_equal(pool_find_free(&p, 1001), 0);
	/* Neither at age 0 nor 1; both at 2 (next-fit from the cursor). */
	assert_int_equal(pool_find_reclaimable(&p, 1000, 2), 0);
	assert_int_equal(pool_find_reclaimable(&p, 1001, 2), 0);
	assert_int_equal(p.reclaim_after, 1002); /* no search again before then */
	assert_int_equal(pool_find_reclaimable(&p, 1002, 2), BASE);
	pool_offer(&p, BASE, b, 1002, 1007, true);
	assert_int_equal(pool_find_reclaimable(&p, 1002, 2), BASE + 1);
	pool_offer(&p, BASE + 1, b, 1002, 1007, true);
	assert_int_equal(pool_find_reclaimable(&p, 1003, 2), 0);
	assert_int_equal(pool_find_reclaimable(&p, 1004, 2), BASE);
	/* Leases are never taken back. */
	pool_set(&p, BASE, POOL_LEASED, a, 5000);
	pool_set(&p, BASE + 1, POOL_LEASED, a, 5000);
	assert_int_equal(pool_find_reclaimable(&p, 1060, 2), 0);
	/* A new state clears brief. */
	assert_false(pool_at(&p, BASE + 1)->brief);
	assert_true(pool_at_lease_limit(&p, 3, 1002));
	assert_false(pool_at_lease_limit(&p, 4, 1002));
	assert_false(pool_at_lease_limit(&p, 0, 1002));
	/* Expired leases still count in n_leased, not against the limit. */
	assert_false(pool_at_lease_limit(&p, 3, 5000));
	pool_fini(&p);
}

/*
 * At a subnet's lease limit every new client's packet asks whether the limit
 * is reached: the pool is counted at most once a second while no lease
 * changes, not once per packet.
 */
static void test_lease_limit_counts_once_a_second(void **state)
{
	struct dhcp_pool p;
	uint8_t a[6];
	assert_int_equal(pool_init(&p, BASE, BASE + 999), 0);
	for (uint32_t i = 0; i < 10; i++) {
		mac_of(i, a);
		pool_set(&p, BASE + i, POOL_LEASED, a, 2000 + i);
	}
	for (int i = 0; i < 1000; i++)
		assert_true(pool_at_lease_limit(&p, 10, 1000));
	assert_int_equal(p.n_scans, 1);
	assert_true(pool_at_lease_limit(&p, 10, 1001));
	assert_int_equal(p.n_scans, 2);
	/* A lease that changes is counted at once. */
	pool_set(&p, BASE, POOL_FREE, NULL, 0);
	assert_false(pool_at_lease_limit(&p, 10, 1001)); /* below the counter: no count */
	mac_of(0, a);
	pool_set(&p, BASE, POOL_LEASED, a, 1001); /* expires at once */
	assert_false(pool_at_lease_limit(&p, 10, 1001));
	assert_int_equal(p.n_scans, 3);
	/* A lease that expires: the next second's count sees it. */
	pool_set(&p, BASE, POOL_LEASED, a, 3000);
	assert_true(pool_at_lease_limit(&p, 10, 1999));
	assert_false(pool_at_lease_limit(&p, 10, 2001)); /* BASE + 1 expired */
	assert_int_equal(p.n_scans, 5);
	pool_fini(&p);
}

static void test_bad_ranges(void **state)
{
	struct dhcp_pool p;
	assert_int_not_equal(pool_init(&p, 0, 10), 0);
	assert_int_not_equal(pool_init(&p, BASE + 1, BASE), 0);
	assert_int_not_equal(pool_init(&p, 0x0a000000u, 0x0b000000u), 0); /* 16M+1 addresses */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_states_and_usable),
	    cmocka_unit_test(test_next_fit),
	    cmocka_unit_test(test_mac_index_model),
	    cmocka_unit_test(test_bad_ranges),
	    cmocka_unit_test(test_brief_offers_and_limits),
	    cmocka_unit_test(test_lease_limit_counts_once_a_second),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
