/*
 * Rogue DHCP detection (see rogue.h).
 *
 * Each interface pxed serves DHCP on gets a packet socket (AF_PACKET,
 * SOCK_DGRAM: frames arrive from their IP header, the Ethernet source in
 * sockaddr_ll) with a classic BPF filter that lets through only IPv4 UDP
 * from port 67 to port 68 (a server to a client) or to port 67 (a server to
 * a relay), unfragmented and not sent by this host. So every DHCP reply on
 * the segment reaches us: broadcast ones, and unicast ones addressed to this
 * host. The same socket sends the probe, a DISCOVER built here with its own
 * IPv4 and UDP headers: no UDP socket on port 68 is bound, so a dhclient on
 * the host is not disturbed.
 *
 * The table and the classification are pure (rogue_table_*); the socket
 * layer, events, logs and metrics wrap them.
 */
#include "dhcp/rogue.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <ifaddrs.h>
#include <linux/filter.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf/config.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "obs/obs.h"
#include "pxed.h"

_Static_assert(ROGUE_MAX_IFACES == CONF_MAX_INTERFACES, "one watched interface per DHCP one");

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
#define IPV4_HDR_MIN 20
#define UDP_HDR_LEN 8
/* Packets handled per wake-up before yielding to other sockets. */
#define ROGUE_RX_BATCH 64
/* The largest packet we look at: a 60-byte IP header, UDP, the largest DHCP message. */
#define ROGUE_RX_MAX (60 + UDP_HDR_LEN + DHCP_MAX_LEN)

struct rogue_iface {
	struct rogue_watch *w;
	char name[IFNAMSIZ];
	unsigned ifindex;
	uint8_t probe_mac[6];
	bool can_probe; /* an Ethernet interface: it has a MAC to derive the probe's from */
	int fd;		/* -1 when described only (tests) */
	struct event *ev;
};

struct rogue_watch {
	struct pxed *d;
	struct rogue_table t;
	struct rogue_iface ifs[ROGUE_MAX_IFACES];
	size_t n_ifs;
	struct event *probe_timer; /* NULL: probing is off */
	uint64_t full_warned_mono_us;
	bool full_warned;
};

/* ---- the table (pure) ------------------------------------------------------ */

void rogue_table_init(struct rogue_table *t)
{
	memset(t, 0, sizeof(*t));
}

int rogue_table_add_own(struct rogue_table *t, uint32_t ip)
{
	if (ip == 0 || rogue_table_is_own(t, ip))
		return 0;
	if (t->n_own == ROGUE_MAX_OWN)
		return -ENOSPC;
	t->own[t->n_own++] = ip;
	return 0;
}

bool rogue_table_is_own(const struct rogue_table *t, uint32_t ip)
{
	for (size_t i = 0; i < t->n_own; i++)
		if (t->own[i] == ip)
			return true;
	return false;
}

void rogue_table_clear_own(struct rogue_table *t)
{
	t->n_own = 0;
}

int rogue_table_add_probe_mac(struct rogue_table *t, const uint8_t mac[6])
{
	if (rogue_table_is_probe_mac(t, mac))
		return 0;
	if (t->n_probe_macs == ROGUE_MAX_IFACES)
		return -ENOSPC;
	memcpy(t->probe_macs[t->n_probe_macs++], mac, 6);
	return 0;
}

bool rogue_table_is_probe_mac(const struct rogue_table *t, const uint8_t mac[6])
{
	for (size_t i = 0; i < t->n_probe_macs; i++)
		if (memcmp(t->probe_macs[i], mac, 6) == 0)
			return true;
	return false;
}

static bool rogue_is_reply_type(uint8_t type)
{
	return type == DHCPOFFER || type == DHCPACK || type == DHCPNAK;
}

/* A server is known by its address on one interface; one without an address by its MAC. */
static struct rogue_entry *rogue_table_find(struct rogue_table *t, unsigned ifindex,
					    uint32_t server_ip, const uint8_t mac[6])
{
	for (size_t i = 0; i < t->n; i++) {
		struct rogue_entry *e = &t->e[i];
		if (e->ifindex == ifindex && e->s.server_ip == server_ip &&
		    (server_ip != 0 || memcmp(e->s.server_mac, mac, 6) == 0))
			return e;
	}
	return NULL;
}

/*
 * A slot for a new server: a free one, else that of the server silent the
 * longest if it has been silent ROGUE_FORGET_US. Otherwise none: a flood of
 * forged server addresses cannot push out the servers seen recently.
 */
