/* The install life cycle's table (boot/states.h): transitions, tokens, bounds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "boot/states.h"
#include "conf/config.h"
#include "core/util.h"

#define SERVER 0x0a4d0001u /* 10.77.0.1 */

static const char tok_a[] = "0123456789abcdef0123456789abcdef";
static const char tok_b[] = "fedcba9876543210fedcba9876543210";

static void test_names(void **state)
{
	enum boot_state st;
	for (int i = BOOT_STATE_NONE; i <= BOOT_STATE_INSTALLED; i++) {
		assert_int_equal(boot_state_parse(boot_state_name((enum boot_state)i), &st), 0);
		assert_int_equal(st, i);
	}
	assert_int_equal(boot_state_parse("Installed", &st), -EINVAL);
	assert_int_equal(boot_state_parse("", &st), -EINVAL);
}

static void test_tokens(void **state)
{
	static const char *const bad[] = {"",
					  "0123456789abcdef0123456789abcde",
					  "0123456789abcdef0123456789abcdef0",
					  "0123456789ABCDEF0123456789abcdef",
					  "0123456789abcdef0123456789abcdeg",
					  "0123456789abcdef/123456789abcdef"};
	assert_true(boot_token_valid(tok_a));
	for (size_t i = 0; i < PXED_ARRAY_LEN(bad); i++)
		if (boot_token_valid(bad[i]))
			fail_msg("'%s' taken as a token", bad[i]);
}

/* install -> (callback) installed -> (mark) install -> (callback) installed. */
static void test_life_cycle(void **state)
{
	const uint8_t mac[6] = {0x52, 0x54, 0, 0, 0, 7}, other[6] = {0x52, 0x54, 0, 0, 0, 8};
	struct boot_states *s;

	assert_int_equal(boot_states_new(4, &s), 0);
	assert_null(boot_states_find(s, mac));
	assert_int_equal(boot_states_callback(s, mac, tok_a, 1), BOOT_CALLBACK_UNKNOWN);
	assert_int_equal(boot_states_set(s, mac, BOOT_STATE_INSTALL, NULL, 1), -EINVAL);
	assert_int_equal(boot_states_set(s, mac, BOOT_STATE_INSTALL, "short", 1), -EINVAL);
	assert_int_equal(boot_states_set(s, mac, BOOT_STATE_INSTALL, tok_a, 1), 0);
	assert_int_equal(boot_states_find(s, mac)->state, BOOT_STATE_INSTALL);
	assert_string_equal(boot_states_find(s, mac)->token, tok_a);

	/* A wrong token, or the right one for another MAC, changes nothing. */
	assert_int_equal(boot_states_callback(s, mac, tok_b, 2), BOOT_CALLBACK_REFUSED);
	assert_int_equal(boot_states_callback(s, other, tok_a, 2), BOOT_CALLBACK_UNKNOWN);
	assert_int_equal(boot_states_find(s, mac)->state, BOOT_STATE_INSTALL);
	assert_int_equal(boot_states_find(s, mac)->updated, 1);

	assert_int_equal(boot_states_callback(s, mac, tok_a, 3), BOOT_CALLBACK_DONE);
	assert_int_equal(boot_states_find(s, mac)->state, BOOT_STATE_INSTALLED);
	assert_string_equal(boot_states_find(s, mac)->token, "");
	assert_int_equal(boot_states_find(s, mac)->updated, 3);
	/* The token is spent: a replay is refused, even "" is no token. */
	assert_int_equal(boot_states_callback(s, mac, tok_a, 4), BOOT_CALLBACK_REFUSED);
	assert_int_equal(boot_states_callback(s, mac, "", 4), BOOT_CALLBACK_REFUSED);

	/* Marked again: a new token; the old one is worth nothing. */
	assert_int_equal(boot_states_set(s, mac, BOOT_STATE_INSTALL, tok_b, 5), 0);
	assert_int_equal(boot_states_callback(s, mac, tok_a, 6), BOOT_CALLBACK_REFUSED);
	assert_int_equal(boot_states_callback(s, mac, tok_b, 6), BOOT_CALLBACK_DONE);
	assert_int_equal(boot_states_count(s), 1);
	boot_states_free(s);
}

