/*
 * pxed: argv, subcommands, start-up and shutdown.
 */
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "boot/vfs.h"
#include "conf/config.h"
#include "core/log.h"
#include "core/priv.h"
#include "core/util.h"
#include "dhcp/server.h"
#include "dhcp/rogue.h"
#include "daemon/snapshot.h"
#include "http/admin.h"
#include "http/client.h"
#include "http/provision.h"
#include "http/server.h"
#include "obs/live.h"
#include "obs/obs.h"
#include "pxed.h"
#include "store/store.h"
#include "tftp/server.h"
#include "obs/timeline.h"
#include "obs/explain.h"

static const char usage_main[] =
    "usage: pxed COMMAND [OPTIONS]\n"
    "\n"
    "pxed network-boots machines: DHCP or proxyDHCP, the PXE boot server (4011),\n"
    "TFTP and HTTP in one daemon.\n"
    "\n"
    "commands:\n"
    "  boot      boot every PXE client on an interface into one kernel (quick start)\n"
    "  serve     run from a config file, or serve directories over TFTP and HTTP\n"
    "  check     validate a config file\n"
    "  timeline  show the boot steps pxed recorded for a machine\n"
    "  explain   why a machine booted, or where its boot stopped and why\n"
    "  leases    list the DHCP leases, or release one\n"
    "  status    what the running daemon does now: transfers, pools, machines\n"
    "  events    the running daemon's events, as they happen with --follow\n"
    "  hosts     the running daemon's hosts, from the config file and the API\n"
    "  profiles  the running daemon's profiles, from the config file and the API\n"
    "  sandbox-check  apply the daemon's sandbox and try what it allows and refuses\n"
    "  version   print the version\n"
    "\n"
    "`pxed COMMAND --help` describes each command.\n";

static const char usage_boot[] =
    "usage: pxed boot --interface IFACE (--proxy | --dhcp-range FIRST,LAST)\n"
    "                 --kernel PATH [--initrd PATH]... [--cmdline TEXT] [--state-dir DIR]\n"
    "                 [--http-port N] [--tftp-port N] [--user USER] [--log-format text|json]\n"
    "                 [--log-level error|warn|info|debug]\n"
    "\n"
    "Boots every PXE client on IFACE into KERNEL with the given initrds and command\n"
    "line: BIOS and UEFI x64 firmware get iPXE over TFTP, iPXE gets a script and\n"
    "fetches the kernel and initrds over HTTP.\n"
    "\n"
    "  --interface IFACE     the network to serve; its IPv4 address and prefix give\n"
    "                        the subnet and pxed's own address\n"
    "  --dhcp-range A,B      assign addresses A..B (inside IFACE's subnet)\n"
    "  --proxy               proxyDHCP: leave addresses to the existing DHCP server\n"
    "  --kernel PATH         the kernel to boot\n"
    "  --initrd PATH         an initrd (repeat for several, in order)\n"
    "  --cmdline TEXT        the kernel command line\n"
    "  --state-dir DIR       leases and boot timelines (default /var/lib/pxed)\n"
    "  --http-port N         HTTP port (default 80)\n"
    "  --tftp-port N         TFTP port (default 69)\n"
    "  --user USER           the user to run as once the ports are open (default\n"
    "                        pxed; root keeps root, see docs/security.md)\n"
    "  --log-format FMT      text (default) or json\n"
    "  --log-level LEVEL     error, warn, info (default) or debug (every reply's options)\n";

static const char usage_serve[] =
    "usage: pxed serve --config FILE [--state-dir DIR] [--user USER]\n"
    "                  [--log-format text|json] [--log-level error|warn|info|debug]\n"
    "       pxed serve --listen ADDR [--tftp-root DIR] [--tftp-port N]\n"
    "                  [--http-root DIR] [--http-port N] [--no-dhcp] [--state-dir DIR]\n"
    "                  [--user USER]\n"
    "\n"
    "With --config, runs everything the file describes (see docs/config.md).\n"
    "SIGHUP reads the file again: one that fails `pxed check`, or changes what only\n"
    "a restart applies, is refused and the running configuration stays. With\n"
    "api.token_file, hosts and profiles change at run time through the inventory\n"
    "API (docs/api.md) and persist in the state directory.\n"
    "With --listen, serves the directories over TFTP and HTTP on ADDR, without DHCP\n"
    "(--no-dhcp is implied and accepted for clarity). Built-in boot programs\n"
    "(undionly.kpxe, snponly.efi, ipxe.efi, pxelinux.0, ldlinux.c32) are served\n"
    "from Debian's packages when the root does not have them.\n"
    "\n"
    "Started as root, pxed opens its ports and store, then runs as USER (default\n"
    "pxed, or security.user) without capabilities, confined by Landlock and seccomp\n"
    "(docs/security.md).\n";

static const char usage_sandbox_check[] =
    "usage: pxed sandbox-check (--config FILE | --listen ADDR [--tftp-root DIR]\n"
    "                          [--http-root DIR]) [--state-dir DIR] [--user USER]\n"
    "\n"
    "Applies the daemon's own sandbox (user, capabilities, Landlock, seccomp) for\n"
    "this config, then tries what it must allow (reading a file in a root, writing\n"
    "in the state directory) and what it must refuse (reading /etc/passwd and\n"
    "/proc/1/cmdline, writing in a root, a TCP connection, ioctl(TIOCSTI) on\n"
    "stdin when seccomp is on, running /bin/false). Prints one line per\n"
    "attempt; exits 0 when every outcome is the expected one.\n";

