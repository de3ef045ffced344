#include "store/discovered.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"

/* Every column of a row, in the order store_discovered_row() reads them. */
#define DISC_COLS "mac, first_seen, last_seen, ip, arch, vendor, user_class, uuid, iface, relay"

/* An ip of 0 (a proxyDHCP DISCOVER) keeps the address a machine was seen with. */
static const char disc_put_sql[] =
    "INSERT INTO discovered (" DISC_COLS ") VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
    "ON CONFLICT (mac) DO UPDATE SET last_seen = excluded.last_seen,"
    " ip = CASE WHEN excluded.ip != 0 THEN excluded.ip ELSE ip END, arch = excluded.arch,"
    " vendor = excluded.vendor, user_class = excluded.user_class, uuid = excluded.uuid,"
    " iface = excluded.iface, relay = excluded.relay";

/* The rows past the cap, least recently seen first (the index on last_seen). */
static const char disc_trim_sql[] =
    "DELETE FROM discovered WHERE mac IN (SELECT mac FROM discovered ORDER BY last_seen, mac "
    "LIMIT max(0, (SELECT count(*) FROM discovered) - ?1))";

static const char disc_list_sql[] =
    "SELECT " DISC_COLS " FROM discovered ORDER BY last_seen DESC, mac LIMIT ?1";

/*
 * Runs one statement to its end. Statements are prepared per call: these
 * writes are rare (at most one a minute per machine, dhcp/server.c) and
 * the store's table of prepared statements stays store.c's.
 */
static int disc_run(sqlite3 *db, const char *sql, sqlite3_stmt **out)
{
	if (sqlite3_prepare_v2(db, sql, -1, out, NULL) != SQLITE_OK) {
		log_err("store", "discovered: %s", sqlite3_errmsg(db));
		*out = NULL;
		return -EIO;
	}
	return 0;
}

static int disc_step_done(sqlite3 *db, sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		log_err("store", "discovered: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	return 0;
}

static int disc_upsert(sqlite3 *db, const struct store_discovered *d)
{
	sqlite3_stmt *q;

	if (disc_run(db, disc_put_sql, &q) < 0)
		return -EIO;
	sqlite3_bind_blob(q, 1, d->mac, 6, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, d->last_seen);
	sqlite3_bind_int64(q, 3, d->ip);
	if (d->has_arch)
		sqlite3_bind_int(q, 4, d->arch);
	else
		sqlite3_bind_null(q, 4);
	sqlite3_bind_text(q, 5, d->vendor, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 6, d->user_class, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 7, d->uuid, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 8, d->iface, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 9, d->relay);
	return disc_step_done(db, q);
}

static int disc_trim(sqlite3 *db, uint32_t cap)
{
	sqlite3_stmt *q;

	if (cap == 0)
		return 0;
	if (disc_run(db, disc_trim_sql, &q) < 0)
		return -EIO;
	sqlite3_bind_int64(q, 1, cap);
	return disc_step_done(db, q);
}

static int disc_exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

/*
 * A savepoint makes the row and the trim one step, inside the DHCP turn's
 * batch or alone. A failure undoes this step only: the turn's leases are
 * not this table's to lose.
 */
int store_discovered_put(struct store *st, const struct store_discovered *d, uint32_t cap)
{
	sqlite3 *db = store_sqlite(st);

	if (disc_exec(db, "SAVEPOINT discovered") < 0) {
		log_err("store", "discovered: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	if (disc_upsert(db, d) == 0 && disc_trim(db, cap) == 0)
		return disc_exec(db, "RELEASE discovered");
	disc_exec(db, "ROLLBACK TO discovered");
	disc_exec(db, "RELEASE discovered");
	return -EIO;
}

static void disc_text(sqlite3_stmt *q, int col, char *dst, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(q, col);
	snprintf(dst, cap, "%s", t != NULL ? (const char *)t : "");
}

static void store_discovered_row(sqlite3_stmt *q, struct store_discovered *d)
{
	memset(d, 0, sizeof(*d));
	if (sqlite3_column_bytes(q, 0) == 6)
		memcpy(d->mac, sqlite3_column_blob(q, 0), 6);
	d->first_seen = sqlite3_column_int64(q, 1);
	d->last_seen = sqlite3_column_int64(q, 2);
	d->ip = (uint32_t)sqlite3_column_int64(q, 3);
	d->has_arch = sqlite3_column_type(q, 4) != SQLITE_NULL;
	d->arch = (uint16_t)sqlite3_column_int(q, 4);
	disc_text(q, 5, d->vendor, sizeof(d->vendor));
	disc_text(q, 6, d->user_class, sizeof(d->user_class));
	disc_text(q, 7, d->uuid, sizeof(d->uuid));
	disc_text(q, 8, d->iface, sizeof(d->iface));
	d->relay = (uint32_t)sqlite3_column_int64(q, 9);
}

int store_discovered_each(struct store *st, size_t limit,
			  int (*fn)(const struct store_discovered *, void *), void *arg)
{
	sqlite3 *db = store_sqlite(st);
	struct store_discovered d;
	sqlite3_stmt *q;
	int rc;

	if (disc_run(db, disc_list_sql, &q) < 0)
		return -EIO;
	sqlite3_bind_int64(q, 1, (sqlite3_int64)limit);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		store_discovered_row(q, &d);
		if (fn(&d, arg) != 0)
			break;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		log_err("store", "discovered: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	return 0;
}

int64_t store_discovered_count(struct store *st)
{
	sqlite3 *db = store_sqlite(st);
	sqlite3_stmt *q;
	int64_t n = -EIO;

	if (disc_run(db, "SELECT count(*) FROM discovered", &q) < 0)
		return -EIO;
	if (sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return n;
}
