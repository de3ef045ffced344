#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2015
# The state directory's disk full (issue 7, fault 2). Needs root (a tmpfs mount and
# network namespaces; lab octet 101).
#
#  - state_dir is a 2 MB tmpfs mounted by this test (unmounted at cleanup); pxed
#    serves a pool of 100 addresses from it;
#  - before: 10 clients (new MACs) get an ACK each (dhcp-probe --type dora);
#  - the disk fills: a filler file takes every free byte. New clients go on asking
#    (up to 60, one at a time) until 5 in a row got no ACK. Every ACK a client gets,
#    before, during or after, is recorded;
#  - checks while full: some exchange got no ACK (the fault was reached: the WAL had
#    no room left to grow); pxed is still running; its log says the lease store
#    failed; /metrics counts it (pxed_dhcp_store_failures_total > 0) and counts no
#    withheld ACK as sent (pxed_dhcp_replies_total{type="ack"} = the ACKs received);
#    the live events (/api/v1/events) show no ACK to a client that got none, and
#    show why to every client that got an OFFER but no ACK (a failed "request"
#    event, "ACK withheld: the lease could not be stored"); `pxed timeline MAC
#    --json` holds no ACK for such a client either;
#  - space returns (the filler deleted, pxed not restarted): a new client gets an
#    ACK within 5 tries, a client ACKed before renews to its same address, and a
#    client whose ACK was withheld asks again and is ACKed: its events show the
#    withheld REQUEST, then the ACK, and its stored timeline the ACK;
#  - pxed is killed with SIGKILL: `pxed leases --json` on the state directory holds
#    every ACK's MAC on the ACKed address (no ACK was sent for a lease the disk did
#    not take) and no address twice.
#
# Usage: tests/integration/fault-disk-full.sh [BUILD_DIR]   (default: build)
set -euo pipefail

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib-dhcp.sh
. "$HERE/lib-dhcp.sh"

NS=pxed-it-fault-disk
OCTET=101
PY=/usr/bin/python3
MAX_FULL_TRIES=60
t_start=$EPOCHREALTIME

[ -x "$PROBE" ] || { echo "not ok - dhcp-probe not built: $PROBE (ninja -C $BUILD)"; exit 1; }
[ -x "$PXED" ] || { echo "not ok - pxed not built: $PXED"; exit 1; }
command -v curl >/dev/null || { echo "not ok - curl is not installed"; exit 1; }

lab_setup "$NS" "$OCTET"
SERVER=$LAB_SERVER_IP
lab_add_host c1
CLI_NS=$LAB_HOST_NS

STATE=$LAB_TMP/state
mkdir -p "$STATE"
mount -t tmpfs -o size=2m,mode=0750 pxed-fault-disk "$STATE" || lab_fail "cannot mount a tmpfs on $STATE"
# Lazily: pxed may still hold the files open when the cleanup's commands run.
# shellcheck disable=SC2016
lab_on_cleanup 'umount -l "$STATE" 2>/dev/null || true'

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
  - subnet: $LAB_NET.0/24
    pool: $LAB_NET.100-$LAB_NET.199
EOF

lab_pxed serve --config "$CONF"
lab_wait_port udp 67 || lab_fail "pxed did not listen on UDP 67"
lab_wait_port tcp 8080 || lab_fail "pxed did not listen on TCP 8080"

ACKS=$LAB_TMP/acks.txt
ASKED=$LAB_TMP/asked.txt
: >"$ACKS"
: >"$ASKED"
N_MAC=0
# dora [MAC]: one DORA from MAC (default: a new MAC); appends "MAC IP" to ACKS on an
# ACK. Sets KIND (ack, nak, no-ack, no-offer) and MAC.
dora() {
	local out rc=0
	if [ -n "${1:-}" ]; then
		MAC=$1
	else
		N_MAC=$((N_MAC + 1))
		MAC=$(printf '02:65:00:00:%02x:%02x' $((N_MAC >> 8)) $((N_MAC & 255)))
		echo "$MAC" >>"$ASKED"
	fi
	out=$(probe_in "$CLI_NS" --type dora --mac "$MAC" --timeout-ms 1500 2>&1) || rc=$?
	if [ "$rc" = 0 ] && [ "$(field type "$out")" = ACK ]; then
		KIND=ack
		echo "$MAC $(field yiaddr "$out")" >>"$ACKS"
	elif [ "$rc" = 0 ] && [ "$(field type "$out")" = NAK ]; then
		KIND=nak
	elif [ -n "$(field offered "$out")" ]; then
		KIND=no-ack
	else
		KIND=no-offer
	fi
}

