# shellcheck shell=bash
# Helpers shared by the TFTP integration tests (tftp.sh, tftp-upload.sh,
# tftp-lossy.sh, tftp-pmtu.sh): TAP-like check lines, a free port, a
# namespace shortcut, stopping a process started by the test, and the
# closing summary. Source it after setting TMP (the test's temporary
# directory) and, for in_ns, NS.

FAILED=0
CHECKS=0

ok() {
	CHECKS=$((CHECKS + 1))
	echo "ok - $*"
}
not_ok() {
	CHECKS=$((CHECKS + 1))
	FAILED=$((FAILED + 1))
	echo "not ok - $*"
}
skip() {
	echo "ok - $* # SKIP"
}
# check DESCRIPTION COMMAND...: ok when the command succeeds; its last lines otherwise.
check() {
	local desc=$1
	shift
	if "$@" >"$TMP/check.log" 2>&1; then
		ok "$desc"
	else
		not_ok "$desc"
		tail -n 5 "$TMP/check.log" | sed 's/^/#   /'
	fi
}
have() { command -v "$1" >/dev/null 2>&1; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
in_ns() { ip netns exec "$NS" "$@"; }

# pick_port FIRST: a port nobody listens on (UDP or TCP), from FIRST to FIRST+50.
pick_port() {
	local p
	for p in $(seq "$1" $(($1 + 50))); do
		if ! have ss || [ -z "$(ss -Hlnut "( sport = :$p )" 2>/dev/null)" ]; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# stop_pid PID: SIGTERM, up to 5 s to exit, then SIGKILL; reaps it. Only for
# processes this test started (by their PID).
stop_pid() {
	[ -n "$1" ] || return 0
	if kill -0 "$1" 2>/dev/null; then
		kill "$1" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$1" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$1" 2>/dev/null || true
	fi
	wait "$1" 2>/dev/null || true
}

# finish [LOG_LINES]: the summary line; on any failure, the end of pxed's log
# ($TMP/pxed.log) and exit status 1.
finish() {
	echo "# $CHECKS checks, $FAILED failed"
	if [ "$FAILED" -ne 0 ]; then
		echo "# pxed log:"
		tail -n "${1:-40}" "$TMP/pxed.log" 2>/dev/null | sed 's/^/#   /'
		exit 1
	fi
}
