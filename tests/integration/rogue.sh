#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2015
# Rogue DHCP detection (dhcp/rogue.h), in network namespaces (needs root):
#  1. pxed alone on br0 (full mode, probe every 5 s): its probes go out; a client
#     gets a lease from pxed; pxed's own replies are never reported;
#  2. dnsmasq starts on the same segment (lab_dhcp_host): within 15 s pxed reports
#     it, found by its probe: a warning naming its address and MAC, one "rogue"
#     event in the store (MAC-less, with server, MAC, interface, the offer), the
#     metrics pxed_dhcp_rogue_servers_total and pxed_dhcp_rogue_replies_total, and
#     /api/v1/status "rogues" when the API is there; more replies make no more
#     events; the pool lost no address to the probe;
#  3. probe off (rogue.probe_interval: 0): nothing reported until a client asks;
#     then dnsmasq's OFFER to that client is seen passively and reported;
#  4. rogue.detect: false: no socket, no probe, nothing reported;
#  5. two pxed interfaces on one link (br0 and lan2, a veth into br0): each probe
#     reaches pxed's own server on the other interface, which ignores it (no offer,
#     the one-address pools intact), and pxed's offers heard on the other interface
#     are its own, not a rogue's.
# Usage: tests/integration/rogue.sh [BUILD_DIR]   (default: build)
# Env: PXED (default BUILD_DIR/pxed), DHCP_PROBE (default BUILD_DIR/tests/dhcp-probe).
set -euo pipefail

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib-dhcp.sh
. "$HERE/lib-dhcp.sh"

NS=pxed-it-rogue
OCTET=37
NET2=10.77.137 # lan2's subnet in phase 5
CLI_MAC=52:54:00:25:00:01
CLI2_MAC=52:54:00:25:00:02
CLI3_MAC=52:54:00:25:00:03

[ -x "$PROBE" ] || { echo "not ok - dhcp-probe not built: $PROBE (ninja -C $BUILD)"; exit 1; }
[ -x "$PXED" ] || { echo "not ok - pxed not built: $PXED"; exit 1; }
for tool in sqlite3 curl jq /usr/sbin/dnsmasq; do
	command -v "$tool" >/dev/null || { echo "not ok - $tool is not installed"; exit 1; }
done

lab_setup "$NS" "$OCTET"
SERVER=$LAB_SERVER_IP
lab_add_host cli
CLI_NS=$LAB_HOST_NS

# ---- helpers -------------------------------------------------------------

# start_pxed NAME YAML-TAIL: pxed with state in $LAB_TMP/NAME, serving br0's subnet
# (pool .100-.101) and whatever YAML-TAIL adds; waits for its ports.
start_pxed() {
	STATE=$LAB_TMP/$1
	CONF=$LAB_TMP/$1.yaml
	cat >"$CONF" <<YAML
interfaces: [br0]
state_dir: $STATE
http:
  port: 8080
subnets:
  - subnet: $LAB_NET.0/24
    pool: $LAB_NET.100-$LAB_NET.101
$2
YAML
	"$PXED" check --config "$CONF" >/dev/null || lab_fail "pxed check refused $CONF"
	LOG_MARK=0
	[ -f "$LAB_TMP/pxed.log" ] && LOG_MARK=$(wc -l <"$LAB_TMP/pxed.log")
	lab_pxed serve --config "$CONF" --log-level debug
	lab_wait_port udp 67 && lab_wait_port tcp 8080 ||
		lab_fail "pxed ($1) did not listen on UDP 67 and TCP 8080"
}

stop_pxed() { lab_kill_pxed 10 || lab_fail "pxed did not exit cleanly (status $?)"; }

# log_since: pxed's log since the last start_pxed.
log_since() { tail -n "+$((LOG_MARK + 1))" "$LAB_TMP/pxed.log"; }

# wait_log ERE SECONDS: wait for a line of this pxed's log to match ERE.
wait_log() {
	local i
	for ((i = 0; i <= $2 * 5; i++)); do
		log_since | grep -qE -- "$1" && return 0
		lab_alive "$LAB_PXED_PID" || return 1
		sleep 0.2
	done
	return 1
}

