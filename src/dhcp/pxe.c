#include "dhcp/pxe.h"

#include <errno.h>
#include <string.h>

#include "boot/policy.h"
#include "conf/config.h"
#include "core/buf.h"
#include "dhcp/wire.h"

/*
 * PXE_DISCOVERY_CONTROL (sub-option 6, PXE 2.1 §2.4.5, Table 2-1):
 *   bit 0  disable broadcast discovery
 *   bit 1  disable multicast discovery
 *   bit 2  accept replies only from the servers in PXE_BOOT_SERVERS
 *   bit 3  the boot file in this reply is the one to load: no prompt, no menu
 */
#define PXE_DISC_NO_BROADCAST 0x01
#define PXE_DISC_NO_MULTICAST 0x02
#define PXE_DISC_LIST_ONLY 0x04
#define PXE_DISC_USE_BOOTFILE 0x08

/*
 * With a menu: unicast to the boot servers listed in sub-option 8 (us), no
 * broadcast, no multicast; replies from any server are accepted. This is what
 * dnsmasq sends with its pxe-service menus, and what EDK2 (PxeBcBoot.c) and
 * iPXE (start_pxebs) both turn into one unicast REQUEST to port 4011.
 */
#define PXE_MENU_DISCOVERY (PXE_DISC_NO_BROADCAST | PXE_DISC_NO_MULTICAST)

/*
 * A menu needs sub-option 10 even without a configured text: without it
 * iPXE shows the menu at once and waits for a key forever, while EDK2 boots
 * the default item at once. Both clients open the menu with F8.
 */
static const char pxe_default_prompt[] = "Press F8 for the boot menu";

/* Writes one sub-option's code and reserves its length byte. */
static size_t pxe_sub_begin(struct wr *w, uint8_t code)
{
	wr_u8(w, code);
	wr_u8(w, 0);
	return w->len;
}

/* Patches the length of the sub-option begun at `start`; over 255 is an error. */
static void pxe_sub_end(struct wr *w, size_t start)
{
	size_t n = w->len - start;
	if (w->err || n > 255) {
		w->err = true;
		return;
	}
	w->p[start - 1] = (uint8_t)n;
}

/* Sub-option 8: one entry per distinct boot server type (not 0, local boot). */
static void pxe_put_boot_servers(struct wr *w, const struct conf_pxe_menu *m, uint32_t server_ip)
{
	size_t start = pxe_sub_begin(w, PXE_SUBOPT_BOOT_SERVERS);
	for (size_t i = 0; i < m->n_items; i++) {
		bool seen = m->items[i].type == 0;
		for (size_t j = 0; j < i && !seen; j++)
			seen = m->items[j].type == m->items[i].type;
		if (seen)
			continue;
		wr_u16(w, m->items[i].type);
		wr_u8(w, 1); /* IP count */
		wr_u32(w, server_ip);
	}
	pxe_sub_end(w, start);
}

/* Sub-option 9: type, description length, description; the first is the default. */
static void pxe_put_boot_menu(struct wr *w, const struct conf_pxe_menu *m)
{
	size_t start = pxe_sub_begin(w, PXE_SUBOPT_BOOT_MENU);
	for (size_t i = 0; i < m->n_items; i++) {
		const char *label = m->items[i].label != NULL ? m->items[i].label : "";
		size_t n = strlen(label);
		if (n > 255) {
			w->err = true;
			return;
		}
		wr_u16(w, m->items[i].type);
		wr_u8(w, (uint8_t)n);
		wr_bytes(w, label, n);
	}
	pxe_sub_end(w, start);
}

/* Sub-option 10: timeout in seconds (0 = boot the default, 255 = menu now), text. */
static void pxe_put_prompt(struct wr *w, const struct conf_pxe_menu *m)
{
	const char *text = m->prompt != NULL ? m->prompt : pxe_default_prompt;
	size_t start = pxe_sub_begin(w, PXE_SUBOPT_MENU_PROMPT);
	wr_u8(w, m->timeout_s);
	wr_bytes(w, text, strlen(text));
	pxe_sub_end(w, start);
}

static void pxe_put_menu(struct wr *w, const struct conf_pxe_menu *m, uint32_t server_ip)
{
	size_t start = pxe_sub_begin(w, PXE_SUBOPT_DISCOVERY_CONTROL);
	wr_u8(w, PXE_MENU_DISCOVERY);
	pxe_sub_end(w, start);
	pxe_put_boot_servers(w, m, server_ip);
	pxe_put_boot_menu(w, m);
	pxe_put_prompt(w, m);
}

static int pxe_finish(struct wr *w)
{
	wr_u8(w, DHCP_OPT_END);
	return w->err ? -ENOSPC : (int)w->len;
}

int pxe_menu_check(const struct conf_pxe_menu *m)
{
	uint8_t buf[255];
	struct wr w = wr_init(buf, sizeof(buf));
	pxe_put_menu(&w, m, 0);
	return pxe_finish(&w);
}

int pxe_build_vendor_opts(const struct conf *c, const struct boot_facts *f,
			  const struct boot_plan *plan, uint32_t server_ip, bool boot_server_reply,
			  uint8_t *out, size_t cap)
{
	struct wr w = wr_init(out, cap);
	/* A boot server ACK names the item it answers (PXE 2.1 §2.2.5); iPXE checks it. */
	bool echo_item = boot_server_reply && f->has_boot_item && !f->boot_item_remembered;

	if (!f->pxe_client || f->http_client)
		return 0;
	if (plan->pxe_menu && c->pxe_menu != NULL) {
		pxe_put_menu(&w, c->pxe_menu, server_ip);
	} else if (echo_item) {
		size_t start = pxe_sub_begin(&w, PXE_SUBOPT_BOOT_ITEM);
		wr_u16(&w, f->boot_item_type);
		wr_u16(&w, f->boot_item_layer);
		pxe_sub_end(&w, start);
	} else if (f->ipxe) {
		/* iPXE needs no discovery control to take the file it is given. */
		return 0;
	} else {
		size_t start = pxe_sub_begin(&w, PXE_SUBOPT_DISCOVERY_CONTROL);
		wr_u8(&w, PXE_DISC_USE_BOOTFILE);
		pxe_sub_end(&w, start);
	}
	return pxe_finish(&w);
}

bool pxe_parse_boot_item(const uint8_t *opt43, size_t len, uint16_t *type, uint16_t *layer)
{
	struct rd r = rd_init(opt43, len);
	while (rd_left(&r) > 0) {
		uint8_t code = rd_u8(&r);
		if (code == DHCP_OPT_END)
			break;
		if (code == DHCP_OPT_PAD)
			continue; /* one byte, no length (as in the options field) */
		uint8_t l = rd_u8(&r);
		const uint8_t *v = rd_take(&r, l);
		if (v == NULL)
			return false; /* runs past the option: the whole option is suspect */
		if (code != PXE_SUBOPT_BOOT_ITEM)
			continue;
		if (l != 4)
			return false;
		*type = (uint16_t)(v[0] << 8 | v[1]);
		*layer = (uint16_t)(v[2] << 8 | v[3]);
		return true;
	}
	return false;
}
