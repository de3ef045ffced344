/* HTTP ranges, entity tags, dates and preconditions (http/range.h): tables of strings. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http/range.h"

#define U64 UINT64_MAX

static const struct range_case {
	const char *value;
	uint64_t size;
	enum http_range_result want;
	size_t n;
	struct http_range r[3];
} range_cases[] = {
    {NULL, 100, HTTP_RANGE_NONE, 0, {{0}}},
    {"bytes=0-0", 100, HTTP_RANGE_OK, 1, {{0, 0}}},
    {"bytes=99-99", 100, HTTP_RANGE_OK, 1, {{99, 99}}},
    {"bytes=-1", 100, HTTP_RANGE_OK, 1, {{99, 99}}},
    {"bytes=-100", 100, HTTP_RANGE_OK, 1, {{0, 99}}},
    {"bytes=-1000", 100, HTTP_RANGE_OK, 1, {{0, 99}}},
    {"bytes=10-", 100, HTTP_RANGE_OK, 1, {{10, 99}}},
    {"bytes=10-5000", 100, HTTP_RANGE_OK, 1, {{10, 99}}},
    {"bytes=0-18446744073709551615", 100, HTTP_RANGE_OK, 1, {{0, 99}}},
    {"bytes=0-99999999999999999999999", 100, HTTP_RANGE_OK, 1, {{0, 99}}},
    {"BYTES=1-2", 100, HTTP_RANGE_OK, 1, {{1, 2}}},
    {" bytes=1-2 ,\t4-5 ", 100, HTTP_RANGE_OK, 2, {{1, 2}, {4, 5}}},
    {"bytes=,1-2,,4-5,", 100, HTTP_RANGE_OK, 2, {{1, 2}, {4, 5}}},
    {"bytes=50-59,0-9", 100, HTTP_RANGE_OK, 2, {{50, 59}, {0, 9}}},
    {"bytes=0-0,-1", 100, HTTP_RANGE_OK, 2, {{0, 0}, {99, 99}}},
    /* Past the end: dropped; none left is 416. */
    {"bytes=100-", 100, HTTP_RANGE_UNSATISFIABLE, 0, {{0}}},
    {"bytes=100-200", 100, HTTP_RANGE_UNSATISFIABLE, 0, {{0}}},
    {"bytes=-0", 100, HTTP_RANGE_UNSATISFIABLE, 0, {{0}}},
    {"bytes=18446744073709551616-", 100, HTTP_RANGE_UNSATISFIABLE, 0, {{0}}},
    {"bytes=0-1,200-300", 100, HTTP_RANGE_OK, 1, {{0, 1}}},
    /* Beyond 4 GiB. */
    {"bytes=4294967296-4294967305",
     5368709120ull,
     HTTP_RANGE_OK,
     1,
     {{4294967296ull, 4294967305ull}}},
    {"bytes=-10", 5368709120ull, HTTP_RANGE_OK, 1, {{5368709110ull, 5368709119ull}}},
    /* Ignored: malformed, other units, overlapping, empty file. */
    {"bytes=5-4", 100, HTTP_RANGE_NONE, 0, {{0}}},
    {"bytes=", 100, HTTP_RANGE_NONE, 0, {{0}}},
    {"bytes=,", 100, HTTP_RANGE_NONE, 0, {{0}}},
    {"bytes=-", 100, HTTP_RANGE_NONE, 0, {{0}}},
    {"bytes=a-b", 100, HTTP_RANGE_NONE, 0, {{0}}},
    {"bytes=1-2x", 100, HTTP_RANGE_NONE, 0, {{0}}},
    {"bytes=1 - 2", 100, HTTP_RANGE_NONE, 0, {{0}}},
    {"bytes=+1-2", 100, HTTP_RANGE_NONE, 0, {{0}}},
    {"bytes 1-2", 100, HTTP_RANGE_NONE, 0, {{0}}},
    {"items=1-2", 100, HTTP_RANGE_NONE, 0, {{0}}},
    {"bytes=0-10,5-20", 100, HTTP_RANGE_NONE, 0, {{0}}},
    {"bytes=0-,0-", 100, HTTP_RANGE_NONE, 0, {{0}}},
    {"bytes=-5,95-", 100, HTTP_RANGE_NONE, 0, {{0}}},
    {"bytes=0-0", 0, HTTP_RANGE_NONE, 0, {{0}}},
    {"bytes=5-4,0-1", 100, HTTP_RANGE_NONE, 0, {{0}}},
};

