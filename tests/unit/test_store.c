/*
 * The events of the store: the schema-1 -> 2 migration (old rows stay
 * readable), the retention (age, total, per machine; bounded batches),
 * and obs's boot sessions and refusal limits on top of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/util.h"
#include "obs/obs.h"
#include "store/store.h"

static const uint8_t MAC_A[6] = {0x52, 0x54, 0x00, 0xaa, 0x00, 0x01};
static const uint8_t MAC_B[6] = {0x52, 0x54, 0x00, 0xaa, 0x00, 0x02};

struct fixture {
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_store.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	int rc = system(cmd);
	free(f);
	return rc == 0 ? 0 : -1;
}

/* ---- helpers ---------------------------------------------------------------- */

struct collected {
	struct store_event ev[600];
	size_t n;
};

static int collect(const struct store_event *e, void *arg)
{
	struct collected *c = arg;
	if (c->n < sizeof(c->ev) / sizeof(c->ev[0]))
		c->ev[c->n++] = *e;
	return 0;
}

static size_t count_of(struct store *st, const uint8_t mac[6])
{
	struct collected *c = calloc(1, sizeof(*c));
	assert_int_equal(store_event_each(st, mac, 100000, collect, c), 0);
	size_t n = c->n;
	free(c);
	return n;
}

static void add_event(struct store *st, const uint8_t mac[6], int64_t ts_us, const char *kind)
{
	struct store_event e = {
	    .ts_us = ts_us, .has_mac = true, .proto = "tftp", .ok = true, .boot_item = -1};
	memcpy(e.mac, mac, 6);
	snprintf(e.kind, sizeof(e.kind), "%s", kind);
	snprintf(e.detail, sizeof(e.detail), "%s at %lld", kind, (long long)ts_us);
	assert_int_equal(store_event_add(st, &e), 0);
}

/* ---- migration ----------------------------------------------------------------- */

