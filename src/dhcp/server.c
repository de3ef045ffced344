#include "dhcp/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "boot/policy.h"
#include "conf/config.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/ratelimit.h"
#include "core/udp.h"
#include "core/util.h"
#include "boot/classes.h"
#include "boot/states.h"
#include "dhcp/options.h"
#include "dhcp/pool.h"
#include "dhcp/reply.h"
#include "dhcp/pxe.h"
#include "dhcp/rogue.h"
#include "dhcp/wire.h"
#include "obs/obs.h"
#include "pxed.h"
#include "store/discovered.h"
#include "store/store.h"

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
#define PXE_BOOT_SERVER_PORT 4011
/* An offered address is held for a client this long (RFC 2131 §4.3.1). */
#define DHCP_OFFER_HOLD_S 60
/*
 * While new clients come faster than dhcp.new_client_rate (a DISCOVER flood
 * from random MACs), an offer holds its address only this long, binds
 * nobody (the first REQUEST wins), and an offer at least
 * DHCP_OFFER_MIN_HOLD_S old (brief, or made before the flood was seen: the
 * burst that came before it) may be made again to another new client: the
 * flood cannot hold the pool, and a real client still completes its DORA.
 */
#define DHCP_OFFER_BRIEF_S 5
#define DHCP_OFFER_MIN_HOLD_S 2
/* Keys each rate-limit table holds (core/ratelimit.h): a fixed 32 bytes each. */
#define DHCP_RL_MACS 4096
#define DHCP_RL_SOURCES 1024
/*
 * How long a declined address stays out of the pool (RFC 2131 §4.3.3 leaves
 * it to the server): long enough for an operator to find the conflict.
 */
#define DHCP_DECLINE_PROBATION_S 3600
/*
 * A PXE menu choice is remembered this long, so the iPXE that the chosen
 * item loaded (which asks again without a boot item) still gets that item.
 */
#define DHCP_CHOICE_HOLD_S 600
#define DHCP_CHOICE_SLOTS 1024
/*
 * Unknown machines on subnets with `unknown: ignore` or `discover`: an
 * ignored machine's event, or a discovered machine's row, is written at
 * most once a minute per MAC (sooner when its address changes), and new
 * MACs get at most DHCP_UNKNOWN_RATE such writes a second between them: a
 * flood of random MACs costs counters, not store writes. The table of
 * discovered machines holds STORE_DISCOVERED_MAX rows at most.
 */
#define DHCP_UNKNOWN_HOLD_S 60
#define DHCP_UNKNOWN_SLOTS 1024
#define DHCP_UNKNOWN_RATE 10

/* Relay agents discard a request relayed more often than this (RFC 1542 §4.1.1). */
#define DHCP_MAX_HOPS 16
#define DHCP_OPT_RELAY_AGENT 82
#define RELAY_SUBOPT_LINK_SELECTION 5 /* RFC 3527 */
/* Datagrams handled per wake-up before yielding to other sockets. */
#define DHCP_RX_BATCH 64
/*
 * Why an ACK was not sent: its lease did not reach the disk (RFC 2131
 * §4.3.1 wants it durable first). The timeline's words; obs/explain.c
 * finds "ACK withheld" in them.
 */
#define DHCP_WHY_NOT_STORED "ACK withheld: the lease could not be stored (see the log)"

struct dhcp_iface {
	struct dhcp_server *s;
	char name[IFNAMSIZ];
	unsigned ifindex;
	uint32_t ip;
	int prefix_len;
	int fd[2]; /* port 67, port 4011 */
	struct event *ev[2];
};

/* A machine's last menu choice (boot item of a port-4011 request). */
struct dhcp_choice {
	uint8_t mac[6];
	uint16_t type, layer;
	int64_t until;
};

/*
 * A DHCP event with its own copy of every string, so that it can be
 * recorded after the request it came from is gone (an ACK: at the end of
 * its turn). Never copied: ev points into it.
 */
struct dhcp_note {
	struct obs_event ev;
	uint8_t mac[6];
	bool boot; /* a boot client: the detail gives the plan's file and reason */
	char kind[24], facts[300], detail[512];
	char vendor[80], user_class[40], iface[IFNAMSIZ], decision[128], source[80], profile[64];
};

/* When an unknown machine was last written down (an ignored event or a discovered row). */
struct dhcp_unknown_seen {
	uint8_t mac[6];
	enum conf_unknown policy; /* the subnet's policy then: a new one writes at once */
	uint32_t ip;
	int64_t until;
};

/* A reply built during one loop turn, sent once the turn's leases are durable. */
struct dhcp_pending {
	int fd;
	struct dhcp_dest dest;
	size_t len;
	uint8_t buf[DHCP_MAX_LEN];
};

struct dhcp_server {
	struct pxed *d;
	struct dhcp_iface ifs[CONF_MAX_INTERFACES];
	size_t n_ifs;
	struct dhcp_pool pools[CONF_MAX_SUBNETS]; /* pools[i] is conf->subnets[i]'s */
	struct dhcp_pending pending[DHCP_RX_BATCH];
	size_t n_pending;
	struct dhcp_optset optset; /* scratch for the reply being built (one at a time) */
	struct dhcp_choice choices[DHCP_CHOICE_SLOTS]; /* slot by MAC hash; newest wins */
	/* Rate limits (conf dhcp.rate_*); NULL when off. Owned here. */
	struct ratelimit *rl_mac, *rl_source, *rl_new_client;
	/* Unknown machines: slot by MAC hash, newest wins; new MACs written a second. */
	struct dhcp_unknown_seen unknown[DHCP_UNKNOWN_SLOTS];
	struct ratelimit *rl_unknown;
	uint64_t flood_until;  /* offers are brief until then (monotonic us): a flood */
	uint64_t rate_limited; /* drops so far, for the log's 1, 2, 4, 8... lines */
	bool in_turn;	       /* a store batch is open: ACKs wait for its commit */
	/* The turn's ACKs, recorded at its end (dhcp_server_turn_end). */
	struct dhcp_note acks[DHCP_RX_BATCH];
	size_t n_acks;
};

/* One request being answered. */
struct dhcp_ctx {
	struct dhcp_server *s;
	const struct conf *conf;
	const struct dhcp_msg *req;
	const struct dhcp_iface *iface;
	struct boot_facts facts;
	struct boot_plan plan;
	uint32_t server_ip;
	uint16_t port;
	uint32_t peer_ip;
	uint16_t peer_port;
	char macs[18];
	const struct conf_host *host; /* the client's reservation, if any */
	/* Not in hosts: its subnet's `unknown:` policy (outside any subnet: boot). */
	enum conf_unknown unknown;
	const struct conf_subnet *unknown_sn;
	uint32_t lease_ip;  /* the address an ACK granted */
	uint32_t link;	    /* relay's link selection (RFC 3527); 0 = none */
	uint8_t reply_type; /* set when a reply is built */
	bool granted;	    /* the reply grants a lease written to the store */
	bool brief;	    /* an offer made during a flood of new clients */
	bool source_over;   /* a new client whose source is over dhcp.rate_per_source */
	char source[80];    /* the timeline's words for plan.source */
};

static bool dhcp_prefix(const uint8_t *p, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return p != NULL && len >= n && memcmp(p, prefix, n) == 0;
}

/* Copies a peer option into a fixed field of the facts (at most 255 bytes). */
static size_t dhcp_fact_copy(const struct dhcp_msg *m, uint8_t code, uint8_t *dst, size_t cap)
{
	size_t len;
	const uint8_t *p = dhcp_opt(m, code, &len);
	if (p == NULL)
		return 0;
	len = len < cap ? len : cap;
	memcpy(dst, p, len);
	return len;
}

void dhcp_facts(const struct dhcp_msg *m, struct boot_facts *f)
{
	size_t len;
	const uint8_t *p;

	memset(f, 0, sizeof(*f));
	memcpy(f->mac, m->chaddr, 6);
	f->relay = m->giaddr;
	f->vendor_class_len =
	    dhcp_fact_copy(m, DHCP_OPT_VENDOR_CLASS, f->vendor_class, sizeof(f->vendor_class));
	f->user_class_len =
	    dhcp_fact_copy(m, DHCP_OPT_USER_CLASS, f->user_class, sizeof(f->user_class));
	f->client_id_len =
	    dhcp_fact_copy(m, DHCP_OPT_CLIENT_ID, f->client_id, sizeof(f->client_id));
	f->pxe_client = dhcp_prefix(f->vendor_class, f->vendor_class_len, "PXEClient");
	f->http_client = dhcp_prefix(f->vendor_class, f->vendor_class_len, "HTTPClient");
	/* iPXE sends user class "iPXE" and its feature list in option 175. */
	f->ipxe = (f->user_class_len == 4 && memcmp(f->user_class, "iPXE", 4) == 0) ||
		  dhcp_opt(m, DHCP_OPT_IPXE, NULL) != NULL;
	p = dhcp_opt(m, DHCP_OPT_CLIENT_ARCH, &len);
	if (p != NULL && len >= 2) {
		f->has_arch = true;
		f->arch = (uint16_t)(p[0] << 8 | p[1]);
	}
	p = dhcp_opt(m, DHCP_OPT_UUID, &len);
	if (p != NULL && len == 17 && p[0] == 0) {
		f->has_uuid = true;
		memcpy(f->uuid, p + 1, 16);
	}
	p = dhcp_opt(m, DHCP_OPT_VENDOR, &len);
	if (p != NULL && f->pxe_client)
		f->has_boot_item =
		    pxe_parse_boot_item(p, len, &f->boot_item_type, &f->boot_item_layer);
}

static bool dhcp_is_boot_client(const struct boot_facts *f)
{
	return f->pxe_client || f->http_client || f->ipxe;
}

/* ---- addresses ---------------------------------------------------------- */

/* Hosts built by hand (pxed boot, tests) set neither: they are known by MAC. */
static bool dhcp_host_has_mac(const struct conf_host *h)
{
	return h->has_mac || h->client_id_len == 0;
}

/* A reservation by client identifier (option 61) wins over one by MAC. */
static const struct conf_host *dhcp_find_host(const struct conf *c, const struct boot_facts *f)
{
	const struct conf_host *h = NULL;
	if (f->client_id_len > 0)
		h = conf_find_host_by_client_id(c, f->client_id, f->client_id_len);
	return h != NULL ? h : conf_find_host(c, f->mac);
}

/* The pool that holds ip, or NULL (pools are indexed like conf->subnets). */
static struct dhcp_pool *dhcp_pool_of(struct dhcp_server *s, uint32_t ip)
{
	for (size_t i = 0; i < s->d->conf->n_subnets; i++)
		if (pool_contains(&s->pools[i], ip))
			return &s->pools[i];
	return NULL;
}

static struct dhcp_pool *dhcp_pool_for_subnet(struct dhcp_server *s, const struct conf_subnet *sn)
{
	return &s->pools[sn - s->d->conf->subnets];
}

/* Frees a leased address, remembering its client; reservations stay as they are. */
static void dhcp_pool_unlease(struct dhcp_pool *p, uint32_t ip, const uint8_t mac[6])
{
	struct pool_slot *slot = p != NULL && ip != 0 ? pool_at(p, ip) : NULL;
	if (slot != NULL && slot->state == POOL_LEASED)
		pool_set(p, ip, POOL_FREE, mac, 0);
}

