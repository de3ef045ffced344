/*
 * The store: leases and boot events, in SQLite in the state directory.
 * A lease write returns only once it is on stable storage (WAL + synchronous
 * FULL), so the ACK that grants it can leave afterwards (RFC 2131 §4.3.1).
 */
#ifndef PXED_STORE_STORE_H
#define PXED_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

struct store_lease {
	uint32_t ip; /* host order */
	uint8_t mac[6];
	int64_t expires; /* seconds since the epoch */
	char hostname[64];
};

/*
 * One step of a machine's boot (schema 2). Text fields are escaped already;
 * "" means "not given". The DHCP fields (arch .. profile) are filled on
 * DHCP, proxyDHCP and port-4011 events; file, block and retries on TFTP and
 * HTTP ones.
 */
struct store_event {
	int64_t ts_us; /* wall clock */
	uint8_t mac[6];
	bool has_mac;
	uint32_t ip;
	char proto[16];
	char kind[24];
	char detail[512];
	uint64_t bytes;
	uint64_t duration_us;
	bool ok;
	bool expected;	  /* a failure the peer chose (EDK2's abort after its tsize probe) */
	uint64_t session; /* boot session: the ts_us of its first event; 0 = none */
	/* What the machine said (DHCP events). */
	bool has_arch;
	uint16_t arch;	     /* option 93 as sent, before any arch_overrides */
	char vendor[96];     /* option 60 */
	char user_class[48]; /* option 77 */
	uint32_t relay;	     /* giaddr, host order; 0 = not relayed */
	char iface[16];	     /* the interface the request arrived on */
	int32_t boot_item;   /* PXE boot item type: option 43.71 on port 4011, elsewhere the
				item remembered for the machine (iPXE's); -1 = none */
	/* What pxed decided (DHCP events of boot clients). */
	char decision[128]; /* the file or URL given; "none" = no boot plan; "menu" */
	char source[80]; /* "host NAME", "class NAME", "menu item N", "default_profile", "none" */
	char profile[64];
	/* Transfers (TFTP, HTTP). */
	char file[160];	  /* the path asked for */
	uint64_t block;	  /* TFTP: the block it ended at (the first not acknowledged, if failed) */
	uint32_t retries; /* TFTP: timeouts in a row when it ended */
};

/* Event retention (config `events:`); 0 in a field = no limit of that kind. */
struct store_retention {
	int64_t older_than_us;	  /* delete events with ts_us before this */
	uint64_t max_total;	  /* keep at most the newest this many event ids */
	uint32_t max_per_machine; /* per MAC, applied by store_event_prune_mac() */
};

/*
 * Opens state_dir/pxed.db, creating it whole (under a temporary name, then
 * linked into place) when there is none. 0, or -errno, or -EIO: also for a
 * store it will not use, left untouched and named in the log with what to do
 * (empty, damaged by SQLite's quick check, not pxed's, or of a newer schema).
 */
int store_open(const char *state_dir, struct store **out);
void store_close(struct store *st);

/*
 * Group commit: between begin and commit, writes share one transaction and
 * none is durable until store_batch_commit() returns 0 (one fsync for all).
 * Reads inside the batch see its writes. A failed write makes the commit
 * fail and roll everything back. Without a batch, each write commits alone.
 */
int store_batch_begin(struct store *st);
int store_batch_commit(struct store *st);

/* 0 and *out, or -ENOENT, or -EIO. */
int store_lease_by_ip(struct store *st, uint32_t ip, struct store_lease *out);
int store_lease_by_mac(struct store *st, const uint8_t mac[6], struct store_lease *out);
/* Inserts or replaces the lease on ip; durable when it returns 0. */
int store_lease_put(struct store *st, const struct store_lease *l);
int store_lease_delete(struct store *st, uint32_t ip);
/*
 * A client declined ip (RFC 2131 §4.3.3: in use by someone else): the lease
 * is removed and the address kept out of the pool until `until` (epoch s).
 */
