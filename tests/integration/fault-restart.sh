#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2015
# pxed restarted in the middle of TFTP and HTTP downloads (issue 7, fault 4). Needs
# root (network namespaces; lab octet 103).
#
# pxed serves a 24 MB file of random bytes (`pxed serve --listen`, TFTP port 69, HTTP
# 8080) to a client host 10.77.103.10. For each case a download starts; once a
# fifth to a third of the file has arrived, pxed is stopped (SIGKILL, or SIGTERM as a
# service manager's restart does) and started again at once on the same ports and
# state directory. Checks:
#  - the new pxed listens again on UDP 69 and TCP 8080 within 3 s (SO_REUSEADDR:
#    the old connections' TIME_WAIT does not hold the port) and logs no bind error;
#  - TFTP: the client (curl, blksize 1428) retries like firmware does: when a
#    transfer fails it sends a new RRQ for the whole file, 5 attempts at most, each
#    bounded by --max-time; it ends with the exact file (sha256), in 2 attempts or
#    more (the restart did cut the first);
#  - HTTP: curl resumes with -C - (a Range request; 5 attempts at most, rate-limited
#    to 4 MB/s so the restart lands mid-body) and ends with the exact file (sha256);
#    the attempt after the restart is answered 206 (a pxed that answers the whole
#    file, 200, fails the check; its client then starts over without -C -);
#  - SIGTERM ends pxed with status 0, SIGKILL with 137.
#
# Usage: tests/integration/fault-restart.sh [BUILD_DIR]   (default: build)
set -euo pipefail

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib-dhcp.sh
. "$HERE/lib-dhcp.sh"

NS=pxed-it-fault-restart
OCTET=103
SIZE=$((24 * 1024 * 1024))
ATTEMPTS=5
t_start=$EPOCHREALTIME

[ -x "$PXED" ] || { echo "not ok - pxed not built: $PXED"; exit 1; }
command -v curl >/dev/null || { echo "not ok - curl is not installed"; exit 1; }

lab_setup "$NS" "$OCTET"
SERVER=$LAB_SERVER_IP
lab_add_host c1 "$LAB_NET.10/24"
CLI_NS=$LAB_HOST_NS
# Small TCP buffers on both sides (per namespace): with the defaults the kernel can hold
# several MiB of a rate-limited HTTP download, and a slow pxed (valgrind) may have handed
# the whole file to it before the restart, which then cuts nothing.
for ns in "$LAB_NS" "$CLI_NS"; do
	ip netns exec "$ns" sysctl -qw net.ipv4.tcp_wmem="4096 16384 131072" \
		net.ipv4.tcp_rmem="4096 65536 131072" || lab_fail "cannot set TCP buffers in $ns"
done

ROOT=$LAB_TMP/root
mkdir -p "$ROOT" "$LAB_TMP/out"
head -c "$SIZE" /dev/urandom >"$ROOT/big.bin"
WANT=$(sha256sum <"$ROOT/big.bin" | cut -d' ' -f1)

start_pxed() {
	local t0=$EPOCHREALTIME
	lab_pxed serve --listen "$SERVER" --tftp-root "$ROOT" --tftp-port 69 --http-root "$ROOT" \
		--http-port 8080 --no-dhcp --state-dir "$LAB_TMP/state"
	lab_wait_port udp 69 3 && lab_wait_port tcp 8080 3 || {
		not_ok "pxed (PID $LAB_PXED_PID) did not listen on UDP 69 and TCP 8080 within 3 s"
		lab_fail "$(tail -n5 "$LAB_TMP/pxed.log" | tr '\n' ' ')"
	}
	LISTEN_S=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
}

# restart HOW: stop pxed (SIGKILL or SIGTERM, by PID), check its status, start it
# again at once; checks that it listens again within 3 s.
restart() {
	local how=$1 rc=0 want
	if [ "$how" = KILL ]; then
		kill -KILL "$LAB_PXED_PID"
		wait "$LAB_PXED_PID" 2>/dev/null || rc=$?
		lab_untrack_pid "$LAB_PXED_PID"
		LAB_PXED_PID=
		want=137
	else
		lab_kill_pxed 10 || rc=$?
		want=0
	fi
	[ "$rc" = "$want" ] || not_ok "SIG$how: pxed's status is $rc, not $want"
	start_pxed
	if grep -qiE 'address already in use|cannot bind' "$LAB_TMP/pxed.log"; then
		not_ok "after SIG$how: a bind error in the log: $(grep -m1 -iE 'address already in use|cannot bind' "$LAB_TMP/pxed.log")"
	else
		ok "after SIG$how: the new pxed listens again on UDP 69 and TCP 8080 in $LISTEN_S s"
	fi
}