/*
 * Holds ip for the client between OFFER and REQUEST; a lease is never
 * downgraded. A brief offer (a flood is on) holds it for a few seconds only.
 */
static void dhcp_offer_hold(struct dhcp_server *s, const uint8_t mac[6], uint32_t ip, bool brief)
{
	struct dhcp_pool *p = dhcp_pool_of(s, ip);
	struct pool_slot *slot = p != NULL ? pool_at(p, ip) : NULL;
	if (slot == NULL || slot->state == POOL_LEASED || slot->state == POOL_RESERVED)
		return;
	int64_t now = (int64_t)time(NULL);
	pool_offer(p, ip, mac, now, now + (brief ? DHCP_OFFER_BRIEF_S : DHCP_OFFER_HOLD_S), brief);
}

/* The client chose another server or took a lease: its held offer goes. */
static void dhcp_offer_drop(struct dhcp_server *s, const uint8_t mac[6])
{
	for (size_t i = 0; i < s->d->conf->n_subnets; i++) {
		struct dhcp_pool *p = &s->pools[i];
		uint32_t ip = pool_by_mac(p, mac);
		struct pool_slot *slot = ip != 0 ? pool_at(p, ip) : NULL;
		if (slot != NULL && slot->state == POOL_OFFERED)
			pool_set(p, ip, POOL_FREE, mac, 0);
	}
}

/* May ip be given to the client in ctx? */
static bool dhcp_addr_usable(struct dhcp_ctx *x, uint32_t ip)
{
	struct dhcp_pool *p = dhcp_pool_of(x->s, ip);
	bool reserved_here = x->host != NULL && x->host->address == ip;
	/* A client-id reservation's slot names no MAC: the store says who holds it. */
	if (p != NULL && !reserved_here)
		return pool_usable(p, ip, x->facts.mac, (int64_t)time(NULL));
	/* Outside the pools only reservations are handed out: check the store. */
	struct store_lease l;
	int rc = store_lease_by_ip(x->s->d->store, ip, &l);
	return rc == -ENOENT ||
	       (rc == 0 && (memcmp(l.mac, x->facts.mac, 6) == 0 || l.expires <= time(NULL)));
}

static bool dhcp_in_pool(const struct conf_subnet *sn, uint32_t ip)
{
	return sn->pool_first != 0 && ip >= sn->pool_first && ip <= sn->pool_last;
}

static bool dhcp_in_subnet(const struct conf_subnet *sn, uint32_t ip)
{
	return (ip & prefix_mask(sn->prefix_len)) == sn->network;
}

/*
 * Is dhcp.max_leases reached? Leases that expired in place do not count:
 * the pools' lease counters bound the live count, which is only counted
 * (at most once a second per pool) when they reach the limit.
 */
static bool dhcp_at_lease_limit(struct dhcp_server *s, uint32_t limit, int64_t now)
{
	uint64_t n = 0;

	for (size_t i = 0; i < s->d->conf->n_subnets; i++)
		n += s->pools[i].n_leased;
	if (limit == 0 || n < limit)
		return false;
	n = 0;
	for (size_t i = 0; i < s->d->conf->n_subnets; i++)
		n += pool_live_leases(&s->pools[i], now);
	return n >= limit;
}

/* Reservation, then the client's lease or offer, then the next free address. */
static uint32_t dhcp_choose_addr(struct dhcp_ctx *x, const struct conf_subnet *sn)
{
	const struct conf_host *h = x->host;
	struct dhcp_pool *p = dhcp_pool_for_subnet(x->s, sn);
	int64_t now = (int64_t)time(NULL);

	if (h != NULL && h->address != 0)
		return dhcp_in_subnet(sn, h->address) ? h->address : 0;
	uint32_t ip = pool_by_mac(p, x->facts.mac);
	if (ip != 0 && pool_usable(p, ip, x->facts.mac, now))
		return ip;
	/*
	 * A new client. Past the budget of new clients a second, and for a few
	 * seconds after, every offer is brief.
	 */
	uint64_t mono = now_mono_us();
	if (!ratelimit_allow(x->s->rl_new_client, "new", 3, mono))
		x->s->flood_until = mono + DHCP_OFFER_BRIEF_S * 1000000ull;
	/* A source over its rate gets brief offers for its new clients, not silence. */
	x->brief = mono < x->s->flood_until || x->source_over;
	if (dhcp_at_lease_limit(x->s, x->conf->max_leases, now)) {
		metric_inc(&x->s->d->metrics, METRIC_DHCP_LEASE_LIMIT);
		log_debug("dhcp", "%s: no offer, the lease limit (%u) is reached", x->macs,
			  x->conf->max_leases);
		return 0;
	}
	if (pool_at_lease_limit(p, sn->max_leases, now)) {
		metric_inc(&x->s->d->metrics, METRIC_DHCP_LEASE_LIMIT);
		log_debug("dhcp", "%s: no offer, the subnet's lease limit (%u) is reached", x->macs,
			  sn->max_leases);
		return 0;
	}
	ip = pool_find_free(p, now);
	if (ip == 0 && x->brief)
		ip = pool_find_reclaimable(p, now, DHCP_OFFER_MIN_HOLD_S);
	return ip;
}

/* Rebuilds the pools from the store: at start, and after a failed commit. */
static int dhcp_lease_to_pool(const struct store_lease *l, void *arg)
{
	struct dhcp_server *s = arg;
	struct dhcp_pool *p = dhcp_pool_of(s, l->ip);
	struct pool_slot *slot = p != NULL ? pool_at(p, l->ip) : NULL;
	if (slot != NULL && slot->state != POOL_RESERVED)
		pool_set(p, l->ip, POOL_LEASED, l->mac, l->expires);
	return 0;
}

static int dhcp_declined_to_pool(uint32_t ip, int64_t until, void *arg)
{
	struct dhcp_server *s = arg;
	struct dhcp_pool *p = dhcp_pool_of(s, ip);
	if (p != NULL && until > time(NULL))
		pool_set(p, ip, POOL_DECLINED, NULL, until);
	return 0;
}

static int dhcp_pools_load(struct dhcp_server *s)
{
	const struct conf *c = s->d->conf;
	for (size_t i = 0; i < c->n_subnets; i++)
		if (s->pools[i].size > 0)
			pool_reset(&s->pools[i]);
	for (size_t i = 0; i < c->n_hosts; i++) {
		struct dhcp_pool *p = dhcp_pool_of(s, c->hosts[i].address);
		/* Client-id-only hosts reserve the slot for no MAC: nobody allocates it. */
		if (p != NULL)
			pool_set(p, c->hosts[i].address, POOL_RESERVED,
				 dhcp_host_has_mac(&c->hosts[i]) ? c->hosts[i].mac : NULL, 0);
	}
	if (store_lease_each(s->d->store, dhcp_lease_to_pool, s) < 0 ||
	    store_declined_each(s->d->store, dhcp_declined_to_pool, s) < 0)
		return -EIO;
	return 0;
}

static int dhcp_pools_init(struct dhcp_server *s)
{
	const struct conf *c = s->d->conf;
	for (size_t i = 0; i < c->n_subnets; i++) {
		const struct conf_subnet *sn = &c->subnets[i];
		int rc = sn->pool_first != 0
			     ? pool_init(&s->pools[i], sn->pool_first, sn->pool_last)
			     : 0;
		if (rc < 0)
			return rc;
	}
	return dhcp_pools_load(s);
}

/*
 * A new snapshot (dhcp_server_conf_changed): where each new subnet's pool
 * comes from, the pools built again, and the reservations that changed in
 * the pools kept. Everything that can fail is done before the running
 * pools change, so that a failure leaves them as they were.
 */
struct dhcp_resv {
	uint32_t ip;
	bool has_mac; /* false: reserved for a client identifier, no MAC */
	uint8_t mac[6];
	/* A reservation gone: the store's lease on ip, which its slot becomes. */
	bool leased;
	uint8_t lease_mac[6];
	int64_t expires;
};

struct dhcp_reload {
	size_t n_old, n_new;	      /* subnets of the old and the new snapshot */
	int from[CONF_MAX_SUBNETS];   /* new subnet -> the old pool it keeps as it is, or -1 */
	bool taken[CONF_MAX_SUBNETS]; /* old pool -> moved to a new subnet */
	bool build[CONF_MAX_SUBNETS]; /* new subnet -> its pool is built again */
	struct dhcp_pool built[CONF_MAX_SUBNETS];
	struct dhcp_pool next[CONF_MAX_SUBNETS]; /* the pools once swapped, new order */
	struct dhcp_resv *gone, *added;		 /* reservations that changed in the kept pools */
	size_t n_gone, n_added;
	int64_t now;
};

/*
 * Old pools are matched by what they are, not by their place: subnets may
 * be added, removed or reordered. The running pool's own range counts (a
 * failed reload may have left an old range in place), not the old config's.
 */
static void dhcp_reload_map(struct dhcp_server *s, struct dhcp_reload *r, const struct conf *old)
{
	const struct conf *c = s->d->conf;

	for (size_t j = 0; j < r->n_new; j++) {
		const struct conf_subnet *sn = &c->subnets[j];
		r->from[j] = -1;
		for (size_t i = 0; i < r->n_old && sn->pool_first != 0 && r->from[j] < 0; i++) {
			const struct dhcp_pool *p = &s->pools[i];
			if (!r->taken[i] && p->size > 0 && p->first == sn->pool_first &&
			    p->last == sn->pool_last && old->subnets[i].network == sn->network &&
			    old->subnets[i].prefix_len == sn->prefix_len) {
				r->from[j] = (int)i;
				r->taken[i] = true;
			}
		}
		r->build[j] = sn->pool_first != 0 && r->from[j] < 0;
	}
}

/* The pool being built that holds ip, or NULL. */
static struct dhcp_pool *dhcp_reload_pool_of(struct dhcp_reload *r, uint32_t ip)
{
	for (size_t j = 0; j < r->n_new; j++)
		if (r->build[j] && pool_contains(&r->built[j], ip))
			return &r->built[j];
	return NULL;
}

/* As dhcp_lease_to_pool and dhcp_declined_to_pool, into the pools being built. */
static int dhcp_reload_lease(const struct store_lease *l, void *arg)
{
	struct dhcp_pool *p = dhcp_reload_pool_of(arg, l->ip);
	struct pool_slot *slot = p != NULL ? pool_at(p, l->ip) : NULL;
	if (slot != NULL && slot->state != POOL_RESERVED)
		pool_set(p, l->ip, POOL_LEASED, l->mac, l->expires);
	return 0;
}

static int dhcp_reload_declined(uint32_t ip, int64_t until, void *arg)
{
	struct dhcp_reload *r = arg;
	struct dhcp_pool *p = dhcp_reload_pool_of(r, ip);
	if (p != NULL && until > r->now)
		pool_set(p, ip, POOL_DECLINED, NULL, until);
	return 0;
}

/*
 * Builds the new pools whose range is new, in storage of their own, from the
 * new reservations and the store; the offers of boots in progress follow
 * their addresses from the old pools that go. 0 or -errno.
 */
