#!/usr/bin/env bash
# One QEMU guest network-boots the test kernel through `pxed boot`.
#   boot-one.sh MODE FIRMWARE OCTET
# MODE: full (pxed assigns addresses) or proxy (dnsmasq assigns them, pxed is
# proxyDHCP); FIRMWARE: bios or uefi; OCTET: the lab's subnet 10.77.OCTET.0/24.
# Checks the guest's own console for the marker and the command line, then
# what `pxed timeline` recorded of the boot.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

MODE=$1 FW=$2 OCTET=$3
TIMEOUT=${PXED_E2E_TIMEOUT:-300}
lab_setup "pxed-e2e-$MODE-$FW" "$OCTET"
lab_assets
MAC=$(printf '52:54:00:77:%02x:01' "$OCTET")
TOKEN="pxedtest=$MODE-$FW"

if [ "$MODE" = proxy ]; then
	lab_dhcp_host "$OCTET"
	dhcp_args=(--proxy)
else
	dhcp_args=(--dhcp-range "$LAB_NET.100,$LAB_NET.150")
fi
lab_pxed boot --interface "$LAB_BR" "${dhcp_args[@]}" --kernel "$LAB_KERNEL" \
	--initrd "$LAB_INITRD" --cmdline "console=ttyS0 panic=-1 $TOKEN" \
	--state-dir "$LAB_TMP/state"
lab_wait_port udp 67 || lab_fail "pxed does not listen on UDP 67"
lab_wait_port tcp 80 || lab_fail "pxed does not listen on TCP 80"

lab_add_tap tap0
"lab_qemu_$FW" "$MAC" tap0 "$LAB_TMP/qemu.log" "$TIMEOUT"
lab_wait_marker "$LAB_TMP/qemu.log" "$TIMEOUT" || lab_fail "$FW guest did not boot ($MODE)"
cmdline=$(lab_marker_cmdline "$LAB_TMP/qemu.log")
[[ " $cmdline " == *" $TOKEN "* ]] || lab_fail "kernel command line lacks $TOKEN: $cmdline"
lab_ok "$FW guest booted the kernel through pxed ($MODE DHCP) with cmdline: $cmdline"

# What pxed recorded must match what happened.
"$PXED" timeline "$MAC" --state-dir "$LAB_TMP/state" > "$LAB_TMP/timeline.txt" ||
	lab_fail "pxed timeline failed"
cat "$LAB_TMP/timeline.txt" | sed 's/^/# /'
for step in DHCP script kernel initrd; do
	grep -qE "^  $step " "$LAB_TMP/timeline.txt" || lab_fail "timeline lacks the $step step"
done
if [ "$FW" = uefi ]; then
	# EDK2 fetched iPXE over TFTP before iPXE took over.
	grep -qE "^  NBP .*snponly\.efi.* over tftp, [1-9][0-9]* bytes$" "$LAB_TMP/timeline.txt" ||
		lab_fail "timeline lacks the snponly.efi TFTP step"
fi
lab_ok "timeline shows DHCP, script, kernel and initrd"

# `pxed explain`: the facts the guest presented, the plan, the steps, and "done".
script_re="http://$LAB_SERVER_IP(:[0-9]+)?/boot/${MAC//:/-}\.ipxe"
if [ "$FW" = uefi ]; then
	lab_explain "$MAC" '^facts: +arch efi-x64 \(7\), vendor class PXEClient' \
		'^plan: +firmware: +snponly\.efi' "^ +iPXE: +$script_re" \
		' nbp +tftp +snponly\.efi, [1-9][0-9]* bytes' ' script +http +boot/' \
		' kernel +http ' ' initrd +http ' '^cause: +\[done\] Done: pxed.s part is done'
else
	# QEMU's BIOS network boot is iPXE: the firmware itself gets the script.
	lab_explain "$MAC" '^facts: +arch bios \(0\), vendor class PXEClient.*user class iPXE' \
		"^plan: +iPXE: +$script_re" ' script +http +boot/' ' kernel +http ' \
		' initrd +http ' '^cause: +\[done\] Done: pxed.s part is done'
fi

leases=$(sqlite3 "$LAB_TMP/state/pxed.db" "SELECT count(*) FROM leases")
if [ "$MODE" = proxy ]; then
	[ "$leases" = 0 ] || lab_fail "proxyDHCP wrote $leases leases"
	grep -qi "DHCPACK.*$MAC" "$LAB_TMP/dnsmasq.log" ||
		lab_fail "the guest's address did not come from dnsmasq"
	lab_ok "the address came from dnsmasq, pxed assigned none"
else
	ip=$(sqlite3 "$LAB_TMP/state/pxed.db" "SELECT ip FROM leases WHERE hex(mac) = '$(echo "$MAC" | tr -d : | tr a-f A-F)'")
	[ -n "$ip" ] || lab_fail "no lease recorded for $MAC"
	lab_ok "lease recorded for $MAC"
fi