static struct rogue_entry *rogue_table_slot(struct rogue_table *t, uint64_t now_mono)
{
	if (t->n < ROGUE_MAX)
		return &t->e[t->n++];
	struct rogue_entry *oldest = &t->e[0];
	for (size_t i = 1; i < t->n; i++)
		if (t->e[i].last_mono_us < oldest->last_mono_us)
			oldest = &t->e[i];
	return now_mono >= oldest->last_mono_us + ROGUE_FORGET_US ? oldest : NULL;
}

/* A reply relayed to us (giaddr, and not from the server itself) came from the relay. */
static void rogue_entry_update(struct rogue_table *t, struct rogue_entry *e,
			       const struct dhcp_msg *m, const struct rogue_seen *seen,
			       bool relayed)
{
	bool ether_client = m->htype == 1 && m->hlen == 6;

	if (!relayed) {
		memcpy(e->s.server_mac, seen->src_mac, 6);
		e->mac_direct = true;
	} else if (!e->mac_direct) {
		memcpy(e->s.server_mac, seen->src_mac, 6); /* the relay's, until the server's own */
	}
	e->relayed = relayed;
	e->last_relay = relayed ? m->giaddr : 0;
	e->last_type = dhcp_msg_type(m);
	e->s.last_offered_ip = m->yiaddr;
	if (ether_client)
		memcpy(e->s.last_client_mac, m->chaddr, 6);
	else
		memset(e->s.last_client_mac, 0, 6);
	e->probe_reply = ether_client && rogue_table_is_probe_mac(t, m->chaddr);
	e->s.last_us = seen->wall_us;
	e->last_mono_us = seen->mono_us;
	e->s.replies++;
}

enum rogue_verdict rogue_table_note(struct rogue_table *t, const struct dhcp_msg *m,
				    const struct rogue_seen *seen, const struct rogue_entry **out)
{
	uint32_t sid = 0;
	enum rogue_verdict v;

	if (out != NULL)
		*out = NULL;
	if (m->op != DHCP_BOOTREPLY || !rogue_is_reply_type(dhcp_msg_type(m)))
		return ROGUE_NOT_REPLY;
	/* Option 54 names the server even when a relay forwarded the reply (RFC 2131 §4.1). */
	uint32_t server = dhcp_opt_ip(m, DHCP_OPT_SERVER_ID, &sid) && sid != 0 ? sid : seen->src_ip;
	if (server != 0 && rogue_table_is_own(t, server))
		return ROGUE_OWN;
	bool relayed = m->giaddr != 0 && seen->src_ip != server;
	struct rogue_entry *e = rogue_table_find(t, seen->ifindex, server, seen->src_mac);
	if (e == NULL) {
		e = rogue_table_slot(t, seen->mono_us);
		if (e == NULL)
			return ROGUE_FULL;
		memset(e, 0, sizeof(*e));
		e->s.server_ip = server;
		e->ifindex = seen->ifindex;
		snprintf(e->s.interface, sizeof(e->s.interface), "%s",
			 seen->ifname != NULL ? seen->ifname : "");
		e->s.first_us = seen->wall_us;
		e->reported_mono_us = seen->mono_us;
		v = ROGUE_NEW;
	} else if (seen->mono_us >= e->reported_mono_us + ROGUE_REPORT_EVERY_US) {
		e->reported_mono_us = seen->mono_us;
		v = ROGUE_REMIND;
	} else {
		v = ROGUE_AGAIN;
	}
	rogue_entry_update(t, e, m, seen, relayed);
	if (out != NULL)
		*out = e;
	return v;
}

size_t rogue_table_list(const struct rogue_table *t, struct rogue_server *out, size_t cap)
{
	const struct rogue_entry *order[ROGUE_MAX];
	size_t n = 0;

	/* Insertion sort, newest first: the table holds at most ROGUE_MAX. */
	for (size_t i = 0; i < t->n; i++) {
		size_t j = n++;
		while (j > 0 && order[j - 1]->last_mono_us < t->e[i].last_mono_us) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = &t->e[i];
	}
	n = n < cap ? n : cap;
	for (size_t i = 0; i < n; i++)
		out[i] = order[i]->s;
	return n;
}

/* ---- packets (pure) ---------------------------------------------------------- */

