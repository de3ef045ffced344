#include "boot/vfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "boot/script.h"
#include "boot/policy.h"
#include "conf/config.h"
#include "core/util.h"

/* Network bootstrap programs found in Debian's packages by default. */
enum vfs_nbp_dir { NBP_IPXE, NBP_PXELINUX, NBP_SYSLINUX };

static const struct {
	const char *name;
	enum vfs_nbp_dir dir;
} vfs_builtins[] = {
    {"undionly.kpxe", NBP_IPXE},   {"undionly.kkpxe", NBP_IPXE},  {"snponly.efi", NBP_IPXE},
    {"ipxe.efi", NBP_IPXE},	   {"ipxe.pxe", NBP_IPXE},	  {"pxelinux.0", NBP_PXELINUX},
    {"lpxelinux.0", NBP_PXELINUX}, {"ldlinux.c32", NBP_SYSLINUX},
};

int vfs_normalise(char *path)
{
	char *out = path;
	const char *in = path;

	for (const char *s = path; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return -EINVAL;
	/* Backslashes are separators for Windows-minded ROMs and configs. */
	for (char *s = path; *s; s++)
		if (*s == '\\')
			*s = '/';
	while (*in) {
		while (*in == '/')
			in++;
		const char *end = strchrnul(in, '/');
		size_t n = (size_t)(end - in);
		if (n == 2 && in[0] == '.' && in[1] == '.')
			return -EACCES;
		if (n > 0 && !(n == 1 && in[0] == '.')) {
			if (out != path)
				*out++ = '/';
			memmove(out, in, n);
			out += n;
		}
		in = end;
	}
	*out = '\0';
	return path[0] == '\0' ? -EINVAL : 0;
}

/* Opens a regular file read-only; 0 and out->fd/size, or -errno. */
static int vfs_open_regular(int dirfd, const char *path, bool beneath, struct vfs_file *out)
{
	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK};
	struct stat st;
	int fd;

	if (beneath) {
		/* RESOLVE_BENEATH refuses "..", absolute symlinks and links out of dirfd. */
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
		fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
		if (fd < 0 && errno == EXDEV)
			return -EACCES;
	} else {
		fd = openat(dirfd, path, (int)how.flags);
	}
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -EACCES;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EACCES;
	}
	out->kind = VFS_FILE;
	out->fd = fd;
	out->size = (uint64_t)st.st_size;
	out->mtime = st.st_mtime;
	return 0;
}

static int vfs_open_beneath(const char *root, const char *path, struct vfs_file *out)
{
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -ENOENT;
	int rc = vfs_open_regular(rootfd, path, true, out);
	close(rootfd);
	return rc;
}

static int vfs_open_builtin(const struct conf *c, const char *path, struct vfs_file *out)
{
	for (size_t i = 0; i < PXED_ARRAY_LEN(vfs_builtins); i++) {
		if (strcmp(path, vfs_builtins[i].name) != 0)
			continue;
		const char *dir = vfs_builtins[i].dir == NBP_IPXE	? c->nbp_dir_ipxe
				  : vfs_builtins[i].dir == NBP_PXELINUX ? c->nbp_dir_pxelinux
									: c->nbp_dir_syslinux;
		if (dir == NULL)
			return -ENOENT;
		int rc = vfs_open_beneath(dir, path, out);
		/* Debian links ipxe.efi to /boot: follow links for our own programs. */
		if (rc == -EACCES) {
			char full[PATH_MAX];
			if (snprintf(full, sizeof(full), "%s/%s", dir, path) >= (int)sizeof(full))
				return -ENOENT;
			rc = vfs_open_regular(AT_FDCWD, full, false, out);
		}
		out->what = "nbp";
		return rc;
	}
	return -ENOENT;
}

/* files/<profile>/kernel and files/<profile>/initrd<N>. */
static int vfs_open_profile_file(const struct conf *c, const char *path, struct vfs_file *out)
{
	char name[128];
	const char *slash = strchr(path, '/');
	if (slash == NULL || (size_t)(slash - path) >= sizeof(name))
		return -ENOENT;
	memcpy(name, path, (size_t)(slash - path));
	name[slash - path] = '\0';
	const struct conf_profile *p = conf_find_profile(c, name);
	const char *file = slash + 1, *real = NULL;
	if (p == NULL)
		return -ENOENT;
	if (strcmp(file, "kernel") == 0) {
		real = p->kernel;
		out->what = "kernel";
	} else if (strncmp(file, "initrd", 6) == 0) {
		uint64_t i;
		if (parse_u64(file + 6, 0, CONF_MAX_INITRDS - 1, &i) < 0 || i >= p->n_initrds)
			return -ENOENT;
		real = p->initrds[i];
		out->what = "initrd";
	}
	if (real == NULL)
		return -ENOENT;
	/* The operator named this file in the config: it is served as named. */
	return vfs_open_regular(AT_FDCWD, real, false, out);
}

/*
 * boot/<mac>.ipxe: the machine's iPXE script, for the profile of its host
 * entry or the default; boot/<profile>/<mac>.ipxe: the script of a profile
 * the boot policy chose from a class or a PXE menu item (boot_decide).
 */
static int vfs_open_script(const struct conf *c, const char *name, const struct vfs_client *cl,
			   struct vfs_file *out)
{
	char macs[18], profile[128];
	uint8_t mac[6];
	const char *slash = strchr(name, '/'), *file = slash != NULL ? slash + 1 : name;
	size_t n = strlen(file);

	if (n != 17 + 5 || strcmp(file + 17, ".ipxe") != 0)
		return -ENOENT;
	memcpy(macs, file, 17);
	macs[17] = '\0';
	if (mac_parse(macs, mac) < 0)
		return -ENOENT;
	if (slash != NULL) {
		if (slash == name || (size_t)(slash - name) >= sizeof(profile))
			return -ENOENT;
		memcpy(profile, name, (size_t)(slash - name));
		profile[slash - name] = '\0';
	}
	size_t len;
	int rc = boot_render_ipxe_profile(c, mac, slash != NULL ? profile : NULL, cl->server_ip,
					  &out->data, &len);
	if (rc < 0)
		return rc;
	out->kind = VFS_RENDERED;
	out->fd = -1;
	out->size = len;
	out->mtime = 0;
	out->what = "script";
	return 0;
}

int vfs_open(const struct conf *c, enum vfs_root root, const char *path,
	     const struct vfs_client *client, struct vfs_file *out)
{
	char norm[1024];
	size_t n = strlen(path);

	memset(out, 0, sizeof(*out));
	out->fd = -1;
	out->what = "file";
	if (n >= sizeof(norm))
		return -EINVAL;
	memcpy(norm, path, n + 1);
	int rc = vfs_normalise(norm);
	if (rc < 0)
		return rc;
	if (strncmp(norm, "boot/", 5) == 0)
		return vfs_open_script(c, norm + 5, client, out);
	if (strncmp(norm, "files/", 6) == 0)
		return vfs_open_profile_file(c, norm + 6, out);
	const char *dir = root == VFS_ROOT_TFTP ? c->tftp_root : c->http_root;
	if (dir != NULL) {
		rc = vfs_open_beneath(dir, norm, out);
		if (rc != -ENOENT)
			return rc;
	}
	return vfs_open_builtin(c, norm, out);
}

void vfs_file_close(struct vfs_file *f)
{
	if (f->kind == VFS_FILE && f->fd >= 0)
		close(f->fd);
	if (f->kind == VFS_RENDERED)
		free(f->data);
	f->fd = -1;
	f->data = NULL;
}
