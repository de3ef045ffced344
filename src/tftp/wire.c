#include "tftp/wire.h"

#include "core/buf.h"
#include "core/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/*
 * The option catalogue: one table for the decoder (names and ranges) and the
 * OACK encoder (order). RFC 2347: option names are case-insensitive.
 */
static const struct tftp_opt_def {
	const char *name;
	uint64_t min, max;
} tftp_opt_table[TFTP_OPT_COUNT] = {
    /* RFC 2348: "Valid values range between 8 and 65464 octets, inclusive." */
    [TFTP_OPT_BLKSIZE] = {"blksize", TFTP_BLKSIZE_MIN, TFTP_BLKSIZE_MAX},
    /* RFC 2349: 0 in an RRQ; any size in an OACK. */
    [TFTP_OPT_TSIZE] = {"tsize", 0, UINT64_MAX},
    /* RFC 2349: "Valid values range between 1 and 255 seconds, inclusive." */
    [TFTP_OPT_TIMEOUT] = {"timeout", 1, 255},
    /* RFC 7440: "Valid values range between 1 and 65535 blocks, inclusive." */
    [TFTP_OPT_WINDOWSIZE] = {"windowsize", 1, 65535},
};

/* Longest decimal value we parse: UINT64_MAX has 20 digits. */
#define TFTP_OPT_VALUE_MAX 20

const char *tftp_opt_name(enum tftp_opt id)
{
	return (unsigned)id < TFTP_OPT_COUNT ? tftp_opt_table[id].name : "?";
}

/*
 * Takes one NUL-terminated string off the cursor; on a missing NUL the
 * cursor's sticky error is set and NULL returned.
 */
static const char *rd_cstr(struct rd *r, size_t *n)
{
	size_t left = rd_left(r);
	const uint8_t *start = left > 0 ? r->p + r->off : NULL;
	const uint8_t *nul = start != NULL ? memchr(start, 0, left) : NULL;

	if (nul == NULL) {
		rd_take(r, left + 1); /* runs past the end: sets r->err */
		return NULL;
	}
	*n = (size_t)(nul - start);
	return (const char *)rd_take(r, *n + 1);
}

/*
 * Old PXE ROMs pad the request with 0xFF or extra NULs. Drop the padding but
 * keep the NUL that ended the last string: without one the request is
 * malformed and the parser says so.
 */
static size_t tftp_trim_padding(const uint8_t *p, size_t len)
{
	size_t end = len;

	while (end > 2 && (p[end - 1] == 0 || p[end - 1] == 0xff))
		end--;
	return end < len && p[end] == 0 ? end + 1 : end;
}

static int tftp_refuse(struct tftp_req *out, int rc, uint16_t code, const char *msg)
{
	out->err_code = code;
	out->err_msg = msg;
	return rc;
}

static int tftp_parse_mode(const char *s, size_t n, enum tftp_mode *mode)
{
	/* RFC 1350: "any combination of upper and lower case". */
	if (n == 5 && strncasecmp(s, "octet", 5) == 0)
		*mode = TFTP_MODE_OCTET;
	else if (n == 8 && strncasecmp(s, "netascii", 8) == 0)
		*mode = TFTP_MODE_NETASCII;
	else
		return -EPROTONOSUPPORT; /* "mail" is obsolete (RFC 1350 section 1) */
	return 0;
}

static int tftp_opt_lookup(const char *name, size_t n)
{
	for (int i = 0; i < TFTP_OPT_COUNT; i++)
		if (strlen(tftp_opt_table[i].name) == n &&
		    strncasecmp(name, tftp_opt_table[i].name, n) == 0)
			return i;
	return -1;
}

/* One name/value pair. Unknown names are ignored (RFC 2347). */
static int tftp_parse_option(const char *name, size_t nlen, const char *val, size_t vlen,
			     struct tftp_opts *opts)
{
	char digits[TFTP_OPT_VALUE_MAX + 1];
	uint64_t v;
	int id = tftp_opt_lookup(name, nlen);

	if (id < 0)
		return 0;
	if (tftp_opt_has(opts, (enum tftp_opt)id))
		return -ERANGE; /* a repeated option is ambiguous: refuse it */
	if (vlen == 0 || vlen > TFTP_OPT_VALUE_MAX)
		return -ERANGE;
	memcpy(digits, val, vlen);
	digits[vlen] = '\0';
	if (parse_u64(digits, tftp_opt_table[id].min, tftp_opt_table[id].max, &v) < 0)
		return -ERANGE;
	tftp_opt_set(opts, (enum tftp_opt)id, v);
	return 0;
}

/*
 * RFC 2347: options follow the mode as name/value string pairs. A name at
 * the very end without a value had its empty value's NUL eaten by the
 * padding trim, so it counts as an empty value.
 */
static int tftp_parse_options(struct rd *r, struct tftp_opts *opts)
{
	while (rd_left(r) > 0) {
		size_t nlen = 0, vlen = 0;
		const char *name = rd_cstr(r, &nlen);
		const char *val = "";

		if (name == NULL)
			return -EBADMSG;
		if (rd_left(r) > 0 && (val = rd_cstr(r, &vlen)) == NULL)
			return -EBADMSG;
		if (tftp_parse_option(name, nlen, val, vlen, opts) < 0)
			return -ERANGE;
	}
	return 0;
}

