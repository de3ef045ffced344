/*
 * `pxed explain`: synthetic boot sessions -> the diagnosis, one table row
 * per way a boot can end (explain.h's verdicts), then the plan decided
 * again with a config, the steps' cap, and the JSON form.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conf/config.h"
#include "obs/explain.h"
#include "store/store.h"

#define T0 1700000000000000ll
#define MS(ms) (T0 + (ms)*1000ll)
#define IP_C 0x0a000065u /* 10.0.0.101 */
#define IP_OTHER 0x0a000002u

static const uint8_t MAC[6] = {0x52, 0x54, 0x00, 0xaa, 0x00, 0x01};

#define VC_BIOS "PXEClient:Arch:00000:UNDI:002001"
#define VC_EFI "PXEClient:Arch:00007:UNDI:003000"

/* A DHCP event with pxed's decision (uc "iPXE" for iPXE). */
#define DHCP(ms, pr, k, uc, a, vc, dec, why)                                                       \
	{                                                                                          \
		.ts_us = MS(ms), .has_mac = true, .ip = IP_C, .proto = pr, .kind = k,              \
		.detail = "arch=- reason=" why, .ok = true, .session = T0, .has_arch = true,       \
		.arch = a, .vendor = vc, .user_class = uc, .iface = "br0", .boot_item = -1,        \
		.decision = dec, .source = "default_profile", .profile = "p"                       \
	}
/* A DHCP event of a client that is not booting (an OS). */
#define PLAIN(ms, k)                                                                               \
	{                                                                                          \
		.ts_us = MS(ms), .has_mac = true, .ip = IP_C, .proto = "dhcp", .kind = k,          \
		.detail = "arch=- vendor=- user=-", .ok = true, .session = T0, .boot_item = -1     \
	}
#define XFER(ms, pr, detail_, file_, n)                                                            \
	{                                                                                          \
		.ts_us = MS(ms), .has_mac = true, .ip = IP_C, .proto = pr, .kind = "transfer",     \
		.detail = detail_, .file = file_, .bytes = n, .duration_us = 100000, .ok = true,   \
		.session = T0, .boot_item = -1                                                     \
	}
#define FAIL(ms, detail_, file_, n, blk, tries, exp)                                               \
	{                                                                                          \
		.ts_us = MS(ms), .has_mac = true, .ip = IP_C, .proto = "tftp", .kind = "transfer", \
		.detail = detail_, .file = file_, .bytes = n, .duration_us = 30000000,             \
		.ok = false, .expected = exp, .session = T0, .boot_item = -1, .block = blk,        \
		.retries = tries                                                                   \
	}
#define REFUSED(ms, pr, file_, detail_)                                                            \
	{                                                                                          \
		.ts_us = MS(ms), .has_mac = true, .ip = IP_C, .proto = pr, .kind = "refused",      \
		.detail = detail_, .file = file_, .session = T0, .boot_item = -1                   \
	}
#define CHOSE(ms, sid)                                                                             \
	{                                                                                          \
		.ts_us = MS(ms), .has_mac = true, .ip = sid, .proto = "dhcp",                      \
		.kind = "chose-other", .detail = "took the offer of server 10.0.0.2",              \
		.session = T0, .has_arch = true, .user_class = "iPXE", .boot_item = -1             \
	}

#define SCRIPT_URL "http://10.0.0.1/boot/52-54-00-aa-00-01.ipxe"

/* A REQUEST whose ACK pxed withheld (dhcp/server.c): the lease could not be stored. */
#define WITHHELD_WHY "ACK withheld: the lease could not be stored (see the log)"
#define WITHHELD(ms, vc, dec)                                                                      \
	{                                                                                          \
		.ts_us = MS(ms), .has_mac = true, .ip = IP_C, .proto = "dhcp", .kind = "request",  \
		.detail = "arch=efi-x64 vendor=" vc " user=- reason=" WITHHELD_WHY, .ok = false,   \
		.session = T0, .has_arch = true, .arch = 7, .vendor = vc, .iface = "br0",          \
		.boot_item = -1, .decision = dec, .source = "default_profile", .profile = "p"      \
	}
#define PLAIN_WITHHELD(ms)                                                                         \
	{                                                                                          \
		.ts_us = MS(ms), .has_mac = true, .ip = IP_C, .proto = "dhcp", .kind = "request",  \
		.detail = "arch=- vendor=- user=- reason=" WITHHELD_WHY, .ok = false,              \
		.session = T0, .boot_item = -1                                                     \
	}

