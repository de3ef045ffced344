/*
 * LD_PRELOAD shim for the valgrind phase of scripts/run-tests.sh (loaded by
 * scripts/valgrind-pxed.sh only). Debian 12's valgrind 3.19 does not know
 * openat2 (syscall 437) and fails it with ENOSYS, so pxed, which opens every
 * served and uploaded file with openat2(RESOLVE_BENEATH), would refuse them
 * all. pxed calls it through libc's syscall(); this syscall() does openat2
 * with calls valgrind knows, keeping what the tests check of it:
 *
 *   - an absolute path or a ".." component: EXDEV, as RESOLVE_BENEATH
 *     refuses them (pxed normalises paths first, so neither should come);
 *   - otherwise openat() with the same flags, then the opened file's real
 *     path must lie beneath dirfd's, or the fd is closed and EXDEV returned:
 *     a symlink that leads out of the root is refused as the kernel does.
 *
 * It is a test double, not a sandbox (the check follows the open); every
 * other system call goes to libc's syscall() unchanged.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

long syscall(long nr, ...);

/* The real path of fd into buf (of cap bytes); 0 or -1. */
static int fd_path(int fd, char *buf, size_t cap)
{
	char link[64];
	ssize_t n;

	if (fd == AT_FDCWD)
		return getcwd(buf, cap) != NULL ? 0 : -1;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, cap - 1);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static int has_dotdot(const char *path)
{
	const char *p = path;

	while ((p = strstr(p, "..")) != NULL) {
		if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
			return 1;
		p += 2;
	}
	return 0;
}

static long shim_openat2(int dirfd, const char *path, const struct open_how *how, size_t size)
{
	char root[4096], got[4096];
	size_t n;
	int fd;

	if (how == NULL || size < sizeof(*how)) {
		errno = EINVAL;
		return -1;
	}
	if ((how->resolve & RESOLVE_BENEATH) && (path[0] == '/' || has_dotdot(path))) {
		errno = EXDEV;
		return -1;
	}
	fd = openat(dirfd, path, (int)how->flags, (mode_t)how->mode);
	if (fd < 0 || !(how->resolve & RESOLVE_BENEATH))
		return fd;
	if (fd_path(dirfd, root, sizeof(root)) < 0 || fd_path(fd, got, sizeof(got)) < 0) {
		close(fd);
		errno = EXDEV;
		return -1;
	}
	n = strlen(root);
	if (strncmp(got, root, n) != 0 || (got[n] != '\0' && got[n] != '/' && root[n - 1] != '/')) {
		close(fd);
		errno = EXDEV;
		return -1;
	}
	return fd;
}

long syscall(long nr, ...)
{
	static long (*real)(long, ...);
	long a[6];
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_openat2)
		return shim_openat2((int)a[0], (const char *)a[1], (const struct open_how *)a[2],
				    (size_t)a[3]);
	if (real == NULL)
		real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