# ---- before ------------------------------------------------------------------

for ((i = 0; i < 10; i++)); do
	dora
	[ "$KIND" = ack ] || lab_fail "before the disk filled, client $MAC got $KIND"
done
ok "before the disk fills: 10 clients ACKed"
FIRST_MAC=$(head -n1 "$ACKS" | cut -d' ' -f1)
FIRST_IP=$(head -n1 "$ACKS" | cut -d' ' -f2)

# ---- full ----------------------------------------------------------------------

dd if=/dev/zero of="$STATE/filler" bs=4k status=none 2>/dev/null || true
avail=$(df --output=avail -B1 "$STATE" | tail -n1 | tr -d ' ')
lab_log "disk full: $avail bytes free, store files: $(du -k "$STATE"/pxed.db* | tr '\n\t' '  ')"
fails_before=$(metric pxed_dhcp_store_failures_total)
kinds=()
acks_full=0
in_row=0
NO_ACK=$LAB_TMP/no-ack.txt # offered, then no ACK: the ACK was withheld
: >"$NO_ACK"
for ((i = 0; i < MAX_FULL_TRIES && in_row < 5; i++)); do
	dora
	kinds+=("$KIND")
	[ "$KIND" != no-ack ] || echo "$MAC" >>"$NO_ACK"
	if [ "$KIND" = ack ]; then
		acks_full=$((acks_full + 1))
		in_row=0
	else
		in_row=$((in_row + 1))
	fi
done
lab_log "while full: $i exchanges: ${kinds[*]}"
[ "$in_row" -ge 5 ] && ok "while full: the last 5 clients got no ACK ($acks_full ACKs first, while the WAL had room)" ||
	not_ok "while full: $MAX_FULL_TRIES clients asked, and ACKs still came (the disk never ran out?)"
lab_alive "$LAB_PXED_PID" && ok "while full: pxed is still running" || lab_fail "pxed died when the disk filled"
grep -q 'lease store' "$LAB_TMP/pxed.log" &&
	ok "while full: the log says so: $(grep -m1 'lease store' "$LAB_TMP/pxed.log" | cut -c1-160)" ||
	not_ok "while full: nothing in pxed's log about the lease store"
grep -m2 -E 'error +store' "$LAB_TMP/pxed.log" | sed 's/^/#   /' || true
# An ACK withheld is not a reply sent: the counter of ACKs matches what clients got.
acks_metric=$(metric 'pxed_dhcp_replies_total{type="ack"}')
acks_got=$(grep -c . "$ACKS")
[ "$acks_metric" = "$acks_got" ] && ok "while full: pxed_dhcp_replies_total{type=\"ack\"} is $acks_metric, the ACKs the clients got" ||
	not_ok "while full: pxed_dhcp_replies_total{type=\"ack\"} is $acks_metric, but the clients got $acks_got ACKs"
