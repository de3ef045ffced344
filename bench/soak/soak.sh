#!/usr/bin/env bash
# bench/soak/soak.sh [BUILD_DIR]: the soak test (`make soak`, issue 7; not part of `make test`
# nor of `make bench`, which runs bench/*/run.sh only). One pxed serves a moderate mix of
# DHCP, TFTP and HTTP for SOAK_MINUTES (default 30), in rounds, from three load loops:
#
#   dhcp   build/bench/dhcp-loadgen as a relay agent: the same SOAK_DHCP_CLIENTS PXE clients
#          (default 150, one MAC each) do DISCOVER-OFFER-REQUEST-ACK again every second, as
#          machines that reboot (their lease is found again); every exchange must end in an
#          ACK (no loss, no NAK, none unfinished)
#   churn  build/tests/dhcp-probe, one client every 2 s out of 32 MACs in turn (02:79:...): DORA
#          (broadcast), a RENEWING REQUEST (unicast, ciaddr: must be ACKed with the same
#          address), then a RELEASE: leases are made, renewed and freed all along
#   tftp   build/bench/tftp-loadgen: SOAK_TFTP_CONC (default 4) reads at once of a 4 MiB
#          file (blksize 1468, tsize), every byte compared with the file, then a 2 s pause
#   http   build/bench/http-loadgen --verify: SOAK_HTTP_CONC (default 4) keep-alive
#          connections, 2 GETs each of a 16 MiB file, every byte compared, then a 2 s pause
#
# Every 10 s it samples pxed's VmRSS, VmHWM, threads and open descriptors (/proc/PID) and
# the error counters of /metrics into OUT/samples.csv. At the end it fails (exit 1, and says
# why) when:
#   - a client operation failed (a DHCP exchange without ACK, a renewal not ACKed, a TFTP or
#     HTTP read that failed or whose bytes differ from the file);
#   - pxed died, or logged an error or a seccomp refusal;
#   - an error counter of /metrics grew: pxed_errors_total, pxed_dhcp_store_failures_total,
#     pxed_http_errors_total, pxed_tftp_errors_sent_total, malformed DHCP packets;
#   - pxed holds more descriptors idle after the load than idle before it;
#   - resident memory grew after warm-up: the warm-up is the first 20% of the run (at least
#     30 s); of the samples under load after it, the median VmRSS of the last quarter may
#     exceed that of the first quarter by SOAK_RSS_TOLERANCE_KB at most (default 2048: 2 MiB).
#     Medians, because a sample taken during transfers holds their buffers (several MiB
#     more than between rounds); the least-squares slope is reported beside them.
# It prints a summary and writes it, as a markdown table for docs/benchmarks.md, to
# OUT/summary.md.
#
# The configuration is pxed's defaults but for: new_client_rate 500 (the first round brings
# SOAK_DHCP_CLIENTS new clients at once; the default 50/s would make their offers brief, a
# flood defence this test does not measure) and lease_time 10m. rate_per_mac (20/s: a client
# sends 2 a second here) and rate_per_source (2000/s: the relay sends about 300) stay.
#
# Network: namespaces made by tests/e2e/lib.sh (removed on every exit), lab octet 120:
#   pxed-soak        br0 10.77.120.1/24: pxed (DHCP 67, TFTP 69, HTTP 8080)
#   pxed-soak-load   eth0 10.77.120.2/24: the relay (giaddr 10.77.120.2) and the TFTP and
#                    HTTP clients
#   pxed-soak-cli    eth0, no address but the one it leases for a moment: dhcp-probe
#
# Environment:
#   SOAK_MINUTES           length of the load (default 30; whole minutes)
#   SOAK_DHCP_CLIENTS      relayed clients per DHCP round (default 150, at most 200)
#   SOAK_TFTP_CONC         TFTP reads at once (default 4)
#   SOAK_HTTP_CONC         HTTP connections at once (default 4)
#   SOAK_RSS_TOLERANCE_KB  allowed RSS growth after warm-up, in kB (default 2048)
#   SOAK_OUT               output directory (default BUILD_DIR/soak-YYYYmmdd-HHMMSS)
#   SOAK_CORRUPT_REFERENCE=1  compare the TFTP reads with a copy of the file that has one
#                          byte changed: the run must fail (a check of the checks)
#   PXED_KEEP_LOGS=1       keep the lab's temp directory too (the path is printed)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
export PXED=${PXED:-$BUILD/pxed}
DHCP_LOADGEN=$BUILD/bench/dhcp-loadgen
TFTP_LOADGEN=$BUILD/bench/tftp-loadgen
HTTP_LOADGEN=$BUILD/bench/http-loadgen
PROBE=$BUILD/tests/dhcp-probe
MINUTES=${SOAK_MINUTES:-30}
DHCP_CLIENTS=${SOAK_DHCP_CLIENTS:-150}
TFTP_CONC=${SOAK_TFTP_CONC:-4}
HTTP_CONC=${SOAK_HTTP_CONC:-4}
RSS_TOL_KB=${SOAK_RSS_TOLERANCE_KB:-2048}
OUT=${SOAK_OUT:-$BUILD/soak-$(date -u +%Y%m%d-%H%M%S)}
CORRUPT=${SOAK_CORRUPT_REFERENCE:-0}
SAMPLE_S=10

