#!/usr/bin/env bash
# bench/http/run.sh [BUILD_DIR] [--quick]: the HTTP benchmark (issue 5). pxed and nginx serve
# the same file (1 GiB of random bytes) and build/bench/http-loadgen downloads it from each:
#
#   c1    one connection, BENCH_HTTP_REPEAT GETs of the file one after the other on it
#         (keep-alive); the median GET counts
#   c10   10 connections at once, one GET each (not in the default points)
#   c100  100 connections at once, one GET each: 100 GiB in all; all bytes over all time
#
# Each point is run BENCH_HTTP_ROUNDS times, alternating between the servers (c1: pxed,
# nginx, pxed, nginx, ...; then c100 the same way), each server started afresh for each run,
# so that a machine that gets busier or quieter during the run weighs on both alike. A
# server's figure at a point is that of its median round by speed; its CPU per GiB is that of
# all its rounds together. Before the points, one GET from each server is verified: every body
# byte compared with the file and checksummed (http-loadgen --verify). The timed GETs check
# the status, Content-Length and the number of body bytes, and discard the body in the kernel
# (recv with MSG_TRUNC) so that the client costs little. Each connection comes from an address
# of its own, 127.1.0.1 + i on the namespace's loopback, as from a rack of machines: pxed
# serves at most 32 connections from one address by default (http.max_connections_per_client).
#
# Reported per point and server: MiB/s, the server's CPU seconds per GiB sent, failed GETs,
# p50 and p99 of the GETs' latency; then pxed/nginx for speed (target: at least 0.90) and for
# CPU per GiB. Notes flag what makes a figure suspect: a client busy over 90% of the time
# ("client-bound?"), and other processes' share of the CPUs during the point.
#
# Fair: both servers are one process serving (nginx: worker_processes 1, its idle master
# beside it), pinned to CPU 0 with taskset, the client on CPU 1; both send the file with
# sendfile(2) from the page cache, keep connections alive and log each request (nginx its
# access log, pxed its transfer event). nginx's configuration is generated here: sendfile
# on, tcp_nopush on, keepalive, and nginx's defaults otherwise (sendfile_max_chunk 2m).
#
# Network: one namespace made by tests/e2e/lib.sh (octet 80: br0 10.77.80.1/24, no traffic),
# removed on every exit; both servers listen on 127.0.0.1 there.
#
# CPU time: a cgroup of ours (cgroup v2 cpu.stat, or v1 cpuacct) holds the server and what it
# forks (nginx's worker); without one, utime+stime+cutime+cstime of /proc/PID/stat.
#
# Environment:
#   BENCH_HTTP_SERVERS     servers (default "pxed nginx")
#   BENCH_HTTP_POINTS      points (default "c1 c100"; also c10)
#   BENCH_HTTP_MIB         size of the file in MiB (default 1024; --quick: 64)
#   BENCH_HTTP_REPEAT      GETs in a row at c1 (default 5): the median counts (MiB/s), the CPU
#                          time is that of them all
#   BENCH_HTTP_ROUNDS      runs of each point per server, alternating (default 3)
#   BENCH_HTTP_MAX_SECONDS bound on each point (default 600): what is left fails
#   BENCH_HTTP_OUT         file to write every result line to (optional)
#   PXED_KEEP_LOGS=1       keep the servers' logs (the path is printed)
# Options: --quick (a 64 MiB file).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$ROOT/build
QUICK=0
for a in "$@"; do
	case "$a" in
	--quick) QUICK=1 ;;
	-*)
		echo "usage: bench/http/run.sh [BUILD_DIR] [--quick]" >&2
		exit 2
		;;
	*) BUILD=$a ;;
	esac
done
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
export PXED=${PXED:-$BUILD/pxed}
LOADGEN=${LOADGEN:-$BUILD/bench/http-loadgen}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
SERVERS=${BENCH_HTTP_SERVERS:-pxed nginx}
POINTS=${BENCH_HTTP_POINTS:-c1 c100}
FILE_MIB=${BENCH_HTTP_MIB:-$([ "$QUICK" = 1 ] && echo 64 || echo 1024)}
MAX_SECONDS=${BENCH_HTTP_MAX_SECONDS:-600}
REPEAT=${BENCH_HTTP_REPEAT:-5}
ROUNDS=${BENCH_HTTP_ROUNDS:-3}
OUT_FILE=${BENCH_HTTP_OUT:-}
OCTET=80

