#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2015,SC2119
# pxed under hostile input (issue 7), one daemon in a network namespace:
#  1. every item of PXE-NOTES.md's bad input list that reaches the DHCP or TFTP
#     wire (tests/tools/hostile-packets.py: truncated and empty packets, hlen 17,
#     options past the end, zero-length options, no END, two message types,
#     option overload, a 255-byte client id, hops 17, malformed option 82; TFTP
#     packets under 4 bytes, RRQs without NULs or mode, blksize 7 and 65465,
#     windowsize 0, duplicate options, ../, absolute paths, backslashes, %2e%2e,
#     embedded NULs, a symlink out of the root, a WRQ with writes off, an ACK
#     from a stranger's port, duplicate ACKs, a lost last ACK), and a RELEASE and
#     a DECLINE of somebody else's lease;
#  2. 100,000 DISCOVERs from random MACs (tests/tools/flood, from 0.0.0.0): brief
#     offers, none made again before it is 2 s old;
#  3. DISCOVERs from one MAC (dhcp.rate_per_mac), then 5,000 relayed DISCOVERs
#     from random MACs through one relay (the attacker's host, giaddr its own
#     address): past dhcp.rate_per_source they get brief offers, not drops, a
#     client behind the relay that holds a lease is served at once, and a new one
#     gets an address;
#  4. an RRQ flood from 51 spoofed source addresses (tftp.max_transfers,
#     tftp.max_per_client, unanswered transfers evicted and ended early);
#  5. an RRQ flood from one address (tftp.rate_per_address).
# During each, a well-behaved client gets a lease (dhcp-probe DORA) and
# downloads a file with tftp-hpa (sha256 checked); after each, the counters
# named for that case rose and pxed's VmRSS stays under RSS_MAX_KB, the bound
# documented in docs/config.md ("Limits").
# Usage: tests/integration/hostile.sh [BUILD_DIR]   (default: build)
# Env: PXED, DHCP_PROBE, FLOOD (default BUILD_DIR/tests/flood).
set -euo pipefail

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib-dhcp.sh
. "$HERE/lib-dhcp.sh"
FLOOD=${FLOOD:-$BUILD/tests/flood}
PACKETS=$HERE/../tools/hostile-packets.py

NS=pxed-it-hostile
OCTET=110
GOOD_MAC=52:54:00:6e:00:01
# docs/config.md "Limits": pxed's resident memory with the limits of this config.
RSS_MAX_KB=$((64 * 1024))
t_start=$(date +%s.%N)

for f in "$PROBE" "$PXED" "$FLOOD"; do
	[ -x "$f" ] || { echo "not ok - not built: $f (ninja -C $BUILD)"; exit 1; }
done
for tool in python3 tftp sqlite3 curl; do
	command -v "$tool" >/dev/null || { echo "not ok - $tool is not installed (make deps)"; exit 1; }
done

lab_setup "$NS" "$OCTET"
SERVER=$LAB_SERVER_IP
lab_add_host cli "$LAB_NET.10/24"
CLI_NS=$LAB_HOST_NS
ip -n "$CLI_NS" link set eth0 address "$GOOD_MAC"
lab_add_host atk "$LAB_NET.20/24"
ATK_NS=$LAB_HOST_NS
BR_MAC=$(ip -n "$LAB_NS" link show "$LAB_BR" | awk '/link\/ether/ { print $2 }')

ROOT=$LAB_TMP/root
STATE=$LAB_TMP/state
mkdir -p "$ROOT" "$STATE"
head -c $((1024 * 1024 + 77)) /dev/urandom >"$ROOT/boot.bin"
head -c 700 /dev/urandom >"$ROOT/small"
ln -s /etc/passwd "$ROOT/escape"
chmod -R a+rX "$LAB_TMP"
chmod a+rwx "$STATE"

CONF=$LAB_TMP/pxed.yaml
cat >"$CONF" <<EOF
interfaces: [$LAB_BR]
dhcp:
  mode: server
  rate_per_mac: 20
  rate_per_source: 500
  new_client_rate: 50
state_dir: $STATE
tftp:
  root: $ROOT
  max_transfers: 64
  max_per_client: 4
  rate_per_address: 50
http:
  port: 8080
