#!/usr/bin/env bash
# `make bench`: runs every benchmark in bench/*/run.sh, side by side against the servers
# people use today, and prints their reports. Figures go to docs/benchmarks.md by hand.
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
n=0
for b in "$ROOT"/bench/*/run.sh; do
	[ -e "$b" ] || continue
	echo "== $(basename "$(dirname "$b")")"
	bash "$b" "$ROOT/$BUILD"
	n=$((n + 1))
done
if [ "$n" -eq 0 ]; then
	echo "bench: no benchmark has been written yet (DHCP: issue 3, TFTP: issue 4, HTTP: issue 5)"
fi
