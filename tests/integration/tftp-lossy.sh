#!/usr/bin/env bash
# A client that loses packets still gets the exact file: pxed serves TFTP on
# 127.0.0.1 inside a private network namespace this test creates (loopback
# only: nothing leaves it), and nftables drops packets at random there: DATA
# on its way from pxed to the client, and the client's ACKs on their way to
# pxed. tftp-hpa (lockstep, 512-byte blocks), atftp (windowsize 8, blksize
# 1468) and curl (blksize 1468) each fetch a multi-MB file, which must arrive
# with the exact checksum. Prints one "ok - ..." or "not ok - ..." line per
# check; exits 1 if any failed. Needs root and nft (package nftables).
#
# The loss: LOSSY_PERCENT (default 7) percent of DATA and of ACKs, drawn with
# `numgen random`, but at most 4 of each in a row and then one every 5 s
# (nft `limit`). Lockstep TFTP pays one retransmission timeout per lost
# packet (1 s, the smallest RFC 2349 allows), so 7% of a 3 MiB lockstep
# download unbounded would take over ten minutes; with the limit each client
# loses a dozen packets or more, at the start and all along, in under a
# minute or so. ACK 0 (the answer to an OACK) is never dropped: atftp aborts with
# "unexpected OACK" when pxed sends its OACK again.
#
# Usage: tests/integration/tftp-lossy.sh [BUILD_DIR]   (default: build)
set -euo pipefail

BUILD=${1:-build}
PXED="$(cd "$BUILD" && pwd)/pxed"
NS=pxed-lossy-$$
HOST=127.0.0.1
TPORT=69
HPORT=8080
PCT=${LOSSY_PERCENT:-7}
SIZE=$((3 * 1024 * 1024 + 123))
CLIENT_TIMEOUT=${LOSSY_CLIENT_TIMEOUT:-300}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pxed-lossy.XXXXXX")
chmod 755 "$TMP" # pxed reads the root as the user pxed (docs/security.md)
PID=""
CLIENT=""
NS_MADE=0