int rogue_parse_udp(const uint8_t *pkt, size_t len, struct rogue_udp *out)
{
	struct rd r = rd_init(pkt, len);
	uint8_t vihl = rd_u8(&r);
	rd_u8(&r); /* type of service */
	uint16_t total = rd_u16(&r);
	rd_u16(&r); /* identification */
	uint16_t frag = rd_u16(&r);
	rd_u8(&r); /* time to live */
	uint8_t proto = rd_u8(&r);
	rd_u16(&r); /* header checksum */
	out->src_ip = rd_u32(&r);
	out->dst_ip = rd_u32(&r);
	size_t ihl = (size_t)(vihl & 0x0f) * 4;

	/*
	 * A fragment (more-fragments flag or an offset: RFC 791) is not a
	 * whole datagram; DHCP replies fit in one frame. Bytes past the total
	 * length are the link's padding.
	 */
	if (r.err || vihl >> 4 != 4 || ihl < IPV4_HDR_MIN || proto != IPPROTO_UDP ||
	    (frag & 0x3fff) != 0 || total < ihl + UDP_HDR_LEN || total > len)
		return -EINVAL;
	r = rd_init(pkt + ihl, total - ihl);
	out->src_port = rd_u16(&r);
	out->dst_port = rd_u16(&r);
	uint16_t ulen = rd_u16(&r);
	rd_u16(&r); /* checksum: not checked, Ethernet's FCS already was */
	if (r.err || ulen < UDP_HDR_LEN || ulen > total - ihl)
		return -EINVAL;
	out->payload = pkt + ihl + UDP_HDR_LEN;
	out->len = ulen - UDP_HDR_LEN;
	return 0;
}

void rogue_probe_mac(const uint8_t ifmac[6], uint8_t out[6])
{
	memcpy(out, ifmac, 6);
	/* Bit 1: locally administered; bit 0 clear: unicast (IEEE 802 §8.2). */
	out[0] = (uint8_t)(((ifmac[0] ^ 0x04) | 0x02) & ~0x01);
}

