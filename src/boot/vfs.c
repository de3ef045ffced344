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
#include "boot/states.h"
#include "conf/config.h"
#include "core/util.h"

/* Network bootstrap programs found in Debian's packages by default. */
enum vfs_nbp_dir {
	NBP_IPXE,
	NBP_PXELINUX,
	NBP_SYSLINUX,
	NBP_GRUB_SIGNED,
	NBP_GRUB_BIN,
	NBP_SHIM,
};

/*
 * Served name, where, and the file's own name there (NULL: the same). A
 * name listed twice is looked for in the second place when the first has
 * no such file (the package is not installed).
 */
static const struct vfs_builtin {
	const char *name;
	enum vfs_nbp_dir dir;
	const char *file;
} vfs_builtins[] = {
    {"undionly.kpxe", NBP_IPXE, NULL},
    {"undionly.kkpxe", NBP_IPXE, NULL},
    {"snponly.efi", NBP_IPXE, NULL},
    {"ipxe.efi", NBP_IPXE, NULL},
    {"ipxe.pxe", NBP_IPXE, NULL},
    {"pxelinux.0", NBP_PXELINUX, NULL},
    {"lpxelinux.0", NBP_PXELINUX, NULL},
    {"ldlinux.c32", NBP_SYSLINUX, NULL},
    /* Signed by Debian: boots with Secure Boot off, or on behind a shim. */
    {"grubnetx64.efi", NBP_GRUB_SIGNED, "grubnetx64.efi.signed"},
    {"grubnetx64.efi", NBP_GRUB_BIN, "grubnetx64.efi"},
    /*
     * Secure Boot: firmware runs the shim, which loads grubx64.efi (and
     * mmx64.efi, MokManager, when a key enrolment waits) from its own
     * directory over TFTP; as in Debian's netboot images, grubx64.efi is
     * GRUB's network image.
     */
    {"shimx64.efi", NBP_SHIM, "shimx64.efi.signed"},
    {"mmx64.efi", NBP_SHIM, "mmx64.efi.signed"},
    {"grubx64.efi", NBP_GRUB_SIGNED, "grubnetx64.efi.signed"},
    {"grubx64.efi", NBP_GRUB_BIN, "grubnetx64.efi"},
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
	out->dev = (uint64_t)st.st_dev;
	out->ino = (uint64_t)st.st_ino;
	out->mtime = st.st_mtim;
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

static const char *vfs_builtin_dir(const struct conf *c, enum vfs_nbp_dir dir)
{
	switch (dir) {
	case NBP_IPXE:
		return c->nbp_dir_ipxe;
	case NBP_PXELINUX:
		return c->nbp_dir_pxelinux;
	case NBP_SYSLINUX:
		return c->nbp_dir_syslinux;
	case NBP_GRUB_SIGNED:
		return VFS_GRUB_SIGNED_DIR;
	case NBP_GRUB_BIN:
		return VFS_GRUB_BIN_DIR;
	case NBP_SHIM:
		return VFS_SHIM_DIR;
	}
	return NULL;
}

static int vfs_open_one_builtin(const struct conf *c, const struct vfs_builtin *b,
				struct vfs_file *out)
{
	const char *dir = vfs_builtin_dir(c, b->dir), *file = b->file ? b->file : b->name;
	if (dir == NULL)
		return -ENOENT;
	int rc = vfs_open_beneath(dir, file, out);
	/* Debian links ipxe.efi to /boot: follow links for our own programs. */
	if (rc == -EACCES) {
		char full[PATH_MAX];
		if (snprintf(full, sizeof(full), "%s/%s", dir, file) >= (int)sizeof(full))
			return -ENOENT;
		rc = vfs_open_regular(AT_FDCWD, full, false, out);
	}
	out->what = "nbp";
	return rc;
}

static int vfs_open_builtin(const struct conf *c, const char *path, struct vfs_file *out)
{
	int rc = -ENOENT;
	for (size_t i = 0; i < PXED_ARRAY_LEN(vfs_builtins) && rc == -ENOENT; i++)
		if (strcmp(path, vfs_builtins[i].name) == 0)
			rc = vfs_open_one_builtin(c, &vfs_builtins[i], out);
	return rc;
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

/* A file rendered into data (rc 0 from a renderer) becomes out. */
static int vfs_rendered(int rc, char *data, size_t len, const char *what, struct vfs_file *out)
{
	if (rc < 0)
		return rc;
	out->kind = VFS_RENDERED;
	out->fd = -1;
	out->data = data;
	out->size = len;
	out->dev = out->ino = 0;
	out->mtime = (struct timespec){0};
	out->what = what;
	return 0;
}

/*
 * A machine's configuration that cannot be rendered safely (a control
 * character in a hand-built command line) is refused, not missing.
 */
static int vfs_render_refusal(int rc)
{
	return rc >= 0 || rc == -ENOENT || rc == -ENOMEM ? rc : -EACCES;
}

/*
 * "01-52-54-00-aa-00-01": ARP hardware type 1 (Ethernet), then the MAC in
 * hex pairs with dashes, as pxelinux and GRUB name per-machine files.
 */
static int vfs_parse_arp_mac(const char *s, uint8_t mac[6])
{
	if (strncmp(s, "01-", 3) != 0 || strlen(s) != 3 + 17 || s[5] != '-')
		return -ENOENT;
	return mac_parse(s + 3, mac) < 0 ? -ENOENT : 0;
}

/* An installed host (boot/states.h) is told to boot from its local disk. */
static bool vfs_boots_locally(const struct conf *c, const struct vfs_client *cl,
			      const uint8_t mac[6])
{
	return boot_states_effective(cl->states, c, mac) == BOOT_STATE_INSTALLED;
}

/*
 * What templates know of the machine whose file this is; its architecture
 * and UUID only when the requester is that machine (another, or an
 * operator's curl, gets them empty, never someone else's). uuid_buf holds
 * the UUID's text for as long as the result is used.
 */
static struct boot_machine vfs_machine(const struct vfs_client *cl, const uint8_t mac[6],
				       char uuid_buf[VFS_UUID_TEXT])
{
	struct boot_machine m = {
	    .mac = mac, .ip = cl->ip, .server_ip = cl->server_ip, .states = cl->states};

	if (cl->facts != NULL)
		cl->facts(cl->facts_ctx, cl->ip, mac, &m.arch, &m.uuid, uuid_buf);
	return m;
}

/*
 * Per-machine loader configurations, for a MAC that has a profile (its
 * host entry's, or default_profile):
 *   pxelinux.cfg/01-<mac>      (pxelinux.0, lpxelinux.0)
 *   grub/grub.cfg-01-<mac>     (GRUB; fetching the kernel the same way)
 * Every other name pxelinux and GRUB probe (UUID, hex IP, "default") is
 * -ENOENT here: the roots may still hold an operator's own file of that name.
 */
static int vfs_open_machine_config(const struct conf *c, enum vfs_root root, const char *path,
				   const struct vfs_client *cl, struct vfs_file *out)
{
	uint8_t mac[6];
	char uuid[VFS_UUID_TEXT];
	struct boot_machine m;
	char *data = NULL;
	size_t len = 0;
	int rc;

	if (strncmp(path, "pxelinux.cfg/", 13) == 0) {
		if (vfs_parse_arp_mac(path + 13, mac) < 0)
			return -ENOENT;
		m = vfs_machine(cl, mac, uuid);
		if (vfs_boots_locally(c, cl, mac))
			rc = boot_render_local(BOOT_LOADER_PXELINUX, mac, &data, &len);
		else
			rc = boot_render_pxelinux_for(c, &m, &data, &len);
	} else if (strncmp(path, "grub/grub.cfg-", 14) == 0) {
		if (vfs_parse_arp_mac(path + 14, mac) < 0)
			return -ENOENT;
		m = vfs_machine(cl, mac, uuid);
		if (vfs_boots_locally(c, cl, mac))
			rc = boot_render_local(BOOT_LOADER_GRUB, mac, &data, &len);
		else
			rc = boot_render_grub_for(
			    c, &m, root == VFS_ROOT_HTTP ? BOOT_PROTO_HTTP : BOOT_PROTO_TFTP, &data,
			    &len);
	} else {
		return -ENOENT;
	}
	return vfs_rendered(vfs_render_refusal(rc), data, len, "config", out);
}

/*
 * grub/grub.cfg, after the roots: an operator's own file of that name
 * wins; otherwise pxed's, which sends each machine to its own.
 */
static int vfs_open_generic_config(const char *path, struct vfs_file *out)
{
	char *data = NULL;
	size_t len = 0;

	if (strcmp(path, "grub/grub.cfg") != 0)
		return -ENOENT;
	int rc = boot_render_grub_loader(&data, &len);
	return vfs_rendered(rc, data, len, "config", out);
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
	char uuid[VFS_UUID_TEXT];
	const char *slash = strchr(name, '/'), *file = slash != NULL ? slash + 1 : name;
	size_t n = strlen(file);

	if (n != 17 + 5 || strcmp(file + 17, ".ipxe") != 0)
		return -ENOENT;
	memcpy(macs, file, 17);
	macs[17] = '\0';
	if (mac_parse(macs, mac) < 0)
		return -ENOENT;
	const struct boot_machine m = vfs_machine(cl, mac, uuid);
	if (slash != NULL) {
		if (slash == name || (size_t)(slash - name) >= sizeof(profile))
			return -ENOENT;
		memcpy(profile, name, (size_t)(slash - name));
		profile[slash - name] = '\0';
	}
	char *data = NULL;
	size_t len = 0;
	int rc = vfs_boots_locally(c, cl, mac)
		     ? boot_render_local(BOOT_LOADER_IPXE, mac, &data, &len)
		     : boot_render_ipxe_for(c, &m, slash != NULL ? profile : NULL, &data, &len);
	return vfs_rendered(vfs_render_refusal(rc), data, len, "script", out);
}

/*
 * install/<mac>/<name>: a file of the machine's profile's templates:
 * (kickstart, preseed, cloud-init's user-data...), the same over TFTP and
 * HTTP. A MAC without a profile, or a name the profile has no template
 * for, is -ENOENT; nothing under install/ comes from the roots.
 */
static int vfs_open_install(const struct conf *c, const char *path, const struct vfs_client *cl,
			    struct vfs_file *out)
{
	char macs[18];
	uint8_t mac[6];
	char uuid[VFS_UUID_TEXT];
	char *data = NULL;
	size_t len = 0;

	if (strlen(path) < 19 || path[17] != '/' || strchr(path + 18, '/') != NULL)
		return -ENOENT;
	memcpy(macs, path, 17);
	macs[17] = '\0';
	if (mac_parse(macs, mac) < 0)
		return -ENOENT;
	const struct boot_machine m = vfs_machine(cl, mac, uuid);
	int rc = boot_render_install(c, &m, path + 18, &data, &len);
	return vfs_rendered(vfs_render_refusal(rc), data, len, "config", out);
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
	if (strncmp(norm, "install/", 8) == 0)
		return vfs_open_install(c, norm + 8, client, out);
	rc = vfs_open_machine_config(c, root, norm, client, out);
	if (rc != -ENOENT)
		return rc;
	const char *dir = root == VFS_ROOT_TFTP ? c->tftp_root : c->http_root;
	if (dir != NULL) {
		rc = vfs_open_beneath(dir, norm, out);
		if (rc != -ENOENT)
			return rc;
	}
	rc = vfs_open_generic_config(norm, out);
	if (rc != -ENOENT)
		return rc;
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