# Nor does the live view (API, dashboard, `pxed events`) show an ACK to a client
# that got none.
WITHHELD=$LAB_TMP/withheld.txt
awk 'NR == FNR { got[$1] = 1; next } !($1 in got) { print $1 }' "$ACKS" "$ASKED" >"$WITHHELD"
# events_get FILE: the live events (the last 1024) into FILE.
events_get() {
	ip netns exec "$LAB_NS" curl -sS --max-time 5 "http://$SERVER:8080/api/v1/events?since=0" >"$1" ||
		lab_fail "GET /api/v1/events failed"
}
events_get "$LAB_TMP/events.json"
shown=$("$PY" - "$LAB_TMP/events.json" "$WITHHELD" <<'EOF'
import json, sys
withheld = {l.strip() for l in open(sys.argv[2]) if l.strip()}
for e in json.load(open(sys.argv[1]))["events"]:
    if e.get("mac") in withheld and e.get("kind", "").lower() in ("ack", "dhcpack"):
        print(e["mac"], e["kind"], e.get("ok"), e.get("detail", "")[:60])
EOF
)
[ -z "$shown" ] && ok "while full: the live events show no ACK to the $(grep -c . "$WITHHELD") clients that got none" ||
	not_ok "while full: the live events show ACKs that were withheld: $(head -n2 <<<"$shown" | tr '\n' ';')"
# ...and say why: each client that got an OFFER and no ACK has a failed REQUEST whose
# reason is the store.
[ -s "$NO_ACK" ] || lab_fail "while full: no client got an OFFER without its ACK"
unexplained=$("$PY" - "$LAB_TMP/events.json" "$NO_ACK" <<'EOF'
import json, sys
no_ack = {l.strip() for l in open(sys.argv[2]) if l.strip()}
told = {e.get("mac") for e in json.load(open(sys.argv[1]))["events"]
        if e.get("kind") == "request" and e.get("ok") is False
        and "ACK withheld: the lease could not be stored" in e.get("detail", "")}
print(" ".join(sorted(no_ack - told)))
EOF
)
[ -z "$unexplained" ] && ok "while full: the live events say why to all $(grep -c . "$NO_ACK") clients offered and not ACKed (a failed request: ACK withheld, the lease could not be stored)" ||
	not_ok "while full: no withheld-ACK event for: $unexplained"
# The stored timeline (`pxed timeline MAC --json`, what `pxed explain` reads) has no ACK either.
W_MAC=$(tail -n1 "$NO_ACK")
# tl_kinds FILE: the kinds of a `pxed timeline --json` file, "kind!" for a failed one.
tl_kinds() {
	"$PY" - "$1" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
ev = d["events"] if isinstance(d, dict) else d
print(",".join(e["kind"] + ("" if e["ok"] else "!") for e in ev))
EOF
}
"$PXED" timeline "$W_MAC" --all --json --state-dir "$STATE" >"$LAB_TMP/timeline-full.json" 2>"$LAB_TMP/timeline.err" ||
	lab_fail "pxed timeline $W_MAC while full: $(cat "$LAB_TMP/timeline.err")"
kinds_full=$(tl_kinds "$LAB_TMP/timeline-full.json")
[[ ",$kinds_full," != *,ack,* ]] && ok "while full: pxed timeline $W_MAC --json has no ACK (stored: ${kinds_full:-nothing})" ||
	not_ok "while full: pxed timeline $W_MAC --json shows an ACK it never got: $kinds_full"
fails_full=$(metric pxed_dhcp_store_failures_total)
[ "$fails_full" -gt "$fails_before" ] && ok "while full: /metrics counts it: pxed_dhcp_store_failures_total $fails_before -> $fails_full" ||
	not_ok "while full: pxed_dhcp_store_failures_total stayed at $fails_full"

# ---- space again -----------------------------------------------------------------

rm -f "$STATE/filler"
got=
for ((i = 1; i <= 5; i++)); do
	dora
	if [ "$KIND" = ack ]; then
		got=$i
		break
	fi
	sleep 0.5
done
[ -n "$got" ] && ok "space again: a new client is ACKed (try $got), pxed not restarted (PID $LAB_PXED_PID)" ||
	not_ok "space again: 5 new clients got no ACK"
