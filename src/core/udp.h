/*
 * UDP sockets that know which interface and local address a datagram came
 * in on (IP_PKTINFO), so a reply leaves from that same interface and address.
 */
#ifndef PXED_CORE_UDP_H
#define PXED_CORE_UDP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct udp_meta {
	struct sockaddr_in peer; /* source of a received datagram */
	uint32_t local_ip;	 /* host order: the address the datagram was sent to */
	unsigned ifindex;	 /* interface it arrived on */
};

#define UDP_BROADCAST 0x1 /* SO_BROADCAST */
#define UDP_REUSEADDR 0x2 /* SO_REUSEADDR */
#define UDP_BIGBUF 0x4	  /* a receive buffer for bursts: UDP_BIGBUF_BYTES */
#define UDP_BIGBUF_BYTES (4 << 20)
#define UDP_NO_PKTINFO 0x8 /* a socket that needs no IP_PKTINFO (it only replies to one peer) */
#define UDP_REUSEPORT 0x10 /* SO_REUSEPORT: sockets of this same user may share the port */

/*
 * Opens a non-blocking UDP socket bound to ip:port (host order; 0 = any),
 * with IP_PKTINFO on unless UDP_NO_PKTINFO. When ifname is not NULL the
 * socket is bound to that device (SO_BINDTODEVICE). Returns the descriptor
 * or -errno.
 */
int udp_open(uint32_t ip, uint16_t port, const char *ifname, unsigned flags);

/* Receives one datagram and its metadata; returns its length or -errno. */
ssize_t udp_recv(int fd, void *buf, size_t cap, struct udp_meta *meta);

/*
 * Sends one datagram to dst (host-order ip and port). When ifindex or src_ip
 * are non-zero they choose the outgoing interface and source address.
 * Returns 0 or -errno.
 */
int udp_send(int fd, const void *buf, size_t len, uint32_t dst_ip, uint16_t dst_port,
	     unsigned ifindex, uint32_t src_ip);

#endif
