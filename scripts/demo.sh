#!/usr/bin/env bash
# `make demo`: boots a QEMU machine through pxed in a private network namespace,
# shows pxed's live status while it boots (`pxed status --watch`: transfers with
# their progress, the pool, the machine's state and step), then its events and its
# boot timeline. Everything it creates (namespace, processes, temp files) is removed
# when it ends, also on Ctrl-C or SIGTERM.
#   PXED_DEMO_FIRMWARE=bios|uefi (default uefi: it shows every step, from the
#   firmware's own PXE to iPXE, the script, the kernel and the initrd)
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PXED=${PXED:-$ROOT/$BUILD/pxed}
. "$ROOT/tests/e2e/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "make demo needs root: it creates a network namespace and a bridge" >&2
	exit 1
fi
FW=${PXED_DEMO_FIRMWARE:-uefi}
MAC=52:54:00:de:00:01
TIMEOUT=300

echo "== pxed demo: a $FW machine network-boots through pxed"
lab_setup pxed-demo 200
lab_assets
echo "   network   : namespace $LAB_NS, bridge $LAB_BR $LAB_SERVER_IP/24"
echo "   kernel    : $LAB_KERNEL"
echo "   initrd    : $LAB_INITRD"
lab_pxed boot --interface "$LAB_BR" --dhcp-range "$LAB_NET.100,$LAB_NET.199" \
	--kernel "$LAB_KERNEL" --initrd "$LAB_INITRD" --cmdline "console=ttyS0 panic=-1 quiet" \
	--state-dir "$LAB_TMP/state"
lab_wait_port udp 67 || lab_fail "pxed did not start"
lab_wait_port tcp 80 || lab_fail "pxed did not start"
URL=http://$LAB_SERVER_IP:80
echo "   pxed      : pid $LAB_PXED_PID, log $LAB_TMP/pxed.log, API $URL"
echo
# On a terminal the view is redrawn in place every second; in a log, one every 5 s.
interval=5
[ -t 1 ] && interval=1
echo "== pxed status --watch: what pxed does while the machine boots (QEMU emulates it"
echo "   in software: ~30 s)"
# The status view is a tracked process: the lab's clean-up stops it with the rest.
ip netns exec "$LAB_NS" "$PXED" status --watch --interval "$interval" --url "$URL" &
STATUS_PID=$!
lab_track_pid "$STATUS_PID"

lab_add_tap tap0
start_us=$(date +%s%6N)
"lab_qemu_$FW" "$MAC" tap0 "$LAB_TMP/qemu.log" "$TIMEOUT"
if ! lab_wait_marker "$LAB_TMP/qemu.log" "$TIMEOUT"; then
	lab_fail "the machine did not boot; see the logs above"
fi
up_us=$(date +%s%6N)
# One more view shows the machine "booted": the next redraw on a terminal, else a last one.
if [ -t 1 ]; then
	sleep 1.5
	lab_stop_pid "$STATUS_PID" 2 || true
else
	lab_stop_pid "$STATUS_PID" 2 || true
	echo
	ip netns exec "$LAB_NS" "$PXED" status --url "$URL"
fi
echo
echo "   guest console: $(grep -a -m1 PXED-TEST-BOOTED "$LAB_TMP/qemu.log" | tr -d '\r')"
echo
echo "== what pxed recorded, event by event (pxed events)"
ip netns exec "$LAB_NS" "$PXED" events --url "$URL" | sed 's/^/  /'
echo
echo "== the boot timeline (pxed timeline $MAC)"
"$PXED" timeline "$MAC" --state-dir "$LAB_TMP/state"
first_us=$(sqlite3 "$LAB_TMP/state/pxed.db" "SELECT min(ts_us) FROM events")
awk -v a="$first_us" -v b="$up_us" -v s="$start_us" 'BEGIN {
	printf "  %-8s +%7.2fs %8s  the guest printed its marker (power-on to first DHCP: %.2fs)\n",
		"guest up", (b - a) / 1e6, "", (a - s) / 1e6 }'
echo
echo "== done: cleaning up (namespace, QEMU, pxed)"
