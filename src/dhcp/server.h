/*
 * DHCP on ports 67 and 4011: a full server (addresses from the pools, leases
 * durable before the ACK), or proxyDHCP (boot information only), and the
 * PXE boot server on 4011 in both modes.
 */
#ifndef PXED_DHCP_SERVER_H
#define PXED_DHCP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pxed;
struct conf;
struct dhcp_server;
struct dhcp_msg;
struct boot_facts;

/* Opens 67 and 4011 on every configured interface. 0 or -errno. */
int dhcp_server_start(struct pxed *d, struct dhcp_server **out);
void dhcp_server_stop(struct dhcp_server *s);

/*
 * For tests and fuzzers: a server with no sockets, and interfaces described
 * rather than opened, so dhcp_server_handle() can be called with bytes.
 */
int dhcp_server_new(struct pxed *d, struct dhcp_server **out);
int dhcp_server_add_iface(struct dhcp_server *s, const char *name, unsigned ifindex, uint32_t ip,
			  int prefix_len);

/* One pool's usage now, for the status view and the metrics. */
struct dhcp_pool_usage {
	uint32_t network; /* the subnet, host order */
	int prefix_len;
	uint32_t first, last, size; /* the pool's range */
	uint32_t leased, offered, declined, reserved, free;
};

/*
 * Copies the usage of up to cap pools (the subnets that have one, in the
 * config's order) into out; returns how many. Read-only: one pass over
 * each pool's addresses.
 */
size_t dhcp_server_pools(const struct dhcp_server *s, struct dhcp_pool_usage *out, size_t cap);

/* What a client told us about itself (pure). */
void dhcp_facts(const struct dhcp_msg *m, struct boot_facts *f);

/*
 * Handles one datagram as if it arrived on interface ifindex at local port
 * `port` (67 or 4011) from peer. Fills out with the reply, if any, and where
 * it must go. Returns the reply length, 0 when there is no reply, or -errno.
 * The socket layer and the fuzzers both call this.
 */
struct dhcp_dest {
	uint32_t ip;
	uint16_t port;
	unsigned ifindex;
	uint32_t src_ip;
	bool grants_lease; /* an ACK whose lease was written: send only once durable */
};

int dhcp_server_handle(struct dhcp_server *s, const uint8_t *buf, size_t len, unsigned ifindex,
		       uint16_t port, uint32_t peer_ip, uint16_t peer_port, uint8_t *out,
		       size_t cap, struct dhcp_dest *dest);

/*
 * A turn (the socket layer's group commit; tests call these too): the
 * leases granted by dhcp_server_handle() between the two calls are written
 * in one store transaction, and their ACKs are recorded (event, log, live
 * view) only by dhcp_server_turn_end(), after its commit: as sent, or, when
 * the commit failed, as withheld. Outside a turn a lease is durable when
 * written, and its ACK is recorded at once. Both return 0 or -errno
 * (turn_begin: -EBUSY when a turn is open, -EIO when no batch could begin;
 * turn_end: -EIO when the commit failed).
 */
int dhcp_server_turn_begin(struct dhcp_server *s);
int dhcp_server_turn_end(struct dhcp_server *s);

/*
 * d->conf was replaced (daemon/snapshot.c; old is still valid). Pools are
 * matched to the new subnets by network, prefix and range, whatever their
 * order: a pool kept keeps its offers, leases and declines, and only its
 * reservations that changed are applied; a pool whose range is new is built
 * from the store and the new reservations, and keeps the offers still in
 * range. 0, or -errno (-ENOMEM, -EIO: a pool could not be built): then the
 * old pools stay as they were (in the new subnets' order) and reservations
 * are unchanged.
 */
int dhcp_server_conf_changed(struct dhcp_server *s, const struct conf *old);

#endif
