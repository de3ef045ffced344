#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2015
# PXE menus and boot server discovery (PXE 2.1 §2.4, port 4011) against pxed, with
# dhcp-probe as the PXE client, in network namespaces (needs root). The config has a
# menu of three items: 1 "Alpha" (profile alpha), 2 "Beta" (profile beta, another
# kernel and command line) and a local-boot item.
#  a. a PXE DISCOVER (PXEClient, arch 7) gets an OFFER whose option 43 carries
#     discovery control 3, a boot server for types 1 and 2, the menu and the prompt,
#     with the default item's program as boot file; the ACK carries them too;
#  b. a REQUEST to port 4011 naming boot item 2 (from port 4011, as EDK2 sends it)
#     gets an ACK with snponly.efi and sub-option 71 echoed; the iPXE that program
#     becomes, asking again without a boot item, gets profile beta's script, and
#     that script boots beta's kernel; item 1 (as iPXE asks, from port 68) gets
#     profile alpha's script at once;
#  c. an unknown item, the local-boot item and a PXE BIS layer get no reply (as
#     dnsmasq: a boot server that does not serve a type stays silent, PXE 2.1
#     §2.2.5) and are counted as ignored.
# Usage: tests/integration/pxe-bootserver.sh [BUILD_DIR]   (default: build)
# Env: PXED (default BUILD_DIR/pxed), DHCP_PROBE (default BUILD_DIR/tests/dhcp-probe).
set -euo pipefail

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib-dhcp.sh
. "$HERE/lib-dhcp.sh"

VC_EFI=PXEClient:Arch:00007:UNDI:003000 # EDK2 on x64
VC_IPXE=PXEClient:Arch:00000:UNDI:002001 # QEMU's iPXE ROM
EFI_MAC=52:54:00:20:00:01
IPXE_MAC=52:54:00:20:00:02
ODD_MAC=52:54:00:20:00:03

[ -x "$PROBE" ] || { echo "not ok - dhcp-probe not built: $PROBE"; exit 1; }
[ -x "$PXED" ] || { echo "not ok - pxed not built: $PXED"; exit 1; }
command -v curl >/dev/null || { echo "not ok - curl is not installed"; exit 1; }

lab_setup pxed-it-pxebs 32
SERVER=$LAB_SERVER_IP
lab_add_host cli
CLI_NS=$LAB_HOST_NS

# Any readable files do as kernels: nothing boots here.
printf 'kernel of alpha\n' >"$LAB_TMP/vmlinuz-alpha"
printf 'kernel of beta\n' >"$LAB_TMP/vmlinuz-beta"
cat >"$LAB_TMP/pxed.yaml" <<YAML
interfaces: [$LAB_BR]
dhcp:
  mode: server
state_dir: $LAB_TMP/state
http:
  port: 8080
subnets:
  - subnet: $LAB_NET.0/24
    pool: $LAB_NET.100-$LAB_NET.149
profiles:
  alpha:
    kernel: $LAB_TMP/vmlinuz-alpha
    cmdline: item=alpha
  beta:
    kernel: $LAB_TMP/vmlinuz-beta
    cmdline: item=beta
default_profile: alpha
pxe_menu:
  prompt: Press F8 for the boot menu
  timeout: 3
  items:
    - {label: Alpha, profile: alpha, type: 1}
    - {label: Beta, profile: beta, type: 2}
    - {label: Local disk, local: true}
YAML

# ---- helpers -------------------------------------------------------------

# fields KEY TEXT: every value of KEY=, one per line.
fields() { sed -n "s/^$1=//p" <<<"$2"; }

# expect_all KEY WANT TEXT WHAT: every KEY= line, joined with ';', must be WANT.
expect_all() {
	local got
	got=$(fields "$1" "$3" | paste -sd ';')
	[ "$got" = "$2" ] || lab_fail "$4: $1 lines are '$got', expected '$2'"
}

# get PATH: an HTTP GET from pxed, as the client host.
get() { ip netns exec "$CLI_NS" curl -sS --max-time 5 "http://$SERVER:8080/$1"; }

# menu_checks TEXT WHAT: the menu, as option 43 of TEXT carries it.
menu_checks() {
	expect pxe_discovery_control 3 "$1" "$2"
	expect_all pxe_boot_server "1 $SERVER;2 $SERVER" "$1" "$2"
	expect_all pxe_menu_item "1 Alpha;2 Beta;0 Local disk" "$1" "$2"
	expect pxe_prompt_timeout 3 "$1" "$2"
	expect pxe_prompt "Press F8 for the boot menu" "$1" "$2"
	expect vendor_class PXEClient "$1" "$2"
}

# ---- start ---------------------------------------------------------------

"$PXED" check --config "$LAB_TMP/pxed.yaml" >"$LAB_TMP/check.log" 2>&1 ||
	lab_fail "pxed check refused the config: $(cat "$LAB_TMP/check.log")"
lab_ok "pxed check accepts a config with a PXE menu"
lab_pxed serve --config "$LAB_TMP/pxed.yaml"
lab_wait_port udp 67 && lab_wait_port udp 4011 && lab_wait_port tcp 8080 ||
	lab_fail "pxed did not listen on UDP 67 and 4011 and TCP 8080"

# ---- a. the menu in the OFFER and the ACK --------------------------------

out=$(probe --type discover --mac "$EFI_MAC" --vendor-class "$VC_EFI" --arch 7 --uuid) ||
	lab_fail "PXE DISCOVER: no reply"
