/*
 * dhcp-probe: a one-shot DHCPv4 client for pxed's integration tests.
 *
 * It sends one message built with pxed's own codec (dhcp/wire.h) and prints
 * the one reply whose xid matches as key=value lines, so a shell test can
 * grep what a server answered. It can also send garbage and truncated
 * messages, which no real client would. See usage_text for the interface.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/udp.h"
#include "core/util.h"
#include "dhcp/wire.h"

#define PROBE_EXIT_OK 0
#define PROBE_EXIT_NO_REPLY 1
#define PROBE_EXIT_USAGE 2
#define PROBE_EXIT_SYSTEM 3

#define PROBE_MAX_GARBAGE 1000000
#define PROBE_MAX_TIMEOUT_MS 600000u
#define PROBE_MAX_DATAGRAM 65507 /* the largest UDP payload over IPv4 */

static const char usage_text[] =
    "usage: dhcp-probe --mac MAC [--iface IFACE] [--type TYPE] [OPTIONS]\n"
    "\n"
    "Sends one DHCPv4 message and prints the reply whose xid matches as key=value\n"
    "lines. Broadcasts to 255.255.255.255 on IFACE (SO_BINDTODEVICE) unless --to\n"
    "is given, from UDP port 68 unless --from-port is.\n"
    "\n"
    "what to send:\n"
    "  --type TYPE          discover (default), request, decline, release, inform,\n"
    "                       or dora: DISCOVER, then REQUEST the OFFER's address from\n"
    "                       the server that offered it (same xid); prints the ACK\n"
    "  --mac MAC            chaddr (52:54:00:aa:00:01 or with dashes)\n"
    "  --xid N              transaction id (default: random)\n"
    "  --ciaddr A --giaddr A --requested-ip A (option 50) --server-id A (option 54)\n"
    "  --vendor-class STR   option 60, e.g. PXEClient:Arch:00007:UNDI:003000\n"
    "  --user-class STR     option 77 as raw bytes, e.g. iPXE\n"
    "  --arch N             option 93 (0 BIOS, 7 and 9 EFI x64, 11 EFI ARM64...)\n"
    "  --uuid               option 97: type 0 and a 16-byte UUID made from MAC\n"
    "  --boot-item T[:L]    option 43 with PXE sub-option 71, boot item type T and\n"
    "                       layer L (default 0), as a PXE client sends it to a boot\n"
    "                       server on port 4011 after a menu choice\n"
    "  --hostname STR       option 12\n"
    "  --param-list L       option 55: comma-separated codes (default\n"
    "                       1,3,6,12,15,28,43,51,54,60,66,67,97; \"none\" omits it)\n"
    "  --broadcast-flag     set the BROADCAST bit in flags\n"
    "  --no-pad             end the message after END (default: pad to 300 bytes)\n"
    "\n"
    "where to send it:\n"
    "  --iface IFACE        the interface (required unless --to is given)\n"
    "  --to ADDR            unicast to ADDR instead of broadcasting\n"
    "  --port N             destination port (default 67; 4011 for PXE boot servers)\n"
    "  --from-port N        source port (default 68; 0 = an ephemeral port)\n"
    "  --timeout-ms N       how long to wait for the reply (default 2000)\n"
    "  --no-wait            send and exit 0 without waiting (always so for release\n"
    "                       and decline)\n"
    "\n"
    "bad input:\n"
    "  --garbage N          send N datagrams of random bytes (0..1500 long unless\n"
    "                       --garbage-len says otherwise; every other one with a\n"
    "                       valid BOOTREQUEST header and magic\n"
    "                       cookie, so the options decoder is reached); each is\n"
    "                       checked with pxed's decoder to be one pxed must drop.\n"
    "                       Prints garbage_sent and the reasons; does not wait\n"
    "  --garbage-len A,B    lengths of the garbage: A..B bytes (default 0,1500; at\n"
    "                       most 65507); over 1500 is dropped as too long\n"
    "  --seed N             seed of --garbage (default: random, printed)\n"
    "  --gap-us N           pause between garbage datagrams (default 1000)\n"
    "  --truncate N         send only the first N bytes of the message; exits\n"
    "                       without waiting when that is less than all of it\n"
    "  --dry-run            print length, options_end (the offset just after END)\n"
    "                       and hex of the message; send nothing\n"
    "\n"
    "output (only the fields present are printed):\n"
    "  type xid from (IP:PORT) dst (the reply's destination address) local_port\n"
    "  op flags ciaddr yiaddr siaddr giaddr chaddr sname file options (codes present)\n"
    "  subnet_mask(1) router(3) hostname(12) vendor_opts(43, hex) lease_time(51)\n"
    "  server_id(54) message(56) renewal(58) rebinding(59) vendor_class(60)\n"
    "  tftp_server(66) bootfile(67) user_class(77) uuid(97, hex)\n"
    "  Option 43 of a PXE reply is also decoded, one line per sub-option (PXE 2.1):\n"
    "  pxe_discovery_control=N, pxe_boot_server=TYPE IP (one line per address),\n"
    "  pxe_menu_item=TYPE LABEL (one line per item, in order), pxe_prompt_timeout=N,\n"
    "  pxe_prompt=TEXT, pxe_boot_item=TYPE LAYER, pxe_subopt_N=HEX for others, and\n"
    "  pxe_malformed=1 when a sub-option runs past the option.\n"
    "  Strings are escaped: bytes outside printable ASCII, \" and \\ as \\xHH.\n"
    "\n"
    "exit status: 0 reply printed (or message sent), 1 no reply before the timeout,\n"
    "2 usage error, 3 system error (socket, interface, send).\n";

