#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# pxed's HTTPS listener (http.tls_cert, http.tls_key, http.tls_port), in network
# namespaces (needs root), with a throwaway CA and server certificate made by openssl:
#  1. `pxed check` refuses, with file:line: a key file that is missing, a key that is not
#     the certificate's, a key group or others may read, a key owned by another user, a
#     FIFO at the key's or the certificate's path (at once, not waiting for a writer), a
#     certificate without a key, an encrypted key, a certificate file without a
#     certificate; it warns of an expired one;
#  2. curl --cacert over HTTPS: a file byte for byte (sha256), a Range past the pump's
#     first fill (206), several ranges (200, the whole file: RFC 9110 §14.2), HEAD,
#     If-None-Match (304), /api/v1/status; plain HTTP on port 8080 still answers, and
#     still sends several ranges as multipart/byteranges;
#  3. plain HTTP spoken to the TLS port gets no HTTP answer, is counted in
#     pxed_http_tls_handshakes_failed_total, and pxed goes on serving;
#  4. a client that connects to the TLS port and never sends its handshake is cut at
#     http.header_timeout (pxed_http_timeouts_total{reason="header"}), and not counted as
#     a failed handshake;
#  5. a 1 GiB sparse file comes whole over HTTPS, and again asked for in two ranges, while
#     pxed's VmRSS, sampled during the transfer, stays within 64 MiB of what it was
#     before; a file truncated during a multi-range HTTPS transfer ends that transfer and
#     pxed goes on serving HTTPS, HTTP and TFTP (DHCP is off here);
#  6. 30 HTTPS readers that stop reading hold less than 12 MiB of pxed's memory; a
#     download cut after ~2 MB adds less than the file to pxed_http_bytes_sent_total and
#     is counted as failed;
#  7. a burst of TLS handshakes from one address is refused past http.rate_per_address
#     (pxed_http_connections_refused_total{reason="tls_rate"}, not as failed handshakes)
#     while another address is served;
#  8. the privilege drop holds with the key read before it (lab_wait_port checks uid,
#     groups, capabilities, no_new_privs and seccomp); no system call was refused.
# Usage: tests/integration/https.sh [BUILD_DIR]   (default: build)
set -euo pipefail

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib-dhcp.sh
. "$HERE/lib-dhcp.sh"

NS=pxed-it-https
OCTET=130
HEADER_TIMEOUT=3
RSS_GROWTH_MAX_KIB=65536
# http.rate_per_address: requests, and new TLS connections, a second from one address,
# in bursts of twice that (RATE * 2 = 50: more than the test's 30 slow readers at once).
RATE=25

[ -x "$PXED" ] || { echo "not ok - pxed not built: $PXED"; exit 1; }
for tool in curl openssl python3 sha256sum truncate mkfifo timeout; do
	command -v "$tool" >/dev/null || { echo "not ok - $tool is not installed"; exit 1; }
done

lab_setup "$NS" "$OCTET"
SERVER=$LAB_SERVER_IP
URL=https://$SERVER:8443
lab_add_host cli "$LAB_NET.10/24"
CLIENT_NS=$LAB_HOST_NS
in_cli() { ip netns exec "$CLIENT_NS" "$@"; }
lab_add_host cli2 "$LAB_NET.11/24"
CLIENT2_NS=$LAB_HOST_NS

# ---- a throwaway CA, a server certificate for SERVER's address, another key -------

PKI=$LAB_TMP/pki
mkdir -p "$PKI"
(
	cd "$PKI"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 \
		-subj "/CN=pxed test CA" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
		-subj "/CN=$SERVER" 2>/dev/null
	printf 'subjectAltName=IP:%s\nbasicConstraints=CA:FALSE\n' "$SERVER" >ext.cnf
	openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
		-out server.crt -days 2 -extfile ext.cnf 2>/dev/null
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out other.key 2>/dev/null
	cp server.key loose.key
	cp server.key nobody.key
	mkfifo fifo.key
	openssl pkey -in server.key -aes256 -passout pass:secret -out encrypted.key
	# A certificate that expired in 2020, for its key: `openssl ca` takes explicit dates.
	mkdir -p db && : >db/index.txt && echo 01 >db/serial
	printf '[ca]\ndefault_ca=c\n[c]\ndatabase=db/index.txt\nserial=db/serial\n%s\n' \
		'new_certs_dir=db
default_md=sha256
policy=p
[p]
commonName=supplied' >ca.cnf
	openssl ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key -in server.csr \
		-out expired.crt -startdate 20200101000000Z -enddate 20200201000000Z 2>/dev/null
) >/dev/null || lab_fail "openssl could not make the test's certificates"
# The key is root's alone, as on a real server: pxed reads it before dropping privileges.
chmod 600 "$PKI/server.key" "$PKI/other.key" "$PKI/encrypted.key" "$PKI/nobody.key" \
	"$PKI/fifo.key"
