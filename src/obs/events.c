#include "obs/obs.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "obs/live.h"
#include "store/store.h"

/*
 * IP -> MAC, learned from DHCP. Open addressing over a fixed table: a new
 * entry overwrites whatever sits in its slot, so memory is bounded and a
 * flood of addresses only costs us the mapping of older ones.
 */
#define OBS_MAP_SLOTS 4096

struct obs_map_entry {
	uint32_t ip;
	uint8_t mac[6];
	bool used;
};

/*
 * Boot sessions, per MAC, in a fixed table (slot by MAC hash, the newest
 * wins): a machine that lost its slot finds its session again in the store.
 */
#define OBS_MAC_SLOTS 4096

enum obs_client { OBS_FIRMWARE, OBS_IPXE };

struct obs_session {
	uint8_t mac[6];
	bool used;
	uint64_t id;		     /* ts_us of the session's first event */
	int64_t last_us;	     /* the machine's newest event */
	enum obs_client dhcp_client; /* who did DHCP last in the session */
	bool progressed[2];	     /* firmware / iPXE got past DHCP in the session */
	uint8_t n_refused;
	uint32_t refused[OBS_REFUSED_MAX]; /* hashes of the paths refused in the session */
	uint32_t since_trim;		   /* events since the MAC was last queued for trimming */
};

/* Retention: a pass deletes at most this many rows per statement, and stops after this long. */
#define OBS_PRUNE_BATCH 500
#define OBS_PRUNE_BUDGET_US 20000
#define OBS_PRUNE_PERIOD_S 60
/* A machine is checked against max_per_machine when first seen and every this many events. */
#define OBS_TRIM_EVERY 256
#define OBS_TRIM_QUEUE 256

struct obs {
	struct store *store;
	struct obs_live *live; /* NULL: no live view (the CLI tools) */
	struct obs_map_entry map[OBS_MAP_SLOTS];
	struct obs_session sessions[OBS_MAC_SLOTS];
	struct obs_retention retention;
	struct event *prune_timer;	 /* NULL until obs_retention_start() */
	uint8_t trim[OBS_TRIM_QUEUE][6]; /* MACs to check against max_per_machine */
	size_t n_trim;
	/*
	 * /proc/net/arp, opened before the privilege drop and read from its
	 * start each time: Landlock then needs no rule for /proc, where every
	 * process's files are (docs/security.md). -1: not available.
	 */
	int arp_fd;
};

int obs_open(struct store *st, struct obs **out)
{
	struct obs *o = calloc(1, sizeof(*o));
	if (o == NULL)
		return -ENOMEM;
	o->store = st;
	o->arp_fd = open("/proc/net/arp", O_RDONLY | O_CLOEXEC);
	*out = o;
	return 0;
}

void obs_close(struct obs *o)
{
	if (o == NULL)
		return;
	if (o->prune_timer != NULL)
		event_free(o->prune_timer);
	if (o->arp_fd >= 0)
		close(o->arp_fd);
	free(o);
}

void obs_set_live(struct obs *o, struct obs_live *live)
{
	o->live = live;
}

static struct obs_map_entry *obs_slot(struct obs *o, uint32_t ip)
{
	uint32_t h = ip * 2654435761u;
	return &o->map[h % OBS_MAP_SLOTS];
}

void obs_learn(struct obs *o, uint32_t ip, const uint8_t mac[6])
{
	struct obs_map_entry *e = obs_slot(o, ip);
	e->ip = ip;
	memcpy(e->mac, mac, 6);
	e->used = true;
}

/* The kernel's neighbour table knows every host we have talked to. */
static bool obs_lookup_arp(const struct obs *o, uint32_t ip, uint8_t mac[6])
{
	char line[256], ips[16], hw[32];
	bool found = false;
	/* A copy of the descriptor for stdio: it shares the offset, rewound here. */
	int fd = o->arp_fd >= 0 && lseek(o->arp_fd, 0, SEEK_SET) == 0
		     ? fcntl(o->arp_fd, F_DUPFD_CLOEXEC, 0)
		     : -1;
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (f == NULL) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	ip4_format(ips, ip);
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		char a[64];
		if (sscanf(line, "%63s %*s %*s %31s", a, hw) == 2 && strcmp(a, ips) == 0 &&
		    mac_parse(hw, mac) == 0)
			found = memcmp(mac, "\0\0\0\0\0\0", 6) != 0;
	}
	fclose(f);
	return found;
}

bool obs_lookup(struct obs *o, uint32_t ip, uint8_t mac[6])
{
	struct obs_map_entry *e = obs_slot(o, ip);
	if (e->used && e->ip == ip) {
		memcpy(mac, e->mac, 6);
		return true;
	}
	if (obs_lookup_arp(o, ip, mac)) {
		obs_learn(o, ip, mac);
		return true;
	}
	return false;
}

