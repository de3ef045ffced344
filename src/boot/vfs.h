/*
 * The virtual file tree that TFTP and HTTP both serve. A request path maps to
 * one of, in this order:
 *   - a file rendered for a machine from its profile:
 *       boot/<mac>.ipxe, boot/<profile>/<mac>.ipxe   iPXE scripts
 *       pxelinux.cfg/01-<mac>                         pxelinux configuration
 *       grub/grub.cfg-01-<mac>                        GRUB configuration
 *       install/<mac>/<name>                          the profile's templates:
 *                                                     (kickstart, preseed, cloud-init...)
 *     (a MAC without a profile has none: the name falls through to the roots),
 *   - a profile's kernel or initrd  (files/<profile>/kernel, files/<profile>/initrd<N>),
 *   - a real file beneath the configured root,
 *   - grub/grub.cfg, the same for every machine, that sends GRUB on to the
 *     machine's own (after the root, so an operator's own file wins),
 *   - a built-in network bootstrap program from Debian's packages
 *     (undionly.kpxe, snponly.efi, ipxe.efi, pxelinux.0, lpxelinux.0,
 *     ldlinux.c32, grubnetx64.efi, and for Secure Boot shimx64.efi with the
 *     grubx64.efi and mmx64.efi it loads),
 * and nothing else. Paths are normalised first: backslashes become slashes,
 * and "..", empty components and NULs are refused, so nothing escapes.
 */
#ifndef PXED_BOOT_VFS_H
#define PXED_BOOT_VFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/*
 * Where Debian's grub-efi-amd64-signed and grub-efi-amd64-bin put GRUB's
 * network image (prefix /grub, every module built in). There is no
 * nbp_dirs key for them (yet): an operator with GRUB elsewhere puts it
 * under tftp.root, which is searched first.
 */
#define VFS_GRUB_SIGNED_DIR "/usr/lib/grub/x86_64-efi-signed"
#define VFS_GRUB_BIN_DIR "/usr/lib/grub/x86_64-efi/monolithic"
/* Debian's shim-signed: the first stage signed by Microsoft, for Secure Boot. */
#define VFS_SHIM_DIR "/usr/lib/shim"

struct conf;
struct boot_states;

enum vfs_kind {
	VFS_FILE,     /* fd is open, size is set */
	VFS_RENDERED, /* data/size hold a generated file the caller must free() */
};

struct vfs_file {
	enum vfs_kind kind;
	int fd;	    /* VFS_FILE: open read-only; the caller closes it */
	char *data; /* VFS_RENDERED: heap buffer; the caller frees it */
	uint64_t size;
	/* VFS_FILE: what HTTP validators are made of (its fstat); 0 for rendered files. */
	uint64_t dev, ino;
	struct timespec mtime;
	const char *what; /* timeline step: "nbp", "kernel", "initrd", "script", "config", "file" */
};

/* The text of a UUID, 8-4-4-4-12, with its NUL. */
#define VFS_UUID_TEXT 37

/* Who is asking: used to render per-machine files. */
struct vfs_client {
	const uint8_t *mac; /* may be NULL when unknown */
	uint32_t ip;	    /* host order */
	uint32_t server_ip; /* address the client reached us on */
	/*
	 * What templates know of the machine beyond its MAC ({{arch}},
	 * {{uuid}}, boot/script.h), asked only when a per-machine file is
	 * rendered: fills *arch and *uuid (text in buf) when the requester at
	 * ip is the machine mac and what it told DHCP is known, else leaves
	 * them NULL. NULL: nobody knows.
	 */
	void (*facts)(void *ctx, uint32_t ip, const uint8_t mac[6], const char **arch,
		      const char **uuid, char buf[VFS_UUID_TEXT]);
	void *facts_ctx;
	/* Provisioning life cycles (boot/states.h): an installed MAC boots locally. NULL: none. */
	const struct boot_states *states;
};

enum vfs_root { VFS_ROOT_TFTP, VFS_ROOT_HTTP };

/*
 * Opens path for reading on behalf of client. Returns 0 and fills *out, or
 * -ENOENT (no such file), -EACCES (refused: traversal, not a regular file,
 * outside the root), -EINVAL (malformed path).
 */
int vfs_open(const struct conf *c, enum vfs_root root, const char *path,
	     const struct vfs_client *client, struct vfs_file *out);

/* Releases what vfs_open gave (closes the fd or frees the data). */
void vfs_file_close(struct vfs_file *f);

/*
 * Normalises a peer-supplied path in place: backslashes to '/', leading '/'
 * removed, trailing 0xFF/NUL padding trimmed by the caller's length.
 * Returns 0, or -EACCES for "..", -EINVAL for empty or control characters.
 */
int vfs_normalise(char *path);

#endif