/* The tables exactly as schema 1 created them, with two events in them. */
static const char schema1[] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE leases (ip INTEGER PRIMARY KEY, mac BLOB NOT NULL, expires INTEGER NOT NULL,"
    "  hostname TEXT NOT NULL DEFAULT '');"
    "CREATE UNIQUE INDEX leases_mac ON leases(mac);"
    "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, ts_us INTEGER NOT NULL, mac BLOB,"
    "  ip INTEGER NOT NULL, proto TEXT NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL,"
    "  bytes INTEGER NOT NULL, duration_us INTEGER NOT NULL, ok INTEGER NOT NULL);"
    "CREATE INDEX events_mac ON events(mac, id);"
    "CREATE TABLE declined (ip INTEGER PRIMARY KEY, until INTEGER NOT NULL);"
    "INSERT INTO meta VALUES ('schema', '1');"
    "INSERT INTO leases VALUES (167772261, x'525400aa0001', 4000000000, 'old');"
    "INSERT INTO events (ts_us, mac, ip, proto, kind, detail, bytes, duration_us, ok) VALUES"
    " (1700000000000000, x'525400aa0001', 167772261, 'dhcp', 'ack',"
    "  'arch=bios vendor=- user=iPXE file=x reason=y', 0, 0, 1),"
    " (1700000001000000, x'525400aa0001', 167772261, 'tftp', 'transfer',"
    "  'nbp x size=9', 9, 5, 0);";

/* An event with every field of schema 2 set, for MAC_A. */
static struct store_event full_event(void)
{
	struct store_event e = {.ts_us = 1700000002000000,
				.has_mac = true,
				.ip = 1,
				.proto = "dhcp",
				.kind = "offer",
				.ok = true,
				.session = 77,
				.has_arch = true,
				.arch = 11,
				.vendor = "PXEClient:Arch:00011",
				.user_class = "iPXE",
				.relay = 5,
				.iface = "br0",
				.boot_item = 3,
				.decision = "none",
				.source = "class arm",
				.profile = "p",
				.file = "f",
				.block = 9,
				.retries = 4,
				.expected = true};
	memcpy(e.mac, MAC_A, 6);
	return e;
}

/* e is full_event() as the store gave it back. */
static void check_full_event(const struct store_event *e)
{
	assert_int_equal(e->session, 77);
	assert_true(e->has_arch && e->arch == 11 && e->expected);
	assert_string_equal(e->vendor, "PXEClient:Arch:00011");
	assert_string_equal(e->user_class, "iPXE");
	assert_int_equal(e->relay, 5);
	assert_string_equal(e->iface, "br0");
	assert_int_equal(e->boot_item, 3);
	assert_string_equal(e->decision, "none");
	assert_string_equal(e->source, "class arm");
	assert_string_equal(e->profile, "p");
	assert_string_equal(e->file, "f");
	assert_int_equal(e->block, 9);
	assert_int_equal(e->retries, 4);
}

static void test_migration(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];
	sqlite3 *db;
	struct store *st;
	struct store_lease l;
	struct collected *c = calloc(1, sizeof(*c));

	snprintf(path, sizeof(path), "%s/pxed.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, schema1, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	assert_int_equal(store_open(f->dir, &st), 0);
	assert_int_equal(store_schema_version(st), 3);
	/* The old rows, with the new fields at their defaults. */
	assert_int_equal(store_event_each(st, MAC_A, 100, collect, c), 0);
	assert_int_equal(c->n, 2);
	assert_string_equal(c->ev[0].kind, "ack");
	assert_string_equal(c->ev[0].detail, "arch=bios vendor=- user=iPXE file=x reason=y");
	assert_int_equal(c->ev[0].session, 0);
	assert_false(c->ev[0].has_arch);
	assert_int_equal(c->ev[0].boot_item, -1);
	assert_string_equal(c->ev[0].decision, "");
	assert_int_equal(c->ev[1].bytes, 9);
	assert_false(c->ev[1].ok);
	assert_int_equal(store_lease_by_ip(st, 167772261, &l), 0);
	assert_string_equal(l.hostname, "old");
	/* A new event with every field, read back whole. */
	struct store_event e = full_event();
	assert_int_equal(store_event_add(st, &e), 0);
	store_close(st);

	/* Opening again changes nothing. */
	assert_int_equal(store_open(f->dir, &st), 0);
	assert_int_equal(store_schema_version(st), 3);
	struct store_event last;
	assert_int_equal(store_event_last(st, MAC_A, &last), 0);
	check_full_event(&last);
	assert_int_equal(store_event_last_dhcp(st, MAC_A, &last), 0);
	assert_string_equal(last.kind, "offer");
	assert_int_equal(store_event_last(st, MAC_B, &last), -ENOENT);
	/* The last session: the new event alone (the old rows had none). */
	c->n = 0;
	assert_int_equal(store_event_last_session(st, MAC_A, 100, 120000000, collect, c), 0);
	assert_int_equal(c->n, 1);
	store_close(st);
	free(c);
}

/*
 * The daemon and a CLI tool opening a schema-1 store at once: one migrates,
 * the other finds it done under the write lock (it used to run the ALTERs
 * again and fail on "duplicate column name").
 */
#define RACE_ROUNDS 20
#define RACE_PROCS 4

static void test_migration_race(void **state)
{
	struct fixture *f = *state;
	char dir[PATH_MAX - 16], path[PATH_MAX];
	sqlite3 *db;

	for (int round = 0; round < RACE_ROUNDS; round++) {
		int go[2], status;
		pid_t pid[RACE_PROCS];

		snprintf(dir, sizeof(dir), "%s/r%d", f->dir, round);
		assert_int_equal(mkdir(dir, 0750), 0);
		snprintf(path, sizeof(path), "%s/pxed.db", dir);
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		/* WAL, as pxed 1 left it: switching the journal mode is not what is raced here. */
		assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode=WAL;", NULL, NULL, NULL),
				 SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, schema1, NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
		assert_int_equal(pipe(go), 0);
		for (int i = 0; i < RACE_PROCS; i++) {
			pid[i] = fork();
			assert_true(pid[i] >= 0);
			if (pid[i] == 0) {
				struct store *st;
				char c;
				close(go[1]);
				(void)read(go[0], &c, 1); /* all start together: EOF */
				int rc = store_open(dir, &st);
				if (rc == 0 && store_schema_version(st) != 3)
					rc = -1;
				store_close(rc == 0 ? st : NULL);
				_exit(rc == 0 ? 0 : 1);
			}
		}
		close(go[0]);
		close(go[1]);
		for (int i = 0; i < RACE_PROCS; i++) {
			assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
			assert_true(WIFEXITED(status));
			assert_int_equal(WEXITSTATUS(status), 0);
		}
	}
}

static void test_new_store(void **state)
{
	struct fixture *f = *state;
	struct store *st;
	assert_int_equal(store_open(f->dir, &st), 0);
	assert_int_equal(store_schema_version(st), 3);
	store_close(st);
}

/* Creates dir/name with some bytes and, when age_s > 0, that old a modification time. */
static void touch(const char *dir, const char *name, int age_s)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *fp = fopen(p, "w");
	assert_non_null(fp);
	fputs("not a store's\n", fp);
	fclose(fp);
	if (age_s > 0) {
		struct timespec t[2] = {{.tv_sec = time(NULL) - age_s},
					{.tv_sec = time(NULL) - age_s}};
		assert_int_equal(utimensat(AT_FDCWD, p, t, 0), 0);
	}
}

