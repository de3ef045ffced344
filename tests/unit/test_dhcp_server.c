/*
 * The whole DHCP message handler, bytes in and reply out, with a real store
 * in a temporary directory and no sockets.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf/config.h"
#include "dhcp/server.h"
#include "dhcp/wire.h"
#include "obs/live.h"
#include "obs/obs.h"
#include "pxed.h"
#include "store/discovered.h"
#include "store/store.h"

#define SERVER 0x0a4d0001u /* 10.77.0.1 */
#define RELAY 0x0a4e0001u  /* 10.78.0.1 */

struct fx {
	struct pxed d;
	struct conf *c;
	struct dhcp_server *s;
	char dir[64];
};

static void add_subnet(struct conf *c, uint32_t net, uint32_t first, uint32_t last)
{
	struct conf_subnet *sn = &c->subnets[c->n_subnets++];
	sn->network = net;
	sn->prefix_len = 24;
	sn->pool_first = first;
	sn->pool_last = last;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/pxed-handler-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->c = conf_new_defaults();
	add_subnet(f->c, 0x0a4d0000u, 0x0a4d0064u, 0x0a4d0065u);
	add_subnet(f->c, 0x0a4e0000u, 0x0a4e0064u, 0x0a4e00c8u);
	f->d.conf = f->c;
	if (store_open(f->dir, &f->d.store) < 0 || obs_open(f->d.store, &f->d.obs) < 0 ||
	    dhcp_server_new(&f->d, &f->s) < 0 ||
	    dhcp_server_add_iface(f->s, "t0", 1, SERVER, 24) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	dhcp_server_stop(f->s);
	obs_close(f->d.obs);
	store_close(f->d.store);
	conf_free(f->c);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	int rc = system(cmd);
	free(f);
	return rc == 0 ? 0 : -1;
}

/* A request: type, MAC's last byte, then extra option bytes (ending with END). */
static size_t req(uint8_t *buf, uint8_t type, uint8_t last, const uint8_t *opts, size_t n)
{
	memset(buf, 0, DHCP_MIN_LEN);
	buf[0] = 1, buf[1] = 1, buf[2] = 6;
	buf[4] = 1, buf[7] = last; /* xid */
	const uint8_t mac[6] = {0x52, 0x54, 0, 0, 0, last};
	memcpy(buf + 28, mac, 6);
	buf[236] = 0x63, buf[237] = 0x82, buf[238] = 0x53, buf[239] = 0x63;
	buf[240] = 53, buf[241] = 1, buf[242] = type;
	memcpy(buf + 243, opts, n);
	return 243 + n;
}

static int handle(struct fx *f, const uint8_t *in, size_t n, uint8_t *out, struct dhcp_msg *m,
		  struct dhcp_dest *dest)
{
	int r = dhcp_server_handle(f->s, in, n, 1, 67, 0, 68, out, DHCP_MAX_LEN, dest);
	if (r > 0) {
		out[0] = 1; /* decode the reply with the request decoder */
		assert_int_equal(dhcp_decode(out, (size_t)r, m), DHCP_OK);
	}
	return r;
}

/* Offset of option code (END included) in a reply's options field, or -1. */
static int opt_pos(const uint8_t *out, int len, uint8_t code)
{
	for (int i = DHCP_MIN_LEN; i < len;) {
		if (out[i] == code)
			return i;
		if (out[i] == 255)
			return -1;
		i += out[i] == 0 ? 1 : 2 + out[i + 1];
	}
	return -1;
}

static void test_prl_order(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	const uint8_t opts[] = {55, 3, 28, 1, 51, 255};
	int r = handle(f, in, req(in, DHCPDISCOVER, 1, opts, sizeof(opts)), out, &m, &d);
	assert_true(r >= DHCP_MIN_REPLY_LEN);
	assert_int_equal(dhcp_msg_type(&m), DHCPOFFER);
	/* 53 and 54 first, then 28, 1, 51 in the client's order. */
	assert_int_equal(opt_pos(out, r, 53), DHCP_MIN_LEN);
	assert_true(opt_pos(out, r, 28) < opt_pos(out, r, 1));
	assert_true(opt_pos(out, r, 1) < opt_pos(out, r, 51));
	assert_true(opt_pos(out, r, 51) < opt_pos(out, r, 58));
	assert_int_equal(d.ip, 0xffffffffu); /* no address yet: broadcast */
}

static void test_unrequested_options(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	f->c->subnets[0].domain = strdup("lab.example");
	/* With a request list that does not name 15, the domain is not sent... */
	const uint8_t prl[] = {55, 2, 1, 3, 255};
	assert_true(handle(f, in, req(in, DHCPDISCOVER, 8, prl, sizeof(prl)), out, &m, &d) > 0);
	assert_null(dhcp_opt(&m, DHCP_OPT_DOMAIN, NULL));
	assert_non_null(dhcp_opt(&m, DHCP_OPT_LEASE_TIME, NULL)); /* always sent */
	/* ...and without a request list, everything that applies is. */
	const uint8_t none[] = {255};
	assert_true(handle(f, in, req(in, DHCPDISCOVER, 8, none, sizeof(none)), out, &m, &d) > 0);
	assert_non_null(dhcp_opt(&m, DHCP_OPT_DOMAIN, NULL));
}

static void test_relay_82_echo_and_link(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	const uint8_t opts[] = {82, 8, 1, 2, 'a', 'b', 2, 2, 'c', 'd', 255};
	size_t n = req(in, DHCPDISCOVER, 2, opts, sizeof(opts));
	in[3] = 1;					  /* hops */
	in[24] = 10, in[25] = 78, in[26] = 0, in[27] = 1; /* giaddr 10.78.0.1 */
	int r = handle(f, in, n, out, &m, &d);
	assert_true(r > 0);
	assert_int_equal(m.yiaddr >> 8, RELAY >> 8); /* from the relay's subnet */
	assert_int_equal(d.ip, RELAY);
	assert_int_equal(d.port, 67);
	size_t l;
	const uint8_t *o82 = dhcp_opt(&m, 82, &l);
	assert_non_null(o82);
	assert_int_equal(l, 8);
	assert_int_equal(opt_pos(out, r, 255) - opt_pos(out, r, 82), 10); /* 82 is last */
	/* RFC 3527 link selection overrides giaddr. */
	const uint8_t link[] = {82, 6, 5, 4, 10, 77, 0, 9, 255};
	n = req(in, DHCPDISCOVER, 3, link, sizeof(link));
	in[24] = 10, in[25] = 78, in[26] = 0, in[27] = 1;
	r = handle(f, in, n, out, &m, &d);
	assert_true(r > 0);
	assert_int_equal(m.yiaddr >> 8, SERVER >> 8);
}

static void test_bad_relay_input_dropped(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	const uint8_t none[] = {255};
	size_t n = req(in, DHCPDISCOVER, 4, none, sizeof(none));
	in[3] = 17; /* hops over 16 */
	assert_int_equal(handle(f, in, n, out, &m, &d), 0);
	const uint8_t bad82[] = {82, 4, 1, 9, 'x', 'y', 255}; /* sub-option runs past 82 */
	n = req(in, DHCPDISCOVER, 4, bad82, sizeof(bad82));
	assert_int_equal(handle(f, in, n, out, &m, &d), 0);
	assert_int_equal(f->d.metrics.c[METRIC_DHCP_BAD], 2);
}

static void test_init_reboot(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	/* No record of this client, an address we cannot fault: silence (§4.3.2). */
	const uint8_t free_ip[] = {50, 4, 10, 77, 0, 100, 255};
	size_t n = req(in, DHCPREQUEST, 5, free_ip, sizeof(free_ip));
	assert_int_equal(handle(f, in, n, out, &m, &d), 0);
	/* Another network: NAK. */
	const uint8_t wrong[] = {50, 4, 192, 168, 1, 5, 255};
	n = req(in, DHCPREQUEST, 5, wrong, sizeof(wrong));
	assert_true(handle(f, in, n, out, &m, &d) > 0);
	assert_int_equal(dhcp_msg_type(&m), DHCPNAK);
}

static void test_small_max_size_drops_unrequested(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	/*
	 * 300 bytes of classless routes (option 121 may exceed 255 bytes, RFC
	 * 3396) cannot fit 576 bytes with everything else, nor file or sname.
	 */
	f->c->options.v = calloc(1, sizeof(*f->c->options.v));
	f->c->options.n = 1;
	f->c->options.v[0].code = 121;
	f->c->options.v[0].len = 300;
	f->c->options.v[0].data = calloc(1, 300);
	const uint8_t opts[] = {57, 2, 2, 64, 55, 3, 1, 3, 121, 255}; /* max 576, asks for 121 */
	int r = handle(f, in, req(in, DHCPDISCOVER, 6, opts, sizeof(opts)), out, &m, &d);
	assert_true(r > 0 && r <= 576 - 28);
	assert_non_null(dhcp_opt(&m, DHCP_OPT_SUBNET_MASK, NULL));
	assert_null(dhcp_opt(&m, 121, NULL));
	/* With room for it (option 57 = 1500) it is sent, split in two parts. */
	const uint8_t big[] = {57, 2, 5, 220, 55, 1, 121, 255};
	r = handle(f, in, req(in, DHCPDISCOVER, 6, big, sizeof(big)), out, &m, &d);
	size_t l;
	assert_non_null(dhcp_opt(&m, 121, &l));
	assert_int_equal(l, 300);
	assert_int_equal(out[opt_pos(out, r, 121) + 1], 255); /* the first part is full */
}

static void test_overload_into_file(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	size_t l;
	/*
	 * A 230-byte domain (option 15) and 100 bytes of option 252 do not both
	 * fit 576 bytes: 252, written after 15, spills into the file field.
	 */
	f->c->subnets[0].domain = malloc(231);
	memset(f->c->subnets[0].domain, 'd', 230);
	f->c->subnets[0].domain[230] = '\0';
	f->c->options.v = calloc(1, sizeof(*f->c->options.v));
	f->c->options.n = 1;
	f->c->options.v[0].code = 252;
	f->c->options.v[0].len = 100;
	f->c->options.v[0].data = malloc(100);
	memset(f->c->options.v[0].data, 'w', 100);
	const uint8_t opts[] = {57, 2, 2, 64, 255};
	int r = handle(f, in, req(in, DHCPDISCOVER, 7, opts, sizeof(opts)), out, &m, &d);
	assert_true(r > 0 && r <= 576 - 28);
	/* The decoder reads them back from the file field (RFC 2131 §4.1). */
	assert_true(m.overload_file);
	assert_non_null(dhcp_opt(&m, DHCP_OPT_DOMAIN, &l));
	assert_int_equal(l, 230);
	assert_non_null(dhcp_opt(&m, 252, &l));
	assert_int_equal(l, 100);
}

static void test_client_id_reservation(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	/* Pool 10.77.0.100-101; .101 is reserved for client id 01:aa:bb. */
	f->c->hosts = calloc(1, sizeof(*f->c->hosts));
	f->c->n_hosts = 1;
	f->c->hosts[0].client_id_len = 3;
	memcpy(f->c->hosts[0].client_id, "\x01\xaa\xbb", 3);
	f->c->hosts[0].address = 0x0a4d0065u;
	conf_sort_hosts(f->c);
	dhcp_server_stop(f->s); /* the pools read reservations when the server starts */
	assert_int_equal(dhcp_server_new(&f->d, &f->s), 0);
	assert_int_equal(dhcp_server_add_iface(f->s, "t0", 1, SERVER, 24), 0);
	const uint8_t cid[] = {61, 3, 1, 0xaa, 0xbb, 255};
	assert_true(handle(f, in, req(in, DHCPDISCOVER, 9, cid, sizeof(cid)), out, &m, &d) > 0);
	assert_int_equal(m.yiaddr, 0x0a4d0065u);
	const uint8_t none[] = {255};
	assert_true(handle(f, in, req(in, DHCPDISCOVER, 10, none, sizeof(none)), out, &m, &d) > 0);
	assert_int_equal(m.yiaddr, 0x0a4d0064u);
	/* The pool's other address is reserved: a third client gets no offer. */
	assert_int_equal(handle(f, in, req(in, DHCPDISCOVER, 11, none, sizeof(none)), out, &m, &d),
			 0);
}

static void set_opt(struct conf_options *o, const char *text)
{
	o->v = calloc(1, sizeof(*o->v));
	o->n = 1;
	o->v[0].code = 252;
	o->v[0].len = (uint16_t)strlen(text);
	o->v[0].data = (uint8_t *)strdup(text);
}

static void test_option_precedence(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	size_t l;
	/* Option 252 at three levels: global, a class of PXE clients, one host. */
	set_opt(&f->c->options, "global");
	struct conf_class *cl = &f->c->classes[f->c->n_classes++];
	cl->name = strdup("pxe");
	cl->match.vendor_class_prefix = strdup("PXEClient");
	set_opt(&cl->options, "class");
	f->c->hosts = calloc(1, sizeof(*f->c->hosts));
	f->c->n_hosts = 1;
	const uint8_t hmac[6] = {0x52, 0x54, 0, 0, 0, 12};
	memcpy(f->c->hosts[0].mac, hmac, 6);
	f->c->hosts[0].has_mac = true;
	set_opt(&f->c->hosts[0].options, "host");
	conf_sort_hosts(f->c);

	const uint8_t plain[] = {55, 1, 252, 255};
	const uint8_t pxe[] = {55, 1, 252, 60, 9, 'P', 'X', 'E', 'C', 'l', 'i', 'e', 'n', 't', 255};
	struct {
		uint8_t last;
		const uint8_t *opts;
		size_t n;
		const char *want;
	} cases[] = {
	    {13, plain, sizeof(plain), "global"},
	    {13, pxe, sizeof(pxe), "class"},
	    {12, pxe, sizeof(pxe), "host"}, /* the host wins over its class */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_true(handle(f, in,
				   req(in, DHCPDISCOVER, cases[i].last, cases[i].opts, cases[i].n),
				   out, &m, &d) > 0);
		const uint8_t *v = dhcp_opt(&m, 252, &l);
		assert_non_null(v);
		assert_int_equal(l, strlen(cases[i].want));
		assert_memory_equal(v, cases[i].want, l);
	}
}

static void test_lease_limit(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	f->c->max_leases = 1;
	const uint8_t want[] = {50, 4, 10, 77, 0, 100, 54, 4, 10, 77, 0, 1, 255};
	const uint8_t none[] = {255};
	/* The first client takes the only lease the limit allows... */
	assert_true(handle(f, in, req(in, DHCPREQUEST, 20, want, sizeof(want)), out, &m, &d) > 0);
	assert_int_equal(dhcp_msg_type(&m), DHCPACK);
	/* ...a second one gets no offer, although the pool has another address... */
	assert_int_equal(handle(f, in, req(in, DHCPDISCOVER, 21, none, sizeof(none)), out, &m, &d),
			 0);
	/* ...nor an ACK when it asks for that address straight away (a NAK)... */
	const uint8_t other[] = {50, 4, 10, 77, 0, 101, 54, 4, 10, 77, 0, 1, 255};
	assert_true(handle(f, in, req(in, DHCPREQUEST, 21, other, sizeof(other)), out, &m, &d) > 0);
	assert_int_equal(dhcp_msg_type(&m), DHCPNAK);
	/* ...and the first one still gets its own. */
	assert_true(handle(f, in, req(in, DHCPDISCOVER, 20, none, sizeof(none)), out, &m, &d) > 0);
	assert_int_equal(m.yiaddr, 0x0a4d0064u);
}

static void test_uefi_http_boot(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	size_t l;
	struct conf_profile *p = &f->c->profiles[f->c->n_profiles++];
	p->name = strdup("p");
	p->kernel = strdup("/k");
	f->c->default_profile = strdup("p");
	/* UEFI HTTP Boot (arch 16): HTTPClient echoed, a full URL as the boot file. */
	const uint8_t opts[] = {60,  10,  'H', 'T', 'T', 'P', 'C', 'l', 'i',
				'e', 'n', 't', 93,  2,	 0,   16,  255};
	assert_true(handle(f, in, req(in, DHCPDISCOVER, 22, opts, sizeof(opts)), out, &m, &d) > 0);
	const uint8_t *vc = dhcp_opt(&m, DHCP_OPT_VENDOR_CLASS, &l);
	assert_non_null(vc);
	assert_int_equal(l, 10);
	assert_memory_equal(vc, "HTTPClient", 10);
	assert_string_equal((const char *)m.file, "http://10.77.0.1/ipxe.efi");
}

static void test_padded_hostname(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	struct store_lease l;
	/* An old ROM pads its host name with NULs and 0xFF: they are not part of it. */
	const uint8_t opts[] = {50, 4,	10, 77,	 0,   100, 54, 4,    10, 77, 0,
				1,  12, 6,  'p', 'c', '1', 0,  0xff, 0,	 255};
	assert_true(handle(f, in, req(in, DHCPREQUEST, 23, opts, sizeof(opts)), out, &m, &d) > 0);
	assert_int_equal(store_lease_by_ip(f->d.store, 0x0a4d0064u, &l), 0);
	assert_string_equal(l.hostname, "pc1");
}

static void test_decline_by_another_client(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	struct store_lease l;
	const uint8_t want[] = {50, 4, 10, 77, 0, 100, 54, 4, 10, 77, 0, 1, 255};
	assert_true(handle(f, in, req(in, DHCPREQUEST, 30, want, sizeof(want)), out, &m, &d) > 0);
	/* Another MAC declines 10.77.0.100: ignored, the owner's lease stays. */
	const uint8_t dec[] = {50, 4, 10, 77, 0, 100, 54, 4, 10, 77, 0, 1, 255};
	assert_int_equal(handle(f, in, req(in, DHCPDECLINE, 31, dec, sizeof(dec)), out, &m, &d), 0);
	assert_int_equal(store_lease_by_ip(f->d.store, 0x0a4d0064u, &l), 0);
	assert_int_equal(l.mac[5], 30);
	assert_int_equal(store_declined_until(f->d.store, 0x0a4d0064u), 0);
}

/* Stops the server and starts it again on f->c (the limits are read at start). */
static void restart(struct fx *f)
{
	dhcp_server_stop(f->s);
	assert_int_equal(dhcp_server_new(&f->d, &f->s), 0);
	assert_int_equal(dhcp_server_add_iface(f->s, "t0", 1, SERVER, 24), 0);
}

/* A DISCOVER relayed from 10.78.0.1 for MAC 52:54:<4 bytes of x>. */
static size_t relayed_discover(uint8_t *in, uint32_t x)
{
	const uint8_t none[] = {255};
	size_t n = req(in, DHCPDISCOVER, 0, none, sizeof(none));
	memcpy(in + 30, &x, 4);
	in[24] = 10, in[25] = 78, in[26] = 0, in[27] = 1;
	return n;
}

/* A SELECTING REQUEST relayed from 10.78.0.1 by MAC 52:54:0:0:0:last for 10.78.0.ip. */
static size_t relayed_request(uint8_t *in, uint8_t last, uint8_t ip)
{
	const uint8_t want[] = {50, 4, 10, 78, 0, ip, 54, 4, 10, 77, 0, 1, 255};
	size_t n = req(in, DHCPREQUEST, last, want, sizeof(want));
	in[24] = 10, in[25] = 78, in[26] = 0, in[27] = 1;
	return n;
}

/* A relayed SELECTING REQUEST from MAC 52:54:0:0:0:last for ip (the offer's). */
static size_t relayed_request_ip(uint8_t *in, uint8_t last, uint32_t ip)
{
	uint8_t want[] = {50, 4, 0, 0, 0, 0, 54, 4, 10, 77, 0, 1, 255};
	want[2] = (uint8_t)(ip >> 24), want[3] = (uint8_t)(ip >> 16);
	want[4] = (uint8_t)(ip >> 8), want[5] = (uint8_t)ip;
	size_t n = req(in, DHCPREQUEST, last, want, sizeof(want));
	in[24] = 10, in[25] = 78, in[26] = 0, in[27] = 1;
	return n;
}

/* n DISCOVERs from random MACs; none may be offered avoid1 or avoid2. Returns the offers. */
static size_t flood(struct fx *f, int n, uint32_t avoid1, uint32_t avoid2)
{
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	size_t offers = 0;
	for (int i = 0; i < n; i++) {
		if (handle(f, in, relayed_discover(in, (uint32_t)rand()), out, &m, &d) <= 0)
			continue;
		offers++;
		assert_int_not_equal(m.yiaddr, avoid1);
		assert_int_not_equal(m.yiaddr, avoid2);
	}
	return offers;
}

/*
 * 10,000 DISCOVERs from random MACs (a starvation flood). Past the budget
 * of new clients (dhcp.new_client_rate) offers turn brief: the flood cannot
 * hold the pool for long, a lease already granted stays, and no offer is
 * made again before it is 2 s old, so a client offered an address in the
 * flood (or just before it) completes its exchange.
 */
static void test_random_mac_flood(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	f->c->dhcp_rate_per_source = 0; /* the flood comes through one relay */
	f->c->dhcp_new_client_rate = 10;
	restart(f);
	assert_true(handle(f, in, relayed_request(in, 40, 100), out, &m, &d) > 0);
	assert_int_equal(dhcp_msg_type(&m), DHCPACK);
	uint32_t k39, k41;
	memcpy(&k39, (uint8_t[]){0, 0, 0, 39}, 4);
	memcpy(&k41, (uint8_t[]){0, 0, 0, 41}, 4);
	assert_true(handle(f, in, relayed_discover(in, k39), out, &m, &d) > 0);
	uint32_t got39 = m.yiaddr;
	/* The pool (10.78.0.100-200) has 99 addresses left: offered once each, none twice. */
	srand(42);
	assert_int_equal(flood(f, 10000, got39, 0), 99);
	assert_int_equal(f->d.metrics.c[METRIC_DHCP_POOL_EMPTY], 10000 - 99);
	assert_in_range(f->d.metrics.c[METRIC_DHCP_BRIEF_OFFER], 60, 99 - 19);
	/* The client offered an address just before the flood takes it. */
	assert_true(handle(f, in, relayed_request_ip(in, 39, got39), out, &m, &d) > 0);
	assert_int_equal(dhcp_msg_type(&m), DHCPACK);
	/* Once the flood's offers are 2 s old, a new client is offered one of them. */
	sleep(3);
	assert_true(handle(f, in, relayed_discover(in, k41), out, &m, &d) > 0);
	uint32_t got41 = m.yiaddr;
	assert_true(got41 > 0x0a4e0064u && got41 <= 0x0a4e00c8u);
	/* The flood takes the other old offers, not this young one nor the lease. */
	assert_in_range(flood(f, 1000, got41, got39), 50, 98);
	assert_true(handle(f, in, relayed_request_ip(in, 41, got41), out, &m, &d) > 0);
	assert_int_equal(dhcp_msg_type(&m), DHCPACK);
	assert_int_equal(m.yiaddr, got41);
	/* The client that held a lease still renews it. */
	const uint8_t renew[] = {255};
	size_t n = req(in, DHCPREQUEST, 40, renew, sizeof(renew));
	in[12] = 10, in[13] = 78, in[14] = 0, in[15] = 100; /* ciaddr */
	in[24] = 10, in[25] = 78, in[26] = 0, in[27] = 1;
	assert_true(handle(f, in, n, out, &m, &d) > 0);
	assert_int_equal(dhcp_msg_type(&m), DHCPACK);
	assert_int_equal(m.yiaddr, 0x0a4e0064u);
}

/* Without a flood offers hold their address: the pool runs out (RFC 2131 §4.3.1). */
static void test_offers_hold_without_flood(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	const uint8_t none[] = {255};
	/* 10.77.0.0/24's pool has two addresses: two offers, then none. */
	for (uint8_t i = 1; i <= 2; i++)
		assert_true(
		    handle(f, in, req(in, DHCPDISCOVER, i, none, sizeof(none)), out, &m, &d) > 0);
	assert_int_equal(handle(f, in, req(in, DHCPDISCOVER, 3, none, sizeof(none)), out, &m, &d),
			 0);
	assert_int_equal(f->d.metrics.c[METRIC_DHCP_BRIEF_OFFER], 0);
}

/* dhcp.rate_per_mac: one MAC gets its burst (twice the rate), then is dropped. */
static void test_rate_per_mac(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	const uint8_t none[] = {255};
	f->c->dhcp_rate_per_mac = 5;
	restart(f);
	size_t n = 0;
	for (int i = 0; i < 100; i++)
		n += handle(f, in, req(in, DHCPDISCOVER, 7, none, sizeof(none)), out, &m, &d) > 0;
	assert_in_range(n, 10, 11);
	assert_in_range(f->d.metrics.c[METRIC_DHCP_RATE_LIMITED], 89, 90);
	/* Another MAC is not affected; malformed packets are counted as such, not here. */
	assert_true(handle(f, in, req(in, DHCPDISCOVER, 8, none, sizeof(none)), out, &m, &d) > 0);
	size_t len = req(in, DHCPDISCOVER, 7, none, sizeof(none));
	in[2] = 17; /* hlen over 16 */
	assert_int_equal(handle(f, in, len, out, &m, &d), 0);
	assert_int_equal(f->d.metrics.c[METRIC_DHCP_BAD], 1);
}

/*
 * dhcp.rate_per_source: a relay's new clients past its burst get brief
 * offers for their DISCOVERs, and their other messages (which would cost a
 * store write) are dropped.
 */
static void test_rate_per_source(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	f->c->dhcp_rate_per_source = 10;
	f->c->dhcp_new_client_rate = 0;
	restart(f);
	size_t n = 0;
	for (uint8_t i = 0; i < 100; i++)
		n += handle(f, in, relayed_request(in, (uint8_t)(i + 1), (uint8_t)(100 + i)), out,
			    &m, &d) > 0;
	assert_in_range(n, 20, 21);
	assert_in_range(f->d.metrics.c[METRIC_DHCP_RATE_LIMITED], 79, 80);
	n = 0;
	for (uint32_t i = 0; i < 50; i++)
		n += handle(f, in, relayed_discover(in, 0xee000000u + i), out, &m, &d) > 0;
	assert_int_equal(n, 50);
	assert_int_equal(f->d.metrics.c[METRIC_DHCP_BRIEF_OFFER], 50);
	/* A client that holds a lease renews it, the source's bucket empty or not. */
	assert_true(handle(f, in, relayed_request(in, 1, 100), out, &m, &d) > 0);
	assert_int_equal(dhcp_msg_type(&m), DHCPACK);
}

/*
 * 5,000 DISCOVERs from random MACs through one relay, with the default
 * limits: a new client behind that relay still completes its exchange, and
 * one that holds a lease still renews it.
 */
static void test_relayed_flood_spares_clients(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	const uint8_t none[] = {255};
	/* A /16 pool, so that the flood's offers do not use it up. */
	f->c->subnets[1].prefix_len = 16;
	f->c->subnets[1].pool_first = 0x0a4e0002u;
	f->c->subnets[1].pool_last = 0x0a4efffeu;
	restart(f);
	assert_true(handle(f, in, relayed_request(in, 40, 100), out, &m, &d) > 0);
	assert_int_equal(dhcp_msg_type(&m), DHCPACK);
	srand(7);
	for (int i = 0; i < 5000; i++)
		handle(f, in, relayed_discover(in, (uint32_t)rand()), out, &m, &d);
	assert_true(f->d.metrics.c[METRIC_DHCP_BRIEF_OFFER] > 4000);
	uint32_t k41;
	memcpy(&k41, (uint8_t[]){0, 0, 0, 41}, 4);
	assert_true(handle(f, in, relayed_discover(in, k41), out, &m, &d) > 0);
	assert_int_equal(dhcp_msg_type(&m), DHCPOFFER);
	uint32_t got = m.yiaddr;
	assert_true(handle(f, in, relayed_request_ip(in, 41, got), out, &m, &d) > 0);
	assert_int_equal(dhcp_msg_type(&m), DHCPACK);
	assert_int_equal(m.yiaddr, got);
	size_t n = req(in, DHCPREQUEST, 40, none, sizeof(none));
	in[12] = 10, in[13] = 78, in[14] = 0, in[15] = 100; /* ciaddr: a renewal */
	in[24] = 10, in[25] = 78, in[26] = 0, in[27] = 1;
	assert_true(handle(f, in, n, out, &m, &d) > 0);
	assert_int_equal(dhcp_msg_type(&m), DHCPACK);
	assert_int_equal(m.yiaddr, 0x0a4e0064u);
}

/* Packets with a victim's MAC from another source do not use up the victim's bucket. */
static void test_rate_per_mac_per_source(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	const uint8_t none[] = {255};
	f->c->dhcp_rate_per_mac = 5;
	restart(f);
	uint32_t k9;
	memcpy(&k9, (uint8_t[]){0, 0, 0, 9}, 4);
	for (int i = 0; i < 100; i++)
		handle(f, in, relayed_discover(in, k9), out, &m, &d); /* the spoofer */
	assert_true(f->d.metrics.c[METRIC_DHCP_RATE_LIMITED] >= 89);
	assert_true(handle(f, in, req(in, DHCPDISCOVER, 9, none, sizeof(none)), out, &m, &d) > 0);
	assert_int_equal(dhcp_msg_type(&m), DHCPOFFER);
}

/* dhcp.known_only: only machines in hosts are answered, by MAC or client id. */
static void test_known_only(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	const uint8_t none[] = {255};
	f->c->dhcp_known_only = true;
	f->c->hosts = calloc(1, sizeof(*f->c->hosts));
	f->c->n_hosts = 1;
	f->c->hosts[0].has_mac = true;
	memcpy(f->c->hosts[0].mac, (uint8_t[]){0x52, 0x54, 0, 0, 0, 50}, 6);
	conf_sort_hosts(f->c);
	restart(f);
	assert_int_equal(handle(f, in, req(in, DHCPDISCOVER, 51, none, sizeof(none)), out, &m, &d),
			 0);
	assert_int_equal(f->d.metrics.c[METRIC_DHCP_UNKNOWN], 1);
	/* No NAK either: an unknown machine's REQUEST is ignored. */
	const uint8_t want[] = {50, 4, 10, 77, 0, 100, 54, 4, 10, 77, 0, 1, 255};
	assert_int_equal(handle(f, in, req(in, DHCPREQUEST, 51, want, sizeof(want)), out, &m, &d),
			 0);
	assert_int_equal(f->d.metrics.c[METRIC_DHCP_UNKNOWN], 2);
	assert_true(handle(f, in, req(in, DHCPDISCOVER, 50, none, sizeof(none)), out, &m, &d) > 0);
	assert_int_equal(dhcp_msg_type(&m), DHCPOFFER);
}

/* A subnet's max_leases: new clients of that subnet get neither an offer nor an ACK. */
static void test_subnet_lease_limit(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	f->c->subnets[1].max_leases = 2;
	assert_true(handle(f, in, relayed_request(in, 60, 100), out, &m, &d) > 0);
	assert_int_equal(dhcp_msg_type(&m), DHCPACK);
	assert_true(handle(f, in, relayed_request(in, 61, 101), out, &m, &d) > 0);
	assert_int_equal(dhcp_msg_type(&m), DHCPACK);
	assert_int_equal(handle(f, in, relayed_discover(in, 0x3e000000u), out, &m, &d), 0);
	assert_true(handle(f, in, relayed_request(in, 62, 102), out, &m, &d) > 0);
	assert_int_equal(dhcp_msg_type(&m), DHCPNAK);
	assert_int_equal(f->d.metrics.c[METRIC_DHCP_LEASE_LIMIT], 2);
	/* A client with a lease renews it; the other subnet is not limited. */
	assert_true(handle(f, in, relayed_request(in, 60, 100), out, &m, &d) > 0);
	assert_int_equal(dhcp_msg_type(&m), DHCPACK);
	const uint8_t none[] = {255};
	assert_true(handle(f, in, req(in, DHCPDISCOVER, 63, none, sizeof(none)), out, &m, &d) > 0);
}

static void test_client_moves_subnet(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	const uint8_t none[] = {255};
	/* Client 50 leases 10.77.0.100 (the pool is .100-.101)... */
	const uint8_t here[] = {50, 4, 10, 77, 0, 100, 54, 4, 10, 77, 0, 1, 255};
	assert_true(handle(f, in, req(in, DHCPREQUEST, 50, here, sizeof(here)), out, &m, &d) > 0);
	/* ...then moves behind a relay to 10.78.0.0/24 and leases there. */
	const uint8_t there[] = {50, 4, 10, 78, 0, 100, 54, 4, 10, 77, 0, 1, 255};
	size_t n = req(in, DHCPREQUEST, 50, there, sizeof(there));
	in[24] = 10, in[25] = 78, in[26] = 0, in[27] = 1;
	assert_true(handle(f, in, n, out, &m, &d) > 0);
	assert_int_equal(dhcp_msg_type(&m), DHCPACK);
	/* Its old address is free again: two new clients get both addresses of the pool. */
	assert_true(handle(f, in, req(in, DHCPDISCOVER, 51, none, sizeof(none)), out, &m, &d) > 0);
	uint32_t first = m.yiaddr;
	assert_true(handle(f, in, req(in, DHCPDISCOVER, 52, none, sizeof(none)), out, &m, &d) > 0);
	assert_int_not_equal(m.yiaddr, first);
}

/* A machine's events as "kind,kind!,": oldest first, "!" after a failed one. */
struct kinds {
	const uint8_t *mac;
	char s[256];
	char detail[512]; /* the newest failed event's */
};

static void kinds_add(struct kinds *k, const struct store_event *e)
{
	if (!e->has_mac || memcmp(e->mac, k->mac, 6) != 0)
		return;
	size_t n = strlen(k->s);
	snprintf(k->s + n, sizeof(k->s) - n, "%s%s,", e->kind, e->ok ? "" : "!");
	if (!e->ok)
		snprintf(k->detail, sizeof(k->detail), "%s", e->detail);
}

static int kinds_stored(const struct store_event *e, void *arg)
{
	kinds_add(arg, e);
	return 0;
}

static int kinds_live(void *arg, uint64_t seq, const struct store_event *e)
{
	(void)seq;
	kinds_add(arg, e);
	return 0;
}

/*
 * Runs dhcp_server_turn_end() with the disk "full": no file of this process
 * may grow (RLIMIT_FSIZE 0), so the store's commit fails as it does on a
 * full disk. Returns what turn_end returned.
 */
static int turn_end_disk_full(struct fx *f)
{
	struct rlimit old, none = {0, 0};
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	none.rlim_max = old.rlim_max;
	void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &none), 0);
	int rc = dhcp_server_turn_end(f->s);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, was);
	return rc;
}

