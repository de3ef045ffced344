#include "http/range.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* 1*DIGIT, saturating at UINT64_MAX (a position that large is past any file). */
static const char *scan_u64(const char *p, uint64_t *v)
{
	if (!is_digit(*p))
		return NULL;
	*v = 0;
	for (; is_digit(*p); p++) {
		uint64_t d = (uint64_t)(*p - '0');
		*v = *v > (UINT64_MAX - d) / 10 ? UINT64_MAX : *v * 10 + d;
	}
	return p;
}

/*
 * One range-spec (§14.1.1): "first-last", "first-" or "-suffix". Returns the
 * end, or NULL when malformed (last < first is malformed too). *ok is false
 * for a well-formed spec that lies outside the file.
 */
static const char *scan_range_spec(const char *p, uint64_t size, struct http_range *r, bool *ok)
{
	uint64_t a, b = UINT64_MAX;

	if (*p == '-') {
		if ((p = scan_u64(p + 1, &b)) == NULL)
			return NULL;
		*ok = b > 0;
		*r = (struct http_range){b < size ? size - b : 0, size - 1};
		return p;
	}
	if ((p = scan_u64(p, &a)) == NULL || *p++ != '-')
		return NULL;
	if (is_digit(*p) && ((p = scan_u64(p, &b)) == NULL || b < a))
		return NULL;
	*ok = a < size;
	*r = (struct http_range){a, b < size ? b : size - 1};
	return p;
}

static bool ranges_overlap(const struct http_range *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (r[i].first <= r[j].last && r[j].first <= r[i].last)
				return true;
	return false;
}

enum http_range_result http_range_parse(const char *value, uint64_t size,
					struct http_range out[HTTP_RANGE_MAX], size_t *n)
{
	size_t specs = 0;
	const char *p;

	*n = 0;
	if (value == NULL || size == 0)
		return HTTP_RANGE_NONE;
	p = skip_ows(value);
	if (strncasecmp(p, "bytes=", 6) != 0)
		return HTTP_RANGE_NONE;
	/* range-set = 1#range-spec: empty list elements are allowed (§5.6.1.2). */
	for (p += 6;;) {
		struct http_range r;
		bool ok;

		p = skip_ows(p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == '\0')
			break;
		if ((p = scan_range_spec(p, size, &r, &ok)) == NULL || ++specs > HTTP_RANGE_MAX)
			goto ignore;
		if (ok)
			out[(*n)++] = r;
		p = skip_ows(p);
		if (*p != ',' && *p != '\0')
			goto ignore;
	}
	if (specs == 0)
		return HTTP_RANGE_NONE;
	if (*n == 0)
		return HTTP_RANGE_UNSATISFIABLE;
	if (!ranges_overlap(out, *n))
		return HTTP_RANGE_OK;
ignore:
	*n = 0;
	return HTTP_RANGE_NONE;
}

/* entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; *tag points at the opening quote. */
static const char *scan_etag(const char *p, bool *weak, const char **tag, size_t *len)
{
	const char *start;

	*weak = p[0] == 'W' && p[1] == '/';
	if (*weak)
		p += 2;
	if (*p != '"')
		return NULL;
	start = p++;
	/* etagc = %x21 / %x23-7E / obs-text */
	for (; *p != '"'; p++)
		if ((unsigned char)*p < 0x21 || *p == 0x7f)
			return NULL;
	*tag = start;
	*len = (size_t)(p + 1 - start);
	return p + 1;
}

static bool etag_equal(const char *a, size_t alen, bool aweak, const char *b, size_t blen,
		       bool bweak, bool weak)
{
	return alen == blen && memcmp(a, b, alen) == 0 && (weak || (!aweak && !bweak));
}

bool http_etag_list_match(const char *list, const char *tag, bool weak)
{
	const char *mine, *p;
	size_t mylen;
	bool myweak, match = false;

	if (list == NULL)
		return false;
	p = skip_ows(list);
	/* "*": any current representation, and there is one. */
	if (*p == '*')
		return *skip_ows(p + 1) == '\0';
	if (tag == NULL || scan_etag(tag, &myweak, &mine, &mylen) == NULL)
		return false;
	for (;;) {
		const char *t;
		size_t len;
		bool w;

		p = skip_ows(p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == '\0')
			return match;
		if ((p = scan_etag(p, &w, &t, &len)) == NULL)
			return false;
		match = match || etag_equal(t, len, w, mine, mylen, myweak, weak);
		p = skip_ows(p);
		if (*p != ',' && *p != '\0')
			return false;
	}
}

/* ---- dates (§5.6.7) -------------------------------------------------------- */

