/* PXE option 43 (PXE 2.1 §2.4): byte-exact replies and the boot item decoder. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "boot/policy.h"
#include "conf/config.h"
#include "dhcp/pxe.h"

#define SERVER 0x0a4d0001u /* 10.77.0.1 */

static struct conf_pxe_menu *menu_new(const char *prompt, uint8_t timeout)
{
	struct conf_pxe_menu *m = calloc(1, sizeof(*m));
	m->prompt = prompt != NULL ? strdup(prompt) : NULL;
	m->timeout_s = timeout;
	return m;
}

static void menu_add(struct conf_pxe_menu *m, uint16_t type, const char *label, const char *profile)
{
	struct conf_menu_item *it = &m->items[m->n_items++];
	it->type = type;
	it->label = strdup(label);
	it->profile = profile != NULL ? strdup(profile) : NULL;
}

/* Frees what the test built; conf_free() then sees no menu either way. */
static void conf_drop_menu(struct conf *c)
{
	struct conf_pxe_menu *m = c->pxe_menu;
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n_items; i++) {
		free(m->items[i].label);
		free(m->items[i].profile);
	}
	free(m->prompt);
	free(m);
	c->pxe_menu = NULL;
}

static const struct boot_facts pxe_client = {.pxe_client = true, .has_arch = true, .arch = 7};

static void expect_bytes(const uint8_t *got, int n, const uint8_t *want, size_t wn)
{
	assert_int_equal(n, (int)wn);
	assert_memory_equal(got, want, wn);
}

static void test_no_menu(void **state)
{
	static const uint8_t want[] = {6, 1, 8, 255};
	struct conf *c = conf_new_defaults();
	struct boot_plan plan = {.action = BOOT_TFTP};
	uint8_t out[255];

	int n = pxe_build_vendor_opts(c, &pxe_client, &plan, SERVER, false, out, sizeof(out));
	expect_bytes(out, n, want, sizeof(want));
	/* The same on port 4011 when the request named no boot item. */
	n = pxe_build_vendor_opts(c, &pxe_client, &plan, SERVER, true, out, sizeof(out));
	expect_bytes(out, n, want, sizeof(want));
	/* Too small a buffer is an error, not a truncated option. */
	assert_int_equal(pxe_build_vendor_opts(c, &pxe_client, &plan, SERVER, false, out, 3),
			 -ENOSPC);
	conf_free(c);
}

static void test_no_option_for_others(void **state)
{
	struct conf *c = conf_new_defaults();
	struct boot_plan plan = {.action = BOOT_URL};
	struct boot_facts ipxe = pxe_client, http = {.http_client = true}, plain = {0};
	uint8_t out[255];

	ipxe.ipxe = true;
	assert_int_equal(pxe_build_vendor_opts(c, &ipxe, &plan, SERVER, false, out, 255), 0);
	assert_int_equal(pxe_build_vendor_opts(c, &http, &plan, SERVER, false, out, 255), 0);
	assert_int_equal(pxe_build_vendor_opts(c, &plain, &plan, SERVER, false, out, 255), 0);
	conf_free(c);
}

static void test_two_item_menu(void **state)
{
	/* clang-format off */
	static const uint8_t want[] = {
	    6, 1, 3,					/* discovery control: no bcast, no mcast */
	    8, 14, 0, 1, 1, 10, 77, 0, 1,		/* boot servers: type 1 at 10.77.0.1, */
	    0, 2, 1, 10, 77, 0, 1,			/* type 2 at 10.77.0.1 */
	    9, 15, 0, 1, 5, 'A', 'l', 'p', 'h', 'a',	/* menu: type 1 "Alpha", */
	    0, 2, 4, 'B', 'e', 't', 'a',		/* type 2 "Beta" */
	    10, 5, 5, 'P', 'i', 'c', 'k',		/* prompt: 5 s, "Pick" */
	    255};
	/* clang-format on */
	struct conf *c = conf_new_defaults();
	struct boot_plan plan = {.action = BOOT_TFTP, .pxe_menu = true};
	uint8_t out[255];

	c->pxe_menu = menu_new("Pick", 5);
	menu_add(c->pxe_menu, 1, "Alpha", "a");
	menu_add(c->pxe_menu, 2, "Beta", "b");
	int n = pxe_build_vendor_opts(c, &pxe_client, &plan, SERVER, false, out, sizeof(out));
	expect_bytes(out, n, want, sizeof(want));
	assert_int_equal(pxe_menu_check(c->pxe_menu), (int)sizeof(want));
	/* iPXE gets the menu too: its PXE menu support ("PXEXT") shows it. */
	struct boot_facts ipxe = pxe_client;
	ipxe.ipxe = true;
	n = pxe_build_vendor_opts(c, &ipxe, &plan, SERVER, false, out, sizeof(out));
	expect_bytes(out, n, want, sizeof(want));
	conf_drop_menu(c);
	conf_free(c);
}

/* A local-boot item (type 0) is on the menu but has no boot server. */
static void test_local_item_and_default_prompt(void **state)
{
	/* clang-format off */
	static const uint8_t head[] = {
	    6, 1, 3,
	    8, 7, 0, 1, 1, 10, 77, 0, 1,		/* type 1 only */
	    9, 12, 0, 1, 3, 'O', 'n', 'e', 0, 0, 3, 'H', 'D', 'D',
	    10, 27, 0};					/* prompt: boot the default at once */
	/* clang-format on */
	static const char text[] = "Press F8 for the boot menu";
	uint8_t want[sizeof(head) + sizeof(text)];
	struct conf *c = conf_new_defaults();
	struct boot_plan plan = {.action = BOOT_TFTP, .pxe_menu = true};
	uint8_t out[255];

	memcpy(want, head, sizeof(head));
	memcpy(want + sizeof(head), text, sizeof(text) - 1);
	want[sizeof(want) - 1] = 255;
	c->pxe_menu = menu_new(NULL, 0);
	menu_add(c->pxe_menu, 1, "One", "a");
	menu_add(c->pxe_menu, 0, "HDD", NULL);
	int n = pxe_build_vendor_opts(c, &pxe_client, &plan, SERVER, false, out, sizeof(out));
	expect_bytes(out, n, want, sizeof(want));
	conf_drop_menu(c);
	conf_free(c);
}

