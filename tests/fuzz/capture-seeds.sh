#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Captures the DHCP messages real firmware sends, as seeds for the DHCP fuzzers
# and as byte vectors for tests/unit/test_dhcp_captured.c (needs root and QEMU).
#
#   tests/fuzz/capture-seeds.sh [plain|menu] [DEST]
#
# A BIOS guest (SeaBIOS + QEMU's iPXE ROM) and a UEFI guest (OVMF's EDK2 PXE,
# then the snponly.efi iPXE it loads) network-boot the test kernel from pxed in
# a lab namespace while tests/fuzz/dhcp-sniff.py records every DHCP datagram on
# the bridge. plain: `pxed boot` (DISCOVER and REQUEST of each client); menu: a
# two-item PXE menu, so the boot-server REQUESTs to port 4011 are captured too.
# The first client message of each kind lands in DEST (default
# tests/fuzz/corpus/dhcp) as <firmware>-<client>-<message>[-4011].bin.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../e2e/lib.sh
. "$HERE/../e2e/lib.sh"

MODE=${1:-plain}
DEST=${2:-$HERE/corpus/dhcp}
TIMEOUT=${PXED_E2E_TIMEOUT:-150}
case "$MODE" in plain | menu) ;; *) echo "usage: $0 [plain|menu] [DEST]" >&2; exit 2 ;; esac
mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd)

lab_setup pxed-capture 47
lab_assets
BIOS_MAC=52:54:00:77:2f:01
UEFI_MAC=52:54:00:77:2f:02

if [ "$MODE" = plain ]; then
	lab_pxed boot --interface "$LAB_BR" --dhcp-range "$LAB_NET.100,$LAB_NET.150" \
		--kernel "$LAB_KERNEL" --initrd "$LAB_INITRD" \
		--cmdline "console=ttyS0 panic=-1" --state-dir "$LAB_TMP/state"
else
	cat >"$LAB_TMP/pxed.yaml" <<YAML
interfaces: [$LAB_BR]
dhcp:
  mode: server
state_dir: $LAB_TMP/state
subnets:
  - subnet: $LAB_NET.0/24
    pool: $LAB_NET.100-$LAB_NET.149
profiles:
  first:
    kernel: $LAB_KERNEL
    initrds: [$LAB_INITRD]
    cmdline: console=ttyS0 panic=-1 item=first
  second:
    kernel: $LAB_KERNEL
    initrds: [$LAB_INITRD]
    cmdline: console=ttyS0 panic=-1 item=second
pxe_menu:
  prompt: Press F8 for the boot menu
  timeout: 2
  items:
    - {label: First, profile: first, type: 1}
    - {label: Second, profile: second, type: 2}
YAML
	lab_pxed serve --config "$LAB_TMP/pxed.yaml"
fi
lab_wait_port udp 67 || lab_fail "pxed does not listen on UDP 67"
lab_wait_port tcp 80 || lab_fail "pxed does not listen on TCP 80"

ip netns exec "$LAB_NS" setpriv --pdeathsig TERM -- \
	python3 "$HERE/dhcp-sniff.py" "$LAB_BR" "$LAB_TMP/pcap" "$((TIMEOUT + 30))" \
	</dev/null >"$LAB_TMP/sniff.log" 2>&1 &
lab_track_pid $!
sleep 1

lab_add_tap tap1
lab_add_tap tap2
lab_qemu_bios "$BIOS_MAC" tap1 "$LAB_TMP/qemu-bios.log" "$TIMEOUT"
lab_qemu_uefi "$UEFI_MAC" tap2 "$LAB_TMP/qemu-uefi.log" "$TIMEOUT"
for fw in bios uefi; do
	lab_wait_marker "$LAB_TMP/qemu-$fw.log" "$TIMEOUT" || lab_fail "$fw guest did not boot"
	lab_ok "$fw guest booted"
done
sleep 1
python3 "$HERE/dhcp-sniff.py" --classify "$LAB_TMP/pcap" "$DEST" | sed 's/^/# /'
lab_ok "seeds in $DEST"
