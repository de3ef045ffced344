#include "dhcp/reply.h"

#include <string.h>

#include "conf/config.h"
#include "dhcp/options.h"
#include "dhcp/wire.h"

#define DHCP_OPT_RELAY_AGENT 82

/*
 * Sent whether or not the client's parameter request list names them: what
 * RFC 2131 §4.3.1 requires of an OFFER or ACK (lease times, the mask), and
 * what PXE firmware needs without asking (PXE 2.1 §2.2: 60, 43, 97; 67 when
 * the name did not fit the file field, which is the only time it is set
 * unrequested).
 */
static bool dhcp_always_sent(uint8_t code)
{
	switch (code) {
	case DHCP_OPT_SUBNET_MASK:
	case DHCP_OPT_LEASE_TIME:
	case DHCP_OPT_RENEWAL:
	case DHCP_OPT_REBINDING:
	case DHCP_OPT_VENDOR_CLASS:
	case DHCP_OPT_VENDOR:
	case DHCP_OPT_UUID:
	case DHCP_OPT_BOOTFILE:
		return true;
	default:
		return false;
	}
}

void dhcp_optset_init(struct dhcp_optset *o)
{
	memset(o->has, 0, sizeof(o->has));
	o->used = 0;
}

bool dhcp_optset_put(struct dhcp_optset *o, uint8_t code, const void *v, size_t len)
{
	/* The catalogue's length rule holds for what we send as for what we accept. */
	if (code == DHCP_OPT_PAD || code == DHCP_OPT_END || len > UINT16_MAX ||
	    len > sizeof(o->data) - o->used || !dhcp_optdef_len_ok(dhcp_optdef_by_code(code), len))
		return false;
	memcpy(o->data + o->used, v, len);
	o->has[code] = true;
	o->off[code] = (uint16_t)o->used;
	o->len[code] = (uint16_t)len;
	o->used += len;
	return true;
}

bool dhcp_optset_put_u32(struct dhcp_optset *o, uint8_t code, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	return dhcp_optset_put(o, code, b, 4);
}

bool dhcp_optset_put_str(struct dhcp_optset *o, uint8_t code, const char *s)
{
	return dhcp_optset_put(o, code, s, strlen(s));
}

void dhcp_optset_del(struct dhcp_optset *o, uint8_t code)
{
	o->has[code] = false;
}

void dhcp_optset_apply(struct dhcp_optset *o, const struct conf_options *co)
{
	for (size_t i = 0; co != NULL && i < co->n; i++)
		dhcp_optset_put(o, co->v[i].code, co->v[i].data, co->v[i].len);
}

/* Bytes an option takes on the wire, split in 255-byte parts (RFC 3396). */
static size_t dhcp_optset_wire_len(const struct dhcp_optset *o, uint8_t code)
{
	size_t len = o->len[code];
	return len + 2 * (len == 0 ? 1 : (len + 254) / 255);
}

/* Where options may go: the options field, then file and sname when overloaded. */
struct dhcp_areas {
	struct dhcp_builder *b;
	size_t max_len; /* the options field ends here (one byte stays for END) */
	uint8_t *field[2];
	size_t cap[2], used[2];
	bool allowed[2];
	size_t dropped;
};

#define AREA_FILE 0
#define AREA_SNAME 1

/* Puts one option into a fixed field (file or sname), keeping a byte for END. */
static bool dhcp_area_put(struct dhcp_areas *a, int i, const uint8_t *v, uint8_t code, size_t len)
{
	size_t need = len + 2 * (len == 0 ? 1 : (len + 254) / 255);
	if (!a->allowed[i] || a->used[i] + need + 1 > a->cap[i])
		return false;
	do {
		uint8_t chunk = (uint8_t)(len > 255 ? 255 : len);
		a->field[i][a->used[i]++] = code;
		a->field[i][a->used[i]++] = chunk;
		memcpy(a->field[i] + a->used[i], v, chunk);
		a->used[i] += chunk;
		v += chunk;
		len -= chunk;
	} while (len > 0);
	return true;
}

static void dhcp_optset_write(const struct dhcp_optset *o, struct dhcp_areas *a, uint8_t code,
			      bool done[256])
{
	if (!o->has[code] || done[code])
		return;
	done[code] = true;
	const uint8_t *v = o->data + o->off[code];
	size_t len = o->len[code];
	if (a->b->len + dhcp_optset_wire_len(o, code) + 1 <= a->max_len) {
		dhcp_build_opt(a->b, code, v, len);
		return;
	}
	/* Overload (RFC 2131 §4.1): the file field first, then sname. */
	if (!dhcp_area_put(a, AREA_FILE, v, code, len) &&
	    !dhcp_area_put(a, AREA_SNAME, v, code, len))
		a->dropped++;
}

/* Ends the overloaded fields with END and tells the client in option 52. */
static void dhcp_areas_finish(struct dhcp_areas *a)
{
	uint8_t overload = 0;
	for (int i = 0; i < 2; i++) {
		if (a->used[i] == 0)
			continue;
		a->field[i][a->used[i]] = DHCP_OPT_END;
		overload |= (uint8_t)(1 << i); /* 1 = file, 2 = sname, 3 = both */
	}
	if (overload != 0)
		dhcp_build_opt(a->b, DHCP_OPT_OVERLOAD, &overload, 1);
}

size_t dhcp_optset_emit(const struct dhcp_optset *o, struct dhcp_builder *b, const uint8_t *prl,
			size_t prl_len, size_t max_len, unsigned overload_ok)
{
	bool done[256] = {false};
	/* 82 is held back for the end, and 52 may be needed: reserve their room first. */
	size_t room =
	    (o->has[DHCP_OPT_RELAY_AGENT] ? dhcp_optset_wire_len(o, DHCP_OPT_RELAY_AGENT) : 0) +
	    (overload_ok ? 3 : 0);
	struct dhcp_areas a = {
	    .b = b,
	    .max_len = max_len > room ? max_len - room : 0,
	    .field = {b->buf + DHCP_FILE_OFFSET, b->buf + DHCP_SNAME_OFFSET},
	    .cap = {128, 64},
	    .allowed = {(overload_ok & 1) != 0, (overload_ok & 2) != 0},
	};

	if (b->err || b->len < DHCP_MIN_LEN)
		return 0;
	dhcp_optset_write(o, &a, DHCP_OPT_MSG_TYPE, done);
	dhcp_optset_write(o, &a, DHCP_OPT_SERVER_ID, done);
	done[DHCP_OPT_RELAY_AGENT] = true;
	done[DHCP_OPT_OVERLOAD] = true;
	for (size_t i = 0; i < prl_len; i++)
		dhcp_optset_write(o, &a, prl[i], done);
	/* A client with a request list gets what it asked for; one without, everything. */
	for (int code = 1; code < 255; code++)
		if (prl_len == 0 || dhcp_always_sent((uint8_t)code))
			dhcp_optset_write(o, &a, (uint8_t)code, done);
	dhcp_areas_finish(&a);
	if (o->has[DHCP_OPT_RELAY_AGENT])
		dhcp_build_opt(b, DHCP_OPT_RELAY_AGENT, o->data + o->off[DHCP_OPT_RELAY_AGENT],
			       o->len[DHCP_OPT_RELAY_AGENT]);
	return a.dropped;
}
