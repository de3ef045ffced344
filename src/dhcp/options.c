/*
 * The DHCPv4 option catalogue (see options.h). The table below is the only
 * place an option's name, type and length rule are written down; the
 * decoder, the config, the reply builder and the logs all read it.
 */
#include "dhcp/options.h"

#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define LIST DHCP_OPTF_LIST
#define MANAGED DHCP_OPTF_MANAGED
#define LEASE_HINT "set lease_time instead"

/* Entries by type: code, name, then what the type leaves open. */
/* clang-format off */
#define IP(c, n) {c, DHCP_OT_IP, n, 4, 4, 1, 0, 0, NULL}
#define IPS(c, n, min) {c, DHCP_OT_IPS, n, min, 252, 4, LIST, 0, NULL}
#define PAIRS(c, n) {c, DHCP_OT_IP_PAIRS, n, 8, 248, 8, LIST, 0, NULL}
#define STR(c, n) {c, DHCP_OT_STRING, n, 1, 255, 1, 0, 0, NULL}
#define BYTES(c, n, min, max) {c, DHCP_OT_BYTES, n, min, max, 1, 0, 0, NULL}
#define BOOL(c, n) {c, DHCP_OT_BOOL, n, 1, 1, 1, 0, 0, NULL}
#define U8(c, n, minv) {c, DHCP_OT_U8, n, 1, 1, 1, 0, minv, NULL}
#define U16(c, n, minv) {c, DHCP_OT_U16, n, 2, 2, 1, 0, minv, NULL}
#define U32(c, n) {c, DHCP_OT_U32, n, 4, 4, 1, 0, 0, NULL}
#define I32(c, n) {c, DHCP_OT_I32, n, 4, 4, 1, 0, 0, NULL}
#define MANAGED_AS(c, t, n, min, max, mult, hint) {c, t, n, min, max, mult, MANAGED, 0, hint}
/* clang-format on */