# Each point: connections, GETs per connection (R = REPEAT).
declare -A POINT=([c1]="1 R" [c10]="10 1" [c100]="100 1")
declare -A PORT=([pxed]=8080 [nginx]=8081)

for v in FILE_MIB MAX_SECONDS REPEAT ROUNDS; do
	[[ "${!v}" =~ ^[1-9][0-9]*$ ]] || {
		echo "bench/http: $v must be a positive whole number, got '${!v}'" >&2
		exit 2
	}
done
for p in $POINTS; do
	[ -n "${POINT[$p]:-}" ] || {
		echo "bench/http: unknown point '$p' (c1 c10 c100)" >&2
		exit 2
	}
done
for s in $SERVERS; do
	[ -n "${PORT[$s]:-}" ] || {
		echo "bench/http: unknown server '$s' (pxed nginx)" >&2
		exit 2
	}
done
[ "$(id -u)" -eq 0 ] || {
	echo "bench/http: needs root (network namespaces, cgroups)" >&2
	exit 1
}

bash "$ROOT/scripts/deps.sh" --bench
[ -x "$LOADGEN" ] || {
	echo "bench/http: $LOADGEN not built (ninja -C $BUILD)" >&2
	exit 1
}

# Server on CPU 0, client on CPU 1; one CPU: both on it, and the figures say less.
SERVER_CPU=0
CLIENT_CPU=1
if [ "$(nproc)" -lt 2 ]; then CLIENT_CPU=0; fi

# shellcheck source=../../tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"
lab_setup pxed-bench-http "$OCTET"
NS=$LAB_NS
SRV_ROOT=$LAB_TMP/root
mkdir -p "$SRV_ROOT"
# nginx's worker runs as nobody: it must reach and read the file.
chmod 755 "$LAB_TMP" "$SRV_ROOT"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# ---- CPU accounting ------------------------------------------------------------------------

CG= # the cgroup directory, its kind in CG_KIND (v2 or v1)
CG_KIND=proc
cg_setup() {
	local base kind
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		base=/sys/fs/cgroup kind=v2
	elif [ -f /sys/fs/cgroup/unified/cgroup.controllers ]; then
		base=/sys/fs/cgroup/unified kind=v2
	elif [ -f /sys/fs/cgroup/cpuacct/cpuacct.usage ]; then
		base=/sys/fs/cgroup/cpuacct kind=v1
	elif [ -f /sys/fs/cgroup/cpu,cpuacct/cpuacct.usage ]; then
		base=/sys/fs/cgroup/cpu,cpuacct kind=v1
	else
		return 0
	fi
	mkdir "$base/pxed-bench-http.$$" 2>/dev/null || return 0
	CG=$base/pxed-bench-http.$$ CG_KIND=$kind
}
cg_remove() {
	[ -n "$CG" ] && [ -d "$CG" ] || return 0
	local i
	for ((i = 0; i < 50; i++)); do
		rmdir "$CG" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "# bench/http: could not remove cgroup $CG" >&2
}
cg_setup
# lab_setup's traps run lab_cleanup, which stops every server; the cgroup goes after it.
trap 'lab_cleanup; cg_remove' EXIT

CLK_TCK=$(getconf CLK_TCK)
# cpu_seconds PID: CPU seconds of the server (and everything it forked) so far.
cpu_seconds() {
	case "$CG_KIND" in
	v2) awk '$1 == "usage_usec" { printf "%.6f\n", $2 / 1e6 }' "$CG/cpu.stat" ;;
	v1) awk '{ printf "%.6f\n", $1 / 1e9 }' "$CG/cpuacct.usage" ;;
	*) sed 's/^.*) //' "/proc/$1/stat" | awk -v t="$CLK_TCK" '{ printf "%.6f\n", ($12 + $13 + $14 + $15) / t }' ;;
	esac
}

# busy_seconds: CPU seconds all CPUs have spent busy since boot (/proc/stat), less those of
# the ksoftirqd threads, which carry our own packets when softirqs pile up. The machine may
# be shared: what neither the server nor the client used during a point went to others.
busy_seconds() {
	local k=0 pid
	for pid in $(pgrep -x 'ksoftirqd/[0-9]+' || true); do
		k=$((k + $(sed 's/^.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }')))
	done
	awk -v t="$CLK_TCK" -v k="$k" \
		'$1 == "cpu" { printf "%.2f\n", ($2 + $3 + $4 + $7 + $8 + $9 - k) / t }' /proc/stat
}
BUSY_MAX=0 # the highest share of the machine others took during a point, in percent

