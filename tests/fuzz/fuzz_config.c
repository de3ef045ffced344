/*
 * libFuzzer entry point for the configuration loader: the input bytes are
 * written to a temporary file and loaded with conf_load(), which must
 * neither crash nor leak whatever the bytes are. Not built by meson; build
 * and run it by hand with clang:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *     tests/fuzz/fuzz_config.c src/conf/config.c src/core/util.c src/core/log.c \
 *     src/core/buf.c src/dhcp/options.c src/dhcp/pxe.c src/boot/policy.c \
 *     src/boot/classes.c $(pkg-config --cflags --libs yaml-0.1) -o fuzz_config
 *   mkdir -p corpus && cp examples/pxed.yaml corpus/
 *   ./fuzz_config -max_len=65536 corpus
 *
 * conf_load() resolves relative paths against the file's directory and
 * stat()s kernels, so the file lives in a private directory of its own.
 * The same bytes then go through conf_load_layered() as the body of a host
 * and of a profile the inventory API put (http/admin.c).
 */
#include "conf/config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[] = "/tmp/fuzz_config.XXXXXX";
	static int have_dir;
	struct conf_errors errs = {0};
	struct conf *c = NULL;
	char path[sizeof(dir) + 16];
	FILE *f;

	if (!have_dir) {
		if (mkdtemp(dir) == NULL)
			abort();
		have_dir = 1;
	}
	snprintf(path, sizeof(path), "%s/pxed.yaml", dir);
	f = fopen(path, "wb");
	if (f == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);

	if (conf_load(path, &c, &errs) == 0) {
		/* A loaded snapshot must also pass validation on its own. */
		if (conf_validate(c, &errs) != 0)
			abort();
		conf_free(c);
	} else if (errs.n == 0) {
		abort(); /* every failure is explained */
	}
	conf_errors_free(&errs);
	unlink(path);

	/* The same bytes as what the API puts over a file: a host's body, then a profile's. */
	static const char file[] = "dhcp: {mode: off}\nprofiles: {base: {kernel: /proc/self/stat}}\n"
				   "hosts: [{mac: '52:54:00:00:00:01', profile: base}]\n";
	char *body = malloc(size + 1);
	if (body == NULL)
		abort();
	memcpy(body, data, size);
	body[size] = '\0';
	for (int kind = CONF_ENTRY_HOST; kind <= CONF_ENTRY_PROFILE; kind++) {
		struct conf_entry e = {.kind = (enum conf_entry_kind)kind,
				       .name = kind == CONF_ENTRY_HOST ? "52:54:00:00:00:01" : "base",
				       .body = body};
		c = NULL;
		if (conf_load_layered(path, file, sizeof(file) - 1, &e, 1, &c, &errs) == 0) {
			if (conf_validate(c, &errs) != 0)
				abort();
			conf_free(c);
		} else if (errs.n == 0) {
			abort();
		}
		conf_errors_free(&errs);
	}
	free(body);
	return 0;
}