/* The Internet checksum (RFC 1071) of n bytes added to sum. */
static uint32_t rogue_sum(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t rogue_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* IPv4 and UDP headers for a datagram of n bytes already at buf + 28. */
static void rogue_probe_headers(uint8_t *buf, size_t n)
{
	uint16_t ulen = (uint16_t)(UDP_HDR_LEN + n), total = (uint16_t)(IPV4_HDR_MIN + ulen);
	struct wr w = wr_init(buf, IPV4_HDR_MIN + UDP_HDR_LEN);

	wr_u8(&w, 0x45); /* version 4, header 5 words */
	wr_u8(&w, 0);
	wr_u16(&w, total);
	wr_u16(&w, 0); /* identification: never fragmented */
	wr_u16(&w, 0);
	wr_u8(&w, 64); /* time to live */
	wr_u8(&w, IPPROTO_UDP);
	wr_u16(&w, 0);		 /* header checksum, below */
	wr_u32(&w, 0);		 /* 0.0.0.0: a client without an address (RFC 2131 §4.1) */
	wr_u32(&w, 0xffffffffu); /* limited broadcast */
	wr_u16(&w, DHCP_CLIENT_PORT);
	wr_u16(&w, DHCP_SERVER_PORT);
	wr_u16(&w, ulen);
	wr_u16(&w, 0); /* checksum, below */
	uint16_t ipsum = rogue_fold(rogue_sum(0, buf, IPV4_HDR_MIN));
	buf[10] = (uint8_t)(ipsum >> 8), buf[11] = (uint8_t)ipsum;
	/* The pseudo-header (RFC 768): addresses, protocol, UDP length. */
	uint32_t sum = rogue_sum(0, buf + 12, 8) + IPPROTO_UDP + ulen;
	uint16_t usum = rogue_fold(rogue_sum(sum, buf + IPV4_HDR_MIN, ulen));
	usum = usum != 0 ? usum : 0xffff; /* 0 would mean "no checksum" */
	buf[26] = (uint8_t)(usum >> 8), buf[27] = (uint8_t)usum;
}

int rogue_probe_build(uint8_t *buf, size_t cap, const uint8_t probe_mac[6], uint32_t xid)
{
	/* What a PXE ROM asks for, so a server answers as it would answer one. */
	static const uint8_t prl[] = {1, 3, 6, 43, 54, 60, 66, 67};
	static const uint8_t arch[2] = {0, 0};	 /* option 93: x86 BIOS */
	static const uint8_t ndi[3] = {1, 2, 1}; /* option 94: UNDI 2.1 */
	const size_t hdrs = IPV4_HDR_MIN + UDP_HDR_LEN;
	uint8_t chaddr[16] = {0};
	struct dhcp_builder b;

	if (cap < hdrs)
		return -ENOSPC;
	memcpy(chaddr, probe_mac, 6);
	struct dhcp_reply_hdr h = {.op = DHCP_BOOTREQUEST,
				   .htype = 1,
				   .hlen = 6,
				   .xid = xid,
				   .flags = DHCP_FLAG_BROADCAST,
				   .chaddr = chaddr};
	dhcp_build_start(&b, buf + hdrs, cap - hdrs, &h);
	dhcp_build_opt_u8(&b, DHCP_OPT_MSG_TYPE, DHCPDISCOVER);
	dhcp_build_opt(&b, DHCP_OPT_PARAM_LIST, prl, sizeof(prl));
	dhcp_build_opt_str(&b, DHCP_OPT_VENDOR_CLASS, ROGUE_PROBE_VENDOR_CLASS);
	dhcp_build_opt(&b, DHCP_OPT_CLIENT_ARCH, arch, sizeof(arch));
	dhcp_build_opt(&b, DHCP_OPT_CLIENT_NDI, ndi, sizeof(ndi));
	int n = dhcp_build_finish(&b);
	if (n < 0)
		return n;
	rogue_probe_headers(buf, (size_t)n);
	return (int)hdrs + n;
}

bool rogue_is_own_probe(const struct rogue_watch *w, const struct dhcp_msg *m)
{
	return w != NULL && m->htype == 1 && m->hlen == 6 &&
	       rogue_table_is_probe_mac(&w->t, m->chaddr);
}

/* ---- reports ------------------------------------------------------------------ */

static const char *rogue_type_name(uint8_t type)
{
	return type == DHCPOFFER ? "offer" : type == DHCPACK ? "ack" : "nak";
}

static const char *rogue_type_phrase(uint8_t type)
{
	return type == DHCPOFFER ? "an OFFER" : type == DHCPACK ? "an ACK" : "a NAK";
}

/*
 * One event per server when first seen and at most once an hour after
 * (ROGUE_REPORT_EVERY_US), with a log line. In server mode any other server
 * is a conflict (a warning, the event marked failed); in proxy mode one is
 * expected, the network's address server, so it is information.
 */
static void rogue_report(struct rogue_watch *w, const struct rogue_entry *e, enum rogue_verdict v)
{
	const struct rogue_server *s = &e->s;
	bool proxy = w->d->conf->dhcp_mode == CONF_DHCP_PROXY;
	char sip[16], smac[18], yip[16], cmac[18], rip[16], relay[32] = "", detail[320];

	ip4_format(sip, s->server_ip);
	mac_format(smac, s->server_mac);
	mac_format(cmac, s->last_client_mac);
	if (s->last_offered_ip != 0)
		ip4_format(yip, s->last_offered_ip);
	else
		snprintf(yip, sizeof(yip), "none");
	if (e->relayed)
		snprintf(relay, sizeof(relay), " relay=%s", ip4_format(rip, e->last_relay));
	snprintf(detail, sizeof(detail),
		 "server=%s server_mac=%s interface=%s reply=%s offered=%s client=%s%s%s "
		 "replies=%llu",
		 sip, smac, s->interface, rogue_type_name(e->last_type), yip, cmac,
		 e->probe_reply ? " probe=yes" : "", relay, (unsigned long long)s->replies);
	if (v == ROGUE_NEW)
		log_msg(proxy ? LOG_INFO : LOG_WARN, "rogue",
			"another DHCP server on %s: %s (%s%s) sent %s of %s to %s%s%s",
			s->interface, sip, smac, e->mac_direct ? "" : ", its relay's MAC",
			rogue_type_phrase(e->last_type), yip, cmac,
			e->probe_reply ? " (pxed's probe)" : "",
			proxy ? "; in proxy mode that is expected of the network's address server"
			      : "; clients may take their address or boot from it");
	else
		log_msg(proxy ? LOG_INFO : LOG_WARN, "rogue",
			"DHCP server %s (%s) still answers on %s: %llu replies", sip, smac,
			s->interface, (unsigned long long)s->replies);
	/* No MAC: the event is about a server, not a machine's boot. */
	obs_event(w->d->obs, &(struct obs_event){.mac = NULL,
						 .ip = 0,
						 .proto = "dhcp",
						 .kind = "rogue",
						 .detail = detail,
						 .ok = proxy});
}

static const struct rogue_iface *rogue_iface_by_index(const struct rogue_watch *w, unsigned ifindex)
{
	for (size_t i = 0; i < w->n_ifs; i++)
		if (w->ifs[i].ifindex == ifindex)
			return &w->ifs[i];
	return NULL;
}

static void rogue_full(struct rogue_watch *w, uint64_t now_mono)
{
	if (w->full_warned && now_mono < w->full_warned_mono_us + ROGUE_REPORT_EVERY_US)
		return;
	w->full_warned = true;
	w->full_warned_mono_us = now_mono;
	log_warn("rogue",
		 "more than %d other DHCP servers answer on pxed's segments: new ones are "
		 "counted, not listed",
		 ROGUE_MAX);
}

enum rogue_verdict rogue_handle(struct rogue_watch *w, unsigned ifindex, const uint8_t *pkt,
				size_t len, const uint8_t src_mac[6])
{
	const struct rogue_iface *ifc = rogue_iface_by_index(w, ifindex);
	const struct rogue_entry *e;
	struct rogue_udp u;
	struct dhcp_msg m;

	/* The filter let only these through; a test or a fuzzer may send anything. */
	if (ifc == NULL || rogue_parse_udp(pkt, len, &u) < 0 || u.src_port != DHCP_SERVER_PORT ||
	    (u.dst_port != DHCP_CLIENT_PORT && u.dst_port != DHCP_SERVER_PORT) ||
	    dhcp_decode(u.payload, u.len, &m) != DHCP_OK)
		return ROGUE_NOT_REPLY;
	struct rogue_seen seen = {.src_ip = u.src_ip,
				  .ifindex = ifindex,
				  .ifname = ifc->name,
				  .wall_us = (uint64_t)now_wall_us(),
				  .mono_us = now_mono_us()};
	memcpy(seen.src_mac, src_mac, 6);
	enum rogue_verdict v = rogue_table_note(&w->t, &m, &seen, &e);
	switch (v) {
	case ROGUE_NEW:
		metric_inc(&w->d->metrics, METRIC_DHCP_ROGUE_SERVERS);
		/* fall through */
	case ROGUE_REMIND:
		rogue_report(w, e, v);
		/* fall through */
	case ROGUE_AGAIN:
		metric_inc(&w->d->metrics, METRIC_DHCP_ROGUE_REPLIES);
		break;
	case ROGUE_FULL:
		metric_inc(&w->d->metrics, METRIC_DHCP_ROGUE_REPLIES);
		rogue_full(w, seen.mono_us);
		break;
	case ROGUE_OWN:
		if (log_enabled(LOG_DEBUG)) {
			char ips[16];
			log_debug("rogue", "%s: pxed's own reply from %s", ifc->name,
				  ip4_format(ips, u.src_ip));
		}
		break;
	case ROGUE_NOT_REPLY:
		break;
	}
	return v;
}

/* ---- sockets ------------------------------------------------------------------ */

/*
 * Classic BPF on the packet socket (SOCK_DGRAM: offsets from the IP header).
 * Keeps IPv4 UDP from port 67 to port 68 or 67, not a fragment, and not one
 * this host sent (those are pxed's own replies, or another server sharing
 * its address, which no address could tell apart).
 */
static const struct sock_filter rogue_bpf[] = {
    /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
    /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 10, 0),
    /* 2 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9), /* protocol */
    /* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 8),
    /* 4 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6), /* flags and fragment offset */
    /* 5 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x3fff, 6, 0),
    /* 6 */ BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0), /* X = header length */
    /* 7 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 0),  /* source port */
    /* 8 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, DHCP_SERVER_PORT, 0, 3),
    /* 9 */ BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2), /* destination port */
    /* 10 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, DHCP_CLIENT_PORT, 2, 0),
    /* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, DHCP_SERVER_PORT, 1, 0),
    /* 12 */ BPF_STMT(BPF_RET | BPF_K, 0),
    /* 13 */ BPF_STMT(BPF_RET | BPF_K, 0xffff),
};

