/*
 * A profile's boot programs per architecture (programs:): what the loader
 * keeps, and every refusal with its exact "file:line: message".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "boot/policy.h"
#include "conf/config.h"
#include "core/util.h"

static char tmpdir[] = "/tmp/test_programs.XXXXXX";

static int group_setup(void **state)
{
	char p[PATH_MAX];
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(p, sizeof(p), "%s/vmlinuz", tmpdir);
	FILE *f = fopen(p, "w");
	if (f == NULL)
		return -1;
	fputs("kernel", f);
	fclose(f);
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The head every case shares: lines 1-4; the programs begin on line 5. */
#define HEAD                                                                                       \
	"dhcp: {mode: off}\n"                                                                      \
	"profiles:\n"                                                                              \
	"  p:\n"                                                                                   \
	"    kernel: vmlinuz\n"

static int load(const char *yaml, char path[PATH_MAX], struct conf **c, struct conf_errors *errs)
{
	snprintf(path, PATH_MAX, "%s/pxed-XXXXXX.yaml", tmpdir);
	int fd = mkstemps(path, 5);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
	*c = NULL;
	return conf_load(path, c, errs);
}

static void test_programs_parsed(void **state)
{
	struct conf_errors errs = {0};
	struct conf *c;
	char path[PATH_MAX];
	int rc = load(HEAD "    programs:\n"
			   "      bios: pxelinux.0\n"
			   "      efi-x64: grubnetx64.efi\n"
			   "      efi-x64-http: grub/x64/grubnetx64.efi\n"
			   "      efi-arm64: boot+arm/grub_aa64-v2.efi\n",
		      path, &c, &errs);
	for (size_t i = 0; i < errs.n; i++)
		print_message("  got: %s\n", errs.msgs[i]);
	assert_int_equal(rc, 0);
	const struct conf_profile *p = conf_find_profile(c, "p");
	assert_non_null(p);
	assert_int_equal(p->n_programs, 4);
	assert_int_equal(p->programs[0].arch, 0);
	assert_string_equal(p->programs[0].file, "pxelinux.0");
	assert_int_equal(p->programs[0].line, 6);
	assert_int_equal(p->programs[1].arch, 7);
	assert_int_equal(p->programs[2].arch, 16);
	assert_string_equal(p->programs[2].file, "grub/x64/grubnetx64.efi");
	assert_int_equal(p->programs[3].arch, 11);
	/* efi-x64 is 7 and 9 alike. */
	assert_string_equal(boot_profile_program(p, 9)->file, "grubnetx64.efi");
	assert_string_equal(boot_profile_program(p, 7)->file, "grubnetx64.efi");
	assert_null(boot_profile_program(p, 6));
	assert_null(boot_profile_program(p, 999));
	conf_free(c);
	unlink(path);

	/* Flow style, and null for none. */
	rc = load(HEAD "    programs: {bios: lpxelinux.0}\n"
		       "  q:\n"
		       "    kernel: vmlinuz\n"
		       "    programs:\n",
		  path, &c, &errs);
	assert_int_equal(rc, 0);
	assert_int_equal(conf_find_profile(c, "p")->n_programs, 1);
	assert_int_equal(conf_find_profile(c, "q")->n_programs, 0);
	conf_free(c);
	unlink(path);
}

struct err_case {
	const char *name;
	const char *programs; /* from line 5 on */
	const char *want;     /* the one message, after "<file>:" */
};