# rogue_events: the "rogue" events in the store, one detail per line.
rogue_events() { sqlite3 "$STATE/pxed.db" "SELECT detail FROM events WHERE kind = 'rogue'"; }

# api_rogues: /api/v1/status's "rogues" as compact JSON, or nothing without that API.
api_rogues() {
	ip netns exec "$LAB_NS" curl -sf --max-time 5 "http://$SERVER:8080/api/v1/status" 2>/dev/null |
		jq -c '.rogues // empty' 2>/dev/null || true
}

# ---- 1. pxed alone -----------------------------------------------------------

start_pxed alone "rogue:
  probe_interval: 5s"
wait_log "rogue +watching br0 for other DHCP servers; probe every 5 s as ([0-9a-f]{2}:){5}[0-9a-f]{2}" 5 ||
	lab_fail "pxed did not say it watches br0 with a probe"
PROBE_MAC=$(log_since | sed -n 's/.*probe every 5 s as \([0-9a-f:]*\).*/\1/p' | head -n1)
BR_MAC=$(ip -n "$LAB_NS" -o link show br0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
[ "$PROBE_MAC" != "$BR_MAC" ] && [ $((0x${PROBE_MAC:0:2} & 3)) = 2 ] ||
	lab_fail "probe MAC $PROBE_MAC: not a locally administered unicast address other than br0's $BR_MAC"
ok "pxed watches br0; its probe MAC $PROBE_MAC is derived from br0's $BR_MAC"

out=$(probe --mac "$CLI_MAC" --type dora) || lab_fail "no lease from pxed: $out"
[ "$(field type "$out")" = ACK ] && [ "$(field server_id "$out")" = "$SERVER" ] ||
	lab_fail "the client's exchange with pxed: $(tr '\n' ' ' <<<"$out")"
CLI_IP=$(field yiaddr "$out")
wait_log "rogue +br0: probe DISCOVER sent" 8 || lab_fail "no probe was sent"
sleep 6 # a second probe round, with nobody else on the link
[ "$(metric pxed_dhcp_rogue_probes_total)" -ge 2 ] ||
	lab_fail "pxed_dhcp_rogue_probes_total is $(metric pxed_dhcp_rogue_probes_total), expected >= 2"
[ "$(metric pxed_dhcp_rogue_servers_total)" = 0 ] && [ "$(metric pxed_dhcp_rogue_replies_total)" = 0 ] ||
	lab_fail "pxed counts its own replies as another server's"
[ -z "$(rogue_events)" ] && ! log_since | grep -q "another DHCP server" ||
	lab_fail "pxed reported a rogue with no other server on the link: $(rogue_events)"
ok "client got $CLI_IP from pxed; $(metric pxed_dhcp_rogue_probes_total) probes sent; nothing reported"

# ---- 2. dnsmasq joins the segment --------------------------------------------

lab_dhcp_host "$OCTET"
DNSMASQ_MAC=$(ip -n "$LAB_DHCP_NS" -o link show eth0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
t0=$(date +%s)
wait_log "warn +rogue +another DHCP server on br0: $LAB_DHCP_IP \($DNSMASQ_MAC\) sent an OFFER of $LAB_NET\.[0-9]+ to $PROBE_MAC \(pxed's probe\)" 15 ||
	lab_fail "pxed did not report dnsmasq ($LAB_DHCP_IP, $DNSMASQ_MAC) within 15 s"
ok "pxed warned about dnsmasq at $LAB_DHCP_IP ($DNSMASQ_MAC) $(($(date +%s) - t0)) s after it started"

ev=$(rogue_events)
[ "$(wc -l <<<"$ev")" = 1 ] ||
	lab_fail "expected one rogue event, the store has: $ev"
grep -qE "^server=$LAB_DHCP_IP server_mac=$DNSMASQ_MAC interface=br0 reply=offer offered=$LAB_NET\.([5-9][0-9]) client=$PROBE_MAC probe=yes replies=1$" <<<"$ev" ||
	lab_fail "the rogue event's detail: '$ev'"
row=$(sqlite3 "$STATE/pxed.db" "SELECT proto, ok, mac IS NULL FROM events WHERE kind = 'rogue'")
[ "$row" = "dhcp|0|1" ] || lab_fail "the rogue event: proto|ok|no MAC is '$row', expected dhcp|0|1"
ok "one MAC-less dhcp/rogue event: $ev"

[ "$(metric pxed_dhcp_rogue_servers_total)" = 1 ] ||
	lab_fail "pxed_dhcp_rogue_servers_total is $(metric pxed_dhcp_rogue_servers_total), expected 1"
# Another probe round: dnsmasq answers again; counted, not reported again.
sleep 6
replies=$(metric pxed_dhcp_rogue_replies_total)
[ "$replies" -ge 2 ] || lab_fail "pxed_dhcp_rogue_replies_total is $replies after two probe rounds"
[ "$(rogue_events | wc -l)" = 1 ] && [ "$(log_since | grep -c 'another DHCP server')" = 1 ] ||
	lab_fail "a known server was reported again within the hour: $(rogue_events)"
ok "metrics: 1 server, $replies replies; still one event and one warning"

rogues=$(api_rogues)
if [ -n "$rogues" ]; then
	jq -e --arg ip "$LAB_DHCP_IP" --arg mac "$DNSMASQ_MAC" --arg pm "$PROBE_MAC" \
		'length == 1 and .[0].server_ip == $ip and .[0].server_mac == $mac and
		 .[0].interface == "br0" and .[0].last_client == $pm and .[0].replies >= 2' \
		<<<"$rogues" >/dev/null || lab_fail "/api/v1/status rogues: $rogues"
	ok "/api/v1/status lists dnsmasq under rogues: $rogues"
else
	lab_log "no /api/v1/status rogues in this build: not checked"
fi

# The probe never took an address from pxed: the other one is still free.
out=$(probe --mac "$CLI2_MAC" --type discover --timeout-ms 3000 --broadcast-flag) || true
leases=$(sqlite3 "$STATE/pxed.db" "SELECT $IPSQL||'='||lower(hex(mac)) FROM leases")
[ "$leases" = "$CLI_IP=${CLI_MAC//:/}" ] || lab_fail "pxed's leases: $leases"
[ "$(metric pxed_dhcp_pool_exhausted_total)" = 0 ] || lab_fail "pxed's pool ran out"
[ "$(sqlite3 "$STATE/pxed.db" "SELECT count(*) FROM events WHERE mac = x'${PROBE_MAC//:/}'")" = 0 ] ||
	lab_fail "pxed's server recorded its own probe"
ok "pxed's pool lost nothing to the probe: one lease ($CLI_IP), no exhaustion, no probe in the timeline"
stop_pxed

# ---- 3. probe off: passive detection -----------------------------------------

start_pxed passive "rogue:
  probe_interval: 0"
wait_log "rogue +watching br0 for other DHCP servers \(no probe\)" 5 ||
	lab_fail "pxed did not say it watches br0 without a probe"
sleep 3
[ -z "$(rogue_events)" ] && [ "$(metric pxed_dhcp_rogue_probes_total)" = 0 ] ||
	lab_fail "probe off, no client: something was reported or sent"
# The broadcast flag makes dnsmasq broadcast its OFFER (RFC 2131 §4.1), so pxed hears it.
probe --mac "$CLI3_MAC" --type discover --broadcast-flag --timeout-ms 2000 >/dev/null || true
wait_log "rogue +another DHCP server on br0: $LAB_DHCP_IP \($DNSMASQ_MAC\) sent an OFFER of $LAB_NET\.[0-9]+ to $CLI3_MAC;" 5 ||
	lab_fail "pxed did not see dnsmasq's OFFER to $CLI3_MAC"
grep -qE "^server=$LAB_DHCP_IP server_mac=$DNSMASQ_MAC interface=br0 reply=offer offered=$LAB_NET\.[0-9]+ client=$CLI3_MAC replies=1$" <<<"$(rogue_events)" ||
	lab_fail "the passive rogue event: $(rogue_events)"
[ "$(metric pxed_dhcp_rogue_servers_total)" = 1 ] && [ "$(metric pxed_dhcp_rogue_probes_total)" = 0 ] ||
	lab_fail "passive: servers $(metric pxed_dhcp_rogue_servers_total), probes $(metric pxed_dhcp_rogue_probes_total)"
ok "probe off: dnsmasq's OFFER to a client ($CLI3_MAC) was seen passively and reported"
stop_pxed

# ---- 4. detection off --------------------------------------------------------

start_pxed off "rogue:
  detect: false"
probe --mac "$CLI3_MAC" --type discover --broadcast-flag --timeout-ms 2000 >/dev/null || true
sleep 6
[ -z "$(rogue_events)" ] && ! log_since | grep -qE "rogue +(watching|another|br0: probe)" ||
	lab_fail "rogue.detect false, yet: $(log_since | grep rogue)"
for m in servers replies probes; do
	[ "$(metric "pxed_dhcp_rogue_${m}_total")" = 0 ] || lab_fail "detect off: $m is not 0"
done
ok "rogue.detect false: no watch, no probe, nothing reported"
stop_pxed
lab_stop_pid "$LAB_DHCP_PID" || true

# ---- 5. two of pxed's interfaces on one link ---------------------------------

ip -n "$LAB_NS" link add lan2 type veth peer name vh-lan2 &&
	ip -n "$LAB_NS" link set vh-lan2 master br0 &&
	ip -n "$LAB_NS" link set vh-lan2 up &&
	ip -n "$LAB_NS" addr add "$NET2.1/24" dev lan2 &&
	ip -n "$LAB_NS" link set lan2 up || lab_fail "cannot add lan2"
STATE=$LAB_TMP/twice
CONF=$LAB_TMP/twice.yaml
cat >"$CONF" <<YAML
interfaces: [br0, lan2]
state_dir: $STATE
http:
  port: 8080
subnets:
  - subnet: $LAB_NET.0/24
    pool: $LAB_NET.100-$LAB_NET.100
  - subnet: $NET2.0/24
    pool: $NET2.100-$NET2.100
rogue:
  probe_interval: 5s
YAML
LOG_MARK=$(wc -l <"$LAB_TMP/pxed.log")
lab_pxed serve --config "$CONF" --log-level debug
lab_wait_port udp 67 && lab_wait_port tcp 8080 || lab_fail "pxed on br0 and lan2 did not start"
wait_log "rogue +watching lan2" 5 || lab_fail "pxed does not watch lan2"
sleep 7 # two probe rounds: each interface's probe reaches the other
ignored=$(metric 'pxed_dhcp_packets_dropped_total{reason="ignored"}')
[ "$ignored" -ge 2 ] || lab_fail "pxed's server ignored $ignored probes, expected >= 2"
[ "$(metric 'pxed_dhcp_replies_total{type="offer"}')" = 0 ] ||
	lab_fail "pxed's server offered an address to its own probe"
# A client on the link asks both interfaces: each still has its one address.
out=$(probe --mac "$CLI2_MAC" --type discover --timeout-ms 2000) || lab_fail "no offer: $out"
sleep 1
[ "$(metric 'pxed_dhcp_replies_total{type="offer"}')" = 2 ] &&
	[ "$(metric pxed_dhcp_pool_exhausted_total)" = 0 ] ||
	lab_fail "offers $(metric 'pxed_dhcp_replies_total{type="offer"}'), exhausted $(metric pxed_dhcp_pool_exhausted_total): a pool lost its address"
ok "pxed ignored its own probes ($ignored) on the other interface; both one-address pools offered"
sleep 1
[ "$(metric pxed_dhcp_rogue_servers_total)" = 0 ] && [ -z "$(rogue_events)" ] ||
	lab_fail "pxed reported itself: $(rogue_events)"
log_since | grep -qE "rogue +lan2: pxed's own reply from $LAB_NET\.1" &&
	log_since | grep -qE "rogue +br0: pxed's own reply from $NET2\.1" ||
	lab_fail "pxed did not hear (and recognise) its offers on its other interface"
ok "pxed's own offers, heard on its other interface, are not reported"
stop_pxed

[ "$failed" = 0 ] || { echo "# $failed check(s) failed"; exit 1; }
echo "# $passed checks passed"