/* ---- boot sessions -------------------------------------------------------- */

static bool obs_is_dhcp(const char *proto)
{
	return strcmp(proto, "dhcp") == 0 || strcmp(proto, "proxy") == 0 ||
	       strcmp(proto, "pxe4011") == 0;
}

static void obs_trim_queue(struct obs *o, const uint8_t mac[6])
{
	if (o->retention.max_per_machine == 0 || o->n_trim == OBS_TRIM_QUEUE)
		return; /* a full queue: the machine is queued again OBS_TRIM_EVERY events on */
	memcpy(o->trim[o->n_trim++], mac, 6);
}

/*
 * The machine's session slot, found again in the store after a restart or
 * an eviction when `recover` (a boot client's DISCOVER starts a session
 * anyway: a storm of new MACs costs no lookups).
 */
static struct obs_session *obs_session_slot(struct obs *o, const uint8_t mac[6], bool recover)
{
	struct obs_session *ss = &o->sessions[mac_hash(mac) % OBS_MAC_SLOTS];
	struct store_event last;

	if (ss->used && memcmp(ss->mac, mac, 6) == 0)
		return ss;
	memset(ss, 0, sizeof(*ss));
	memcpy(ss->mac, mac, 6);
	ss->used = true;
	if (recover && o->store != NULL && store_event_last(o->store, mac, &last) == 0 &&
	    last.session != 0) {
		/* Unknown progress: a DISCOVER from here on is taken as a new boot. */
		ss->id = last.session;
		ss->last_us = last.ts_us;
		ss->progressed[OBS_FIRMWARE] = ss->progressed[OBS_IPXE] = true;
	}
	obs_trim_queue(o, mac);
	return ss;
}

/*
 * Only a boot client's DHCP (one pxed made a boot decision for) starts a
 * session: an OS renewing its lease hours after its boot, or a late
 * transfer, joins the machine's current session, so its last session stays
 * its last boot. A machine never seen before gets a session all the same.
 */
static bool obs_session_starts(const struct obs_session *ss, const struct obs_event *ev,
			       int64_t now_us)
{
	if (ss->id == 0)
		return true;
	if (!obs_is_dhcp(ev->proto) || ev->decision == NULL)
		return false;
	if (now_us - ss->last_us > OBS_SESSION_GAP_US)
		return true;
	return ev->discover && ss->progressed[ev->ipxe ? OBS_IPXE : OBS_FIRMWARE];
}

/* Which session ev belongs to; moves the machine's progress along. */
static uint64_t obs_session_of(struct obs *o, const uint8_t mac[6], const struct obs_event *ev,
			       int64_t now_us)
{
	bool boot_discover = ev->discover && ev->decision != NULL;
	struct obs_session *ss = obs_session_slot(o, mac, !boot_discover);

	if (obs_session_starts(ss, ev, now_us)) {
		uint64_t id = (uint64_t)now_us;
		/* Two sessions of one machine never share an id, even within a microsecond. */
		if (id <= ss->id)
			id = ss->id + 1;
		memset(ss->progressed, 0, sizeof(ss->progressed));
		ss->n_refused = 0;
		ss->id = id;
	}
	ss->last_us = now_us;
	if (obs_is_dhcp(ev->proto)) {
		ss->dhcp_client = ev->ipxe ? OBS_IPXE : OBS_FIRMWARE;
		if (strcmp(ev->kind, "ack") == 0)
			ss->progressed[ss->dhcp_client] = true;
	} else {
		ss->progressed[ss->dhcp_client] = true;
	}
	if (++ss->since_trim >= OBS_TRIM_EVERY) {
		ss->since_trim = 0;
		obs_trim_queue(o, mac);
	}
	return ss->id;
}

/*
 * A refusal is kept once per path and at most OBS_REFUSED_MAX times per
 * session: pxelinux probes a dozen names on every boot, and a client in a
 * loop must not fill the store. Refusals from an unknown MAC are only logged.
 */
static bool obs_refusal_kept(struct obs *o, const struct store_event *se)
{
	if (!se->has_mac)
		return false;
	struct obs_session *ss = obs_session_slot(o, se->mac, true);
	uint32_t h = fnv1a32(se->file, strlen(se->file));
	if (ss->n_refused >= OBS_REFUSED_MAX)
		return false;
	for (size_t i = 0; i < ss->n_refused; i++)
		if (ss->refused[i] == h)
			return false;
	ss->refused[ss->n_refused++] = h;
	return true;
}

/* ---- recording ------------------------------------------------------------ */

#define OBS_COPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src) != NULL ? (src) : "")