static bool exists(const char *dir, const char *name)
{
	char p[128];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return lstat(p, &st) == 0;
}

/*
 * No pxed.db but a -wal or -shm: another store's, which SQLite would replay
 * into a new one. No store is made and the files stay; without them it is.
 */
static void test_leftover_wal_refused(void **state)
{
	struct fixture *f = *state;
	struct store *st;
	touch(f->dir, "pxed.db-wal", 0);
	touch(f->dir, "pxed.db-shm", 0);
	assert_int_equal(store_open(f->dir, &st), -EEXIST);
	assert_false(exists(f->dir, "pxed.db"));
	assert_true(exists(f->dir, "pxed.db-wal"));
	char p[128];
	snprintf(p, sizeof(p), "%s/pxed.db-wal", f->dir);
	unlink(p);
	assert_int_equal(store_open(f->dir, &st), -EEXIST); /* the -shm alone too */
	snprintf(p, sizeof(p), "%s/pxed.db-shm", f->dir);
	unlink(p);
	assert_int_equal(store_open(f->dir, &st), 0);
	store_close(st);
}

/* Temporary stores of a pxed stopped while creating one go once a minute old. */
static void test_stale_temp_stores_removed(void **state)
{
	struct fixture *f = *state;
	struct store *st;
	touch(f->dir, "pxed.db.new-1234", 120);
	touch(f->dir, "pxed.db.new-1234-wal", 120);
	touch(f->dir, "pxed.db.new-00000000deadbeef", 0); /* another process's, just made */
	assert_int_equal(store_open(f->dir, &st), 0);
	store_close(st);
	assert_false(exists(f->dir, "pxed.db.new-1234"));
	assert_false(exists(f->dir, "pxed.db.new-1234-wal"));
	assert_true(exists(f->dir, "pxed.db.new-00000000deadbeef"));
}

/*
 * Writes garbage over the first leaf page of table `name` (or its root when
 * it has no leaf), found with SQLite's dbstat table after a checkpoint.
 */