chown nobody "$PKI/nobody.key"
chmod 640 "$PKI/loose.key"
chmod 644 "$PKI/server.crt"

ROOT=$LAB_TMP/root
mkdir -p "$ROOT"
head -c 3000000 /dev/urandom >"$ROOT/image.img"
echo 'served over TFTP' >"$ROOT/small.txt"
truncate -s $((1 << 30)) "$ROOT/big.iso"
truncate -s $((1 << 30)) "$ROOT/shrinks.iso"
printf 'THE-END!' | dd of="$ROOT/big.iso" bs=1 seek=$(((1 << 30) - 8)) conv=notrunc status=none
chmod -R a+rX "$ROOT"
head -c 4096 /dev/urandom >"$LAB_TMP/vmlinuz"
chmod 644 "$LAB_TMP/vmlinuz"

# conf FILE CERT KEY: a config with http.tls_cert CERT and http.tls_key KEY ("-": left out).
conf() {
	{
		cat <<EOF
dhcp:
  mode: off
state_dir: $LAB_TMP/state
profiles:
  default:
    kernel: $LAB_TMP/vmlinuz
    cmdline: console=ttyS0
default_profile: default
tftp:
  port: 6970
  root: $ROOT
http:
  port: 8080
  root: $ROOT
  header_timeout: ${HEADER_TIMEOUT}s
  rate_per_address: $RATE
  max_connections_per_client: 40
  tls_port: 8443
EOF
		[ "$2" = - ] || echo "  tls_cert: $2"
		[ "$3" = - ] || echo "  tls_key: $3"
	} >"$1"
}

# ---- 1. pxed check ---------------------------------------------------------------

# check_refuses WHAT KEY_NAME CERT KEY PATTERN: pxed check fails with FILE:LINE (the line
# of http.KEY_NAME) and a message matching PATTERN.
check_refuses() {
	local what=$1 key=$2 cf=$LAB_TMP/check-$RANDOM.yaml line out
	conf "$cf" "$3" "$4"
	line=$(grep -n "^  $key:" "$cf" | cut -d: -f1)
	# Bounded: a key loader that waits on a FIFO would hang here.
	if out=$(timeout 10 "$PXED" check --config "$cf" 2>&1); then
		not_ok "pxed check accepts $what"
	elif grep -q "^$cf:$line: .*$5" <<<"$out"; then
		ok "pxed check refuses $what: $(grep -m1 "^$cf:$line:" <<<"$out")"
	else
		not_ok "pxed check on $what: expected '$cf:$line: ...$5', got: $out"
	fi
}
check_refuses "a missing key file" tls_key "$PKI/server.crt" "$PKI/nothere.key" \
	"No such file"
check_refuses "a key that is not the certificate's" tls_key "$PKI/server.crt" "$PKI/other.key" \
	"is not the key of the certificate"
check_refuses "a key group or others may read (mode 0640)" tls_key "$PKI/server.crt" \
	"$PKI/loose.key" "permissions 0640 are too open"
check_refuses "a key owned by another user (nobody)" tls_key "$PKI/server.crt" \
	"$PKI/nobody.key" "owned by uid $(id -u nobody)"
check_refuses "a FIFO at the key's path, at once" tls_key "$PKI/server.crt" "$PKI/fifo.key" \
	"not a regular file"
mkfifo "$PKI/fifo.crt"
check_refuses "a FIFO at the certificate's path, at once" tls_cert "$PKI/fifo.crt" \
	"$PKI/server.key" "not a regular file"
check_refuses "a certificate without a key" tls_cert "$PKI/server.crt" - "without http.tls_key"
check_refuses "an encrypted key (no passphrase is ever asked)" tls_key "$PKI/server.crt" \
	"$PKI/encrypted.key" "holds no unencrypted PEM private key"
check_refuses "a key that is no certificate" tls_cert "$PKI/server.key" "$PKI/server.key" \
	"holds no PEM certificate"

conf "$LAB_TMP/expired.yaml" "$PKI/expired.crt" "$PKI/server.key"
line=$(grep -n '^  tls_cert:' "$LAB_TMP/expired.yaml" | cut -d: -f1)
if out=$("$PXED" check --config "$LAB_TMP/expired.yaml" 2>&1) &&
	grep -q "warn .*$LAB_TMP/expired.yaml:$line: http.tls_cert .* has expired" <<<"$out"; then
	ok "pxed check warns of an expired certificate (at line $line) and accepts it"
