#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2015
# pxed never loses an ACKed lease (RFC 2131 §4.3.1: the lease is on stable storage
# before the ACK leaves), nor gives one address to two clients, when it is killed
# (issue 3, item 4). Needs root (network namespaces).
#
#  - pxed runs as a DHCP server (`pxed serve --config`, a pool of 16k addresses in a
#    /16 that holds br0's address, one state directory for every run of it);
#  - STREAMS client loops (default 6, in two client namespaces) each run dhcp-probe
#    --type dora back to back, each exchange with a new MAC (random, made unique by
#    the stream's number and a counter) and a new xid, with a short timeout; each
#    appends one line per exchange to its own log, "KIND MAC IP T0 T1", KIND being
#      ack           an ACK arrived (IP is its yiaddr): only these are checked
#      nak           the REQUEST got a NAK
#      no-offer      the DISCOVER got no reply (pxed was down, or busy starting)
#      no-ack        an OFFER of IP arrived, the REQUEST got no reply: pxed died
#                    between the OFFER and the ACK, or was down when it came
#      error / bad-ack  dhcp-probe failed otherwise / an ACK for another chaddr;
#  - a killer, in this shell, sends SIGKILL to pxed (its PID only) at random points:
#    mostly 0.05-1.5 s after pxed listened again, one time in five 0-40 ms after it
#    was started (pxed takes 10-50 ms to open the store and listen, so some of these
#    land during its start-up); waits for it to die (status 137; anything else is a
#    crash of pxed's own) and starts it again at once, with the same state directory,
#    while the clients go on. The last kill ends the run, after SECONDS s, or when
#    the ACKs reach half the pool (after 10 kills at least; 90% in any case);
#  - then, with the clients stopped:
#    1. the store as the last SIGKILL left it (pxed.db and its -wal, copied): every
#       ACK (MAC -> IP) of every log is a lease of that MAC on that IP, not expired;
#       no IP was ACKed to two MACs;
#    2. pxed starts on that store: a DISCOVER from a sample of the ACKed MACs is
#       offered the address it was ACKed; a new client's DORA gets an address nobody
#       was ACKed; SIGTERM ends pxed with status 0;
#    3. the store after that clean stop: check 1 again, with the new client's ACK;
#    4. the kills landed inside exchanges: some "no-ack" exchanges (OFFER received,
#       no ACK) have a kill in their [T0, T1] (none: the run proved nothing, it
#       fails); also counted: leases whose MAC got no ACK (a kill between the
#       commit and the ACK's send).
#  Counts are printed (exchanges, ACKs, kills, restarts, failed exchanges by kind).
#
# A SIGKILL does not lose what pxed wrote to the kernel, so this checks the order
# "commit, then ACK" and SQLite's recovery, not the fsync (that needs power loss).
# Nothing here depends on how pxed batches its writes.
#
# Usage: tests/integration/dhcp-durability.sh [BUILD_DIR]   (default: build)
# Env: PXED (default BUILD_DIR/pxed), DHCP_PROBE (default BUILD_DIR/tests/dhcp-probe),
#      PXED_DURABLE_SEED     the random seed (default: from /dev/urandom; printed, so a
#                            failing run's kill schedule and MACs can be replayed; the
#                            exact interleaving with pxed cannot),
#      PXED_DURABLE_SECONDS  how long clients run and pxed is killed (default 35),
#      PXED_DURABLE_STREAMS  client loops (default 6, at most 16).
set -euo pipefail

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib-dhcp.sh
. "$HERE/lib-dhcp.sh"

