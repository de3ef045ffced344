#!/usr/bin/env bash
# bench/dhcp/run.sh [BUILD_DIR]: the DHCP benchmark (issue 3). pxed, dnsmasq and Kea each
# serve the same relayed /15 with a PXE boot file and durable leases; build/bench/dhcp-loadgen
# plays a relay agent in front of BENCH_DHCP_CLIENTS PXE clients (DISCOVER, OFFER, REQUEST,
# ACK) at each concurrency, every run from an empty lease store. Prints one result line per
# run, a table, the ratio pxed / best of the others, and pxed's resident memory after
# BENCH_DHCP_MEM_LEASES leases.
#
# Network (namespaces made by tests/e2e/lib.sh, removed on every exit):
#   pxed-bench-dhcp        br0 10.77.240.1/24: the server; route to 10.80.0.0/15 via .2
#   pxed-bench-dhcp-relay  eth0 10.77.240.2/24, and 10.80.0.1 (the relay, giaddr) on lo
#
# Environment:
#   BENCH_DHCP_CLIENTS      clients per run (default 50000; e.g. 2000 for a quick run)
#   BENCH_DHCP_CONCURRENCY  concurrencies (default "1 16 256")
#   BENCH_DHCP_SERVERS      servers (default "pxed dnsmasq kea")
#   BENCH_DHCP_MEM_LEASES   leases for pxed's memory figure (default 100000; 0: skip)
#   BENCH_DHCP_MAX_SECONDS  bound on each run (default 1800): what is left is "unfinished"
#   BENCH_DHCP_JSON         file to append each run's JSON result to (optional)
#   TMPDIR                  where the lease stores live (default /var/tmp: a disk, so that
#                           fsync costs what it costs in production; never tmpfs)
#   PXED_KEEP_LOGS=1        keep the servers' logs and lease stores (the path is printed)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
export PXED=${PXED:-$BUILD/pxed}
LOADGEN=${LOADGEN:-$BUILD/bench/dhcp-loadgen}
CLIENTS=${BENCH_DHCP_CLIENTS:-50000}
CONCURRENCY=${BENCH_DHCP_CONCURRENCY:-1 16 256}
SERVERS=${BENCH_DHCP_SERVERS:-pxed dnsmasq kea}
MEM_LEASES=${BENCH_DHCP_MEM_LEASES:-100000}
MAX_SECONDS=${BENCH_DHCP_MAX_SECONDS:-1800}
JSON_OUT=${BENCH_DHCP_JSON:-}
export TMPDIR=${TMPDIR:-/var/tmp}

OCTET=240
SERVER_IP=10.77.$OCTET.1
RELAY_LINK_IP=10.77.$OCTET.2
RELAY_IP=10.80.0.1 # giaddr: the relayed subnet's router
RELAY_NET=10.80.0.0/15
POOL_FIRST=10.80.1.1
POOL_LAST=10.81.255.254 # 130,814 addresses: enough for the memory run
BOOT_FILE=snponly.efi   # what pxed's default plan gives an x64 UEFI PXE client
LEASE_S=3600

for v in CLIENTS MEM_LEASES MAX_SECONDS; do
	[[ "${!v}" =~ ^[0-9]+$ ]] || {
		echo "bench/dhcp: BENCH_DHCP_$v must be a whole number, got '${!v}'" >&2
		exit 2
	}
done
# Every client needs an address of its own: stay within the pool.
if [ "$CLIENTS" -lt 1 ] || [ "$CLIENTS" -gt 130000 ] || [ "$MEM_LEASES" -gt 130000 ] ||
	[ "$MAX_SECONDS" -lt 1 ]; then
	echo "bench/dhcp: clients 1-130000, memory leases 0-130000, max seconds at least 1" >&2
	exit 2
fi
for c in $CONCURRENCY; do
	[[ "$c" =~ ^[1-9][0-9]*$ ]] || {
		echo "bench/dhcp: bad concurrency '$c'" >&2
		exit 2
	}
done
for s in $SERVERS; do
	case "$s" in pxed | dnsmasq | kea) ;; *)
		echo "bench/dhcp: unknown server '$s' (pxed, dnsmasq, kea)" >&2
		exit 2
		;;
	esac