enum probe_type {
	PROBE_DISCOVER,
	PROBE_REQUEST,
	PROBE_DECLINE,
	PROBE_RELEASE,
	PROBE_INFORM,
	PROBE_DORA,
};

static const struct {
	const char *name;
	enum probe_type type;
	uint8_t msg; /* the DHCP message type sent first */
} probe_types[] = {
    {"discover", PROBE_DISCOVER, DHCPDISCOVER}, {"request", PROBE_REQUEST, DHCPREQUEST},
    {"decline", PROBE_DECLINE, DHCPDECLINE},	{"release", PROBE_RELEASE, DHCPRELEASE},
    {"inform", PROBE_INFORM, DHCPINFORM},	{"dora", PROBE_DORA, DHCPDISCOVER},
};

static const uint8_t probe_default_params[] = {1, 3, 6, 12, 15, 28, 43, 51, 54, 60, 66, 67, 97};

struct probe_opts {
	const char *iface;
	uint8_t mac[6];
	bool has_mac;
	enum probe_type type;
	uint8_t msg_type;
	uint32_t to;
	uint16_t port, from_port;
	uint32_t ciaddr, giaddr, requested_ip, server_id;
	const char *vendor_class, *user_class, *hostname;
	bool has_arch, uuid, broadcast_flag, no_pad, no_wait, dry_run, has_boot_item;
	uint16_t arch;
	uint16_t boot_item_type, boot_item_layer;
	uint8_t params[255];
	size_t n_params;
	uint32_t xid;
	unsigned timeout_ms, gap_us;
	long garbage, truncate; /* -1 when not given */
	size_t garbage_min, garbage_max;
	uint64_t seed;
	bool has_seed;
};

enum {
	OPT_IFACE = 256,
	OPT_MAC,
	OPT_TYPE,
	OPT_PORT,
	OPT_TO,
	OPT_FROM_PORT,
	OPT_REQUESTED_IP,
	OPT_SERVER_ID,
	OPT_CIADDR,
	OPT_GIADDR,
	OPT_VENDOR_CLASS,
	OPT_USER_CLASS,
	OPT_ARCH,
	OPT_UUID,
	OPT_BOOT_ITEM,
	OPT_HOSTNAME,
	OPT_PARAM_LIST,
	OPT_BROADCAST_FLAG,
	OPT_XID,
	OPT_TIMEOUT_MS,
	OPT_NO_WAIT,
	OPT_NO_PAD,
	OPT_GARBAGE,
	OPT_SEED,
	OPT_GAP_US,
	OPT_GARBAGE_LEN,
	OPT_TRUNCATE,
	OPT_DRY_RUN,
	OPT_HELP,
};

static const struct option probe_long_opts[] = {
    {"iface", required_argument, NULL, OPT_IFACE},
    {"mac", required_argument, NULL, OPT_MAC},
    {"type", required_argument, NULL, OPT_TYPE},
    {"port", required_argument, NULL, OPT_PORT},
    {"to", required_argument, NULL, OPT_TO},
    {"from-port", required_argument, NULL, OPT_FROM_PORT},
    {"requested-ip", required_argument, NULL, OPT_REQUESTED_IP},
    {"server-id", required_argument, NULL, OPT_SERVER_ID},
    {"ciaddr", required_argument, NULL, OPT_CIADDR},
    {"giaddr", required_argument, NULL, OPT_GIADDR},
    {"vendor-class", required_argument, NULL, OPT_VENDOR_CLASS},
    {"user-class", required_argument, NULL, OPT_USER_CLASS},
    {"arch", required_argument, NULL, OPT_ARCH},
    {"uuid", no_argument, NULL, OPT_UUID},
    {"boot-item", required_argument, NULL, OPT_BOOT_ITEM},
    {"hostname", required_argument, NULL, OPT_HOSTNAME},
    {"param-list", required_argument, NULL, OPT_PARAM_LIST},
    {"broadcast-flag", no_argument, NULL, OPT_BROADCAST_FLAG},
    {"xid", required_argument, NULL, OPT_XID},
    {"timeout-ms", required_argument, NULL, OPT_TIMEOUT_MS},
    {"no-wait", no_argument, NULL, OPT_NO_WAIT},
    {"no-pad", no_argument, NULL, OPT_NO_PAD},
    {"garbage", required_argument, NULL, OPT_GARBAGE},
    {"seed", required_argument, NULL, OPT_SEED},
    {"gap-us", required_argument, NULL, OPT_GAP_US},
    {"garbage-len", required_argument, NULL, OPT_GARBAGE_LEN},
    {"truncate", required_argument, NULL, OPT_TRUNCATE},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static void __attribute__((noreturn, format(printf, 1, 2))) probe_usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("dhcp-probe: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see dhcp-probe --help)\n", stderr);
	exit(PROBE_EXIT_USAGE);
}

