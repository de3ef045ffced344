/*
 * dhcp-loadgen: a DHCPv4 load generator for bench/dhcp/run.sh.
 *
 * It plays a relay agent (RFC 2131 §4.1, RFC 1542 §4) in front of N PXE
 * clients: it binds UDP port 67 on the relay address, sends each client's
 * DISCOVER with giaddr = that address and hops = 1 to the server, then the
 * REQUEST for the address offered (server id from option 54), and counts the
 * exchange complete at the ACK. `concurrency` exchanges are in flight at any
 * time; a message unanswered after the timeout is sent again, and an
 * exchange whose message was sent `tries` times without an answer is lost.
 *
 * Latency is measured from the first DISCOVER of an exchange to its ACK, so
 * retransmissions count against the server. Every client has its own MAC
 * (02:PP:ii:ii:ii:ii, locally administered) and its own xid (base + index).
 *
 * Bounded: at most LG_MAX_CLIENTS clients, LG_MAX_CONCURRENCY in flight,
 * and the whole run stops after --max-seconds whatever is left.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common.h"
#include "core/util.h"
#include "dhcp/wire.h"

#define LG_MAX_CLIENTS 4000000u
#define LG_MAX_CONCURRENCY 65536u
#define LG_RX_BATCH 64
#define LG_NONE UINT32_MAX
/* Enough for 64k replies in flight: the server must never lose one to us. */
#define LG_SOCKBUF (16 * 1024 * 1024)

/* What a PXE ROM sends: an x64 UEFI client with UNDI 3.0 (RFC 4578, PXE 2.1). */
#define LG_VENDOR_CLASS "PXEClient:Arch:00007:UNDI:003000"
#define LG_ARCH 7
static const uint8_t lg_params[] = {1,	2,  3,	4,   5,	  6,   12,  13,	 15,  17,  18, 22,
				    23, 28, 40, 41,  42,  43,  50,  51,	 54,  58,  59, 60,
				    66, 67, 97, 128, 129, 130, 131, 132, 133, 134, 135};
static const uint8_t lg_ndi[3] = {1, 3, 0}; /* option 94: UNDI 3.0 */

enum lg_state {
	LG_WAITING, /* not started yet */
	LG_SELECTING,
	LG_REQUESTING,
	LG_DONE,
	LG_NAKED,
	LG_LOST,
};

struct lg_client {
	uint8_t state;
	uint8_t tries;	    /* sends of the current message */
	uint32_t offered;   /* yiaddr of the OFFER, then of the ACK */
	uint32_t server_id; /* option 54 of the OFFER */
	uint64_t start_us;  /* first DISCOVER */
	uint64_t deadline_us;
	uint32_t prev, next; /* in the deadline list while in flight */
};

struct lg_opts {
	uint32_t relay, server;
	uint16_t port;
	uint32_t clients, concurrency;
	uint32_t timeout_ms, tries, max_seconds;
	uint8_t mac_prefix;
	bool json, progress;
	const char *label;
};

struct lg_stats {
	uint64_t sent, retransmits, rx, rx_ignored, naks, lost, completed, noboot;
	uint64_t first_us, last_us;
};

struct lg {
	struct lg_opts o;
	int fd, ep;
	uint32_t xid_base;
	struct lg_client *c;
	uint32_t *latency_us; /* of completed exchanges, in completion order */
	uint32_t next_start, in_flight;
	/* Every in-flight client, by deadline: one timeout, so sends append. */
	uint32_t head, tail;
	struct lg_stats st;
	struct dhcp_msg msg;			   /* the reply being read */
	uint8_t rx[LG_RX_BATCH][DHCP_MAX_LEN + 1]; /* one recvmmsg's datagrams */
};