/* In code order: dhcp_optdef_by_code() searches it by halves. */
static const struct dhcp_optdef optdefs[] = {
    /* RFC 2132 §3: vendor extensions */
    IP(1, "subnet-mask"),
    I32(2, "time-offset"), /* seconds east of UTC */
    IPS(3, "routers", 4),
    IPS(4, "time-servers", 4),
    IPS(5, "ien116-name-servers", 4),
    IPS(6, "domain-name-servers", 4),
    IPS(7, "log-servers", 4),
    IPS(8, "cookie-servers", 4),
    IPS(9, "lpr-servers", 4),
    IPS(10, "impress-servers", 4),
    IPS(11, "resource-location-servers", 4),
    STR(12, "host-name"),
    U16(13, "boot-size", 0), /* in 512-byte blocks */
    STR(14, "merit-dump"),
    STR(15, "domain-name"),
    IP(16, "swap-server"),
    STR(17, "root-path"),
    STR(18, "extensions-path"),
    /* §4: IP layer parameters per host */
    BOOL(19, "ip-forwarding"),
    BOOL(20, "non-local-source-routing"),
    PAIRS(21, "policy-filter"),		     /* address and mask */
    U16(22, "max-datagram-reassembly", 576), /* §4.4: minimum 576 */
    U8(23, "default-ip-ttl", 1),
    U32(24, "path-mtu-aging-timeout"),
    {25, DHCP_OT_U16S, "path-mtu-plateau-table", 2, 254, 2, LIST, 68, NULL},
    /* §5: IP layer parameters per interface */
    U16(26, "interface-mtu", 68), /* §5.1: minimum 68 */
    BOOL(27, "all-subnets-local"),
    IP(28, "broadcast-address"),
    BOOL(29, "perform-mask-discovery"),
    BOOL(30, "mask-supplier"),
    BOOL(31, "router-discovery"),
    IP(32, "router-solicitation-address"),
    PAIRS(33, "static-routes"), /* destination and router; classful, see 121 */
    /* §6: link layer parameters per interface */
    BOOL(34, "trailer-encapsulation"),
    U32(35, "arp-cache-timeout"),
    BOOL(36, "ieee802-3-encapsulation"),
    /* §7: TCP parameters */
    U8(37, "default-tcp-ttl", 1),
    U32(38, "tcp-keepalive-interval"),
    BOOL(39, "tcp-keepalive-garbage"),
    /* §8: application and service parameters */
    STR(40, "nis-domain"),
    IPS(41, "nis-servers", 4),
    IPS(42, "ntp-servers", 4),
    BYTES(43, "vendor-encapsulated-options", 1, 255),
    IPS(44, "netbios-name-servers", 4),
    IPS(45, "netbios-dd-server", 4),
    U8(46, "netbios-node-type", 1), /* 1 B-node, 2 P-node, 4 M-node, 8 H-node */
    STR(47, "netbios-scope"),
    IPS(48, "font-servers", 4),
    IPS(49, "x-display-manager", 4),
    /* §9: DHCP extensions; pxed writes these itself */
    MANAGED_AS(50, DHCP_OT_IP, "requested-address", 4, 4, 1, NULL),
    MANAGED_AS(51, DHCP_OT_U32, "lease-time", 4, 4, 1, LEASE_HINT),
    MANAGED_AS(52, DHCP_OT_U8, "option-overload", 1, 1, 1, NULL),
    MANAGED_AS(53, DHCP_OT_U8, "message-type", 1, 1, 1, NULL),
    MANAGED_AS(54, DHCP_OT_IP, "server-identifier", 4, 4, 1, "set server_address instead"),
    MANAGED_AS(55, DHCP_OT_BYTES, "parameter-request-list", 1, 255, 1, NULL),
    STR(56, "message"),
    MANAGED_AS(57, DHCP_OT_U16, "max-message-size", 2, 2, 1, NULL),
    MANAGED_AS(58, DHCP_OT_U32, "renewal-time", 4, 4, 1, LEASE_HINT),
    MANAGED_AS(59, DHCP_OT_U32, "rebinding-time", 4, 4, 1, LEASE_HINT),
    STR(60, "vendor-class-identifier"),
    MANAGED_AS(61, DHCP_OT_BYTES, "client-identifier", 2, 255, 1,
	       "it identifies the client; use a host's client_id"),
    /* RFC 2242: NetWare/IP */
    STR(62, "nwip-domain"),
    BYTES(63, "nwip-suboptions", 1, 255),
    /* RFC 2132 §8 continued */
    STR(64, "nisplus-domain"),
    IPS(65, "nisplus-servers", 4),
    STR(66, "tftp-server-name"),
    STR(67, "bootfile-name"),
    IPS(68, "mobile-ip-home-agent", 0), /* §8.3: may be empty */
    IPS(69, "smtp-servers", 4),
    IPS(70, "pop-servers", 4),
    IPS(71, "nntp-servers", 4),
    IPS(72, "www-servers", 4),
    IPS(73, "finger-servers", 4),
    IPS(74, "irc-servers", 4),
    IPS(75, "streettalk-servers", 4),
    IPS(76, "streettalk-directory-assistance-servers", 4),
    /* RFC 3004; iPXE sends the bare string "iPXE" */
    STR(77, "user-class"),
    /* RFC 3046: echoed as the relay sent it */
    MANAGED_AS(82, DHCP_OT_BYTES, "relay-agent-information", 2, 255, 1,
	       "pxed echoes what the relay sent"),
    /* RFC 4578 §2.1-2.3: PXE client facts */
    {93, DHCP_OT_ARCHES, "client-system-architecture", 2, 254, 2, LIST, 0, NULL},
    BYTES(94, "client-network-interface-identifier", 3, 3), /* type 1, major, minor */
    {97, DHCP_OT_UUID, "client-machine-identifier", 17, 17, 1, 0, 0, NULL},
    /* RFC 3397: may exceed 255 bytes and is then split (RFC 3396) */
    {119, DHCP_OT_DOMAINS, "domain-search", 2, 1024, 1, LIST, 0, NULL},
    /* RFC 3442 */
    {121, DHCP_OT_ROUTES, "classless-static-routes", 5, 1024, 1, LIST, 0, NULL},
    /* RFC 5859 */
    IPS(150, "tftp-server-address", 4),
    /* iPXE's own encapsulated options; a client sending it is iPXE */
    BYTES(175, "ipxe-encapsulated-options", 1, 255),
    /* RFC 5071: PXELINUX */
    STR(209, "pxelinux-configfile"),
    STR(210, "pxelinux-pathprefix"),
    U32(211, "pxelinux-reboottime"),
    /* Web Proxy Auto-Discovery (draft-ietf-wrec-wpad-01) */
    STR(252, "wpad-url"),
};

