#!/usr/bin/env bash
# Unknown machines, a policy per subnet (docs/config.md, "Unknown machines"): a BIOS guest
# that is not in hosts network-boots three times against the same state directory:
#   1. its subnet has `unknown: ignore`: its DISCOVERs get no reply at all (the counters
#      say so, the guest's iPXE gets no address), and `pxed explain` says it was ignored;
#   2. `unknown: discover`: it gets an address and no boot program, and
#      GET /api/v1/discovered lists it with its MAC, arch 0 and vendor class PXEClient;
#   3. given a host entry, it leaves the discovered list.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OCTET=134
lab_setup pxed-e2e-unknown "$OCTET"
lab_assets
MAC=52:54:00:77:86:01
API="http://$LAB_SERVER_IP"

in_lab() { ip netns exec "$LAB_NS" "$@"; }

# write_config POLICY [HOST-ENTRY-FOR-THE-GUEST]
write_config() {
	cat >"$LAB_TMP/pxed.yaml" <<YAML
interfaces: [$LAB_BR]
dhcp:
  mode: server
  lease_time: 10m
state_dir: $LAB_TMP/state
subnets:
  - subnet: $LAB_NET.0/24
    pool: $LAB_NET.100-$LAB_NET.149
    unknown: $1
profiles:
  testlinux:
    kernel: $LAB_KERNEL
    initrds: [$LAB_INITRD]
    cmdline: console=ttyS0 panic=-1
default_profile: testlinux
hosts:
  - mac: 52:54:00:77:86:99
    name: other
${2:-}
YAML
	"$PXED" check --config "$LAB_TMP/pxed.yaml" >/dev/null ||
		lab_fail "pxed check refused the config with unknown: $1"
}

start_pxed() {
	lab_pxed serve --config "$LAB_TMP/pxed.yaml"
	lab_wait_port udp 67 || lab_fail "pxed does not listen on UDP 67"
	lab_wait_port tcp 80 || lab_fail "pxed does not listen on TCP 80"
}

# metric NAME-WITH-LABELS: its value in /metrics (0 when the row is absent).
metric() {
	in_lab curl -sS -m 5 "$API/metrics" >"$LAB_TMP/metrics.txt" || lab_fail "GET /metrics failed"
	awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }' "$LAB_TMP/metrics.txt"
}

# ---- 1. unknown: ignore ----------------------------------------------------------------
write_config ignore
lab_ok "pxed check accepts unknown: ignore"
start_pxed
lab_add_tap tap0
lab_qemu_bios "$MAC" tap0 "$LAB_TMP/qemu-ignore.log" 60
# iPXE sends its DISCOVERs for about 15 s before it gives up on DHCP.
for ((i = 0; i < 100; i++)); do
	[ "$(metric 'pxed_dhcp_packets_dropped_total{reason="unknown_ignored"}')" -ge 3 ] && break
	lab_alive "$LAB_QEMU_PID" || break
	sleep 0.5
done
dropped=$(metric 'pxed_dhcp_packets_dropped_total{reason="unknown_ignored"}')
[ "$dropped" -ge 3 ] || lab_fail "only $dropped DHCP packets counted as unknown_ignored"
# The guest's own view: iPXE heard no OFFER and gave up.
lab_wait_log "$LAB_TMP/qemu-ignore.log" 'No configuration methods' 40 ||
	lab_fail "the guest's iPXE did not give up on DHCP: did it get an answer?"
dropped=$(metric 'pxed_dhcp_packets_dropped_total{reason="unknown_ignored"}')
offers=$(metric 'pxed_dhcp_replies_total{type="offer"}')
acks=$(metric 'pxed_dhcp_replies_total{type="ack"}')
discovers=$(metric 'pxed_dhcp_messages_received_total{type="discover"}')
[ "$offers:$acks" = 0:0 ] ||
	lab_fail "pxed answered an ignored machine: $offers offers, $acks acks"
[ "$discovers" = 0 ] || lab_fail "$discovers ignored DISCOVERs were handled as messages"
! grep -aqE "$LAB_NET\.1[0-4][0-9]" "$LAB_TMP/qemu-ignore.log" ||
	lab_fail "the ignored guest shows an address from the pool"
