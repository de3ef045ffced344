#!/usr/bin/env bash
# bench/tftp/run.sh [BUILD_DIR]: the TFTP benchmark (issue 4). pxed, dnsmasq, tftp-hpa and
# atftpd serve the same files one after the other, with the raw-UDP ceiling of
# build/bench/tftp-loadgen --raw-server beside them, and build/bench/tftp-loadgen reads from
# each at every point:
#
#   ws1 ws8 ws16 ws64  one read of the big file (200 MiB) at blksize 1468, windowsize 1
#                      (lockstep: the option is not asked, every server does it), 8, 16, 64
#   b8192 b65464       one read at blksize 8192 and 65464, lockstep
#   b8192w16 b65464w16 the same with windowsize 16
#   storm200 storm1000 200 and 1000 clients at once, each from its own address, each reading
#                      the small file (1 MiB) once at blksize 1468 without windowsize (as
#                      iPXE and most ROMs do)
#
# Every read asks tsize and checks it, and every byte is compared with the file on disk. A
# server that leaves an option asked out of its OACK is "n/a" at that point (tftp-loadgen
# --strict ends the read at once). Reported per point and server: MiB/s, the server's CPU
# seconds per GiB sent, failed reads, p99 latency (storms); then pxed against the best peer,
# the most frugal peer and the raw-UDP ceiling, with the issue's targets. Notes flag what
# makes a figure suspect: datagrams dropped at full socket buffers, RRQs or ACKs sent again,
# a client busy over 90% of the time ("client-bound?": it may have set the pace), and other
# processes' share of the CPUs during the point (the machine may be shared).
#
# Network: one namespace made by tests/e2e/lib.sh (removed on every exit); every server
# listens on 127.0.0.1 there, dnsmasq on port 69 (its TFTP port cannot be changed), the
# others on ports of their own. The namespace's br0 (10.77.241.1/24, no traffic) is there
# because in.tftpd resolves its --address with AI_ADDRCONFIG, which wants a configured
# address other than loopback. Server on CPU 0, client on CPU 1 (taskset).
#
# CPU time: a cgroup of ours (cgroup v2 cpu.stat, or v1 cpuacct) holds the server running
# and every process it forks, so in.tftpd's children count although it reaps them by ignoring
# SIGCHLD (which leaves them out of its cutime). Without a cgroup: utime+stime+cutime+cstime
# of /proc/PID/stat, which covers every thread, and the children that were waited for.
#
# Environment:
#   BENCH_TFTP_SERVERS     servers (default "pxed dnsmasq tftp-hpa atftpd raw")
#   BENCH_TFTP_POINTS      points (default: all of the above, in that order)
#   BENCH_TFTP_BIG_MIB     size of the big file in MiB (default 200; --quick: 20)
#   BENCH_TFTP_ROUNDS      times the whole sweep (every server, every point) is run (default
#                          3; --quick: 1). Each round runs every server, so a machine whose
#                          speed drifts (a VM's neighbours) slows them alike; the report gives
#                          per point and server the median of the rounds (MiB/s, CPU s/GiB,
#                          ms), the most failed reads of any round, and the range of MiB/s
#   BENCH_TFTP_REPEAT      reads in a row at each single-read point but ws1 (default 3): the
#                          median counts (MiB/s), the CPU time is that of them all
#   BENCH_TFTP_MAX_SECONDS bound on each point (default 120): what is left fails
#   BENCH_TFTP_OUT         file to write every result line to (optional)
#   PXED_KEEP_LOGS=1       keep the servers' logs (the path is printed)
# Options: --quick (a 20 MiB big file).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$ROOT/build
QUICK=0
for a in "$@"; do
	case "$a" in
	--quick) QUICK=1 ;;
	-*)
		echo "usage: bench/tftp/run.sh [BUILD_DIR] [--quick]" >&2
		exit 2
		;;
	*) BUILD=$a ;;
	esac
