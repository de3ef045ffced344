/*
 * libFuzzer target: the whole DHCP message handler, bytes in and reply out.
 * Each input is handled as a datagram to port 67 and again to port 4011 by a
 * server with no sockets (dhcp_server_new), a real SQLite store in a private
 * directory (tmpfs when there is one), and a config that reaches every boot
 * decision: a pool, a reservation, two profiles, a class, an architecture
 * override and a PXE menu with a local-boot item. Every reply must decode.
 *
 * Not built by meson; build and run it by hand with clang:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *     tests/fuzz/fuzz_dhcp_handler.c src/{core,conf,store,obs,boot,dhcp}/[a-z]*.c \
 *     -lsqlite3 -lyaml -ljansson -levent_core -levent_extra -o fuzz_dhcp_handler
 *   mkdir -p /tmp/dhcp-corpus
 *   ./fuzz_dhcp_handler -max_len=1500 -max_total_time=300 /tmp/dhcp-corpus \
 *     tests/fuzz/corpus/dhcp
 *
 * The seeds in tests/fuzz/corpus/dhcp are DISCOVERs and REQUESTs captured from
 * QEMU's BIOS (iPXE ROM), OVMF (EDK2) and chainloaded iPXE clients, and their
 * port-4011 boot server requests (tests/fuzz/capture-seeds.sh). The store is
 * thrown away and made again every DHCP_FUZZ_RECYCLE inputs, so that leases and
 * timeline events do not grow without bound over a long run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/config.h"
#include "core/log.h"
#include "dhcp/server.h"
#include "dhcp/wire.h"
#include "obs/obs.h"
#include "pxed.h"
#include "store/store.h"

#define FUZZ_SERVER 0x0a4d0001u /* 10.77.0.1 */
#define FUZZ_PEER 0x0a4d0032u	/* 10.77.0.50: a client with an address */
#define DHCP_FUZZ_RECYCLE 20000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_state {
	struct pxed d;
	struct conf *c;
	struct dhcp_server *s;
	char dir[64];
	unsigned long inputs;
};

static void fuzz_profile(struct conf *c, const char *name)
{
	struct conf_profile *p = &c->profiles[c->n_profiles++];
	p->name = strdup(name);
	p->kernel = strdup("/etc/hostname");
	p->cmdline = strdup("console=ttyS0");
}

static void fuzz_menu_item(struct conf_pxe_menu *m, uint16_t type, const char *label,
			   const char *profile)
{
	struct conf_menu_item *it = &m->items[m->n_items++];
	it->type = type;
	it->label = strdup(label);
	it->profile = profile != NULL ? strdup(profile) : NULL;
}

/* The config: every branch of boot_decide() is reachable from some input. */
static struct conf *fuzz_conf(void)
{
	struct conf *c = conf_new_defaults();
	/*
	 * Inputs repeat MACs and relays millions of times: per-client rate limits
	 * would drop them before the code under test. The flood's brief offers
	 * (dhcp.new_client_rate) stay on: they are code to reach.
	 */
	c->dhcp_rate_per_mac = 0;
	c->dhcp_rate_per_source = 0;
	struct conf_subnet *sn = &c->subnets[c->n_subnets++];
	sn->network = 0x0a4d0000u;
	sn->prefix_len = 24;
	sn->pool_first = 0x0a4d0064u;
	sn->pool_last = 0x0a4d00c7u;
	fuzz_profile(c, "linux");
	fuzz_profile(c, "rescue");
	c->default_profile = strdup("linux");
	c->hosts = calloc(1, sizeof(*c->hosts));
	c->n_hosts = 1;
	memcpy(c->hosts[0].mac, (const uint8_t[6]){0x52, 0x54, 0, 0x12, 0x34, 0x56}, 6);
	c->hosts[0].has_mac = true;
	c->hosts[0].address = 0x0a4d000au;
	c->hosts[0].profile = strdup("rescue");
	conf_sort_hosts(c);
	struct conf_class *cl = &c->classes[c->n_classes++];
	cl->name = strdup("arm");
	cl->match.arches[cl->match.n_arches++] = 11;
	cl->profile = strdup("rescue");
	struct conf_arch_override *o = &c->arch_overrides[c->n_arch_overrides++];
	memcpy(o->mac_prefix, (const uint8_t[3]){0xb8, 0x27, 0xeb}, 3); /* Raspberry Pi */
	o->mac_prefix_len = 3;
	o->arch = 11;
	c->pxe_menu = calloc(1, sizeof(*c->pxe_menu));
	c->pxe_menu->prompt = strdup("Press F8 for the boot menu");
	c->pxe_menu->timeout_s = 3;
	fuzz_menu_item(c->pxe_menu, 1, "Linux", "linux");
	fuzz_menu_item(c->pxe_menu, 2, "Rescue", "rescue");
	fuzz_menu_item(c->pxe_menu, 0, "Local disk", NULL);
	return c;
}

