/*
 * libFuzzer target for loading the store: the input bytes become the state
 * directory's pxed.db (no WAL beside it), then store_open() and every read
 * the daemon and the CLI make at start-up run on it: the schema version,
 * the lease load (store_lease_each, as dhcp/server.c fills its pool), the
 * declined addresses, one machine's lease and events (as `pxed explain`
 * reads them) and the machine list of the API (store/machines.c). A
 * damaged, truncated or foreign file must give an error or data, never a
 * crash, a leak or undefined behaviour; SQLite reports SQLITE_CORRUPT and
 * the store turns it into -EIO. One write (a lease) checks that a store
 * that opened can take what the DHCP server writes first.
 *
 * Not built by meson; tests/integration/fuzz-smoke.sh builds it with clang:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *     tests/fuzz/fuzz_store.c src/store/store.c src/store/machines.c \
 *     src/core/log.c src/core/util.c src/core/buf.c -lsqlite3 -o fuzz_store
 *   ./fuzz_store -max_len=65536 tests/fuzz/corpus/store
 *
 * The seeds in tests/fuzz/corpus/store are small stores (512-byte pages,
 * made with the sqlite3 shell): schema 1 as pxed 0.1 wrote it, with leases,
 * declined addresses and events; the same migrated to schema 2 by pxed; one
 * whose schema is newer than this pxed; one with no schema row; and an
 * empty file (SQLite's "new database", which store_open() initialises).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "store/machines.h"
#include "store/store.h"

/* Leases whose MACs the per-machine reads look up: the first few of the file. */
#define FUZZ_STORE_MACS 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_leases {
	uint8_t macs[FUZZ_STORE_MACS][6];
	size_t n;
};

static char fuzz_dir[64];

static const char *const fuzz_files[] = {"pxed.db", "pxed.db-wal", "pxed.db-shm",
					 "pxed.db-journal"};

static void fuzz_clean(void)
{
	char path[128];
	for (size_t i = 0; i < sizeof(fuzz_files) / sizeof(fuzz_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", fuzz_dir, fuzz_files[i]);
		unlink(path);
	}
}

static void fuzz_at_exit(void)
{
	fuzz_clean();
	rmdir(fuzz_dir);
}

/* A private directory, on tmpfs when there is one: SQLite fsyncs. */
static void fuzz_setup(void)
{
	struct stat st;
	const char *base = stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp";

	log_setup(LOG_TEXT, LOG_ERR);
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/fuzz-store-XXXXXX", base);
	if (mkdtemp(fuzz_dir) == NULL) {
		perror("fuzz_store: mkdtemp");
		abort();
	}
	atexit(fuzz_at_exit);
}

static void fuzz_write_db(const uint8_t *data, size_t size)
{
	char path[128];
	FILE *f;

	fuzz_clean();
	snprintf(path, sizeof(path), "%s/pxed.db", fuzz_dir);
	f = fopen(path, "wb");
	if (f == NULL || (size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
		perror("fuzz_store: pxed.db");
		abort();
	}
}

static int fuzz_lease(const struct store_lease *l, void *arg)
{
	struct fuzz_leases *fl = arg;

	/* The copy out of SQLite always ends the host name. */
	if (memchr(l->hostname, '\0', sizeof(l->hostname)) == NULL)
		abort();
	if (fl->n < FUZZ_STORE_MACS)
		memcpy(fl->macs[fl->n++], l->mac, 6);
	return 0;
}

static int fuzz_declined(uint32_t ip, int64_t until, void *arg)
{
	(void)ip;
	(void)until;
	(void)arg;
	return 0;
}

static int fuzz_event(const struct store_event *ev, void *arg)
{
	size_t *n = arg;

	if (memchr(ev->detail, '\0', sizeof(ev->detail)) == NULL ||
	    memchr(ev->file, '\0', sizeof(ev->file)) == NULL)
		abort();
	(*n)++;
	return 0;
}

/* What `pxed explain` and `pxed timeline` read of one machine. */
static void fuzz_machine(struct store *st, const uint8_t mac[6])
{
	struct store_lease l;
	struct store_event ev;
	size_t n = 0;

	store_lease_by_mac(st, mac, &l);
	store_event_each(st, mac, 64, fuzz_event, &n);
	store_event_last_session(st, mac, 64, 600 * 1000000LL, fuzz_event, &n);
	store_event_last(st, mac, &ev);
	store_event_last_dhcp(st, mac, &ev);
}

static void fuzz_machines(void)
{
	struct store_machines *m;
	uint8_t macs[16][6];

	if (store_machines_open(fuzz_dir, &m) < 0)
		return;
	if (store_machines_recent(m, 0, macs, 16) > 16)
		abort();
	store_machines_recent(m, 8, macs, 16);
	store_machines_close(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t probe_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	struct fuzz_leases fl = {0};
	struct store_lease put = {.ip = 0x0a4e0063u, .expires = 1 << 30};
	struct store *st;

	if (fuzz_dir[0] == '\0')
		fuzz_setup();
	fuzz_write_db(data, size);
	if (store_open(fuzz_dir, &st) < 0)
		return 0; /* refused: the daemon exits with the store's message */
	store_schema_version(st);
	store_lease_each(st, fuzz_lease, &fl);
	store_declined_each(st, fuzz_declined, NULL);
	for (size_t i = 0; i < fl.n; i++)
		fuzz_machine(st, fl.macs[i]);
	fuzz_machine(st, probe_mac);
	memcpy(put.mac, probe_mac, 6);
	store_lease_put(st, &put);
	store_close(st);
	fuzz_machines();
	return 0;
}