static int dhcp_reload_build(struct dhcp_server *s, struct dhcp_reload *r)
{
	const struct conf *c = s->d->conf;
	size_t n = 0;

	for (size_t j = 0; j < r->n_new; j++) {
		if (!r->build[j])
			continue;
		int rc = pool_init(&r->built[j], c->subnets[j].pool_first, c->subnets[j].pool_last);
		if (rc < 0)
			return rc;
		n++;
	}
	if (n == 0)
		return 0;
	for (size_t i = 0; i < c->n_hosts; i++) {
		const struct conf_host *h = &c->hosts[i];
		struct dhcp_pool *p = dhcp_reload_pool_of(r, h->address);
		/* Client-id-only hosts reserve the slot for no MAC: nobody allocates it. */
		if (p != NULL)
			pool_set(p, h->address, POOL_RESERVED, dhcp_host_has_mac(h) ? h->mac : NULL,
				 0);
	}
	if (store_lease_each(s->d->store, dhcp_reload_lease, r) < 0 ||
	    store_declined_each(s->d->store, dhcp_reload_declined, r) < 0)
		return -EIO;
	for (size_t j = 0; j < r->n_new; j++)
		for (size_t i = 0; i < r->n_old && r->build[j]; i++)
			if (!r->taken[i])
				pool_take_offers(&r->built[j], &s->pools[i], r->now);
	return 0;
}

/* Does one of the old pools kept as they are hold ip? */
static bool dhcp_reload_kept(const struct dhcp_server *s, const struct dhcp_reload *r, uint32_t ip)
{
	for (size_t i = 0; i < r->n_old; i++)
		if (r->taken[i] && pool_contains(&s->pools[i], ip))
			return true;
	return false;
}

static int dhcp_resv_cmp(const void *a, const void *b)
{
	const struct dhcp_resv *x = a, *y = b;
	if (x->ip != y->ip)
		return x->ip < y->ip ? -1 : 1;
	if (x->has_mac != y->has_mac)
		return x->has_mac ? 1 : -1;
	return x->has_mac ? memcmp(x->mac, y->mac, 6) : 0;
}

/* c's reservations in the kept pools, sorted; *out has room for c->n_hosts. 0 or -ENOMEM. */
static int dhcp_resv_list(const struct dhcp_server *s, const struct dhcp_reload *r,
			  const struct conf *c, struct dhcp_resv **out, size_t *n)
{
	*n = 0;
	*out = calloc(c->n_hosts + 1, sizeof(**out));
	if (*out == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_hosts; i++) {
		const struct conf_host *h = &c->hosts[i];
		if (h->address == 0 || !dhcp_reload_kept(s, r, h->address))
			continue;
		struct dhcp_resv *v = &(*out)[(*n)++];
		v->ip = h->address;
		v->has_mac = dhcp_host_has_mac(h);
		if (v->has_mac)
			memcpy(v->mac, h->mac, 6);
	}
	qsort(*out, *n, sizeof(**out), dhcp_resv_cmp);
	return 0;
}

/* Keeps in a (sorted) the reservations that b (sorted) has not; returns how many. */
static size_t dhcp_resv_minus(struct dhcp_resv *a, size_t na, const struct dhcp_resv *b, size_t nb)
{
	size_t k = 0, j = 0;

	for (size_t i = 0; i < na; i++) {
		while (j < nb && dhcp_resv_cmp(&b[j], &a[i]) < 0)
			j++;
		if (j < nb && dhcp_resv_cmp(&b[j], &a[i]) == 0)
			j++;
		else
			a[k++] = a[i];
	}
	return k;
}

/*
 * The reservations gone from the kept pools (with the store's lease on
 * their address) and those added to them. 0, -ENOMEM or -EIO.
 */
static int dhcp_reload_diff(struct dhcp_server *s, struct dhcp_reload *r, const struct conf *old)
{
	struct dhcp_resv *was = NULL, *now = NULL;
	size_t n_was, n_now;
	int rc = dhcp_resv_list(s, r, old, &was, &n_was);
	if (rc == 0)
		rc = dhcp_resv_list(s, r, s->d->conf, &now, &n_now);
	if (rc == 0 && (r->gone = calloc(n_was + 1, sizeof(*r->gone))) == NULL)
		rc = -ENOMEM;
	if (rc < 0)
		goto out;
	memcpy(r->gone, was, n_was * sizeof(*was));
	r->n_gone = dhcp_resv_minus(r->gone, n_was, now, n_now);
	r->added = now;
	r->n_added = dhcp_resv_minus(now, n_now, was, n_was);
	now = NULL;
	for (size_t i = 0; i < r->n_gone; i++) {
		struct dhcp_resv *g = &r->gone[i];
		struct store_lease l;
		int got = store_lease_by_ip(s->d->store, g->ip, &l);
		if (got < 0 && got != -ENOENT) {
			rc = -EIO;
			goto out;
		}
		g->leased = got == 0;
		if (g->leased) {
			memcpy(g->lease_mac, l.mac, 6);
			g->expires = l.expires;
		}
	}
out:
	free(was);
	free(now);
	return rc;
}

/*
 * Puts the pools in the new snapshot's order: the kept ones moved, the
 * built ones in (when built), the others freed. When the build failed, a
 * subnet whose pool was to be built keeps the old pool of its network as
 * it was, so the pools still follow conf->subnets. Cannot fail.
 */
static void dhcp_reload_swap(struct dhcp_server *s, struct dhcp_reload *r, const struct conf *old,
			     bool built)
{
	const struct conf *c = s->d->conf;

	for (size_t j = 0; j < r->n_new; j++) {
		if (r->from[j] >= 0) {
			r->next[j] = s->pools[r->from[j]];
		} else if (r->build[j] && built) {
			r->next[j] = r->built[j];
			memset(&r->built[j], 0, sizeof(r->built[j])); /* owned by s->pools now */
		}
		for (size_t i = 0; i < r->n_old && r->build[j] && !built; i++) {
			if (!r->taken[i] && s->pools[i].size > 0 &&
			    old->subnets[i].network == c->subnets[j].network &&
			    old->subnets[i].prefix_len == c->subnets[j].prefix_len) {
				r->next[j] = s->pools[i];
				r->taken[i] = true;
				break;
			}
		}
	}
	for (size_t i = 0; i < CONF_MAX_SUBNETS; i++)
		if (!r->taken[i] && s->pools[i].slots != NULL)
			pool_fini(&s->pools[i]);
	memcpy(s->pools, r->next, sizeof(s->pools));
}

/*
 * The reservations that changed, in the kept pools (now in the new order).
 * An address no longer reserved becomes what the store says (leased, or
 * free); a newly reserved one becomes reserved unless another client holds
 * it (a lease or an offer), or it is declined: then it stays as it is.
 */
static void dhcp_reload_reserve(struct dhcp_server *s, const struct dhcp_reload *r)
{
	for (size_t i = 0; i < r->n_gone; i++) {
		const struct dhcp_resv *g = &r->gone[i];
		struct dhcp_pool *p = dhcp_pool_of(s, g->ip);
		struct pool_slot *slot = p != NULL ? pool_at(p, g->ip) : NULL;
		if (slot == NULL || slot->state != POOL_RESERVED)
			continue;
		if (g->leased)
			pool_set(p, g->ip, POOL_LEASED, g->lease_mac, g->expires);
		else
			pool_set(p, g->ip, POOL_FREE, NULL, 0);
	}
	for (size_t i = 0; i < r->n_added; i++) {
		const struct dhcp_resv *a = &r->added[i];
		struct dhcp_pool *p = dhcp_pool_of(s, a->ip);
		struct pool_slot *slot = p != NULL ? pool_at(p, a->ip) : NULL;
		if (slot == NULL)
			continue;
		bool held = slot->state != POOL_FREE && slot->state != POOL_RESERVED &&
			    slot->until > r->now;
		bool mine =
		    a->has_mac && slot->state != POOL_DECLINED && memcmp(slot->mac, a->mac, 6) == 0;
		if (!held || mine)
			pool_set(p, a->ip, POOL_RESERVED, a->has_mac ? a->mac : NULL, 0);
	}
}

int dhcp_server_conf_changed(struct dhcp_server *s, const struct conf *old)
{
	/* On the stack: the pools must follow the new snapshot even when memory is short. */
	struct dhcp_reload r;

	memset(&r, 0, sizeof(r));
	r.n_old = old->n_subnets;
	r.n_new = s->d->conf->n_subnets;
	r.now = (int64_t)time(NULL);
	dhcp_reload_map(s, &r, old);
	int rc = dhcp_reload_build(s, &r);
	if (rc == 0)
		rc = dhcp_reload_diff(s, &r, old);
	dhcp_reload_swap(s, &r, old, rc == 0);
	if (rc == 0)
		dhcp_reload_reserve(s, &r);
	else
		log_err("dhcp", "new pools: %s: the old ones stay as they were", strerror(-rc));
	for (size_t j = 0; j < r.n_new; j++)
		if (r.built[j].slots != NULL)
			pool_fini(&r.built[j]);
	free(r.gone);
	free(r.added);
	return rc;
}

/*
 * The address that picks the request's subnet. Relayed requests belong to
 * the relay's subnet (RFC 2131 §4.3.1), or to the link the relay names in
 * option 82 (RFC 3527).
 */
static uint32_t dhcp_link_addr(const struct dhcp_ctx *x)
{
	return x->link != 0 ? x->link : x->req->giaddr != 0 ? x->req->giaddr : x->iface->ip;
}

static const struct conf_subnet *dhcp_subnet_for(struct dhcp_ctx *x)
{
	return conf_find_subnet(x->conf, dhcp_link_addr(x));
}

/* ---- replies ------------------------------------------------------------ */

static uint32_t dhcp_lease_time(const struct conf *c, const struct conf_subnet *sn)
{
	return sn->lease_time_s != 0 ? sn->lease_time_s : c->lease_time_s;
}

/* Lease time and the renewal times (RFC 2131 §4.4.5: T1 0.5, T2 0.875). */
static void dhcp_set_lease_times(struct dhcp_optset *o, uint32_t lease)
{
	dhcp_optset_put_u32(o, DHCP_OPT_LEASE_TIME, lease);
	dhcp_optset_put_u32(o, DHCP_OPT_RENEWAL, lease / 2);
	dhcp_optset_put_u32(o, DHCP_OPT_REBINDING, (uint32_t)((uint64_t)lease * 7 / 8));
}

/* The network's configuration: what INFORM asks for and every grant carries. */
static void dhcp_set_net_opts(struct dhcp_optset *o, const struct conf_subnet *sn)
{
	dhcp_optset_put_u32(o, DHCP_OPT_SUBNET_MASK, prefix_mask(sn->prefix_len));
	dhcp_optset_put_u32(o, DHCP_OPT_BROADCAST, sn->network | ~prefix_mask(sn->prefix_len));
	if (sn->router != 0)
		dhcp_optset_put_u32(o, DHCP_OPT_ROUTER, sn->router);
	if (sn->n_dns > 0) {
		uint8_t dns[4 * CONF_MAX_DNS];
		for (size_t i = 0; i < sn->n_dns; i++) {
			uint32_t v = sn->dns[i];
			uint8_t q[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
					(uint8_t)v};
			memcpy(dns + 4 * i, q, 4);
		}
		dhcp_optset_put(o, DHCP_OPT_DNS, dns, 4 * sn->n_dns);
	}
	if (sn->domain != NULL)
		dhcp_optset_put_str(o, DHCP_OPT_DOMAIN, sn->domain);
}

