/*
 * Files rendered per machine from its profile: the iPXE script, the
 * pxelinux (syslinux) configuration and the GRUB configuration. Each boots
 * the profile's kernel and initrds (files/<profile>/...) with the command
 * line boot_cmdline() composes. Pure: text in a new heap buffer, no I/O.
 *
 * Every renderer returns 0, -ENOENT when the machine has no profile,
 * -EINVAL when the command line holds a control character (a newline would
 * add a directive: refused, never escaped), -ENOSPC or -ENOMEM.
 */
#ifndef PXED_BOOT_SCRIPT_H
#define PXED_BOOT_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

struct conf;

/* The protocol a loader fetched its configuration with, and fetches the rest with. */
enum boot_proto { BOOT_PROTO_TFTP, BOOT_PROTO_HTTP };

/*
 * Renders the iPXE script for mac into a new heap buffer (*out, *len).
 * server_ip is the address the client reached us on (host order).
 */
int boot_render_ipxe(const struct conf *c, const uint8_t mac[6], uint32_t server_ip, char **out,
		     size_t *len);

/*
 * The same for a named profile (a class's or a PXE menu item's) instead of
 * the inventory's; the host entry's command line is still appended. profile
 * NULL is boot_render_ipxe(). -ENOENT when no such profile exists.
 */
int boot_render_ipxe_profile(const struct conf *c, const uint8_t mac[6], const char *profile,
			     uint32_t server_ip, char **out, size_t *len);

/*
 * pxelinux.cfg/01-<mac>: a syslinux configuration whose one label boots
 * the profile. Its paths are relative, so pxelinux fetches the kernel the
 * way it fetched the file: TFTP for pxelinux.0, TFTP or HTTP for lpxelinux.0.
 */
int boot_render_pxelinux(const struct conf *c, const uint8_t mac[6], char **out, size_t *len);

/*
 * grub/grub.cfg-01-<mac>: a GRUB configuration whose one menu entry loads
 * the kernel and initrds from (tftp,<server>) or (http,<server>), the
 * protocol proto the configuration itself came over.
 */
int boot_render_grub(const struct conf *c, const uint8_t mac[6], enum boot_proto proto,
		     uint32_t server_ip, char **out, size_t *len);

/*
 * grub/grub.cfg, the same for every machine: GRUB reads it first and it
 * hands over to grub.cfg-01-<the machine's MAC> beside it. Only -ENOMEM.
 */
int boot_render_grub_loader(char **out, size_t *len);

/* The command line a machine boots with: profile's, then the host's. */
int boot_cmdline(const struct conf *c, const uint8_t mac[6], char *out, size_t cap);

#endif