subnets:
  - subnet: $LAB_NET.0/24
    pool: $LAB_NET.100-$LAB_NET.199
    max_leases: 60
EOF
"$PXED" check --config "$CONF" >"$LAB_TMP/check.out" 2>&1 ||
	lab_fail "pxed check: $(cat "$LAB_TMP/check.out")"
lab_pxed serve --config "$CONF"
lab_wait_port udp 67 && lab_wait_port udp 69 && lab_wait_port tcp 8080 ||
	lab_fail "pxed did not listen on UDP 67 and 69 and TCP 8080"
ok "pxed serves $LAB_NET.0/24 (DHCP, TFTP, HTTP /metrics) with the limits of $CONF"

# ---- helpers -------------------------------------------------------------

# rss_kb: pxed's resident memory (VmRSS) in KiB.
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$LAB_PXED_PID/status"; }
RSS_PEAK=0

# Under valgrind or ASan (make test's valgrind and asan phases) VmRSS is mostly the tool's own
# (shadow memory, quarantine), tens of MiB more than pxed's: the bound is pxed's, so there it
# is logged only (memcheck and LeakSanitizer judge leaks themselves).
RSS_ENFORCED=1
exe=$(readlink "/proc/$LAB_PXED_PID/exe" 2>/dev/null) || exe=
if [[ "$exe" == *valgrind* ]] || { [ -n "$exe" ] && grep -qa __asan_init "$exe"; }; then
	RSS_ENFORCED=
fi

# check_rss WHAT: pxed is alive and its VmRSS is under RSS_MAX_KB.
check_rss() {
	local kb
	lab_alive "$LAB_PXED_PID" || lab_fail "$1: pxed died"
	kb=$(rss_kb)
	[ "$kb" -gt "$RSS_PEAK" ] && RSS_PEAK=$kb
	[ -z "$RSS_ENFORCED" ] || [ "$kb" -le "$RSS_MAX_KB" ] ||
		lab_fail "$1: VmRSS $kb KiB, over the bound of $RSS_MAX_KB KiB"
	lab_log "$1: VmRSS $kb KiB$([ -n "$RSS_ENFORCED" ] || echo " (a sanitizer's or valgrind's: not checked)")"
}

# metrics_all: pxed's /metrics text.
metrics_all() { ip netns exec "$LAB_NS" curl -sS --max-time 5 "http://$SERVER:8080/metrics"; }

# good_client TAG: the well-behaved client: a DORA for GOOD_MAC (up to 10 tries of
# 1 s, as firmware retries), then tftp-hpa's download of boot.bin, checked by sha256.
# Prints what it got; status 0 when both worked. Runs in the background.
good_client() {
	local out i got=
	for ((i = 0; i < 10; i++)); do
		out=$(probe_in "$CLI_NS" --type dora --mac "$GOOD_MAC" --timeout-ms 1000 2>&1) || continue
		[ "$(field type "$out")" = ACK ] && got=$(field yiaddr "$out") && break
	done
	[ -n "$got" ] || { echo "no ACK in $i tries"; return 1; }
	echo "lease $got after $((i + 1)) tries"
	rm -f "$LAB_TMP/good.$1.bin"
	timeout 60 ip netns exec "$CLI_NS" tftp -m binary "$SERVER" -c get boot.bin \
		"$LAB_TMP/good.$1.bin" || { echo "tftp-hpa failed"; return 1; }
	[ "$(sha256sum <"$LAB_TMP/good.$1.bin")" = "$(sha256sum <"$ROOT/boot.bin")" ] ||
		{ echo "tftp-hpa: boot.bin differs"; return 1; }
	echo "boot.bin downloaded, sha256 matches"
	[ "$got" ] && echo "$got" >"$LAB_TMP/good.ip"
}

# new_client MAC: a machine pxed has never seen: a DORA (up to 10 tries of 1 s);
# prints the address it got; status 0 on an ACK.
new_client() {
	local out i
	for ((i = 0; i < 10; i++)); do
		out=$(probe_in "$CLI_NS" --type dora --mac "$1" --timeout-ms 1000 2>&1) || continue
		[ "$(field type "$out")" = ACK ] && { echo "$(field yiaddr "$out") after $((i + 1)) tries"; return 0; }
	done
	echo "no ACK in $i tries"
	return 1
}