else
	not_ok "pxed check on an expired certificate: $out"
fi

CONF=$LAB_TMP/pxed.yaml
conf "$CONF" "$PKI/server.crt" "$PKI/server.key"
"$PXED" check --config "$CONF" >"$LAB_TMP/check.log" 2>&1 ||
	lab_fail "pxed check rejects the test's config: $(cat "$LAB_TMP/check.log")"
ok "pxed check accepts a certificate with its key (mode 0600)"

lab_pxed serve --config "$CONF" --log-level debug
lab_wait_port tcp 8443 || lab_fail "pxed did not listen on TCP 8443: $(tail -5 "$LAB_TMP/pxed.log")"
lab_wait_port tcp 8080 || lab_fail "pxed did not listen on TCP 8080"
ok "pxed listens on 8080 and 8443 and has dropped its privileges (uid, caps, seccomp)"

# ---- 2. files and the API over HTTPS ---------------------------------------------

# get PATH OUT [CURL ARGS...]: GET over HTTPS into OUT; prints the status code.
get() {
	local path=$1 out=$2
	shift 2
	in_cli curl -sS --max-time 20 --cacert "$PKI/ca.crt" -o "$out" -D "$LAB_TMP/headers" \
		-w '%{http_code}' "$@" "$URL$path"
}
header() {
	tr -d '\r' <"$LAB_TMP/headers" | awk -v k="$(tr '[:upper:]' '[:lower:]' <<<"$1")" -F': ' \
		'tolower($1) == k { sub(/^[^:]*: /, ""); v = $0 } END { print v }'
}
want_sha=$(sha256sum <"$ROOT/image.img" | cut -d' ' -f1)

st=$(get /image.img "$LAB_TMP/got") || st="curl failed ($?)"
if [ "$st" = 200 ] && [ "$(sha256sum <"$LAB_TMP/got" | cut -d' ' -f1)" = "$want_sha" ]; then
	ok "GET over HTTPS: 200, the file's sha256"
else
	not_ok "GET /image.img over HTTPS: status $st, $(stat -c %s "$LAB_TMP/got" 2>/dev/null) bytes"
fi
etag=$(header ETag)

# Longer than the pump's first fill (http/tls.h): the rest comes as the socket drains.
st=$(get /image.img "$LAB_TMP/got" -H 'Range: bytes=500000-2999999') || st="curl failed ($?)"
if [ "$st" = 206 ] && [ "$(header Content-Range)" = "bytes 500000-2999999/3000000" ] &&
	cmp -s "$LAB_TMP/got" <(tail -c +500001 "$ROOT/image.img"); then
	ok "Range over HTTPS: 206, Content-Range, the 2500000 bytes"
else
	not_ok "Range over HTTPS: status $st, Content-Range '$(header Content-Range)'"
fi

# Several ranges over TLS: the whole file, 200 (a multipart body would map the file).
st=$(get /image.img "$LAB_TMP/got" -H 'Range: bytes=0-9,2999990-2999999') || st="curl failed ($?)"
if [ "$st" = 200 ] && [ "$(sha256sum <"$LAB_TMP/got" | cut -d' ' -f1)" = "$want_sha" ]; then
	ok "two ranges over HTTPS: the Range is ignored, 200, the whole file's sha256"
else
	not_ok "two ranges over HTTPS: status $st, $(header Content-Type), $(stat -c %s "$LAB_TMP/got") bytes"
fi

st=$(in_cli curl -sS --max-time 10 -o "$LAB_TMP/got" -D "$LAB_TMP/headers" -w '%{http_code}' \
	-H 'Range: bytes=0-9,2999990-2999999' "http://$SERVER:8080/image.img") ||
	st="curl failed ($?)"
if [ "$st" = 206 ] && [[ "$(header Content-Type)" == multipart/byteranges* ]] &&
	python3 - "$LAB_TMP/got" "$ROOT/image.img" <<'EOF2'; then
import sys
body, f = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
want = [(b"bytes 0-9/3000000", f[:10]), (b"bytes 2999990-2999999/3000000", f[-10:])]
sys.exit(not all(b"Content-Range: " + cr + b"\r\n\r\n" + data in body for cr, data in want))
EOF2
	ok "two ranges over plain HTTP: 206 multipart/byteranges, both parts byte for byte"
else
	not_ok "two ranges over plain HTTP: status $st, $(header Content-Type)"
