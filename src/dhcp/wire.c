#include "dhcp/wire.h"

#include <errno.h>
#include <string.h>

#include "core/buf.h"
#include "dhcp/options.h"

/*
 * The options whose meaning the decoder or the server reads (RFC 2132 §3-§9,
 * RFC 4578 §2). One of them with a length its catalogue entry forbids makes
 * the message malformed; every other option is carried through unchecked.
 */
static const uint8_t dhcp_checked_opts[] = {
    DHCP_OPT_SUBNET_MASK,  DHCP_OPT_ROUTER,	 DHCP_OPT_DNS,	      DHCP_OPT_BROADCAST,
    DHCP_OPT_REQUESTED_IP, DHCP_OPT_LEASE_TIME,	 DHCP_OPT_OVERLOAD,   DHCP_OPT_MSG_TYPE,
    DHCP_OPT_SERVER_ID,	   DHCP_OPT_MAX_SIZE,	 DHCP_OPT_RENEWAL,    DHCP_OPT_REBINDING,
    DHCP_OPT_CLIENT_ID,	   DHCP_OPT_CLIENT_ARCH, DHCP_OPT_CLIENT_NDI,
};

static const char *const dhcp_err_names[] = {
    [DHCP_OK] = "ok",
    [DHCP_ERR_SHORT] = "shorter than a DHCP header",
    [DHCP_ERR_TOO_LONG] = "longer than 1500 bytes",
    [DHCP_ERR_MAGIC] = "no DHCP magic cookie",
    [DHCP_ERR_HLEN] = "hardware address length over 16",
    [DHCP_ERR_OPTION] = "an option runs past the end of its field",
    [DHCP_ERR_OPTION_LEN] = "an option has an invalid length",
    [DHCP_ERR_NO_TYPE] = "no valid message type (option 53)",
    [DHCP_ERR_NO_END] = "options do not end with END",
};

const char *dhcp_decode_strerror(enum dhcp_decode_err e)
{
	if ((size_t)e >= sizeof(dhcp_err_names) / sizeof(dhcp_err_names[0]))
		return "unknown";
	return dhcp_err_names[e];
}

/* One instance of an option as it appears on the wire. */
struct dhcp_seg {
	uint8_t code;
	uint8_t len;
	const uint8_t *data;
};

#define DHCP_MAX_SEGS (DHCP_MAX_LEN / 2)

struct dhcp_segs {
	struct dhcp_seg s[DHCP_MAX_SEGS];
	size_t n;
};

/*
 * Splits one options field into segments; stops at END. The options field
 * must end with END (RFC 2131 §4.1): without it a datagram cut short at an
 * option boundary would look complete. Overloaded file/sname fields are
 * fixed-size and may simply run out.
 */
static enum dhcp_decode_err dhcp_scan_field(const uint8_t *p, size_t n, bool need_end,
					    struct dhcp_segs *segs)
{
	struct rd r = rd_init(p, n);

	while (rd_left(&r) > 0) {
		uint8_t code = rd_u8(&r);
		if (code == DHCP_OPT_PAD)
			continue;
		if (code == DHCP_OPT_END)
			return DHCP_OK;
		if (rd_left(&r) < 1)
			return DHCP_ERR_OPTION;
		uint8_t len = rd_u8(&r);
		const uint8_t *data = rd_take(&r, len);
		if (data == NULL)
			return DHCP_ERR_OPTION;
		if (segs->n == DHCP_MAX_SEGS)
			return DHCP_ERR_OPTION;
		segs->s[segs->n++] = (struct dhcp_seg){code, len, data};
	}
	return need_end ? DHCP_ERR_NO_END : DHCP_OK;
}

/* Concatenates the instances of each option (RFC 3396) into m->optdata. */
static void dhcp_gather(const struct dhcp_segs *segs, struct dhcp_msg *m)
{
	size_t total[256] = {0};
	size_t pos[256];
	size_t off = 0;

	for (size_t i = 0; i < segs->n; i++)
		total[segs->s[i].code] += segs->s[i].len;
	for (int c = 0; c < 256; c++) {
		if (total[c] == 0 && !m->has[c])
			continue;
		m->off[c] = (uint16_t)off;
		m->len[c] = (uint16_t)total[c];
		pos[c] = off;
		off += total[c];
	}
	for (size_t i = 0; i < segs->n; i++) {
		const struct dhcp_seg *s = &segs->s[i];
		memcpy(m->optdata + pos[s->code], s->data, s->len);
		pos[s->code] += s->len;
	}
	m->optdata_len = off;
}

