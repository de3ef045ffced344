/*
 * flood: a fast sender of hostile traffic for tests/integration/hostile.sh.
 * It writes whole IPv4/UDP packets through a packet socket on one interface,
 * so the source address can be 0.0.0.0 (a DHCP client without an address)
 * or an address that is nobody's (a spoofed TFTP request). It only sends:
 * it never reads a reply. Run it inside a test's network namespace only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: flood --iface IFACE --count N [--pps N] [--max-seconds S] [--seed N] MODE\n"
    "\n"
    "modes:\n"
    "  --dhcp-discover          DHCPDISCOVERs from 0.0.0.0:68 to 255.255.255.255:67,\n"
    "                           each from a random MAC (or always --mac MAC)\n"
    "  --tftp-rrq FILE          octet RRQs for FILE to --to ADDR port 69 (--port N),\n"
    "                           each from a random address of --sources A-B and a\n"
    "                           random port; --dst-mac MAC is the server's MAC\n"
    "\n"
    "  --pps N                  packets a second at most (default 0: as fast as the\n"
    "                           socket takes them)\n"
    "  --max-seconds S          stop after S seconds even if N were not sent (default 60)\n"
    "\n"
    "prints sent=N seconds=S; exit status 0, 2 usage error, 3 system error.\n";

#define FLOOD_PKT_MAX 600
#define FLOOD_BATCH 32
#define DHCP_LEN 300

struct flood_opts {
	const char *iface;
	long count;
	long pps;
	long max_seconds;
	uint64_t seed;
	bool dhcp;
	bool fixed_mac;
	uint8_t mac[6];
	const char *file;
	uint32_t to; /* host order */
	uint16_t port;
	uint32_t src_first, src_last;
	uint8_t dst_mac[6];
	bool has_dst_mac;
};

static void __attribute__((noreturn)) flood_usage(const char *why)
{
	fprintf(stderr, "flood: %s\n%s", why, usage_text);
	exit(2);
}

static long flood_num(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		flood_usage("a number is out of range");
	return v;
}

static uint32_t flood_ip(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		flood_usage("not an IPv4 address");
	return ntohl(a.s_addr);
}

static void flood_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];

	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		flood_usage("not a MAC address");
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			flood_usage("not a MAC address");
		mac[i] = (uint8_t)v[i];
	}
}

static void flood_sources(struct flood_opts *o, const char *s)
{
	char buf[40];
	char *dash;

	snprintf(buf, sizeof(buf), "%s", s);
	dash = strchr(buf, '-');
	if (dash == NULL)
		flood_usage("--sources: expected A-B");
	*dash = '\0';
	o->src_first = flood_ip(buf);
	o->src_last = flood_ip(dash + 1);
	if (o->src_last < o->src_first || o->src_last - o->src_first > 65535)
		flood_usage("--sources: B before A, or more than 65536 addresses");
}

static void flood_parse(int argc, char **argv, struct flood_opts *o)
{
	static const struct option opts[] = {
	    {"iface", required_argument, NULL, 'i'},
	    {"count", required_argument, NULL, 'n'},
	    {"pps", required_argument, NULL, 'p'},
	    {"max-seconds", required_argument, NULL, 'S'},
	    {"seed", required_argument, NULL, 's'},
	    {"dhcp-discover", no_argument, NULL, 'd'},
	    {"mac", required_argument, NULL, 'm'},
	    {"tftp-rrq", required_argument, NULL, 'r'},
	    {"to", required_argument, NULL, 't'},
	    {"port", required_argument, NULL, 'P'},
	    {"sources", required_argument, NULL, 'a'},
	    {"dst-mac", required_argument, NULL, 'D'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->max_seconds = 60;
	o->port = 69;
	o->seed = (uint64_t)time(NULL) ^ (uint64_t)getpid();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->iface = optarg;
			break;
		case 'n':
			o->count = flood_num(optarg, 1, 10000000);
			break;
		case 'p':
			o->pps = flood_num(optarg, 0, 10000000);
			break;
		case 'S':
			o->max_seconds = flood_num(optarg, 1, 600);
			break;
		case 's':
			o->seed = (uint64_t)flood_num(optarg, 0, 0x7fffffffL);
			break;
		case 'd':
			o->dhcp = true;
			break;
		case 'm':
			flood_mac(optarg, o->mac);
			o->fixed_mac = true;
			break;
		case 'r':
			o->file = optarg;
			break;
		case 't':
			o->to = flood_ip(optarg);
			break;
		case 'P':
			o->port = (uint16_t)flood_num(optarg, 1, 65535);
			break;
		case 'a':
			flood_sources(o, optarg);
			break;
		case 'D':
			flood_mac(optarg, o->dst_mac);
			o->has_dst_mac = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		default:
			flood_usage("unknown option");
		}
	}
	if (o->iface == NULL || o->count == 0 || o->dhcp == (o->file != NULL))
		flood_usage("--iface, --count and one mode are required");
	if (o->file != NULL &&
	    (o->to == 0 || o->src_first == 0 || !o->has_dst_mac || strlen(o->file) > 255))
		flood_usage("--tftp-rrq needs --to, --sources and --dst-mac (and a short name)");
}