static const char day_names[7][4] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
static const char month_names[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; m 1..12). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned char dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return dm[m - 1] + (m == 2 && leap);
}

/* Whole days since 1970-01-01 at t, rounded down. */
static int64_t days_of(int64_t t)
{
	return t >= 0 ? t / 86400 : (t - 86399) / 86400;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Exactly n digits. */
static const char *scan_fixed(const char *p, int n, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, p++) {
		if (!is_digit(*p))
			return NULL;
		*v = *v * 10 + (unsigned)(*p - '0');
	}
	return p;
}

static const char *scan_month(const char *p, unsigned *m)
{
	for (unsigned i = 0; i < 12; i++) {
		if (strncmp(p, month_names[i], 3) == 0) {
			*m = i + 1;
			return p + 3;
		}
	}
	return NULL;
}

/* "HH:MM:SS" */
static const char *scan_time(const char *p, unsigned *h, unsigned *mi, unsigned *s)
{
	if ((p = scan_fixed(p, 2, h)) == NULL || *p++ != ':' ||
	    (p = scan_fixed(p, 2, mi)) == NULL || *p++ != ':' || (p = scan_fixed(p, 2, s)) == NULL)
		return NULL;
	return *h > 23 || *mi > 59 || *s > 60 ? NULL : p;
}

struct http_tm {
	unsigned year, mon, day, hour, min, sec;
};

/* IMF-fixdate after "Day, ": "06 Nov 1994 08:49:37 GMT" */
static const char *scan_imf(const char *p, struct http_tm *t)
{
	if ((p = scan_fixed(p, 2, &t->day)) == NULL || *p++ != ' ' ||
	    (p = scan_month(p, &t->mon)) == NULL || *p++ != ' ' ||
	    (p = scan_fixed(p, 4, &t->year)) == NULL || *p++ != ' ' ||
	    (p = scan_time(p, &t->hour, &t->min, &t->sec)) == NULL)
		return NULL;
	return strcmp(p, " GMT") == 0 ? p + 4 : NULL;
}

/* RFC 850 after "Sunday, ": "06-Nov-94 08:49:37 GMT"; the year's century is placed later. */
static const char *scan_rfc850(const char *p, struct http_tm *t)
{
	if ((p = scan_fixed(p, 2, &t->day)) == NULL || *p++ != '-' ||
	    (p = scan_month(p, &t->mon)) == NULL || *p++ != '-' ||
	    (p = scan_fixed(p, 2, &t->year)) == NULL || *p++ != ' ' ||
	    (p = scan_time(p, &t->hour, &t->min, &t->sec)) == NULL)
		return NULL;
	return strcmp(p, " GMT") == 0 ? p + 4 : NULL;
}

/* asctime after "Sun ": "Nov  6 08:49:37 1994" */
static const char *scan_asctime(const char *p, struct http_tm *t)
{
	if ((p = scan_month(p, &t->mon)) == NULL || *p++ != ' ')
		return NULL;
	if (*p == ' ')
		p = scan_fixed(p + 1, 1, &t->day);
	else
		p = scan_fixed(p, 2, &t->day);
	if (p == NULL || *p++ != ' ' || (p = scan_time(p, &t->hour, &t->min, &t->sec)) == NULL ||
	    *p++ != ' ' || (p = scan_fixed(p, 4, &t->year)) == NULL)
		return NULL;
	return *p == '\0' ? p : NULL;
}

static int64_t http_tm_seconds(const struct http_tm *t)
{
	/* A leap second is the second before the next minute here. */
	return days_from_civil(t->year, t->mon, t->day) * 86400 + t->hour * 3600 + t->min * 60 +
	       (t->sec > 59 ? 59 : t->sec);
}

/*
 * §5.6.7: a two-digit year that appears to be more than 50 years in the
 * future is the most recent past year with those digits. So the year is
 * the one with those digits within 50 years of now, either way.
 */
static void place_two_digit_year(struct http_tm *t, int64_t now)
{
	struct http_tm limit;
	int64_t ny, secs;

	now = now < 0 ? 0 : now;
	secs = now - days_of(now) * 86400;
	civil_from_days(days_of(now), &ny, &limit.mon, &limit.day);
	limit.year = (unsigned)(ny + 50);
	limit.hour = (unsigned)(secs / 3600);
	limit.min = (unsigned)(secs / 60 % 60);
	limit.sec = (unsigned)(secs % 60);
	t->year += (unsigned)(ny - ny % 100);
	if (t->year + 50 <= ny)
		t->year += 100;
	if (http_tm_seconds(t) > http_tm_seconds(&limit))
		t->year -= 100;
}

