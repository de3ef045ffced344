#!/usr/bin/env bash
# Builds every fuzz target in tests/fuzz with clang (libFuzzer, ASan, UBSan) against
# all of pxed's library sources, and runs each for a few seconds from its seeds, so
# the targets keep building and a crash on the captured firmware packets fails CI.
# Longer runs: PXED_FUZZ_SECONDS=300 bash tests/integration/fuzz-smoke.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SECONDS_EACH=${PXED_FUZZ_SECONDS:-5}
OUT=$(mktemp -d /tmp/pxed-fuzz.XXXXXX)
trap '[ -n "${PXED_FUZZ_KEEP:-}" ] || rm -rf "$OUT"' EXIT
failed=0

command -v clang >/dev/null || { echo "not ok - clang is missing: run make deps"; exit 1; }
cd "$ROOT"
# shellcheck disable=SC2046
PKGS="libevent_core libevent_extra sqlite3 yaml-0.1 jansson libseccomp"
CFLAGS_PKG=$(pkg-config --cflags $PKGS)
LIBS=$(pkg-config --libs $PKGS)
mapfile -t SRCS < <(ls src/*/*.c)
# The dashboard's files, made into C as the build does (src/http/meson.build).
python3 scripts/embed.py --output "$OUT/dashboard_assets.c" src/http/dashboard/* ||
	{ echo "not ok - scripts/embed.py failed"; exit 1; }
SRCS+=("$OUT/dashboard_assets.c")
# The library is compiled once, instrumented, and linked into every target.
VERSION=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" meson.build | head -n 1)
FLAGS=(-g -O1 -D_GNU_SOURCE -Isrc "-DPXED_VERSION=\"${VERSION:-0}\"")
OBJS=()
for src in "${SRCS[@]}"; do
	obj="$OUT/$(echo "$src" | tr / _).o"
	# shellcheck disable=SC2086
	clang "${FLAGS[@]}" -fsanitize=fuzzer-no-link,address,undefined $CFLAGS_PKG -c "$src" -o "$obj" ||
		{ echo "not ok - $src does not build with clang"; exit 1; }
	OBJS+=("$obj")
done

# target, max_len, seed directory (empty: libFuzzer starts from nothing)
targets=(
	"fuzz_dhcp 1500 tests/fuzz/corpus/dhcp"
	"fuzz_dhcp_handler 1500 tests/fuzz/corpus/dhcp"
	"fuzz_tftp 1500 -"
	"fuzz_tftp_wxfer 1500 tests/fuzz/corpus/tftp_wxfer"
	"fuzz_config 65536 examples"
	"fuzz_rogue 1500 tests/fuzz/corpus/rogue"
)
for entry in "${targets[@]}"; do
	read -r t maxlen seeds <<<"$entry"
	# shellcheck disable=SC2086
	if ! clang "${FLAGS[@]}" -fsanitize=fuzzer,address,undefined \
		"tests/fuzz/$t.c" "${OBJS[@]}" $LIBS -o "$OUT/$t" 2>"$OUT/$t.build"; then
		echo "not ok - $t does not build:"
		sed 's/^/#   /' "$OUT/$t.build" | tail -20
		failed=$((failed + 1))
		continue
	fi
	mkdir -p "$OUT/$t.corpus"
	dirs=("$OUT/$t.corpus")
	[ "$seeds" != - ] && dirs+=("$ROOT/$seeds")
	if (cd "$OUT" && timeout -k 5 $((SECONDS_EACH + 60)) "./$t" -max_len="$maxlen" \
		-max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 "${dirs[@]}") >"$OUT/$t.log" 2>&1; then
		echo "ok - $t: $(grep -oE 'Done [0-9]+ runs' "$OUT/$t.log" | tail -1 || echo ran) in ${SECONDS_EACH}s, no crash"
	else
		echo "not ok - $t crashed or failed:"
		grep -E 'ERROR|SUMMARY|==[0-9]+==' "$OUT/$t.log" | head -20 | sed 's/^/#   /'
		failed=$((failed + 1))
	fi
done
echo "# ${#targets[@]} fuzz targets, $failed failed"
[ "$failed" -eq 0 ]