static void damage_page_of(const char *dir, const char *name)
{
	char p[128], sql[160];
	sqlite3 *db;
	sqlite3_stmt *q;
	int64_t page = 0, size = 0;
	snprintf(p, sizeof(p), "%s/pxed.db", dir);
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL),
			 SQLITE_OK);
	snprintf(sql, sizeof(sql),
		 "SELECT pageno, pgsize FROM dbstat WHERE name = '%s' "
		 "ORDER BY pagetype = 'leaf' DESC, pageno LIMIT 1",
		 name);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	page = sqlite3_column_int64(q, 0);
	size = sqlite3_column_int64(q, 1);
	sqlite3_finalize(q);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	uint8_t junk[512];
	memset(junk, 0xa5, sizeof(junk));
	int fd = open(p, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, junk, sizeof(junk), (page - 1) * size), (ssize_t)sizeof(junk));
	close(fd);
}

/*
 * Opening checks the leases table only (PRAGMA quick_check(leases)): a store
 * whose leases are damaged is refused, while a check of every event (seconds
 * at a million) is not made at each open.
 */
static void test_open_checks_the_leases_only(void **state)
{
	struct fixture *f = *state;
	struct store *st;
	struct store_lease l = {.ip = 0x0a000064u, .expires = 4102444800};
	memcpy(l.mac, MAC_A, 6);
	assert_int_equal(store_open(f->dir, &st), 0);
	assert_int_equal(store_lease_put(st, &l), 0);
	for (int i = 0; i < 3000; i++)
		add_event(st, MAC_B, 1000000 + i, "transfer");
	store_close(st);
	damage_page_of(f->dir, "events");
	assert_int_equal(store_open(f->dir, &st), 0);
	assert_int_equal(store_lease_by_ip(st, 0x0a000064u, &l), 0);
	assert_memory_equal(l.mac, MAC_A, 6);
	store_close(st);
	damage_page_of(f->dir, "leases");
	assert_int_equal(store_open(f->dir, &st), -EIO);
}

/* Rows from before sessions: the last session is cut at a pause. */
static void test_last_session_by_gap(void **state)
{
	struct fixture *f = *state;
	struct store *st;
	struct collected *c = calloc(1, sizeof(*c));
	assert_int_equal(store_open(f->dir, &st), 0);
	add_event(st, MAC_A, 1000000000, "transfer");
	add_event(st, MAC_A, 1001000000, "transfer");
	add_event(st, MAC_A, 1500000000, "transfer");
	add_event(st, MAC_A, 1501000000, "transfer");
	assert_int_equal(store_event_last_session(st, MAC_A, 100, 120000000, collect, c), 0);
	assert_int_equal(c->n, 2);
	assert_int_equal(c->ev[0].ts_us, 1500000000);
	store_close(st);
	free(c);
}

/* ---- retention ---------------------------------------------------------------------- */

static void test_retention_age_and_total(void **state)
{
	struct fixture *f = *state;
	struct store *st;
	int64_t now = now_wall_us(), day = 86400ll * 1000000;
	int n, total = 0;

	assert_int_equal(store_open(f->dir, &st), 0);
	for (int i = 0; i < 50; i++)
		add_event(st, MAC_A, now - 20 * day + i, "old");
	for (int i = 0; i < 50; i++)
		add_event(st, MAC_B, now - day + i, "new");
	struct store_retention r = {.older_than_us = now - 14 * day};
	/* Bounded: one call deletes at most its batch. */
	while ((n = store_event_prune(st, &r, 7)) > 0) {
		assert_true(n <= 7);
		total += n;
	}
	assert_int_equal(n, 0);
	assert_int_equal(total, 50);
	assert_int_equal(count_of(st, MAC_A), 0);
	assert_int_equal(count_of(st, MAC_B), 50);

	/* At most max_total rows: the newest are kept. */
	r = (struct store_retention){.max_total = 30};
	while ((n = store_event_prune(st, &r, 8)) > 0)
		assert_true(n <= 8);
	assert_int_equal(count_of(st, MAC_B), 30);
	struct store_event last;
	assert_int_equal(store_event_last(st, MAC_B, &last), 0);
	assert_int_equal(last.ts_us, now - day + 49);

	/* Never inside a batch: the lease writes must not wait for it. */
	assert_int_equal(store_batch_begin(st), 0);
	r.max_total = 1;
	assert_int_equal(store_event_prune(st, &r, 100), 0);
	assert_int_equal(store_batch_commit(st), 0);
	store_close(st);
}

