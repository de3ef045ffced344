#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2015
# pxed's live view: the JSON API of docs/api.md, `pxed status` and `pxed events`, in
# network namespaces (needs root). A client host gets an address with dhcp-probe (so
# pxed knows its MAC), then:
#  1. /api/v1/status shows a slow TFTP transfer of the kernel in progress (a client
#     that waits between ACKs), with the client's MAC, and its bytes growing; the pool
#     shows the lease;
#  2. `pxed status --json` and the text view (progress bar, pool bar, the machine);
#  3. /api/v1/events and the event stream (curl -N) deliver the events of transfers made
#     during the test; ?since= and Last-Event-ID skip the older ones;
#  4. `pxed events --json`, and `pxed events --follow --json` prints a new transfer's
#     event as it happens;
#  5. after the kernel (TFTP) and the initrd (HTTP), the machine is "booted" in
#     /api/v1/status and /api/v1/machines; /api/v1/machines/MAC has the session's
#     timeline and the explain report; an unknown MAC is 404;
#  6. at most 64 event streams: the 65th gets 503; a client that closes its stream
#     frees it at once (the gauge drops, a new stream is accepted);
#  7. a stream open for over 15 s got a keep-alive comment; bad requests get 400, 404
#     and 405 as JSON; SIGTERM with streams open: a clean exit (status 0).
# Usage: tests/integration/api-status.sh [BUILD_DIR]   (default: build)
set -euo pipefail

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib-dhcp.sh
. "$HERE/lib-dhcp.sh"

NS=pxed-it-api
OCTET=38
CLI_MAC=52:54:00:26:00:01
STREAMS_MAX=64

[ -x "$PROBE" ] || { echo "not ok - dhcp-probe not built: $PROBE (ninja -C $BUILD)"; exit 1; }
[ -x "$PXED" ] || { echo "not ok - pxed not built: $PXED"; exit 1; }
for tool in curl python3; do
	command -v "$tool" >/dev/null || { echo "not ok - $tool is not installed"; exit 1; }
done

lab_setup "$NS" "$OCTET"
SERVER=$LAB_SERVER_IP
API=http://$SERVER:8080
lab_add_host cli
CLI_NS=$LAB_HOST_NS
ip -n "$CLI_NS" link set eth0 address "$CLI_MAC"

# The kernel is big enough for a slow transfer to be seen; the initrd is small.
head -c $((1024 * 1024)) /dev/urandom >"$LAB_TMP/vmlinuz"
head -c 4096 /dev/urandom >"$LAB_TMP/initrd.img"

# ---- helpers -------------------------------------------------------------

# in_cli CMD...: CMD in the client host's namespace (in the foreground: a function run
# in the background is a subshell, whose PID is not the command's).
in_cli() { ip netns exec "$CLI_NS" "$@"; }
# get PATH: the body of GET API/PATH from the client host.
get() { in_cli curl -sS --max-time 5 "$API$1"; }
# jq_py EXPR: evaluate a Python expression on the JSON on stdin (bound to j).
jq_py() { python3 -c "import json, sys; j = json.load(sys.stdin); print($1)"; }
# reap PID SECONDS: wait for the background process PID, at most SECONDS; one that
# outlives that is killed, and reap fails.
reap() {
	local pid=$1 t=$2 i
	for ((i = 0; i < t * 10; i++)); do
		lab_alive "$pid" || break
		sleep 0.1
	done
	if lab_alive "$pid"; then
		lab_stop_pid "$pid" 1 || true
		return 1
	fi
	wait "$pid" 2>/dev/null || true
	lab_untrack_pid "$pid"
}
# gauge NAME: a sample's value from /metrics.
gauge() { get /metrics | awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }'; }

# A TFTP client that waits DELAY seconds before each ACK (tests/tools/slow-tftp.py).
SLOW_TFTP=$HERE/../tools/slow-tftp.py