static void rogue_on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct rogue_iface *ifc = arg;
	uint8_t buf[ROGUE_RX_MAX];

	for (int i = 0; i < ROGUE_RX_BATCH; i++) {
		struct sockaddr_ll from;
		socklen_t fromlen = sizeof(from);
		ssize_t n =
		    recvfrom(fd, buf, sizeof(buf), MSG_TRUNC, (struct sockaddr *)&from, &fromlen);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_debug("rogue", "%s: receive: %s", ifc->name, strerror(errno));
			break;
		}
		/* Longer than any DHCP reply (MSG_TRUNC gives the real length), or no MAC. */
		if ((size_t)n > sizeof(buf) || from.sll_halen != 6 ||
		    from.sll_pkttype == PACKET_OUTGOING)
			continue;
		rogue_handle(ifc->w, ifc->ifindex, buf, (size_t)n, from.sll_addr);
	}
}

/* Sends one probe on ifc (a fresh xid each time, the same MAC). */
static void rogue_probe_send(struct rogue_watch *w, const struct rogue_iface *ifc)
{
	uint8_t pkt[ROGUE_PROBE_MAX];
	uint32_t xid;

	if (getrandom(&xid, sizeof(xid), GRND_NONBLOCK) != (ssize_t)sizeof(xid))
		xid = (uint32_t)now_mono_us();
	int n = rogue_probe_build(pkt, sizeof(pkt), ifc->probe_mac, xid);
	if (n < 0)
		return;
	struct sockaddr_ll to = {.sll_family = AF_PACKET,
				 .sll_protocol = htons(ETH_P_IP),
				 .sll_ifindex = (int)ifc->ifindex,
				 .sll_halen = 6};
	memset(to.sll_addr, 0xff, 6);
	if (sendto(ifc->fd, pkt, (size_t)n, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		log_warn("rogue", "%s: cannot send the probe DISCOVER: %s", ifc->name,
			 strerror(errno));
		return;
	}
	metric_inc(&w->d->metrics, METRIC_DHCP_ROGUE_PROBES);
	log_debug("rogue", "%s: probe DISCOVER sent (xid 0x%08x)", ifc->name, xid);
}

/*
 * pxed's own addresses: every IPv4 address of the watched interfaces (its
 * server identifier is one of them) and server_address. Read again before
 * each probe, as addresses change.
 */
static bool rogue_watches(const struct rogue_watch *w, const char *ifname)
{
	for (size_t k = 0; k < w->n_ifs; k++)
		if (strcmp(ifname, w->ifs[k].name) == 0)
			return true;
	return false;
}

static void rogue_own_refresh(struct rogue_watch *w)
{
	struct ifaddrs *ifa;
	bool full = false;

	if (getifaddrs(&ifa) < 0) {
		log_warn("rogue", "cannot read the interfaces' addresses: %s", strerror(errno));
		return;
	}
	rogue_table_clear_own(&w->t);
	rogue_table_add_own(&w->t, w->d->conf->server_address);
	for (struct ifaddrs *i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET ||
		    !rogue_watches(w, i->ifa_name))
			continue;
		const struct sockaddr_in *sin = (const struct sockaddr_in *)i->ifa_addr;
		full |= rogue_table_add_own(&w->t, ntohl(sin->sin_addr.s_addr)) < 0;
	}
	freeifaddrs(ifa);
	if (full)
		log_warn("rogue", "over %d addresses on the interfaces: the rest count as others'",
			 ROGUE_MAX_OWN);
}

