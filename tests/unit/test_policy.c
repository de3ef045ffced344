/* The boot decision: facts -> plan, as a table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "boot/policy.h"
#include "boot/script.h"
#include "conf/config.h"

#define SERVER 0x0a4d0001u /* 10.77.0.1 */

static struct conf *make_conf(bool with_default)
{
	struct conf *c = conf_new_defaults();
	struct conf_profile *p = &c->profiles[c->n_profiles++];
	p->name = strdup("linux");
	p->kernel = strdup("/boot/vmlinuz");
	p->initrds[p->n_initrds++] = strdup("/boot/initrd.img");
	p->cmdline = strdup("console=ttyS0");
	c->hosts = calloc(1, sizeof(*c->hosts));
	c->n_hosts = 1;
	const uint8_t mac[6] = {0x52, 0x54, 0, 0, 0, 0x09};
	memcpy(c->hosts[0].mac, mac, 6);
	c->hosts[0].profile = strdup("linux");
	c->hosts[0].cmdline = strdup("role=db");
	if (with_default)
		c->default_profile = strdup("linux");
	return c;
}

struct plan_case {
	const char *name;
	bool pxe, http, ipxe, has_arch;
	uint16_t arch;
	uint8_t last_mac_byte;
	enum boot_action want;
	const char *file;
};

static const struct plan_case plan_cases[] = {
    {"BIOS PXE ROM", true, false, false, true, 0, 1, BOOT_TFTP, "undionly.kpxe"},
    {"no option 93 means BIOS", true, false, false, false, 0, 1, BOOT_TFTP, "undionly.kpxe"},
    {"EFI x64 (7)", true, false, false, true, 7, 1, BOOT_TFTP, "snponly.efi"},
    {"EFI x64 (9, RFC 4578)", true, false, false, true, 9, 1, BOOT_TFTP, "snponly.efi"},
    {"UEFI HTTP x64", false, true, false, true, 16, 1, BOOT_URL, "http://10.77.0.1/ipxe.efi"},
    {"iPXE gets its script", true, false, true, true, 7, 1, BOOT_URL,
     "http://10.77.0.1/boot/52-54-00-00-00-01.ipxe"},
    {"EFI ARM64 has no program", true, false, false, true, 11, 1, BOOT_NONE, ""},
    {"unknown architecture 999", true, false, false, true, 999, 1, BOOT_NONE, ""},
};

static void test_plans(void **state)
{
	struct conf *c = make_conf(true);
	for (size_t i = 0; i < sizeof(plan_cases) / sizeof(plan_cases[0]); i++) {
		const struct plan_case *pc = &plan_cases[i];
		struct boot_facts f = {.mac = {0x52, 0x54, 0, 0, 0, pc->last_mac_byte},
				       .pxe_client = pc->pxe,
				       .http_client = pc->http,
				       .ipxe = pc->ipxe,
				       .has_arch = pc->has_arch,
				       .arch = pc->arch};
		struct boot_plan p;
		boot_decide(c, &f, SERVER, &p);
		if (p.action != pc->want || strcmp(p.file, pc->file) != 0)
			fail_msg("%s: got action %d file '%s' (%s)", pc->name, p.action, p.file,
				 p.reason);
		assert_true(p.reason[0] != '\0');
	}
	conf_free(c);
}

static void test_unknown_machine_without_default(void **state)
{
	struct conf *c = make_conf(false);
	struct boot_facts f = {.mac = {0x52, 0x54, 0, 0, 0, 1}, .pxe_client = true};
	struct boot_plan p;
	boot_decide(c, &f, SERVER, &p);
	assert_int_equal(p.action, BOOT_NONE);
	assert_non_null(strstr(p.reason, "unknown machine"));
	/* The host in the inventory still boots its profile. */
	f.mac[5] = 9;
	boot_decide(c, &f, SERVER, &p);
	assert_int_equal(p.action, BOOT_TFTP);
	assert_non_null(p.host);
	assert_string_equal(p.profile->name, "linux");
	conf_free(c);
}

static void test_script_and_cmdline(void **state)
{
	struct conf *c = make_conf(false);
	const uint8_t mac[6] = {0x52, 0x54, 0, 0, 0, 9};
	char *s;
	size_t len;
	c->http_port = 8080;
	assert_int_equal(boot_render_ipxe(c, mac, SERVER, &s, &len), 0);
	assert_int_equal(strlen(s), len);
	assert_true(strncmp(s, "#!ipxe\n", 7) == 0);
	assert_non_null(strstr(s, "kernel http://10.77.0.1:8080/files/linux/kernel "
				  "initrd=initrd0 console=ttyS0 role=db\n"));
	assert_non_null(
	    strstr(s, "initrd --name initrd0 http://10.77.0.1:8080/files/linux/initrd0\n"));
	assert_non_null(strstr(s, "\nboot\n"));
	free(s);
	const uint8_t stranger[6] = {0x52, 0x54, 0, 0, 0, 1};
	assert_int_equal(boot_render_ipxe(c, stranger, SERVER, &s, &len), -2 /* -ENOENT */);
	conf_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plans),
	    cmocka_unit_test(test_unknown_machine_without_default),
	    cmocka_unit_test(test_script_and_cmdline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
