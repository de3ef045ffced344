/*
 * PXE vendor options (option 43, PXE 2.1 §2.4): what the server tells a PXE
 * client about discovery, boot servers and the boot menu, and the boot item
 * (sub-option 71) a client names in a boot-server request on port 4011.
 * Pure: no I/O, no globals.
 */
#ifndef PXED_DHCP_PXE_H
#define PXED_DHCP_PXE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf;
struct boot_facts;
struct boot_plan;
struct conf_pxe_menu;

/*
 * Builds the value of option 43 for a reply to a PXE client that reached us
 * at server_ip:
 *   - plan->pxe_menu: discovery control 3, the boot servers (server_ip for
 *     every item type but 0), the menu and the prompt (PXE 2.1 §2.4.7);
 *     iPXE clients get it too (their PXE menu support, "PXEXT");
 *   - a port-4011 ACK for a boot item: that item (sub-option 71) echoed;
 *   - otherwise discovery control 8 (take this reply's file), or nothing
 *     for iPXE, HTTPClient and non-PXE clients.
 * Returns the length written to out (0 = send no option 43) or -ENOSPC.
 */
int pxe_build_vendor_opts(const struct conf *c, const struct boot_facts *f,
			  const struct boot_plan *plan, uint32_t server_ip, bool boot_server_reply,
			  uint8_t *out, size_t cap);

/* Reads sub-option 71 (boot item: type, layer) from a request's option 43. */
bool pxe_parse_boot_item(const uint8_t *opt43, size_t len, uint16_t *type, uint16_t *layer);

/*
 * The length of option 43 that carries menu m (whatever the server address),
 * or -ENOSPC when it does not fit in the 255 bytes one option 43 holds:
 * PXE clients do not concatenate split options (RFC 3396). For config checks.
 */
int pxe_menu_check(const struct conf_pxe_menu *m);

#endif
