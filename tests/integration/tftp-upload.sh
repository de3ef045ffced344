#!/usr/bin/env bash
# End-to-end test of TFTP uploads (WRQ, tftp.upload_dir) with real clients:
# tftp-hpa put, atftp --put (blksize, windowsize, tsize), curl -T, busybox tftp -p.
# Checks that every upload arrives byte for byte, that writes are refused when
# no upload_dir is set, that paths out of the upload directory, uploads over
# tftp.upload_max_bytes and uploads whose client dies leave no file, and the
# concurrency cap; that temporaries a crash left behind neither stop an upload
# nor stay, with O_TMPFILE and without (an LD_PRELOAD shim takes it away).
# Prints one "ok - ..." or "not ok - ..." line per check; exits 1 if any failed.
#
# Usage: tests/integration/tftp-upload.sh [BUILD_DIR]   (default: build)
set -euo pipefail

BUILD=${1:-build}
PXED="$(cd "$BUILD" && pwd)/pxed"
HOST=127.0.0.1
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pxed-upload.XXXXXX")
chmod 755 "$TMP" # pxed reads the root as the user pxed (docs/security.md)
ROOT="$TMP/root" # the TFTP root: only for the readiness probe
UP="$TMP/up"     # the upload directory
SRC="$TMP/src"   # the files the clients upload
OUTSIDE="$TMP/outside"
PID=""

stop_pxed() {
	stop_pid "$PID"
	PID=""
}
KILLED_CLIENT=""
CLIENT=""
cleanup() {
	if [ -n "$KILLED_CLIENT" ]; then kill -9 "$KILLED_CLIENT" 2>/dev/null || true; fi
	if [ -n "$CLIENT" ]; then kill "$CLIENT" 2>/dev/null || true; fi
	stop_pxed
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
# shellcheck source=lib-tftp.sh
. "$(dirname "$0")/lib-tftp.sh"

# client SECONDS COMMAND...: runs a client under timeout, in the background and
# waited for: bash runs a trap (TERM from run-tests.sh's time limit) only once a
# foreground command ends, but interrupts `wait` at once.
client() {
	local secs=$1 rc=0
	shift
	timeout "$secs" "$@" &
	CLIENT=$!
	wait "$CLIENT" || rc=$?
	CLIENT=""
	return "$rc"
}



[ -x "$PXED" ] || { echo "not ok - $PXED is not built"; exit 1; }
for c in tftp atftp curl busybox python3; do
	have "$c" || not_ok "$c is not installed (make deps installs it)"
done
TPORT=$(pick_port 17169)
HPORT=$(pick_port 18280)

# --- the files ------------------------------------------------------------
mkdir -p "$ROOT" "$UP/sub" "$SRC" "$OUTSIDE" "$TMP/state"
echo ping >"$ROOT/ping"
: >"$SRC/f0"
head -c 511 /dev/urandom >"$SRC/f511"
head -c 512 /dev/urandom >"$SRC/f512"
head -c 513 /dev/urandom >"$SRC/f513"
# More than 65535 blocks of 512 bytes: the block number wraps past 65535.
head -c $((65536 * 512 + 100)) /dev/urandom >"$SRC/big"
printf 'line one\nline two\r\nbare cr\rend\n' >"$SRC/text"
head -c 200000 /dev/urandom >"$SRC/f200k"
FILES="f0 f511 f512 f513 big"
echo "outside" >"$OUTSIDE/target"
ln -s "$OUTSIDE" "$UP/link-out"         # a directory symlink that leaves the upload dir
ln -s "$OUTSIDE/target" "$UP/file-link" # a file symlink: never written through or replaced

# write_config FILE [UPLOAD_DIR [MAX_BYTES]]
write_config() {
	{
		echo "dhcp: {mode: off}"
		echo "state_dir: $TMP/state"
		echo "tftp:"
		echo "  root: $ROOT"
		echo "  port: $TPORT"
		echo "  listen: $HOST"
		[ -z "${2:-}" ] || echo "  upload_dir: $2"
		[ -z "${3:-}" ] || echo "  upload_max_bytes: $3"
		echo "http:"
		echo "  port: $HPORT"
	} >"$1"
}

# start_pxed CONFIG: runs pxed (with LD_PRELOAD=$PRELOAD when set) and waits
# until it serves TFTP.
PRELOAD=""
start_pxed() {
	if [ -n "$PRELOAD" ]; then
		LD_PRELOAD=$PRELOAD "$PXED" serve --config "$1" >>"$TMP/pxed.log" 2>&1 &
	else
		"$PXED" serve --config "$1" >>"$TMP/pxed.log" 2>&1 &
	fi
	PID=$!
	for _ in $(seq 1 100); do
		kill -0 "$PID" 2>/dev/null || break
		if timeout 2 curl -s -o /dev/null "tftp://$HOST:$TPORT/ping"; then
			return 0
		fi
		sleep 0.1
	done
	echo "not ok - pxed answers on $HOST:$TPORT ($1)"
	sed 's/^/#   /' "$TMP/pxed.log"
	exit 1
}

metric() { # metric REGEX: prints the value of the first matching line
	curl -s --max-time 5 "http://$HOST:$HPORT/metrics" | grep -E "^$1 " | head -1 |
		awk '{print $2}'
}

# No file beyond those listed may be in the upload dir (no leftovers, no temporaries).
no_leftovers() {
	local extra
	extra=$(cd "$UP" && find . -mindepth 1 \( -name '.pxed-upload.*' -o -name "$1" \) -print)
	[ -z "$extra" ] || { echo "left behind: $extra"; return 1; }
}

# A small raw client for what real clients never do on purpose.
cat >"$TMP/raw.py" <<'EOF'
import socket, struct, sys, time

HOST, PORT, CMD, ARGS = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]