OCTET=120
NET=10.77.$OCTET
SERVER=$NET.1
LOAD_IP=$NET.2
CHURN_MACS=32

for v in MINUTES DHCP_CLIENTS TFTP_CONC HTTP_CONC RSS_TOL_KB; do
	[[ "${!v}" =~ ^[1-9][0-9]*$ ]] || {
		echo "soak: $v must be a positive whole number, got '${!v}'" >&2
		exit 2
	}
done
# The pool has 231 addresses: the relayed clients and the churn's must fit in it.
[ "$DHCP_CLIENTS" -le 200 ] || {
	echo "soak: SOAK_DHCP_CLIENTS is at most 200 (the pool has 231 addresses)" >&2
	exit 2
}
[ "$(id -u)" -eq 0 ] || {
	echo "soak: needs root (network namespaces)" >&2
	exit 1
}
for b in "$PXED" "$DHCP_LOADGEN" "$TFTP_LOADGEN" "$HTTP_LOADGEN" "$PROBE"; do
	[ -x "$b" ] || {
		echo "soak: $b not built (ninja -C $BUILD)" >&2
		exit 1
	}
done
command -v curl >/dev/null || {
	echo "soak: curl is not installed (make deps)" >&2
	exit 1
}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# shellcheck source=../../tests/e2e/lib.sh
source "$ROOT/tests/e2e/lib.sh"
lab_setup pxed-soak "$OCTET"
lab_add_host load "$LOAD_IP/24"
LOAD_NS=$LAB_HOST_NS
lab_add_host cli
CLI_NS=$LAB_HOST_NS

# ---- pxed ----------------------------------------------------------------------------------

