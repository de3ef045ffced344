#include "boot/policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "boot/classes.h"
#include "conf/config.h"
#include "core/util.h"

/*
 * Processor architectures (RFC 4578 §2.1 and the IANA "Processor
 * Architecture Types" registry). RFC 4578 and IANA disagree on 7 and 9: both
 * are EFI x64 in practice. `nbp` is the Debian-packaged iPXE build that runs
 * there; NULL where Debian ships none for that architecture.
 */
struct boot_arch {
	uint16_t code;
	const char *name;
	const char *nbp;
	bool http; /* UEFI HTTP Boot: the boot file must be a URL */
};

static const struct boot_arch boot_arches[] = {
    {0, "bios", "undionly.kpxe", false},
    {1, "nec-pc98", NULL, false},
    {2, "efi-itanium", NULL, false},
    {3, "dec-alpha", NULL, false},
    {4, "arc-x86", NULL, false},
    {5, "intel-lean-client", NULL, false},
    {6, "efi-ia32", NULL, false},
    {7, "efi-x64", "snponly.efi", false},
    {8, "efi-xscale", NULL, false},
    {9, "efi-x64", "snponly.efi", false},
    {10, "efi-arm32", NULL, false},
    {11, "efi-arm64", NULL, false},
    {12, "ppc-openfirmware", NULL, false},
    {13, "ppc-epapr", NULL, false},
    {14, "ppc-opal", NULL, false},
    {15, "efi-ia32-http", NULL, true},
    {16, "efi-x64-http", "ipxe.efi", true},
    {17, "efi-ebc-http", NULL, true},
    {18, "efi-arm32-http", NULL, true},
    {19, "efi-arm64-http", NULL, true},
    {20, "bios-http", NULL, true},
    {21, "efi-arm32-uboot", NULL, false},
    {22, "efi-arm64-uboot", NULL, false},
    {23, "efi-arm32-uboot-http", NULL, true},
    {24, "efi-arm64-uboot-http", NULL, true},
    {25, "efi-riscv32", NULL, false},
    {26, "efi-riscv32-http", NULL, true},
    {27, "efi-riscv64", NULL, false},
    {28, "efi-riscv64-http", NULL, true},
    {29, "efi-riscv128", NULL, false},
    {30, "efi-riscv128-http", NULL, true},
    {31, "s390-basic", NULL, false},
    {32, "s390-extended", NULL, false},
    {33, "efi-mips32", NULL, false},
    {34, "efi-mips64", NULL, false},
    {35, "efi-sunway32", NULL, false},
    {36, "efi-sunway64", NULL, false},
    {37, "efi-loongarch32", NULL, false},
    {38, "efi-loongarch32-http", NULL, true},
    {39, "efi-loongarch64", NULL, false},
    {40, "efi-loongarch64-http", NULL, true},
    {41, "arm-rpiboot", NULL, false},
};

static const struct boot_arch *boot_arch_find(uint16_t code)
{
	for (size_t i = 0; i < PXED_ARRAY_LEN(boot_arches); i++)
		if (boot_arches[i].code == code)
			return &boot_arches[i];
	return NULL;
}

const char *boot_arch_name(uint16_t arch)
{
	const struct boot_arch *a = boot_arch_find(arch);
	return a != NULL ? a->name : "unknown";
}

void boot_http_base(const struct conf *c, uint32_t server_ip, char *out, size_t cap)
{
	char ip[16];
	ip4_format(ip, c->server_address != 0 ? c->server_address : server_ip);
	if (c->http_port == 80)
		snprintf(out, cap, "http://%s", ip);
	else
		snprintf(out, cap, "http://%s:%u", ip, c->http_port);
}

const struct conf_profile *boot_profile_for(const struct conf *c, const uint8_t mac[6],
					    const struct conf_host **host)
{
	*host = conf_find_host(c, mac);
	const char *name =
	    *host != NULL && (*host)->profile != NULL ? (*host)->profile : c->default_profile;
	return name != NULL ? conf_find_profile(c, name) : NULL;
}

/* Layer bit 15 asks for a PXE BIS credential (PXE 2.1 §2.4.7.2); not offered. */
#define BOOT_LAYER_BIS 0x8000u

static void boot_reason(struct boot_plan *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void boot_reason(struct boot_plan *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->reason, sizeof(p->reason), fmt, ap);
	va_end(ap);
}