/* Configured options, lowest precedence first: global, subnet, classes, host. */
static void dhcp_set_conf_opts(struct dhcp_optset *o, const struct dhcp_ctx *x,
			       const struct conf_subnet *sn)
{
	const struct conf_class *cls[CONF_MAX_CLASSES];
	size_t n = boot_classes_match(x->conf, &x->facts, cls, CONF_MAX_CLASSES);

	dhcp_optset_apply(o, &x->conf->options);
	if (sn != NULL)
		dhcp_optset_apply(o, &sn->options);
	for (size_t i = 0; i < n; i++)
		dhcp_optset_apply(o, &cls[i]->options);
	if (x->host != NULL)
		dhcp_optset_apply(o, &x->host->options);
}

/*
 * Option 82 (RFC 3046): its sub-options must tile the option exactly; the
 * link selection sub-option (RFC 3527) carries an address. -EINVAL when
 * malformed.
 */
static int dhcp_relay_info(const struct dhcp_msg *m, uint32_t *link)
{
	size_t len;
	const uint8_t *p = dhcp_opt(m, DHCP_OPT_RELAY_AGENT, &len);
	struct rd r = rd_init(p, p != NULL ? len : 0);

	*link = 0;
	while (rd_left(&r) > 0) {
		uint8_t code = rd_u8(&r), l = rd_u8(&r);
		const uint8_t *v = rd_take(&r, l);
		if (v == NULL)
			return -EINVAL;
		if (code == RELAY_SUBOPT_LINK_SELECTION) {
			if (l != 4)
				return -EINVAL;
			*link = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 |
				v[3];
		}
	}
	return r.err ? -EINVAL : 0;
}

static bool dhcp_requested(const struct dhcp_msg *m, uint8_t code)
{
	size_t len;
	const uint8_t *p = dhcp_opt(m, DHCP_OPT_PARAM_LIST, &len);
	return p != NULL && memchr(p, code, len) != NULL;
}

/* The PXE part of a reply (PXE 2.1 §2.2): vendor class echo, option 43, file. */
static void dhcp_set_boot_opts(struct dhcp_optset *o, const struct dhcp_ctx *x, bool long_file)
{
	const struct dhcp_msg *m = x->req;
	size_t len;
	const uint8_t *uuid;

	if (x->facts.http_client)
		dhcp_optset_put_str(o, DHCP_OPT_VENDOR_CLASS, "HTTPClient");
	else if (x->facts.pxe_client)
		dhcp_optset_put_str(o, DHCP_OPT_VENDOR_CLASS, "PXEClient");
	uint8_t pxe43[255];
	int n = pxe_build_vendor_opts(x->conf, &x->facts, &x->plan, x->server_ip,
				      x->port == PXE_BOOT_SERVER_PORT, pxe43, sizeof(pxe43));
	if (n > 0)
		dhcp_optset_put(o, DHCP_OPT_VENDOR, pxe43, (size_t)n);
	/* Several ROMs ignore a PXE reply that does not echo the client's UUID. */
	if ((uuid = dhcp_opt(m, DHCP_OPT_UUID, &len)) != NULL)
		dhcp_optset_put(o, DHCP_OPT_UUID, uuid, len);
	if (dhcp_requested(m, DHCP_OPT_TFTP_SERVER) && x->plan.action == BOOT_TFTP) {
		char ip[16];
		dhcp_optset_put_str(o, DHCP_OPT_TFTP_SERVER, ip4_format(ip, x->server_ip));
	}
	/* A name too long for the 128-byte file field travels only as option 67. */
	if (x->plan.file[0] != '\0' && (long_file || dhcp_requested(m, DHCP_OPT_BOOTFILE)))
		dhcp_optset_put_str(o, DHCP_OPT_BOOTFILE, x->plan.file);
	else
		dhcp_optset_del(o, DHCP_OPT_BOOTFILE);
}

/* The largest reply the client takes: option 57, else 576 (RFC 2131 §2), less IP/UDP. */
static size_t dhcp_max_reply_len(const struct dhcp_msg *m)
{
	uint16_t max = 576;
	if (dhcp_opt_u16(m, DHCP_OPT_MAX_SIZE, &max) && max < 576)
		max = 576;
	size_t len = (size_t)max - 28;
	return len < DHCP_MAX_LEN ? len : DHCP_MAX_LEN;
}

/* Debug: the reply's options by name and value, from the option catalogue. */
static void dhcp_log_options(const struct dhcp_ctx *x, const struct dhcp_optset *o)
{
	char line[1024], label[DHCP_OPTDEF_LABEL_MAX], value[256];
	size_t n = 0;
	for (int code = 1; code < 255 && n < sizeof(line) - 1; code++) {
		if (!o->has[code])
			continue;
		const struct dhcp_optdef *def = dhcp_optdef_by_code((uint8_t)code);
		dhcp_optdef_format(def, o->data + o->off[code], o->len[code], value, sizeof(value));
		int w = snprintf(line + n, sizeof(line) - n, "%s%s=%s", n ? " " : "",
				 dhcp_optdef_label(def, label), value);
		if (w < 0)
			break;
		n += (size_t)w < sizeof(line) - n ? (size_t)w : sizeof(line) - n - 1;
	}
	line[n] = '\0';
	log_debug("dhcp", "%s %s options: %s", x->macs, dhcp_msg_type_name(x->reply_type), line);
}

/*
 * Builds a reply of `type`. sn != NULL adds the network's options; lease_s
 * != 0 the lease times (grants only, never INFORM: RFC 2131 §4.3.5).
 */
static int dhcp_build_reply(struct dhcp_ctx *x, uint8_t type, uint32_t yiaddr,
			    const struct conf_subnet *sn, uint32_t lease_s, uint8_t *out,
			    size_t cap)
{
	const struct dhcp_msg *m = x->req;
	bool boot =
	    type != DHCPNAK && dhcp_is_boot_client(&x->facts) && x->plan.action != BOOT_NONE;
	bool long_file = boot && strlen(x->plan.file) >= sizeof(m->file);
	struct dhcp_reply_hdr h = {.op = DHCP_BOOTREPLY,
				   .htype = m->htype,
				   .hlen = m->hlen,
				   .xid = m->xid,
				   .flags = m->flags,
				   .ciaddr = type == DHCPNAK ? 0 : m->ciaddr,
				   .yiaddr = yiaddr,
				   .siaddr = boot ? x->server_ip : 0,
				   .giaddr = m->giaddr,
				   .chaddr = m->chaddr,
				   .file =
				       boot && !long_file && x->plan.file[0] ? x->plan.file : NULL};
	struct dhcp_optset *o = &x->s->optset;
	struct dhcp_builder b;
	size_t prl_len = 0, l82;
	const uint8_t *prl = dhcp_opt(m, DHCP_OPT_PARAM_LIST, &prl_len);
	const uint8_t *o82 = dhcp_opt(m, DHCP_OPT_RELAY_AGENT, &l82);

	x->reply_type = type;
	dhcp_optset_init(o);
	dhcp_optset_put(o, DHCP_OPT_MSG_TYPE, &type, 1);
	dhcp_optset_put_u32(o, DHCP_OPT_SERVER_ID, x->server_ip);
	if (type != DHCPNAK) {
		if (lease_s != 0)
			dhcp_set_lease_times(o, lease_s);
		if (sn != NULL)
			dhcp_set_net_opts(o, sn);
		dhcp_set_conf_opts(o, x, sn);
		if (boot)
			dhcp_set_boot_opts(o, x, long_file);
	}
	/* The relay's option 82 goes back to it, last (RFC 3046 §2.2). */
	if (o82 != NULL && m->giaddr != 0)
		dhcp_optset_put(o, DHCP_OPT_RELAY_AGENT, o82, l82);
	dhcp_build_start(&b, out, cap, &h);
	size_t dropped =
	    dhcp_optset_emit(o, &b, prl, prl != NULL ? prl_len : 0, dhcp_max_reply_len(m),
			     (h.file == NULL ? 1u : 0u) | 2u /* file/sname carry no name */);
	if (dropped > 0)
		log_warn("dhcp", "%s: %zu options left out of a reply (client takes %zu bytes)",
			 x->macs, dropped, dhcp_max_reply_len(m));
	if (log_enabled(LOG_DEBUG))
		dhcp_log_options(x, o);
	return dhcp_build_finish(&b);
}

/* Where a reply goes (RFC 2131 §4.1). */
static void dhcp_dest_for(const struct dhcp_ctx *x, uint8_t type, struct dhcp_dest *d)
{
	const struct dhcp_msg *m = x->req;
	d->ifindex = x->iface->ifindex;
	d->src_ip = x->server_ip;
	if (x->port == PXE_BOOT_SERVER_PORT) {
		/*
		 * PXE 2.1: a boot-server reply goes back where the request came
		 * from; a client without an address yet can only hear a broadcast.
		 */
		d->ip = x->peer_ip != 0 ? x->peer_ip : 0xffffffffu;
		d->port = x->peer_port;
	} else if (m->giaddr != 0) {
		d->ip = m->giaddr;
		d->port = DHCP_SERVER_PORT;
	} else if (m->ciaddr != 0 && type != DHCPNAK) {
		d->ip = m->ciaddr;
		d->port = DHCP_CLIENT_PORT;
	} else {
		/* No address yet: broadcast, which every client can receive. */
		d->ip = 0xffffffffu;
		d->port = DHCP_CLIENT_PORT;
	}
}

/* ---- timeline ----------------------------------------------------------- */

/* "host db1", "class efi", "menu item 2", "default_profile", "none": who chose the profile. */
static void dhcp_plan_source(const struct boot_plan *p, char *out, size_t cap)
{
	switch (p->source) {
	case BOOT_SRC_HOST:
		snprintf(out, cap, "host %s",
			 p->host != NULL && p->host->name ? p->host->name : "");
		break;
	case BOOT_SRC_CLASS:
		snprintf(out, cap, "class %s", p->cls != NULL && p->cls->name ? p->cls->name : "");
		break;
	case BOOT_SRC_MENU:
		snprintf(out, cap, "menu item %u", p->item != NULL ? p->item->type : 0);
		break;
	case BOOT_SRC_DEFAULT:
		snprintf(out, cap, "default_profile");
		break;
	default:
		snprintf(out, cap, "none");
	}
}

/* The structured part of a DHCP event: the facts, and for boot clients the plan. */
static void dhcp_record_facts(struct dhcp_ctx *x, struct obs_event *ev, const char *vc,
			      const char *uc)
{
	const struct boot_facts *f = &x->facts;
	const struct boot_plan *p = &x->plan;

	ev->has_arch = f->has_arch;
	ev->arch = f->arch;
	ev->vendor = vc;
	ev->user_class = uc;
	ev->relay = f->relay;
	ev->iface = f->interface;
	ev->has_boot_item = f->has_boot_item; /* remembered: outside port 4011 (explain.c) */
	ev->boot_item = f->boot_item_type;
	ev->ipxe = f->ipxe;
	if (!dhcp_is_boot_client(f))
		return;
	ev->discover = dhcp_msg_type(x->req) == DHCPDISCOVER;
	ev->decision = p->file[0] != '\0' ? p->file : p->action == BOOT_MENU ? "menu" : "none";
	dhcp_plan_source(p, x->source, sizeof(x->source));
	ev->source = x->source;
	ev->profile = p->profile != NULL ? p->profile->name : NULL;
}

/* Points *field at a copy of its string inside the note (NULL stays NULL). */
static void dhcp_note_keep(const char **field, char *dst, size_t cap)
{
	if (*field == NULL)
		return;
	snprintf(dst, cap, "%s", *field);
	*field = dst;
}