/*
 * An ACK whose lease the store's commit did not take is never sent, so it
 * is not recorded either: not as an "ack" event (store, live view), not in
 * the ACK counter, nor is its address learned. The timeline says the ACK
 * was withheld and why; the client's retry, once the disk has room, is
 * ACKed and recorded after that.
 */
static void test_ack_recorded_after_commit(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN], mac[6] = {0x52, 0x54, 0, 0, 0, 70};
	struct dhcp_msg m;
	struct dhcp_dest d;
	struct obs_live *live;
	const uint8_t want[] = {50, 4, 10, 77, 0, 100, 54, 4, 10, 77, 0, 1, 255};
	assert_int_equal(obs_live_new(&live), 0);
	obs_set_live(f->d.obs, live);

	/* Inside a turn, the ACK is built but not yet recorded. */
	assert_int_equal(dhcp_server_turn_begin(f->s), 0);
	assert_true(handle(f, in, req(in, DHCPREQUEST, 70, want, sizeof(want)), out, &m, &d) > 0);
	assert_int_equal(dhcp_msg_type(&m), DHCPACK);
	assert_true(d.grants_lease);
	assert_int_equal(obs_live_last_seq(live), 0);
	assert_int_equal(f->d.metrics.c[METRIC_DHCP_ACK], 0);

	/* The commit fails: the withheld ACK is recorded as such, and only that. */
	assert_int_equal(turn_end_disk_full(f), -EIO);
	struct kinds k = {.mac = mac};
	obs_live_since(live, 0, kinds_live, &k);
	assert_string_equal(k.s, "request!,");
	assert_non_null(strstr(k.detail, "ACK withheld"));
	assert_non_null(strstr(k.detail, "lease could not be stored"));
	assert_int_equal(f->d.metrics.c[METRIC_DHCP_ACK], 0);
	assert_int_equal(f->d.metrics.c[METRIC_DHCP_STORE_FAIL], 1);
	struct store_lease l;
	assert_int_not_equal(store_lease_by_ip(f->d.store, 0x0a4d0064u, &l), 0);
	uint8_t learned[6];
	assert_false(obs_lookup(f->d.obs, 0x0a4d0064u, learned) && memcmp(learned, mac, 6) == 0);

	/* Room again: the retry is ACKed, and the ACK comes after the withheld one. */
	assert_int_equal(dhcp_server_turn_begin(f->s), 0);
	assert_true(handle(f, in, req(in, DHCPREQUEST, 70, want, sizeof(want)), out, &m, &d) > 0);
	assert_int_equal(dhcp_msg_type(&m), DHCPACK);
	assert_int_equal(obs_live_last_seq(live), 1);
	assert_int_equal(dhcp_server_turn_end(f->s), 0);
	k = (struct kinds){.mac = mac};
	obs_live_since(live, 0, kinds_live, &k);
	assert_string_equal(k.s, "request!,ack,");
	k = (struct kinds){.mac = mac};
	assert_int_equal(store_event_each(f->d.store, mac, 100, kinds_stored, &k), 0);
	assert_non_null(strstr(k.s, "ack,"));
	assert_null(strstr(k.s, "ack!"));
	assert_int_equal(f->d.metrics.c[METRIC_DHCP_ACK], 1);
	assert_int_equal(store_lease_by_ip(f->d.store, 0x0a4d0064u, &l), 0);
	assert_true(obs_lookup(f->d.obs, 0x0a4d0064u, learned));
	assert_memory_equal(learned, mac, 6);

	/* Outside a turn (no batch), the lease is durable at once: recorded at once. */
	const uint8_t other[] = {50, 4, 10, 77, 0, 101, 54, 4, 10, 77, 0, 1, 255};
	assert_true(handle(f, in, req(in, DHCPREQUEST, 71, other, sizeof(other)), out, &m, &d) > 0);
	assert_int_equal(f->d.metrics.c[METRIC_DHCP_ACK], 2);
	assert_int_equal(obs_live_last_seq(live), 3);
	obs_set_live(f->d.obs, NULL);
	obs_live_free(live);
}