/* Other names people know options by. */
static const struct {
	const char *alias;
	uint8_t code;
} optdef_aliases[] = {
    {"router", 3},	 {"dns", 6},	     {"dns-servers", 6}, {"hostname", 12},
    {"client-arch", 93}, {"client-ndi", 94}, {"uuid", 97},	 {"wpad", 252},
};

/* Codes the catalogue does not know: bytes, at most one wire segment. */
/* clang-format off */
#define GEN(c) {(uint8_t)(c), DHCP_OT_BYTES, NULL, 0, 255, 1, 0, 0, NULL}
/* clang-format on */
#define GEN4(c) GEN(c), GEN((c) + 1), GEN((c) + 2), GEN((c) + 3)
#define GEN16(c) GEN4(c), GEN4((c) + 4), GEN4((c) + 8), GEN4((c) + 12)
static const struct dhcp_optdef generic_defs[256] = {
    GEN16(0),	GEN16(16),  GEN16(32),	GEN16(48),  GEN16(64),	GEN16(80),  GEN16(96),	GEN16(112),
    GEN16(128), GEN16(144), GEN16(160), GEN16(176), GEN16(192), GEN16(208), GEN16(224), GEN16(240),
};

static const char *const opttype_names[] = {
    [DHCP_OT_BYTES] = "bytes",
    [DHCP_OT_STRING] = "string",
    [DHCP_OT_IP] = "ip",
    [DHCP_OT_IPS] = "ips",
    [DHCP_OT_IP_PAIRS] = "ip-pairs",
    [DHCP_OT_U8] = "u8",
    [DHCP_OT_U16] = "u16",
    [DHCP_OT_U32] = "u32",
    [DHCP_OT_I32] = "i32",
    [DHCP_OT_U16S] = "u16-list",
    [DHCP_OT_BOOL] = "bool",
    [DHCP_OT_DOMAINS] = "domain-list",
    [DHCP_OT_ROUTES] = "classless-routes",
    [DHCP_OT_ARCHES] = "client-arch",
    [DHCP_OT_UUID] = "uuid",
};

/* ---------------------------------------------------------------------- */
/* Lookups                                                                */

const struct dhcp_optdef *dhcp_optdef_by_code(uint8_t code)
{
	size_t lo = 0, hi = PXED_ARRAY_LEN(optdefs);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (optdefs[mid].code == code)
			return &optdefs[mid];
		if (optdefs[mid].code < code)
			lo = mid + 1;
		else
			hi = mid;
	}
	return &generic_defs[code];
}

/* Case-insensitive, with '_' and '-' the same: config keys use '_'. */
static bool name_eq(const char *given, const char *name)
{
	for (; *given != '\0' && *name != '\0'; given++, name++) {
		char g = *given == '_' ? '-' : (char)tolower((unsigned char)*given);
		if (g != *name)
			return false;
	}
	return *given == '\0' && *name == '\0';
}

const struct dhcp_optdef *dhcp_optdef_by_name(const char *name)
{
	uint64_t code;

	if (strncasecmp(name, "option-", 7) == 0 && parse_u64(name + 7, 1, 254, &code) == 0)
		return dhcp_optdef_by_code((uint8_t)code);
	if (parse_u64(name, 1, 254, &code) == 0)
		return dhcp_optdef_by_code((uint8_t)code);
	for (size_t i = 0; i < PXED_ARRAY_LEN(optdefs); i++)
		if (name_eq(name, optdefs[i].name))
			return &optdefs[i];
	for (size_t i = 0; i < PXED_ARRAY_LEN(optdef_aliases); i++)
		if (name_eq(name, optdef_aliases[i].alias))
			return dhcp_optdef_by_code(optdef_aliases[i].code);
	return NULL;
}

bool dhcp_optdef_known(const struct dhcp_optdef *def)
{
	return def->name != NULL;
}

const char *dhcp_optdef_label(const struct dhcp_optdef *def, char buf[DHCP_OPTDEF_LABEL_MAX])
{
	if (def->name != NULL)
		return def->name;
	snprintf(buf, DHCP_OPTDEF_LABEL_MAX, "option-%u", def->code);
	return buf;
}