cleanup() {
	if [ -n "$CLIENT" ]; then kill "$CLIENT" 2>/dev/null || true; fi
	stop_pid "$PID"
	# Deleting the namespace also removes its nftables rules.
	[ "$NS_MADE" = 0 ] || ip netns delete "$NS" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
# shellcheck source=lib-tftp.sh
. "$(dirname "$0")/lib-tftp.sh"


[ "$(id -u)" -eq 0 ] || { echo "not ok - needs root (network namespaces, nftables)"; exit 1; }
[ -x "$PXED" ] || { echo "not ok - $PXED is not built"; exit 1; }
have nft || { echo "not ok - nft is missing: run make deps (package nftables)"; exit 1; }

# --- the namespace and the daemon --------------------------------------------
ip netns add "$NS"
NS_MADE=1
ip -n "$NS" link set lo up
# An Ethernet-sized MTU, so the blksize clamp can be seen (loopback's is 64 KiB).
ip -n "$NS" link set lo mtu 1500
mkdir -p "$TMP/root" "$TMP/state" "$TMP/out"
head -c "$SIZE" /dev/urandom >"$TMP/root/big"
WANT=$(sha "$TMP/root/big")

# pdeathsig: pxed goes too if this script is killed outright.
ip netns exec "$NS" setpriv --pdeathsig TERM -- "$PXED" serve --listen "$HOST" \
	--tftp-root "$TMP/root" --tftp-port "$TPORT" --http-port "$HPORT" --no-dhcp \
	--state-dir "$TMP/state" >"$TMP/pxed.log" 2>&1 &
PID=$!
up=0
for _ in $(seq 1 100); do
	kill -0 "$PID" 2>/dev/null || break
	if in_ns curl -s --max-time 2 -o /dev/null "http://$HOST:$HPORT/metrics"; then
		up=1
		break
	fi
	sleep 0.1
done
if [ "$up" -ne 1 ]; then
	echo "not ok - pxed runs in $NS"
	sed 's/^/#   /' "$TMP/pxed.log"
	exit 1
fi
ok "pxed serves TFTP on $HOST in namespace $NS"

# wait_log TEXT: pxed logs a transfer once the client's last ACK is in (bounded wait).
wait_log() {
	for _ in $(seq 1 30); do
		grep -q "$1" "$TMP/pxed.log" && return 0
		sleep 0.1
	done
	return 1
}

# RFC 2348 lets the server answer a smaller blksize: pxed answers what fits the
# interface's MTU (1500 - 20 IP - 8 UDP - 4 TFTP = 1468), so no block is fragmented.
if have atftp; then
	# atftp prints what it asked; pxed's log line for the transfer shows what was agreed.
	if in_ns timeout 60 atftp --option "blksize 8192" --option "tsize 0" -g -r big \
		-l "$TMP/out/mtu" "$HOST" "$TPORT" >"$TMP/mtu.log" 2>&1 &&
		[ "$(sha "$TMP/out/mtu")" = "$WANT" ] && wait_log "size=$SIZE blksize=1468 windowsize=1"; then
		ok "blksize 8192 asked on a 1500-byte MTU is answered 1468, the file arrives whole"
	else
		not_ok "blksize 8192 asked on a 1500-byte MTU is answered 1468, the file arrives whole"
		sed 's/^/#   /' "$TMP/mtu.log" | tail -5
	fi
fi

# lossy_rules: (re)loads the rules, so every client starts with fresh limits and counters.
lossy_rules() {
	in_ns nft delete table inet pxed_lossy 2>/dev/null || true
	in_ns nft -f - <<EOF
table inet pxed_lossy {
	counter data_dropped { }
	counter ack_dropped { }
	chain input {
		type filter hook input priority filter; policy accept;
		# DATA (opcode 3) from a transfer socket, never from port 69.
		meta l4proto udp udp sport != $TPORT @th,64,16 3 numgen random mod 100 < $PCT \
			limit rate 12/minute burst 4 packets counter name data_dropped drop
		# A client's ACK (opcode 4) of a block other than 0.
		meta l4proto udp udp dport != $TPORT @th,64,16 4 @th,80,16 != 0 \
			numgen random mod 100 < $PCT limit rate 12/minute burst 4 packets \
			counter name ack_dropped drop
	}
}
EOF
}
dropped() { # dropped COUNTER: packets it counted
	in_ns nft list counter inet pxed_lossy "$1" | awk '/packets/ {print $2}'
}

# fetch NAME DEST COMMAND...: runs the client in the namespace through fresh loss.
fetch() {
	local name=$1 dest=$2 start secs data acks rc=0
	shift 2
	lossy_rules
	rm -f "$dest"
	start=$(date +%s)
	# In the background and waited for: bash runs the TERM trap (run-tests.sh's time
	# limit) only once a foreground command ends, but interrupts `wait` at once.
	ip netns exec "$NS" timeout "$CLIENT_TIMEOUT" "$@" >"$TMP/client.log" 2>&1 &
	CLIENT=$!
	wait "$CLIENT" || rc=$?
	CLIENT=""
	if [ "$rc" -ne 0 ]; then
		not_ok "$name: the client failed or took over ${CLIENT_TIMEOUT}s"
		tail -n 5 "$TMP/client.log" | sed 's/^/#   /'
		return 0
	fi
	secs=$(($(date +%s) - start))
	data=$(dropped data_dropped)
	acks=$(dropped ack_dropped)
	if [ -f "$dest" ] && [ "$(sha "$dest")" = "$WANT" ]; then
		ok "$name: the exact file in ${secs}s ($data DATA and $acks ACKs dropped)"
	else
		not_ok "$name: the file differs ($data DATA and $acks ACKs dropped)"
		tail -n 5 "$TMP/client.log" | sed 's/^/#   /'
	fi
	if [ "${data:-0}" -gt 0 ] && [ "${acks:-0}" -gt 0 ]; then
		ok "$name: DATA and ACKs were lost on the way"
	else
		not_ok "$name: DATA and ACKs were lost on the way (DATA $data, ACKs $acks)"
	fi
}

if have tftp; then
	# tftp-hpa exits 0 even after an ERROR: the checksum tells.
	fetch "tftp-hpa (lockstep)" "$TMP/out/hpa" \
		tftp -m binary "$HOST" "$TPORT" -c get big "$TMP/out/hpa"
else
	not_ok "tftp-hpa is not installed (make deps installs it)"
fi
if have atftp; then
	fetch "atftp windowsize 8 blksize 1468" "$TMP/out/atftp" \
		atftp --option "blksize 1468" --option "windowsize 8" \
		-g -r big -l "$TMP/out/atftp" "$HOST" "$TPORT"
else
	not_ok "atftp is not installed (make deps installs it)"
fi
# curl asks a "timeout" of its connect timeout / 3 (6 s by default): 3 s asks for 1 s,
# so pxed retransmits after 1 s rather than 6.
fetch "curl blksize 1468" "$TMP/out/curl" \
	curl -sS --connect-timeout 3 --tftp-blksize 1468 -o "$TMP/out/curl" "tftp://$HOST:$TPORT/big"

# --- what pxed counted ------------------------------------------------------------
if in_ns curl -sS --fail --max-time 5 "http://$HOST:$HPORT/metrics" >"$TMP/metrics" 2>"$TMP/curl.log"; then
	ok "pxed's metrics can be read"
else
	not_ok "pxed's metrics can be read"
	sed 's/^/#   /' "$TMP/curl.log"
fi
metric() { grep -E "^$1 " "$TMP/metrics" | awk '{print $2}' | head -1; }
n=$(metric 'pxed_tftp_transfers_total\{outcome="complete"\}')
if [ "${n:-0}" -ge 3 ]; then
	ok "pxed counts the transfers complete ($n)"
else
	not_ok "pxed counts the transfers complete (${n:-none})"
fi
n=$(metric 'pxed_tftp_transfers_total\{outcome="failed"\}')
if [ "${n:-1}" -eq 0 ]; then
	ok "no transfer failed"
else
	not_ok "no transfer failed (${n:-none} failed)"
fi
# Every client above lost DATA, which pxed had to send again: a missing metric
# (or metrics that could not be read) is a failure, not a skip.
n=$(metric pxed_tftp_retransmits_total)
if [ -z "$n" ]; then
	not_ok "retransmissions are counted (no pxed_tftp_retransmits_total in the metrics)"
elif [ "$n" -gt 0 ]; then
	ok "retransmissions are counted ($n)"
else
	not_ok "retransmissions are counted (pxed_tftp_retransmits_total is 0)"
fi
if kill -0 "$PID" 2>/dev/null; then
	ok "pxed still runs"
else
	not_ok "pxed still runs"
fi

finish
