/*
 * Landlock (file access, TCP, signal and abstract socket scoping) and the
 * seccomp allowlist, applied by priv_enter() after the privilege drop.
 *
 * Landlock is best effort by ABI (Documentation/userspace-api/landlock.rst):
 * every right the running kernel knows is handled, so what no rule grants
 * is refused; a kernel without Landlock leaves file access to the user's
 * permissions, which is logged. The structures are declared here because
 * Debian 12's headers stop at ABI 2.
 */
#include "core/priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <linux/netlink.h>
#include <seccomp.h>
#include <linux/sockios.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "core/util.h"

/* ---- Landlock ----------------------------------------------------------------- */

#define LL_FS_EXECUTE (1ull << 0)
#define LL_FS_WRITE_FILE (1ull << 1)
#define LL_FS_READ_FILE (1ull << 2)
#define LL_FS_READ_DIR (1ull << 3)
#define LL_FS_REMOVE_DIR (1ull << 4)
#define LL_FS_REMOVE_FILE (1ull << 5)
#define LL_FS_MAKE_CHAR (1ull << 6)
#define LL_FS_MAKE_DIR (1ull << 7)
#define LL_FS_MAKE_REG (1ull << 8)
#define LL_FS_MAKE_SOCK (1ull << 9)
#define LL_FS_MAKE_FIFO (1ull << 10)
#define LL_FS_MAKE_BLOCK (1ull << 11)
#define LL_FS_MAKE_SYM (1ull << 12)
#define LL_FS_REFER (1ull << 13)	   /* ABI 2 */
#define LL_FS_TRUNCATE (1ull << 14)	   /* ABI 3 */
#define LL_FS_IOCTL_DEV (1ull << 15)	   /* ABI 5 */
#define LL_NET_BIND_TCP (1ull << 0)	   /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ull << 1)	   /* ABI 4 */
#define LL_SCOPE_ABSTRACT_UNIX (1ull << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ull << 1)	   /* ABI 6 */
#define LL_RULE_PATH_BENEATH 1

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

struct ll_path_beneath {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

/* What a read-only tree, a read-write tree and a single file may do. */
#define LL_READ (LL_FS_READ_FILE | LL_FS_READ_DIR)
#define LL_WRITE                                                                                   \
	(LL_READ | LL_FS_WRITE_FILE | LL_FS_REMOVE_FILE | LL_FS_MAKE_REG | LL_FS_REFER |           \
	 LL_FS_TRUNCATE)
#define LL_FILE_ONLY                                                                               \
	(LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)

/* The file system rights each ABI knows (rights of later ABIs are masked out). */
static uint64_t ll_fs_rights(int abi)
{
	uint64_t fs = (LL_FS_MAKE_SYM << 1) - 1;
	if (abi >= 2)
		fs |= LL_FS_REFER;
	if (abi >= 3)
		fs |= LL_FS_TRUNCATE;
	if (abi >= 5)
		fs |= LL_FS_IOCTL_DEV;
	return fs;
}

/*
 * One rule for path. A missing path is skipped (an optional Debian package
 * not installed, a root not given); a file gets only a file's rights. With
 * regular_only, what is not a regular file gets no rule at all.
 */
static int ll_allow_as(int ruleset, const char *path, uint64_t access, uint64_t handled,
		       bool regular_only)
{
	struct stat st;
	int fd = open(path, O_PATH | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == EACCES ? 0 : -errno;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -errno;
	}
	if (regular_only && !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		access &= LL_FILE_ONLY;
	struct ll_path_beneath pb = {.allowed_access = access & handled, .parent_fd = fd};
	int rc = (int)syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &pb, 0);
	int err = errno;
	close(fd);
	return rc < 0 ? -err : 0;
}

static int ll_allow(int ruleset, const char *path, uint64_t access, uint64_t handled)
{
	return ll_allow_as(ruleset, path, access, handled, false);
}

/*
 * The targets of dir's own symlinks, each readable (Debian links into /boot):
 * regular files only, never a directory a link might name (its whole tree).
 */
static int ll_allow_link_targets(int ruleset, const char *dir, uint64_t handled)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];
	int rc = 0;

	if (d == NULL)
		return 0;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (e->d_type != DT_LNK)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
			continue;
		rc = ll_allow_as(ruleset, path, LL_FS_READ_FILE, handled, true);
	}
	closedir(d);
	return rc;
}