fi

HEAD=$LAB_TMP/head.py
cat >"$HEAD" <<'EOF2'
# head.py HOST PORT CAFILE: a HEAD over TLS with "Connection: close"; prints the status,
# Content-Length and the bytes that followed the headers until pxed closed.
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[3])
raw = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s = ctx.wrap_socket(raw, server_hostname=sys.argv[1])
s.sendall(b"HEAD /image.img HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
got = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    got += b
head, _, body = got.partition(b"\r\n\r\n")
lines = head.decode().split("\r\n")
cl = [l.split(":", 1)[1].strip() for l in lines[1:] if l.lower().startswith("content-length:")]
print(lines[0].split()[1], cl[0] if cl else "none", len(body))
EOF2
read -r st cl extra < <(in_cli python3 "$HEAD" "$SERVER" 8443 "$PKI/ca.crt" 2>&1) || true
if [ "${st:-}" = 200 ] && [ "${cl:-}" = 3000000 ] && [ "${extra:-}" = 0 ]; then
	ok "HEAD over HTTPS: 200, Content-Length 3000000, no body"
else
	not_ok "HEAD over HTTPS: status '${st:-}', Content-Length '${cl:-}', ${extra:-?} bytes after the headers"
fi

st=$(get /image.img "$LAB_TMP/got" -H "If-None-Match: $etag") || st="curl failed ($?)"
if [ -n "$etag" ] && [ "$st" = 304 ]; then
	ok "If-None-Match over HTTPS: 304"
else
	not_ok "If-None-Match '$etag' over HTTPS: status $st"
fi

st=$(get /api/v1/status "$LAB_TMP/status.json") || st="curl failed ($?)"
if [ "$st" = 200 ] && python3 -c 'import json,sys; json.load(open(sys.argv[1]))' \
	"$LAB_TMP/status.json" 2>/dev/null; then
	ok "/api/v1/status over HTTPS: 200, JSON"
else
	not_ok "/api/v1/status over HTTPS: status $st: $(head -c 200 "$LAB_TMP/status.json")"
fi

st=$(get /boot/52:54:00:82:00:01.ipxe "$LAB_TMP/script") || st="curl failed ($?)"
if [ "$st" = 200 ] && grep -q '^#!ipxe' "$LAB_TMP/script" && grep -q 'console=ttyS0' "$LAB_TMP/script"; then
	ok "a rendered per-machine iPXE script over HTTPS"
else
	not_ok "/boot/<mac>.ipxe over HTTPS: status $st: $(head -c 200 "$LAB_TMP/script")"
fi
st=$(get /metrics "$LAB_TMP/metrics.txt") || st="curl failed ($?)"
st2=$(get / "$LAB_TMP/index.html") || st2="curl failed ($?)"
if [ "$st" = 200 ] && grep -q '^pxed_http_tls_handshakes_failed_total ' "$LAB_TMP/metrics.txt" &&
	[ "$st2" = 200 ] && grep -qi '<html' "$LAB_TMP/index.html"; then
	ok "/metrics (with the TLS handshake counter) and the dashboard over HTTPS"
else
	not_ok "/metrics over HTTPS: status $st; the dashboard: status $st2"
fi

st=$(in_cli curl -sS --max-time 10 -o "$LAB_TMP/got" -w '%{http_code}' \
	"http://$SERVER:8080/image.img") || st="curl failed ($?)"
if [ "$st" = 200 ] && [ "$(sha256sum <"$LAB_TMP/got" | cut -d' ' -f1)" = "$want_sha" ]; then
	ok "plain HTTP on 8080 serves the same file"
else
	not_ok "plain HTTP on 8080: status $st"
fi

# TLS 1.1 is refused: OpenSSL 3's defaults already refuse it (it passes without pxed's
# SSL_CTX_set_min_proto_version), so this checks those defaults hold. 1.2 is taken.
if in_cli openssl s_client -connect "$SERVER:8443" -tls1_1 </dev/null >/dev/null 2>&1; then
	not_ok "a TLS 1.1 handshake succeeded"
elif in_cli openssl s_client -connect "$SERVER:8443" -tls1_2 -CAfile "$PKI/ca.crt" \
	</dev/null 2>/dev/null | grep -q 'Verify return code: 0'; then
	ok "TLS 1.1 is refused (OpenSSL's default), TLS 1.2 is taken (certificate verified)"
else
	not_ok "a TLS 1.2 handshake with the test CA failed"
fi

# ---- 3. plain HTTP to the TLS port ------------------------------------------------

failed0=$(metric pxed_http_tls_handshakes_failed_total)
PLAIN=$LAB_TMP/plain.py
cat >"$PLAIN" <<'EOF2'
# plain.py HOST PORT: speaks plain HTTP to the TLS port; prints what came back (repr, the
# first 64 bytes) once the connection ends, or "open" if it is still open after 5 s.
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
s.sendall(b"GET /image.img HTTP/1.1\r\nHost: x\r\n\r\n")
got = b""
try:
    while True:
        b = s.recv(4096)
        if not b:
            break
        got += b
except socket.timeout:
    print("open")
    sys.exit(0)
except ConnectionResetError:
    pass
print(repr(got[:64]))
EOF2
reply=$(in_cli python3 "$PLAIN" "$SERVER" 8443) || reply="plain.py failed"
sleep 0.3
failed1=$(metric pxed_http_tls_handshakes_failed_total)
if [[ "$reply" != *HTTP/1* ]] && [ "$reply" != open ] && [ "$reply" != "plain.py failed" ] &&
	[ "$failed1" -gt "$failed0" ]; then
	ok "plain HTTP to the TLS port: no HTTP answer ($reply), the connection closed, counted ($failed0 -> $failed1)"
else
	not_ok "plain HTTP to the TLS port: '$reply', handshakes failed $failed0 -> $failed1"
fi
if grep -q 'TLS handshake failed' "$LAB_TMP/pxed.log"; then
	ok "the failed handshake is logged"
else
	not_ok "no 'TLS handshake failed' line in pxed's log"
fi
st=$(get /image.img "$LAB_TMP/got") || st="curl failed ($?)"
if [ "$st" = 200 ] && lab_alive "$LAB_PXED_PID"; then
	ok "pxed goes on serving HTTPS after it"
else
	not_ok "after plain HTTP on the TLS port: status $st"
fi

# ---- 4. a handshake that never comes ----------------------------------------------

to0=$(metric 'pxed_http_timeouts_total{reason="header"}')
hs0=$(metric pxed_http_tls_handshakes_failed_total)
SILENT=$LAB_TMP/silent.py
cat >"$SILENT" <<'EOF2'
# silent.py HOST PORT: connects and sends nothing; prints the seconds until pxed closes
# the connection (or "open" after 15 s).
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=15)
t0 = time.monotonic()
try:
    while s.recv(4096):
        pass
    print(f"{time.monotonic() - t0:.1f}")
