/*
 * The DHCPv4 option catalogue: one table of every option pxed knows (code,
 * name, type, length rule), used by the decoder to check lengths, by the
 * config to parse values given by name or number, by the reply builder and
 * by the logs to print what a client sent. Pure: no I/O, no globals.
 */
#ifndef PXED_DHCP_OPTIONS_H
#define PXED_DHCP_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How a value is written in the config and in logs, and encoded on the wire. */
enum dhcp_opttype {
	DHCP_OT_BYTES,	  /* hex: "01:02:ff" or "0x0102ff" */
	DHCP_OT_STRING,	  /* text, sent without a terminating NUL */
	DHCP_OT_IP,	  /* "10.0.0.1" */
	DHCP_OT_IPS,	  /* "10.0.0.1, 10.0.0.2" */
	DHCP_OT_IP_PAIRS, /* "10.0.0.0 255.0.0.0, ..." (RFC 2132 options 21, 33) */
	DHCP_OT_U8,
	DHCP_OT_U16,
	DHCP_OT_U32,
	DHCP_OT_I32,
	DHCP_OT_U16S,	 /* "68, 296, 508" (option 25) */
	DHCP_OT_BOOL,	 /* "true" / "false", one byte 1 / 0 */
	DHCP_OT_DOMAINS, /* "a.example, b.example" (RFC 3397, RFC 1035 §3.1) */
	DHCP_OT_ROUTES,	 /* "10.0.0.0/8 via 10.1.1.1, ..." (RFC 3442) */
	DHCP_OT_ARCHES,	 /* "7, 9": u16 list (RFC 4578 option 93) */
	DHCP_OT_UUID,	 /* "xxxxxxxx-xxxx-...": type 0 + 16 bytes (RFC 4578 option 97) */
};

/* pxed computes the option itself: the config refuses it. */
#define DHCP_OPTF_MANAGED 0x01
/* The value is a list: the config accepts a YAML list for it. */
#define DHCP_OPTF_LIST 0x02

struct dhcp_optdef {
	uint8_t code;
	enum dhcp_opttype type;
	const char *name;   /* RFC 2132 style, kebab-case; NULL: a code the catalogue lacks */
	uint16_t min_len;   /* bytes, inclusive */
	uint16_t max_len;   /* bytes, inclusive; over 255 is split on the wire (RFC 3396) */
	uint8_t multiple;   /* the length is a multiple of this (1 = any) */
	uint8_t flags;	    /* DHCP_OPTF_* */
	uint32_t min_value; /* integer types: the smallest value that makes sense */
	const char *hint;   /* managed options: what to set instead, for messages */
};

/* Longest label dhcp_optdef_label() writes ("option-254" or a name), with its NUL. */
#define DHCP_OPTDEF_LABEL_MAX 48
/* Reasons from dhcp_optdef_parse() fit in this, with the item quoted. */
#define DHCP_OPTDEF_WHY_MAX 160

/*
 * The definition of code: the catalogue's, or for a code it does not know
 * a generic one (name NULL, type bytes, 0 to 255 bytes). Never NULL.
 */
const struct dhcp_optdef *dhcp_optdef_by_code(uint8_t code);

/*
 * The definition named name (case-insensitive, '_' taken as '-'), an alias
 * ("dns"), a decimal code 1..254 or "option-N". Codes the catalogue does not
 * know get the generic definition. NULL when nothing matches.
 */
const struct dhcp_optdef *dhcp_optdef_by_name(const char *name);

/* True when the catalogue knows the option (it has a name and a type). */
bool dhcp_optdef_known(const struct dhcp_optdef *def);

/* The option's name, or "option-N" for codes the catalogue does not know. */
const char *dhcp_optdef_label(const struct dhcp_optdef *def, char buf[DHCP_OPTDEF_LABEL_MAX]);

/* "ip", "ips", "u8"... as the documentation names the types. */
const char *dhcp_opttype_name(enum dhcp_opttype type);

/* Whether len bytes satisfy the option's length rule. */
bool dhcp_optdef_len_ok(const struct dhcp_optdef *def, size_t len);

/*
 * Encodes text (as written in the config) into out. Lists are separated by
 * commas. Returns the number of bytes written, or -EINVAL with the reason
 * in why (why_cap bytes, always NUL-terminated) when the text is not a
 * valid value or breaks the length rule or does not fit in cap. For codes
 * the catalogue does not know, hex bytes are taken as bytes and any other
 * text as a string.
 */
int dhcp_optdef_parse(const struct dhcp_optdef *def, const char *text, uint8_t *out, size_t cap,
		      char *why, size_t why_cap);

/*
 * Opaque bytes as written in the config (client identifiers, options the
 * catalogue does not know): hex ("01:02:ff" or "0x0102ff") when the text is
 * hex, an error when it looks like hex but is not, else the text itself.
 * Returns the length, or -EINVAL with the reason in why.
 */
int dhcp_optdef_parse_opaque(const char *text, uint8_t *out, size_t cap, char *why, size_t why_cap);

/*
 * Writes the value v (len bytes, as on the wire) as text into out (cap
 * bytes, always NUL-terminated), in the form dhcp_optdef_parse() reads.
 * Bytes outside printable ASCII and the characters '"' and '\' in strings
 * are written as \xHH, so peer data is safe to log. Returns the length of
 * the text; -EINVAL when v is not a valid value of the type (out then holds
 * it as hex bytes); -ENOSPC when the text was cut to fit.
 */
int dhcp_optdef_format(const struct dhcp_optdef *def, const uint8_t *v, size_t len, char *out,
		       size_t cap);

/* The catalogue in code order, for documentation and tests. */
size_t dhcp_optdef_count(void);
const struct dhcp_optdef *dhcp_optdef_at(size_t i);

#endif
