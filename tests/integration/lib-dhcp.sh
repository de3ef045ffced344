# shellcheck shell=bash
# Helpers shared by the DHCP integration tests (dhcp.sh, dhcp-clients.sh,
# dhcp-durability.sh, pxe-bootserver.sh, dhcp-interfaces.sh). Source it after
# setting BUILD (the build directory as given) and HERE (tests/integration):
# it resolves BUILD, sets PXED and PROBE and sources the lab (../e2e/lib.sh).
# Env: PXED (default BUILD_DIR/pxed), DHCP_PROBE (default BUILD_DIR/tests/dhcp-probe).

case "$BUILD" in
/*) ;;
*) [ -d "$BUILD" ] && BUILD=$(cd "$BUILD" && pwd) || BUILD=$(cd "$HERE/../.." && pwd)/$BUILD ;;
esac
PXED=${PXED:-$BUILD/pxed}
PROBE=${DHCP_PROBE:-$BUILD/tests/dhcp-probe}
# shellcheck source=../e2e/lib.sh
. "$HERE/../e2e/lib.sh"

passed=0
failed=0

# ok MSG...: a passing check, counted.
ok() {
	lab_ok "$@"
	passed=$((passed + 1))
}

# not_ok MSG...: a failing check that does not stop the test (a pxed bug that is
# known and reported; later checks still run). The test exits 1 at the end.
not_ok() {
	echo "not ok - $*"
	failed=$((failed + 1))
}

# probe_in NS ARGS...: dhcp-probe on eth0 of namespace NS; its status is returned.
probe_in() {
	local ns=$1
	shift
	ip netns exec "$ns" "$PROBE" --iface eth0 "$@"
}

# probe ARGS...: dhcp-probe on the client host's eth0 (CLI_NS); its status is returned.
probe() { probe_in "$CLI_NS" "$@"; }

# field KEY TEXT: the first value of KEY= in dhcp-probe's output (empty if absent).
field() { sed -n "s/^$1=//p" <<<"$2" | head -n1; }

# expect KEY WANT TEXT WHAT: fail unless KEY=WANT is in TEXT.
expect() {
	local got
	got=$(field "$1" "$3")
	[ "$got" = "$2" ] || lab_fail "$4: $1 is '$got', expected '$2'; reply: $(tr '\n' ' ' <<<"$3")"
}

# metric 'NAME{LABELS}': its value from pxed's /metrics on SERVER (0 when absent).
metric() {
	local text
	text=$(ip netns exec "$LAB_NS" curl -sS --max-time 5 "http://$SERVER:8080/metrics") ||
		lab_fail "GET /metrics failed"
	awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }' <<<"$text"
}

# IPSQL: SQL for a lease's address (stored as an integer) in dotted form.
# shellcheck disable=SC2034 # used by the scripts that source this file
IPSQL="(ip>>24)||'.'||((ip>>16)&255)||'.'||((ip>>8)&255)||'.'||(ip&255)"

# lab_private_binaries: PXED and PROBE become copies in LAB_TMP/bin, for scripts that start
# pxed many times: a rebuild of BUILD meanwhile neither changes the binary under test nor
# fails a start.
lab_private_binaries() {
	mkdir -p "$LAB_TMP/bin"
	if ! cp "$PXED" "$LAB_TMP/bin/pxed" || ! cp "$PROBE" "$LAB_TMP/bin/dhcp-probe"; then
		lab_fail "cannot copy $PXED and $PROBE to $LAB_TMP/bin"
	fi
	PXED=$LAB_TMP/bin/pxed
	PROBE=$LAB_TMP/bin/dhcp-probe
}

# lab_add_clients N: hosts c1..cN on the lab bridge; their namespaces in CLI_NS.
lab_add_clients() {
	local h
	CLI_NS=()
	for ((h = 1; h <= $1; h++)); do
		lab_add_host "c$h"
		CLI_NS+=("$LAB_HOST_NS")
	done
}
