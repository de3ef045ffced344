#!/usr/bin/env bash
# The web dashboard during a real boot. pxed serves it; Debian's chromium (headless, driven by
# playwright-core: tests/browser/dashboard.mjs) loads it in the lab's namespace while a UEFI
# QEMU guest network-boots, and finds the guest in the machines list, one of its transfers
# in progress and, at the end, the DHCP, NBP, kernel and initrd steps of its timeline.
# Screenshots (during and after the boot) go to $PXED_TEST_OUT/pxed-e2e-dashboard/
# (default build/test-out/pxed-e2e-dashboard/).
#
# The link to the guest is shaped to 24 Mbit/s (tc tbf on its tap: queued, not dropped) so
# that the 14 MB kernel takes a few seconds and the page, which polls every second, sees it
# in flight whatever the machine's speed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OCTET=60
TIMEOUT=${PXED_E2E_TIMEOUT:-300}
CHROMIUM=${PXED_CHROMIUM:-/usr/bin/chromium}
lab_setup pxed-e2e-dashboard "$OCTET"
lab_assets
OUT=${PXED_TEST_OUT:-$LAB_ROOT/build/test-out}/$LAB_NS
MAC=$(printf '52:54:00:77:%02x:01' "$OCTET")
URL=http://$LAB_SERVER_IP/

[ -x "$CHROMIUM" ] || lab_fail "no browser at $CHROMIUM (Debian's chromium: make deps)"
bash "$LAB_ROOT/scripts/browser-deps.sh" || lab_fail "scripts/browser-deps.sh failed"
mkdir -p "$OUT"
rm -f "$OUT"/dashboard-*.png

lab_pxed boot --interface "$LAB_BR" --dhcp-range "$LAB_NET.100,$LAB_NET.150" \
	--kernel "$LAB_KERNEL" --initrd "$LAB_INITRD" \
	--cmdline "console=ttyS0 panic=-1 pxedtest=dashboard" --state-dir "$LAB_TMP/state"
lab_wait_port udp 67 || lab_fail "pxed does not listen on UDP 67"
lab_wait_port tcp 80 || lab_fail "pxed does not listen on TCP 80"

# in_lab CMD...: CMD in the lab's namespace.
in_lab() { ip netns exec "$LAB_NS" "$@"; }

# The page's own files: validators, no caching without revalidation, a strict CSP.
hdr=$(in_lab curl -sS -m 5 -D - -o "$LAB_TMP/index.html" "$URL") || lab_fail "GET $URL failed"
grep -qi '^HTTP/1.1 200' <<<"$hdr" || lab_fail "GET $URL: $(head -1 <<<"$hdr")"
grep -qi "^content-security-policy: default-src 'self'" <<<"$hdr" || lab_fail "no CSP: $hdr"
grep -qi '^cache-control: no-cache' <<<"$hdr" || lab_fail "no Cache-Control: no-cache"
etag=$(sed -n 's/^[Ee][Tt][Aa][Gg]: *\([^[:space:]]*\).*/\1/p' <<<"$hdr")
[ -n "$etag" ] || lab_fail "no ETag"
code=$(in_lab curl -sS -m 5 -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$URL")
[ "$code" = 304 ] || lab_fail "If-None-Match $etag: $code, not 304"
for f in app.js style.css; do
	type=$(in_lab curl -sS -m 5 -o /dev/null -w '%{http_code} %{content_type}' "${URL}dashboard/$f")
	[[ "$type" == "200 text/"* ]] || lab_fail "GET /dashboard/$f: $type"
done
cmp -s "$LAB_TMP/index.html" <(in_lab curl -sS -m 5 "${URL}dashboard/") ||
	lab_fail "/ and /dashboard/ differ"
size=$(cat "$LAB_ROOT"/src/http/dashboard/* | wc -c)
lab_ok "dashboard served at / and /dashboard/ (ETag $etag, 304 on revalidation, CSP; $size bytes in all)"
in_lab curl -sS -m 5 -f "${URL}api/v1/status" >"$LAB_TMP/status.json" ||
	lab_fail "GET /api/v1/status failed: the dashboard has nothing to show"

lab_add_tap tap0
in_lab tc qdisc add dev tap0 root tbf rate 24mbit burst 32kb latency 2s ||
	lab_fail "cannot shape tap0"

# The browser first (it loads the page, then says so), the guest once the page is up.
# HOME and TMPDIR: chromium's profile and caches stay in LAB_TMP.
mkdir -p "$LAB_TMP/home"
setpriv --pdeathsig TERM -- timeout -k 5 $((TIMEOUT + 60)) \
	ip netns exec "$LAB_NS" env HOME="$LAB_TMP/home" TMPDIR="$LAB_TMP" PXED_CHROMIUM="$CHROMIUM" \
	node "$LAB_ROOT/tests/browser/dashboard.mjs" "$URL" "$MAC" "$OUT" "$TIMEOUT" \
	</dev/null >"$LAB_TMP/browser.log" 2>&1 &
browser=$!
lab_track_pid "$browser"
lab_wait_log "$LAB_TMP/browser.log" '^# dashboard loaded' 90 "$browser" ||
	lab_fail "the browser did not load $URL"
lab_ok "chromium loaded the dashboard"

start=$(date +%s)
lab_qemu_uefi "$MAC" tap0 "$LAB_TMP/qemu.log" "$TIMEOUT"
lab_wait_marker "$LAB_TMP/qemu.log" "$TIMEOUT" || lab_fail "the UEFI guest did not boot"
lab_ok "the UEFI guest booted through pxed in $(($(date +%s) - start)) s"

rc=0
lab_wait_exit "$browser" 120 || rc=$?
grep -E '^(ok|not ok|#) ' "$LAB_TMP/browser.log" | sed -e 's/^#/# browser:/' -e 's/^ok - /ok - browser: /' \
	-e 's/^not ok - /not ok - browser: /' || true
[ "$rc" = 0 ] || lab_fail "the browser test failed (exit $rc)"
for f in dashboard-booting.png dashboard-booted.png; do
	[ -s "$OUT/$f" ] || lab_fail "no screenshot $OUT/$f"
done
lab_ok "screenshots: $OUT/dashboard-booting.png $OUT/dashboard-booted.png"