SRV_ROOT=$LAB_TMP/root
mkdir -p "$SRV_ROOT" "$LAB_TMP/boot"
head -c $((4 * 1048576)) /dev/urandom >"$SRV_ROOT/soak-tftp.bin"
head -c $((16 * 1048576)) /dev/urandom >"$SRV_ROOT/soak-http.bin"
head -c 65536 /dev/zero >"$LAB_TMP/boot/vmlinuz"
head -c 65536 /dev/zero >"$LAB_TMP/boot/initrd.img"
# pxed reads as the user pxed after start: every directory on the way 0755, files 0644.
chmod 755 "$SRV_ROOT" "$LAB_TMP/boot"
chmod 644 "$SRV_ROOT"/* "$LAB_TMP/boot"/*
TFTP_REF=$SRV_ROOT/soak-tftp.bin
if [ "$CORRUPT" = 1 ]; then
	TFTP_REF=$LAB_TMP/soak-tftp.corrupt
	cp "$SRV_ROOT/soak-tftp.bin" "$TFTP_REF"
	printf '\x5a' | dd of="$TFTP_REF" bs=1 seek=1000000 conv=notrunc status=none
	cmp -s "$TFTP_REF" "$SRV_ROOT/soak-tftp.bin" && printf '\xa5' |
		dd of="$TFTP_REF" bs=1 seek=1000000 conv=notrunc status=none
	lab_log "SOAK_CORRUPT_REFERENCE=1: TFTP reads are compared with a wrong copy: must fail"
fi

cat >"$LAB_TMP/pxed.yaml" <<EOF
interfaces: [$LAB_BR]
dhcp:
  mode: server
  lease_time: 10m
  # The first round brings SOAK_DHCP_CLIENTS new clients at once (see the header).
  new_client_rate: 500
state_dir: $LAB_TMP/state
tftp:
  root: $SRV_ROOT
http:
  root: $SRV_ROOT
  port: 8080
subnets:
  - subnet: $NET.0/24
    pool: $NET.20-$NET.250
    router: $SERVER
profiles:
  soak:
    kernel: $LAB_TMP/boot/vmlinuz
    initrd: $LAB_TMP/boot/initrd.img
    cmdline: console=ttyS0
default_profile: soak
EOF
lab_pxed serve --config "$LAB_TMP/pxed.yaml"
PID=$LAB_PXED_PID
for p in "udp 67" "udp 69" "tcp 8080"; do
	# shellcheck disable=SC2086 # "proto port"
	lab_wait_port $p 15 || lab_fail "pxed does not listen on $p (log: $LAB_TMP/pxed.log)"
done

# ---- samples -------------------------------------------------------------------------------

METRICS="pxed_errors_total pxed_dhcp_store_failures_total pxed_http_errors_total"
METRICS+=" pxed_tftp_errors_sent_total dhcp_malformed pxed_tftp_transfers_unanswered_total"
METRICS+=" pxed_http_timeouts_total pxed_dhcp_packets_dropped_total pxed_tftp_retransmits_total"

# metrics_values: the values of METRICS, space-separated, each summed over its labels
# (dhcp_malformed: pxed_dhcp_packets_dropped_total{reason="malformed"}); "?" when /metrics
# does not answer.
metrics_values() {
	local text
	text=$(ip netns exec "$LOAD_NS" curl -sS --max-time 5 "http://$SERVER:8080/metrics" 2>/dev/null) || {
		echo "$METRICS" | sed 's/[^ ]\+/?/g'
		return 0
	}
	awk -v names="$METRICS" '
		{ name = $1; sub(/\{.*/, "", name); v[name] += $NF }
		$1 ~ /^pxed_dhcp_packets_dropped_total\{/ && $1 ~ /reason="malformed"/ { v["dhcp_malformed"] += $NF }
		END { n = split(names, k, " "); for (i = 1; i <= n; i++) printf "%s%d", (i > 1 ? " " : ""), v[k[i]] + 0; print "" }
	' <<<"$text"
}