/* Firmware that lies about its architecture: the MAC prefix's override wins. */
static void boot_apply_arch_override(const struct conf *c, struct boot_facts *f)
{
	uint16_t arch;
	if (f->arch_overridden || !boot_arch_override(c, f->mac, &arch))
		return;
	f->arch = arch;
	f->has_arch = true;
	f->arch_overridden = true;
}

/* The host's own profile, else the first matching class's, else the default. */
static void boot_choose_profile(const struct conf *c, const struct boot_facts *f,
				struct boot_plan *p)
{
	const struct conf_class *matched[CONF_MAX_CLASSES];

	p->host = conf_find_host(c, f->mac);
	if (p->host != NULL && p->host->profile != NULL) {
		p->profile = conf_find_profile(c, p->host->profile);
		p->source = BOOT_SRC_HOST;
		return;
	}
	size_t n = boot_classes_match(c, f, matched, PXED_ARRAY_LEN(matched));
	for (size_t i = 0; i < n; i++) {
		if (matched[i]->profile == NULL)
			continue;
		p->profile = conf_find_profile(c, matched[i]->profile);
		p->cls = matched[i];
		p->source = BOOT_SRC_CLASS;
		return;
	}
	if (c->default_profile != NULL) {
		p->profile = conf_find_profile(c, c->default_profile);
		p->source = BOOT_SRC_DEFAULT;
	}
}

/* "host db1", "class efi", "menu item 2 (Rescue)", "default profile". */
static void boot_source_words(const struct boot_plan *p, char *out, size_t cap)
{
	switch (p->source) {
	case BOOT_SRC_HOST:
		snprintf(out, cap, "host %s", p->host->name != NULL ? p->host->name : "entry");
		break;
	case BOOT_SRC_CLASS:
		snprintf(out, cap, "class %s", p->cls->name != NULL ? p->cls->name : "?");
		break;
	case BOOT_SRC_MENU:
		snprintf(out, cap, "menu item %u (%s)", p->item->type,
			 p->item->label != NULL ? p->item->label : "");
		break;
	default:
		snprintf(out, cap, "default profile");
	}
}

/* A URL as boot file; one too long for the BOOTP file field gives no plan. */
static void boot_plan_url(const struct conf *c, uint32_t server_ip, const char *path,
			  struct boot_plan *p)
{
	char base[64];
	boot_http_base(c, server_ip, base, sizeof(base));
	int n = snprintf(p->file, sizeof(p->file), "%s/%s", base, path);
	if (n < 0 || (size_t)n >= sizeof(p->file)) {
		p->file[0] = '\0';
		return;
	}
	p->action = BOOT_URL;
}

/*
 * The script URL for an iPXE client. The HTTP side renders boot/<mac>.ipxe
 * from the inventory alone, so a profile that came from a class or a menu
 * item travels in the path.
 */
static void boot_plan_script(const struct conf *c, const struct boot_facts *f, uint32_t server_ip,
			     struct boot_plan *p)
{
	char mac[18], path[2 * sizeof(p->file)];
	int n;
	mac_format_dash(mac, f->mac);
	if (p->source == BOOT_SRC_CLASS || p->source == BOOT_SRC_MENU)
		n = snprintf(path, sizeof(path), "boot/%s/%s.ipxe", p->profile->name, mac);
	else
		n = snprintf(path, sizeof(path), "boot/%s.ipxe", mac);
	if (n > 0 && (size_t)n < sizeof(path))
		boot_plan_url(c, server_ip, path, p); /* which refuses what the field cannot hold */
}

const struct conf_program *boot_profile_program(const struct conf_profile *p, uint16_t arch)
{
	const char *name = boot_arch_name(arch);
	if (strcmp(name, "unknown") == 0)
		return NULL;
	for (size_t i = 0; i < p->n_programs; i++)
		if (strcmp(boot_arch_name(p->programs[i].arch), name) == 0)
			return &p->programs[i];
	return NULL;
}

/*
 * iPXE's own builds, which must never be handed to iPXE: it would run
 * itself again and ask again, forever. Debian's names (the built-ins), and
 * by their look any other: a name with "ipxe" in it, or one of iPXE's
 * .kpxe and .kkpxe formats.
 */