void rogue_conf_changed(struct rogue_watch *w)
{
	if (w != NULL)
		rogue_own_refresh(w);
}

static void rogue_on_probe_timer(evutil_socket_t fd, short what, void *arg)
{
	struct rogue_watch *w = arg;
	struct timeval tv = {.tv_sec = (time_t)w->d->conf->rogue_probe_interval_s};

	rogue_own_refresh(w);
	for (size_t i = 0; i < w->n_ifs; i++)
		if (w->ifs[i].can_probe && w->ifs[i].fd >= 0)
			rogue_probe_send(w, &w->ifs[i]);
	event_add(w->probe_timer, &tv);
}

/*
 * Opens interface `name`'s packet socket: with protocol 0 it receives
 * nothing until the filter is attached and it is bound to ETH_P_IP on the
 * interface, so nothing unfiltered is ever queued.
 */
static int rogue_iface_open(struct rogue_watch *w, const char *name)
{
	struct sock_fprog prog = {.len = PXED_ARRAY_LEN(rogue_bpf),
				  .filter = (struct sock_filter *)rogue_bpf};
	struct ifreq ifr = {0};
	unsigned ifindex;
	uint8_t mac[6] = {0};
	int rc = iface_index(name, &ifindex);
	if (rc < 0)
		return rc;
	int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	bool ether =
	    ioctl(fd, SIOCGIFHWADDR, &ifr) == 0 && ifr.ifr_hwaddr.sa_family == ARPHRD_ETHER;
	if (ether)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	struct sockaddr_ll sll = {
	    .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_ifindex = (int)ifindex};
	int lock = 1; /* the dropped daemon may not swap the filter (docs/security.md) */
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &lock, sizeof(lock)) < 0 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0 ||
	    (rc = rogue_add_iface(w, name, ifindex, ether ? mac : NULL)) < 0) {
		rc = rc < 0 ? rc : -errno;
		close(fd);
		return rc;
	}
	struct rogue_iface *ifc = &w->ifs[w->n_ifs - 1];
	ifc->fd = fd;
	ifc->ev = event_new(w->d->base, fd, EV_READ | EV_PERSIST, rogue_on_readable, ifc);
	if (ifc->ev == NULL || event_add(ifc->ev, NULL) < 0)
		return -ENOMEM;
	return 0;
}

