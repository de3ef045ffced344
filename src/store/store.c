#include "store/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "store/discovered.h"

/*
 * The schema as version 1 created it; store_migrate() then brings it to
 * STORE_SCHEMA_VERSION, so a new store and an old one take the same path.
 * Leases are keyed by address; a MAC holds at most one lease (the unique
 * index) so a client never owns two addresses.
 */
static const char store_schema[] =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS leases ("
    "  ip INTEGER PRIMARY KEY, mac BLOB NOT NULL, expires INTEGER NOT NULL,"
    "  hostname TEXT NOT NULL DEFAULT '');"
    "CREATE UNIQUE INDEX IF NOT EXISTS leases_mac ON leases(mac);"
    "CREATE TABLE IF NOT EXISTS events ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT, ts_us INTEGER NOT NULL, mac BLOB,"
    "  ip INTEGER NOT NULL, proto TEXT NOT NULL, kind TEXT NOT NULL,"
    "  detail TEXT NOT NULL, bytes INTEGER NOT NULL, duration_us INTEGER NOT NULL,"
    "  ok INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS events_mac ON events(mac, id);"
    "CREATE TABLE IF NOT EXISTS declined (ip INTEGER PRIMARY KEY, until INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO meta VALUES ('schema', '1');";

#define STORE_SCHEMA_VERSION 3

/*
 * store_migrations[i] moves the schema from version i + 1 to i + 2, in one
 * transaction with the version's update. Columns are only ever added (with
 * defaults), so rows written by an older pxed stay readable.
 */
static const char *const store_migrations[] = {
    /* 1 -> 2: boot sessions, and what DHCP and transfers recorded, as columns. */
    "ALTER TABLE events ADD COLUMN expected INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE events ADD COLUMN session INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE events ADD COLUMN arch INTEGER;"
    "ALTER TABLE events ADD COLUMN vendor TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE events ADD COLUMN user_class TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE events ADD COLUMN relay INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE events ADD COLUMN iface TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE events ADD COLUMN boot_item INTEGER;"
    "ALTER TABLE events ADD COLUMN decision TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE events ADD COLUMN source TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE events ADD COLUMN profile TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE events ADD COLUMN file TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE events ADD COLUMN block INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE events ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;",
    /*
     * 2 -> 3: the inventory's run-time part: hosts and profiles put through
     * the API (the config file's text format, as JSON), hosts' install
     * states, and machines discovered on subnets that register them.
     */
    "CREATE TABLE inventory (kind TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,"
    "  updated INTEGER NOT NULL, PRIMARY KEY (kind, name));"
    "CREATE TABLE host_state (mac BLOB PRIMARY KEY, state TEXT NOT NULL,"
    "  token TEXT NOT NULL DEFAULT '', updated INTEGER NOT NULL);"
    "CREATE TABLE discovered (mac BLOB PRIMARY KEY, first_seen INTEGER NOT NULL,"
    "  last_seen INTEGER NOT NULL, ip INTEGER NOT NULL DEFAULT 0, arch INTEGER,"
    "  vendor TEXT NOT NULL DEFAULT '', user_class TEXT NOT NULL DEFAULT '',"
    "  uuid TEXT NOT NULL DEFAULT '', iface TEXT NOT NULL DEFAULT '',"
    "  relay INTEGER NOT NULL DEFAULT 0);"
    /* The cap drops the machines seen least recently (store/discovered.c). */
    "CREATE INDEX discovered_seen ON discovered (last_seen);",
};

_Static_assert(PXED_ARRAY_LEN(store_migrations) == STORE_SCHEMA_VERSION - 1,
	       "one migration per schema version");

/* Every column of an event, in the order store_row_event() reads them. */
#define STORE_EVENT_COLS                                                                           \
	"ts_us, mac, ip, proto, kind, detail, bytes, duration_us, ok, expected, session, "         \
	"arch, vendor, user_class, relay, iface, boot_item, decision, source, profile, "           \
	"file, block, retries"

enum store_stmt {
	ST_LEASE_BY_IP,
	ST_LEASE_BY_MAC,
	ST_LEASE_PUT,
	ST_LEASE_DEL_MAC,
	ST_LEASE_DEL,
	ST_LEASE_ALL,
	ST_DECLINE_PUT,
	ST_DECLINED_UNTIL,
	ST_DECLINED_ALL,
	ST_EVENT_ADD,
	ST_EVENTS_MAC,
	ST_EVENT_LAST,
	ST_EVENT_LAST_DHCP,
	ST_COUNT
};

static const char *const store_sql[ST_COUNT] = {
    [ST_LEASE_BY_IP] = "SELECT ip, mac, expires, hostname FROM leases WHERE ip = ?",
    [ST_LEASE_BY_MAC] = "SELECT ip, mac, expires, hostname FROM leases WHERE mac = ?",
    [ST_LEASE_PUT] = "INSERT OR REPLACE INTO leases (ip, mac, expires, hostname) "
		     "VALUES (?, ?, ?, ?)",
    [ST_LEASE_DEL_MAC] = "DELETE FROM leases WHERE mac = ? AND ip != ?",
    [ST_LEASE_DEL] = "DELETE FROM leases WHERE ip = ?",
    [ST_LEASE_ALL] = "SELECT ip, mac, expires, hostname FROM leases ORDER BY ip",
    [ST_DECLINE_PUT] = "INSERT OR REPLACE INTO declined (ip, until) VALUES (?, ?)",
    [ST_DECLINED_UNTIL] = "SELECT until FROM declined WHERE ip = ?",
    [ST_DECLINED_ALL] = "SELECT ip, until FROM declined",
    [ST_EVENT_ADD] = "INSERT INTO events (" STORE_EVENT_COLS ") VALUES "
		     "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_EVENTS_MAC] = "SELECT " STORE_EVENT_COLS
		      " FROM (SELECT * FROM events WHERE mac = ? ORDER BY id DESC LIMIT ?) "
		      "ORDER BY ts_us, id",
    [ST_EVENT_LAST] =
	"SELECT " STORE_EVENT_COLS " FROM events WHERE mac = ? ORDER BY id DESC LIMIT 1",
    [ST_EVENT_LAST_DHCP] =
	"SELECT " STORE_EVENT_COLS " FROM events WHERE mac = ? AND decision != '' "
	"ORDER BY id DESC LIMIT 1",
};

/*
 * Retention, on the events connection. Each statement deletes a bounded
 * batch walking the rowid (the order of arrival), so a pass costs the
 * same whatever the table holds: an index on ts_us would cost every
 * insert, and ids grow with time.
 */
enum store_prune_stmt {
	SP_AGE,	     /* at most ?2 events written before ?1, oldest ids first */
	SP_MAX_ID,   /* the newest id */
	SP_UPTO,     /* at most ?2 events with id <= ?1 */
	SP_MAC_CUT,  /* mac ?1's id that has ?2 newer ones */
	SP_MAC_UPTO, /* at most ?3 of mac ?1's events with id <= ?2 */
	SP_COUNT
};

static const char *const store_prune_sql[SP_COUNT] = {
    /*
     * Not just the oldest ?2 ids: rows stamped in the future (the wall clock
     * stepped back) would otherwise hold the whole age retention up.
     */
    [SP_AGE] = "DELETE FROM events WHERE id IN "
	       "(SELECT id FROM events WHERE ts_us < ?1 ORDER BY id LIMIT ?2)",
    [SP_MAX_ID] = "SELECT max(id) FROM events",
    [SP_UPTO] = "DELETE FROM events WHERE id IN "
		"(SELECT id FROM events WHERE id <= ?1 ORDER BY id LIMIT ?2)",
    [SP_MAC_CUT] = "SELECT id FROM events WHERE mac = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2",
    [SP_MAC_UPTO] = "DELETE FROM events WHERE id IN "
		    "(SELECT id FROM events WHERE mac = ?1 AND id <= ?2 ORDER BY id LIMIT ?3)",
};

/* Events written during a batch wait here until its commit (the lock is the batch's). */
#define STORE_EVQ_CAP 512

struct store {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	/*
	 * Timeline events go through a second connection with synchronous=NORMAL:
	 * they need no fsync of their own (a later lease commit syncs the WAL
	 * they share), so a turn that grants nothing costs no fsync.
	 */
	sqlite3 *evdb;
	sqlite3_stmt *ev_add;
	sqlite3_stmt *prune[SP_COUNT]; /* on evdb */
	int schema;
	struct store_event *evq;
	size_t evq_n;
	bool in_batch;	   /* inside store_batch_begin .. store_batch_commit */
	bool batch_failed; /* a write of the batch failed: it will not commit */
};

static int store_exec(struct store *s, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_err("store", "%s: %s", sql, err != NULL ? err : "?");
		sqlite3_free(err);
		return -EIO;
	}
	return 0;
}

