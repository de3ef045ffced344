/* Files rendered per machine: the iPXE script that boots its profile. */
#ifndef PXED_BOOT_SCRIPT_H
#define PXED_BOOT_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

struct conf;

/*
 * Renders the iPXE script for mac into a new heap buffer (*out, *len).
 * server_ip is the address the client reached us on (host order).
 * Returns 0, -ENOENT when the machine has no profile, or -ENOMEM.
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

/* The command line a machine boots with: profile's, then the host's. */
int boot_cmdline(const struct conf *c, const uint8_t mac[6], char *out, size_t cap);

#endif
