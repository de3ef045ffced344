/*
 * Machines' DHCP facts (obs/facts.h): lookup, a fact a later request does
 * not carry kept, eviction of the least recently recorded machine of a full
 * probe window, the bound on the table, and the words templates show.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/util.h"
#include "obs/facts.h"

static const uint8_t UUID1[16] = {0x4c, 0x4c, 0x45, 0x44, 0x00, 0x4a, 0x10, 0x80,
				  0x80, 0x36, 0xb2, 0xc0, 0x4f, 0x50, 0x33, 0x32};
static const char UUID1_TEXT[] = "4c4c4544-004a-1080-8036-b2c04f503332";

static void mac_of(uint8_t mac[6], uint32_t n)
{
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = (uint8_t)(n >> 24);
	mac[3] = (uint8_t)(n >> 16);
	mac[4] = (uint8_t)(n >> 8);
	mac[5] = (uint8_t)n;
}

static struct obs_fact fact(const uint8_t mac[6], bool has_arch, uint16_t arch, const uint8_t *uuid)
{
	struct obs_fact f = {.has_arch = has_arch, .arch = arch, .has_uuid = uuid != NULL};

	memcpy(f.mac, mac, 6);
	if (uuid != NULL)
		memcpy(f.uuid, uuid, 16);
	return f;
}

static void test_record_update_lookup(void **state)
{
	struct obs_facts *t = calloc(1, sizeof(*t));
	uint8_t a[6], b[6], uuid2[16];
	struct obs_fact f, got;

	(void)state;
	mac_of(a, 1);
	mac_of(b, 2);
	memset(uuid2, 0xab, sizeof(uuid2));
	assert_false(obs_facts_lookup(t, a, &got));

	/* A request that tells nothing (an OS renewing its lease) takes no slot. */
	f = fact(a, false, 0, NULL);
	obs_facts_record(t, &f);
	assert_false(obs_facts_lookup(t, a, &got));
	assert_int_equal(t->n, 0);

	f = fact(a, true, 7, NULL);
	obs_facts_record(t, &f);
	assert_true(obs_facts_lookup(t, a, &got));
	assert_memory_equal(got.mac, a, 6);
	assert_true(got.has_arch);
	assert_int_equal(got.arch, 7);
	assert_false(got.has_uuid);
	assert_false(obs_facts_lookup(t, b, &got));

	/* A UUID alone: the architecture told before stays. */
	f = fact(a, false, 0, UUID1);
	obs_facts_record(t, &f);
	assert_true(obs_facts_lookup(t, a, &got));
	assert_true(got.has_arch);
	assert_int_equal(got.arch, 7);
	assert_true(got.has_uuid);
	assert_memory_equal(got.uuid, UUID1, 16);

	/* What a later request tells replaces it. */
	f = fact(a, true, 0, uuid2);
	obs_facts_record(t, &f);
	assert_true(obs_facts_lookup(t, a, &got));
	assert_int_equal(got.arch, 0);
	assert_memory_equal(got.uuid, uuid2, 16);

	f = fact(b, true, 9, NULL);
	obs_facts_record(t, &f);
	assert_true(obs_facts_lookup(t, b, &got));
	assert_int_equal(got.arch, 9);
	assert_true(obs_facts_lookup(t, a, &got));
	assert_int_equal(got.arch, 0);
	assert_int_equal(t->n, 2);
	assert_int_equal(t->evicted, 0);
	free(t);
}

/* OBS_FACTS_PROBE + 1 MACs whose hash picks the same home slot. */
static void same_home(uint8_t macs[OBS_FACTS_PROBE + 1][6])
{
	uint32_t home = 0, found = 0;

	for (uint32_t n = 0; n < 10000000 && found < OBS_FACTS_PROBE + 1; n++) {
		mac_of(macs[found], n);
		uint32_t h = mac_hash(macs[found]) & (OBS_FACTS_SLOTS - 1);
		if (found == 0)
			home = h;
		if (h == home)
			found++;
	}
	assert_int_equal(found, OBS_FACTS_PROBE + 1);
}

