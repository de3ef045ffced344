#!/usr/bin/env bash
# Installs the Debian packages pxed needs to build, test and run its demo.
# Idempotent: quiet and fast when everything is present (no apt-get at all then).
set -euo pipefail

BUILD="meson ninja-build pkg-config gcc libevent-dev libsqlite3-dev libyaml-dev
libjansson-dev libcmocka-dev clang libclang-rt-14-dev valgrind libseccomp-dev libssl-dev"
# Real firmware, real clients and the network bootstrap programs the tests boot through;
# python3 sends the raw malformed packets of the TFTP test; nft (nftables) drops packets
# in tests/integration/tftp-lossy.sh; chromium is the browser of tests/e2e/dashboard.sh;
# python3-prometheus-client parses /metrics in tests/integration/metrics.sh.
LAB="qemu-system-x86 ipxe-qemu ipxe ovmf pxelinux syslinux-common busybox-static cpio
dnsmasq-base iproute2 curl openssl tftp-hpa atftp sqlite3 procps python3 isc-dhcp-client dhcpcd-base
grub-efi-amd64-signed shim-signed nftables chromium python3-prometheus-client"

# Only for `scripts/deps.sh --bench` (make bench): the servers pxed is measured against.
# tftpd-hpa conflicts with atftpd (both ship /usr/sbin/in.tftpd), so atftpd's program alone
# is unpacked from its package into ATFTPD_DIR, never installed: libwrap0 and libpcre2-8-0
# are what it links. nginx (Debian 12's nginx-light and nginx-core are empty packages that
# depend on it) is bench/http's peer, started by the bench with a config of its own. No daemon
# may run from its package: see below.
BENCH="kea-dhcp4-server tftpd-hpa libwrap0 libpcre2-8-0 nginx"
ATFTPD_DIR=/opt/pxed-bench/atftpd

want=$(echo $BUILD $LAB)
bench=
if [ "${1:-}" = --bench ]; then
	want="$want $(echo $BENCH)"
	[ -x "$ATFTPD_DIR/usr/sbin/atftpd" ] || command -v atftpd >/dev/null || bench=atftpd
fi
missing=()
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
# The browser test's node modules (npm ci, nothing when present). Node.js 20 is not a Debian 12
# package: without it only tests/e2e/dashboard.sh fails, so this is a warning.
browser_deps() {
	bash "$(dirname "$0")/browser-deps.sh" || echo "deps: tests/e2e/dashboard.sh will fail" >&2
}
# The user pxed runs as once its ports are open (docs/security.md); the tests expect it.
pxed_user() {
	id -u pxed >/dev/null 2>&1 && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: no user pxed (run as root to create it)" >&2
		return 1
	fi
	useradd --system --no-create-home --shell /usr/sbin/nologin pxed
}
[ ${#missing[@]} -eq 0 ] && [ -z "$bench" ] && pxed_user && browser_deps && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages (run as root to install): ${missing[*]} $bench" >&2
	exit 1
fi
echo "deps: installing ${missing[*]} $bench"
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
own_policy=
tmp=
cleanup() {
	[ -z "$own_policy" ] || rm -f "$policy"
	[ -z "$tmp" ] || rm -rf "$tmp"
}
trap cleanup EXIT
apt-get update -qq

if [ ${#missing[@]} -gt 0 ]; then
	# invoke-rc.d and deb-systemd-invoke ask /usr/sbin/policy-rc.d before they start a
	# service, and 101 means "no": tftpd-hpa would otherwise start on port 69, which the
	# tests bind themselves. Ours is temporary and only when the machine has none (a
	# container image often ships its own, which stays as it is).
	if [ ! -e "$policy" ]; then
		own_policy=1
		printf '#!/bin/sh\n# scripts/deps.sh: no service starts while it installs.\nexit 101\n' >"$policy"
		chmod 755 "$policy"
	fi
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	cleanup
	own_policy=
	# A policy of the machine's own may have let it start: stop it and keep it off.
	# nginx would take port 80 with its default site.
	for svc in tftpd-hpa nginx; do
		[[ " ${missing[*]} " == *" $svc "* ]] || continue
		if [ -d /run/systemd/system ]; then
			systemctl disable --now "$svc.service" >/dev/null 2>&1 || true
		else
			[ ! -e "/run/$svc.pid" ] || "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
			update-rc.d "$svc" disable >/dev/null 2>&1 || true
		fi
	done
fi

if [ -n "$bench" ]; then
	# Unpacked only: no maintainer script runs, so no service, socket unit or inetd line.
	tmp=$(mktemp -d)
	chown _apt "$tmp" 2>/dev/null || true # apt downloads as _apt when it can
	(cd "$tmp" && apt-get download -qq atftpd >/dev/null)
	mkdir -p "$ATFTPD_DIR"
	dpkg-deb -x "$tmp"/atftpd_*.deb "$ATFTPD_DIR"
	[ -x "$ATFTPD_DIR/usr/sbin/atftpd" ] || {
		echo "deps: atftpd did not unpack into $ATFTPD_DIR" >&2
		exit 1
	}
fi
pxed_user
browser_deps