/* ---- command line ------------------------------------------------------- */

static uint64_t probe_num(const char *flag, const char *s, uint64_t min, uint64_t max)
{
	uint64_t v;
	if (parse_u64(s, min, max, &v) < 0)
		probe_usage_error("%s: '%s' is not a number in %llu..%llu", flag, s,
				  (unsigned long long)min, (unsigned long long)max);
	return v;
}

static uint32_t probe_ip(const char *flag, const char *s)
{
	uint32_t ip;
	if (ip4_parse(s, &ip) < 0)
		probe_usage_error("%s: '%s' is not an IPv4 address", flag, s);
	return ip;
}

static void probe_parse_params(struct probe_opts *o, const char *s)
{
	char buf[1024], *save = NULL;
	o->n_params = 0;
	if (strcmp(s, "none") == 0)
		return;
	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		probe_usage_error("--param-list: too long");
	for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		if (o->n_params == sizeof(o->params))
			probe_usage_error("--param-list: more than 255 codes");
		o->params[o->n_params++] = (uint8_t)probe_num("--param-list", t, 1, 254);
	}
}

static void probe_parse_range(struct probe_opts *o, const char *s)
{
	char lo[16];
	const char *comma = strchr(s, ',');
	if (comma == NULL || (size_t)(comma - s) >= sizeof(lo))
		probe_usage_error("--garbage-len: expected MIN,MAX, got '%s'", s);
	memcpy(lo, s, (size_t)(comma - s));
	lo[comma - s] = '\0';
	o->garbage_min = (size_t)probe_num("--garbage-len", lo, 0, PROBE_MAX_DATAGRAM);
	o->garbage_max = (size_t)probe_num("--garbage-len", comma + 1, 0, PROBE_MAX_DATAGRAM);
	if (o->garbage_min > o->garbage_max)
		probe_usage_error("--garbage-len: %zu is more than %zu", o->garbage_min,
				  o->garbage_max);
}

/* --boot-item TYPE[:LAYER], each 0..65535. */
static void probe_parse_boot_item(struct probe_opts *o, const char *s)
{
	char type[16];
	const char *colon = strchr(s, ':');
	size_t n = colon != NULL ? (size_t)(colon - s) : strlen(s);
	if (n >= sizeof(type))
		probe_usage_error("--boot-item: expected TYPE[:LAYER], got '%s'", s);
	memcpy(type, s, n);
	type[n] = '\0';
	o->boot_item_type = (uint16_t)probe_num("--boot-item", type, 0, 65535);
	o->boot_item_layer =
	    colon != NULL ? (uint16_t)probe_num("--boot-item", colon + 1, 0, 65535) : 0;
	o->has_boot_item = true;
}

static void probe_parse_type(struct probe_opts *o, const char *s)
{
	for (size_t i = 0; i < PXED_ARRAY_LEN(probe_types); i++) {
		if (strcmp(s, probe_types[i].name) == 0) {
			o->type = probe_types[i].type;
			o->msg_type = probe_types[i].msg;
			return;
		}
	}
	probe_usage_error("--type: '%s' is not discover, request, decline, release, inform or dora",
			  s);
}

/* The options that take an address or a number; false for any other. */
static bool probe_take_value(struct probe_opts *o, int opt, const char *arg)
{
	switch (opt) {
	case OPT_PORT:
		o->port = (uint16_t)probe_num("--port", arg, 1, 65535);
		break;
	case OPT_TO:
		o->to = probe_ip("--to", arg);
		break;
	case OPT_FROM_PORT:
		o->from_port = (uint16_t)probe_num("--from-port", arg, 0, 65535);
		break;
	case OPT_REQUESTED_IP:
		o->requested_ip = probe_ip("--requested-ip", arg);
		break;
	case OPT_SERVER_ID:
		o->server_id = probe_ip("--server-id", arg);
		break;
	case OPT_CIADDR:
		o->ciaddr = probe_ip("--ciaddr", arg);
		break;
	case OPT_GIADDR:
		o->giaddr = probe_ip("--giaddr", arg);
		break;
	case OPT_ARCH:
		o->arch = (uint16_t)probe_num("--arch", arg, 0, 65535);
		o->has_arch = true;
		break;
	case OPT_XID:
		o->xid = (uint32_t)probe_num("--xid", arg, 0, UINT32_MAX);
		break;
	case OPT_TIMEOUT_MS:
		o->timeout_ms = (unsigned)probe_num("--timeout-ms", arg, 1, PROBE_MAX_TIMEOUT_MS);
		break;
	case OPT_GARBAGE:
		o->garbage = (long)probe_num("--garbage", arg, 0, PROBE_MAX_GARBAGE);
		break;
	case OPT_SEED:
		o->seed = probe_num("--seed", arg, 0, UINT64_MAX);
		o->has_seed = true;
		break;
	case OPT_GAP_US:
		o->gap_us = (unsigned)probe_num("--gap-us", arg, 0, 1000000);
		break;
	case OPT_TRUNCATE:
		o->truncate = (long)probe_num("--truncate", arg, 0, DHCP_MAX_LEN);
		break;
	default:
		return false;
	}
	return true;
}