# ---- start ---------------------------------------------------------------

lab_pxed boot --interface "$LAB_BR" --dhcp-range "$LAB_NET.100,$LAB_NET.110" \
	--kernel "$LAB_TMP/vmlinuz" --initrd "$LAB_TMP/initrd.img" --state-dir "$LAB_TMP/state" \
	--http-port 8080 --log-level debug
lab_wait_port udp 67 && lab_wait_port udp 69 && lab_wait_port tcp 8080 ||
	lab_fail "pxed did not listen on UDP 67 and 69 and TCP 8080"

out=$(probe --type dora --mac "$CLI_MAC") || lab_fail "dhcp-probe dora got no ACK: $out"
CLI_IP=$(field yiaddr "$out")
[ -n "$CLI_IP" ] || lab_fail "no yiaddr in the ACK: $out"
ip -n "$CLI_NS" addr add "$CLI_IP/24" dev eth0
ok "the client $CLI_MAC got $CLI_IP"

# A stream opened now is checked for its keep-alive at the end (over 15 s later).
ip netns exec "$CLI_NS" curl -sN "$API/api/v1/events/stream" >"$LAB_TMP/stream-long.txt" 2>/dev/null &
STREAM_LONG=$!
lab_track_pid "$STREAM_LONG"
stream_long_t0=$(date +%s)

# ---- 1. a slow TFTP transfer in progress ------------------------------------

ip netns exec "$CLI_NS" python3 "$SLOW_TFTP" "$SERVER" 69 files/default/kernel "$LAB_TMP/kernel.out" 0.004 1024 \
	>"$LAB_TMP/slow-tftp.log" 2>&1 &
SLOW=$!
lab_track_pid "$SLOW"
sleep 1
s1=$(get /api/v1/status) || lab_fail "GET /api/v1/status failed"
sleep 1
s2=$(get /api/v1/status) || lab_fail "GET /api/v1/status failed"
read -r proto mac ip what file size b1 blksize <<<"$(jq_py "' '.join(str(t[k]) for k in ('proto', 'mac', 'ip', 'what', 'file', 'size', 'bytes', 'blksize')) if (t := next((t for t in j['transfers'] if t['proto'] == 'tftp'), None)) else 'none'" <<<"$s1")"
b2=$(jq_py "next((t['bytes'] for t in j['transfers'] if t['proto'] == 'tftp'), -1)" <<<"$s2")
[ "$proto" = tftp ] || lab_fail "/api/v1/status shows no TFTP transfer in progress: $s1"
[ "$mac $ip $what $file $size $blksize" = "$CLI_MAC $CLI_IP kernel files/default/kernel 1048576 1024" ] ||
	lab_fail "the transfer in /api/v1/status: '$mac $ip $what $file $size $blksize': $s1"
[ "$b1" -gt 0 ] && [ "$b2" -gt "$b1" ] && [ "$b2" -lt 1048576 ] ||
	lab_fail "the transfer's bytes do not grow: $b1 then $b2"
ok "/api/v1/status: the slow TFTP transfer of the kernel to $CLI_MAC, $b1 then $b2 bytes of 1048576"

pool=$(jq_py "' '.join(str(j['pools'][0][k]) for k in ('subnet', 'first', 'last', 'size', 'leased', 'offered', 'free'))" <<<"$s2")
[ "$pool" = "$LAB_NET.0/24 $LAB_NET.100 $LAB_NET.110 11 1 0 10" ] ||
	lab_fail "the pool in /api/v1/status: '$pool'"
ok "/api/v1/status: the pool $LAB_NET.0/24 with 1 of 11 addresses leased"

# ---- 2. pxed status ---------------------------------------------------------

st=$(in_cli "$PXED" status --url "$API" --json) || lab_fail "pxed status --json failed"
[ "$(jq_py "len(j['transfers']) >= 1 and j['version'] != ''" <<<"$st")" = True ] ||
	lab_fail "pxed status --json: $st"