for ((i = 0; i < 5; i++)); do dora; done
# The client whose ACK was withheld asks again: ACKed, and recorded after its withheld REQUEST.
dora "$W_MAC"
[ "$KIND" = ack ] || not_ok "space again: $W_MAC, withheld before, got $KIND"
events_get "$LAB_TMP/events-after.json"
order=$("$PY" - "$LAB_TMP/events-after.json" "$W_MAC" <<'EOF'
import json, sys
ev = [e for e in json.load(open(sys.argv[1]))["events"] if e.get("mac") == sys.argv[2]]
w = [e["seq"] for e in ev if e["kind"] == "request" and not e["ok"] and "ACK withheld" in e["detail"]]
a = [e["seq"] for e in ev if e["kind"] == "ack" and e["ok"]]
print("ok" if w and a and max(w) < min(a) else "bad: " + ",".join(e["kind"] for e in ev))
EOF
)
[ "$order" = ok ] && ok "space again: $W_MAC's events show the withheld REQUEST, then the ACK" ||
	not_ok "space again: $W_MAC's events: $order"
"$PXED" timeline "$W_MAC" --all --json --state-dir "$STATE" >"$LAB_TMP/timeline-after.json" 2>"$LAB_TMP/timeline.err" ||
	lab_fail "pxed timeline $W_MAC: $(cat "$LAB_TMP/timeline.err")"
kinds_after=$(tl_kinds "$LAB_TMP/timeline-after.json")
[[ ",$kinds_after," == *,ack,* ]] && ok "space again: pxed timeline $W_MAC --json has the ACK ($kinds_after)" ||
	not_ok "space again: pxed timeline $W_MAC --json has no ACK: $kinds_after"
n_after=$(grep -c . "$ACKS")
out=$(probe_in "$CLI_NS" --type request --mac "$FIRST_MAC" --requested-ip "$FIRST_IP" --timeout-ms 2000 2>&1) || true
[ "$(field type "$out")" = ACK ] && [ "$(field yiaddr "$out")" = "$FIRST_IP" ] &&
	ok "space again: $FIRST_MAC, ACKed before, re-requests and gets $FIRST_IP again" ||
	not_ok "space again: $FIRST_MAC re-requesting $FIRST_IP got: $(field type "$out") $(field yiaddr "$out")"
lab_alive "$LAB_PXED_PID" || lab_fail "pxed died"

# ---- the store ------------------------------------------------------------------

kill -KILL "$LAB_PXED_PID"
wait "$LAB_PXED_PID" 2>/dev/null || true
lab_untrack_pid "$LAB_PXED_PID"
LAB_PXED_PID=
"$PXED" leases --json --state-dir "$STATE" >"$LAB_TMP/leases.json" 2>"$LAB_TMP/leases.err" ||
	lab_fail "pxed leases after SIGKILL: $(cat "$LAB_TMP/leases.err")"
"$PY" - "$LAB_TMP/leases.json" "$ACKS" >"$LAB_TMP/verdict.txt" <<'EOF'
import json, sys
leases = json.load(open(sys.argv[1]))
by_mac = {l["mac"]: l["ip"] for l in leases}
acked = [line.split() for line in open(sys.argv[2]) if line.strip()]
missing = [f"{m} acked {ip} store {by_mac.get(m, 'none')}" for m, ip in acked if by_mac.get(m) != ip]
owners = {}
for m, ip in acked: owners.setdefault(ip, set()).add(m)
twice = sorted(f"{ip} acked to {','.join(sorted(ms))}" for ip, ms in owners.items() if len(ms) > 1)
print(f"leases={len(leases)} acked={len(acked)}")
for m in missing: print("missing", m)
for ip in twice: print("twice", ip)
EOF
head -n1 "$LAB_TMP/verdict.txt" | sed 's/^/# after SIGKILL: /'
grep -q '^missing' "$LAB_TMP/verdict.txt" &&
	not_ok "after SIGKILL: ACKed leases lost: $(grep '^missing' "$LAB_TMP/verdict.txt" | head -n5 | tr '\n' ';')" ||
	ok "after SIGKILL: all $n_after ACKed leases are in the store, on the ACKed address"
grep -q '^twice' "$LAB_TMP/verdict.txt" &&
	not_ok "addresses ACKed to two clients: $(grep '^twice' "$LAB_TMP/verdict.txt" | tr '\n' ';')" ||
	ok "no address was ACKed to two clients"

echo "# $(awk -v a="$t_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