# during TAG CMD...: CMD (an attack, in the background) with the good client running
# during it; fails the test unless the good client succeeded.
during() {
	local tag=$1 apid gpid rc=0
	shift
	"$@" >"$LAB_TMP/attack.$tag.log" 2>&1 &
	apid=$!
	lab_track_pid "$apid"
	sleep 0.5
	good_client "$tag" >"$LAB_TMP/good.$tag.log" 2>&1 &
	gpid=$!
	lab_track_pid "$gpid"
	wait "$gpid" || rc=$?
	lab_untrack_pid "$gpid"
	wait "$apid" || true
	lab_untrack_pid "$apid"
	[ "$rc" = 0 ] || lab_fail "$tag: the well-behaved client failed: $(tr '\n' ' ' <"$LAB_TMP/good.$tag.log")"
	ok "$tag: the well-behaved client was served during it ($(tr '\n' ' ' <"$LAB_TMP/good.$tag.log"))"
}

# rose NAME BEFORE MIN [WAIT_S]: the metric NAME now exceeds BEFORE by at least MIN
# (waits up to WAIT_S seconds, default 5).
rose() {
	local now i
	for ((i = 0; i < ${4:-5} * 5; i++)); do
		now=$(metric "$1")
		[ $((now - $2)) -ge "$3" ] && return 0
		sleep 0.2
	done
	lab_fail "$1 rose by $((now - $2)), expected at least $3"
}

# ---- 0. the client alone ----------------------------------------------------

good_client alone >"$LAB_TMP/good.alone.log" 2>&1 ||
	lab_fail "the well-behaved client alone: $(cat "$LAB_TMP/good.alone.log")"
GOOD_IP=$(cat "$LAB_TMP/good.ip")
ok "the well-behaved client alone: lease $GOOD_IP and boot.bin"
check_rss "at rest"

# ---- 1. the bad input list ----------------------------------------------------

MALFORMED='pxed_dhcp_packets_dropped_total{reason="malformed"}'
OFFERS='pxed_dhcp_replies_total{type="offer"}'
dhcp_cases() {
	local name want before
	while read -r name want; do
		if [ "$want" = malformed ]; then
			before=$(metric "$MALFORMED")
			ip netns exec "$ATK_NS" python3 "$PACKETS" dhcp "$SERVER" "$name"
			rose "$MALFORMED" "$before" 1
		else
			before=$(metric "$OFFERS")
			ip netns exec "$ATK_NS" python3 "$PACKETS" dhcp "$SERVER" "$name"
			rose "$OFFERS" "$before" 1
		fi
		echo "$name: $want"
	done < <(python3 "$PACKETS" list dhcp)
}
during dhcp-bad-input dhcp_cases
n=$(grep -cE '^[a-z0-9-]+: (malformed|offer)$' "$LAB_TMP/attack.dhcp-bad-input.log")
[ "$n" = "$(python3 "$PACKETS" list dhcp | grep -c .)" ] ||
	lab_fail "DHCP bad input: only $n cases went as expected: $(cat "$LAB_TMP/attack.dhcp-bad-input.log")"
# The 255-byte client id's ESC, NUL and newline never reach the log raw.
! LC_ALL=C grep -q $'\x1b\\[31m' "$LAB_TMP/pxed.log" || lab_fail "a raw escape sequence in pxed.log"
ok "DHCP bad input: $n cases, each counted ($(grep -c ': malformed$' "$LAB_TMP/attack.dhcp-bad-input.log") in $MALFORMED, the rest answered with an OFFER in $OFFERS)"
check_rss "DHCP bad input"

# A RELEASE and a DECLINE of the good client's lease from another MAC are ignored.
IGNORED='pxed_dhcp_packets_dropped_total{reason="ignored"}'
before=$(metric "$IGNORED")
probe_in "$ATK_NS" --type release --mac 02:bb:00:00:00:02 --ciaddr "$GOOD_IP" --server-id "$SERVER" \
	--to "$SERVER" >/dev/null || lab_fail "dhcp-probe could not send a RELEASE"
probe_in "$ATK_NS" --type decline --mac 02:bb:00:00:00:02 --requested-ip "$GOOD_IP" \
	--server-id "$SERVER" --to "$SERVER" >/dev/null || lab_fail "dhcp-probe could not send a DECLINE"