static const char usage_check[] =
    "usage: pxed check --config FILE\n"
    "\n"
    "Validates FILE and prints every problem as FILE:LINE: message (exit 1),\n"
    "or FILE: ok (exit 0).\n";

static const char usage_timeline[] =
    "usage: pxed timeline MAC [--state-dir DIR] [--json] [--all]\n"
    "\n"
    "Prints the steps of MAC's last boot as pxed saw them (DHCP, boot program,\n"
    "script, kernel, initrds) with their durations; --all prints every recorded\n"
    "event, --json prints the events as JSON.\n";

static const char usage_explain[] =
    "usage: pxed explain MAC [--state-dir DIR] [--config FILE] [--json]\n"
    "\n"
    "Explains MAC's last boot: the facts it presented (architecture, vendor and\n"
    "user class, relay, interface), the plan pxed chose and why, the steps it\n"
    "took, where it stopped, and the most likely cause in plain words. With\n"
    "--config, the plan is decided again with that config and any difference is\n"
    "shown; the state directory is then the config's unless --state-dir is given.\n"
    "--json prints the same as one JSON object.\n";

static const char usage_leases[] =
    "usage: pxed leases [--json] [--state-dir DIR]\n"
    "       pxed leases release ADDR [--state-dir DIR]\n"
    "\n"
    "Lists the leases in the store (address, MAC, expiry, state, host name), or\n"
    "frees the lease on ADDR. A running daemon keeps treating a released address\n"
    "as taken until it restarts, so nothing is handed out twice.\n";

enum {
	OPT_INTERFACE = 256,
	OPT_DHCP_RANGE,
	OPT_PROXY,
	OPT_KERNEL,
	OPT_INITRD,
	OPT_CMDLINE,
	OPT_STATE_DIR,
	OPT_HTTP_PORT,
	OPT_TFTP_PORT,
	OPT_LOG_FORMAT,
	OPT_LOG_LEVEL,
	OPT_CONFIG,
	OPT_LISTEN,
	OPT_TFTP_ROOT,
	OPT_HTTP_ROOT,
	OPT_NO_DHCP,
	OPT_JSON,
	OPT_ALL,
	OPT_USER,
	OPT_HELP,
};

static const struct option long_opts[] = {
    {"interface", required_argument, NULL, OPT_INTERFACE},
    {"dhcp-range", required_argument, NULL, OPT_DHCP_RANGE},
    {"proxy", no_argument, NULL, OPT_PROXY},
    {"kernel", required_argument, NULL, OPT_KERNEL},
    {"initrd", required_argument, NULL, OPT_INITRD},
    {"cmdline", required_argument, NULL, OPT_CMDLINE},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"http-port", required_argument, NULL, OPT_HTTP_PORT},
    {"tftp-port", required_argument, NULL, OPT_TFTP_PORT},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"tftp-root", required_argument, NULL, OPT_TFTP_ROOT},
    {"http-root", required_argument, NULL, OPT_HTTP_ROOT},
    {"no-dhcp", no_argument, NULL, OPT_NO_DHCP},
    {"json", no_argument, NULL, OPT_JSON},
    {"all", no_argument, NULL, OPT_ALL},
    {"user", required_argument, NULL, OPT_USER},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* Everything any subcommand can be told on its command line. */
struct args {
	const char *interface, *dhcp_range, *kernel, *cmdline, *state_dir, *config;
	const char *listen, *tftp_root, *http_root, *user;
	const char *initrds[CONF_MAX_INITRDS];
	size_t n_initrds;
	bool proxy, no_dhcp, json, all, help;
	long http_port, tftp_port; /* -1 when not given */
	enum log_format log_format;
	enum log_level log_level;
	const char *positional;
};

static uint16_t parse_port(const char *s, const char *what)
{
	uint64_t v;
	if (parse_u64(s, 1, 65535, &v) < 0)
		fatal("%s: '%s' is not a port number (1-65535)", what, s);
	return (uint16_t)v;
}

static void args_take(struct args *a, int opt, const char *cmd)
{
	switch (opt) {
	case OPT_INTERFACE:
		a->interface = optarg;
		break;
	case OPT_DHCP_RANGE:
		a->dhcp_range = optarg;
		break;
	case OPT_PROXY:
		a->proxy = true;
		break;
	case OPT_KERNEL:
		a->kernel = optarg;
		break;
	case OPT_INITRD:
		if (a->n_initrds == CONF_MAX_INITRDS)
			fatal("at most %d --initrd", CONF_MAX_INITRDS);
		a->initrds[a->n_initrds++] = optarg;
		break;
	case OPT_CMDLINE:
		a->cmdline = optarg;
		break;
	case OPT_STATE_DIR:
		a->state_dir = optarg;
		break;
	case OPT_HTTP_PORT:
		a->http_port = parse_port(optarg, "--http-port");
		break;
	case OPT_TFTP_PORT:
		a->tftp_port = parse_port(optarg, "--tftp-port");
		break;
	case OPT_LOG_FORMAT:
		if (log_parse_format(optarg, &a->log_format) < 0)
			fatal("--log-format: '%s' is neither text nor json", optarg);
		break;
	case OPT_LOG_LEVEL:
		if (log_parse_level(optarg, &a->log_level) < 0)
			fatal("--log-level: '%s' is not error, warn, info or debug", optarg);
		break;
	case OPT_CONFIG:
		a->config = optarg;
		break;
	case OPT_LISTEN:
		a->listen = optarg;
		break;
	case OPT_TFTP_ROOT:
		a->tftp_root = optarg;
		break;
	case OPT_HTTP_ROOT:
		a->http_root = optarg;
		break;
	case OPT_NO_DHCP:
		a->no_dhcp = true;
		break;
	case OPT_JSON:
		a->json = true;
		break;
	case OPT_ALL:
		a->all = true;
		break;
	case OPT_USER:
		a->user = optarg;
		break;
	case OPT_HELP:
		a->help = true;
		break;
	default:
		fatal("%s: unknown option (see pxed %s --help)", cmd, cmd);
	}
}