const char *dhcp_opttype_name(enum dhcp_opttype type)
{
	if ((size_t)type >= PXED_ARRAY_LEN(opttype_names) || opttype_names[type] == NULL)
		return "?";
	return opttype_names[type];
}

bool dhcp_optdef_len_ok(const struct dhcp_optdef *def, size_t len)
{
	if (len < def->min_len || len > def->max_len)
		return false;
	return def->multiple <= 1 || len % def->multiple == 0;
}

size_t dhcp_optdef_count(void)
{
	return PXED_ARRAY_LEN(optdefs);
}

const struct dhcp_optdef *dhcp_optdef_at(size_t i)
{
	return i < PXED_ARRAY_LEN(optdefs) ? &optdefs[i] : NULL;
}

/* ---------------------------------------------------------------------- */
/* Text to wire: a capped writer with a sticky error and its reason       */

/* Longest single item of a list (a route, a domain name...). */
#define ITEM_MAX 300
/* Longest part of a bad value quoted back in a reason. */
#define WHY_ECHO "'%.60s'"

struct enc {
	uint8_t *out;
	size_t cap, len;
	char *why;
	size_t why_cap;
	bool err;
};

static void enc_fail(struct enc *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void enc_fail(struct enc *e, const char *fmt, ...)
{
	va_list ap;

	if (e->err)
		return;
	e->err = true;
	if (e->why_cap == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(e->why, e->why_cap, fmt, ap);
	va_end(ap);
}

static void enc_put(struct enc *e, const void *p, size_t n)
{
	if (e->err)
		return;
	if (n > e->cap - e->len) {
		enc_fail(e, "the value is too long (at most %zu bytes)", e->cap);
		return;
	}
	memcpy(e->out + e->len, p, n);
	e->len += n;
}

static void enc_u8(struct enc *e, uint8_t v)
{
	enc_put(e, &v, 1);
}

static void enc_u16(struct enc *e, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	enc_put(e, b, 2);
}

static void enc_u32(struct enc *e, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	enc_put(e, b, 4);
}

static void enc_ip(struct enc *e, const char *s)
{
	uint32_t ip;

	if (ip4_parse(s, &ip) < 0)
		enc_fail(e, WHY_ECHO " is not an IPv4 address", s);
	else
		enc_u32(e, ip);
}

/* An integer within [min, max]; 0 or -1 after a reason. */
static int enc_number(struct enc *e, const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	int rc = parse_u64(s, min, max, v);

	if (rc == -ERANGE)
		enc_fail(e, WHY_ECHO " is out of range (%llu-%llu)", s, (unsigned long long)min,
			 (unsigned long long)max);
	else if (rc < 0)
		enc_fail(e, WHY_ECHO " is not a number", s);
	return rc < 0 ? -1 : 0;
}

static void enc_i32(struct enc *e, const char *s)
{
	bool neg = s[0] == '-';
	uint64_t v;
	int rc = parse_u64(s + neg, 0, neg ? 2147483648u : 2147483647u, &v);

	if (rc == -ERANGE)
		enc_fail(e, WHY_ECHO " is out of range (-2147483648-2147483647)", s);
	else if (rc < 0)
		enc_fail(e, WHY_ECHO " is not a number", s);
	else
		enc_u32(e, neg ? (uint32_t)(-(int64_t)v) : (uint32_t)v);
}

static void enc_bool(struct enc *e, const char *s)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < PXED_ARRAY_LEN(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			enc_u8(e, 1);
			return;
		}
		if (strcasecmp(s, no[i]) == 0) {
			enc_u8(e, 0);
			return;
		}
	}
	enc_fail(e, WHY_ECHO " is not true or false", s);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static const char *skip_blanks(const char *q)
{
	while (is_blank(*q))
		q++;
	return q;
}

/* "01:02:ff" or "0x0102ff" into e; false (nothing written) if it is neither. */
static bool hex_parse(struct enc *e, const char *s)
{
	bool prefixed = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	const char *q = prefixed ? s + 2 : s;
	size_t start = e->len;

	if (*q == '\0')
		return false;
	while (*q != '\0') {
		int hi = hex_digit(q[0]), lo = hi < 0 ? -1 : hex_digit(q[1]);
		if (hi < 0 || lo < 0)
			goto bad;
		enc_u8(e, (uint8_t)(hi << 4 | lo));
		q += 2;
		if (!prefixed && *q == ':' && q[1] != '\0')
			q++;
		else if (!prefixed && *q != '\0')
			goto bad;
	}
	return true;
bad:
	e->len = start;
	return false;
}

/* Text that was meant as hex: "0x..." or hex digits with a ':'. */
static bool looks_like_hex(const char *s)
{
	bool colon = false;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return true;
	for (; *s != '\0'; s++) {
		if (*s == ':')
			colon = true;
		else if (hex_digit(*s) < 0)
			return false;
	}
	return colon;
}

static void enc_bytes(struct enc *e, const char *s)
{
	if (!hex_parse(e, s) && !e->err)
		enc_fail(e, WHY_ECHO " is not hex bytes (like 01:02:ff or 0x0102ff)", s);
}

/* Codes the catalogue lacks: hex bytes if the text is hex, else the text. */
static void enc_generic(struct enc *e, const char *s)
{
	if (hex_parse(e, s) || e->err)
		return;
	if (looks_like_hex(s))
		enc_fail(e, WHY_ECHO " is not hex bytes (like 01:02:ff or 0x0102ff)", s);
	else
		enc_put(e, s, strlen(s));
}

/* One domain name as RFC 1035 §3.1 labels; a trailing dot is allowed. */
static void enc_domain(struct enc *e, const char *s)
{
	size_t len = strlen(s), start = 0;

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		goto bad;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
				goto bad;
			continue;
		}
		if (i == start || i - start > 63)
			goto bad;
		enc_u8(e, (uint8_t)(i - start));
		enc_put(e, s + start, i - start);
		start = i + 1;
	}
	enc_u8(e, 0);
	return;
