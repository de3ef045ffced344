/*
 * Files rendered per machine from its profile: the iPXE script, the
 * pxelinux (syslinux) configuration and the GRUB configuration. Each boots
 * the profile's kernel and initrds (files/<profile>/...) with the command
 * line boot_cmdline() composes. A profile's templates: (boot/template.h)
 * replace any of the three (names ipxe, pxelinux, grub) and add the files
 * of install/<mac>/<name>; command lines are templates too. Every one is
 * rendered with the same variables, listed in one place: boot_vars_fill()
 * in script.c. Pure: text in a new heap buffer, no I/O.
 *
 * Every renderer returns 0, -ENOENT when the machine has no profile,
 * -EINVAL when the command line holds a control character (a newline would
 * add a directive: refused, never escaped), -ENOSPC or -ENOMEM.
 */
#ifndef PXED_BOOT_SCRIPT_H
#define PXED_BOOT_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf;
struct boot_states;

/* The machine a file is rendered for: what the TFTP or HTTP request tells of it. */
struct boot_machine {
	const uint8_t *mac; /* never NULL */
	uint32_t ip;	    /* host order; 0 = unknown ({{ip}} is empty) */
	uint32_t server_ip; /* the address it reached us on */
	const char *arch;   /* boot_arch_name() of the machine; NULL = unknown ({{arch}} empty) */
	const char *uuid;   /* its client UUID (option 97) as text; NULL = unknown */
	/* Install life cycles (boot/states.h), for {{callback_url}}; NULL = none. */
	const struct boot_states *states;
};

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

/* The loader a configuration is for. */
enum boot_loader { BOOT_LOADER_IPXE, BOOT_LOADER_PXELINUX, BOOT_LOADER_GRUB };

/*
 * The configuration that boots an installed host from its local disk
 * (boot/states.h) instead of its profile: iPXE `exit` and pxelinux
 * `LOCALBOOT 0` hand back to the firmware, which tries its next boot
 * device; GRUB `exit` does the same on UEFI. Only -ENOMEM.
 */
int boot_render_local(enum boot_loader loader, const uint8_t mac[6], char **out, size_t *len);

/*
 * The command line a machine boots with: profile's, then the host's, each
 * rendered as a template. -ENOENT without a profile, -EINVAL for a control
 * character (or a template that does not compile), -ENOSPC.
 */
int boot_cmdline(const struct conf *c, const uint8_t mac[6], char *out, size_t cap);

/*
 * The renderers above for a machine known by more than its MAC: the
 * variables ip, arch and uuid come from m. boot_render_ipxe_for() takes a
 * profile name as boot_render_ipxe_profile() does (NULL: the inventory's).
 */
int boot_render_ipxe_for(const struct conf *c, const struct boot_machine *m, const char *profile,
			 char **out, size_t *len);
int boot_render_pxelinux_for(const struct conf *c, const struct boot_machine *m, char **out,
			     size_t *len);
int boot_render_grub_for(const struct conf *c, const struct boot_machine *m, enum boot_proto proto,
			 char **out, size_t *len);

/*
 * install/<mac>/<name>: the machine's profile's template called name.
 * -ENOENT when the machine has no profile or the profile no such template
 * (the names ipxe, pxelinux and grub are not files of their own), -EINVAL
 * when a value holds a control character, -ENOSPC past TMPL_MAX_OUTPUT.
 */
int boot_render_install(const struct conf *c, const struct boot_machine *m, const char *name,
			char **out, size_t *len);

/* Whether name (len bytes) is a built-in template variable (for the config checker). */
bool boot_template_var_known(const char *name, size_t len);

#endif