NS=pxed-it-durable
OCTET=33
SEED=${PXED_DURABLE_SEED:-$(($(od -An -N4 -tu4 /dev/urandom) % 2147483647 + 1))}
SECONDS_RUN=${PXED_DURABLE_SECONDS:-35}
STREAMS=${PXED_DURABLE_STREAMS:-6}
PROBE_TIMEOUT_MS=500 # per message; exchanges fail this fast while pxed is down
MAX_PER_STREAM=65535 # exchanges per stream (the MAC and xid hold a 16-bit counter)
MAX_KILLS=200
LEASE_S=3600
# The pool: 10.77.64.0-10.77.127.254 in 10.77.0.0/16 (br0 is 10.77.33.1, outside it).
POOL_FIRST=10.77.64.0
POOL_LAST=10.77.127.254
POOL_SIZE=16383
ACK_CAP=$((POOL_SIZE / 2))           # stop here once there were MIN_KILLS kills,
ACK_HARD_CAP=$((POOL_SIZE * 9 / 10)) # and here in any case
MIN_KILLS=10
SAMPLE=20 # ACKed MACs whose address pxed is asked again after the run
t_start=$EPOCHREALTIME

[[ "$SEED" =~ ^[0-9]+$ ]] || { echo "not ok - PXED_DURABLE_SEED must be a number, got '$SEED'"; exit 1; }
[[ "$SECONDS_RUN" =~ ^[0-9]+$ ]] && [ "$SECONDS_RUN" -ge 5 ] && [ "$SECONDS_RUN" -le 600 ] ||
	{ echo "not ok - PXED_DURABLE_SECONDS must be 5..600, got '$SECONDS_RUN'"; exit 1; }
[[ "$STREAMS" =~ ^[0-9]+$ ]] && [ "$STREAMS" -ge 1 ] && [ "$STREAMS" -le 16 ] ||
	{ echo "not ok - PXED_DURABLE_STREAMS must be 1..16, got '$STREAMS'"; exit 1; }
[ -x "$PROBE" ] || { echo "not ok - dhcp-probe not built: $PROBE (ninja -C $BUILD)"; exit 1; }
[ -x "$PXED" ] || { echo "not ok - pxed not built: $PXED"; exit 1; }
command -v sqlite3 >/dev/null || { echo "not ok - sqlite3 is not installed"; exit 1; }

RANDOM=$SEED
lab_log "seed $SEED (replay: PXED_DURABLE_SEED=$SEED $0 ${1:-build})"

lab_setup "$NS" "$OCTET"
lab_private_binaries
lab_add_clients 2

STATE=$LAB_TMP/state
CONF=$LAB_TMP/pxed.yaml
cat >"$CONF" <<EOF
interfaces: [$LAB_BR]
dhcp:
  mode: server
  lease_time: $LEASE_S
state_dir: $STATE
tftp:
  port: 69
http:
  port: 8080
subnets:
  - subnet: 10.77.0.0/16
    pool: $POOL_FIRST-$POOL_LAST
EOF
"$PXED" check --config "$CONF" >"$LAB_TMP/check.out" 2>&1 ||
	lab_fail "pxed check: $(cat "$LAB_TMP/check.out")"

# ---- helpers -------------------------------------------------------------

# secs_since T: seconds (with decimals) from the $EPOCHREALTIME value T to now.
secs_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# start_pxed: start pxed on the shared state directory; logs "start N T PID".
STARTS=0
start_pxed() {
	lab_pxed serve --config "$CONF"
	STARTS=$((STARTS + 1))
	echo "start $STARTS $EPOCHREALTIME $LAB_PXED_PID" >>"$KILLS_LOG"
}

# kill_pxed: SIGKILL pxed by its PID and reap it; logs "kill N T PID". A pxed that
# is already gone, or whose status is not 137 (killed by SIGKILL), crashed by itself.
KILLS=0
kill_pxed() {
	local pid=$LAB_PXED_PID rc=0
	lab_alive "$pid" || {
		wait "$pid" 2>/dev/null || rc=$?
		lab_fail "pxed (PID $pid, start $STARTS) exited by itself with status $rc before kill $((KILLS + 1))"
	}
	kill -KILL "$pid"
	echo "kill $((KILLS + 1)) $EPOCHREALTIME $pid" >>"$KILLS_LOG"
	wait "$pid" 2>/dev/null || rc=$?
	lab_untrack_pid "$pid"
	LAB_PXED_PID=
	KILLS=$((KILLS + 1))
	[ "$rc" = 137 ] || lab_fail "pxed (PID $pid) ended with status $rc, not 137, at kill $KILLS"
}

