#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# GRUB: two UEFI guests (OVMF's own PXE) whose profiles name an efi-x64
# program boot Debian's signed GRUB network image from pxed over TFTP, at once:
#   gnu1: grubnetx64.efi, Secure Boot off;
#   gnu2: shimx64.efi with Secure Boot on (OVMF with Microsoft's keys): the
#         shim loads grubx64.efi (the same GRUB image), which checks the kernel.
#         Its profile (the Secure Boot chain) and its host entry are not in the
#         file: they are put through the inventory API once pxed runs.
# GRUB (prefix /grub) reads grub/grub.cfg, which pxed renders to send it on to
# grub/grub.cfg-01-<mac>; that one loads the kernel and the initrd from
# (tftp,<server>) with the command line pxed composed, its GRUB-special words
# quoted. `pxed timeline` must list both configurations.
# Needs grub-efi-amd64-signed and shim-signed (scripts/deps.sh).
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

TIMEOUT=${PXED_E2E_TIMEOUT:-300}
lab_setup pxed-e2e-grub 22
lab_assets
MAC1=52:54:00:77:16:01
MAC2=52:54:00:77:16:02
for f in /usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed /usr/lib/shim/shimx64.efi.signed \
	/usr/share/OVMF/OVMF_CODE_4M.secboot.fd /usr/share/OVMF/OVMF_VARS_4M.ms.fd; do
	[ -r "$f" ] || lab_fail "$f is missing (scripts/deps.sh installs what this test needs)"
done

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
  grubby:
    kernel: $LAB_KERNEL
    initrds: [$LAB_INITRD]
    cmdline: console=ttyS0 panic=-1 pxedboot=grub
    programs:
      efi-x64: grubnetx64.efi
api: {token_file: $LAB_TMP/api-token}
hosts:
  - mac: $MAC1
    name: gnu1
    profile: grubby
    cmdline: pxedhost=gnu1 pxedquote=a;b\$x{y}
YAML
printf 'grub-uefi-test-token-0123456789\n' >"$LAB_TMP/api-token"
chmod 600 "$LAB_TMP/api-token"

"$PXED" check --config "$LAB_TMP/pxed.yaml" || lab_fail "pxed check refused the config"
lab_pxed serve --config "$LAB_TMP/pxed.yaml"
lab_wait_port udp 67 || lab_fail "pxed does not listen on UDP 67"
lab_wait_port udp 69 || lab_fail "pxed does not listen on UDP 69"
lab_wait_port tcp 8780 || lab_fail "pxed does not listen on TCP 8780 (the inventory API)"
# api_put PATH JSON: PUT through the inventory API; fails the test unless 201.
api_put() {
	local code
	code=$(ip netns exec "$LAB_NS" curl -sS --max-time 10 -o "$LAB_TMP/api.out" -w '%{http_code}' \
		-X PUT -H 'Authorization: Bearer grub-uefi-test-token-0123456789' --data-binary "$2" \
		"http://127.0.0.1:8780/api/v1$1") || lab_fail "PUT $1 failed"
	[ "$code" = 201 ] || lab_fail "PUT $1: HTTP $code: $(cat "$LAB_TMP/api.out")"
}
api_put /profiles/shimmed "{\"kernel\": \"$LAB_KERNEL\", \"initrds\": [\"$LAB_INITRD\"],
	\"cmdline\": \"console=ttyS0 panic=-1 pxedboot=shim\", \"programs\": {\"efi-x64\": \"shimx64.efi\"}}"
api_put "/hosts/$MAC2" '{"name": "gnu2", "profile": "shimmed", "cmdline": "pxedhost=gnu2"}'
lab_ok "the Secure Boot profile (shim + signed GRUB) and gnu2 put through the inventory API"

lab_add_tap tap1
lab_add_tap tap2
lab_qemu_uefi "$MAC1" tap1 "$LAB_TMP/qemu-gnu1.log" "$TIMEOUT"
# Secure Boot: OVMF's secboot build needs SMM (q35) and a secure flash.
LAB_OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.secboot.fd LAB_OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.ms.fd \
	LAB_QEMU_EXTRA="-machine q35,smm=on -global driver=cfi.pflash01,property=secure,value=on" \
	lab_qemu_uefi "$MAC2" tap2 "$LAB_TMP/qemu-gnu2.log" "$TIMEOUT"