/*
 * A turn holds the ACKs of at most 64 requests until its commit: one more
 * is refused (-ENOBUFS, no lease written), never recorded as sent before
 * its lease is durable.
 */
static void test_turn_ack_list_full(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	struct store_lease l;
	assert_int_equal(dhcp_server_turn_begin(f->s), 0);
	for (uint8_t i = 1; i <= 64; i++) {
		assert_true(handle(f, in, relayed_request(in, i, (uint8_t)(100 + i)), out, &m, &d) >
			    0);
		assert_int_equal(dhcp_msg_type(&m), DHCPACK);
	}
	assert_int_equal(handle(f, in, relayed_request(in, 65, 165), out, &m, &d), -ENOBUFS);
	assert_int_equal(f->d.metrics.c[METRIC_DHCP_ACK], 0);
	assert_int_equal(dhcp_server_turn_end(f->s), 0);
	assert_int_equal(f->d.metrics.c[METRIC_DHCP_ACK], 64);
	assert_int_equal(store_lease_by_ip(f->d.store, 0x0a4e00a4u, &l), 0); /* .164 */
	assert_int_not_equal(store_lease_by_ip(f->d.store, 0x0a4e00a5u, &l), 0);
	/* Its retry, in the next turn, is ACKed. */
	assert_true(handle(f, in, relayed_request(in, 65, 165), out, &m, &d) > 0);
	assert_int_equal(dhcp_msg_type(&m), DHCPACK);
}