static void probe_take(struct probe_opts *o, int opt, const char *arg)
{
	if (probe_take_value(o, opt, arg))
		return;
	switch (opt) {
	case OPT_IFACE:
		o->iface = arg;
		break;
	case OPT_MAC:
		if (mac_parse(arg, o->mac) < 0)
			probe_usage_error("--mac: '%s' is not a MAC address", arg);
		o->has_mac = true;
		break;
	case OPT_TYPE:
		probe_parse_type(o, arg);
		break;
	case OPT_VENDOR_CLASS:
		o->vendor_class = arg;
		break;
	case OPT_USER_CLASS:
		o->user_class = arg;
		break;
	case OPT_UUID:
		o->uuid = true;
		break;
	case OPT_BOOT_ITEM:
		probe_parse_boot_item(o, arg);
		break;
	case OPT_HOSTNAME:
		o->hostname = arg;
		break;
	case OPT_PARAM_LIST:
		probe_parse_params(o, arg);
		break;
	case OPT_BROADCAST_FLAG:
		o->broadcast_flag = true;
		break;
	case OPT_NO_WAIT:
		o->no_wait = true;
		break;
	case OPT_NO_PAD:
		o->no_pad = true;
		break;
	case OPT_GARBAGE_LEN:
		probe_parse_range(o, arg);
		break;
	case OPT_DRY_RUN:
		o->dry_run = true;
		break;
	case OPT_HELP:
		fputs(usage_text, stdout);
		exit(PROBE_EXIT_OK);
	default:
		probe_usage_error("unknown or incomplete option");
	}
}

static uint64_t probe_random_seed(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)getpid() << 40);
}

/* splitmix64: small, seedable, good enough to make garbage and xids. */
static uint64_t probe_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void probe_parse(int argc, char **argv, struct probe_opts *o)
{
	int opt;
	bool has_xid = false;

	memset(o, 0, sizeof(*o));
	o->type = PROBE_DISCOVER;
	o->msg_type = DHCPDISCOVER;
	o->to = 0xffffffffu;
	o->port = 67;
	o->from_port = 68;
	o->timeout_ms = 2000;
	o->gap_us = 1000;
	o->garbage = o->truncate = -1;
	o->garbage_max = DHCP_MAX_LEN;
	memcpy(o->params, probe_default_params, sizeof(probe_default_params));
	o->n_params = sizeof(probe_default_params);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", probe_long_opts, NULL)) != -1) {
		if (opt == 'h')
			opt = OPT_HELP;
		if (opt == OPT_XID)
			has_xid = true;
		probe_take(o, opt, optarg);
	}
	if (optind < argc)
		probe_usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->has_mac && o->garbage < 0)
		probe_usage_error("--mac is required");
	if (o->iface == NULL && o->to == 0xffffffffu && !o->dry_run)
		probe_usage_error("--iface is required to broadcast (or give --to)");
	if (o->type == PROBE_RELEASE && o->ciaddr == 0)
		probe_usage_error("--type release needs --ciaddr (the address released)");
	if (!o->has_seed)
		o->seed = probe_random_seed();
	if (!has_xid) {
		uint64_t s = probe_random_seed() ^ 0x5bd1e995u;
		o->xid = (uint32_t)probe_rand(&s);
	}
}

/* ---- building ----------------------------------------------------------- */

/* A UUID (option 97, RFC 4578 §2.3) that is stable for a MAC: type 0, 16 bytes. */
static void probe_uuid(const uint8_t mac[6], uint8_t out[17])
{
	static const uint8_t base[10] = {0x70, 0x78, 0x65, 0x64, 0x2d,
					 0x70, 0x72, 0x6f, 0x62, 0x65};
	out[0] = 0;
	memcpy(out + 1, base, sizeof(base));
	memcpy(out + 11, mac, 6);
}

/*
 * Builds one request of DHCP type msg_type into buf. *end is the offset just
 * past END: every shorter prefix is an incomplete message. Returns the length
 * (padded to 300 bytes unless --no-pad) or -ENOSPC.
 */
