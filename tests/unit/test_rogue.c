/*
 * Rogue DHCP detection: the packet helpers (byte vectors, every truncated
 * prefix), the probe, the classification of replies (own, another server,
 * relayed), the table's bounds and the hourly rate limit of reports, the
 * socket-less handler, and the DHCP server ignoring pxed's own probe.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conf/config.h"
#include "core/util.h"
#include "dhcp/rogue.h"
#include "dhcp/server.h"
#include "dhcp/wire.h"
#include "obs/obs.h"
#include "pxed.h"
#include "store/store.h"

#define OWN 0x0a000001u	   /* 10.0.0.1: pxed */
#define OTHER 0x0a000002u  /* 10.0.0.2: another server on the link */
#define REMOTE 0x0a090909u /* 10.9.9.9: a server behind a relay */
#define RELAY 0x0a0000feu  /* 10.0.0.254: the relay's address on the link */
#define MIN_US 60000000ull
#define HOUR_US (60 * MIN_US)

static const uint8_t other_mac[6] = {0x52, 0x54, 0x00, 0xbb, 0x00, 0x02};
static const uint8_t relay_mac[6] = {0x52, 0x54, 0x00, 0xbb, 0x00, 0xfe};
static const uint8_t if_mac[6] = {0x52, 0x54, 0x00, 0xaa, 0x00, 0x01};

/* ---- building replies ------------------------------------------------------- */

struct reply {
	uint8_t op; /* 0: BOOTREPLY */
	uint8_t type;
	uint32_t sid; /* option 54; 0: none */
	uint32_t yiaddr, giaddr;
	uint8_t client;	       /* last byte of the client's MAC 52:54:00:cc:00:xx */
	const uint8_t *chaddr; /* instead of client */
};

static size_t build_dhcp(uint8_t *buf, size_t cap, const struct reply *r)
{
	uint8_t chaddr[16] = {0x52, 0x54, 0x00, 0xcc, 0x00, r->client};
	if (r->chaddr != NULL)
		memcpy(chaddr, r->chaddr, 6);
	struct dhcp_reply_hdr h = {.op = r->op ? r->op : DHCP_BOOTREPLY,
				   .htype = 1,
				   .hlen = 6,
				   .xid = 0x12345678,
				   .yiaddr = r->yiaddr,
				   .giaddr = r->giaddr,
				   .chaddr = chaddr};
	struct dhcp_builder b;
	dhcp_build_start(&b, buf, cap, &h);
	dhcp_build_opt_u8(&b, DHCP_OPT_MSG_TYPE, r->type);
	if (r->sid != 0)
		dhcp_build_opt_ip(&b, DHCP_OPT_SERVER_ID, r->sid);
	int n = dhcp_build_finish(&b);
	assert_true(n > 0);
	return (size_t)n;
}

static void decode(const struct reply *r, struct dhcp_msg *m)
{
	uint8_t buf[DHCP_MAX_LEN];
	size_t n = build_dhcp(buf, sizeof(buf), r);
	assert_int_equal(dhcp_decode(buf, n, m), DHCP_OK);
}

/* An IPv4 packet: src:sport -> 255.255.255.255:dport around n bytes of payload. */
static size_t wrap_udp(uint8_t *pkt, uint32_t src, uint16_t sport, uint16_t dport,
		       const uint8_t *payload, size_t n)
{
	size_t total = 28 + n;
	memset(pkt, 0, 28);
	pkt[0] = 0x45;
	pkt[2] = (uint8_t)(total >> 8), pkt[3] = (uint8_t)total;
	pkt[8] = 64, pkt[9] = 17;
	pkt[12] = (uint8_t)(src >> 24), pkt[13] = (uint8_t)(src >> 16);
	pkt[14] = (uint8_t)(src >> 8), pkt[15] = (uint8_t)src;
	memset(pkt + 16, 0xff, 4);
	pkt[20] = (uint8_t)(sport >> 8), pkt[21] = (uint8_t)sport;
	pkt[22] = (uint8_t)(dport >> 8), pkt[23] = (uint8_t)dport;
	pkt[24] = (uint8_t)((8 + n) >> 8), pkt[25] = (uint8_t)(8 + n);
	memcpy(pkt + 28, payload, n);
	return total;
}