/* dhcp.max_leases counts live leases: one that expired in place does not hold a place. */
static void test_lease_limit_skips_expired(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	struct store_lease l = {.ip = 0x0a4d0065u, .expires = 1000}; /* long expired */
	memcpy(l.mac, (uint8_t[]){0x52, 0x54, 0, 0, 0, 90}, 6);
	assert_int_equal(store_lease_put(f->d.store, &l), 0);
	f->c->max_leases = 1;
	restart(f); /* the pools load the expired lease */
	const uint8_t want[] = {50, 4, 10, 77, 0, 100, 54, 4, 10, 77, 0, 1, 255};
	assert_true(handle(f, in, req(in, DHCPREQUEST, 91, want, sizeof(want)), out, &m, &d) > 0);
	assert_int_equal(dhcp_msg_type(&m), DHCPACK);
	/* Now one lease is live: the limit holds. */
	const uint8_t none[] = {255};
	assert_int_equal(handle(f, in, req(in, DHCPDISCOVER, 92, none, sizeof(none)), out, &m, &d),
			 0);
	assert_int_equal(f->d.metrics.c[METRIC_DHCP_LEASE_LIMIT], 1);
}

/* ---- unknown machines: a policy per subnet ---------------------------------- */

/* A PXE BIOS client's DISCOVER (vendor class, arch 0, UUID) from MAC 52:54:0:0:0:last. */
static size_t pxe_discover(uint8_t *in, uint8_t last)
{
	const uint8_t opts[] = {60,   20,   'P',  'X',	'E',  'C',  'l',  'i',	'e',  'n',
				't',  ':',  'A',  'r',	'c',  'h',  ':',  '0',	'0',  '0',
				'0',  '0',  93,	  2,	0,    0,    97,	  17,	0,    0x01,
				0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
				0x0c, 0x0d, 0x0e, 0x0f, 0x10, 255};
	return req(in, DHCPDISCOVER, last, opts, sizeof(opts));
}

