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

/*
 * Builds the value of option 43 for a reply to a PXE client (not iPXE) that
 * reached us at server_ip: discovery control, and with a configured menu the
 * boot servers, menu and prompt; in a port-4011 ACK the boot item echoed.
 * Returns the length written to out (0 = send no option 43) or -ENOSPC.
 */
int pxe_build_vendor_opts(const struct conf *c, const struct boot_facts *f,
			  const struct boot_plan *plan, uint32_t server_ip, bool boot_server_reply,
			  uint8_t *out, size_t cap);

/* Reads sub-option 71 (boot item: type, layer) from a request's option 43. */
bool pxe_parse_boot_item(const uint8_t *opt43, size_t len, uint16_t *type, uint16_t *layer);

#endif