static void test_range_table(void **state)
{
	for (size_t i = 0; i < sizeof(range_cases) / sizeof(range_cases[0]); i++) {
		const struct range_case *c = &range_cases[i];
		struct http_range r[HTTP_RANGE_MAX];
		size_t n = 99;

		print_message("case %zu: %s\n", i, c->value ? c->value : "(null)");
		assert_int_equal(http_range_parse(c->value, c->size, r, &n), c->want);
		assert_int_equal(n, c->n);
		for (size_t j = 0; j < n; j++) {
			assert_true(r[j].first == c->r[j].first);
			assert_true(r[j].last == c->r[j].last);
		}
	}
}

/* 16 ranges are served; the 17th makes the whole header ignored. */
static void test_range_cap(void **state)
{
	char v[512] = "bytes=";
	struct http_range r[HTTP_RANGE_MAX];
	size_t n;

	for (int i = 0; i < HTTP_RANGE_MAX; i++)
		snprintf(v + strlen(v), sizeof(v) - strlen(v), "%s%d-%d", i ? "," : "", i * 10,
			 i * 10 + 1);
	assert_int_equal(http_range_parse(v, 1000, r, &n), HTTP_RANGE_OK);
	assert_int_equal(n, HTTP_RANGE_MAX);
	strcat(v, ",900-901");
	assert_int_equal(http_range_parse(v, 1000, r, &n), HTTP_RANGE_NONE);
	assert_int_equal(n, 0);
}

/* Every truncated prefix of a valid header parses to something sane (no overrun). */
static void test_range_prefixes(void **state)
{
	const char *full = "bytes=0-1, 5-9,-3";
	struct http_range r[HTTP_RANGE_MAX];
	char buf[64];
	size_t n;

	for (size_t len = 0; len <= strlen(full); len++) {
		memcpy(buf, full, len);
		buf[len] = '\0';
		enum http_range_result res = http_range_parse(buf, 100, r, &n);
		assert_true(res == HTTP_RANGE_NONE || res == HTTP_RANGE_OK);
		for (size_t j = 0; j < n; j++)
			assert_true(r[j].first <= r[j].last && r[j].last < 100);
	}
}

static const struct etag_case {
	const char *list, *tag;
	bool weak, want;
} etag_cases[] = {
    {"\"abc\"", "\"abc\"", false, true},
    {"\"abc\"", "\"abd\"", false, false},
    {"W/\"abc\"", "\"abc\"", false, false},
    {"W/\"abc\"", "\"abc\"", true, true},
    {"\"x\", \"abc\"", "\"abc\"", false, true},
    {" \"x\" ,,\"abc\" ", "\"abc\"", true, true},
    {"*", "\"abc\"", false, true},
    {"*", NULL, false, true},
    {" * ", "\"abc\"", true, true},
    {"*, \"abc\"", "\"abc\"", false, false},
    {"abc", "\"abc\"", false, false},
    {"\"abc", "\"abc\"", false, false},
    {"\"a bc\"", "\"a bc\"", false, false},
    {"\"abc\" \"abc\"", "\"abc\"", false, false},
    {"\"abc\"", NULL, false, false},
    {"", "\"abc\"", false, false},
    {NULL, "\"abc\"", false, false},
};

