/*
 * DHCPv4 message codec (RFC 2131, RFC 2132, RFC 3396). Pure: bytes in,
 * struct out, and the reverse; no I/O, no globals.
 */
#ifndef PXED_DHCP_WIRE_H
#define PXED_DHCP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP_FIXED_LEN 236     /* op .. file, before the magic cookie */
#define DHCP_MIN_LEN 240       /* fixed part plus the magic cookie */
#define DHCP_MAX_LEN 1500      /* we never accept or build larger */
#define DHCP_MIN_REPLY_LEN 300 /* BOOTP-era relays and ROMs drop shorter replies */
#define DHCP_MAGIC 0x63825363u
#define DHCP_SNAME_OFFSET 44 /* where the 64-byte sname field starts */
#define DHCP_FILE_OFFSET 108 /* where the 128-byte file field starts */

#define DHCP_BOOTREQUEST 1
#define DHCP_BOOTREPLY 2
#define DHCP_FLAG_BROADCAST 0x8000u

enum dhcp_msg_type {
	DHCPDISCOVER = 1,
	DHCPOFFER = 2,
	DHCPREQUEST = 3,
	DHCPDECLINE = 4,
	DHCPACK = 5,
	DHCPNAK = 6,
	DHCPRELEASE = 7,
	DHCPINFORM = 8,
};

/* Option codes pxed reads or writes (RFC 2132, RFC 4578, PXE 2.1). */
enum dhcp_opt {
	DHCP_OPT_PAD = 0,
	DHCP_OPT_SUBNET_MASK = 1,
	DHCP_OPT_ROUTER = 3,
	DHCP_OPT_DNS = 6,
	DHCP_OPT_HOSTNAME = 12,
	DHCP_OPT_DOMAIN = 15,
	DHCP_OPT_BROADCAST = 28,
	DHCP_OPT_VENDOR = 43,
	DHCP_OPT_REQUESTED_IP = 50,
	DHCP_OPT_LEASE_TIME = 51,
	DHCP_OPT_OVERLOAD = 52,
	DHCP_OPT_MSG_TYPE = 53,
	DHCP_OPT_SERVER_ID = 54,
	DHCP_OPT_PARAM_LIST = 55,
	DHCP_OPT_MESSAGE = 56,
	DHCP_OPT_MAX_SIZE = 57,
	DHCP_OPT_RENEWAL = 58,
	DHCP_OPT_REBINDING = 59,
	DHCP_OPT_VENDOR_CLASS = 60,
	DHCP_OPT_CLIENT_ID = 61,
	DHCP_OPT_TFTP_SERVER = 66,
	DHCP_OPT_BOOTFILE = 67,
	DHCP_OPT_USER_CLASS = 77,
	DHCP_OPT_CLIENT_ARCH = 93,
	DHCP_OPT_CLIENT_NDI = 94,
	DHCP_OPT_UUID = 97,
	DHCP_OPT_IPXE = 175,
	DHCP_OPT_END = 255,
};

/* PXE option 43 sub-options (PXE 2.1 §2.4). */
#define PXE_SUBOPT_DISCOVERY_CONTROL 6
#define PXE_SUBOPT_BOOT_SERVERS 8
#define PXE_SUBOPT_BOOT_MENU 9
#define PXE_SUBOPT_MENU_PROMPT 10
#define PXE_SUBOPT_BOOT_ITEM 71

/*
 * A decoded message. Options are kept as (offset, length) into `optdata`,
 * where repeated instances of one option are already concatenated
 * (RFC 3396), so a reader never sees a split option.
 */
struct dhcp_msg {
	uint8_t op, htype, hlen, hops;
	uint32_t xid;
	uint16_t secs, flags;
	uint32_t ciaddr, yiaddr, siaddr, giaddr; /* host order */
	uint8_t chaddr[16];
	uint8_t sname[64];
	uint8_t file[128];
	bool overload_file, overload_sname; /* option 52: fields held options */

	bool has[256];
	uint16_t off[256];
	uint16_t len[256];
	uint8_t optdata[DHCP_MAX_LEN];
	size_t optdata_len;
};

enum dhcp_decode_err {
	DHCP_OK = 0,
	DHCP_ERR_SHORT,	     /* under 240 bytes */
	DHCP_ERR_TOO_LONG,   /* over DHCP_MAX_LEN */
	DHCP_ERR_MAGIC,	     /* no magic cookie: BOOTP or garbage */
	DHCP_ERR_HLEN,	     /* hlen > 16 */
	DHCP_ERR_OPTION,     /* an option runs past its field */
	DHCP_ERR_OPTION_LEN, /* a known option with a length it cannot have */
	DHCP_ERR_NO_TYPE,    /* no (valid) option 53 */
	DHCP_ERR_NO_END,     /* the options field has no END */
};

/* Decodes len bytes into *m. Returns DHCP_OK or the reason it was refused. */
enum dhcp_decode_err dhcp_decode(const uint8_t *buf, size_t len, struct dhcp_msg *m);
const char *dhcp_decode_strerror(enum dhcp_decode_err e);

/* Option accessors: NULL / false when absent or of the wrong length. */
const uint8_t *dhcp_opt(const struct dhcp_msg *m, uint8_t code, size_t *len);
bool dhcp_opt_u8(const struct dhcp_msg *m, uint8_t code, uint8_t *v);
bool dhcp_opt_u16(const struct dhcp_msg *m, uint8_t code, uint16_t *v);
bool dhcp_opt_ip(const struct dhcp_msg *m, uint8_t code, uint32_t *v);
/* The message type (option 53); 0 if absent. */
uint8_t dhcp_msg_type(const struct dhcp_msg *m);
const char *dhcp_msg_type_name(uint8_t type);

/*
 * Building a reply: the header is written first, then options, then
 * dhcp_build_finish() adds END and pads to DHCP_MIN_REPLY_LEN. Any overflow
 * of the caller's buffer makes finish return -ENOSPC.
 */
struct dhcp_builder {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool err;
};

struct dhcp_reply_hdr {
	uint8_t op, htype, hlen, hops;
	uint32_t xid;
	uint16_t secs, flags;
	uint32_t ciaddr, yiaddr, siaddr, giaddr;
	const uint8_t *chaddr; /* 16 bytes */
	const char *sname;     /* may be NULL */
	const char *file;      /* may be NULL; must fit in 128 bytes with its NUL */
};

void dhcp_build_start(struct dhcp_builder *b, uint8_t *buf, size_t cap,
		      const struct dhcp_reply_hdr *h);
/* Appends an option; values over 255 bytes are split (RFC 3396). */
void dhcp_build_opt(struct dhcp_builder *b, uint8_t code, const void *data, size_t len);
void dhcp_build_opt_u8(struct dhcp_builder *b, uint8_t code, uint8_t v);
void dhcp_build_opt_u32(struct dhcp_builder *b, uint8_t code, uint32_t v);
void dhcp_build_opt_ip(struct dhcp_builder *b, uint8_t code, uint32_t ip);
void dhcp_build_opt_str(struct dhcp_builder *b, uint8_t code, const char *s);
/* Returns the final length or -ENOSPC. */
int dhcp_build_finish(struct dhcp_builder *b);

#endif
