#!/usr/bin/env bash
# Runs every test, in phases, and ends with one summary line "N passed, N failed".
# Usage: scripts/run-tests.sh [BUILD_DIR]   (default: build; `make test` and .ci/run)
#
# Phases (PXED_TEST_PHASES, default "normal asan fuzz valgrind", in this order):
#   normal    the build as configured: unit tests (cmocka, through meson test), one
#             result per program; tests/integration/*.sh with real clients, one at a
#             time; tests/e2e/*.sh QEMU boots, two at a time (2 cores here).
#   asan      the same three groups against BUILD_DIR-asan, made here with meson
#             (-Db_sanitize=address,undefined -fno-sanitize-recover=all). ASan, LSan and
#             UBSan write their reports to $OUT/asan/reports/<test>/; a test with any
#             report there fails, whatever its own exit status.
#   fuzz      tests/integration/fuzz-smoke.sh builds every tests/fuzz target with
#             libFuzzer and runs each on its corpus for PXED_FUZZ_SECONDS (default 60),
#             PXED_FUZZ_JOBS at a time (default 2); one result per target.
#   valgrind  tests/integration/*.sh with pxed run by scripts/valgrind-pxed.sh
#             (memcheck, definite and indirect leaks are errors) from the normal build;
#             a test whose valgrind reports count an error fails.
# Measured (2 cores, a clean clone, 2026-12-07 evening): normal 772-800 s, asan 850 s (with
# its build), fuzz 321 s (10 targets), valgrind 907 s; about 50 min in all, 157 entries.
# Each result is one entry: "tests/e2e/full-bios", "asan: tests/integration/tftp",
# "fuzz: fuzz_dhcp", "valgrind: tests/integration/dhcp", "asan: unit: test_pool".
# Each script prints TAP-like "ok"/"not ok" lines and exits non-zero on failure; its
# output goes to $OUT/[PHASE/]<name>.log and is shown when it fails.
#
# Environment:
#   PXED_TEST_PHASES="normal asan"       only these phases
#   PXED_TESTS="full-bios config-hosts"  only the named scripts (units still run; the
#                                        fuzz phase is the script fuzz-smoke)
#   PXED_TEST_OUT=DIR                    the logs (default BUILD_DIR/test-out)
#   PXED_TEST_JOBS=2                     e2e scripts at a time
#   PXED_TEST_TIMEOUT=900                seconds per script (valgrind: 2x)
#   PXED_FUZZ_SECONDS, PXED_FUZZ_JOBS    the fuzz phase (above)
#
# Not run, on purpose (each with its reason):
#   fuzz-smoke in the asan and valgrind phases: it builds its own instrumented targets
#     from the sources, so it would test nothing new; in the normal phase it is left to
#     the fuzz phase when that runs (the same script, 60 s per target instead of 5).
#   tests/e2e/* under valgrind: QEMU boots dominate them, the same pxed paths run in
#     tests/integration and the asan phase runs the e2e scripts with pxed instrumented;
#     under memcheck they would add the e2e group's time again (or more) to a run that
#     must stay well inside CI's 90 minutes.
# Valgrind 3.19 (Debian 12) has no openat2: the valgrind phase preloads
# scripts/valgrind-openat2.c into pxed (see there).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
case "${1:-build}" in
/*) BUILD=${1} ;;
*) BUILD=$ROOT/${1:-build} ;;
esac
OUT=${PXED_TEST_OUT:-$BUILD/test-out}
PHASES=${PXED_TEST_PHASES:-normal asan fuzz valgrind}
JOBS=${PXED_TEST_JOBS:-2}
SCRIPT_TIMEOUT=${PXED_TEST_TIMEOUT:-900}
ASAN_BUILD=$BUILD-asan
rm -rf "$OUT"
mkdir -p "$OUT"
passed=0
failed=0
failures=()
phase_times=()

if [ "$(id -u)" -ne 0 ]; then
	echo "run-tests: integration and end-to-end tests need root (network namespaces)" >&2
fi

phase_on() { [[ " $PHASES " == *" $1 "* ]]; }

selected() {
	[ -z "${PXED_TESTS:-}" ] && return 0
	for t in $PXED_TESTS; do [ "$t" = "$1" ] && return 0; done
	return 1
}

# pass NAME / fail NAME: one entry of the summary.
pass() { passed=$((passed + 1)); }
fail() {
	failed=$((failed + 1))
	failures+=("$1")
}

# The phase being run: normal, asan or valgrind; its entry prefix and log directory.
PHASE=normal
PREFIX=""
POUT=$OUT
TBUILD=$BUILD

# run_units: meson test over TBUILD's unit suite, one entry per program.
run_units() {
	local line log=$POUT/unit.log
	meson test -C "$TBUILD" --suite unit --print-errorlogs -t "${UNIT_TIMEOUT_MULT:-1}" \
		>"$log" 2>&1
	while read -r line; do
		echo "$line"
		case "$line" in
		*" OK "*) pass ;;
		*" FAIL "* | *" TIMEOUT "* | *" ERROR "*) fail "${PREFIX}unit: ${line}" ;;
		esac
	done < <(grep -E '^ *[0-9]+/[0-9]+ ' "$log")
	if ! grep -qE '^ *[0-9]+/[0-9]+ ' "$log"; then
		fail "${PREFIX}unit: meson test ran nothing ($log)"
		tail -20 "$log"
	fi
	if grep -qE '^(Fail|Timeout):\s+[1-9]' "$log"; then
		sed -n '/^---/,$p' "$log" | tail -60
	fi
}

# skipped NAME: why NAME does not run in this phase (empty: it runs).
skipped() {
	case "$PHASE:$1" in
	asan:fuzz-smoke | valgrind:fuzz-smoke) echo "builds its own sanitized targets" ;;
	normal:fuzz-smoke) phase_on fuzz && echo "the fuzz phase runs it" ;;
	esac
}

# reports NAME: the sanitizer or valgrind reports NAME left, as "FILE: first line"
# lines; nothing when there are none.
reports() {
	local dir=$POUT/reports/$1 f
	[ -d "$dir" ] || return 0
	case "$PHASE" in
	asan)
		for f in "$dir"/*; do
			[ -s "$f" ] && echo "$f: $(grep -m1 -E 'ERROR|runtime error|SUMMARY' "$f")"
		done
		;;
	valgrind)
		for f in "$dir"/*; do
			grep -qE 'ERROR SUMMARY: [1-9]' "$f" 2>/dev/null &&
				echo "$f: $(grep -m1 -E 'ERROR SUMMARY' "$f")"
		done
		;;
	esac
	return 0
}

# run_script FILE: runs one test script with a hard time limit, in this phase's
# environment; writes NAME.rc ("EXIT SECONDS"). Runs in a subshell of its own.
run_script() {
	local f=$1 name start rc limit=$SCRIPT_TIMEOUT dir
	name=$(basename "$f" .sh)
	dir=$POUT/reports/$name
	case "$PHASE" in
	asan)
		mkdir -p "$dir"
		export ASAN_OPTIONS="$SAN_COMMON:log_path=$dir/asan"
		export UBSAN_OPTIONS="$UBSAN_COMMON:log_path=$dir/ubsan"
		;;
	valgrind)
		mkdir -p "$dir"
		export PXED_VALGRIND_LOGS=$dir
		limit=$((SCRIPT_TIMEOUT * 2))
		;;
	esac
	start=$(date +%s)
	timeout -k 10 "$limit" bash "$f" "$TBUILD" >"$POUT/$name.log" 2>&1
	rc=$?
	echo "$rc $(($(date +%s) - start))" >"$POUT/$name.rc"
}

# run_group DIR JOBS: runs DIR/*.sh, JOBS at a time, and tallies the results.
run_group() {
	local dir=$1 jobs=$2 f name rc secs why rep
	local -a scripts=()
	for f in "$dir"/*.sh; do
		[ -e "$f" ] || continue
		name=$(basename "$f" .sh)
		case "$name" in lib*) continue ;; esac
		selected "$name" || continue
		why=$(skipped "$name")
		if [ -n "$why" ]; then
			echo "SKIP ${PREFIX}$dir/$name: $why"
			continue
		fi
		scripts+=("$f")
	done
	for f in "${scripts[@]}"; do
		while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
		run_script "$f" &
	done
	wait
	for f in "${scripts[@]}"; do
		name=$(basename "$f" .sh)
		read -r rc secs <"$POUT/$name.rc"
		rep=$(reports "$name")
		if [ "$rc" = 0 ] && [ -z "$rep" ]; then
			pass
			echo "PASS ${PREFIX}$dir/$name (${secs}s)"
			continue
		fi
		fail "${PREFIX}$dir/$name"
		echo "FAIL ${PREFIX}$dir/$name (exit $rc after ${secs}s); its failed checks:"
		grep -E '^not ok' "$POUT/$name.log" | sed 's/^/    /' | head -20
		if [ -n "$rep" ]; then
			echo "    ... its $PHASE reports (the first 40 lines of each):"
			while read -r line; do
				echo "    $line"
				sed 's/^/      /' "${line%%: *}" | head -40
			done <<<"$rep"
		fi
		echo "    ... and the end of its output ($POUT/$name.log):"
		sed 's/^/    /' "$POUT/$name.log" | tail -80
	done
}

# timed PHASE FUNCTION: runs FUNCTION and records how long it took.
timed() {
	local start=$SECONDS
	echo "== phase $1"
	"$2"
	phase_times+=("$1 $((SECONDS - start))s")
	echo "== phase $1 took $((SECONDS - start))s"
}

phase_normal() {
	PHASE=normal PREFIX="" POUT=$OUT TBUILD=$BUILD
	export PXED=$BUILD/pxed PXED_TEST_OUT=$POUT
	echo "== unit tests"
	run_units
	echo "== integration tests (real clients)"
	run_group tests/integration 1
	echo "== end-to-end tests (QEMU guests booting through pxed)"
	run_group tests/e2e "$JOBS"
}

# Sanitizer settings: any report ends the process and fails the test. LSan runs
# at exit. verify_asan_link_order=0: tftp-upload.sh LD_PRELOADs a shim of its own.
SAN_COMMON="halt_on_error=1:abort_on_error=0:detect_leaks=1:print_stacktrace=1"
SAN_COMMON="$SAN_COMMON:verify_asan_link_order=0:detect_stack_use_after_return=0"
UBSAN_COMMON="halt_on_error=1:print_stacktrace=1"

phase_asan() {
	PHASE=asan PREFIX="asan: " POUT=$OUT/asan TBUILD=$ASAN_BUILD
	mkdir -p "$POUT"
	echo "== building $ASAN_BUILD (ASan + UBSan)"
	if [ ! -f "$ASAN_BUILD/build.ninja" ] &&
		! meson setup "$ASAN_BUILD" "$ROOT" -Db_sanitize=address,undefined -Db_lundef=false \
			-Dc_args=-fno-sanitize-recover=all >"$POUT/build.log" 2>&1; then
		fail "asan: meson setup $ASAN_BUILD"
		tail -30 "$POUT/build.log"
		return
	fi
	if ! nice ninja -C "$ASAN_BUILD" >>"$POUT/build.log" 2>&1; then
		fail "asan: ninja -C $ASAN_BUILD"
		tail -30 "$POUT/build.log"
		return
	fi
	export PXED=$ASAN_BUILD/pxed PXED_TEST_OUT=$POUT
	echo "== asan: unit tests"
	# Unit tests: meson shows a failing program's stderr, where the report goes.
	ASAN_OPTIONS=$SAN_COMMON UBSAN_OPTIONS=$UBSAN_COMMON UNIT_TIMEOUT_MULT=4 run_units
	echo "== asan: integration tests"
	run_group tests/integration 1
	echo "== asan: end-to-end tests"
	run_group tests/e2e "$JOBS"
}

phase_fuzz() {
	local log=$OUT/fuzz/fuzz.log line n=0
	if ! selected fuzz-smoke; then
		echo "SKIP fuzz: PXED_TESTS does not name fuzz-smoke"
		return
	fi
	mkdir -p "$OUT/fuzz"
	PXED_FUZZ_SECONDS=${PXED_FUZZ_SECONDS:-60} PXED_FUZZ_JOBS=${PXED_FUZZ_JOBS:-2} \
		PXED_FUZZ_OUT=$OUT/fuzz timeout -k 10 "$SCRIPT_TIMEOUT" \
		bash tests/integration/fuzz-smoke.sh >"$log" 2>&1
	echo "fuzz: exit $? ($log)"
	while read -r line; do
		n=$((n + 1))
		echo "$line"
		case "$line" in
		"ok - "*) pass ;;
		*) fail "fuzz: ${line#not ok - }" ;;
		esac
	done < <(grep -E '^(not )?ok - ' "$log")
	if [ "$n" -eq 0 ]; then
		fail "fuzz: fuzz-smoke.sh reported nothing"
		tail -30 "$log"
	elif grep -q '^not ok' "$log"; then
		grep -E '^#' "$log" | tail -60
	fi
}

phase_valgrind() {
	local vb=$OUT/valgrind/build
	PHASE=valgrind PREFIX="valgrind: " POUT=$OUT/valgrind
	command -v valgrind >/dev/null || {
		fail "valgrind: valgrind is not installed (make deps)"
		return
	}
	mkdir -p "$POUT"
	if ! cc -O1 -g -shared -fPIC -o "$POUT/openat2-shim.so" scripts/valgrind-openat2.c -ldl \
		>"$POUT/shim.log" 2>&1; then
		fail "valgrind: scripts/valgrind-openat2.c does not build"
		cat "$POUT/shim.log"
		return
	fi
	export PXED_VALGRIND_SHIM=$POUT/openat2-shim.so
	# A build directory whose pxed is valgrind-pxed.sh over the real one: the TFTP
	# scripts take BUILD/pxed whatever PXED says; the rest use PXED and BUILD/tests.
	mkdir -p "$vb"
	ln -sfn "$BUILD/tests" "$vb/tests"
	printf '#!/usr/bin/env bash\nexec %q %q "$@"\n' "$ROOT/scripts/valgrind-pxed.sh" "$BUILD/pxed" \
		>"$vb/pxed"
	chmod 755 "$vb/pxed"
	TBUILD=$vb
	export PXED=$vb/pxed PXED_TEST_OUT=$POUT
	run_group tests/integration 1
}

for p in $PHASES; do
	case "$p" in
	normal | asan | fuzz | valgrind) timed "$p" "phase_$p" ;;
	*) fail "unknown phase '$p' in PXED_TEST_PHASES" ;;
	esac
done

echo
echo "logs: $OUT"
for t in "${phase_times[@]}"; do echo "time: $t"; done
for f in "${failures[@]}"; do echo "failed: $f"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
