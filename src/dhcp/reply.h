/*
 * The options of one reply, gathered before they are written: later values
 * of a code replace earlier ones (subnet fields, then configured options
 * global -> subnet -> classes -> host, then what PXE requires), and the
 * writer then emits them in the order and within the size the client asked
 * for (RFC 2131 §4.3.1: the parameter request list; option 57).
 */
#ifndef PXED_DHCP_REPLY_H
#define PXED_DHCP_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conf_options;
struct dhcp_builder;

#define DHCP_OPTSET_SCRATCH 8192

struct dhcp_optset {
	bool has[256];
	uint16_t off[256];
	uint16_t len[256];
	uint8_t data[DHCP_OPTSET_SCRATCH];
	size_t used;
};

void dhcp_optset_init(struct dhcp_optset *o);
/* Sets code to v (replacing any earlier value); false if the scratch is full. */
bool dhcp_optset_put(struct dhcp_optset *o, uint8_t code, const void *v, size_t len);
bool dhcp_optset_put_u32(struct dhcp_optset *o, uint8_t code, uint32_t v);
bool dhcp_optset_put_str(struct dhcp_optset *o, uint8_t code, const char *s);
void dhcp_optset_del(struct dhcp_optset *o, uint8_t code);
/* Applies a configured option set on top. */
void dhcp_optset_apply(struct dhcp_optset *o, const struct conf_options *co);

/*
 * Writes the options into b (started with dhcp_build_start): message type
 * and server id first, then the client's parameter request list in its
 * order, then by code what every reply carries (all the rest when the client
 * sent no request list), the relay agent option (82) last (RFC 3046
 * §2.2). Options that would take the message past max_len bytes go into the
 * file field (overload_ok bit 1) and the sname field (bit 2) when those are
 * free, announced by option 52 (RFC 2131 §4.1); what still does not fit is
 * left out, unrequested options first. Returns how many were left out.
 */
size_t dhcp_optset_emit(const struct dhcp_optset *o, struct dhcp_builder *b, const uint8_t *prl,
			size_t prl_len, size_t max_len, unsigned overload_ok);

#endif
