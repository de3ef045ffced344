/*
 * libFuzzer target for the template engine (boot/template.c). The input is
 * a flags byte, a value, a NUL, then the template's text. Compiling must
 * return 0 or a documented error with a line inside the text; rendering
 * must return 0 or a documented error, never text longer than its cap, and
 * never a control character the template's own text did not hold (the
 * value is the one place one could come from, and it must be refused).
 *
 *   built and run by tests/integration/fuzz-smoke.sh
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"mac", "hostname", "empty", "value", "v_2"};

static bool known(const char *name, size_t len, void *ctx)
{
	bool all = *(const bool *)ctx;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
			return true;
	return all;
}

/* Whether the text holds a control character other than a newline, CR or tab. */
static bool has_control(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\n' && s[i] != '\r' && s[i] != '\t') ||
		    s[i] == 0x7f)
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tmpl_error err;
	struct tmpl *t = NULL;
	char *out = NULL, *value;
	size_t len = 0;

	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	const uint8_t *p = data + 1, *end = data + size;
	const uint8_t *nul = memchr(p, 0, (size_t)(end - p));
	if (nul == NULL)
		return 0;
	value = strndup((const char *)p, (size_t)(nul - p));
	if (value == NULL)
		return 0;
	const char *text = (const char *)nul + 1;
	size_t tlen = (size_t)(end - nul - 1);
	bool all = flags & 1;

	int rc = tmpl_compile(text, tlen, known, &all, &t, &err);
	if (rc != 0 && rc != -EINVAL && rc != -EFBIG && rc != -ENOMEM)
		abort();
	if (rc == -EINVAL && (err.line < 1 || err.msg[0] == '\0' || t != NULL))
		abort();
	if (rc == 0) {
		const struct tmpl_var vars[] = {
		    {"mac", "52:54:00:aa:00:01"},
		    {"hostname", (flags & 2) ? "node1" : NULL},
		    {"empty", ""},
		    {"value", value},
		    {"v_2", "x y"},
		};
		size_t cap = (flags & 4) ? 64 : 0;
		rc = tmpl_render(t, vars, sizeof(vars) / sizeof(vars[0]), cap, &out, &len);
		if (rc != 0 && rc != -EINVAL && rc != -ENOSPC && rc != -ENOMEM)
			abort();
		if (rc == 0 && (strlen(out) != len || len > (cap ? cap : TMPL_MAX_OUTPUT)))
			abort();
		if (rc == 0 && has_control(out, len) && !has_control(text, tlen))
			abort();
		if (rc == 0 && memchr(out, '\n', len) != NULL && memchr(text, '\n', tlen) == NULL)
			abort();
		free(out);
		tmpl_free(t);
	}
	free(value);
	return 0;
}