def sock():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.bind((HOST, 0))
    return s

def wrq(name, opts=()):
    p = struct.pack("!H", 2) + name.encode() + b"\0octet\0"
    for k, v in opts:
        p += k + b"\0" + v + b"\0"
    return p

def expect(s, op, arg):
    data, addr = s.recvfrom(70000)
    got_op, got_arg = struct.unpack("!HH", data[:4])
    if got_op != op or got_arg != arg:
        sys.exit("expected %d/%d, got %d/%d %r" % (op, arg, got_op, got_arg, data[4:40]))
    return addr

def nothing(s, secs):
    s.settimeout(secs)
    try:
        data, addr = s.recvfrom(70000)
        sys.exit("unexpected packet %r from %r" % (data[:20], addr))
    except socket.timeout:
        s.settimeout(3)

def data(s, to, block, payload):
    s.sendto(struct.pack("!HH", 3, block & 0xFFFF) + payload, to)

if CMD == "error":                     # WRQ NAME; expect ERROR CODE from the listener
    s = sock()
    s.sendto(wrq(ARGS[0]), (HOST, PORT))
    expect(s, 5, int(ARGS[1]))
elif CMD == "dup":                     # duplicates re-ACKed, the last ACK too, a repeated WRQ ignored
    s = sock()
    s.sendto(wrq(ARGS[0]), (HOST, PORT))
    s.sendto(wrq(ARGS[0]), (HOST, PORT))
    tid = expect(s, 4, 0)
    nothing(s, 0.5)                    # the repeated WRQ started nothing
    block1 = bytes(range(256)) * 2
    data(s, tid, 1, block1)
    expect(s, 4, 1)
    data(s, tid, 1, block1)            # our ACK 1 "was lost"
    expect(s, 4, 1)
    data(s, tid, 2, b"tail")
    expect(s, 4, 2)
    data(s, tid, 2, b"tail")           # the final ACK "was lost": ACKed again
    expect(s, 4, 2)
    data(s, tid, 1, block1)            # an old duplicate: ignored
    nothing(s, 0.5)
elif CMD == "late":                    # the WRQ again once the upload is stored: ignored
    s = sock()
    s.sendto(wrq(ARGS[0]), (HOST, PORT))
    tid = expect(s, 4, 0)
    data(s, tid, 1, b"done")
    expect(s, 4, 1)
    s.sendto(wrq(ARGS[0]), (HOST, PORT))   # a late duplicate: no second upload
    nothing(s, 1)
    s.sendto(wrq(ARGS[1]), (HOST, PORT))   # another file from the same port: served
    tid = expect(s, 4, 0)
    data(s, tid, 1, b"next")
    expect(s, 4, 1)