static void test_eviction_least_recent(void **state)
{
	struct obs_facts *t = calloc(1, sizeof(*t));
	uint8_t macs[OBS_FACTS_PROBE + 1][6];
	struct obs_fact f, got;

	(void)state;
	same_home(macs);
	for (uint16_t i = 0; i < OBS_FACTS_PROBE; i++) {
		f = fact(macs[i], true, i, NULL);
		obs_facts_record(t, &f);
	}
	assert_int_equal(t->n, OBS_FACTS_PROBE);
	/* The first is told again: the second is now the least recent. */
	f = fact(macs[0], false, 0, UUID1);
	obs_facts_record(t, &f);
	f = fact(macs[OBS_FACTS_PROBE], true, 11, NULL);
	obs_facts_record(t, &f);
	assert_int_equal(t->evicted, 1);
	assert_int_equal(t->n, OBS_FACTS_PROBE);
	assert_false(obs_facts_lookup(t, macs[1], &got));
	assert_true(obs_facts_lookup(t, macs[OBS_FACTS_PROBE], &got));
	assert_int_equal(got.arch, 11);
	assert_false(got.has_uuid); /* the slot it took kept nothing of the machine before */
	assert_true(obs_facts_lookup(t, macs[0], &got));
	assert_int_equal(got.arch, 0);
	assert_true(got.has_uuid);
	for (uint16_t i = 2; i < OBS_FACTS_PROBE; i++) {
		assert_true(obs_facts_lookup(t, macs[i], &got));
		assert_int_equal(got.arch, i);
	}
	/* The evicted machine comes back, in the place of the next least recent. */
	f = fact(macs[1], true, 6, NULL);
	obs_facts_record(t, &f);
	assert_true(obs_facts_lookup(t, macs[1], &got));
	assert_false(obs_facts_lookup(t, macs[2], &got));
	assert_int_equal(t->evicted, 2);
	free(t);
}

static void test_bounded(void **state)
{
	struct obs_facts *t = calloc(1, sizeof(*t));
	const uint32_t total = 5 * OBS_FACTS_SLOTS;
	struct obs_fact f, got;
	uint8_t mac[6];
	uint32_t kept = 0;

	(void)state;
	for (uint32_t n = 0; n < total; n++) {
		mac_of(mac, 0x10000 + n);
		f = fact(mac, true, (uint16_t)(n & 0x7fff), NULL);
		obs_facts_record(t, &f);
		/* The machine just recorded is always found, with what it told. */
		assert_true(obs_facts_lookup(t, mac, &got));
		assert_int_equal(got.arch, n & 0x7fff);
	}
	assert_true(t->n <= OBS_FACTS_SLOTS);
	assert_true(t->n > OBS_FACTS_SLOTS / 2);
	assert_int_equal(t->evicted, total - t->n);
	for (uint32_t n = 0; n < total; n++) {
		mac_of(mac, 0x10000 + n);
		kept += obs_facts_lookup(t, mac, &got);
	}
	assert_int_equal(kept, t->n);
	free(t);
}

static void test_words(void **state)
{
	struct obs_facts *t = calloc(1, sizeof(*t));
	char buf[OBS_UUID_TEXT], text[OBS_UUID_TEXT];
	const char *arch, *uuid;
	uint8_t a[6], b[6];
	struct obs_fact f;

	(void)state;
	mac_of(a, 1);
	mac_of(b, 2);
	assert_string_equal(obs_uuid_format(text, UUID1), UUID1_TEXT);
	obs_facts_words(NULL, a, &arch, &uuid, buf);
	assert_null(arch);
	assert_null(uuid);
	f = fact(a, true, 7, UUID1);
	obs_facts_record(t, &f);
	obs_facts_words(t, a, &arch, &uuid, buf);
	assert_string_equal(arch, "efi-x64");
	assert_string_equal(uuid, UUID1_TEXT);
	assert_ptr_equal(uuid, buf);
	obs_facts_words(t, b, &arch, &uuid, buf);
	assert_null(arch);
	assert_null(uuid);
	f = fact(b, true, 0, NULL);
	obs_facts_record(t, &f);
	obs_facts_words(t, b, &arch, &uuid, buf);
	assert_string_equal(arch, "bios");
	assert_null(uuid);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_record_update_lookup),
	    cmocka_unit_test(test_eviction_least_recent),
	    cmocka_unit_test(test_bounded),
	    cmocka_unit_test(test_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