/* The facts and the plan of x's request, as an event about ip (dhcp_note_say: what happened). */
static void dhcp_note_fill(struct dhcp_ctx *x, const char *proto, uint32_t ip, struct dhcp_note *n)
{
	size_t len;
	const uint8_t *p = dhcp_opt(x->req, DHCP_OPT_VENDOR_CLASS, &len);

	n->vendor[0] = n->user_class[0] = '\0';
	if (p != NULL)
		log_escape(n->vendor, sizeof(n->vendor), p, len);
	if ((p = dhcp_opt(x->req, DHCP_OPT_USER_CLASS, &len)) != NULL)
		log_escape(n->user_class, sizeof(n->user_class), p, len);
	/* Boot clients get the plan's file and reason; the reason also explains a refusal. */
	n->boot = dhcp_is_boot_client(&x->facts);
	bool file = n->boot && x->plan.file[0] != '\0';
	snprintf(n->facts, sizeof(n->facts), "arch=%s vendor=%s user=%s%s%s",
		 x->facts.has_arch ? boot_arch_name(x->facts.arch) : "-",
		 n->vendor[0] ? n->vendor : "-", n->user_class[0] ? n->user_class : "-",
		 file ? " file=" : "", file ? x->plan.file : "");
	memcpy(n->mac, x->facts.mac, 6);
	n->ev = (struct obs_event){.mac = n->mac, .ip = ip, .proto = proto};
	dhcp_record_facts(x, &n->ev, n->vendor, n->user_class);
	/* The request's buffers and the plan may be gone when the note is recorded. */
	dhcp_note_keep(&n->ev.iface, n->iface, sizeof(n->iface));
	dhcp_note_keep(&n->ev.decision, n->decision, sizeof(n->decision));
	dhcp_note_keep(&n->ev.source, n->source, sizeof(n->source));
	dhcp_note_keep(&n->ev.profile, n->profile, sizeof(n->profile));
}

/*
 * What happened: the message type, the reason (given to boot clients only,
 * unless why_always) and whether it went well.
 */
static void dhcp_note_say(struct dhcp_note *n, uint8_t type, const char *why, bool ok,
			  bool why_always)
{
	bool say = why != NULL && (n->boot || why_always);
	snprintf(n->kind, sizeof(n->kind), "%s", dhcp_msg_type_name(type));
	for (char *k = n->kind; *k; k++)
		*k = (char)(*k | 0x20);
	snprintf(n->detail, sizeof(n->detail), "%s%s%s", n->facts, say ? " reason=" : "",
		 say ? why : "");
	n->ev.kind = n->kind;
	n->ev.detail = n->detail;
	n->ev.ok = ok;
}

static void dhcp_record(struct dhcp_ctx *x, const char *proto, uint8_t type, uint32_t ip,
			const char *why, bool ok)
{
	struct dhcp_note n;
	dhcp_note_fill(x, proto, ip, &n);
	dhcp_note_say(&n, type, why, ok, false);
	obs_event(x->s->d->obs, &n.ev);
}

/* The ACK leaves: its address is the client's, and the timeline says so. */
static void dhcp_ack_sent(struct dhcp_server *s, struct dhcp_note *n)
{
	obs_learn(s->d->obs, n->ev.ip, n->mac);
	metric_inc(&s->d->metrics, METRIC_DHCP_ACK);
	obs_event(s->d->obs, &n->ev);
}

/*
 * The ACK does not leave, its lease not being durable: the REQUEST failed,
 * and the timeline says why to every client, boot client or not. The
 * client retries on its own.
 */
static void dhcp_ack_withheld(struct dhcp_server *s, struct dhcp_note *n)
{
	metric_inc(&s->d->metrics, METRIC_DHCP_STORE_FAIL);
	dhcp_note_say(n, DHCPREQUEST, DHCP_WHY_NOT_STORED, false, true);
	obs_event(s->d->obs, &n->ev);
}

/*
 * An ACK built for x: outside a turn its lease is durable already, and it
 * is recorded now; inside one it waits for the commit (dhcp_server_turn_end).
 * dhcp_grant made sure the turn's list has room.
 */
static void dhcp_ack_built(struct dhcp_ctx *x, uint32_t ip)
{
	struct dhcp_server *s = x->s;
	struct dhcp_note now, *n = &now;

	if (s->in_turn)
		n = &s->acks[s->n_acks++];
	dhcp_note_fill(x, "dhcp", ip, n);
	dhcp_note_say(n, DHCPACK, x->plan.reason, true, false);
	if (n == &now)
		dhcp_ack_sent(s, n);
}

/*
 * A broadcast REQUEST that names another server (option 54): the machine
 * took that server's offer. The timeline's proof of a second DHCP server.
 */
static void dhcp_record_chose_other(struct dhcp_ctx *x, uint32_t sid)
{
	char detail[96], ips[16];
	snprintf(detail, sizeof(detail), "took the offer of server %s", ip4_format(ips, sid));
	struct obs_event ev = {.mac = x->facts.mac,
			       .ip = sid,
			       .proto = "dhcp",
			       .kind = "chose-other",
			       .detail = detail};
	dhcp_record_facts(x, &ev, NULL, NULL);
	ev.decision = NULL; /* not a decision of ours */
	obs_event(x->s->d->obs, &ev);
}

/* ---- full server -------------------------------------------------------- */

static int dhcp_on_discover(struct dhcp_ctx *x, uint8_t *out, size_t cap)
{
	const struct conf_subnet *sn = dhcp_subnet_for(x);
	if (sn == NULL) {
		metric_inc(&x->s->d->metrics, METRIC_DHCP_IGNORED);
		return 0;
	}
	uint32_t ip = dhcp_choose_addr(x, sn);
	if (ip == 0) {
		metric_inc(&x->s->d->metrics, METRIC_DHCP_POOL_EMPTY);
		/* During a flood, counted only (as brief offers are). */
		if (!x->brief)
			dhcp_record(x, "dhcp", DHCPDISCOVER, 0, "no free address in the pool",
				    false);
		return 0;
	}
	dhcp_offer_hold(x->s, x->facts.mac, ip, x->brief);
	int n = dhcp_build_reply(x, DHCPOFFER, ip, sn, dhcp_lease_time(x->conf, sn), out, cap);
	if (n > 0) {
		metric_inc(&x->s->d->metrics, METRIC_DHCP_OFFER);
		/*
		 * During a flood an offer is counted, not written to the timeline
		 * (a store write per random MAC is what the flood would cost us);
		 * the ACK of a machine that takes its offer is recorded.
		 */
		if (x->brief)
			metric_inc(&x->s->d->metrics, METRIC_DHCP_BRIEF_OFFER);
		else
			dhcp_record(x, "dhcp", DHCPOFFER, ip, x->plan.reason, true);
	}
	return n;
}

static int dhcp_nak(struct dhcp_ctx *x, uint32_t ip, const char *why, uint8_t *out, size_t cap)
{
	metric_inc(&x->s->d->metrics, METRIC_DHCP_NAK);
	dhcp_record(x, "dhcp", DHCPNAK, ip, why, false);
	return dhcp_build_reply(x, DHCPNAK, 0, NULL, 0, out, cap);
}

/* Writes the lease durably, then builds the ACK (RFC 2131 §4.3.1). */
static int dhcp_grant(struct dhcp_ctx *x, const struct conf_subnet *sn, uint32_t ip, uint8_t *out,
		      size_t cap)
{
	uint32_t lease = dhcp_lease_time(x->conf, sn);
	struct store_lease l = {.ip = ip, .expires = (int64_t)time(NULL) + lease};
	size_t len;
	const uint8_t *host = dhcp_opt(x->req, DHCP_OPT_HOSTNAME, &len);

	/*
	 * A turn's ACKs wait in a list of DHCP_RX_BATCH for its commit. The
	 * socket layer never hands a turn more requests than that; a caller that
	 * does (a test, a fuzzer) gets -ENOBUFS, not an ACK recorded as sent
	 * before its lease is durable. Nothing is written: the client retries.
	 */
	if (x->s->in_turn && x->s->n_acks >= DHCP_RX_BATCH) {
		log_err("dhcp", "%s: %d ACKs in one turn already: no ACK before its commit",
			x->macs, DHCP_RX_BATCH);
		return -ENOBUFS;
	}
	memcpy(l.mac, x->facts.mac, 6);
	/* Old ROMs pad names with NULs or 0xFF: the padding is not part of the name. */
	while (host != NULL && len > 0 && (host[len - 1] == 0 || host[len - 1] == 0xff))
		len--;
	if (host != NULL)
		log_escape(l.hostname, sizeof(l.hostname), host, len);
	if (store_lease_put(x->s->d->store, &l) < 0) {
		/* No durable lease, no ACK: the client will retry. */
		struct dhcp_note n;
		dhcp_note_fill(x, "dhcp", ip, &n);
		dhcp_ack_withheld(x->s, &n);
		return 0;
	}
	/* The store dropped the client's other lease (one per client): so do the pools. */
	for (size_t i = 0; i < x->conf->n_subnets; i++) {
		uint32_t old = pool_by_mac(&x->s->pools[i], x->facts.mac);
		if (old != ip)
			dhcp_pool_unlease(&x->s->pools[i], old, x->facts.mac);
	}
	/* A reserved address stays reserved while leased, so a release cannot free it. */
	struct dhcp_pool *p = dhcp_pool_of(x->s, ip);
	struct pool_slot *slot = p != NULL ? pool_at(p, ip) : NULL;
	if (slot != NULL && slot->state != POOL_RESERVED)
		pool_set(p, ip, POOL_LEASED, x->facts.mac, l.expires);
	x->granted = true;
	x->lease_ip = ip;
	int n = dhcp_build_reply(x, DHCPACK, ip, sn, lease, out, cap);
	/* Counted, learned and recorded when it is sent (dhcp_ack_built). */
	if (n > 0)
		dhcp_ack_built(x, ip);
	return n;
}

/* The client states a REQUEST can come from (RFC 2131 §4.3.2). */
enum dhcp_req_state { REQ_SELECTING, REQ_INIT_REBOOT, REQ_RENEWING };

static const char *const dhcp_req_state_names[] = {
    [REQ_SELECTING] = "SELECTING",
    [REQ_INIT_REBOOT] = "INIT-REBOOT",
    [REQ_RENEWING] = "RENEWING/REBINDING",
};

static enum dhcp_req_state dhcp_request_state(const struct dhcp_msg *m)
{
	if (dhcp_opt(m, DHCP_OPT_SERVER_ID, NULL) != NULL)
		return REQ_SELECTING;
	return m->ciaddr != 0 ? REQ_RENEWING : REQ_INIT_REBOOT;
}

