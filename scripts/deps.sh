#!/usr/bin/env bash
# Installs the Debian packages pxed needs to build, test and run its demo.
# Idempotent: quiet and fast when everything is present (no apt-get at all then).
set -euo pipefail

BUILD="meson ninja-build pkg-config gcc libevent-dev libsqlite3-dev libyaml-dev
libjansson-dev libcmocka-dev clang libclang-rt-14-dev"
# Real firmware, real clients and the network bootstrap programs the tests boot through;
# python3 sends the raw malformed packets of the TFTP test.
LAB="qemu-system-x86 ipxe-qemu ipxe ovmf pxelinux syslinux-common busybox-static cpio
dnsmasq-base iproute2 curl tftp-hpa atftp sqlite3 procps python3 isc-dhcp-client dhcpcd-base"

# Only for `scripts/deps.sh --bench` (make bench): the servers pxed is measured against.
BENCH="kea-dhcp4-server"

want=$(echo $BUILD $LAB)
if [ "${1:-}" = --bench ]; then want="$want $(echo $BENCH)"; fi
missing=()
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages (run as root to install): ${missing[*]}" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