# The client loop, run by bash inside a client namespace:
#   STREAM_SCRIPT PROBE ID SEED DEADLINE_S STOPFILE LOG MAX TIMEOUT_MS
# Stops at the deadline (epoch seconds), when STOPFILE exists, or after MAX exchanges.
# MAC 02:ID:rr:rr:nn:nn (rr random from SEED, nn the counter) and xid ID<<24|n are
# unique in the run, so no two exchanges can take each other's replies.
# shellcheck disable=SC2016
STREAM_SCRIPT='
probe=$1 id=$2 RANDOM=$3 deadline=$4 stop=$5 log=$6 max=$7 tmo=$8
# SIGTERM (the lab'\''s cleanup) ends the loop once the running dhcp-probe is done.
trap '\''exit 143'\'' TERM
exec 3>>"$log"
for ((n = 1; n <= max; n++)); do
	[ -e "$stop" ] && break
	t0=$EPOCHREALTIME
	[ "${t0%.*}" -lt "$deadline" ] || break
	printf -v mac "02:%02x:%02x:%02x:%02x:%02x" "$id" $((RANDOM & 255)) $((RANDOM & 255)) \
		$((n >> 8)) $((n & 255))
	rc=0
	out=$("$probe" --iface eth0 --type dora --mac "$mac" --xid $(((id << 24) | n)) \
		--timeout-ms "$tmo" 2>&1) || rc=$?
	t1=$EPOCHREALTIME
	type= yiaddr= offered= chaddr=
	while IFS== read -r k v; do
		case $k in
		type) type=$v ;; yiaddr) yiaddr=$v ;; offered) offered=$v ;; chaddr) chaddr=$v ;;
		esac
	done <<<"$out"
	if [ "$rc" = 0 ] && [ "$type" = ACK ]; then
		if [ "$chaddr" = "$mac" ]; then kind=ack; else kind=bad-ack; fi
		echo "$kind $mac $yiaddr $t0 $t1 $chaddr" >&3
	elif [ "$rc" = 0 ] && [ "$type" = NAK ]; then
		echo "nak $mac ${offered:--} $t0 $t1" >&3
	elif [ "$rc" = 1 ] && [ -n "$offered" ]; then
		echo "no-ack $mac $offered $t0 $t1" >&3
	elif [ "$rc" = 1 ]; then
		echo "no-offer $mac - $t0 $t1" >&3
	else
		echo "error $mac - $t0 $t1 rc=$rc type=$type ${out//$'\''\n'\''/ }" >&3
	fi
done
'

# ---- the run ---------------------------------------------------------------

KILLS_LOG=$LAB_TMP/kills.log
STOP=$LAB_TMP/stop
: >"$KILLS_LOG"
# Every exchange of every stream, in time order, kept with the logs (PXED_TEST_OUT).
# shellcheck disable=SC2016
lab_on_cleanup 'sort -k4,4n "$LAB_TMP"/stream.*.txt >"$LAB_TMP/exchanges.log" 2>/dev/null'
start_pxed
lab_wait_port udp 67 || lab_fail "pxed did not listen on UDP 67"
echo "up $STARTS $EPOCHREALTIME" >>"$KILLS_LOG"
ok "pxed serves a pool of $POOL_SIZE addresses ($POOL_FIRST-$POOL_LAST), state in $STATE"