static void args_parse(int argc, char **argv, const char *cmd, struct args *a)
{
	int opt;
	memset(a, 0, sizeof(*a));
	a->http_port = a->tftp_port = -1;
	a->log_level = LOG_INFO;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		if (opt == 'h')
			opt = OPT_HELP;
		if (opt == '?')
			fatal("%s: unknown or incomplete option '%s' (see pxed %s --help)", cmd,
			      argv[optind - 1], cmd);
		args_take(a, opt, cmd);
	}
	if (optind < argc)
		a->positional = argv[optind++];
	if (optind < argc)
		fatal("%s: unexpected argument '%s'", cmd, argv[optind]);
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (p == NULL)
		fatal("out of memory");
	return p;
}

/* Paths given on the command line become absolute: the daemon may chdir. */
static char *abs_file(const char *flag, const char *path)
{
	char buf[PATH_MAX];
	if (realpath(path, buf) == NULL)
		fatal("%s %s: %s", flag, path, strerror(errno));
	if (access(buf, R_OK) < 0)
		fatal("%s %s: %s", flag, path, strerror(errno));
	return xstrdup(buf);
}

static void boot_conf_range(struct conf *c, const struct args *a, uint32_t ip, int prefix)
{
	struct conf_subnet *sn = &c->subnets[c->n_subnets++];
	char first[32], ips[16];
	const char *comma = strchr(a->dhcp_range, ',');

	sn->network = ip & prefix_mask(prefix);
	sn->prefix_len = prefix;
	sn->router = 0;
	if (comma == NULL || (size_t)(comma - a->dhcp_range) >= sizeof(first))
		fatal("--dhcp-range: expected FIRST,LAST, got '%s'", a->dhcp_range);
	memcpy(first, a->dhcp_range, (size_t)(comma - a->dhcp_range));
	first[comma - a->dhcp_range] = '\0';
	if (ip4_parse(first, &sn->pool_first) < 0 || ip4_parse(comma + 1, &sn->pool_last) < 0)
		fatal("--dhcp-range: '%s' is not two IPv4 addresses", a->dhcp_range);
	if (sn->pool_first > sn->pool_last)
		fatal("--dhcp-range: %s comes after %s", first, comma + 1);
	if ((sn->pool_first & prefix_mask(prefix)) != sn->network ||
	    (sn->pool_last & prefix_mask(prefix)) != sn->network)
		fatal("--dhcp-range %s lies outside %s's subnet %s/%d", a->dhcp_range, a->interface,
		      ip4_format(ips, sn->network), prefix);
	if (ip >= sn->pool_first && ip <= sn->pool_last)
		fatal("--dhcp-range %s contains %s's own address", a->dhcp_range, a->interface);
	uint32_t gw;
	if (iface_default_gateway(a->interface, &gw) == 0)
		sn->router = gw;
}

/* `pxed boot`: one profile every machine boots, the network from IFACE. */
static struct conf *boot_conf(const struct args *a)
{
	struct conf *c = conf_new_defaults();
	uint32_t ip;
	int prefix;

	if (a->interface == NULL || a->kernel == NULL)
		fatal("boot: --interface and --kernel are required (see pxed boot --help)");
	if (a->proxy == (a->dhcp_range != NULL))
		fatal("boot: give exactly one of --proxy and --dhcp-range");
	int rc = iface_ipv4(a->interface, &ip, &prefix);
	if (rc < 0)
		fatal("--interface %s: %s", a->interface,
		      rc == -EADDRNOTAVAIL ? "no IPv4 address (or no such interface)"
					   : strerror(-rc));
	c->interfaces[c->n_interfaces++] = xstrdup(a->interface);
	c->dhcp_mode = a->proxy ? CONF_DHCP_PROXY : CONF_DHCP_SERVER;
	if (!a->proxy)
		boot_conf_range(c, a, ip, prefix);
	struct conf_profile *p = &c->profiles[c->n_profiles++];
	p->name = xstrdup("default");
	p->kernel = abs_file("--kernel", a->kernel);
	for (size_t i = 0; i < a->n_initrds; i++)
		p->initrds[p->n_initrds++] = abs_file("--initrd", a->initrds[i]);
	p->cmdline = a->cmdline != NULL ? xstrdup(a->cmdline) : NULL;
	c->default_profile = xstrdup("default");
	return c;
}

/* `pxed serve --listen`: directories over TFTP and HTTP, no DHCP. */
static struct conf *listen_conf(const struct args *a)
{
	struct conf *c = conf_new_defaults();
	if (ip4_parse(a->listen, &c->listen_address) < 0)
		fatal("--listen: '%s' is not an IPv4 address", a->listen);
	c->dhcp_mode = CONF_DHCP_OFF;
	if (a->tftp_root != NULL)
		c->tftp_root = abs_file("--tftp-root", a->tftp_root);
	if (a->http_root != NULL)
		c->http_root = abs_file("--http-root", a->http_root);
	return c;
}

