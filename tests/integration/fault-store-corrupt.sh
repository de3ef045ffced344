#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2015
# A damaged lease store at start (issue 7, fault 3). pxed must either refuse to start
# (status non-zero, a message naming the file and saying what to do, the file left
# byte for byte as it was) or start with every lease the store held: never start with
# an empty store over the old data. Needs root (pxed runs in a network namespace of
# its own, lab octet 102, so its ports clash with nothing).
#
# A good store is made first: pxed creates it in an empty state directory (then
# SIGTERM), and 300 leases are written into it with sqlite3 (about 18 pages). Each
# case copies it into a state directory of its own, damages the copy, and runs
# `pxed serve --listen 127.0.0.1 --no-dhcp` on it (up to 10 s to listen or exit):
#   refuse:        a zero-length pxed.db; pxed.db cut mid-page (three places, one
#                  inside the header page); random bytes over the 100-byte header;
#                  random bytes over a page in the middle of the leases table; a store
#                  written by a newer
#                  pxed (schema 99); a SQLite file that is not a pxed store;
#   all leases:    a -wal left by a writer that died before its checkpoint (its
#                  leases are only in the -wal), also with a -shm of random bytes;
#                  a -wal of random bytes; a -journal
#                  of random bytes; a hot -journal left by a writer killed in the
#                  middle of a transaction that deleted every lease (rolled back).
# For a refusal, `pxed leases --state-dir` must fail too (not print an empty list),
# and the file's sha256 (with its -wal's) is the same after both. For a start, `pxed
# leases --json` lists exactly the 300 leases. Then pxed must never leave such a
# file itself: 15 first starts on empty state directories, each SIGKILLed 0-80 ms in
# (while it creates the store), are each followed by a start that works. Last,
# following the advice (moving the damaged file away) lets pxed start afresh.
#
# Usage: tests/integration/fault-store-corrupt.sh [BUILD_DIR]   (default: build)
set -euo pipefail

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib-dhcp.sh
. "$HERE/lib-dhcp.sh"

NS=pxed-it-fault-store
OCTET=102
N_LEASES=300
PY=/usr/bin/python3
t_start=$EPOCHREALTIME

[ -x "$PXED" ] || { echo "not ok - pxed not built: $PXED"; exit 1; }
command -v sqlite3 >/dev/null || { echo "not ok - sqlite3 is not installed"; exit 1; }
"$PY" -c 'import sqlite3, json' 2>/dev/null || { echo "not ok - $PY with sqlite3 is needed"; exit 1; }

lab_setup "$NS" "$OCTET"

# run_pxed DIR LOG: pxed serve on state directory DIR in the lab namespace; returns
# once it listens on TCP 8080 (RESULT=up, pxed left running as LAB_PXED_PID) or has
# exited (RESULT=exit, STATUS its status), 10 s at most (RESULT=hang, killed).
run_pxed() {
	local dir=$1 log=$2 i
	RESULT=hang STATUS=
	ip netns exec "$LAB_NS" setpriv --pdeathsig TERM -- "$PXED" serve --listen 127.0.0.1 \
		--tftp-port 69 --http-port 8080 --no-dhcp --state-dir "$dir" </dev/null >"$log" 2>&1 &
	LAB_PXED_PID=$!
	lab_track_pid "$LAB_PXED_PID"
	for ((i = 0; i < 100; i++)); do
		if ! lab_alive "$LAB_PXED_PID"; then
			STATUS=0
			wait "$LAB_PXED_PID" 2>/dev/null || STATUS=$?
			lab_untrack_pid "$LAB_PXED_PID"
			LAB_PXED_PID=
			RESULT="exit"
			return 0
		fi
		if ip netns exec "$LAB_NS" ss -H -lnt 'sport = :8080' 2>/dev/null | grep -q .; then
			RESULT=up
			return 0
		fi
		sleep 0.1
	done
	lab_kill_pxed 5 || true
}

# leases_of DIR: "IP MAC" lines, sorted, from `pxed leases --json`; status 1 if it failed.
leases_of() {
	local out
	out=$("$PXED" leases --json --state-dir "$1" 2>/dev/null) || return 1
	"$PY" -c 'import json, sys
for l in json.load(sys.stdin): print(l["ip"], l["mac"])' <<<"$out" | sort
}