# wait_bytes FILE MIN MAX_S: until FILE has at least MIN bytes; 1 after MAX_S seconds.
wait_bytes() {
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		[ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

# The client loops, in the client namespace. Each prints one line per attempt,
# "attempt N STATUS BYTES [HTTP_CODE]", and "done N" or "failed".
# shellcheck disable=SC2016
TFTP_CLIENT='
url=$1 out=$2 attempts=$3
for ((n = 1; n <= attempts; n++)); do
	rc=0
	rm -f "$out"
	curl -sS --tftp-blksize 1428 --connect-timeout 3 --max-time 25 -o "$out" "$url" || rc=$?
	echo "attempt $n $rc $(stat -c %s "$out" 2>/dev/null || echo 0)"
	[ "$rc" = 0 ] && { echo "done $n"; exit 0; }
	sleep 0.5
done
echo failed
exit 1
'
# shellcheck disable=SC2016
HTTP_CLIENT='
url=$1 out=$2 attempts=$3
resume=(-C -)
rm -f "$out"
for ((n = 1; n <= attempts; n++)); do
	rc=0
	code=$(curl -sS --limit-rate 4M --connect-timeout 3 --max-time 30 "${resume[@]}" \
		-w "%{http_code}" -o "$out" "$url") || rc=$?
	echo "attempt $n $rc $(stat -c %s "$out" 2>/dev/null || echo 0) $code"
	[ "$rc" = 0 ] && { echo "done $n"; exit 0; }
	if [ "$rc" = 33 ]; then
		# The server ignored the range (answered 200): start over, without -C -.
		echo "no-range"
		resume=()
		rm -f "$out"
	fi
	sleep 0.5
done
echo failed
exit 1
'

# download PROTO HOW: a download over PROTO (tftp, http) with a restart by SIG<HOW>
# once a fifth of the file has arrived.
download() {
	local proto=$1 how=$2 out=$LAB_TMP/out/$1-$2.bin log=$LAB_TMP/client-$1-$2.txt script pid rc=0 got
	script=$TFTP_CLIENT
	[ "$proto" = http ] && script=$HTTP_CLIENT
	ip netns exec "$CLI_NS" setpriv --pdeathsig TERM -- bash -c "$script" client \
		"$proto://$SERVER:$([ "$proto" = http ] && echo 8080 || echo 69)/big.bin" "$out" \
		"$ATTEMPTS" </dev/null >"$log" 2>&1 &
	pid=$!
	lab_track_pid "$pid"
	if wait_bytes "$out" $((SIZE / 5)) 30; then
		local at
		at=$(stat -c %s "$out")
		if [ "$at" -ge "$SIZE" ]; then
			not_ok "$proto: the download ended before the restart (too fast to test)"
		else
			lab_log "$proto: SIG$how at $at of $SIZE bytes"
		fi
		restart "$how"
	else
		not_ok "$proto: a fifth of the file did not arrive within 30 s: $(tr '\n' ' ' <"$log")"
	fi
	lab_wait_exit "$pid" 150 || rc=$?
	sed 's/^/#   client: /' "$log"
	got=$(sha256sum <"$out" 2>/dev/null | cut -d' ' -f1 || true)
	if [ "$rc" = 0 ] && [ "$got" = "$WANT" ]; then
		ok "$proto, pxed restarted by SIG$how mid-transfer: the client ends with the exact file in $(sed -n 's/^done //p' "$log") attempts (sha256)"
	else
		not_ok "$proto, SIG$how: the client ended with status $rc, sha256 ${got:0:16} (want ${WANT:0:16}): $(tr '\n' ' ' <"$log")"
	fi
	if [ "$proto" = tftp ]; then
		[ "$(sed -n 's/^done //p' "$log")" -ge 2 ] 2>/dev/null && ok "tftp, SIG$how: the restart cut the first attempt; a new RRQ fetched the file" ||
			not_ok "tftp, SIG$how: the first attempt was not cut by the restart"
	elif grep -q '^no-range' "$log"; then
		not_ok "http, SIG$how: pxed ignored the Range request (200): the client had to fetch the whole file again"
	else
		awk '$1 == "attempt" && $2 > 1 && $5 == 206 { f = 1 } END { exit !f }' "$log" &&
			ok "http, SIG$how: the client resumed with a Range request (206)" ||
			not_ok "http, SIG$how: no resumed attempt (206) in: $(tr '\n' ' ' <"$log")"
	fi
}

start_pxed
ok "pxed listens on UDP 69 and TCP 8080 in $LISTEN_S s"
download tftp KILL
download tftp TERM
download http KILL
download http TERM
rc=0
lab_kill_pxed 10 || rc=$?
[ "$rc" = 0 ] && ok "SIGTERM: pxed exited with status 0" || not_ok "SIGTERM at the end: status $rc"

echo "# $(awk -v a="$t_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
