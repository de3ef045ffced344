#include "boot/policy.h"

#include <stdio.h>
#include <string.h>

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

static void boot_plan_url(const struct conf *c, uint32_t server_ip, const char *path,
			  struct boot_plan *p)
{
	char base[64];
	boot_http_base(c, server_ip, base, sizeof(base));
	snprintf(p->file, sizeof(p->file), "%s/%s", base, path);
	p->action = BOOT_URL;
}

void boot_decide(const struct conf *c, const struct boot_facts *f, uint32_t server_ip,
		 struct boot_plan *p)
{
	memset(p, 0, sizeof(*p));
	p->profile = boot_profile_for(c, f->mac, &p->host);
	if (p->profile == NULL) {
		snprintf(p->reason, sizeof(p->reason), "%s",
			 p->host != NULL ? "host has no profile and there is no default profile"
					 : "unknown machine and no default profile");
		return;
	}
	if (f->ipxe) {
		/* iPXE gets its script, never an NBP again: that would loop forever. */
		char mac[18], path[64];
		snprintf(path, sizeof(path), "boot/%s.ipxe", mac_format_dash(mac, f->mac));
		boot_plan_url(c, server_ip, path, p);
		snprintf(p->reason, sizeof(p->reason), "iPXE client: script of profile %s",
			 p->profile->name);
		return;
	}
	uint16_t arch = f->has_arch ? f->arch : 0;
	const struct boot_arch *a = boot_arch_find(arch);
	if (a == NULL || a->nbp == NULL) {
		snprintf(p->reason, sizeof(p->reason), "no boot program for architecture %u (%s)",
			 arch, a != NULL ? a->name : "unknown");
		return;
	}
	if (a->http || f->http_client) {
		boot_plan_url(c, server_ip, a->nbp, p);
	} else {
		snprintf(p->file, sizeof(p->file), "%s", a->nbp);
		p->action = BOOT_TFTP;
	}
	snprintf(p->reason, sizeof(p->reason), "architecture %u (%s): %s, then profile %s", arch,
		 a->name, a->nbp, p->profile->name);
}