done
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
export PXED=${PXED:-$BUILD/pxed}
LOADGEN=${LOADGEN:-$BUILD/bench/tftp-loadgen}
SERVERS=${BENCH_TFTP_SERVERS:-pxed dnsmasq tftp-hpa atftpd raw}
ALL_POINTS="ws1 ws8 ws16 ws64 b8192 b8192w16 b65464 b65464w16 storm200 storm1000"
POINTS=${BENCH_TFTP_POINTS:-$ALL_POINTS}
BIG_MIB=${BENCH_TFTP_BIG_MIB:-$([ "$QUICK" = 1 ] && echo 20 || echo 200)}
MAX_SECONDS=${BENCH_TFTP_MAX_SECONDS:-120}
REPEAT=${BENCH_TFTP_REPEAT:-3}
ROUNDS=${BENCH_TFTP_ROUNDS:-$([ "$QUICK" = 1 ] && echo 1 || echo 3)}
OUT_FILE=${BENCH_TFTP_OUT:-}
OCTET=241
PEERS="dnsmasq tftp-hpa atftpd"

# Each point: file, blksize, windowsize (- = not asked), concurrency, and reads in all: a
# single read is made REPEAT times and the median counts, except the lockstep one at 1468,
# which takes long enough alone (10 s or more for 200 MiB).
declare -A POINT=(
	[ws1]="big 1468 - 1 1" [ws8]="big 1468 8 1 R" [ws16]="big 1468 16 1 R"
	[ws64]="big 1468 64 1 R" [b8192]="big 8192 - 1 R" [b8192w16]="big 8192 16 1 R"
	[b65464]="big 65464 - 1 R" [b65464w16]="big 65464 16 1 R"
	[storm200]="small 1468 - 200 200" [storm1000]="small 1468 - 1000 1000"
)
# Each server: its port on 127.0.0.1 (dnsmasq's TFTP port is 69, fixed at compile time).
declare -A PORT=([pxed]=6901 [dnsmasq]=69 [tftp-hpa]=6902 [atftpd]=6903 [raw]=6904)

for v in BIG_MIB MAX_SECONDS REPEAT ROUNDS; do
	[[ "${!v}" =~ ^[1-9][0-9]*$ ]] || {
		echo "bench/tftp: $v must be a positive whole number, got '${!v}'" >&2
		exit 2
	}
done
for p in $POINTS; do
	[ -n "${POINT[$p]:-}" ] || {
		echo "bench/tftp: unknown point '$p' ($ALL_POINTS)" >&2
		exit 2
	}
done
for s in $SERVERS; do
	[ -n "${PORT[$s]:-}" ] || {
		echo "bench/tftp: unknown server '$s' (pxed dnsmasq tftp-hpa atftpd raw)" >&2
		exit 2
	}
done
[ "$(id -u)" -eq 0 ] || {
	echo "bench/tftp: needs root (network namespaces, cgroups)" >&2
	exit 1
}

bash "$ROOT/scripts/deps.sh" --bench
[ -x "$LOADGEN" ] || {
	echo "bench/tftp: $LOADGEN not built (ninja -C $BUILD)" >&2
	exit 1
}
DNSMASQ=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
INTFTPD=/usr/sbin/in.tftpd
# scripts/deps.sh unpacks atftpd there: its package conflicts with tftpd-hpa's.
ATFTPD=/opt/pxed-bench/atftpd/usr/sbin/atftpd
[ -x "$ATFTPD" ] || ATFTPD=$(command -v atftpd || echo "$ATFTPD")

# Server on CPU 0, client on CPU 1; one CPU: both on it, and the figures say less.
SERVER_CPU=0
CLIENT_CPU=1
if [ "$(nproc)" -lt 2 ]; then CLIENT_CPU=0; fi