/* Why ip cannot be this client's, or NULL when it can. */
static const char *dhcp_request_refusal(struct dhcp_ctx *x, const struct conf_subnet *sn,
					uint32_t ip)
{
	const struct conf_host *h = x->host;
	bool reserved_here = h != NULL && h->address == ip;
	if (ip == 0 || !dhcp_in_subnet(sn, ip))
		return "requested address is not on this network";
	if (h != NULL && h->address != 0 && !reserved_here)
		return "this machine has another reserved address";
	if (!reserved_here && !dhcp_in_pool(sn, ip))
		return "requested address is outside the pool";
	if (!dhcp_addr_usable(x, ip))
		return "requested address belongs to another client";
	/* A new lease counts against dhcp.max_leases; one the client holds does not. */
	struct dhcp_pool *p = dhcp_pool_of(x->s, ip);
	const struct pool_slot *slot = p != NULL ? pool_at(p, ip) : NULL;
	bool holds = slot != NULL && memcmp(slot->mac, x->facts.mac, 6) == 0 &&
		     (slot->state == POOL_LEASED || slot->state == POOL_OFFERED);
	if (!holds && !reserved_here &&
	    dhcp_at_lease_limit(x->s, x->conf->max_leases, (int64_t)time(NULL))) {
		metric_inc(&x->s->d->metrics, METRIC_DHCP_LEASE_LIMIT);
		return "the lease limit (dhcp.max_leases) is reached";
	}
	if (!holds && !reserved_here && p != NULL &&
	    pool_at_lease_limit(p, sn->max_leases, (int64_t)time(NULL))) {
		metric_inc(&x->s->d->metrics, METRIC_DHCP_LEASE_LIMIT);
		return "the subnet's lease limit (max_leases) is reached";
	}
	return NULL;
}

/* Does the store hold a lease of ip for this client (expired or not)? */
static bool dhcp_has_record(struct dhcp_ctx *x, uint32_t ip)
{
	struct store_lease l;
	return store_lease_by_ip(x->s->d->store, ip, &l) == 0 &&
	       memcmp(l.mac, x->facts.mac, 6) == 0;
}

static int dhcp_on_request(struct dhcp_ctx *x, uint8_t *out, size_t cap)
{
	enum dhcp_req_state st = dhcp_request_state(x->req);
	uint32_t sid = 0, ip = 0;

	/* SELECTING with another server's id: the client chose someone else. */
	if (dhcp_opt_ip(x->req, DHCP_OPT_SERVER_ID, &sid) && sid != x->server_ip) {
		dhcp_offer_drop(x->s, x->facts.mac);
		metric_inc(&x->s->d->metrics, METRIC_DHCP_IGNORED);
		dhcp_record_chose_other(x, sid);
		return 0;
	}
	if (st == REQ_RENEWING)
		ip = x->req->ciaddr;
	else
		dhcp_opt_ip(x->req, DHCP_OPT_REQUESTED_IP, &ip);
	const struct conf_subnet *sn = dhcp_subnet_for(x);
	if (sn == NULL) {
		metric_inc(&x->s->d->metrics, METRIC_DHCP_IGNORED);
		return 0;
	}
	const char *why = dhcp_request_refusal(x, sn, ip);
	/*
	 * INIT-REBOOT (§4.3.2): NAK an address that is wrong (another network,
	 * another client's); for a client we have no record of and an address
	 * we cannot fault, the server MUST remain silent.
	 */
	if (st == REQ_INIT_REBOOT && why == NULL && !dhcp_has_record(x, ip)) {
		metric_inc(&x->s->d->metrics, METRIC_DHCP_IGNORED);
		log_debug("dhcp", "%s: INIT-REBOOT for an address we have no record of", x->macs);
		return 0;
	}
	if (why != NULL) {
		if (!x->conf->authoritative && st != REQ_SELECTING) {
			metric_inc(&x->s->d->metrics, METRIC_DHCP_IGNORED);
			return 0;
		}
		char reason[160];
		snprintf(reason, sizeof(reason), "%s (%s)", why, dhcp_req_state_names[st]);
		return dhcp_nak(x, ip, reason, out, cap);
	}
	return dhcp_grant(x, sn, ip, out, cap);
}

static int dhcp_on_release(struct dhcp_ctx *x)
{
	struct store_lease l;
	uint32_t ip = x->req->ciaddr;
	/* Honoured only from the lease's owner. */
	if (store_lease_by_ip(x->s->d->store, ip, &l) == 0 && memcmp(l.mac, x->facts.mac, 6) == 0 &&
	    store_lease_delete(x->s->d->store, ip) == 0) {
		dhcp_pool_unlease(dhcp_pool_of(x->s, ip), ip, x->facts.mac);
		metric_inc(&x->s->d->metrics, METRIC_DHCP_RELEASE);
		dhcp_record(x, "dhcp", DHCPRELEASE, ip, NULL, true);
	} else {
		metric_inc(&x->s->d->metrics, METRIC_DHCP_IGNORED);
	}
	return 0;
}

/* The client found its address in use (ARP): keep it out of the pool. */
static int dhcp_on_decline(struct dhcp_ctx *x)
{
	struct store_lease l;
	uint32_t ip = 0;
	char ips[16];

	if (!dhcp_opt_ip(x->req, DHCP_OPT_REQUESTED_IP, &ip) ||
	    store_lease_by_ip(x->s->d->store, ip, &l) != 0 || memcmp(l.mac, x->facts.mac, 6) != 0) {
		/* Only the lease's owner may decline it: nobody frees another's lease. */
		metric_inc(&x->s->d->metrics, METRIC_DHCP_IGNORED);
		return 0;
	}
	if (store_lease_decline(x->s->d->store, ip,
				(int64_t)time(NULL) + DHCP_DECLINE_PROBATION_S) < 0) {
		metric_inc(&x->s->d->metrics, METRIC_DHCP_STORE_FAIL);
		return 0;
	}
	struct dhcp_pool *p = dhcp_pool_of(x->s, ip);
	if (p != NULL)
		pool_set(p, ip, POOL_DECLINED, NULL,
			 (int64_t)time(NULL) + DHCP_DECLINE_PROBATION_S);
	metric_inc(&x->s->d->metrics, METRIC_DHCP_DECLINE);
	log_warn("dhcp", "%s declined %s: another host uses it; out of the pool for %d s", x->macs,
		 ip4_format(ips, ip), DHCP_DECLINE_PROBATION_S);
	dhcp_record(x, "dhcp", DHCPDECLINE, ip, "address in use by another host", false);
	return 0;
}

/* A client with an address asks for configuration only (RFC 2131 §4.3.5). */
static int dhcp_on_inform(struct dhcp_ctx *x, uint8_t *out, size_t cap)
{
	const struct conf_subnet *sn = dhcp_subnet_for(x);
	if (sn == NULL || x->req->ciaddr == 0) {
		metric_inc(&x->s->d->metrics, METRIC_DHCP_IGNORED);
		return 0;
	}
	int n = dhcp_build_reply(x, DHCPACK, 0, sn, 0, out, cap);
	if (n > 0)
		metric_inc(&x->s->d->metrics, METRIC_DHCP_ACK);
	return n;
}

/* ---- menu choices ----------------------------------------------------------- */

static struct dhcp_choice *dhcp_choice_slot(struct dhcp_server *s, const uint8_t mac[6])
{
	return &s->choices[mac_hash(mac) % DHCP_CHOICE_SLOTS];
}

/* A boot item the client named itself on port 4011 is remembered for it. */
static void dhcp_choice_remember(struct dhcp_server *s, const struct boot_facts *f)
{
	if (!f->has_boot_item || f->boot_item_remembered)
		return;
	struct dhcp_choice *c = dhcp_choice_slot(s, f->mac);
	memcpy(c->mac, f->mac, 6);
	c->type = f->boot_item_type;
	c->layer = f->boot_item_layer;
	c->until = (int64_t)time(NULL) + DHCP_CHOICE_HOLD_S;
}

/* A request without a boot item inherits the machine's recent choice. */
static void dhcp_choice_recall(struct dhcp_server *s, struct boot_facts *f)
{
	const struct dhcp_choice *c = dhcp_choice_slot(s, f->mac);
	if (f->has_boot_item || memcmp(c->mac, f->mac, 6) != 0 || c->until <= time(NULL))
		return;
	f->has_boot_item = true;
	f->boot_item_remembered = true;
	f->boot_item_type = c->type;
	f->boot_item_layer = c->layer;
}

/* ---- proxyDHCP and the boot server -------------------------------------- */

/*
 * ProxyDHCP (PXE 2.1 §2.2.2): boot information with yiaddr 0 to PXE clients
 * only; the address comes from the other DHCP server.
 */
static int dhcp_on_proxy(struct dhcp_ctx *x, uint8_t type, uint8_t *out, size_t cap)
{
	if (!dhcp_is_boot_client(&x->facts) || x->plan.action == BOOT_NONE) {
		metric_inc(&x->s->d->metrics, METRIC_DHCP_IGNORED);
		if (dhcp_is_boot_client(&x->facts))
			dhcp_record(x, x->port == PXE_BOOT_SERVER_PORT ? "pxe4011" : "proxy", type,
				    x->req->ciaddr, x->plan.reason, false);
		return 0;
	}
	uint8_t reply = type == DHCPDISCOVER ? DHCPOFFER : DHCPACK;
	int n = dhcp_build_reply(x, reply, 0, NULL, 0, out, cap);
	if (n > 0) {
		metric_inc(&x->s->d->metrics,
			   reply == DHCPOFFER ? METRIC_DHCP_OFFER : METRIC_DHCP_ACK);
		if (x->req->ciaddr != 0)
			obs_learn(x->s->d->obs, x->req->ciaddr, x->facts.mac);
		dhcp_record(x, x->port == PXE_BOOT_SERVER_PORT ? "pxe4011" : "proxy", reply,
			    x->req->ciaddr, x->plan.reason, true);
	}
	return n;
}

static int dhcp_dispatch(struct dhcp_ctx *x, uint8_t type, uint8_t *out, size_t cap)
{
	if (x->port == PXE_BOOT_SERVER_PORT) {
		/* Boot server discovery: REQUEST (or INFORM) from a client with an address. */
		if (type == DHCPREQUEST || type == DHCPINFORM)
			return dhcp_on_proxy(x, DHCPREQUEST, out, cap);
		metric_inc(&x->s->d->metrics, METRIC_DHCP_IGNORED);
		return 0;
	}
	if (x->conf->dhcp_mode == CONF_DHCP_PROXY) {
		if (type == DHCPDISCOVER)
			return dhcp_on_proxy(x, type, out, cap);
		metric_inc(&x->s->d->metrics, METRIC_DHCP_IGNORED);
		return 0;
	}
	switch (type) {
	case DHCPDISCOVER:
		return dhcp_on_discover(x, out, cap);
	case DHCPREQUEST:
		return dhcp_on_request(x, out, cap);
	case DHCPRELEASE:
		return dhcp_on_release(x);
	case DHCPDECLINE:
		return dhcp_on_decline(x);
	case DHCPINFORM:
		return dhcp_on_inform(x, out, cap);
	default:
		metric_inc(&x->s->d->metrics, METRIC_DHCP_IGNORED);
		return 0;
	}
}

/* pxed_dhcp_messages_received_total{type=...}: the counter of a message type. */
static enum metric_id dhcp_rx_metric(uint8_t type)
{
	switch (type) {
	case DHCPDISCOVER:
		return METRIC_DHCP_RX_DISCOVER;
	case DHCPREQUEST:
		return METRIC_DHCP_RX_REQUEST;
	case DHCPDECLINE:
		return METRIC_DHCP_RX_DECLINE;
	case DHCPRELEASE:
		return METRIC_DHCP_RX_RELEASE;
	case DHCPINFORM:
		return METRIC_DHCP_RX_INFORM;
	default:
		return METRIC_DHCP_RX_OTHER;
	}
}

/*
 * Does mac hold a lease, an unexpired offer or a reservation in a pool? One
 * index lookup per pool: cheap enough for every packet.
 */