static void test_menu_too_large(void **state)
{
	struct conf *c = conf_new_defaults();
	struct boot_plan plan = {.action = BOOT_TFTP, .pxe_menu = true};
	char label[101];
	uint8_t out[255];

	memset(label, 'x', 100);
	label[100] = '\0';
	c->pxe_menu = menu_new("p", 5);
	for (uint16_t t = 1; t <= 3; t++)
		menu_add(c->pxe_menu, t, label, "a");
	assert_int_equal(pxe_menu_check(c->pxe_menu), -ENOSPC);
	assert_int_equal(
	    pxe_build_vendor_opts(c, &pxe_client, &plan, SERVER, false, out, sizeof(out)), -ENOSPC);
	conf_drop_menu(c);
	conf_free(c);
}

static void test_boot_server_ack_echoes_item(void **state)
{
	static const uint8_t want[] = {71, 4, 0, 2, 0, 0, 255};
	struct conf *c = conf_new_defaults();
	struct boot_plan plan = {.action = BOOT_TFTP};
	struct boot_facts f = pxe_client;
	uint8_t out[255];

	c->pxe_menu = menu_new("Pick", 5);
	menu_add(c->pxe_menu, 1, "Alpha", "a");
	menu_add(c->pxe_menu, 2, "Beta", "b");
	f.has_boot_item = true;
	f.boot_item_type = 2;
	int n = pxe_build_vendor_opts(c, &f, &plan, SERVER, true, out, sizeof(out));
	expect_bytes(out, n, want, sizeof(want));
	/* iPXE's pxebs accepts only an ACK that names the type it asked for. */
	f.ipxe = true;
	n = pxe_build_vendor_opts(c, &f, &plan, SERVER, true, out, sizeof(out));
	expect_bytes(out, n, want, sizeof(want));
	/* The layer is echoed as sent. */
	static const uint8_t want_layer[] = {71, 4, 0x80, 0x01, 0x00, 0x03, 255};
	f.boot_item_type = 0x8001;
	f.boot_item_layer = 3;
	n = pxe_build_vendor_opts(c, &f, &plan, SERVER, true, out, sizeof(out));
	expect_bytes(out, n, want_layer, sizeof(want_layer));
	/* A remembered item on port 67 is not echoed: iPXE gets no option 43. */
	f.boot_item_remembered = true;
	assert_int_equal(pxe_build_vendor_opts(c, &f, &plan, SERVER, false, out, sizeof(out)), 0);
	conf_drop_menu(c);
	conf_free(c);
}

/* Sub-option 71 as EDK2 and iPXE send it, after other sub-options and padding. */
static const uint8_t good43[] = {0, 6, 1, 8, 0, 71, 4, 0x12, 0x34, 0x00, 0x01, 255};
#define GOOD43_END 11 /* the offset just after sub-option 71 */

static void test_parse_boot_item(void **state)
{
	uint16_t type = 0, layer = 0;
	assert_true(pxe_parse_boot_item(good43, sizeof(good43), &type, &layer));
	assert_int_equal(type, 0x1234);
	assert_int_equal(layer, 1);
	/* END is optional once 71 is complete; 71 first works too. */
	assert_true(pxe_parse_boot_item(good43, GOOD43_END, &type, &layer));
	static const uint8_t first[] = {71, 4, 0, 2, 0, 0};
	assert_true(pxe_parse_boot_item(first, sizeof(first), &type, &layer));
	assert_int_equal(type, 2);
	assert_int_equal(layer, 0);
}

static void test_parse_boot_item_bad(void **state)
{
	uint16_t type, layer;
	/* Every prefix that cuts sub-option 71 short is refused. */
	for (size_t n = 0; n < GOOD43_END; n++)
		if (pxe_parse_boot_item(good43, n, &type, &layer))
			fail_msg("prefix of %zu bytes accepted", n);
	static const uint8_t short71[] = {71, 3, 0, 2, 0, 255};
	static const uint8_t long71[] = {71, 5, 0, 2, 0, 0, 0, 255};
	static const uint8_t past_end[] = {6, 9, 8, 71, 4, 0, 2, 0, 0};
	static const uint8_t after_end[] = {255, 71, 4, 0, 2, 0, 0};
	static const uint8_t none[] = {6, 1, 8, 255};
	assert_false(pxe_parse_boot_item(short71, sizeof(short71), &type, &layer));
	assert_false(pxe_parse_boot_item(long71, sizeof(long71), &type, &layer));
	assert_false(pxe_parse_boot_item(past_end, sizeof(past_end), &type, &layer));
	assert_false(pxe_parse_boot_item(after_end, sizeof(after_end), &type, &layer));
	assert_false(pxe_parse_boot_item(none, sizeof(none), &type, &layer));
	assert_false(pxe_parse_boot_item(NULL, 0, &type, &layer));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_menu),
	    cmocka_unit_test(test_no_option_for_others),
	    cmocka_unit_test(test_two_item_menu),
	    cmocka_unit_test(test_local_item_and_default_prompt),
	    cmocka_unit_test(test_menu_too_large),
	    cmocka_unit_test(test_boot_server_ack_echoes_item),
	    cmocka_unit_test(test_parse_boot_item),
	    cmocka_unit_test(test_parse_boot_item_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
