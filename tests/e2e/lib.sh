# shellcheck shell=bash disable=SC2015,SC2034
# tests/e2e/lib.sh: the QEMU test lab for pxed's end-to-end tests and the demo.
#
# Source it from bash (set -euo pipefail is fine), then:
#
#   lab_setup pxed-e2e-bios 11            # netns + br0 10.77.11.1/24, cleanup traps
#   lab_assets                            # LAB_KERNEL, LAB_INITRD (scripts/test-assets.sh)
#   lab_pxed --config "$cfg"; lab_wait_port udp 67 || lab_fail "pxed did not listen"
#   lab_add_tap tap0
#   lab_qemu_bios 52:54:00:77:0b:01 tap0 "$LAB_TMP/qemu.log" 180
#   lab_wait_marker "$LAB_TMP/qemu.log" 180 || lab_fail "no boot"
#   [ "$(lab_marker_cmdline "$LAB_TMP/qemu.log")" = ... ] && lab_ok "booted"
#
# Every address lives in namespaces this file creates: LAB_NS and "$LAB_NS-<suffix>"
# hosts joined to LAB_NS's bridge by veth pairs. Nothing is added to the host's own
# network namespace. Parallel tests must use distinct NAMEs and OCTETs.
#
# Call the lab_* functions from the test's main shell, not inside $(...) or a pipeline:
# they set variables, and background processes are tied to the shell that started them
# (setpriv --pdeathsig), so a process started from a subshell dies with that subshell.
#
# Environment:
#   PXED             pxed binary (default: <repo>/build/pxed)
#   PXED_KEEP_LOGS=1 keep LAB_TMP after the test (its path is printed)
#   PXED_TEST_OUT    directory: logs are copied to $PXED_TEST_OUT/$LAB_NS/ at cleanup
#   PXED_TEST_CACHE  asset cache for scripts/test-assets.sh
#   LAB_QEMU_EXTRA   extra words appended to every QEMU command line (word-split)

LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PXED=${PXED:-$LAB_ROOT/build/pxed}
LAB_QEMU_BIN=${LAB_QEMU_BIN:-qemu-system-x86_64}
LAB_OVMF_CODE=${LAB_OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.fd}
LAB_OVMF_VARS=${LAB_OVMF_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd}
LAB_MARKER='PXED-TEST-BOOTED'

LAB_NS=
LAB_BR=
LAB_NET=
LAB_SERVER_IP=
LAB_TMP=
LAB_QEMU_PID=
LAB_PXED_PID=
LAB_DHCP_PID=
LAB_PIDS=()         # every PID registered with lab_track_pid, in start order
LAB_NETNS_MADE=()   # namespaces created here, deleted at cleanup
LAB_CLEANUP_CMDS=() # extra commands registered with lab_on_cleanup
LAB_CLEANED=0
LAB_FAILED=0
declare -gA LAB_QEMU_OF_LOG=() # QEMU log file -> PID of the QEMU writing it

# lab_log MSG...: a diagnostic line ("# MSG", TAP style) on stdout.
lab_log() { echo "# $*"; }

# lab_ok MSG...: a passing check ("ok - MSG").
lab_ok() { echo "ok - $*"; }