/* The firmware of a UEFI machine to its iPXE's DHCP, the way every EDK2 boot starts. */
#define UEFI_TO_IPXE                                                                               \
	DHCP(0, "dhcp", "offer", "", 7, VC_EFI, "snponly.efi", "default profile: snponly.efi"),    \
	    DHCP(900, "dhcp", "ack", "", 7, VC_EFI, "snponly.efi",                                 \
		 "default profile: snponly.efi"),                                                  \
	    FAIL(1000,                                                                             \
		 "nbp snponly.efi size=173792 blksize=1468 windowsize=4: client error 8 "          \
		 "\"User aborted the transfer\"",                                                  \
		 "snponly.efi", 0, 1, 0, true),                                                    \
	    XFER(1100, "tftp", "nbp snponly.efi size=173792 blksize=1468 windowsize=4",            \
		 "snponly.efi", 173792),                                                           \
	    DHCP(3000, "dhcp", "offer", "iPXE", 7, VC_EFI, SCRIPT_URL, "iPXE client: script"),     \
	    DHCP(3100, "dhcp", "ack", "iPXE", 7, VC_EFI, SCRIPT_URL, "iPXE client: script")

#define SCRIPT XFER(4000, "http", "script /boot/52-54-00-aa-00-01.ipxe", "", 235)
#define KERNEL XFER(4100, "http", "kernel /files/p/kernel", "", 14000000)
#define INITRD0 XFER(5000, "http", "initrd /files/p/initrd0", "", 1000000)

struct explain_case {
	const char *name;
	struct store_event ev[16];
	size_t n;
	enum explain_verdict want;
	const char *cause[3]; /* substrings of the cause */
	const char *stopped;  /* substring of "stopped" */
	int64_t now_ms;	      /* 0: a minute after the last event */
	bool with_conf;
};