ok "pxed status --json prints /api/v1/status"

text=$(in_cli "$PXED" status --url "$API") || lab_fail "pxed status failed"
mapfile -t lines <<<"$text"
printf '#   %s\n' "${lines[@]}"
grep -qE "^  tftp +$CLI_IP +$CLI_MAC +kernel +\[[#-]{10}\] +[0-9]+% +[0-9.]+ [KM]iB/1.0 MiB .*files/default/kernel$" <<<"$text" ||
	lab_fail "pxed status: no progress line for the transfer"
grep -qE "^  $LAB_NET.0/24 +$LAB_NET.100-$LAB_NET.110 +\[#---------\] +9% +1/11 in use: 1 leased" <<<"$text" ||
	lab_fail "pxed status: no usage line for the pool"
grep -qE "^  $CLI_MAC +$CLI_IP +booting " <<<"$text" || lab_fail "pxed status: $CLI_MAC is not booting"
ok "pxed status: a progress bar for the transfer, a usage bar for the pool, the machine booting"

reap "$SLOW" 60 || lab_fail "the slow TFTP client did not end"
cmp -s "$LAB_TMP/kernel.out" "$LAB_TMP/vmlinuz" || lab_fail "the slow TFTP client got other bytes: $(cat "$LAB_TMP/slow-tftp.log")"
n=$(get /api/v1/status | jq_py "len(j['transfers'])")
[ "$n" = 0 ] || lab_fail "$n transfers still shown after the end"
ok "the transfer completed and left the status view"

# ---- 3. events and the event stream -------------------------------------------

ev=$(get /api/v1/events) || lab_fail "GET /api/v1/events failed"
last=$(jq_py "j['last_seq']" <<<"$ev")
kt=$(jq_py "[e for e in j['events'] if e['proto'] == 'tftp' and e['kind'] == 'transfer'][-1]" <<<"$ev")
[ "$(jq_py "j['events'][-1]['seq'] == j['last_seq'] and all(a['seq'] + 1 == b['seq'] for a, b in zip(j['events'], j['events'][1:]))" <<<"$ev")" = True ] ||
	lab_fail "/api/v1/events: sequence numbers are not consecutive up to last_seq: $ev"
grep -q "'mac': '$CLI_MAC'.*'bytes': 1048576.*'ok': True" <<<"$kt" ||
	lab_fail "/api/v1/events: no complete kernel transfer for $CLI_MAC: $kt"
ok "/api/v1/events: the kernel transfer's event (seq up to $last, consecutive)"

ip netns exec "$CLI_NS" curl -sN --max-time 6 "$API/api/v1/events/stream?since=$last" >"$LAB_TMP/stream-1.txt" &
S1=$!
ip netns exec "$CLI_NS" curl -sN --max-time 6 -H "Last-Event-ID: $last" "$API/api/v1/events/stream" \
	>"$LAB_TMP/stream-2.txt" &
S2=$!
lab_track_pid "$S1"
lab_track_pid "$S2"
ip netns exec "$CLI_NS" timeout 6 "$PXED" events --url "$API" --follow --json --since "$last" \
	>"$LAB_TMP/follow.json" 2>"$LAB_TMP/follow.err" &
F1=$!
lab_track_pid "$F1"
sleep 1
in_cli curl -sS -o "$LAB_TMP/initrd.out" "$API/files/default/initrd0" || lab_fail "GET initrd0 failed"
reap "$S1" 10 || lab_fail "curl --max-time 6 on the stream did not end"
reap "$S2" 10 || lab_fail "curl --max-time 6 on the stream did not end"
reap "$F1" 10 || lab_fail "pxed events --follow did not end on timeout's SIGTERM"
for f in stream-1 stream-2; do
	grep -q "^id: $((last + 1))$" "$LAB_TMP/$f.txt" &&
		grep -q '^data: {"seq":'"$((last + 1))"',.*"kind":"transfer","detail":"initrd /files/default/initrd0".*"ok":true' "$LAB_TMP/$f.txt" ||
		lab_fail "event stream ($f): no event $((last + 1)) for the initrd: $(cat "$LAB_TMP/$f.txt")"
	! grep -q "^id: $last$" "$LAB_TMP/$f.txt" || lab_fail "event stream ($f): event $last again"
