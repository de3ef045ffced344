/* Bounds-checked cursors: reads past the end set a sticky error, never overrun. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/buf.h"

static void test_rd_fields(void **state)
{
	const uint8_t b[] = {1, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
	struct rd r = rd_init(b, sizeof(b));
	assert_int_equal(rd_u8(&r), 1);
	assert_int_equal(rd_u16(&r), 0x0203);
	assert_int_equal(rd_u32(&r), 0x04050607);
	assert_false(r.err);
	assert_int_equal(rd_left(&r), 0);
}

static void test_rd_short_is_sticky(void **state)
{
	const uint8_t b[] = {1, 2, 3};
	struct rd r = rd_init(b, sizeof(b));
	assert_int_equal(rd_u32(&r), 0);
	assert_true(r.err);
	/* After an error every read yields zero, even one that would fit. */
	assert_int_equal(rd_u8(&r), 0);
	assert_null(rd_take(&r, 1));
	assert_int_equal(rd_left(&r), 0);
}

static void test_rd_take_huge(void **state)
{
	const uint8_t b[4] = {0};
	struct rd r = rd_init(b, sizeof(b));
	assert_non_null(rd_take(&r, 2));
	assert_null(rd_take(&r, SIZE_MAX));
	assert_true(r.err);
}

static void test_wr_overflow(void **state)
{
	uint8_t b[5];
	struct wr w = wr_init(b, sizeof(b));
	wr_u32(&w, 0x01020304);
	assert_false(w.err);
	wr_u16(&w, 0x0506);
	assert_true(w.err);
	assert_int_equal(w.len, 4);
	wr_u8(&w, 9); /* sticky: nothing more is written */
	assert_int_equal(w.len, 4);
	assert_memory_equal(b, "\x01\x02\x03\x04", 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rd_fields),
	    cmocka_unit_test(test_rd_short_is_sticky),
	    cmocka_unit_test(test_rd_take_huge),
	    cmocka_unit_test(test_wr_overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
