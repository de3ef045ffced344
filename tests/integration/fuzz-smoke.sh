#!/usr/bin/env bash
# Builds every fuzz target in tests/fuzz with clang (libFuzzer, ASan, UBSan) against
# all of pxed's library sources, and runs each for a few seconds from its seeds, so
# the targets keep building and a crash on the captured firmware packets fails CI.
# One "ok - TARGET ..." or "not ok - TARGET ..." line per target.
# Env: PXED_FUZZ_SECONDS (default 5) per target; PXED_FUZZ_JOBS (default 1) targets
# at a time, and compiler jobs; PXED_FUZZ_ONLY="fuzz_dhcp fuzz_tftp" only those;
# PXED_FUZZ_OUT=DIR keeps the binaries, logs, new corpus entries and crash inputs
# there (default: a temporary directory, removed). scripts/run-tests.sh's fuzz phase
# runs this with 60 s per target, two at a time.
# Longer runs: PXED_FUZZ_SECONDS=300 bash tests/integration/fuzz-smoke.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SECONDS_EACH=${PXED_FUZZ_SECONDS:-5}
JOBS=${PXED_FUZZ_JOBS:-1}
if [ -n "${PXED_FUZZ_OUT:-}" ]; then
	OUT=$PXED_FUZZ_OUT
	mkdir -p "$OUT"
else
	OUT=$(mktemp -d /tmp/pxed-fuzz.XXXXXX)
	trap 'rm -rf "$OUT"' EXIT
fi
failed=0

command -v clang >/dev/null || { echo "not ok - clang is missing: run make deps"; exit 1; }
cd "$ROOT"
PKGS="libevent_core libevent_extra libevent_openssl openssl sqlite3 yaml-0.1 jansson libseccomp"
# shellcheck disable=SC2086 # PKGS is a list
CFLAGS_PKG=$(pkg-config --cflags $PKGS)
# shellcheck disable=SC2086
LIBS=$(pkg-config --libs $PKGS)
mapfile -t SRCS < <(ls src/*/*.c)
# The dashboard's files, made into C as the build does (src/http/meson.build).
python3 scripts/embed.py --output "$OUT/dashboard_assets.c" src/http/dashboard/* ||
	{ echo "not ok - scripts/embed.py failed"; exit 1; }
SRCS+=("$OUT/dashboard_assets.c")
# The library is compiled once, instrumented, and linked into every target. UBSan
# does not recover: undefined behaviour ends the run like an ASan report.
VERSION=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" meson.build | head -n 1)
FLAGS=(-g -O1 -D_GNU_SOURCE -Isrc "-DPXED_VERSION=\"${VERSION:-0}\"" -fno-sanitize-recover=all)
OBJS=()
for src in "${SRCS[@]}"; do
	obj="$OUT/$(echo "$src" | tr / _).o"
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
	# shellcheck disable=SC2086
	clang "${FLAGS[@]}" -fsanitize=fuzzer-no-link,address,undefined $CFLAGS_PKG \
		-c "$src" -o "$obj" 2>"$obj.err" || rm -f "$obj" &
	OBJS+=("$obj")
done
wait
for obj in "${OBJS[@]}"; do
	[ -f "$obj" ] && continue
	echo "not ok - $(basename "$obj" .o) does not build with clang:"
	sed 's/^/#   /' "$obj.err" | tail -20
	exit 1
done

# target, max_len, seed directory (empty: libFuzzer starts from nothing)
targets=(
	"fuzz_dhcp 1500 tests/fuzz/corpus/dhcp"
	"fuzz_dhcp_handler 1500 tests/fuzz/corpus/dhcp"
	"fuzz_tftp 1500 tests/fuzz/corpus/tftp"
	"fuzz_tftp_wxfer 1500 tests/fuzz/corpus/tftp_wxfer"
	"fuzz_config 65536 examples"
	"fuzz_rogue 1500 tests/fuzz/corpus/rogue"
	"fuzz_store 65536 tests/fuzz/corpus/store"
	"fuzz_http 8192 tests/fuzz/corpus/http"
	"fuzz_script 8192 tests/fuzz/corpus/script"
	"fuzz_template 65536 tests/fuzz/corpus/template"
)
# A target missing above still runs: 65536 bytes, seeds in tests/fuzz/corpus/NAME.
for f in tests/fuzz/fuzz_*.c; do
	t=$(basename "$f" .c)
	[[ " ${targets[*]} " == *" $t "* ]] && continue
	seeds=tests/fuzz/corpus/${t#fuzz_}
	[ -d "$seeds" ] || seeds=-
	targets+=("$t 65536 $seeds")
done

# run_target NAME MAXLEN SEEDS: builds and runs one target; writes NAME.result, the
# line to print (and the report's lines as comments when it failed).
run_target() {
	local t=$1 maxlen=$2 seeds=$3 res=$OUT/$1.result
	local -a dirs
	# shellcheck disable=SC2086
	if ! clang "${FLAGS[@]}" -fsanitize=fuzzer,address,undefined \
		"tests/fuzz/$t.c" "${OBJS[@]}" $LIBS -o "$OUT/$t" 2>"$OUT/$t.build"; then
		{
			echo "not ok - $t does not build:"
			sed 's/^/#   /' "$OUT/$t.build" | tail -20
		} >"$res"
		return
	fi
	mkdir -p "$OUT/$t.corpus"
	dirs=("$OUT/$t.corpus")
	[ "$seeds" != - ] && dirs+=("$ROOT/$seeds")
	# The time limit is libFuzzer's; timeout only ends a run that hangs past it.
	if (cd "$OUT" && timeout -k 5 $((SECONDS_EACH + 120)) "./$t" -max_len="$maxlen" \
		-max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -artifact_prefix="$OUT/$t-" \
		"${dirs[@]}") >"$OUT/$t.log" 2>&1; then
		echo "ok - $t: $(grep -oE 'Done [0-9]+ runs' "$OUT/$t.log" | tail -1 || echo ran) in ${SECONDS_EACH}s, no crash" >"$res"
	else
		{
			echo "not ok - $t crashed or failed (log $OUT/$t.log):"
			grep -E 'ERROR|SUMMARY|runtime error|==[0-9]+==|^ +#[0-9]+ ' "$OUT/$t.log" |
				head -30 | sed 's/^/#   /'
			find "$OUT" -maxdepth 1 -name "$t-*" | sed 's/^/#   input: /'
		} >"$res"
	fi
}

ran=()
for entry in "${targets[@]}"; do
	read -r t maxlen seeds <<<"$entry"
	if [ -n "${PXED_FUZZ_ONLY:-}" ] && [[ " $PXED_FUZZ_ONLY " != *" $t "* ]]; then
		continue
	fi
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
	run_target "$t" "$maxlen" "$seeds" &
	ran+=("$t")
done
wait
for t in "${ran[@]}"; do
	if [ -s "$OUT/$t.result" ]; then
		cat "$OUT/$t.result"
	else
		echo "not ok - $t: no result"
	fi
	grep -q '^ok - ' "$OUT/$t.result" 2>/dev/null || failed=$((failed + 1))
done
echo "# ${#ran[@]} fuzz targets, $failed failed"
[ "$failed" -eq 0 ]
