#include "store/machines.h"

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

enum { SM_SCAN, SM_ALL, SM_COUNT };

static const char *const store_machines_sql[SM_COUNT] = {
    /* Newest events first, by rowid: stops after ?1 rows. */
    [SM_SCAN] = "SELECT mac FROM events WHERE mac IS NOT NULL ORDER BY id DESC LIMIT ?1",
    /* One row per MAC through the events_mac index. */
    [SM_ALL] = "SELECT mac FROM events WHERE mac IS NOT NULL GROUP BY mac "
	       "ORDER BY MAX(id) DESC LIMIT ?1",
};

struct store_machines {
	sqlite3 *db;
	sqlite3_stmt *st[SM_COUNT];
};

int store_machines_open(const char *state_dir, struct store_machines **out)
{
	char path[PATH_MAX];
	struct store_machines *m;

	if (snprintf(path, sizeof(path), "%s/pxed.db", state_dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	if (sqlite3_open_v2(path, &m->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW, NULL) !=
	    SQLITE_OK)
		goto fail;
	/* A writer's checkpoint may hold the lock a moment: wait, briefly. */
	sqlite3_busy_timeout(m->db, 200);
	for (int i = 0; i < SM_COUNT; i++)
		if (sqlite3_prepare_v2(m->db, store_machines_sql[i], -1, &m->st[i], NULL) !=
		    SQLITE_OK)
			goto fail;
	*out = m;
	return 0;
fail:
	log_err("store", "%s (read-only): %s", path,
		m->db != NULL ? sqlite3_errmsg(m->db) : "out of memory");
	store_machines_close(m);
	return -EIO;
}

void store_machines_close(struct store_machines *m)
{
	if (m == NULL)
		return;
	for (int i = 0; i < SM_COUNT; i++)
		sqlite3_finalize(m->st[i]);
	sqlite3_close(m->db);
	free(m);
}

static bool store_machines_has(uint8_t (*macs)[6], size_t n, const void *mac)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(macs[i], mac, 6) == 0)
			return true;
	return false;
}

int store_machines_recent(struct store_machines *m, size_t scan, uint8_t (*out)[6], size_t cap)
{
	sqlite3_stmt *q = m->st[scan > 0 ? SM_SCAN : SM_ALL];
	size_t n = 0;
	int rc = SQLITE_DONE;

	sqlite3_bind_int64(q, 1, (sqlite3_int64)(scan > 0 ? scan : cap));
	while (n < cap && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		const void *mac = sqlite3_column_blob(q, 0);
		/* cap is small (the API shows at most 500): a linear look is enough. */
		if (sqlite3_column_bytes(q, 0) == 6 && !store_machines_has(out, n, mac))
			memcpy(out[n++], mac, 6);
	}
	if (n < cap && rc != SQLITE_DONE) {
		log_err("store", "machines: %s", sqlite3_errmsg(m->db));
		n = 0;
		rc = -EIO;
	}
	sqlite3_reset(q);
	return rc == -EIO ? -EIO : (int)n;
}
