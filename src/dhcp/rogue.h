/*
 * Rogue DHCP detection: other DHCP servers answering on pxed's segments.
 * pxed watches every DHCP reply on its interfaces (offers to clients it
 * did not make) and, now and then, asks with a DISCOVER of its own, then
 * reports each server it finds: an event, a metric, the status view.
 */
#ifndef PXED_DHCP_ROGUE_H
#define PXED_DHCP_ROGUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcp/wire.h"

struct pxed;
struct rogue_watch;

/* Other DHCP servers remembered at once. */
#define ROGUE_MAX 32

/* A DHCP server that is not pxed, answering on one of our segments. */
struct rogue_server {
	uint32_t server_ip; /* option 54, host order (or the packet's source) */
	uint8_t server_mac[6];
	char interface[16];
	uint32_t last_offered_ip; /* yiaddr of the last reply seen */
	uint8_t last_client_mac[6];
	uint64_t first_us, last_us; /* wall clock, microseconds since the epoch */
	uint64_t replies;
};

/*
 * Starts watching the daemon's interfaces (conf's interfaces): packet
 * sockets opened now, while pxed is privileged, and the first probe. With
 * rogue.detect false or dhcp.mode off, *out is NULL and 0 is returned.
 * 0 or -errno.
 */
int rogue_start(struct pxed *d, struct rogue_watch **out);
void rogue_stop(struct rogue_watch *w);
/* d->conf was replaced (a reload may change server_address): pxed's own addresses again. */
void rogue_conf_changed(struct rogue_watch *w);
/* Copies up to cap servers seen, most recent first; returns how many. */
size_t rogue_list(const struct rogue_watch *w, struct rogue_server *out, size_t cap);

/*
 * The rest is the machinery under those three: the pure classification and
 * table (tests feed it decoded replies), the packet helpers, and a watch
 * described rather than opened, as dhcp/server.h has for its server.
 */

/* Addresses counted as pxed's own: its interfaces' addresses and server_address. */
#define ROGUE_MAX_OWN 64
/* While a server keeps answering, it is reported again at most this often. */
#define ROGUE_REPORT_EVERY_US (3600ull * 1000000)
/* A full table makes room only by forgetting a server that was silent this long. */
#define ROGUE_FORGET_US (24ull * 3600 * 1000000)
/*
 * The probe is a BIOS PXE client's DISCOVER (option 60 below, option 93 = 0),
 * so that proxyDHCP servers, which answer only PXE clients, answer it too.
 */
#define ROGUE_PROBE_VENDOR_CLASS "PXEClient:Arch:00000:UNDI:002001"
/* The probe as it leaves: IPv4 header (20), UDP header (8), DHCP message. */
#define ROGUE_PROBE_MAX (20 + 8 + DHCP_MAX_LEN)
/* Interfaces watched (conf.h's CONF_MAX_INTERFACES). */
#define ROGUE_MAX_IFACES 16

/* One reply as it was seen: the frame around it, and when. */
struct rogue_seen {
	uint32_t src_ip;    /* IPv4 source, host order */
	uint8_t src_mac[6]; /* Ethernet source: the server, or the relay that forwarded it */
	unsigned ifindex;
	const char *ifname;
	uint64_t wall_us; /* now: wall clock (shown) */
	uint64_t mono_us; /* now: monotonic clock (rate limit, forgetting) */
};

enum rogue_verdict {
	ROGUE_NOT_REPLY, /* not an OFFER, ACK or NAK: nobody speaks as a server */
	ROGUE_OWN,	 /* pxed's own reply (its server identifier, or source) */
	ROGUE_NEW,	 /* another server, first seen now: report it */
	ROGUE_AGAIN,	 /* another server, known and reported within the hour */
	ROGUE_REMIND,	 /* another server still answering, last reported over an hour ago */
	ROGUE_FULL,	 /* another server, not listed: the table is full of recent ones */
};

/* A table entry: the public view and what the table needs besides. */
struct rogue_entry {
	struct rogue_server s;
	unsigned ifindex;
	bool mac_direct;	   /* s.server_mac is the server's own, not a relay's */
	bool relayed;		   /* the last reply came through a relay (giaddr) */
	bool probe_reply;	   /* the last reply answered pxed's probe */
	uint8_t last_type;	   /* DHCPOFFER, DHCPACK or DHCPNAK */
	uint32_t last_relay;	   /* giaddr of the last relayed reply */
	uint64_t last_mono_us;	   /* last seen, monotonic */
	uint64_t reported_mono_us; /* last event, monotonic */
};