/* Sorted inserts in any order; the table holds cap entries and no more. */
static void test_bounds(void **state)
{
	struct boot_states *s;
	uint8_t mac[6] = {0x52, 0x54, 0, 0, 0, 0};

	assert_int_equal(boot_states_new(0, &s), -EINVAL);
	assert_int_equal(boot_states_new(BOOT_STATES_MAX + 1, &s), -EINVAL);
	assert_int_equal(boot_states_new(200, &s), 0);
	for (int i = 0; i < 200; i++) {
		mac[4] = (uint8_t)((i * 37) % 200); /* not in order */
		mac[5] = (uint8_t)i;
		assert_int_equal(boot_states_set(s, mac, BOOT_STATE_INSTALLED, NULL, i), 0);
	}
	mac[4] = 255;
	assert_int_equal(boot_states_set(s, mac, BOOT_STATE_INSTALLED, NULL, 0), -ENOSPC);
	for (int i = 0; i < 200; i++) {
		mac[4] = (uint8_t)((i * 37) % 200);
		mac[5] = (uint8_t)i;
		const struct boot_state_entry *e = boot_states_find(s, mac);
		assert_non_null(e);
		assert_int_equal(e->updated, i);
	}
	/* Replacing an entry takes no room. */
	mac[4] = 0;
	mac[5] = 0;
	assert_int_equal(boot_states_set(s, mac, BOOT_STATE_INSTALL, tok_a, 9), 0);
	assert_int_equal(boot_states_count(s), 200);
	boot_states_free(s);
	assert_null(boot_states_find(NULL, mac));
	assert_int_equal(boot_states_callback(NULL, mac, tok_a, 1), BOOT_CALLBACK_UNKNOWN);
}

/* A stored state wins over the config's install: true; the URL names MAC and token. */
static void test_effective_and_url(void **state)
{
	struct conf *c = conf_new_defaults();
	const uint8_t mac[6] = {0x52, 0x54, 0, 0, 0, 9}, stranger[6] = {0x52, 0x54, 0, 0, 0, 1};
	struct boot_states *s;
	char url[128];

	c->hosts = calloc(1, sizeof(*c->hosts));
	c->n_hosts = 1;
	memcpy(c->hosts[0].mac, mac, 6);
	c->hosts[0].has_mac = true;
	assert_int_equal(boot_states_new(4, &s), 0);
	assert_int_equal(boot_states_effective(s, c, mac), BOOT_STATE_NONE);
	c->hosts[0].install = true;
	assert_int_equal(boot_states_effective(s, c, mac), BOOT_STATE_INSTALL);
	assert_int_equal(boot_states_effective(NULL, c, mac), BOOT_STATE_INSTALL);
	assert_int_equal(boot_states_effective(s, c, stranger), BOOT_STATE_NONE);
	assert_int_equal(boot_states_callback_url(s, c, mac, SERVER, url, sizeof(url)), -ENOENT);
	assert_string_equal(url, "");

	assert_int_equal(boot_states_set(s, mac, BOOT_STATE_INSTALL, tok_a, 1), 0);
	assert_int_equal(boot_states_callback_url(s, c, mac, SERVER, url, sizeof(url)), 0);
	assert_string_equal(url, "http://10.77.0.1/callback/52-54-00-00-00-09/"
				 "0123456789abcdef0123456789abcdef");
	c->http_port = 8080;
	assert_int_equal(boot_states_callback_url(s, c, mac, SERVER, url, 20), -ENOSPC);
	assert_string_equal(url, "");

	assert_int_equal(boot_states_callback(s, mac, tok_a, 2), BOOT_CALLBACK_DONE);
	assert_int_equal(boot_states_effective(s, c, mac), BOOT_STATE_INSTALLED);
	/* A state left behind by a host gone from the inventory decides nothing. */
	assert_int_equal(boot_states_set(s, stranger, BOOT_STATE_INSTALLED, NULL, 3), 0);
	assert_int_equal(boot_states_effective(s, c, stranger), BOOT_STATE_NONE);
	assert_int_equal(boot_states_callback_url(s, c, mac, SERVER, url, sizeof(url)), -ENOENT);
	boot_states_free(s);
	conf_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_tokens),
	    cmocka_unit_test(test_life_cycle),
	    cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_effective_and_url),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