static struct rogue_seen seen_at(uint32_t src_ip, const uint8_t mac[6], unsigned ifindex,
				 uint64_t mono_us)
{
	struct rogue_seen s = {.src_ip = src_ip,
			       .ifindex = ifindex,
			       .ifname = ifindex == 1 ? "t0" : "t1",
			       .wall_us = 1700000000000000ull + mono_us,
			       .mono_us = mono_us};
	memcpy(s.src_mac, mac, 6);
	return s;
}

static enum rogue_verdict note(struct rogue_table *t, const struct reply *r,
			       const struct rogue_seen *s, const struct rogue_entry **e)
{
	struct dhcp_msg m;
	decode(r, &m);
	return rogue_table_note(t, &m, s, e);
}

/* ---- packets ---------------------------------------------------------------- */

static void test_parse_udp_vectors(void **state)
{
	static const uint8_t payload[4] = {1, 2, 3, 4};
	uint8_t good[64];
	size_t n = wrap_udp(good, OTHER, 67, 68, payload, sizeof(payload));
	struct rogue_udp u;

	assert_int_equal(rogue_parse_udp(good, n, &u), 0);
	assert_int_equal(u.src_ip, OTHER);
	assert_int_equal(u.dst_ip, 0xffffffffu);
	assert_int_equal(u.src_port, 67);
	assert_int_equal(u.dst_port, 68);
	assert_int_equal(u.len, 4);
	assert_memory_equal(u.payload, payload, 4);
	/* Ethernet pads short frames: bytes past the IP total length are not data. */
	assert_int_equal(rogue_parse_udp(good, n + 10, &u), 0);
	assert_int_equal(u.len, 4);

	static const struct {
		const char *what;
		size_t at;
		uint8_t value;
	} bad[] = {
	    {"IPv6 version", 0, 0x65},
	    {"header under 20 bytes", 0, 0x44},
	    {"header longer than the packet", 0, 0x4f},
	    {"TCP", 9, 6},
	    {"more fragments", 6, 0x20},
	    {"fragment offset", 7, 0x01},
	    {"total length past the packet", 3, 200},
	    {"total length under the headers", 3, 27},
	    {"UDP length under 8", 25, 7},
	    {"UDP length past the IP packet", 25, 13},
	};
	for (size_t i = 0; i < PXED_ARRAY_LEN(bad); i++) {
		uint8_t p[64];
		memcpy(p, good, n);
		p[bad[i].at] = bad[i].value;
		print_message("%s\n", bad[i].what);
		assert_int_equal(rogue_parse_udp(p, n, &u), -EINVAL);
	}

	/* IP options: the UDP header follows the whole IP header. */
	uint8_t opt[64] = {0x46, 0, 0, 36, 0, 0, 0, 0, 64, 17};
	opt[12] = 10, opt[15] = 2;
	memset(opt + 16, 0xff, 4);
	opt[24] = 0, opt[25] = 67, opt[26] = 0, opt[27] = 68, opt[29] = 12;
	assert_int_equal(rogue_parse_udp(opt, 36, &u), 0);
	assert_int_equal(u.src_port, 67);
	assert_int_equal(u.dst_port, 68);
	assert_int_equal(u.len, 4);
}