/* Flags that every daemon form accepts override the snapshot's values. */
static void conf_apply_common(struct conf *c, const struct args *a)
{
	if (a->state_dir != NULL) {
		free(c->state_dir);
		c->state_dir = xstrdup(a->state_dir);
		c->lines.state_dir = 0;
	}
	if (a->http_port > 0)
		c->http_port = (uint16_t)a->http_port;
	if (a->tftp_port > 0)
		c->tftp_port = (uint16_t)a->tftp_port;
	if (a->user != NULL) {
		free(c->user);
		c->user = xstrdup(a->user);
		c->lines.user = 0;
	}
}

static void conf_check_or_die(const struct conf *c)
{
	struct conf_errors errs = {0};
	if (conf_validate(c, &errs) == 0)
		return;
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "pxed: %s\n", errs.msgs[i]);
	exit(1);
}

/* ---- least privilege (core/priv.h, docs/security.md) -------------------- */

/*
 * A build with AddressSanitizer (scripts/run-tests.sh's asan phase) keeps
 * the user it was started as and runs without Landlock and seccomp: the
 * sanitizers write their reports to files named at start, in directories
 * the user pxed may not write, and LeakSanitizer traces the process at exit
 * (clone, ptrace). Capabilities and no_new_privs go as in any build.
 */
#if defined(__SANITIZE_ADDRESS__)
#define PXED_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PXED_SANITIZED 1
#endif
#endif
#ifndef PXED_SANITIZED
#define PXED_SANITIZED 0
#endif

/* Where boot/vfs.c finds GRUB and the shim: it has no config key for them. */
static const char *const sandbox_debian_dirs[] = {VFS_GRUB_SIGNED_DIR, VFS_GRUB_BIN_DIR,
						  VFS_SHIM_DIR};

/* What pxed makes in the state directory (store/store.c): all it gives its user there. */
static const char *const sandbox_state_files[] = {"pxed.db", "pxed.db-wal", "pxed.db-shm",
						  "pxed.db-journal", NULL};

static void sandbox_add(const char **list, size_t *n, size_t cap, const char *path)
{
	if (priv_add(list, n, cap, path) < 0)
		fatal("sandbox: more than %zu paths", cap);
}

/*
 * What the daemon may touch after start: the roots, the profiles' kernels
 * and initrds and the boot program directories read-only; the state and
 * upload directories read-write. The caller frees the result.
 */
static struct priv_sandbox *sandbox_from_conf(const struct conf *c)
{
	struct priv_sandbox *sb = calloc(1, sizeof(*sb));
	if (sb == NULL)
		fatal("out of memory");
	sb->user = PXED_SANITIZED ? NULL : c->user;
	sb->landlock = c->landlock && !PXED_SANITIZED;
	sb->seccomp = c->seccomp && !PXED_SANITIZED;
	sandbox_add(sb->read, &sb->n_read, PRIV_MAX_PATHS, c->tftp_root);
	sandbox_add(sb->read, &sb->n_read, PRIV_MAX_PATHS, c->http_root);
	/* The config file's directory: a reload reads the file again (an editor replaces it). */
	if (c->path != NULL) {
		snprintf(sb->config_dir, sizeof(sb->config_dir), "%s", c->path);
		char *slash = strrchr(sb->config_dir, '/');
		if (slash != NULL && slash != sb->config_dir)
			*slash = '\0';
		sandbox_add(sb->read, &sb->n_read, PRIV_MAX_PATHS,
			    slash != NULL ? sb->config_dir : ".");
	}
	for (size_t i = 0; i < c->n_profiles; i++) {
		const struct conf_profile *p = &c->profiles[i];
		sandbox_add(sb->read, &sb->n_read, PRIV_MAX_PATHS, p->kernel);
		for (size_t k = 0; k < p->n_initrds; k++)
			sandbox_add(sb->read, &sb->n_read, PRIV_MAX_PATHS, p->initrds[k]);
		/* A reload compiles the templates again. */
		for (size_t k = 0; k < p->n_templates; k++)
			sandbox_add(sb->read, &sb->n_read, PRIV_MAX_PATHS, p->templates[k].path);
	}
	sandbox_add(sb->read_links, &sb->n_read_links, PRIV_MAX_DIRS, c->nbp_dir_ipxe);
	sandbox_add(sb->read_links, &sb->n_read_links, PRIV_MAX_DIRS, c->nbp_dir_pxelinux);
	sandbox_add(sb->read_links, &sb->n_read_links, PRIV_MAX_DIRS, c->nbp_dir_syslinux);
	for (size_t i = 0; i < PXED_ARRAY_LEN(sandbox_debian_dirs); i++)
		sandbox_add(sb->read_links, &sb->n_read_links, PRIV_MAX_DIRS,
			    sandbox_debian_dirs[i]);
	/* The state directory's own files only; every file of the upload directory's top. */
	sb->write_own[sb->n_write] = sandbox_state_files;
	sandbox_add(sb->write, &sb->n_write, PRIV_MAX_DIRS, c->state_dir);
	sandbox_add(sb->write, &sb->n_write, PRIV_MAX_DIRS, c->tftp_upload_dir);
	return sb;
}

/*
 * Before anything is bound: a user that does not exist fails now, with
 * the fix. SQLite's temporary files go to the state directory, the one
 * place Landlock lets it write (it reads SQLITE_TMPDIR when it starts).
 */