# sums DIR: the sha256 of pxed.db and of its -wal and -journal, if present.
sums() {
	local f
	for f in pxed.db pxed.db-wal pxed.db-journal; do
		[ -e "$1/$f" ] && echo "$f $(sha256sum <"$1/$f" | cut -d' ' -f1)"
	done
	return 0
}

# ---- the good store --------------------------------------------------------

GOOD=$LAB_TMP/good
mkdir -p "$GOOD"
run_pxed "$GOOD" "$LAB_TMP/create.log"
[ "$RESULT" = up ] || lab_fail "pxed did not start on an empty state directory ($RESULT $STATUS): $(tail -n3 "$LAB_TMP/create.log")"
rc=0
lab_kill_pxed 10 || rc=$?
[ "$rc" = 0 ] || lab_fail "pxed's SIGTERM exit status is $rc"
[ -s "$GOOD/pxed.db" ] || lab_fail "pxed left no store in $GOOD"
ok "pxed creates a store in an empty state directory"
for ((i = 1; i <= N_LEASES; i++)); do
	printf "INSERT INTO leases VALUES (%d, X'525400%02x%02x%02x', %d, 'host-%d-%s');\n" \
		$((0x0a4d6600 + i)) 102 $((i >> 8)) $((i & 255)) $(($(date +%s) + 86400 + i)) "$i" \
		"padding-padding-padding-padding-padding-padding"
done | { echo "BEGIN;"; cat; echo "COMMIT;"; } | sqlite3 -batch "$GOOD/pxed.db" >/dev/null ||
	lab_fail "cannot write the leases with sqlite3"
leases_of "$GOOD" >"$LAB_TMP/want.txt" || lab_fail "pxed leases fails on the good store"
[ "$(wc -l <"$LAB_TMP/want.txt")" = "$N_LEASES" ] ||
	lab_fail "the good store lists $(wc -l <"$LAB_TMP/want.txt") leases, not $N_LEASES"
SIZE=$(stat -c %s "$GOOD/pxed.db")
lab_log "the good store: $N_LEASES leases, $SIZE bytes"

# ---- the cases -------------------------------------------------------------

# new_case NAME: a state directory with a copy of the good store; sets DIR.
new_case() {
	DIR=$LAB_TMP/case-$1
	mkdir -p "$DIR"
	cp "$GOOD/pxed.db" "$DIR/pxed.db"
}

# expect_refusal NAME: pxed must exit non-zero naming DIR/pxed.db and what to do;
# `pxed leases` must fail; the files must be unchanged.
expect_refusal() {
	local name=$1 log=$LAB_TMP/$1.log before after
	before=$(sums "$DIR")
	run_pxed "$DIR" "$log"
	if [ "$RESULT" = up ]; then
		local n
		n=$(leases_of "$DIR" 2>/dev/null | wc -l || true)
		lab_kill_pxed 10 || true
		not_ok "$name: pxed started (store lists $n of $N_LEASES leases), it should refuse"
		return
	fi
	if [ "$RESULT" = hang ]; then
		not_ok "$name: pxed neither listened nor exited within 10 s"
		return
	fi
	if [ "$STATUS" = 0 ]; then
		not_ok "$name: pxed exited with status 0"
	elif ! grep -qF "$DIR/pxed.db" "$log"; then
		not_ok "$name: status $STATUS, but the message does not name $DIR/pxed.db: $(tr '\n' ' ' <"$log")"
	elif ! grep -qiE 'restore|move it|remove it' "$log"; then
		not_ok "$name: status $STATUS, but the message does not say what to do: $(tr '\n' ' ' <"$log")"
	else
		ok "$name: pxed refuses (status $STATUS): $(grep -m1 -F "$DIR/pxed.db" "$log" | cut -c1-230)"
	fi
	if out=$("$PXED" leases --state-dir "$DIR" 2>&1); then
		not_ok "$name: pxed leases succeeds on it ($(wc -l <<<"$out") lines)"
	else
		ok "$name: pxed leases fails on it too"
	fi
	after=$(sums "$DIR")
	[ "$before" = "$after" ] && ok "$name: the files are unchanged (sha256)" ||
		not_ok "$name: the files changed: before [$(tr '\n' ' ' <<<"$before")] after [$(tr '\n' ' ' <<<"$after")]"
}

