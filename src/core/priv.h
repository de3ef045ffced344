/*
 * Least privilege: after the daemon has bound its ports and opened its
 * store, it becomes an unprivileged user with no capabilities, confines its
 * file access with Landlock and its system calls with seccomp. See
 * docs/security.md for what is allowed and why.
 *
 * This module knows nothing of the config: main.c fills a priv_sandbox
 * from it (paths, user, switches) and calls priv_enter() once.
 */
#ifndef PXED_CORE_PRIV_H
#define PXED_CORE_PRIV_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PRIV_MAX_PATHS 6500 /* roots, program dirs, 256 profiles of 9 files and 16 templates */
#define PRIV_MAX_DIRS 16

struct priv_sandbox {
	/*
	 * The account to become when started as root; "root" keeps uid 0
	 * (still without capabilities, still confined); NULL keeps whoever runs.
	 */
	const char *user;
	bool landlock, seccomp;
	/* Read-only: directories (their whole tree) or single files. */
	const char *read[PRIV_MAX_PATHS];
	char config_dir[PATH_MAX]; /* storage for one of read: the config file's directory */
	size_t n_read;
	/*
	 * Directories whose own symlinks may point elsewhere (Debian's
	 * /usr/lib/ipxe/ipxe.efi -> /boot/ipxe.efi): each link's target file
	 * is readable too.
	 */
	const char *read_links[PRIV_MAX_DIRS];
	size_t n_read_links;
	/*
	 * Read-write directories (state, uploads). Each is given to the user,
	 * with only the files write_own[i] names (NULL-terminated), or with
	 * NULL every regular file directly in it: never a link, a directory's
	 * contents or a file with other hard links.
	 */
	const char *write[PRIV_MAX_DIRS];
	const char *const *write_own[PRIV_MAX_DIRS];
	size_t n_write;
};

/* What priv_enter() did, for the start-up log line and sandbox-check. */
struct priv_result {
	uid_t uid;
	gid_t gid;
	bool dropped;	   /* the uid changed */
	int landlock_abi;  /* 0: not applied (off, or the kernel has none) */
	size_t n_syscalls; /* the seccomp allowlist's size; 0: not applied */
	char note[256];	   /* why something was skipped, or "" */
};

/* Adds a path to a list of cap entries; -ENOSPC when it is full. NULL is ignored. */
int priv_add(const char **list, size_t *n, size_t cap, const char *path);

/*
 * Looks the user up (before anything is bound, so a typo fails early):
 * 0, -ENOENT when there is no such account, or -errno.
 */
int priv_user_lookup(const char *name, uid_t *uid, gid_t *gid);

/*
 * Gives dir itself and the regular files names lists in it (NULL: every
 * regular file directly in it) to uid:gid. No recursion; a symlink, a
 * directory or a file with more than one link keeps its owner, so a link
 * planted there cannot make root give away another file. 0 or -errno.
 */
int priv_chown_dir(const char *dir, const char *const *names, uid_t uid, gid_t gid);

/*
 * The whole drop, in order: the user (when root), no capabilities (bounding,
 * ambient, effective, permitted), no_new_privs, Landlock, seccomp. Returns
 * 0 or -errno with *why naming the step that failed.
 */
int priv_enter(const struct priv_sandbox *sb, struct priv_result *res, const char **why);

/* Landlock and seccomp separately (priv.c calls them; tests may too). */
int priv_landlock_apply(const struct priv_sandbox *sb, int *abi, char *note, size_t cap);
int priv_seccomp_apply(size_t *n_syscalls);

#endif