bad:
	enc_fail(e, WHY_ECHO " is not a domain name", s);
}

/*
 * The first word of s into w (wcap bytes; a longer word leaves w empty, so
 * it is reported as missing); returns what follows, blanks skipped.
 */
static const char *next_word(const char *s, char *w, size_t wcap)
{
	size_t n = 0;
	bool too_long = false;

	s = skip_blanks(s);
	while (*s != '\0' && !is_blank(*s)) {
		if (n + 1 < wcap)
			w[n++] = *s;
		else
			too_long = true;
		s++;
	}
	w[too_long ? 0 : n] = '\0';
	return skip_blanks(s);
}

/* "10.0.0.0 255.0.0.0": two addresses. */
static void enc_ip_pair(struct enc *e, const char *s)
{
	char a[32], b[32];
	const char *rest = next_word(next_word(s, a, sizeof(a)), b, sizeof(b));

	if (b[0] == '\0' || *rest != '\0') {
		enc_fail(e, WHY_ECHO " is not two addresses (like 10.0.0.0 255.0.0.0)", s);
		return;
	}
	enc_ip(e, a);
	enc_ip(e, b);
}

/* "10.0.0.0/8 via 10.1.1.1" (or without "via"): RFC 3442 §3. */
static void enc_route(struct enc *e, const char *s)
{
	char dst[32], via[32], gw[32], *slash;
	const char *rest = next_word(next_word(s, dst, sizeof(dst)), via, sizeof(via));
	uint32_t net;
	uint64_t plen;

	if (strcmp(via, "via") == 0)
		rest = next_word(rest, gw, sizeof(gw));
	else
		memcpy(gw, via, sizeof(gw));
	slash = strchr(dst, '/');
	if (gw[0] == '\0' || *rest != '\0' || slash == NULL) {
		enc_fail(e, WHY_ECHO " is not a route (like 10.0.0.0/8 via 10.1.1.1)", s);
		return;
	}
	*slash = '\0';
	if (ip4_parse(dst, &net) < 0 || parse_u64(slash + 1, 0, 32, &plen) < 0) {
		enc_fail(e, WHY_ECHO " is not a route (like 10.0.0.0/8 via 10.1.1.1)", s);
		return;
	}
	if ((net & ~prefix_mask((int)plen)) != 0) {
		enc_fail(e, WHY_ECHO " has host bits set in its destination", s);
		return;
	}
	enc_u8(e, (uint8_t)plen);
	for (uint64_t i = 0; i < (plen + 7) / 8; i++) /* significant octets only */
		enc_u8(e, (uint8_t)(net >> (24 - 8 * i)));
	enc_ip(e, gw);
}

