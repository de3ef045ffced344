#!/usr/bin/env bash
# A windowed TFTP transfer to a client whose path MTU is smaller than the MTU of
# the interface its request came in on (a tunnel, a route with an mtu, a learned
# path MTU): pxed clamps blksize to the interface (1468 on 1500) and sends each
# window as UDP GSO segments of that size, which the kernel refuses for the
# smaller route (EMSGSIZE). The transfer must fall back to plain datagrams and
# finish. In a private network namespace this test creates and deletes: its
# loopback has MTU 1500 and the route to the client (127.0.0.1) MTU 1200.
#
# Usage: tests/integration/tftp-pmtu.sh [BUILD_DIR]   (default: build)
set -euo pipefail

BUILD=${1:-build}
PXED="$(cd "$BUILD" && pwd)/pxed"
NS=pxed-pmtu-$$
HOST=127.0.0.1
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pxed-pmtu.XXXXXX")
chmod 755 "$TMP" # pxed reads the root as the user pxed (docs/security.md)
PID=""
NS_MADE=0

cleanup() {
	stop_pid "$PID"
	[ "$NS_MADE" = 0 ] || ip netns delete "$NS" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# shellcheck source=lib-tftp.sh
. "$(dirname "$0")/lib-tftp.sh"


[ "$(id -u)" -eq 0 ] || { echo "not ok - needs root (network namespaces)"; exit 1; }
[ -x "$PXED" ] || { echo "not ok - $PXED is not built"; exit 1; }
have atftp || { echo "not ok - atftp is missing: run make deps"; exit 1; }

ip netns add "$NS"
NS_MADE=1
ip -n "$NS" link set lo up
ip -n "$NS" link set lo mtu 1500
# The route to the client (the local table's host route for 127.0.0.1) gets a smaller MTU.
ip -n "$NS" route replace local 127.0.0.1 dev lo table local proto kernel scope host \
	src 127.0.0.1 mtu 1200
mkdir -p "$TMP/root" "$TMP/state"
head -c $((2 * 1024 * 1024 + 77)) /dev/urandom >"$TMP/root/f"
WANT=$(sha "$TMP/root/f")

ip netns exec "$NS" setpriv --pdeathsig TERM -- "$PXED" serve --listen "$HOST" \
	--tftp-root "$TMP/root" --tftp-port 69 --http-port 8080 --no-dhcp \
	--state-dir "$TMP/state" >"$TMP/pxed.log" 2>&1 &
PID=$!
up=0
for _ in $(seq 1 100); do
	kill -0 "$PID" 2>/dev/null || break
	if in_ns curl -s --max-time 2 -o /dev/null "http://$HOST:8080/metrics"; then
		up=1
		break
	fi
	sleep 0.1
done
[ "$up" = 1 ] || { echo "not ok - pxed runs in $NS"; sed 's/^/#   /' "$TMP/pxed.log"; exit 1; }

for ws in 8 64; do
	rm -f "$TMP/out"
	start=$(date +%s)
	if in_ns timeout 60 atftp --option "blksize 1468" --option "windowsize $ws" -g -r f \
		-l "$TMP/out" "$HOST" 69 >"$TMP/client.log" 2>&1 && [ "$(sha "$TMP/out")" = "$WANT" ]; then
		ok "windowsize $ws over a 1200-byte path MTU: the exact file in $(($(date +%s) - start)) s"
	else
		not_ok "windowsize $ws over a 1200-byte path MTU: the exact file"
		sed 's/^/#   /' "$TMP/client.log" | tail -5
	fi
done
kill -0 "$PID" 2>/dev/null && ok "pxed still runs" || not_ok "pxed still runs"

finish 20