# ---- the servers ---------------------------------------------------------------------------

SERVER_PID=
SERVER_LOG=
declare -A CMDLINE=()

# nginx_conf DIR: nginx's configuration, everything it writes kept in DIR.
nginx_conf() {
	local d=$1
	cat <<EOF
# Generated by bench/http/run.sh: one worker, the file sent with sendfile.
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log;
events {
	worker_connections 4096;
}
http {
	access_log $d/access.log;
	client_body_temp_path $d/body;
	proxy_temp_path $d/proxy;
	fastcgi_temp_path $d/fastcgi;
	uwsgi_temp_path $d/uwsgi;
	scgi_temp_path $d/scgi;
	default_type application/octet-stream;
	sendfile on;
	tcp_nopush on;
	keepalive_timeout 65;
	keepalive_requests 10000;
	server {
		listen 127.0.0.1:${PORT[nginx]};
		root $SRV_ROOT;
	}
}
EOF
}

server_cmd() {
	local s=$1 state=$LAB_TMP/$1
	case "$s" in
	pxed)
		echo "$PXED" serve --listen 127.0.0.1 --http-root "$SRV_ROOT" \
			--http-port "${PORT[pxed]}" --tftp-port 6981 --state-dir "$state"
		;;
	nginx)
		nginx_conf "$state" >"$state/nginx.conf"
		echo "$NGINX" -c "$state/nginx.conf" -p "$state/" -e "$state/error.log"
		;;
	esac
}

