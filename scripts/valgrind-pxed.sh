#!/usr/bin/env bash
# Runs a pxed binary under valgrind's memcheck, for the valgrind phase of
# scripts/run-tests.sh: usage valgrind-pxed.sh REAL_PXED ARGS...
# exec keeps the PID, so the tests' signals (SIGTERM to stop, SIGKILL for the
# durability test) reach the process that runs pxed. The report of each
# process goes to $PXED_VALGRIND_LOGS/vg.<pid>.log; run-tests.sh counts a
# test failed when any of them has an error or a definite or indirect leak
# ("ERROR SUMMARY: N errors" with N > 0; a SIGKILLed process writes none). Possible and reachable blocks are
# not errors: libevent and SQLite keep caches until exit on purpose.
# PXED_VALGRIND_SHIM: the built scripts/valgrind-openat2.c, preloaded before any
# LD_PRELOAD of the test's own (valgrind 3.19 has no openat2: see that file).
set -euo pipefail
real=${1:?usage: valgrind-pxed.sh REAL_PXED ARGS...}
shift
logs=${PXED_VALGRIND_LOGS:-/tmp}
mkdir -p "$logs"
if [ -n "${PXED_VALGRIND_SHIM:-}" ]; then
	export LD_PRELOAD=$PXED_VALGRIND_SHIM${LD_PRELOAD:+:$LD_PRELOAD}
fi
exec valgrind --tool=memcheck --leak-check=full \
	--show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
	--error-exitcode=99 --num-callers=30 --child-silent-after-fork=yes \
	--log-file="$logs/vg.%p.log" "$real" "$@"