elif CMD == "cap":                     # N uploads per client, then ERROR 0
    limit = int(ARGS[1])
    socks = [sock() for _ in range(limit + 1)]
    tids = []
    for i, s in enumerate(socks[:limit]):
        s.sendto(wrq("%s%d" % (ARGS[0], i)), (HOST, PORT))
        tids.append(expect(s, 4, 0))
    socks[limit].sendto(wrq(ARGS[0] + "x"), (HOST, PORT))
    expect(socks[limit], 5, 0)
    for s, tid in zip(socks, tids):    # a client ERROR ends each upload, leaving no file
        s.sendto(struct.pack("!HH", 5, 0) + b"done\0", tid)
elif CMD == "stalled":                 # a client that stops mid-upload
    s = sock()
    s.sendto(wrq(ARGS[0]), (HOST, PORT))
    tid = expect(s, 4, 0)
    data(s, tid, 1, b"x" * 512)
    expect(s, 4, 1)
else:
    sys.exit("unknown command " + CMD)
EOF
raw() { client 60 python3 "$TMP/raw.py" "$HOST" "$TPORT" "$@"; }

# --- 1. writes off (no upload_dir): ERROR 2, no file -------------------------
write_config "$TMP/off.yaml"
start_pxed "$TMP/off.yaml"
ok "pxed without upload_dir answers on $HOST:$TPORT"
check "WRQ gets ERROR 2 when upload_dir is not set" raw error f511 2
if have tftp; then
	client 30 tftp -m binary "$HOST" "$TPORT" -c put "$SRC/f511" f511 >"$TMP/client.log" 2>&1 || true
	check "tftp-hpa put is refused with error 2" grep -q "Error code 2" "$TMP/client.log"
fi
if ! client 30 curl -sS -T "$SRC/f511" "tftp://$HOST:$TPORT/f511" >/dev/null 2>&1; then
	ok "curl -T is refused"
else
	not_ok "curl -T is refused"
fi
check "nothing was written" test -z "$(find "$UP" -type f)"
stop_pxed

# --- 2. uploads on ------------------------------------------------------------
write_config "$TMP/on.yaml" "$UP" 40M
start_pxed "$TMP/on.yaml"
ok "pxed with upload_dir answers on $HOST:$TPORT"
# pxed owns upload_dir and its top-level files, not subdirectories (docs/security.md): an
# operator gives a subdirectory to the user pxed runs as (pxed; a sanitizer build keeps root).
chown "$(awk '$1 == "Uid:" { print $2 }' "/proc/$PID/status")" "$UP/sub"

# put DESCRIPTION FILE NAME COMMAND...: the command must succeed (without a TFTP
# error) and the upload dir must then hold NAME with exactly FILE's bytes.
COMPLETE=0
put() {
	local desc=$1 file=$2 name=$3
	shift 3
	if ! client 300 "$@" >"$TMP/client.log" 2>&1 || grep -q "Error code" "$TMP/client.log"; then
		not_ok "$desc (client failed)"
		tail -n 5 "$TMP/client.log" | sed 's/^/#   /'
		return 0
	fi
	COMPLETE=$((COMPLETE + 1))
	if [ -f "$UP/$name" ] && [ "$(sha "$UP/$name")" = "$(sha "$SRC/$file")" ]; then
		ok "$desc"
	else
		not_ok "$desc (content differs)"
	fi
}

BB_BLKSIZE=0
if have busybox; then
	bb_help=$(busybox tftp --help 2>&1 || true)
	[[ $bb_help == *"-b SIZE"* ]] && BB_BLKSIZE=1
fi
for f in $FILES; do
	if have tftp; then
		put "tftp-hpa put $f" "$f" "hpa-$f" \
			tftp -m binary "$HOST" "$TPORT" -c put "$SRC/$f" "hpa-$f"
	fi
	put "curl -T $f" "$f" "curl-$f" curl -sS -T "$SRC/$f" "tftp://$HOST:$TPORT/curl-$f"
	put "curl --tftp-blksize 1468 -T $f" "$f" "curl1468-$f" \
		curl -sS --tftp-blksize 1468 -T "$SRC/$f" "tftp://$HOST:$TPORT/curl1468-$f"
	if have atftp; then
		put "atftp --put blksize 1468 windowsize 8 tsize $f" "$f" "atftp-$f" \
			atftp --option "blksize 1468" --option "windowsize 8" \
			--option "tsize $(stat -c %s "$SRC/$f")" -p -l "$SRC/$f" -r "atftp-$f" "$HOST" "$TPORT"
	fi
	if have busybox; then
		put "busybox tftp -p $f" "$f" "bb-$f" \
			busybox tftp -p -l "$SRC/$f" -r "bb-$f" "$HOST" "$TPORT"
		if [ "$BB_BLKSIZE" = 1 ]; then
			put "busybox tftp -p -b 1468 $f" "$f" "bb1468-$f" \
				busybox tftp -p -l "$SRC/$f" -r "bb1468-$f" -b 1468 "$HOST" "$TPORT"
		fi
	fi