static const char usage_text[] =
    "usage: dhcp-loadgen --relay ADDR --server ADDR [OPTIONS]\n"
    "\n"
    "Acts as a DHCP relay agent for --clients PXE clients: binds ADDR:67, sends\n"
    "DISCOVER then REQUEST with giaddr ADDR, hops 1, to the server, and reports\n"
    "completed exchanges (ACKs) per second, latency and losses.\n"
    "\n"
    "  --relay ADDR         the relay's address (giaddr; bound, port 67)\n"
    "  --server ADDR        where to send (the DHCP server)\n"
    "  --port N             the server's port (default 67)\n"
    "  --clients N          number of clients, each with its own MAC (default 1000)\n"
    "  --concurrency N      exchanges in flight (default 1)\n"
    "  --timeout-ms N       retransmit after this long (default 1000)\n"
    "  --tries N            sends of each message before the exchange is lost (default 3)\n"
    "  --max-seconds N      stop the whole run after this long (default 1800)\n"
    "  --mac-prefix N       second byte of every MAC, 0-255 (default 0)\n"
    "  --label TEXT         a name printed with the results (e.g. the server)\n"
    "  --json               print the results as one JSON object too\n"
    "  --progress           a progress line on stderr every 5 s\n"
    "\n"
    "Output: one line of key=value pairs. Exit status 0 when the run happened\n"
    "(whatever the losses), 2 usage error, 3 system error.\n";

/* ---- time and the deadline list ----------------------------------------- */

static void lg_list_unlink(struct lg *g, uint32_t i)
{
	struct lg_client *c = &g->c[i];
	if (c->prev != LG_NONE)
		g->c[c->prev].next = c->next;
	else if (g->head == i)
		g->head = c->next;
	if (c->next != LG_NONE)
		g->c[c->next].prev = c->prev;
	else if (g->tail == i)
		g->tail = c->prev;
	c->prev = c->next = LG_NONE;
}

/* Re-arms i's timer: with one timeout for all, the newest deadline is the last. */
static void lg_list_append(struct lg *g, uint32_t i, uint64_t now)
{
	struct lg_client *c = &g->c[i];
	lg_list_unlink(g, i);
	c->deadline_us = now + (uint64_t)g->o.timeout_ms * 1000;
	c->prev = g->tail;
	if (g->tail != LG_NONE)
		g->c[g->tail].next = i;
	else
		g->head = i;
	g->tail = i;
}

/* ---- messages ----------------------------------------------------------- */

static void lg_mac(const struct lg *g, uint32_t i, uint8_t mac[16])
{
	memset(mac, 0, 16);
	mac[0] = 0x02; /* locally administered, unicast */
	mac[1] = g->o.mac_prefix;
	mac[2] = (uint8_t)(i >> 24);
	mac[3] = (uint8_t)(i >> 16);
	mac[4] = (uint8_t)(i >> 8);
	mac[5] = (uint8_t)i;
}

/* The options every PXE ROM sends in DISCOVER and REQUEST (PXE 2.1 §2.2.1). */
static void lg_put_pxe_opts(struct dhcp_builder *b, const uint8_t mac[16])
{
	uint8_t uuid[17] = {0}; /* option 97: type 0, then a 16-byte UUID */
	memcpy(uuid + 11, mac, 6);
	/* Unique per client: the version 4 and variant bits, then the MAC at the end. */
	uuid[7] = 0x40;
	uuid[9] = 0x80;
	uint8_t max[2] = {1500 >> 8, 1500 & 0xff}; /* option 57 */
	dhcp_build_opt(b, DHCP_OPT_MAX_SIZE, max, sizeof(max));
	dhcp_build_opt(b, DHCP_OPT_PARAM_LIST, lg_params, sizeof(lg_params));
	uint8_t arch[2] = {0, LG_ARCH};
	dhcp_build_opt(b, DHCP_OPT_CLIENT_ARCH, arch, sizeof(arch));
	dhcp_build_opt(b, DHCP_OPT_CLIENT_NDI, lg_ndi, sizeof(lg_ndi));
	dhcp_build_opt(b, DHCP_OPT_UUID, uuid, sizeof(uuid));
	dhcp_build_opt_str(b, DHCP_OPT_VENDOR_CLASS, LG_VENDOR_CLASS);
}

static int lg_build(const struct lg *g, uint32_t i, uint8_t type, uint8_t *out, size_t cap)
{
	const struct lg_client *c = &g->c[i];
	uint8_t mac[16];
	struct dhcp_builder b;
	uint64_t secs = c->start_us != 0 ? (now_mono_us() - c->start_us) / 1000000 : 0;

	lg_mac(g, i, mac);
	struct dhcp_reply_hdr h = {.op = DHCP_BOOTREQUEST,
				   .htype = 1,
				   .hlen = 6,
				   .hops = 1,
				   .xid = g->xid_base + i,
				   .secs = (uint16_t)(secs > 0xffff ? 0xffff : secs),
				   .giaddr = g->o.relay,
				   .chaddr = mac};
	dhcp_build_start(&b, out, cap, &h);
	dhcp_build_opt_u8(&b, DHCP_OPT_MSG_TYPE, type);
	if (type == DHCPREQUEST) {
		dhcp_build_opt_ip(&b, DHCP_OPT_REQUESTED_IP, c->offered);
		dhcp_build_opt_ip(&b, DHCP_OPT_SERVER_ID, c->server_id);
	}
	lg_put_pxe_opts(&b, mac);
	return dhcp_build_finish(&b);
}

