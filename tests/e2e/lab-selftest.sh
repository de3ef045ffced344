#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2015
# Proves the QEMU test lab works, without pxed:
#  1. the test kernel and initrd boot directly under QEMU (tcg) and the initrd's marker
#     line carries the kernel command line;
#  2. a BIOS guest's firmware output (SeaBIOS + iPXE) lands in the QEMU log: with no
#     server answering, iPXE's DHCP attempt must show up there; likewise OVMF's
#     "Start PXE over IPv4" for a UEFI guest;
#  3. lab_dhcp_host's dnsmasq leases an address from its pool to a client on the LAN;
#  4. cleanup leaves no namespace and no process of the lab behind.
# Env: LAB_SELFTEST_NS (default pxed-selftest), LAB_SELFTEST_OCTET (default 250).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

NS=${LAB_SELFTEST_NS:-pxed-selftest}
OCTET=${LAB_SELFTEST_OCTET:-250}
passed=0
ok() {
	lab_ok "$@"
	passed=$((passed + 1))
}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

lab_assets
ok "test assets: $LAB_KERNEL $LAB_INITRD"

lab_setup "$NS" "$OCTET"
ip -n "$LAB_NS" -br addr show dev br0 | grep -q "$LAB_SERVER_IP/24" ||
	lab_fail "br0 in $LAB_NS does not have $LAB_SERVER_IP/24"
ok "lab_setup: namespace $LAB_NS, $LAB_BR $LAB_SERVER_IP/24"

# 1. Direct kernel boot.
log=$LAB_TMP/qemu-direct.log
t0=$(now)
lab_qemu_direct "$LAB_KERNEL" "$LAB_INITRD" "console=ttyS0 panic=-1 pxedtest=selftest" "$log" 120
lab_wait_marker "$log" 120 || lab_fail "direct boot: no $LAB_MARKER line in the log"
t1=$(now)
cmdline=$(lab_marker_cmdline "$log")
case " $cmdline " in
*" pxedtest=selftest "*) ;;
*) lab_fail "direct boot: marker cmdline '$cmdline' lacks pxedtest=selftest" ;;
esac
ok "direct boot: marker in $(secs "$t0" "$t1") s, cmdline '$cmdline'"
rc=0
lab_wait_exit "$LAB_QEMU_PID" 30 || rc=$?
[ "$rc" = 0 ] || lab_fail "direct boot: QEMU did not power off by itself (status $rc)"
ok "direct boot: guest powered off, QEMU exited 0 after $(secs "$t0" "$(now)") s"

# 2. BIOS network boot with nobody answering: firmware output must reach the log.
lab_add_tap tap0
log=$LAB_TMP/qemu-bios.log
t0=$(now)
lab_qemu_bios "52:54:00:77:$(printf %02x "$OCTET"):01" tap0 "$log" 120
# iPXE prints "iPXE (http://ipxe.org) ..." then "Configuring (net0 <mac>)..." (or
# "DHCP (net0 ...)" in older builds) when it starts DHCP.
lab_wait_log "$log" 'iPXE' 60 || lab_fail "BIOS: no iPXE banner in the log"
lab_wait_log "$log" '(Configuring|DHCP) \(net0' 60 || lab_fail "BIOS: no iPXE DHCP attempt in the log"
t1=$(now)
ok "BIOS: iPXE's DHCP attempt is in the log after $(secs "$t0" "$t1") s"
grep -aq 'SeaBIOS' "$log" && ok "BIOS: SeaBIOS banner is in the log too"
lab_kill_qemu "$LAB_QEMU_PID"
lab_alive "$LAB_QEMU_PID" && lab_fail "BIOS: QEMU still running after lab_kill_qemu"
ok "BIOS: QEMU stopped"

# 2b. UEFI network boot with nobody answering: OVMF's boot manager output must reach
# the log ("Start PXE over IPv4" from EDK2's own PXE stack, not iPXE).
lab_add_tap tap1
log=$LAB_TMP/qemu-uefi.log
t0=$(now)
lab_qemu_uefi "52:54:00:77:$(printf %02x "$OCTET"):02" tap1 "$log" 150
lab_wait_log "$log" 'Start PXE over IPv4' 120 || lab_fail "UEFI: no 'Start PXE over IPv4' in the log"
ok "UEFI: OVMF started PXE over IPv4 after $(secs "$t0" "$(now)") s"
grep -aq 'iPXE' "$log" && lab_fail "UEFI: iPXE ran although romfile= should keep it out"
lab_kill_qemu "$LAB_QEMU_PID"
lab_alive "$LAB_QEMU_PID" && lab_fail "UEFI: QEMU still running after lab_kill_qemu"
ok "UEFI: no iPXE in the log; QEMU stopped"

# 3. The LAN's plain DHCP server, and a client on a third host.
lab_dhcp_host "$OCTET"
ok "lab_dhcp_host: dnsmasq listening in $LAB_DHCP_NS at $LAB_DHCP_IP"
lab_add_host cli
cli_ns=$LAB_HOST_NS
# udhcpc's own script would reconfigure eth0; ours only records what it was offered.
script=$LAB_TMP/udhcpc.script
cat >"$script" <<'EOF'
#!/bin/sh
[ "$1" = bound ] && echo "bound ip=$ip serverid=$serverid" >>"$UDHCPC_OUT"
exit 0
EOF
chmod +x "$script"
t0=$(now)
UDHCPC_OUT=$LAB_TMP/udhcpc.out timeout 40 ip netns exec "$cli_ns" \
	busybox udhcpc -f -i eth0 -n -q -t 3 -T 3 -s "$script" \
	</dev/null >"$LAB_TMP/udhcpc.log" 2>&1 ||
	lab_fail "udhcpc got no lease from dnsmasq"
got=$(sed -n 's/^bound ip=\([0-9.]*\) .*/\1/p' "$LAB_TMP/udhcpc.out" 2>/dev/null | head -n1)
last=${got##*.}
[ "${got%.*}" = "$LAB_NET" ] && [ "$last" -ge 50 ] && [ "$last" -le 99 ] ||
	lab_fail "udhcpc: lease '$got' is not in $LAB_NET.50-99"
grep -q "serverid=$LAB_DHCP_IP" "$LAB_TMP/udhcpc.out" ||
	lab_fail "udhcpc: lease not from $LAB_DHCP_IP"
ok "lab_dhcp_host: client got $got from $LAB_DHCP_IP in $(secs "$t0" "$(now)") s"

# 4. Teardown.
pids=("${LAB_PIDS[@]}")
made=("${LAB_NETNS_MADE[@]}")
lab_cleanup
for p in "${pids[@]}"; do
	kill -0 "$p" 2>/dev/null && {
		echo "not ok - cleanup: PID $p still running"
		exit 1
	}
done
left=$(ip netns list | awk '{print $1}' | grep -xF -e "$NS" -e "$NS-dhcp" -e "$NS-cli" || true)
[ -z "$left" ] || {
	echo "not ok - cleanup: namespaces left: $(tr '\n' ' ' <<<"$left")"
	exit 1
}
ok "cleanup: namespaces ${made[*]} and ${#pids[@]} tracked processes gone"

echo "$passed passed, 0 failed"