/*
 * Ends a failed transaction. SQLite has already rolled it back itself after
 * some errors (SQLITE_FULL, SQLITE_IOERR): then there is nothing to end.
 */
static void store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		store_exec(s, "ROLLBACK");
}

static int store_prepare_all(struct store *s)
{
	for (int i = 0; i < ST_COUNT; i++) {
		if (store_sql[i] == NULL) {
			log_err("store", "statement %d has no SQL", i);
			return -EIO;
		}
		if (sqlite3_prepare_v2(s->db, store_sql[i], -1, &s->st[i], NULL) != SQLITE_OK) {
			log_err("store", "prepare: %s", sqlite3_errmsg(s->db));
			return -EIO;
		}
	}
	return 0;
}

static int store_open_events(struct store *s, const char *path)
{
	bool ok = false;
	s->evq = calloc(STORE_EVQ_CAP, sizeof(*s->evq));
	if (s->evq != NULL &&
	    sqlite3_open_v2(path, &s->evdb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) ==
		SQLITE_OK &&
	    sqlite3_exec(s->evdb, "PRAGMA synchronous=NORMAL;", NULL, NULL, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(s->evdb, store_sql[ST_EVENT_ADD], -1, &s->ev_add, NULL) ==
		SQLITE_OK) {
		ok = true;
		for (int i = 0; i < SP_COUNT && ok; i++)
			ok = sqlite3_prepare_v2(s->evdb, store_prune_sql[i], -1, &s->prune[i],
						NULL) == SQLITE_OK;
	}
	if (!ok) {
		log_err("store", "events connection: %s",
			s->evdb != NULL ? sqlite3_errmsg(s->evdb) : "out of memory");
		return -EIO;
	}
	sqlite3_busy_timeout(s->evdb, 2000);
	return 0;
}

static int store_read_schema(struct store *s)
{
	sqlite3_stmt *q;
	int v = -1;
	if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'schema'", -1, &q,
			       NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return v;
}

/* Brings an older schema up to date, one version per transaction. */
static int store_migrate(struct store *s)
{
	int v = store_read_schema(s);
	char sql[64];

	if (v < 1) {
		log_err("store", "no schema version in the store");
		return -EIO;
	}
	if (v > STORE_SCHEMA_VERSION) {
		/* Written by a newer pxed since store_check() read it. */
		log_err("store", "schema %d is newer than this pxed's %d", v, STORE_SCHEMA_VERSION);
		return -EIO;
	}
	while (v < STORE_SCHEMA_VERSION) {
		if (store_exec(s, "BEGIN IMMEDIATE") < 0)
			return -EIO;
		/*
		 * Read again under the write lock: another process (the daemon and
		 * `pxed explain`, say) may have migrated since the read above.
		 */
		v = store_read_schema(s);
		if (v < 1 || v >= STORE_SCHEMA_VERSION) {
			store_exec(s, "COMMIT");
			break;
		}
		snprintf(sql, sizeof(sql), "UPDATE meta SET value = '%d' WHERE key = 'schema';",
			 v + 1);
		if (store_exec(s, store_migrations[v - 1]) < 0 || store_exec(s, sql) < 0 ||
		    store_exec(s, "COMMIT") < 0) {
			store_rollback(s);
			return -EIO;
		}
		log_info("store", "schema %d -> %d", v, v + 1);
		v++;
	}
	s->schema = store_read_schema(s);
	return 0;
}

int store_schema_version(struct store *s)
{
	return s->schema;
}

/*
 * What pxed says of a store it will not open. The file is left exactly as it
 * is: the leases in it may still be saved, and starting over an empty store
 * would hand their addresses out again.
 */
#define STORE_ADVICE                                                                               \
	"pxed leaves it as it is: restore it from a backup (`sqlite3 FILE .recover` may save "     \
	"some rows), or move it and its -wal away to start with no leases"

/* Removes a store file and its companions (a temporary one that was not kept). */
static void store_unlink_all(const char *path)
{
	static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
	char p[PATH_MAX];
	for (size_t i = 0; i < PXED_ARRAY_LEN(suffix); i++)
		if (snprintf(p, sizeof(p), "%s%s", path, suffix[i]) < (int)sizeof(p))
			unlink(p);
}

/* Why SQLite could not open a store file, for the log. */
static const char *store_open_why(sqlite3 *db)
{
	if (db == NULL)
		return "out of memory";
	if (sqlite3_extended_errcode(db) == SQLITE_CANTOPEN_SYMLINK)
		return "the path goes through a symbolic link, which pxed does not follow "
		       "(SQLITE_OPEN_NOFOLLOW): give state_dir as its real path";
	return sqlite3_errmsg(db);
}

/*
 * The state directory is the service user's, and root opens the store in it
 * at the next start (docs/security.md): a daemon taken over could leave
 * pxed.db, or its -wal, -shm or -journal, as a symlink or a hard link to a
 * file of root's. Each that exists must be a regular file with one link,
 * owned by root, by whoever runs this pxed or by the directory's owner (the
 * service user once pxed has dropped to it). SQLITE_OPEN_NOFOLLOW then has
 * SQLite refuse a link put there after this look.
 */
static int store_check_files(const char *state_dir, const char *path)
{
	static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
	struct stat dir, st;
	char p[PATH_MAX];

	if (stat(state_dir, &dir) < 0)
		return -errno;
	for (size_t i = 0; i < PXED_ARRAY_LEN(suffix); i++) {
		const char *why = NULL;
		if (snprintf(p, sizeof(p), "%s%s", path, suffix[i]) >= (int)sizeof(p))
			return -ENAMETOOLONG;
		if (lstat(p, &st) < 0) {
			if (errno == ENOENT)
				continue;
			return -errno;
		}
		if (S_ISLNK(st.st_mode))
			why = "is a symbolic link";
		else if (!S_ISREG(st.st_mode))
			why = "is not a regular file";
		else if (st.st_nlink != 1)
			why = "has more than one hard link";
		else if (st.st_uid != 0 && st.st_uid != geteuid() && st.st_uid != dir.st_uid)
			why = "belongs to a user other than root and the state directory's owner";
		if (why != NULL) {
			log_err("store",
				"%s %s: pxed will not open it (it could lead root to another "
				"file); look at it, then remove it or move it away "
				"(docs/security.md)",
				p, why);
			return -EPERM;
		}
	}
	return 0;
}

/*
 * pxed.db is absent but its -wal, -shm or -journal is there: left by another
 * store (moved away without them, or not pxed's). SQLite would replay a WAL
 * or journal into the new store, so pxed creates none and names the files.
 */
static int store_refuse_leftovers(const char *path)
{
	static const char *const suffix[] = {"-wal", "-shm", "-journal"};
	char p[PATH_MAX], names[3 * PATH_MAX + 8] = "";
	struct stat st;

	for (size_t i = 0; i < PXED_ARRAY_LEN(suffix); i++) {
		size_t n = strlen(names);
		if (snprintf(p, sizeof(p), "%s%s", path, suffix[i]) < (int)sizeof(p) &&
		    lstat(p, &st) == 0)
			snprintf(names + n, sizeof(names) - n, "%s%s", n > 0 ? ", " : "", p);
	}
	/* Another process may have just created the store (and its -wal): then it is whole. */
	if (names[0] == '\0' || lstat(path, &st) == 0)
		return 0;
	log_err("store",
		"%s does not exist but %s does: left by another store, which SQLite would "
		"replay into a new one; pxed creates none. Put them back beside the store they "
		"belong to, or remove them to start with no leases",
		path, names);
	return -EEXIST;
}

/*
 * Removes the temporary stores (pxed.db.new-*, and their -wal...) of a pxed
 * stopped while it created one. Only those a minute old: a younger one may
 * be another process's, creating right now.
 */
static void store_unlink_stale(const char *state_dir)
{
	DIR *d = opendir(state_dir);
	struct dirent *e;
	struct stat st;
	time_t now = time(NULL);

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "pxed.db.new-", 12) != 0 ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    st.st_mtime > now - 60)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			log_info("store", "%s/%s: removed (a store half made by a stopped pxed)",
				 state_dir, e->d_name);
	}
	closedir(d);
}