/*
 * The wall clock stepped back: the oldest ids are stamped in the future.
 * They must not hold up the age retention of the rows after them.
 */
static void test_retention_age_future_rows(void **state)
{
	struct fixture *f = *state;
	struct store *st;
	int64_t now = now_wall_us(), day = 86400ll * 1000000;
	int n, total = 0;

	assert_int_equal(store_open(f->dir, &st), 0);
	for (int i = 0; i < 20; i++)
		add_event(st, MAC_B, now + day + i, "future");
	for (int i = 0; i < 30; i++)
		add_event(st, MAC_A, now - 20 * day + i, "old");
	struct store_retention r = {.older_than_us = now - 14 * day};
	while ((n = store_event_prune(st, &r, 7)) > 0) {
		assert_true(n <= 7);
		total += n;
	}
	assert_int_equal(n, 0);
	assert_int_equal(total, 30);
	assert_int_equal(count_of(st, MAC_A), 0);
	assert_int_equal(count_of(st, MAC_B), 20);
	store_close(st);
}

static void test_retention_per_machine(void **state)
{
	struct fixture *f = *state;
	struct store *st;
	int n;

	assert_int_equal(store_open(f->dir, &st), 0);
	for (int i = 0; i < 120; i++)
		add_event(st, MAC_A, 1000 + i, "a");
	for (int i = 0; i < 10; i++)
		add_event(st, MAC_B, 5000 + i, "b");
	while ((n = store_event_prune_mac(st, MAC_A, 100, 7)) > 0)
		assert_true(n <= 7);
	assert_int_equal(n, 0);
	assert_int_equal(count_of(st, MAC_A), 100);
	assert_int_equal(count_of(st, MAC_B), 10);
	struct collected *c = calloc(1, sizeof(*c));
	assert_int_equal(store_event_each(st, MAC_A, 1000, collect, c), 0);
	assert_int_equal(c->ev[0].ts_us, 1020); /* the oldest 20 went */
	free(c);
	store_close(st);
}

/* obs's retention pass trims a machine over max_per_machine. */
static void test_obs_retention(void **state)
{
	struct fixture *f = *state;
	struct store *st;
	struct obs *o;
	struct event_base *base = event_base_new();
	struct obs_retention keep = {
	    .max_age_s = 14 * 86400, .max_per_machine = 100, .max_total = 1000000};

	assert_non_null(base);
	assert_int_equal(store_open(f->dir, &st), 0);
	assert_int_equal(obs_open(st, &o), 0);
	assert_int_equal(obs_retention_start(o, base, &keep), 0);
	for (int i = 0; i < 300; i++)
		obs_event(o, &(struct obs_event){.mac = MAC_A,
						 .proto = "tftp",
						 .kind = "transfer",
						 .detail = "x",
						 .ok = true});
	int n;
	while ((n = obs_retention_run(o)) == -EAGAIN)
		;
	assert_true(n >= 200);
	assert_int_equal(count_of(st, MAC_A), 100);
	obs_close(o);
	store_close(st);
	event_base_free(base);
}

/* ---- sessions ---------------------------------------------------------------------- */

static void dhcp_ev(struct obs *o, const uint8_t mac[6], const char *kind, bool discover, bool ipxe,
		    const char *decision)
{
	obs_event(o, &(struct obs_event){.mac = mac,
					 .proto = "dhcp",
					 .kind = kind,
					 .detail = "d",
					 .ok = true,
					 .discover = discover,
					 .ipxe = ipxe,
					 .user_class = ipxe ? "iPXE" : NULL,
					 .decision = decision});
}

static void xfer_ev(struct obs *o, const uint8_t mac[6], const char *kind, const char *file)
{
	obs_event(o, &(struct obs_event){.mac = mac,
					 .proto = "tftp",
					 .kind = kind,
					 .detail = file,
					 .file = file,
					 .ok = strcmp(kind, "transfer") == 0});
}