static void fuzz_open(struct fuzz_state *f)
{
	struct stat st;
	const char *base = stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp";
	snprintf(f->dir, sizeof(f->dir), "%s/fuzz-dhcp-XXXXXX", base);
	if (mkdtemp(f->dir) == NULL || store_open(f->dir, &f->d.store) < 0 ||
	    obs_open(f->d.store, &f->d.obs) < 0 || dhcp_server_new(&f->d, &f->s) < 0 ||
	    dhcp_server_add_iface(f->s, "fuzz0", 1, FUZZ_SERVER, 24) < 0) {
		fprintf(stderr, "fuzz_dhcp_handler: cannot set up in %s\n", f->dir);
		abort();
	}
}

static void fuzz_close(struct fuzz_state *f)
{
	char path[128];
	dhcp_server_stop(f->s);
	obs_close(f->d.obs);
	store_close(f->d.store);
	static const char *const files[] = {"pxed.db", "pxed.db-wal", "pxed.db-shm",
					    "pxed.db-journal"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", f->dir, files[i]);
		unlink(path);
	}
	rmdir(f->dir);
}

static struct fuzz_state fuzz;

/* libFuzzer ends with exit(): the store's directory goes with it. */
static void fuzz_at_exit(void)
{
	fuzz_close(&fuzz);
}

static struct fuzz_state *fuzz_state(void)
{
	struct fuzz_state *f = &fuzz;
	if (f->c == NULL) {
		log_setup(LOG_TEXT, LOG_ERR); /* one line per event would be the bottleneck */
		f->c = fuzz_conf();
		f->d.conf = f->c;
		fuzz_open(f);
		atexit(fuzz_at_exit);
	} else if (++f->inputs % DHCP_FUZZ_RECYCLE == 0) {
		fuzz_close(f);
		fuzz_open(f);
	}
	return f;
}

/* One datagram to one port; a reply must be a BOOTREPLY that decodes. */
static void fuzz_one(struct fuzz_state *f, const uint8_t *data, size_t size, uint16_t port)
{
	static uint8_t out[DHCP_MAX_LEN];
	static struct dhcp_msg m;
	struct dhcp_dest dest;

	int n = dhcp_server_handle(f->s, data, size, 1, port, port == 67 ? 0 : FUZZ_PEER,
				   port == 67 ? 68 : 4011, out, sizeof(out), &dest);
	if (n <= 0)
		return;
	if ((size_t)n > sizeof(out) || out[0] != DHCP_BOOTREPLY)
		abort();
	out[0] = DHCP_BOOTREQUEST; /* the decoder takes requests only */
	if (dhcp_decode(out, (size_t)n, &m) != DHCP_OK)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_state *f = fuzz_state();
	/* As the socket layer does: one store transaction per turn of the loop. */
	int batch = store_batch_begin(f->d.store);
	fuzz_one(f, data, size, 67);
	fuzz_one(f, data, size, 4011);
	if (batch == 0)
		store_batch_commit(f->d.store);
	return 0;
}