/* "01234567-89ab-cdef-0123-456789abcdef" (or 32 hex digits): type 0 + 16 bytes. */
static void enc_uuid(struct enc *e, const char *s)
{
	uint8_t b[17] = {0};
	size_t n = 0;

	for (const char *q = s; *q != '\0'; q++) {
		size_t at = (size_t)(q - s);
		if (*q == '-' && strlen(s) == 36 && (at == 8 || at == 13 || at == 18 || at == 23))
			continue;
		if (hex_digit(q[0]) < 0 || hex_digit(q[1]) < 0 || n == 16)
			goto bad;
		b[1 + n++] = (uint8_t)(hex_digit(q[0]) << 4 | hex_digit(q[1]));
		q++;
	}
	if (n != 16)
		goto bad;
	enc_put(e, b, sizeof(b));
	return;
bad:
	enc_fail(e, WHY_ECHO " is not a UUID (like 01234567-89ab-cdef-0123-456789abcdef)", s);
}

/* One item of the value (the whole value for types that are not lists). */
static void enc_item(struct enc *e, const struct dhcp_optdef *def, const char *s)
{
	uint64_t v;

	switch (def->type) {
	case DHCP_OT_IP:
	case DHCP_OT_IPS:
		enc_ip(e, s);
		break;
	case DHCP_OT_IP_PAIRS:
		enc_ip_pair(e, s);
		break;
	case DHCP_OT_U8:
		if (enc_number(e, s, def->min_value, UINT8_MAX, &v) == 0)
			enc_u8(e, (uint8_t)v);
		break;
	case DHCP_OT_U16:
	case DHCP_OT_U16S:
	case DHCP_OT_ARCHES:
		if (enc_number(e, s, def->min_value, UINT16_MAX, &v) == 0)
			enc_u16(e, (uint16_t)v);
		break;
	case DHCP_OT_U32:
		if (enc_number(e, s, def->min_value, UINT32_MAX, &v) == 0)
			enc_u32(e, (uint32_t)v);
		break;
	case DHCP_OT_I32:
		enc_i32(e, s);
		break;
	case DHCP_OT_BOOL:
		enc_bool(e, s);
		break;
	case DHCP_OT_DOMAINS:
		enc_domain(e, s);
		break;
	case DHCP_OT_ROUTES:
		enc_route(e, s);
		break;
	case DHCP_OT_UUID:
		enc_uuid(e, s);
		break;
	case DHCP_OT_STRING:
		enc_put(e, s, strlen(s));
		break;
	case DHCP_OT_BYTES:
		if (def->name == NULL)
			enc_generic(e, s);
		else
			enc_bytes(e, s);
		break;
	}
}

/*
 * Each comma-separated item, trimmed; an empty one is an error. Domain
 * names hold no spaces, so for domain lists spaces separate items too.
 */
static void enc_list(struct enc *e, const struct dhcp_optdef *def, const char *text)
{
	bool words = def->type == DHCP_OT_DOMAINS;
	const char *q = skip_blanks(text);
	char item[ITEM_MAX + 1];

	while (*q != '\0' && !e->err) {
		size_t n = 0;
		while (*q != '\0' && *q != ',' && !(words && is_blank(*q))) {
			if (n == ITEM_MAX) {
				enc_fail(e, "an item is longer than %d characters", ITEM_MAX);
				return;
			}
			item[n++] = *q++;
		}
		while (n > 0 && is_blank(item[n - 1]))
			n--;
		item[n] = '\0';
		if (n == 0) {
			enc_fail(e, "the list has an empty item");
			return;
		}
		enc_item(e, def, item);
		q = skip_blanks(q);
		if (*q == ',' && *(q = skip_blanks(q + 1)) == '\0')
			enc_fail(e, "the list has an empty item");
	}
}

static void check_length(struct enc *e, const struct dhcp_optdef *def)
{
	if (e->err || dhcp_optdef_len_ok(def, e->len))
		return;
	if (e->len < def->min_len)
		enc_fail(e, "the value is %zu bytes long; the option needs at least %u", e->len,
			 def->min_len);
	else if (e->len > def->max_len)
		enc_fail(e, "the value is %zu bytes long; the option takes at most %u", e->len,
			 def->max_len);
	else
		enc_fail(e, "the value is %zu bytes long, not a multiple of %u", e->len,
			 def->multiple);
}

