/*
 * The pure half of HTTP file serving (RFC 9110): byte ranges (§14), entity
 * tags (§8.8.3), HTTP dates (§5.6.7) and the order in which preconditions
 * are evaluated (§13.2.2). No I/O, no globals: the server, the unit tests
 * and the fuzzer call these with strings.
 */
#ifndef PXED_HTTP_RANGE_H
#define PXED_HTTP_RANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Ranges served in one reply. A Range with more is ignored (the whole file,
 * 200), as RFC 9110 §14.2 allows; so is one whose ranges overlap (a cheap
 * amplification: "bytes=0-,0-,0-..." asks for the file many times over).
 */
#define HTTP_RANGE_MAX 16

/* Enough for any date http_date_format writes, with its NUL. */
#define HTTP_DATE_LEN 30

struct http_range {
	uint64_t first, last; /* inclusive, last < size */
};

enum http_range_result {
	HTTP_RANGE_NONE,	  /* no Range, or one to ignore: the whole file, 200 */
	HTTP_RANGE_OK,		  /* *n ranges (1..HTTP_RANGE_MAX): 206 */
	HTTP_RANGE_UNSATISFIABLE, /* none of them lies in the file: 416 */
};

/*
 * Evaluates a Range header's value (NULL: absent) against a representation
 * of size bytes. Ranges keep the order asked for; an end past the file is
 * clamped, "-N" is the last N bytes, "N-" from N to the end. Ranges that
 * start at or beyond size are dropped; if none is left, 416. A malformed
 * value, another unit than bytes, an empty file, more than HTTP_RANGE_MAX
 * ranges or overlapping ones: HTTP_RANGE_NONE.
 */
enum http_range_result http_range_parse(const char *value, uint64_t size,
					struct http_range out[HTTP_RANGE_MAX], size_t *n);

/*
 * Entity tags. tag is one tag as sent in ETag ("\"abc\"" or "W/\"abc\"").
 * A list is an If-Match / If-None-Match value: "*" or entity-tags separated
 * by commas. weak: the weak comparison (§8.8.3.2, for If-None-Match),
 * otherwise the strong one (If-Match, If-Range). A malformed list matches
 * nothing.
 */
bool http_etag_list_match(const char *list, const char *tag, bool weak);

/*
 * Parses an HTTP-date in any of the three forms a recipient must accept
 * (IMF-fixdate, RFC 850, asctime) into seconds since the epoch. 0 or -EINVAL.
 * now (epoch seconds) places an RFC 850 two-digit year: in now's century,
 * unless that is more than 50 years ahead of now, then in the one before.
 */
int http_date_parse(const char *s, int64_t now, int64_t *out);

/* Writes t as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"). */
void http_date_format(int64_t t, char out[HTTP_DATE_LEN]);

/* What the server knows of the representation it would send. */
struct http_validators {
	const char *etag;      /* strong entity tag, quoted; NULL: none */
	int64_t last_modified; /* epoch seconds, not after date; -1: none (rendered files) */
	int64_t date;	       /* the response's Date: now, in epoch seconds */
};

/* The request's conditional headers; NULL when absent. */
struct http_conditions {
	const char *if_match, *if_none_match, *if_modified_since, *if_unmodified_since;
	const char *if_range;
};

enum http_precondition {
	HTTP_PRECOND_PROCEED,	   /* answer as if unconditional */
	HTTP_PRECOND_NOT_MODIFIED, /* 304 */
	HTTP_PRECOND_FAILED,	   /* 412 */
};

/*
 * RFC 9110 §13.2.2, steps 1 to 4: If-Match, else If-Unmodified-Since; then
 * If-None-Match, else If-Modified-Since (the latter for GET and HEAD only).
 * read: the method is GET or HEAD (a match of If-None-Match is then 304,
 * otherwise 412).
 */
enum http_precondition http_preconditions(const struct http_conditions *c,
					  const struct http_validators *v, bool read);

/*
 * §13.1.5, step 5: may the Range be honoured? True without If-Range; with
 * one, only if it names the current entity tag (strong comparison) or is
 * exactly the Last-Modified date and that date is a strong validator: at
 * least one second before v->date (§8.8.2.2: a file written twice within
 * its Last-Modified second has two contents under one date). False: send
 * the whole representation.
 */
bool http_if_range_allows(const char *if_range, const struct http_validators *v);

/*
 * multipart/byteranges (§14.6): the part header that goes before range r
 * (CRLF, the boundary, Content-Type, Content-Range, blank line) and the
 * closing delimiter. Return the length written, or -ENOSPC when cap is too
 * small (nothing usable is written then).
 */
int http_multipart_head(char *out, size_t cap, const char *boundary, const char *type,
			const struct http_range *r, uint64_t size);
int http_multipart_tail(char *out, size_t cap, const char *boundary);

/*
 * The Content-Range value of one range ("bytes 0-99/1000"); with r NULL,
 * the one a 416 carries: "bytes", a star, a slash and the size.
 */
int http_content_range(char *out, size_t cap, const struct http_range *r, uint64_t size);

#endif