done
ok "event stream (?since= and Last-Event-ID): the initrd's event $((last + 1)) as it happened"
grep -q '"seq": *'"$((last + 1))"',.*"initrd /files/default/initrd0"' "$LAB_TMP/follow.json" ||
	lab_fail "pxed events --follow --json: no initrd event: $(cat "$LAB_TMP/follow.json" "$LAB_TMP/follow.err")"
[ "$(wc -l <"$LAB_TMP/follow.json")" -ge 1 ] && python3 -c '
import json, sys
for line in open(sys.argv[1]):
    json.loads(line)' "$LAB_TMP/follow.json" || lab_fail "pxed events --follow --json: not one JSON object a line"
ok "pxed events --follow --json printed the initrd's event"

out=$(in_cli "$PXED" events --url "$API" --since "$((last - 1))") || lab_fail "pxed events failed"
[ "$(wc -l <<<"$out")" = 2 ] && grep -qE "^[0-9:.]+ +#$((last + 1)) +$CLI_MAC +$CLI_IP +http +transfer +initrd /files/default/initrd0 \[4.0 KiB in" <<<"$out" ||
	lab_fail "pxed events --since $((last - 1)): $out"
out=$(in_cli "$PXED" events --url "$API" --json --since "$last") || lab_fail "pxed events --json failed"
[ "$(jq_py "j['seq']" <<<"$out")" = $((last + 1)) ] || lab_fail "pxed events --json --since $last: $out"
ok "pxed events (text and --json) print the events after --since"

# ---- 5. machines ----------------------------------------------------------------

m=$(get /api/v1/status | jq_py "[(m['mac'], m['state'], m['step'], m['profile']) for m in j['machines']]")
[ "$m" = "[('$CLI_MAC', 'booted', 'http initrd /files/default/initrd0', 'default')]" ] ||
	lab_fail "/api/v1/status machines: $m"
m=$(get /api/v1/machines | jq_py "[(m['mac'], m['ip'], m['state']) for m in j['machines']]")
[ "$m" = "[('$CLI_MAC', '$CLI_IP', 'booted')]" ] || lab_fail "/api/v1/machines: $m"
one=$(get "/api/v1/machines/$CLI_MAC") || lab_fail "GET /api/v1/machines/$CLI_MAC failed"
[ "$(jq_py "(j['state'], [e['kind'] for e in j['timeline']][-2:], j['timeline'][0]['offset_ms'], j['explain']['diagnosis']['code'] if j['explain'] else None)" <<<"$one")" = "('booted', ['transfer', 'transfer'], 0, 'done')" ] ||
	lab_fail "/api/v1/machines/$CLI_MAC: $one"
code=$(in_cli curl -s -o /dev/null -w '%{http_code}' "$API/api/v1/machines/52:54:00:26:00:99")
[ "$code" = 404 ] || lab_fail "/api/v1/machines of an unknown MAC: HTTP $code"
ok "machines: $CLI_MAC booted (status, /machines, /machines/MAC with its timeline and diagnosis)"

# ---- 6. at most 64 streams ---------------------------------------------------------

base=$(gauge pxed_http_event_streams)
pids=()
want=$base
# In batches of 16: a connection counts against the per-client cap (32) until it is a
# stream, and under valgrind setting one up takes long enough for 64 at once to pass it.
for i in $(seq 1 $((STREAMS_MAX - base))); do
	ip netns exec "$CLI_NS" curl -sN "$API/api/v1/events/stream" >/dev/null 2>&1 &
	pids+=($!)
	lab_track_pid $!
	want=$((want + 1))
	if [ $((i % 16)) = 0 ]; then
		for _ in $(seq 1 300); do
			[ "$(gauge pxed_http_event_streams)" -ge "$want" ] && break
			sleep 0.1
		done
	fi