lab_ok "unknown: ignore: $dropped DHCP packets dropped as unknown_ignored, no OFFER or ACK sent"
leases=$(sqlite3 "$LAB_TMP/state/pxed.db" "SELECT count(*) FROM leases")
rows=$(sqlite3 "$LAB_TMP/state/pxed.db" "SELECT count(*) FROM discovered")
[ "$leases:$rows" = 0:0 ] || lab_fail "ignored, yet $leases leases and $rows discovered"
# Events at a bounded rate: one a minute per machine, however many DISCOVERs came.
events=$(sqlite3 "$LAB_TMP/state/pxed.db" \
	"SELECT count(*) FROM events WHERE hex(mac) = '525400778601'")
[ "$events" = 1 ] || lab_fail "$events events for $dropped ignored packets (want 1)"
lab_ok "no lease, no discovered row, one event for $dropped packets"
lab_explain "$MAC" '^facts: +arch bios \(0\), vendor class PXEClient' \
	"ignored: unknown machine on $LAB_NET\\.0/24 \\(unknown: ignore\\)" '^cause: +\[ignored\]'
lab_kill_qemu
lab_kill_pxed || lab_fail "pxed did not stop cleanly"

# ---- 2. unknown: discover --------------------------------------------------------------
write_config discover
lab_ok "pxed check accepts unknown: discover"
start_pxed
lab_qemu_bios "$MAC" tap0 "$LAB_TMP/qemu-discover.log" 90
found=
for ((i = 0; i < 120; i++)); do
	in_lab curl -sS -m 5 -f "$API/api/v1/discovered" >"$LAB_TMP/discovered.json" ||
		lab_fail "GET /api/v1/discovered failed"
	# Listed once it has its lease (the ACK's address).
	if jq -e --arg m "$MAC" '.machines[] | select(.mac == $m and .ip != null)' \
		"$LAB_TMP/discovered.json" >/dev/null; then
		found=1
		break
	fi
	lab_alive "$LAB_QEMU_PID" || break
	sleep 0.5
done
sed 's/^/# /' "$LAB_TMP/discovered.json"
[ -n "$found" ] || lab_fail "$MAC is not in /api/v1/discovered with an address"
jq -e --arg m "$MAC" --arg net "$LAB_NET." '.machines | length == 1 and
	(.[0] | .mac == $m and .arch == 0 and .arch_name == "bios" and
	 (.vendor_class | startswith("PXEClient")) and .interface == "br0" and
	 (.ip | startswith($net)) and .relay == null and .first_seen != null)' \
	"$LAB_TMP/discovered.json" >/dev/null ||
	lab_fail "the discovered entry lacks the guest's facts"
lab_ok "unknown: discover: /api/v1/discovered lists $MAC, arch 0, vendor class PXEClient, its address"
# An address, no boot program: nothing fetched over TFTP or HTTP, no file in the timeline.
sleep 5
tftp=$(metric pxed_tftp_packets_received_total)
[ "$tftp" = 0 ] || lab_fail "the discovered guest sent $tftp TFTP packets: it was given a file"
[ "$(metric pxed_dhcp_discovered_total)" -ge 1 ] || lab_fail "pxed_dhcp_discovered_total is 0"
files=$(sqlite3 "$LAB_TMP/state/pxed.db" "SELECT count(*) FROM events WHERE
	hex(mac) = '525400778601' AND (decision NOT IN ('', 'none') OR file != '')")
[ "$files" = 0 ] || lab_fail "$files events of the discovered guest name a boot file"
lab_ok "the discovered guest got an address and no boot program (no TFTP, no file decided)"
lab_explain "$MAC" \
	"registered as discovered: unknown machine on $LAB_NET\\.0/24 \\(unknown: discover\\)" \
	'^cause: +\[no-plan\]'
lab_kill_qemu
lab_kill_pxed || lab_fail "pxed did not stop cleanly"

# ---- 3. given a host entry, it leaves the list -------------------------------------------
write_config discover "  - mac: $MAC
    name: newcomer"
start_pxed
in_lab curl -sS -m 5 -f "$API/api/v1/discovered" >"$LAB_TMP/discovered.json" ||
	lab_fail "GET /api/v1/discovered failed"
jq -e '.machines == []' "$LAB_TMP/discovered.json" >/dev/null ||
	lab_fail "a machine with a host entry is still listed: $(cat "$LAB_TMP/discovered.json")"
[ "$(sqlite3 "$LAB_TMP/state/pxed.db" "SELECT count(*) FROM discovered")" = 1 ] ||
	lab_fail "the discovered row is gone from the store"
lab_ok "given a host entry, $MAC is no longer listed as discovered"
lab_kill_pxed || lab_fail "pxed did not stop cleanly"