# proc_values: VmRSS kB, VmHWM kB, threads, open descriptors of pxed.
proc_values() {
	local rss hwm thr fds
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status" 2>/dev/null) || rss=
	hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$PID/status" 2>/dev/null) || hwm=
	thr=$(awk '/^Threads:/ { print $2 }' "/proc/$PID/status" 2>/dev/null) || thr=
	fds=$(find "/proc/$PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	echo "${rss:-?} ${hwm:-?} ${thr:-?} $fds"
}

T0=$(date +%s)
CSV=$OUT/samples.csv
echo "t_s,vmrss_kb,vmhwm_kb,threads,fds,${METRICS// /,}" >"$CSV"
sample() {
	local t
	t=$(($(date +%s) - T0))
	echo "$t $(proc_values) $(metrics_values)" | tr ' ' ',' >>"$CSV"
}

# ---- the load ------------------------------------------------------------------------------

END=$((T0 + MINUTES * 60))
FAILS=$OUT/failures.log
: >"$FAILS"

STOP=$LAB_TMP/stop # made when pxed dies: the loops end their round and stop
# running: the load goes on (before END, and pxed alive).
running() { [ "$(date +%s)" -lt "$END" ] && [ ! -e "$STOP" ]; }

# fail_op WHAT: a client operation that failed (the run goes on; the end fails).
fail_op() { printf '%ss %s\n' "$(($(date +%s) - T0))" "$(tr -s '\n' ' ' <<<"$*" | sed 's/ *$//')" >>"$FAILS"; }

# field KEY LINE: the value of KEY= in a key=value line (empty if absent).
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2" | head -n1; }

# pace SECONDS START: sleep what is left of SECONDS since START (epoch seconds).
pace() {
	local left=$(($2 + $1 - $(date +%s)))
	[ "$left" -le 0 ] || ! running || sleep "$left"
}

dhcp_loop() {
	local start out line
	while running; do
		start=$(date +%s)
		out=$(ip netns exec "$LOAD_NS" timeout -k 5 60 "$DHCP_LOADGEN" --relay "$LOAD_IP" \
			--server "$SERVER" --clients "$DHCP_CLIENTS" --concurrency 8 --tries 5 \
			--max-seconds 30 --mac-prefix "$OCTET" --label soak 2>&1) || true
		line=$(grep -m1 '^server=' <<<"$out") || {
			fail_op "dhcp: the load generator printed no result: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
			continue
		}
		echo "$line" >>"$OUT/dhcp.log"
		if [ "$(field completed "$line")" != "$DHCP_CLIENTS" ]; then
			fail_op "dhcp: $(field completed "$line") of $DHCP_CLIENTS exchanges ACKed: $line"
		fi
		pace 1 "$start"
	done
}

churn_loop() {
	local i=0 start mac out ip sid
	while running; do
		start=$(date +%s)
		# dhcp-loadgen's MACs are 02:78:ii:ii:ii:ii (--mac-prefix 120): 02:79 is free.
		mac=$(printf '02:79:00:00:00:%02x' $((i % CHURN_MACS)))
		i=$((i + 1))
		out=$(ip netns exec "$CLI_NS" "$PROBE" --iface eth0 --type dora --mac "$mac" 2>&1) || true
		if [ "$(field type "$out")" != ACK ]; then
			fail_op "churn: DORA for $mac: no ACK: $(tr '\n' ' ' <<<"$out")"
			echo "dora_fail" >>"$OUT/churn.log"
			pace 2 "$start"
			continue
		fi
		ip=$(sed -n 's/^yiaddr=//p' <<<"$out" | head -n1)
		sid=$(sed -n 's/^server_id=//p' <<<"$out" | head -n1)
		ip -n "$CLI_NS" addr add "$ip/24" dev eth0 || fail_op "churn: cannot add $ip to eth0"
		out=$(ip netns exec "$CLI_NS" "$PROBE" --iface eth0 --type request --mac "$mac" \
			--ciaddr "$ip" --to "$SERVER" 2>&1) || true
		if [ "$(sed -n 's/^type=//p' <<<"$out" | head -n1)" != ACK ] ||
			[ "$(sed -n 's/^yiaddr=//p' <<<"$out" | head -n1)" != "$ip" ]; then
			fail_op "churn: renewing REQUEST of $ip for $mac: $(tr '\n' ' ' <<<"$out")"
			echo "renew_fail" >>"$OUT/churn.log"
		else
			echo "dora_renew $mac $ip" >>"$OUT/churn.log"
		fi
		ip netns exec "$CLI_NS" "$PROBE" --iface eth0 --type release --mac "$mac" --ciaddr "$ip" \
			--server-id "${sid:-$SERVER}" --to "$SERVER" >/dev/null 2>&1 ||
			fail_op "churn: could not send the RELEASE of $ip"
		ip -n "$CLI_NS" addr del "$ip/24" dev eth0 || fail_op "churn: cannot remove $ip from eth0"
		pace 2 "$start"
	done
}

tftp_loop() {
	local out line
	while running; do
		out=$(ip netns exec "$LOAD_NS" timeout -k 5 120 "$TFTP_LOADGEN" --server "$SERVER:69" \
			--file soak-tftp.bin --local "$TFTP_REF" --blksize 1468 --tsize \
			--concurrency "$TFTP_CONC" --transfers "$TFTP_CONC" --duration 90 --label soak 2>&1) || true
		line=$(grep -m1 '^server=' <<<"$out") || {
			fail_op "tftp: the load generator printed no result: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
			continue
		}
		echo "$line" >>"$OUT/tftp.log"
		if [ "$(field ok "$line")" != "$TFTP_CONC" ]; then
			fail_op "tftp: $(field ok "$line") of $TFTP_CONC reads complete and equal to the file: $line $(grep -v '^server=' <<<"$out" | head -n 3 | tr '\n' ' ')"
		fi
		pace 2 "$(date +%s)"
	done
}

http_loop() {
	local out line want=$((HTTP_CONC * 2))
	while running; do
		out=$(ip netns exec "$LOAD_NS" timeout -k 5 120 "$HTTP_LOADGEN" --server "$SERVER:8080" \
			--path /soak-http.bin --local "$SRV_ROOT/soak-http.bin" --verify \
			--connections "$HTTP_CONC" --requests 2 --duration 90 --label soak 2>&1) || true
		line=$(grep -m1 '^server=' <<<"$out") || {
			fail_op "http: the load generator printed no result: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
			continue
		}
		echo "$line" >>"$OUT/http.log"
		if [ "$(field ok "$line")" != "$want" ]; then
			fail_op "http: $(field ok "$line") of $want GETs complete and equal to the file: $line $(grep -v '^server=' <<<"$out" | head -n 3 | tr '\n' ' ')"
		fi
		pace 2 "$(date +%s)"
	done
}

lab_log "soak: $MINUTES min of DHCP ($DHCP_CLIENTS relayed clients a second, a churn client every 2 s), TFTP ($TFTP_CONC x 4 MiB) and HTTP ($HTTP_CONC x 2 x 16 MiB); output in $OUT"
lab_log "machine: $(nproc) CPUs, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
sleep 1
IDLE_BEFORE=$(proc_values)
sample
declare -a WORKERS=()
for w in dhcp_loop churn_loop tftp_loop http_loop; do
	"$w" &
	WORKERS+=($!)
	lab_track_pid "$!"
done

NEXT=$((T0 + SAMPLE_S))
while [ "$(date +%s)" -lt "$END" ]; do
	sleep $((NEXT - $(date +%s) > 0 ? NEXT - $(date +%s) : 0))
	NEXT=$((NEXT + SAMPLE_S))
	sample
	lab_alive "$PID" || {
		: >"$STOP"
		break
	}
	if [ $(($(date +%s) - T0)) -ge 60 ] && [ $((($(date +%s) - T0) % 60)) -lt "$SAMPLE_S" ]; then
		lab_log "$((($(date +%s) - T0) / 60)) min: $(tail -n 1 "$CSV"); $(wc -l <"$FAILS") failures"
	fi
done
LOAD_END=$(date +%s)
# Each loop ends its round (bounded by the load generators' own limits and timeout).
for w in "${WORKERS[@]}"; do
	wait "$w" 2>/dev/null || true
	lab_untrack_pid "$w"
done
sleep 3 # let the last transfers and connections close
sample
IDLE_AFTER=$(proc_values)
FINAL_METRICS=$(metrics_values)
ALIVE=1
lab_alive "$PID" || ALIVE=0

# ---- the verdict ---------------------------------------------------------------------------

cp "$LAB_TMP/pxed.yaml" "$OUT/"
declare -a PROBLEMS=()
[ "$ALIVE" = 1 ] || PROBLEMS+=("pxed died (log: $OUT/pxed.log.gz)")
lab_stop_pid "$PID" 10 || true
cp "$LAB_TMP/pxed.log" "$OUT/pxed.log"
if grep -qiE 'seccomp refused' "$OUT/pxed.log"; then
	PROBLEMS+=("pxed logged a seccomp refusal: $(grep -m1 -i 'seccomp refused' "$OUT/pxed.log")")
fi
# A log line is "TIME LEVEL MODULE TEXT".
LOG_ERRORS=$(awk '$2 == "error"' "$OUT/pxed.log" | wc -l)
LOG_WARNINGS=$(awk '$2 == "warn"' "$OUT/pxed.log" | wc -l)
if [ "$LOG_ERRORS" -gt 0 ]; then
	PROBLEMS+=("pxed logged $LOG_ERRORS errors, the first: $(awk '$2 == "error"' "$OUT/pxed.log" | head -n 1)")
fi
if [ -s "$FAILS" ]; then
	PROBLEMS+=("$(wc -l <"$FAILS") client operations failed, the first: $(head -n 1 "$FAILS" | cut -c1-400) (all: $FAILS)")
fi
# Error counters: the first sample against the last.
read -r -a M0 <<<"$(sed -n 2p "$CSV" | cut -d, -f6- | tr ',' ' ')"
read -r -a M1 <<<"$(tail -n 1 "$CSV" | cut -d, -f6- | tr ',' ' ')"
read -r -a MN <<<"$METRICS"
for i in 0 1 2 3 4; do
	if [ "${M1[i]:-?}" = "?" ] || [ "${M0[i]:-?}" = "?" ]; then
		PROBLEMS+=("/metrics did not answer at the start or the end")
		break
	fi
	[ "${M1[i]}" -le "${M0[i]}" ] || PROBLEMS+=("${MN[i]} grew from ${M0[i]} to ${M1[i]}")
done
read -r _ _ _ FD0 <<<"$IDLE_BEFORE"
read -r RSS_END _ _ FD1 <<<"$IDLE_AFTER"
[ "$FD1" -le "$FD0" ] || PROBLEMS+=("open descriptors grew: $FD0 idle before the load, $FD1 idle after")

# RSS after warm-up. A sample taken during a transfer holds its buffers (several MiB more
# than between rounds), so the verdict is on medians, which such spikes do not move: the
# median VmRSS of the last quarter of the samples after warm-up less that of their first
# quarter. The least-squares slope over them all is reported beside it.
WARM_S=$((MINUTES * 60 / 5))
[ "$WARM_S" -ge 30 ] || WARM_S=30
# shellcheck disable=SC2016 # awk program
read -r RSS_WARM RSS_LATE RSS_MAX HWM_END SLOPE NPTS SPAN < <(awk -F, -v w="$WARM_S" -v le="$((LOAD_END - T0))" '
	function median(a, lo, hi,   m, i, j, t, b) {
		m = 0
		for (i = lo; i <= hi; i++) b[++m] = a[i]
		for (i = 2; i <= m; i++) for (j = i; j > 1 && b[j - 1] > b[j]; j--) { t = b[j]; b[j] = b[j - 1]; b[j - 1] = t }
		return m % 2 ? b[(m + 1) / 2] : (b[m / 2] + b[m / 2 + 1]) / 2
	}
	NR == 1 { next }
	$2 != "?" { if ($2 > max) max = $2; hwm = $3 }
	$1 >= w && $1 <= le && $2 != "?" {
		if (!n) t0 = $1
		r[++n] = $2; sx += $1; sy += $2; sxx += $1 * $1; sxy += $1 * $2; t1 = $1
	}
	END {
		d = n * sxx - sx * sx
		slope = (n > 1 && d > 0) ? (n * sxy - sx * sy) / d : 0
		q = int(n / 4); if (q < 1) q = 1
		printf "%.0f %.0f %d %s %.3f %d %d\n", (n ? median(r, 1, q) : 0), (n ? median(r, n - q + 1, n) : 0), max, hwm, slope, n, t1 - t0
	}' "$CSV")
GROWTH=$((RSS_LATE - RSS_WARM))
if [ "$NPTS" -lt 4 ]; then
	PROBLEMS+=("only $NPTS RSS samples after warm-up: run longer")
elif [ "$GROWTH" -gt "$RSS_TOL_KB" ]; then
	PROBLEMS+=("resident memory grew after warm-up: median VmRSS $RSS_WARM kB in the first quarter, $RSS_LATE kB in the last (+$GROWTH kB; tolerance $RSS_TOL_KB kB; slope $SLOPE kB/s)")
fi

# ---- the summary ---------------------------------------------------------------------------

# sum_field FILE KEY: the sum of KEY= over the result lines of FILE.
sum_field() {
	[ -f "$1" ] || {
		echo 0
		return 0
	}
	sed -n "s/.*\\b$2=\\([0-9]*\\).*/\\1/p" "$1" | awk '{ s += $1 } END { print s + 0 }'
}
DHCP_ROUNDS=$(wc -l <"$OUT/dhcp.log" 2>/dev/null || echo 0)
DHCP_ACKS=$(sum_field "$OUT/dhcp.log" completed)
DHCP_RETX=$(sum_field "$OUT/dhcp.log" retransmits)
CHURN_OK=$(grep -c '^dora_renew' "$OUT/churn.log" 2>/dev/null || true)
TFTP_OK=$(sum_field "$OUT/tftp.log" ok)
TFTP_BYTES=$(sum_field "$OUT/tftp.log" bytes)
TFTP_RETX=$(sum_field "$OUT/tftp.log" retransmits)
HTTP_OK=$(sum_field "$OUT/http.log" ok)
HTTP_BYTES=$(sum_field "$OUT/http.log" bytes)
LOAD_S=$((LOAD_END - T0))
VERDICT=PASS
[ "${#PROBLEMS[@]}" -eq 0 ] || VERDICT=FAIL
mib() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }
{
	echo "| soak, $(date -u +%Y-%m-%d) ($MINUTES min, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)) | |"
	echo "|---|---|"
	echo "| DHCP: relayed DORA exchanges ACKed | $DHCP_ACKS in $DHCP_ROUNDS rounds ($(awk -v a="$DHCP_ACKS" -v s="$LOAD_S" 'BEGIN { printf "%.0f", a / s }')/s; $DHCP_RETX sent again) |"
	echo "| DHCP: churn clients (DORA, renewal, release) | $CHURN_OK |"
	echo "| TFTP: reads of 4 MiB, every byte checked | $TFTP_OK ($(mib "$TFTP_BYTES") MiB; $TFTP_RETX sent again) |"
	echo "| HTTP: GETs of 16 MiB, every byte checked | $HTTP_OK ($(mib "$HTTP_BYTES") MiB) |"
	echo "| failed client operations | $(wc -l <"$FAILS") |"
	echo "| pxed log: errors / warnings | $LOG_ERRORS / $LOG_WARNINGS |"
	echo "| VmRSS after warm-up ($WARM_S s): median of first / last quarter | $RSS_WARM / $RSS_LATE kB (growth $GROWTH kB, tolerance $RSS_TOL_KB kB) |"
	echo "| VmRSS least-squares slope after warm-up ($NPTS samples, $SPAN s) | $SLOPE kB/s |"
	echo "| VmRSS max / idle at the end; VmHWM | $RSS_MAX / $RSS_END kB; $HWM_END kB |"
	echo "| open descriptors idle before / after | $FD0 / $FD1 |"
	echo "| error counters at the end (${METRICS// /, }) | ${FINAL_METRICS// /, } |"
	echo "| verdict | $VERDICT |"
} >"$OUT/summary.md"
echo
cat "$OUT/summary.md"
echo
echo "samples: $CSV; logs (pxed.log.gz, failures.log, a result line per round): $OUT"
# pxed logs a line per DHCP reply: some 100 MB in 30 minutes, kept compressed.
gzip -f "$OUT/pxed.log"
if [ "$VERDICT" = FAIL ]; then
	for p in "${PROBLEMS[@]}"; do echo "soak: FAIL: $p"; done
	# shellcheck disable=SC2034 # read by lab_cleanup (tests/e2e/lib.sh)
	LAB_FAILED=1 # said why already: no dump of pxed's log by lab_cleanup
	exit 1
fi
echo "soak: PASS: no failed operation, pxed alive without errors, descriptors and memory flat"