/* ---- the watch ---------------------------------------------------------------- */

int rogue_new(struct pxed *d, struct rogue_watch **out)
{
	struct rogue_watch *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->d = d;
	rogue_table_init(&w->t);
	*out = w;
	return 0;
}

int rogue_add_iface(struct rogue_watch *w, const char *name, unsigned ifindex, const uint8_t mac[6])
{
	if (w->n_ifs == ROGUE_MAX_IFACES)
		return -ENOSPC;
	struct rogue_iface *ifc = &w->ifs[w->n_ifs++];
	ifc->w = w;
	snprintf(ifc->name, sizeof(ifc->name), "%s", name);
	ifc->ifindex = ifindex;
	ifc->fd = -1;
	/* Without an Ethernet MAC there is no probe MAC to derive: watch only. */
	ifc->can_probe = mac != NULL;
	if (mac != NULL) {
		rogue_probe_mac(mac, ifc->probe_mac);
		return rogue_table_add_probe_mac(&w->t, ifc->probe_mac);
	}
	return 0;
}

int rogue_start(struct pxed *d, struct rogue_watch **out)
{
	const struct conf *c = d->conf;
	struct rogue_watch *w;
	char probe[18];

	*out = NULL;
	if (!c->rogue_detect || c->dhcp_mode == CONF_DHCP_OFF)
		return 0;
	int rc = rogue_new(d, &w);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < c->n_interfaces; i++) {
		if ((rc = rogue_iface_open(w, c->interfaces[i])) < 0) {
			log_err("rogue", "interface %s: %s", c->interfaces[i], strerror(-rc));
			rogue_stop(w);
			return rc;
		}
		const struct rogue_iface *ifc = &w->ifs[w->n_ifs - 1];
		if (ifc->can_probe && c->rogue_probe_interval_s > 0)
			log_info("rogue",
				 "watching %s for other DHCP servers; probe every %u s as %s",
				 ifc->name, c->rogue_probe_interval_s,
				 mac_format(probe, ifc->probe_mac));
		else
			log_info("rogue", "watching %s for other DHCP servers (no probe)",
				 ifc->name);
	}
	rogue_own_refresh(w);
	if (c->rogue_probe_interval_s > 0) {
		/* The first probe at once (on the loop's first turn), then every interval. */
		struct timeval now = {0, 0};
		w->probe_timer = evtimer_new(d->base, rogue_on_probe_timer, w);
		if (w->probe_timer == NULL || evtimer_add(w->probe_timer, &now) < 0) {
			rogue_stop(w);
			return -ENOMEM;
		}
	}
	*out = w;
	return 0;
}

void rogue_stop(struct rogue_watch *w)
{
	if (w == NULL)
		return;
	if (w->probe_timer != NULL)
		event_free(w->probe_timer);
	for (size_t i = 0; i < w->n_ifs; i++) {
		if (w->ifs[i].ev != NULL)
			event_free(w->ifs[i].ev);
		if (w->ifs[i].fd >= 0)
			close(w->ifs[i].fd);
	}
	free(w);
}

size_t rogue_list(const struct rogue_watch *w, struct rogue_server *out, size_t cap)
{
	return w != NULL ? rogue_table_list(&w->t, out, cap) : 0;
}