static void sandbox_prepare(const struct conf *c)
{
	char where[PATH_MAX + 48] = "";
	uid_t uid;
	gid_t gid;

	if (setenv("SQLITE_TMPDIR", c->state_dir, 1) < 0)
		fatal("out of memory");
	if (geteuid() != 0 || strcmp(c->user, "root") == 0)
		return;
	int rc = priv_user_lookup(c->user, &uid, &gid);
	if (rc == 0)
		return;
	if (c->path != NULL && c->lines.user > 0)
		snprintf(where, sizeof(where), "%s:%d: security.user: ", c->path, c->lines.user);
	if (rc == -ENOENT)
		fatal(
		    "%sno user '%s' on this machine: create it (useradd --system --no-create-home "
		    "--shell /usr/sbin/nologin %s), or set security.user to root to keep root "
		    "(see docs/security.md)",
		    where, c->user, c->user);
	fatal("%suser '%s': %s", where, c->user, strerror(-rc));
}

/* The drop itself, the same for the daemon and `pxed sandbox-check`. */
static void sandbox_enter(const struct conf *c, struct priv_result *res)
{
	struct priv_sandbox *sb = sandbox_from_conf(c);
	const char *why;
	char ll[32], sc[32];

	if (PXED_SANITIZED)
		log_warn("main", "a sanitizer build keeps its user and runs without Landlock and "
				 "seccomp (docs/security.md)");
	else if (geteuid() == 0 && strcmp(c->user, "root") == 0)
		log_warn("main", "security.user is root: pxed keeps uid 0 (without capabilities, "
				 "still confined); see docs/security.md");
	int rc = priv_enter(sb, res, &why);
	free(sb);
	if (rc < 0)
		fatal("cannot drop privileges (%s): %s", why, strerror(-rc));
	if (res->landlock_abi > 0)
		snprintf(ll, sizeof(ll), "ABI %d", res->landlock_abi);
	else
		snprintf(ll, sizeof(ll), "off");
	if (res->n_syscalls > 0)
		snprintf(sc, sizeof(sc), "%zu calls", res->n_syscalls);
	else
		snprintf(sc, sizeof(sc), "off");
	log_info("main", "running as uid %u gid %u%s, no capabilities, Landlock %s, seccomp %s",
		 (unsigned)res->uid, (unsigned)res->gid, res->dropped ? "" : " (not changed)", ll,
		 sc);
	if (res->note[0] != '\0')
		log_warn("main", "%s", res->note);
}

/* ---- the daemon --------------------------------------------------------- */

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct pxed *d = arg;
	log_info("main", "signal %d: shutting down", (int)sig);
	event_base_loopexit(d->base, NULL);
}

/* SIGHUP: the config file again; one that fails its checks leaves the running one. */
static void on_sighup(evutil_socket_t sig, short what, void *arg)
{
	struct pxed *d = arg;
	struct conf_errors errs = {0};
	int rc = snapshot_reload(d, &errs);

	metric_inc(&d->metrics, rc == 0 ? METRIC_RELOAD_DONE : METRIC_RELOAD_REFUSED);
	if (rc == -ENOTSUP)
		log_warn("main", "SIGHUP: started without a config file, nothing to reload");
	for (size_t i = 0; i < errs.n; i++)
		log_err("main", "reload refused, the running configuration stays: %s",
			errs.msgs[i]);
	conf_errors_free(&errs);
}

static void daemon_stop(struct pxed *d)
{
	http_admin_stop(d->admin);
	http_server_stop(d->http);
	tftp_server_stop(d->tftp);
	rogue_stop(d->rogue);
	dhcp_server_stop(d->dhcp);
	obs_close(d->obs);
	obs_live_free(d->live); /* after every server: stopping reports their last events */
	provision_free(d);
	store_close(d->store);
	if (d->base != NULL)
		event_base_free(d->base);
}

static void daemon_start(struct pxed *d)
{
	const struct conf *c = d->conf;
	char ip[16];
	int rc;

	if ((rc = store_open(c->state_dir, &d->store)) < 0)
		fatal("state directory %s: %s", c->state_dir, strerror(-rc));
	/* The API's hosts and profiles over the file's: everything below uses the result. */
	if ((rc = snapshot_start(d)) < 0)
		fatal("inventory: %s", strerror(-rc));
	c = d->conf;
	if ((rc = obs_open(d->store, &d->obs)) < 0)
		fatal("timeline: %s", strerror(-rc));
	struct obs_retention keep = {.max_age_s = c->events_retention_s,
				     .max_per_machine = c->events_max_per_machine,
				     .max_total = c->events_max_total};
	if ((rc = obs_retention_start(d->obs, d->base, &keep)) < 0)
		fatal("event retention: %s", strerror(-rc));
	if ((rc = obs_live_new(&d->live)) < 0)
		fatal("live view: %s", strerror(-rc));
	obs_live_attach(d->live, &d->metrics, c);
	obs_set_live(d->obs, d->live);
	if ((rc = provision_load(d)) < 0)
		fatal("install states: %s", strerror(-rc));
	if (c->dhcp_mode != CONF_DHCP_OFF && (rc = dhcp_server_start(d, &d->dhcp)) < 0)
		fatal("DHCP: %s", strerror(-rc));
	/* Detection is an aid: without it (no CAP_NET_RAW) pxed still serves. */
	if (c->dhcp_mode != CONF_DHCP_OFF && (rc = rogue_start(d, &d->rogue)) < 0)
		log_warn("main", "rogue DHCP detection is off: %s", strerror(-rc));
	if ((rc = tftp_server_start(d, c->listen_address, c->tftp_port, &d->tftp)) < 0)
		fatal("TFTP on %s:%u: %s", ip4_format(ip, c->listen_address), c->tftp_port,
		      strerror(-rc));
	if ((rc = http_server_start(d, c->listen_address, c->http_port, &d->http)) < 0)
		fatal("HTTP on %s:%u: %s", ip4_format(ip, c->listen_address), c->http_port,
		      strerror(-rc));
	if ((rc = http_admin_start(d, &d->admin)) < 0)
		fatal("inventory API on %s:%u: %s", ip4_format(ip, c->api_address), c->api_port,
		      strerror(-rc));
	log_info("main", "pxed %s ready: TFTP %s:%u, HTTP %s:%u, state in %s", PXED_VERSION,
		 ip4_format(ip, c->listen_address), c->tftp_port, ip, c->http_port, c->state_dir);
}

