/*
 * libFuzzer target for the files rendered per machine (boot/script.c: the
 * iPXE script, pxelinux and GRUB configurations, the command line). The
 * input is split at NUL bytes into the values a config file gives them: the
 * profile's command line, the host's command line, the kernel's and the
 * initrd's paths, and a flags byte. Every renderer must return 0 or one of
 * its documented errors, and text it renders must hold no control
 * character other than newlines (a newline inside a value would add a
 * directive).
 *
 *   built and run by tests/integration/fuzz-smoke.sh
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot/script.h"
#include "conf/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next NUL-terminated field of the input, as a new string (NULL when empty). */
static char *field(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nul = memchr(*p, 0, (size_t)(end - *p));
	size_t n = (size_t)((nul != NULL ? nul : end) - *p);
	char *s = n > 0 ? strndup((const char *)*p, n) : NULL;

	*p = nul != NULL ? nul + 1 : end;
	return s;
}

static void check(int rc, char *text, size_t len)
{
	if (rc != 0 && rc != -EINVAL && rc != -ENOENT && rc != -ENOSPC && rc != -ENOMEM)
		abort();
	if (rc != 0)
		return;
	if (text == NULL || strlen(text) != len)
		abort();
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)text[i] < 0x20 && text[i] != '\n' && text[i] != '\t')
			abort();
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	const uint8_t *p = data, *end = data + size;
	struct conf *c = conf_new_defaults();
	char cmdline[CONF_MAX_CMDLINE], *out = NULL;
	size_t len = 0;

	if (c == NULL)
		return 0;
	struct conf_profile *pr = &c->profiles[c->n_profiles++];
	pr->name = strdup("fuzz");
	pr->cmdline = field(&p, end);
	c->hosts = calloc(1, sizeof(*c->hosts));
	if (c->hosts != NULL) {
		c->n_hosts = 1;
		memcpy(c->hosts[0].mac, mac, sizeof(mac));
		c->hosts[0].has_mac = true;
		c->hosts[0].cmdline = field(&p, end);
	}
	pr->kernel = field(&p, end);
	if (pr->kernel == NULL)
		pr->kernel = strdup("/boot/vmlinuz");
	pr->initrds[0] = field(&p, end);
	pr->n_initrds = pr->initrds[0] != NULL;
	uint8_t flags = p < end ? *p : 0;
	/* The machine boots the profile as its host entry's or as the default. */
	if (c->hosts != NULL && (flags & 1))
		c->hosts[0].profile = strdup("fuzz");
	else
		c->default_profile = strdup("fuzz");

	check(boot_render_ipxe(c, mac, 0x0a000001, &out, &len), out, len);
	check(boot_render_ipxe_profile(c, mac, (flags & 2) ? "fuzz" : "none", 0x0a000001, &out,
				       &len),
	      out, len);
	check(boot_render_pxelinux(c, mac, &out, &len), out, len);
	check(boot_render_grub(c, mac, (flags & 4) ? BOOT_PROTO_HTTP : BOOT_PROTO_TFTP, 0x0a000001,
			       &out, &len),
	      out, len);
	int rc = boot_cmdline(c, mac, cmdline, sizeof(cmdline));
	if (rc == 0 && memchr(cmdline, 0, sizeof(cmdline)) == NULL)
		abort();
	conf_free(c);
	return 0;
}