static void test_etag_table(void **state)
{
	for (size_t i = 0; i < sizeof(etag_cases) / sizeof(etag_cases[0]); i++) {
		const struct etag_case *c = &etag_cases[i];
		print_message("case %zu: %s\n", i, c->list ? c->list : "(null)");
		assert_int_equal(http_etag_list_match(c->list, c->tag, c->weak), c->want);
	}
}

/* 2026-12-07 12:00:00 UTC: "now" for the parser's two-digit years. */
#define NOW 1796644800

static const struct date_case {
	const char *s;
	int ok;
	int64_t t;
} date_cases[] = {
    {"Sun, 06 Nov 1994 08:49:37 GMT", 0, 784111777},
    {"Sunday, 06-Nov-94 08:49:37 GMT", 0, 784111777},
    {"Sun Nov  6 08:49:37 1994", 0, 784111777},
    {"Thu, 01 Jan 1970 00:00:00 GMT", 0, 0},
    {"Tue, 29 Feb 2028 23:59:59 GMT", 0, 1835481599},
    {"Fri, 31 Dec 9999 23:59:59 GMT", 0, 253402300799},
    {"Wed, 30 Dec 2026 12:00:60 GMT", 0, 1798632059},
    {"Mon, 29 Feb 2027 00:00:00 GMT", -1, 0},
    {"Sun, 06 Nov 1994 08:49:37 UTC", -1, 0},
    {"Sun, 06 Nov 1994 08:49:37 GMT ", -1, 0},
    {"Sun, 6 Nov 1994 08:49:37 GMT", -1, 0},
    {"Sun, 06 Nov 1994 24:00:00 GMT", -1, 0},
    {"Sun, 06 Xyz 1994 08:49:37 GMT", -1, 0},
    {"Sun, 00 Nov 1994 08:49:37 GMT", -1, 0},
    {"Sun Nov 6 08:49:37 1994", -1, 0},
    {"1994-11-06T08:49:37Z", -1, 0},
    {"", -1, 0},
    {",", -1, 0},
};

static void test_date_table(void **state)
{
	for (size_t i = 0; i < sizeof(date_cases) / sizeof(date_cases[0]); i++) {
		const struct date_case *c = &date_cases[i];
		int64_t t = -7;
		print_message("case %zu: %s\n", i, c->s);
		int rc = http_date_parse(c->s, NOW, &t);
		assert_int_equal(rc < 0 ? -1 : 0, c->ok);
		if (rc == 0)
			assert_true(t == c->t);
	}
}

static void test_date_round_trip(void **state)
{
	char out[HTTP_DATE_LEN];
	int64_t back;
	const int64_t ts[] = {0, 784111777, 951782400, 1835481599, 253402300799, 86399, 86400};

	http_date_format(784111777, out);
	assert_string_equal(out, "Sun, 06 Nov 1994 08:49:37 GMT");
	for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
		http_date_format(ts[i], out);
		assert_int_equal(http_date_parse(out, NOW, &back), 0);
		assert_true(back == ts[i]);
	}
	/* Every day of four years, including a leap day and a century. */
	for (int64_t t = 946684800 - 2 * 86400; t < 946684800 + 4 * 366 * 86400; t += 86400 + 7) {
		http_date_format(t, out);
		assert_int_equal(http_date_parse(out, NOW, &back), 0);
		assert_true(back == t);
	}
}

/*
 * §5.6.7: a two-digit year more than 50 years ahead of now is the most
 * recent past year with those digits; otherwise it is in now's century.
 */
