/*
 * libFuzzer target for the pure HTTP parsers (http/range.h): Range against
 * several sizes, entity-tag lists, HTTP dates, preconditions and If-Range.
 *
 * The input is split at newlines into up to three strings: a Range value, an
 * entity-tag list, a date. Each is also tried in every other role. Checked:
 * ranges lie inside the file, in order of their first byte never overlap,
 * and are at most HTTP_RANGE_MAX; a parsed date formats and parses back.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/range.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_ranges(const char *v)
{
	static const uint64_t sizes[] = {1, 2, 100, 4294967296ull, 5368709120ull, UINT64_MAX};
	struct http_range r[HTTP_RANGE_MAX];
	char out[256];
	size_t n;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		enum http_range_result res = http_range_parse(v, sizes[i], r, &n);
		assert(n <= HTTP_RANGE_MAX);
		assert((res == HTTP_RANGE_OK) == (n > 0));
		for (size_t j = 0; j < n; j++) {
			assert(r[j].first <= r[j].last && r[j].last < sizes[i]);
			for (size_t k = j + 1; k < n; k++)
				assert(r[k].last < r[j].first || r[j].last < r[k].first);
			assert(http_multipart_head(out, sizeof(out), "b", "x/y", &r[j], sizes[i]) >
			       0);
		}
	}
}

static void fuzz_dates(const char *v)
{
	char out[HTTP_DATE_LEN];
	int64_t t, back;

	if (http_date_parse(v, 1796644800, &t) == 0) {
		http_date_format(t, out);
		assert(http_date_parse(out, 1796644800, &back) == 0 && back == t);
	}
}

static void fuzz_conditions(const char *a, const char *b, const char *c)
{
	const struct http_validators vs[] = {
	    {"\"v1\"", 784111777, 1796644800}, {"\"r1\"", -1, 1796644800}, {NULL, 0, 0}};
	const struct http_conditions conds[] = {
	    {.if_match = a, .if_unmodified_since = c},
	    {.if_none_match = b, .if_modified_since = c},
	    {.if_match = b, .if_none_match = a, .if_modified_since = a, .if_unmodified_since = b},
	};

	for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++) {
		for (size_t j = 0; j < sizeof(conds) / sizeof(conds[0]); j++) {
			enum http_precondition p = http_preconditions(&conds[j], &vs[i], j != 2);
			assert(p == HTTP_PRECOND_PROCEED || p == HTTP_PRECOND_NOT_MODIFIED ||
			       p == HTTP_PRECOND_FAILED);
		}
		(void)http_if_range_allows(a, &vs[i]);
		(void)http_if_range_allows(c, &vs[i]);
		(void)http_etag_list_match(b, vs[i].etag, true);
		(void)http_etag_list_match(b, a, false);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *parts[3] = {"", "", ""};
	size_t n = 0;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	parts[n++] = buf;
	for (char *p = buf; *p != '\0' && n < 3; p++) {
		if (*p == '\n') {
			*p = '\0';
			parts[n++] = p + 1;
		}
	}
	for (size_t i = 0; i < 3; i++) {
		fuzz_ranges(parts[i]);
		fuzz_dates(parts[i]);
	}
	fuzz_conditions(parts[0], parts[1], parts[2]);
	free(buf);
	return 0;
}