done
if have atftp; then
	# Past 65535 blocks with a window: the rollover happens mid-window.
	put "atftp --put blksize 512 windowsize 4 big" big atftp512-big \
		atftp --option "blksize 512" --option "windowsize 4" -p -l "$SRC/big" \
		-r atftp512-big "$HOST" "$TPORT"
fi
if have tftp; then
	put "tftp-hpa put into an existing subdirectory" f513 sub/f513 \
		tftp -m binary "$HOST" "$TPORT" -c put "$SRC/f513" sub/f513
	# netascii: tftp-hpa sends CR LF / CR NUL, pxed stores the local form again.
	put "tftp-hpa netascii put text" text text \
		tftp -m netascii "$HOST" "$TPORT" -c put "$SRC/text" text
	# An existing file is replaced as a whole.
	cp "$SRC/f200k" "$UP/replace-me"
	put "an existing file is replaced" f513 replace-me \
		tftp -m binary "$HOST" "$TPORT" -c put "$SRC/f513" replace-me
fi

# --- refusals: paths ------------------------------------------------------------
# refused DESCRIPTION COMMAND...: the client must fail or report a TFTP error.
refused() {
	local desc=$1
	shift
	if client 30 "$@" >"$TMP/client.log" 2>&1 && ! grep -q "Error code" "$TMP/client.log"; then
		not_ok "$desc (client succeeded)"
	else
		ok "$desc"
	fi
}
if have tftp; then
	refused "tftp-hpa: ../ is refused" tftp -m binary "$HOST" "$TPORT" -c put "$SRC/f511" ../escape
	refused "tftp-hpa: an absolute path is refused" \
		tftp -m binary "$HOST" "$TPORT" -c put "$SRC/f511" "$OUTSIDE/abs"
	refused "tftp-hpa: a symlinked directory out of upload_dir is refused" \
		tftp -m binary "$HOST" "$TPORT" -c put "$SRC/f511" link-out/x
	refused "tftp-hpa: a symlink as the target is refused" \
		tftp -m binary "$HOST" "$TPORT" -c put "$SRC/f511" file-link
	refused "tftp-hpa: a missing subdirectory is refused" \
		tftp -m binary "$HOST" "$TPORT" -c put "$SRC/f511" nosub/x
	refused "tftp-hpa: a directory as the target is refused" \
		tftp -m binary "$HOST" "$TPORT" -c put "$SRC/f511" sub
fi
refused "curl --path-as-is: sub/../../ is refused" \
	curl -sS --path-as-is -T "$SRC/f511" "tftp://$HOST:$TPORT/sub/../../escape2"
if have busybox; then
	refused "busybox: a backslash path out of upload_dir is refused" \
		busybox tftp -p -l "$SRC/f511" -r '..\escape3' "$HOST" "$TPORT"
fi
check "ERROR 2 for ../" raw error ../escape4 2
check "ERROR 2 for a name reserved for temporary files" raw error .pxed-upload.1.1 2
check "nothing was written outside upload_dir" \
	test -z "$(find "$TMP" -maxdepth 1 \( -name 'escape*' -o -name abs \))"
check "nothing was written through the symlinks" \
	test "$(cat "$OUTSIDE/target")" = outside -a ! -e "$OUTSIDE/x" -a ! -e "$OUTSIDE/abs"
check "the symlinks themselves are untouched" test -L "$UP/file-link" -a -L "$UP/link-out"

# --- protocol corners with a raw client ---------------------------------------
check "duplicate DATA re-ACKed, the last ACK resent, a repeated WRQ ignored" raw dup dup
check "the duplicated upload holds its bytes once" test "$(stat -c %s "$UP/dup")" = 516
COMPLETE=$((COMPLETE + 1))
check "a WRQ repeated after its upload is stored starts nothing" raw late late late2
check "both uploads of the one port are stored" \
	test "$(cat "$UP/late" 2>/dev/null)" = done -a "$(cat "$UP/late2" 2>/dev/null)" = next