static void sessions_of(struct store *st, const uint8_t mac[6], uint64_t *out, size_t *n)
{
	struct collected *c = calloc(1, sizeof(*c));
	assert_int_equal(store_event_each(st, mac, 1000, collect, c), 0);
	for (size_t i = 0; i < c->n; i++)
		out[i] = c->ev[i].session;
	*n = c->n;
	free(c);
}

static void test_sessions(void **state)
{
	struct fixture *f = *state;
	struct store *st;
	struct obs *o;
	uint64_t s[64];
	size_t n;

	assert_int_equal(store_open(f->dir, &st), 0);
	assert_int_equal(obs_open(st, &o), 0);
	dhcp_ev(o, MAC_A, "offer", true, false, "snponly.efi");	   /* 0: the firmware */
	dhcp_ev(o, MAC_A, "offer", true, false, "snponly.efi");	   /* 1: its retransmission */
	dhcp_ev(o, MAC_A, "ack", false, false, "snponly.efi");	   /* 2 */
	xfer_ev(o, MAC_A, "transfer", "snponly.efi");		   /* 3 */
	dhcp_ev(o, MAC_A, "offer", true, true, "http://x/s.ipxe"); /* 4: the iPXE it loaded */
	dhcp_ev(o, MAC_A, "ack", false, true, "http://x/s.ipxe");  /* 5 */
	xfer_ev(o, MAC_A, "transfer", "kernel");		   /* 6 */
	dhcp_ev(o, MAC_A, "offer", true, false, NULL);		   /* 7: the OS: no boot */
	dhcp_ev(o, MAC_A, "offer", true, false, "snponly.efi");	   /* 8: the firmware again */
	dhcp_ev(o, MAC_A, "offer", true, false, "snponly.efi");	   /* 9 */
	dhcp_ev(o, MAC_B, "offer", true, true, "http://x/b.ipxe"); /* B 0: iPXE as firmware */
	dhcp_ev(o, MAC_B, "ack", false, true, "http://x/b.ipxe");  /* B 1 */
	xfer_ev(o, MAC_B, "transfer", "script");		   /* B 2 */
	dhcp_ev(o, MAC_B, "offer", true, true, "http://x/b.ipxe"); /* B 3: its reboot */
	sessions_of(st, MAC_A, s, &n);
	assert_int_equal(n, 10);
	for (size_t i = 0; i < 10; i++)
		assert_true(s[i] != 0);
	for (size_t i = 1; i <= 7; i++)
		assert_true(s[i] == s[0]);
	assert_true(s[8] > s[0]);
	assert_true(s[9] == s[8]);
	sessions_of(st, MAC_B, s, &n);
	assert_int_equal(n, 4);
	assert_true(s[1] == s[0] && s[2] == s[0]);
	assert_true(s[3] > s[0]);
	assert_true(s[3] != 0);
	obs_close(o);

	/* A restarted daemon finds the session in the store; a DISCOVER then starts anew. */
	struct store_event last;
	assert_int_equal(store_event_last(st, MAC_A, &last), 0);
	assert_int_equal(obs_open(st, &o), 0);
	xfer_ev(o, MAC_A, "transfer", "late");
	dhcp_ev(o, MAC_A, "offer", true, false, "snponly.efi");
	sessions_of(st, MAC_A, s, &n);
	assert_int_equal(n, 12);
	assert_true(s[10] == last.session);
	assert_true(s[11] > last.session);
	obs_close(o);
	store_close(st);
}

