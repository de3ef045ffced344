/*
 * Machines discovered on subnets with `unknown: discover` (schema 3's
 * `discovered` table): unknown machines, with the facts they gave, listed
 * until someone gives them a host entry. Writes go through the store's own
 * connection, so inside a DHCP turn they join its batch (one fsync).
 */
#ifndef PXED_STORE_DISCOVERED_H
#define PXED_STORE_DISCOVERED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct sqlite3;

/* Rows the daemon keeps at most; past it, the machines seen least recently go. */
#define STORE_DISCOVERED_MAX 10000u

/* Text fields are escaped already (core/log.h's log_escape); "" = not given. */
struct store_discovered {
	uint8_t mac[6];
	int64_t first_seen, last_seen; /* epoch seconds */
	uint32_t ip;		       /* host order; 0 = none yet */
	bool has_arch;
	uint16_t arch;	     /* option 93 as sent */
	char vendor[96];     /* option 60 */
	char user_class[48]; /* option 77 */
	char uuid[40];	     /* option 97's 16 bytes, in hex with dashes, as sent */
	char iface[16];	     /* the interface it was heard on */
	uint32_t relay;	     /* giaddr, host order; 0 = not relayed */
};

/*
 * Registers d->mac, or updates its row: last_seen and the facts (first_seen
 * stays; an ip of 0 keeps the one known). Then drops the least recently
 * seen rows beyond cap (cap 0: no limit). 0, or -EIO (nothing written).
 */
int store_discovered_put(struct store *st, const struct store_discovered *d, uint32_t cap);

/*
 * Calls fn for at most `limit` discovered machines, the most recently seen
 * first; stops early when fn returns non-zero. 0 or -EIO.
 */
int store_discovered_each(struct store *st, size_t limit,
			  int (*fn)(const struct store_discovered *, void *), void *arg);

/* Rows in the table, or -EIO. */
int64_t store_discovered_count(struct store *st);

/* store.c's write connection, for this file only. */
struct sqlite3 *store_sqlite(struct store *st);

#endif