static void obs_fill(struct store_event *se, const struct obs_event *ev)
{
	OBS_COPY(se->proto, ev->proto);
	OBS_COPY(se->kind, ev->kind);
	OBS_COPY(se->detail, ev->detail);
	se->expected = ev->expected;
	se->has_arch = ev->has_arch;
	se->arch = ev->arch;
	OBS_COPY(se->vendor, ev->vendor);
	OBS_COPY(se->user_class, ev->user_class);
	se->relay = ev->relay;
	OBS_COPY(se->iface, ev->iface);
	se->boot_item = ev->has_boot_item ? ev->boot_item : -1;
	OBS_COPY(se->decision, ev->decision);
	OBS_COPY(se->source, ev->source);
	OBS_COPY(se->profile, ev->profile);
	OBS_COPY(se->file, ev->file);
	se->block = ev->block;
	se->retries = ev->retries;
}

void obs_event(struct obs *o, const struct obs_event *ev)
{
	struct store_event se = {.ts_us = now_wall_us(),
				 .ip = ev->ip,
				 .bytes = ev->bytes,
				 .duration_us = ev->duration_us,
				 .ok = ev->ok};
	char macs[18] = "?", ips[16];

	if (ev->mac != NULL) {
		memcpy(se.mac, ev->mac, 6);
		se.has_mac = true;
	} else if (ev->ip != 0) {
		se.has_mac = obs_lookup(o, ev->ip, se.mac);
	}
	obs_fill(&se, ev);
	if (se.has_mac)
		se.session = obs_session_of(o, se.mac, ev, se.ts_us);
	if (strcmp(se.kind, "refused") == 0 && !obs_refusal_kept(o, &se))
		return; /* the server logged it already */
	if (se.has_mac)
		mac_format(macs, se.mac);
	ip4_format(ips, ev->ip);
	log_msg(ev->ok || ev->expected ? LOG_INFO : LOG_WARN, ev->proto, "%s %s %s %s%s", macs, ips,
		ev->kind, se.detail,
		ev->ok	       ? ""
		: ev->expected ? " (ended by the client)"
			       : " (failed)");
	if (o->store != NULL && store_event_add(o->store, &se) < 0)
		log_warn("obs", "event not stored");
	if (o->live != NULL)
		obs_live_push(o->live, &se);
}

/* ---- retention ------------------------------------------------------------ */

/* Trims the queued machines to max_per_machine; false when the budget ran out first. */
static bool obs_trim_run(struct obs *o, uint64_t deadline, int *deleted)
{
	while (o->n_trim > 0) {
		if (now_mono_us() > deadline)
			return false;
		int n = store_event_prune_mac(o->store, o->trim[o->n_trim - 1],
					      o->retention.max_per_machine, OBS_PRUNE_BATCH);
		if (n < 0)
			return true; /* logged; the next pass tries again */
		*deleted += n;
		if (n < OBS_PRUNE_BATCH)
			o->n_trim--;
	}
	return true;
}

int obs_retention_run(struct obs *o)
{
	const struct obs_retention *r = &o->retention;
	struct store_retention sr = {.max_total = r->max_total};
	uint64_t deadline = now_mono_us() + OBS_PRUNE_BUDGET_US;
	int deleted = 0, n;

	if (o->store == NULL)
		return 0;
	if (r->max_age_s > 0)
		sr.older_than_us = now_wall_us() - (int64_t)r->max_age_s * 1000000;
	bool done = obs_trim_run(o, deadline, &deleted);
	while (done && (n = store_event_prune(o->store, &sr, OBS_PRUNE_BATCH)) != 0) {
		if (n < 0)
			return -EIO;
		deleted += n;
		if (now_mono_us() > deadline)
			done = false;
	}
	if (deleted > 0)
		log_info("obs", "retention: %d old events deleted", deleted);
	return done ? deleted : -EAGAIN;
}

static void obs_prune_cb(evutil_socket_t fd, short what, void *arg)
{
	struct obs *o = arg;
	/* A pass cut short by its time budget continues a second later. */
	struct timeval tv = {.tv_sec = obs_retention_run(o) == -EAGAIN ? 1 : OBS_PRUNE_PERIOD_S};
	evtimer_add(o->prune_timer, &tv);
}

int obs_retention_start(struct obs *o, struct event_base *base, const struct obs_retention *r)
{
	struct timeval tv = {.tv_sec = OBS_PRUNE_PERIOD_S};

	o->retention = *r;
	if (r->max_age_s == 0 && r->max_per_machine == 0 && r->max_total == 0)
		return 0;
	o->prune_timer = evtimer_new(base, obs_prune_cb, o);
	if (o->prune_timer == NULL || evtimer_add(o->prune_timer, &tv) < 0)
		return -ENOMEM;
	return 0;
}
