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
struct obs_live;
struct event_base;

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

	/*
	 * DHCP, proxyDHCP and port-4011 events: what the machine said (strings
	 * escaped; NULL = not sent) and what pxed decided for it.
	 */
	bool has_arch;
	uint16_t arch; /* option 93 as sent */
	const char *vendor, *user_class;
	uint32_t relay;	   /* giaddr, host order */
	const char *iface; /* the interface the request arrived on */
	bool has_boot_item;
	uint16_t boot_item;   /* option 43.71 on port 4011, else the item remembered */
	const char *decision; /* the file or URL given, "none", "menu"; NULL: not a boot client */
	const char
	    *source; /* "host NAME", "class NAME", "menu item N", "default_profile", "none" */
	const char *profile;
	/* The request was a DISCOVER: it may start a boot session (see events.c). */
	bool discover;
	bool ipxe; /* the client is iPXE (option 77 "iPXE" or option 175) */

	/* Transfers: the path asked for; TFTP: the block it ended at, timeouts in a row. */
	const char *file;
	uint64_t block;
	uint32_t retries;
};

/*
 * Kinds of event beyond the DHCP message names and "transfer":
 *   "refused"      a TFTP or HTTP request for a file that cannot be served;
 *                  recorded at most once per path and OBS_REFUSED_MAX times
 *                  per boot session (pxelinux probes a dozen names per boot)
 *   "chose-other"  a broadcast REQUEST naming another server (option 54):
 *                  the machine took that server's offer
 */
#define OBS_REFUSED_MAX 20
/*
 * After a pause this long, the next boot client's DHCP event starts a new
 * boot session (other events, such as an OS renewing its lease, join the
 * current one).
 */
#define OBS_SESSION_GAP_US (120 * 1000000ll)

/* Event retention (config `events:`); a 0 field is no limit of that kind. */
struct obs_retention {
	uint32_t max_age_s;
	uint32_t max_per_machine;
	uint64_t max_total;
};

int obs_open(struct store *st, struct obs **out);
void obs_close(struct obs *o);
/* Every event from now on also goes to live (obs/live.h); NULL stops that. */
void obs_set_live(struct obs *o, struct obs_live *live);

/* Remembers that ip belongs to mac (from a DHCP ACK, a proxy or 4011 request). */
void obs_learn(struct obs *o, uint32_t ip, const uint8_t mac[6]);
/* Finds the MAC for ip; false when unknown. */
bool obs_lookup(struct obs *o, uint32_t ip, uint8_t mac[6]);

/*
 * Records one step of a machine's boot (and logs it), in the machine's
 * current boot session. A session starts with a DISCOVER from a client
 * that already got past DHCP in the session (the firmware again: a reboot;
 * iPXE again: iPXE as firmware rebooting), or a boot client's DHCP event
 * after OBS_SESSION_GAP_US of silence; retransmitted DISCOVERs and the DISCOVER of the iPXE the
 * firmware loaded stay in the session they belong to.
 */
void obs_event(struct obs *o, const struct obs_event *ev);

/*
 * Deletes old events from the store every minute in bounded batches (and
 * sooner while a backlog remains), and trims the machines that recorded
 * past max_per_machine. base: the daemon's loop. 0 or -errno.
 */
int obs_retention_start(struct obs *o, struct event_base *base, const struct obs_retention *r);
/*
 * One pass of the retention now (the timer's work): events deleted, -EAGAIN
 * when its time budget ran out first (call again), or -EIO.
 */
int obs_retention_run(struct obs *o);

#endif