static enum dhcp_decode_err dhcp_check_lengths(const struct dhcp_msg *m)
{
	for (size_t i = 0; i < sizeof(dhcp_checked_opts); i++) {
		uint8_t code = dhcp_checked_opts[i];
		if (m->has[code] && !dhcp_optdef_len_ok(dhcp_optdef_by_code(code), m->len[code]))
			return DHCP_ERR_OPTION_LEN;
	}
	return DHCP_OK;
}

static void dhcp_decode_header(struct rd *r, struct dhcp_msg *m)
{
	m->op = rd_u8(r);
	m->htype = rd_u8(r);
	m->hlen = rd_u8(r);
	m->hops = rd_u8(r);
	m->xid = rd_u32(r);
	m->secs = rd_u16(r);
	m->flags = rd_u16(r);
	m->ciaddr = rd_u32(r);
	m->yiaddr = rd_u32(r);
	m->siaddr = rd_u32(r);
	m->giaddr = rd_u32(r);
	rd_bytes(r, m->chaddr, sizeof(m->chaddr));
	rd_bytes(r, m->sname, sizeof(m->sname));
	rd_bytes(r, m->file, sizeof(m->file));
}

/* Scans the options field, then file and sname when option 52 says so. */
static enum dhcp_decode_err dhcp_scan_all(const uint8_t *buf, size_t len, struct dhcp_msg *m,
					  struct dhcp_segs *segs)
{
	enum dhcp_decode_err e =
	    dhcp_scan_field(buf + DHCP_MIN_LEN, len - DHCP_MIN_LEN, true, segs);
	if (e != DHCP_OK)
		return e;
	/* Option 52 must come from the options field itself (RFC 2131 §4.1). */
	uint8_t overload = 0;
	for (size_t i = 0; i < segs->n; i++)
		if (segs->s[i].code == DHCP_OPT_OVERLOAD && segs->s[i].len == 1)
			overload = segs->s[i].data[0];
	if (overload > 3)
		return DHCP_ERR_OPTION_LEN;
	m->overload_file = overload & 1;
	m->overload_sname = overload & 2;
	if (m->overload_file &&
	    (e = dhcp_scan_field(m->file, sizeof(m->file), false, segs)) != DHCP_OK)
		return e;
	if (m->overload_sname &&
	    (e = dhcp_scan_field(m->sname, sizeof(m->sname), false, segs)) != DHCP_OK)
		return e;
	return DHCP_OK;
}

enum dhcp_decode_err dhcp_decode(const uint8_t *buf, size_t len, struct dhcp_msg *m)
{
	struct dhcp_segs segs;
	struct rd r = rd_init(buf, len);

	memset(m, 0, offsetof(struct dhcp_msg, optdata));
	m->optdata_len = 0;
	if (len < DHCP_MIN_LEN)
		return DHCP_ERR_SHORT;
	if (len > DHCP_MAX_LEN)
		return DHCP_ERR_TOO_LONG;
	dhcp_decode_header(&r, m);
	if (rd_u32(&r) != DHCP_MAGIC)
		return DHCP_ERR_MAGIC;
	if (m->hlen > 16)
		return DHCP_ERR_HLEN;

	segs.n = 0;
	enum dhcp_decode_err e = dhcp_scan_all(buf, len, m, &segs);
	if (e != DHCP_OK)
		return e;
	for (size_t i = 0; i < segs.n; i++)
		m->has[segs.s[i].code] = true;
	dhcp_gather(&segs, m);
	if ((e = dhcp_check_lengths(m)) != DHCP_OK)
		return e;
	uint8_t type = dhcp_msg_type(m);
	if (type < DHCPDISCOVER || type > DHCPINFORM)
		return DHCP_ERR_NO_TYPE;
	return DHCP_OK;
}

const uint8_t *dhcp_opt(const struct dhcp_msg *m, uint8_t code, size_t *len)
{
	if (!m->has[code])
		return NULL;
	if (len != NULL)
		*len = m->len[code];
	return m->optdata + m->off[code];
}

bool dhcp_opt_u8(const struct dhcp_msg *m, uint8_t code, uint8_t *v)
{
	size_t l;
	const uint8_t *p = dhcp_opt(m, code, &l);
	if (p == NULL || l != 1)
		return false;
	*v = p[0];
	return true;
}

