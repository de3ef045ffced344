#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# A PXE menu (PXE 2.1 §2.4.7) with two items and a prompt. One guest is a BIOS
# machine (QEMU's iPXE ROM, whose PXE menu support is "PXEXT"), the other a UEFI
# machine (OVMF's own EDK2 PXE); both boot at once. Each must show the prompt on
# its console, boot the expected item's command line (never the other's), and
# leave a boot-server step on port 4011 (pxe4011) in `pxed timeline`.
#
#   tests/e2e/pxe-menu.sh          nobody presses a key: the prompt (3 s) times
#                                  out and both boot the default, item 1
#   PXED_MENU_MODE=keys tests/e2e/pxe-menu.sh   (tests/e2e/pxe-menu-keys.sh)
#                                  F8 on the keyboard (QEMU monitor sendkey), then
#                                  item 2: "b" in iPXE's menu, down and Enter in
#                                  EDK2's. The UEFI guest then runs the iPXE that
#                                  item 2 loaded, which must still get item 2.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# $1 is the build directory, as for every test script; the mode comes from the environment.
MODE=${PXED_MENU_MODE:-default}
case "$MODE" in
default) ITEM=first TYPE=1 LABEL="First item" PROMPT_S=3 LAB=pxed-e2e-menu OCTET=16 ;;
keys) ITEM=second TYPE=2 LABEL="Second item" PROMPT_S=15 LAB=pxed-e2e-menukeys OCTET=17 ;;
*) echo "PXED_MENU_MODE must be default or keys" >&2; exit 2 ;;
esac
TIMEOUT=${PXED_E2E_TIMEOUT:-120}
lab_setup "$LAB" "$OCTET"
lab_assets
BIOS_MAC=52:54:00:77:10:01
UEFI_MAC=52:54:00:77:10:02
PROMPT="Press F8 for the pxed test menu"

# keys FW KEY...: QEMU monitor `sendkey KEY` to guest FW, half a second apart.
keys() {
	local sock="$LAB_TMP/monitor-$1.sock"
	shift
	python3 - "$sock" "$@" <<'PY' || lab_fail "cannot send keys through $sock"
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
for key in sys.argv[2:]:
    s.sendall(("sendkey %s\n" % key).encode())
    time.sleep(0.5)
s.close()
PY
}

cat >"$LAB_TMP/pxed.yaml" <<YAML
interfaces: [$LAB_BR]
dhcp:
  mode: server
  lease_time: 10m
state_dir: $LAB_TMP/state
subnets:
  - subnet: $LAB_NET.0/24
    pool: $LAB_NET.100-$LAB_NET.149
profiles:
  first:
    kernel: $LAB_KERNEL
    initrds: [$LAB_INITRD]
    cmdline: console=ttyS0 panic=-1 pxedmenu=first
  second:
    kernel: $LAB_KERNEL
    initrds: [$LAB_INITRD]
    cmdline: console=ttyS0 panic=-1 pxedmenu=second
pxe_menu:
  prompt: $PROMPT
  timeout: $PROMPT_S
  items:
    - {label: First item, profile: first, type: 1}
    - {label: Second item, profile: second, type: 2}
YAML

"$PXED" check --config "$LAB_TMP/pxed.yaml" || lab_fail "pxed check refused the config"
lab_pxed serve --config "$LAB_TMP/pxed.yaml"
lab_wait_port udp 67 || lab_fail "pxed does not listen on UDP 67"
lab_wait_port udp 4011 || lab_fail "pxed does not listen on UDP 4011"
lab_wait_port tcp 80 || lab_fail "pxed does not listen on TCP 80"

lab_add_tap tap1
lab_add_tap tap2
LAB_QEMU_EXTRA="-monitor unix:$LAB_TMP/monitor-bios.sock,server=on,wait=off" \
	lab_qemu_bios "$BIOS_MAC" tap1 "$LAB_TMP/qemu-bios.log" "$TIMEOUT"
LAB_QEMU_EXTRA="-monitor unix:$LAB_TMP/monitor-uefi.sock,server=on,wait=off" \
	lab_qemu_uefi "$UEFI_MAC" tap2 "$LAB_TMP/qemu-uefi.log" "$TIMEOUT"

if [ "$MODE" = keys ]; then
	# iPXE: F8 opens the menu, a letter picks an item. EDK2: F8, then down, Enter.
	lab_wait_log "$LAB_TMP/qemu-bios.log" "$PROMPT" 60 || lab_fail "bios guest: no prompt"
	keys bios f8 b
	lab_wait_log "$LAB_TMP/qemu-uefi.log" "$PROMPT" 60 || lab_fail "uefi guest: no prompt"
	keys uefi f8 down ret
fi

other=first
[ "$ITEM" = first ] && other=second
for fw in bios uefi; do
	log="$LAB_TMP/qemu-$fw.log"
	lab_wait_marker "$log" "$TIMEOUT" || lab_fail "$fw guest did not boot"
	grep -aqF "$PROMPT" "$log" || lab_fail "$fw guest never showed the menu prompt"
	cmdline=$(lab_marker_cmdline "$log")
	[[ " $cmdline " == *" pxedmenu=$ITEM "* ]] || lab_fail "$fw guest's command line: $cmdline"
	[[ " $cmdline " != *" pxedmenu=$other "* ]] || lab_fail "$fw guest booted the other item"
	lab_ok "$fw guest showed the prompt and booted item $TYPE ($MODE): $cmdline"
done

for mac in "$BIOS_MAC" "$UEFI_MAC"; do
	"$PXED" timeline "$mac" --state-dir "$LAB_TMP/state" >"$LAB_TMP/timeline.txt" ||
		lab_fail "pxed timeline $mac failed"
	sed 's/^/# /' "$LAB_TMP/timeline.txt"
	grep -qE "^  DHCP .* pxe4011 ack .*reason=menu item $TYPE \($LABEL\)" "$LAB_TMP/timeline.txt" ||
		lab_fail "the timeline of $mac lacks the pxe4011 step for item $TYPE"
	for step in script kernel initrd; do
		grep -qE "^  $step .*/$ITEM/" "$LAB_TMP/timeline.txt" ||
			lab_fail "the timeline of $mac lacks item $TYPE's $step"
	done
	lab_ok "timeline of $mac: DHCP with the menu, pxe4011 for item $TYPE, then its files"
	# `pxed explain`: the plan came from the boot server (4011), the item's files, "done".
	lab_explain --config "$LAB_TMP/pxed.yaml" "$mac" '\(via pxe4011\)' \
		" script +http +boot/$ITEM/" " kernel +http +files/$ITEM/" '^cause: +\[done\]'
	# Decided again with the item the server remembered for iPXE, the plans are the same.
	! grep -q "would now give" "$LAB_TMP/explain-${mac//:/-}.txt" ||
		lab_fail "pxed explain $mac: the config decides differently on the recorded facts"
done
lab_log "runtime ${SECONDS} s"