int tftp_decode_req(const void *pkt, size_t len, struct tftp_req *out)
{
	struct rd r = rd_init(pkt, len >= 4 ? tftp_trim_padding(pkt, len) : len);
	const char *name, *mode;
	size_t nlen = 0, mlen = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->opcode = rd_u16(&r);
	if (r.err || len < 4 || (out->opcode != TFTP_RRQ && out->opcode != TFTP_WRQ))
		return tftp_refuse(out, -EBADMSG, TFTP_ERR_BADOP, "malformed request");
	name = rd_cstr(&r, &nlen);
	if (name == NULL || nlen == 0)
		return tftp_refuse(out, -EBADMSG, TFTP_ERR_BADOP, "malformed file name");
	if (nlen > TFTP_FILENAME_MAX)
		return tftp_refuse(out, -EBADMSG, TFTP_ERR_BADOP, "file name too long");
	memcpy(out->filename, name, nlen);
	out->filename[nlen] = '\0';
	out->filename_len = nlen;
	mode = rd_cstr(&r, &mlen);
	if (mode == NULL || mlen == 0)
		return tftp_refuse(out, -EBADMSG, TFTP_ERR_BADOP, "missing mode");
	if (tftp_parse_mode(mode, mlen, &out->mode) < 0)
		return tftp_refuse(out, -EPROTONOSUPPORT, TFTP_ERR_BADOP, "unsupported mode");
	rc = tftp_parse_options(&r, &out->opts);
	if (rc == -ERANGE)
		return tftp_refuse(out, rc, TFTP_ERR_OPTNEG, "bad option value");
	if (rc < 0)
		return tftp_refuse(out, rc, TFTP_ERR_BADOP, "malformed option");
	return 0;
}

int tftp_decode_msg(const void *pkt, size_t len, struct tftp_msg *out)
{
	struct rd r = rd_init(pkt, len);

	memset(out, 0, sizeof(*out));
	if (len < 4)
		return -EBADMSG; /* every TFTP packet has opcode + 2 bytes */
	out->opcode = rd_u16(&r);
	switch (out->opcode) {
	case TFTP_DATA:
	case TFTP_ACK:
		out->block = rd_u16(&r);
		return 0;
	case TFTP_ERROR:
		out->err_code = rd_u16(&r);
		/* Be lenient with a peer's message: it ends at a NUL or the packet. */
		out->text_len = rd_left(&r);
		out->text = rd_take(&r, out->text_len);
		if (out->text != NULL && memchr(out->text, 0, out->text_len) != NULL)
			out->text_len = strlen((const char *)out->text);
		return 0;
	case TFTP_RRQ:
	case TFTP_WRQ:
	case TFTP_OACK:
		return 0;
	default:
		return -EBADMSG;
	}
}

int tftp_encode_data(void *buf, size_t cap, uint16_t block, const void *data, size_t n)
{
	struct wr w = wr_init(buf, cap);

	wr_u16(&w, TFTP_DATA);
	wr_u16(&w, block);
	if (data == (const uint8_t *)buf + TFTP_DATA_HDR)
		wr_reserve(&w, n); /* payload already in place */
	else
		wr_bytes(&w, data, n);
	return w.err ? -ENOSPC : (int)w.len;
}

int tftp_encode_ack(void *buf, size_t cap, uint16_t block)
{
	struct wr w = wr_init(buf, cap);

	wr_u16(&w, TFTP_ACK);
	wr_u16(&w, block);
	return w.err ? -ENOSPC : (int)w.len;
}

static void wr_cstr(struct wr *w, const char *s)
{
	wr_bytes(w, s, strlen(s) + 1);
}

static void tftp_write_options(struct wr *w, const struct tftp_opts *opts)
{
	char num[TFTP_OPT_VALUE_MAX + 1];

	for (int i = 0; i < TFTP_OPT_COUNT; i++) {
		if (!tftp_opt_has(opts, (enum tftp_opt)i))
			continue;
		snprintf(num, sizeof(num), "%" PRIu64, opts->val[i]);
		wr_cstr(w, tftp_opt_table[i].name);
		wr_cstr(w, num);
	}
}

int tftp_encode_oack(void *buf, size_t cap, const struct tftp_opts *opts)
{
	struct wr w = wr_init(buf, cap);

	wr_u16(&w, TFTP_OACK);
	tftp_write_options(&w, opts);
	return w.err ? -ENOSPC : (int)w.len;
}

int tftp_encode_error(void *buf, size_t cap, uint16_t code, const char *msg)
{
	struct wr w = wr_init(buf, cap);
	size_t n = strlen(msg);

	if (cap < 5)
		return -ENOSPC;
	if (n > cap - 5)
		n = cap - 5;
	wr_u16(&w, TFTP_ERROR);
	wr_u16(&w, code);
	wr_bytes(&w, msg, n);
	wr_u8(&w, 0);
	return w.err ? -ENOSPC : (int)w.len;
}

int tftp_encode_rrq(void *buf, size_t cap, const char *filename, const char *mode,
		    const struct tftp_opts *opts)
{
	struct wr w = wr_init(buf, cap);

	wr_u16(&w, TFTP_RRQ);
	wr_cstr(&w, filename);
	wr_cstr(&w, mode);
	if (opts != NULL)
		tftp_write_options(&w, opts);
	return w.err ? -ENOSPC : (int)w.len;
}

uint16_t tftp_window_cap(uint64_t asked, uint16_t blksize, uint16_t max_blocks, uint32_t max_bytes)
{
	uint64_t n = asked < max_blocks ? asked : max_blocks;
	uint64_t by_bytes = blksize > 0 ? max_bytes / blksize : 1;

	if (n > by_bytes)
		n = by_bytes;
	return n > 0 ? (uint16_t)n : 1;
}

uint64_t tftp_backoff_us(uint8_t timeout_s, unsigned retries, uint64_t default_us, uint64_t cap_us)
{
	uint64_t base = timeout_s ? timeout_s * 1000000ull : default_us;
	uint64_t cap = base > cap_us ? base : cap_us;

	if (retries >= 32 || (base << retries) > cap)
		return cap;
	return base << retries;
}