bool dhcp_opt_u16(const struct dhcp_msg *m, uint8_t code, uint16_t *v)
{
	size_t l;
	const uint8_t *p = dhcp_opt(m, code, &l);
	if (p == NULL || l != 2)
		return false;
	*v = (uint16_t)(p[0] << 8 | p[1]);
	return true;
}

bool dhcp_opt_ip(const struct dhcp_msg *m, uint8_t code, uint32_t *v)
{
	size_t l;
	const uint8_t *p = dhcp_opt(m, code, &l);
	if (p == NULL || l != 4)
		return false;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return true;
}

uint8_t dhcp_msg_type(const struct dhcp_msg *m)
{
	uint8_t t = 0;
	return dhcp_opt_u8(m, DHCP_OPT_MSG_TYPE, &t) ? t : 0;
}

const char *dhcp_msg_type_name(uint8_t type)
{
	static const char *const names[] = {"?",   "DISCOVER", "OFFER",	  "REQUEST", "DECLINE",
					    "ACK", "NAK",      "RELEASE", "INFORM"};
	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "?";
}

static void dhcp_build_put(struct dhcp_builder *b, const void *p, size_t n)
{
	if (b->err || n > b->cap - b->len) {
		b->err = true;
		return;
	}
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

static void dhcp_build_fixed_str(struct dhcp_builder *b, const char *s, size_t field)
{
	uint8_t tmp[128] = {0};
	if (s != NULL) {
		size_t l = strlen(s);
		if (l >= field) {
			b->err = true;
			return;
		}
		memcpy(tmp, s, l);
	}
	dhcp_build_put(b, tmp, field);
}

void dhcp_build_start(struct dhcp_builder *b, uint8_t *buf, size_t cap,
		      const struct dhcp_reply_hdr *h)
{
	uint8_t hdr[44];
	struct wr w = wr_init(hdr, sizeof(hdr));

	b->buf = buf;
	b->cap = cap;
	b->len = 0;
	b->err = false;
	wr_u8(&w, h->op);
	wr_u8(&w, h->htype);
	wr_u8(&w, h->hlen);
	wr_u8(&w, h->hops);
	wr_u32(&w, h->xid);
	wr_u16(&w, h->secs);
	wr_u16(&w, h->flags);
	wr_u32(&w, h->ciaddr);
	wr_u32(&w, h->yiaddr);
	wr_u32(&w, h->siaddr);
	wr_u32(&w, h->giaddr);
	wr_bytes(&w, h->chaddr, 16);
	dhcp_build_put(b, hdr, w.len);
	dhcp_build_fixed_str(b, h->sname, 64);
	dhcp_build_fixed_str(b, h->file, 128);
	uint8_t magic[4] = {0x63, 0x82, 0x53, 0x63};
	dhcp_build_put(b, magic, 4);
}

void dhcp_build_opt(struct dhcp_builder *b, uint8_t code, const void *data, size_t len)
{
	const uint8_t *p = data;
	/* Zero-length options are legal (e.g. rapid commit) and written once. */
	do {
		uint8_t chunk = (uint8_t)(len > 255 ? 255 : len);
		uint8_t hdr[2] = {code, chunk};
		dhcp_build_put(b, hdr, 2);
		dhcp_build_put(b, p, chunk);
		p += chunk;
		len -= chunk;
	} while (len > 0);
}

void dhcp_build_opt_u8(struct dhcp_builder *b, uint8_t code, uint8_t v)
{
	dhcp_build_opt(b, code, &v, 1);
}

void dhcp_build_opt_u32(struct dhcp_builder *b, uint8_t code, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	dhcp_build_opt(b, code, x, 4);
}

void dhcp_build_opt_ip(struct dhcp_builder *b, uint8_t code, uint32_t ip)
{
	dhcp_build_opt_u32(b, code, ip);
}

void dhcp_build_opt_str(struct dhcp_builder *b, uint8_t code, const char *s)
{
	dhcp_build_opt(b, code, s, strlen(s));
}

int dhcp_build_finish(struct dhcp_builder *b)
{
	uint8_t end = DHCP_OPT_END;
	dhcp_build_put(b, &end, 1);
	if (!b->err && b->len < DHCP_MIN_REPLY_LEN) {
		size_t pad = DHCP_MIN_REPLY_LEN - b->len;
		if (pad > b->cap - b->len) {
			b->err = true;
		} else {
			memset(b->buf + b->len, 0, pad);
			b->len += pad;
		}
	}
	return b->err ? -ENOSPC : (int)b->len;
}