done
[ "$(id -u)" -eq 0 ] || {
	echo "bench/dhcp: needs root (network namespaces)" >&2
	exit 1
}

bash "$ROOT/scripts/deps.sh" --bench
[ -x "$LOADGEN" ] || {
	echo "bench/dhcp: $LOADGEN not built (ninja -C $BUILD)" >&2
	exit 1
}
KEA=$(command -v kea-dhcp4 || echo /usr/sbin/kea-dhcp4)
DNSMASQ=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)

# shellcheck source=../../tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"
lab_setup pxed-bench-dhcp "$OCTET"
lab_add_host relay "$RELAY_LINK_IP/24"
RELAY_NS=$LAB_HOST_NS
ip -n "$RELAY_NS" addr add "$RELAY_IP/32" dev lo
ip -n "$LAB_NS" route add "$RELAY_NET" via "$RELAY_LINK_IP"
if [ "$(stat -f -c %T "$LAB_TMP")" = tmpfs ]; then
	lab_log "warning: $LAB_TMP is on tmpfs: fsync is free there, the figures mean little"
fi

SERVER_PID=
STATE=

# ---- the three servers, configured alike ---------------------------------------------------

start_pxed() {
	mkdir -p "$STATE/boot"
	head -c 65536 /dev/zero >"$STATE/boot/vmlinuz"
	head -c 65536 /dev/zero >"$STATE/boot/initrd.img"
	cat >"$STATE/pxed.yaml" <<-EOF
		interfaces: [$LAB_BR]
		dhcp:
		  mode: server
		  lease_time: ${LEASE_S}s
		  # One relay carries every client here: the per-relay limit and the brief offers
		  # of a new-client flood would measure pxed's flood defence, not its speed.
		  rate_per_source: 0
		  new_client_rate: 0
		state_dir: $STATE/db
		subnets:
		  - subnet: $RELAY_NET
		    pool: $POOL_FIRST-$POOL_LAST
		    router: $RELAY_IP
		profiles:
		  bench:
		    kernel: $STATE/boot/vmlinuz
		    initrd: $STATE/boot/initrd.img
		    cmdline: console=ttyS0
		default_profile: bench
	EOF
	ip netns exec "$LAB_NS" setpriv --pdeathsig TERM -- "$PXED" serve --config "$STATE/pxed.yaml" \
		</dev/null >"$STATE/pxed.log" 2>&1 &
	SERVER_PID=$!
}

start_dnsmasq() {
	# dnsmasq rewrites its whole lease file and fsyncs it after each change (lease.c).
	ip netns exec "$LAB_NS" setpriv --pdeathsig TERM -- "$DNSMASQ" --no-daemon \
		--conf-file=/dev/null --port=0 --no-resolv --no-hosts --pid-file= \
		--interface="$LAB_BR" --bind-interfaces --user=root --group=root \
		--dhcp-range="$POOL_FIRST,$POOL_LAST,255.254.0.0,${LEASE_S}s" \
		--dhcp-option=option:router,"$RELAY_IP" \
		--dhcp-leasefile="$STATE/dnsmasq.leases" --dhcp-lease-max=200000 \
		--dhcp-authoritative --no-ping \
		--dhcp-vendorclass=set:pxe,PXEClient --dhcp-boot=tag:pxe,"$BOOT_FILE",,"$SERVER_IP" \
		--log-facility="$STATE/dnsmasq.log" </dev/null >"$STATE/dnsmasq.out" 2>&1 &
	SERVER_PID=$!
}

