/*
 * libFuzzer target: the DHCPv4 decoder and the accessors a handler calls.
 * Build (clang):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *     tests/fuzz/fuzz_dhcp.c src/dhcp/wire.c src/core/buf.c -o fuzz_dhcp
 */
#include <stddef.h>
#include <stdint.h>

#include "dhcp/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dhcp_msg m;
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	size_t len;

	if (dhcp_decode(data, size, &m) != DHCP_OK)
		return 0;
	for (int code = 0; code < 256; code++) {
		const uint8_t *p = dhcp_opt(&m, (uint8_t)code, &len);
		if (p != NULL && len > 0 && (p[0] == 0xff || p[len - 1] == 0xff))
			v8 = 1; /* touch both ends: ASan catches an out-of-range view */
	}
	(void)dhcp_opt_u8(&m, DHCP_OPT_MSG_TYPE, &v8);
	(void)dhcp_opt_u16(&m, DHCP_OPT_MAX_SIZE, &v16);
	(void)dhcp_opt_ip(&m, DHCP_OPT_REQUESTED_IP, &v32);
	return 0;
}