/*
 * Descriptors for the caps at once: a TFTP download holds three (its socket
 * connected to the client, the socket beside it for strangers, the file), an
 * HTTP connection two (its socket, the file); the rest (listeners, the store,
 * the loop, the API) stays under 256. The soft limit (often 1024) is raised
 * to that, up to the hard limit, or past it while pxed may (root, before the
 * privilege drop). Short of it, a transfer past the limit is refused with
 * "out of resources": said once at start.
 */
static void raise_nofile(const struct conf *c)
{
	rlim_t want = (rlim_t)c->tftp_max_transfers * 3 + (rlim_t)c->http_max_connections * 2 + 256;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
		struct rlimit more = {.rlim_cur = want, .rlim_max = want};
		if (setrlimit(RLIMIT_NOFILE, &more) == 0)
			return;
		log_warn("main",
			 "open files are limited to %llu; tftp.max_transfers and "
			 "http.max_connections need up to %llu (LimitNOFILE= in the unit)",
			 (unsigned long long)rl.rlim_max, (unsigned long long)want);
		rl.rlim_cur = rl.rlim_max;
	} else {
		rl.rlim_cur = want;
	}
	(void)setrlimit(RLIMIT_NOFILE, &rl);
}

/* Runs until SIGTERM or SIGINT; takes c and snap over. */
static int daemon_run(struct conf *c, struct snapshot *snap)
{
	struct pxed d = {.conf = c, .snap = snap};
	struct event *sigs[3];
	const int signums[3] = {SIGTERM, SIGINT, SIGHUP};

	struct priv_result priv;

	signal(SIGPIPE, SIG_IGN);
	/* A reload asked for while pxed starts (systemctl reload) must not end it. */
	signal(SIGHUP, SIG_IGN);
	sandbox_prepare(c);
	raise_nofile(c);
	d.base = event_base_new();
	if (d.base == NULL)
		fatal("cannot create the event loop");
	daemon_start(&d);
	for (int i = 0; i < 3; i++) {
		sigs[i] = evsignal_new(d.base, signums[i],
				       signums[i] == SIGHUP ? on_sighup : on_signal, &d);
		if (sigs[i] == NULL || event_add(sigs[i], NULL) < 0)
			fatal("cannot install signal handlers");
	}
	/* Everything privileged is open: ports, packet sockets, the store. */
	sandbox_enter(d.conf, &priv);
	event_base_dispatch(d.base);
	for (int i = 0; i < 3; i++)
		event_free(sigs[i]);
	daemon_stop(&d);
	conf_free((struct conf *)d.conf);
	snapshot_free(d.snap);
	log_info("main", "stopped");
	return 0;
}

/* ---- subcommands -------------------------------------------------------- */

static int cmd_boot(int argc, char **argv)
{
	struct args a;
	args_parse(argc, argv, "boot", &a);
	if (a.help) {
		fputs(usage_boot, stdout);
		return 0;
	}
	log_setup(a.log_format, a.log_level);
	struct conf *c = boot_conf(&a);
	conf_apply_common(c, &a);
	conf_check_or_die(c);
	return daemon_run(c, snapshot_new(NULL, NULL, 0));
}

/* The config file at path; *text (may be NULL) receives the text it was loaded from. */
static struct conf *load_config_or_die(const char *path, char **text, size_t *len)
{
	struct conf *c = NULL;
	struct conf_errors errs = {0};
	char *buf = NULL;
	size_t n = 0;
	if (conf_read_file(path, &buf, &n, &errs) < 0 ||
	    conf_load_layered(path, buf, n, NULL, 0, &c, &errs) < 0) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		if (errs.n == 0)
			fprintf(stderr, "%s: cannot be loaded\n", path);
		conf_errors_free(&errs);
		exit(1);
	}
	if (text != NULL) {
		*text = buf;
		*len = n;
	} else {
		free(buf);
	}
	return c;
}

static void conf_overrides(struct conf *c, const void *arg)
{
	conf_apply_common(c, arg);
}

static int cmd_serve(int argc, char **argv)
{
	struct args a;
	args_parse(argc, argv, "serve", &a);
	if (a.help) {
		fputs(usage_serve, stdout);
		return 0;
	}
	if ((a.config == NULL) == (a.listen == NULL))
		fatal("serve: give exactly one of --config and --listen (see pxed serve --help)");
	log_setup(a.log_format, a.log_level);
	char *text = NULL, *path = NULL;
	size_t len = 0;
	/*
	 * Absolute, as given (links are not resolved: its relative paths are
	 * taken from its directory as `pxed check` takes them), so that a
	 * reload finds it wherever pxed runs.
	 */
	if (a.config != NULL) {
		char cwd[PATH_MAX];
		if (a.config[0] == '/')
			path = xstrdup(a.config);
		else if (getcwd(cwd, sizeof(cwd)) == NULL ||
			 asprintf(&path, "%s/%s", cwd, a.config) < 0)
			fatal("%s: cannot make the path absolute: %s", a.config, strerror(errno));
	}
	struct conf *c = path != NULL ? load_config_or_die(path, &text, &len) : listen_conf(&a);
	conf_apply_common(c, &a);
	conf_check_or_die(c);
	struct snapshot *snap = snapshot_new(path, text, len);
	snapshot_set_overrides(snap, conf_overrides, &a);
	free(path);
	return daemon_run(c, snap);
}

