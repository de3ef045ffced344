#!/usr/bin/env bash
# One pxed serves two interfaces at once: a client on each bridge gets an address
# from that interface's own subnet, with that interface's address as server id,
# and a reply sent out of the interface the request came in on.
set -euo pipefail
BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib-dhcp.sh
. "$HERE/lib-dhcp.sh"

lab_setup pxed-it-ifaces 34
# A second network in the same namespace: br1 with 10.77.134.1/24.
ip -n "$LAB_NS" link add br1 type bridge
ip -n "$LAB_NS" addr add 10.77.134.1/24 dev br1
ip -n "$LAB_NS" link set br1 up
echo kernel >"$LAB_TMP/kernel"

cat >"$LAB_TMP/pxed.yaml" <<YAML
interfaces: [br0, br1]
state_dir: $LAB_TMP/state
http:
  port: 8080
subnets:
  - subnet: 10.77.34.0/24
    pool: 10.77.34.100-10.77.34.109
  - subnet: 10.77.134.0/24
    pool: 10.77.134.100-10.77.134.109
YAML
"$PXED" check --config "$LAB_TMP/pxed.yaml" >/dev/null || lab_fail "pxed check refused the config"
lab_pxed serve --config "$LAB_TMP/pxed.yaml"
lab_wait_port udp 67 || lab_fail "pxed does not listen on UDP 67"

lab_add_host a
NS_A=$LAB_HOST_NS
LAB_BR=br1 lab_add_host b
NS_B=$LAB_HOST_NS

for side in a b; do
	ns=NS_${side^^}
	net=$([ "$side" = a ] && echo 10.77.34 || echo 10.77.134)
	mac=52:54:00:22:00:0$([ "$side" = a ] && echo 1 || echo 2)
	out=$(probe_in "${!ns}" --mac "$mac" --type dora) ||
		lab_fail "client on $side: no lease"
	[ "$(field type "$out")" = ACK ] || lab_fail "client on $side: $out"
	ip=$(field yiaddr "$out")
	[[ $ip == "$net".* ]] || lab_fail "client on $side got $ip, not an address of $net.0/24"
	[ "$(field server_id "$out")" = "$net.1" ] ||
		lab_fail "client on $side: server id $(field server_id "$out"), expected $net.1"
	lab_ok "client on $side's bridge got $ip from $net.1 (its own interface)"
done
leases=$(sqlite3 "$LAB_TMP/state/pxed.db" "SELECT count(*) FROM leases")
[ "$leases" = 2 ] || lab_fail "the store holds $leases leases, expected 2"
lab_ok "both leases are in the store"
lab_kill_pxed || lab_fail "pxed did not stop cleanly"
