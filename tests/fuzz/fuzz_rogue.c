/*
 * libFuzzer target for rogue DHCP detection's packet path: bytes as a packet
 * socket hands them (an IPv4 packet) -> rogue_parse_udp -> dhcp_decode ->
 * rogue_table_note, with a table that persists across inputs (so it fills,
 * evicts and rate-limits) and the listing after each note.
 *
 *   built and run by tests/integration/fuzz-smoke.sh
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dhcp/rogue.h"
#include "dhcp/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rogue_table table;
	static bool ready;
	static uint64_t clock_us = 1;
	static struct dhcp_msg m;
	struct rogue_server list[ROGUE_MAX];
	const struct rogue_entry *e = NULL;
	struct rogue_udp u;
	struct rogue_seen seen = {.ifindex = 2, .ifname = "br0"};
	size_t n;

	if (!ready) {
		rogue_table_init(&table);
		(void)rogue_table_add_own(&table, 0x0a4d0001); /* 10.77.0.1 is pxed */
		ready = true;
	}
	if (rogue_parse_udp(data, size, &u) < 0)
		return 0;
	assert(u.payload >= data && u.payload + u.len <= data + size);
	if (dhcp_decode(u.payload, u.len, &m) != DHCP_OK)
		return 0;
	/* Time moves by what the input says, so the hourly reminder and eviction run too. */
	clock_us += (uint64_t)(size & 0xff) * 60000000ull;
	seen.src_ip = u.src_ip;
	memcpy(seen.src_mac, data, size >= 6 ? 6 : size);
	seen.wall_us = clock_us;
	seen.mono_us = clock_us;
	(void)rogue_table_note(&table, &m, &seen, &e);
	n = rogue_table_list(&table, list, ROGUE_MAX);
	assert(n <= ROGUE_MAX);
	for (size_t i = 0; i < n; i++)
		assert(list[i].server_ip != 0x0a4d0001 || list[i].replies == 0);
	return 0;
}