int store_lease_decline(struct store *st, uint32_t ip, int64_t until);
/* The end of ip's probation (epoch seconds), or 0 if it was never declined. */
int64_t store_declined_until(struct store *st, uint32_t ip);
/* Calls fn for every declined address; stops early if fn returns non-zero. */
int store_declined_each(struct store *st, int (*fn)(uint32_t ip, int64_t until, void *), void *arg);
/* Calls fn for every lease in address order; stops early if fn returns non-zero. */
int store_lease_each(struct store *st, int (*fn)(const struct store_lease *, void *), void *arg);

int store_event_add(struct store *st, const struct store_event *ev);
/* Calls fn for mac's events, oldest first, limited to the newest `limit`. */
int store_event_each(struct store *st, const uint8_t mac[6], size_t limit,
		     int (*fn)(const struct store_event *, void *), void *arg);
/*
 * Calls fn for the events of mac's last boot session, oldest first (at most
 * the newest `limit`): the newest session with a boot decision in it, or the
 * newest session when none has one. Events written before sessions existed
 * (session 0) form sessions split by a pause of over gap_us.
 */
int store_event_last_session(struct store *st, const uint8_t mac[6], size_t limit, int64_t gap_us,
			     int (*fn)(const struct store_event *, void *), void *arg);
/* mac's newest event: 0 and *out, -ENOENT, or -EIO. */
int store_event_last(struct store *st, const uint8_t mac[6], struct store_event *out);
/* mac's newest DHCP, proxyDHCP or port-4011 event with a decision: 0, -ENOENT, -EIO. */
int store_event_last_dhcp(struct store *st, const uint8_t mac[6], struct store_event *out);

/*
 * Retention, in bounded steps: deletes at most `batch` events that are too
 * old or past max_total. Returns how many it deleted (0: nothing left to
 * do), or -EIO. Never inside a batch (returns 0).
 */
int store_event_prune(struct store *st, const struct store_retention *r, size_t batch);
/* Deletes at most `batch` of mac's events beyond its newest `keep`; count or -EIO. */
int store_event_prune_mac(struct store *st, const uint8_t mac[6], uint32_t keep, size_t batch);
/*
 * Hosts' provisioning life cycles (schema 3, boot/states.h): state is
 * "install" or "installed", token the callback's ("" when none), updated
 * epoch seconds. A put is durable when it returns 0 (or in the batch).
 */
int store_host_state_put(struct store *st, const uint8_t mac[6], const char *state,
			 const char *token, int64_t updated);
/* Calls fn for every host state; stops early if fn returns non-zero. 0 or -EIO. */
int store_host_state_each(struct store *st,
			  int (*fn)(const uint8_t mac[6], const char *state, const char *token,
				    int64_t updated, void *arg),
			  void *arg);

/* The schema version of the open store (2 since boot sessions). */
int store_schema_version(struct store *st);

/*
 * The inventory the API put (http/admin.c): entries of kind "host" (named
 * by MAC) or "profile" (by name), each a body in the config's format
 * (conf/config.h conf_entry). put adds or replaces; delete gives -ENOENT
 * when there was none; each calls fn for every entry, profiles first, until
 * fn returns non-zero (returned). -EIO on a store failure.
 */
int store_inventory_put(struct store *st, const char *kind, const char *name, const char *body);
int store_inventory_delete(struct store *st, const char *kind, const char *name);
int store_inventory_each(struct store *st,
			 int (*fn)(const char *kind, const char *name, const char *body,
				   int64_t updated, void *arg),
			 void *arg);
/*
 * The same from state_dir/pxed.db opened read-only beside the daemon (for
 * `pxed explain --config`): no store, or none from schema 3, holds none (0).
 */
int store_inventory_read(const char *state_dir,
			 int (*fn)(const char *kind, const char *name, const char *body,
				   int64_t updated, void *arg),
			 void *arg);

#endif
