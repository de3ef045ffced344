#!/usr/bin/env bash
# `make demo`: boots a QEMU machine through pxed in a private network namespace
# and shows its boot as pxed recorded it. Everything it creates (namespace,
# processes, temp files) is removed when it ends, also on Ctrl-C.
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
echo "   pxed      : pid $LAB_PXED_PID, log $LAB_TMP/pxed.log"
echo
echo "== what pxed sees, live (QEMU emulates the machine in software: ~30 s)"
# tail ends with this script (--pid), so nothing holds the terminal afterwards.
tail --pid=$$ -n 0 -F "$LAB_TMP/pxed.log" 2>/dev/null |
	while read -r ts _level module rest; do
		case $module in
		dhcp | proxy | pxe4011 | tftp | http) printf '  %s  %-5s %s\n' "${ts:11:12}" "$module" "$rest" ;;
		esac
	done &
lab_track_pid $!

lab_add_tap tap0
start_us=$(date +%s%6N)
"lab_qemu_$FW" "$MAC" tap0 "$LAB_TMP/qemu.log" "$TIMEOUT"
if ! lab_wait_marker "$LAB_TMP/qemu.log" "$TIMEOUT"; then
	lab_fail "the machine did not boot; see the logs above"
fi
up_us=$(date +%s%6N)
sleep 0.5
echo "   guest console: $(grep -a -m1 PXED-TEST-BOOTED "$LAB_TMP/qemu.log" | tr -d '\r')"
echo
echo "== the boot timeline (pxed timeline $MAC)"
"$PXED" timeline "$MAC" --state-dir "$LAB_TMP/state"
first_us=$(sqlite3 "$LAB_TMP/state/pxed.db" "SELECT min(ts_us) FROM events")
awk -v a="$first_us" -v b="$up_us" -v s="$start_us" 'BEGIN {
	printf "  %-8s +%7.2fs %8s  the guest printed its marker (power-on to first DHCP: %.2fs)\n",
		"guest up", (b - a) / 1e6, "", (a - s) / 1e6 }'
echo
echo "== done: cleaning up (namespace, QEMU, pxed)"
