#!/usr/bin/env bash
# Builds the kernel and initrd that the QEMU end-to-end tests boot, and caches them
# outside the repository.
#
#   scripts/test-assets.sh           build what is missing, then print kernel=... initrd=...
#   scripts/test-assets.sh --print   only print the two lines (exit 1 if the cache is incomplete)
#   scripts/test-assets.sh --force   rebuild both
#
# Cache: $PXED_TEST_CACHE, default /var/cache/pxed-test. It holds
#   vmlinuz          Debian's cloud kernel (serial console and EFI stub built in)
#   initrd.img       gzip'd newc cpio: static busybox, the kernel's virtio-net modules
#                    and an /init that prints "PXED-TEST-BOOTED cmdline: <contents of
#                    /proc/cmdline>" and powers off; with pxed.callback=URL on the command
#                    line it first brings up eth0 (virtio-net, DHCP) and POSTs to URL, as an
#                    installer does when it is done, printing "PXED-TEST-CALLBACK <status>"
#   kernel-version   the linux-image package the kernel came from
#   initrd.stamp     hash of the initrd recipe (a changed recipe rebuilds the initrd)
# When both files are present and the recipe is unchanged this script makes no apt call
# and takes a few milliseconds. Concurrent runs are serialised with flock.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${PXED_TEST_CACHE:-/var/cache/pxed-test}
KERNEL=$CACHE/vmlinuz
INITRD=$CACHE/initrd.img

mode=build
case "${1:-}" in
"") ;;
--print) mode=print ;;
--force) mode=force ;;
-h | --help)
	sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "test-assets: unknown argument: $1 (use --print, --force or nothing)" >&2
	exit 2
	;;
esac

say() { echo "test-assets: $*" >&2; }

# The /init of the test initrd. The marker line is the contract with the tests
# (tests/e2e/lib.sh greps for PXED-TEST-BOOTED): keep it one write of one line.
# shellcheck disable=SC2016
INIT_SCRIPT='#!/bin/sh
# pxed test initrd: report the kernel command line on the console, then power off.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# Keep late kernel messages from splitting the marker line on the serial console.
echo 1 >/proc/sys/kernel/printk 2>/dev/null
read -r cmdline </proc/cmdline
echo "PXED-TEST-BOOTED cmdline: $cmdline"
# pxed.callback=URL: the installer is done; tell pxed (a POST) over virtio-net.
case " $cmdline " in
*" pxed.callback="*)
	url=${cmdline##*pxed.callback=}
	url=${url%% *}
	for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci \
		failover net_failover virtio_net; do
		insmod "/lib/modules/$m.ko" || echo "pxed-test: insmod $m failed"
	done
	i=0
	while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	ip link set eth0 up
	udhcpc -i eth0 -n -q -t 10 -T 1 -s /etc/udhcpc.sh >/dev/null 2>&1
	# timeout, not wget -T: busybox 1.35'"'"'s static wget -T crashes when the environment is empty.
	if timeout 20 wget -q -O /tmp/answer --post-data=done "$url" 2>/tmp/err; then
		echo "PXED-TEST-CALLBACK ok $(cat /tmp/answer)"
	else
		echo "PXED-TEST-CALLBACK failed: $(ip -4 -o addr show dev eth0) $(cat /tmp/err)"
	fi
	;;
esac
sync
poweroff -f
# Not reached unless poweroff failed: exiting init panics, and panic=-1 reboots
# (QEMU runs with -no-reboot, so it exits either way).
exit 1
'

# udhcpc's script: the address it was given, on the interface (no route, no DNS needed).
# shellcheck disable=SC2016
UDHCPC_SCRIPT='#!/bin/sh
[ "$1" = bound ] || [ "$1" = renew ] || exit 0
ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up
'

# The kernel modules virtio-net needs (Debian's cloud kernel builds them as modules),
# in load order (each after those it depends on); /init loads them with insmod when it has a callback to make.
INITRD_MODULES='virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
failover net_failover virtio_net'

busybox_id() { /bin/busybox 2>/dev/null | head -n1 || true; }

initrd_recipe_hash() {
	{
		printf '%s\n' "$INIT_SCRIPT" "$UDHCPC_SCRIPT" "$INITRD_MODULES"
		busybox_id
		# The modules must be the kernel's own: a new kernel rebuilds the initrd.
		cat "$CACHE/kernel-version" 2>/dev/null || true
		echo recipe-v2
	} | sha256sum | cut -d' ' -f1
}

cache_complete() {
	[ -s "$KERNEL" ] && [ -s "$INITRD" ] || return 1
	# Only check the recipe when busybox is there to hash; --print must work anyway.
	if [ -x /bin/busybox ] && [ -f "$CACHE/initrd.stamp" ]; then
		[ "$(cat "$CACHE/initrd.stamp")" = "$(initrd_recipe_hash)" ] || return 1
	fi
	return 0
}

print_paths() {
	echo "kernel=$KERNEL"
	echo "initrd=$INITRD"
}

if [ "$mode" = print ]; then
	if [ -s "$KERNEL" ] && [ -s "$INITRD" ]; then
		print_paths
		exit 0
	fi
	say "cache $CACHE is incomplete: run scripts/test-assets.sh without --print"
	exit 1
fi

if [ "$mode" = build ] && cache_complete; then
	print_paths
	exit 0
fi

# Tools: busybox-static and cpio come from the LAB list of scripts/deps.sh.
need_deps=0
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx poweroff || need_deps=1
command -v cpio >/dev/null || need_deps=1
if [ "$need_deps" = 1 ]; then
	say "busybox-static or cpio missing: running scripts/deps.sh"
	bash "$ROOT/scripts/deps.sh"
fi
if file -b /bin/busybox 2>/dev/null | grep -q dynamically; then
	say "/bin/busybox is dynamically linked (package busybox instead of busybox-static?)"
	exit 1
fi

if ! mkdir -p "$CACHE" 2>/dev/null || [ ! -w "$CACHE" ]; then
	say "cannot write $CACHE (run as root or set PXED_TEST_CACHE to a writable directory)"
	exit 1
fi

exec 9>"$CACHE/.lock"
if ! flock -w 600 9; then
	say "timed out waiting for another test-assets.sh holding $CACHE/.lock"
	exit 1
fi
# Another run may have finished the work while we waited.
if [ "$mode" = build ] && cache_complete; then
	print_paths
	exit 0
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pxed-assets.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# ---------------------------------------------------------------- kernel
build_kernel() {
	local pkg
	pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-cloud-amd64\)$/\1/p' | head -n1)
	if [ -z "$pkg" ]; then
		say "apt-cache knows no linux-image-cloud-amd64: running apt-get update"
		apt-get update -qq
		pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
			sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-cloud-amd64\)$/\1/p' | head -n1)
	fi
	[ -n "$pkg" ] || {
		say "cannot resolve linux-image-cloud-amd64 to a kernel package"
		return 1
	}
	fetch_kernel_package "$pkg"
	local vmlinuz
	vmlinuz=$(find "$WORK/kx/boot" -maxdepth 1 -name "vmlinuz-*" 2>/dev/null | head -n1)
	[ -n "$vmlinuz" ] || {
		say "$pkg has no boot/vmlinuz-*"
		return 1
	}
	cp "$vmlinuz" "$CACHE/.vmlinuz.new"
	mv -f "$CACHE/.vmlinuz.new" "$KERNEL"
	echo "$pkg $(basename "$vmlinuz")" >"$CACHE/kernel-version"
	say "kernel: $(cat "$CACHE/kernel-version")"
}