/* One event of mac with a session id, stamped ts_us; a boot decision when dec is not NULL. */
static void add_session_event(struct store *st, const uint8_t mac[6], int64_t ts_us,
			      uint64_t session, const char *proto, const char *kind,
			      const char *dec)
{
	struct store_event e = {
	    .ts_us = ts_us, .has_mac = true, .ok = true, .boot_item = -1, .session = session};
	memcpy(e.mac, mac, 6);
	snprintf(e.proto, sizeof(e.proto), "%s", proto);
	snprintf(e.kind, sizeof(e.kind), "%s", kind);
	snprintf(e.detail, sizeof(e.detail), "%s", kind);
	snprintf(e.decision, sizeof(e.decision), "%s", dec != NULL ? dec : "");
	assert_int_equal(store_event_add(st, &e), 0);
}

/*
 * A machine that booted, then renews its lease from the OS after a long
 * silence: the renewal joins the boot's session (no new session), and a
 * firmware DISCOVER after the gap still starts one.
 */
static void test_renewal_after_gap(void **state)
{
	struct fixture *f = *state;
	struct store *st;
	struct obs *o;
	uint64_t s[16];
	size_t n;
	int64_t t0 = now_wall_us() - 3600ll * 1000000; /* booted an hour ago */

	assert_int_equal(store_open(f->dir, &st), 0);
	add_session_event(st, MAC_A, t0, (uint64_t)t0, "dhcp", "offer", "snponly.efi");
	add_session_event(st, MAC_A, t0 + 1000, (uint64_t)t0, "dhcp", "ack", "snponly.efi");
	add_session_event(st, MAC_A, t0 + 2000, (uint64_t)t0, "tftp", "transfer", NULL);
	assert_int_equal(obs_open(st, &o), 0);
	dhcp_ev(o, MAC_A, "request", false, false, NULL); /* the OS renews */
	dhcp_ev(o, MAC_A, "ack", false, false, NULL);
	sessions_of(st, MAC_A, s, &n);
	assert_int_equal(n, 5);
	assert_true(s[3] == (uint64_t)t0 && s[4] == (uint64_t)t0);
	obs_close(o);

	/* A boot client after the gap starts a new session. */
	assert_int_equal(obs_open(st, &o), 0);
	dhcp_ev(o, MAC_A, "offer", true, false, "snponly.efi"); /* the firmware again */
	sessions_of(st, MAC_A, s, &n);
	assert_int_equal(n, 6);
	assert_true(s[5] > (uint64_t)t0);
	obs_close(o);
	store_close(st);
}

/* Stores written before the fix: the newest session has no boot in it, the one before has. */
static void test_last_session_skips_renewals(void **state)
{
	struct fixture *f = *state;
	struct store *st;
	struct collected *c = calloc(1, sizeof(*c));
	int64_t t0 = 1700000000000000ll, t1 = t0 + 7200ll * 1000000;

	assert_int_equal(store_open(f->dir, &st), 0);
	add_session_event(st, MAC_A, t0, (uint64_t)t0, "dhcp", "offer", "snponly.efi");
	add_session_event(st, MAC_A, t0 + 1000, (uint64_t)t0, "tftp", "transfer", NULL);
	add_session_event(st, MAC_A, t1, (uint64_t)t1, "dhcp", "request", NULL);
	add_session_event(st, MAC_A, t1 + 1000, (uint64_t)t1, "dhcp", "ack", NULL);
	assert_int_equal(store_event_last_session(st, MAC_A, 100, 120000000, collect, c), 0);
	assert_int_equal(c->n, 2);
	assert_true(c->ev[0].session == (uint64_t)t0 && c->ev[1].session == (uint64_t)t0);
	/* A machine that never network-booted: its newest session all the same. */
	c->n = 0;
	add_session_event(st, MAC_B, t1, (uint64_t)t1, "dhcp", "ack", NULL);
	assert_int_equal(store_event_last_session(st, MAC_B, 100, 120000000, collect, c), 0);
	assert_int_equal(c->n, 1);
	store_close(st);
	free(c);
}