int http_date_parse(const char *s, int64_t now, int64_t *out)
{
	struct http_tm t = {0};
	const char *comma = strchr(s, ','), *p;

	if (comma == s + 3) {
		p = comma[1] == ' ' ? scan_imf(comma + 2, &t) : NULL;
	} else if (comma != NULL) {
		p = comma[1] == ' ' && comma - s >= 6 && comma - s <= 9 ? scan_rfc850(comma + 2, &t)
									: NULL;
		if (p != NULL)
			place_two_digit_year(&t, now);
	} else {
		p = s[0] != '\0' && s[1] != '\0' && s[2] != '\0' && s[3] == ' '
			? scan_asctime(s + 4, &t)
			: NULL;
	}
	if (p == NULL || t.year < 1900 || t.day < 1 || t.day > days_in_month(t.year, t.mon))
		return -EINVAL;
	*out = http_tm_seconds(&t);
	return 0;
}

void http_date_format(int64_t t, char out[HTTP_DATE_LEN])
{
	int64_t days = days_of(t), secs = t - days * 86400, y;
	unsigned m, d;

	civil_from_days(days, &y, &m, &d);
	snprintf(out, HTTP_DATE_LEN, "%s, %02u %s %04lld %02d:%02d:%02d GMT",
		 day_names[((days % 7) + 7) % 7], d, month_names[m - 1], (long long)(y % 10000),
		 (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
}

/* ---- preconditions (§13.2.2) ----------------------------------------------- */

/* A date condition that applies: the header is present and valid, and we have a date. */
static bool date_condition(const char *h, const struct http_validators *v, int64_t *t)
{
	return h != NULL && v->last_modified >= 0 && http_date_parse(skip_ows(h), v->date, t) == 0;
}

enum http_precondition http_preconditions(const struct http_conditions *c,
					  const struct http_validators *v, bool read)
{
	int64_t t;

	if (c->if_match != NULL) {
		if (!http_etag_list_match(c->if_match, v->etag, false))
			return HTTP_PRECOND_FAILED;
	} else if (date_condition(c->if_unmodified_since, v, &t) && v->last_modified > t) {
		return HTTP_PRECOND_FAILED;
	}
	if (c->if_none_match != NULL) {
		if (http_etag_list_match(c->if_none_match, v->etag, true))
			return read ? HTTP_PRECOND_NOT_MODIFIED : HTTP_PRECOND_FAILED;
	} else if (read && date_condition(c->if_modified_since, v, &t) && v->last_modified <= t) {
		return HTTP_PRECOND_NOT_MODIFIED;
	}
	return HTTP_PRECOND_PROCEED;
}

bool http_if_range_allows(const char *if_range, const struct http_validators *v)
{
	const char *p, *a, *b;
	size_t alen, blen;
	bool aweak, bweak;
	int64_t t;

	if (if_range == NULL)
		return true;
	p = skip_ows(if_range);
	if (*p == '"' || (p[0] == 'W' && p[1] == '/')) {
		/* One entity-tag, compared strongly: a weak one never matches. */
		if ((p = scan_etag(p, &aweak, &a, &alen)) == NULL || *skip_ows(p) != '\0' ||
		    v->etag == NULL || scan_etag(v->etag, &bweak, &b, &blen) == NULL)
			return false;
		return etag_equal(a, alen, aweak, b, blen, bweak, false);
	}
	/* A date is a strong validator only if no second write can share it (§8.8.2.2). */
	return date_condition(p, v, &t) && t == v->last_modified && v->last_modified < v->date;
}

/* ---- replies --------------------------------------------------------------- */

static int fit(int n, size_t cap)
{
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

int http_content_range(char *out, size_t cap, const struct http_range *r, uint64_t size)
{
	if (r == NULL)
		return fit(snprintf(out, cap, "bytes */%llu", (unsigned long long)size), cap);
	return fit(snprintf(out, cap, "bytes %llu-%llu/%llu", (unsigned long long)r->first,
			    (unsigned long long)r->last, (unsigned long long)size),
		   cap);
}

int http_multipart_head(char *out, size_t cap, const char *boundary, const char *type,
			const struct http_range *r, uint64_t size)
{
	char cr[80];

	if (http_content_range(cr, sizeof(cr), r, size) < 0)
		return -ENOSPC;
	return fit(snprintf(out, cap, "\r\n--%s\r\nContent-Type: %s\r\nContent-Range: %s\r\n\r\n",
			    boundary, type, cr),
		   cap);
}

int http_multipart_tail(char *out, size_t cap, const char *boundary)
{
	return fit(snprintf(out, cap, "\r\n--%s--\r\n", boundary), cap);
}