/* A profile p as default_profile: unknown machines boot unless their subnet says otherwise. */
static void unknown_setup(struct fx *f, enum conf_unknown on_first)
{
	struct conf_profile *p = &f->c->profiles[f->c->n_profiles++];
	p->name = strdup("p");
	p->kernel = strdup("/k");
	f->c->default_profile = strdup("p");
	f->c->subnets[0].unknown = on_first;
	f->c->hosts = calloc(1, sizeof(*f->c->hosts));
	f->c->n_hosts = 1;
	f->c->hosts[0].has_mac = true;
	memcpy(f->c->hosts[0].mac, (uint8_t[]){0x52, 0x54, 0, 0, 0, 71}, 6);
	conf_sort_hosts(f->c);
	restart(f);
}

static int count_event(const struct store_event *e, void *arg)
{
	(void)e;
	(*(int *)arg)++;
	return 0;
}

static int mac_events(struct fx *f, uint8_t last)
{
	int n = 0;
	const uint8_t mac[6] = {0x52, 0x54, 0, 0, 0, last};
	assert_int_equal(store_event_each(f->d.store, mac, 100, count_event, &n), 0);
	return n;
}

/* unknown: ignore: nothing at all for a machine not in hosts; one event a minute. */
static void test_unknown_ignore(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	struct store_event e;
	const uint8_t mac[6] = {0x52, 0x54, 0, 0, 0, 70};
	unknown_setup(f, CONF_UNKNOWN_IGNORE);
	assert_int_equal(handle(f, in, pxe_discover(in, 70), out, &m, &d), 0);
	assert_int_equal(handle(f, in, pxe_discover(in, 70), out, &m, &d), 0);
	assert_int_equal(f->d.metrics.c[METRIC_DHCP_UNKNOWN_IGNORED], 2);
	assert_int_equal(f->d.metrics.c[METRIC_DHCP_OFFER], 0);
	/* One event for both, saying why (what `pxed explain` reads). */
	assert_int_equal(mac_events(f, 70), 1);
	assert_int_equal(store_event_last(f->d.store, mac, &e), 0);
	assert_string_equal(e.kind, "discover");
	assert_false(e.ok);
	assert_string_equal(e.decision, "none");
	assert_non_null(
	    strstr(e.detail, "ignored: unknown machine on 10.77.0.0/24 (unknown: ignore)"));
	/* No NAK either. */
	const uint8_t want[] = {50, 4, 10, 77, 0, 100, 54, 4, 10, 77, 0, 1, 255};
	assert_int_equal(handle(f, in, req(in, DHCPREQUEST, 70, want, sizeof(want)), out, &m, &d),
			 0);
	assert_int_equal(f->d.metrics.c[METRIC_DHCP_UNKNOWN_IGNORED], 3);
	/* A machine in hosts on the same subnet boots. */
	assert_true(handle(f, in, pxe_discover(in, 71), out, &m, &d) > 0);
	assert_int_equal(dhcp_msg_type(&m), DHCPOFFER);
	assert_true(m.file[0] != '\0');
	/* An unknown machine on the other subnet (unknown: boot, the default) boots. */
	size_t n = pxe_discover(in, 72);
	in[24] = 10, in[25] = 78, in[26] = 0, in[27] = 1;
	assert_true(handle(f, in, n, out, &m, &d) > 0);
	assert_int_equal(dhcp_msg_type(&m), DHCPOFFER);
	assert_int_equal(m.yiaddr >> 8, RELAY >> 8);
	assert_true(m.file[0] != '\0');
	assert_int_equal(f->d.metrics.c[METRIC_DHCP_UNKNOWN_IGNORED], 3);
}