start_kea() {
	mkdir -p "$STATE/run"
	cat >"$STATE/kea-dhcp4.json" <<-EOF
		{ "Dhcp4": {
		  "interfaces-config": { "interfaces": [ "$LAB_BR" ], "dhcp-socket-type": "udp" },
		  "lease-database": { "type": "memfile", "persist": true,
		                      "name": "$STATE/kea-leases4.csv" },
		  "valid-lifetime": $LEASE_S,
		  "authoritative": true,
		  "client-classes": [ { "name": "pxe",
		    "test": "substring(option[60].hex,0,9) == 'PXEClient'",
		    "next-server": "$SERVER_IP", "boot-file-name": "$BOOT_FILE" } ],
		  "subnet4": [ { "id": 1, "subnet": "$RELAY_NET",
		    "pools": [ { "pool": "$POOL_FIRST - $POOL_LAST" } ],
		    "option-data": [ { "name": "routers", "data": "$RELAY_IP" } ] } ],
		  "loggers": [ { "name": "kea-dhcp4", "severity": "INFO",
		    "output_options": [ { "output": "$STATE/kea.log" } ] } ]
		} }
	EOF
	KEA_LOCKFILE_DIR=$STATE/run KEA_PIDFILE_DIR=$STATE/run \
		ip netns exec "$LAB_NS" setpriv --pdeathsig TERM -- "$KEA" -c "$STATE/kea-dhcp4.json" \
		</dev/null >"$STATE/kea.out" 2>&1 &
	SERVER_PID=$!
}

# Leases the server wrote to its store (read after it stopped).
stored_leases() {
	case "$1" in
	pxed) sqlite3 "$STATE/db/pxed.db" 'SELECT count(*) FROM leases' 2>/dev/null || echo '?' ;;
	dnsmasq) wc -l <"$STATE/dnsmasq.leases" 2>/dev/null || echo '?' ;;
	# memfile appends a row per change; count distinct addresses, header excluded.
	kea) tail -n +2 "$STATE/kea-leases4.csv" 2>/dev/null | cut -d, -f1 | sort -u | wc -l ;;
	esac
}

# start_server NAME RUN_ID: a fresh state directory and the server in LAB_NS, listening.
start_server() {
	local name=$1 i
	STATE=$LAB_TMP/$name-$2
	rm -rf "$STATE"
	mkdir -p "$STATE"
	"start_$name"
	lab_track_pid "$SERVER_PID"
	for ((i = 0; i < 100; i++)); do
		ip netns exec "$LAB_NS" ss -H -lnu 'sport = :67' 2>/dev/null | grep -q . && return 0
		lab_alive "$SERVER_PID" || break
		sleep 0.1
	done
	tail -n 20 "$STATE"/*.log "$STATE"/*.out 2>/dev/null | sed 's/^/# /'
	lab_fail "$name did not listen on UDP 67"
}

stop_server() {
	lab_stop_pid "$SERVER_PID" 10 || true
	SERVER_PID=
}

# ---- runs ----------------------------------------------------------------------------------

declare -A RES=() # "server/concurrency/key" -> value

# loadgen NAME CLIENTS CONCURRENCY MAC_PREFIX: one run; sets OUT to the load generator's
# output. It runs in the background so that a signal reaches the traps at once (bash runs a
# trap only after the foreground command ends); cleanup kills it with the relay namespace.
OUT=
loadgen() {
	local pid rc=0
	ip netns exec "$RELAY_NS" timeout -k 5 $((MAX_SECONDS + 60)) "$LOADGEN" \
		--relay "$RELAY_IP" --server "$SERVER_IP" --label "$1" --clients "$2" \
		--concurrency "$3" --mac-prefix "$4" --max-seconds "$MAX_SECONDS" --json --progress \
		</dev/null >"$LAB_TMP/loadgen.out" &
	pid=$!
	lab_track_pid "$pid"
	wait "$pid" || rc=$?
	lab_untrack_pid "$pid"
	OUT=$(cat "$LAB_TMP/loadgen.out")
	[ "$rc" -eq 0 ] || lab_log "loadgen failed with status $rc ($1, concurrency $3)"
}

# record NAME CONCURRENCY OUTPUT: keeps the key=value pairs of the result line.
record() {
	local kv line
	line=$(grep -m1 '^server=' <<<"$3") || return 0
	for kv in $line; do RES[$1/$2/${kv%%=*}]=${kv#*=}; done
	if [ -n "$JSON_OUT" ]; then grep -m1 '^{' <<<"$3" >>"$JSON_OUT" || true; fi
}

# Datagrams the kernel dropped because a UDP socket's receive buffer in NS was full
# (/proc/net/snmp is per namespace): requests the server never saw, replies the relay lost.
# shellcheck disable=SC2016 # awk program
udp_rcvbuf_errors() {
	ip netns exec "$1" awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "RcvbufErrors") c = i; h = 1 } else print $c }' /proc/net/snmp
}

run_one() {
	local name=$1 conc=$2 prefix=$3 out d0 r0
	start_server "$name" "c$conc"
	d0=$(udp_rcvbuf_errors "$LAB_NS")
	r0=$(udp_rcvbuf_errors "$RELAY_NS")
	loadgen "$name" "$CLIENTS" "$conc" "$prefix"
	out=$OUT
	RES[$name/$conc/srv_drops]=$(($(udp_rcvbuf_errors "$LAB_NS") - d0))
	RES[$name/$conc/relay_drops]=$(($(udp_rcvbuf_errors "$RELAY_NS") - r0))
	lab_alive "$SERVER_PID" || lab_log "$name died during the run (see $STATE)"
	stop_server
	record "$name" "$conc" "$out"
	RES[$name/$conc/stored]=$(stored_leases "$name")
	grep -m1 '^server=' <<<"$out" |
		sed "s/\$/ stored=${RES[$name/$conc/stored]} server_rcvbuf_drops=${RES[$name/$conc/srv_drops]} relay_rcvbuf_drops=${RES[$name/$conc/relay_drops]}/" || true
}

memory_run() {
	local out rss hwm
	start_server pxed mem
	loadgen pxed "$MEM_LEASES" 256 200
	out=$OUT
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo '?')
	hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo '?')
	stop_server
	grep -m1 '^server=' <<<"$out" || true
	MEM_LINE="pxed resident memory after $(sed -n 's/.* completed=\([0-9]*\).*/\1/p' <<<"$out") leases: VmRSS ${rss} kB (peak VmHWM ${hwm} kB); $(du -sk "$STATE/db" | cut -f1) kB on disk; stored=$(stored_leases pxed)"
}