static void test_date_two_digit_year(void **state)
{
	static const struct {
		const char *s;
		int64_t now, t;
	} cases[] = {
	    {"Sunday, 06-Nov-94 08:49:37 GMT", NOW, 784111777},
	    {"Sunday, 06-Nov-94 08:49:37 GMT", 0, 784111777},
	    /* 2070 is 44 years ahead of 2026: not "more than 50". */
	    {"Wednesday, 01-Jan-70 00:00:00 GMT", NOW, 3155760000},
	    {"Thursday, 01-Jan-70 00:00:00 GMT", 0, 0},
	    /* Exactly 50 years ahead stays; one second more is the century before. */
	    {"Monday, 07-Dec-76 12:00:00 GMT", NOW, 3374568000},
	    {"Tuesday, 07-Dec-76 12:00:01 GMT", NOW, 218808001},
	    {"Friday, 31-Dec-76 00:00:00 GMT", NOW, 220838400},
	    {"Monday, 07-Dec-26 12:00:00 GMT", NOW, NOW},
	    /* In 2100, "99" is 2099 and "00" is 2100. */
	    {"Thursday, 31-Dec-99 00:00:00 GMT", 4102444800, 4102358400},
	    {"Friday, 01-Jan-00 00:00:00 GMT", 4102444800, 4102444800},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t t = -7;
		print_message("case %zu: %s\n", i, cases[i].s);
		assert_int_equal(http_date_parse(cases[i].s, cases[i].now, &t), 0);
		assert_true(t == cases[i].t);
	}
}

static void test_preconditions(void **state)
{
	const struct http_validators file = {"\"v1\"", 784111777, NOW};
	const struct http_validators rendered = {"\"r1\"", -1, NOW};
	const char *before = "Sun, 06 Nov 1994 08:49:36 GMT", *at = "Sun, 06 Nov 1994 08:49:37 GMT";
	struct http_conditions c;

#define PRE(v, read) http_preconditions(&c, v, read)
	c = (struct http_conditions){0};
	assert_int_equal(PRE(&file, true), HTTP_PRECOND_PROCEED);
	c = (struct http_conditions){.if_none_match = "\"v1\""};
	assert_int_equal(PRE(&file, true), HTTP_PRECOND_NOT_MODIFIED);
	assert_int_equal(PRE(&file, false), HTTP_PRECOND_FAILED);
	c = (struct http_conditions){.if_none_match = "W/\"v1\""};
	assert_int_equal(PRE(&file, true), HTTP_PRECOND_NOT_MODIFIED);
	c = (struct http_conditions){.if_none_match = "\"v0\""};
	assert_int_equal(PRE(&file, true), HTTP_PRECOND_PROCEED);
	/* If-None-Match wins over If-Modified-Since (§13.2.2 step 3 before 4). */
	c = (struct http_conditions){.if_none_match = "\"v0\"", .if_modified_since = at};
	assert_int_equal(PRE(&file, true), HTTP_PRECOND_PROCEED);
	c = (struct http_conditions){.if_modified_since = at};
	assert_int_equal(PRE(&file, true), HTTP_PRECOND_NOT_MODIFIED);
	assert_int_equal(PRE(&file, false), HTTP_PRECOND_PROCEED);
	assert_int_equal(PRE(&rendered, true), HTTP_PRECOND_PROCEED);
	c = (struct http_conditions){.if_modified_since = before};
	assert_int_equal(PRE(&file, true), HTTP_PRECOND_PROCEED);
	c = (struct http_conditions){.if_modified_since = "yesterday"};
	assert_int_equal(PRE(&file, true), HTTP_PRECOND_PROCEED);
	c = (struct http_conditions){.if_match = "\"v1\""};
	assert_int_equal(PRE(&file, true), HTTP_PRECOND_PROCEED);
	c = (struct http_conditions){.if_match = "W/\"v1\""};
	assert_int_equal(PRE(&file, true), HTTP_PRECOND_FAILED);
	c = (struct http_conditions){.if_match = "\"v0\""};
	assert_int_equal(PRE(&file, true), HTTP_PRECOND_FAILED);
	c = (struct http_conditions){.if_match = "*"};
	assert_int_equal(PRE(&rendered, true), HTTP_PRECOND_PROCEED);
	/* If-Match is evaluated before If-None-Match: 412, not 304. */
	c = (struct http_conditions){.if_match = "\"v0\"", .if_none_match = "\"v1\""};
	assert_int_equal(PRE(&file, true), HTTP_PRECOND_FAILED);
	c = (struct http_conditions){.if_unmodified_since = before};
	assert_int_equal(PRE(&file, true), HTTP_PRECOND_FAILED);
	assert_int_equal(PRE(&rendered, true), HTTP_PRECOND_PROCEED);
	c = (struct http_conditions){.if_unmodified_since = at};
	assert_int_equal(PRE(&file, true), HTTP_PRECOND_PROCEED);
	/* If-Match present: If-Unmodified-Since is not looked at. */
	c = (struct http_conditions){.if_match = "\"v1\"", .if_unmodified_since = before};
	assert_int_equal(PRE(&file, true), HTTP_PRECOND_PROCEED);
#undef PRE
}