static bool dhcp_holds_addr(struct dhcp_server *s, const uint8_t mac[6])
{
	int64_t now = (int64_t)time(NULL);
	for (size_t i = 0; i < s->d->conf->n_subnets; i++) {
		struct dhcp_pool *p = &s->pools[i];
		uint32_t ip = pool_by_mac(p, mac);
		const struct pool_slot *slot = ip != 0 ? pool_at(p, ip) : NULL;
		if (slot == NULL || memcmp(slot->mac, mac, 6) != 0)
			continue;
		if (slot->state == POOL_RESERVED ||
		    ((slot->state == POOL_LEASED || slot->state == POOL_OFFERED) &&
		     slot->until > now))
			return true;
	}
	return false;
}

/*
 * The rate limits, checked before any work is done for a packet.
 *
 * First per client MAC, keyed on the MAC and where the packet came from
 * (peer address and giaddr): a spoofer sending a victim's MAC from elsewhere
 * empties its own bucket, not the victim's.
 *
 * Then per source, keyed on the pair (peer address, giaddr), so a packet
 * that claims a relay's giaddr from another address does not drain the
 * relay's bucket. Only new clients (no lease, offer or reservation) draw on
 * it: one random-MAC flood through a relay must not cut off the clients
 * behind it, so a client that holds an address always passes (its MAC's
 * limit still applies), and a new client's DISCOVER from a source over its
 * rate gets a brief offer (no store write) instead of silence. Other
 * messages of new clients from such a source are dropped: those are the
 * ones that cost a store write. Broadcasts from clients without an address
 * come from 0.0.0.0 with no giaddr and share no source bucket.
 */
static bool dhcp_within_rate(struct dhcp_ctx *x, const struct dhcp_msg *m)
{
	struct dhcp_server *s = x->s;
	uint64_t now = now_mono_us();
	uint8_t key[14]; /* MAC, peer address, giaddr */
	char macs[18];

	memcpy(key, m->chaddr, 6);
	memcpy(key + 6, &x->peer_ip, 4); /* host order: only compared, never sent */
	memcpy(key + 10, &m->giaddr, 4);
	if (!ratelimit_allow(s->rl_mac, key, sizeof(key), now))
		goto drop;
	if ((x->peer_ip == 0 && m->giaddr == 0) || s->rl_source == NULL ||
	    dhcp_holds_addr(s, m->chaddr) || ratelimit_allow(s->rl_source, key + 6, 8, now))
		return true;
	if (dhcp_msg_type(m) == DHCPDISCOVER) {
		x->source_over = true;
		return true;
	}
drop:
	metric_inc(&s->d->metrics, METRIC_DHCP_RATE_LIMITED);
	/* Logged at 1, 2, 4, 8... drops: visible, but a flood cannot flood the log. */
	s->rate_limited++;
	if ((s->rate_limited & (s->rate_limited - 1)) == 0)
		log_warn("dhcp", "%s: over the rate limit, dropped (%llu so far)",
			 mac_format(macs, m->chaddr), (unsigned long long)s->rate_limited);
	return false;
}

/* ---- unknown machines --------------------------------------------------- */

/*
 * The `unknown:` policy for a machine not in hosts: its subnet's (the
 * relay's or the interface's network, as for addresses; in proxy mode too),
 * or boot outside every subnet.
 */
static void dhcp_unknown_policy(struct dhcp_ctx *x)
{
	x->unknown = CONF_UNKNOWN_BOOT;
	if (x->host != NULL)
		return;
	x->unknown_sn = dhcp_subnet_for(x);
	if (x->unknown_sn != NULL)
		x->unknown = x->unknown_sn->unknown;
}

/*
 * Is it time to write this machine down again? Once a minute per MAC,
 * sooner when its address or its subnet's policy changed; a MAC new to the
 * table draws on a budget shared by all (a flood of random MACs).
 */
static bool dhcp_unknown_due(struct dhcp_ctx *x, uint32_t ip)
{
	struct dhcp_unknown_seen *u = &x->s->unknown[mac_hash(x->facts.mac) % DHCP_UNKNOWN_SLOTS];
	int64_t now = (int64_t)time(NULL);
	bool same = memcmp(u->mac, x->facts.mac, 6) == 0;

	if (same && u->policy == x->unknown && u->until > now && (ip == 0 || ip == u->ip))
		return false;
	if (!same && !ratelimit_allow(x->s->rl_unknown, "unknown", 7, now_mono_us()))
		return false;
	memcpy(u->mac, x->facts.mac, 6);
	u->policy = x->unknown;
	u->ip = ip != 0 ? ip : same ? u->ip : 0;
	u->until = now + DHCP_UNKNOWN_HOLD_S;
	return true;
}

/* "unknown machine on 10.0.0.0/24 (unknown: ignore)" */
static void dhcp_unknown_words(const struct dhcp_ctx *x, const char *what, char *out, size_t cap)
{
	char net[16];
	snprintf(out, cap, "%sunknown machine on %s/%d (unknown: %s)", what,
		 ip4_format(net, x->unknown_sn->network), x->unknown_sn->prefix_len,
		 conf_unknown_name(x->unknown));
}

/* No boot plan, for the reason given: the timeline and `pxed explain` show it. */
static void dhcp_unknown_no_plan(struct dhcp_ctx *x, const char *why)
{
	struct boot_plan *p = &x->plan;
	p->action = BOOT_NONE;
	p->file[0] = '\0';
	p->profile = NULL;
	p->source = BOOT_SRC_NONE;
	p->cls = NULL;
	p->item = NULL;
	p->pxe_menu = false;
	snprintf(p->reason, sizeof(p->reason), "%s", why);
}

/* The timeline's protocol of a request that got no answer. */
static const char *dhcp_unknown_proto(const struct dhcp_ctx *x)
{
	if (x->port == PXE_BOOT_SERVER_PORT)
		return "pxe4011";
	return x->conf->dhcp_mode == CONF_DHCP_PROXY ? "proxy" : "dhcp";
}

/*
 * `unknown: ignore`: no reply at all, like dhcp.known_only for one subnet.
 * Every packet is counted; the timeline gets an event now and then, so
 * that `pxed explain` can say why the machine got nothing.
 */
static void dhcp_unknown_ignore(struct dhcp_ctx *x, uint8_t type)
{
	char why[160];
	struct dhcp_note n;

	/* A flood of unknown machines costs a counter each, words only when an event is due. */
	metric_inc(&x->s->d->metrics, METRIC_DHCP_UNKNOWN_IGNORED);
	if (!dhcp_unknown_due(x, 0))
		return;
	dhcp_unknown_words(x, "ignored: ", why, sizeof(why));
	log_debug("dhcp", "%s: %s", x->macs, why);
	dhcp_unknown_no_plan(x, why);
	dhcp_note_fill(x, dhcp_unknown_proto(x), x->req->ciaddr, &n);
	dhcp_note_say(&n, type, why, false, true);
	obs_event(x->s->d->obs, &n.ev);
}

/*
 * `unknown: discover`: the machine is written down with its facts (in the
 * turn's batch), at most once a minute unless its address changed, and not
 * during a flood of new clients (brief offers write nothing either).
 */
static void dhcp_unknown_register(struct dhcp_ctx *x)
{
	struct store_discovered r = {0};
	size_t len;
	const uint8_t *p;
	uint32_t ip = x->lease_ip != 0 ? x->lease_ip : x->req->ciaddr;

	if (x->brief || !dhcp_unknown_due(x, ip))
		return;
	memcpy(r.mac, x->facts.mac, 6);
	r.first_seen = r.last_seen = (int64_t)time(NULL);
	r.ip = ip;
	r.has_arch = x->facts.has_arch;
	r.arch = x->facts.arch;
	if ((p = dhcp_opt(x->req, DHCP_OPT_VENDOR_CLASS, &len)) != NULL)
		log_escape(r.vendor, sizeof(r.vendor), p, len);
	if ((p = dhcp_opt(x->req, DHCP_OPT_USER_CLASS, &len)) != NULL)
		log_escape(r.user_class, sizeof(r.user_class), p, len);
	if (x->facts.has_uuid)
		obs_uuid_format(r.uuid, x->facts.uuid);
	snprintf(r.iface, sizeof(r.iface), "%s", x->iface->name);
	r.relay = x->req->giaddr;
	if (store_discovered_put(x->s->d->store, &r, STORE_DISCOVERED_MAX) < 0) {
		log_warn("dhcp", "%s: could not register the discovered machine", x->macs);
		return;
	}
	metric_inc(&x->s->d->metrics, METRIC_DHCP_DISCOVERED);
	log_debug("dhcp", "%s: registered as discovered", x->macs);
}

static const struct dhcp_iface *dhcp_iface_by_index(const struct dhcp_server *s, unsigned ifindex)
{
	for (size_t i = 0; i < s->n_ifs; i++)
		if (s->ifs[i].ifindex == ifindex)
			return &s->ifs[i];
	return s->n_ifs == 1 && ifindex == 0 ? &s->ifs[0] : NULL;
}

/*
 * What the request told of the machine, after any arch_override, kept for
 * the templates of the files TFTP and HTTP render for it (obs/facts.h).
 */
static void dhcp_facts_remember(const struct dhcp_ctx *x)
{
	struct obs_fact f = {.has_arch = x->facts.has_arch || x->plan.arch != 0,
			     .arch = x->plan.arch,
			     .has_uuid = x->facts.has_uuid};

	memcpy(f.mac, x->facts.mac, 6);
	memcpy(f.uuid, x->facts.uuid, 16);
	obs_facts_record(&x->s->d->facts, &f);
}