except socket.timeout:
    print("open")
except ConnectionResetError:
    print(f"{time.monotonic() - t0:.1f}")
EOF2
secs=$(in_cli python3 "$SILENT" "$SERVER" 8443) || secs="silent.py failed"
to1=$(metric 'pxed_http_timeouts_total{reason="header"}')
sleep 0.3
hs1=$(metric pxed_http_tls_handshakes_failed_total)
if [[ "$secs" =~ ^[0-9.]+$ ]] && python3 -c "import sys; sys.exit(not ($HEADER_TIMEOUT - 0.5 <= $secs <= $HEADER_TIMEOUT + 2))" &&
	[ "$to1" -gt "$to0" ]; then
	ok "a client that never sends its handshake is cut after $secs s (http.header_timeout ${HEADER_TIMEOUT}s, counted)"
else
	not_ok "a silent client on the TLS port: closed after '$secs' s (expected ~$HEADER_TIMEOUT), header timeouts $to0 -> $to1"
fi
if [ "$hs1" = "$hs0" ]; then
	ok "the header timeout is not counted as a failed handshake ($hs0 -> $hs1)"
else
	not_ok "a header timeout was counted as a failed handshake: $hs0 -> $hs1"
fi

# ---- 5. 1 GiB over HTTPS, pxed's memory bounded -----------------------------------

rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$LAB_PXED_PID/status"; }
# metric_int NAME: a counter as /metrics prints it, an integer (metric's awk would print
# gigabytes as 3.2e+09).
metric_int() {
	local text
	text=$(ip netns exec "$LAB_NS" curl -sS --max-time 5 "http://$SERVER:8080/metrics") ||
		lab_fail "GET /metrics failed"
	awk -v k="$1" '$1 == k { v = $2 } END { print v == "" ? 0 : v }' <<<"$text"
}
# AddressSanitizer keeps freed memory in quarantine (256 MiB by default) before reuse: the
# pump's buffers pass through it. A leak or a mapped file would still be 1 GiB.
ASAN_SLACK_KIB=0
if grep -qa __asan_init "$PXED"; then
	ASAN_SLACK_KIB=$((256 << 10))
