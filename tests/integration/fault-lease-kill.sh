#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2015
# SIGKILL during a lease storm (issue 7, fault 1): no ACKed lease lost, none doubled,
# and every client that asks again gets its same address. Needs root (network
# namespaces; lab octet 100).
#
# dhcp-durability.sh checks the store with sqlite3 after many kills of random
# length; this test is the client's view, through pxed's own `pxed leases --json`:
#  - pxed serves a pool of 2047 addresses (10.77.104.0-10.77.111.254 in
#    10.77.96.0/20, which holds br0's 10.77.100.1);
#  - STREAMS client loops (8, in two client namespaces) each take new MACs one after
#    another, about 15 a second, and ask for each like a client that wants an
#    address: a DORA (dhcp-probe --type dora), again with a new xid after a failure
#    (pxed down), up to 15 times, until it is ACKed. Each ACK is logged "MAC IP";
#  - KILLS times (4), at a random moment 0.1-1.2 s after pxed listens, pxed gets
#    SIGKILL (its PID; the status must be 137), `pxed leases --json` reads the store
#    the kill left (every MAC ACKed so far must be there on its ACKed address), and
#    pxed starts again at once on the same state directory while the clients go on;
#  - after the last restart the clients run 1 s more (and until 250 MACs were ACKed,
#    30 s at most) and stop; then
#    1. every MAC got an ACK in the end, and hundreds of MACs were served;
#    2. some exchanges were cut by a kill (else the run tested nothing);
#    3. `pxed leases --json` holds every ACKed MAC on its ACKed address, no address
#       was ACKed to two MACs, and no MAC holds two leases;
#    4. every ACKed MAC asks again (a REQUEST for its address, INIT-REBOOT, as a
#       rebooted client does; 8 at a time) and is ACKed that same address; 5 of
#       them also renew (RENEWING: ciaddr, unicast) and keep it;
#    5. a last SIGKILL, and check 3 again on the store it leaves.
#
# Usage: tests/integration/fault-lease-kill.sh [BUILD_DIR]   (default: build)
# Env: PXED_FAULT_SEED  the random seed (default: from /dev/urandom; printed).
set -euo pipefail

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib-dhcp.sh
. "$HERE/lib-dhcp.sh"

NS=pxed-it-fault-kill
OCTET=100
SEED=${PXED_FAULT_SEED:-$(($(od -An -N4 -tu4 /dev/urandom) % 2147483647 + 1))}
STREAMS=8
KILLS=4
PER_STREAM=200 # MACs at most per stream (8 x 200 < the pool's 2047)
TRIES=15       # DORAs per MAC at most
PY=/usr/bin/python3
t_start=$EPOCHREALTIME

[[ "$SEED" =~ ^[0-9]+$ ]] || { echo "not ok - PXED_FAULT_SEED must be a number"; exit 1; }
[ -x "$PROBE" ] || { echo "not ok - dhcp-probe not built: $PROBE (ninja -C $BUILD)"; exit 1; }
[ -x "$PXED" ] || { echo "not ok - pxed not built: $PXED"; exit 1; }
RANDOM=$SEED
lab_log "seed $SEED (replay: PXED_FAULT_SEED=$SEED $0 ${1:-build})"

lab_setup "$NS" "$OCTET"
lab_private_binaries
lab_add_clients 2

STATE=$LAB_TMP/state
CONF=$LAB_TMP/pxed.yaml
cat >"$CONF" <<EOF
interfaces: [$LAB_BR]
dhcp:
  mode: server
  lease_time: 3600
state_dir: $STATE
tftp:
  port: 69
http:
  port: 8080
subnets:
  - subnet: 10.77.96.0/20
    pool: 10.77.104.0-10.77.111.254
EOF

# check_leases LABEL ACKFILE: `pxed leases --json` on the state directory against
# ACKFILE ("MAC IP" lines): every ACKed MAC on its ACKed address, no address ACKed
# to two MACs, no MAC with two leases.
check_leases() {
	local label=$1 acks=$2 v
	"$PXED" leases --json --state-dir "$STATE" >"$LAB_TMP/leases.json" 2>"$LAB_TMP/leases.err" || {
		not_ok "$label: pxed leases failed: $(head -n3 "$LAB_TMP/leases.err")"
		return
	}
	v=$("$PY" - "$LAB_TMP/leases.json" "$acks" <<'EOF'
import json, sys
leases = json.load(open(sys.argv[1]))
by_mac, macs = {}, []
for l in leases:
    by_mac[l["mac"]] = l["ip"]
    macs.append(l["mac"])
acked = [line.split()[:2] for line in open(sys.argv[2]) if line.strip()]
owners = {}
for m, ip in acked:
    owners.setdefault(ip, set()).add(m)
print(f"leases={len(leases)} acked={len(acked)}")
for m, ip in acked:
    if by_mac.get(m) != ip:
        print(f"missing {m} acked {ip} store {by_mac.get(m, 'none')}")
for ip, ms in sorted(owners.items()):
    if len(ms) > 1:
        print(f"twice {ip} acked to {','.join(sorted(ms))}")
for m in sorted({m for m in macs if macs.count(m) > 1}):
    print(f"two-leases {m}")
EOF
)
	if grep -q '^missing' <<<"$v"; then
		not_ok "$label: ACKed leases lost or moved (seed $SEED): $(grep '^missing' <<<"$v" | head -n5 | tr '\n' ';')"
	else
		ok "$label: all $(grep -c . "$acks") ACKed leases are in pxed leases, on the ACKed address ($(head -n1 <<<"$v"))"
	fi
	if grep -qE '^(twice|two-leases)' <<<"$v"; then
		not_ok "$label: doubled (seed $SEED): $(grep -E '^(twice|two-leases)' <<<"$v" | head -n5 | tr '\n' ';')"
	else
		ok "$label: no address ACKed to two MACs, no MAC with two leases"
	fi
}

