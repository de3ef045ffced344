#!/usr/bin/env bash
# Runs every test and ends with one summary line "N passed, N failed":
#   1. unit tests (cmocka, through meson test), one result per test program;
#   2. integration tests with real clients: tests/integration/*.sh;
#   3. end-to-end QEMU boots: tests/e2e/*.sh, two at a time (2 cores here).
# Each script prints TAP-like "ok"/"not ok" lines and exits non-zero on failure;
# its output goes to $OUT/<name>.log and is shown when it fails.
#   PXED_TESTS="full-bios config-hosts"  runs only the named scripts (and units)
set -uo pipefail

BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=${PXED_TEST_OUT:-$ROOT/$BUILD/test-out}
export PXED=$ROOT/$BUILD/pxed PXED_TEST_OUT=$OUT
JOBS=${PXED_TEST_JOBS:-2}
SCRIPT_TIMEOUT=${PXED_TEST_TIMEOUT:-900}
rm -rf "$OUT"
mkdir -p "$OUT"
passed=0
failed=0
failures=()

if [ "$(id -u)" -ne 0 ]; then
	echo "run-tests: integration and end-to-end tests need root (network namespaces)" >&2
fi

echo "== unit tests"
meson test -C "$BUILD" --suite unit --print-errorlogs >"$OUT/unit.log" 2>&1
while read -r line; do
	echo "$line"
	case "$line" in
	*" OK "*) passed=$((passed + 1)) ;;
	*" FAIL "* | *" TIMEOUT "* | *" ERROR "*)
		failed=$((failed + 1))
		failures+=("unit: ${line}")
		;;
	esac
done < <(grep -E '^ *[0-9]+/[0-9]+ ' "$OUT/unit.log")
if grep -qE '^(Fail|Timeout):\s+[1-9]' "$OUT/unit.log"; then
	sed -n '/^---/,$p' "$OUT/unit.log" | tail -60
fi

selected() {
	[ -z "${PXED_TESTS:-}" ] && return 0
	for t in $PXED_TESTS; do [ "$t" = "$1" ] && return 0; done
	return 1
}

# run_script FILE: runs one test script with a hard time limit; writes NAME.rc.
run_script() {
	local f=$1 name start rc
	name=$(basename "$f" .sh)
	start=$(date +%s)
	timeout -k 10 "$SCRIPT_TIMEOUT" bash "$f" "$BUILD" >"$OUT/$name.log" 2>&1
	rc=$?
	echo "$rc $(($(date +%s) - start))" >"$OUT/$name.rc"
}

# run_group DIR JOBS: runs DIR/*.sh, JOBS at a time, and tallies the results.
run_group() {
	local dir=$1 jobs=$2 f name rc secs
	local -a scripts=()
	for f in "$dir"/*.sh; do
		[ -e "$f" ] || continue
		case "$(basename "$f")" in lib*.sh) continue ;; esac
		selected "$(basename "$f" .sh)" && scripts+=("$f")
	done
	for f in "${scripts[@]}"; do
		while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
		run_script "$f" &
	done
	wait
	for f in "${scripts[@]}"; do
		name=$(basename "$f" .sh)
		read -r rc secs <"$OUT/$name.rc"
		if [ "$rc" = 0 ]; then
			passed=$((passed + 1))
			echo "PASS $dir/$name (${secs}s)"
		else
			failed=$((failed + 1))
			failures+=("$dir/$name")
			echo "FAIL $dir/$name (exit $rc after ${secs}s); its failed checks:"
			grep -E '^not ok' "$OUT/$name.log" | sed 's/^/    /' | head -20
			echo "    ... and the end of its output ($OUT/$name.log):"
			sed 's/^/    /' "$OUT/$name.log" | tail -80
		fi
	done
}

echo "== integration tests (real clients)"
run_group tests/integration 1
echo "== end-to-end tests (QEMU guests booting through pxed)"
run_group tests/e2e "$JOBS"

echo
echo "logs: $OUT"
for f in "${failures[@]}"; do echo "failed: $f"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