static const struct explain_case cases[] = {
    {.name = "never seen",
     .n = 0,
     .want = EXPLAIN_NEVER_SEEN,
     .cause = {"never heard from 52:54:00:aa:00:01", "relay"},
     .stopped = "never seen"},
    {.name = "an OS asking for an address: its renewal joins the last boot",
     .ev = {UEFI_TO_IPXE, SCRIPT, KERNEL, INITRD0, PLAIN(3600000, "request"),
	    PLAIN(3600100, "ack")},
     .n = 11,
     .want = EXPLAIN_DONE,
     .cause = {"Done: pxed's part is done"}},
    {.name = "a machine that never network-booted",
     .ev = {PLAIN(0, "offer"), PLAIN(100, "ack")},
     .n = 2,
     .want = EXPLAIN_NOT_BOOT_CLIENT,
     .cause = {"never as a network-boot client", "Enable network boot"}},
    {.name = "took another server's offer",
     .ev = {DHCP(0, "dhcp", "offer", "iPXE", 0, VC_BIOS, SCRIPT_URL, "iPXE client: script"),
	    CHOSE(900, IP_OTHER)},
     .n = 2,
     .want = EXPLAIN_OTHER_SERVER,
     .cause = {"took another server's offer", "DHCP server 10.0.0.2", "dhcp.mode: proxy"},
     .stopped = "took 10.0.0.2's offer"},
    {.name = "iPXE (after the NBP) took another server's offer",
     .ev = {DHCP(0, "dhcp", "ack", "", 7, VC_EFI, "snponly.efi", "x"),
	    XFER(100, "tftp", "nbp snponly.efi size=1 blksize=1468 windowsize=4", "snponly.efi", 1),
	    DHCP(2000, "dhcp", "offer", "iPXE", 7, VC_EFI, SCRIPT_URL, "iPXE client: script"),
	    CHOSE(2500, IP_OTHER)},
     .n = 4,
     .want = EXPLAIN_OTHER_SERVER,
     .cause = {"DHCP server 10.0.0.2"}},
    {.name = "offered, never requested, no server named",
     .ev = {DHCP(0, "dhcp", "offer", "", 7, VC_EFI, "snponly.efi", "x"),
	    DHCP(4000, "dhcp", "offer", "", 7, VC_EFI, "snponly.efi", "x")},
     .n = 2,
     .want = EXPLAIN_OFFER_IGNORED,
     .cause = {"never asked for it", "second DHCP server"}},
    {.name = "the ACK withheld: the lease could not be stored",
     .ev = {DHCP(0, "dhcp", "offer", "", 7, VC_EFI, "snponly.efi", "default profile: snponly.efi"),
	    WITHHELD(900, VC_EFI, "snponly.efi"), WITHHELD(4900, VC_EFI, "snponly.efi")},
     .n = 3,
     .want = EXPLAIN_NOT_STORED,
     .cause = {"could not write the lease", "full disk", "did not send the ACK"},
     .stopped = "the ACK for 10.0.0.101 was withheld"},
    {.name = "an OS's ACK withheld: not a boot client, but the store is the stop",
     .ev = {PLAIN(0, "offer"), PLAIN_WITHHELD(100)},
     .n = 2,
     .want = EXPLAIN_NOT_STORED,
     .cause = {"could not write the lease"}},
    {.name = "withheld, then ACKed on the retry: the store is no longer the stop",
     .ev = {DHCP(0, "dhcp", "offer", "", 7, VC_EFI, "snponly.efi", "x"),
	    WITHHELD(900, VC_EFI, "snponly.efi"),
	    DHCP(4900, "dhcp", "ack", "", 7, VC_EFI, "snponly.efi", "x")},
     .n = 3,
     .want = EXPLAIN_NOT_FETCHED},
    {.name = "no program for the architecture",
     .ev = {DHCP(0, "dhcp", "offer", "", 11, "PXEClient:Arch:00011:UNDI:003000", "none",
		 "default profile: no boot program for architecture 11 (efi-arm64)")},
     .n = 1,
     .want = EXPLAIN_NO_PLAN,
     .cause = {"the firmware is efi-arm64 (option 93 = 11), but profile p has no program for "
	       "efi-arm64",
	       "programs: {efi-arm64: FILE}"},
     .stopped = "no boot file"},
    {.name = "no program for the architecture an override gave",
     .ev = {DHCP(0, "dhcp", "offer", "", 7, VC_EFI, "none",
		 "host b: no boot program for architecture 11 (efi-arm64) [arch 11 by override]")},
     .n = 1,
     .want = EXPLAIN_NO_PLAN,
     .cause = {"the firmware is efi-x64 (option 93 = 7), taken as efi-arm64 by arch_overrides",
	       "profile p has no program for efi-arm64"}},
    {.name = "unknown machine, no default profile",
     .ev = {DHCP(0, "proxy", "discover", "", 0, VC_BIOS, "none",
		 "unknown machine and no default profile")},
     .n = 1,
     .want = EXPLAIN_NO_PLAN,
     .cause = {"is not in hosts", "set default_profile"}},
    {.name = "unknown machine on a subnet that ignores them",
     .ev = {DHCP(0, "dhcp", "discover", "", 0, VC_BIOS, "none",
		 "ignored: unknown machine on 10.0.0.0/24 (unknown: ignore)")},
     .n = 1,
     .want = EXPLAIN_IGNORED,
     .cause = {"ignored the machine on purpose", "unknown: ignore", "Give it a host entry"},
     .stopped = "ignored: unknown machine on 10.0.0.0/24 (unknown: ignore)"},
    {.name = "unknown machine registered as discovered",
     .ev = {DHCP(0, "dhcp", "ack", "", 0, VC_BIOS, "none",
		 "registered as discovered: unknown machine on 10.0.0.0/24 (unknown: discover)")},
     .n = 1,
     .want = EXPLAIN_NO_PLAN,
     .cause = {"/api/v1/discovered", "until it is given a host entry with a profile"}},
    {.name = "a PXE menu whose default is the disk",
     .ev = {DHCP(0, "proxy", "offer", "", 0, VC_BIOS, "menu", "PXE menu of 2 items")},
     .n = 1,
     .want = EXPLAIN_MENU_LOCAL,
     .cause = {"local disk"}},
    {.name = "the program is missing under the root",
     .ev = {DHCP(0, "dhcp", "ack", "iPXE", 0, VC_BIOS, "missing.0", "host a: missing.0"),
	    REFUSED(500, "tftp", "missing.0", "missing.0: file not found under /srv/tftp")},
     .n = 2,
     .want = EXPLAIN_FILE_MISSING,
     .cause = {"The file is missing", "missing.0 over tftp",
	       "under the root /srv/tftp (tftp.root)"},
     .stopped = "missing.0 was refused"},
    {.name = "missing, and no root at all",
     .ev = {DHCP(0, "dhcp", "ack", "iPXE", 0, VC_BIOS, "missing.0", "host a: missing.0"),
	    REFUSED(500, "tftp", "missing.0", "missing.0: file not found, no tftp.root")},
     .n = 2,
     .want = EXPLAIN_FILE_MISSING,
     .cause = {"no tftp.root to look under"}},
    {.name = "a file the kernel line names, missing over HTTP",
     .ev = {UEFI_TO_IPXE, SCRIPT,
	    REFUSED(4100, "http", "files/p/kernel",
		    "/files/p/kernel: 404 Not Found under /srv/www")},
     .n = 8,
     .want = EXPLAIN_FILE_MISSING,
     .cause = {"files/p/kernel over http", "/srv/www (http.root)"}},
    {.name = "pxelinux's probes are not the stop: it booted",
     .ev = {DHCP(0, "dhcp", "ack", "iPXE", 0, VC_BIOS, "pxelinux.0", "pxelinux.0"),
	    XFER(100, "tftp", "nbp pxelinux.0 size=42000 blksize=1432 windowsize=1", "pxelinux.0",
		 42000),
	    XFER(300, "tftp", "nbp ldlinux.c32 size=1 blksize=1432 windowsize=1", "ldlinux.c32", 1),
	    REFUSED(400, "tftp", "pxelinux.cfg/c2d13b8a", "pxelinux.cfg/c2d13b8a: file not found"),
	    XFER(500, "tftp", "config pxelinux.cfg/01-52-54-00-aa-00-01", "", 300),
	    XFER(600, "tftp", "kernel files/p/kernel", "", 1000),
	    XFER(900, "tftp", "initrd files/p/initrd0", "", 1000)},
     .n = 7,
     .want = EXPLAIN_DONE,
     .cause = {"pxed's part is done", "1 initrd."}},
    {.name = "iPXE's autoexec.ipxe probe is not the stop",
     .ev = {DHCP(0, "dhcp", "ack", "", 7, VC_EFI, "snponly.efi", "x"),
	    XFER(100, "tftp", "nbp snponly.efi size=1 blksize=1468 windowsize=4", "snponly.efi", 1),
	    REFUSED(900, "tftp", "autoexec.ipxe", "autoexec.ipxe: file not found"),
	    DHCP(2000, "dhcp", "ack", "iPXE", 7, VC_EFI, SCRIPT_URL, "script"), SCRIPT},
     .n = 5,
     .want = EXPLAIN_NO_KERNEL},
    {.name = "an installed host is told to boot its local disk",
     .ev = {DHCP(0, "dhcp", "ack", "iPXE", 0, VC_BIOS, SCRIPT_URL,
		 "host n: installed: boots from its local disk (" SCRIPT_URL " tells it to)"),
	    SCRIPT},
     .n = 2,
     .want = EXPLAIN_LOCAL_BOOT,
     .cause = {"the host is installed", "POST /api/v1/hosts/MAC/install"},
     .stopped = "told to boot from its local disk"},
    {.name = "the transfer died after retries",
     .ev = {DHCP(0, "dhcp", "ack", "iPXE", 0, VC_BIOS, "pxelinux.0", "pxelinux.0"),
	    FAIL(100, "nbp pxelinux.0 size=42000 blksize=1432 windowsize=1: timed out",
		 "pxelinux.0", 14320, 11, 5, false)},
     .n = 2,
     .want = EXPLAIN_TRANSFER_DIED,
     .cause = {"died at block 11 of 30 after 5 retries (timed out)", "MTU or blksize",
	       "blksize=1432, windowsize=1"},
     .stopped = "transfer of pxelinux.0, block 11 of 30"},
    {.name = "an HTTP transfer died",
     .ev = {UEFI_TO_IPXE,
	    SCRIPT,
	    {.ts_us = MS(4100),
	     .has_mac = true,
	     .ip = IP_C,
	     .proto = "http",
	     .kind = "transfer",
	     .detail = "kernel /files/p/kernel: the connection closed before the end",
	     .file = "files/p/kernel",
	     .bytes = 3000000,
	     .duration_us = 2000000,
	     .session = T0,
	     .boot_item = -1}},
     .n = 8,
     .want = EXPLAIN_TRANSFER_DIED,
     .cause = {"the connection closed after 3000000 bytes", "a proxy", "rebooting"},
     .stopped = "after 3000000 bytes"},
    {.name = "the client gave up in the middle",
     .ev = {DHCP(0, "dhcp", "ack", "iPXE", 0, VC_BIOS, "pxelinux.0", "pxelinux.0"),
	    FAIL(100,
		 "nbp pxelinux.0 size=42000 blksize=1432 windowsize=1: client error 0 \"timeout\"",
		 "pxelinux.0", 7160, 6, 2, true)},
     .n = 2,
     .want = EXPLAIN_TRANSFER_DIED,
     .cause = {"died at block 6 of 30 after 2 retries (client error 0"}},
    {.name = "EDK2's size probe is no failure: the NBP never came back",
     .ev = {DHCP(0, "dhcp", "offer", "", 7, VC_EFI, "snponly.efi", "x"),
	    DHCP(900, "dhcp", "ack", "", 7, VC_EFI, "snponly.efi", "x"),
	    FAIL(1000, "nbp snponly.efi size=173792 blksize=1468 windowsize=4: client error 8",
		 "snponly.efi", 0, 1, 0, true),
	    XFER(1100, "tftp", "nbp snponly.efi size=173792 blksize=1468 windowsize=4",
		 "snponly.efi", 173792)},
     .n = 4,
     .want = EXPLAIN_NBP_NO_RETURN,
     .cause = {"fetched its boot program snponly.efi (173792 bytes)", "wrong binary",
	       "Secure Boot"},
     .stopped = "after the boot program snponly.efi"},
    {.name = "a UEFI program for a BIOS machine",
     .ev = {DHCP(0, "dhcp", "ack", "", 0, "PXEClient:Arch:00000:UNDI:002001", "grubx64.efi", "x"),
	    XFER(100, "tftp", "file grubx64.efi size=1 blksize=1432 windowsize=1", "grubx64.efi",
		 1)},
     .n = 2,
     .want = EXPLAIN_NBP_NO_RETURN,
     .cause = {"grubx64.efi is a UEFI program but the machine said it is BIOS"}},
    {.name = "a BIOS program for a UEFI machine",
     .ev = {DHCP(0, "dhcp", "ack", "", 7, VC_EFI, "pxelinux.0", "x"),
	    XFER(100, "tftp", "file pxelinux.0 size=1 blksize=1468 windowsize=4", "pxelinux.0", 1)},
     .n = 2,
     .want = EXPLAIN_NBP_NO_RETURN,
     .cause = {"pxelinux.0 is a BIOS program but the machine said it is efi-x64"}},
    {.name = "iPXE came back but never fetched its script",
     .ev = {UEFI_TO_IPXE},
     .n = 6,
     .want = EXPLAIN_NOT_FETCHED,
     .cause = {"told the iPXE client to boot " SCRIPT_URL, "HTTP server", "http.port"}},
    {.name = "proxyDHCP offer, never fetched",
     .ev = {DHCP(0, "proxy", "offer", "", 7, VC_EFI, "snponly.efi", "x")},
     .n = 1,
     .want = EXPLAIN_NOT_FETCHED,
     .cause = {"told the firmware to boot snponly.efi", "TFTP server on UDP 69"}},
    {.name = "script, no kernel",
     .ev = {UEFI_TO_IPXE, SCRIPT},
     .n = 7,
     .want = EXPLAIN_NO_KERNEL,
     .cause = {"iPXE got its script boot/52-54-00-aa-00-01.ipxe but never fetched the kernel"},
     .stopped = "after the script"},
    {.name = "a loader's configuration, no kernel",
     .ev = {DHCP(0, "dhcp", "ack", "", 7, VC_EFI, "grubnetx64.efi", "x"),
	    XFER(100, "tftp", "nbp grubnetx64.efi size=1 blksize=1468 windowsize=4",
		 "grubnetx64.efi", 1),
	    XFER(300, "tftp", "config grub/grub.cfg-01-52-54-00-aa-00-01", "", 100)},
     .n = 3,
     .want = EXPLAIN_NO_KERNEL,
     .cause = {"boot loader got its configuration"}},
    {.name = "kernel, but one initrd of two",
     .ev = {UEFI_TO_IPXE, SCRIPT, KERNEL, INITRD0},
     .n = 9,
     .with_conf = true,
     .want = EXPLAIN_NO_INITRD,
     .cause = {"only 1 of the profile's 2 initrds"}},
    {.name = "done",
     .ev = {UEFI_TO_IPXE, SCRIPT, KERNEL, INITRD0},
     .n = 9,
     .want = EXPLAIN_DONE,
     .cause = {"Done: pxed's part is done", "look at the machine's console"},
     .stopped = "after files/p/initrd0: the kernel and 1 initrd were delivered"},
    {.name = "done, then the OS's DHCP and a missing file of its own",
     .ev = {UEFI_TO_IPXE, SCRIPT, KERNEL, INITRD0, PLAIN(30000, "ack"),
	    REFUSED(31000, "http", "preseed.cfg", "/preseed.cfg: 404 Not Found under /srv")},
     .n = 11,
     .want = EXPLAIN_DONE},
    {.name = "a boot that may still be going",
     .ev = {UEFI_TO_IPXE, SCRIPT},
     .n = 7,
     .now_ms = 9000,
     .want = EXPLAIN_NO_KERNEL,
     .cause = {"the boot may still be going"}},
};