/* In proxy mode too, the subnet is the interface's (or the relay's) network. */
static void test_unknown_ignore_proxy(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	f->c->dhcp_mode = CONF_DHCP_PROXY;
	unknown_setup(f, CONF_UNKNOWN_IGNORE);
	assert_int_equal(handle(f, in, pxe_discover(in, 70), out, &m, &d), 0);
	assert_int_equal(f->d.metrics.c[METRIC_DHCP_UNKNOWN_IGNORED], 1);
	assert_true(handle(f, in, pxe_discover(in, 71), out, &m, &d) > 0);
	assert_int_equal(m.yiaddr, 0);
	assert_true(m.file[0] != '\0');
}

struct disc_rows {
	struct store_discovered r[8];
	int n;
};

static int disc_row(const struct store_discovered *r, void *arg)
{
	struct disc_rows *rows = arg;
	if (rows->n < 8)
		rows->r[rows->n++] = *r;
	return 0;
}

/* unknown: discover: an address, no boot program, and a row with the machine's facts. */
static void test_unknown_discover(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	struct disc_rows rows = {0};
	struct store_event e;
	const uint8_t mac[6] = {0x52, 0x54, 0, 0, 0, 70};
	unknown_setup(f, CONF_UNKNOWN_DISCOVER);
	assert_true(handle(f, in, pxe_discover(in, 70), out, &m, &d) > 0);
	assert_int_equal(dhcp_msg_type(&m), DHCPOFFER);
	assert_int_equal(m.yiaddr, 0x0a4d0064u);
	assert_int_equal(m.file[0], '\0');
	assert_int_equal(m.siaddr, 0);
	assert_null(dhcp_opt(&m, DHCP_OPT_BOOTFILE, NULL));
	assert_int_equal(store_discovered_each(f->d.store, 10, disc_row, &rows), 0);
	assert_int_equal(rows.n, 1);
	assert_memory_equal(rows.r[0].mac, mac, 6);
	assert_true(rows.r[0].has_arch);
	assert_int_equal(rows.r[0].arch, 0);
	assert_string_equal(rows.r[0].vendor, "PXEClient:Arch:00000");
	assert_string_equal(rows.r[0].uuid, "01020304-0506-0708-090a-0b0c0d0e0f10");
	assert_string_equal(rows.r[0].iface, "t0");
	assert_int_equal(rows.r[0].ip, 0);
	assert_true(rows.r[0].first_seen > 0 && rows.r[0].last_seen == rows.r[0].first_seen);
	/* Its REQUEST gets the address; the row learns it (a new address is written at once). */
	const uint8_t want[] = {50, 4, 10, 77, 0, 100, 54, 4, 10, 77, 0, 1, 255};
	assert_true(handle(f, in, req(in, DHCPREQUEST, 70, want, sizeof(want)), out, &m, &d) > 0);
	assert_int_equal(dhcp_msg_type(&m), DHCPACK);
	assert_int_equal(m.file[0], '\0');
	rows.n = 0;
	assert_int_equal(store_discovered_each(f->d.store, 10, disc_row, &rows), 0);
	assert_int_equal(rows.n, 1);
	assert_int_equal(rows.r[0].ip, 0x0a4d0064u);
	/* Seen again within the minute: counted once more, no write. */
	assert_true(handle(f, in, pxe_discover(in, 70), out, &m, &d) > 0);
	assert_int_equal(f->d.metrics.c[METRIC_DHCP_DISCOVERED], 2);
	assert_int_equal(store_event_last(f->d.store, mac, &e), 0);
	assert_string_equal(e.decision, "none");
	assert_non_null(strstr(e.detail, "registered as discovered: unknown machine on "
					 "10.77.0.0/24 (unknown: discover)"));
	/* A known machine on that subnet is not registered, and boots. */
	assert_true(handle(f, in, pxe_discover(in, 71), out, &m, &d) > 0);
	assert_true(m.file[0] != '\0');
	assert_int_equal(store_discovered_count(f->d.store), 1);
}