rose "$IGNORED" "$before" 2
lease=$(sqlite3 "$STATE/pxed.db" \
	"select lower(hex(mac)) from leases where $IPSQL = '$GOOD_IP'")
[ "$lease" = "${GOOD_MAC//:/}" ] || lab_fail "the lease of $GOOD_IP is now '$lease'"
ok "a RELEASE and a DECLINE of $GOOD_IP from another MAC: counted in $IGNORED, the lease stays"

TFTP_COUNTED=('pxed_tftp_packets_dropped_total{reason="malformed"}' 'pxed_tftp_errors_sent_total'
	'pxed_tftp_transfers_total{outcome="complete"}' 'pxed_tftp_uploads_total{outcome="failed"}')
# tftp_counted: the sum of the counters a bad TFTP packet must raise one of.
tftp_counted() {
	local m sum=0 text
	text=$(metrics_all)
	for m in "${TFTP_COUNTED[@]}"; do
		sum=$((sum + $(awk -v k="$m" '$1 == k { v = $2 } END { print v + 0 }' <<<"$text")))
	done
	echo "$sum"
}
FAILED_XFERS='pxed_tftp_transfers_total{outcome="failed"}'
failed0=$(metric "$FAILED_XFERS")
tftp_cases() {
	local name before i now
	while read -r name; do
		[ "$name" = lost-last-ack ] && continue # its end is checked at the end of the test
		before=$(tftp_counted)
		ip netns exec "$ATK_NS" python3 "$PACKETS" tftp "$SERVER" "$name" "$ROOT" ||
			{ echo "FAILED $name"; continue; }
		for ((i = 0; i < 25; i++)); do
			now=$(tftp_counted)
			[ "$now" -gt "$before" ] && break
			sleep 0.2
		done
		[ "$now" -gt "$before" ] && echo "$name: counted" || echo "FAILED $name: not counted"
	done < <(python3 "$PACKETS" list tftp)
}
during tftp-bad-input tftp_cases
! grep FAILED "$LAB_TMP/attack.tftp-bad-input.log" ||
	lab_fail "TFTP bad input: $(grep FAILED "$LAB_TMP/attack.tftp-bad-input.log" | tr '\n' ' ')"
n=$(grep -c counted "$LAB_TMP/attack.tftp-bad-input.log")
ok "TFTP bad input: $n cases answered as RFC 1350/2347 say, each counted in one of ${TFTP_COUNTED[*]}"
# A lost last ACK: the transfer ends by itself (checked at the end, after its timeouts).
ip netns exec "$ATK_NS" python3 "$PACKETS" tftp "$SERVER" lost-last-ack "$ROOT" ||
	lab_fail "lost-last-ack: the transfer did not start"
t_lost=$(date +%s)
check_rss "TFTP bad input"

# ---- 2. 100,000 DISCOVERs from random MACs ---------------------------------------

DISCOVERS='pxed_dhcp_messages_received_total{type="discover"}'
BRIEF=pxed_dhcp_brief_offers_total
EXHAUSTED=pxed_dhcp_pool_exhausted_total
d0=$(metric "$DISCOVERS")
b0=$(metric "$BRIEF")
x0=$(metric "$EXHAUSTED")
# A machine pxed has never seen arrives 2 s into the flood: it must get an address too.
(sleep 2 && new_client 52:54:00:6e:00:02) >"$LAB_TMP/new-client.log" 2>&1 &
npid=$!
lab_track_pid "$npid"
during dhcp-flood ip netns exec "$ATK_NS" "$FLOOD" --iface eth0 --dhcp-discover --count 100000 \
	--pps 20000 --max-seconds 30
rc=0
wait "$npid" || rc=$?
lab_untrack_pid "$npid"
[ "$rc" = 0 ] || lab_fail "a new client during the DISCOVER flood: $(cat "$LAB_TMP/new-client.log")"
ok "a new client during the DISCOVER flood got $(cat "$LAB_TMP/new-client.log")"
grep -q '^sent=100000$' "$LAB_TMP/attack.dhcp-flood.log" ||
	lab_fail "flood: $(cat "$LAB_TMP/attack.dhcp-flood.log")"