static const struct err_case err_cases[] = {
    {"unknown architecture", "    programs:\n      efi-x65: a.efi\n",
     "6: profile.programs: 'efi-x65' is not an architecture name (bios, efi-ia32, efi-x64, "
     "efi-arm64, efi-x64-http... as in docs/config.md)"},
    {"a number is not a name", "    programs: {7: a.efi}\n",
     "5: profile.programs: '7' is not an architecture name (bios, efi-ia32, efi-x64, "
     "efi-arm64, efi-x64-http... as in docs/config.md)"},
    {"'unknown' is not a name", "    programs: {unknown: a.efi}\n",
     "5: profile.programs: 'unknown' is not an architecture name (bios, efi-ia32, efi-x64, "
     "efi-arm64, efi-x64-http... as in docs/config.md)"},
    {"names are lower case", "    programs: {BIOS: pxelinux.0}\n",
     "5: profile.programs: 'BIOS' is not an architecture name (bios, efi-ia32, efi-x64, "
     "efi-arm64, efi-x64-http... as in docs/config.md)"},
    {"traversal", "    programs:\n      bios: ../etc/passwd\n",
     "6: profile.programs: bios: '../etc/passwd' is not a file name pxed serves (letters, "
     "digits, '.', '_', '-', '+' and '/' between names; at most 127 bytes, no '..')"},
    {"absolute", "    programs:\n      bios: /srv/tftp/pxelinux.0\n",
     "6: profile.programs: bios: '/srv/tftp/pxelinux.0' is not a file name pxed serves "
     "(letters, digits, '.', '_', '-', '+' and '/' between names; at most 127 bytes, no '..')"},
    {"a URL", "    programs:\n      efi-x64-http: \"http://10.0.0.1/a.efi\"\n",
     "6: profile.programs: efi-x64-http: 'http://10.0.0.1/a.efi' is not a file name pxed "
     "serves (letters, digits, '.', '_', '-', '+' and '/' between names; at most 127 bytes, "
     "no '..')"},
    {"a space", "    programs:\n      bios: \"pxe linux.0\"\n",
     "6: profile.programs: bios: 'pxe linux.0' is not a file name pxed serves (letters, "
     "digits, '.', '_', '-', '+' and '/' between names; at most 127 bytes, no '..')"},
    {"empty component", "    programs:\n      bios: a//b\n",
     "6: profile.programs: bios: 'a//b' is not a file name pxed serves (letters, digits, "
     "'.', '_', '-', '+' and '/' between names; at most 127 bytes, no '..')"},
    {"trailing slash", "    programs:\n      bios: a/\n",
     "6: profile.programs: bios: 'a/' is not a file name pxed serves (letters, digits, "
     "'.', '_', '-', '+' and '/' between names; at most 127 bytes, no '..')"},
    {"dot component", "    programs:\n      bios: ./a\n",
     "6: profile.programs: bios: './a' is not a file name pxed serves (letters, digits, "
     "'.', '_', '-', '+' and '/' between names; at most 127 bytes, no '..')"},
    {"too long",
     "    programs:\n      bios: "
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
     "6: profile.programs: bios: "
     "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' is "
     "not a file name pxed serves (letters, digits, '.', '_', '-', '+' and '/' between names; "
     "at most 127 bytes, no '..')"},
    {"no value", "    programs:\n      bios:\n", "6: profile.programs has no value"},
    {"a list value", "    programs:\n      bios: [a, b]\n",
     "6: profile.programs must be a single value, not a list"},
    {"not a mapping", "    programs: pxelinux.0\n",
     "5: profile.programs must be a mapping (bios: pxelinux.0, ...), not a single value"},
    {"twice", "    programs:\n      efi-x64: a.efi\n      bios: p.0\n      efi-x64: b.efi\n",
     "8: profile.programs: efi-x64 is given twice (first at line 6)"},
    {"a control character", "    programs:\n      bios: \"pxelinux.0\\nDEFAULT x\"\n",
     "6: profile.programs contains a control character"},
};

static void test_program_errors(void **state)
{
	for (size_t i = 0; i < PXED_ARRAY_LEN(err_cases); i++) {
		struct conf_errors errs = {0};
		struct conf *c;
		char path[PATH_MAX], yaml[1024], want[PATH_MAX + 512];
		snprintf(yaml, sizeof(yaml), "%s%s", HEAD, err_cases[i].programs);
		int rc = load(yaml, path, &c, &errs);
		snprintf(want, sizeof(want), "%s:%s", path, err_cases[i].want);
		if (rc != -EINVAL || c != NULL || errs.n != 1 || strcmp(errs.msgs[0], want) != 0) {
			print_message("case '%s' (rc %d), want:\n  %s\n", err_cases[i].name, rc,
				      want);
			for (size_t j = 0; j < errs.n; j++)
				print_message("  got: %s\n", errs.msgs[j]);
			fail();
		}
		conf_errors_free(&errs);
		unlink(path);
	}
}

/* Seventeen architecture names: one more than a profile may hold. */
static void test_too_many_programs(void **state)
{
	static const char *const names[] = {
	    "bios",	    "efi-ia32",	      "efi-x64",	"efi-arm32",	  "efi-arm64",
	    "efi-x64-http", "efi-ia32-http",  "efi-arm32-http", "efi-arm64-http", "efi-riscv64",
	    "efi-riscv32",  "arm-rpiboot",    "efi-itanium",	"efi-ebc-http",	  "bios-http",
	    "efi-mips64",   "efi-loongarch64"};
	char yaml[2048], path[PATH_MAX], want[PATH_MAX + 128];
	size_t n = (size_t)snprintf(yaml, sizeof(yaml), "%s    programs:\n", HEAD);
	struct conf_errors errs = {0};
	struct conf *c;

	for (size_t i = 0; i < PXED_ARRAY_LEN(names); i++)
		n += (size_t)snprintf(yaml + n, sizeof(yaml) - n, "      %s: p%zu.efi\n", names[i],
				      i);
	assert_int_equal(load(yaml, path, &c, &errs), -EINVAL);
	snprintf(want, sizeof(want), "%s:22: profile.programs: too many entries (at most 16)",
		 path);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msgs[0], want);
	conf_errors_free(&errs);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_programs_parsed),
	    cmocka_unit_test(test_program_errors),
	    cmocka_unit_test(test_too_many_programs),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
