#include "core/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t now_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int64_t now_wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static char *mac_format_sep(char out[18], const uint8_t mac[6], char sep)
{
	snprintf(out, 18, "%02x%c%02x%c%02x%c%02x%c%02x%c%02x", mac[0], sep, mac[1], sep, mac[2],
		 sep, mac[3], sep, mac[4], sep, mac[5]);
	return out;
}

uint32_t fnv1a32(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

uint32_t mac_hash(const uint8_t mac[6])
{
	return fnv1a32(mac, 6);
}

char *mac_format(char out[18], const uint8_t mac[6])
{
	return mac_format_sep(out, mac, ':');
}

char *mac_format_dash(char out[18], const uint8_t mac[6])
{
	return mac_format_sep(out, mac, '-');
}

int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int mac_parse(const char *s, uint8_t mac[6])
{
	if (strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit(s[i * 3]), lo = hex_digit(s[i * 3 + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		if (i < 5 && s[i * 3 + 2] != ':' && s[i * 3 + 2] != '-')
			return -EINVAL;
		if (i < 5 && s[i * 3 + 2] != s[2])
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

char *ip4_format(char out[16], uint32_t ip)
{
	snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
	return out;
}

int ip4_parse(const char *s, uint32_t *ip)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*ip = ntohl(a.s_addr);
	return 0;
}

int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int iface_ipv4(const char *ifname, uint32_t *addr, int *prefix_len)
{
	struct ifaddrs *ifa, *i;
	int rc = -EADDRNOTAVAIL;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET ||
		    strcmp(i->ifa_name, ifname) != 0)
			continue;
		*addr = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
		uint32_t m = ntohl(((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr);
		*prefix_len = __builtin_popcount(m);
		rc = 0;
		break;
	}
	freeifaddrs(ifa);
	return rc;
}

int iface_index(const char *ifname, unsigned *index)
{
	unsigned i = if_nametoindex(ifname);
	if (i == 0)
		return -errno;
	*index = i;
	return 0;
}

int iface_default_gateway(const char *ifname, uint32_t *gw)
{
	char line[256], name[64];
	unsigned dest, gateway, flags;
	int rc = -ENOENT;
	FILE *f = fopen("/proc/net/route", "re");
	if (f == NULL)
		return -errno;
	while (rc != 0 && fgets(line, sizeof(line), f) != NULL) {
		/* Iface Destination Gateway Flags ... in hex, network byte order. */
		if (sscanf(line, "%63s %x %x %x", name, &dest, &gateway, &flags) == 4 &&
		    strcmp(name, ifname) == 0 && dest == 0 && (flags & 0x2) && gateway != 0) {
			*gw = ntohl(gateway);
			rc = 0;
		}
	}
	fclose(f);
	return rc;
}
