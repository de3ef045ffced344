#!/usr/bin/env bash
# Config mode: two guests with different MACs boot the same profile and each
# gets the kernel command line of its own host entry; the reserved address is
# the one leased. Both guests boot at once (one BIOS, one UEFI).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

TIMEOUT=${PXED_E2E_TIMEOUT:-300}
lab_setup pxed-e2e-config 15
lab_assets
MAC1=52:54:00:77:0f:01
MAC2=52:54:00:77:0f:02

cat > "$LAB_TMP/pxed.yaml" <<YAML
interfaces: [$LAB_BR]
dhcp:
  mode: server
  lease_time: 10m
state_dir: $LAB_TMP/state
subnets:
  - subnet: $LAB_NET.0/24
    pool: $LAB_NET.100-$LAB_NET.149
profiles:
  testlinux:
    kernel: $LAB_KERNEL
    initrds: [$LAB_INITRD]
    cmdline: console=ttyS0 panic=-1
hosts:
  - mac: $MAC1
    name: alpha
    address: $LAB_NET.21
    profile: testlinux
    cmdline: pxedhost=alpha
  - mac: $MAC2
    name: beta
    profile: testlinux
    cmdline: pxedhost=beta
YAML

"$PXED" check --config "$LAB_TMP/pxed.yaml" || lab_fail "pxed check refused the config"
lab_ok "pxed check accepts the config"

lab_pxed serve --config "$LAB_TMP/pxed.yaml"
lab_wait_port udp 67 || lab_fail "pxed does not listen on UDP 67"
lab_wait_port tcp 80 || lab_fail "pxed does not listen on TCP 80"

lab_add_tap tap1
lab_add_tap tap2
lab_qemu_bios "$MAC1" tap1 "$LAB_TMP/qemu-alpha.log" "$TIMEOUT"
lab_qemu_uefi "$MAC2" tap2 "$LAB_TMP/qemu-beta.log" "$TIMEOUT"

for who in alpha beta; do
	log="$LAB_TMP/qemu-$who.log"
	lab_wait_marker "$log" "$TIMEOUT" || lab_fail "guest $who did not boot"
	cmdline=$(lab_marker_cmdline "$log")
	[[ " $cmdline " == *" pxedhost=$who "* ]] || lab_fail "$who's command line: $cmdline"
	for other in alpha beta; do
		[ "$other" = "$who" ] && continue
		[[ " $cmdline " != *" pxedhost=$other "* ]] || lab_fail "$who got $other's cmdline"
	done
	lab_ok "guest $who booted with its host entry's command line: $cmdline"
done

ip=$(sqlite3 "$LAB_TMP/state/pxed.db" "SELECT ip FROM leases WHERE hex(mac) = '525400770F01'")
[ "$ip" = $(( (10 << 24) + (77 << 16) + (15 << 8) + 21 )) ] ||
	lab_fail "alpha's lease is $ip, not its reserved $LAB_NET.21"
lab_ok "alpha holds its reserved address $LAB_NET.21"

# `pxed explain`, with the config: the facts, the host entry's plan (decided the same way
# again), the steps, and "done".
lab_explain --config "$LAB_TMP/pxed.yaml" "$MAC1" '^facts: +arch bios \(0\)' \
	"^plan: +iPXE: +http://$LAB_SERVER_IP(:[0-9]+)?/boot/52-54-00-77-0f-01\\.ipxe" \
	'why: host alpha: iPXE client: script of profile testlinux' \
	'the current config decides the same' ' script +http ' ' kernel +http ' ' initrd +http ' \
	'^cause: +\[done\]'
lab_explain --config "$LAB_TMP/pxed.yaml" "$MAC2" '^facts: +arch efi-x64 \(7\)' \
	'^plan: +firmware: +snponly\.efi' 'why: host beta: architecture 7 \(efi-x64\): snponly\.efi' \
	' nbp +tftp +snponly\.efi' ' script +http ' ' kernel +http ' ' initrd +http ' \
	'^cause: +\[done\]'
