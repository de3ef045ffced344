/*
 * The privilege drop: user, groups and capabilities. Landlock and seccomp
 * are in sandbox.c. The order matters and is the one of OpenBSD's daemons:
 * everything privileged is already open (ports, the packet sockets, the
 * store), then the process becomes the user and can never come back.
 */
#include "core/priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int priv_add(const char **list, size_t *n, size_t cap, const char *path)
{
	if (path == NULL)
		return 0;
	if (*n == cap)
		return -ENOSPC;
	list[(*n)++] = path;
	return 0;
}

int priv_user_lookup(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	errno = 0;
	int rc = getpwnam_r(name, &pw, buf, sizeof(buf), &res);
	if (res == NULL)
		return rc == 0 || rc == ENOENT || rc == ESRCH ? -ENOENT : -rc;
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return 0;
}

/*
 * One entry of dirfd, if it is a regular file with one link: opened as a
 * path without following a link, so what is checked is what is given.
 */
static int priv_chown_entry(int dirfd, const char *name, uid_t uid, gid_t gid)
{
	struct stat st;
	int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) < 0)
		rc = -errno;
	else if (S_ISREG(st.st_mode) && st.st_nlink == 1 &&
		 fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* Every entry directly in dirfd (dirfd itself stays open). */
static int priv_chown_entries(int dirfd, uid_t uid, gid_t gid)
{
	int dup_fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	struct dirent *e;
	int rc = 0;

	if (d == NULL) {
		rc = -errno;
		if (dup_fd >= 0)
			close(dup_fd);
		return rc;
	}
	while (rc == 0 && (e = readdir(d)) != NULL)
		if (e->d_type == DT_REG || e->d_type == DT_UNKNOWN)
			rc = priv_chown_entry(dirfd, e->d_name, uid, gid);
	closedir(d);
	return rc;
}

int priv_chown_dir(const char *dir, const char *const *names, uid_t uid, gid_t gid)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (names == NULL)
		rc = priv_chown_entries(fd, uid, gid);
	for (size_t i = 0; rc == 0 && names != NULL && names[i] != NULL; i++)
		rc = priv_chown_entry(fd, names[i], uid, gid);
	if (rc == 0 && fchown(fd, uid, gid) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/*
 * Empties the bounding set (needs CAP_SETPCAP: only when started as root),
 * then the ambient set; the effective and permitted sets go with setuid()
 * or, when already unprivileged, with priv_caps_clear().
 */
static void priv_bounding_clear(void)
{
	for (int cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno == EINVAL)
			break; /* past the kernel's last capability */
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
}

static int priv_caps_clear(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	return 0;
}

/* Becomes name (uid, gid, its groups) for good: the saved ids too. */
static int priv_become(const char *name, uid_t uid, gid_t gid)
{
	if (initgroups(name, gid) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0)
		return -errno;
	/* The drop must be final: getting root back has to fail. */
	if (uid != 0 && setuid(0) == 0)
		return -EPERM;
	return 0;
}

/*
 * Valgrind runs the program's system calls as its own and its SIGSYS
 * handling asserts on a trapped one: the memcheck runs of the tests
 * (scripts/valgrind-pxed.sh) go without the filter. Its preload is how a
 * program sees it.
 */
static bool priv_under_valgrind(void)
{
	const char *pre = getenv("LD_PRELOAD");
	return pre != NULL && strstr(pre, "vgpreload") != NULL;
}

int priv_enter(const struct priv_sandbox *sb, struct priv_result *res, const char **why)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	int rc;

	memset(res, 0, sizeof(*res));
	*why = "user";
	if (geteuid() == 0 && sb->user != NULL) {
		/* The writable directories belong to whoever runs, root included. */
		if ((rc = priv_user_lookup(sb->user, &uid, &gid)) < 0)
			return rc;
		for (size_t i = 0; i < sb->n_write; i++)
			if ((rc = priv_chown_dir(sb->write[i], sb->write_own[i], uid, gid)) < 0 &&
			    rc != -ENOENT) {
				*why = sb->write[i];
				return rc;
			}
	}
	priv_bounding_clear();
	/* root too: "user: root" gets root's own groups, not those of whoever started it. */
	if (geteuid() == 0 && sb->user != NULL) {
		if ((rc = priv_become(sb->user, uid, gid)) < 0)
			return rc;
		res->dropped = uid != 0;
	}
	res->uid = getuid();
	res->gid = getgid();
	*why = "capabilities";
	if ((rc = priv_caps_clear()) < 0)
		return rc;
	*why = "no_new_privs";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	*why = "landlock";
	if (sb->landlock &&
	    (rc = priv_landlock_apply(sb, &res->landlock_abi, res->note, sizeof(res->note))) < 0)
		return rc;
	*why = "seccomp";
	if (sb->seccomp && priv_under_valgrind()) {
		size_t n = strlen(res->note);
		snprintf(res->note + n, sizeof(res->note) - n,
			 "%sunder valgrind, which cannot run a seccomp filter: seccomp is off",
			 n > 0 ? "; " : "");
	} else if (sb->seccomp && (rc = priv_seccomp_apply(&res->n_syscalls)) < 0) {
		return rc;
	}
	*why = NULL;
	return 0;
}