/*
 * Devices pxed reads or writes after start: SQLite opens /dev/urandom once
 * for its randomness and /dev/null when a standard descriptor is closed.
 * No /proc: obs/events.c opens /proc/net/arp (the MAC of an HTTP client)
 * before the drop and rereads that descriptor.
 */
static const struct {
	const char *path;
	uint64_t access;
} ll_system_paths[] = {
    {"/dev/null", LL_FS_READ_FILE | LL_FS_WRITE_FILE},
    {"/dev/urandom", LL_FS_READ_FILE},
};

static int ll_rules(int ruleset, const struct priv_sandbox *sb, uint64_t fs)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < sb->n_read; i++)
		rc = ll_allow(ruleset, sb->read[i], LL_READ, fs);
	for (size_t i = 0; rc == 0 && i < sb->n_read_links; i++)
		if ((rc = ll_allow(ruleset, sb->read_links[i], LL_READ, fs)) == 0)
			rc = ll_allow_link_targets(ruleset, sb->read_links[i], fs);
	for (size_t i = 0; rc == 0 && i < sb->n_write; i++)
		rc = ll_allow(ruleset, sb->write[i], LL_WRITE, fs);
	for (size_t i = 0; rc == 0 && i < PXED_ARRAY_LEN(ll_system_paths); i++)
		rc = ll_allow(ruleset, ll_system_paths[i].path, ll_system_paths[i].access, fs);
	return rc;
}

int priv_landlock_apply(const struct priv_sandbox *sb, int *abi, char *note, size_t cap)
{
	int v = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	*abi = 0;
	if (v < 0) {
		/* ENOSYS: built without it; EOPNOTSUPP: not enabled at boot (lsm=). */
		snprintf(note, cap, "Landlock is not available (%s): file access is not confined",
			 strerror(errno));
		return 0;
	}
	struct ll_ruleset_attr attr = {.handled_access_fs = ll_fs_rights(v)};
	/* With ABI 4, no rule for TCP: pxed neither binds nor connects one after start. */
	if (v >= 4)
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
	if (v >= 6)
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
	size_t size = v >= 6 ? sizeof(attr) : v >= 4 ? 2 * sizeof(uint64_t) : sizeof(uint64_t);
	int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (ruleset < 0)
		return -errno;
	int rc = ll_rules(ruleset, sb, attr.handled_access_fs);
	if (rc == 0 && syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		rc = -errno;
	close(ruleset);
	if (rc == 0)
		*abi = v;
	return rc;
}

/* ---- seccomp ------------------------------------------------------------------ */

/*
 * Every system call the daemon makes after start, as `strace -f -c` counted
 * them over the integration and end-to-end tests (docs/security.md), plus
 * the ones libc reaches on error paths (abort, a failed allocation).
 * Names this architecture lacks are skipped.
 */
/* clang-format off */
static const char *const sc_allow[] = {
    /* memory, time, signals, exit */
    "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "futex", "getrandom",
    "clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep", "clock_nanosleep",
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "restart_syscall",
    "getpid", "gettid", "tgkill", "exit", "exit_group", "sched_yield", "getuid", "geteuid",
    "getgid", "getegid", "prlimit64", "uname",
    /* the loop (libevent: epoll, and its signal pipe) */
    "epoll_wait", "epoll_pwait", "epoll_pwait2", "epoll_ctl", "poll", "ppoll", "pipe2",
    "eventfd2",
    /* files: roots, programs, the store, uploads (Landlock says which) */
    "openat", "openat2", "open", "close", "read", "write", "readv", "writev", "pread64",
    "pwrite64", "lseek", "fstat", "newfstatat", "stat", "lstat", "statx", "fstatfs",
    "getdents64", "fcntl", "fsync", "fdatasync", "ftruncate", "fallocate", "unlink",
    "unlinkat", "rename", "renameat", "renameat2", "link", "linkat", "readlink", "readlinkat",
    "access", "faccessat", "faccessat2", "getcwd", "fchown", "fchmod", "umask", "fadvise64",
    "sendfile", "dup", "dup2", "dup3",
    /* sockets: UDP per transfer, accepted HTTP connections, netlink (getifaddrs) */
    "bind", "connect", "getsockname", "getpeername", "setsockopt", "getsockopt", "sendto",
    "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "accept", "accept4",
    "shutdown",
};
/* clang-format on */

/*
 * An unlisted call is not fatal: SIGSYS lands here, one line goes to
 * stderr (the number: `ausyscall N` names it) and the call returns EPERM,
 * as a refused permission would. Only async-signal-safe calls here.
 */
static void sc_on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	char msg[96] = "pxed: seccomp refused system call ";
	char num[16];
	size_t n = strlen(msg), k = 0;
	unsigned v = (unsigned)si->si_syscall;

	do
		num[k++] = (char)('0' + v % 10);
	while ((v /= 10) != 0 && k < sizeof(num));
	while (k > 0)
		msg[n++] = num[--k];
	memcpy(msg + n, " (EPERM; see docs/security.md)\n", 31);
	(void)!write(STDERR_FILENO, msg, n + 31);
#if defined(__x86_64__)
	((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RAX] = -EPERM;
#elif defined(__aarch64__)
	((ucontext_t *)ctx)->uc_mcontext.regs[0] = (unsigned long long)-EPERM;
#endif
}

/*
 * socket(): AF_INET datagram sockets (TFTP transfers, interface ioctls),
 * AF_NETLINK with NETLINK_ROUTE only (getifaddrs) and AF_UNIX datagram sockets (glibc's
 * if_indextoname and if_nametoindex make one for their ioctl). No TCP
 * socket and no packet socket: those pxed needs are open before the drop.
 */
static int sc_socket_rules(scmp_filter_ctx ctx)
{
	const uint64_t type_mask = 0xf; /* without SOCK_NONBLOCK and SOCK_CLOEXEC */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
			     SCMP_A0(SCMP_CMP_EQ, AF_INET),
			     SCMP_A1(SCMP_CMP_MASKED_EQ, type_mask, SOCK_DGRAM)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
			     SCMP_A0(SCMP_CMP_EQ, AF_NETLINK),
			     SCMP_A2(SCMP_CMP_EQ, NETLINK_ROUTE)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
			     SCMP_A0(SCMP_CMP_EQ, AF_UNIX),
			     SCMP_A1(SCMP_CMP_MASKED_EQ, type_mask, SOCK_DGRAM)) < 0)
		return -EINVAL;
	return 0;
}