fi
RSS_GROWTH_MAX_KIB=$((RSS_GROWTH_MAX_KIB + ASAN_SLACK_KIB))

# fetch_big WHAT [CURL ARGS...]: GET /big.iso over HTTPS while sampling pxed's VmRSS every
# 0.1 s; checks 200, 1 GiB, its last bytes, and the growth within RSS_GROWTH_MAX_KIB.
fetch_big() {
	local what=$1 rss0 rss_max r i st size speed end
	shift
	rss0=$(rss)
	in_cli curl -sS --max-time 300 --cacert "$PKI/ca.crt" -o "$LAB_TMP/big.out" \
		-w '%{http_code} %{size_download} %{speed_download}\n' "$@" "$URL/big.iso" \
		>"$LAB_TMP/big.res" 2>&1 &
	CURL_PID=$!
	lab_track_pid "$CURL_PID"
	rss_max=$rss0
	for ((i = 0; i < 3000; i++)); do
		lab_alive "$CURL_PID" || break
		r=$(rss) || break
		[ "$r" -le "$rss_max" ] || rss_max=$r
		sleep 0.1
	done
	wait "$CURL_PID" || true
	lab_untrack_pid "$CURL_PID"
	read -r st size speed <"$LAB_TMP/big.res" || true
	end=$(tail -c 8 "$LAB_TMP/big.out" 2>/dev/null || true)
	rm -f "$LAB_TMP/big.out"
	if [ "${st:-}" = 200 ] && [ "${size:-}" = $((1 << 30)) ] && [ "$end" = THE-END! ]; then
		ok "1 GiB over HTTPS$what: 200, $size bytes, its last bytes right, $((${speed%.*} >> 20)) MiB/s"
	else
		not_ok "1 GiB over HTTPS$what: $(cat "$LAB_TMP/big.res")"
	fi
	if [ $((rss_max - rss0)) -le $RSS_GROWTH_MAX_KIB ]; then
		ok "pxed's VmRSS during the 1 GiB HTTPS transfer$what: $rss0 -> at most $rss_max KiB (bound: +$RSS_GROWTH_MAX_KIB)"
	else
		not_ok "pxed's VmRSS grew with the 1 GiB HTTPS transfer$what: $rss0 -> $rss_max KiB"
	fi
}
# Under valgrind (make test's valgrind phase) OpenSSL runs some 50 times slower: 2 GiB through
# it take longer than the test may, and its speed and VmRSS are valgrind's. memcheck judges
# the same code on the smaller transfers above.
UNDER_VALGRIND=
exe=$(readlink "/proc/$LAB_PXED_PID/exe" 2>/dev/null) || exe=
[[ "$exe" != *valgrind* ]] || UNDER_VALGRIND=1
if [ -n "$UNDER_VALGRIND" ]; then
	ok "1 GiB over HTTPS, whole and in two ranges # SKIP under valgrind"
else
	fetch_big ""
	# Two ranges that cover the file: mapped for a multipart body, the whole 1 GiB would
	# be in pxed's memory by the end. pxed sends the whole file instead, pumped.
	fetch_big " in two ranges" -H "Range: bytes=0-$(((1 << 29) - 1)),$((1 << 29))-$(((1 << 30) - 1))"
fi

# A file that shrinks during a multi-range transfer: a mapped body would be SIGBUS.
failed0=$(metric 'pxed_http_transfers_total{outcome="failed"}')
in_cli curl -sS --max-time 60 --limit-rate 20M --cacert "$PKI/ca.crt" -o /dev/null \
	-w '%{http_code} %{size_download}\n' -H 'Range: bytes=0-99,1000000-1073741823' \
	"$URL/shrinks.iso" >"$LAB_TMP/shrink.res" 2>"$LAB_TMP/shrink.err" &
CURL_PID=$!
lab_track_pid "$CURL_PID"
sleep 1
truncate -s $((1 << 20)) "$ROOT/shrinks.iso"
for ((i = 0; i < 300; i++)); do
	lab_alive "$CURL_PID" || break
	sleep 0.1
done
wait "$CURL_PID" || true
lab_untrack_pid "$CURL_PID"
read -r st size <"$LAB_TMP/shrink.res" || true
sleep 0.3
failed1=$(metric 'pxed_http_transfers_total{outcome="failed"}')
if lab_alive "$LAB_PXED_PID" && [ "${size:-0}" -lt $((1 << 30)) ] 2>/dev/null &&
	[ "$failed1" -gt "$failed0" ]; then
	ok "a file truncated during a multi-range HTTPS transfer: the transfer ends at ${size:-?} bytes, counted failed, pxed lives"