# The client loop, run by bash in a client namespace:
#   STREAM PROBE ID STOPFILE LOG PER_STREAM TRIES
# MAC 02:64:ID:00:nn:nn for n = 1..PER_STREAM until STOPFILE exists. Lines in LOG:
#   ack MAC IP TRY | no-ack MAC OFFERED | no-offer MAC | nak MAC | gave-up MAC
# shellcheck disable=SC2016
STREAM='
probe=$1 id=$2 stop=$3 log=$4 per=$5 tries=$6
trap "exit 143" TERM
exec 3>>"$log"
for ((n = 1; n <= per; n++)); do
	[ -e "$stop" ] && break
	printf -v mac "02:64:%02x:00:%02x:%02x" "$id" $((n >> 8)) $((n & 255))
	got=
	for ((t = 1; t <= tries; t++)); do
		rc=0
		out=$("$probe" --iface eth0 --type dora --mac "$mac" --timeout-ms 400 2>&1) || rc=$?
		type= yiaddr= offered= chaddr=
		while IFS== read -r k v; do
			case $k in
			type) type=$v ;; yiaddr) yiaddr=$v ;; offered) offered=$v ;; chaddr) chaddr=$v ;;
			esac
		done <<<"$out"
		if [ "$rc" = 0 ] && [ "$type" = ACK ] && [ "$chaddr" = "$mac" ]; then
			echo "ack $mac $yiaddr $t" >&3
			got=1
			break
		elif [ "$rc" = 0 ] && [ "$type" = NAK ]; then
			echo "nak $mac" >&3
		elif [ -n "$offered" ]; then
			echo "no-ack $mac $offered" >&3
		else
			echo "no-offer $mac" >&3
		fi
		sleep 0.1
	done
	[ -n "$got" ] || echo "gave-up $mac" >&3
	sleep 0.05
done
'

STARTS=0
start_pxed() {
	lab_pxed serve --config "$CONF"
	STARTS=$((STARTS + 1))
	lab_wait_port udp 67 10 || lab_fail "pxed (start $STARTS) did not listen on UDP 67"
}
kill_pxed() {
	local pid=$LAB_PXED_PID rc=0
	lab_alive "$pid" || lab_fail "pxed (PID $pid) died by itself"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || rc=$?
	lab_untrack_pid "$pid"
	LAB_PXED_PID=
	[ "$rc" = 137 ] || lab_fail "pxed (PID $pid) ended with status $rc, not 137"
}
acks_now() { cat "$LAB_TMP"/stream.*.txt | awk '$1 == "ack" { print $2, $3 }'; }

# ---- the storm ---------------------------------------------------------------

start_pxed
ok "pxed serves a pool of 2047 addresses"
STOP=$LAB_TMP/stop
PIDS=()
for ((k = 1; k <= STREAMS; k++)); do
	: >"$LAB_TMP/stream.$k.txt"
	ip netns exec "${CLI_NS[$((k % 2))]}" setpriv --pdeathsig TERM -- bash -c "$STREAM" stream \
		"$PROBE" "$k" "$STOP" "$LAB_TMP/stream.$k.txt" "$PER_STREAM" "$TRIES" </dev/null \
		2>>"$LAB_TMP/streams.err" &
	PIDS+=($!)
	lab_track_pid "$!"
done
for ((kill_n = 1; kill_n <= KILLS; kill_n++)); do
	ms=$((100 + RANDOM % 1101))
	sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
	kill_pxed
	acks_now >"$LAB_TMP/acks.kill$kill_n.txt"
	check_leases "kill $kill_n (${ms} ms after listening)" "$LAB_TMP/acks.kill$kill_n.txt"
	start_pxed
done
# At least a second more, and until 250 MACs were ACKed (a slow machine), 30 s at most.
sleep 1
for ((i = 0; i < 290 && $(acks_now | wc -l) < 250; i++)); do sleep 0.1; done
: >"$STOP"
for p in "${PIDS[@]}"; do
	rc=0
	lab_wait_exit "$p" 20 || rc=$?
	[ "$rc" = 0 ] || not_ok "client stream PID $p: status $rc $(tail -n2 "$LAB_TMP/streams.err" | tr '\n' ' ')"