# start_server NAME: the server in NS, on SERVER_CPU, in the cgroup, listening.
start_server() {
	local s=$1 i cmd
	mkdir -p "$LAB_TMP/$s"
	SERVER_LOG=$LAB_TMP/$s.log
	cmd=$(server_cmd "$s")
	CMDLINE[$s]=$cmd
	# Into the cgroup first: `ip netns exec` mounts a sysfs of the namespace over /sys.
	# shellcheck disable=SC2086 # the command line is word-split on purpose (no spaces in paths)
	bash -c '[ -z "$1" ] || echo $$ >"$1/cgroup.procs"; shift; exec "$@"' - "$CG" \
		ip netns exec "$NS" setpriv --pdeathsig TERM -- taskset -c "$SERVER_CPU" $cmd \
		</dev/null >>"$SERVER_LOG" 2>&1 &
	SERVER_PID=$!
	lab_track_pid "$SERVER_PID"
	for ((i = 0; i < 100; i++)); do
		ip netns exec "$NS" ss -H -lnt "sport = :${PORT[$s]}" 2>/dev/null | grep -q . && return 0
		lab_alive "$SERVER_PID" || break
		sleep 0.1
	done
	tail -n 20 "$SERVER_LOG" "$LAB_TMP/$s"/*.log 2>/dev/null | sed 's/^/# /'
	lab_log "$s did not listen on TCP ${PORT[$s]}: skipped"
	stop_server
	return 1
}

stop_server() {
	[ -n "$SERVER_PID" ] || return 0
	# nginx's master stops its worker on SIGTERM ("fast shutdown") and waits for it.
	lab_stop_pid "$SERVER_PID" 10 || true
	SERVER_PID=
}

# ---- points --------------------------------------------------------------------------------

declare -A RES=() # "server/point/key" -> value

note() { RES[$1/$2/note]="${RES[$1/$2/note]:+${RES[$1/$2/note]}; }$3"; }

# loadgen SERVER LABEL ARGS...: http-loadgen against SERVER on CLIENT_CPU, bounded; its
# result line in LG_LINE (empty if none), its status in LG_RC.
loadgen() {
	local s=$1 label=$2 pid
	shift 2
	LG_RC=0
	ip netns exec "$NS" taskset -c "$CLIENT_CPU" timeout -k 5 $((MAX_SECONDS + 30)) \
		"$LOADGEN" --server "127.0.0.1:${PORT[$s]}" --path /big --local "$SRV_ROOT/big" \
		--source 127.1.0.1 --duration "$MAX_SECONDS" --label "$label" "$@" \
		</dev/null >"$LAB_TMP/loadgen.out" 2>"$LAB_TMP/loadgen.err" &
	pid=$!
	lab_track_pid "$pid"
	wait "$pid" || LG_RC=$?
	lab_untrack_pid "$pid"
	grep -v '^http-loadgen: further' "$LAB_TMP/loadgen.err" | head -n 4 | sed 's/^/#   /'
	LG_LINE=$(grep -m1 '^server=' "$LAB_TMP/loadgen.out" || true)
}

# verify SERVER: one GET whose every byte is compared with the file; 1 if it was not right.
verify() {
	local s=$1 kv
	declare -A v=()
	loadgen "$s" "$s/verify" --verify --timeout-ms 60000
	for kv in $LG_LINE; do v[${kv%%=*}]=${kv#*=}; done
	if [ "${v[ok]:-0}" = 1 ] && [ "${v[verified]:-0}" = 1 ] &&
		[ "${v[body_fnv1a]}" = "${v[file_fnv1a]}" ]; then
		lab_log "$s: one GET verified byte for byte, FNV-1a ${v[body_fnv1a]} (the file's)"
		RES[$s/verified]=1
		return 0
	fi
	lab_log "$s: the verified GET FAILED (status $LG_RC): ${LG_LINE:-no result}"
	RES[$s/verified]=0
	return 1
}

# judge SERVER POINT: notes on what makes the figures suspect.
judge() {
	local s=$1 p=$2
	# The client busy nearly all the time: it, not the server, may have set the pace.
	if awk -v c="${RES[$s/$p/client_cpu_s]:-0}" -v t="${RES[$s/$p/secs]}" \
		'BEGIN { exit !(t > 0.5 && c > 0.9 * t) }'; then
		note "$s" "$p" "client-bound?"
	fi
	if [ "${RES[$s/$p/others_pct]}" -gt 10 ]; then
		note "$s" "$p" "others took ${RES[$s/$p/others_pct]}% of the CPUs"
	fi
	[ "${RES[$s/$p/others_pct]}" -le "$BUSY_MAX" ] || BUSY_MAX=${RES[$s/$p/others_pct]}
}

# run_point SERVER POINT ROUND: one run of the load generator; records its figures, the
# server's CPU time and what other processes took of the machine meanwhile, as the results of
# the point "POINT#ROUND".
run_point() {
	local s=$1 p=$2#$3 conns reqs c0 c1 b0 b1 t0 t1 kv line
	read -r conns reqs <<<"${POINT[$2]}"
	[ "$reqs" != R ] || reqs=$REPEAT
	c0=$(cpu_seconds "$SERVER_PID") b0=$(busy_seconds) t0=$(date +%s.%N)
	loadgen "$s" "$s/$2/$3" --connections "$conns" --requests "$reqs"
	# Let the server finish its last writes and log lines before the count.
	sleep 0.3
	c1=$(cpu_seconds "$SERVER_PID") b1=$(busy_seconds) t1=$(date +%s.%N)
	[ -n "$LG_LINE" ] || {
		lab_log "$s/$p: the load generator printed no result (status $LG_RC)"
		RES[$s/$p/na]="no result"
		return 0
	}
	line=$LG_LINE
	for kv in $line; do RES[$s/$p/${kv%%=*}]=${kv#*=}; done
	# One connection: the speed of the median GET; several: all bytes over all time.
	RES[$s/$p/speed]=${RES[$s/$p/mib_s]}
	if [ "$conns" -eq 1 ] && [ "${RES[$s/$p/ok]}" -gt 0 ]; then
		RES[$s/$p/speed]=$(awk -v b="${RES[$s/$p/size]}" -v ms="${RES[$s/$p/p50_ms]}" \
			'BEGIN { printf "%.3f", (ms > 0 ? b / 1048576 / (ms / 1000) : 0) }')
	fi
	RES[$s/$p/cpu_s]=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.3f", b - a }')
	RES[$s/$p/cpu_gib]=$(awk -v c="${RES[$s/$p/cpu_s]}" -v b="${RES[$s/$p/bytes]}" \
		'BEGIN { if (b > 0) printf "%.3f", c / (b / 1073741824); else print "-" }')
	RES[$s/$p/others_pct]=$(awk -v b="$(awk -v x="$b0" -v y="$b1" 'BEGIN { print y - x }')" \
		-v c="${RES[$s/$p/cpu_s]}" -v l="${RES[$s/$p/client_cpu_s]}" -v t0="$t0" -v t1="$t1" \
		-v n="$(nproc)" 'BEGIN { o = (b - c - l) / ((t1 - t0) * n) * 100; printf "%d", (o > 0 ? o : 0) }')
	judge "$s" "$p"
	line+=" point=$2 round=$3 speed_mib_s=${RES[$s/$p/speed]} cpu_s=${RES[$s/$p/cpu_s]}"
	line+=" cpu_s_gib=${RES[$s/$p/cpu_gib]} cpu_from=$CG_KIND others_pct=${RES[$s/$p/others_pct]}"
	echo "$line"
	[ -z "$OUT_FILE" ] || echo "$line" >>"$OUT_FILE"
}

# run SERVER POINT ROUND: the server started afresh for the run, and stopped after it.
run() {
	local s=$1 p=$2#$3
	start_server "$s" || {
		RES[$s/$p/na]="did not start"
		return 0
	}
	run_point "$s" "$2" "$3"
	if ! lab_alive "$SERVER_PID"; then
		lab_log "$s died at point $p (log: $SERVER_LOG)"
		note "$s" "$p" "server died"
		tail -n 10 "$SERVER_LOG" | sed 's/^/# /'
	fi
	stop_server
}

# aggregate SERVER POINT: the point's figures from its rounds: those of the median round by
# speed (a round that failed a GET or has no result counts as the slowest), with the CPU time,
# bytes and failures of all rounds; the speeds of all rounds in RES[SERVER/POINT/rounds].
aggregate() {
	local s=$1 p=$2 r k m speeds='' cpu=0 bytes=0 failed=0 ok=0
	local -a order
	for ((r = 1; r <= ROUNDS; r++)); do
		k=$s/$p#$r
		if ! usable "$s" "$p#$r"; then
			speeds+=" -"
			failed=$((failed + ${RES[$k/failed]:-0}))
			echo "0 $r"
			continue
		fi
		speeds+=" ${RES[$k/speed]%.*}"
		cpu=$(awk -v a="$cpu" -v b="${RES[$k/cpu_s]}" 'BEGIN { print a + b }')
		bytes=$((bytes + RES[$k/bytes])) failed=$((failed + RES[$k/failed])) ok=$((ok + RES[$k/ok]))
		[ "${RES[$k/failed]}" -gt 0 ] && echo "0 $r" || echo "${RES[$k/speed]} $r"
	done >"$LAB_TMP/rounds"
	mapfile -t order < <(sort -g "$LAB_TMP/rounds" | awk '{ print $2 }')
	m=${order[$((ROUNDS / 2))]}
	for k in speed p50_ms p99_ms na note others_pct; do
		[ -z "${RES[$s/$p#$m/$k]:-}" ] || RES[$s/$p/$k]=${RES[$s/$p#$m/$k]}
	done
	RES[$s/$p/rounds]=${speeds# }
	RES[$s/$p/ok]=$ok RES[$s/$p/failed]=$failed RES[$s/$p/bytes]=$bytes
	RES[$s/$p/cpu_gib]=$(awk -v c="$cpu" -v b="$bytes" \
		'BEGIN { if (b > 0) printf "%.3f", c / (b / 1073741824); else print "-" }')
	if [ "$ok" -eq 0 ] && [ -z "${RES[$s/$p/na]:-}" ]; then RES[$s/$p/na]="every GET failed"; fi
}

# ---- the report ----------------------------------------------------------------------------

usable() { [ -z "${RES[$1/$2/na]:-}" ] && [ "${RES[$1/$2/ok]:-0}" -gt 0 ]; }

# cell SERVER POINT: MiB/s, CPU s/GiB, failed GETs, p50 and p99 ms, notes; or n/a and why.
cell() {
	local s=$1 p=$2
	if [ -n "${RES[$s/$p/na]:-}" ]; then
		printf '%s' "n/a (${RES[$s/$p/na]})"
	elif [ -z "${RES[$s/$p/speed]:-}" ]; then
		printf '%s' "-"
	else
		printf '%9.1f %7s %4s %9.1f %9.1f  %-16s %s' "${RES[$s/$p/speed]}" \
			"${RES[$s/$p/cpu_gib]}" "${RES[$s/$p/failed]}" "${RES[$s/$p/p50_ms]}" \
			"${RES[$s/$p/p99_ms]}" "${RES[$s/$p/rounds]// //}" "${RES[$s/$p/note]:-}"
	fi
}

# ratios POINT: pxed against nginx, speed and CPU per GiB.
ratios() {
	local p=$1
	if ! usable pxed "$p" || ! usable nginx "$p"; then
		echo "$p: no ratio (a server has no figure)"
		return 0
	fi
	awk -v a="${RES[pxed/$p/speed]}" -v b="${RES[nginx/$p/speed]}" \
		-v c="${RES[pxed/$p/cpu_gib]}" -v d="${RES[nginx/$p/cpu_gib]}" \
		-v f="${RES[pxed/$p/failed]}" -v p="$p" 'BEGIN {
			printf "%s: speed pxed/nginx %.2f [%s]; CPU per GiB pxed/nginx %.2f%s\n", p,
				a / b, (a >= 0.9 * b && f == 0 ? "ok" : "MISS"), (d > 0 ? c / d : 0),
				(f > 0 ? "; pxed failed " f " GETs" : "")
		}'
}

print_table() {
	local p s conns reqs
	echo
	echo "HTTP benchmark: a ${FILE_MIB} MiB file. Per server: MiB/s (one connection: of the median"
	echo "GET; several: all bytes over all time), the server's CPU seconds per GiB sent (from"
	echo "$CG_KIND), failed GETs, and the milliseconds of the median and p99 GET; the median of"
	echo "$ROUNDS rounds, alternating between the servers (the MiB/s of each round beside it)."
	for p in $POINTS; do
		read -r conns reqs <<<"${POINT[$p]}"
		[ "$reqs" != R ] || reqs=$REPEAT
		echo
		echo "$p ($conns connection(s) at once, $reqs GET(s) on each, keep-alive; $ROUNDS rounds)"
		printf '  %-6s %9s %7s %4s %9s %9s  %-16s %s\n' server MiB/s cpu/GiB fail p50_ms p99_ms \
			"rounds' MiB/s" "(the median round's notes)"
		for s in $SERVERS; do
			printf '  %-6s %s\n' "$s" "$(cell "$s" "$p")"
		done
	done
	echo
	echo "Verified GETs (every byte compared with the file):"
	for s in $SERVERS; do echo "  $s: $([ "${RES[$s/verified]:-0}" = 1 ] && echo ok || echo FAILED)"; done
	echo
	echo "Command lines (each server on CPU $SERVER_CPU, in namespace $NS; the client on CPU $CLIENT_CPU):"
	for s in $SERVERS; do [ -z "${CMDLINE[$s]:-}" ] || echo "  $s: ${CMDLINE[$s]}"; done
	if [ "$BUSY_MAX" -gt 10 ]; then
		echo
		echo "WARNING: other processes kept the machine up to ${BUSY_MAX}% busy: the figures are low"
		echo "and uneven; run again on a quiet machine."
	fi
	[[ " $SERVERS " == *" pxed "* && " $SERVERS " == *" nginx "* ]] || return 0
	echo
	echo "pxed against nginx (target: speed >= 0.90 x nginx, no failed GET):"
	for p in $POINTS; do ratios "$p"; done
}

# ---- main ----------------------------------------------------------------------------------

lab_log "HTTP benchmark: points $POINTS; servers $SERVERS; file $FILE_MIB MiB; $REPEAT GETs at c1; $ROUNDS rounds"
lab_log "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
lab_log "server on CPU $SERVER_CPU, client on CPU $CLIENT_CPU; CPU time from: $CG_KIND${CG:+ ($CG)}; $("$NGINX" -v 2>&1)"
head -c "$((FILE_MIB * 1048576))" /dev/urandom >"$SRV_ROOT/big"
chmod 644 "$SRV_ROOT/big"
cat "$SRV_ROOT/big" >/dev/null # into the page cache for every server alike
[ -z "$OUT_FILE" ] || : >"$OUT_FILE"

# Exit status 1 when a server did not start or served wrong bytes; failed GETs and missed
# targets are results, in the report (make bench goes on to the next benchmark).
failed=0
for s in $SERVERS; do
	start_server "$s" || {
		failed=1
		continue
	}
	verify "$s" || failed=1
	stop_server
done
for p in $POINTS; do
	for ((r = 1; r <= ROUNDS; r++)); do
		for s in $SERVERS; do run "$s" "$p" "$r"; done
	done
	for s in $SERVERS; do aggregate "$s" "$p"; done
done
print_table
lab_log "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); took ${SECONDS} s"
exit "$failed"