# No offer is made again before it is 2 s old: the 100 addresses go round about
# once every 2 s, and the flood's other DISCOVERs find none (the new client's
# tries are answered as the flood eases).
rose "$BRIEF" "$b0" 100
rose "$EXHAUSTED" "$x0" 50000
d1=$(metric "$DISCOVERS")
b1=$(metric "$BRIEF")
ok "100,000 DISCOVERs from random MACs: pxed read $((d1 - d0)) ($DISCOVERS), $((b1 - b0)) offers were brief ($BRIEF), $(($(metric "$EXHAUSTED") - x0)) found every address offered less than 2 s ago ($EXHAUSTED)"
check_rss "DISCOVER flood"

# ---- 3. DISCOVERs from one MAC ------------------------------------------------------

RATE_DHCP='pxed_dhcp_packets_dropped_total{reason="rate_limited"}'
r0=$(metric "$RATE_DHCP")
during dhcp-one-mac ip netns exec "$ATK_NS" "$FLOOD" --iface eth0 --dhcp-discover \
	--mac 02:cc:00:00:00:01 --count 5000 --pps 2500 --max-seconds 10
rose "$RATE_DHCP" "$r0" 4000
ok "5,000 DISCOVERs from one MAC in 2 s: $(($(metric "$RATE_DHCP") - r0)) dropped over dhcp.rate_per_mac ($RATE_DHCP)"
check_rss "one-MAC flood"