static int lg_send(struct lg *g, uint32_t i, uint64_t now)
{
	struct lg_client *c = &g->c[i];
	uint8_t buf[DHCP_MAX_LEN];
	uint8_t type = c->state == LG_SELECTING ? DHCPDISCOVER : DHCPREQUEST;
	int n = lg_build(g, i, type, buf, sizeof(buf));
	if (n < 0)
		return n;
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(g->o.port),
				 .sin_addr.s_addr = htonl(g->o.server)};
	/*
	 * A full socket buffer is not the server's fault; treat it as sent and
	 * let the retransmission timer cover it, as a real relay would.
	 */
	if (sendto(g->fd, buf, (size_t)n, 0, (struct sockaddr *)&to, sizeof(to)) < 0 &&
	    errno != EAGAIN && errno != ENOBUFS)
		return -errno;
	c->tries++;
	g->st.sent++;
	if (c->tries > 1)
		g->st.retransmits++;
	lg_list_append(g, i, now);
	return 0;
}

/* ---- the exchange's state machine -------------------------------------- */

/* Ends an exchange in `state` and frees its slot. */
static void lg_finish(struct lg *g, uint32_t i, enum lg_state state, uint64_t now)
{
	struct lg_client *c = &g->c[i];
	lg_list_unlink(g, i);
	c->state = (uint8_t)state;
	g->in_flight--;
	g->st.last_us = now;
	if (state == LG_DONE) {
		uint64_t lat = now - c->start_us;
		g->latency_us[g->st.completed++] = lat > UINT32_MAX ? UINT32_MAX : (uint32_t)lat;
	} else if (state == LG_NAKED) {
		g->st.naks++;
	} else {
		g->st.lost++;
	}
}

static int lg_start(struct lg *g, uint32_t i, uint64_t now)
{
	struct lg_client *c = &g->c[i];
	c->state = LG_SELECTING;
	c->tries = 0;
	c->start_us = now;
	if (g->st.first_us == 0)
		g->st.first_us = now;
	g->in_flight++;
	return lg_send(g, i, now);
}

static int lg_on_offer(struct lg *g, uint32_t i, const struct dhcp_msg *m, uint64_t now)
{
	struct lg_client *c = &g->c[i];
	uint32_t sid;
	if (c->state != LG_SELECTING || m->yiaddr == 0)
		return 1; /* a late OFFER for a retransmitted DISCOVER */
	if (!dhcp_opt_ip(m, DHCP_OPT_SERVER_ID, &sid))
		sid = g->o.server;
	c->offered = m->yiaddr;
	c->server_id = sid;
	c->state = LG_REQUESTING;
	c->tries = 0;
	return lg_send(g, i, now);
}

/* A PXE client boots only if the reply names a file (field or option 67). */
static bool lg_has_boot_file(const struct dhcp_msg *m)
{
	size_t len = 0;
	return (m->file[0] != '\0' && !m->overload_file) ||
	       (dhcp_opt(m, DHCP_OPT_BOOTFILE, &len) != NULL && len > 0);
}

static int lg_on_ack(struct lg *g, uint32_t i, const struct dhcp_msg *m, uint64_t now)
{
	struct lg_client *c = &g->c[i];
	if (c->state != LG_REQUESTING)
		return 1;
	c->offered = m->yiaddr;
	if (!lg_has_boot_file(m))
		g->st.noboot++;
	lg_finish(g, i, LG_DONE, now);
	return 0;
}