static void test_if_range(void **state)
{
	const struct http_validators file = {"\"v1\"", 784111777, NOW};
	const struct http_validators rendered = {"\"r1\"", -1, NOW};
	/* Written in the second of the reply: another write may share the date. */
	const struct http_validators fresh = {"\"v1\"", 784111777, 784111777};
	const struct http_validators aged = {"\"v1\"", 784111777, 784111778};

	assert_true(http_if_range_allows(NULL, &file));
	assert_true(http_if_range_allows("\"v1\"", &file));
	assert_false(http_if_range_allows("\"v0\"", &file));
	assert_false(http_if_range_allows("W/\"v1\"", &file));
	assert_false(http_if_range_allows("\"v1\", \"v1\"", &file));
	assert_true(http_if_range_allows("Sun, 06 Nov 1994 08:49:37 GMT", &file));
	assert_false(http_if_range_allows("Sun, 06 Nov 1994 08:49:38 GMT", &file));
	assert_false(http_if_range_allows("Sun, 06 Nov 1994 08:49:37 GMT", &rendered));
	assert_true(http_if_range_allows("\"r1\"", &rendered));
	assert_false(http_if_range_allows("garbage", &file));
	assert_false(http_if_range_allows("Sun, 06 Nov 1994 08:49:37 GMT", &fresh));
	assert_true(http_if_range_allows("Sun, 06 Nov 1994 08:49:37 GMT", &aged));
	assert_true(http_if_range_allows("\"v1\"", &fresh));
}

static void test_multipart(void **state)
{
	const struct http_range r = {4294967296ull, 4294967305ull};
	char out[256];

	assert_int_equal(http_content_range(out, sizeof(out), &r, 5368709120ull),
			 (int)strlen("bytes 4294967296-4294967305/5368709120"));
	assert_string_equal(out, "bytes 4294967296-4294967305/5368709120");
	assert_true(http_content_range(out, sizeof(out), NULL, 100) > 0);
	assert_string_equal(out, "bytes */100");
	int n = http_multipart_head(out, sizeof(out), "B", "text/plain", &r, 5368709120ull);
	assert_string_equal(out, "\r\n--B\r\nContent-Type: text/plain\r\n"
				 "Content-Range: bytes 4294967296-4294967305/5368709120\r\n\r\n");
	assert_int_equal(n, (int)strlen(out));
	assert_int_equal(http_multipart_tail(out, sizeof(out), "B"), 9);
	assert_string_equal(out, "\r\n--B--\r\n");
	assert_int_equal(http_multipart_head(out, 20, "B", "text/plain", &r, 10), -ENOSPC);
	assert_int_equal(http_multipart_tail(out, 9, "B"), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_range_table),
	    cmocka_unit_test(test_range_cap),
	    cmocka_unit_test(test_range_prefixes),
	    cmocka_unit_test(test_etag_table),
	    cmocka_unit_test(test_date_table),
	    cmocka_unit_test(test_date_round_trip),
	    cmocka_unit_test(test_date_two_digit_year),
	    cmocka_unit_test(test_preconditions),
	    cmocka_unit_test(test_if_range),
	    cmocka_unit_test(test_multipart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
