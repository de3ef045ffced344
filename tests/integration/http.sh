#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2015
# pxed's HTTP file serving with curl and python3, in network namespaces (needs root):
#  1. ranges: 0-0, the last byte, -1, N-, an end past EOF, a start at or past the size
#     (416 with "Content-Range: bytes */SIZE"), several ranges (multipart/byteranges,
#     every part checked byte for byte), malformed and overlapping ones (200, the whole
#     file), a range past 4 GiB of a sparse 5 GiB file;
#  2. HEAD (the headers of GET, Content-Length included, no body); ETag and
#     Last-Modified; If-None-Match and If-Modified-Since (304), If-Match and
#     If-Unmodified-Since (412), If-Range matching (206) and not (200); repeated
#     If-Match / If-None-Match lines; a future mtime; If-Range with a date that two
#     writes share (200);
#  3. a rendered per-machine iPXE script: a content ETag, no Last-Modified, ranges;
#  4. keep-alive: curl fetches two URLs over one connection;
#  5. no way out of http.root: "..", %2e%2e, %2f, ..%2f, %5c, %00, %252e%252e (literal),
#     absolute paths, a symlink out of the root: 400/403/404, never the secret;
#  6. limits: oversized headers (4xx and closed); a client dribbling one header byte a
#     second is cut at http.header_timeout; an idle keep-alive connection at
#     http.idle_timeout; connections over http.max_connections_per_client and
#     http.max_connections are closed at once and counted in /metrics; an event stream
#     outlives both timeouts;
#  7. a reply waiting on a slow client: the file is not mapped (sendfile), and junk the
#     client sends meanwhile is not buffered without limit (pxed's RSS stays flat).
#  8. replies longer than evhttp's 60 s timeout (a second pxed, in the background from the
#     start: the one slow part, about 75 s): a download read at 1 MiB/s for 74 s completes
#     byte for byte and its connection is kept alive; a client that reads nothing is
#     still cut once the socket has taken nothing for 60 s.
#  9. http.rate_per_address (a third pxed, rate 5, for a few seconds): 30 quick requests
#     from one address are answered 200 or 429 with Retry-After: 1, the 429s counted in
#     /metrics and opening no file; another address is served in the middle of the flood;
#     a second later the first is served again.
# Usage: tests/integration/http.sh [BUILD_DIR]   (default: build)
set -euo pipefail

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib-dhcp.sh
. "$HERE/lib-dhcp.sh"

NS=pxed-it-http
OCTET=70
MAC=52:54:00:46:00:01
HEADER_TIMEOUT=3
IDLE_TIMEOUT=4
PER_CLIENT=4
MAX_CONN=6

[ -x "$PXED" ] || { echo "not ok - pxed not built: $PXED"; exit 1; }
for tool in curl python3 cmp sha256sum truncate; do
	command -v "$tool" >/dev/null || { echo "not ok - $tool is not installed"; exit 1; }
done

lab_setup "$NS" "$OCTET"
SERVER=$LAB_SERVER_IP
URL=http://$SERVER:8080
lab_add_host cli "$LAB_NET.10/24"
CLI_NS=$LAB_HOST_NS
lab_add_host cli2 "$LAB_NET.11/24"
CLI2_NS=$LAB_HOST_NS

ROOT=$LAB_TMP/root
mkdir -p "$ROOT/sub" "$LAB_TMP/outside"
head -c 100000 /dev/urandom >"$ROOT/image.img"
# Its Last-Modified must be a second older than the replies for If-Range dates to match.
touch -d '1 minute ago' "$ROOT/image.img"
printf 'hello\n' >"$ROOT/sub/a.txt"
: >"$ROOT/empty.bin"
echo "secret $RANDOM" >"$LAB_TMP/outside/secret"
echo "secret2" >"$LAB_TMP/secret.txt"
ln -s "$LAB_TMP/outside/secret" "$ROOT/link-out"
ln -s ../secret.txt "$ROOT/link-up"
# A sparse 5 GiB file with marks at 4 GiB and at its end.
BIG=$ROOT/big.iso
truncate -s $((5 << 30)) "$BIG"
printf 'FOUR-GIB' | dd of="$BIG" bs=1 seek=$((4 << 30)) conv=notrunc status=none
printf 'THE-END!' | dd of="$BIG" bs=1 seek=$(((5 << 30) - 8)) conv=notrunc status=none
head -c 4096 /dev/urandom >"$LAB_TMP/vmlinuz"
chmod -R a+rX "$ROOT"

CONF=$LAB_TMP/pxed.yaml
cat >"$CONF" <<EOF
dhcp:
  mode: off
state_dir: $LAB_TMP/state
tftp:
  port: 6970
http:
  port: 8080
  root: $ROOT
  header_timeout: ${HEADER_TIMEOUT}s
  idle_timeout: ${IDLE_TIMEOUT}s
  max_connections: $MAX_CONN
  max_connections_per_client: $PER_CLIENT
profiles:
  default:
    kernel: $LAB_TMP/vmlinuz
    cmdline: console=ttyS0
default_profile: default
EOF
"$PXED" check --config "$CONF" >"$LAB_TMP/check.log" 2>&1 ||
	lab_fail "pxed check rejects the test's config: $(cat "$LAB_TMP/check.log")"
lab_pxed serve --config "$CONF" --log-level debug
lab_wait_port tcp 8080 || lab_fail "pxed did not listen on TCP 8080"

# ---- helpers -------------------------------------------------------------