# fetch_kernel_package PKG: download the kernel package PKG and unpack it in $WORK/kx
# (once per run: the kernel and the initrd's modules come from the same package).
fetch_kernel_package() {
	local pkg=$1 dl deb
	[ ! -d "$WORK/kx" ] || return 0
	say "downloading $pkg"
	dl=$WORK/dl
	mkdir -p "$dl"
	# apt drops to user _apt for downloads: let it write here (avoids the
	# "unsandboxed as root" warning).
	chmod 0755 "$WORK"
	chmod 0777 "$dl"
	if ! (cd "$dl" && apt-get download -qq "$pkg" >/dev/null 2>"$WORK/apt.err"); then
		say "download of $pkg failed ($(tail -n1 "$WORK/apt.err")): running apt-get update and retrying"
		apt-get update -qq
		(cd "$dl" && apt-get download -qq "$pkg" >/dev/null) || {
			say "download of $pkg failed"
			return 1
		}
	fi
	deb=$(find "$dl" -maxdepth 1 -name "*.deb" | head -n1)
	dpkg-deb -x "$deb" "$WORK/kx"
}

# initrd_modules DIR: copy INITRD_MODULES of the cached kernel (kernel-version names its
# package) into DIR.
initrd_modules() {
	local dir=$1 pkg m f
	pkg=$(cut -d' ' -f1 "$CACHE/kernel-version" 2>/dev/null) || true
	[ -n "$pkg" ] || {
		say "$CACHE/kernel-version names no kernel package"
		return 1
	}
	fetch_kernel_package "$pkg" || return 1
	mkdir -p "$dir"
	for m in $INITRD_MODULES; do
		f=$(find "$WORK/kx/lib/modules" -name "$m.ko" | head -n1)
		[ -n "$f" ] || {
			say "$pkg has no $m.ko"
			return 1
		}
		cp "$f" "$dir/"
	done
}

# ---------------------------------------------------------------- initrd
build_initrd() {
	local r=$WORK/initrd link
	mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,etc,root}
	cp /bin/busybox "$r/bin/busybox"
	# One symlink per applet, at the path busybox itself lists.
	while IFS= read -r link; do
		case "$link" in
		"" | bin/busybox) continue ;;
		esac
		mkdir -p "$r/$(dirname "$link")"
		ln -sf /bin/busybox "$r/$link"
	done < <(/bin/busybox --list-full)
	[ -e "$r/bin/sh" ] || ln -s busybox "$r/bin/sh"
	printf '%s' "$INIT_SCRIPT" >"$r/init"
	chmod 0755 "$r/init"
	printf '%s' "$UDHCPC_SCRIPT" >"$r/etc/udhcpc.sh"
	chmod 0755 "$r/etc/udhcpc.sh"
	initrd_modules "$r/lib/modules" || return 1
	# The kernel opens /dev/console for init's stdout before /init can mount devtmpfs.
	if [ "$(id -u)" -eq 0 ]; then
		mknod -m 600 "$r/dev/console" c 5 1
		mknod -m 666 "$r/dev/null" c 1 3
	fi
	(cd "$r" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet) | gzip -9n >"$CACHE/.initrd.new"
	mv -f "$CACHE/.initrd.new" "$INITRD"
	initrd_recipe_hash >"$CACHE/initrd.stamp"
	say "initrd: $(stat -c %s "$INITRD") bytes, $(busybox_id)"
}

if [ "$mode" = force ] || [ ! -s "$KERNEL" ]; then
	build_kernel
fi
if [ "$mode" = force ] || ! cache_complete; then
	build_initrd
fi

print_paths