static uint32_t flood_rand(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*s >> 33);
}

static uint16_t flood_ip_csum(const uint8_t *h, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* IPv4 and UDP headers (UDP checksum 0: none, RFC 768) in front of a payload of len. */
static size_t flood_headers(uint8_t *p, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
			    size_t len, uint16_t id)
{
	memset(p, 0, 28);
	p[0] = 0x45;
	put16(p + 2, (uint16_t)(28 + len));
	put16(p + 4, id);
	p[8] = 64;
	p[9] = 17;
	put32(p + 12, src);
	put32(p + 16, dst);
	put16(p + 10, flood_ip_csum(p, 20));
	put16(p + 20, sport);
	put16(p + 22, dport);
	put16(p + 24, (uint16_t)(8 + len));
	return 28 + len;
}

static size_t flood_dhcp(const struct flood_opts *o, uint64_t *rng, uint8_t *p)
{
	static const uint8_t opts[] = {53, 1, 1, 55, 6, 1, 3, 6, 15, 66, 67, 255};
	uint8_t *d = p + 28;
	uint32_t r = flood_rand(rng);

	memset(d, 0, DHCP_LEN);
	d[0] = 1, d[1] = 1, d[2] = 6;
	put32(d + 4, flood_rand(rng)); /* xid */
	put16(d + 10, 0x8000);	       /* broadcast flag */
	if (o->fixed_mac) {
		memcpy(d + 28, o->mac, 6);
	} else {
		d[28] = 0x02; /* locally administered, unicast */
		d[29] = 0x66;
		put32(d + 30, r);
	}
	put32(d + 236, 0x63825363);
	memcpy(d + 240, opts, sizeof(opts));
	return flood_headers(p, 0, 0xffffffffu, 68, 67, DHCP_LEN, (uint16_t)r);
}

static size_t flood_rrq(const struct flood_opts *o, uint64_t *rng, uint8_t *p)
{
	uint8_t *d = p + 28;
	size_t n = strlen(o->file);
	uint32_t span = o->src_last - o->src_first + 1;
	uint32_t src = o->src_first + flood_rand(rng) % span;
	uint16_t sport = (uint16_t)(1024 + flood_rand(rng) % 64000);

	d[0] = 0, d[1] = 1;
	memcpy(d + 2, o->file, n);
	d[2 + n] = 0;
	memcpy(d + 3 + n, "octet", 6);
	return flood_headers(p, src, o->to, sport, o->port, 9 + n, (uint16_t)sport);
}

static double flood_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct flood_opts o;
	struct sockaddr_ll to = {
	    .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_halen = 6};
	static uint8_t pkts[FLOOD_BATCH][FLOOD_PKT_MAX];
	struct mmsghdr mm[FLOOD_BATCH];
	struct iovec iov[FLOOD_BATCH];
	uint64_t rng;
	long sent = 0;
	double t0, now;
	int fd;

	flood_parse(argc, argv, &o);
	rng = o.seed * 2654435761u + 1;
	to.sll_ifindex = (int)if_nametoindex(o.iface);
	if (to.sll_ifindex == 0) {
		perror("flood: interface");
		return 3;
	}
	memcpy(to.sll_addr,
	       o.dhcp ? (const uint8_t[6]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff} : o.dst_mac, 6);
	fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
	if (fd < 0) {
		perror("flood: packet socket");
		return 3;
	}
	t0 = flood_now();
	while (sent < o.count && (now = flood_now()) - t0 < (double)o.max_seconds) {
		long n = o.count - sent < FLOOD_BATCH ? o.count - sent : FLOOD_BATCH;
		int r;

		if (o.pps > 0 && (double)sent > (now - t0) * (double)o.pps) {
			usleep(1000);
			continue;
		}
		for (long i = 0; i < n; i++) {
			size_t len =
			    o.dhcp ? flood_dhcp(&o, &rng, pkts[i]) : flood_rrq(&o, &rng, pkts[i]);
			iov[i] = (struct iovec){.iov_base = pkts[i], .iov_len = len};
			mm[i] = (struct mmsghdr){.msg_hdr = {.msg_name = &to,
							     .msg_namelen = sizeof(to),
							     .msg_iov = &iov[i],
							     .msg_iovlen = 1}};
		}
		r = sendmmsg(fd, mm, (unsigned)n, 0);
		if (r < 0 && (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)) {
			usleep(1000);
			continue;
		}
		if (r < 0) {
			perror("flood: send");
			return 3;
		}
		sent += r;
	}
	printf("sent=%ld\nseconds=%.2f\n", sent, flood_now() - t0);
	close(fd);
	return 0;
}