/*
 * ioctl(): only the requests pxed makes after start, by number. Any other
 * is refused, among them TIOCSTI and TIOCLINUX, with which a process
 * holding the terminal it was started from (a root shell's) could type
 * into it, and TIOCSETD.
 */
static const unsigned long sc_ioctl_allow[] = {
    FIONREAD,	   /* libevent: how much an HTTP connection has to read */
    SIOCGIFMTU,	   /* tftp/server.c: the interface's MTU for the block size */
    SIOCGIFNAME,   /* glibc's if_indextoname */
    SIOCGIFINDEX,  /* glibc's if_nametoindex */
    SIOCGIFHWADDR, /* dhcp/rogue.c: an interface's MAC */
    TCGETS,	   /* isatty() on a standard descriptor (stdio, the log) */
    TIOCGWINSZ,	   /* the same, for a terminal's size: harmless */
};

static int sc_ioctl_rules(scmp_filter_ctx ctx)
{
	for (size_t i = 0; i < PXED_ARRAY_LEN(sc_ioctl_allow); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_EQ, sc_ioctl_allow[i])) < 0)
			return -EINVAL;
	return 0;
}

int priv_seccomp_apply(size_t *n_syscalls)
{
#if defined(__x86_64__) || defined(__aarch64__)
	uint32_t def = SCMP_ACT_TRAP;
	struct sigaction sa = {.sa_sigaction = sc_on_sigsys, .sa_flags = SA_SIGINFO};
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return -errno;
#else
	uint32_t def = SCMP_ACT_ERRNO(EPERM);
#endif
	scmp_filter_ctx ctx = seccomp_init(def);
	size_t n = 0;
	int rc = 0;

	if (ctx == NULL)
		return -ENOMEM;
	for (size_t i = 0; rc == 0 && i < PXED_ARRAY_LEN(sc_allow); i++) {
		int nr = seccomp_syscall_resolve_name(sc_allow[i]);
		if (nr < 0) /* not a call of this architecture */
			continue;
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) < 0)
			rc = -EINVAL;
		n++;
	}
	if (rc == 0 && (rc = sc_socket_rules(ctx)) == 0)
		n++;
	if (rc == 0 && (rc = sc_ioctl_rules(ctx)) == 0)
		n++;
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc == 0)
		*n_syscalls = n;
	return rc;
}
