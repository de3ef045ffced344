/*
 * The configuration loader: the example file, every kind of error with its
 * exact "file:line: message", YAML syntax errors, and hostile input.
 *
 * Every test writes its YAML to a file (mkstemp) inside one temporary
 * directory that also holds boot/vmlinuz and friends, so relative kernel
 * paths in the YAML resolve to files that exist.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "conf/config.h"
#include "core/util.h"
#include "dhcp/options.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The temporary directory of this run (set up once by the group setup). */
static char tmpdir[] = "/tmp/test_conf.XXXXXX";

static void make_file(const char *dir, const char *rel, const char *content)
{
	char path[2 * PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void make_dir(const char *dir, const char *rel)
{
	char path[2 * PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static void remove_tree(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static int group_setup(void **state)
{
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	make_dir(tmpdir, "boot");
	make_dir(tmpdir, "tftp");
	make_file(tmpdir, "boot/vmlinuz", "kernel");
	make_file(tmpdir, "boot/initrd.img", "initrd");
	make_file(tmpdir, "boot/extra.img", "initrd");
	make_file(tmpdir, "afile", "x");
	return 0;
}

static int group_teardown(void **state)
{
	remove_tree(tmpdir);
	return 0;
}

/* Writes data to a new file in dir; path receives its name. */
static void write_bytes(const char *dir, const void *data, size_t len, char path[PATH_MAX])
{
	int fd;

	snprintf(path, PATH_MAX, "%s/confXXXXXX", dir);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static int load_yaml(const char *yaml, char path[PATH_MAX], struct conf **c,
		     struct conf_errors *errs)
{
	write_bytes(tmpdir, yaml, strlen(yaml), path);
	return conf_load(path, c, errs);
}

/* Expected messages name the config file '@' and the temporary directory '$'. */
static char *expand(const char *want, const char *path)
{
	static char out[3 * PATH_MAX];
	size_t n = 0;

	for (const char *q = want; *q != '\0' && n + PATH_MAX < sizeof(out); q++) {
		const char *sub = *q == '@' ? path : *q == '$' ? tmpdir : NULL;
		if (sub != NULL) {
			memcpy(out + n, sub, strlen(sub));
			n += strlen(sub);
		} else {
			out[n++] = *q;
		}
	}
	out[n] = '\0';
	return out;
}

static void print_errors(const struct conf_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		print_message("  got: %s\n", errs->msgs[i]);
}

struct err_case {
	const char *name;
	const char *yaml;
	const char *want[6]; /* every message, in order */
};

static bool errors_match(const struct err_case *t, const struct conf_errors *errs, const char *path)
{
	size_t n_want = 0;

	while (n_want < PXED_ARRAY_LEN(t->want) && t->want[n_want] != NULL)
		n_want++;
	if (errs->n != n_want)
		return false;
	for (size_t j = 0; j < n_want; j++)
		if (strcmp(errs->msgs[j], expand(t->want[j], path)) != 0)
			return false;
	return true;
}

static void run_err_cases(const struct err_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct conf_errors errs = {0};
		struct conf *c = NULL;
		char path[PATH_MAX];
		int rc = load_yaml(cases[i].yaml, path, &c, &errs);
		bool ok = rc == -EINVAL && c == NULL && errors_match(&cases[i], &errs, path);

		if (!ok) {
			print_message("case '%s' (rc %d), want:\n", cases[i].name, rc);
			for (size_t j = 0; j < PXED_ARRAY_LEN(cases[i].want); j++)
				if (cases[i].want[j] != NULL)
					print_message("  want: %s\n",
						      expand(cases[i].want[j], path));
			print_errors(&errs);
		}
		assert_true(ok);
		conf_errors_free(&errs);
		unlink(path);
	}
}

/* ---------------------------------------------------------------------- */

static const struct err_case parse_cases[] = {
    {"unknown top-level key",
     "interfaces: [br0]\n"
     "bogus: 1\n",
     {"@:2: unknown key 'bogus' at top level"}},
    {"unknown key in subnet",
     "interfaces: [br0]\n"
     "subnets:\n"
     "  - subnet: 10.0.0.0/24\n"
     "    foo: 1\n",
     {"@:4: unknown key 'foo' in subnet"}},
    {"unknown key in profile",
     "interfaces: [br0]\n"
     "profiles:\n"
     "  p:\n"
     "    kernel: boot/vmlinuz\n"
     "    append: quiet\n",
     {"@:5: unknown key 'append' in profile"}},
    {"unknown key in nbp_dirs",
     "interfaces: [br0]\n"
     "nbp_dirs:\n"
     "  grub: /usr/lib/grub\n",
     {"@:3: unknown key 'grub' in nbp_dirs"}},
    {"duplicate key",
     "interfaces: [br0]\n"
     "tftp:\n"
     "  port: 69\n"
     "  port: 70\n",
     {"@:4: duplicate key 'port' in tftp (first at line 3)"}},
    {"duplicate top-level key",
     "interfaces: [br0]\n"
     "interfaces: [br1]\n",
     {"@:2: duplicate key 'interfaces' at top level (first at line 1)"}},
    {"key that is not a name",
     "interfaces: [br0]\n"
     "[a, b]: 1\n",
     {"@:2: a key at top level is a list, not a name"}},
    {"list for a number",
     "interfaces: [br0]\n"
     "tftp:\n"
     "  port: [69]\n",
     {"@:3: tftp.port must be a single value, not a list"}},
    {"not a number",
     "interfaces: [br0]\n"
     "tftp:\n"
     "  port: 6x9\n",
     {"@:3: tftp.port: '6x9' is not a number"}},
    {"negative number",
     "interfaces: [br0]\n"
     "tftp:\n"
     "  port: -1\n",
     {"@:3: tftp.port: '-1' is not a number"}},
    {"port out of range",
     "interfaces: [br0]\n"
     "http:\n"
     "  port: 70000\n",
     {"@:3: http.port: '70000' is out of range (1-65535)"}},
    {"port zero",
     "interfaces: [br0]\n"
     "http:\n"
     "  port: 0\n",
     {"@:3: http.port: '0' is out of range (1-65535)"}},
    {"upload size not a size",
     "interfaces: [br0]\n"
     "tftp:\n"
     "  upload_max_bytes: 64X\n",
     {"@:3: tftp.upload_max_bytes: '64X' is not a size (bytes, or a number with K, M or G)"}},
    {"upload size zero",
     "interfaces: [br0]\n"
     "tftp:\n"
     "  upload_max_bytes: 0M\n",
     {"@:3: tftp.upload_max_bytes: '0M' is out of range (1 byte to 1024G)"}},
    {"upload size too large",
     "interfaces: [br0]\n"
     "tftp:\n"
     "  upload_max_bytes: 1025G\n",
     {"@:3: tftp.upload_max_bytes: '1025G' is out of range (1 byte to 1024G)"}},
    {"section not a mapping",
     "interfaces: [br0]\n"
     "tftp: 69\n",
     {"@:2: tftp must be a mapping (key: value), not a single value"}},
    {"bad dhcp mode",
     "interfaces: [br0]\n"
     "dhcp:\n"
     "  mode: relay\n",
     {"@:3: dhcp.mode: 'relay' is not one of server, proxy, off"}},
    {"bad duration",
     "interfaces: [br0]\n"
     "dhcp:\n"
     "  lease_time: 1w\n",
     {"@:3: dhcp.lease_time: '1w' is not a duration (seconds, or a number with s, m, h or "
      "d)"}},
    {"duration too short",
     "interfaces: [br0]\n"
     "dhcp:\n"
     "  lease_time: 59s\n",
     {"@:3: dhcp.lease_time: '59s' is out of range (60s to 365d)"}},
    {"duration too long",
     "interfaces: [br0]\n"
     "subnets:\n"
     "  - subnet: 10.0.0.0/24\n"
     "    lease_time: 366d\n",
     {"@:4: subnet.lease_time: '366d' is out of range (60s to 365d)"}},
    {"bad address",
     "interfaces: [br0]\n"
     "server_address: 10.0.0.256\n",
     {"@:2: server_address: '10.0.0.256' is not an IPv4 address"}},
    {"subnet without prefix",
     "interfaces: [br0]\n"
     "subnets:\n"
     "  - subnet: 10.0.0.0\n",
     {"@:3: subnet.subnet: '10.0.0.0' is not a subnet (like 10.77.0.0/24)"}},
    {"subnet with host bits",
     "interfaces: [br0]\n"
     "subnets:\n"
     "  - subnet: 10.0.0.5/24\n",
     {"@:3: subnet.subnet: '10.0.0.5/24' has host bits set (did you mean 10.0.0.0/24?)"}},
    {"prefix out of range",
     "interfaces: [br0]\n"
     "subnets:\n"
     "  - subnet: 10.0.0.0/33\n",
     {"@:3: subnet.subnet: prefix length in '10.0.0.0/33' is out of range (1-32)"}},
    {"subnet entry without subnet",
     "interfaces: [br0]\n"
     "subnets:\n"
     "  - pool: 10.0.0.10-10.0.0.20\n",
     {"@:3: subnet entry is missing 'subnet'"}},
    {"bad pool",
     "interfaces: [br0]\n"
     "subnets:\n"
     "  - subnet: 10.0.0.0/24\n"
     "    pool: 10.0.0.10\n",
     {"@:4: subnet.pool: '10.0.0.10' is not an address range (like "
      "10.77.0.100-10.77.0.199)"}},
    {"too many dns servers",
     "interfaces: [br0]\n"
     "subnets:\n"
     "  - subnet: 10.0.0.0/24\n"
     "    dns:\n"
     "      - 10.0.0.1\n"
     "      - 10.0.0.2\n"
     "      - 10.0.0.3\n"
     "      - 10.0.0.4\n"
     "      - 10.0.0.5\n",
     {"@:9: subnet.dns: too many entries (at most 4)"}},
    {"bad dns server",
     "interfaces: [br0]\n"
     "subnets:\n"
     "  - subnet: 10.0.0.0/24\n"
     "    dns: [10.0.0.1, dns.example]\n",
     {"@:4: subnet.dns: 'dns.example' is not an IPv4 address"}},
    {"bad domain",
     "interfaces: [br0]\n"
     "subnets:\n"
     "  - subnet: 10.0.0.0/24\n"
     "    domain: lab_example\n",
     {"@:4: subnet.domain: 'lab_example' is not a valid name (letters, digits and '-', in "
      "labels separated by '.')"}},
    {"subnets not a list",
     "interfaces: [br0]\n"
     "subnets:\n"
     "  subnet: 10.0.0.0/24\n",
     {"@:3: subnets must be a list, not a mapping"}},
    {"host without mac",
     "interfaces: [br0]\n"
     "hosts:\n"
     "  - name: node1\n",
     {"@:3: host entry is missing 'mac' or 'client_id'"}},
    {"bad mac",
     "interfaces: [br0]\n"
     "hosts:\n"
     "  - mac: 52:54:00:aa:00\n",
     {"@:3: host.mac: '52:54:00:aa:00' is not a MAC address (like 52:54:00:aa:00:01)"}},
    {"multicast mac",
     "interfaces: [br0]\n"
     "hosts:\n"
     "  - mac: 01:00:5e:00:00:01\n",
     {"@:3: host.mac: 01:00:5e:00:00:01 is not the address of a network card"}},
    {"host entry not a mapping",
     "interfaces: [br0]\n"
     "hosts:\n"
     "  - 52:54:00:aa:00:01\n",
     {"@:3: each entry of hosts must be a mapping (mac: ..., profile: ...), not a single "
      "value"}},
    {"bad host name",
     "interfaces: [br0]\n"
     "hosts:\n"
     "  - mac: 52:54:00:aa:00:01\n"
     "    name: node 1\n",
     {"@:4: host.name: 'node 1' is not a valid name (letters, digits and '-', in labels "
      "separated by '.')"}},
    {"bad interface name",
     "interfaces: [br0, 'a b']\n",
     {"@:1: interfaces: 'a b' is not an interface name"}},
    {"interface twice", "interfaces: [br0, br0]\n", {"@:1: interfaces: 'br0' is listed twice"}},
    {"too many interfaces",
     "interfaces: [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, b0, b1, "
     "b2, b3, b4, b5, b6]\n",
     {"@:1: interfaces: too many entries (at most 16)"}},
    {"initrd and initrds",
     "interfaces: [br0]\n"
     "profiles:\n"
     "  p:\n"
     "    kernel: boot/vmlinuz\n"
     "    initrd: boot/initrd.img\n"
     "    initrds: [boot/initrd.img]\n",
     {"@:6: profile 'p': give either 'initrd' or 'initrds', not both"}},
    {"too many initrds",
     "interfaces: [br0]\n"
     "profiles:\n"
     "  p:\n"
     "    kernel: boot/vmlinuz\n"
     "    initrds:\n"
     "      - boot/initrd.img\n"
     "      - boot/initrd.img\n"
     "      - boot/initrd.img\n"
     "      - boot/initrd.img\n"
     "      - boot/initrd.img\n"
     "      - boot/initrd.img\n"
     "      - boot/initrd.img\n"
     "      - boot/initrd.img\n"
     "      - boot/initrd.img\n",
     {"@:14: profile.initrds: too many entries (at most 8)"}},
    {"bad profile name",
     "interfaces: [br0]\n"
     "profiles:\n"
     "  ../x:\n"
     "    kernel: boot/vmlinuz\n",
     {"@:3: profile name '../x' may only have letters, digits, '.', '_' and '-' (at most "
      "64, not starting with '.')"}},
    {"profile not a mapping",
     "interfaces: [br0]\n"
     "profiles:\n"
     "  p: boot/vmlinuz\n",
     {"@:3: profile 'p' must be a mapping (kernel: ..., initrd: ...), not a single value",
      "@:3: profile 'p' has no kernel"}},
    {"kernel without value",
     "interfaces: [br0]\n"
     "profiles:\n"
     "  p:\n"
     "    kernel:\n",
     {"@:4: profile.kernel has no value", "@:3: profile 'p' has no kernel"}},
    {"NUL byte in a value",
     "interfaces: [br0]\n"
     "subnets:\n"
     "  - subnet: 10.0.0.0/24\n"
     "    domain: \"lab\\0x\"\n",
     {"@:4: subnet.domain contains a control character"}},
    {"newline in a cmdline",
     "interfaces: [br0]\n"
     "profiles:\n"
     "  p:\n"
     "    kernel: boot/vmlinuz\n"
     "    cmdline: \"quiet\\n:boot evil\"\n",
     {"@:5: profile.cmdline contains a control character"}},
    {"listen addresses differ",
     "interfaces: [br0]\n"
     "tftp:\n"
     "  listen: 10.0.0.1\n"
     "http:\n"
     "  listen: 10.0.0.2\n",
     {"@:5: http.listen differs from tftp.listen (line 3); TFTP and HTTP share one listen "
      "address"}},
    {"top level is a list",
     "- interfaces\n"
     "- br0\n",
     {"@:1: the top level must be a mapping of settings (key: value), not a list"}},
    {"top level is a value",
     "\n"
     "hello\n",
     {"@:2: the top level must be a mapping of settings (key: value), not a single value"}},
    {"second document",
     "interfaces: [br0]\n"
     "---\n"
     "interfaces: [br1]\n",
     {"@:2: a second YAML document starts here; only one is allowed"}},
};

static void test_parse_errors(void **state)
{
	run_err_cases(parse_cases, PXED_ARRAY_LEN(parse_cases));
}

/* The keys of issue 3: options, classes, overrides, menus, client ids. */
static const struct err_case dhcp_parse_cases[] = {
    {"unknown option",
     "interfaces: [br0]\n"
     "options:\n"
     "  bogus: 1\n",
     {"@:3: options: unknown option 'bogus' (a name from docs/config.md, or a number 1-254)"}},
    {"option number out of range",
     "interfaces: [br0]\n"
     "options:\n"
     "  0: 1\n"
     "  255: 1\n",
     {"@:3: options: unknown option '0' (a name from docs/config.md, or a number 1-254)",
      "@:4: options: unknown option '255' (a name from docs/config.md, or a number 1-254)"}},
    {"options pxed manages",
     "interfaces: [br0]\n"
     "options:\n"
     "  lease-time: 60\n"
     "  53: 1\n"
     "  server-identifier: 10.0.0.1\n"
     "  client-identifier: 01:02\n"
     "  82: 01:02\n"
     "  parameter_request_list: 01:03\n",
     {"@:3: options: option lease-time (51) is set by pxed itself; set lease_time instead",
      "@:4: options: option message-type (53) is set by pxed itself",
      "@:5: options: option server-identifier (54) is set by pxed itself; set "
      "server_address instead",
      "@:6: options: option client-identifier (61) is set by pxed itself; it identifies the "
      "client; use a host's client_id",
      "@:7: options: option relay-agent-information (82) is set by pxed itself; pxed echoes "
      "what the relay sent",
      "@:8: options: option parameter-request-list (55) is set by pxed itself"}},
    {"option given twice under two names",
     "interfaces: [br0]\n"
     "options:\n"
     "  dns: 10.0.0.1\n"
     "  6: 10.0.0.2\n",
     {"@:4: options: option domain-name-servers (6) is given twice (first at line 3)"}},
    {"list for a single-valued option",
     "interfaces: [br0]\n"
     "options:\n"
     "  interface-mtu: [1500]\n",
     {"@:3: options.interface-mtu takes a single value, not a list"}},
    {"bad option values",
     "interfaces: [br0]\n"
     "options:\n"
     "  client-ndi: \"01:02\"\n"
     "  domain-search: [a.example, \"b..c\"]\n"
     "  interface-mtu: 67\n"
     "  ip-forwarding: maybe\n"
     "  host-name:\n"
     "  routers: {a: 1}\n",
     {"@:3: options.client-ndi: the value is 2 bytes long; the option needs at least 3",
      "@:4: options.domain-search: 'b..c' is not a domain name",
      "@:5: options.interface-mtu: '67' is out of range (68-65535)",
      "@:6: options.ip-forwarding: 'maybe' is not true or false",
      "@:7: options.host-name has no value",
      "@:8: options.routers must be a single value, not a mapping"}},
    {"bad option in a subnet, a class and a host",
     "interfaces: [br0]\n"
     "subnets:\n"
     "  - subnet: 10.0.0.0/24\n"
     "    options: {routers: 10.0.0.256}\n"
     "classes:\n"
     "  - name: c\n"
     "    match: {arch: 7}\n"
     "    options: {classless-static-routes: 10.0.0.1/8 via 10.0.0.1}\n"
     "hosts:\n"
     "  - mac: 52:54:00:aa:00:01\n"
     "    options: {uuid: 1234}\n",
     {"@:4: subnet.options.routers: '10.0.0.256' is not an IPv4 address",
      "@:8: class.options.classless-static-routes: '10.0.0.1/8 via 10.0.0.1' has host bits "
      "set in its destination",
      "@:11: host.options.uuid: '1234' is not a UUID (like "
      "01234567-89ab-cdef-0123-456789abcdef)"}},
    {"options not a mapping",
     "interfaces: [br0]\n"
     "options: [routers]\n",
     {"@:2: options must be a mapping (name: value), not a list"}},
    {"bad authoritative and max_leases",
     "interfaces: [br0]\n"
     "dhcp:\n"
     "  authoritative: yes\n"
     "  max_leases: 4294967296\n",
     {"@:3: dhcp.authoritative: 'yes' is not true or false",
      "@:4: dhcp.max_leases: '4294967296' is out of range (0-4294967295)"}},
    {"max_leases not a number",
     "interfaces: [br0]\n"
     "dhcp: {max_leases: -1}\n",
     {"@:2: dhcp.max_leases: '-1' is not a number"}},
    {"limits out of range",
     "interfaces: [br0]\n"
     "dhcp: {known_only: 1, rate_per_mac: 1000001, rate_per_source: x}\n"
     "tftp: {max_transfers: 0, max_per_client: 65537, rate_per_address: -5}\n",
     {"@:2: dhcp.known_only: '1' is not true or false",
      "@:2: dhcp.rate_per_mac: '1000001' is out of range (0-1000000)",
      "@:2: dhcp.rate_per_source: 'x' is not a number",
      "@:3: tftp.max_transfers: '0' is out of range (1-65536)",
      "@:3: tftp.max_per_client: '65537' is out of range (1-65536)",
      "@:3: tftp.rate_per_address: '-5' is not a number"}},
    {"http rate out of range",
     "interfaces: [br0]\n"
     "http: {rate_per_address: 1000001}\n",
     {"@:2: http.rate_per_address: '1000001' is out of range (0-1000000)"}},
    {"a subnet's max_leases not a number",
     "interfaces: [br0]\n"
     "subnets:\n"
     "  - {subnet: 10.0.0.0/24, max_leases: many}\n",
     {"@:3: subnet.max_leases: 'many' is not a number"}},
    {"a subnet's unknown policy not one of the three",
     "interfaces: [br0]\n"
     "subnets:\n"
     "  - {subnet: 10.0.0.0/24, unknown: register}\n",
     {"@:3: subnet.unknown: 'register' is not one of boot, ignore, discover"}},
    {"class without match or name",
     "interfaces: [br0]\n"
     "classes:\n"
     "  - name: a\n"
     "  - match: {arch: 7}\n",
     {"@:3: class entry is missing 'match'", "@:4: class entry is missing 'name'"}},
    {"class match without a condition",
     "interfaces: [br0]\n"
     "classes:\n"
     "  - name: b\n"
     "    match: {}\n"
     "  - name: c\n"
     "    match:\n",
     {"@:4: class.match needs at least one condition (vendor_class, user_class, arch, "
      "mac_prefix, relay, interface, uuid or subnet)",
      "@:6: class.match needs at least one condition (vendor_class, user_class, arch, "
      "mac_prefix, relay, interface, uuid or subnet)"}},
    {"bad class conditions",
     "interfaces: [br0]\n"
     "classes:\n"
     "  - name: d\n"
     "    match:\n"
     "      mac_prefix: b8:27:e\n"
     "      arch: [7, efi-x64]\n"
     "      relay: 0.0.0.0\n"
     "      interface: a/b\n"
     "      colour: blue\n",
     {"@:5: class.match.mac_prefix: 'b8:27:e' is not a MAC prefix (1 to 6 bytes, like "
      "b8:27:eb)",
      "@:6: class.match.arch: architecture 7 is listed twice",
      "@:7: class.match.relay: 0.0.0.0 is not a relay address",
      "@:8: class.match.interface: 'a/b' is not an interface name",
      "@:9: unknown key 'colour' in class.match"}},
    {"bad class arch and prefix",
     "interfaces: [br0]\n"
     "classes:\n"
     "  - name: e\n"
     "    match: {arch: [efi-x65, 65536, unknown], mac_prefix: 01:02:03:04:05:06:07}\n",
     {"@:4: class.match.arch: 'efi-x65' is not an architecture (a number 0-65535 or a name "
      "like efi-x64)",
      "@:4: class.match.arch: '65536' is out of range (0-65535)",
      "@:4: class.match.arch: 'unknown' is not an architecture (a number 0-65535 or a name "
      "like efi-x64)",
      "@:4: class.match.mac_prefix: '01:02:03:04:05:06:07' is not a MAC prefix (1 to 6 bytes, "
      "like b8:27:eb)"}},
    {"too many class architectures",
     "interfaces: [br0]\n"
     "classes:\n"
     "  - name: f\n"
     "    match: {arch: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]}\n",
     {"@:4: class.match.arch: too many entries (at most 16)"}},
    {"bad class uuids and subnets",
     "interfaces: [br0]\n"
     "classes:\n"
     "  - name: g\n"
     "    match:\n"
     "      uuid: [0123456789abcdef0123456789abcdef, 01234567-89ab-cdef-0123-456789abcdeg,\n"
     "             01234567-89AB-cdef-0123-456789abcdef, 01234567-89ab-cdef-0123-456789abcdef,\n"
     "             01234567-89ab-cdef-0123456789abcdef0, 01234567+89ab-cdef-0123-456789abcdef]\n"
     "      subnet: [10.0.0.1/24, 10.1.0.0/16]\n",
     {"@:5: class.match.uuid: '0123456789abcdef0123456789abcdef' is not a UUID (like "
      "01234567-89ab-cdef-0123-456789abcdef)",
      "@:5: class.match.uuid: '01234567-89ab-cdef-0123-456789abcdeg' is not a UUID (like "
      "01234567-89ab-cdef-0123-456789abcdef)",
      "@:6: class.match.uuid: UUID 01234567-89ab-cdef-0123-456789abcdef is listed twice",
      "@:7: class.match.uuid: '01234567-89ab-cdef-0123456789abcdef0' is not a UUID (like "
      "01234567-89ab-cdef-0123-456789abcdef)",
      "@:7: class.match.uuid: '01234567+89ab-cdef-0123-456789abcdef' is not a UUID (like "
      "01234567-89ab-cdef-0123-456789abcdef)",
      "@:8: class.match.subnet: '10.0.0.1/24' has host bits set (did you mean 10.0.0.0/24?)"}},
    {"bad class subnets",
     "interfaces: [br0]\n"
     "classes:\n"
     "  - name: h\n"
     "    match:\n"
     "      subnet: [10.0.0.0/33, 10.0.0.0, 300.0.0.0/8, 10.1.0.0/16]\n",
     {"@:5: class.match.subnet: prefix length in '10.0.0.0/33' is out of range (1-32)",
      "@:5: class.match.subnet: '10.0.0.0' is not a subnet (like 10.77.0.0/24)",
      "@:5: class.match.subnet: '300.0.0.0/8' is not a subnet (like 10.77.0.0/24)"}},
    {"too many class uuids and subnets",
     "interfaces: [br0]\n"
     "classes:\n"
     "  - name: i\n"
     "    match:\n"
     "      subnet: [10.0.0.0/8, 10.1.0.0/16, 10.2.0.0/16, 10.3.0.0/16, 10.4.0.0/16,\n"
     "               10.5.0.0/16, 10.6.0.0/16, 10.7.0.0/16, 10.8.0.0/16, 10.9.0.0/16,\n"
     "               10.10.0.0/16, 10.11.0.0/16, 10.12.0.0/16, 10.13.0.0/16, 10.14.0.0/16,\n"
     "               10.15.0.0/16, 10.16.0.0/16]\n",
     {"@:8: class.match.subnet: too many entries (at most 16)"}},
    {"bad class name",
     "interfaces: [br0]\n"
     "classes:\n"
     "  - name: ../x\n"
     "    match: {arch: 7}\n",
     {"@:3: class.name: '../x' may only have letters, digits, '.', '_' and '-' (at most 64, "
      "not starting with '.')"}},
    {"class entry not a mapping",
     "interfaces: [br0]\n"
     "classes: [rpi]\n",
     {"@:2: each entry of classes must be a mapping (name: ..., match: ...), not a single "
      "value"}},
    {"bad arch overrides",
     "interfaces: [br0]\n"
     "arch_overrides:\n"
     "  - mac_prefix: b8:27:eb\n"
     "  - {mac_prefix: zz, arch: 0}\n"
     "  - {mac_prefix: b8:27:eb, arch: bios-x}\n",
     {"@:3: arch_override entry is missing 'arch'",
      "@:4: arch_override.mac_prefix: 'zz' is not a MAC prefix (1 to 6 bytes, like b8:27:eb)",
      "@:5: arch_override.arch: 'bios-x' is not an architecture (a number 0-65535 or a name "
      "like efi-x64)"}},
    {"host without mac or client_id",
     "interfaces: [br0]\n"
     "hosts:\n"
     "  - name: node1\n"
     "    address: 10.0.0.1\n",
     {"@:3: host entry is missing 'mac' or 'client_id'"}},
    {"bad client ids",
     "interfaces: [br0]\n"
     "hosts:\n"
     "  - client_id: 01:52:5\n"
     "  - client_id: x\n"
     "  - client_id: 0x01\n"
     "  - {mac: 52:54:00:aa:00:01, client_id: \"\"}\n",
     {"@:3: host.client_id: '01:52:5' is not hex bytes (like 01:02:ff or 0x0102ff)",
      "@:4: host.client_id: 'x' is 1 byte long; a client identifier has at least 2",
      "@:5: host.client_id: '0x01' is 1 byte long; a client identifier has at least 2",
      "@:6: host.client_id has no value"}},
    {"menu item errors",
     "interfaces: [br0]\n"
     "pxe_menu:\n"
     "  timeout: 256\n"
     "  items:\n"
     "    - {label: A}\n"
     "    - {label: B, local: true, profile: x}\n"
     "    - {label: C, local: true, type: 3}\n"
     "    - {label: D, profile: x, type: 0}\n"
     "    - {label: E, profile: x, type: 32768}\n",
     {"@:3: pxe_menu.timeout: '256' is out of range (0-255)",
      "@:5: pxe_menu item 'A' needs a 'profile' (or 'local: true')",
      "@:6: pxe_menu item 'B': give either 'profile' or 'local: true', not both",
      "@:7: pxe_menu item 'C': a local item is type 0; leave 'type' out",
      "@:8: pxe_menu.item.type: '0' is out of range (1-32767)",
      "@:9: pxe_menu.item.type: '32768' is out of range (1-32767)"}},
    {"more menu errors",
     "interfaces: [br0]\n"
     "pxe_menu:\n"
     "  items:\n"
     "    - {label: F, local: maybe}\n"
     "    - {profile: x}\n"
     "    - label: [a]\n"
     "      profile: x\n",
     {"@:4: pxe_menu.item.local: 'maybe' is not true or false",
      "@:5: pxe_menu.item entry is missing 'label'",
      "@:6: pxe_menu.item.label must be a single value, not a list"}},
    {"menu without items",
     "interfaces: [br0]\n"
     "pxe_menu:\n"
     "  prompt: Boot?\n",
     {"@:3: pxe_menu entry is missing 'items'"}},
    {"menu not a mapping",
     "interfaces: [br0]\n"
     "pxe_menu: [a]\n",
     {"@:2: pxe_menu must be a mapping (prompt: ..., items: [...]), not a list"}},
};

static void test_dhcp_parse_errors(void **state)
{
	run_err_cases(dhcp_parse_cases, PXED_ARRAY_LEN(dhcp_parse_cases));
}

static const struct err_case validation_cases[] = {
    {"host with unknown profile",
     "interfaces: [br0]\n"
     "hosts:\n"
     "  - mac: 52:54:00:aa:00:01\n"
     "    profile: nope\n",
     {"@:3: host 52:54:00:aa:00:01: profile 'nope' is not defined"}},
    {"unknown default_profile",
     "interfaces: [br0]\n"
     "default_profile: nope\n",
     {"@:2: default_profile 'nope' is not a defined profile"}},
    {"pool backwards",
     "interfaces: [br0]\n"
     "subnets:\n"
     "  - subnet: 10.0.0.0/24\n"
     "    pool: 10.0.0.20-10.0.0.10\n",
     {"@:3: pool 10.0.0.20-10.0.0.10: the first address is after the last"}},
    {"pool outside the subnet",
     "interfaces: [br0]\n"
     "subnets:\n"
     "  - subnet: 10.0.0.0/24\n"
     "    pool: 10.0.0.200 - 10.0.1.20\n",
     {"@:3: pool 10.0.0.200-10.0.1.20 is not inside subnet 10.0.0.0/24"}},
    {"pool with broadcast",
     "interfaces: [br0]\n"
     "subnets:\n"
     "  - subnet: 10.0.0.0/24\n"
     "    pool: 10.0.0.10-10.0.0.255\n",
     {"@:3: pool 10.0.0.10-10.0.0.255 includes the network or broadcast address of "
      "10.0.0.0/24"}},
    {"router outside",
     "interfaces: [br0]\n"
     "subnets:\n"
     "  - subnet: 10.0.0.0/24\n"
     "    router: 10.0.1.1\n",
     {"@:3: router 10.0.1.1 is not inside subnet 10.0.0.0/24"}},
    {"router in pool",
     "interfaces: [br0]\n"
     "subnets:\n"
     "  - subnet: 10.0.0.0/24\n"
     "    pool: 10.0.0.1-10.0.0.99\n"
     "    router: 10.0.0.1\n",
     {"@:3: router 10.0.0.1 is inside the pool, which would lease it out"}},
    {"overlapping subnets",
     "interfaces: [br0]\n"
     "subnets:\n"
     "  - subnet: 10.0.0.0/24\n"
     "  - subnet: 10.0.0.0/16\n",
     {"@:4: subnet 10.0.0.0/16 overlaps subnet 10.0.0.0/24 (line 3)"}},
    {"address outside every subnet",
     "interfaces: [br0]\n"
     "subnets:\n"
     "  - subnet: 10.0.0.0/24\n"
     "hosts:\n"
     "  - mac: 52:54:00:aa:00:01\n"
     "    name: node1\n"
     "    address: 10.0.1.5\n",
     {"@:5: host node1: address 10.0.1.5 is not inside any subnet"}},
    {"address is the network",
     "interfaces: [br0]\n"
     "subnets:\n"
     "  - subnet: 10.0.0.0/24\n"
     "hosts:\n"
     "  - mac: 52:54:00:aa:00:01\n"
     "    address: 10.0.0.0\n",
     {"@:5: host 52:54:00:aa:00:01: address 10.0.0.0 is the network or broadcast address "
      "of 10.0.0.0/24"}},
    {"address used twice",
     "interfaces: [br0]\n"
     "subnets:\n"
     "  - subnet: 10.0.0.0/24\n"
     "hosts:\n"
     "  - mac: 52:54:00:aa:00:02\n"
     "    address: 10.0.0.5\n"
     "  - mac: 52:54:00:aa:00:01\n"
     "    address: 10.0.0.5\n",
     {"@:7: address 10.0.0.5 is reserved for two hosts (first at line 5)"}},
    {"duplicate mac",
     "interfaces: [br0]\n"
     "hosts:\n"
     "  - mac: 52:54:00:AA:00:01\n"
     "  - mac: 52:54:00:aa:00:02\n"
     "  - mac: 52-54-00-aa-00-01\n",
     {"@:5: duplicate host MAC 52:54:00:aa:00:01 (first at line 3)"}},
    {"duplicate profile",
     "interfaces: [br0]\n"
     "profiles:\n"
     "  p:\n"
     "    kernel: boot/vmlinuz\n"
     "  p:\n"
     "    kernel: boot/vmlinuz\n",
     {"@:5: duplicate profile 'p' (first at line 3)"}},
    {"missing kernel file",
     "interfaces: [br0]\n"
     "profiles:\n"
     "  p:\n"
     "    kernel: boot/missing\n",
     {"@:3: profile 'p': kernel $/boot/missing: No such file or directory"}},
    {"kernel is a directory",
     "interfaces: [br0]\n"
     "profiles:\n"
     "  p:\n"
     "    kernel: ./boot\n",
     {"@:3: profile 'p': kernel $/boot is not a regular file"}},
    {"missing initrd file",
     "interfaces: [br0]\n"
     "profiles:\n"
     "  p:\n"
     "    kernel: boot/vmlinuz\n"
     "    initrds: [boot/initrd.img, /nonexistent/initrd]\n",
     {"@:3: profile 'p': initrd /nonexistent/initrd: No such file or directory"}},
    {"profile without kernel",
     "interfaces: [br0]\n"
     "profiles:\n"
     "  p:\n"
     "    cmdline: quiet\n",
     {"@:3: profile 'p' has no kernel"}},
    {"no interfaces",
     "interfaces: []\n",
     {"@:1: dhcp mode 'server' needs at least one interface to listen on (set "
      "'interfaces', or 'dhcp: {mode: off}')"}},
    {"proxy without interfaces",
     "dhcp:\n"
     "  mode: proxy\n",
     {"@:2: dhcp mode 'proxy' needs at least one interface to listen on (set "
      "'interfaces', or 'dhcp: {mode: off}')"}},
    {"tftp root is a file",
     "interfaces: [br0]\n"
     "tftp:\n"
     "  root: afile\n",
     {"@:3: tftp.root $/afile is not a directory"}},
    {"http root missing",
     "interfaces: [br0]\n"
     "http:\n"
     "  root: /nonexistent/http\n",
     {"@:3: http.root /nonexistent/http: No such file or directory"}},
    {"upload dir is a file",
     "interfaces: [br0]\n"
     "tftp:\n"
     "  upload_dir: afile\n",
     {"@:3: tftp.upload_dir $/afile is not a directory"}},
    {"upload dir missing",
     "interfaces: [br0]\n"
     "tftp:\n"
     "  upload_dir: /nonexistent/up\n",
     {"@:3: tftp.upload_dir /nonexistent/up: No such file or directory"}},
    {"upload dir is the tftp root",
     "interfaces: [br0]\n"
     "tftp:\n"
     "  root: tftp\n"
     "  upload_dir: ./tftp\n",
     {"@:4: tftp.upload_dir $/tftp overlaps tftp.root $/tftp: clients could replace its "
      "files"}},
    {"upload dir holds the http root",
     "interfaces: [br0]\n"
     "tftp:\n"
     "  upload_dir: .\n"
     "http:\n"
     "  root: tftp\n",
     {"@:3: tftp.upload_dir $ overlaps http.root $/tftp: clients could replace its files"}},
    {"upload dir holds a profile's kernel and initrd",
     "interfaces: [br0]\n"
     "tftp:\n"
     "  upload_dir: boot\n"
     "profiles:\n"
     "  p:\n"
     "    kernel: boot/vmlinuz\n"
     "    initrds: [boot/initrd.img]\n",
     {"@:3: tftp.upload_dir $/boot holds profile 'p' kernel $/boot/vmlinuz: clients could "
      "replace it",
      "@:3: tftp.upload_dir $/boot holds profile 'p' initrd $/boot/initrd.img: clients could "
      "replace it"}},
    {"upload dir holds an initrd; a kernel in a directory above it is apart",
     "interfaces: [br0]\n"
     "tftp:\n"
     "  upload_dir: boot\n"
     "profiles:\n"
     "  p:\n"
     "    kernel: afile\n"
     "    initrd: boot/extra.img\n",
     {"@:3: tftp.upload_dir $/boot holds profile 'p' initrd $/boot/extra.img: clients could "
      "replace it"}},
    {"upload dir holds an nbp dir",
     "interfaces: [br0]\n"
     "tftp:\n"
     "  upload_dir: .\n"
     "nbp_dirs:\n"
     "  ipxe: boot\n",
     {"@:3: tftp.upload_dir $ overlaps nbp_dirs.ipxe $/boot: clients could replace its "
      "files"}},
    {"upload dir beneath an nbp dir",
     "interfaces: [br0]\n"
     "tftp:\n"
     "  upload_dir: tftp\n"
     "nbp_dirs:\n"
     "  pxelinux: .\n"
     "  syslinux: tftp\n",
     {"@:3: tftp.upload_dir $/tftp overlaps nbp_dirs.pxelinux $: clients could replace its "
      "files",
      "@:3: tftp.upload_dir $/tftp overlaps nbp_dirs.syslinux $/tftp: clients could replace "
      "its files"}},
    {"state dir beneath /etc",
     "interfaces: [br0]\n"
     "state_dir: /etc/pxed\n",
     {"@:2: state_dir /etc/pxed lies beneath /etc, a directory of the system: pxed gives the "
      "state directory to its user; use one of its own (/var/lib/pxed)"}},
    {"state dir /var",
     "interfaces: [br0]\n"
     "state_dir: /var\n",
     {"@:2: state_dir /var is /var, a directory of the system: pxed gives the state directory "
      "to its user; use one of its own (/var/lib/pxed)"}},
    {"state dir inside the tftp root",
     "interfaces: [br0]\n"
     "tftp:\n"
     "  root: tftp\n"
     "state_dir: tftp/state\n",
     {"@:4: state_dir $/tftp/state overlaps tftp.root $/tftp: the daemon may write the state "
      "directory, and must not be able to change what it serves"}},
    {"state dir holding a kernel",
     "interfaces: [br0]\n"
     "state_dir: boot\n"
     "profiles:\n"
     "  p: {kernel: boot/vmlinuz}\n",
     {"@:2: state_dir $/boot holds profile 'p' kernel $/boot/vmlinuz: the daemon could "
      "replace it"}},
};

static void test_validation_errors(void **state)
{
	run_err_cases(validation_cases, PXED_ARRAY_LEN(validation_cases));
}

/*
 * A kernel named by a link whose target lies in upload_dir is refused too:
 * pxed opens it through the link, so an upload would replace what it boots.
 */
static void test_upload_dir_holds_linked_kernel(void **state)
{
	static const struct err_case linked[] = {
	    {"kernel linked into the upload dir",
	     "interfaces: [br0]\n"
	     "tftp:\n"
	     "  upload_dir: up-linked\n"
	     "profiles:\n"
	     "  p: {kernel: vmlinuz-link}\n",
	     {"@:3: tftp.upload_dir $/up-linked holds profile 'p' kernel $/vmlinuz-link: clients "
	      "could replace it"}},
	};
	char dir[PATH_MAX], link[PATH_MAX];

	make_dir(tmpdir, "up-linked");
	make_file(tmpdir, "up-linked/vmlinuz", "kernel");
	snprintf(dir, sizeof(dir), "%s/up-linked", tmpdir);
	snprintf(link, sizeof(link), "%s/vmlinuz-link", tmpdir);
	assert_int_equal(symlink("up-linked/vmlinuz", link), 0);
	run_err_cases(linked, PXED_ARRAY_LEN(linked));
	unlink(link);
	remove_tree(dir);
}

static const struct err_case dhcp_validation_cases[] = {
    {"subnet key and option both set",
     "interfaces: [br0]\n"
     "subnets:\n"
     "  - subnet: 10.0.0.0/24\n"
     "    router: 10.0.0.1\n"
     "    dns: [10.0.0.1]\n"
     "    domain: lab.example\n"
     "    options:\n"
     "      routers: 10.0.0.2\n"
     "      6: 10.0.0.3\n"
     "      domain-name: x.example\n",
     {"@:8: subnet 10.0.0.0/24: options.routers and 'router' both set option 3; give one",
      "@:9: subnet 10.0.0.0/24: options.domain-name-servers and 'dns' both set option 6; "
      "give one",
      "@:10: subnet 10.0.0.0/24: options.domain-name and 'domain' both set option 15; give "
      "one"}},
    {"class errors",
     "interfaces: [br0, eth1]\n"
     "classes:\n"
     "  - name: a\n"
     "    match: {arch: 7}\n"
     "    profile: nope\n"
     "  - name: a\n"
     "    match: {interface: eth9}\n",
     {"@:3: class 'a': profile 'nope' is not defined", "@:6: duplicate class 'a' (first at line 3)",
      "@:6: class 'a': interface 'eth9' is not one of the interfaces DHCP listens on"}},
    {"arch override twice",
     "interfaces: [br0]\n"
     "arch_overrides:\n"
     "  - {mac_prefix: b8:27:eb, arch: 0}\n"
     "  - {mac_prefix: B8-27-EB, arch: 41}\n",
     {"@:4: arch override for b8:27:eb is given twice (first at line 3)"}},
    {"client id hosts",
     "interfaces: [br0]\n"
     "subnets:\n"
     "  - subnet: 10.0.0.0/24\n"
     "hosts:\n"
     "  - {client_id: \"01:02:03\", profile: zz}\n"
     "  - {client_id: \"0x010203\"}\n"
     "  - {client_id: node-7, address: 10.0.0.7}\n"
     "  - {mac: \"52:54:00:00:00:01\", address: 10.0.0.7}\n",
     {"@:5: host client_id 01:02:03: profile 'zz' is not defined",
      "@:8: address 10.0.0.7 is reserved for two hosts (first at line 7)",
      "@:6: duplicate host client_id 01:02:03 (first at line 5)"}},
    {"menu errors",
     "interfaces: [br0]\n"
     "profiles:\n"
     "  p: {kernel: boot/vmlinuz}\n"
     "pxe_menu:\n"
     "  items:\n"
     "    - {label: one, profile: p, type: 5}\n"
     "    - {label: two, profile: p, type: 5}\n"
     "    - {label: local1, local: true}\n"
     "    - {label: local2, local: true}\n"
     "    - {label: q, profile: q}\n",
     {"@:7: pxe_menu: type 5 is given to two items (first at line 6)",
      "@:9: pxe_menu: only one item may boot the local disk (first at line 8)",
      "@:10: pxe_menu item 'q': profile 'q' is not defined"}},
    {"empty menu",
     "interfaces: [br0]\n"
     "pxe_menu:\n"
     "  items: []\n",
     {"@:3: pxe_menu needs 1 to 16 items"}},
};

static void test_dhcp_validation_errors(void **state)
{
	run_err_cases(dhcp_validation_cases, PXED_ARRAY_LEN(dhcp_validation_cases));
}

/* Errors of both stages in one file, all reported: parse first, then checks. */
static void test_many_errors(void **state)
{
	static const struct err_case c[] = {
	    {"many errors",
	     "interfaces: [br0]\n"
	     "tftp:\n"
	     "  port: 99999\n"
	     "  colour: blue\n"
	     "profiles:\n"
	     "  p:\n"
	     "    kernel: boot/missing\n"
	     "hosts:\n"
	     "  - mac: 52:54:00:aa:00:01\n"
	     "    profile: q\n"
	     "  - mac: nonsense\n",
	     {"@:3: tftp.port: '99999' is out of range (1-65535)",
	      "@:4: unknown key 'colour' in tftp",
	      "@:11: host.mac: 'nonsense' is not a MAC "
	      "address (like 52:54:00:aa:00:01)",
	      "@:6: profile 'p': kernel $/boot/missing: No such file or directory",
	      "@:9: host 52:54:00:aa:00:01: profile 'q' is not defined"}},
	};
	run_err_cases(c, 1);
}

/* ---------------------------------------------------------------------- */

static struct conf *load_ok(const char *yaml)
{
	struct conf_errors errs = {0};
	struct conf *c = NULL;
	char path[PATH_MAX];
	int rc = load_yaml(yaml, path, &c, &errs);

	if (errs.n != 0)
		print_errors(&errs);
	assert_int_equal(rc, 0);
	assert_int_equal(errs.n, 0);
	assert_non_null(c);
	assert_string_equal(c->path, path);
	conf_errors_free(&errs);
	unlink(path);
	return c;
}

static void test_defaults(void **state)
{
	struct conf *c = conf_new_defaults();

	assert_int_equal(c->lease_time_s, 3600);
	assert_int_equal(c->tftp_port, 69);
	assert_int_equal(c->http_port, 80);
	assert_string_equal(c->state_dir, "/var/lib/pxed");
	assert_string_equal(c->nbp_dir_ipxe, "/usr/lib/ipxe");
	assert_string_equal(c->nbp_dir_pxelinux, "/usr/lib/PXELINUX");
	assert_string_equal(c->nbp_dir_syslinux, "/usr/lib/syslinux/modules/bios");
	assert_int_equal(c->dhcp_mode, CONF_DHCP_SERVER);
	assert_null(c->path);
	assert_null(c->tftp_root);
	assert_null(c->default_profile);
	assert_int_equal(c->n_hosts + c->n_profiles + c->n_subnets + c->n_interfaces, 0);
	assert_true(c->authoritative);
	assert_int_equal(c->max_leases, 0);
	assert_int_equal(c->options.n + c->n_classes + c->n_arch_overrides, 0);
	assert_null(c->pxe_menu);
	conf_free(c);

	/* A minimal file keeps every default. */
	c = load_ok("interfaces: br0\n");
	assert_int_equal(c->n_interfaces, 1);
	assert_string_equal(c->interfaces[0], "br0");
	assert_int_equal(c->lease_time_s, 3600);
	assert_string_equal(c->state_dir, "/var/lib/pxed");
	conf_free(c);
}

/* The configuration from the design notes, checked field by field below. */
static const char full_yaml[] = "interfaces: [br0, eth1]\n"
				"dhcp:\n"
				"  mode: proxy\n"
				"  lease_time: 2h\n"
				"server_address: 10.77.0.1\n"
				"state_dir: state\n"
				"tftp:\n"
				"  root: tftp\n"
				"  port: 6969\n"
				"http:\n"
				"  root: /usr/share\n"
				"  port: 8080\n"
				"  listen: 10.77.0.1\n"
				"nbp_dirs:\n"
				"  ipxe: /opt/ipxe\n"
				"subnets:\n"
				"  - subnet: 10.77.0.0/24\n"
				"    pool: 10.77.0.100-10.77.0.199\n"
				"    router: 10.77.0.1\n"
				"    dns: [10.77.0.1, 10.77.0.2]\n"
				"    domain: lab.example\n"
				"    lease_time: 30m\n"
				"profiles:\n"
				"  debian:\n"
				"    kernel: boot/vmlinuz\n"
				"    initrds: [boot/initrd.img, ./boot/extra.img]\n"
				"    cmdline: console=ttyS0 quiet\n"
				"  single:\n"
				"    kernel: boot/vmlinuz\n"
				"    initrd: boot/initrd.img\n"
				"default_profile: debian\n"
				"hosts:\n"
				"  - mac: 52:54:00:aa:00:01\n"
				"    name: node1\n"
				"    address: 10.77.0.50\n"
				"    profile: debian\n"
				"    cmdline: role=web\n";

/* The full configuration: the global settings. */
static void test_full_config_globals(void **state)
{
	struct conf *c = load_ok(full_yaml);
	char want[PATH_MAX];

	assert_int_equal(c->n_interfaces, 2);
	assert_string_equal(c->interfaces[1], "eth1");
	assert_int_equal(c->dhcp_mode, CONF_DHCP_PROXY);
	assert_int_equal(c->lease_time_s, 7200);
	assert_int_equal(c->server_address, 0x0a4d0001);
	snprintf(want, sizeof(want), "%s/state", tmpdir);
	assert_string_equal(c->state_dir, want);
	snprintf(want, sizeof(want), "%s/tftp", tmpdir);
	assert_string_equal(c->tftp_root, want);
	assert_int_equal(c->tftp_port, 6969);
	assert_string_equal(c->http_root, "/usr/share");
	assert_int_equal(c->http_port, 8080);
	assert_int_equal(c->listen_address, 0x0a4d0001);
	assert_string_equal(c->nbp_dir_ipxe, "/opt/ipxe");
	assert_string_equal(c->nbp_dir_pxelinux, "/usr/lib/PXELINUX");
	conf_free(c);
}

/* The full configuration: its subnet. */
static void test_full_config_subnets(void **state)
{
	struct conf *c = load_ok(full_yaml);

	assert_int_equal(c->n_subnets, 1);
	assert_int_equal(c->subnets[0].network, 0x0a4d0000);
	assert_int_equal(c->subnets[0].prefix_len, 24);
	assert_int_equal(c->subnets[0].pool_first, 0x0a4d0064);
	assert_int_equal(c->subnets[0].pool_last, 0x0a4d00c7);
	assert_int_equal(c->subnets[0].router, 0x0a4d0001);
	assert_int_equal(c->subnets[0].n_dns, 2);
	assert_int_equal(c->subnets[0].dns[1], 0x0a4d0002);
	assert_string_equal(c->subnets[0].domain, "lab.example");
	assert_int_equal(c->subnets[0].lease_time_s, 1800);
	assert_int_equal(c->subnets[0].line, 17);
	conf_free(c);
}

/* The full configuration: its profiles and host. */
static void test_full_config_profiles_hosts(void **state)
{
	struct conf *c = load_ok(full_yaml);
	char want[PATH_MAX];

	assert_int_equal(c->n_profiles, 2);
	assert_string_equal(c->profiles[0].name, "debian");
	assert_int_equal(c->profiles[0].line, 24);
	snprintf(want, sizeof(want), "%s/boot/vmlinuz", tmpdir);
	assert_string_equal(c->profiles[0].kernel, want);
	assert_int_equal(c->profiles[0].n_initrds, 2);
	snprintf(want, sizeof(want), "%s/boot/extra.img", tmpdir);
	assert_string_equal(c->profiles[0].initrds[1], want);
	assert_string_equal(c->profiles[0].cmdline, "console=ttyS0 quiet");
	assert_int_equal(c->profiles[1].n_initrds, 1);
	assert_null(c->profiles[1].cmdline);
	assert_string_equal(c->default_profile, "debian");

	assert_int_equal(c->n_hosts, 1);
	assert_memory_equal(c->hosts[0].mac, "\x52\x54\x00\xaa\x00\x01", 6);
	assert_string_equal(c->hosts[0].name, "node1");
	assert_int_equal(c->hosts[0].address, 0x0a4d0032);
	assert_string_equal(c->hosts[0].profile, "debian");
	assert_string_equal(c->hosts[0].cmdline, "role=web");
	assert_int_equal(c->hosts[0].line, 33);
	conf_free(c);
}

/* tftp.upload_dir and tftp.upload_max_bytes: off and 64 MiB unless set. */
static void test_tftp_uploads(void **state)
{
	static const struct {
		const char *text;
		uint64_t bytes;
	} sizes[] = {
	    {"1", 1},	       {"65536", 65536},    {"512K", 512 << 10}, {"512KiB", 512 << 10},
	    {"16M", 16 << 20}, {"16MiB", 16 << 20}, {"2G", 2ull << 30},	 {"1024G", 1ull << 40}};
	char yaml[256], want[PATH_MAX + 8];
	struct conf *c = load_ok("interfaces: br0\n");

	assert_null(c->tftp_upload_dir);
	assert_true(c->tftp_upload_max_bytes == 64ull << 20);
	conf_free(c);
	for (size_t i = 0; i < PXED_ARRAY_LEN(sizes); i++) {
		snprintf(yaml, sizeof(yaml),
			 "interfaces: br0\ntftp:\n  upload_dir: boot\n  upload_max_bytes: %s\n",
			 sizes[i].text);
		c = load_ok(yaml);
		snprintf(want, sizeof(want), "%s/boot", tmpdir);
		assert_string_equal(c->tftp_upload_dir, want);
		assert_true(c->tftp_upload_max_bytes == sizes[i].bytes);
		conf_free(c);
	}
}

static void test_lease_time_units(void **state)
{
	static const struct {
		const char *text;
		uint32_t secs;
	} ok[] = {{"3600", 3600},  {"60", 60},	   {"90s", 90},		 {"30m", 1800},
		  {"1h", 3600},	   {"12h", 43200}, {"2d", 172800},	 {"365d", 31536000},
		  {"'45m'", 2700}, {"0090", 90},   {"525600m", 31536000}};
	static const char *const bad[] = {"0",	 "59",	"1w", "1.5h", "h",
					  "1 h", "-1h", "1H", "366d", "99999999999999999999999",
					  "1hm", "\"\""};
	char yaml[128], path[PATH_MAX];

	for (size_t i = 0; i < PXED_ARRAY_LEN(ok); i++) {
		struct conf *c;
		snprintf(yaml, sizeof(yaml), "interfaces: [br0]\ndhcp:\n  lease_time: %s\n",
			 ok[i].text);
		print_message("lease_time: %s\n", ok[i].text);
		c = load_ok(yaml);
		assert_int_equal(c->lease_time_s, ok[i].secs);
		conf_free(c);
	}
	for (size_t i = 0; i < PXED_ARRAY_LEN(bad); i++) {
		struct conf_errors errs = {0};
		struct conf *c;
		snprintf(yaml, sizeof(yaml), "interfaces: [br0]\ndhcp:\n  lease_time: %s\n",
			 bad[i]);
		print_message("lease_time: %s\n", bad[i]);
		assert_int_equal(load_yaml(yaml, path, &c, &errs), -EINVAL);
		assert_int_equal(errs.n, 1);
		assert_non_null(strstr(errs.msgs[0], ":3: dhcp.lease_time"));
		conf_errors_free(&errs);
		unlink(path);
	}
}

/* The shorthand forms: one value for a list, empty sections, mode off. */
static void test_shorthands(void **state)
{
	struct conf *c = load_ok("dhcp: {mode: off}\n"
				 "tftp:\n"
				 "http: ~\n"
				 "subnets:\n"
				 "  - subnet: 192.168.1.0/24\n"
				 "    dns: 192.168.1.1\n"
				 "profiles:\n"
				 "  p: {kernel: boot/vmlinuz, initrds: boot/initrd.img}\n"
				 "hosts:\n"
				 "# every host is commented out\n");

	assert_int_equal(c->dhcp_mode, CONF_DHCP_OFF);
	assert_int_equal(c->n_interfaces, 0);
	assert_int_equal(c->subnets[0].n_dns, 1);
	assert_int_equal(c->profiles[0].n_initrds, 1);
	assert_int_equal(c->subnets[0].pool_first, 0);
	assert_int_equal(c->n_hosts, 0);
	conf_free(c);
}

static void test_lookups(void **state)
{
	struct conf *c = load_ok("interfaces: [br0]\n"
				 "subnets:\n"
				 "  - subnet: 10.0.0.0/24\n"
				 "  - subnet: 10.1.0.0/16\n"
				 "profiles:\n"
				 "  a: {kernel: boot/vmlinuz}\n"
				 "  b: {kernel: boot/vmlinuz}\n"
				 "hosts:\n"
				 "  - {mac: 52:54:00:00:00:09, name: h9}\n"
				 "  - {mac: 02:00:00:00:00:01, name: h1}\n"
				 "  - {mac: 52:54:00:00:00:03, name: h3, profile: b}\n"
				 "  - {mac: aa:bb:cc:dd:ee:f0, name: hf}\n");
	const uint8_t m3[6] = {0x52, 0x54, 0, 0, 0, 3},
		      mf[6] = {0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xf0};
	const uint8_t m1[6] = {2, 0, 0, 0, 0, 1}, none[6] = {0x52, 0x54, 0, 0, 0, 4};
	uint32_t ip;

	assert_string_equal(conf_find_host(c, m3)->name, "h3");
	assert_string_equal(conf_find_host(c, m3)->profile, "b");
	assert_int_equal(conf_find_host(c, m3)->line, 11);
	assert_string_equal(conf_find_host(c, mf)->name, "hf");
	assert_string_equal(conf_find_host(c, m1)->name, "h1");
	assert_null(conf_find_host(c, none));

	assert_string_equal(conf_find_profile(c, "b")->name, "b");
	assert_null(conf_find_profile(c, "c"));
	assert_null(conf_find_profile(c, NULL));

	ip4_parse("10.0.0.77", &ip);
	assert_int_equal(conf_find_subnet(c, ip)->prefix_len, 24);
	ip4_parse("10.1.200.1", &ip);
	assert_int_equal(conf_find_subnet(c, ip)->prefix_len, 16);
	ip4_parse("10.2.0.1", &ip);
	assert_null(conf_find_subnet(c, ip));
	conf_free(c);
}

static void expect_option(const struct conf_options *set, size_t i, uint8_t code, const void *v,
			  size_t len)
{
	assert_true(i < set->n);
	assert_int_equal(set->v[i].code, code);
	assert_int_equal(set->v[i].len, len);
	assert_memory_equal(set->v[i].data, v, len);
}

/* Every key of issue 3, with every field checked below. */
static const char dhcp_yaml[] = "interfaces: [br0, eth1]\n"
				"dhcp:\n"
				"  authoritative: false\n"
				"  max_leases: 5000\n"
				"options:\n"
				"  ntp-servers: [10.77.0.1, 10.77.0.2]\n"
				"  domain-search: [lab.example, example.com]\n"
				"  \"150\": 10.77.0.1\n"
				"  224: \"01:02\"\n"
				"  ip_forwarding: false\n"
				"subnets:\n"
				"  - subnet: 10.77.0.0/24\n"
				"    router: 10.77.0.1\n"
				"    options:\n"
				"      classless-static-routes: [\"10.0.0.0/8 via 10.77.0.254\",\n"
				"                                0.0.0.0/0 via 10.77.0.1]\n"
				"      interface-mtu: 9000\n"
				"profiles:\n"
				"  debian: {kernel: boot/vmlinuz}\n"
				"  rescue: {kernel: boot/vmlinuz}\n"
				"classes:\n"
				"  - name: rpi\n"
				"    match: {mac_prefix: \"b8:27:eb\", arch: 0}\n"
				"    profile: rescue\n"
				"    options: {vendor-class-identifier: PXEClient}\n"
				"  - name: uefi\n"
				"    match:\n"
				"      vendor_class: \"PXEClient:Arch:0000\"\n"
				"      arch: [efi-x64, 11]\n"
				"      user_class: iPXE\n"
				"      relay: 10.0.5.1\n"
				"      interface: eth1\n"
				"arch_overrides:\n"
				"  - {mac_prefix: \"b8:27:eb\", arch: 41}\n"
				"  - {mac_prefix: \"DC-A6-32-01\", arch: efi-arm64}\n"
				"pxe_menu:\n"
				"  prompt: Press F8 for the boot menu\n"
				"  timeout: 5\n"
				"  items:\n"
				"    - {label: Install Debian, profile: debian}\n"
				"    - {label: Rescue, profile: rescue, type: 1}\n"
				"    - {label: Local disk, local: true}\n"
				"    - {label: Debian again, profile: debian}\n"
				"hosts:\n"
				"  - mac: 52:54:00:aa:00:01\n"
				"    client_id: \"01:52:54:00:aa:00:01\"\n"
				"    options: {host-name: node1}\n"
				"  - client_id: node-7\n"
				"    name: node7\n"
				"    address: 10.77.0.57\n"
				"  - mac: 02:00:00:00:00:01\n";

static void check_dhcp_options(const struct conf *c)
{
	assert_false(c->authoritative);
	assert_int_equal(c->max_leases, 5000);
	assert_int_equal(c->options.n, 5);
	expect_option(&c->options, 0, 42, "\x0a\x4d\x00\x01\x0a\x4d\x00\x02", 8);
	expect_option(&c->options, 1, 119,
		      "\x03lab\x07"
		      "example\x00\x07"
		      "example\x03"
		      "com\x00",
		      26);
	expect_option(&c->options, 2, 150, "\x0a\x4d\x00\x01", 4);
	expect_option(&c->options, 3, 224, "\x01\x02", 2);
	expect_option(&c->options, 4, 19, "\x00", 1);
	assert_int_equal(c->options.v[4].line, 10);
	assert_int_equal(c->subnets[0].options.n, 2);
	expect_option(&c->subnets[0].options, 0, 121,
		      "\x08\x0a\x0a\x4d\x00\xfe\x00\x0a\x4d\x00\x01", 11);
	expect_option(&c->subnets[0].options, 1, 26, "\x23\x28", 2);
}

static void check_dhcp_classes(const struct conf *c)
{
	const struct conf_class *cl = &c->classes[0];

	assert_int_equal(c->n_classes, 2);
	assert_string_equal(cl->name, "rpi");
	assert_int_equal(cl->line, 22);
	assert_int_equal(cl->match.mac_prefix_len, 3);
	assert_memory_equal(cl->match.mac_prefix, "\xb8\x27\xeb", 3);
	assert_int_equal(cl->match.n_arches, 1);
	assert_int_equal(cl->match.arches[0], 0);
	assert_null(cl->match.vendor_class_prefix);
	assert_string_equal(cl->profile, "rescue");
	expect_option(&cl->options, 0, 60, "PXEClient", 9);
	cl = &c->classes[1];
	assert_string_equal(cl->match.vendor_class_prefix, "PXEClient:Arch:0000");
	assert_string_equal(cl->match.user_class, "iPXE");
	assert_int_equal(cl->match.n_arches, 3); /* efi-x64 is 7 and 9 */
	assert_int_equal(cl->match.arches[0], 7);
	assert_int_equal(cl->match.arches[1], 9);
	assert_int_equal(cl->match.arches[2], 11);
	assert_int_equal(cl->match.relay, 0x0a000501);
	assert_string_equal(cl->match.interface, "eth1");
	assert_null(cl->profile);
	assert_int_equal(cl->options.n, 0);

	assert_int_equal(c->n_arch_overrides, 2);
	assert_int_equal(c->arch_overrides[0].arch, 41);
	assert_int_equal(c->arch_overrides[1].arch, 11);
	assert_int_equal(c->arch_overrides[1].mac_prefix_len, 4);
	assert_memory_equal(c->arch_overrides[1].mac_prefix, "\xdc\xa6\x32\x01", 4);
	assert_int_equal(c->arch_overrides[1].line, 35);
}

static void check_dhcp_menu(const struct conf *c)
{
	const struct conf_pxe_menu *m = c->pxe_menu;

	assert_non_null(m);
	assert_string_equal(m->prompt, "Press F8 for the boot menu");
	assert_int_equal(m->timeout_s, 5);
	assert_int_equal(m->n_items, 4);
	/* Items without a type count 1, 2, 3..., skipping the types given. */
	assert_int_equal(m->items[0].type, 2);
	assert_string_equal(m->items[0].label, "Install Debian");
	assert_string_equal(m->items[0].profile, "debian");
	assert_int_equal(m->items[1].type, 1);
	assert_int_equal(m->items[2].type, 0);
	assert_null(m->items[2].profile);
	assert_int_equal(m->items[3].type, 3);
	assert_int_equal(m->items[3].line, 43);
}

/* Hosts: by MAC, the one known only by client id last. */
static void check_dhcp_hosts(const struct conf *c)
{
	assert_int_equal(c->n_hosts, 3);
	assert_memory_equal(c->hosts[0].mac, "\x02\0\0\0\0\x01", 6);
	assert_true(c->hosts[1].has_mac);
	assert_int_equal(c->hosts[1].client_id_len, 7);
	expect_option(&c->hosts[1].options, 0, 12, "node1", 5);
	assert_false(c->hosts[2].has_mac);
	assert_string_equal(c->hosts[2].name, "node7");
	assert_int_equal(c->hosts[2].client_id_len, 6);
	assert_memory_equal(c->hosts[2].client_id, "node-7", 6);
	assert_ptr_equal(conf_find_host(c, (const uint8_t *)"\x52\x54\x00\xaa\x00\x01"),
			 &c->hosts[1]);
	assert_ptr_equal(conf_find_host(c, (const uint8_t *)"\x02\0\0\0\0\x01"), &c->hosts[0]);
	assert_null(conf_find_host(c, (const uint8_t *)"\xff\xff\xff\xff\xff\xff"));
	assert_null(conf_find_host(c, (const uint8_t *)"\0\0\0\0\0\0"));
	assert_ptr_equal(conf_find_host_by_client_id(c, (const uint8_t *)"node-7", 6),
			 &c->hosts[2]);
	assert_ptr_equal(
	    conf_find_host_by_client_id(c, (const uint8_t *)"\x01\x52\x54\x00\xaa\x00\x01", 7),
	    &c->hosts[1]);
	assert_null(conf_find_host_by_client_id(c, (const uint8_t *)"node-", 5));
	assert_null(conf_find_host_by_client_id(c, (const uint8_t *)"node-8", 6));
	assert_null(conf_find_host_by_client_id(c, (const uint8_t *)"", 0));
}

static void test_dhcp_config(void **state)
{
	struct conf *c = load_ok(dhcp_yaml);

	check_dhcp_options(c);
	check_dhcp_classes(c);
	check_dhcp_menu(c);
	check_dhcp_hosts(c);
	conf_free(c);
}

/* The rate limits and caps (issue 7): defaults, and values as given. */
static void test_flood_limits(void **state)
{
	struct conf *c = load_ok("interfaces: [br0]\n");

	assert_false(c->dhcp_known_only);
	assert_int_equal(c->dhcp_rate_per_mac, 20);
	assert_int_equal(c->dhcp_rate_per_source, 2000);
	assert_int_equal(c->dhcp_new_client_rate, 50);
	assert_int_equal(c->tftp_rate_per_address, 100);
	assert_int_equal(c->tftp_max_transfers, 1024);
	assert_int_equal(c->tftp_max_per_client, 32);
	assert_int_equal(c->http_rate_per_address, 100);
	conf_free(c);
	c = load_ok("interfaces: [br0]\n"
		    "dhcp: {known_only: true, rate_per_mac: 0, rate_per_source: 7,"
		    " new_client_rate: 1000000}\n"
		    "tftp: {max_transfers: 65536, max_per_client: 1, rate_per_address: 0}\n"
		    "http: {rate_per_address: 1000000}\n"
		    "subnets:\n"
		    "  - {subnet: 10.0.0.0/24, pool: 10.0.0.10-10.0.0.20, max_leases: 5}\n"
		    "  - {subnet: 10.0.1.0/24, unknown: ignore}\n"
		    "  - {subnet: 10.0.2.0/24, unknown: discover}\n");
	assert_true(c->dhcp_known_only);
	assert_int_equal(c->dhcp_rate_per_mac, 0);
	assert_int_equal(c->dhcp_rate_per_source, 7);
	assert_int_equal(c->dhcp_new_client_rate, 1000000);
	assert_int_equal(c->tftp_max_transfers, 65536);
	assert_int_equal(c->tftp_max_per_client, 1);
	assert_int_equal(c->tftp_rate_per_address, 0);
	assert_int_equal(c->http_rate_per_address, 1000000);
	assert_int_equal(c->subnets[0].max_leases, 5);
	assert_int_equal(c->subnets[0].unknown, CONF_UNKNOWN_BOOT); /* the default */
	assert_int_equal(c->subnets[1].unknown, CONF_UNKNOWN_IGNORE);
	assert_int_equal(c->subnets[2].unknown, CONF_UNKNOWN_DISCOVER);
	conf_free(c);
}

/* Defaults of the new keys, and a menu's own defaults. */
static void test_dhcp_defaults(void **state)
{
	struct conf *c = load_ok("interfaces: [br0]\n"
				 "dhcp: {authoritative: true, max_leases: 0}\n"
				 "options:\n"
				 "classes:\n"
				 "arch_overrides: ~\n"
				 "profiles:\n"
				 "  p: {kernel: boot/vmlinuz}\n"
				 "pxe_menu:\n"
				 "  items:\n"
				 "    - {label: Boot, profile: p}\n"
				 "    - {label: Disk, local: false, profile: p, type: 32767}\n");

	assert_true(c->authoritative);
	assert_int_equal(c->max_leases, 0);
	assert_int_equal(c->options.n + c->n_classes + c->n_arch_overrides, 0);
	assert_non_null(c->pxe_menu);
	assert_null(c->pxe_menu->prompt);
	assert_int_equal(c->pxe_menu->timeout_s, 10);
	assert_int_equal(c->pxe_menu->items[0].type, 1);
	assert_int_equal(c->pxe_menu->items[1].type, 32767);
	assert_int_equal(c->pxe_menu->line, 9);
	conf_free(c);
}

/* Limits of the new lists: an error at the first entry past them. */
static void test_dhcp_limits(void **state)
{
	char *yaml = malloc(64 * 1024), path[PATH_MAX];
	struct conf_errors errs = {0};
	struct conf *c;
	size_t n = 0;

	assert_non_null(yaml);
	n += (size_t)sprintf(yaml + n, "interfaces: [br0]\noptions:\n");
	for (int i = 0, code = 128; i <= 64; code++) { /* lines 3..67: codes of type bytes */
		if (dhcp_optdef_known(dhcp_optdef_by_code((uint8_t)code)))
			continue;
		n += (size_t)sprintf(yaml + n, "  %d: \"01\"\n", code);
		i++;
	}
	n += (size_t)sprintf(yaml + n, "classes:\n");
	for (int i = 0; i <= 64; i++) /* lines 69..133 */
		n += (size_t)sprintf(yaml + n, "  - {name: c%d, match: {arch: %d}}\n", i, i);
	n += (size_t)sprintf(yaml + n, "arch_overrides:\n");
	for (int i = 0; i <= 64; i++) /* lines 135..199 */
		n += (size_t)sprintf(yaml + n, "  - {mac_prefix: \"02:%02x\", arch: 0}\n", i);
	n += (size_t)sprintf(yaml + n, "pxe_menu:\n  items:\n");
	for (int i = 0; i <= 16; i++) /* lines 202..218 */
		n += (size_t)sprintf(yaml + n, "    - {label: i%d, local: true}\n", i);
	assert_int_equal(load_yaml(yaml, path, &c, &errs), -EINVAL);
	if (errs.n != 4)
		print_errors(&errs);
	assert_int_equal(errs.n, 4);
	assert_string_equal(errs.msgs[0],
			    expand("@:67: options: too many options (at most 64)", path));
	assert_string_equal(errs.msgs[1], expand("@:133: too many classes (at most 64)", path));
	assert_string_equal(errs.msgs[2],
			    expand("@:199: too many arch_overrides (at most 64)", path));
	assert_string_equal(errs.msgs[3],
			    expand("@:218: pxe_menu.items: too many entries (at most 16)", path));
	conf_errors_free(&errs);
	unlink(path);
	free(yaml);
}

/*
 * The whole menu must fit in one option 43 of 255 bytes: discovery control
 * (3), boot servers (2 + 7 per item), menu (2 + 3 per item + labels),
 * prompt (3 + text), END (1).
 */
static void menu_yaml(char *yaml, int items, const char *prompt)
{
	int n = sprintf(yaml,
			"interfaces: [br0]\nprofiles:\n  p: {kernel: boot/vmlinuz}\n"
			"pxe_menu:\n  prompt: %s\n  items:\n",
			prompt);

	for (int i = 0; i < items; i++) /* labels of 20 bytes */
		n += sprintf(yaml + n, "    - {label: label-%014d, profile: p}\n", i);
}

static void test_menu_size(void **state)
{
	char yaml[4096], path[PATH_MAX];
	struct conf_errors errs = {0};
	struct conf *c;

	/* 3 + (2 + 7 * 8) + (2 + 8 * 23) + (3 + 4) + 1 = 255: fits exactly. */
	menu_yaml(yaml, 8, "Boot");
	c = load_ok(yaml);
	assert_int_equal(c->pxe_menu->n_items, 8);
	conf_free(c);

	/* One byte more does not. */
	menu_yaml(yaml, 8, "Boot!");
	assert_int_equal(load_yaml(yaml, path, &c, &errs), -EINVAL);
	if (errs.n != 1)
		print_errors(&errs);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msgs[0],
			    expand("@:5: pxe_menu does not fit in the 255 bytes of option 43 (an "
				   "item takes 10 bytes and its label, the prompt 3 and its text); "
				   "shorten the labels or the prompt, or drop items",
				   path));
	conf_errors_free(&errs);
	unlink(path);
}

/* Hosts filled in by hand, with client ids: the index is rebuilt by conf_sort_hosts. */
static void test_client_id_by_hand(void **state)
{
	struct conf *c = conf_new_defaults();
	struct conf_errors errs = {0};
	struct conf_host *h;

	c->dhcp_mode = CONF_DHCP_OFF;
	c->hosts = h = calloc(3, sizeof(*h));
	c->n_hosts = 3;
	h[0].client_id_len = 2;
	memcpy(h[0].client_id, "\x01\x02", 2);
	h[0].name = strdup("by-id");
	memcpy(h[1].mac, "\x52\x54\x00\x00\x00\x02", 6); /* has_mac false, no id: by MAC */
	memcpy(h[2].mac, "\x52\x54\x00\x00\x00\x01", 6);
	h[2].has_mac = true;
	h[2].client_id_len = 3;
	memcpy(h[2].client_id, "abc", 3);
	assert_null(conf_find_host_by_client_id(c, (const uint8_t *)"abc", 3));
	assert_int_equal(conf_validate(c, &errs), -EINVAL);
	assert_int_equal(errs.n, 2);
	assert_string_equal(errs.msgs[0],
			    "internal error: hosts are not sorted (call conf_sort_hosts)");
	assert_string_equal(errs.msgs[1],
			    "internal error: the client_id index is stale (call conf_sort_hosts)");
	conf_errors_free(&errs);

	conf_sort_hosts(c);
	assert_int_equal(conf_validate(c, &errs), 0);
	assert_string_equal(c->hosts[2].name, "by-id");
	assert_ptr_equal(conf_find_host_by_client_id(c, (const uint8_t *)"abc", 3), &c->hosts[0]);
	assert_ptr_equal(conf_find_host_by_client_id(c, (const uint8_t *)"\x01\x02", 2),
			 &c->hosts[2]);
	assert_ptr_equal(conf_find_host(c, (const uint8_t *)"\x52\x54\x00\x00\x00\x02"),
			 &c->hosts[1]);
	assert_ptr_equal(conf_find_host(c, (const uint8_t *)"\x52\x54\x00\x00\x00\x01"),
			 &c->hosts[0]);
	assert_null(conf_find_host(c, (const uint8_t *)"\0\0\0\0\0\0"));
	conf_sort_hosts(c); /* twice is fine */
	assert_int_equal(c->n_hosts_by_client_id, 2);
	conf_free(c);
}

/* ---------------------------------------------------------------------- */

static void copy_file(const char *from, const char *to)
{
	char buf[4096];
	FILE *in = fopen(from, "r"), *out = fopen(to, "w");
	size_t n;

	assert_non_null(in);
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	fclose(out);
}

/*
 * examples/pxed.yaml names its kernels relative to itself (boot/...): it is
 * copied beside files of those names, as an operator would install it.
 */
static void test_example(void **state)
{
	static const char *const files[] = {"boot/debian/vmlinuz", "boot/debian/initrd.img",
					    "boot/rescue/vmlinuz", "boot/rescue/initrd.img",
					    "boot/rescue/firmware.cpio"};
	const char *src = getenv("PXED_SRCDIR");
	char from[PATH_MAX], to[PATH_MAX + 16], dir[PATH_MAX], tmpl[PATH_MAX + 32];
	struct conf_errors errs = {0};
	struct conf *c;

	snprintf(dir, sizeof(dir), "%s/example", tmpdir);
	assert_int_equal(mkdir(dir, 0755), 0);
	make_dir(dir, "boot");
	make_dir(dir, "boot/debian");
	make_dir(dir, "boot/rescue");
	for (size_t i = 0; i < PXED_ARRAY_LEN(files); i++)
		make_file(dir, files[i], "x");
	snprintf(from, sizeof(from), "%s/examples/pxed.yaml", src ? src : ".");
	snprintf(to, sizeof(to), "%s/pxed.yaml", dir);
	copy_file(from, to);
	/* The debian profile's preseed template (examples/templates/). */
	make_dir(dir, "templates");
	snprintf(from, sizeof(from), "%s/examples/templates/preseed.cfg", src ? src : ".");
	snprintf(tmpl, sizeof(tmpl), "%s/templates/preseed.cfg", dir);
	copy_file(from, tmpl);

	if (conf_load(to, &c, &errs) != 0)
		print_errors(&errs);
	assert_int_equal(errs.n, 0);
	assert_non_null(c);
	assert_true(c->n_subnets >= 1);
	assert_true(c->n_profiles >= 1);
	assert_true(c->n_hosts >= 1);
	assert_non_null(c->default_profile);
	assert_non_null(conf_find_profile(c, c->default_profile));
	/* It shows every kind of DHCP setting too. */
	assert_true(c->options.n >= 1);
	assert_true(c->subnets[0].options.n >= 1);
	assert_true(c->n_classes >= 1);
	assert_true(c->n_arch_overrides >= 1);
	assert_non_null(c->pxe_menu);
	assert_non_null(
	    conf_find_host_by_client_id(c, (const uint8_t *)"\x01\x52\x54\x00\xaa\x00\x03", 7));
	conf_free(c);
	remove_tree(dir);
}

/* ---------------------------------------------------------------------- */

static void expect_one_error(const char *yaml, size_t len, const char *prefix)
{
	struct conf_errors errs = {0};
	char path[PATH_MAX], *want;
	struct conf *c;

	write_bytes(tmpdir, yaml, len, path);
	assert_int_equal(conf_load(path, &c, &errs), -EINVAL);
	if (errs.n != 1)
		print_errors(&errs);
	assert_int_equal(errs.n, 1);
	want = expand(prefix, path);
	assert_memory_equal(errs.msgs[0], want, strlen(want));
	conf_errors_free(&errs);
	unlink(path);
}

/* libyaml's wording may change between versions; the line may not. */
static void test_yaml_syntax_errors(void **state)
{
	static const struct {
		const char *yaml, *prefix;
	} cases[] = {
	    {"interfaces: [br0\n"
	     "dhcp:\n"
	     "  mode: off\n",
	     "@:2: YAML syntax error: "},
	    {"interfaces: [br0]\n"
	     "tftp:\n"
	     "  port: 69\n"
	     " root: /srv\n",
	     "@:4: YAML syntax error: "},
	    {"interfaces: [br0]\n"
	     "tftp:\n"
	     "\tport: 69\n",
	     "@:3: YAML syntax error: "},
	    {"interfaces: [br0]\n"
	     "profiles:\n"
	     "  p: *undefined\n",
	     "@:3: YAML syntax error: "},
	    {"interfaces: [br0]\n"
	     "dhcp:\n"
	     "  mode: \"server\n",
	     "@:4: YAML syntax error: "},
	    {"interfaces: [br0]\n"
	     "# caf\xe9 is not UTF-8\n",
	     "@:2: not valid YAML text: "},
	};

	char deep[300];

	for (size_t i = 0; i < PXED_ARRAY_LEN(cases); i++)
		expect_one_error(cases[i].yaml, strlen(cases[i].yaml), cases[i].prefix);
	/* Deep nesting is refused before libyaml's scanner slows to a crawl. */
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	memcpy(deep + 200, "\n", 2);
	expect_one_error(deep, 201, "@:1: nested more than 64 levels deep");
}

static void test_empty_file(void **state)
{
	static const char msg[] = "@: dhcp mode 'server' needs at least one interface to listen "
				  "on (set 'interfaces', or 'dhcp: {mode: off}')";
	struct conf *c;

	/* Empty means every default, and the default mode needs an interface. */
	expect_one_error("", 0, msg);
	expect_one_error("# nothing here\n\n", 16, msg);
	expect_one_error("---\n", 4, msg);
	c = load_ok("dhcp: {mode: off}\n");
	conf_free(c);
}

static void test_unreadable(void **state)
{
	struct conf_errors errs = {0};
	struct conf *c = (struct conf *)1;

	assert_int_equal(conf_load("/nonexistent/pxed.yaml", &c, &errs), -ENOENT);
	assert_null(c);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msgs[0],
			    "/nonexistent/pxed.yaml: cannot open: No such file or directory");
	conf_errors_free(&errs);
	assert_int_equal(conf_load(tmpdir, &c, &errs), -EINVAL);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.msgs[0], ": not a regular file"));
	conf_errors_free(&errs);
}

/* Hostile input: none of it may crash or leak; all of it is an error. */
static void load_garbage(const char *data, size_t len)
{
	struct conf_errors errs = {0};
	char path[PATH_MAX];
	struct conf *c;

	write_bytes(tmpdir, data, len, path);
	assert_int_equal(conf_load(path, &c, &errs), -EINVAL);
	assert_true(errs.n >= 1);
	assert_true(errs.n <= 101);
	conf_errors_free(&errs);
	unlink(path);
}

static void test_garbage(void **state)
{
	const size_t len = 1u << 20;
	char *buf = malloc(len);
	unsigned seed = 12345;

	assert_non_null(buf);
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(rand_r(&seed) & 0xff);
	load_garbage(buf, len);
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(' ' + rand_r(&seed) % 95);
	load_garbage(buf, len);
	for (size_t i = 0; i < len; i++) /* the deepest nesting that fits */
		buf[i] = i < len / 2 ? '[' : ']';
	load_garbage(buf, len);
	for (size_t i = 0; i < len; i++) /* many unknown keys: the error cap */
		buf[i] = "k0: 1\n"[i % 6];
	for (size_t i = 0; i + 6 <= len; i += 6)
		buf[i + 1] = (char)('a' + (i / 6) % 26);
	load_garbage(buf, len - len % 6);
	free(buf);
}

static void test_error_cap(void **state)
{
	struct conf_errors errs = {0};
	char *yaml = malloc(200 * 16), path[PATH_MAX];
	size_t n = 0;
	struct conf *c;

	assert_non_null(yaml);
	for (int i = 0; i < 200; i++)
		n += (size_t)sprintf(yaml + n, "key%d: 1\n", i);
	assert_int_equal(load_yaml(yaml, path, &c, &errs), -EINVAL);
	assert_int_equal(errs.n, 101);
	assert_string_equal(errs.msgs[99], expand("@:100: unknown key 'key99' at top level", path));
	assert_string_equal(errs.msgs[100],
			    expand("@: too many errors; only the first 100 are shown", path));
	conf_errors_free(&errs);
	unlink(path);
	free(yaml);
}

/* The limits are errors at the first entry past them, never a truncation. */
static void test_limits(void **state)
{
	size_t cap = 70000 * 48, n = 0;
	char *yaml = malloc(cap), path[PATH_MAX];
	struct conf_errors errs = {0};
	struct conf *c;

	assert_non_null(yaml);
	n += (size_t)sprintf(yaml + n, "interfaces: [br0]\nsubnets:\n");
	for (int i = 0; i <= 64; i++) /* lines 3..67 */
		n += (size_t)sprintf(yaml + n, "  - subnet: 10.%d.0.0/16\n", i);
	n += (size_t)sprintf(yaml + n, "profiles:\n");
	for (int i = 0; i <= 256; i++) /* lines 69..325 */
		n += (size_t)sprintf(yaml + n, "  p%d: {kernel: boot/vmlinuz}\n", i);
	n += (size_t)sprintf(yaml + n, "hosts:\n");
	for (int i = 0; i <= 65536; i++) /* lines 327.. */
		n += (size_t)sprintf(yaml + n, "  - mac: 02:00:00:%02x:%02x:%02x\n", i >> 16,
				     (i >> 8) & 255, i & 255);
	assert_true(n < cap);
	assert_int_equal(load_yaml(yaml, path, &c, &errs), -EINVAL);
	if (errs.n != 3)
		print_errors(&errs);
	assert_int_equal(errs.n, 3);
	assert_string_equal(errs.msgs[0], expand("@:67: too many subnets (at most 64)", path));
	assert_string_equal(errs.msgs[1], expand("@:325: too many profiles (at most 256)", path));
	assert_string_equal(errs.msgs[2], expand("@:65863: too many hosts (at most 65536)", path));
	conf_errors_free(&errs);
	unlink(path);
	free(yaml);
}

static void test_cmdline_length(void **state)
{
	char *yaml = malloc(8192), path[PATH_MAX];
	struct conf_errors errs = {0};
	struct conf *c;
	int n;

	assert_non_null(yaml);
	/* 2047 bytes alone are fine, but not once the host's are appended. */
	n = sprintf(yaml,
		    "interfaces: [br0]\nprofiles:\n  p:\n    kernel: boot/vmlinuz\n"
		    "    cmdline: %02047d\n"
		    "hosts:\n  - mac: 52:54:00:aa:00:01\n    profile: p\n    cmdline: x\n"
		    "  - mac: 52:54:00:aa:00:02\n    cmdline: %02048d\n",
		    0, 0);
	assert_true(n < 8192);
	assert_int_equal(load_yaml(yaml, path, &c, &errs), -EINVAL);
	if (errs.n != 2)
		print_errors(&errs);
	assert_int_equal(errs.n, 2);
	assert_string_equal(errs.msgs[0],
			    expand("@:11: host.cmdline is 2048 bytes long (at most 2047)", path));
	assert_string_equal(errs.msgs[1], expand("@:7: host 52:54:00:aa:00:01: cmdline with "
						 "that of profile 'p' is 2049 bytes long (at "
						 "most 2047)",
						 path));
	conf_errors_free(&errs);
	unlink(path);
	free(yaml);
}

/* A configuration built by hand (from `pxed boot` flags) has no file. */
static void test_validate_without_file(void **state)
{
	struct conf *c = conf_new_defaults();
	struct conf_errors errs = {0};
	struct conf_host *h;

	c->dhcp_mode = CONF_DHCP_OFF;
	c->profiles[0].name = strdup("p");
	c->profiles[0].kernel = strdup("boot/vmlinuz");
	c->n_profiles = 1;
	c->hosts = h = calloc(2, sizeof(*h));
	c->n_hosts = 2;
	memcpy(h[0].mac, "\x52\x54\x00\x00\x00\x02", 6);
	memcpy(h[1].mac, "\x52\x54\x00\x00\x00\x01", 6);
	h[1].profile = strdup("p");
	assert_int_equal(conf_validate(c, &errs), -EINVAL);
	if (errs.n != 2)
		print_errors(&errs);
	assert_int_equal(errs.n, 2);
	assert_string_equal(errs.msgs[0],
			    "profile 'p': kernel path 'boot/vmlinuz' must be absolute");
	assert_string_equal(errs.msgs[1],
			    "internal error: hosts are not sorted (call conf_sort_hosts)");
	conf_errors_free(&errs);

	free(c->profiles[0].kernel);
	if (asprintf(&c->profiles[0].kernel, "%s/boot/vmlinuz", tmpdir) < 0)
		fail();
	conf_sort_hosts(c);
	assert_int_equal(conf_validate(c, &errs), 0);
	assert_int_equal(errs.n, 0);
	assert_string_equal(conf_find_host(c, (const uint8_t *)"\x52\x54\x00\x00\x00\x01")->profile,
			    "p");
	conf_free(c);
}

static void test_errors_add(void **state)
{
	struct conf_errors errs = {0};

	conf_errors_add(&errs, "f.yaml", 7, "bad %s", "thing");
	conf_errors_add(&errs, "f.yaml", 0, "whole file");
	conf_errors_add(&errs, NULL, 3, "no file %d", 1);
	assert_int_equal(errs.n, 3);
	assert_string_equal(errs.msgs[0], "f.yaml:7: bad thing");
	assert_string_equal(errs.msgs[1], "f.yaml: whole file");
	assert_string_equal(errs.msgs[2], "no file 1");
	conf_errors_free(&errs);
	assert_int_equal(errs.n, 0);
	assert_null(errs.msgs);
	conf_free(NULL);
}

/* The rogue section (issue 6): defaults, values, and each key's errors. */
static const struct err_case rogue_parse_cases[] = {
    {"rogue not a mapping",
     "interfaces: [br0]\n"
     "rogue: true\n",
     {"@:2: rogue must be a mapping (key: value), not a single value"}},
    {"rogue unknown key",
     "interfaces: [br0]\n"
     "rogue:\n"
     "  interval: 5m\n",
     {"@:3: unknown key 'interval' in rogue"}},
    {"rogue detect not a boolean",
     "interfaces: [br0]\n"
     "rogue:\n"
     "  detect: yes\n",
     {"@:3: rogue.detect: 'yes' is not true or false"}},
    {"rogue probe too often",
     "interfaces: [br0]\n"
     "rogue:\n"
     "  detect: true\n"
     "  probe_interval: 4s\n",
     {"@:4: rogue.probe_interval: '4s' is out of range (0 to turn the probe off, or 5s to "
      "1d)"}},
    {"rogue probe too rarely",
     "interfaces: [br0]\n"
     "rogue:\n"
     "  probe_interval: 2d\n",
     {"@:3: rogue.probe_interval: '2d' is out of range (0 to turn the probe off, or 5s to "
      "1d)"}},
    {"rogue probe not a duration",
     "interfaces: [br0]\n"
     "rogue:\n"
     "  probe_interval: 1w\n"
     "  probe_interval: 5m\n",
     {"@:3: rogue.probe_interval: '1w' is not a duration (seconds, or a number with s, m, h "
      "or d)",
      "@:4: duplicate key 'probe_interval' in rogue (first at line 3)"}},
};

static void test_rogue_config(void **state)
{
	static const struct {
		const char *text;
		uint32_t secs;
	} ok[] = {{"0", 0}, {"0s", 0}, {"5s", 5}, {"90", 90}, {"10m", 600}, {"1d", 86400}};
	char yaml[128];
	struct conf *c = conf_new_defaults();

	assert_true(c->rogue_detect);
	assert_int_equal(c->rogue_probe_interval_s, 300);
	conf_free(c);
	c = load_ok("interfaces: [br0]\nrogue:\n");
	assert_true(c->rogue_detect);
	assert_int_equal(c->rogue_probe_interval_s, 300);
	conf_free(c);
	c = load_ok("interfaces: [br0]\nrogue:\n  detect: false\n");
	assert_false(c->rogue_detect);
	assert_int_equal(c->rogue_probe_interval_s, 300);
	conf_free(c);
	for (size_t i = 0; i < PXED_ARRAY_LEN(ok); i++) {
		snprintf(yaml, sizeof(yaml), "interfaces: [br0]\nrogue:\n  probe_interval: %s\n",
			 ok[i].text);
		print_message("probe_interval: %s\n", ok[i].text);
		c = load_ok(yaml);
		assert_true(c->rogue_detect);
		assert_int_equal(c->rogue_probe_interval_s, ok[i].secs);
		conf_free(c);
	}
	run_err_cases(rogue_parse_cases, PXED_ARRAY_LEN(rogue_parse_cases));
}

/* The events section (issue 6, boot timelines): retention and its limits. */
static const struct err_case events_parse_cases[] = {
    {"events not a mapping",
     "dhcp: {mode: off}\n"
     "events: 14d\n",
     {"@:2: events must be a mapping (key: value), not a single value"}},
    {"events unknown key",
     "dhcp: {mode: off}\n"
     "events:\n"
     "  keep: 14d\n",
     {"@:3: unknown key 'keep' in events"}},
    {"events retention too short",
     "dhcp: {mode: off}\n"
     "events:\n"
     "  retention: 59m\n",
     {"@:3: events.retention: '59m' is out of range (1h to 3650d)"}},
    {"events retention too long",
     "dhcp: {mode: off}\n"
     "events:\n"
     "  max_total: 5000\n"
     "  retention: 3651d\n",
     {"@:4: events.retention: '3651d' is out of range (1h to 3650d)"}},
    {"events retention not a duration",
     "dhcp: {mode: off}\n"
     "events:\n"
     "  retention: 2w\n",
     {"@:3: events.retention: '2w' is not a duration (seconds, or a number with s, m, h or d)"}},
    {"events max_per_machine out of range",
     "dhcp: {mode: off}\n"
     "events:\n"
     "  max_per_machine: 99\n"
     "  max_total: 1000000001\n",
     {"@:3: events.max_per_machine: '99' is out of range (100-1000000)",
      "@:4: events.max_total: '1000000001' is out of range (1000-1000000000)"}},
    {"events max_total not a number",
     "dhcp: {mode: off}\n"
     "events:\n"
     "  max_total: 1M\n"
     "  max_total: 5000\n",
     {"@:3: events.max_total: '1M' is not a number",
      "@:4: duplicate key 'max_total' in events (first at line 3)"}},
};

static void test_events_config(void **state)
{
	struct conf *c = conf_new_defaults();

	assert_int_equal(c->events_retention_s, 14 * 86400);
	assert_int_equal(c->events_max_per_machine, 2000);
	assert_int_equal(c->events_max_total, 1000000);
	conf_free(c);
	c = load_ok("dhcp: {mode: off}\nevents:\n");
	assert_int_equal(c->events_retention_s, 14 * 86400);
	conf_free(c);
	c = load_ok("dhcp: {mode: off}\n"
		    "events:\n"
		    "  retention: 36h\n"
		    "  max_per_machine: 100\n"
		    "  max_total: 1000000000\n");
	assert_int_equal(c->events_retention_s, 36 * 3600);
	assert_int_equal(c->events_max_per_machine, 100);
	assert_int_equal(c->events_max_total, 1000000000);
	conf_free(c);
	c = load_ok("dhcp: {mode: off}\nevents: {retention: 3650d, max_total: 1000}\n");
	assert_int_equal(c->events_retention_s, 3650u * 86400u);
	assert_int_equal(c->events_max_per_machine, 2000);
	assert_int_equal(c->events_max_total, 1000);
	conf_free(c);
	run_err_cases(events_parse_cases, PXED_ARRAY_LEN(events_parse_cases));
}

static const struct err_case security_parse_cases[] = {
    {"security user with a space",
     "dhcp: {mode: off}\n"
     "security:\n"
     "  user: pxed daemon\n",
     {"@:3: security.user: 'pxed daemon' is not a user name (letters, digits, '.', '_' and '-', "
      "at most 32)"}},
    {"security user starting with a dash",
     "dhcp: {mode: off}\n"
     "security: {user: -pxed}\n",
     {"@:2: security.user: '-pxed' is not a user name (letters, digits, '.', '_' and '-', "
      "at most 32)"}},
    {"security landlock not a bool",
     "dhcp: {mode: off}\n"
     "security:\n"
     "  landlock: on\n",
     {"@:3: security.landlock: 'on' is not true or false"}},
    {"security unknown key",
     "dhcp: {mode: off}\n"
     "security:\n"
     "  capabilities: none\n",
     {"@:3: unknown key 'capabilities' in security"}},
};

/* security: the user after start, Landlock and seccomp (docs/security.md). */
static void test_security_config(void **state)
{
	struct conf *c = conf_new_defaults();

	assert_string_equal(c->user, "pxed");
	assert_true(c->landlock);
	assert_true(c->seccomp);
	assert_int_equal(c->lines.user, 0);
	conf_free(c);
	c = load_ok("dhcp: {mode: off}\n"
		    "security:\n"
		    "  user: _pxe-d.1\n"
		    "  landlock: false\n"
		    "  seccomp: false\n");
	assert_string_equal(c->user, "_pxe-d.1");
	assert_int_equal(c->lines.user, 3);
	assert_false(c->landlock);
	assert_false(c->seccomp);
	conf_free(c);
	c = load_ok("dhcp: {mode: off}\nsecurity:\n");
	assert_string_equal(c->user, "pxed");
	conf_free(c);
	run_err_cases(security_parse_cases, PXED_ARRAY_LEN(security_parse_cases));
}

/* ---- what the API puts over the file (conf_load_layered) ------------------ */

struct layered_case {
	const char *what;
	struct conf_entry entries[3];
	size_t n;
	const char *err; /* NULL: it loads; else the start of the first message */
};

static const struct layered_case layered_cases[] = {
    {"the file alone", {{0}}, 0, NULL},
    {"a host added", {{CONF_ENTRY_HOST, "52:54:00:00:00:02", "{\"name\": \"api2\"}"}}, 1, NULL},
    {"the file's host replaced",
     {{CONF_ENTRY_HOST, "52:54:00:00:00:01", "{\"name\": \"api1\", \"address\": \"10.9.0.11\"}"}},
     1,
     NULL},
    {"a profile and a host of it",
     {{CONF_ENTRY_PROFILE, "rescue", "{\"kernel\": \"$/boot/vmlinuz\", \"cmdline\": \"r=1\"}"},
      {CONF_ENTRY_HOST, "52:54:00:00:00:02", "{\"profile\": \"rescue\"}"}},
     2,
     NULL},
    {"an unknown key",
     {{CONF_ENTRY_HOST, "52:54:00:00:00:02", "{\"bogus\": 1}"}},
     1,
     "api host 52:54:00:00:00:02:1: unknown key 'bogus' in host"},
    {"an undefined profile",
     {{CONF_ENTRY_HOST, "52:54:00:00:00:02", "{\"name\": \"n2\", \"profile\": \"nope\"}"}},
     1,
     "api: host n2: profile 'nope' is not defined"},
    {"an address reserved twice",
     {{CONF_ENTRY_HOST, "52:54:00:00:00:02", "{\"address\": \"10.9.0.10\"}"}},
     1,
     "api: address 10.9.0.10 is reserved for two hosts (first at line 6)"},
    {"a MAC that differs",
     {{CONF_ENTRY_HOST, "52:54:00:00:00:02", "{\"mac\": \"52:54:00:00:00:03\"}"}},
     1,
     "api host 52:54:00:00:00:02:1: mac differs"},
    {"not a mapping", {{CONF_ENTRY_HOST, "52:54:00:00:00:02", "[1]"}}, 1, "api host 52:54:00:00:00:02:1: must be an object"},
    {"not YAML", {{CONF_ENTRY_HOST, "52:54:00:00:00:02", "{\"a\": [}"}}, 1, "api host 52:54:00:00:00:02:1: YAML syntax error"},
    {"a bad MAC", {{CONF_ENTRY_HOST, "52:54:00", "{}"}}, 1, "api host 52:54:00: '52:54:00' is not a MAC"},
    {"a bad profile name", {{CONF_ENTRY_PROFILE, ".x", "{}"}}, 1, "api profile .x: profile name '.x'"},
    {"a profile without kernel",
     {{CONF_ENTRY_PROFILE, "empty", "{\"cmdline\": \"x\"}"}},
     1,
     "api: profile 'empty'"},
};

static void test_layered(void **state)
{
	char yaml[1024], path[PATH_MAX], bodies[3][256];

	snprintf(yaml, sizeof(yaml),
		 "interfaces: [eth0]\n"
		 "subnets: [{subnet: 10.9.0.0/24, pool: 10.9.0.100-10.9.0.200}]\n"
		 "profiles:\n  base: {kernel: %s/boot/vmlinuz}\n"
		 "hosts:\n  - {mac: 52:54:00:00:00:01, name: file1, address: 10.9.0.10}\n",
		 tmpdir);
	write_bytes(tmpdir, yaml, strlen(yaml), path);
	for (size_t i = 0; i < PXED_ARRAY_LEN(layered_cases); i++) {
		const struct layered_case *t = &layered_cases[i];
		struct conf_entry e[3];
		struct conf_errors errs = {0};
		struct conf *c = NULL;

		for (size_t k = 0; k < t->n; k++) {
			snprintf(bodies[k], sizeof(bodies[k]), "%s", expand(t->entries[k].body, path));
			e[k] = t->entries[k];
			e[k].body = bodies[k];
		}
		int rc = conf_load_layered(path, yaml, strlen(yaml), e, t->n, &c, &errs);
		if ((rc == 0) != (t->err == NULL) ||
		    (t->err != NULL && (errs.n == 0 || strncmp(errs.msgs[0], t->err, strlen(t->err)) != 0))) {
			fprintf(stderr, "case '%s': rc %d\n", t->what, rc);
			print_errors(&errs);
			fail();
		}
		conf_errors_free(&errs);
		conf_free(c);
	}
	unlink(path);
}

/* What the layers give: replaced entries, the API's marked, the file's order of lookup kept. */
static void test_layered_result(void **state)
{
	char yaml[1024], kernel[PATH_MAX + 64], path[PATH_MAX];
	const uint8_t mac1[6] = {0x52, 0x54, 0, 0, 0, 1}, mac2[6] = {0x52, 0x54, 0, 0, 0, 2};

	snprintf(yaml, sizeof(yaml),
		 "dhcp: {mode: off}\nprofiles:\n  base: {kernel: %s/boot/vmlinuz}\n"
		 "hosts:\n  - {mac: 52:54:00:00:00:01, name: file1}\n",
		 tmpdir);
	snprintf(kernel, sizeof(kernel), "{\"kernel\": \"%s/boot/initrd.img\"}", tmpdir);
	write_bytes(tmpdir, yaml, strlen(yaml), path);
	const struct conf_entry e[] = {
	    {CONF_ENTRY_HOST, "52:54:00:00:00:02", "{\"name\": \"api2\", \"profile\": \"base\"}"},
	    {CONF_ENTRY_PROFILE, "base", kernel},
	    {CONF_ENTRY_HOST, "52:54:00:00:00:01", "{\"name\": \"api1\"}"},
	};
	struct conf_errors errs = {0};
	struct conf *c = NULL;

	assert_int_equal(conf_load_layered(path, yaml, strlen(yaml), e, 3, &c, &errs), 0);
	assert_int_equal(c->n_hosts, 2);
	assert_string_equal(conf_find_host(c, mac1)->name, "api1");
	assert_int_equal(conf_find_host(c, mac1)->line, CONF_LINE_API);
	assert_string_equal(conf_find_host(c, mac2)->name, "api2");
	assert_int_equal(c->n_profiles, 1);
	assert_int_equal(conf_find_profile(c, "base")->line, CONF_LINE_API);
	assert_non_null(strstr(conf_find_profile(c, "base")->kernel, "/boot/initrd.img"));

	conf_free(c);
	unlink(path);
}

/*
 * What a reload may not change: each setting that only a start applies,
 * changed alone in a file, is named; the inventory, options and pools are not.
 */
static void test_restart_change(void **state)
{
	static const struct {
		const char *yaml, *key; /* key NULL: a reload applies it */
	} cases[] = {
	    {"interfaces: [eth1]\n", "interfaces"},
	    {"interfaces: [eth0, eth1]\n", "interfaces"},
	    {"interfaces: [eth0]\ndhcp: {mode: proxy}\n", "dhcp.mode"},
	    {"interfaces: [eth0]\ntftp: {port: 6969}\n", "tftp.port"},
	    {"interfaces: [eth0]\ntftp: {root: $/tftp}\n", "tftp.root"},
	    {"interfaces: [eth0]\ntftp: {rate_per_address: 5}\n", "tftp.rate_per_address"},
	    {"interfaces: [eth0]\ntftp: {max_transfers: 5}\n", "tftp.max_transfers"},
	    {"interfaces: [eth0]\nhttp: {port: 8080}\n", "http.port"},
	    {"interfaces: [eth0]\nhttp: {root: $/tftp}\n", "http.root"},
	    {"interfaces: [eth0]\nhttp: {idle_timeout: 5s}\n", "http.idle_timeout"},
	    {"interfaces: [eth0]\nhttp: {listen: 127.0.0.1}\n", "tftp.listen or http.listen"},
	    {"interfaces: [eth0]\nstate_dir: $/state2\n", "state_dir"},
	    {"interfaces: [eth0]\nnbp_dirs: {ipxe: $/tftp}\n", "nbp_dirs.ipxe"},
	    {"interfaces: [eth0]\ndhcp: {rate_per_mac: 3}\n", "dhcp.rate_per_mac"},
	    {"interfaces: [eth0]\nrogue: {detect: false}\n", "rogue.detect"},
	    {"interfaces: [eth0]\nevents: {retention: 1d}\n", "events.retention"},
	    {"interfaces: [eth0]\nsecurity: {user: root}\n", "security.user"},
	    {"interfaces: [eth0]\nsecurity: {seccomp: false}\n", "security.seccomp"},
	    {"interfaces: [eth0]\napi: {port: 9000}\n", "api.port"},
	    {"interfaces: [eth0]\ndhcp: {lease_time: 2h}\n", NULL},
	    {"interfaces: [eth0]\nsubnets: [{subnet: 10.9.0.0/24, pool: 10.9.0.100-10.9.0.110}]\n", NULL},
	    {"interfaces: [eth0]\noptions: {domain-name: lab}\n", NULL},
	    {"interfaces: [eth0]\nprofiles: {p: {kernel: $/boot/vmlinuz}}\ndefault_profile: p\n", NULL},
	    {"interfaces: [eth0]\nhosts: [{mac: 52:54:00:00:00:01, name: h}]\n", NULL},
	};
	struct conf *base = load_ok("interfaces: [eth0]\n");

	for (size_t i = 0; i < PXED_ARRAY_LEN(cases); i++) {
		char yaml[512];
		snprintf(yaml, sizeof(yaml), "%s", expand(cases[i].yaml, ""));
		struct conf *c = load_ok(yaml);
		const char *got = conf_restart_change(base, c);
		if ((got == NULL) != (cases[i].key == NULL) ||
		    (got != NULL && strcmp(got, cases[i].key) != 0)) {
			fprintf(stderr, "case %zu (%s): got %s\n", i, cases[i].yaml, got ? got : "NULL");
			fail();
		}
		conf_free(c);
	}
	conf_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_full_config_globals),
	    cmocka_unit_test(test_full_config_subnets),
	    cmocka_unit_test(test_full_config_profiles_hosts),
	    cmocka_unit_test(test_example),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_validation_errors),
	    cmocka_unit_test(test_upload_dir_holds_linked_kernel),
	    cmocka_unit_test(test_many_errors),
	    cmocka_unit_test(test_lease_time_units),
	    cmocka_unit_test(test_tftp_uploads),
	    cmocka_unit_test(test_shorthands),
	    cmocka_unit_test(test_lookups),
	    cmocka_unit_test(test_yaml_syntax_errors),
	    cmocka_unit_test(test_empty_file),
	    cmocka_unit_test(test_unreadable),
	    cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_error_cap),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_cmdline_length),
	    cmocka_unit_test(test_validate_without_file),
	    cmocka_unit_test(test_errors_add),
	    cmocka_unit_test(test_dhcp_parse_errors),
	    cmocka_unit_test(test_dhcp_validation_errors),
	    cmocka_unit_test(test_dhcp_config),
	    cmocka_unit_test(test_dhcp_defaults),
	    cmocka_unit_test(test_flood_limits),
	    cmocka_unit_test(test_dhcp_limits),
	    cmocka_unit_test(test_menu_size),
	    cmocka_unit_test(test_client_id_by_hand),
	    cmocka_unit_test(test_rogue_config),
	    cmocka_unit_test(test_events_config),
	    cmocka_unit_test(test_security_config),
	    cmocka_unit_test(test_layered),
	    cmocka_unit_test(test_layered_result),
	    cmocka_unit_test(test_restart_change),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