/* A config: profile p with two initrds and an efi-x64 program of its own. */
static struct conf *test_conf(void)
{
	struct conf *c = conf_new_defaults();
	struct conf_profile *p = &c->profiles[c->n_profiles++];
	p->name = strdup("p");
	p->kernel = strdup("/k");
	p->initrds[p->n_initrds++] = strdup("/i0");
	p->initrds[p->n_initrds++] = strdup("/i1");
	p->programs[p->n_programs].arch = 7;
	p->programs[p->n_programs++].file = strdup("grubnetx64.efi");
	c->default_profile = strdup("p");
	conf_sort_hosts(c);
	return c;
}

static void run_case(const struct explain_case *tc, struct explain_report *r)
{
	struct conf *c = tc->with_conf ? test_conf() : NULL;
	struct explain_input in = {.conf = c, .ev = tc->ev, .n = tc->n};
	memcpy(in.mac, MAC, 6);
	in.now_us = tc->now_ms != 0 ? MS(tc->now_ms)
		    : tc->n > 0	    ? tc->ev[tc->n - 1].ts_us + 60 * 1000000ll
				    : MS(0);
	explain_build(&in, r);
	conf_free(c);
}

static void test_verdicts(void **state)
{
	struct explain_report *r = malloc(sizeof(*r));
	assert_non_null(r);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct explain_case *tc = &cases[i];
		run_case(tc, r);
		if (r->verdict != tc->want) {
			explain_report_print(r, stderr);
			fail_msg("%s: verdict %s, want %s", tc->name,
				 explain_verdict_name(r->verdict), explain_verdict_name(tc->want));
		}
		for (size_t k = 0; k < 3 && tc->cause[k] != NULL; k++)
			if (strstr(r->cause, tc->cause[k]) == NULL)
				fail_msg("%s: the cause lacks \"%s\": %s", tc->name, tc->cause[k],
					 r->cause);
		if (tc->stopped != NULL && strstr(r->stopped, tc->stopped) == NULL)
			fail_msg("%s: stopped lacks \"%s\": %s", tc->name, tc->stopped, r->stopped);
		assert_true(r->stopped[0] != '\0');
		assert_true(r->cause[0] != '\0');
		/* HTTP has no blocks, retries or blksize: no TFTP diagnosis for it. */
		if (r->verdict == EXPLAIN_TRANSFER_DIED && strstr(r->stopped, "http") != NULL &&
		    (strstr(r->cause, "blksize") != NULL || strstr(r->cause, "block") != NULL))
			fail_msg("%s: a TFTP diagnosis for HTTP: %s", tc->name, r->cause);
	}
	free(r);
}