done
# Up to 30 s: under valgrind (make test's valgrind phase) on a busy machine 64 connections
# take more than the 5 s a normal build needs at most.
for _ in $(seq 1 300); do
	[ "$(gauge pxed_http_event_streams)" = "$STREAMS_MAX" ] && break
	sleep 0.1
done
[ "$(gauge pxed_http_event_streams)" = "$STREAMS_MAX" ] ||
	lab_fail "$STREAMS_MAX streams were not all open: $(gauge pxed_http_event_streams)"
code=$(in_cli curl -s -o "$LAB_TMP/503.txt" -w '%{http_code}' --max-time 5 "$API/api/v1/events/stream")
[ "$code" = 503 ] && grep -q '"error"' "$LAB_TMP/503.txt" ||
	lab_fail "stream $((STREAMS_MAX + 1)): HTTP $code, expected 503"
[ "$(gauge pxed_http_event_streams_refused_total)" = 1 ] || lab_fail "the refusal was not counted"
ok "$STREAMS_MAX event streams open; one more gets 503 (and is counted)"

lab_stop_pid "${pids[0]}" 2 || true
for _ in $(seq 1 50); do
	[ "$(gauge pxed_http_event_streams)" = $((STREAMS_MAX - 1)) ] && break
	sleep 0.1
done
[ "$(gauge pxed_http_event_streams)" = $((STREAMS_MAX - 1)) ] ||
	lab_fail "a closed stream was not freed: $(gauge pxed_http_event_streams) open"
code=$(in_cli curl -s -o /dev/null -w '%{http_code}' --max-time 1 -N "$API/api/v1/events/stream" || true)
[ "$code" = 200 ] || lab_fail "a new stream after one closed: HTTP $code"
ok "a client that closed its stream freed it: a new stream is accepted"
for p in "${pids[@]:1}"; do
	kill "$p" 2>/dev/null || true
done
for p in "${pids[@]:1}"; do
	reap "$p" 5 || lab_fail "a stream's curl ignored SIGTERM"
done

# ---- 7. keep-alive, errors, exit ----------------------------------------------------

while [ $(($(date +%s) - stream_long_t0)) -lt 17 ]; do sleep 1; done
grep -q '^: keep-alive$' "$LAB_TMP/stream-long.txt" ||
	lab_fail "no keep-alive comment in a stream open for 17 s"
ok "a stream open for 17 s got a keep-alive comment"

for c in "/api/v1/events?since=x 400" "/api/v1/nothing 404" "/api/v1/machines/zz 400"; do
	read -r path want <<<"$c"
	code=$(in_cli curl -s -o "$LAB_TMP/err.txt" -w '%{http_code}' "$API$path")
	[ "$code" = "$want" ] && grep -q '^{"error":' "$LAB_TMP/err.txt" ||
		lab_fail "GET $path: HTTP $code $(cat "$LAB_TMP/err.txt"), expected $want with a JSON error"
done
code=$(in_cli curl -s -o /dev/null -w '%{http_code}' -X POST "$API/api/v1/status")
[ "$code" = 405 ] || lab_fail "POST /api/v1/status: HTTP $code, expected 405"
ok "bad since 400, unknown endpoint 404, bad MAC 400, POST 405"

rc=0
lab_kill_pxed 10 || rc=$?
[ "$rc" = 0 ] || lab_fail "pxed exited with status $rc on SIGTERM (a stream was open)"
reap "$STREAM_LONG" 5 || lab_fail "the stream's curl did not end with pxed"
ok "SIGTERM with a stream open: pxed exits 0"