t_run=$EPOCHREALTIME
deadline=$((${t_run%.*} + SECONDS_RUN))
STREAM_PIDS=()
# The streams run until STOP appears, after the last kill (their own deadline, 10 s
# later, only bounds them should this shell not get there).
for ((k = 1; k <= STREAMS; k++)); do
	ns=${CLI_NS[$(((k - 1) % ${#CLI_NS[@]}))]}
	: >"$LAB_TMP/stream.$k.txt"
	ip netns exec "$ns" setpriv --pdeathsig TERM -- bash -c "$STREAM_SCRIPT" stream \
		"$PROBE" "$k" "$((SEED + 7919 * k))" "$((deadline + 10))" "$STOP" "$LAB_TMP/stream.$k.txt" \
		"$MAX_PER_STREAM" "$PROBE_TIMEOUT_MS" </dev/null 2>>"$LAB_TMP/streams.err" &
	STREAM_PIDS+=($!)
	lab_track_pid "$!"
done
lab_log "$STREAMS client streams for ${SECONDS_RUN}s (until $deadline), pxed killed at random"

# The killer. Every pass: wait (one time in five only 0-40 ms after the start,
# otherwise until pxed listens and then 50-1500 ms), SIGKILL, start again. Bounded
# by the deadline, MAX_KILLS and ACK_CAP; the pass that reaches one of them leaves
# pxed dead, so the store is checked as a SIGKILL left it.
early_kills=0
stop_why="${SECONDS_RUN}s passed"
while :; do
	if ((RANDOM % 5 == 0)); then
		delay_ms=$((RANDOM % 41))
		early_kills=$((early_kills + 1))
	else
		lab_wait_port udp 67 10 ||
			lab_fail "pxed did not listen again within 10 s after start $STARTS"
		echo "up $STARTS $EPOCHREALTIME" >>"$KILLS_LOG"
		delay_ms=$((50 + RANDOM % 1451))
	fi
	sleep "$((delay_ms / 1000)).$(printf %03d $((delay_ms % 1000)))"
	kill_pxed
	t=$EPOCHREALTIME
	acks=$(cat "$LAB_TMP"/stream.*.txt | grep -c '^ack ' || true)
	if [ "${t%.*}" -ge "$deadline" ]; then
		break
	elif [ "$KILLS" -ge "$MAX_KILLS" ]; then
		stop_why="$MAX_KILLS kills"
		break
	elif [ "$acks" -ge "$ACK_HARD_CAP" ] || { [ "$acks" -ge "$ACK_CAP" ] && [ "$KILLS" -ge "$MIN_KILLS" ]; }; then
		stop_why="$acks ACKs in a pool of $POOL_SIZE"
		break
	fi
	start_pxed
done
run_s=$(secs_since "$t_run")

# Stop the clients (each ends its exchange in at most 2 x PROBE_TIMEOUT_MS).
: >"$STOP"
for p in "${STREAM_PIDS[@]}"; do
	rc=0
	lab_wait_exit "$p" 10 || rc=$?
	if [ "$rc" = 255 ]; then
		lab_stop_pid "$p" 2 || true
		not_ok "client stream PID $p did not stop within 10 s"
	elif [ "$rc" != 0 ]; then
		not_ok "client stream PID $p exited with status $rc: $(tail -n3 "$LAB_TMP/streams.err")"
	fi
done
# Informational: starts that never said "ready" were killed during their start-up.
ready=$(grep -c 'ready: ' "$LAB_TMP/pxed.log" || true)
killed_before_ready=$((STARTS - ready))
lab_log "stopped after $run_s s ($stop_why): $KILLS kills ($early_kills 0-40 ms after a start; $killed_before_ready before pxed said ready), $STARTS starts"

# ---- what the clients saw ------------------------------------------------------

cat "$LAB_TMP"/stream.*.txt >"$LAB_TMP/exchanges.txt"
grep '^ack ' "$LAB_TMP/exchanges.txt" >"$LAB_TMP/acks.txt" || true
count() { grep -c "^$1 " "$LAB_TMP/exchanges.txt" || true; }
n_ex=$(wc -l <"$LAB_TMP/exchanges.txt")
n_ack=$(count ack)
n_nak=$(count nak)
n_nooffer=$(count no-offer)
n_noack=$(count no-ack)
n_err=$(count error)
n_badack=$(count bad-ack)
lab_log "exchanges $n_ex: ack $n_ack, no-offer $n_nooffer, no-ack $n_noack, nak $n_nak, error $n_err, bad-ack $n_badack"

[ "$n_badack" = 0 ] ||
	not_ok "$n_badack ACKs carried another chaddr than the MAC that asked: $(grep -m3 '^bad-ack ' "$LAB_TMP/exchanges.txt" | tr '\n' ';')"
[ "$n_err" = 0 ] ||
	not_ok "$n_err exchanges failed in dhcp-probe itself: $(grep -m3 '^error ' "$LAB_TMP/exchanges.txt" | tr '\n' ';')"
[ "$KILLS" -ge 5 ] || not_ok "only $KILLS kills in $run_s s (at least 5 wanted)"
[ "$n_ack" -ge 100 ] || not_ok "only $n_ack ACKs in $run_s s: too little traffic to tell"
if [ "$KILLS" -ge 5 ] && [ "$n_ack" -ge 100 ]; then
	ok "$n_ack ACKs in $n_ex exchanges over $run_s s, $KILLS SIGKILLs ($early_kills early), $STARTS starts"
fi

# Failed exchanges against the outages: an exchange "met a kill" if a kill fell in
# its [T0, T1], or it started while pxed was down (from a kill to the next time it
# was seen listening). The others failed while pxed was up.
awk '
	FNR == NR {
		if ($1 == "kill") { nk++; kt[nk] = $3; down_from[nk] = $3 }
		if ($1 == "up") { for (i = 1; i <= nk; i++) if (!(i in down_to)) down_to[i] = $3 }
		next
	}
	$1 != "ack" {
		met = 0
		for (i = 1; i <= nk; i++) {
			to = (i in down_to) ? down_to[i] : 1e18
			if ((kt[i] >= $4 && kt[i] <= $5) || ($4 >= down_from[i] && $4 <= to)) { met = 1; break }
		}
		inside = 0
		for (i = 1; i <= nk; i++) if (kt[i] >= $4 && kt[i] <= $5) inside = 1
		if (met) fail_killed[$1]++; else fail_up[$1]++
		if ($1 == "no-ack" && inside) mid++
	}
	END {
		printf "met_kill=%d\nup=%d\nmid=%d\n",
			fail_killed["no-offer"] + fail_killed["no-ack"] + fail_killed["nak"] + fail_killed["error"],
			fail_up["no-offer"] + fail_up["no-ack"] + fail_up["nak"] + fail_up["error"], mid
		for (k in fail_up) printf "up_%s=%d\n", k, fail_up[k]
	}' "$KILLS_LOG" "$LAB_TMP/exchanges.txt" >"$LAB_TMP/classes.txt"
cls=$(cat "$LAB_TMP/classes.txt")
n_failed_kill=$(field met_kill "$cls")
n_failed_up=$(field up "$cls")
n_mid=$(field mid "$cls")
lab_log "failed exchanges: $n_failed_kill met a kill or an outage, $n_failed_up failed with pxed up ($(grep '^up_' <<<"$cls" | tr '\n' ' '))"
if [ "$n_mid" -gt 0 ]; then
	ok "kills inside exchanges: $n_mid exchanges got their OFFER, then a SIGKILL, and no ACK"
else
	not_ok "no kill fell between an OFFER and its ACK ($KILLS kills): the run did not test what it should; rerun with another seed"
fi

# ---- the store -----------------------------------------------------------------

# check_store DB ACKS LABEL: every ACK in the file ACKS ("ack MAC IP T0 T1 ...") is a
# lease of MAC on IP in the SQLite database DB (a copy: pxed's files are not touched),
# not expired; no IP was ACKed to two MACs. Sets LEASED_NO_ACK to the number of
# leases whose MAC got no ACK.
check_store() {
	local db=$1 acks=$2 label=$3 sql=$LAB_TMP/check.sql out n_leases missing doubled
	local hex='([0-9a-f]{2})'
	awk '{
		split($3, q, ".")
		mac = $2; gsub(":", "", mac)
		printf "INSERT INTO acks VALUES (X'\''%s'\'', %.0f, %s, '\''%s'\'');\n",
			mac, q[1] * 16777216 + q[2] * 65536 + q[3] * 256 + q[4], $5, $3
	}' "$acks" >"$sql.rows"
	{
		echo "CREATE TEMP TABLE acks (mac BLOB, ip INTEGER, t REAL, ips TEXT);"
		echo "BEGIN;"
		cat "$sql.rows"
		echo "COMMIT;"
		echo "SELECT 'leases=' || count(*) FROM leases;"
		# An ACK whose MAC has no lease, a lease on another address, or an expired one.
		echo "SELECT 'missing=' || lower(hex(a.mac)) || ' acked ' || a.ips || ' at ' || a.t ||
			' store ' || coalesce((l.ip >> 24) || '.' || ((l.ip >> 16) & 255) || '.' ||
			((l.ip >> 8) & 255) || '.' || (l.ip & 255) || ' expires ' || l.expires, 'no lease')
			FROM acks a LEFT JOIN leases l ON l.mac = a.mac
			WHERE l.ip IS NULL OR l.ip != a.ip OR l.expires <= CAST(strftime('%s', 'now') AS INTEGER)
			ORDER BY a.t;"
		echo "SELECT 'doubled=' || ips || ' ' || group_concat(lower(hex(mac)), ',')
			FROM acks GROUP BY ip HAVING count(DISTINCT mac) > 1 ORDER BY min(t);"
		echo "SELECT 'noack=' || count(*) FROM leases WHERE mac NOT IN (SELECT mac FROM acks);"
	} >"$sql"
	out=$(sqlite3 -batch "$db" <"$sql" 2>&1 | sed -E "s/\b$hex$hex$hex$hex$hex$hex\b/\1:\2:\3:\4:\5:\6/g") || {
		not_ok "$label: sqlite3 failed on the store: $(head -n5 <<<"$out")"
		LEASED_NO_ACK=0
		return
	}
	n_leases=$(field leases "$out")
	LEASED_NO_ACK=$(field noack "$out")
	missing=$(grep -c '^missing=' <<<"$out" || true)
	doubled=$(grep -c '^doubled=' <<<"$out" || true)
	if [ "$missing" = 0 ]; then
		ok "$label: all $(wc -l <"$acks") ACKed leases are in the store, with the ACKed address ($n_leases leases)"
	else
		not_ok "$label: $missing ACKed leases lost (seed $SEED): $(grep '^missing=' <<<"$out" | head -n5 | sed 's/^missing=//' | tr '\n' ';')"
	fi
	if [ "$doubled" = 0 ]; then
		ok "$label: no address was ACKed to two clients"
	else
		not_ok "$label: $doubled addresses ACKed to two MACs (seed $SEED): $(grep '^doubled=' <<<"$out" | head -n5 | sed 's/^doubled=//' | tr '\n' ';')"
	fi
}

# 1. The store exactly as the last SIGKILL left it.
mkdir -p "$LAB_TMP/crash"
for f in pxed.db pxed.db-wal; do
	if [ -e "$STATE/$f" ]; then cp "$STATE/$f" "$LAB_TMP/crash/$f"; fi
done
check_store "$LAB_TMP/crash/pxed.db" "$LAB_TMP/acks.txt" "store after the last SIGKILL"
lab_log "$LEASED_NO_ACK leases were written for exchanges that got no ACK (a kill between the commit and the ACK's send, or a reply lost while pxed was going down)"

# 2. pxed on that store: it offers each sampled ACKed MAC its address again.
start_pxed
lab_wait_port udp 67 || lab_fail "pxed did not start on the store the last SIGKILL left"
echo "up $STARTS $EPOCHREALTIME" >>"$KILLS_LOG"
sample_bad=()
n_sample=0
if [ "$n_ack" -gt 0 ]; then
	while read -r _ mac ip _; do
		n_sample=$((n_sample + 1))
		out=$(probe_in "${CLI_NS[0]}" --mac "$mac" --timeout-ms 2000 2>&1) || true
		[ "$(field type "$out")" = OFFER ] && [ "$(field yiaddr "$out")" = "$ip" ] ||
			sample_bad+=("$mac was ACKed $ip, now: $(field type "$out") $(field yiaddr "$out")")
	done < <(awk -v seed="$SEED" 'BEGIN { srand(seed) } { print rand(), $0 }' "$LAB_TMP/acks.txt" |
		sort -k1,1 | head -n "$SAMPLE" | cut -d' ' -f2-)
fi
if [ "${#sample_bad[@]}" = 0 ]; then
	ok "pxed restarted on that store offers each of $n_sample sampled ACKed MACs its ACKed address"
else
	not_ok "pxed restarted on that store: ${#sample_bad[@]} of $n_sample ACKed MACs offered another address: $(printf '%s; ' "${sample_bad[@]:0:10}")"
fi
new_mac=$(printf '02:ff:%02x:%02x:00:01' $((RANDOM & 255)) $((RANDOM & 255)))
t0=$EPOCHREALTIME
out=$(probe_in "${CLI_NS[0]}" --type dora --mac "$new_mac" --timeout-ms 2000 2>&1) ||
	lab_fail "a new client's DORA after the run got no ACK: $(tr '\n' ' ' <<<"$out")"
new_ip=$(field yiaddr "$out")
[ "$(field type "$out")" = ACK ] || lab_fail "a new client's DORA after the run: $(tr '\n' ' ' <<<"$out")"
if awk -v ip="$new_ip" '$3 == ip { f = 1 } END { exit !f }' "$LAB_TMP/acks.txt"; then
	not_ok "a new client $new_mac was ACKed $new_ip, which was ACKed to $(awk -v ip="$new_ip" '$3 == ip { print $2 }' "$LAB_TMP/acks.txt" | head -n1) during the run"
else
	ok "a new client's DORA gets $new_ip, an address nobody was ACKed"
fi
echo "ack $new_mac $new_ip $t0 $EPOCHREALTIME $new_mac" >>"$LAB_TMP/acks.txt"
rc=0
lab_kill_pxed 10 || rc=$?
[ "$rc" = 0 ] && ok "SIGTERM: pxed exited with status 0" || not_ok "SIGTERM: pxed exited with status $rc"

# 3. The store after that clean stop.
mkdir -p "$LAB_TMP/final"
for f in pxed.db pxed.db-wal; do
	if [ -e "$STATE/$f" ]; then cp "$STATE/$f" "$LAB_TMP/final/$f"; fi
done
check_store "$LAB_TMP/final/pxed.db" "$LAB_TMP/acks.txt" "store after the restart and SIGTERM"

echo "# counts: seed=$SEED exchanges=$n_ex acks=$n_ack kills=$KILLS early_kills=$early_kills killed_before_ready=$killed_before_ready starts=$STARTS failed_with_kill=$n_failed_kill failed_with_pxed_up=$n_failed_up no_offer=$n_nooffer no_ack=$n_noack nak=$n_nak kill_between_offer_and_ack=$n_mid leased_without_ack=$LEASED_NO_ACK"
echo "# $(secs_since "$t_start") s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