static int store_fsync_dir(const char *state_dir)
{
	int fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = fd >= 0 && fsync(fd) == 0 ? 0 : -errno;
	if (fd >= 0)
		close(fd);
	return rc;
}

/*
 * A new store is made whole under a temporary name (schema written, WAL
 * checkpointed by the close) and only then linked into place: so pxed.db
 * never exists half-made, and an empty pxed.db is always damage, never a
 * start-up that was killed. link() does not replace: when another process
 * (`pxed explain` beside a starting daemon) got there first, its store is
 * the one used.
 */
static int store_create(const char *state_dir, const char *path)
{
	char tmp[PATH_MAX];
	sqlite3 *db = NULL;
	uint64_t r;
	int rc = -EIO;

	if ((rc = store_refuse_leftovers(path)) < 0)
		return rc;
	store_unlink_stale(state_dir);
	/* A random name: nobody can guess it to put a link there first. */
	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -EIO;
	if (snprintf(tmp, sizeof(tmp), "%s.new-%016" PRIx64, path, r) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	rc = -EIO;
	if (sqlite3_open_v2(tmp, &db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW,
			    NULL) == SQLITE_OK &&
	    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL,
			 NULL) == SQLITE_OK &&
	    sqlite3_exec(db, store_schema, NULL, NULL, NULL) == SQLITE_OK)
		rc = 0;
	else
		log_err("store", "%s: %s", tmp, store_open_why(db));
	if (sqlite3_close(db) != SQLITE_OK && rc == 0) {
		log_err("store", "%s: close: %s", tmp, sqlite3_errmsg(db));
		rc = -EIO;
	}
	if (rc == 0 && link(tmp, path) < 0 && errno != EEXIST) {
		rc = -errno;
		log_err("store", "%s: %s", path, strerror(errno));
	}
	store_unlink_all(tmp);
	if (rc == 0 && (rc = store_fsync_dir(state_dir)) < 0)
		log_err("store", "%s: fsync: %s", state_dir, strerror(-rc));
	return rc;
}