static void test_parse_udp_truncated(void **state)
{
	uint8_t dhcp[DHCP_MAX_LEN], pkt[DHCP_MAX_LEN + 28];
	struct rogue_udp u;
	size_t n = wrap_udp(
	    pkt, OTHER, 67, 68, dhcp,
	    build_dhcp(dhcp, sizeof(dhcp), &(struct reply){.type = DHCPOFFER, .sid = OTHER}));

	assert_int_equal(rogue_parse_udp(pkt, n, &u), 0);
	for (size_t len = 0; len < n; len++)
		assert_int_equal(rogue_parse_udp(pkt, len, &u), -EINVAL);
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint32_t sum16(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static void test_probe(void **state)
{
	uint8_t pkt[ROGUE_PROBE_MAX], pmac[6];
	struct rogue_udp u;
	struct dhcp_msg m;
	size_t len;

	rogue_probe_mac(if_mac, pmac);
	int n = rogue_probe_build(pkt, sizeof(pkt), pmac, 0xdeadbeef);
	assert_true(n >= 28 + DHCP_MIN_REPLY_LEN);
	assert_int_equal(rogue_parse_udp(pkt, (size_t)n, &u), 0);
	assert_int_equal(u.src_ip, 0);
	assert_int_equal(u.dst_ip, 0xffffffffu);
	assert_int_equal(u.src_port, 68);
	assert_int_equal(u.dst_port, 67);
	/* Both checksums verify: the header sums to 0xffff, UDP with its pseudo-header too. */
	assert_int_equal(fold(sum16(pkt, 20)), 0xffff);
	uint32_t pseudo = sum16(pkt + 12, 8) + 17 + (uint32_t)u.len + 8;
	assert_int_equal(fold(pseudo + sum16(pkt + 20, u.len + 8)), 0xffff);

	assert_int_equal(dhcp_decode(u.payload, u.len, &m), DHCP_OK);
	assert_int_equal(m.op, DHCP_BOOTREQUEST);
	assert_int_equal(dhcp_msg_type(&m), DHCPDISCOVER);
	assert_int_equal(m.xid, 0xdeadbeef);
	assert_int_equal(m.flags, DHCP_FLAG_BROADCAST);
	assert_int_equal(m.ciaddr, 0);
	assert_memory_equal(m.chaddr, pmac, 6);
	/* No address asked for: nothing a server would then keep for the probe. */
	assert_null(dhcp_opt(&m, DHCP_OPT_REQUESTED_IP, NULL));
	const uint8_t *vc = dhcp_opt(&m, DHCP_OPT_VENDOR_CLASS, &len);
	assert_non_null(vc);
	assert_int_equal(len, strlen(ROGUE_PROBE_VENDOR_CLASS));
	assert_memory_equal(vc, ROGUE_PROBE_VENDOR_CLASS, len);

	/* Too small a buffer. */
	assert_int_equal(rogue_probe_build(pkt, 27, pmac, 1), -ENOSPC);
	assert_int_equal(rogue_probe_build(pkt, 28 + 200, pmac, 1), -ENOSPC);
}

static void test_probe_mac(void **state)
{
	static const uint8_t macs[][6] = {
	    {0x52, 0x54, 0x00, 0xaa, 0x00, 0x01}, {0x00, 0x1b, 0x21, 0x01, 0x02, 0x03},
	    {0x02, 0x00, 0x00, 0x00, 0x00, 0x01}, {0x06, 0x11, 0x22, 0x33, 0x44, 0x55},
	    {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff}, {0xb8, 0x27, 0xeb, 0x00, 0x00, 0x00},
	};
	for (size_t i = 0; i < PXED_ARRAY_LEN(macs); i++) {
		uint8_t a[6], b[6];
		rogue_probe_mac(macs[i], a);
		rogue_probe_mac(macs[i], b);
		assert_memory_equal(a, b, 6); /* fixed: the same probe MAC every time */
		assert_memory_not_equal(a, macs[i], 6);
		assert_true(a[0] & 0x02);  /* locally administered */
		assert_false(a[0] & 0x01); /* unicast */
		assert_memory_equal(a + 1, macs[i] + 1, 5);
	}
}

/* ---- classification --------------------------------------------------------- */

static void test_classify(void **state)
{
	struct rogue_table t;
	const struct rogue_entry *e;
	struct rogue_seen s = seen_at(OTHER, other_mac, 1, 1000);

	rogue_table_init(&t);
	assert_int_equal(rogue_table_add_own(&t, OWN), 0);

	/* pxed's own replies: by option 54, or by source without it. */
	assert_int_equal(note(&t, &(struct reply){.type = DHCPOFFER, .sid = OWN}, &s, &e),
			 ROGUE_OWN);
	struct rogue_seen own_src = seen_at(OWN, if_mac, 1, 1000);
	assert_int_equal(note(&t, &(struct reply){.type = DHCPACK}, &own_src, &e), ROGUE_OWN);
	/* Requests, and replies that are not OFFER, ACK or NAK, are nobody's. */
	assert_int_equal(note(&t, &(struct reply){.op = 1, .type = DHCPDISCOVER}, &s, &e),
			 ROGUE_NOT_REPLY);
	assert_int_equal(
	    note(&t, &(struct reply){.op = 1, .type = DHCPOFFER, .sid = OTHER}, &s, &e),
	    ROGUE_NOT_REPLY);
	assert_int_equal(note(&t, &(struct reply){.type = DHCPINFORM, .sid = OTHER}, &s, &e),
			 ROGUE_NOT_REPLY);
	assert_null(e);
	assert_int_equal(t.n, 0);

	/* Another server: new, then known. */
	assert_int_equal(
	    note(&t,
		 &(struct reply){
		     .type = DHCPOFFER, .sid = OTHER, .yiaddr = 0x0a000063u, .client = 7},
		 &s, &e),
	    ROGUE_NEW);
	assert_non_null(e);
	assert_int_equal(e->s.server_ip, OTHER);
	assert_memory_equal(e->s.server_mac, other_mac, 6);
	assert_string_equal(e->s.interface, "t0");
	assert_int_equal(e->s.last_offered_ip, 0x0a000063u);
	assert_int_equal(e->s.last_client_mac[5], 7);
	assert_int_equal(e->s.replies, 1);
	assert_true(e->mac_direct);
	assert_false(e->relayed);
	s.mono_us += 1000, s.wall_us += 1000;
	assert_int_equal(
	    note(&t,
		 &(struct reply){.type = DHCPACK, .sid = OTHER, .yiaddr = 0x0a000064u, .client = 8},
		 &s, &e),
	    ROGUE_AGAIN);
	assert_int_equal(e->s.replies, 2);
	assert_int_equal(e->s.last_offered_ip, 0x0a000064u);
	assert_int_equal(e->s.last_client_mac[5], 8);
	assert_int_equal(e->last_type, DHCPACK);
	assert_true(e->s.last_us > e->s.first_us);
	/* A NAK counts too; without option 54 the source names the server. */
	assert_int_equal(note(&t, &(struct reply){.type = DHCPNAK}, &s, &e), ROGUE_AGAIN);
	assert_int_equal(e->s.replies, 3);
	assert_int_equal(t.n, 1);

	/* The same server on another interface is listed once per interface. */
	struct rogue_seen s2 = seen_at(OTHER, other_mac, 2, 3000);
	assert_int_equal(note(&t, &(struct reply){.type = DHCPOFFER, .sid = OTHER}, &s2, &e),
			 ROGUE_NEW);
	assert_string_equal(e->s.interface, "t1");
	assert_int_equal(t.n, 2);

	/* A server that names no address and sends from 0.0.0.0: known by its MAC. */
	struct rogue_seen s0 = seen_at(0, relay_mac, 1, 4000);
	assert_int_equal(note(&t, &(struct reply){.type = DHCPOFFER}, &s0, &e), ROGUE_NEW);
	assert_int_equal(note(&t, &(struct reply){.type = DHCPOFFER}, &s0, &e), ROGUE_AGAIN);
	struct rogue_seen s0b = seen_at(0, other_mac, 1, 4000);
	assert_int_equal(note(&t, &(struct reply){.type = DHCPOFFER}, &s0b, &e), ROGUE_NEW);
}

/* A relay forwards a remote server's reply from its own address and MAC. */
static void test_relayed(void **state)
{
	struct rogue_table t;
	const struct rogue_entry *e;
	struct rogue_seen via = seen_at(RELAY, relay_mac, 1, 1000);
	struct rogue_seen direct = seen_at(REMOTE, other_mac, 1, 2000);
	const struct reply relayed = {.type = DHCPOFFER, .sid = REMOTE, .giaddr = RELAY};

	rogue_table_init(&t);
	rogue_table_add_own(&t, OWN);
	/* pxed's own reply through a relay is still its own. */
	assert_int_equal(
	    note(&t, &(struct reply){.type = DHCPOFFER, .sid = OWN, .giaddr = RELAY}, &via, &e),
	    ROGUE_OWN);

	/* The server is option 54's; the relay's MAC stands in until the server's own is seen. */
	assert_int_equal(note(&t, &relayed, &via, &e), ROGUE_NEW);
	assert_int_equal(e->s.server_ip, REMOTE);
	assert_memory_equal(e->s.server_mac, relay_mac, 6);
	assert_false(e->mac_direct);
	assert_true(e->relayed);
	assert_int_equal(e->last_relay, RELAY);
	assert_int_equal(note(&t, &(struct reply){.type = DHCPOFFER, .sid = REMOTE}, &direct, &e),
			 ROGUE_AGAIN);
	assert_memory_equal(e->s.server_mac, other_mac, 6);
	assert_true(e->mac_direct);
	assert_false(e->relayed);
	via.mono_us = 3000;
	assert_int_equal(note(&t, &relayed, &via, &e), ROGUE_AGAIN);
	assert_memory_equal(e->s.server_mac, other_mac, 6); /* the server's, kept */
	assert_true(e->relayed);
	assert_int_equal(e->s.replies, 3);
	assert_int_equal(t.n, 1);
}

static void test_rate_limit(void **state)
{
	struct rogue_table t;
	const struct reply r = {.type = DHCPOFFER, .sid = OTHER};
	static const struct {
		uint64_t at;
		enum rogue_verdict want;
	} steps[] = {
	    {0, ROGUE_NEW},
	    {1, ROGUE_AGAIN},
	    {59 * MIN_US, ROGUE_AGAIN},
	    {HOUR_US - 1, ROGUE_AGAIN},
	    {HOUR_US, ROGUE_REMIND},
	    {HOUR_US + 1, ROGUE_AGAIN},
	    {HOUR_US + 30 * MIN_US, ROGUE_AGAIN},
	    {2 * HOUR_US + 5, ROGUE_REMIND},
	    {5 * HOUR_US, ROGUE_REMIND},
	    {5 * HOUR_US + 1, ROGUE_AGAIN},
	};

	rogue_table_init(&t);
	rogue_table_add_own(&t, OWN);
	for (size_t i = 0; i < PXED_ARRAY_LEN(steps); i++) {
		struct rogue_seen s = seen_at(OTHER, other_mac, 1, 10 + steps[i].at);
		print_message("at %llu us\n", (unsigned long long)steps[i].at);
		assert_int_equal(note(&t, &r, &s, NULL), steps[i].want);
	}
	assert_int_equal(t.e[0].s.replies, PXED_ARRAY_LEN(steps));
}

static void test_table_bounds(void **state)
{
	struct rogue_table t;
	struct rogue_server list[ROGUE_MAX + 4];
	const struct rogue_entry *e;

	rogue_table_init(&t);
	rogue_table_add_own(&t, OWN);
	for (uint32_t i = 0; i < ROGUE_MAX; i++) {
		struct rogue_seen s = seen_at(OTHER, other_mac, 1, 1000 + i);
		assert_int_equal(
		    note(&t, &(struct reply){.type = DHCPOFFER, .sid = 0x0b000000u + i}, &s, &e),
		    ROGUE_NEW);
	}
	assert_int_equal(t.n, ROGUE_MAX);
	/* Full of servers seen recently: a new one is counted, not listed. */
	struct rogue_seen later = seen_at(OTHER, other_mac, 1, 5 * HOUR_US);
	assert_int_equal(
	    note(&t, &(struct reply){.type = DHCPOFFER, .sid = 0x0c000001u}, &later, &e),
	    ROGUE_FULL);
	assert_null(e);
	/* The known ones still count. */
	assert_int_equal(
	    note(&t, &(struct reply){.type = DHCPOFFER, .sid = 0x0b000001u}, &later, &e),
	    ROGUE_REMIND);
	assert_int_equal(t.n, ROGUE_MAX);

	/* Newest first, and never more than asked for. */
	assert_int_equal(rogue_table_list(&t, list, PXED_ARRAY_LEN(list)), ROGUE_MAX);
	assert_int_equal(list[0].server_ip, 0x0b000001u);
	assert_int_equal(list[1].server_ip, 0x0b000000u + ROGUE_MAX - 1);
	assert_int_equal(list[ROGUE_MAX - 1].server_ip, 0x0b000000u);
	for (size_t i = 1; i < ROGUE_MAX; i++)
		assert_true(list[i - 1].last_us >= list[i].last_us);
	assert_int_equal(rogue_table_list(&t, list, 3), 3);
	assert_int_equal(rogue_table_list(&t, list, 0), 0);
	assert_int_equal(rogue_list(NULL, list, 3), 0);

	/* Once the longest-silent server has been silent a day, a new one takes its place. */
	struct rogue_seen day = seen_at(OTHER, other_mac, 1, 1000 + ROGUE_FORGET_US);
	assert_int_equal(note(&t, &(struct reply){.type = DHCPOFFER, .sid = 0x0c000002u}, &day, &e),
			 ROGUE_NEW);
	assert_int_equal(t.n, ROGUE_MAX);
	assert_int_equal(rogue_table_list(&t, list, PXED_ARRAY_LEN(list)), ROGUE_MAX);
	for (size_t i = 0; i < ROGUE_MAX; i++)
		assert_int_not_equal(list[i].server_ip, 0x0b000000u);
	assert_int_equal(list[0].server_ip, 0x0c000002u);

	/* Own addresses and probe MACs are bounded too. */
	rogue_table_clear_own(&t);
	for (uint32_t i = 1; i <= ROGUE_MAX_OWN; i++)
		assert_int_equal(rogue_table_add_own(&t, i), 0);
	assert_int_equal(rogue_table_add_own(&t, 1), 0); /* already known */
	assert_int_equal(rogue_table_add_own(&t, ROGUE_MAX_OWN + 1), -ENOSPC);
	assert_int_equal(rogue_table_add_own(&t, 0), 0);
	assert_false(rogue_table_is_own(&t, 0));
	for (uint8_t i = 0; i < ROGUE_MAX_IFACES; i++) {
		uint8_t mac[6] = {2, 0, 0, 0, 0, i};
		assert_int_equal(rogue_table_add_probe_mac(&t, mac), 0);
	}
	assert_int_equal(rogue_table_add_probe_mac(&t, (uint8_t[6]){2, 0, 0, 0, 1, 0}), -ENOSPC);
}

/* ---- the handler, with a daemon object ----------------------------------------- */

struct fx {
	struct pxed d;
	struct conf *c;
	struct rogue_watch *w;
	struct dhcp_server *s;
	char dir[64];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/pxed-rogue-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->c = conf_new_defaults();
	struct conf_subnet *sn = &f->c->subnets[f->c->n_subnets++];
	sn->network = 0x0a000000u;
	sn->prefix_len = 24;
	sn->pool_first = 0x0a000064u;
	sn->pool_last = 0x0a000065u;
	f->d.conf = f->c;
	if (store_open(f->dir, &f->d.store) < 0 || obs_open(f->d.store, &f->d.obs) < 0 ||
	    rogue_new(&f->d, &f->w) < 0 || rogue_add_iface(f->w, "t0", 1, if_mac) < 0 ||
	    dhcp_server_new(&f->d, &f->s) < 0 || dhcp_server_add_iface(f->s, "t0", 1, OWN, 24) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	dhcp_server_stop(f->s);
	rogue_stop(f->w);
	obs_close(f->d.obs);
	store_close(f->d.store);
	conf_free(f->c);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	int rc = system(cmd);
	free(f);
	return rc == 0 ? 0 : -1;
}

static enum rogue_verdict handle(struct fx *f, unsigned ifindex, uint32_t src, uint16_t sport,
				 uint16_t dport, const struct reply *r)
{
	uint8_t dhcp[DHCP_MAX_LEN], pkt[DHCP_MAX_LEN + 28];
	size_t n = wrap_udp(pkt, src, sport, dport, dhcp, build_dhcp(dhcp, sizeof(dhcp), r));
	return rogue_handle(f->w, ifindex, pkt, n, other_mac);
}

static void test_handle(void **state)
{
	struct fx *f = *state;
	struct metrics *mt = &f->d.metrics;
	struct rogue_server list[4];
	const struct reply offer = {.type = DHCPOFFER, .sid = OTHER, .yiaddr = 0x0a000032u};
	uint8_t pmac[6];

	assert_int_equal(handle(f, 1, OTHER, 67, 68, &offer), ROGUE_NEW);
	assert_int_equal(mt->c[METRIC_DHCP_ROGUE_SERVERS], 1);
	assert_int_equal(mt->c[METRIC_DHCP_ROGUE_REPLIES], 1);
	/* A reply to a relay (port 67) counts as well. */
	assert_int_equal(handle(f, 1, OTHER, 67, 67, &offer), ROGUE_AGAIN);
	assert_int_equal(mt->c[METRIC_DHCP_ROGUE_SERVERS], 1);
	assert_int_equal(mt->c[METRIC_DHCP_ROGUE_REPLIES], 2);
	/* Not from port 67, to another port, on an unknown interface, garbage: nothing. */
	assert_int_equal(handle(f, 1, OTHER, 68, 68, &offer), ROGUE_NOT_REPLY);
	assert_int_equal(handle(f, 1, OTHER, 67, 69, &offer), ROGUE_NOT_REPLY);
	assert_int_equal(handle(f, 9, OTHER, 67, 68, &offer), ROGUE_NOT_REPLY);
	static const uint8_t junk[] = {0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17};
	assert_int_equal(rogue_handle(f->w, 1, junk, sizeof(junk), other_mac), ROGUE_NOT_REPLY);
	uint8_t shortpkt[40];
	assert_int_equal(rogue_handle(f->w, 1, shortpkt,
				      wrap_udp(shortpkt, OTHER, 67, 68, (const uint8_t *)"abcd", 4),
				      other_mac),
			 ROGUE_NOT_REPLY);
	assert_int_equal(mt->c[METRIC_DHCP_ROGUE_REPLIES], 2);

	/* A reply to pxed's probe is marked as one. */
	rogue_probe_mac(if_mac, pmac);
	assert_int_equal(handle(f, 1, OTHER, 67, 68,
				&(struct reply){.type = DHCPOFFER, .sid = OTHER, .chaddr = pmac}),
			 ROGUE_AGAIN);
	assert_int_equal(rogue_list(f->w, list, 4), 1);
	assert_int_equal(list[0].server_ip, OTHER);
	assert_memory_equal(list[0].server_mac, other_mac, 6);
	assert_memory_equal(list[0].last_client_mac, pmac, 6);
	assert_string_equal(list[0].interface, "t0");
	assert_int_equal(list[0].replies, 3);
	assert_true(list[0].first_us > 0 && list[0].last_us >= list[0].first_us);
}

/* pxed's DHCP server ignores its own probe: no OFFER, no address held. */
static void test_server_ignores_probe(void **state)
{
	struct fx *f = *state;
	uint8_t pkt[ROGUE_PROBE_MAX], pmac[6], out[DHCP_MAX_LEN];
	uint8_t dhcp[DHCP_MAX_LEN];
	struct dhcp_dest dest;
	struct dhcp_msg m, probe;

	rogue_probe_mac(if_mac, pmac);
	int n = rogue_probe_build(pkt, sizeof(pkt), pmac, 42);
	assert_true(n > 28);
	assert_int_equal(dhcp_decode(pkt + 28, (size_t)n - 28, &probe), DHCP_OK);
	assert_false(rogue_is_own_probe(NULL, &probe));
	assert_true(rogue_is_own_probe(f->w, &probe));

	f->d.rogue = f->w;
	assert_int_equal(dhcp_server_handle(f->s, pkt + 28, (size_t)n - 28, 1, 67, 0, 68, out,
					    sizeof(out), &dest),
			 0);
	/* The pool's first address is still free: a client gets it. */
	size_t dn =
	    build_dhcp(dhcp, sizeof(dhcp),
		       &(struct reply){.op = DHCP_BOOTREQUEST, .type = DHCPDISCOVER, .client = 1});
	int r = dhcp_server_handle(f->s, dhcp, dn, 1, 67, 0, 68, out, sizeof(out), &dest);
	assert_true(r > 0);
	out[0] = 1;
	assert_int_equal(dhcp_decode(out, (size_t)r, &m), DHCP_OK);
	assert_int_equal(m.yiaddr, 0x0a000064u);

	/* Another pxed's probe (another MAC) is a client like any other. */
	uint8_t other_probe[6];
	rogue_probe_mac(other_mac, other_probe);
	n = rogue_probe_build(pkt, sizeof(pkt), other_probe, 43);
	assert_int_equal(dhcp_decode(pkt + 28, (size_t)n - 28, &probe), DHCP_OK);
	assert_false(rogue_is_own_probe(f->w, &probe));
	r = dhcp_server_handle(f->s, pkt + 28, (size_t)n - 28, 1, 67, 0, 68, out, sizeof(out),
			       &dest);
	assert_true(r > 0);
	f->d.rogue = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_udp_vectors),
	    cmocka_unit_test(test_parse_udp_truncated),
	    cmocka_unit_test(test_probe),
	    cmocka_unit_test(test_probe_mac),
	    cmocka_unit_test(test_classify),
	    cmocka_unit_test(test_relayed),
	    cmocka_unit_test(test_rate_limit),
	    cmocka_unit_test(test_table_bounds),
	    cmocka_unit_test_setup_teardown(test_handle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_server_ignores_probe, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
