/* Small helpers shared by every module: addresses, MACs, time, numbers. */
#ifndef PXED_CORE_UTIL_H
#define PXED_CORE_UTIL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PXED_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Microseconds on the monotonic clock (timers, durations). */
uint64_t now_mono_us(void);
/* Microseconds since the epoch (timestamps that are stored). */
int64_t now_wall_us(void);

/* "52:54:00:aa:00:01" (out must hold 18 bytes). */
char *mac_format(char out[18], const uint8_t mac[6]);
/* "52-54-00-aa-00-01", the form used in file names (18 bytes). */
char *mac_format_dash(char out[18], const uint8_t mac[6]);
/* The value of one hexadecimal digit (either case), or -1. */
int hex_digit(char c);
/* FNV-1a of a MAC: for the tables indexed by client. */
/* FNV-1a (32 bits) of n bytes: hash tables keyed by MACs, addresses or names. */
uint32_t fnv1a32(const void *p, size_t n);
uint32_t mac_hash(const uint8_t mac[6]);
/* FNV-1a (32 bits) of n bytes: tables keyed by addresses or names. */
uint32_t fnv1a32(const void *p, size_t n);
/* Accepts colons or dashes; 0 on success, -EINVAL otherwise. */
int mac_parse(const char *s, uint8_t mac[6]);

/* Dotted quad of a host-order IPv4 address (out must hold 16 bytes). */
char *ip4_format(char out[16], uint32_t ip);
/* Host-order IPv4 address from a dotted quad; 0 on success, -EINVAL otherwise. */
int ip4_parse(const char *s, uint32_t *ip);

/*
 * Strict decimal parsing: the whole string must be a number within
 * [min, max]. Returns 0 or -EINVAL / -ERANGE. Never atoi-and-clamp.
 */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Reads an interface's first IPv4 address and prefix length; 0 or -errno. */
int iface_ipv4(const char *ifname, uint32_t *addr, int *prefix_len);
/* Reads an interface's index; 0 or -errno. */
int iface_index(const char *ifname, unsigned *index);

/* The gateway of a default route through ifname (/proc/net/route); 0 or -ENOENT. */
int iface_default_gateway(const char *ifname, uint32_t *gw);

static inline uint32_t prefix_mask(int prefix_len)
{
	return prefix_len <= 0	  ? 0
	       : prefix_len >= 32 ? 0xffffffffu
				  : ~((1u << (32 - prefix_len)) - 1);
}

#endif
