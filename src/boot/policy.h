/*
 * The boot decision: facts a client presented + config -> boot plan.
 * Pure: the same facts always give the same plan. DHCP, proxyDHCP and the
 * port-4011 boot server all ask this one function.
 */
#ifndef PXED_BOOT_POLICY_H
#define PXED_BOOT_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf;
struct conf_class;
struct conf_host;
struct conf_menu_item;
struct conf_profile;
struct conf_program;

/* What a client said about itself in its DHCP request. */
struct boot_facts {
	uint8_t mac[6];
	bool pxe_client;  /* option 60 starts with "PXEClient" */
	bool http_client; /* option 60 starts with "HTTPClient" (UEFI HTTP Boot) */
	bool ipxe;	  /* option 77 "iPXE" or option 175 present */
	bool has_arch;
	uint16_t arch;		   /* option 93, first entry (after any override) */
	bool arch_overridden;	   /* a conf_arch_override replaced what the firmware said */
	uint8_t vendor_class[255]; /* option 60, raw */
	size_t vendor_class_len;
	uint8_t user_class[255]; /* option 77, raw */
	size_t user_class_len;
	uint8_t client_id[255]; /* option 61, raw */
	size_t client_id_len;
	bool has_uuid;	       /* option 97 (RFC 4578 §2.5): type 0 and 16 bytes */
	uint8_t uuid[16];      /* as sent */
	uint32_t relay;	       /* giaddr, host order; 0 = not relayed */
	const char *interface; /* name of the interface it arrived on; NULL = unknown */
	/*
	 * The address that picks the client's subnet (host order): the link
	 * option 82 names, else giaddr, else the receiving interface's
	 * address. 0 = unknown. Filled by the server, not sent as such.
	 */
	uint32_t link;
	bool has_boot_item; /* option 43 sub-option 71 (a port-4011 request) */
	uint16_t boot_item_type;
	uint16_t boot_item_layer;
	/*
	 * has_boot_item comes from the server's memory of this MAC's recent
	 * menu choice, not from this request: the iPXE that the chosen item
	 * loaded asks again without a boot item and must still get that
	 * item's profile. Firmware (not iPXE) ignores a remembered item and
	 * sees the menu again.
	 */
	bool boot_item_remembered;
	/*
	 * The host's provisioning life cycle (boot/states.h) says installed:
	 * it boots from its local disk. Filled by the server from its table,
	 * not sent by the client.
	 */
	bool installed;
};

enum boot_action {
	BOOT_NONE, /* no boot information for this client */
	BOOT_TFTP, /* a network bootstrap program by name over TFTP */
	BOOT_URL,  /* a full URL: iPXE scripts, UEFI HTTP Boot */
	BOOT_MENU, /* a PXE menu (pxe_menu set) whose default is local boot: no file */
};

/* Where the plan's profile came from, most specific first. */
enum boot_source {
	BOOT_SRC_NONE,
	BOOT_SRC_HOST,	  /* the host entry's own profile */
	BOOT_SRC_CLASS,	  /* the first matching class with a profile */
	BOOT_SRC_MENU,	  /* the PXE menu item the client chose (or the default item) */
	BOOT_SRC_DEFAULT, /* the config's default_profile */
};

struct boot_plan {
	enum boot_action action;
	char file[128];			    /* NBP name or URL; fits the BOOTP file field */
	const struct conf_host *host;	    /* NULL when not in the inventory */
	const struct conf_profile *profile; /* NULL when none applies */
	enum boot_source source;	    /* where profile came from */
	const struct conf_class *cls;	    /* BOOT_SRC_CLASS: the class */
	const struct conf_menu_item *item;  /* BOOT_SRC_MENU: the item */
	/*
	 * The reply carries the PXE menu in option 43 (PXE 2.1 §2.4.7); file
	 * is then the default item's, for clients that ignore menus.
	 */
	bool pxe_menu;
	uint16_t arch;	  /* the architecture decided on (after any override) */
	char reason[160]; /* why, in words, for logs and timelines */
};

/*
 * The inventory part of every decision: the host entry for mac (NULL when
 * not in the inventory) and the profile that applies to it (NULL if none).
 */
const struct conf_profile *boot_profile_for(const struct conf *c, const uint8_t mac[6],
					    const struct conf_host **host);

/* Architecture name from the IANA registry ("bios", "efi-x64"...). */
const char *boot_arch_name(uint16_t arch);

/*
 * The program profile p names for arch, or NULL. Architectures are
 * compared by name: a program for efi-x64 is for 7 and 9 alike.
 */
const struct conf_program *boot_profile_program(const struct conf_profile *p, uint16_t arch);

/* Whether file is an iPXE build (by name), which iPXE itself must never get. */
bool boot_program_is_ipxe(const char *file);

/*
 * Decides the plan for a client reaching us at server_ip (host order), in
 * this order:
 *   1. architecture overrides for the MAC's prefix replace option 93;
 *   2. the profile: the host entry's own, else the first matching class
 *      with one, else default_profile;
 *   3. a boot item (sub-option 71 on port 4011, or remembered for iPXE):
 *      that menu item's profile (type 0, local boot: no file; a type not in
 *      the menu: no plan);
 *   4. a PXE menu, for PXE clients (iPXE too) whose host entry names no
 *      profile of its own: the menu, with the default item's file;
 *   5. otherwise the profile: the program it names for the architecture
 *      (programs:), for iPXE too unless that program is an iPXE build;
 *      else the iPXE script for iPXE, else the iPXE build for the
 *      architecture.
 * A host whose life cycle says installed (f->installed) gets the same
 * boot program, whose configuration then boots the local disk (iPXE
 * `exit`, pxelinux LOCALBOOT, GRUB `exit`), and a reason that says so.
 * iPXE scripts are boot/<profile>/<mac>.ipxe when the profile came from a
 * class or a menu item (the HTTP side cannot know either), boot/<mac>.ipxe
 * otherwise. Never fails: a client we cannot serve gets BOOT_NONE and a
 * reason.
 */
void boot_decide(const struct conf *c, const struct boot_facts *f, uint32_t server_ip,
		 struct boot_plan *out);

/* "http://10.0.0.1" or "http://10.0.0.1:8080" (no trailing slash). */
void boot_http_base(const struct conf *c, uint32_t server_ip, char *out, size_t cap);

#endif