/* Returns 0 when the reply moved an exchange, 1 when it was ignored, -errno. */
static int lg_on_reply(struct lg *g, const uint8_t *buf, size_t len, uint64_t now)
{
	struct dhcp_msg *m = &g->msg;
	uint8_t mac[16];

	if (dhcp_decode(buf, len, m) != DHCP_OK || m->op != DHCP_BOOTREPLY)
		return 1;
	uint32_t i = m->xid - g->xid_base;
	if (i >= g->o.clients)
		return 1;
	lg_mac(g, i, mac);
	if (memcmp(m->chaddr, mac, 6) != 0)
		return 1;
	switch (dhcp_msg_type(m)) {
	case DHCPOFFER:
		return lg_on_offer(g, i, m, now);
	case DHCPACK:
		return lg_on_ack(g, i, m, now);
	case DHCPNAK:
		if (g->c[i].state != LG_REQUESTING && g->c[i].state != LG_SELECTING)
			return 1;
		lg_finish(g, i, LG_NAKED, now);
		return 0;
	default:
		return 1;
	}
}

static int lg_expire(struct lg *g, uint64_t now)
{
	while (g->head != LG_NONE && g->c[g->head].deadline_us <= now) {
		uint32_t i = g->head;
		int rc;
		if (g->c[i].tries >= g->o.tries)
			lg_finish(g, i, LG_LOST, now);
		else if ((rc = lg_send(g, i, now)) < 0)
			return rc;
	}
	return 0;
}

/* ---- sockets and the loop ----------------------------------------------- */

static int lg_drain(struct lg *g)
{
	uint8_t(*bufs)[DHCP_MAX_LEN + 1] = g->rx;
	struct mmsghdr mm[LG_RX_BATCH];
	struct iovec iov[LG_RX_BATCH];

	for (;;) {
		for (int k = 0; k < LG_RX_BATCH; k++) {
			iov[k] = (struct iovec){.iov_base = bufs[k], .iov_len = sizeof(bufs[k])};
			mm[k] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[k], .msg_iovlen = 1}};
		}
		int n = recvmmsg(g->fd, mm, LG_RX_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0
											 : -errno;
		uint64_t now = now_mono_us();
		for (int k = 0; k < n; k++) {
			g->st.rx++;
			int rc = lg_on_reply(g, bufs[k], mm[k].msg_len, now);
			if (rc < 0)
				return rc;
			if (rc > 0)
				g->st.rx_ignored++;
		}
		if (n < LG_RX_BATCH)
			return 0;
	}
}

