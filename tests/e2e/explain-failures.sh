#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Boots that fail on purpose, and what `pxed explain` says about each. One pxed
# (full DHCP, tftp.root set) and four QEMU guests at once, each broken its own way:
#   a. missing file:  host a-missing's profile names a bios program that is not
#      under tftp.root: iPXE asks for it, pxed refuses it -> "missing under the root";
#   b. wrong architecture: a UEFI guest taken as efi-arm64 by arch_overrides, whose
#      profile has only a bios program: pxed has no boot plan -> the architecture
#      diagnosis (firmware efi-x64, taken as efi-arm64, profile without an
#      efi-arm64 program);
#   c. a second DHCP server: dnsmasq on another host of the LAN answers this
#      guest only, with iPXE priority 127 and "ignore proxyDHCP" (option 175), and
#      always first (nftables drops pxed's replies to this guest: iPXE requests the
#      first offer that carries boot options, so a race would decide otherwise), so
#      the guest's iPXE takes dnsmasq's offer and broadcasts a REQUEST naming it
#      -> "took another server's offer" (with dnsmasq's address);
#   d. a transfer cut by dropping packets: nftables in pxed's namespace lets the
#      first LOSSY_BYTES of TFTP DATA to the guest's reserved address through and
#      drops the rest: pxelinux.0 stops mid-file -> "died at block N after R retries".
# Each guest runs only until pxed has recorded the event that shows its failure
# (bounded by PXED_E2E_TIMEOUT), then it is stopped and `pxed explain` is checked.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

TIMEOUT=${PXED_E2E_TIMEOUT:-240}
LOSSY_BYTES=16000
lab_setup pxed-e2e-explain 66
lab_assets
MAC_A=52:54:00:77:42:01
MAC_B=52:54:00:77:42:02
MAC_C=52:54:00:77:42:03
MAC_D=52:54:00:77:42:04
IP_D=$LAB_NET.44
mkdir -p "$LAB_TMP/tftp"
command -v nft >/dev/null || lab_fail "nft is missing: run make deps (package nftables)"

cat >"$LAB_TMP/pxed.yaml" <<YAML
interfaces: [$LAB_BR]
dhcp:
  mode: server
  lease_time: 10m
state_dir: $LAB_TMP/state
tftp:
  root: $LAB_TMP/tftp
subnets:
  - subnet: $LAB_NET.0/24
    pool: $LAB_NET.100-$LAB_NET.149
profiles:
  linux:
    kernel: $LAB_KERNEL
    initrds: [$LAB_INITRD]
    cmdline: console=ttyS0 panic=-1
  missing:
    kernel: $LAB_KERNEL
    programs: {bios: missing-loader.0}
  biosonly:
    kernel: $LAB_KERNEL
    programs: {bios: pxelinux.0}
  lossy:
    kernel: $LAB_KERNEL
    initrds: [$LAB_INITRD]
    programs: {bios: pxelinux.0}
hosts:
  - {mac: $MAC_A, name: a-missing, profile: missing}
  - {mac: $MAC_B, name: b-arm, profile: biosonly}
  - {mac: $MAC_C, name: c-other, profile: linux}
  - {mac: $MAC_D, name: d-lossy, profile: lossy, address: $IP_D}
arch_overrides:
  - {mac_prefix: "$MAC_B", arch: efi-arm64}
YAML
"$PXED" check --config "$LAB_TMP/pxed.yaml" >/dev/null || lab_fail "pxed check refused the config"