bool boot_program_is_ipxe(const char *file)
{
	static const char *const ipxe_builtins[] = {"undionly.kpxe", "undionly.kkpxe",
						    "snponly.efi", "ipxe.efi", "ipxe.pxe"};
	const char *base = strrchr(file, '/') != NULL ? strrchr(file, '/') + 1 : file;
	size_t n = strlen(base);

	for (size_t i = 0; i < PXED_ARRAY_LEN(ipxe_builtins); i++)
		if (strcmp(base, ipxe_builtins[i]) == 0)
			return true;
	return strcasestr(base, "ipxe") != NULL || (n > 4 && strcasecmp(base + n - 4, "kpxe") == 0);
}

/* The program, by name (TFTP) or as a URL (UEFI HTTP Boot); false when it does not fit. */
static bool boot_plan_program(const struct conf *c, const struct boot_facts *f,
			      const struct boot_arch *a, uint32_t server_ip, const char *file,
			      struct boot_plan *p)
{
	if ((a != NULL && a->http) || f->http_client) {
		boot_plan_url(c, server_ip, file, p);
		return p->action == BOOT_URL;
	}
	int n = snprintf(p->file, sizeof(p->file), "%s", file);
	if (n < 0 || (size_t)n >= sizeof(p->file)) {
		p->file[0] = '\0';
		return false;
	}
	p->action = BOOT_TFTP;
	return true;
}

/*
 * The profile's own program for the architecture. Firmware that is iPXE
 * (QEMU's and some NICs' option ROMs) runs it too, as the operator asked,
 * unless it is an iPXE build, which iPXE must never be given.
 */
static void boot_plan_profile_program(const struct conf *c, const struct boot_facts *f,
				      uint32_t server_ip, const struct conf_program *prog,
				      const char *src, struct boot_plan *p)
{
	const struct boot_arch *a = boot_arch_find(p->arch);
	const char *aname = boot_arch_name(prog->arch);

	if (!boot_plan_program(c, f, a, server_ip, prog->file, p)) {
		boot_reason(p, "%s: %s, profile %s's %s program: name too long for the boot file",
			    src, prog->file, p->profile->name, aname);
		return;
	}
	boot_reason(p, "%s: %sarchitecture %u (%s): %s, profile %s's %s program", src,
		    f->ipxe ? "iPXE client, " : "", p->arch, aname, prog->file, p->profile->name,
		    aname);
}

/* p->profile is set: the file that boots it on this client. */
static void boot_plan_profile(const struct conf *c, const struct boot_facts *f, uint32_t server_ip,
			      struct boot_plan *p)
{
	const struct conf_program *prog = boot_profile_program(p->profile, p->arch);
	char src[80];
	boot_source_words(p, src, sizeof(src));
	if (prog != NULL && !(f->ipxe && boot_program_is_ipxe(prog->file))) {
		boot_plan_profile_program(c, f, server_ip, prog, src, p);
		return;
	}
	if (f->ipxe) {
		/* iPXE gets its script, never an NBP again: that would loop forever. */
		boot_plan_script(c, f, server_ip, p);
		if (p->action == BOOT_NONE)
			boot_reason(p, "%s: iPXE client: script URL too long for profile %s", src,
				    p->profile->name);
		else
			boot_reason(p, "%s: iPXE client: script of profile %s", src,
				    p->profile->name);
		return;
	}
	const struct boot_arch *a = boot_arch_find(p->arch);
	if (a == NULL || a->nbp == NULL) {
		boot_reason(p, "%s: no boot program for architecture %u (%s)", src, p->arch,
			    a != NULL ? a->name : "unknown");
		return;
	}
	boot_plan_program(c, f, a, server_ip, a->nbp, p);
	boot_reason(p, "%s: architecture %u (%s): %s, then profile %s", src, p->arch, a->name,
		    a->nbp, p->profile->name);
}

/* Points p at menu item it: its profile, or local boot for type 0. */
static void boot_plan_item(const struct conf *c, const struct boot_facts *f, uint32_t server_ip,
			   const struct conf_menu_item *it, struct boot_plan *p)
{
	p->item = it;
	p->source = BOOT_SRC_MENU;
	p->profile = it->profile != NULL ? conf_find_profile(c, it->profile) : NULL;
	if (it->type == 0) {
		p->profile = NULL;
		boot_reason(p, "menu item 0 (%s): local boot, no file",
			    it->label != NULL ? it->label : "");
		return;
	}
	if (p->profile == NULL) {
		boot_reason(p, "menu item %u names no profile that exists", it->type);
		return;
	}
	boot_plan_profile(c, f, server_ip, p);
}