done

# ---- what the clients saw --------------------------------------------------------

cat "$LAB_TMP"/stream.*.txt >"$LAB_TMP/exchanges.txt"
acks_now >"$LAB_TMP/acks.txt"
count() { grep -c "^$1 " "$LAB_TMP/exchanges.txt" || true; }
n_ack=$(count ack)
n_gave=$(count gave-up)
n_cut=$(($(count no-ack) + $(count no-offer) + $(count nak)))
lab_log "exchanges: ack $n_ack, no-ack $(count no-ack), no-offer $(count no-offer), nak $(count nak), gave-up $n_gave; $KILLS kills, $STARTS starts"
[ "$n_gave" = 0 ] && ok "every client got an ACK in the end ($n_ack MACs, retrying through the kills)" ||
	not_ok "$n_gave clients got no ACK in $TRIES tries: $(grep -m3 '^gave-up' "$LAB_TMP/exchanges.txt" | tr '\n' ';')"
[ "$n_ack" -ge 200 ] && ok "hundreds of distinct MACs served: $n_ack" || not_ok "only $n_ack MACs were ACKed"
[ "$n_cut" -gt 0 ] && ok "the kills cut $n_cut exchanges (no-ack $(count no-ack))" ||
	not_ok "no exchange failed: the kills hit nothing (seed $SEED)"

check_leases "after the storm" "$LAB_TMP/acks.txt"

# ---- every client asks again ----------------------------------------------------

# shellcheck disable=SC2016
AGAIN='
probe=$1 list=$2 log=$3
while read -r mac ip; do
	out=$("$probe" --iface eth0 --type request --mac "$mac" --requested-ip "$ip" --timeout-ms 2000 2>&1) || true
	type=$(sed -n "s/^type=//p" <<<"$out") yiaddr=$(sed -n "s/^yiaddr=//p" <<<"$out")
	echo "$mac $ip ${type:-none} ${yiaddr:--}" >>"$log"
done <"$list"
'
split -n "r/$STREAMS" -d "$LAB_TMP/acks.txt" "$LAB_TMP/again.in."
PIDS=()
for f in "$LAB_TMP"/again.in.*; do
	ip netns exec "${CLI_NS[0]}" setpriv --pdeathsig TERM -- bash -c "$AGAIN" again "$PROBE" "$f" \
		"$f.out" </dev/null &
	PIDS+=($!)
	lab_track_pid "$!"
done
for p in "${PIDS[@]}"; do lab_wait_exit "$p" 120 || not_ok "a re-request stream did not end"; done
cat "$LAB_TMP"/again.in.*.out >"$LAB_TMP/again.txt"
bad=$(awk '$3 != "ACK" || $4 != $2' "$LAB_TMP/again.txt")
if [ -z "$bad" ] && [ "$(grep -c . "$LAB_TMP/again.txt")" = "$n_ack" ]; then
	ok "all $n_ack clients re-request their address and are ACKed that same address"
else
	not_ok "re-requests: $(grep -c . <<<"$bad") of $(grep -c . "$LAB_TMP/again.txt") not ACKed their address: $(head -n5 <<<"$bad" | tr '\n' ';')"
fi

# A few renew as a running client does (RENEWING: ciaddr set, unicast to the server
# from the address itself, put on the client host's eth0 for the exchange).
renew_bad=()
n_renew=0
while read -r mac ip; do
	n_renew=$((n_renew + 1))
	ip -n "${CLI_NS[1]}" addr add "$ip/20" dev eth0 || lab_fail "cannot add $ip to ${CLI_NS[1]}"
	out=$(probe_in "${CLI_NS[1]}" --type request --mac "$mac" --ciaddr "$ip" --to "$LAB_SERVER_IP" \
		--timeout-ms 2000 2>&1) || true
	ip -n "${CLI_NS[1]}" addr del "$ip/20" dev eth0
	[ "$(field type "$out")" = ACK ] && [ "$(field yiaddr "$out")" = "$ip" ] ||
		renew_bad+=("$mac renewing $ip: $(field type "$out") $(field yiaddr "$out")")
done < <(awk -v seed="$SEED" 'BEGIN { srand(seed) } { print rand(), $0 }' "$LAB_TMP/acks.txt" |
	sort -k1,1 | head -n 5 | cut -d' ' -f2-)
[ "${#renew_bad[@]}" = 0 ] && ok "$n_renew sampled clients renew (unicast, ciaddr) and keep their address" ||
	not_ok "renewals: $(printf '%s; ' "${renew_bad[@]}")"

kill_pxed
check_leases "after a last SIGKILL" "$LAB_TMP/acks.txt"

echo "# counts: seed=$SEED acks=$n_ack cut=$n_cut kills=$((KILLS + 1)) starts=$STARTS"
echo "# $(awk -v a="$t_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