for who in gnu1 gnu2; do
	log="$LAB_TMP/qemu-$who.log"
	lab_wait_marker "$log" "$TIMEOUT" || lab_fail "guest $who did not boot"
	cmdline=$(lab_marker_cmdline "$log")
	words="console=ttyS0 panic=-1 pxedboot=grub pxedhost=gnu1 pxedquote=a;b\$x{y}"
	profile=grubby
	if [ "$who" = gnu2 ]; then
		words="console=ttyS0 panic=-1 pxedboot=shim pxedhost=gnu2"
		profile=shimmed
		grep -aq "secureboot: Secure boot enabled" "$log" ||
			lab_fail "gnu2's kernel did not run with Secure Boot on"
	fi
	# GRUB names the image it booted; the words are the rendered ones (';', '$'
	# and '{' mean something to GRUB: pxed quoted them, GRUB passed them on).
	[ "$cmdline" = "BOOT_IMAGE=(tftp,$LAB_SERVER_IP)/files/$profile/kernel $words" ] ||
		lab_fail "$who's command line is not the rendered one: $cmdline"
	lab_ok "guest $who booted through GRUB with the rendered command line: $cmdline"
done
lab_ok "gnu2 booted with Secure Boot on through its API profile: shim, GRUB and kernel all verified"

# timeline_of MAC: `pxed timeline MAC` into $LAB_TMP/timeline.txt, echoed as comments.
timeline_of() {
	"$PXED" timeline "$1" --state-dir "$LAB_TMP/state" >"$LAB_TMP/timeline.txt" ||
		lab_fail "pxed timeline $1 failed"
	sed 's/^/# /' "$LAB_TMP/timeline.txt"
}
# step NAME DETAIL-ERE PROTO: the timeline has step NAME over PROTO, more than 0 bytes.
step() {
	grep -qE "^  $1 .*$2 .*over $3, [1-9][0-9]* bytes$" "$LAB_TMP/timeline.txt" ||
		lab_fail "the timeline lacks the $1 step ($2 over $3)"
}

timeline_of "$MAC1"
grep -qE "^  DHCP .*reason=host gnu1: architecture 7 \(efi-x64\): grubnetx64\.efi, profile grubby's efi-x64 program" \
	"$LAB_TMP/timeline.txt" || lab_fail "gnu1's DHCP step does not name the profile's efi-x64 program"
step NBP 'grubnetx64\.efi' tftp
step config 'grub/grub\.cfg size=[0-9]+' tftp
step config 'grub/grub\.cfg-01-52-54-00-77-16-01' tftp
step kernel 'files/grubby/kernel' tftp
step initrd 'files/grubby/initrd0' tftp
lab_ok "timeline of gnu1: DHCP, grubnetx64.efi, grub/grub.cfg, grub/grub.cfg-01-<mac>, kernel, initrd"

timeline_of "$MAC2"
step NBP 'shimx64\.efi' tftp
step NBP 'grubx64\.efi' tftp
step config 'grub/grub\.cfg-01-52-54-00-77-16-02' tftp
step kernel 'files/shimmed/kernel' tftp
step initrd 'files/shimmed/initrd0' tftp
lab_ok "timeline of gnu2: DHCP, shimx64.efi, grubx64.efi, its grub.cfg, kernel, initrd"

# `pxed explain`: GRUB's plan, its configuration and files, and "done".
lab_explain --config "$LAB_TMP/pxed.yaml" "$MAC1" '^facts: +arch efi-x64 \(7\)' \
	'^plan: +firmware: +grubnetx64\.efi' ' config +tftp +grub/grub\.cfg-01-52-54-00-77-16-01' \
	' kernel +tftp ' ' initrd +tftp ' '^cause: +\[done\]'
lab_explain --config "$LAB_TMP/pxed.yaml" "$MAC2" '^plan: +firmware: +shimx64\.efi' \
	' nbp +tftp +grubx64\.efi' ' kernel +tftp ' '^cause: +\[done\]'
lab_log "runtime ${SECONDS} s"
