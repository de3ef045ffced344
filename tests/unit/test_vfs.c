/* The virtual file tree: normalisation and confinement beneath the root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "boot/vfs.h"
#include "conf/config.h"

struct norm_case {
	const char *in, *out;
	int rc;
};

static const struct norm_case norm_cases[] = {
    {"pxelinux.0", "pxelinux.0", 0},
    {"/pxelinux.0", "pxelinux.0", 0},
    {"\\boot\\x86\\pxelinux.0", "boot/x86/pxelinux.0", 0},
    {"a//b/./c", "a/b/c", 0},
    {"../etc/passwd", NULL, -EACCES},
    {"a/../../etc/passwd", NULL, -EACCES},
    {"a\\..\\..\\x", NULL, -EACCES},
    {"..", NULL, -EACCES},
    {"/", NULL, -EINVAL},
    {"", NULL, -EINVAL},
    {"a\x01"
     "b",
     NULL, -EINVAL},
    {"...", "...", 0},
};

static void test_normalise(void **state)
{
	for (size_t i = 0; i < sizeof(norm_cases) / sizeof(norm_cases[0]); i++) {
		char buf[64];
		snprintf(buf, sizeof(buf), "%s", norm_cases[i].in);
		int rc = vfs_normalise(buf);
		if (rc != norm_cases[i].rc)
			fail_msg("'%s': rc %d, want %d", norm_cases[i].in, rc, norm_cases[i].rc);
		if (rc == 0 && strcmp(buf, norm_cases[i].out) != 0)
			fail_msg("'%s' -> '%s', want '%s'", norm_cases[i].in, buf,
				 norm_cases[i].out);
	}
}

struct fixture {
	char root[64];
	char outside[80];
	struct conf *c;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->root, sizeof(f->root), "/tmp/pxed-vfs-XXXXXX");
	if (mkdtemp(f->root) == NULL)
		return -1;
	char p[200];
	snprintf(p, sizeof(p), "%s/sub", f->root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/sub/file.txt", f->root);
	FILE *fp = fopen(p, "w");
	fputs("hello", fp);
	fclose(fp);
	snprintf(f->outside, sizeof(f->outside), "%s.secret", f->root);
	fp = fopen(f->outside, "w");
	fputs("secret", fp);
	fclose(fp);
	snprintf(p, sizeof(p), "%s/escape", f->root);
	symlink(f->outside, p); /* absolute link out of the root */
	snprintf(p, sizeof(p), "%s/sub/rel", f->root);
	symlink("../../", p); /* relative link out of the root */
	f->c = conf_new_defaults();
	f->c->tftp_root = strdup(f->root);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", f->root, f->outside);
	if (system(cmd) != 0)
		return -1;
	conf_free(f->c);
	free(f);
	return 0;
}

static void test_open_beneath_root(void **state)
{
	struct fixture *fx = *state;
	struct vfs_client cl = {0};
	struct vfs_file f;
	assert_int_equal(vfs_open(fx->c, VFS_ROOT_TFTP, "sub/file.txt", &cl, &f), 0);
	assert_int_equal(f.kind, VFS_FILE);
	assert_int_equal(f.size, 5);
	vfs_file_close(&f);
	assert_int_equal(vfs_open(fx->c, VFS_ROOT_TFTP, "\\sub\\file.txt", &cl, &f), 0);
	vfs_file_close(&f);
	assert_int_equal(vfs_open(fx->c, VFS_ROOT_TFTP, "nope", &cl, &f), -ENOENT);
	assert_int_equal(vfs_open(fx->c, VFS_ROOT_TFTP, "../x", &cl, &f), -EACCES);
	assert_int_equal(vfs_open(fx->c, VFS_ROOT_TFTP, "escape", &cl, &f), -EACCES);
	assert_int_equal(vfs_open(fx->c, VFS_ROOT_TFTP, "sub/rel/etc/passwd", &cl, &f), -EACCES);
	/* A directory is not a file. */
	assert_int_equal(vfs_open(fx->c, VFS_ROOT_TFTP, "sub", &cl, &f), -EACCES);
	/* Nothing is served from the HTTP root, which is not configured. */
	assert_int_equal(vfs_open(fx->c, VFS_ROOT_HTTP, "sub/file.txt", &cl, &f), -ENOENT);
}

static void test_builtin_programs(void **state)
{
	struct fixture *fx = *state;
	struct vfs_client cl = {0};
	struct vfs_file f;
	if (access("/usr/lib/ipxe/undionly.kpxe", R_OK) != 0)
		skip();
	assert_int_equal(vfs_open(fx->c, VFS_ROOT_TFTP, "undionly.kpxe", &cl, &f), 0);
	assert_string_equal(f.what, "nbp");
	assert_true(f.size > 1000);
	vfs_file_close(&f);
	/* Only the listed names: nothing else in those directories. */
	assert_int_equal(vfs_open(fx->c, VFS_ROOT_TFTP, "ipxe.iso", &cl, &f), -ENOENT);
}

/*
 * GRUB's network image and the shim, from Debian's grub-efi-amd64-signed
 * (else -bin) and shim-signed, under the names netboot uses.
 */
static void test_builtin_grub_and_shim(void **state)
{
	struct fixture *fx = *state;
	struct vfs_client cl = {0};
	struct vfs_file f, g;
	if (access("/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed", R_OK) != 0 &&
	    access("/usr/lib/grub/x86_64-efi/monolithic/grubnetx64.efi", R_OK) != 0)
		skip();
	assert_int_equal(vfs_open(fx->c, VFS_ROOT_TFTP, "grubnetx64.efi", &cl, &f), 0);
	assert_string_equal(f.what, "nbp");
	assert_true(f.size > 1000000);
	/* What the shim loads next is the same image. */
	assert_int_equal(vfs_open(fx->c, VFS_ROOT_HTTP, "grubx64.efi", &cl, &g), 0);
	assert_int_equal(g.size, f.size);
	vfs_file_close(&f);
	vfs_file_close(&g);
	/* The package's own names are not served. */
	assert_int_equal(vfs_open(fx->c, VFS_ROOT_TFTP, "grubnetx64.efi.signed", &cl, &f), -ENOENT);
	assert_int_equal(vfs_open(fx->c, VFS_ROOT_TFTP, "shimx64.efi.signed", &cl, &f), -ENOENT);
	if (access("/usr/lib/shim/shimx64.efi.signed", R_OK) == 0) {
		assert_int_equal(vfs_open(fx->c, VFS_ROOT_TFTP, "shimx64.efi", &cl, &f), 0);
		assert_true(f.size > 100000);
		vfs_file_close(&f);
	}
	/* A file of the same name under the root is served instead. */
	char p[200];
	snprintf(p, sizeof(p), "%s/grubnetx64.efi", fx->root);
	FILE *fp = fopen(p, "w");
	fputs("mine", fp);
	fclose(fp);
	assert_int_equal(vfs_open(fx->c, VFS_ROOT_TFTP, "grubnetx64.efi", &cl, &f), 0);
	assert_int_equal(f.size, 4);
	assert_string_equal(f.what, "file");
	vfs_file_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_normalise),
	    cmocka_unit_test_setup_teardown(test_open_beneath_root, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_builtin_programs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_builtin_grub_and_shim, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