# expect_all NAME: pxed must start, and list exactly the good store's leases.
expect_all() {
	local name=$1 log=$LAB_TMP/$1.log rc=0
	run_pxed "$DIR" "$log"
	if [ "$RESULT" != up ]; then
		not_ok "$name: pxed did not start ($RESULT, status $STATUS): $(tail -n3 "$log" | tr '\n' ' ')"
		return
	fi
	lab_kill_pxed 10 || rc=$?
	[ "$rc" = 0 ] || not_ok "$name: pxed's SIGTERM exit status is $rc"
	if ! leases_of "$DIR" >"$LAB_TMP/$name.got"; then
		not_ok "$name: pxed leases fails after pxed ran on it"
	elif cmp -s "$LAB_TMP/want.txt" "$LAB_TMP/$name.got"; then
		ok "$name: pxed starts, and all $N_LEASES leases are there"
	else
		not_ok "$name: pxed started with $(wc -l <"$LAB_TMP/$name.got") leases, not the $N_LEASES it had: $(diff "$LAB_TMP/want.txt" "$LAB_TMP/$name.got" | head -n4 | tr '\n' ' ')"
	fi
}

new_case zero
: >"$DIR/pxed.db"
expect_refusal zero-length

for cut in 2000 $((SIZE / 2 + 1000)) $((SIZE - 3000)); do
	new_case "cut$cut"
	truncate -s "$cut" "$DIR/pxed.db"
	expect_refusal "truncated-to-$cut-of-$SIZE"
done

new_case header
dd if=/dev/urandom of="$DIR/pxed.db" bs=100 count=1 conv=notrunc status=none
expect_refusal random-header