static int cmd_check(int argc, char **argv)
{
	struct args a;
	args_parse(argc, argv, "check", &a);
	if (a.help) {
		fputs(usage_check, stdout);
		return 0;
	}
	if (a.config == NULL)
		fatal("check: --config FILE is required");
	struct conf *c = load_config_or_die(a.config, NULL, NULL);
	conf_free(c);
	printf("%s: ok\n", a.config);
	return 0;
}

static int cmd_explain(int argc, char **argv)
{
	struct args a;
	uint8_t mac[6];
	args_parse(argc, argv, "explain", &a);
	if (a.help) {
		fputs(usage_explain, stdout);
		return 0;
	}
	if (a.positional == NULL || mac_parse(a.positional, mac) < 0)
		fatal("explain: expected a MAC address like 52:54:00:aa:00:01");
	char *text = NULL;
	size_t len = 0;
	struct conf *c = a.config != NULL ? load_config_or_die(a.config, &text, &len) : NULL;
	const char *dir = a.state_dir != NULL ? a.state_dir
			  : c != NULL	      ? c->state_dir
					      : "/var/lib/pxed";
	/* Decided again as the daemon decides: with what the API put over the file. */
	struct conf *layered = c != NULL ? snapshot_load_offline(a.config, text, len, dir) : NULL;
	free(text);
	int rc = explain_print(dir, layered != NULL ? layered : c, mac, a.json);
	conf_free(layered);
	conf_free(c);
	return rc;
}

static int cmd_timeline(int argc, char **argv)
{
	struct args a;
	uint8_t mac[6];
	args_parse(argc, argv, "timeline", &a);
	if (a.help) {
		fputs(usage_timeline, stdout);
		return 0;
	}
	if (a.positional == NULL || mac_parse(a.positional, mac) < 0)
		fatal("timeline: expected a MAC address like 52:54:00:aa:00:01");
	return timeline_print(a.state_dir != NULL ? a.state_dir : "/var/lib/pxed", mac, a.json,
			      a.all);
}

/* ---- sandbox-check: the sandbox tried from inside ------------------------- */

/* A file of the first root: listing it and reading one byte. */
static int try_read_root(const char *root)
{
	DIR *d = opendir(root);
	struct dirent *e;
	char b;
	int rc = -ENOENT;

	if (d == NULL)
		return -errno;
	while ((e = readdir(d)) != NULL && e->d_type != DT_REG)
		;
	if (e != NULL) {
		int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC);
		rc = fd < 0 || read(fd, &b, 1) < 0 ? -errno : 0;
		if (fd >= 0)
			close(fd);
	}
	closedir(d);
	return rc;
}

/* Creates, writes and removes a file in dir. */
static int try_write_in(const char *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/.pxed-sandbox-check", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int rc = write(fd, "ok\n", 3) == 3 ? 0 : -errno;
	close(fd);
	unlink(path);
	return rc;
}

static int try_read_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* A TCP connection to 127.0.0.1:port; a refused one still left the sandbox. */
static int try_connect_tcp(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	close(fd);
	return rc == -EACCES || rc == -EPERM ? rc : 0;
}

/*
 * TIOCSTI on standard input: the one a process holding a root shell's
 * terminal could type into it with. Tried only under seccomp, which refuses
 * it whatever stdin is; without the filter it might succeed, on a real
 * terminal.
 */
static int try_tiocsti(void)
{
	char c = '\n';
	return ioctl(STDIN_FILENO, TIOCSTI, &c) < 0 ? -errno : 0;
}

/* One line: "NAME TARGET: allowed|denied (why)"; returns 1 if unexpected. */
static int check_report(const char *name, const char *target, int rc, bool want_allowed)
{
	bool denied = rc == -EACCES || rc == -EPERM;
	if (rc == 0)
		printf("%s %s: allowed\n", name, target);
	else
		printf("%s %s: %s (%s)\n", name, target, denied ? "denied" : "failed",
		       strerror(-rc));
	return want_allowed ? rc != 0 : !denied;
}

