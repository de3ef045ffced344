#include "obs/obs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
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

struct obs {
	struct store *store;
	struct obs_map_entry map[OBS_MAP_SLOTS];
};

int obs_open(struct store *st, struct obs **out)
{
	struct obs *o = calloc(1, sizeof(*o));
	if (o == NULL)
		return -ENOMEM;
	o->store = st;
	*out = o;
	return 0;
}

void obs_close(struct obs *o)
{
	free(o);
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
static bool obs_lookup_arp(uint32_t ip, uint8_t mac[6])
{
	char line[256], ips[16], hw[32];
	bool found = false;
	FILE *f = fopen("/proc/net/arp", "re");
	if (f == NULL)
		return false;
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
	if (obs_lookup_arp(ip, mac)) {
		obs_learn(o, ip, mac);
		return true;
	}
	return false;
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
	snprintf(se.proto, sizeof(se.proto), "%s", ev->proto);
	snprintf(se.kind, sizeof(se.kind), "%s", ev->kind);
	snprintf(se.detail, sizeof(se.detail), "%s", ev->detail != NULL ? ev->detail : "");
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
}