/* The table keeps the machines seen most recently, up to its cap. */
static void test_discovered_cap(void **state)
{
	struct fx *f = *state;
	struct disc_rows rows = {0};
	for (int i = 0; i < 6; i++) {
		struct store_discovered r = {.mac = {0x52, 0x54, 0, 0, 1, (uint8_t)i},
					     .last_seen = 1000 + i};
		assert_int_equal(store_discovered_put(f->d.store, &r, 4), 0);
		assert_int_equal(store_discovered_count(f->d.store), i < 4 ? i + 1 : 4);
		/* Machine 0 is seen again: the newest now, it stays; 1 and 2 go instead. */
		if (i == 3) {
			r.mac[5] = 0;
			r.last_seen = 2000;
			assert_int_equal(store_discovered_put(f->d.store, &r, 4), 0);
		}
	}
	assert_int_equal(store_discovered_each(f->d.store, 10, disc_row, &rows), 0);
	assert_int_equal(rows.n, 4);
	const uint8_t order[4] = {0, 5, 4, 3};
	for (int i = 0; i < 4; i++)
		assert_int_equal(rows.r[i].mac[5], order[i]);
	assert_int_equal(rows.r[0].first_seen, 1000); /* kept from the first sighting */
	assert_int_equal(rows.r[0].last_seen, 2000);
	/* Inside a batch the row is written with the batch, and rolled back with it. */
	assert_int_equal(dhcp_server_turn_begin(f->s), 0);
	struct store_discovered r = {.mac = {0x52, 0x54, 0, 0, 2, 0}, .last_seen = 3000};
	assert_int_equal(store_discovered_put(f->d.store, &r, 4), 0);
	assert_int_equal(dhcp_server_turn_end(f->s), 0);
	assert_int_equal(store_discovered_count(f->d.store), 4);
}

/* A flood of random unknown MACs on a discover subnet: writes are bounded per second. */
static void test_discover_flood_bounded(void **state)
{
	struct fx *f = *state;
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	f->c->subnets[1].unknown = CONF_UNKNOWN_DISCOVER;
	f->c->subnets[1].pool_last = 0x0a4e00feu;
	f->c->dhcp_rate_per_source = 0; /* the flood comes through one relay */
	f->c->dhcp_new_client_rate = 0; /* no brief offers: the budget alone bounds it */
	restart(f);
	for (uint32_t i = 0; i < 150; i++) {
		size_t n = pxe_discover(in, 0);
		memcpy(in + 30, &i, 4);
		in[24] = 10, in[25] = 78, in[26] = 0, in[27] = 1;
		handle(f, in, n, out, &m, &d);
	}
	/* The budget: a burst of twice DHCP_UNKNOWN_RATE (10), and the second it took. */
	int64_t rows = store_discovered_count(f->d.store);
	assert_true(rows >= 20 && rows <= 40);
	assert_int_equal(f->d.metrics.c[METRIC_DHCP_DISCOVERED], (uint64_t)rows);
}

/*
 * Run-time configuration changes (daemon/snapshot.c swaps d->conf, then
 * calls dhcp_server_conf_changed): a new snapshot with the fixture's two
 * subnets, in the other order when swapped, and no hosts.
 */
static struct conf *reload_conf(bool swapped)
{
	struct conf *c = conf_new_defaults();
	if (swapped)
		add_subnet(c, 0x0a4e0000u, 0x0a4e0064u, 0x0a4e00c8u);
	add_subnet(c, 0x0a4d0000u, 0x0a4d0064u, 0x0a4d0065u);
	if (!swapped)
		add_subnet(c, 0x0a4e0000u, 0x0a4e0064u, 0x0a4e00c8u);
	return c;
}

/* Reserves ip for 52:54:0:0:0:last in c. */
static void reload_add_host(struct conf *c, uint8_t last, uint32_t ip)
{
	struct conf_host *h = realloc(c->hosts, (c->n_hosts + 1) * sizeof(*h));
	assert_non_null(h);
	c->hosts = h;
	h = &c->hosts[c->n_hosts++];
	memset(h, 0, sizeof(*h));
	const uint8_t mac[6] = {0x52, 0x54, 0, 0, 0, last};
	memcpy(h->mac, mac, 6);
	h->has_mac = true;
	h->address = ip;
	conf_sort_hosts(c);
}

/* Swaps c in as the snapshot does (the old one is freed after the call); returns its rc. */
static int reload(struct fx *f, struct conf *c)
{
	struct conf *old = f->c;
	f->c = c;
	f->d.conf = c;
	int rc = dhcp_server_conf_changed(f->s, old);
	conf_free(old);
	return rc;
}

/* A DISCOVER from 52:54:0:0:0:last on t0: the address offered, or 0. */
static uint32_t reload_offer(struct fx *f, uint8_t last)
{
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	const uint8_t none[] = {255};
	int r = handle(f, in, req(in, DHCPDISCOVER, last, none, sizeof(none)), out, &m, &d);
	if (r <= 0)
		return 0;
	assert_int_equal(dhcp_msg_type(&m), DHCPOFFER);
	return m.yiaddr;
}

/* A SELECTING REQUEST on t0 from 52:54:0:0:0:last for ip: the reply's type, 0 for none. */
static int reload_request(struct fx *f, uint8_t last, uint32_t ip)
{
	uint8_t in[600], out[DHCP_MAX_LEN];
	struct dhcp_msg m;
	struct dhcp_dest d;
	uint8_t want[] = {50, 4, 0, 0, 0, 0, 54, 4, 10, 77, 0, 1, 255};
	want[2] = (uint8_t)(ip >> 24), want[3] = (uint8_t)(ip >> 16);
	want[4] = (uint8_t)(ip >> 8), want[5] = (uint8_t)ip;
	int r = handle(f, in, req(in, DHCPREQUEST, last, want, sizeof(want)), out, &m, &d);
	if (r <= 0)
		return 0;
	if (dhcp_msg_type(&m) == DHCPACK)
		assert_int_equal(m.yiaddr, ip);
	return dhcp_msg_type(&m);
}

/* The usage of the pool of the subnet whose network is net. */
static struct dhcp_pool_usage reload_usage(struct fx *f, uint32_t net)
{
	struct dhcp_pool_usage u[4];
	size_t n = dhcp_server_pools(f->s, u, 4);
	for (size_t i = 0; i < n; i++)
		if (u[i].network == net)
			return u[i];
	fail_msg("no pool for network %08x", net);
	return u[0];
}

/* An offer made before a change that only adds a host elsewhere is still the client's. */
static void test_reload_keeps_offers(void **state)
{
	struct fx *f = *state;
	assert_int_equal(reload_offer(f, 20), 0x0a4d0064u);
	struct conf *c = reload_conf(false);
	reload_add_host(c, 30, 0x0a4e0096u);
	assert_int_equal(reload(f, c), 0);
	/* The next-fit search goes on after the held offer: another client gets .101... */
	assert_int_equal(reload_offer(f, 21), 0x0a4d0065u);
	/* ...and the first client's REQUEST is ACKed with the address it was offered. */
	assert_int_equal(reload_request(f, 20, 0x0a4d0064u), DHCPACK);
	assert_int_equal(reload_usage(f, 0x0a4d0000u).offered, 1);
}

