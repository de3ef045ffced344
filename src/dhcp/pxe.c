#include "dhcp/pxe.h"

#include <errno.h>
#include <string.h>

#include "boot/policy.h"
#include "core/buf.h"
#include "dhcp/wire.h"

int pxe_build_vendor_opts(const struct conf *c, const struct boot_facts *f,
			  const struct boot_plan *plan, uint32_t server_ip, bool boot_server_reply,
			  uint8_t *out, size_t cap)
{
	/* Discovery control 8: take the boot file from this reply, no menu. */
	static const uint8_t pxe43[] = {PXE_SUBOPT_DISCOVERY_CONTROL, 1, 8, 255};
	if (!f->pxe_client || f->ipxe)
		return 0;
	if (cap < sizeof(pxe43))
		return -ENOSPC;
	memcpy(out, pxe43, sizeof(pxe43));
	return sizeof(pxe43);
}

bool pxe_parse_boot_item(const uint8_t *opt43, size_t len, uint16_t *type, uint16_t *layer)
{
	struct rd r = rd_init(opt43, len);
	while (rd_left(&r) >= 2) {
		uint8_t code = rd_u8(&r), l = rd_u8(&r);
		if (code == 255)
			break;
		const uint8_t *v = rd_take(&r, l);
		if (v == NULL)
			return false;
		if (code == PXE_SUBOPT_BOOT_ITEM && l == 4) {
			*type = (uint16_t)(v[0] << 8 | v[1]);
			*layer = (uint16_t)(v[2] << 8 | v[3]);
			return true;
		}
	}
	return false;
}