else
	not_ok "a file truncated during a multi-range HTTPS transfer: pxed alive: $(lab_alive "$LAB_PXED_PID" && echo yes || echo no), curl: $(cat "$LAB_TMP/shrink.res" "$LAB_TMP/shrink.err"), failed $failed0 -> $failed1"
fi
lab_alive "$LAB_PXED_PID" || lab_fail "pxed died: $(tail -5 "$LAB_TMP/pxed.log")"
st=$(get /image.img "$LAB_TMP/got") || st="curl failed ($?)"
st2=$(in_cli curl -sS --max-time 10 -o /dev/null -w '%{http_code}' \
	"http://$SERVER:8080/image.img") || st2="curl failed ($?)"
tftp=$(in_cli curl -sS --max-time 10 "tftp://$SERVER:6970/small.txt") || tftp="curl failed ($?)"
if [ "$st" = 200 ] && [ "$st2" = 200 ] && [ "$tftp" = 'served over TFTP' ]; then
	ok "after it pxed serves HTTPS, HTTP and TFTP"
else
	not_ok "after the truncated transfer: HTTPS $st, HTTP $st2, TFTP '$tftp'"
fi

# ---- 6. slow readers and cut downloads --------------------------------------------

SLOW=$LAB_TMP/slow.py
cat >"$SLOW" <<'EOF2'
# slow.py HOST PORT CAFILE N SECS: N HTTPS GETs of /big.iso at once, each read for 16 KiB
# and then not at all for SECS seconds; prints "ready" once all N bodies have started.
import socket, ssl, sys, time
host, port, ca, n, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
ctx = ssl.create_default_context(cafile=ca)
conns = []
for _ in range(n):
    s = ctx.wrap_socket(socket.create_connection((host, port), timeout=10), server_hostname=host)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.sendall(b"GET /big.iso HTTP/1.1\r\nHost: x\r\n\r\n")
    conns.append(s)
for s in conns:
    got = 0
    while got < 16384:
        b = s.recv(16384 - got)
        if not b:
            sys.exit("a connection closed early")
        got += len(b)
print("ready", flush=True)
time.sleep(secs)
EOF2
# 30 readers x (the pump's 256 KiB + a TLS record's buffers ~34 KiB + evhttp's connection
# and request ~10 KiB) is about 9 MiB; 12 MiB leaves room for malloc's rounding. At the
# pump's former 1 MiB they held over 30 MiB.
SLOW_MAX_KIB=$((12 << 10))
sleep 2 # http.rate_per_address's bucket full again
rss0=$(rss)
# Not through in_cli: ip netns exec becomes python, so SLOW_PID is python's own.
ip netns exec "$CLIENT_NS" python3 "$SLOW" "$SERVER" 8443 "$PKI/ca.crt" 30 30 \
	>"$LAB_TMP/slow.out" 2>&1 &
SLOW_PID=$!
lab_track_pid "$SLOW_PID"
for ((i = 0; i < 100; i++)); do
	grep -q ready "$LAB_TMP/slow.out" || ! lab_alive "$SLOW_PID" && break
	sleep 0.1
done
sleep 2 # the pumps fill up to their high mark, the sockets' buffers fill
rss_max=$rss0
for ((i = 0; i < 20; i++)); do
	r=$(rss)
	[ "$r" -le "$rss_max" ] || rss_max=$r
	sleep 0.1
done
if ! grep -q ready "$LAB_TMP/slow.out"; then
	not_ok "30 slow HTTPS readers did not all start: $(cat "$LAB_TMP/slow.out")"
elif [ $((rss_max - rss0)) -le $((SLOW_MAX_KIB + ASAN_SLACK_KIB)) ]; then
	ok "30 HTTPS readers that stop reading: pxed's VmRSS $rss0 -> at most $rss_max KiB (bound: +$SLOW_MAX_KIB)"
else
	not_ok "30 slow HTTPS readers: pxed's VmRSS $rss0 -> $rss_max KiB (over +$SLOW_MAX_KIB)"
fi
lab_stop_pid "$SLOW_PID" 5 || true
lab_untrack_pid "$SLOW_PID"

CUT=$LAB_TMP/cut.py
cat >"$CUT" <<'EOF2'
# cut.py HOST PORT CAFILE: GETs /big.iso over HTTPS, reads about 2 MB, and closes.
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[3])
s = ctx.wrap_socket(socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10),
                    server_hostname=sys.argv[1])
