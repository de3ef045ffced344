/*
 * What each machine last told DHCP of itself (its architecture, its client
 * UUID), for the templates of the files rendered for it ({{arch}}, {{uuid}}:
 * boot/script.h): the TFTP and HTTP requests that fetch those files carry no
 * such facts. Kept per MAC, in memory only, in a fixed table that the daemon
 * object holds (pxed.h): a machine pxed has not heard in DHCP since it
 * started has no facts. Everything runs on the event loop's thread.
 */
#ifndef PXED_OBS_FACTS_H
#define PXED_OBS_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Machines remembered at once (a power of two). A machine lives within
 * OBS_FACTS_PROBE slots of its hash's slot; when they are all taken by
 * others, the one recorded least recently is forgotten.
 */
#define OBS_FACTS_SLOTS 4096
#define OBS_FACTS_PROBE 8

/* A UUID as text: 8-4-4-4-12 lower-case hex digits and the NUL. */
#define OBS_UUID_TEXT 37

/* One machine's facts; has_* false: never told (or not yet). */
struct obs_fact {
	uint8_t mac[6];
	bool has_arch, has_uuid;
	uint16_t arch;	  /* option 93 after any arch_override (boot_plan.arch) */
	uint8_t uuid[16]; /* option 97's 16 bytes, as sent (RFC 4578 §2.5) */
};

struct obs_facts_slot {
	struct obs_fact f;
	bool used;
	uint64_t seq; /* when last recorded: the least recent nearby is evicted */
};

/* Zeroed, it is empty and ready (the daemon object is zeroed at creation). */
struct obs_facts {
	struct obs_facts_slot slots[OBS_FACTS_SLOTS];
	uint64_t seq;	  /* records so far */
	size_t n;	  /* slots in use */
	uint64_t evicted; /* machines forgotten to make room for another */
};

/*
 * Remembers what one DHCP request of f->mac told: a fact it carries
 * replaces the one remembered, a fact it lacks (an OS renewing its lease
 * sends no option 93 or 97) leaves it.
 */
void obs_facts_record(struct obs_facts *t, const struct obs_fact *f);
/* Copies mac's facts into *out; false when the machine is not remembered. */
bool obs_facts_lookup(const struct obs_facts *t, const uint8_t mac[6], struct obs_fact *out);
/*
 * The words templates show for mac: *arch its boot_arch_name() ("efi-x64"),
 * *uuid its UUID as text (in buf); each NULL when not known. t may be NULL.
 */
void obs_facts_words(const struct obs_facts *t, const uint8_t mac[6], const char **arch,
		     const char **uuid, char buf[OBS_UUID_TEXT]);

/*
 * A UUID as the API, `pxed explain` and templates print it: the 16 bytes in
 * the order sent, 8-4-4-4-12 lower-case hex. Returns out.
 */
char *obs_uuid_format(char out[OBS_UUID_TEXT], const uint8_t uuid[16]);

/*
 * vfs_client.facts for the TFTP and HTTP servers (ctx: the daemon, struct
 * pxed): the requester at ip's MAC (as the timeline finds it), and when it
 * is mac, the architecture and UUID it last told DHCP.
 */
void obs_facts_of_requester(void *ctx, uint32_t ip, const uint8_t mac[6], const char **arch,
			    const char **uuid, char buf[OBS_UUID_TEXT]);

#endif