# lab_dump_logs [LINES]: the last LINES (default 40) lines of every log in LAB_TMP,
# each prefixed with "# ", carriage returns and escape sequences removed.
lab_dump_logs() {
	local n=${1:-40} f
	[ -n "$LAB_TMP" ] && [ -d "$LAB_TMP" ] || return 0
	for f in "$LAB_TMP"/*.log; do
		[ -f "$f" ] || continue
		echo "# ---- last $n lines of $(basename "$f")"
		tail -n "$n" "$f" | tr -d '\r' | sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/^/#   /'
	done
}

# lab_fail MSG...: a failing check: prints "not ok - MSG", dumps the tail of the lab's
# logs (QEMU, pxed, dnsmasq, ...), and exits 1 (the EXIT trap then cleans up).
lab_fail() {
	echo "not ok - $*"
	LAB_FAILED=1
	lab_dump_logs 40
	exit 1
}

# lab_track_pid PID: register a background process for cleanup (SIGTERM, then SIGKILL).
# Only registered PIDs are ever killed by this library.
lab_track_pid() { LAB_PIDS+=("$1"); }

# lab_untrack_pid PID: forget a registered PID (after it was waited for).
lab_untrack_pid() {
	local p keep=()
	for p in "${LAB_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	LAB_PIDS=("${keep[@]}")
}

# lab_alive PID: true while PID (a child of this shell) is running.
lab_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# lab_on_cleanup CMD: run the shell command CMD at cleanup, before the processes are
# killed (e.g. to copy a file out of LAB_TMP). Commands run in registration order.
lab_on_cleanup() { LAB_CLEANUP_CMDS+=("$1"); }

# lab_stop_pid PID [GRACE_S]: SIGTERM a registered PID, wait up to GRACE_S seconds
# (default 5) for it to exit, SIGKILL it if it did not. Returns its exit status
# (128+signal if it died by a signal), 0 if it was already gone and reaped.
lab_stop_pid() {
	local pid=$1 grace=${2:-5} i rc=0
	[ -n "$pid" ] || return 0
	if lab_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < grace * 10; i++)); do
			lab_alive "$pid" || break
			sleep 0.1
		done
		if lab_alive "$pid"; then
			lab_log "PID $pid ignored SIGTERM for ${grace}s: SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	wait "$pid" 2>/dev/null || rc=$?
	lab_untrack_pid "$pid"
	return "$rc"
}

# lab_netns_delete NAME: delete namespace NAME if it exists. Processes still inside
# it (left over from an aborted earlier run of the lab, which created it) are killed
# by PID first.
lab_netns_delete() {
	local ns=$1 pids p i
	ip netns list 2>/dev/null | awk '{print $1}' | grep -qxF "$ns" || return 0
	pids=$(ip netns pids "$ns" 2>/dev/null || true)
	if [ -n "$pids" ]; then
		lab_log "namespace $ns still has processes $(tr '\n' ' ' <<<"$pids"): killing them"
		for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
		for ((i = 0; i < 30; i++)); do
			[ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
			sleep 0.1
		done
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
	fi
	ip netns delete "$ns" 2>/dev/null || true
}

# lab_netns_add NAME: create namespace NAME (deleting a stale one of that name first),
# with lo up, and register it for deletion at cleanup.
lab_netns_add() {
	local ns=$1
	lab_netns_delete "$ns"
	ip netns add "$ns" || return 1
	LAB_NETNS_MADE+=("$ns")
	ip -n "$ns" link set lo up
}

# lab_cleanup: kill every tracked PID, copy logs to PXED_TEST_OUT, delete the lab's
# namespaces and LAB_TMP. Idempotent; runs from the EXIT/INT/TERM/HUP traps that
# lab_setup installs, and may be called directly (e.g. to check the teardown).
lab_cleanup() {
	local rc=$? c p i ns
	[ "$LAB_CLEANED" = 1 ] && return 0
	LAB_CLEANED=1
	set +e
	if [ "$rc" -ne 0 ] && [ "$LAB_FAILED" = 0 ] && [ -n "$LAB_TMP" ]; then
		echo "# lab: test exited with status $rc"
		lab_dump_logs 40
	fi
	for c in "${LAB_CLEANUP_CMDS[@]}"; do eval "$c"; done
	# SIGTERM everything at once, then give it 5 s in total, then SIGKILL.
	for p in "${LAB_PIDS[@]}"; do lab_alive "$p" && kill -TERM "$p" 2>/dev/null; done
	for ((i = 0; i < 50; i++)); do
		c=0
		for p in "${LAB_PIDS[@]}"; do lab_alive "$p" && c=1; done
		[ "$c" = 0 ] && break
		sleep 0.1
	done
	for p in "${LAB_PIDS[@]}"; do
		if lab_alive "$p"; then
			echo "# lab: PID $p ignored SIGTERM: SIGKILL"
			kill -KILL "$p" 2>/dev/null
		fi
		wait "$p" 2>/dev/null
	done
	LAB_PIDS=()
	if [ -n "${PXED_TEST_OUT:-}" ] && [ -n "$LAB_TMP" ] && [ -d "$LAB_TMP" ]; then
		mkdir -p "$PXED_TEST_OUT/$LAB_NS" &&
			find "$LAB_TMP" -maxdepth 1 -type f -name '*.log' -exec cp -f {} "$PXED_TEST_OUT/$LAB_NS/" \;
	fi
	# Dependent hosts first, the bridge's namespace last.
	for ((i = ${#LAB_NETNS_MADE[@]} - 1; i >= 0; i--)); do
		ns=${LAB_NETNS_MADE[i]}
		lab_netns_delete "$ns"
	done
	LAB_NETNS_MADE=()
	if [ -n "$LAB_TMP" ] && [ -d "$LAB_TMP" ]; then
		if [ "${PXED_KEEP_LOGS:-0}" = 1 ]; then
			: >"$LAB_TMP/.keep"
			echo "# lab: logs kept in $LAB_TMP"
		else
			rm -rf "$LAB_TMP"
		fi
	fi
	return 0
}

# lab_setup NAME [OCTET]: create the lab: network namespace NAME (a stale one from an
# aborted run is deleted first) with lo up and a bridge br0 with 10.77.OCTET.1/24, up.
# OCTET defaults to $LAB_OCTET. Sets LAB_NS, LAB_BR=br0, LAB_NET=10.77.OCTET,
# LAB_SERVER_IP=10.77.OCTET.1, LAB_OCTET and LAB_TMP (a fresh temp dir for logs),
# and installs lab_cleanup on EXIT, INT, TERM and HUP (replacing other traps on those).
lab_setup() {
	local name=${1:?lab_setup NAME OCTET}
	local octet=${2:-${LAB_OCTET:-}}
	[ "$(id -u)" -eq 0 ] || {
		echo "not ok - lab_setup: needs root (network namespaces)"
		exit 1
	}
	[[ "$octet" =~ ^[0-9]+$ ]] && [ "$octet" -ge 0 ] && [ "$octet" -le 255 ] || {
		echo "not ok - lab_setup: OCTET must be 0..255, got '$octet'"
		exit 1
	}
	[ -z "$LAB_NS" ] || {
		echo "not ok - lab_setup: lab $LAB_NS already set up in this shell"
		exit 1
	}
	LAB_NS=$name
	LAB_OCTET=$octet
	LAB_BR=br0
	LAB_NET=10.77.$octet
	LAB_SERVER_IP=$LAB_NET.1
	LAB_CLEANED=0
	trap 'lab_cleanup' EXIT
	trap 'lab_log "interrupted (SIGINT)"; lab_cleanup; trap - INT; exit 130' INT
	trap 'lab_log "terminated (SIGTERM)"; lab_cleanup; trap - TERM; exit 143' TERM
	trap 'lab_log "hangup (SIGHUP)"; lab_cleanup; trap - HUP; exit 129' HUP
	# Temp dirs of earlier runs of this lab that were killed before their cleanup
	# (those kept on purpose with PXED_KEEP_LOGS=1 have a .keep file).
	local d
	for d in "${TMPDIR:-/tmp}/pxed-lab.$name".??????; do
		[ -d "$d" ] && [ ! -e "$d/.keep" ] && rm -rf "$d"
	done
	LAB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/pxed-lab.$name.XXXXXX")
	# pxed reads its roots as the unprivileged user pxed (docs/security.md): mktemp's 0700
	# would hide every file the test writes here (0644 under umask 022).
	chmod 755 "$LAB_TMP"
	lab_netns_add "$LAB_NS" || lab_fail "lab_setup: cannot create namespace $LAB_NS"
	ip -n "$LAB_NS" link add "$LAB_BR" type bridge &&
		ip -n "$LAB_NS" link set "$LAB_BR" type bridge forward_delay 0 stp_state 0 &&
		ip -n "$LAB_NS" addr add "$LAB_SERVER_IP/24" dev "$LAB_BR" &&
		ip -n "$LAB_NS" link set "$LAB_BR" up ||
		lab_fail "lab_setup: cannot set up $LAB_BR in $LAB_NS"
	lab_log "lab $LAB_NS: $LAB_BR $LAB_SERVER_IP/24, logs in $LAB_TMP"
}

# lab_assets: build or locate the test kernel and initrd (scripts/test-assets.sh);
# sets LAB_KERNEL and LAB_INITRD.
lab_assets() {
	local out
	out=$(bash "$LAB_ROOT/scripts/test-assets.sh") || lab_fail "scripts/test-assets.sh failed"
	LAB_KERNEL=$(sed -n 's/^kernel=//p' <<<"$out")
	LAB_INITRD=$(sed -n 's/^initrd=//p' <<<"$out")
	[ -s "$LAB_KERNEL" ] && [ -s "$LAB_INITRD" ] || lab_fail "test assets missing: $out"
}

# lab_add_tap TAPNAME: a tap device TAPNAME in LAB_NS, attached to br0, up (it has
# carrier once a QEMU opens it).
lab_add_tap() {
	local tap=${1:?lab_add_tap TAPNAME}
	ip -n "$LAB_NS" tuntap add "$tap" mode tap &&
		ip -n "$LAB_NS" link set "$tap" master "$LAB_BR" &&
		ip -n "$LAB_NS" link set "$tap" up ||
		lab_fail "lab_add_tap: cannot create $tap in $LAB_NS"
}

# lab_add_host SUFFIX [ADDR/PREFIX]: another "host" on the lab's LAN: namespace
# "$LAB_NS-SUFFIX" (lo up) whose interface eth0 is one end of a veth pair; the other
# end, "vh-SUFFIX" (truncated to 15 characters), is in LAB_NS attached to br0. eth0
# is up, with ADDR/PREFIX if given. Sets LAB_HOST_NS to the new namespace's name.
lab_add_host() {
	local suffix=${1:?lab_add_host SUFFIX [ADDR/PREFIX]} addr=${2:-}
	local ns="$LAB_NS-$suffix" veth="vh-$suffix"
	veth=${veth:0:15}
	lab_netns_add "$ns" || lab_fail "lab_add_host: cannot create namespace $ns"
	ip -n "$LAB_NS" link add "$veth" type veth peer name eth0 netns "$ns" &&
		ip -n "$LAB_NS" link set "$veth" master "$LAB_BR" &&
		ip -n "$LAB_NS" link set "$veth" up &&
		ip -n "$ns" link set eth0 up ||
		lab_fail "lab_add_host: cannot join $ns to $LAB_BR"
	if [ -n "$addr" ]; then
		ip -n "$ns" addr add "$addr" dev eth0 || lab_fail "lab_add_host: cannot add $addr in $ns"
	fi
	LAB_HOST_NS=$ns
}

# lab_dhcp_host OCTET: the LAN's ordinary DHCP server, for proxyDHCP tests: host
# "$LAB_NS-dhcp" (see lab_add_host) at 10.77.OCTET.2/24 running dnsmasq as a plain
# DHCP server (pool 10.77.OCTET.50-99, no PXE options, DNS off, --no-ping so the
# first OFFER is not held back 3 s by dnsmasq's address-in-use ping), logging to
# $LAB_TMP/dnsmasq.log. Sets LAB_DHCP_NS, LAB_DHCP_IP and LAB_DHCP_PID (tracked).
# Returns once dnsmasq listens on UDP 67 (fails the test if it does not within 10 s).
lab_dhcp_host() {
	local octet=${1:-$LAB_OCTET} i
	lab_add_host dhcp "10.77.$octet.2/24"
	LAB_DHCP_NS=$LAB_HOST_NS
	LAB_DHCP_IP=10.77.$octet.2
	ip netns exec "$LAB_DHCP_NS" setpriv --pdeathsig TERM -- \
		/usr/sbin/dnsmasq --no-daemon --port=0 \
		--dhcp-range="10.77.$octet.50,10.77.$octet.99,255.255.255.0,1h" \
		--dhcp-leasefile="$LAB_TMP/dnsmasq.leases" --interface=eth0 --bind-interfaces \
		--no-resolv --no-hosts --conf-file=/dev/null --log-dhcp --log-facility=- \
		--no-ping --pid-file= </dev/null >"$LAB_TMP/dnsmasq.log" 2>&1 &
	LAB_DHCP_PID=$!
	lab_track_pid "$LAB_DHCP_PID"
	for ((i = 0; i < 100; i++)); do
		ip netns exec "$LAB_DHCP_NS" ss -H -lnu 'sport = :67' 2>/dev/null | grep -q . && return 0
		lab_alive "$LAB_DHCP_PID" || break
		sleep 0.1
	done
	lab_fail "lab_dhcp_host: dnsmasq did not start in $LAB_DHCP_NS"
}

# lab__qemu LOGFILE TIMEOUT_S QEMU-ARGS...: (internal) start QEMU in LAB_NS in the
# background under `timeout`: -accel tcg -m 512 -nographic -no-reboot, stdin from
# /dev/null, stdout+stderr (serial console, firmware text via SeaBIOS's serial
# console, QEMU's own messages) to LOGFILE. SIGKILL 5 s after TIMEOUT_S at the latest.
lab__qemu() {
	local log=$1 t=$2
	shift 2
	[[ "$t" =~ ^[0-9]+$ ]] || lab_fail "QEMU timeout must be whole seconds, got '$t'"
	: >"$log"
	# shellcheck disable=SC2086
	setpriv --pdeathsig TERM -- timeout -k 5 "$t" \
		ip netns exec "$LAB_NS" "$LAB_QEMU_BIN" -accel tcg -m 512 -nographic -no-reboot \
		"$@" ${LAB_QEMU_EXTRA:-} </dev/null >"$log" 2>&1 &
	LAB_QEMU_PID=$!
	lab_track_pid "$LAB_QEMU_PID"
	LAB_QEMU_OF_LOG[$log]=$LAB_QEMU_PID
}

# lab_qemu_bios MAC TAPNAME LOGFILE TIMEOUT_S: network-boot a BIOS machine (SeaBIOS +
# QEMU's iPXE ROM on an e1000 NIC with MAC, -boot n) on tap TAPNAME. Sets LAB_QEMU_PID
# (tracked; it is the PID of the `timeout` wrapping QEMU, SIGTERM reaches QEMU).
lab_qemu_bios() {
	local mac=${1:?MAC} tap=${2:?TAPNAME} log=${3:?LOGFILE} t=${4:?TIMEOUT_S}
	lab__qemu "$log" "$t" \
		-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" \
		-device "e1000,netdev=n0,mac=$mac" -boot n
}

# lab_qemu_uefi MAC TAPNAME LOGFILE TIMEOUT_S: network-boot a UEFI machine (OVMF with
# a private copy of its variable store, EDK2's own PXE stack: virtio-net-pci with an
# empty romfile) with MAC on tap TAPNAME. Sets LAB_QEMU_PID (tracked).
lab_qemu_uefi() {
	local mac=${1:?MAC} tap=${2:?TAPNAME} log=${3:?LOGFILE} t=${4:?TIMEOUT_S}
	local vars="$LAB_TMP/ovmf-vars.$tap.fd"
	cp "$LAB_OVMF_VARS" "$vars" || lab_fail "cannot copy $LAB_OVMF_VARS"
	lab__qemu "$log" "$t" \
		-drive "if=pflash,format=raw,readonly=on,file=$LAB_OVMF_CODE" \
		-drive "if=pflash,format=raw,file=$vars" \
		-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" \
		-device "virtio-net-pci,netdev=n0,mac=$mac,romfile=" -boot n
}

# lab_qemu_direct KERNEL INITRD APPEND LOGFILE TIMEOUT_S: boot KERNEL and INITRD
# directly (-kernel/-initrd/-append, no NIC) in LAB_NS. APPEND should contain
# console=ttyS0 panic=-1 so the kernel's output reaches LOGFILE and QEMU exits on
# its own. Sets LAB_QEMU_PID (tracked).
lab_qemu_direct() {
	local k=${1:?KERNEL} i=${2:?INITRD} a=${3?APPEND} log=${4:?LOGFILE} t=${5:?TIMEOUT_S}
	lab__qemu "$log" "$t" -net none -kernel "$k" -initrd "$i" -append "$a"
}

# lab_wait_log LOGFILE ERE TIMEOUT_S [PID]: wait, polling every 0.5 s, until LOGFILE
# has a line matching the extended regex ERE: 0 when it does, 1 after TIMEOUT_S
# seconds or as soon as PID (default: the QEMU started with that LOGFILE, if any)
# has exited without it.
lab_wait_log() {
	local log=$1 re=$2 t=$3 pid=${4:-${LAB_QEMU_OF_LOG[$1]:-}} i
	for ((i = 0; i <= t * 2; i++)); do
		grep -aqE -- "$re" "$log" 2>/dev/null && return 0
		if [ -n "$pid" ] && ! lab_alive "$pid"; then
			grep -aqE -- "$re" "$log" 2>/dev/null && return 0
			return 1
		fi
		sleep 0.5
	done
	return 1
}

# lab_wait_marker LOGFILE TIMEOUT_S: wait (polling every 0.5 s) until LOGFILE contains
# PXED-TEST-BOOTED: 0 when it does, 1 on timeout or when the QEMU writing LOGFILE
# has exited without printing it.
lab_wait_marker() { lab_wait_log "${1:?LOGFILE}" "$LAB_MARKER cmdline:" "${2:?TIMEOUT_S}"; }

# lab_marker_cmdline LOGFILE: print the kernel command line reported by the test
# initrd's marker line (the text after "PXED-TEST-BOOTED cmdline: ", CR stripped,
# trailing blanks trimmed); nothing and status 1 if there is no marker.
lab_marker_cmdline() {
	local line
	line=$(grep -a -m1 "$LAB_MARKER cmdline:" "${1:?LOGFILE}" 2>/dev/null) || return 1
	line=${line//$'\r'/}
	line=${line#*"$LAB_MARKER cmdline: "}
	line=${line%"${line##*[![:space:]]}"}
	printf '%s\n' "$line"
}

# lab_wait_exit PID TIMEOUT_S: wait until the tracked background process PID (e.g.
# LAB_QEMU_PID) exits by itself, polling every 0.5 s. Returns its exit status (the
# status of `timeout` for a QEMU: 124 if QEMU hit its hard timeout), or 255 if it is
# still running after TIMEOUT_S (it is left running).
lab_wait_exit() {
	local pid=${1:?PID} t=${2:?TIMEOUT_S} i rc=0
	for ((i = 0; i <= t * 2; i++)); do
		lab_alive "$pid" || break
		sleep 0.5
	done
	lab_alive "$pid" && return 255
	wait "$pid" 2>/dev/null || rc=$?
	lab_untrack_pid "$pid"
	return "$rc"
}

# lab_kill_qemu [PID]: stop a QEMU (default LAB_QEMU_PID): SIGTERM, SIGKILL after 5 s.
lab_kill_qemu() { lab_stop_pid "${1:-$LAB_QEMU_PID}" 5 || true; }

# lab_pxed ARGS...: start "$PXED" ARGS... in LAB_NS in the background, stdout+stderr
# to $LAB_TMP/pxed.log (appended: a restarted pxed keeps the earlier output). Sets
# LAB_PXED_PID (tracked; it is pxed's own PID, so signals reach pxed directly).
lab_pxed() {
	[ -x "$PXED" ] || lab_fail "pxed binary not found: $PXED (build it or set PXED)"
	ip netns exec "$LAB_NS" setpriv --pdeathsig TERM -- "$PXED" "$@" \
		</dev/null >>"$LAB_TMP/pxed.log" 2>&1 &
	LAB_PXED_PID=$!
	lab_track_pid "$LAB_PXED_PID"
}

# lab_wait_port PROTO PORT [TIMEOUT_S]: wait (polling every 0.2 s, default 10 s) until
# a socket listens on PORT (PROTO udp or tcp) in LAB_NS. Returns 1 on timeout, or
# early if pxed was started with lab_pxed and has exited.
lab_wait_port() {
	local proto=${1:?PROTO} port=${2:?PORT} t=${3:-10} flag i
	case "$proto" in
	udp) flag=-lnu ;;
	tcp) flag=-lnt ;;
	*) lab_fail "lab_wait_port: PROTO must be udp or tcp, got $proto" ;;
	esac
	for ((i = 0; i <= t * 5; i++)); do
		if ip netns exec "$LAB_NS" ss -H "$flag" "sport = :$port" 2>/dev/null | grep -q .; then
			[ -z "$LAB_PXED_PID" ] || [ "$LAB_PRIV_CHECKED" = "$LAB_PXED_PID" ] ||
				! lab_alive "$LAB_PXED_PID" || lab_check_privdrop "$LAB_PXED_PID"
			return 0
		fi
		if [ -n "$LAB_PXED_PID" ] && ! lab_alive "$LAB_PXED_PID"; then
			ip netns exec "$LAB_NS" ss -H "$flag" "sport = :$port" 2>/dev/null | grep -q . && return 0
			return 1
		fi
		sleep 0.2
	done
	return 1
}

# lab_check_privdrop PID: pxed runs as LAB_PXED_USER (default pxed): its uid and its
# primary group (Uid and Gid, all four fields), only the groups initgroups gives that
# user (Groups, as `id -G`), no capability left, no_new_privs and a seccomp filter
# (docs/security.md). Waits up to 5 s for the drop,
# which follows the opening of the ports, then fails the test (lab_fail) on any difference.
# lab_wait_port calls it once per pxed started with lab_pxed.
LAB_PXED_USER=${LAB_PXED_USER:-pxed}
LAB_PRIV_CHECKED=
lab_check_privdrop() {
	local pid=${1:?PID} want want_gid want_groups=yes st i f v seccomp=2
	want=$(id -u "$LAB_PXED_USER" 2>/dev/null) ||
		lab_fail "no user $LAB_PXED_USER on this machine (scripts/deps.sh creates pxed)"
	want_gid=$(id -g "$LAB_PXED_USER")
	# valgrind cannot run a seccomp filter: pxed under it goes without (core/priv.c). A
	# sanitizer build keeps its user and goes without Landlock and seccomp (main.c).
	v=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 0
	[[ "$v" != *valgrind* ]] || seccomp=0
	if grep -qa __asan_init "$v"; then
		seccomp=0
		want=$(awk '$1 == "Uid:" { print $2 }' "/proc/$pid/status" 2>/dev/null) || return 0
		want_gid=$(awk '$1 == "Gid:" { print $2 }' "/proc/$pid/status" 2>/dev/null) || return 0
		want_groups=
	fi
	for ((i = 0; i < 50; i++)); do
		st=$(cat "/proc/$pid/status" 2>/dev/null) || return 0 # gone: the caller sees it
		! grep -Eq '^State:[[:space:]]+Z' <<<"$st" || return 0 # killed by the test
		[ "$(awk '$1 == "NoNewPrivs:" { print $2 }' <<<"$st")" = 1 ] && break
		sleep 0.1
	done
	v=$(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' <<<"$st")
	[ "$v" = "$want $want $want $want" ] ||
		lab_fail "pxed (pid $pid): Uid is '$v', expected $LAB_PXED_USER ($want) four times"
	v=$(awk '$1 == "Gid:" { print $2, $3, $4, $5 }' <<<"$st")
	[ "$v" = "$want_gid $want_gid $want_gid $want_gid" ] ||
		lab_fail "pxed (pid $pid): Gid is '$v', expected $LAB_PXED_USER's group ($want_gid) four times"
	if [ -n "$want_groups" ]; then
		v=$(awk '$1 == "Groups:" { $1 = ""; print }' <<<"$st" | tr ' ' '\n' | sed '/^$/d' |
			sort -n | tr '\n' ' ')
		want_groups=$(id -G "$LAB_PXED_USER" | tr ' ' '\n' | sort -n | tr '\n' ' ')
		[ "$v" = "$want_groups" ] ||
			lab_fail "pxed (pid $pid): Groups is '$v', expected $LAB_PXED_USER's own: '$want_groups'"
	fi
	for f in CapEff CapPrm CapInh CapAmb; do
		v=$(awk -v f="$f:" '$1 == f { print $2 }' <<<"$st")
		[ "$v" = 0000000000000000 ] || lab_fail "pxed (pid $pid): $f is $v, expected none"
	done
	v=$(awk '$1 == "NoNewPrivs:" { print $2 }' <<<"$st")
	[ "$v" = 1 ] || lab_fail "pxed (pid $pid): NoNewPrivs is '$v', expected 1"
	# The filter follows no_new_privs at once (Landlock between them adds no wait).
	for ((i = 0; i < 20; i++)); do
		st=$(cat "/proc/$pid/status" 2>/dev/null) || return 0
		! grep -Eq '^State:[[:space:]]+Z' <<<"$st" || return 0
		v=$(awk '$1 == "Seccomp:" { print $2 }' <<<"$st")
		[ "$v" != "$seccomp" ] || break
		sleep 0.1
	done
	[ "$v" = "$seccomp" ] || lab_fail "pxed (pid $pid): Seccomp is '$v', expected $seccomp"
	LAB_PRIV_CHECKED=$pid
	lab_log "pxed (pid $pid) runs as uid $want gid $want_gid: no capabilities, no_new_privs," \
		"seccomp $([ "$seccomp" = 2 ] && echo on || echo "off (valgrind or a sanitizer build)")"
}

# lab_kill_pxed [TIMEOUT_S]: SIGTERM LAB_PXED_PID and wait (default 10 s) for it to
# exit; returns pxed's exit status (128+N if a signal N ended it; 137 if it had to
# be SIGKILLed after the timeout). Clears LAB_PXED_PID.
lab_kill_pxed() {
	local rc=0
	[ -n "$LAB_PXED_PID" ] || return 0
	lab_stop_pid "$LAB_PXED_PID" "${1:-10}" || rc=$?
	LAB_PXED_PID=
	return "$rc"
}

# lab_explain [--config FILE] MAC ERE...: run `pxed explain MAC` against the lab's state
# directory ($LAB_TMP/state; with --config, the plan is also decided again with FILE),
# save the report to $LAB_TMP/explain-<mac>.txt, echo it as comments, and check that
# each extended regex ERE matches a line of it: fails the test (lab_fail) on the first
# that does not, else one "ok" line. Typical EREs: '^facts: +arch bios', 'snponly\.efi',
# '^cause: +\[done\]'.
lab_explain() {
	local cfg=() mac re out
	if [ "${1:-}" = --config ]; then
		cfg=(--config "${2:?lab_explain --config FILE MAC ERE...}")
		shift 2
	fi
	mac=${1:?lab_explain MAC ERE...}
	shift
	out="$LAB_TMP/explain-${mac//:/-}.txt"
	"$PXED" explain "$mac" --state-dir "$LAB_TMP/state" "${cfg[@]}" >"$out" 2>&1 ||
		lab_fail "pxed explain $mac failed: $(tr '\n' ' ' <"$out")"
	sed 's/^/# /' "$out"
	for re in "$@"; do
		grep -qE -- "$re" "$out" || lab_fail "pxed explain $mac: no line matches '$re'"
	done
	lab_ok "pxed explain $mac: all $# patterns match"
}