int dhcp_optdef_parse(const struct dhcp_optdef *def, const char *text, uint8_t *out, size_t cap,
		      char *why, size_t why_cap)
{
	struct enc e = {.out = out, .cap = cap, .why = why, .why_cap = why_cap};
	char item[ITEM_MAX + 1];
	size_t n = strlen(text);

	if (why_cap > 0)
		why[0] = '\0';
	if (def->flags & DHCP_OPTF_LIST) {
		enc_list(&e, def, text);
	} else if (def->type == DHCP_OT_STRING || def->type == DHCP_OT_BYTES) {
		enc_item(&e, def, text); /* taken as written: spaces and commas too */
	} else {
		while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t'))
			n--;
		while (n > 0 && (*text == ' ' || *text == '\t'))
			text++, n--;
		if (n > ITEM_MAX)
			enc_fail(&e, "the value is longer than %d characters", ITEM_MAX);
		memcpy(item, text, n < ITEM_MAX ? n : ITEM_MAX);
		item[n < ITEM_MAX ? n : ITEM_MAX] = '\0';
		if (!e.err)
			enc_item(&e, def, item);
	}
	check_length(&e, def);
	return e.err ? -EINVAL : (int)e.len;
}

int dhcp_optdef_parse_opaque(const char *text, uint8_t *out, size_t cap, char *why, size_t why_cap)
{
	struct enc e = {.out = out, .cap = cap, .why = why, .why_cap = why_cap};

	if (why_cap > 0)
		why[0] = '\0';
	enc_generic(&e, text);
	return e.err ? -EINVAL : (int)e.len;
}

/* ---------------------------------------------------------------------- */
/* Wire to text                                                           */

struct fmt {
	char *out;
	size_t cap, len;
	bool cut;
};

static void fmt_printf(struct fmt *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fmt_printf(struct fmt *f, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (f->cut)
		return;
	va_start(ap, fmt);
	n = vsnprintf(f->out + f->len, f->cap - f->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= f->cap - f->len) {
		f->cut = true;
		f->len = f->cap - 1;
		f->out[f->len] = '\0';
		return;
	}
	f->len += (size_t)n;
}

/* Peer bytes: printable ASCII as is, the rest (and '"', '\') as \xHH. */
static void fmt_escaped(struct fmt *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n && !f->cut; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
			fmt_printf(f, "%c", p[i]);
		else
			fmt_printf(f, "\\x%02x", p[i]);
	}
}

static void fmt_hex(struct fmt *f, const uint8_t *v, size_t len)
{
	for (size_t i = 0; i < len && !f->cut; i++)
		fmt_printf(f, "%s%02x", i ? ":" : "", v[i]);
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void fmt_ip(struct fmt *f, const uint8_t *p)
{
	fmt_printf(f, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
}

/*
 * One name of a domain list at *pos, following compression pointers
 * (RFC 1035 §4.1.4; offsets into the whole option, RFC 3397 §2). Pointers
 * must point backwards, and at most 64 are followed, so a hostile list
 * cannot loop. Returns false if the name is malformed.
 */
static bool fmt_domain_name(struct fmt *f, const uint8_t *v, size_t len, size_t *pos)
{
	size_t p = *pos, end = 0, wire = 0;
	unsigned hops = 0;
	bool first = true;

	for (;;) {
		if (p >= len)
			return false;
		if (v[p] == 0)
			break;
		if ((v[p] & 0xc0) == 0xc0) {
			size_t target;
			if (p + 1 >= len || ++hops > 64)
				return false;
			target = (size_t)(v[p] & 0x3f) << 8 | v[p + 1];
			if (target >= p)
				return false;
			end = end ? end : p + 2;
			p = target;
			continue;
		}
		if ((v[p] & 0xc0) != 0 || p + 1 + v[p] > len || (wire += 1u + v[p]) > 254)
			return false;
		fmt_printf(f, "%s", first ? "" : ".");
		fmt_escaped(f, v + p + 1, v[p]);
		first = false;
		p += 1u + v[p];
	}
	if (first)
		fmt_printf(f, ".");
	*pos = end ? end : p + 1;
	return true;
}

static bool fmt_domains(struct fmt *f, const uint8_t *v, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		fmt_printf(f, "%s", pos ? ", " : "");
		if (!fmt_domain_name(f, v, len, &pos))
			return false;
	}
	return true;
}

static bool fmt_routes(struct fmt *f, const uint8_t *v, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		uint8_t plen = v[pos], sig = (uint8_t)((plen + 7) / 8), net[4] = {0};
		if (plen > 32 || len - pos < 1u + sig + 4)
			return false;
		memcpy(net, v + pos + 1, sig);
		fmt_printf(f, "%s%u.%u.%u.%u/%u via ", pos ? ", " : "", net[0], net[1], net[2],
			   net[3], plen);
		fmt_ip(f, v + pos + 1 + sig);
		pos += 1u + sig + 4;
	}
	return true;
}