new_case midpage
# A page in the middle of the leases table (SQLite's dbstat: the store has other tables,
# whose damage pxed's start-up check does not look for).
page=$(sqlite3 -batch "$GOOD/pxed.db" "SELECT pageno FROM dbstat WHERE name = 'leases'
	ORDER BY pageno LIMIT 1 OFFSET (SELECT count(*) / 2 FROM dbstat WHERE name = 'leases')") ||
	lab_fail "cannot find the pages of the leases table"
psize=$(sqlite3 -batch "$GOOD/pxed.db" "PRAGMA page_size")
[ -n "$page" ] && [ "$page" -gt 1 ] || lab_fail "no middle page of the leases table: '$page'"
dd if=/dev/urandom of="$DIR/pxed.db" bs=1 seek=$(((page - 1) * psize + 100)) count=3000 \
	conv=notrunc status=none
expect_refusal random-middle-page

new_case newer
sqlite3 -batch "$DIR/pxed.db" "UPDATE meta SET value = '99' WHERE key = 'schema';" ||
	lab_fail "cannot set the schema version"
expect_refusal newer-schema

new_case foreign
rm -f "$DIR/pxed.db"
sqlite3 -batch "$DIR/pxed.db" "PRAGMA journal_mode=WAL; CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT);
	INSERT INTO photos VALUES (1, 'cat.jpg');" >/dev/null || lab_fail "cannot make a foreign database"
expect_refusal not-a-pxed-store

# A writer that dies after committing, before the checkpoint: the last leases are in
# the -wal only (hostname "from-the-wal"). SQLite replays it; pxed must see them.
wal_leftover() {
	"$PY" - "$DIR/pxed.db" "$LAB_TMP/want.txt" <<'EOF2'
import os, sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA wal_autocheckpoint=0")
db.execute("BEGIN")
db.execute("DELETE FROM leases")
db.execute("COMMIT")
db.execute("BEGIN")
for line in open(sys.argv[2]):
    ip, mac = line.split()
    q = [int(x) for x in ip.split(".")]
    db.execute("INSERT INTO leases VALUES (?, ?, ?, ?)",
               ((q[0] << 24) | (q[1] << 16) | (q[2] << 8) | q[3],
                bytes.fromhex(mac.replace(":", "")), 4102444800, "from-the-wal"))
db.execute("COMMIT")
os._exit(0)
EOF2
	[ -s "$DIR/pxed.db-wal" ] || lab_fail "the writer left no -wal"
}
# check_from_wal NAME: the leases are the -wal's versions.
check_from_wal() {
	local n
	n=$(sqlite3 -batch "$DIR/pxed.db" "SELECT count(*) FROM leases WHERE hostname = 'from-the-wal'")
	[ "$n" = "$N_LEASES" ] && ok "$1: the leases are the -wal's versions" ||
		not_ok "$1: $n of $N_LEASES leases are the -wal's versions"
}

new_case wal
wal_leftover
lab_log "wal case: pxed.db-wal is $(stat -c %s "$DIR/pxed.db-wal") bytes"
expect_all wal-left-by-a-killed-writer
check_from_wal wal-left-by-a-killed-writer

# The same, with the -shm (the WAL's index) overwritten by random bytes: SQLite
# must rebuild the index from the -wal, not trust it.
new_case walshm
wal_leftover
head -c 32768 /dev/urandom >"$DIR/pxed.db-shm"
expect_all wal-with-a-random-shm
check_from_wal wal-with-a-random-shm

new_case walgarbage
head -c 50000 /dev/urandom >"$DIR/pxed.db-wal"
expect_all wal-of-random-bytes

new_case journalgarbage
head -c 20000 /dev/urandom >"$DIR/pxed.db-journal"
expect_all journal-of-random-bytes

# A hot rollback journal: the store switched to rollback mode, then a writer killed
# while deleting every lease, with its cache spilled to the file (a 1-page cache).
new_case hotjournal
"$PY" - "$DIR/pxed.db" <<'EOF'
import os, sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode=DELETE")
db.execute("PRAGMA cache_size=1")
db.execute("BEGIN")
db.execute("DELETE FROM leases")
db.execute("INSERT INTO meta VALUES ('filler', zeroblob(200000))")
os._exit(0)
EOF
if [ -s "$DIR/pxed.db-journal" ] && [ "$(sqlite3 -readonly "file:$DIR/pxed.db?immutable=1" 'SELECT count(*) FROM leases' 2>/dev/null || echo x)" != "$N_LEASES" ]; then
	lab_log "hot journal case: pxed.db-journal is $(stat -c %s "$DIR/pxed.db-journal") bytes, the file alone no longer holds the leases"
	expect_all hot-journal-of-a-killed-writer
else
	not_ok "hot journal case: the killed writer left no hot journal (test setup)"
fi

# pxed itself never leaves a store it would refuse: a first start killed (SIGKILL)
# 0-80 ms in, while it creates the store, is followed by a start that works.
bad_kills=()
early=0
for ((k = 1; k <= 15; k++)); do
	DIR=$LAB_TMP/case-firstkill-$k
	mkdir -p "$DIR"
	ip netns exec "$LAB_NS" setpriv --pdeathsig TERM -- "$PXED" serve --listen 127.0.0.1 \
		--tftp-port 69 --http-port 8080 --no-dhcp --state-dir "$DIR" </dev/null \
		>"$LAB_TMP/firstkill-$k.log" 2>&1 &
	pid=$!
	lab_track_pid "$pid"
	sleep "0.0$((RANDOM % 8))$((RANDOM % 10))"
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	lab_untrack_pid "$pid"
	left=$(du -ak "$DIR" 2>/dev/null | tr '\n\t' '  ')
	[ -e "$DIR/pxed.db" ] || early=$((early + 1))
	run_pxed "$DIR" "$LAB_TMP/firstkill-$k.again.log"
	if [ "$RESULT" = up ]; then
		lab_kill_pxed 10 || true
	else
		bad_kills+=("kill $k left [$left], then: $RESULT $STATUS $(grep -m1 -E 'error' "$LAB_TMP/firstkill-$k.again.log" | cut -c1-160)")
	fi
done
lab_log "first starts killed: $early of 15 before pxed.db was in place"
[ "${#bad_kills[@]}" = 0 ] && ok "15 first starts killed 0-80 ms in: each next start works" ||
	not_ok "after a first start killed while creating the store, pxed does not start: $(printf '%s; ' "${bad_kills[@]:0:3}")"

# The advice works: with the damaged file moved away, pxed starts on a new store.
DIR=$LAB_TMP/case-zero
mv "$DIR/pxed.db" "$DIR/pxed.db.damaged"
run_pxed "$DIR" "$LAB_TMP/after-move.log"
if [ "$RESULT" = up ]; then
	lab_kill_pxed 10 || true
	[ -z "$(leases_of "$DIR")" ] && ok "with the damaged file moved away, pxed starts on a new, empty store" ||
		not_ok "the new store is not empty"
else
	not_ok "with the damaged file moved away, pxed does not start ($RESULT $STATUS): $(tail -n3 "$LAB_TMP/after-move.log" | tr '\n' ' ')"
fi

echo "# $(awk -v a="$t_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