static int cmd_sandbox_check(int argc, char **argv)
{
	struct args a;
	struct priv_result res;
	char port[16];
	int bad = 0;

	args_parse(argc, argv, "sandbox-check", &a);
	if (a.help) {
		fputs(usage_sandbox_check, stdout);
		return 0;
	}
	if ((a.config == NULL) == (a.listen == NULL))
		fatal("sandbox-check: give exactly one of --config and --listen");
	log_setup(a.log_format, a.log_level);
	struct conf *c =
	    a.config != NULL ? load_config_or_die(a.config, NULL, NULL) : listen_conf(&a);
	conf_apply_common(c, &a);
	conf_check_or_die(c);
	const char *root = c->tftp_root != NULL ? c->tftp_root : c->http_root;
	if (root == NULL)
		fatal("sandbox-check: the config has no tftp.root or http.root to try");
	sandbox_prepare(c);
	if (mkdir(c->state_dir, 0750) < 0 && errno != EEXIST)
		fatal("state directory %s: %s", c->state_dir, strerror(errno));
	sandbox_enter(c, &res);
	printf("uid %u gid %u landlock-abi %d seccomp-calls %zu\n", (unsigned)res.uid,
	       (unsigned)res.gid, res.landlock_abi, res.n_syscalls);
	bad += check_report("read-root", root, try_read_root(root), true);
	bad += check_report("write-state", c->state_dir, try_write_in(c->state_dir), true);
	bad += check_report("read-outside", "/etc/passwd", try_read_file("/etc/passwd"), false);
	bad +=
	    check_report("read-proc", "/proc/1/cmdline", try_read_file("/proc/1/cmdline"), false);
	bad += check_report("write-root", root, try_write_in(root), false);
	snprintf(port, sizeof(port), "127.0.0.1:%u", c->http_port);
	bad += check_report("connect-tcp", port, try_connect_tcp(c->http_port), false);
	if (res.n_syscalls > 0)
		bad += check_report("ioctl-tiocsti", "stdin", try_tiocsti(), false);
	else
		printf("ioctl-tiocsti stdin: skipped (seccomp is off)\n");
	printf("exec /bin/false: ");
	fflush(stdout);
	/* Returns only when refused; /bin/false running would exit 1 all the same. */
	execl("/bin/false", "false", (char *)NULL);
	int err = errno;
	bool denied = err == EACCES || err == EPERM;
	printf("%s (%s)\n", denied ? "denied" : "failed", strerror(err));
	return bad == 0 && denied ? 0 : 1;
}

struct leases_print {
	bool json;
	json_t *arr;
	int64_t now;
	size_t n;
};

static int leases_print_one(const struct store_lease *l, void *arg)
{
	struct leases_print *p = arg;
	char ip[16], mac[18], when[32];
	time_t t = (time_t)l->expires;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	const char *state = l->expires > p->now ? "active" : "expired";
	if (p->json)
		json_array_append_new(p->arr, json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "ip",
							ip4_format(ip, l->ip), "mac",
							mac_format(mac, l->mac), "expires",
							(json_int_t)l->expires, "expires_utc", when,
							"state", state, "hostname", l->hostname));
	else
		printf("%-15s  %s  %s  %-7s  %s\n", ip4_format(ip, l->ip), mac_format(mac, l->mac),
		       when, state, l->hostname);
	p->n++;
	return 0;
}

static int leases_list(struct store *st, bool json)
{
	struct leases_print p = {.json = json, .now = (int64_t)time(NULL)};
	if (json)
		p.arr = json_array();
	else
		printf("%-15s  %-17s  %-20s  %-7s  %s\n", "address", "mac", "expires", "state",
		       "hostname");
	int rc = store_lease_each(st, leases_print_one, &p);
	if (json) {
		char *s = json_dumps(p.arr, JSON_INDENT(2));
		if (s != NULL)
			puts(s);
		free(s);
		json_decref(p.arr);
	}
	return rc < 0 ? 1 : 0;
}

static int leases_release(struct store *st, const char *addr)
{
	uint32_t ip;
	struct store_lease l;
	if (addr == NULL || ip4_parse(addr, &ip) < 0) {
		fprintf(stderr, "pxed: leases release: '%s' is not an IPv4 address\n",
			addr ? addr : "");
		return 2;
	}
	if (store_lease_by_ip(st, ip, &l) != 0) {
		fprintf(stderr, "pxed: no lease on %s\n", addr);
		return 1;
	}
	if (store_lease_delete(st, ip) < 0) {
		fprintf(stderr, "pxed: cannot release %s\n", addr);
		return 1;
	}
	char mac[18];
	printf("released %s (was %s)\n", addr, mac_format(mac, l.mac));
	return 0;
}

static int cmd_leases(int argc, char **argv)
{
	struct args a;
	struct store *st;
	char path[PATH_MAX];
	const char *release_addr = NULL;

	/* `leases release ADDR`: take the words off before the option parser sees them. */
	if (argc >= 2 && strcmp(argv[1], "release") == 0) {
		if (argc < 3)
			fatal("leases release: which address? (see pxed leases --help)");
		release_addr = argv[2];
		argv += 2;
		argc -= 2;
	}
	args_parse(argc, argv, "leases", &a);
	if (a.help) {
		fputs(usage_leases, stdout);
		return 0;
	}
	if (a.positional != NULL)
		fatal("leases: unexpected argument '%s'", a.positional);
	const char *dir = a.state_dir != NULL ? a.state_dir : "/var/lib/pxed";
	snprintf(path, sizeof(path), "%s/pxed.db", dir);
	if (access(path, R_OK) < 0)
		fatal("%s: %s", path, strerror(errno));
	if (store_open(dir, &st) < 0)
		fatal("cannot open the store in %s", dir);
	int rc = release_addr != NULL ? leases_release(st, release_addr) : leases_list(st, a.json);
	store_close(st);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {{"boot", cmd_boot},
		    {"serve", cmd_serve},
		    {"check", cmd_check},
		    {"timeline", cmd_timeline},
		    {"explain", cmd_explain},
		    {"leases", cmd_leases},
		    {"status", http_cli_status},
		    {"hosts", http_cli_hosts},
		    {"profiles", http_cli_profiles},
		    {"events", http_cli_events},
		    {"sandbox-check", cmd_sandbox_check}};

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage_main, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("pxed %s\n", PXED_VERSION);
		return 0;
	}
	for (size_t i = 0; i < PXED_ARRAY_LEN(cmds); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "pxed: unknown command '%s'\n\n%s", argv[1], usage_main);
	return 2;
}