static bool fmt_uuid(struct fmt *f, const uint8_t *v, size_t len)
{
	if (len != 17 || v[0] != 0)
		return false;
	for (size_t i = 1; i < 17; i++)
		fmt_printf(f, "%s%02x", i == 5 || i == 7 || i == 9 || i == 11 ? "-" : "", v[i]);
	return true;
}

/* Every element of a list type, each `size` bytes, separated by ", ". */
static void fmt_elems(struct fmt *f, enum dhcp_opttype type, const uint8_t *v, size_t len)
{
	size_t size = type == DHCP_OT_IP_PAIRS ? 8 : type == DHCP_OT_IPS ? 4 : 2;

	for (size_t i = 0; i + size <= len; i += size) {
		fmt_printf(f, "%s", i ? ", " : "");
		if (type == DHCP_OT_IP_PAIRS) {
			fmt_ip(f, v + i);
			fmt_printf(f, " ");
			fmt_ip(f, v + i + 4);
		} else if (type == DHCP_OT_IPS) {
			fmt_ip(f, v + i);
		} else {
			fmt_printf(f, "%u", (unsigned)(v[i] << 8 | v[i + 1]));
		}
	}
}

/* The value as its type; false if the bytes are not a valid value. */
static bool fmt_typed(struct fmt *f, const struct dhcp_optdef *def, const uint8_t *v, size_t len)
{
	switch (def->type) {
	case DHCP_OT_IP:
		fmt_ip(f, v);
		return true;
	case DHCP_OT_U8:
		fmt_printf(f, "%u", v[0]);
		return true;
	case DHCP_OT_U16:
		fmt_printf(f, "%u", (unsigned)(v[0] << 8 | v[1]));
		return true;
	case DHCP_OT_U32:
		fmt_printf(f, "%u", get_u32(v));
		return true;
	case DHCP_OT_I32:
		fmt_printf(f, "%d", (int32_t)get_u32(v));
		return true;
	case DHCP_OT_BOOL:
		fmt_printf(f, "%s", v[0] ? "true" : "false");
		return v[0] <= 1;
	case DHCP_OT_STRING:
		fmt_escaped(f, v, len);
		return true;
	case DHCP_OT_BYTES:
		fmt_hex(f, v, len);
		return true;
	case DHCP_OT_DOMAINS:
		return fmt_domains(f, v, len);
	case DHCP_OT_ROUTES:
		return fmt_routes(f, v, len);
	case DHCP_OT_UUID:
		return fmt_uuid(f, v, len);
	case DHCP_OT_IPS:
	case DHCP_OT_IP_PAIRS:
	case DHCP_OT_U16S:
	case DHCP_OT_ARCHES:
		fmt_elems(f, def->type, v, len);
		return true;
	}
	return false;
}

int dhcp_optdef_format(const struct dhcp_optdef *def, const uint8_t *v, size_t len, char *out,
		       size_t cap)
{
	struct fmt f = {.out = out, .cap = cap};
	bool ok;

	if (cap == 0)
		return -ENOSPC;
	out[0] = '\0';
	ok = dhcp_optdef_len_ok(def, len) && fmt_typed(&f, def, v, len);
	if (!ok) {
		f.len = 0;
		f.cut = false;
		out[0] = '\0';
		fmt_hex(&f, v, len);
	}
	if (f.cut)
		return -ENOSPC;
	return ok ? (int)f.len : -EINVAL;
}