in_cli() { ip netns exec "$CLI_NS" "$@"; }
# fetch PATH OUT [CURL ARGS...]: GET into OUT; prints the status code.
fetch() {
	local path=$1 out=$2
	shift 2
	in_cli curl -sS --max-time 10 --path-as-is -o "$out" -D "$LAB_TMP/headers" \
		-w '%{http_code}' "$@" "$URL$path"
}
# header NAME: a header's value in the last response's headers (CR removed).
header() {
	tr -d '\r' <"$LAB_TMP/headers" | awk -v k="$(tr '[:upper:]' '[:lower:]' <<<"$1")" -F': ' \
		'tolower($1) == k { sub(/^[^:]*: /, ""); v = $0 } END { print v }'
}
# slice FILE FIRST LAST: bytes FIRST..LAST (inclusive) of FILE.
slice() {
	dd if="$1" bs=64K iflag=skip_bytes,count_bytes skip="$2" count=$(($3 - $2 + 1)) status=none
}
# expect_range PATH RANGE FIRST LAST SIZE FILE: a 206 with those bytes and Content-Range.
expect_range() {
	local code
	code=$(fetch "$1" "$LAB_TMP/part" -H "Range: $2")
	[ "$code" = 206 ] || lab_fail "Range: $2 on $1: status $code, expected 206"
	[ "$(header Content-Range)" = "bytes $3-$4/$5" ] ||
		lab_fail "Range: $2: Content-Range '$(header Content-Range)', expected 'bytes $3-$4/$5'"
	[ "$(header Content-Length)" = $(($4 - $3 + 1)) ] ||
		lab_fail "Range: $2: Content-Length '$(header Content-Length)'"
	slice "$6" "$3" "$4" | cmp -s - "$LAB_TMP/part" || lab_fail "Range: $2: other bytes"
}

# ---- 8 (started here, checked at the end). Replies that outlast evhttp's timeout -----
# A second pxed (port 8081, default limits: evhttp's timeout is 60 s) on a host of its
# own, so that these two long connections count against no cap of section 6. It serves
# a download that takes 74 s at the rate its client reads it (libevent 2.1 keeps the
# read timeout running while a reply is written, which cut it after 60 s: issue #715),
# then a second file on the same connection; and a client that reads nothing, which
# must still be cut once the socket has taken nothing for 60 s.
lab_add_host cli3 "$LAB_NET.12/24"
CLI3_NS=$LAB_HOST_NS
URL2=http://$SERVER:8081
# 1 MiB/s: the kernel's buffers (a few MiB) hold seconds, not minutes, of the reply.
head -c $((74 << 20)) /dev/urandom >"$ROOT/slow.bin"
chmod a+r "$ROOT/slow.bin"
CONF2=$LAB_TMP/pxed2.yaml
cat >"$CONF2" <<EOF2
dhcp:
  mode: off
state_dir: $LAB_TMP/state2
tftp:
  port: 6971
http:
  port: 8081
  root: $ROOT
EOF2
ip netns exec "$LAB_NS" setpriv --pdeathsig TERM -- "$PXED" serve --config "$CONF2" \
	</dev/null >>"$LAB_TMP/pxed2.log" 2>&1 &
PXED2_PID=$!
lab_track_pid "$PXED2_PID"
lab_wait_port tcp 8081 || lab_fail "the second pxed did not listen on TCP 8081: $(tail -5 "$LAB_TMP/pxed2.log")"
STALL=$LAB_TMP/stall.py
cat >"$STALL" <<'EOF2'
# stall.py HOST PORT WAIT: GETs big.iso (5 GiB) with a small receive buffer and reads
# nothing for WAIT s; then reads (64 MiB or 10 s at most). Prints the bytes read and
# "closed" if the server had ended the connection, "open" if it had not.
import socket, sys, time
host, port, wait = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
s.settimeout(10)
s.connect((host, port))
s.sendall(b"GET /big.iso HTTP/1.1\r\nHost: x\r\n\r\n")
time.sleep(wait)
got, end, t0 = 0, "open", time.monotonic()
while got < 64 << 20 and time.monotonic() - t0 < 10:
    try:
        b = s.recv(1 << 20)
    except socket.timeout:
        break
    except OSError:
        end = "closed"
        break
    if not b:
        end = "closed"
        break
    got += len(b)
print(got, end)
EOF2
ip netns exec "$CLI3_NS" python3 "$STALL" "$SERVER" 8081 70 >"$LAB_TMP/stall.out" 2>&1 &
STALL_PID=$!
lab_track_pid "$STALL_PID"
PACE=$LAB_TMP/pace.py
cat >"$PACE" <<'EOF2'
# pace.py HOST PORT PATH SECONDS: GETs PATH and reads its body at a steady rate, so that
# it takes SECONDS (curl's --limit-rate lets a fast link through in bursts); then GETs
# /sub/a.txt on the same connection. Prints the status, the bytes and sha256 of the body,
# the seconds it took, and the second reply's status and body; or where it stopped.
import hashlib, socket, sys, time
host, port, path, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.settimeout(20)
s.connect((host, port))
buf = b""
def head():
    global buf
    while b"\r\n\r\n" not in buf:
        b = s.recv(65536)
        if not b:
            raise EOFError("closed before the headers")
        buf += b
    h, _, buf = buf.partition(b"\r\n\r\n")
    lines = h.decode("latin-1").split("\r\n")
    hs = {k.lower(): v for k, _, v in (l.partition(": ") for l in lines[1:])}
    return int(lines[0].split()[1]), int(hs.get("content-length", "0"))
def body(n, rate):
    global buf
    h, got, t0 = hashlib.sha256(), 0, time.monotonic()
    while got < n:
        chunk = buf[: n - got] if buf else s.recv(min(65536, n - got))
        buf = buf[len(chunk):]
        if not chunk:
            break
        h.update(chunk)
        got += len(chunk)
        ahead = got / rate - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
    return got, h.hexdigest()