s.sendall(b"GET /big.iso HTTP/1.1\r\nHost: x\r\n\r\n")
got = 0
while got < 2000000:
    b = s.recv(65536)
    if not b:
        break
    got += len(b)
s.close()
print(got)
EOF2
sleep 1
failed0=$(metric 'pxed_http_transfers_total{outcome="failed"}')
bytes0=$(metric_int pxed_http_bytes_sent_total)
got=$(in_cli python3 "$CUT" "$SERVER" 8443 "$PKI/ca.crt") || got="cut.py failed"
for ((i = 0; i < 20; i++)); do
	failed1=$(metric 'pxed_http_transfers_total{outcome="failed"}')
	[ "$failed1" -le "$failed0" ] || break
	sleep 0.2
done
bytes1=$(metric_int pxed_http_bytes_sent_total)
# Sent means taken by the socket (what was read, and the kernel's buffers on both sides),
# less what libevent's SSL bufferevent had written but not yet drained when the write
# failed (it reports the error first): not exact, but nowhere near the file's 1 GiB.
if [ "$failed1" -gt "$failed0" ] && [ $((bytes1 - bytes0)) -gt 0 ] &&
	[ $((bytes1 - bytes0)) -lt $((64 << 20)) ]; then
	ok "an HTTPS download cut after $got bytes: counted failed, $((bytes1 - bytes0)) bytes sent (< 64 MiB of 1 GiB)"
else
	not_ok "an HTTPS download cut after $got bytes: failed $failed0 -> $failed1, bytes sent +$((bytes1 - bytes0))"
fi

# ---- 7. the TLS handshake rate ----------------------------------------------------

BURST=$LAB_TMP/burst.py
cat >"$BURST" <<'EOF2'
# burst.py HOST PORT CAFILE N: N TLS handshakes one after the other; prints "OK FAILED".
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[3])
good = bad = 0
for _ in range(int(sys.argv[4])):
    try:
        with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname=sys.argv[1]):
                good += 1
    except (OSError, ssl.SSLError):
        bad += 1
print(good, bad)
EOF2
sleep 2 # the bucket full again: RATE * 2 handshakes at once, then RATE a second
refused0=$(metric 'pxed_http_connections_refused_total{reason="tls_rate"}')
hs0=$(metric pxed_http_tls_handshakes_failed_total)
read -r good bad < <(in_cli python3 "$BURST" "$SERVER" 8443 "$PKI/ca.crt" 200 2>&1) || true
st=$(ip netns exec "$CLIENT2_NS" curl -sS --max-time 10 --cacert "$PKI/ca.crt" -o /dev/null \
	-w '%{http_code}' "$URL/image.img") || st="curl failed ($?)"
sleep 0.3
refused1=$(metric 'pxed_http_connections_refused_total{reason="tls_rate"}')
hs1=$(metric pxed_http_tls_handshakes_failed_total)
if [ -n "$UNDER_VALGRIND" ]; then
	# Each handshake takes pxed longer than the rate allows: none can be over it.
	ok "a burst of TLS handshakes past http.rate_per_address # SKIP under valgrind"
elif [[ "${good:-}" =~ ^[0-9]+$ ]] && [ "$good" -ge $((RATE * 2)) ] && [ "${bad:-0}" -gt 0 ] &&
	[ $((refused1 - refused0)) -ge "$bad" ]; then
	ok "200 TLS handshakes from one address: $good taken, $bad refused past http.rate_per_address $RATE (counted: $refused0 -> $refused1)"
else
	not_ok "a burst of TLS handshakes: '${good:-} ${bad:-}' taken/refused, tls_rate refusals $refused0 -> $refused1"
fi
if [ "$hs1" = "$hs0" ]; then
	ok "the refused connections are not counted as failed handshakes"
else
	not_ok "rate-limited connections counted as failed handshakes: $hs0 -> $hs1"
fi
if [ "$st" = 200 ]; then
	ok "meanwhile another address is served over HTTPS"
else
	not_ok "another address during the burst: status $st"
fi

# ---- 8. the sandbox still holds ---------------------------------------------------

lab_check_privdrop "$LAB_PXED_PID"
if grep -q 'seccomp refused' "$LAB_TMP/pxed.log"; then
	not_ok "seccomp refused a system call: $(grep -m3 'seccomp refused' "$LAB_TMP/pxed.log")"
else
	ok "after all of this pxed still runs confined, and seccomp refused no system call"
fi
lab_alive "$LAB_PXED_PID" || lab_fail "pxed exited: $(tail -5 "$LAB_TMP/pxed.log")"

echo "# $passed passed"
[ "$failed" -eq 0 ]