expect type OFFER "$out" "PXE DISCOVER"
menu_checks "$out" "PXE DISCOVER"
expect file snponly.efi "$out" "PXE DISCOVER"
expect siaddr "$SERVER" "$out" "PXE DISCOVER"
lab_ok "PXE DISCOVER: OFFER with the menu (types 1, 2, 0), prompt, boot servers, discovery control 3"

out=$(probe --type dora --mac "$EFI_MAC" --vendor-class "$VC_EFI" --arch 7 --uuid) ||
	lab_fail "PXE DISCOVER+REQUEST: no ACK"
expect type ACK "$out" "PXE REQUEST"
menu_checks "$out" "PXE REQUEST"
EFI_IP=$(field yiaddr "$out")
lab_ok "PXE REQUEST: ACK of $EFI_IP carries the menu too"

# ---- b. boot server discovery on port 4011 --------------------------------

ip -n "$CLI_NS" addr add "$EFI_IP/24" dev eth0
out=$(probe --type request --to "$SERVER" --port 4011 --from-port 4011 --ciaddr "$EFI_IP" \
	--mac "$EFI_MAC" --vendor-class "$VC_EFI" --arch 7 --uuid --boot-item 2) ||
	lab_fail "4011 REQUEST for item 2: no reply"
what="4011 REQUEST for item 2 (EDK2)"
expect type ACK "$out" "$what"
expect file snponly.efi "$out" "$what"
expect pxe_boot_item "2 0" "$out" "$what"
expect from "$SERVER:4011" "$out" "$what"
expect dst "$EFI_IP" "$out" "$what"
expect local_port 4011 "$out" "$what"
expect siaddr "$SERVER" "$out" "$what"
[ -z "$(field pxe_menu_item "$out")" ] || lab_fail "$what: the ACK carries the menu again"
lab_ok "4011: item 2 gets an ACK with snponly.efi and sub-option 71 (2, layer 0) echoed"

# snponly.efi is iPXE: it asks again, without a boot item, and gets item 2's profile.
out=$(probe --type request --to "$SERVER" --ciaddr "$EFI_IP" --mac "$EFI_MAC" \
	--vendor-class "$VC_EFI" --arch 7 --user-class iPXE) || lab_fail "iPXE REQUEST: no reply"
script_url="http://$SERVER:8080/boot/beta/${EFI_MAC//:/-}.ipxe"
expect file "$script_url" "$out" "iPXE after item 2"
script=$(get "boot/beta/${EFI_MAC//:/-}.ipxe") || lab_fail "GET $script_url failed"
grep -q "^kernel http://$SERVER:8080/files/beta/kernel item=beta$" <<<"$script" ||
	lab_fail "beta's script does not boot beta's kernel: $script"
[ "$(get files/beta/kernel)" = "kernel of beta" ] || lab_fail "files/beta/kernel is not beta's"
lab_ok "the iPXE that item 2 loaded gets profile beta's script, which boots beta's kernel"

# The timeline tells the same story.
"$PXED" timeline "$EFI_MAC" --state-dir "$LAB_TMP/state" --json >"$LAB_TMP/timeline.json" ||
	lab_fail "pxed timeline failed"
grep -q '"proto": "pxe4011"' "$LAB_TMP/timeline.json" || lab_fail "no pxe4011 event in the timeline"
grep -q 'menu item 2 (Beta)' "$LAB_TMP/timeline.json" || lab_fail "the timeline lacks item 2's reason"
lab_ok "pxed timeline records the port-4011 ACK with item 2's reason"

# QEMU's iPXE ROM on a BIOS machine: item 1, from port 68, gets alpha's script at once.
ip -n "$CLI_NS" addr add "$LAB_NET.51/24" dev eth0
out=$(probe --type request --to "$SERVER" --port 4011 --ciaddr "$LAB_NET.51" --mac "$IPXE_MAC" \
	--vendor-class "$VC_IPXE" --arch 0 --user-class iPXE --boot-item 1) ||
	lab_fail "4011 REQUEST for item 1: no reply"
what="4011 REQUEST for item 1 (iPXE)"
expect type ACK "$out" "$what"
expect file "http://$SERVER:8080/boot/alpha/${IPXE_MAC//:/-}.ipxe" "$out" "$what"
expect pxe_boot_item "1 0" "$out" "$what"
expect local_port 68 "$out" "$what"
get "boot/alpha/${IPXE_MAC//:/-}.ipxe" | grep -q "files/alpha/kernel item=alpha$" ||
	lab_fail "alpha's script does not boot alpha's kernel"
lab_ok "4011: item 1 from iPXE gets profile alpha's script, sub-option 71 (1, layer 0) echoed"

# ---- c. refused items ----------------------------------------------------

ignored0=$(metric 'pxed_dhcp_packets_dropped_total{reason="ignored"}')
for item in 9 0 2:32768; do
	if out=$(probe --type request --to "$SERVER" --port 4011 --ciaddr "$LAB_NET.51" \
		--mac "$ODD_MAC" --vendor-class "$VC_EFI" --arch 7 --boot-item "$item" \
		--timeout-ms 800 2>/dev/null); then
		lab_fail "4011 REQUEST for item $item got a reply: $(tr '\n' ' ' <<<"$out")"
	fi
done
ignored=$(metric 'pxed_dhcp_packets_dropped_total{reason="ignored"}')
[ "$ignored" -ge $((ignored0 + 3)) ] ||
	lab_fail "ignored went from $ignored0 to $ignored, expected +3"
lab_ok "4011: unknown item 9, local item 0 and a BIS layer get no reply; all three counted"

lab_kill_pxed 10 || lab_fail "pxed did not exit cleanly on SIGTERM"
lab_ok "pxed exits 0 on SIGTERM"
lab_log "runtime ${SECONDS} s"