print_table() {
	local s c best bname r
	echo
	printf '%-8s %5s %9s %5s %5s %6s %10s %9s %9s %7s %8s %8s\n' server conc completed lost \
		naks unfin exch/s p50_ms p99_ms retrans drops stored
	for s in $SERVERS; do
		for c in $CONCURRENCY; do
			printf '%-8s %5s %9s %5s %5s %6s %10s %9s %9s %7s %8s %8s\n' "$s" "$c" \
				"${RES[$s/$c/completed]:-?}" "${RES[$s/$c/lost]:-?}" \
				"${RES[$s/$c/naks]:-?}" "${RES[$s/$c/unfinished]:-?}" \
				"${RES[$s/$c/rate]:-?}" "${RES[$s/$c/p50_ms]:-?}" \
				"${RES[$s/$c/p99_ms]:-?}" "${RES[$s/$c/retransmits]:-?}" \
				"${RES[$s/$c/srv_drops]:-?}" "${RES[$s/$c/stored]:-?}"
		done
	done
	echo "(retrans: messages the relay sent again after 1 s; drops: datagrams the kernel dropped"
	echo " at the server's full socket buffer; stored: leases in the store after the run)"
	[[ " $SERVERS " == *" pxed "* ]] || return 0
	echo
	for c in $CONCURRENCY; do
		best=0 bname=
		for s in $SERVERS; do
			[ "$s" = pxed ] && continue
			r=${RES[$s/$c/rate]:-0}
			if awk -v a="$r" -v b="$best" 'BEGIN { exit !(a > b) }'; then
				best=$r bname=$s
			fi
		done
		[ -n "$bname" ] || continue
		awk -v p="${RES[pxed/$c/rate]:-0}" -v b="$best" -v c="$c" -v n="$bname" \
			'BEGIN { printf "concurrency %s: pxed / best of the others (%s) = %.2f\n", c, n, p / b }'
	done
}

lab_log "DHCP benchmark: $CLIENTS clients, concurrency $CONCURRENCY, servers $SERVERS"
lab_log "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
prefix=0
for s in $SERVERS; do
	for c in $CONCURRENCY; do
		run_one "$s" "$c" "$prefix"
		prefix=$((prefix + 1))
	done
done
MEM_LINE=
if [ "$MEM_LEASES" -gt 0 ] && [[ " $SERVERS " == *" pxed "* ]]; then
	memory_run
fi
print_table
[ -z "$MEM_LINE" ] || echo "$MEM_LINE"
lab_log "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