/*
 * PRAGMA quick_check's verdict on the leases table and its indexes: "ok", or
 * the first problem it found (its "*** in database main ***" heading
 * skipped). Only that table (SQLite 3.33 and later take a table's name):
 * the leases are what a damaged store must not lose, and a check of the
 * whole file reads every event too, seconds at a million of them, at every
 * start and every `pxed explain`. Damage among the events shows as errors
 * when they are read or written.
 */
static int store_quick_check(struct store *s, char *first, size_t cap)
{
	sqlite3_stmt *q;
	int rc;
	if (sqlite3_prepare_v2(s->db, "PRAGMA quick_check(leases)", -1, &q, NULL) != SQLITE_OK)
		return -EIO;
	first[0] = '\0';
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(q, 0);
		const char *nl = t != NULL ? strchr(t, '\n') : NULL;
		if (t != NULL && strncmp(t, "***", 3) == 0)
			t = nl != NULL ? nl + 1 : "";
		snprintf(first, cap, "%s", t != NULL ? t : "?");
		if (first[0] != '\0')
			break;
	}
	sqlite3_finalize(q);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

/*
 * Is the file whole, pxed's, and of a schema this pxed knows? Only reads:
 * a store refused here is left byte for byte as it was (SQLite may still
 * replay a -wal or roll back a hot journal: that is its recovery).
 */
static int store_check(struct store *s, const char *path)
{
	char first[160] = "";
	sqlite3_stmt *q;
	int tables = -1, meta = 0, leases = 0;

	if (sqlite3_prepare_v2(s->db,
			       "SELECT count(*), coalesce(sum(name = 'meta'), 0), "
			       "coalesce(sum(name = 'leases'), 0) FROM sqlite_master "
			       "WHERE type = 'table'",
			       -1, &q, NULL) == SQLITE_OK) {
		if (sqlite3_step(q) == SQLITE_ROW) {
			tables = sqlite3_column_int(q, 0);
			meta = sqlite3_column_int(q, 1);
			leases = sqlite3_column_int(q, 2);
		}
		sqlite3_finalize(q);
	}
	if (tables < 0) {
		log_err("store", "%s: %s; " STORE_ADVICE, path, sqlite3_errmsg(s->db));
		return -EIO;
	}
	/* No table at all: a SQLite file nothing was written to yet, pxed's to fill. */
	if (tables > 0 && meta == 0) {
		log_err("store", "%s is a SQLite database but not a pxed store; " STORE_ADVICE,
			path);
		return -EIO;
	}
	if (leases > 0 && store_quick_check(s, first, sizeof(first)) < 0) {
		log_err("store", "%s: %s; " STORE_ADVICE, path, sqlite3_errmsg(s->db));
		return -EIO;
	}
	if (leases > 0 && strcmp(first, "ok") != 0) {
		log_err("store", "%s is damaged (quick_check: %s); " STORE_ADVICE, path, first);
		return -EIO;
	}
	int v = meta ? store_read_schema(s) : 0;
	if (v > STORE_SCHEMA_VERSION) {
		log_err("store",
			"%s was written by a newer pxed (schema %d; this pxed knows up to %d): "
			"run that pxed, or move it and its -wal away to start with no leases",
			path, v, STORE_SCHEMA_VERSION);
		return -EIO;
	}
	return 0;
}