/* pxelinux's probes: once per path, at most OBS_REFUSED_MAX per session. */
static void test_refusals(void **state)
{
	struct fixture *f = *state;
	struct store *st;
	struct obs *o;
	char name[32];
	struct collected *c = calloc(1, sizeof(*c));

	assert_int_equal(store_open(f->dir, &st), 0);
	assert_int_equal(obs_open(st, &o), 0);
	dhcp_ev(o, MAC_A, "offer", true, false, "pxelinux.0");
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < 30; i++) {
			snprintf(name, sizeof(name), "pxelinux.cfg/%d", i);
			xfer_ev(o, MAC_A, "refused", name);
		}
	/* Unknown to DHCP and to the kernel's neighbours: logged, not stored. */
	obs_event(
	    o,
	    &(struct obs_event){
		.ip = 0xc0000263, .proto = "tftp", .kind = "refused", .detail = "x", .file = "x"});
	assert_int_equal(store_event_each(st, MAC_A, 1000, collect, c), 0);
	assert_int_equal(c->n, 1 + OBS_REFUSED_MAX);
	assert_string_equal(c->ev[1].file, "pxelinux.cfg/0");
	assert_string_equal(c->ev[OBS_REFUSED_MAX].file, "pxelinux.cfg/19");
	/* A new session may record its own. */
	dhcp_ev(o, MAC_A, "ack", false, false, "pxelinux.0");
	xfer_ev(o, MAC_A, "transfer", "pxelinux.0");
	dhcp_ev(o, MAC_A, "offer", true, false, "pxelinux.0");
	xfer_ev(o, MAC_A, "refused", "pxelinux.cfg/0");
	c->n = 0;
	assert_int_equal(store_event_each(st, MAC_A, 1000, collect, c), 0);
	assert_int_equal(c->n, 1 + OBS_REFUSED_MAX + 4);
	assert_true(c->ev[c->n - 1].session != c->ev[0].session);
	obs_close(o);
	store_close(st);
	free(c);
}

struct inv_seen {
	char lines[8][160];
	size_t n;
};

static int inv_collect(const char *kind, const char *name, const char *body, int64_t updated,
		       void *arg)
{
	struct inv_seen *s = arg;
	if (s->n < 8)
		snprintf(s->lines[s->n++], sizeof(s->lines[0]), "%s %s %s%s", kind, name, body,
			 updated > 0 ? "" : " (no time)");
	return 0;
}

/* The inventory the API put: added, replaced, deleted, listed profiles first; it persists. */
static void test_inventory_entries(void **state)
{
	struct fixture *f = *state;
	struct store *st;
	struct inv_seen seen = {0};

	assert_int_equal(store_open(f->dir, &st), 0);
	assert_int_equal(store_inventory_put(st, "host", "52:54:00:00:00:02", "{\"name\": \"a\"}"), 0);
	assert_int_equal(store_inventory_put(st, "profile", "rescue", "{\"kernel\": \"/k\"}"), 0);
	assert_int_equal(store_inventory_put(st, "host", "52:54:00:00:00:01", "{}"), 0);
	assert_int_equal(store_inventory_put(st, "host", "52:54:00:00:00:02", "{\"name\": \"b\"}"), 0);
	assert_int_equal(store_inventory_delete(st, "host", "52:54:00:00:00:01"), 0);
	assert_int_equal(store_inventory_delete(st, "host", "52:54:00:00:00:01"), -ENOENT);
	assert_int_equal(store_inventory_delete(st, "profile", "52:54:00:00:00:02"), -ENOENT);
	store_close(st);

	assert_int_equal(store_open(f->dir, &st), 0);
	assert_int_equal(store_inventory_each(st, inv_collect, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.lines[0], "profile rescue {\"kernel\": \"/k\"}");
	assert_string_equal(seen.lines[1], "host 52:54:00:00:00:02 {\"name\": \"b\"}");
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_migration, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migration_race, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_new_store, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_leftover_wal_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stale_temp_stores_removed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_checks_the_leases_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_last_session_by_gap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retention_age_and_total, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retention_age_future_rows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retention_per_machine, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_obs_retention, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_inventory_entries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_renewal_after_gap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_last_session_skips_renewals, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