/* The facts are the firmware's, and each client's last plan is kept in order. */
static void test_facts_and_plans(void **state)
{
	struct explain_report r;
	const struct explain_case *done = NULL;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (strcmp(cases[i].name, "done") == 0)
			done = &cases[i];
	assert_non_null(done);
	run_case(done, &r);
	assert_true(r.seen);
	assert_true(r.facts.known && r.facts.has_arch);
	assert_int_equal(r.facts.arch, 7);
	assert_string_equal(r.facts.vendor, VC_EFI);
	assert_string_equal(r.facts.user_class, "");
	assert_string_equal(r.facts.iface, "br0");
	assert_int_equal(r.facts.address, IP_C);
	assert_int_equal(r.n_plans, 2);
	assert_false(r.plans[0].ipxe);
	assert_string_equal(r.plans[0].decision, "snponly.efi");
	assert_string_equal(r.plans[0].reason, "default profile: snponly.efi");
	assert_true(r.plans[1].ipxe);
	assert_string_equal(r.plans[1].decision, SCRIPT_URL);
	assert_false(r.plans[0].rerun);
	/* Steps: DHCP (firmware), nbp (the probe left out), DHCP (iPXE), script, kernel, initrd. */
	assert_int_equal(r.n_steps, 6);
	assert_string_equal(r.steps[1].step, "nbp");
	assert_string_equal(r.steps[3].step, "script");
	assert_string_equal(r.steps[5].step, "initrd");
	assert_non_null(
	    strstr(r.steps[0].text, "firmware efi-x64: offer, ack 10.0.0.101 -> snponly.efi"));
	assert_false(r.facts.address_offered);

	/* A machine that went to another server: the address is only pxed's offer. */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (strcmp(cases[i].name, "took another server's offer") == 0)
			run_case(&cases[i], &r);
	assert_int_equal(r.verdict, EXPLAIN_OTHER_SERVER);
	assert_int_equal(r.facts.address, IP_C);
	assert_true(r.facts.address_offered);

	/* A withheld ACK: the plan keeps its reason, the step says what happened. */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (strstr(cases[i].name, "the ACK withheld:") == cases[i].name)
			run_case(&cases[i], &r);
	assert_int_equal(r.verdict, EXPLAIN_NOT_STORED);
	assert_int_equal(r.n_plans, 1);
	assert_string_equal(r.plans[0].reason, "default profile: snponly.efi");
	assert_int_equal(r.n_steps, 1);
	assert_false(r.steps[0].ok);
	assert_non_null(
	    strstr(r.steps[0].text,
		   "firmware efi-x64: offer, request (ACK withheld), request 10.0.0.101 (ACK "
		   "withheld) -> snponly.efi"));
	assert_true(r.facts.address_offered); /* no ACK: the address was never the machine's */
}