static int lg_open(struct lg *g)
{
	int one = 1, size = LG_SOCKBUF;
	g->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (g->fd < 0)
		return -errno;
	/* FORCE needs CAP_NET_ADMIN; without it the kernel caps at rmem_max. */
	if (setsockopt(g->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(g->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(g->fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(g->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	setsockopt(g->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Relay agents send from and listen on port 67 (RFC 1542 §4.1). */
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_port = htons(67), .sin_addr.s_addr = htonl(g->o.relay)};
	if (bind(g->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	g->ep = epoll_create1(EPOLL_CLOEXEC);
	if (g->ep < 0)
		return -errno;
	struct epoll_event ev = {.events = EPOLLIN};
	if (epoll_ctl(g->ep, EPOLL_CTL_ADD, g->fd, &ev) < 0)
		return -errno;
	return 0;
}

static void lg_progress(struct lg *g, uint64_t now, uint64_t *next_us)
{
	if (!g->o.progress || now < *next_us)
		return;
	*next_us = now + 5000000;
	fprintf(stderr,
		"loadgen: %s%s%" PRIu64 "/%" PRIu32 " completed, %" PRIu64 " lost, %" PRIu64
		" naks, %" PRIu32 " in flight\n",
		g->o.label ? g->o.label : "", g->o.label ? ": " : "", g->st.completed, g->o.clients,
		g->st.lost, g->st.naks, g->in_flight);
}

static int lg_run(struct lg *g)
{
	uint64_t now = now_mono_us();
	uint64_t end = now + (uint64_t)g->o.max_seconds * 1000000;
	uint64_t next_progress = now + 5000000;
	struct epoll_event ev;
	int rc;

	while (now < end && (g->next_start < g->o.clients || g->in_flight > 0)) {
		while (g->in_flight < g->o.concurrency && g->next_start < g->o.clients)
			if ((rc = lg_start(g, g->next_start++, now)) < 0)
				return rc;
		uint64_t wake = g->head != LG_NONE ? g->c[g->head].deadline_us : end;
		if (wake > end)
			wake = end;
		int ms = wake > now ? (int)((wake - now + 999) / 1000) : 0;
		int n = epoll_wait(g->ep, &ev, 1, ms);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0 && (rc = lg_drain(g)) < 0)
			return rc;
		now = now_mono_us();
		if ((rc = lg_expire(g, now)) < 0)
			return rc;
		lg_progress(g, now, &next_progress);
	}
	return 0;
}

/* ---- results ------------------------------------------------------------ */

/* Addresses ACKed to two clients: a server bug whatever the speed. */
static uint64_t lg_dup_addrs(const struct lg *g)
{
	uint32_t *ips = malloc(sizeof(*ips) * (g->st.completed + 1));
	uint64_t n = 0, dups = 0;
	if (ips == NULL)
		return 0;
	for (uint32_t i = 0; i < g->o.clients; i++)
		if (g->c[i].state == LG_DONE)
			ips[n++] = g->c[i].offered;
	qsort(ips, n, sizeof(*ips), bench_cmp_u32);
	for (uint64_t k = 1; k < n; k++)
		dups += ips[k] == ips[k - 1];
	free(ips);
	return dups;
}

/* One figure of the report: an integer, or a float printed with 3 or 1 decimals. */
struct lg_field {
	const char *name;
	int decimals; /* -1: integer */
	uint64_t u;
	double d;
};

static void lg_print(const char *label, const struct lg_field *f, size_t n, bool json)
{
	printf(json ? "{\"server\":\"%s\"" : "server=%s", label);
	for (size_t k = 0; k < n; k++) {
		printf(json ? ",\"%s\":" : " %s=", f[k].name);
		if (f[k].decimals < 0)
			printf("%" PRIu64, f[k].u);
		else
			printf("%.*f", f[k].decimals, f[k].d);
	}
	printf(json ? "}\n" : "\n");
}

static void lg_report(struct lg *g)
{
	struct lg_stats *s = &g->st;
	double dur = s->last_us > s->first_us ? (s->last_us - s->first_us) / 1e6 : 0;
	uint32_t *lat = g->latency_us;

	qsort(lat, s->completed, sizeof(*lat), bench_cmp_u32);
	const struct lg_field f[] = {
	    {"clients", -1, g->o.clients, 0},
	    {"concurrency", -1, g->o.concurrency, 0},
	    {"completed", -1, s->completed, 0},
	    {"lost", -1, s->lost, 0},
	    {"naks", -1, s->naks, 0},
	    {"unfinished", -1, g->o.clients - s->completed - s->lost - s->naks, 0},
	    {"duration_s", 3, 0, dur},
	    {"rate", 1, 0, dur > 0 ? s->completed / dur : 0},
	    {"p50_ms", 3, 0, bench_pct_ms(lat, s->completed, 0.50)},
	    {"p99_ms", 3, 0, bench_pct_ms(lat, s->completed, 0.99)},
	    {"max_ms", 3, 0, s->completed ? lat[s->completed - 1] / 1000.0 : 0},
	    {"sent", -1, s->sent, 0},
	    {"retransmits", -1, s->retransmits, 0},
	    {"ignored", -1, s->rx_ignored, 0},
	    {"dup_addrs", -1, lg_dup_addrs(g), 0},
	    {"noboot", -1, s->noboot, 0},
	};
	const char *label = g->o.label ? g->o.label : "-";
	lg_print(label, f, PXED_ARRAY_LEN(f), false);
	if (g->o.json)
		lg_print(label, f, PXED_ARRAY_LEN(f), true);
	fflush(stdout);
}

/* ---- command line ------------------------------------------------------- */

enum {
	OPT_RELAY = 256,
	OPT_SERVER,
	OPT_PORT,
	OPT_CLIENTS,
	OPT_CONCURRENCY,
	OPT_TIMEOUT_MS,
	OPT_TRIES,
	OPT_MAX_SECONDS,
	OPT_MAC_PREFIX,
	OPT_LABEL,
	OPT_JSON,
	OPT_PROGRESS,
	OPT_HELP,
};

static const struct option lg_long_opts[] = {
    {"relay", required_argument, NULL, OPT_RELAY},
    {"server", required_argument, NULL, OPT_SERVER},
    {"port", required_argument, NULL, OPT_PORT},
    {"clients", required_argument, NULL, OPT_CLIENTS},
    {"concurrency", required_argument, NULL, OPT_CONCURRENCY},
    {"timeout-ms", required_argument, NULL, OPT_TIMEOUT_MS},
    {"tries", required_argument, NULL, OPT_TRIES},
    {"max-seconds", required_argument, NULL, OPT_MAX_SECONDS},
    {"mac-prefix", required_argument, NULL, OPT_MAC_PREFIX},
    {"label", required_argument, NULL, OPT_LABEL},
    {"json", no_argument, NULL, OPT_JSON},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static int lg_addr(const char *name, const char *s, uint32_t *out)
{
	if (ip4_parse(s, out) < 0 || *out == 0) {
		fprintf(stderr, "dhcp-loadgen: --%s: '%s' is not an IPv4 address\n", name, s);
		return -EINVAL;
	}
	return 0;
}

static int lg_opt(struct lg_opts *o, int opt, const char *arg)
{
	uint32_t v = 0;
	int rc = 0;
	switch (opt) {
	case OPT_RELAY:
		return lg_addr("relay", arg, &o->relay);
	case OPT_SERVER:
		return lg_addr("server", arg, &o->server);
	case OPT_PORT:
		rc = bench_num("dhcp-loadgen", "port", arg, 1, 65535, &v);
		o->port = (uint16_t)v;
		return rc;
	case OPT_CLIENTS:
		return bench_num("dhcp-loadgen", "clients", arg, 1, LG_MAX_CLIENTS, &o->clients);
	case OPT_CONCURRENCY:
		return bench_num("dhcp-loadgen", "concurrency", arg, 1, LG_MAX_CONCURRENCY,
				 &o->concurrency);
	case OPT_TIMEOUT_MS:
		return bench_num("dhcp-loadgen", "timeout-ms", arg, 1, 60000, &o->timeout_ms);
	case OPT_TRIES:
		return bench_num("dhcp-loadgen", "tries", arg, 1, 20, &o->tries);
	case OPT_MAX_SECONDS:
		return bench_num("dhcp-loadgen", "max-seconds", arg, 1, 86400, &o->max_seconds);
	case OPT_MAC_PREFIX:
		rc = bench_num("dhcp-loadgen", "mac-prefix", arg, 0, 255, &v);
		o->mac_prefix = (uint8_t)v;
		return rc;
	case OPT_LABEL:
		o->label = arg;
		return 0;
	case OPT_JSON:
		o->json = true;
		return 0;
	case OPT_PROGRESS:
		o->progress = true;
		return 0;
	default:
		return -EINVAL;
	}
}

static int lg_parse(int argc, char **argv, struct lg_opts *o)
{
	int opt;
	*o = (struct lg_opts){.port = 67,
			      .clients = 1000,
			      .concurrency = 1,
			      .timeout_ms = 1000,
			      .tries = 3,
			      .max_seconds = 1800};
	while ((opt = getopt_long(argc, argv, "", lg_long_opts, NULL)) != -1) {
		if (opt == OPT_HELP) {
			fputs(usage_text, stdout);
			exit(0);
		}
		if (lg_opt(o, opt, optarg) < 0)
			return -EINVAL;
	}
	if (optind != argc || o->relay == 0 || o->server == 0) {
		fputs(usage_text, stderr);
		return -EINVAL;
	}
	for (const char *p = o->label; p != NULL && *p; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20 || *p == ' ') {
			fprintf(stderr, "dhcp-loadgen: --label: no spaces, quotes or controls\n");
			return -EINVAL;
		}
	return 0;
}

int main(int argc, char **argv)
{
	struct lg *g = calloc(1, sizeof(*g));
	int rc;

	if (g == NULL || lg_parse(argc, argv, &g->o) < 0)
		return 2;
	g->head = g->tail = LG_NONE;
	g->fd = g->ep = -1;
	g->c = calloc(g->o.clients, sizeof(*g->c));
	g->latency_us = calloc(g->o.clients, sizeof(*g->latency_us));
	if (g->c == NULL || g->latency_us == NULL) {
		fprintf(stderr, "dhcp-loadgen: out of memory\n");
		return 3;
	}
	for (uint32_t i = 0; i < g->o.clients; i++)
		g->c[i].prev = g->c[i].next = LG_NONE;
	if (getrandom(&g->xid_base, sizeof(g->xid_base), 0) != sizeof(g->xid_base))
		g->xid_base = (uint32_t)now_mono_us();
	if ((rc = lg_open(g)) < 0 || (rc = lg_run(g)) < 0) {
		fprintf(stderr, "dhcp-loadgen: %s\n", strerror(-rc));
		return 3;
	}
	lg_report(g);
	return 0;
}