/* A reservation added at run time is offered to its MAC, and no longer to others. */
static void test_reload_adds_reservation(void **state)
{
	struct fx *f = *state;
	struct conf *c = reload_conf(false);
	reload_add_host(c, 40, 0x0a4d0065u);
	assert_int_equal(reload(f, c), 0);
	assert_int_equal(reload_usage(f, 0x0a4d0000u).reserved, 1);
	assert_int_equal(reload_offer(f, 41), 0x0a4d0064u);
	assert_int_equal(reload_offer(f, 42), 0); /* .100 is offered to 41, .101 reserved */
	assert_int_equal(reload_offer(f, 40), 0x0a4d0065u);
	assert_int_equal(reload_request(f, 40, 0x0a4d0065u), DHCPACK);
	assert_int_equal(reload_request(f, 42, 0x0a4d0065u), DHCPNAK);
}

/* A reservation removed frees its address, or leaves it leased when a lease holds it. */
static void test_reload_removes_reservation(void **state)
{
	struct fx *f = *state;
	struct conf *c = reload_conf(false);
	reload_add_host(c, 50, 0x0a4d0064u);
	reload_add_host(c, 51, 0x0a4d0065u);
	assert_int_equal(reload(f, c), 0);
	assert_int_equal(reload_offer(f, 52), 0); /* both addresses are reserved */
	assert_int_equal(reload_offer(f, 51), 0x0a4d0065u);
	assert_int_equal(reload_request(f, 51, 0x0a4d0065u), DHCPACK);
	assert_int_equal(reload(f, reload_conf(false)), 0);
	struct dhcp_pool_usage u = reload_usage(f, 0x0a4d0000u);
	assert_int_equal(u.reserved, 0);
	assert_int_equal(u.leased, 1);
	assert_int_equal(u.free, 1);
	/* .100 is free for anyone; .101 is 51's lease, not another client's. */
	assert_int_equal(reload_offer(f, 52), 0x0a4d0064u);
	assert_int_equal(reload_offer(f, 53), 0);
	assert_int_equal(reload_request(f, 53, 0x0a4d0065u), DHCPNAK);
	assert_int_equal(reload_offer(f, 51), 0x0a4d0065u);
}

/* A pool whose range changed is built again: the leases and offers in range stay. */
static void test_reload_range_change(void **state)
{
	struct fx *f = *state;
	assert_int_equal(reload_offer(f, 60), 0x0a4d0064u);
	assert_int_equal(reload_request(f, 60, 0x0a4d0064u), DHCPACK);
	assert_int_equal(reload_offer(f, 61), 0x0a4d0065u);
	struct conf *c = reload_conf(false);
	c->subnets[0].pool_last = 0x0a4d006eu; /* .100-.110 */
	assert_int_equal(reload(f, c), 0);
	struct dhcp_pool_usage u = reload_usage(f, 0x0a4d0000u);
	assert_int_equal(u.size, 11);
	assert_int_equal(u.leased, 1);
	assert_int_equal(u.offered, 1);
	assert_int_equal(reload_offer(f, 62), 0x0a4d0066u);
	assert_int_equal(reload_request(f, 61, 0x0a4d0065u), DHCPACK);
	assert_int_equal(reload_offer(f, 60), 0x0a4d0064u);
	/* Shrunk to .101-.110: the lease of .100 (still in the store) is out of the pool. */
	c = reload_conf(false);
	c->subnets[0].pool_first = 0x0a4d0065u;
	c->subnets[0].pool_last = 0x0a4d006eu;
	assert_int_equal(reload(f, c), 0);
	u = reload_usage(f, 0x0a4d0000u);
	assert_int_equal(u.size, 10);
	assert_int_equal(u.leased, 1);
}

/* Subnets reordered (pools[i] is subnets[i]'s) keep their pools' state. */
static void test_reload_reordered(void **state)
{
	struct fx *f = *state;
	assert_int_equal(reload_offer(f, 70), 0x0a4d0064u);
	assert_int_equal(reload(f, reload_conf(true)), 0);
	assert_int_equal(reload_offer(f, 71), 0x0a4d0065u);
	assert_int_equal(reload_request(f, 70, 0x0a4d0064u), DHCPACK);
	/* And back, with the lease now in the store and the pool. */
	assert_int_equal(reload(f, reload_conf(false)), 0);
	assert_int_equal(reload_usage(f, 0x0a4d0000u).leased, 1);
	assert_int_equal(reload_usage(f, 0x0a4d0000u).offered, 1);
	assert_int_equal(reload_offer(f, 72), 0);
}

/*
 * A subnet removed takes its pool along, one added gets its own; a
 * reservation of an address leased to another client leaves the lease be.
 */
static void test_reload_subnets_and_leased_reservation(void **state)
{
	struct fx *f = *state;
	assert_int_equal(reload_offer(f, 90), 0x0a4d0064u);
	assert_int_equal(reload_request(f, 90, 0x0a4d0064u), DHCPACK);
	struct conf *c = conf_new_defaults();
	add_subnet(c, 0x0a4f0000u, 0x0a4f000au, 0x0a4f0013u);
	add_subnet(c, 0x0a4d0000u, 0x0a4d0064u, 0x0a4d0065u);
	reload_add_host(c, 91, 0x0a4d0064u);
	assert_int_equal(reload(f, c), 0);
	struct dhcp_pool_usage u[4];
	assert_int_equal(dhcp_server_pools(f->s, u, 4), 2);
	assert_int_equal(u[0].network, 0x0a4f0000u);
	assert_int_equal(u[0].size, 10);
	assert_int_equal(u[1].leased, 1);
	assert_int_equal(u[1].reserved, 0);
	assert_int_equal(reload_offer(f, 92), 0x0a4d0065u);
	assert_int_equal(reload_request(f, 90, 0x0a4d0064u), DHCPACK);
}

/* A rebuild that fails leaves every old pool as it was, and working. */
static void test_reload_failure_keeps_pools(void **state)
{
	struct fx *f = *state;
	assert_int_equal(reload_offer(f, 80), 0x0a4d0064u);
	struct conf *c = reload_conf(false);
	c->subnets[0].pool_last = 0x0a4d006eu;	/* this one could be built... */
	c->subnets[1].pool_first = 0x0a4e00c9u; /* ...this one cannot (last < first) */
	assert_true(reload(f, c) < 0);
	struct dhcp_pool_usage u = reload_usage(f, 0x0a4d0000u);
	assert_int_equal(u.first, 0x0a4d0064u);
	assert_int_equal(u.last, 0x0a4d0065u);
	assert_int_equal(u.offered, 1);
	assert_int_equal(reload_usage(f, 0x0a4e0000u).size, 101);
	assert_int_equal(reload_offer(f, 81), 0x0a4d0065u);
	assert_int_equal(reload_request(f, 80, 0x0a4d0064u), DHCPACK);
	/* The next change that can be built is applied, with the lease. */
	c = reload_conf(false);
	c->subnets[0].pool_last = 0x0a4d006eu;
	assert_int_equal(reload(f, c), 0);
	assert_int_equal(reload_usage(f, 0x0a4d0000u).size, 11);
	assert_int_equal(reload_usage(f, 0x0a4d0000u).leased, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_prl_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ack_recorded_after_commit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_turn_ack_list_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_client_moves_subnet, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_decline_by_another_client, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_random_mac_flood, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_offers_hold_without_flood, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rate_per_mac, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rate_per_source, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_relayed_flood_spares_clients, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rate_per_mac_per_source, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_known_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_subnet_lease_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lease_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lease_limit_skips_expired, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_uefi_http_boot, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_padded_hostname, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_option_precedence, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_client_id_reservation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unrequested_options, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_relay_82_echo_and_link, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_relay_input_dropped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_init_reboot, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_small_max_size_drops_unrequested, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_overload_into_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_ignore, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_ignore_proxy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_discover, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_discovered_cap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_discover_flood_bounded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_keeps_offers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_adds_reservation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_removes_reservation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_range_change, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_reordered, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reload_subnets_and_leased_reservation, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_reload_failure_keeps_pools, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
