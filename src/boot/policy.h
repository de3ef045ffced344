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
struct conf_host;
struct conf_profile;

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
	uint32_t relay;	       /* giaddr, host order; 0 = not relayed */
	const char *interface; /* name of the interface it arrived on; NULL = unknown */
	bool has_boot_item;    /* option 43 sub-option 71 (a port-4011 request) */
	uint16_t boot_item_type;
	uint16_t boot_item_layer;
};

enum boot_action {
	BOOT_NONE, /* no boot information for this client */
	BOOT_TFTP, /* a network bootstrap program by name over TFTP */
	BOOT_URL,  /* a full URL: iPXE scripts, UEFI HTTP Boot */
};

struct boot_plan {
	enum boot_action action;
	char file[128];			    /* NBP name or URL; fits the BOOTP file field */
	const struct conf_host *host;	    /* NULL when not in the inventory */
	const struct conf_profile *profile; /* NULL when none applies */
	char reason[160];		    /* why, in words, for logs and timelines */
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
 * Decides the plan for a client reaching us at server_ip (host order).
 * Never fails: a client we cannot serve gets BOOT_NONE and a reason.
 */
void boot_decide(const struct conf *c, const struct boot_facts *f, uint32_t server_ip,
		 struct boot_plan *out);

/* "http://10.0.0.1" or "http://10.0.0.1:8080" (no trailing slash). */
void boot_http_base(const struct conf *c, uint32_t server_ip, char *out, size_t cap);

#endif