static int probe_build(const struct probe_opts *o, uint8_t msg_type, uint32_t requested_ip,
		       uint32_t server_id, uint8_t *buf, size_t cap, size_t *end)
{
	uint8_t chaddr[16] = {0};
	struct dhcp_builder b;

	memcpy(chaddr, o->mac, 6);
	struct dhcp_reply_hdr h = {.op = DHCP_BOOTREQUEST,
				   .htype = 1,
				   .hlen = 6,
				   .xid = o->xid,
				   .flags = o->broadcast_flag ? DHCP_FLAG_BROADCAST : 0,
				   .ciaddr = o->ciaddr,
				   .giaddr = o->giaddr,
				   .chaddr = chaddr};
	dhcp_build_start(&b, buf, cap, &h);
	dhcp_build_opt_u8(&b, DHCP_OPT_MSG_TYPE, msg_type);
	if (requested_ip != 0)
		dhcp_build_opt_ip(&b, DHCP_OPT_REQUESTED_IP, requested_ip);
	if (server_id != 0)
		dhcp_build_opt_ip(&b, DHCP_OPT_SERVER_ID, server_id);
	if (o->hostname != NULL)
		dhcp_build_opt_str(&b, DHCP_OPT_HOSTNAME, o->hostname);
	if (o->n_params > 0)
		dhcp_build_opt(&b, DHCP_OPT_PARAM_LIST, o->params, o->n_params);
	if (o->vendor_class != NULL)
		dhcp_build_opt_str(&b, DHCP_OPT_VENDOR_CLASS, o->vendor_class);
	if (o->user_class != NULL)
		dhcp_build_opt_str(&b, DHCP_OPT_USER_CLASS, o->user_class);
	if (o->has_arch) {
		uint8_t a[2] = {(uint8_t)(o->arch >> 8), (uint8_t)o->arch};
		dhcp_build_opt(&b, DHCP_OPT_CLIENT_ARCH, a, sizeof(a));
	}
	if (o->uuid) {
		uint8_t u[17];
		probe_uuid(o->mac, u);
		dhcp_build_opt(&b, DHCP_OPT_UUID, u, sizeof(u));
	}
	if (o->has_boot_item) {
		/* PXE 2.1 §2.4.7.2: sub-option 71, type and layer in network order. */
		uint8_t v[7] = {71,
				4,
				(uint8_t)(o->boot_item_type >> 8),
				(uint8_t)o->boot_item_type,
				(uint8_t)(o->boot_item_layer >> 8),
				(uint8_t)o->boot_item_layer,
				255};
		dhcp_build_opt(&b, DHCP_OPT_VENDOR, v, sizeof(v));
	}
	*end = b.len + 1;
	int n = dhcp_build_finish(&b);
	if (n >= 0 && o->no_pad)
		n = (int)*end;
	return n;
}

/* ---- printing ----------------------------------------------------------- */

static void probe_print_ip(const char *key, uint32_t ip)
{
	char s[16];
	printf("%s=%s\n", key, ip4_format(s, ip));
}

static void probe_print_str(const char *key, const uint8_t *p, size_t n)
{
	char esc[4 * 255 * 4 + 1];
	if (n > 255 * 4)
		n = 255 * 4;
	printf("%s=%s\n", key, log_escape(esc, sizeof(esc), p, n));
}

/* A NUL-terminated fixed field (sname, file). */
static void probe_print_field(const char *key, const uint8_t *p, size_t cap)
{
	const uint8_t *nul = memchr(p, 0, cap);
	probe_print_str(key, p, nul != NULL ? (size_t)(nul - p) : cap);
}

static void probe_print_hex(const char *key, const uint8_t *p, size_t n)
{
	printf("%s=", key);
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	putchar('\n');
}

static void probe_print_ip_list(const char *key, const uint8_t *p, size_t n)
{
	printf("%s=", key);
	for (size_t i = 0; i + 4 <= n; i += 4)
		printf("%s%u.%u.%u.%u", i ? "," : "", p[i], p[i + 1], p[i + 2], p[i + 3]);
	putchar('\n');
}