# c: pxed's DHCP replies to MAC_C (chaddr: 28 bytes into the DHCP message) never leave.
# d: DATA (opcode 3) from a transfer socket (never port 69) to the guest, past a byte quota.
ip netns exec "$LAB_NS" nft -f - <<NFT || lab_fail "cannot load the nftables rules"
table inet pxed_explain {
	chain out {
		type filter hook output priority filter; policy accept;
		meta l4proto udp udp sport 67 @th,288,48 0x${MAC_C//:/} counter drop
		ip daddr $IP_D meta l4proto udp udp sport != 69 @th,64,16 3 \
			quota over $LOSSY_BYTES bytes counter drop
	}
}
NFT

# c: the second DHCP server, for MAC_C only (the others it ignores).
lab_add_host dhcp "$LAB_NET.2/24"
ip netns exec "$LAB_HOST_NS" setpriv --pdeathsig TERM -- \
	/usr/sbin/dnsmasq --no-daemon --port=0 \
	--dhcp-range="$LAB_NET.200,$LAB_NET.220,255.255.255.0,1h" \
	--dhcp-host="$MAC_C,$LAB_NET.201" --dhcp-ignore='tag:!known' \
	--dhcp-boot=other-server.kpxe --dhcp-option-force=175,01:01:7f:b0:01:01 \
	--dhcp-leasefile="$LAB_TMP/dnsmasq.leases" --interface=eth0 --bind-interfaces \
	--no-resolv --no-hosts --conf-file=/dev/null --log-dhcp --log-facility=- \
	--no-ping --pid-file= </dev/null >"$LAB_TMP/dnsmasq.log" 2>&1 &
lab_track_pid $!
for ((i = 0; i < 100; i++)); do
	ip netns exec "$LAB_HOST_NS" ss -H -lnu 'sport = :67' 2>/dev/null | grep -q . && break
	sleep 0.1
done
[ "$i" -lt 100 ] || lab_fail "dnsmasq did not start"

lab_pxed serve --config "$LAB_TMP/pxed.yaml"
lab_wait_port udp 67 && lab_wait_port udp 69 && lab_wait_port tcp 80 ||
	lab_fail "pxed does not listen on UDP 67, UDP 69 and TCP 80"

declare -A QEMU_OF=()
for g in a b c d; do lab_add_tap "tap$g"; done
lab_qemu_bios "$MAC_A" tapa "$LAB_TMP/qemu-a.log" "$TIMEOUT"
QEMU_OF[a]=$LAB_QEMU_PID
lab_qemu_uefi "$MAC_B" tapb "$LAB_TMP/qemu-b.log" "$TIMEOUT"
QEMU_OF[b]=$LAB_QEMU_PID
lab_qemu_bios "$MAC_C" tapc "$LAB_TMP/qemu-c.log" "$TIMEOUT"
QEMU_OF[c]=$LAB_QEMU_PID
lab_qemu_bios "$MAC_D" tapd "$LAB_TMP/qemu-d.log" "$TIMEOUT"
QEMU_OF[d]=$LAB_QEMU_PID

# wait_event GUEST MAC WHERE: poll the store until MAC has an event matching the SQL
# condition WHERE (TIMEOUT at most), then stop GUEST's QEMU: its failure is recorded.
wait_event() {
	local g=$1 mac=$2 where=$3 hex i n
	hex=$(tr -d : <<<"$mac" | tr a-f A-F)
	for ((i = 0; i < TIMEOUT * 2; i++)); do
		n=$(sqlite3 -cmd ".timeout 2000" "$LAB_TMP/state/pxed.db" \
			"SELECT count(*) FROM events WHERE hex(mac) = '$hex' AND $where" 2>/dev/null || echo 0)
		[ "${n:-0}" -gt 0 ] && break
		sleep 0.5
	done
	lab_kill_qemu "${QEMU_OF[$g]}"
	[ "${n:-0}" -gt 0 ] || lab_fail "guest $g ($mac): no event with $where within ${TIMEOUT}s"
	lab_ok "guest $g ($mac) failed as arranged: its event ($where) is recorded"
}

# b first: OVMF's PXE gives up after minutes; its DHCP offers come within seconds.
wait_event b "$MAC_B" "kind = 'offer' AND decision = 'none'"
wait_event a "$MAC_A" "kind = 'refused' AND file = 'missing-loader.0'"
wait_event c "$MAC_C" "kind = 'chose-other'"
# pxed gives a transfer up after 5 timeouts (1+2+4+8+8 s) unless the client does first.
wait_event d "$MAC_D" "kind = 'transfer' AND ok = 0"

# a. The program is not under the root.
lab_explain --config "$LAB_TMP/pxed.yaml" "$MAC_A" \
	'^plan: +iPXE: +missing-loader\.0' 'why: host a-missing: .*missing-loader\.0, profile missing' \
	' refused +tftp +1 file not served: missing-loader\.0' \
	"^cause: +\\[file-missing\\] The file is missing: .*missing-loader\\.0 over tftp.* not under the root $LAB_TMP/tftp \\(tftp\\.root\\)"

# b. No program for the architecture pxed took it for.
lab_explain --config "$LAB_TMP/pxed.yaml" "$MAC_B" \
	'^facts: +arch efi-x64 \(7\), vendor class PXEClient:Arch:00007' \
	'^plan: +firmware: +none' 'the current config decides the same' \
	'^stopped: +at DHCP: pxed gave no boot file' \
	'^cause: +\[no-plan\] Wrong architecture for its profile: the firmware is efi-x64 \(option 93 = 7\), taken as efi-arm64 by arch_overrides, but profile biosonly has no program for efi-arm64'

# c. The other server's offer, named.
lab_explain "$MAC_C" ' other +dhcp +took the offer of server '"$LAB_NET"'\.2' \
	"^cause: +\\[other-server\\] The machine took another server's offer: it asked DHCP server $LAB_NET\\.2 "
grep -q "DHCPACK.*$MAC_C" "$LAB_TMP/dnsmasq.log" || lab_fail "guest c's address did not come from dnsmasq"
lost=$(ip netns exec "$LAB_NS" nft list chain inet pxed_explain out |
	sed -n 's/.*@th,288,48.*counter packets \([0-9]*\).*/\1/p')
lab_ok "guest c took its address from dnsmasq ($lost replies of pxed's to it dropped)"

# d. The cut transfer: the block it died at, the retries, blksize and windowsize.
lab_explain "$MAC_D" ' nbp +tftp +pxelinux\.0, [0-9]+ bytes in .*FAILED at block [0-9]+' \
	'^stopped: +at the tftp transfer of pxelinux\.0, block [0-9]+ of [0-9]+' \
	'^cause: +\[transfer-died\] The transfer of pxelinux\.0 died at block [0-9]+ of [0-9]+ after [0-9]+ retries .*Suspect the MTU or blksize \(it used blksize=[0-9]+, windowsize=1'
block=$(sed -n 's/^stopped: .*block \([0-9]*\) of \([0-9]*\)$/\1 \2/p' "$LAB_TMP/explain-${MAC_D//:/-}.txt")
read -r at total <<<"$block"
dropped=$(ip netns exec "$LAB_NS" nft list chain inet pxed_explain out |
	sed -n 's/.*quota.*counter packets \([0-9]*\).*/\1/p')
[ "${at:-0}" -gt 1 ] && [ "$at" -lt "$total" ] && [ "${dropped:-0}" -gt 0 ] ||
	lab_fail "guest d: died at block '$at' of '$total', $dropped DATA dropped"
lab_ok "guest d: the transfer died at block $at of $total, after nftables dropped $dropped DATA packets"