/* ---- through the store, the way the CLI and the API call it -------------------- */

static const uint8_t MAC_OS[6] = {0x52, 0x54, 0x00, 0xaa, 0x00, 0x02};

static struct store *temp_store(char dir[64])
{
	struct store *st;
	snprintf(dir, 64, "/tmp/test_explain.XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(store_open(dir, &st), 0);
	return st;
}

static void temp_store_close(struct store *st, const char dir[64])
{
	char cmd[128];
	store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* Nothing stored, or no boot decision stored: nothing uninitialised is read (run it under
 * valgrind). */
static void test_store_no_decision(void **state)
{
	char dir[64];
	struct store *st = temp_store(dir);
	struct explain_report *r = malloc(sizeof(*r));
	struct store_event ev[] = {PLAIN(0, "offer"), PLAIN(100, "ack")};

	assert_non_null(r);
	assert_int_equal(explain_for(st, NULL, MAC, MS(60000), r), 0);
	assert_int_equal(r->verdict, EXPLAIN_NEVER_SEEN);
	for (size_t i = 0; i < 2; i++) {
		memcpy(ev[i].mac, MAC_OS, 6);
		assert_int_equal(store_event_add(st, &ev[i]), 0);
	}
	assert_int_equal(explain_for(st, NULL, MAC_OS, MS(60000), r), 0);
	assert_int_equal(r->verdict, EXPLAIN_NOT_BOOT_CLIENT);
	json_t *o = explain_json(st, NULL, MAC_OS);
	assert_non_null(o);
	json_decref(o);
	free(r);
	temp_store_close(st, dir);
}

/*
 * A store written before renewals joined the boot's session: the OS's
 * renewal an hour later is a session of its own. Explain skips it for the
 * boot before it.
 */
static void test_store_renewal_session(void **state)
{
	char dir[64];
	struct store *st = temp_store(dir);
	struct explain_report *r = malloc(sizeof(*r));
	struct store_event boot[] = {UEFI_TO_IPXE, SCRIPT, KERNEL, INITRD0};
	struct store_event renew[] = {PLAIN(3600000, "request"), PLAIN(3600100, "ack")};

	assert_non_null(r);
	for (size_t i = 0; i < sizeof(boot) / sizeof(boot[0]); i++) {
		memcpy(boot[i].mac, MAC, 6);
		assert_int_equal(store_event_add(st, &boot[i]), 0);
	}
	for (size_t i = 0; i < 2; i++) {
		memcpy(renew[i].mac, MAC, 6);
		renew[i].session = (uint64_t)MS(3600000);
		assert_int_equal(store_event_add(st, &renew[i]), 0);
	}
	assert_int_equal(explain_for(st, NULL, MAC, MS(3700000), r), 0);
	if (r->verdict != EXPLAIN_DONE) {
		explain_report_print(r, stderr);
		fail_msg("verdict %s, want done", explain_verdict_name(r->verdict));
	}
	assert_int_equal(r->session, (uint64_t)T0);
	free(r);
	temp_store_close(st, dir);
}

/* With a config, the decision is made again: here the profile now has a program of its own. */
static void test_rerun(void **state)
{
	const struct store_event ev[] = {
	    DHCP(0, "dhcp", "ack", "", 7, VC_EFI, "snponly.efi", "default profile: snponly.efi"),
	    DHCP(10, "dhcp", "ack", "iPXE", 7, VC_EFI, "grubnetx64.efi", "x")};
	struct conf *c = test_conf();
	struct explain_input in = {.conf = c, .ev = ev, .n = 2, .now_us = MS(60000)};
	struct explain_report r;

	memcpy(in.mac, MAC, 6);
	explain_build(&in, &r);
	assert_int_equal(r.n_plans, 2);
	assert_true(r.plans[0].rerun);
	assert_false(r.plans[0].same);
	assert_string_equal(r.plans[0].now_decision, "grubnetx64.efi");
	assert_non_null(strstr(r.plans[0].now_reason, "profile p's efi-x64 program"));
	/* iPXE gets the profile's program too (it is not an iPXE build). */
	assert_true(r.plans[1].rerun && r.plans[1].same);
	conf_free(c);
}

/* A long session keeps its first and its last steps, and says how many it left out. */
static void test_steps_cap(void **state)
{
	struct store_event *ev = calloc(200, sizeof(*ev));
	struct explain_report *r = malloc(sizeof(*r));
	assert_non_null(ev);
	assert_non_null(r);
	for (int i = 0; i < 200; i++) {
		ev[i] = (struct store_event)XFER(i * 10, "tftp", "file f size=1", "", 1);
		snprintf(ev[i].file, sizeof(ev[i].file), "f%d", i);
	}
	struct explain_input in = {.ev = ev, .n = 200, .now_us = MS(100000)};
	memcpy(in.mac, MAC, 6);
	explain_build(&in, r);
	assert_int_equal(r->n_steps, EXPLAIN_MAX_STEPS);
	assert_int_equal(r->steps_left_out, 200 - EXPLAIN_MAX_STEPS);
	assert_non_null(strstr(r->steps[0].text, "f0,"));
	assert_non_null(strstr(r->steps[EXPLAIN_MAX_STEPS - 1].text, "f199,"));
	free(ev);
	free(r);
}

static void test_json(void **state)
{
	struct explain_report r;
	const struct explain_case *tc = NULL;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (strcmp(cases[i].name, "the transfer died after retries") == 0)
			tc = &cases[i];
	assert_non_null(tc);
	run_case(tc, &r);
	json_t *o = explain_report_json(&r);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "mac")), "52:54:00:aa:00:01");
	assert_true(json_is_true(json_object_get(o, "seen")));
	json_t *d = json_object_get(o, "diagnosis");
	assert_string_equal(json_string_value(json_object_get(d, "code")), "transfer-died");
	assert_string_equal(json_string_value(json_object_get(d, "text")), r.cause);
	json_t *f = json_object_get(o, "facts");
	assert_string_equal(json_string_value(json_object_get(f, "arch_name")), "bios");
	assert_string_equal(json_string_value(json_object_get(f, "user_class")), "iPXE");
	json_t *plan = json_array_get(json_object_get(o, "plan"), 0);
	assert_string_equal(json_string_value(json_object_get(plan, "client")), "ipxe");
	assert_string_equal(json_string_value(json_object_get(plan, "decision")), "pxelinux.0");
	assert_null(json_object_get(plan, "current"));
	json_t *steps = json_object_get(o, "steps");
	assert_int_equal(json_array_size(steps), 2);
	assert_false(json_is_true(json_object_get(json_array_get(steps, 1), "ok")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(steps, 1), "step")),
			    "nbp");
	json_decref(o);

	/* Never seen: a session of null, the facts empty. */
	struct explain_input in = {.now_us = MS(0)};
	memcpy(in.mac, MAC, 6);
	explain_build(&in, &r);
	o = explain_report_json(&r);
	assert_true(json_is_null(json_object_get(o, "session")));
	assert_int_equal(json_object_size(json_object_get(o, "facts")), 0);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(o, "diagnosis"), "code")),
	    "never-seen");
	json_decref(o);
}

/* Every verdict has a code of its own. */
static void test_names(void **state)
{
	for (int i = 0; i < EXPLAIN_VERDICT_COUNT; i++) {
		assert_non_null(explain_verdict_name((enum explain_verdict)i));
		for (int k = 0; k < i; k++)
			assert_string_not_equal(explain_verdict_name((enum explain_verdict)i),
						explain_verdict_name((enum explain_verdict)k));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verdicts),
	    cmocka_unit_test(test_facts_and_plans),
	    cmocka_unit_test(test_rerun),
	    cmocka_unit_test(test_steps_cap),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_store_no_decision),
	    cmocka_unit_test(test_store_renewal_session),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