static void probe_print_u32(const char *key, const uint8_t *p, size_t n)
{
	if (n == 4)
		printf("%s=%u\n", key,
		       (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
	else
		probe_print_hex(key, p, n);
}

enum probe_fmt { FMT_IPS, FMT_U32, FMT_STR, FMT_HEX };

/* The options printed by name, in this order. */
static const struct {
	uint8_t code;
	const char *key;
	enum probe_fmt fmt;
} probe_printed_opts[] = {
    {DHCP_OPT_SUBNET_MASK, "subnet_mask", FMT_IPS},
    {DHCP_OPT_ROUTER, "router", FMT_IPS},
    {DHCP_OPT_DNS, "dns", FMT_IPS},
    {DHCP_OPT_HOSTNAME, "hostname", FMT_STR},
    {DHCP_OPT_BROADCAST, "broadcast", FMT_IPS},
    {DHCP_OPT_VENDOR, "vendor_opts", FMT_HEX},
    {DHCP_OPT_LEASE_TIME, "lease_time", FMT_U32},
    {DHCP_OPT_SERVER_ID, "server_id", FMT_IPS},
    {DHCP_OPT_MESSAGE, "message", FMT_STR},
    {DHCP_OPT_RENEWAL, "renewal", FMT_U32},
    {DHCP_OPT_REBINDING, "rebinding", FMT_U32},
    {DHCP_OPT_VENDOR_CLASS, "vendor_class", FMT_STR},
    {DHCP_OPT_TFTP_SERVER, "tftp_server", FMT_STR},
    {DHCP_OPT_BOOTFILE, "bootfile", FMT_STR},
    {DHCP_OPT_USER_CLASS, "user_class", FMT_STR},
    {DHCP_OPT_UUID, "uuid", FMT_HEX},
};

static void probe_print_opts(const struct dhcp_msg *m)
{
	const char *sep = "";
	printf("options=");
	for (int c = 1; c < 255; c++) {
		if (m->has[c]) {
			printf("%s%d", sep, c);
			sep = ",";
		}
	}
	putchar('\n');
	for (size_t i = 0; i < PXED_ARRAY_LEN(probe_printed_opts); i++) {
		size_t n;
		const uint8_t *p = dhcp_opt(m, probe_printed_opts[i].code, &n);
		if (p == NULL)
			continue;
		const char *key = probe_printed_opts[i].key;
		switch (probe_printed_opts[i].fmt) {
		case FMT_IPS:
			probe_print_ip_list(key, p, n);
			break;
		case FMT_U32:
			probe_print_u32(key, p, n);
			break;
		case FMT_STR:
			probe_print_str(key, p, n);
			break;
		case FMT_HEX:
			probe_print_hex(key, p, n);
			break;
		}
	}
}

/* One PXE sub-option of option 43 (PXE 2.1 §2.4), as key=value lines. */
static void probe_print_pxe_subopt(uint8_t code, const uint8_t *v, size_t n)
{
	struct rd r = rd_init(v, n);
	char key[24];

	switch (code) {
	case 6:
		printf("pxe_discovery_control=%u\n", rd_u8(&r));
		break;
	case 8: /* type (2), count (1), count addresses */
		while (rd_left(&r) >= 3) {
			uint16_t type = rd_u16(&r);
			uint8_t count = rd_u8(&r);
			for (unsigned i = 0; i < count && rd_left(&r) >= 4; i++) {
				char ip[16];
				printf("pxe_boot_server=%u %s\n", type, ip4_format(ip, rd_u32(&r)));
			}
		}
		break;
	case 9: /* type (2), length (1), description */
		while (rd_left(&r) >= 3) {
			uint16_t type = rd_u16(&r);
			uint8_t len = rd_u8(&r);
			const uint8_t *d = rd_take(&r, len);
			char esc[4 * 255 + 1];
			if (d != NULL)
				printf("pxe_menu_item=%u %s\n", type,
				       log_escape(esc, sizeof(esc), d, len));
		}
		break;
	case 10:
		printf("pxe_prompt_timeout=%u\n", rd_u8(&r));
		if (n > 0)
			probe_print_str("pxe_prompt", rd_take(&r, n - 1), n - 1);
		break;
	case 71:
		if (n == 4) {
			uint16_t type = rd_u16(&r);
			printf("pxe_boot_item=%u %u\n", type, rd_u16(&r));
		} else {
			probe_print_hex("pxe_subopt_71", v, n);
		}
		return;
	default:
		snprintf(key, sizeof(key), "pxe_subopt_%u", code);
		probe_print_hex(key, v, n);
		return;
	}
	/* Lists that do not tile their sub-option exactly. */
	if (r.err || rd_left(&r) > 0)
		printf("pxe_malformed=1\n");
}

/* Option 43 of a reply to a PXE client: its sub-options, in order. */
static void probe_print_pxe(const struct dhcp_msg *m)
{
	size_t n;
	const uint8_t *p = dhcp_opt(m, DHCP_OPT_VENDOR, &n);
	struct rd r = rd_init(p, p != NULL ? n : 0);

	while (rd_left(&r) > 0) {
		uint8_t code = rd_u8(&r);
		if (code == 255)
			break;
		if (code == 0)
			continue;
		uint8_t len = rd_u8(&r);
		const uint8_t *v = rd_take(&r, len);
		if (v == NULL) {
			printf("pxe_malformed=1\n");
			return;
		}
		probe_print_pxe_subopt(code, v, len);
	}
}

static void probe_print_reply(const struct dhcp_msg *m, const struct udp_meta *meta,
			      uint16_t local_port)
{
	char from[16], mac[18];
	printf("type=%s\n", dhcp_msg_type_name(dhcp_msg_type(m)));
	printf("xid=0x%08x\n", m->xid);
	printf("from=%s:%u\n", ip4_format(from, ntohl(meta->peer.sin_addr.s_addr)),
	       ntohs(meta->peer.sin_port));
	probe_print_ip("dst", meta->local_ip);
	printf("local_port=%u\n", local_port);
	printf("op=%u\n", m->op);
	printf("flags=0x%04x\n", m->flags);
	probe_print_ip("ciaddr", m->ciaddr);
	probe_print_ip("yiaddr", m->yiaddr);
	probe_print_ip("siaddr", m->siaddr);
	probe_print_ip("giaddr", m->giaddr);
	printf("chaddr=%s\n", mac_format(mac, m->chaddr));
	probe_print_field("sname", m->sname, sizeof(m->sname));
	probe_print_field("file", m->file, sizeof(m->file));
	probe_print_opts(m);
	probe_print_pxe(m);
	fflush(stdout);
}

/* ---- network ------------------------------------------------------------ */

static int probe_open(const struct probe_opts *o, uint16_t *local_port)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd = udp_open(0, o->from_port, o->iface, UDP_BROADCAST | UDP_REUSEADDR);
	if (fd < 0) {
		fprintf(stderr, "dhcp-probe: UDP port %u on %s: %s\n", o->from_port,
			o->iface != NULL ? o->iface : "any interface", strerror(-fd));
		return fd;
	}
	if (getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	*local_port = ntohs(sa.sin_port);
	return fd;
}

static int probe_send(int fd, const struct probe_opts *o, const uint8_t *buf, size_t len)
{
	int rc = udp_send(fd, buf, len, o->to, o->port, 0, 0);
	if (rc < 0)
		fprintf(stderr, "dhcp-probe: send %zu bytes: %s\n", len, strerror(-rc));
	return rc;
}

/*
 * Waits until deadline_us (monotonic) for a BOOTREPLY with our xid; anything
 * else that arrives (other clients' replies, our own broadcasts) is skipped.
 * Returns 0, -ETIMEDOUT, or -errno.
 */
static int probe_wait(int fd, uint32_t xid, uint64_t deadline_us, struct dhcp_msg *m,
		      struct udp_meta *meta)
{
	uint8_t buf[DHCP_MAX_LEN + 1];

	for (;;) {
		uint64_t now = now_mono_us();
		if (now >= deadline_us)
			return -ETIMEDOUT;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int ms = (int)((deadline_us - now + 999) / 1000);
		int r = poll(&p, 1, ms);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		ssize_t n = udp_recv(fd, buf, sizeof(buf), meta);
		if (n == -EAGAIN || n == -EINTR || n == -EMSGSIZE)
			continue;
		if (n < 0)
			return (int)n;
		if (dhcp_decode(buf, (size_t)n, m) != DHCP_OK)
			continue;
		if (m->op == DHCP_BOOTREPLY && m->xid == xid)
			return 0;
	}
}

/* ---- modes -------------------------------------------------------------- */

static int probe_dry_run(const struct probe_opts *o)
{
	uint8_t buf[DHCP_MAX_LEN];
	size_t end;
	int n = probe_build(o, o->msg_type, o->requested_ip, o->server_id, buf, sizeof(buf), &end);
	if (n < 0) {
		fprintf(stderr, "dhcp-probe: the message does not fit in %d bytes\n", DHCP_MAX_LEN);
		return PROBE_EXIT_USAGE;
	}
	printf("length=%d\noptions_end=%zu\nxid=0x%08x\n", n, end, o->xid);
	probe_print_hex("hex", buf, (size_t)n);
	return PROBE_EXIT_OK;
}

static const char *probe_drop_reason(const uint8_t *buf, size_t len)
{
	static const char *const keys[] = {
	    [DHCP_OK] = "ok",
	    [DHCP_ERR_SHORT] = "short",
	    [DHCP_ERR_TOO_LONG] = "too_long",
	    [DHCP_ERR_MAGIC] = "magic",
	    [DHCP_ERR_HLEN] = "hlen",
	    [DHCP_ERR_OPTION] = "option",
	    [DHCP_ERR_OPTION_LEN] = "option_len",
	    [DHCP_ERR_NO_TYPE] = "no_type",
	    [DHCP_ERR_NO_END] = "no_end",
	};
	static struct dhcp_msg m; /* large; this program is single-threaded */
	enum dhcp_decode_err e = dhcp_decode(buf, len, &m);
	if (e != DHCP_OK)
		return (size_t)e < PXED_ARRAY_LEN(keys) ? keys[e] : "other";
	/* pxed also drops what is not an Ethernet BOOTREQUEST. */
	if (m.op != DHCP_BOOTREQUEST || m.htype != 1 || m.hlen != 6)
		return "not_request";
	return NULL; /* a valid request: not garbage */
}

/*
 * One garbage datagram. Odd ones carry a plausible BOOTREQUEST header and the
 * magic cookie so that pxed's option scanner, not just the length check, is
 * fed random bytes. Anything that happens to decode as a valid request is
 * made again, so that every datagram sent is one pxed must drop.
 */
static size_t probe_garbage_one(const struct probe_opts *o, uint64_t *rng, long i, uint8_t *buf,
				const char **reason)
{
	size_t span = o->garbage_max - o->garbage_min + 1;
	for (;;) {
		size_t len = o->garbage_min + (size_t)(probe_rand(rng) % span);
		for (size_t k = 0; k < len; k++)
			buf[k] = (uint8_t)probe_rand(rng);
		if ((i & 1) && len >= DHCP_MIN_LEN) {
			buf[0] = DHCP_BOOTREQUEST, buf[1] = 1, buf[2] = 6;
			buf[236] = 0x63, buf[237] = 0x82, buf[238] = 0x53, buf[239] = 0x63;
		}
		if ((*reason = probe_drop_reason(buf, len)) != NULL)
			return len;
	}
}

static int probe_garbage(int fd, const struct probe_opts *o)
{
	static const char *const reasons[] = {"short",	 "too_long", "magic",
					      "hlen",	 "option",   "option_len",
					      "no_type", "no_end",   "not_request"};
	unsigned long count[PXED_ARRAY_LEN(reasons)] = {0};
	static uint8_t buf[PROBE_MAX_DATAGRAM];
	uint64_t rng = o->seed;

	for (long i = 0; i < o->garbage; i++) {
		const char *why;
		size_t len = probe_garbage_one(o, &rng, i, buf, &why);
		if (probe_send(fd, o, buf, len) < 0)
			return PROBE_EXIT_SYSTEM;
		for (size_t k = 0; k < PXED_ARRAY_LEN(reasons); k++)
			if (strcmp(why, reasons[k]) == 0)
				count[k]++;
		if (o->gap_us > 0)
			usleep(o->gap_us);
	}
	printf("seed=%llu\ngarbage_sent=%ld\n", (unsigned long long)o->seed, o->garbage);
	for (size_t k = 0; k < PXED_ARRAY_LEN(reasons); k++)
		printf("garbage_%s=%lu\n", reasons[k], count[k]);
	return PROBE_EXIT_OK;
}

/* Sends one message of type msg_type and waits for the matching reply. */
static int probe_exchange(int fd, const struct probe_opts *o, uint8_t msg_type,
			  uint32_t requested_ip, uint32_t server_id, struct dhcp_msg *reply,
			  struct udp_meta *meta, bool *waited)
{
	uint8_t buf[DHCP_MAX_LEN];
	size_t end;
	int n = probe_build(o, msg_type, requested_ip, server_id, buf, sizeof(buf), &end);
	if (n < 0) {
		fprintf(stderr, "dhcp-probe: the message does not fit in %d bytes\n", DHCP_MAX_LEN);
		return PROBE_EXIT_USAGE;
	}
	size_t len = (size_t)n;
	bool cut = o->truncate >= 0 && (size_t)o->truncate < len;
	if (cut)
		len = (size_t)o->truncate;
	if (probe_send(fd, o, buf, len) < 0)
		return PROBE_EXIT_SYSTEM;
	*waited = !(cut || o->no_wait || msg_type == DHCPRELEASE || msg_type == DHCPDECLINE);
	if (!*waited) {
		printf("sent=%zu\nlength=%d\nxid=0x%08x\n", len, n, o->xid);
		return PROBE_EXIT_OK;
	}
	int rc =
	    probe_wait(fd, o->xid, now_mono_us() + (uint64_t)o->timeout_ms * 1000, reply, meta);
	if (rc == -ETIMEDOUT) {
		fprintf(stderr, "dhcp-probe: no reply to the %s (xid 0x%08x) within %u ms\n",
			dhcp_msg_type_name(msg_type), o->xid, o->timeout_ms);
		return PROBE_EXIT_NO_REPLY;
	}
	if (rc < 0) {
		fprintf(stderr, "dhcp-probe: receive: %s\n", strerror(-rc));
		return PROBE_EXIT_SYSTEM;
	}
	return PROBE_EXIT_OK;
}

static int probe_run(int fd, const struct probe_opts *o, uint16_t local_port)
{
	static struct dhcp_msg reply; /* large */
	struct udp_meta meta;
	bool waited;

	int rc = probe_exchange(fd, o, o->msg_type, o->requested_ip, o->server_id, &reply, &meta,
				&waited);
	if (rc != PROBE_EXIT_OK || !waited)
		return rc;
	if (o->type == PROBE_DORA) {
		uint32_t sid;
		if (dhcp_msg_type(&reply) != DHCPOFFER || reply.yiaddr == 0 ||
		    !dhcp_opt_ip(&reply, DHCP_OPT_SERVER_ID, &sid)) {
			fprintf(stderr,
				"dhcp-probe: dora: the DISCOVER got a %s, not a usable OFFER\n",
				dhcp_msg_type_name(dhcp_msg_type(&reply)));
			probe_print_reply(&reply, &meta, local_port);
			return PROBE_EXIT_NO_REPLY;
		}
		probe_print_ip("offered", reply.yiaddr);
		rc = probe_exchange(fd, o, DHCPREQUEST, reply.yiaddr, sid, &reply, &meta, &waited);
		if (rc != PROBE_EXIT_OK || !waited)
			return rc;
	}
	probe_print_reply(&reply, &meta, local_port);
	return PROBE_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct probe_opts o;
	uint16_t local_port = 0;

	probe_parse(argc, argv, &o);
	if (o.dry_run)
		return probe_dry_run(&o);
	int fd = probe_open(&o, &local_port);
	if (fd < 0)
		return PROBE_EXIT_SYSTEM;
	int rc = o.garbage >= 0 ? probe_garbage(fd, &o) : probe_run(fd, &o, local_port);
	close(fd);
	return rc;
}
