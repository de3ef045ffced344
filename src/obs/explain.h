/*
 * `pxed explain MAC`: why a machine booted, or where and why it stopped.
 *
 * explain_build() is pure: from the events of the machine's last boot
 * session (obs.h: how sessions are cut), the newest DHCP facts it presented
 * and the current config, it makes a report of
 *   - the facts the machine presented (architecture, vendor and user class,
 *     relay, interface, address);
 *   - the plan pxed chose for each client that asked (the firmware, then
 *     the iPXE it loaded) and why, and what the current config would decide
 *     for the same facts (boot_decide() run again) when a config is given;
 *   - the steps it took (DHCP exchanges folded, transfers, refusals);
 *   - where it stopped, and the most likely cause in plain words, with a
 *     stable code (explain_verdict_name()).
 *
 * The JSON form (explain_report_json(), `pxed explain --json`, and the
 * "explain" member of the API's /api/v1/machines/MAC) is one object:
 *
 *   {"mac": "52:54:00:aa:00:01", "seen": true,
 *    "session": {"id": 1700000000000000, "start_us": ..., "end_us": ...,
 *                "events": 12, "last_heard_s": 3},            (null if unseen)
 *    "facts": {"arch": 7, "arch_name": "efi-x64", "vendor_class": "PXEClient:...",
 *              "user_class": "iPXE", "relay": "10.0.0.1", "interface": "br0",
 *              "address": "10.77.12.100"},         (members present when known;
 *                        "offered" instead of "address" when only pxed's offer showed one)
 *    "plan": [{"client": "firmware"|"ipxe", "via": "dhcp"|"proxy"|"pxe4011",
 *              "decision": "snponly.efi"|"http://..."|"none"|"menu",
 *              "source": "host NAME"|"class NAME"|"menu item N"|"default_profile"|"none",
 *              "profile": "NAME", "reason": "...",
 *              "current": {"decision": "...", "reason": "...", "same": true}}],
 *                                                     (current: only with a config)
 *    "steps": [{"at_ms": 0, "proto": "tftp", "step": "nbp"|"script"|"config"|
 *               "kernel"|"initrd"|"file"|"dhcp"|"refused"|"other" (another
 *               server's offer taken),
 *               "text": "...", "ok": true}],
 *    "stopped": "after the initrd files/default/initrd0",
 *    "diagnosis": {"code": "done", "text": "..."}}
 */
#ifndef PXED_OBS_EXPLAIN_H
#define PXED_OBS_EXPLAIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store/store.h"

struct conf;

/* The newest events of a session that explain reads; steps and plans shown at most. */
#define EXPLAIN_MAX_EVENTS 500
#define EXPLAIN_MAX_STEPS 40
#define EXPLAIN_MAX_PLANS 2

enum explain_verdict {
	EXPLAIN_NEVER_SEEN,	 /* no event at all */
	EXPLAIN_NOT_BOOT_CLIENT, /* DHCP, but never as a PXE / HTTP Boot / iPXE client */
	EXPLAIN_OTHER_SERVER,	 /* it took another DHCP server's offer */
	EXPLAIN_OFFER_IGNORED,	 /* pxed offered, the machine never asked for it */
	EXPLAIN_NOT_STORED,	 /* pxed withheld its ACK: the lease could not be stored */
	EXPLAIN_NO_PLAN,	 /* pxed had nothing to boot it with */
	EXPLAIN_IGNORED,	 /* an unknown machine on a subnet with unknown: ignore */
	EXPLAIN_MENU_LOCAL,	 /* a PXE menu whose default is the local disk */
	EXPLAIN_NOT_FETCHED,	 /* told a file, never asked for it */
	EXPLAIN_FILE_MISSING,	 /* asked for a file pxed does not have */
	EXPLAIN_TRANSFER_DIED,	 /* a TFTP transfer that did not finish */
	EXPLAIN_NBP_NO_RETURN,	 /* fetched its boot program, then silence */
	EXPLAIN_NO_KERNEL,	 /* fetched its script or config, not the kernel */
	EXPLAIN_NO_INITRD,	 /* fetched the kernel, not every initrd */
	EXPLAIN_DONE,		 /* kernel and initrds delivered: pxed's part is done */
	EXPLAIN_LOCAL_BOOT,	 /* an installed host was told to boot its local disk */
	EXPLAIN_VERDICT_COUNT
};

/* What explain_build() reads: plain data, nothing it must free. */
struct explain_input {
	uint8_t mac[6];
	const struct conf *conf;      /* the current config; NULL: no second decision */
	const struct store_event *ev; /* the last boot session, oldest first */
	size_t n;
	const struct store_event *last_dhcp; /* the newest DHCP event with facts; may be NULL */
	int64_t now_us;			     /* wall clock, for "last heard" */
};

struct explain_facts {
	bool known;
	bool has_arch;
	uint16_t arch;
	char vendor[96];
	char user_class[48];
	uint32_t relay;
	char iface[16];
	uint32_t address;     /* the machine's address as last seen; 0 = unknown */
	bool address_offered; /* ... only as pxed's offer, never acknowledged or used */
};

struct explain_plan {
	bool ipxe;    /* the client was iPXE (user class "iPXE") */
	char via[16]; /* "dhcp", "proxy", "pxe4011" */
	char decision[128];
	char source[80];
	char profile[64];
	char reason[200];
	bool rerun; /* decided again with the current config */
	bool same;  /* ... and it gave the same file */
	char now_decision[128];
	char now_reason[160];
};

struct explain_step {
	int64_t ts_us;
	char proto[16];
	char step[16]; /* "dhcp", "nbp", "script", "config", "kernel", "initrd", "file", "refused",
			  "other" */
	char text[300];
	bool ok;
};

struct explain_report {
	uint8_t mac[6];
	bool seen;
	uint64_t session;
	int64_t start_us, end_us, now_us;
	size_t n_events;
	struct explain_facts facts;
	struct explain_plan plans[EXPLAIN_MAX_PLANS];
	size_t n_plans;
	struct explain_step steps[EXPLAIN_MAX_STEPS];
	size_t n_steps;
	size_t steps_left_out; /* steps past EXPLAIN_MAX_STEPS (the middle ones) */
	enum explain_verdict verdict;
	char stopped[300]; /* where it stopped */
	char cause[900];   /* the most likely cause, in plain words */
};

/* The stable code of a verdict: "never-seen", "other-server", "done"... */
const char *explain_verdict_name(enum explain_verdict v);

/* The report for in (pure: no I/O, no globals). */
void explain_build(const struct explain_input *in, struct explain_report *out);

/* The report as text for an operator, or as the JSON object above (caller owns it). */
void explain_report_print(const struct explain_report *r, FILE *out);
json_t *explain_report_json(const struct explain_report *r);

/*
 * Reads mac's last boot session and newest DHCP facts from st and builds
 * the report (conf may be NULL). 0, or -EIO / -ENOMEM.
 */
int explain_for(struct store *st, const struct conf *conf, const uint8_t mac[6], int64_t now_us,
		struct explain_report *out);

/*
 * For the HTTP API: explain_for() as the JSON object above, or NULL when
 * the store cannot be read. The caller owns the result.
 */
json_t *explain_json(struct store *st, const struct conf *conf, const uint8_t mac[6]);

/* `pxed explain`: prints the report (json: the object). Returns the exit status. */
int explain_print(const char *state_dir, const struct conf *conf, const uint8_t mac[6], bool json);

#endif