# relayed_flood N PPS: N DISCOVERs from random MACs relayed by the attacker's host
# (giaddr its address, sent to the server's port 67), at about PPS a second. Prints sent=N.
relayed_flood() {
	ip netns exec "$ATK_NS" python3 - "$SERVER" "$RELAY_IP" "$1" "$2" <<'PYEOF'
import os, socket, sys, time
server, relay, n, pps = sys.argv[1], socket.inet_aton(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t0 = time.monotonic()
for i in range(n):
    mac = b"\x02\xdd" + os.urandom(4)
    pkt = (bytes([1, 1, 6, 1]) + os.urandom(4) + bytes(16) + relay + mac + bytes(10 + 192)
           + b"\x63\x82\x53\x63" + bytes([53, 1, 1, 255]))
    s.sendto(pkt + bytes(300 - len(pkt)), (server, 67))
    if i % 100 == 99:
        time.sleep(max(0.0, t0 + (i + 1) / pps - time.monotonic()))
print("sent=%d" % n)
PYEOF
}

# relayed_dora MAC: a DORA for MAC relayed by the attacker's host (the replies come
# to its port 67), up to 10 tries of 1 s; prints the address and tries, status 0 on ACK.
relayed_dora() {
	local out i
	for ((i = 0; i < 10; i++)); do
		out=$(probe_in "$ATK_NS" --type dora --mac "$1" --giaddr "$RELAY_IP" --to "$SERVER" \
			--from-port 67 --timeout-ms 1000 2>&1) || continue
		[ "$(field type "$out")" = ACK ] && { echo "$(field yiaddr "$out") after $((i + 1)) tries"; return 0; }
	done
	echo "no ACK in $i tries"
	return 1
}

RELAY_IP=$LAB_NET.20
relayed_dora 52:54:00:6e:00:11 >"$LAB_TMP/relayed-held.log" 2>&1 ||
	lab_fail "a relayed client before the relayed flood: $(cat "$LAB_TMP/relayed-held.log")"
r0=$(metric "$RATE_DHCP")
b0=$(metric "$BRIEF")
# Behind the relay, during the flood: the client with a lease, then a new one.
(sleep 1 && relayed_dora 52:54:00:6e:00:11 && relayed_dora 52:54:00:6e:00:12) \
	>"$LAB_TMP/relayed-clients.log" 2>&1 &
npid=$!
lab_track_pid "$npid"
during dhcp-relayed-flood relayed_flood 5000 2500
rc=0
wait "$npid" || rc=$?
lab_untrack_pid "$npid"
[ "$rc" = 0 ] || lab_fail "relayed clients during the relayed flood: $(tr '\n' ' ' <"$LAB_TMP/relayed-clients.log")"
grep -q '^sent=5000$' "$LAB_TMP/attack.dhcp-relayed-flood.log" ||
	lab_fail "relayed flood: $(cat "$LAB_TMP/attack.dhcp-relayed-flood.log")"
held=$(head -n1 "$LAB_TMP/relayed-clients.log")
[ "${held##* after }" = "1 tries" ] || lab_fail "the relayed client with a lease needed $held"
rose "$BRIEF" "$b0" 50
dropped=$(($(metric "$RATE_DHCP") - r0))
[ "$dropped" -le 10 ] || lab_fail "relayed flood: $dropped packets dropped over the rate limits"
ok "5,000 relayed DISCOVERs from random MACs at 2,500/s through one relay: $(($(metric "$BRIEF") - b0)) brief offers, $dropped dropped; behind it the client with a lease got $held, a new one $(sed -n 2p "$LAB_TMP/relayed-clients.log")"
check_rss "relayed flood"

# ---- 4. RRQs from 51 spoofed addresses ---------------------------------------------

EVICTED='pxed_tftp_transfers_unanswered_total{end="evicted"}'
TIMEDOUT='pxed_tftp_transfers_unanswered_total{end="timeout"}'
e0=$(metric "$EVICTED")
o0=$(metric "$TIMEDOUT")
during tftp-spoofed ip netns exec "$ATK_NS" "$FLOOD" --iface eth0 --tftp-rrq boot.bin \
	--to "$SERVER" --dst-mac "$BR_MAC" --sources "$LAB_NET.200-$LAB_NET.250" --count 10000 \
	--pps 2000 --max-seconds 20
rose "$EVICTED" "$e0" 100
# Those left when the flood stopped end after three retransmissions (15 s).
rose "$TIMEDOUT" "$o0" 1 20
active=$(metrics_all | awk '$1 == "pxed_transfers_in_progress{proto=\"tftp\"}" { print $2 }')
ok "10,000 RRQs from 51 spoofed addresses: $(($(metric "$EVICTED") - e0)) unanswered transfers evicted ($EVICTED), $(($(metric "$TIMEDOUT") - o0)) ended unanswered ($TIMEDOUT); ${active:-0} in progress now"
check_rss "spoofed RRQ flood"

# ---- 5. RRQs from one address -----------------------------------------------------

RATE_TFTP='pxed_tftp_requests_refused_total{reason="rate_limited"}'
q0=$(metric "$RATE_TFTP")
during tftp-one-address ip netns exec "$ATK_NS" "$FLOOD" --iface eth0 --tftp-rrq small \
	--to "$SERVER" --dst-mac "$BR_MAC" --sources "$LAB_NET.20-$LAB_NET.20" --count 3000 \
	--pps 1500 --max-seconds 10
rose "$RATE_TFTP" "$q0" 2500
ok "3,000 RRQs from $LAB_NET.20 in 2 s: $(($(metric "$RATE_TFTP") - q0)) dropped over tftp.rate_per_address ($RATE_TFTP)"
check_rss "one-address RRQ flood"

# ---- the lost last ACK, and the end -----------------------------------------------

# The client that never acknowledged its last block: given up after five timeouts.
for ((i = 0; i < 45; i++)); do
	grep -q 'no ACK for the last block' "$LAB_TMP/pxed.log" && break
	sleep 1
done
grep -q 'no ACK for the last block' "$LAB_TMP/pxed.log" ||
	lab_fail "lost last ACK: no 'no ACK for the last block' in pxed.log after $(($(date +%s) - t_lost)) s"
[ "$(metric "$FAILED_XFERS")" -gt "$failed0" ] || lab_fail "lost last ACK: $FAILED_XFERS did not rise"
ok "lost last ACK: the transfer ended by itself after $(($(date +%s) - t_lost)) s ($FAILED_XFERS)"

good_client after >"$LAB_TMP/good.after.log" 2>&1 ||
	lab_fail "after everything: $(cat "$LAB_TMP/good.after.log")"
ok "after everything the well-behaved client is served; peak VmRSS $RSS_PEAK KiB (bound $RSS_MAX_KB KiB)"

rc=0
lab_kill_pxed || rc=$?
[ "$rc" = 0 ] || lab_fail "pxed exited with status $rc on SIGTERM"
ok "SIGTERM: pxed exited with status 0"

echo "# $(awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