/* Servers by (interface, server address); pure, no I/O. */
struct rogue_table {
	uint32_t own[ROGUE_MAX_OWN];
	size_t n_own;
	struct rogue_entry e[ROGUE_MAX];
	size_t n;
	uint8_t probe_macs[ROGUE_MAX_IFACES]
			  [6]; /* chaddr of pxed's probes (replies to them are marked) */
	size_t n_probe_macs;
};

void rogue_table_init(struct rogue_table *t);
/* Counts ip as pxed's own. 0, or -ENOSPC past ROGUE_MAX_OWN. */
int rogue_table_add_own(struct rogue_table *t, uint32_t ip);
bool rogue_table_is_own(const struct rogue_table *t, uint32_t ip);
/* Forgets the own addresses (before they are read again). */
void rogue_table_clear_own(struct rogue_table *t);
/* Replies to chaddr mac are answers to pxed's probe. 0, or -ENOSPC past ROGUE_MAX_IFACES. */
int rogue_table_add_probe_mac(struct rogue_table *t, const uint8_t mac[6]);
bool rogue_table_is_probe_mac(const struct rogue_table *t, const uint8_t mac[6]);

/*
 * Classifies one decoded message seen on the wire and records it when it is
 * another server's reply. The server is its option 54 (RFC 2131 §4.3.1: the
 * server identifier), else the packet's source; a reply is pxed's own when
 * that address is. A relayed reply (giaddr set, forwarded by the relay from
 * its own address) is the server's, not the relay's: its MAC stands in for
 * the server's only until a direct reply shows the server's own. *out (may
 * be NULL) points at the entry for NEW, AGAIN and REMIND.
 */
enum rogue_verdict rogue_table_note(struct rogue_table *t, const struct dhcp_msg *m,
				    const struct rogue_seen *seen, const struct rogue_entry **out);
/* Copies up to cap servers into out, most recently seen first; returns how many. */
size_t rogue_table_list(const struct rogue_table *t, struct rogue_server *out, size_t cap);

/* The IPv4 and UDP headers around a datagram (a packet socket gives the IP packet). */
struct rogue_udp {
	uint32_t src_ip, dst_ip; /* host order */
	uint16_t src_port, dst_port;
	const uint8_t *payload;
	size_t len;
};

/* Parses an IPv4 packet holding one whole UDP datagram. 0, or -EINVAL. */
int rogue_parse_udp(const uint8_t *pkt, size_t len, struct rogue_udp *out);

/*
 * The probe's client MAC on an interface with MAC ifmac: the same address
 * with the locally-administered bit set and bit 2 of the first byte flipped,
 * unicast. It is fixed, so repeated probes meet the same offer instead of
 * draining another server's pool, and it never equals ifmac.
 */
void rogue_probe_mac(const uint8_t ifmac[6], uint8_t out[6]);
/*
 * Builds the probe as an IPv4 packet: 0.0.0.0:68 to 255.255.255.255:67, a
 * DHCPDISCOVER from probe_mac with the broadcast flag (so replies are
 * broadcast: RFC 2131 §4.1) and no requested address. Returns its length
 * or -ENOSPC.
 */
int rogue_probe_build(uint8_t *buf, size_t cap, const uint8_t probe_mac[6], uint32_t xid);

/*
 * Is m pxed's own probe (its chaddr is one of w's probe MACs)? The DHCP
 * server drops those, so a probe heard on another of pxed's interfaces
 * never holds an address. w may be NULL (no detection: false).
 */
bool rogue_is_own_probe(const struct rogue_watch *w, const struct dhcp_msg *m);

/*
 * For tests: a watch with no sockets, interfaces described rather than
 * opened, and the handler that the socket layer calls with each IPv4
 * packet seen on interface ifindex from Ethernet source src_mac.
 */
int rogue_new(struct pxed *d, struct rogue_watch **out);
int rogue_add_iface(struct rogue_watch *w, const char *name, unsigned ifindex,
		    const uint8_t mac[6]);
enum rogue_verdict rogue_handle(struct rogue_watch *w, unsigned ifindex, const uint8_t *pkt,
				size_t len, const uint8_t src_mac[6]);

#endif