int store_open(const char *state_dir, struct store **out)
{
	char path[PATH_MAX];
	struct stat sb;
	struct store *s;
	int rc;

	if (mkdir(state_dir, 0750) < 0 && errno != EEXIST)
		return -errno;
	if (snprintf(path, sizeof(path), "%s/pxed.db", state_dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if ((rc = store_check_files(state_dir, path)) < 0)
		return rc;
	if (lstat(path, &sb) < 0) {
		if (errno != ENOENT)
			return -errno;
		if ((rc = store_create(state_dir, path)) < 0)
			return rc;
	} else if (sb.st_size == 0) {
		log_err("store", "%s is empty (0 bytes): pxed never leaves it so; " STORE_ADVICE,
			path);
		return -EIO;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) !=
	    SQLITE_OK) {
		log_err("store", "%s: %s", path, store_open_why(s->db));
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 2000);
	/*
	 * WAL with synchronous=FULL: a commit is fsynced before it returns, so a
	 * lease written before the ACK survives power loss (RFC 2131 §4.3.1).
	 */
	if (store_check(s, path) < 0 ||
	    store_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;") < 0 ||
	    store_exec(s, store_schema) < 0 || store_migrate(s) < 0 || store_prepare_all(s) < 0 ||
	    store_open_events(s, path) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	store_close(s);
	return -EIO;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_finalize(s->ev_add);
	for (int i = 0; i < SP_COUNT; i++)
		sqlite3_finalize(s->prune[i]);
	sqlite3_close(s->evdb);
	sqlite3_close(s->db);
	free(s->evq);
	free(s);
}

static void store_row_lease(sqlite3_stmt *q, struct store_lease *l)
{
	memset(l, 0, sizeof(*l));
	l->ip = (uint32_t)sqlite3_column_int64(q, 0);
	if (sqlite3_column_bytes(q, 1) == 6)
		memcpy(l->mac, sqlite3_column_blob(q, 1), 6);
	l->expires = sqlite3_column_int64(q, 2);
	const unsigned char *h = sqlite3_column_text(q, 3);
	snprintf(l->hostname, sizeof(l->hostname), "%s", h != NULL ? (const char *)h : "");
}

/* Runs a prepared lookup that yields at most one lease. */
static int store_lease_one(struct store *s, sqlite3_stmt *q, struct store_lease *out)
{
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		store_row_lease(q, out);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : -EIO;
		if (rc == -EIO)
			log_err("store", "lease lookup: %s", sqlite3_errmsg(s->db));
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc;
}

int store_lease_by_ip(struct store *s, uint32_t ip, struct store_lease *out)
{
	sqlite3_stmt *q = s->st[ST_LEASE_BY_IP];
	sqlite3_bind_int64(q, 1, ip);
	return store_lease_one(s, q, out);
}

int store_lease_by_mac(struct store *s, const uint8_t mac[6], struct store_lease *out)
{
	sqlite3_stmt *q = s->st[ST_LEASE_BY_MAC];
	sqlite3_bind_blob(q, 1, mac, 6, SQLITE_STATIC);
	return store_lease_one(s, q, out);
}

static int store_step_done(struct store *s, sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (rc != SQLITE_DONE) {
		log_err("store", "write: %s", sqlite3_errmsg(s->db));
		return -EIO;
	}
	return 0;
}

static void store_event_flush(struct store *s);

int store_batch_begin(struct store *s)
{
	if (s->in_batch)
		return -EBUSY;
	if (store_exec(s, "BEGIN IMMEDIATE") < 0)
		return -EIO;
	s->in_batch = true;
	s->batch_failed = false;
	return 0;
}

int store_batch_commit(struct store *s)
{
	if (!s->in_batch)
		return -EINVAL;
	s->in_batch = false;
	/* COMMIT is where SQLite fsyncs the WAL: after it, every write is durable. */
	int rc = !s->batch_failed && store_exec(s, "COMMIT") == 0 ? 0 : -EIO;
	if (rc < 0)
		store_rollback(s);
	store_event_flush(s);
	return rc;
}

/* Opens a transaction unless a batch holds one; the pair of store_txn_end. */
static int store_txn_begin(struct store *s)
{
	if (s->in_batch)
		return s->batch_failed ? -EIO : 0;
	return store_exec(s, "BEGIN IMMEDIATE");
}

static int store_txn_end(struct store *s, int rc)
{
	if (s->in_batch) {
		if (rc < 0)
			s->batch_failed = true;
		return rc;
	}
	if (rc == 0 && store_exec(s, "COMMIT") == 0)
		return 0;
	store_rollback(s);
	return -EIO;
}

int store_lease_put(struct store *s, const struct store_lease *l)
{
	/* One transaction: the client's old address goes as the new one comes. */
	if (store_txn_begin(s) < 0)
		return -EIO;
	sqlite3_stmt *q = s->st[ST_LEASE_DEL_MAC];
	sqlite3_bind_blob(q, 1, l->mac, 6, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, l->ip);
	int rc = store_step_done(s, q);
	if (rc == 0) {
		q = s->st[ST_LEASE_PUT];
		sqlite3_bind_int64(q, 1, l->ip);
		sqlite3_bind_blob(q, 2, l->mac, 6, SQLITE_STATIC);
		sqlite3_bind_int64(q, 3, l->expires);
		sqlite3_bind_text(q, 4, l->hostname, -1, SQLITE_STATIC);
		rc = store_step_done(s, q);
	}
	return store_txn_end(s, rc);
}

int store_lease_delete(struct store *s, uint32_t ip)
{
	sqlite3_stmt *q = s->st[ST_LEASE_DEL];
	sqlite3_bind_int64(q, 1, ip);
	int rc = store_step_done(s, q);
	if (rc < 0 && s->in_batch)
		s->batch_failed = true;
	return rc;
}

int store_lease_each(struct store *s, int (*fn)(const struct store_lease *, void *), void *arg)
{
	sqlite3_stmt *q = s->st[ST_LEASE_ALL];
	struct store_lease l;
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		store_row_lease(q, &l);
		if (fn(&l, arg) != 0)
			break;
	}
	sqlite3_reset(q);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

int store_lease_decline(struct store *s, uint32_t ip, int64_t until)
{
	/* The lease goes and the probation comes in one transaction. */
	if (store_txn_begin(s) < 0)
		return -EIO;
	sqlite3_stmt *q = s->st[ST_LEASE_DEL];
	sqlite3_bind_int64(q, 1, ip);
	int rc = store_step_done(s, q);
	if (rc == 0) {
		q = s->st[ST_DECLINE_PUT];
		sqlite3_bind_int64(q, 1, ip);
		sqlite3_bind_int64(q, 2, until);
		rc = store_step_done(s, q);
	}
	return store_txn_end(s, rc);
}

int64_t store_declined_until(struct store *s, uint32_t ip)
{
	sqlite3_stmt *q = s->st[ST_DECLINED_UNTIL];
	int64_t until = 0;
	sqlite3_bind_int64(q, 1, ip);
	if (sqlite3_step(q) == SQLITE_ROW)
		until = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return until;
}

int store_declined_each(struct store *s, int (*fn)(uint32_t ip, int64_t until, void *), void *arg)
{
	sqlite3_stmt *q = s->st[ST_DECLINED_ALL];
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		if (fn((uint32_t)sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1), arg) != 0)
			break;
	sqlite3_reset(q);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

static void store_bind_text(sqlite3_stmt *q, int i, const char *v)
{
	sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
}

static int store_event_write(struct store *s, sqlite3 *db, sqlite3_stmt *q,
			     const struct store_event *ev)
{
	sqlite3_bind_int64(q, 1, ev->ts_us);
	if (ev->has_mac)
		sqlite3_bind_blob(q, 2, ev->mac, 6, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, 2);
	sqlite3_bind_int64(q, 3, ev->ip);
	store_bind_text(q, 4, ev->proto);
	store_bind_text(q, 5, ev->kind);
	store_bind_text(q, 6, ev->detail);
	sqlite3_bind_int64(q, 7, (sqlite3_int64)ev->bytes);
	sqlite3_bind_int64(q, 8, (sqlite3_int64)ev->duration_us);
	sqlite3_bind_int(q, 9, ev->ok);
	sqlite3_bind_int(q, 10, ev->expected);
	sqlite3_bind_int64(q, 11, (sqlite3_int64)ev->session);
	if (ev->has_arch)
		sqlite3_bind_int(q, 12, ev->arch);
	else
		sqlite3_bind_null(q, 12);
	store_bind_text(q, 13, ev->vendor);
	store_bind_text(q, 14, ev->user_class);
	sqlite3_bind_int64(q, 15, ev->relay);
	store_bind_text(q, 16, ev->iface);
	if (ev->boot_item >= 0)
		sqlite3_bind_int(q, 17, ev->boot_item);
	else
		sqlite3_bind_null(q, 17);
	store_bind_text(q, 18, ev->decision);
	store_bind_text(q, 19, ev->source);
	store_bind_text(q, 20, ev->profile);
	store_bind_text(q, 21, ev->file);
	sqlite3_bind_int64(q, 22, (sqlite3_int64)ev->block);
	sqlite3_bind_int64(q, 23, ev->retries);
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (rc != SQLITE_DONE) {
		log_err("store", "event: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	return 0;
}

/* Writes the events queued during a batch, in one transaction of their own. */
static void store_event_flush(struct store *s)
{
	if (s->evq_n == 0)
		return;
	bool txn = sqlite3_exec(s->evdb, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
	for (size_t i = 0; i < s->evq_n; i++)
		store_event_write(s, s->evdb, s->ev_add, &s->evq[i]);
	if (txn && sqlite3_exec(s->evdb, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		sqlite3_exec(s->evdb, "ROLLBACK", NULL, NULL, NULL);
	s->evq_n = 0;
}

int store_event_add(struct store *s, const struct store_event *ev)
{
	if (!s->in_batch)
		return store_event_write(s, s->evdb, s->ev_add, ev);
	if (s->evq_n < STORE_EVQ_CAP) {
		s->evq[s->evq_n++] = *ev;
		return 0;
	}
	/* A full queue: this one joins the batch's own transaction instead. */
	return store_event_write(s, s->db, s->st[ST_EVENT_ADD], ev);
}

static void store_col_text(sqlite3_stmt *q, int i, char *out, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(q, i);
	snprintf(out, cap, "%s", t != NULL ? (const char *)t : "");
}

static void store_row_event(sqlite3_stmt *q, struct store_event *e)
{
	memset(e, 0, sizeof(*e));
	e->ts_us = sqlite3_column_int64(q, 0);
	if (sqlite3_column_bytes(q, 1) == 6) {
		memcpy(e->mac, sqlite3_column_blob(q, 1), 6);
		e->has_mac = true;
	}
	e->ip = (uint32_t)sqlite3_column_int64(q, 2);
	store_col_text(q, 3, e->proto, sizeof(e->proto));
	store_col_text(q, 4, e->kind, sizeof(e->kind));
	store_col_text(q, 5, e->detail, sizeof(e->detail));
	e->bytes = (uint64_t)sqlite3_column_int64(q, 6);
	e->duration_us = (uint64_t)sqlite3_column_int64(q, 7);
	e->ok = sqlite3_column_int(q, 8) != 0;
	e->expected = sqlite3_column_int(q, 9) != 0;
	e->session = (uint64_t)sqlite3_column_int64(q, 10);
	if (sqlite3_column_type(q, 11) != SQLITE_NULL) {
		int64_t a = sqlite3_column_int64(q, 11);
		e->has_arch = a >= 0 && a <= UINT16_MAX;
		e->arch = e->has_arch ? (uint16_t)a : 0;
	}
	store_col_text(q, 12, e->vendor, sizeof(e->vendor));
	store_col_text(q, 13, e->user_class, sizeof(e->user_class));
	e->relay = (uint32_t)sqlite3_column_int64(q, 14);
	store_col_text(q, 15, e->iface, sizeof(e->iface));
	e->boot_item = -1;
	if (sqlite3_column_type(q, 16) != SQLITE_NULL) {
		int64_t b = sqlite3_column_int64(q, 16);
		e->boot_item = b >= 0 && b <= UINT16_MAX ? (int32_t)b : -1;
	}
	store_col_text(q, 17, e->decision, sizeof(e->decision));
	store_col_text(q, 18, e->source, sizeof(e->source));
	store_col_text(q, 19, e->profile, sizeof(e->profile));
	store_col_text(q, 20, e->file, sizeof(e->file));
	e->block = (uint64_t)sqlite3_column_int64(q, 21);
	e->retries = (uint32_t)sqlite3_column_int64(q, 22);
}

int store_event_each(struct store *s, const uint8_t mac[6], size_t limit,
		     int (*fn)(const struct store_event *, void *), void *arg)
{
	sqlite3_stmt *q = s->st[ST_EVENTS_MAC];
	struct store_event e;
	int rc;
	sqlite3_bind_blob(q, 1, mac, 6, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)limit);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		store_row_event(q, &e);
		if (fn(&e, arg) != 0)
			break;
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

/* A growing copy of events, for the session split. */
struct store_evlist {
	struct store_event *v;
	size_t n, cap;
};

static int store_evlist_add(const struct store_event *e, void *arg)
{
	struct store_evlist *l = arg;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct store_event *p = realloc(l->v, cap * sizeof(*p));
		if (p == NULL)
			return -1;
		l->v = p;
		l->cap = cap;
	}
	l->v[l->n++] = *e;
	return 0;
}

/* Where the session that ends at l->v[end] starts; rows from before sessions split by the pause. */
static size_t store_session_start(const struct store_evlist *l, size_t end, int64_t gap_us)
{
	uint64_t sess = l->v[end].session;
	size_t start = end;
	while (start > 0 && (sess != 0 ? l->v[start - 1].session == sess
				       : l->v[start - 1].session == 0 &&
					     l->v[start].ts_us - l->v[start - 1].ts_us <= gap_us))
		start--;
	return start;
}

static bool store_session_has_decision(const struct store_evlist *l, size_t start, size_t end)
{
	for (size_t i = start; i <= end; i++)
		if (l->v[i].decision[0] != '\0')
			return true;
	return false;
}

/*
 * The newest session with a boot decision in it, else the newest: an OS
 * renewing its lease after a boot (a session of its own in stores written
 * before renewals joined the boot's session) does not hide the boot.
 */
int store_event_last_session(struct store *s, const uint8_t mac[6], size_t limit, int64_t gap_us,
			     int (*fn)(const struct store_event *, void *), void *arg)
{
	struct store_evlist l = {0};
	int rc = store_event_each(s, mac, limit, store_evlist_add, &l);
	size_t start = l.n, end = l.n;

	if (rc == 0 && l.n > 0) {
		end = l.n - 1;
		start = store_session_start(&l, end, gap_us);
		for (size_t e = end, b = start; !store_session_has_decision(&l, b, e) && b > 0;) {
			e = b - 1;
			b = store_session_start(&l, e, gap_us);
			if (store_session_has_decision(&l, b, e)) {
				start = b;
				end = e;
			}
		}
	}
	for (size_t i = start; i < l.n && i <= end; i++)
		if (fn(&l.v[i], arg) != 0)
			break;
	free(l.v);
	return rc;
}

static int store_event_one(struct store *s, sqlite3_stmt *q, const uint8_t mac[6],
			   struct store_event *out)
{
	sqlite3_bind_blob(q, 1, mac, 6, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		store_row_event(q, out);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return -ENOENT;
	log_err("store", "event lookup: %s", sqlite3_errmsg(s->db));
	return -EIO;
}

int store_event_last(struct store *s, const uint8_t mac[6], struct store_event *out)
{
	return store_event_one(s, s->st[ST_EVENT_LAST], mac, out);
}

int store_event_last_dhcp(struct store *s, const uint8_t mac[6], struct store_event *out)
{
	return store_event_one(s, s->st[ST_EVENT_LAST_DHCP], mac, out);
}

/* Runs one bounded DELETE of the retention; rows deleted or -EIO. */
static int store_prune_step(struct store *s, sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (rc != SQLITE_DONE) {
		log_err("store", "event retention: %s", sqlite3_errmsg(s->evdb));
		return -EIO;
	}
	return sqlite3_changes(s->evdb);
}

int store_event_prune(struct store *s, const struct store_retention *r, size_t batch)
{
	int n = 0, rc;
	sqlite3_stmt *q;

	if (s->in_batch || batch == 0)
		return 0;
	if (r->older_than_us > 0) {
		q = s->prune[SP_AGE];
		sqlite3_bind_int64(q, 1, r->older_than_us);
		sqlite3_bind_int64(q, 2, (sqlite3_int64)batch);
		if ((rc = store_prune_step(s, q)) < 0)
			return rc;
		n += rc;
	}
	if (r->max_total > 0 && (size_t)n < batch) {
		/* Ids only grow: keeping the newest max_total ids keeps at most that many rows. */
		int64_t top = 0;
		q = s->prune[SP_MAX_ID];
		if (sqlite3_step(q) == SQLITE_ROW)
			top = sqlite3_column_int64(q, 0);
		sqlite3_reset(q);
		if (top > (int64_t)r->max_total) {
			q = s->prune[SP_UPTO];
			sqlite3_bind_int64(q, 1, top - (int64_t)r->max_total);
			sqlite3_bind_int64(q, 2, (sqlite3_int64)(batch - (size_t)n));
			if ((rc = store_prune_step(s, q)) < 0)
				return rc;
			n += rc;
		}
	}
	return n;
}

int store_event_prune_mac(struct store *s, const uint8_t mac[6], uint32_t keep, size_t batch)
{
	sqlite3_stmt *q = s->prune[SP_MAC_CUT];
	int64_t cut = -1;

	if (s->in_batch || batch == 0 || keep == 0)
		return 0;
	sqlite3_bind_blob(q, 1, mac, 6, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, keep);
	if (sqlite3_step(q) == SQLITE_ROW)
		cut = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (cut < 0)
		return 0;
	q = s->prune[SP_MAC_UPTO];
	sqlite3_bind_blob(q, 1, mac, 6, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, cut);
	sqlite3_bind_int64(q, 3, (sqlite3_int64)batch);
	return store_prune_step(s, q);
}

/* For the store's other files (store/discovered.c): the write connection, batch and all. */
struct sqlite3 *store_sqlite(struct store *s)
{
	return s->db;
}

/* ---- host states (boot/states.h) ---------------------------------------- */

/*
 * Prepared per call: a state changes when an installer calls back or an
 * operator marks a host, rarely enough that a statement kept open buys nothing.
 */
int store_host_state_put(struct store *s, const uint8_t mac[6], const char *state,
			 const char *token, int64_t updated)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(s->db,
			       "INSERT OR REPLACE INTO host_state (mac, state, token, updated) "
			       "VALUES (?, ?, ?, ?)",
			       -1, &q, NULL) != SQLITE_OK) {
		log_err("store", "host state: %s", sqlite3_errmsg(s->db));
		return -EIO;
	}
	sqlite3_bind_blob(q, 1, mac, 6, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, token, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, updated);
	int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -EIO;
	if (rc < 0) {
		log_err("store", "host state: %s", sqlite3_errmsg(s->db));
		if (s->in_batch)
			s->batch_failed = true;
	}
	sqlite3_finalize(q);
	return rc;
}

int store_host_state_each(struct store *s,
			  int (*fn)(const uint8_t mac[6], const char *state, const char *token,
				    int64_t updated, void *arg),
			  void *arg)
{
	sqlite3_stmt *q;
	int rc;
	if (sqlite3_prepare_v2(s->db, "SELECT mac, state, token, updated FROM host_state", -1, &q,
			       NULL) != SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const void *mac = sqlite3_column_blob(q, 0);
		const char *st = (const char *)sqlite3_column_text(q, 1);
		const char *tok = (const char *)sqlite3_column_text(q, 2);
		int64_t updated = sqlite3_column_int64(q, 3);
		/* A row that is not one of ours (a MAC of another length) is skipped. */
		if (mac == NULL || sqlite3_column_bytes(q, 0) != 6 || st == NULL || tok == NULL)
			continue;
		if (fn(mac, st, tok, updated, arg) != 0)
			break;
	}
	sqlite3_finalize(q);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

/* ---- the inventory the API put (schema 3) ------------------------------ */

/* One statement, prepared for the call: inventory changes are rare. */
static int store_inventory_exec(struct store *s, const char *sql, const char *kind,
				const char *name, const char *body)
{
	sqlite3_stmt *q;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) {
		log_err("store", "inventory: %s", sqlite3_errmsg(s->db));
		return -EIO;
	}
	sqlite3_bind_text(q, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
	if (body != NULL) {
		sqlite3_bind_text(q, 3, body, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 4, (sqlite3_int64)time(NULL));
	}
	rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		log_err("store", "inventory %s %s: %s", kind, name, sqlite3_errmsg(s->db));
		return -EIO;
	}
	return sqlite3_changes(s->db) > 0 ? 0 : -ENOENT;
}

int store_inventory_put(struct store *st, const char *kind, const char *name, const char *body)
{
	return store_inventory_exec(st,
				    "INSERT INTO inventory (kind, name, body, updated) "
				    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (kind, name) "
				    "DO UPDATE SET body = ?3, updated = ?4",
				    kind, name, body);
}

int store_inventory_delete(struct store *st, const char *kind, const char *name)
{
	return store_inventory_exec(st, "DELETE FROM inventory WHERE kind = ?1 AND name = ?2", kind,
				    name, NULL);
}

/* The inventory's rows through db, profiles first, until fn returns non-zero. */
static int store_inventory_rows(sqlite3 *db,
				int (*fn)(const char *kind, const char *name, const char *body,
					  int64_t updated, void *arg),
				void *arg)
{
	sqlite3_stmt *q;
	int rc = 0, step;

	if (sqlite3_prepare_v2(db,
			       "SELECT kind, name, body, updated FROM inventory "
			       "ORDER BY kind DESC, name",
			       -1, &q, NULL) != SQLITE_OK)
		return -ENOENT;
	while (rc == 0 && (step = sqlite3_step(q)) == SQLITE_ROW)
		rc = fn((const char *)sqlite3_column_text(q, 0),
			(const char *)sqlite3_column_text(q, 1),
			(const char *)sqlite3_column_text(q, 2), sqlite3_column_int64(q, 3), arg);
	if (rc == 0 && step != SQLITE_DONE)
		rc = -EIO;
	sqlite3_finalize(q);
	return rc;
}

int store_inventory_read(const char *state_dir,
			 int (*fn)(const char *kind, const char *name, const char *body,
				   int64_t updated, void *arg),
			 void *arg)
{
	char path[PATH_MAX];
	sqlite3 *db = NULL;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/pxed.db", state_dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW, NULL) ==
	    SQLITE_OK) {
		sqlite3_busy_timeout(db, 2000);
		rc = store_inventory_rows(db, fn, arg);
	}
	sqlite3_close(db);
	/* No store, or one from before schema 3: nothing the API put. */
	return rc == -ENOENT ? 0 : rc;
}

int store_inventory_each(struct store *st,
			 int (*fn)(const char *kind, const char *name, const char *body,
				   int64_t updated, void *arg),
			 void *arg)
{
	int rc = store_inventory_rows(st->db, fn, arg);

	return rc == -ENOENT ? -EIO : rc;
}