COMPLETE=$((COMPLETE + 2))
check "the 5th concurrent upload of one client gets ERROR 0" raw cap capped 4
check "uploads ended by a client ERROR leave no file" no_leftovers 'capped*'

# --- a client that dies mid-upload -------------------------------------------
if have atftp; then
	# blksize 8: millions of blocks, so the client is surely mid-transfer when killed.
	started=$(metric 'pxed_tftp_uploads_total\{outcome="started"\}')
	atftp --option "blksize 8" -p -l "$SRC/big" -r killed "$HOST" "$TPORT" >/dev/null 2>&1 &
	KILLED_CLIENT=$!
	for _ in $(seq 1 300); do # until pxed has started the upload, and a little more
		[ "$(metric 'pxed_tftp_uploads_total\{outcome="started"\}')" -gt "$started" ] && break
		sleep 0.1
	done
	sleep 0.5
	kill -9 "$KILLED_CLIENT" 2>/dev/null || true
	wait "$KILLED_CLIENT" 2>/dev/null || true
	KILLED_CLIENT=""
	check "a killed client's upload is not visible" no_leftovers killed
fi
check "a stalled client's upload starts" raw stalled stalled
# The server gives up after its retries (1+2+4+8+8 s); the files must not appear.
want_failed=5 # 4 ended by a client ERROR, the stalled one...
have atftp && want_failed=6 # ...and the killed one
failed_ok=0
for _ in $(seq 1 90); do
	n=$(metric 'pxed_tftp_uploads_total\{outcome="failed"\}')
	if [ "${n:-0}" -ge "$want_failed" ]; then
		failed_ok=1
		break
	fi
	sleep 1
done
if [ "$failed_ok" = 1 ]; then
	ok "abandoned uploads time out and count as failed"
else
	not_ok "abandoned uploads time out and count as failed (failed=${n:-none})"
fi
check "abandoned uploads leave no file" no_leftovers 'killed'
check "abandoned uploads leave no file (stalled)" no_leftovers 'stalled'

# --- metrics and the timeline --------------------------------------------------
n=$(metric 'pxed_tftp_uploads_total\{outcome="complete"\}')
check "completed uploads are counted ($n of $COMPLETE)" test "${n:-0}" -eq "$COMPLETE"
n=$(metric pxed_tftp_bytes_received_total)
check "received bytes are counted" test "${n:-0}" -gt $((65536 * 512 * 4))
check "each upload is reported" grep -q "upload hpa-big size=$((65536 * 512 + 100))" "$TMP/pxed.log"
stop_pxed

# --- 3. a size limit ------------------------------------------------------------
write_config "$TMP/small.yaml" "$UP" 100K
start_pxed "$TMP/small.yaml"
cp "$SRC/f513" "$UP/keep"
refused "curl -T over the limit is refused (tsize)" \
	curl -sS -T "$SRC/f200k" "tftp://$HOST:$TPORT/over-curl"
if have tftp; then
	client 60 tftp -m binary "$HOST" "$TPORT" -c put "$SRC/f200k" over-hpa >"$TMP/client.log" 2>&1 || true
	check "tftp-hpa put over the limit gets error 3 mid-transfer" grep -q "Error code 3" "$TMP/client.log"
	client 60 tftp -m binary "$HOST" "$TPORT" -c put "$SRC/f200k" keep >"$TMP/client.log" 2>&1 || true
	check "an existing file survives an upload over the limit" \
		test "$(sha "$UP/keep")" = "$(sha "$SRC/f513")"
fi
if have atftp; then
	refused "atftp --put with tsize over the limit is refused" \
		atftp --option "tsize 200000" -p -l "$SRC/f200k" -r over-atftp "$HOST" "$TPORT"
fi
check "uploads over the limit leave no file" no_leftovers 'over-*'
put "an upload under the limit still works" f513 under \
	curl -sS -T "$SRC/f513" "tftp://$HOST:$TPORT/under"
check "pxed still runs" kill -0 "$PID"
stop_pxed