# shellcheck source=../../tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"
lab_setup pxed-bench-tftp "$OCTET"
NS=$LAB_NS
SRV_ROOT=$LAB_TMP/root
mkdir -p "$SRV_ROOT"
chmod 755 "$LAB_TMP" "$SRV_ROOT"
# Servers that drop to nobody must read the files, and 1000 clients need 1000 sockets.
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
	mkdir "$base/pxed-bench-tftp.$$" 2>/dev/null || return 0
	CG=$base/pxed-bench-tftp.$$ CG_KIND=$kind
}
cg_remove() {
	[ -n "$CG" ] && [ -d "$CG" ] || return 0
	local i
	for ((i = 0; i < 50; i++)); do
		rmdir "$CG" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "# bench/tftp: could not remove cgroup $CG" >&2
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
# the ksoftirqd threads, which carry our own packets when softirqs pile up. The machine is
# shared: what neither the server nor the client used during a point went to others.
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

server_cmd() {
	local s=$1 port=${PORT[$1]} state=$LAB_TMP/$1
	case "$s" in
	pxed)
		echo "$PXED" serve --listen 127.0.0.1 --tftp-root "$SRV_ROOT" --tftp-port "$port" \
			--http-port 6980 --state-dir "$state"
		;;
	dnsmasq)
		# --edns-packet-max sizes dnsmasq's packet buffer, which caps blksize (at 2263
		# with the default of 1232); --tftp-max lifts the default of 50 transfers.
		echo "$DNSMASQ" --keep-in-foreground --conf-file=/dev/null --port=0 --pid-file= \
			--user=root --group=root --enable-tftp --tftp-root="$SRV_ROOT" \
			--tftp-max=2000 --edns-packet-max=65535 --log-facility="$state/dnsmasq.log"
		;;
	tftp-hpa)
		echo "$INTFTPD" --foreground --address "127.0.0.1:$port" --secure --user root \
			"$SRV_ROOT"
		;;
	atftpd)
		# --maxthread: a thread per read, 100 at most by default. Its select() aborts
		# on a descriptor past FD_SETSIZE (1024): start_server keeps its limit there.
		echo "$ATFTPD" --daemon --no-fork --port "$port" --bind-address 127.0.0.1 \
			--maxthread 2000 --user root.root --logfile "$state/atftpd.log" "$SRV_ROOT"
		;;
	raw)
		echo "$LOADGEN" --raw-server "127.0.0.1:$port" --local "$SRV_ROOT/big" --duration 86400
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
	lab_log "$s: taskset -c $SERVER_CPU $cmd"
	local nofile=65536
	[ "$s" != atftpd ] || nofile=1024
	# Into the cgroup first: `ip netns exec` mounts a sysfs of the namespace over /sys.
	# shellcheck disable=SC2086 # the command line is word-split on purpose (no spaces in paths)
	bash -c '[ -z "$1" ] || echo $$ >"$1/cgroup.procs"; ulimit -n "$2"; shift 2; exec "$@"' - "$CG" "$nofile" \
		ip netns exec "$NS" setpriv --pdeathsig TERM -- taskset -c "$SERVER_CPU" $cmd \
		</dev/null >"$SERVER_LOG" 2>&1 &
	SERVER_PID=$!
	lab_track_pid "$SERVER_PID"
	for ((i = 0; i < 100; i++)); do
		ip netns exec "$NS" ss -H -lnu "sport = :${PORT[$s]}" 2>/dev/null | grep -q . && return 0
		lab_alive "$SERVER_PID" || break
		sleep 0.1
	done
	tail -n 20 "$SERVER_LOG" "$LAB_TMP/$s"/*.log 2>/dev/null | sed 's/^/# /'
	lab_log "$s did not listen on UDP ${PORT[$s]}: skipped"
	stop_server
	return 1
}

stop_server() {
	[ -n "$SERVER_PID" ] || return 0
	lab_stop_pid "$SERVER_PID" 10 || true
	SERVER_PID=
	cg_empty
}

# cg_empty: what a stopped server left in the cgroup (in.tftpd's children go on sending to
# clients long gone) is killed by PID, so that it does not take the CPUs from the next server
# (it took up to 40% of them in the rounds after tftp-hpa's storms).
cg_empty() {
	[ -n "$CG" ] || return 0
	local i pids='' f=$CG/cgroup.procs
	[ -f "$f" ] || f=$CG/tasks
	for ((i = 0; i < 50; i++)); do
		pids=$(cat "$f" 2>/dev/null || true)
		[ -n "$pids" ] || return 0
		[ "$i" -gt 0 ] || lab_log "killing $(wc -w <<<"$pids") process(es) the server left behind"
		# shellcheck disable=SC2086 # one PID per word
		kill -KILL $pids 2>/dev/null || true
		sleep 0.1
	done
	lab_log "processes still in $CG: $pids"
}

# ---- points --------------------------------------------------------------------------------

declare -A RES=() # "server/point/key" -> value (this round's; the combined ones at the end)
declare -A ALL=() # "server/point/key" -> every round's values, or their sum or maximum

# loadgen_args SERVER POINT: the load generator's command line for a point.
loadgen_args() {
	local s=$1 p=$2 file blk ws conc reads
	read -r file blk ws conc reads <<<"${POINT[$p]}"
	[ "$reads" != R ] || reads=$REPEAT
	echo --server "127.0.0.1:${PORT[$s]}" --file "$file" --local "$SRV_ROOT/$file" \
		--blksize "$blk" --tsize --strict --concurrency "$conc" --transfers "$reads" \
		--source 127.1.0.1 --duration "$MAX_SECONDS" --label "$s/$p"
	[ "$ws" = - ] || echo --windowsize "$ws"
}

# rcvbuf_errors: UDP datagrams the kernel dropped at a full socket buffer in NS (the
# counters are per namespace): RRQs a server's listening socket had no room for, mostly.
# shellcheck disable=SC2016 # awk program
rcvbuf_errors() {
	ip netns exec "$NS" awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "RcvbufErrors") c = i; h = 1 } else print $c }' /proc/net/snmp
}

# judge POINT SERVER: n/a when the server left out an option asked (--strict ended the
# read at once) or agreed to a smaller blksize; a note when it agreed to a smaller window.
judge() {
	local p=$1 s=$2 blk ws
	read -r _ blk ws _ _ <<<"${POINT[$p]}"
	if [ "${RES[$s/$p/fail_refused]:-0}" -gt 0 ]; then
		if [ "${RES[$s/$p/ws_refused]:-0}" -gt 0 ]; then
			RES[$s/$p/na]="no windowsize in OACK"
		else
			RES[$s/$p/na]="no blksize in OACK"
		fi
	elif [ "${RES[$s/$p/ok]}" -gt 0 ] && [ "${RES[$s/$p/blksize]}" != "$blk" ]; then
		RES[$s/$p/na]="blksize ${RES[$s/$p/blksize]} agreed"
	elif [ "$ws" != - ] && [ "${RES[$s/$p/ok]}" -gt 0 ] && [ "${RES[$s/$p/windowsize]}" != "$ws" ]; then
		RES[$s/$p/ws_agreed]=${RES[$s/$p/windowsize]}
	fi
}

# keep SERVER POINT: adds this round's figures to those of the earlier rounds.
keep() {
	local s=$1 p=$2 k
	[ -z "${RES[$s/$p/na]:-}" ] && [ -n "${RES[$s/$p/mib_s]:-}" ] || return 0
	for k in mib_s cpu_gib p50_ms p99_ms; do ALL[$s/$p/$k]+=" ${RES[$s/$p/$k]}"; done
	for k in client_cpu_s secs rcvbuf_drops retransmits; do
		ALL[$s/$p/$k]=$(awk -v a="${ALL[$s/$p/$k]:-0}" -v b="${RES[$s/$p/$k]:-0}" 'BEGIN { print a + b }')
	done
	[ "${RES[$s/$p/failed]}" -le "${ALL[$s/$p/failed]:-0}" ] || ALL[$s/$p/failed]=${RES[$s/$p/failed]}
	[ "${RES[$s/$p/others_pct]}" -le "${ALL[$s/$p/others_pct]:-0}" ] ||
		ALL[$s/$p/others_pct]=${RES[$s/$p/others_pct]}
	ALL[$s/$p/rounds]=$((${ALL[$s/$p/rounds]:-0} + 1))
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "%.3f\n", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# combine SERVER POINT: the rounds' figures into one (medians, the worst failure count),
# and the notes that make a figure suspect.
combine() {
	local s=$1 p=$2 k lo hi
	[ -n "${ALL[$s/$p/rounds]:-}" ] || return 0
	for k in mib_s cpu_gib p50_ms p99_ms; do RES[$s/$p/$k]=$(median <<<"${ALL[$s/$p/$k]}"); done
	for k in failed others_pct rcvbuf_drops retransmits; do RES[$s/$p/$k]=${ALL[$s/$p/$k]:-0}; done
	if [ "${ALL[$s/$p/rounds]}" -gt 1 ]; then
		read -r lo hi < <(tr ' ' '\n' <<<"${ALL[$s/$p/mib_s]}" | grep . | sort -g | awk 'NR == 1 { l = $1 } { h = $1 } END { printf "%.0f %.0f\n", l, h }')
		note "$s" "$p" "rounds $lo-$hi MiB/s"
	fi
	[ -z "${RES[$s/$p/ws_agreed]:-}" ] || note "$s" "$p" "windowsize ${RES[$s/$p/ws_agreed]} agreed"
	# The client busy nearly all the time: it, not the server, may have set the pace.
	if awk -v c="${ALL[$s/$p/client_cpu_s]:-0}" -v t="${ALL[$s/$p/secs]:-0}" \
		'BEGIN { exit !(t > 0.5 && c > 0.9 * t) }'; then
		note "$s" "$p" "client-bound?"
	fi
	if [ "${RES[$s/$p/rcvbuf_drops]}" -gt 0 ]; then
		note "$s" "$p" "${RES[$s/$p/rcvbuf_drops]} dropped at full socket buffers"
	fi
	if [ "${RES[$s/$p/retransmits]}" -gt 0 ]; then
		note "$s" "$p" "${RES[$s/$p/retransmits]} sent again"
	fi
	if [ "${RES[$s/$p/others_pct]}" -gt 10 ]; then
		note "$s" "$p" "others took up to ${RES[$s/$p/others_pct]}% of the CPUs"
	fi
	[ "${RES[$s/$p/others_pct]}" -le "$BUSY_MAX" ] || BUSY_MAX=${RES[$s/$p/others_pct]}
}

note() { RES[$1/$2/note]="${RES[$1/$2/note]:+${RES[$1/$2/note]}; }$3"; }

# run_point SERVER POINT: one run of the load generator; records its figures, the server's
# CPU time and what other processes took of the machine meanwhile.
run_point() {
	local s=$1 p=$2 file conc c0 c1 b0 b1 t0 t1 d0 out rc=0 kv line pid
	local -a args
	read -r file _ _ conc _ <<<"${POINT[$p]}"
	mapfile -t args < <(loadgen_args "$s" "$p" | tr ' ' '\n')
	d0=$(rcvbuf_errors)
	c0=$(cpu_seconds "$SERVER_PID") b0=$(busy_seconds) t0=$(date +%s.%N)
	ip netns exec "$NS" taskset -c "$CLIENT_CPU" timeout -k 5 $((MAX_SECONDS + 30)) \
		"$LOADGEN" "${args[@]}" </dev/null >"$LAB_TMP/loadgen.out" 2>"$LAB_TMP/loadgen.err" &
	pid=$!
	lab_track_pid "$pid"
	wait "$pid" || rc=$?
	lab_untrack_pid "$pid"
	# Let forked children and threads finish their last packet before the count.
	sleep 0.3
	c1=$(cpu_seconds "$SERVER_PID") b1=$(busy_seconds) t1=$(date +%s.%N)
	RES[$s/$p/rcvbuf_drops]=$(($(rcvbuf_errors) - d0))
	out=$(cat "$LAB_TMP/loadgen.out")
	grep -v '^tftp-loadgen: further' "$LAB_TMP/loadgen.err" | head -n 4 | sed 's/^/#   /'
	line=$(grep -m1 '^server=' <<<"$out") || {
		lab_log "$s/$p: the load generator printed no result (status $rc)"
		RES[$s/$p/na]="no result"
		return 0
	}
	for kv in $line; do RES[$s/$p/${kv%%=*}]=${kv#*=}; done
	# A single read's speed is that of the median one; a storm's is all bytes over all time.
	if [ "$conc" -eq 1 ] && [ "${RES[$s/$p/ok]}" -gt 0 ]; then
		RES[$s/$p/mib_s]=$(awk -v b="${RES[$s/$p/bytes]}" -v n="${RES[$s/$p/ok]}" \
			-v ms="${RES[$s/$p/p50_ms]}" 'BEGIN { printf "%.3f", (ms > 0 ? b / n / 1048576 / (ms / 1000) : 0) }')
	fi
	RES[$s/$p/cpu_s]=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.3f", b - a }')
	RES[$s/$p/cpu_gib]=$(awk -v c="${RES[$s/$p/cpu_s]}" -v b="${RES[$s/$p/bytes]}" \
		'BEGIN { if (b > 0) printf "%.3f", c / (b / 1073741824); else print "-" }')
	RES[$s/$p/others_pct]=$(awk -v b="$(awk -v x="$b0" -v y="$b1" 'BEGIN { print y - x }')" \
		-v c="${RES[$s/$p/cpu_s]}" -v l="${RES[$s/$p/client_cpu_s]}" -v t0="$t0" -v t1="$t1" \
		-v n="$(nproc)" 'BEGIN { o = (b - c - l) / ((t1 - t0) * n) * 100; printf "%d", (o > 0 ? o : 0) }')
	judge "$p" "$s"
	keep "$s" "$p"
	line="$line round=$ROUND point=$p median_mib_s=${RES[$s/$p/mib_s]} cpu_s=${RES[$s/$p/cpu_s]}"
	line+=" cpu_s_gib=${RES[$s/$p/cpu_gib]} cpu_from=$CG_KIND others_pct=${RES[$s/$p/others_pct]}"
	line+=" rcvbuf_drops=${RES[$s/$p/rcvbuf_drops]}"
	echo "$line"
	[ -z "$OUT_FILE" ] || echo "$line" >>"$OUT_FILE"
}

run_server() {
	local s=$1 p file
	start_server "$s" || return 0
	for p in $POINTS; do
		read -r file _ _ _ _ <<<"${POINT[$p]}"
		if [ "$s" = raw ] && [ "$file" != big ]; then
			RES[$s/$p/na]="one read at a time"
			continue
		fi
		run_point "$s" "$p"
		if ! lab_alive "$SERVER_PID"; then
			lab_log "$s died at point $p (log: $SERVER_LOG)"
			note "$s" "$p" "server died"
			tail -n 10 "$SERVER_LOG" | sed 's/^/# /'
			start_server "$s" || return 0
		fi
	done
	stop_server
}

# ---- the report ----------------------------------------------------------------------------

# cell SERVER POINT: MiB/s, CPU s/GiB, failed reads, ms (a storm's p99, a single read's
# median) and notes; or n/a and why.
cell() {
	local s=$1 p=$2 ms
	if [ -n "${RES[$s/$p/na]:-}" ]; then
		printf '%s' "n/a (${RES[$s/$p/na]})"
	elif [ -z "${RES[$s/$p/mib_s]:-}" ]; then
		printf '%s' "-"
	else
		ms=${RES[$s/$p/p50_ms]}
		[[ "$p" != storm* ]] || ms=${RES[$s/$p/p99_ms]}
		printf '%8.1f %7s %4s %9.1f %s' "${RES[$s/$p/mib_s]}" "${RES[$s/$p/cpu_gib]}" \
			"${RES[$s/$p/failed]}" "$ms" "${RES[$s/$p/note]:-}"
	fi
}

usable() { [ -z "${RES[$1/$2/na]:-}" ] && [ -n "${RES[$1/$2/mib_s]:-}" ] && [ "${RES[$1/$2/ok]:-0}" -gt 0 ]; }

# ratios POINT: pxed against the best and most frugal peer, and the raw ceiling.
ratios() {
	local p=$1 s best=0 bname='' frugal='' fname='' p99best='' pname='' line
	usable pxed "$p" || {
		echo "$p: pxed has no figure"
		return 0
	}
	for s in $PEERS; do
		if [[ " $SERVERS " != *" $s "* ]] || ! usable "$s" "$p"; then continue; fi
		if awk -v a="${RES[$s/$p/mib_s]}" -v b="$best" 'BEGIN { exit !(a > b) }'; then
			best=${RES[$s/$p/mib_s]} bname=$s
		fi
		if [ -z "$frugal" ] || awk -v a="${RES[$s/$p/cpu_gib]}" -v b="$frugal" 'BEGIN { exit !(a < b) }'; then
			frugal=${RES[$s/$p/cpu_gib]} fname=$s
		fi
		if [ "${RES[$s/$p/failed]}" -eq 0 ] && { [ -z "$p99best" ] ||
			awk -v a="${RES[$s/$p/p99_ms]}" -v b="$p99best" 'BEGIN { exit !(a < b) }'; }; then
			p99best=${RES[$s/$p/p99_ms]} pname=$s
		fi
	done
	line="$p:"
	if [ -n "$bname" ]; then
		line+=$(awk -v a="${RES[pxed/$p/mib_s]}" -v b="$best" -v n="$bname" \
			'BEGIN { printf " speed pxed/best(%s) %.2f [%s]", n, a / b, (a >= b ? "ok" : "MISS") }')
		line+=$(awk -v a="${RES[pxed/$p/cpu_gib]}" -v b="$frugal" -v n="$fname" \
			'BEGIN { printf "; cpu pxed/frugal(%s) %.2f [%s]", n, (b > 0 ? a / b : 0), (a <= b / 2 ? "ok" : "MISS") }')
	fi
	if [[ "$p" == ws* || "$p" == b* ]] && usable raw "$p"; then
		# The 90 % target is for windowed reads; lockstep ones get the ratio alone.
		read -r _ _ ws _ _ <<<"${POINT[$p]}"
		line+=$(awk -v a="${RES[pxed/$p/mib_s]}" -v b="${RES[raw/$p/mib_s]}" -v w="$ws" \
			'BEGIN { t = ""; if (w != "-") t = a >= 0.9 * b ? " [ok]" : " [MISS]"
				 printf "; pxed/raw %.2f%s", a / b, t }')
	fi
	if [[ "$p" == storm* ]]; then
		line+="; pxed failed ${RES[pxed/$p/failed]}"
		[ "${RES[pxed/$p/failed]}" -eq 0 ] && line+=" [ok]" || line+=" [MISS]"
		if [ -n "$pname" ]; then
			line+=$(awk -v a="${RES[pxed/$p/p99_ms]}" -v b="$p99best" -v n="$pname" \
				'BEGIN { printf ", p99 pxed %.0f ms / best(%s) %.0f ms [%s]", a, n, b, (a <= b ? "ok" : "MISS") }')
		fi
	fi
	echo "$line"
}

print_table() {
	local p s
	echo
	echo "TFTP benchmark: big file ${BIG_MIB} MiB, small file 1 MiB. Per server: MiB/s, the server's"
	echo "CPU seconds per GiB sent (from $CG_KIND), failed reads, and the milliseconds of the median"
	echo "of the reads (single reads) or the p99 of all (storms); n/a: the server left the"
	echo "option asked out of its OACK. Each figure is the median of $ROUNDS round(s) of every"
	echo "server; fail is the most of any round, notes count over all rounds."
	for p in $POINTS; do
		echo
		echo "$p (${POINT[$p]}: file blksize windowsize concurrency reads; R = $REPEAT)"
		printf '  %-9s %8s %7s %4s %9s\n' server MiB/s cpu/GiB fail \
			"$([[ "$p" == storm* ]] && echo p99_ms || echo ms)"
		for s in $SERVERS; do
			printf '  %-9s %s\n' "$s" "$(cell "$s" "$p")"
		done
	done
	echo
	echo "Command lines (each server on CPU $SERVER_CPU, in namespace $NS):"
	for s in $SERVERS; do [ -z "${CMDLINE[$s]:-}" ] || echo "  $s: ${CMDLINE[$s]}"; done
	if [ "$BUSY_MAX" -gt 10 ]; then
		echo
		echo "WARNING: other processes kept the machine up to ${BUSY_MAX}% busy: the figures are low"
		echo "and uneven; run again on a quiet machine."
	fi
	[[ " $SERVERS " == *" pxed "* ]] || return 0
	echo
	echo "pxed against the others (targets: speed >= 1.00 x best peer, CPU <= 0.50 x most frugal"
	echo "peer, windowed >= 0.90 x raw ceiling, storms: no failure and p99 <= best peer's):"
	for p in $POINTS; do ratios "$p"; done
}

# ---- main ----------------------------------------------------------------------------------

lab_log "TFTP benchmark: points $POINTS; servers $SERVERS; big file $BIG_MIB MiB; $ROUNDS round(s)"
lab_log "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
lab_log "server on CPU $SERVER_CPU, client on CPU $CLIENT_CPU; CPU time from: $CG_KIND${CG:+ ($CG)}"
head -c "$((BIG_MIB * 1048576))" /dev/urandom >"$SRV_ROOT/big"
head -c 1048576 /dev/urandom >"$SRV_ROOT/small"
chmod 644 "$SRV_ROOT/big" "$SRV_ROOT/small"
cat "$SRV_ROOT/big" "$SRV_ROOT/small" >/dev/null # into the page cache for every server alike
[ -z "$OUT_FILE" ] || : >"$OUT_FILE"

for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
	[ "$ROUNDS" -eq 1 ] || lab_log "round $ROUND of $ROUNDS"
	for s in $SERVERS; do run_server "$s"; done
done
for p in $POINTS; do for s in $SERVERS; do combine "$s" "$p"; done; done
print_table
lab_log "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); took ${SECONDS} s"
