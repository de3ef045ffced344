/*
 * Boot timelines: every step a machine takes (DHCP, proxyDHCP, port 4011,
 * TFTP, HTTP) is recorded with its MAC so `pxed timeline MAC` can show the
 * boot as it happened. Transfers that arrive by IP are tied to a MAC through
 * what DHCP taught us, falling back to the kernel's neighbour table.
 */
#ifndef PXED_OBS_OBS_H
#define PXED_OBS_OBS_H

#include <stdbool.h>
#include <stdint.h>

struct store;
struct obs;

struct obs_event {
	const uint8_t *mac; /* NULL: look it up from ip */
	uint32_t ip;	    /* host order; 0 if none */
	const char *proto;  /* "dhcp", "proxy", "pxe4011", "tftp", "http" */
	const char *kind;   /* "discover", "offer", "request", "ack", "nak", "release",
			       "transfer", ... */
	const char *detail; /* free text: file, arch, reason (already escaped) */
	uint64_t bytes;
	uint64_t duration_us;
	bool ok;
	bool expected; /* a failure the peer chose (EDK2's abort after its tsize probe): info */
};

int obs_open(struct store *st, struct obs **out);
void obs_close(struct obs *o);

/* Remembers that ip belongs to mac (from a DHCP ACK, a proxy or 4011 request). */
void obs_learn(struct obs *o, uint32_t ip, const uint8_t mac[6]);
/* Finds the MAC for ip; false when unknown. */
bool obs_lookup(struct obs *o, uint32_t ip, uint8_t mac[6]);

/* Records one step of a machine's boot (and logs it). */
void obs_event(struct obs *o, const struct obs_event *ev);

#endif