int dhcp_server_handle(struct dhcp_server *s, const uint8_t *buf, size_t len, unsigned ifindex,
		       uint16_t port, uint32_t peer_ip, uint16_t peer_port, uint8_t *out,
		       size_t cap, struct dhcp_dest *dest)
{
	struct dhcp_msg msg, *m = &msg;
	struct dhcp_ctx x = {.s = s,
			     .conf = s->d->conf,
			     .req = m,
			     .port = port,
			     .peer_ip = peer_ip,
			     .peer_port = peer_port};

	metric_inc(&s->d->metrics, METRIC_DHCP_RX);
	enum dhcp_decode_err e = dhcp_decode(buf, len, m);
	x.iface = dhcp_iface_by_index(s, ifindex);
	if (e != DHCP_OK || m->op != DHCP_BOOTREQUEST || m->htype != 1 || m->hlen != 6 ||
	    x.iface == NULL) {
		metric_inc(&s->d->metrics, METRIC_DHCP_BAD);
		log_debug("dhcp", "dropped %zu bytes: %s", len,
			  e != DHCP_OK ? dhcp_decode_strerror(e) : "not an Ethernet BOOTREQUEST");
		return 0;
	}
	if (m->hops > DHCP_MAX_HOPS || dhcp_relay_info(m, &x.link) < 0) {
		metric_inc(&s->d->metrics, METRIC_DHCP_BAD);
		log_debug("dhcp", "dropped: hops %u or a malformed option 82", m->hops);
		return 0;
	}
	/*
	 * pxed's own rogue-detection probe (dhcp/rogue.h), heard on another of
	 * its interfaces on the same link: no offer, so no address is held for it.
	 */
	if (rogue_is_own_probe(s->d->rogue, m)) {
		metric_inc(&s->d->metrics, METRIC_DHCP_IGNORED);
		return 0;
	}
	if (!dhcp_within_rate(&x, m))
		return 0;
	x.server_ip = x.iface->ip;
	dhcp_facts(m, &x.facts);
	x.facts.interface = x.iface->name;
	x.facts.link = dhcp_link_addr(&x);
	x.host = dhcp_find_host(x.conf, &x.facts);
	mac_format(x.macs, x.facts.mac);
	/* dhcp.known_only: a machine not in hosts gets nothing, not even a NAK. */
	if (x.conf->dhcp_known_only && x.host == NULL) {
		metric_inc(&s->d->metrics, METRIC_DHCP_UNKNOWN);
		log_debug("dhcp", "%s: not a known machine (dhcp.known_only)", x.macs);
		return 0;
	}
	uint8_t type = dhcp_msg_type(m);
	dhcp_unknown_policy(&x);
	if (x.unknown == CONF_UNKNOWN_IGNORE) {
		dhcp_unknown_ignore(&x, type);
		return 0;
	}
	dhcp_choice_recall(s, &x.facts);
	x.facts.installed =
	    boot_states_effective(s->d->states, x.conf, x.facts.mac) == BOOT_STATE_INSTALLED;
	boot_decide(x.conf, &x.facts, x.server_ip, &x.plan);
	dhcp_facts_remember(&x);
	if (x.unknown == CONF_UNKNOWN_DISCOVER) {
		char why[160];
		dhcp_unknown_words(&x, "registered as discovered: ", why, sizeof(why));
		dhcp_unknown_no_plan(&x, why);
	}
	metric_inc(&s->d->metrics, dhcp_rx_metric(type));
	int n = dhcp_dispatch(&x, type, out, cap);
	if (x.unknown == CONF_UNKNOWN_DISCOVER && n >= 0)
		dhcp_unknown_register(&x);
	if (n > 0 && port == PXE_BOOT_SERVER_PORT && x.plan.action != BOOT_NONE)
		dhcp_choice_remember(s, &x.facts);
	if (n > 0) {
		dhcp_dest_for(&x, x.reply_type, dest);
		dest->grants_lease = x.granted;
	}
	return n;
}

/* ---- sockets ------------------------------------------------------------ */

/* Handles one datagram; a reply is queued to be sent after the commit. */
static void dhcp_rx_one(struct dhcp_iface *ifc, int fd, uint16_t port, const uint8_t *buf,
			ssize_t n, const struct udp_meta *meta)
{
	struct dhcp_server *s = ifc->s;
	if (n < 0) {
		/* Oversized (truncated) datagrams: received, and malformed. */
		metric_inc(&s->d->metrics, METRIC_DHCP_RX);
		metric_inc(&s->d->metrics, METRIC_DHCP_BAD);
		return;
	}
	struct dhcp_pending *p = &s->pending[s->n_pending];
	int r = dhcp_server_handle(s, buf, (size_t)n, meta->ifindex ? meta->ifindex : ifc->ifindex,
				   port, ntohl(meta->peer.sin_addr.s_addr),
				   ntohs(meta->peer.sin_port), p->buf, sizeof(p->buf), &p->dest);
	if (r > 0) {
		p->fd = fd;
		p->len = (size_t)r;
		s->n_pending++;
	}
}

/*
 * Sends the turn's replies. When the commit failed, the ACKs that promised a
 * lease are not sent (the client retries; dhcp_server_turn_end counted and
 * recorded them as withheld); nothing unpromised is lost.
 */
static void dhcp_flush(struct dhcp_server *s, bool committed)
{
	for (size_t i = 0; i < s->n_pending; i++) {
		struct dhcp_pending *p = &s->pending[i];
		if (p->dest.grants_lease && !committed)
			continue;
		int err = udp_send(p->fd, p->buf, p->len, p->dest.ip, p->dest.port, p->dest.ifindex,
				   p->dest.src_ip);
		if (err < 0)
			log_warn("dhcp", "send: %s", strerror(-err));
	}
	s->n_pending = 0;
}

/*
 * Group commit (RFC 2131 §4.3.1 wants the lease durable before the ACK):
 * the datagrams of one wake-up are answered in one transaction, committed
 * with one fsync, and only then are the replies sent.
 */
static void dhcp_on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct dhcp_iface *ifc = arg;
	struct dhcp_server *s = ifc->s;
	uint16_t port = fd == ifc->fd[0] ? DHCP_SERVER_PORT : PXE_BOOT_SERVER_PORT;
	uint8_t buf[DHCP_MAX_LEN + 1];
	struct udp_meta meta;

	/* No batch (it could not begin): each lease was durable when written. */
	dhcp_server_turn_begin(s);
	for (int i = 0; i < DHCP_RX_BATCH; i++) {
		ssize_t n = udp_recv(fd, buf, sizeof(buf), &meta);
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			break;
		dhcp_rx_one(ifc, fd, port, buf, n, &meta);
	}
	dhcp_flush(s, dhcp_server_turn_end(s) == 0);
}

int dhcp_server_turn_begin(struct dhcp_server *s)
{
	if (s->in_turn)
		return -EBUSY; /* one turn at a time: the open one's ACKs stay pending */
	s->in_turn = store_batch_begin(s->d->store) == 0;
	return s->in_turn ? 0 : -EIO;
}

/* Commits the turn's leases; then its ACKs are sent or withheld, and recorded so. */
int dhcp_server_turn_end(struct dhcp_server *s)
{
	if (!s->in_turn)
		return 0;
	s->in_turn = false;
	bool committed = store_batch_commit(s->d->store) == 0;
	if (!committed) {
		log_err("dhcp", "lease store commit failed: ACKs of this turn withheld");
		/* The pools saw the rolled-back leases: rebuild them from the store. */
		if (dhcp_pools_load(s) < 0)
			log_err("dhcp", "cannot reload the pools from the store");
	}
	for (size_t i = 0; i < s->n_acks; i++) {
		if (committed)
			dhcp_ack_sent(s, &s->acks[i]);
		else
			dhcp_ack_withheld(s, &s->acks[i]);
	}
	s->n_acks = 0;
	return committed ? 0 : -EIO;
}

/* Opens ports 67 and 4011 on one interface. */
static int dhcp_iface_open(struct dhcp_server *s, struct dhcp_iface *ifc)
{
	static const uint16_t ports[2] = {DHCP_SERVER_PORT, PXE_BOOT_SERVER_PORT};

	for (int i = 0; i < 2; i++) {
		/* One socket per interface and port: SO_BINDTODEVICE with SO_REUSEADDR. */
		ifc->fd[i] =
		    udp_open(0, ports[i], ifc->name, UDP_BROADCAST | UDP_REUSEADDR | UDP_BIGBUF);
		if (ifc->fd[i] < 0)
			return ifc->fd[i];
		ifc->ev[i] =
		    event_new(s->d->base, ifc->fd[i], EV_READ | EV_PERSIST, dhcp_on_readable, ifc);
		if (ifc->ev[i] == NULL || event_add(ifc->ev[i], NULL) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* One table per limit that is on (core/ratelimit.h: 0 is off, bursts of twice the rate). */
static int dhcp_limits_init(struct dhcp_server *s, const struct conf *c)
{
	int rc = ratelimit_from_conf(DHCP_RL_MACS, c->dhcp_rate_per_mac, &s->rl_mac);
	if (rc == 0)
		rc = ratelimit_from_conf(DHCP_RL_SOURCES, c->dhcp_rate_per_source, &s->rl_source);
	if (rc == 0)
		rc = ratelimit_from_conf(1, c->dhcp_new_client_rate, &s->rl_new_client);
	if (rc == 0)
		rc = ratelimit_from_conf(1, DHCP_UNKNOWN_RATE, &s->rl_unknown);
	return rc;
}

int dhcp_server_new(struct pxed *d, struct dhcp_server **out)
{
	struct dhcp_server *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->d = d;
	int rc = dhcp_pools_init(s);
	if (rc == 0)
		rc = dhcp_limits_init(s, d->conf);
	if (rc < 0) {
		dhcp_server_stop(s);
		return rc;
	}
	*out = s;
	return 0;
}

int dhcp_server_add_iface(struct dhcp_server *s, const char *name, unsigned ifindex, uint32_t ip,
			  int prefix_len)
{
	if (s->n_ifs == CONF_MAX_INTERFACES)
		return -ENOSPC;
	struct dhcp_iface *ifc = &s->ifs[s->n_ifs++];
	ifc->s = s;
	snprintf(ifc->name, sizeof(ifc->name), "%s", name);
	ifc->ifindex = ifindex;
	ifc->ip = ip;
	ifc->prefix_len = prefix_len;
	ifc->fd[0] = ifc->fd[1] = -1;
	return 0;
}

int dhcp_server_start(struct pxed *d, struct dhcp_server **out)
{
	struct dhcp_server *s;
	int rc = dhcp_server_new(d, &s);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < d->conf->n_interfaces; i++) {
		const char *name = d->conf->interfaces[i];
		unsigned ifindex;
		uint32_t ip;
		int prefix;
		char ips[16];
		if ((rc = iface_index(name, &ifindex)) < 0 ||
		    (rc = iface_ipv4(name, &ip, &prefix)) < 0 ||
		    (rc = dhcp_server_add_iface(s, name, ifindex, ip, prefix)) < 0 ||
		    (rc = dhcp_iface_open(s, &s->ifs[s->n_ifs - 1])) < 0) {
			log_err("dhcp", "interface %s: %s", name, strerror(-rc));
			dhcp_server_stop(s);
			return rc;
		}
		log_info("dhcp", "%s on %s (%s), ports 67 and 4011",
			 d->conf->dhcp_mode == CONF_DHCP_PROXY ? "proxyDHCP" : "DHCP server", name,
			 ip4_format(ips, ip));
	}
	*out = s;
	return 0;
}

size_t dhcp_server_pools(const struct dhcp_server *s, struct dhcp_pool_usage *out, size_t cap)
{
	const struct conf *c = s->d->conf;
	int64_t now = (int64_t)time(NULL);
	size_t n = 0;

	for (size_t i = 0; i < c->n_subnets && n < cap; i++) {
		const struct dhcp_pool *p = &s->pools[i];
		struct pool_counts k;
		if (p->size == 0)
			continue;
		pool_count(p, now, &k);
		out[n++] = (struct dhcp_pool_usage){.network = c->subnets[i].network,
						    .prefix_len = c->subnets[i].prefix_len,
						    .first = p->first,
						    .last = p->last,
						    .size = p->size,
						    .leased = k.leased,
						    .offered = k.offered,
						    .declined = k.declined,
						    .reserved = k.reserved,
						    .free = k.free};
	}
	return n;
}

void dhcp_server_stop(struct dhcp_server *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n_ifs; i++) {
		for (int j = 0; j < 2; j++) {
			if (s->ifs[i].ev[j] != NULL)
				event_free(s->ifs[i].ev[j]);
			if (s->ifs[i].fd[j] >= 0)
				close(s->ifs[i].fd[j]);
		}
	}
	for (size_t i = 0; i < CONF_MAX_SUBNETS; i++)
		if (s->pools[i].slots != NULL)
			pool_fini(&s->pools[i]);
	ratelimit_free(s->rl_mac);
	ratelimit_free(s->rl_source);
	ratelimit_free(s->rl_new_client);
	ratelimit_free(s->rl_unknown);
	free(s);
}
