#!/usr/bin/env bash
# The provisioning life cycle (issue 5): a host marked `install: true` boots its
# installer profile (the test kernel with its rendered command line, which carries
# {{callback_url}}); the "installer" (the test initrd) POSTs the callback; on its next
# boot the same guest is told to boot locally (its iPXE script is `exit`) and the
# firmware goes on to its disk, whose boot sector prints a marker and ends QEMU.
# A second host boots through pxelinux (its profile's bios program): installed (its
# callback made with curl), its pxelinux.cfg says LOCALBOOT 0 and it reaches its disk too.
# A wrong token and a spent one are refused and change nothing. Marked again through
# the API, the host's script is the installer's once more, with a new token.
# shellcheck disable=SC2015 # `check && check || lab_fail`: lab_fail exits
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

TIMEOUT=${PXED_E2E_TIMEOUT:-300}
lab_setup pxed-e2e-install 132
lab_assets
MAC=52:54:00:77:84:01
MACD=${MAC//:/-}
MAC2=52:54:00:77:84:02
MAC2D=${MAC2//:/-}
DISK_MARKER='PXED-TEST-LOCAL-DISK'
N=0
ok() { N=$((N + 1)); echo "ok $N - $*"; }
API_TOKEN=lifecycle-test-token-0123456789
printf '%s\n' "$API_TOKEN" >"$LAB_TMP/api-token"
chmod 600 "$LAB_TMP/api-token"

cat >"$LAB_TMP/pxed.yaml" <<YAML
interfaces: [$LAB_BR]
dhcp:
  mode: server
  lease_time: 10m
state_dir: $LAB_TMP/state
api: {listen: 127.0.0.1, port: 8780, token_file: $LAB_TMP/api-token}
subnets:
  - subnet: $LAB_NET.0/24
    pool: $LAB_NET.100-$LAB_NET.149
profiles:
  installer:
    kernel: $LAB_KERNEL
    initrds: [$LAB_INITRD]
    cmdline: console=ttyS0 panic=-1 pxed.callback={{callback_url}}
  syslinux-installer:
    kernel: $LAB_KERNEL
    initrds: [$LAB_INITRD]
    cmdline: console=ttyS0 panic=-1 pxed.callback={{callback_url}}
    programs:
      bios: pxelinux.0
hosts:
  - mac: $MAC
    name: node1
    profile: installer
    install: true
    cmdline: pxedtest=install-{{hostname}}
  - mac: $MAC2
    name: node2
    profile: syslinux-installer
    install: true
YAML
"$PXED" check --config "$LAB_TMP/pxed.yaml" || lab_fail "pxed check refused the config"
ok "pxed check accepts install: true and {{callback_url}}"

# The guest's "local disk": one boot sector that writes DISK_MARKER to COM1 and ends
# QEMU through isa-debug-exit (port 0xf4; QEMU exits with status 0x31 << 1 | 1 = 99).
#   cld; xor ax,ax; mov ds,ax; mov si,msg; l: lodsb; test al,al; jz d;
#   mov dx,0x3f8; out dx,al; jmp l; d: mov al,0x31; out 0xf4,al; cli; hlt; jmp $-2
DISK=$LAB_TMP/disk.img
{
	printf '\xfc\x31\xc0\x8e\xd8\xbe\x1b\x7c\xac\x84\xc0\x74\x06\xba\xf8\x03\xee\xeb\xf5'
	printf '\xb0\x31\xe6\xf4\xfa\xf4\xeb\xfc'
	printf '%s\r\n\0' "$DISK_MARKER"
} >"$DISK"
truncate -s 510 "$DISK"
printf '\x55\xaa' >>"$DISK"
truncate -s 1M "$DISK"
cp "$DISK" "$LAB_TMP/disk2.img"

# guest LOG [MAC TAP DISK]: SeaBIOS, QEMU's iPXE ROM on virtio-net (the test kernel's
# initrd has the virtio-net modules, for the callback), network first, then the disk.
guest() {
	local log=$1 mac=${2:-$MAC} tap=${3:-tap0} disk=${4:-$DISK}
	lab__qemu "$log" "$TIMEOUT" \
		-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" \
		-device "virtio-net-pci,netdev=n0,mac=$mac" \
		-drive "file=$disk,format=raw,if=ide" \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 -boot order=nc
}

lab_pxed serve --config "$LAB_TMP/pxed.yaml"
lab_wait_port udp 67 || lab_fail "pxed does not listen on UDP 67"
lab_wait_port tcp 80 || lab_fail "pxed does not listen on TCP 80"
lab_add_tap tap0
lab_add_tap tap1

# state [MAC]: "STATE TOKEN" the store holds for MAC (default: the first host).
state() {
	local hex
	hex=$(echo "${1:-$MAC}" | tr -d : | tr a-f A-F)
	sqlite3 "$LAB_TMP/state/pxed.db" "SELECT state || ' ' || token FROM host_state WHERE hex(mac) = '$hex'"
}
read -r st token <<<"$(state)" || true
[ "$st" = install ] && [[ "$token" =~ ^[0-9a-f]{32}$ ]] ||
	lab_fail "at start the store holds '$st $token' for $MAC, not install and a token"
ok "install: true: the store holds state install with a fresh token"

# ---- boot 1: the installer -----------------------------------------------------------
guest "$LAB_TMP/qemu-1.log"
lab_wait_marker "$LAB_TMP/qemu-1.log" "$TIMEOUT" || lab_fail "boot 1: the installer did not boot"
cmdline=$(lab_marker_cmdline "$LAB_TMP/qemu-1.log")
want="pxed.callback=http://$LAB_SERVER_IP/callback/$MACD/$token"
[[ " $cmdline " == *" $want "* ]] || lab_fail "boot 1: command line lacks $want: $cmdline"
[[ " $cmdline " == *" pxedtest=install-node1 "* ]] || lab_fail "boot 1: no host words: $cmdline"
ok "boot 1: the installer profile booted with its rendered command line: $cmdline"
lab_wait_log "$LAB_TMP/qemu-1.log" 'PXED-TEST-CALLBACK' 60 || lab_fail "boot 1: no callback made"
grep -aq 'PXED-TEST-CALLBACK ok installed' "$LAB_TMP/qemu-1.log" ||
	lab_fail "boot 1: the callback failed: $(grep -a PXED-TEST-CALLBACK "$LAB_TMP/qemu-1.log")"
lab_wait_exit "$LAB_QEMU_PID" 60 >/dev/null || true
! grep -aq "$DISK_MARKER" "$LAB_TMP/qemu-1.log" || lab_fail "boot 1 went on to the disk"
ok "boot 1: the installer posted its callback and got 200 installed"

[ "$(state)" = "installed " ] || lab_fail "after the callback the store holds '$(state)'"
hosts=$(ip netns exec "$LAB_NS" "$PXED" hosts --config "$LAB_TMP/pxed.yaml") ||
	lab_fail "pxed hosts failed"
grep -Eq "^$MAC .* installed +config:[0-9]+\$" <<<"$hosts" || lab_fail "pxed hosts does not say installed: $hosts"
ok "the store holds state installed, the token spent; pxed hosts says installed"

# ---- refusals: a spent token, a wrong one, a GET --------------------------------------
code() { ip netns exec "$LAB_NS" curl -s -o /dev/null -w '%{http_code}' -m 10 "$@"; }
c=$(code -X POST "http://$LAB_SERVER_IP/callback/$MACD/$token")
[ "$c" = 403 ] || lab_fail "the spent token got $c, not 403"
c=$(code -X POST "http://$LAB_SERVER_IP/callback/$MACD/0123456789abcdef0123456789abcdef")
[ "$c" = 403 ] || lab_fail "a wrong token got $c, not 403"
c=$(code "http://$LAB_SERVER_IP/callback/$MACD/$token")
[ "$c" = 405 ] || lab_fail "a GET of the callback got $c, not 405"
c=$(code -X POST "http://$LAB_SERVER_IP/callback/52-54-00-77-84-99/$token")
[ "$c" = 404 ] || lab_fail "a MAC with no life cycle got $c, not 404"
[ "$(state)" = "installed " ] || lab_fail "a refused callback changed the state: '$(state)'"
ok "spent and wrong tokens get 403, a GET 405, a stranger 404; nothing changed"

metrics=$(ip netns exec "$LAB_NS" curl -s -m 10 "http://$LAB_SERVER_IP/metrics")
grep -qx 'pxed_install_callbacks_total{outcome="done"} 1' <<<"$metrics" ||
	lab_fail "metrics: $(grep pxed_install <<<"$metrics" | tr '\n' ' ')"
grep -qx 'pxed_install_callbacks_total{outcome="refused"} 3' <<<"$metrics" ||
	lab_fail "metrics: $(grep pxed_install <<<"$metrics" | tr '\n' ' ')"
ok "metrics count 1 callback done, 3 refused"

# The pxelinux host's installer is done too (its callback made here, as its installer would).
read -r _ token_b <<<"$(state "$MAC2")" || true
c=$(code -X POST --data 'done' "http://$LAB_SERVER_IP/callback/$MAC2D/$token_b")
[ "$c" = 200 ] && [ "$(state "$MAC2")" = "installed " ] || lab_fail "node2's callback got $c"
pxecfg=$(ip netns exec "$LAB_NS" curl -s -m 10 "http://$LAB_SERVER_IP/pxelinux.cfg/01-$MAC2D")
grep -q '^  LOCALBOOT 0$' <<<"$pxecfg" && ! grep -q LINUX <<<"$pxecfg" ||
	lab_fail "node2's pxelinux configuration does not boot locally: $pxecfg"
ok "node2 (pxelinux) is installed: its pxelinux.cfg says LOCALBOOT 0"

# ---- boot 2: the local disk -------------------------------------------------------------
script=$(ip netns exec "$LAB_NS" curl -s -m 10 "http://$LAB_SERVER_IP/boot/$MACD.ipxe")
grep -qx exit <<<"$script" && ! grep -q kernel <<<"$script" ||
	lab_fail "the installed host's script is not exit: $script"
ok "the installed host's iPXE script is exit"

guest "$LAB_TMP/qemu-2.log"
qemu2=$LAB_QEMU_PID
guest "$LAB_TMP/qemu-node2.log" "$MAC2" tap1 "$LAB_TMP/disk2.img"
qemu_node2=$LAB_QEMU_PID
lab_wait_log "$LAB_TMP/qemu-2.log" "$DISK_MARKER" "$TIMEOUT" ||
	lab_fail "boot 2: the firmware did not go on to the disk"
rc=0
lab_wait_exit "$qemu2" 30 || rc=$?
[ "$rc" = 99 ] || lab_fail "boot 2: QEMU ended with $rc, not the disk's 99"
! grep -aq 'PXED-TEST-BOOTED' "$LAB_TMP/qemu-2.log" || lab_fail "boot 2 ran the installer again"
ok "boot 2: iPXE exited and the firmware booted the local disk"

lab_wait_log "$LAB_TMP/qemu-node2.log" "$DISK_MARKER" "$TIMEOUT" ||
	lab_fail "node2: pxelinux did not hand over to the disk"
rc=0
lab_wait_exit "$qemu_node2" 30 || rc=$?
[ "$rc" = 99 ] || lab_fail "node2: QEMU ended with $rc, not the disk's 99"
"$PXED" timeline "$MAC2" --state-dir "$LAB_TMP/state" >"$LAB_TMP/timeline-node2.txt" ||
	lab_fail "pxed timeline $MAC2 failed"
sed 's/^/# /' "$LAB_TMP/timeline-node2.txt"
grep -qE '^  (NBP|nbp) .*pxelinux\.0' "$LAB_TMP/timeline-node2.txt" &&
	grep -qE '^  config .*pxelinux\.cfg/01-' "$LAB_TMP/timeline-node2.txt" ||
	lab_fail "node2's timeline lacks pxelinux.0 or its configuration"
ok "node2: pxelinux fetched its configuration, LOCALBOOT 0 booted the local disk"

"$PXED" timeline "$MAC" --all --state-dir "$LAB_TMP/state" >"$LAB_TMP/timeline.txt" ||
	lab_fail "pxed timeline failed"
sed 's/^/# /' "$LAB_TMP/timeline.txt"
grep -qE '^  install .*install done' "$LAB_TMP/timeline.txt" ||
	lab_fail "the timeline lacks the install done step"
grep -q 'installed: boots from its local disk' "$LAB_TMP/timeline.txt" ||
	lab_fail "the timeline lacks the local-boot decision"
ok "the timeline shows the installer, install done, and the local-boot decision"

lab_explain "$MAC" 'why: .*installed: boots from its local disk' '^cause: +\[local-boot\] Done: the host is installed'

# ---- marked again through the API: the installer once more, with a new token ---------
mark() {
	ip netns exec "$LAB_NS" curl -s -o "$LAB_TMP/mark.json" -w '%{http_code}' -m 10 -X POST \
		"$@" "http://127.0.0.1:8780/api/v1/hosts/$MAC/install"
}
c=$(mark)
[ "$c" = 401 ] || lab_fail "marking without the bearer token got $c, not 401"
[ "$(state)" = "installed " ] || lab_fail "a refused mark changed the state: '$(state)'"
c=$(mark -H "Authorization: Bearer $API_TOKEN")
[ "$c" = 200 ] && grep -q '"state":"install"' "$LAB_TMP/mark.json" ||
	lab_fail "marking got $c: $(cat "$LAB_TMP/mark.json")"
read -r st token2 <<<"$(state)" || true
[ "$st" = install ] && [[ "$token2" =~ ^[0-9a-f]{32}$ ]] && [ "$token2" != "$token" ] ||
	lab_fail "after marking the store holds '$st $token2'"
script=$(ip netns exec "$LAB_NS" curl -s -m 10 "http://$LAB_SERVER_IP/boot/$MACD.ipxe")
grep -q "^kernel .*/files/installer/kernel .*pxed.callback=http://$LAB_SERVER_IP/callback/$MACD/$token2" \
	<<<"$script" || lab_fail "the marked host's script is not the installer's: $script"
c=$(code -X POST "http://$LAB_SERVER_IP/callback/$MACD/$token")
[ "$c" = 403 ] || lab_fail "the first install's token got $c after marking, not 403"
ok "marked again (API, bearer token): a new token, the installer's script again"