# --- 4. temporaries a crash left behind ---------------------------------------
# A pxed killed between link and rename (or, without O_TMPFILE, mid-upload)
# leaves .pxed-upload.* files. A restarted pxed, maybe with the same pid (a
# container's), must not trip over them (the name its first upload took when
# names were pid and counter is planted) and the first WRQ sweeps them away.
# stale_temporaries HOW: uploads beside planted temporaries, then the checks.
# logged_since LINE TEXT: pxed's log holds TEXT from line LINE on.
logged_since() { tail -n +"$1" "$TMP/pxed.log" | grep -qF "$2"; }
stale_temporaries() {
	local how=$1 from
	from=$(($(wc -l <"$TMP/pxed.log") + 1))
	start_pxed "$TMP/on.yaml"
	printf stale >"$UP/.pxed-upload.$PID.1"
	printf stale >"$UP/.pxed-upload.0123456789abcdef"
	put "$how: an upload works beside stale temporaries" f513 "after-crash-$how" \
		curl -sS -T "$SRC/f513" "tftp://$HOST:$TPORT/after-crash-$how"
	check "$how: the first WRQ swept the stale temporaries" no_leftovers "no-such-file"
	check "$how: the sweep is logged" \
		logged_since "$from" "removed 2 stale temporary upload files from $UP"
	put "$how: a second upload works" f511 "again-$how" \
		curl -sS -T "$SRC/f511" "tftp://$HOST:$TPORT/again-$how"
	check "$how: no temporary is left" no_leftovers "no-such-file"
	stop_pxed
}
stale_temporaries "O_TMPFILE"

# --- 5. the same without O_TMPFILE ----------------------------------------------
# NFS, vfat and others have no O_TMPFILE: pxed then writes to a dot-name made
# with O_EXCL. This shim makes openat(O_TMPFILE) fail as they do (EOPNOTSUPP)
# and leaves a mark, so the check knows the fallback ran.
cat >"$TMP/no-tmpfile.c" <<'SHIM'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

typedef int (*openat_fn)(int, const char *, int, ...);

/* Opened at load: once pxed has dropped its privileges, it may not open the mark. */
static int mark_fd = -1;

__attribute__((constructor)) static void mark_open(void)
{
	const char *mark = getenv("NO_TMPFILE_MARK");
	if (mark != NULL)
		mark_fd = open(mark, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

static int no_tmpfile(openat_fn real, int dirfd, const char *path, int flags, mode_t mode)
{
	if ((flags & O_TMPFILE) == O_TMPFILE) {
		if (mark_fd >= 0)
			(void)!write(mark_fd, "x", 1);
		errno = EOPNOTSUPP;
		return -1;
	}
	return real(dirfd, path, flags, mode);
}

#define SHIM_OPENAT(name)                                                        \
	int name(int dirfd, const char *path, int flags, ...)                    \
	{                                                                        \
		static openat_fn real;                                           \
		mode_t mode = 0;                                                 \
		if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {     \
			va_list ap;                                              \
			va_start(ap, flags);                                     \
			mode = va_arg(ap, mode_t);                               \
			va_end(ap);                                              \
		}                                                                \
		if (real == NULL)                                                \
			real = (openat_fn)dlsym(RTLD_NEXT, #name);               \
		return no_tmpfile(real, dirfd, path, flags, mode);               \
	}
SHIM_OPENAT(openat)
SHIM_OPENAT(openat64)
SHIM
SHIM_CC=$(command -v cc || command -v gcc || true)
if [ -z "$SHIM_CC" ]; then
	echo "ok - without O_TMPFILE # SKIP no C compiler for the LD_PRELOAD shim"
elif ! "$SHIM_CC" -shared -fPIC -o "$TMP/no-tmpfile.so" "$TMP/no-tmpfile.c" -ldl \
	>"$TMP/shim.log" 2>&1; then
	not_ok "the LD_PRELOAD shim that takes O_TMPFILE away builds"
	sed 's/^/#   /' "$TMP/shim.log"
else
	export NO_TMPFILE_MARK="$TMP/no-tmpfile.mark"
	PRELOAD="$TMP/no-tmpfile.so"
	stale_temporaries "dot-names"
	PRELOAD=""
	check "dot-names: O_TMPFILE was refused to pxed, so the fallback ran" \
		test -s "$NO_TMPFILE_MARK"
	unset NO_TMPFILE_MARK
fi

finish
