#include "boot/script.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/policy.h"
#include "conf/config.h"
#include "core/util.h"

/* The profile's command line, then the host's. */
static int boot_cmdline_of(const struct conf_profile *p, const struct conf_host *h, char *out,
			   size_t cap)
{
	int n = snprintf(out, cap, "%s%s%s", p->cmdline != NULL ? p->cmdline : "",
			 p->cmdline != NULL && h != NULL && h->cmdline != NULL ? " " : "",
			 h != NULL && h->cmdline != NULL ? h->cmdline : "");
	return n < 0 || (size_t)n >= cap ? -ENOSPC : 0;
}

int boot_cmdline(const struct conf *c, const uint8_t mac[6], char *out, size_t cap)
{
	const struct conf_host *h;
	const struct conf_profile *p = boot_profile_for(c, mac, &h);
	if (p == NULL)
		return -ENOENT;
	return boot_cmdline_of(p, h, out, cap);
}

/* Appends to a growing script; a failed append poisons the buffer. */
struct script_buf {
	char *p;
	size_t len, cap;
	int err;
};

static void script_add(struct script_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void script_add(struct script_buf *b, const char *fmt, ...)
{
	va_list ap;
	if (b->err)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->err = -ENOSPC;
		return;
	}
	b->len += (size_t)n;
}

int boot_render_ipxe(const struct conf *c, const uint8_t mac[6], uint32_t server_ip, char **out,
		     size_t *len)
{
	return boot_render_ipxe_profile(c, mac, NULL, server_ip, out, len);
}

int boot_render_ipxe_profile(const struct conf *c, const uint8_t mac[6], const char *profile,
			     uint32_t server_ip, char **out, size_t *len)
{
	const struct conf_host *h;
	const struct conf_profile *p = boot_profile_for(c, mac, &h);
	char base[64], macs[18], cmdline[CONF_MAX_CMDLINE];
	struct script_buf b = {.cap = 4096 + CONF_MAX_CMDLINE};

	if (profile != NULL)
		p = conf_find_profile(c, profile);
	if (p == NULL)
		return -ENOENT;
	if (boot_cmdline_of(p, h, cmdline, sizeof(cmdline)) < 0)
		return -ENOSPC;
	b.p = malloc(b.cap);
	if (b.p == NULL)
		return -ENOMEM;
	boot_http_base(c, server_ip, base, sizeof(base));
	mac_format(macs, mac);
	script_add(&b, "#!ipxe\n# rendered by pxed for %s%s%s, profile %s\n", macs,
		   h != NULL && h->name != NULL ? " " : "", h != NULL && h->name ? h->name : "",
		   p->name);
	/*
	 * iPXE's EFI build hands an initrd to the kernel's EFI stub only when
	 * the command line names it with initrd=; BIOS kernels ignore it.
	 */
	script_add(&b, "kernel %s/files/%s/kernel", base, p->name);
	for (size_t i = 0; i < p->n_initrds; i++)
		script_add(&b, " initrd=initrd%zu", i);
	script_add(&b, "%s%s\n", cmdline[0] ? " " : "", cmdline);
	for (size_t i = 0; i < p->n_initrds; i++)
		script_add(&b, "initrd --name initrd%zu %s/files/%s/initrd%zu\n", i, base, p->name,
			   i);
	script_add(&b, "boot\n");
	if (b.err) {
		free(b.p);
		return b.err;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}