static const struct conf_menu_item *boot_menu_item(const struct conf_pxe_menu *m, uint16_t type)
{
	for (size_t i = 0; i < m->n_items; i++)
		if (m->items[i].type == type)
			return &m->items[i];
	return NULL;
}

/*
 * A boot item counts when a menu is configured and the item is this
 * request's own (port 4011), or remembered for the iPXE the item loaded.
 */
static bool boot_item_applies(const struct conf *c, const struct boot_facts *f)
{
	return c->pxe_menu != NULL && f->has_boot_item && (!f->boot_item_remembered || f->ipxe);
}

/* PXE 2.1 boot server discovery: the item the client chose (sub-option 71). */
static void boot_decide_item(const struct conf *c, const struct boot_facts *f, uint32_t server_ip,
			     struct boot_plan *p)
{
	const struct conf_menu_item *it = boot_menu_item(c->pxe_menu, f->boot_item_type);
	if ((f->boot_item_layer & BOOT_LAYER_BIS) != 0) {
		boot_reason(p, "boot item %u asks for PXE BIS credentials (layer %#x): not offered",
			    f->boot_item_type, f->boot_item_layer);
		return;
	}
	if (it == NULL) {
		boot_reason(p, "boot item type %u is not in the PXE menu", f->boot_item_type);
		return;
	}
	boot_plan_item(c, f, server_ip, it, p);
}

/* The menu is for PXE clients whose host entry does not pin a profile. */
static bool boot_menu_applies(const struct conf *c, const struct boot_facts *f,
			      const struct boot_plan *p)
{
	return c->pxe_menu != NULL && c->pxe_menu->n_items > 0 && f->pxe_client &&
	       !f->http_client && p->source != BOOT_SRC_HOST;
}

/*
 * The menu, and the file of its default (first) item: what a client that
 * times out boots anyway, and what one that ignores option 43 boots at once.
 */
static void boot_decide_menu(const struct conf *c, const struct boot_facts *f, uint32_t server_ip,
			     struct boot_plan *p)
{
	const struct conf_pxe_menu *m = c->pxe_menu;
	char why[sizeof(p->reason)];

	boot_plan_item(c, f, server_ip, &m->items[0], p);
	if (p->action == BOOT_NONE && m->items[0].type != 0)
		return; /* the default item cannot boot here: neither can the menu */
	if (p->action == BOOT_NONE)
		p->action = BOOT_MENU;
	p->pxe_menu = true;
	snprintf(why, sizeof(why), "%s", p->reason);
	boot_reason(p, "PXE menu of %zu items, default %s", m->n_items, why);
}

/*
 * An installed host: the program stays (the machine's loader must be told,
 * and the configuration it fetches says boot locally: iPXE `exit`,
 * pxelinux LOCALBOOT, GRUB `exit`), the reason says why.
 */
static void boot_plan_local(struct boot_plan *p)
{
	char src[80];

	boot_source_words(p, src, sizeof(src));
	if (p->action == BOOT_NONE)
		boot_reason(p, "%s: installed: boots from its local disk (no boot program here)",
			    src);
	else
		boot_reason(p, "%s: installed: boots from its local disk (%s tells it to)", src,
			    p->file);
}

void boot_decide(const struct conf *c, const struct boot_facts *in, uint32_t server_ip,
		 struct boot_plan *p)
{
	struct boot_facts f = *in;

	memset(p, 0, sizeof(*p));
	boot_apply_arch_override(c, &f);
	p->arch = f.has_arch ? f.arch : 0;
	boot_choose_profile(c, &f, p);
	if (boot_item_applies(c, &f))
		boot_decide_item(c, &f, server_ip, p);
	else if (boot_menu_applies(c, &f, p))
		boot_decide_menu(c, &f, server_ip, p);
	else if (p->profile == NULL)
		boot_reason(p, "%s",
			    p->host != NULL ? "host has no profile and there is no default profile"
					    : "unknown machine and no default profile");
	else
		boot_plan_profile(c, &f, server_ip, p);
	if (f.installed && p->host != NULL)
		boot_plan_local(p);
	if (f.arch_overridden) {
		size_t n = strlen(p->reason);
		snprintf(p->reason + n, sizeof(p->reason) - n, " [arch %u by override]", f.arch);
	}
}