t0, out = time.monotonic(), []
try:
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    status, n = head()
    out += [status, *body(n, n / secs), "%.0f" % (time.monotonic() - t0)]
    s.sendall(b"GET /sub/a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
    status, n = head()
    out += [status, body(n, 1e9)[1]]
except (OSError, EOFError) as e:
    out += [type(e).__name__, "after", "%.0f" % (time.monotonic() - t0)]
print(*out)
EOF2
ip netns exec "$CLI3_NS" python3 "$PACE" "$SERVER" 8081 /slow.bin 74 >"$LAB_TMP/pace.out" 2>&1 &
PACE_PID=$!
lab_track_pid "$PACE_PID"

# ---- 1. ranges -----------------------------------------------------------

IMG=$ROOT/image.img
code=$(fetch /image.img "$LAB_TMP/full")
[ "$code" = 200 ] && cmp -s "$IMG" "$LAB_TMP/full" || lab_fail "GET /image.img: $code or other bytes"
[ "$(header Accept-Ranges)" = bytes ] || lab_fail "no Accept-Ranges: bytes"
[ "$(header Content-Length)" = 100000 ] || lab_fail "Content-Length $(header Content-Length)"
ok "GET: 200, Accept-Ranges: bytes, Content-Length, the file's bytes"

expect_range /image.img bytes=0-0 0 0 100000 "$IMG"
expect_range /image.img bytes=99999-99999 99999 99999 100000 "$IMG"
expect_range /image.img bytes=-1 99999 99999 100000 "$IMG"
expect_range /image.img bytes=-100 99900 99999 100000 "$IMG"
expect_range /image.img bytes=1000- 1000 99999 100000 "$IMG"
expect_range /image.img bytes=500-999999 500 99999 100000 "$IMG"
expect_range /image.img bytes=10-19 10 19 100000 "$IMG"
ok "single ranges: 0-0, the last byte, -1, -100, N-, an end past EOF clamped (206, Content-Range, bytes)"

for r in bytes=100000- bytes=100000-100005 bytes=200000-300000 bytes=-0; do
	code=$(fetch /image.img "$LAB_TMP/part" -H "Range: $r")
	[ "$code" = 416 ] || lab_fail "Range: $r: status $code, expected 416"
	[ "$(header Content-Range)" = "bytes */100000" ] ||
		lab_fail "Range: $r: Content-Range '$(header Content-Range)', expected 'bytes */100000'"
done
ok "unsatisfiable ranges (start at or past the size, -0): 416 with Content-Range: bytes */100000"

for r in bytes=5-4 bytes=abc items=0-1 'bytes=0-1;x' bytes=0-10,5-20 bytes=0-,0-; do
	code=$(fetch /image.img "$LAB_TMP/part" -H "Range: $r")
	[ "$code" = 200 ] && cmp -s "$IMG" "$LAB_TMP/part" ||
		lab_fail "Range: $r: status $code (or other bytes), expected 200 and the whole file"
done
many=bytes=$(for i in $(seq 0 16); do printf '%d-%d,' $((i * 10)) $((i * 10 + 1)); done)
code=$(fetch /image.img "$LAB_TMP/part" -H "Range: ${many%,}")
[ "$code" = 200 ] && cmp -s "$IMG" "$LAB_TMP/part" || lab_fail "17 ranges: $code, expected 200"
ok "malformed, other units, overlapping and 17 ranges are ignored: 200 with the whole file"

# Several ranges: multipart/byteranges, parsed and checked part by part.
MULTI=$LAB_TMP/multi.py
cat >"$MULTI" <<'EOF'
import re, sys
body, ctype, clen, path, size = (open(sys.argv[1], "rb").read(), sys.argv[2], int(sys.argv[3]),
                                 sys.argv[4], int(sys.argv[5]))
want = [tuple(map(int, r.split("-"))) for r in sys.argv[6:]]
assert len(body) == clen, f"body {len(body)} bytes, Content-Length {clen}"
m = re.fullmatch(r"multipart/byteranges; boundary=(\S+)", ctype)
assert m, ctype
b = m.group(1).encode()
assert body.endswith(b"\r\n--" + b + b"--\r\n"), "no closing delimiter"
parts = body.split(b"\r\n--" + b)[1:-1]
assert len(parts) == len(want), f"{len(parts)} parts, expected {len(want)}"
data = open(path, "rb")
for part, (a, z) in zip(parts, want):
    head, _, content = part.partition(b"\r\n\r\n")
    hs = head.decode().split("\r\n")[1:]
    assert f"Content-Range: bytes {a}-{z}/{size}" in hs, hs
    assert any(h.startswith("Content-Type: ") for h in hs), hs
    data.seek(a)
    assert content == data.read(z - a + 1), f"part {a}-{z}: other bytes"
print("ok")
EOF
code=$(fetch /image.img "$LAB_TMP/multi" -H "Range: bytes=0-0,-1, 500-599,99000-99100")
[ "$code" = 206 ] || lab_fail "several ranges: status $code"
res=$(python3 "$MULTI" "$LAB_TMP/multi" "$(header Content-Type)" "$(header Content-Length)" \
	"$IMG" 100000 0-0 99999-99999 500-599 99000-99100 2>&1) ||
	lab_fail "several ranges: $res"
ok "four ranges: 206 multipart/byteranges, Content-Length exact, each part's Content-Range and bytes"

expect_range /big.iso bytes=$((4 << 30))-$(((4 << 30) + 7)) $((4 << 30)) $(((4 << 30) + 7)) \
	$((5 << 30)) "$BIG"
[ "$(cat "$LAB_TMP/part")" = FOUR-GIB ] || lab_fail "the range at 4 GiB: '$(cat "$LAB_TMP/part")'"
expect_range /big.iso bytes=-8 $(((5 << 30) - 8)) $(((5 << 30) - 1)) $((5 << 30)) "$BIG"
[ "$(cat "$LAB_TMP/part")" = THE-END! ] || lab_fail "the last 8 bytes of 5 GiB: '$(cat "$LAB_TMP/part")'"
code=$(fetch /big.iso "$LAB_TMP/multi" -H "Range: bytes=4294967296-4294967303,-8")
res=$(python3 "$MULTI" "$LAB_TMP/multi" "$(header Content-Type)" "$(header Content-Length)" \
	"$BIG" $((5 << 30)) 4294967296-4294967303 $(((5 << 30) - 8))-$(((5 << 30) - 1)) 2>&1) ||
	lab_fail "two ranges past 4 GiB ($code): $res"
ok "a sparse 5 GiB file: ranges at 4 GiB and at its end, one and two at once (64-bit offsets)"

# ---- 2. HEAD and validators ---------------------------------------------------

code=$(fetch /image.img "$LAB_TMP/head" -I)
[ "$code" = 200 ] || lab_fail "HEAD: $code"
# No body: a GET pipelined behind the HEAD is answered right after the HEAD's headers.
RAW=$LAB_TMP/raw.py
cat >"$RAW" <<'EOF2'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.sendall(sys.argv[3].encode().decode("unicode_escape").encode("latin-1"))
data = b""
while True:
    try:
        b = s.recv(65536)
    except (ConnectionResetError, socket.timeout):
        break
    if not b:
        break
    data += b
sys.stdout.buffer.write(data)
EOF2
raw() { in_cli python3 "$RAW" "$SERVER" 8080 "$1"; }
out=$(raw 'HEAD /image.img HTTP/1.1\r\nHost: x\r\n\r\nGET /sub/a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' | tr -d '\r')
python3 -c '
import sys
t = sys.argv[1]
head, sep, rest = t.partition("\n\n")
assert head.startswith("HTTP/1.1 200") and "Content-Length: 100000" in head, head
assert rest.startswith("HTTP/1.1 200"), rest[:80]
assert rest.endswith("\n\nhello"), rest[-80:]
' "$out" || lab_fail "HEAD then GET on one connection: $(head -c 600 <<<"$out")"
[ "$(header Content-Length)" = 100000 ] || lab_fail "HEAD: Content-Length '$(header Content-Length)'"
ETAG=$(header ETag)
LM=$(header Last-Modified)
[[ "$ETAG" =~ ^\"[0-9a-f-]+\"$ ]] || lab_fail "HEAD: ETag '$ETAG'"
[[ "$LM" =~ ^[A-Z][a-z]{2},\ [0-9]{2}\ [A-Z][a-z]{2}\ [0-9]{4}\ [0-9:]{8}\ GMT$ ]] ||
	lab_fail "HEAD: Last-Modified '$LM'"
[ "$(header Content-Type)" = application/octet-stream ] || lab_fail "HEAD: type $(header Content-Type)"
code=$(fetch /big.iso "$LAB_TMP/head" -I)
[ "$code" = 200 ] && [ "$(header Content-Length)" = $((5 << 30)) ] ||
	lab_fail "HEAD of 5 GiB: $code, Content-Length '$(header Content-Length)'"
ok "HEAD: 200 with Content-Length (also 5 GiB), ETag, Last-Modified, Content-Type, and no body"

code=$(fetch /image.img "$LAB_TMP/c" -H "If-None-Match: $ETAG")
[ "$code" = 304 ] && [ ! -s "$LAB_TMP/c" ] && [ "$(header ETag)" = "$ETAG" ] ||
	lab_fail "If-None-Match: the ETag: $code, expected 304 with the ETag"
code=$(fetch /image.img "$LAB_TMP/c" -I -H "If-None-Match: \"x\", W/$ETAG")
[ "$code" = 304 ] || lab_fail "HEAD If-None-Match (weak, in a list): $code"
code=$(fetch /image.img "$LAB_TMP/c" -H "If-None-Match: \"other\"")
[ "$code" = 200 ] && cmp -s "$IMG" "$LAB_TMP/c" || lab_fail "If-None-Match: another tag: $code"
code=$(fetch /image.img "$LAB_TMP/c" -H "If-Modified-Since: $LM")
[ "$code" = 304 ] || lab_fail "If-Modified-Since: Last-Modified: $code"
code=$(fetch /image.img "$LAB_TMP/c" -H "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT")
[ "$code" = 200 ] || lab_fail "If-Modified-Since 1970: $code"
code=$(fetch /image.img "$LAB_TMP/c" -H "If-Match: \"other\"")
[ "$code" = 412 ] || lab_fail "If-Match another tag: $code"
code=$(fetch /image.img "$LAB_TMP/c" -H "If-Match: $ETAG")
[ "$code" = 200 ] || lab_fail "If-Match the tag: $code"
code=$(fetch /image.img "$LAB_TMP/c" -H "If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT")
[ "$code" = 412 ] || lab_fail "If-Unmodified-Since 1970: $code"
code=$(fetch /image.img "$LAB_TMP/c" -H "If-Range: $ETAG" -H "Range: bytes=10-19")
[ "$code" = 206 ] && slice "$IMG" 10 19 | cmp -s - "$LAB_TMP/c" || lab_fail "If-Range: the tag: $code"
code=$(fetch /image.img "$LAB_TMP/c" -H "If-Range: $LM" -H "Range: bytes=10-19")
[ "$code" = 206 ] || lab_fail "If-Range: the date: $code"
code=$(fetch /image.img "$LAB_TMP/c" -H "If-Range: \"old\"" -H "Range: bytes=10-19")
[ "$code" = 200 ] && cmp -s "$IMG" "$LAB_TMP/c" || lab_fail "If-Range: another tag: $code"
code=$(fetch /image.img "$LAB_TMP/c" -H "If-Range: Thu, 01 Jan 1970 00:00:00 GMT" -H "Range: bytes=10-19")
[ "$code" = 200 ] || lab_fail "If-Range: another date: $code"
ok "304 for If-None-Match (GET, HEAD, weak in a list) and If-Modified-Since; 412 for If-Match and If-Unmodified-Since; If-Range: 206 when it matches, else 200"

# A file that changes gets a new tag: the old one no longer matches.
sleep 0.01
printf 'x' | dd of="$IMG" bs=1 seek=5 conv=notrunc status=none
code=$(fetch /image.img "$LAB_TMP/c" -H "If-None-Match: $ETAG")
[ "$code" = 200 ] && [ "$(header ETag)" != "$ETAG" ] && cmp -s "$IMG" "$LAB_TMP/c" ||
	lab_fail "changed file: $code, ETag $(header ETag) (was $ETAG)"
ok "a file written again gets a new ETag: the old If-None-Match gives 200"

# Repeated If-Match / If-None-Match lines are one list (RFC 9110 §5.3).
ETAG=$(header ETag)
code=$(fetch /image.img "$LAB_TMP/c" -H 'If-None-Match: "other"' -H "If-None-Match: $ETAG")
code2=$(fetch /image.img "$LAB_TMP/c" -H 'If-Match: "other"' -H "If-Match: $ETAG")
if [ "$code" = 304 ] && [ "$code2" = 200 ]; then
	ok "If-None-Match and If-Match sent on two lines each are read as one list: 304, 200"
else
	not_ok "two If-None-Match lines, the tag in the second: $code (expected 304); two If-Match lines: $code2 (expected 200)"
fi

# A modification time in the future is sent as the reply's Date (RFC 9110 §8.8.2.1).
head -c 1000 /dev/urandom >"$ROOT/future.bin"
touch -d 2030-01-01 "$ROOT/future.bin"
chmod a+r "$ROOT/future.bin"
code=$(fetch /future.bin "$LAB_TMP/c")
lm=$(date -u -d "$(header Last-Modified)" +%s 2>/dev/null || echo bad)
dt=$(date -u -d "$(header Date)" +%s 2>/dev/null || echo bad)
if [ "$code" = 200 ] && [ "$lm" != bad ] && [ "$dt" != bad ] && [ "$lm" -le "$dt" ]; then
	ok "a file dated 2030: Last-Modified '$(header Last-Modified)' is not after Date '$(header Date)'"
else
	not_ok "a file dated 2030: $code, Last-Modified '$(header Last-Modified)', Date '$(header Date)'"
fi

# If-Range with a date: a file written twice within one second has two contents under
# one Last-Modified, so that date is not a strong validator (RFC 9110 §13.1.5).
IFRANGE=$LAB_TMP/ifrange.py
cat >"$IFRANGE" <<'EOF2'
# ifrange.py HOST PORT FILE: within one wall-clock second writes FILE, reads its
# Last-Modified (HEAD), writes it again, and GETs a range with If-Range: that date.
# Prints the status and whether the body is the whole new file; "retry" if the
# second ran out.
import http.client, os, sys, time
host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
name = "/" + os.path.basename(path)
while time.time() % 1 > 0.1:
    time.sleep(0.01)
second = int(time.time())
with open(path, "wb") as f:
    f.write(b"A" * 100)
c = http.client.HTTPConnection(host, port, timeout=5)
c.request("HEAD", name)
r = c.getresponse()
r.read()
lm = r.getheader("Last-Modified")
time.sleep(0.02)
with open(path, "wb") as f:
    f.write(b"B" * 100)
c.request("GET", name, headers={"If-Range": lm, "Range": "bytes=0-9"})
r = c.getresponse()
body = r.read()
if int(time.time()) != second:
    print("retry")
else:
    print(r.status, "whole" if body == b"B" * 100 else "part")
EOF2
touch "$ROOT/race.bin"
chmod a+r "$ROOT/race.bin"
for i in 1 2 3; do
	res=$(in_cli python3 "$IFRANGE" "$SERVER" 8080 "$ROOT/race.bin" 2>&1) || res="failed: $res"
	[ "$res" = retry ] || break
done
if [ "$res" = "200 whole" ]; then
	ok "If-Range with the Last-Modified of a file rewritten within that second: 200, the whole new file"
else
	not_ok "If-Range with the date of a file rewritten within its second: '$res', expected '200 whole'"
fi

code=$(fetch /sub/a.txt "$LAB_TMP/c")
[ "$code" = 200 ] && [ "$(header Content-Type)" = "text/plain; charset=utf-8" ] ||
	lab_fail "a.txt: $code $(header Content-Type)"
code=$(fetch /empty.bin "$LAB_TMP/c" -H "Range: bytes=0-0")
[ "$code" = 200 ] && [ ! -s "$LAB_TMP/c" ] && [ "$(header Content-Length)" = 0 ] ||
	lab_fail "an empty file with a Range: $code, Content-Length '$(header Content-Length)'"
ok "Content-Type by extension; an empty file with a Range: 200, Content-Length 0"

# ---- 3. a rendered file --------------------------------------------------------

code=$(fetch "/boot/$MAC.ipxe" "$LAB_TMP/script")
[ "$code" = 200 ] && grep -q '^#!ipxe' "$LAB_TMP/script" || lab_fail "the iPXE script: $code"
RTAG=$(header ETag)
[[ "$RTAG" =~ ^\"r[0-9a-f]+-[0-9a-f]+\"$ ]] && [ -z "$(header Last-Modified)" ] ||
	lab_fail "the script: ETag '$RTAG', Last-Modified '$(header Last-Modified)'"
size=$(stat -c %s "$LAB_TMP/script")
expect_range "/boot/$MAC.ipxe" bytes=0-6 0 6 "$size" "$LAB_TMP/script"
[ "$(cat "$LAB_TMP/part")" = '#!ipxe' ] || [ "$(head -c 6 "$LAB_TMP/part")" = '#!ipxe' ] ||
	lab_fail "the script's first bytes: $(cat "$LAB_TMP/part")"
code=$(fetch "/boot/$MAC.ipxe" "$LAB_TMP/c" -H "If-None-Match: $RTAG")
[ "$code" = 304 ] || lab_fail "the script with its ETag: $code"
code=$(fetch "/boot/$MAC.ipxe" "$LAB_TMP/c" -H "If-Modified-Since: Fri, 31 Dec 9999 23:59:59 GMT")
[ "$code" = 200 ] || lab_fail "the script with If-Modified-Since: $code (it has no date)"
ok "a rendered iPXE script: a content ETag (304 on it), no Last-Modified, ranges"

# ---- 4. keep-alive -------------------------------------------------------------

out=$(in_cli curl -sS -v --max-time 10 -o /dev/null -o /dev/null "$URL/image.img" "$URL/sub/a.txt" 2>&1) ||
	lab_fail "two URLs: $out"
grep -q 'Re-using existing connection' <<<"$out" || lab_fail "curl did not reuse the connection: $out"
[ "$(grep -c '^< HTTP/1.1 200' <<<"$out")" = 2 ] || lab_fail "two URLs: not two 200s"
ok "keep-alive: curl fetched two files over one connection"

# ---- 5. traversal --------------------------------------------------------------

for p in /../secret.txt /..%2fsecret.txt /%2e%2e/secret.txt /%2e%2e%2fsecret.txt \
	/sub/../../secret.txt /sub/%2e%2e/%2e%2e/secret.txt /..%5csecret.txt /%5c..%5csecret.txt \
	"/%252e%252e/secret.txt" "/%252e%252e%252fsecret.txt" /secret.txt%00 /%00/../secret.txt \
	"/$LAB_TMP/secret.txt" "//$LAB_TMP/secret.txt" "/%2f$LAB_TMP/secret.txt" /link-out /link-up \
	"/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd" /....//secret.txt; do
	code=$(fetch "$p" "$LAB_TMP/t") || code=curl-failed
	case "$code" in
	400 | 403 | 404) ;;
	*) lab_fail "$p: status $code" ;;
	esac
	if grep -qs secret "$LAB_TMP/t" || grep -qs root: "$LAB_TMP/t"; then
		lab_fail "$p: a file outside the root was served"
	fi
done
# Decoded once: %252e%252e is the literal name "%2e%2e", which may exist in the root.
mkdir -p "$ROOT/%2e%2e"
echo literal >"$ROOT/%2e%2e/x"
chmod -R a+rX "$ROOT"
code=$(fetch "/%252e%252e/x" "$LAB_TMP/t")
[ "$code" = 200 ] && [ "$(cat "$LAB_TMP/t")" = literal ] || lab_fail "/%252e%252e/x: $code"
ok "traversal: .., %2e%2e, %2f, ..%2f, %5c, %00, absolute paths and symlinks out: 400/403/404; %252e%252e is a literal name"

# ---- 6. limits -----------------------------------------------------------------

# Oversized headers: an error status (evhttp's), and the connection closed.
out=$(raw "GET /sub/a.txt HTTP/1.1\\r\\nHost: x\\r\\nX-Big: $(printf '%09000d' 0 | tr 0 a)\\r\\n\\r\\n" |
	head -c 200 | tr -d '\r') || true
[[ "$out" =~ ^HTTP/1\.1\ (400|413|431) ]] || lab_fail "9000-byte header: '$out'"
ok "oversized headers: ${out%%$'\n'*}, and the connection closed (the reply ended)"

SLOW=$LAB_TMP/slow.py
cat >"$SLOW" <<'EOF2'
# slow.py HOST PORT MODE LIMIT: "dribble" sends a request's first line, then one header
# byte every 0.5 s; "idle" sends a whole request, reads the reply, then waits. Prints
# the seconds until the server closed the connection (or LIMIT if it never did).
import socket, sys, time
host, port, mode, limit = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
s = socket.create_connection((host, port), timeout=10)
t0 = time.monotonic()
if mode == "idle":
    s.sendall(b"GET /sub/a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
    got = b""
    while not got.endswith(b"hello\n"):
        got += s.recv(4096)
    t0 = time.monotonic()
    s.settimeout(limit)
    try:
        b = s.recv(1)
    except socket.timeout:
        b = None
    print("%.1f" % (time.monotonic() - t0 if b is not None else limit))
    sys.exit(0)
s.sendall(b"GET /sub/a.txt HTTP/1.1\r\nX-Slow: ")
s.settimeout(0.5)
while time.monotonic() - t0 < limit:
    try:
        s.sendall(b"a")
        if s.recv(1) == b"":
            break
    except socket.timeout:
        continue
    except OSError:
        break
print("%.1f" % (time.monotonic() - t0))
EOF2
h0=$(metric 'pxed_http_timeouts_total{reason="header"}')
t=$(in_cli python3 "$SLOW" "$SERVER" 8080 dribble 15) || lab_fail "slow.py dribble failed"
awk -v t="$t" -v d="$HEADER_TIMEOUT" 'BEGIN { exit !(t >= d - 0.5 && t <= d + 2) }' ||
	lab_fail "a client dribbling a header byte every 0.5 s was cut after $t s (http.header_timeout ${HEADER_TIMEOUT}s)"
h1=$(metric 'pxed_http_timeouts_total{reason="header"}')
[ "$h1" -gt "$h0" ] || lab_fail "header timeouts in /metrics: $h0 then $h1"
ok "slowloris: a client sending a header byte every 0.5 s is disconnected after $t s (header_timeout ${HEADER_TIMEOUT}s), counted ($h1)"

i0=$(metric 'pxed_http_timeouts_total{reason="idle"}')
t=$(in_cli python3 "$SLOW" "$SERVER" 8080 idle 15) || lab_fail "slow.py idle failed"
awk -v t="$t" -v d="$IDLE_TIMEOUT" 'BEGIN { exit !(t >= d - 0.5 && t <= d + 2) }' ||
	lab_fail "an idle keep-alive connection was closed after $t s (http.idle_timeout ${IDLE_TIMEOUT}s)"
i1=$(metric 'pxed_http_timeouts_total{reason="idle"}')
[ "$i1" -gt "$i0" ] || lab_fail "idle timeouts in /metrics: $i0 then $i1"
ok "an idle keep-alive connection is closed after $t s (idle_timeout ${IDLE_TIMEOUT}s), counted ($i1)"

# Caps: connections held open, each busy with a 5 GiB reply it does not read (a
# connection with no request would meet the header deadline), then one more.
HOLD=$LAB_TMP/hold.py
cat >"$HOLD" <<'EOF2'
# hold.py HOST PORT N FLAG RELEASE: opens N connections, each sends a GET of big.iso
# and reads nothing; creates FLAG; holds them until RELEASE exists (at most 30 s).
import os, socket, sys, time
host, port, n, flag, release = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
socks = []
for _ in range(n):
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(b"GET /big.iso HTTP/1.1\r\nHost: x\r\n\r\n")
    socks.append(s)
time.sleep(0.3)
open(flag, "w").close()
t0 = time.monotonic()
while not os.path.exists(release) and time.monotonic() - t0 < 30:
    time.sleep(0.1)
EOF2
PROBE_PY=$LAB_TMP/probe.py
cat >"$PROBE_PY" <<'EOF2'
# probe.py HOST PORT: one GET; prints "served" (a 200), or "refused" (closed with no reply).
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
t0 = time.monotonic()
try:
    s.sendall(b"GET /sub/a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    got = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        got += b
except OSError:
    got = b""
print("served" if got.startswith(b"HTTP/1.1 200") else "refused" if not got else "other",
      "%.2f" % (time.monotonic() - t0))
EOF2
in_probe() { ip netns exec "$1" python3 "$PROBE_PY" "$SERVER" 8080; }
wait_flag() {
	local i
	for ((i = 0; i < 50; i++)); do [ -e "$1" ] && return 0; sleep 0.1; done
	return 1
}
rc0=$(metric 'pxed_http_connections_refused_total{reason="max_connections_per_client"}')
rm0=$(metric 'pxed_http_connections_refused_total{reason="max_connections"}')
rm -f "$LAB_TMP/release"
in_cli python3 "$HOLD" "$SERVER" 8080 "$PER_CLIENT" "$LAB_TMP/held1" "$LAB_TMP/release" &
H1=$!
lab_track_pid "$H1"
wait_flag "$LAB_TMP/held1" || lab_fail "hold.py did not open $PER_CLIENT connections"
r=$(in_probe "$CLI_NS")
[[ "$r" == refused* ]] && awk -v t="${r#* }" 'BEGIN { exit !(t < 1) }' ||
	lab_fail "connection $((PER_CLIENT + 1)) from one client: $r, expected refused at once"
r=$(in_probe "$CLI2_NS")
[[ "$r" == served* ]] || lab_fail "another client while the first holds $PER_CLIENT: $r"
ip netns exec "$CLI2_NS" python3 "$HOLD" "$SERVER" 8080 $((MAX_CONN - PER_CLIENT)) "$LAB_TMP/held2" \
	"$LAB_TMP/release" &
H2=$!
lab_track_pid "$H2"
wait_flag "$LAB_TMP/held2" || lab_fail "hold.py did not open $((MAX_CONN - PER_CLIENT)) connections"
r=$(in_probe "$CLI2_NS")
[[ "$r" == refused* ]] || lab_fail "connection $((MAX_CONN + 1)) in all: $r, expected refused"
touch "$LAB_TMP/release"
t0=$(date +%s)
wait "$H1" "$H2" 2>/dev/null || true
[ $(($(date +%s) - t0)) -le 5 ] || lab_fail "hold.py took $(($(date +%s) - t0)) s to let go after the release"
lab_untrack_pid "$H1"
lab_untrack_pid "$H2"
rc1=$(metric 'pxed_http_connections_refused_total{reason="max_connections_per_client"}')
rm1=$(metric 'pxed_http_connections_refused_total{reason="max_connections"}')
[ "$rc1" -gt "$rc0" ] && [ "$rm1" -gt "$rm0" ] ||
	lab_fail "refused connections in /metrics: per client $rc0 -> $rc1, in all $rm0 -> $rm1"
r=$(in_probe "$CLI_NS")
[[ "$r" == served* ]] || lab_fail "after the held connections closed: $r"
ok "caps: connection $((PER_CLIENT + 1)) from one address and $((MAX_CONN + 1)) in all are closed at once and counted; another client is served meanwhile; closed connections free their places"

# An event stream is not cut by either timeout.
t0=$(date +%s)
rc=0
in_cli curl -sS -N --max-time $((HEADER_TIMEOUT + IDLE_TIMEOUT + 2)) -o "$LAB_TMP/stream" \
	"$URL/api/v1/events/stream" 2>/dev/null || rc=$?
t1=$(date +%s)
[ "$rc" = 28 ] && [ $((t1 - t0)) -ge $((HEADER_TIMEOUT + IDLE_TIMEOUT + 1)) ] &&
	grep -q '^retry:' "$LAB_TMP/stream" ||
	lab_fail "the event stream ended after $((t1 - t0)) s (curl status $rc), expected curl's own --max-time"
ok "an event stream outlives header_timeout and idle_timeout ($((t1 - t0)) s, ended by the client)"
code=$(fetch /metrics "$LAB_TMP/metrics")
[ "$code" = 200 ] && grep -q '^pxed_http_connections_total ' "$LAB_TMP/metrics" ||
	lab_fail "/metrics: $code, no pxed_http_connections_total"
ok "/metrics answers with the connection counters"

# ---- 7. a reply being sent: sendfile, and what the client sends meanwhile -------

PUSH=$LAB_TMP/push.py
cat >"$PUSH" <<'EOF2'
# push.py HOST PORT PID: one connection GETs big.iso (5 GiB) and reads nothing. Prints
# whether pxed (PID) has big.iso mapped while the reply waits; then sends junk on the
# same connection (64 MiB at most; it stops when the socket takes nothing for 1 s) and
# prints the bytes sent and pxed's VmRSS in KiB before and after.
import select, socket, sys, time
host, port, pid = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
s = socket.create_connection((host, port), timeout=5)
s.sendall(b"GET /big.iso HTTP/1.1\r\nHost: x\r\n\r\n")
time.sleep(0.5)
mapped = sum("big.iso" in line for line in open(f"/proc/{pid}/maps"))
rss0 = rss()
s.setblocking(False)
junk, pushed, t0 = b"j" * 65536, 0, time.monotonic()
while pushed < 64 << 20 and time.monotonic() - t0 < 10:
    if not select.select([], [s], [], 1.0)[1]:
        break
    try:
        pushed += s.send(junk)
    except BlockingIOError:
        pass
time.sleep(0.5)
print(mapped, pushed, rss0, rss())
EOF2
read -r mapped pushed rss0 rss1 < <(in_cli python3 "$PUSH" "$SERVER" 8080 "$LAB_PXED_PID") ||
	lab_fail "push.py failed"
if [ "$mapped" = 0 ]; then
	ok "a 5 GiB reply waiting on a slow client: the file is not mapped (sendfile, not mmap)"
else
	not_ok "a 5 GiB reply waiting on a slow client: big.iso is mapped $mapped times in pxed"
fi
if [ $((rss1 - rss0)) -lt 16384 ]; then
	ok "a client sending junk during a download: $((pushed >> 10)) KiB taken, pxed's RSS $rss0 -> $rss1 KiB"
else
	not_ok "a client sending $((pushed >> 10)) KiB of junk during a download: pxed's RSS $rss0 -> $rss1 KiB"
fi
r=$(in_probe "$CLI_NS")
[[ "$r" == served* ]] || lab_fail "a request after push.py: $r"

# ---- 9. http.rate_per_address ---------------------------------------------------------
# A third pxed (port 8082) at 5 requests a second (bursts of 10): the main one's checks
# send more than that from one address. Run while section 8's downloads go on.
CONF3=$LAB_TMP/pxed3.yaml
cat >"$CONF3" <<EOF3
dhcp:
  mode: off
state_dir: $LAB_TMP/state3
tftp:
  port: 6972
http:
  port: 8082
  root: $ROOT
  rate_per_address: 5
EOF3
ip netns exec "$LAB_NS" setpriv --pdeathsig TERM -- "$PXED" serve --config "$CONF3" \
	</dev/null >>"$LAB_TMP/pxed3.log" 2>&1 &
PXED3_PID=$!
lab_track_pid "$PXED3_PID"
lab_wait_port tcp 8082 || lab_fail "the third pxed did not listen on TCP 8082: $(tail -5 "$LAB_TMP/pxed3.log")"
URL3=http://$SERVER:8082
# metric3 NAME: a counter of the third pxed (scraped from the server's own address).
metric3() {
	ip netns exec "$LAB_NS" curl -sS --max-time 5 "$URL3/metrics" |
		awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }'
}
# flood NS N: N GETs of /sub/a.txt, one after the other on one connection; a line each:
# the status and the Retry-After header.
flood() {
	local i args=()
	for ((i = 0; i < $2; i++)); do args+=(-o /dev/null "$URL3/sub/a.txt"); done
	ip netns exec "$1" curl -sS --max-time 10 -w '%{http_code} %header{retry-after}\n' "${args[@]}"
}
RL_METRIC='pxed_http_requests_refused_total{reason="rate_limited"}'
rl0=$(metric3 "$RL_METRIC")
st0=$(metric3 'pxed_http_transfers_total{outcome="started"}')
flood "$CLI_NS" 15 >"$LAB_TMP/flood1"
code_other=$(ip netns exec "$CLI2_NS" curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "$URL3/sub/a.txt") || code_other=none
flood "$CLI_NS" 15 >"$LAB_TMP/flood2"
rl1=$(metric3 "$RL_METRIC")
st1=$(metric3 'pxed_http_transfers_total{outcome="started"}')
cat "$LAB_TMP/flood1" "$LAB_TMP/flood2" >"$LAB_TMP/flood"
n200=$(grep -c '^200 $' "$LAB_TMP/flood" || true)
n429=$(grep -c '^429 1$' "$LAB_TMP/flood" || true)
late429=$(grep -c '^429 1$' "$LAB_TMP/flood2" || true)
if [ "$n200" -ge 10 ] && [ "$n429" -ge 10 ] && [ $((n200 + n429)) = 30 ]; then
	ok "30 quick requests at http.rate_per_address 5: $n200 served (a burst of 10 and more as time passes), $n429 answered 429 with Retry-After: 1"
else
	not_ok "30 quick requests at http.rate_per_address 5: $n200 × 200 and $n429 × '429 1' (expected both 10 or more, 30 in all): $(sort "$LAB_TMP/flood" | uniq -c | tr '\n' ' ')"
fi
if [ $((rl1 - rl0)) = "$n429" ] && [ $((st1 - st0)) = $((n200 + 1)) ]; then
	ok "the $n429 refusals are counted in $RL_METRIC and open no file ($((st1 - st0)) transfers for $((n200 + 1)) served)"
else
	not_ok "$RL_METRIC rose by $((rl1 - rl0)) for $n429 refusals; file transfers started rose by $((st1 - st0)) for $((n200 + 1)) served"
fi
if [ "$code_other" = 200 ] && [ "$late429" -ge 1 ]; then
	ok "another address is served in the middle of the flood ($late429 refusals after it)"
else
	not_ok "another address during the flood: $code_other (expected 200), refusals after it: $late429"
fi
# 1, 2, 4, 8, 16...: a log line at each power of two.
want_logs=0
for ((i = 1; i <= n429; i *= 2)); do want_logs=$((want_logs + 1)); done
logs=$(grep -c 'over http.rate_per_address, answered 429' "$LAB_TMP/pxed3.log" || true)
if [ "$logs" = "$want_logs" ]; then
	ok "the refusals are logged at the 1st, 2nd, 4th, 8th... ($logs lines for $n429)"
else
	not_ok "$logs log lines for $n429 refusals (expected $want_logs): $(grep 'rate_per_address' "$LAB_TMP/pxed3.log" | tail -3)"
fi
sleep 1.2
flood "$CLI_NS" 2 >"$LAB_TMP/flood3"
if [ "$(tr '\n' ' ' <"$LAB_TMP/flood3")" = "200  200  " ]; then
	ok "a second after the flood its address is served again"
else
	not_ok "requests a second after the flood: $(tr '\n' ' ' <"$LAB_TMP/flood3") (expected 200 200)"
fi
kill "$PXED3_PID" 2>/dev/null || true
wait "$PXED3_PID" || true
lab_untrack_pid "$PXED3_PID"

# ---- 8. (started before section 1) replies that outlast evhttp's timeout --------------

wait "$PACE_PID" || true
lab_untrack_pid "$PACE_PID"
read -r st got sha secs st2 sha2 <"$LAB_TMP/pace.out" || true
if [ "${st:-}" = 200 ] && [ "${got:-}" = $((74 << 20)) ] &&
	[ "$sha" = "$(sha256sum <"$ROOT/slow.bin" | cut -d' ' -f1)" ] && [ "$secs" -ge 70 ]; then
	ok "a 74 MiB download read at 1 MiB/s for $secs s (past evhttp's 60 s timeout) completes byte for byte"
else
	not_ok "a 74 MiB download read at 1 MiB/s (expected all of it, in 70 s or more): $(cat "$LAB_TMP/pace.out")"
fi
if [ "${st2:-}" = 200 ] && [ "${sha2:-}" = "$(printf 'hello\n' | sha256sum | cut -d' ' -f1)" ]; then
	ok "after that download the connection is kept alive: the next file comes over it"
else
	not_ok "a request after the slow download on the same connection: $(cat "$LAB_TMP/pace.out")"
fi
wait "$STALL_PID" || true
lab_untrack_pid "$STALL_PID"
read -r stall_got stall_end <"$LAB_TMP/stall.out" || true
stall_ms=$(in_cli curl -sS --max-time 10 "$URL2/api/v1/events" | python3 -c '
import json, sys
ev = [e for e in json.load(sys.stdin)["events"]
      if e["proto"] == "http" and e["kind"] == "transfer" and "big.iso" in e["detail"]]
print(ev[-1]["duration_ms"] if len(ev) == 1 and not ev[0]["ok"] else "none")' 2>&1) || stall_ms=none
if [ "${stall_end:-}" = closed ] && [[ "$stall_ms" =~ ^[0-9]+$ ]] && [ "$stall_ms" -ge 58000 ] &&
	[ "$stall_ms" -le 68000 ]; then
	ok "a client that stops reading a 5 GiB reply is cut after $stall_ms ms without progress ($stall_got bytes had reached it)"
else
	not_ok "a client that reads nothing: '$(cat "$LAB_TMP/stall.out")', the transfer's duration '$stall_ms' ms (expected closed, 58000-68000 ms)"
fi

lab_log "HTTP requests served in this test: $(metric pxed_http_requests_total)"
echo "# $passed passed"
[ "$failed" -eq 0 ]
