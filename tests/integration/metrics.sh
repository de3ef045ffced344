#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2015
# pxed's /metrics against known traffic, in network namespaces (needs root). A fresh
# daemon (pxed serve --config) gets exactly:
#   DHCP  3 DORA exchanges (dhcp-probe; machines A, B, C), a RELEASE (C), an INFORM (A)
#         and 2 garbage datagrams;
#   TFTP  3 transfers to A (curl): the profile's kernel and a root file twice;
#   HTTP  to A: the profile's two initrds, a root file, a HEAD of it and a 404; to B: a
#         big file whose client gives up after a second (a failed transfer);
#   API   the requests the test itself makes (/metrics, /api/v1/events), counted.
# Then /metrics must
#   (a) parse as Prometheus text format with python3's prometheus_client parser, and
#       pass a strict checker of its own: HELP and TYPE once per family and before its
#       samples, a family's samples together, metric and label name syntax, escaped
#       label values, no sample twice, counters whole and >= 0, histogram buckets
#       ascending in le with non-decreasing counts and +Inf equal to _count;
#   (b) show exactly that traffic: DHCP messages by type, replies by type, drops by
#       reason, pool gauges, TFTP and HTTP transfers by outcome and bytes (the failed
#       transfer's bytes as its event reports them), errors by kind, boot sessions
#       (A booted: kernel and last initrd; B failed; C neither), and the count of each
#       duration histogram;
#   (c) and `pxed status --config FILE` finds the daemon from its config file.
# Usage: tests/integration/metrics.sh [BUILD_DIR]   (default: build)
set -euo pipefail

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib-dhcp.sh
. "$HERE/lib-dhcp.sh"

NS=pxed-it-metrics
OCTET=39
MAC_A=52:54:00:27:00:0a
MAC_B=52:54:00:27:00:0b
MAC_C=52:54:00:27:00:0c
# Debian's python3 has python3-prometheus-client; another python3 first in PATH may not.
PY=/usr/bin/python3

[ -x "$PROBE" ] || { echo "not ok - dhcp-probe not built: $PROBE (ninja -C $BUILD)"; exit 1; }
[ -x "$PXED" ] || { echo "not ok - pxed not built: $PXED"; exit 1; }
command -v curl >/dev/null || { echo "not ok - curl is not installed"; exit 1; }
"$PY" -c 'import prometheus_client.parser' 2>/dev/null ||
	{ echo "not ok - python3-prometheus-client is not installed (make deps)"; exit 1; }

lab_setup "$NS" "$OCTET"
SERVER=$LAB_SERVER_IP
API=http://$SERVER:8080
lab_add_host a
NS_A=$LAB_HOST_NS
lab_add_host b
NS_B=$LAB_HOST_NS
ip -n "$NS_A" link set eth0 address "$MAC_A"
ip -n "$NS_B" link set eth0 address "$MAC_B"

# ---- files and config ------------------------------------------------------

ROOT=$LAB_TMP/root
mkdir -p "$ROOT"
head -c 100000 /dev/urandom >"$LAB_TMP/vmlinuz"
head -c 3000 /dev/urandom >"$LAB_TMP/initrd0.img"
head -c 5000 /dev/urandom >"$LAB_TMP/initrd1.img"
head -c 4000 /dev/urandom >"$ROOT/f1"
head -c 7000 /dev/urandom >"$ROOT/h1"
head -c $((48 * 1024 * 1024)) /dev/zero >"$ROOT/big"
CONFIG=$LAB_TMP/pxed.yaml
cat >"$CONFIG" <<EOF
interfaces: [$LAB_BR]
state_dir: $LAB_TMP/state
tftp:
  root: $ROOT
http:
  root: $ROOT
  port: 8080
subnets:
  - subnet: $LAB_NET.0/24
    pool: $LAB_NET.100-$LAB_NET.119
profiles:
  default:
    kernel: $LAB_TMP/vmlinuz
    initrds: [$LAB_TMP/initrd0.img, $LAB_TMP/initrd1.img]
default_profile: default
EOF
size() { stat -c %s "$1"; }

# ---- helpers ---------------------------------------------------------------

# Every request the test makes to /metrics or /api/ is one more the daemon counts.
API_CALLS=0
# api PATH FILE: GET API/PATH into FILE (from the server's namespace), counted in
# API_CALLS (so never call it in a subshell).
api() {
	API_CALLS=$((API_CALLS + 1))
	ip netns exec "$LAB_NS" curl -sS --max-time 5 -o "$2" "$API$1"
}
# on NS CMD...: CMD in namespace NS.
on() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}
# dora NS MAC: a DORA exchange from NS's eth0 for chaddr MAC; prints the address.
dora() {
	local out
	out=$(probe_in "$1" --type dora --mac "$2") || lab_fail "dhcp-probe dora for $2 got no ACK: $out"
	field yiaddr "$out"
}

# ---- start -----------------------------------------------------------------

t0=$(date +%s)
"$PXED" check --config "$CONFIG" >/dev/null || lab_fail "pxed check --config failed"
lab_pxed serve --config "$CONFIG" --log-level debug
lab_wait_port udp 67 && lab_wait_port udp 69 && lab_wait_port tcp 8080 ||
	lab_fail "pxed did not listen on UDP 67 and 69 and TCP 8080"

# ---- the traffic -------------------------------------------------------------

IP_A=$(dora "$NS_A" "$MAC_A")
IP_B=$(dora "$NS_B" "$MAC_B")
IP_C=$(dora "$NS_A" "$MAC_C")
ip -n "$NS_A" addr add "$IP_A/24" dev eth0
ip -n "$NS_B" addr add "$IP_B/24" dev eth0
probe_in "$NS_A" --type release --mac "$MAC_C" --ciaddr "$IP_C" --server-id "$SERVER" \
	--to "$SERVER" --from-port 0 >/dev/null || lab_fail "dhcp-probe release failed"
out=$(probe_in "$NS_A" --type inform --mac "$MAC_A" --ciaddr "$IP_A") ||
	lab_fail "dhcp-probe inform got no ACK: $out"
probe_in "$NS_A" --garbage 2 --mac "$MAC_A" >/dev/null || lab_fail "dhcp-probe --garbage failed"
ok "DHCP: 3 DORA ($IP_A, $IP_B, $IP_C), a RELEASE, an INFORM, 2 garbage datagrams"

for f in files/default/kernel f1 f1; do
	on "$NS_A" curl -sS --max-time 20 -o "$LAB_TMP/tftp.out" "tftp://$SERVER/$f" ||
		lab_fail "TFTP $f failed"
done
cmp -s "$LAB_TMP/tftp.out" "$ROOT/f1" || lab_fail "TFTP f1: other bytes"
ok "TFTP: 3 transfers to A"

for f in files/default/initrd0 files/default/initrd1 h1; do
	on "$NS_A" curl -sSf --max-time 10 -o /dev/null "$API/$f" || lab_fail "GET /$f failed"
done
on "$NS_A" curl -sSf --max-time 10 -I -o /dev/null "$API/h1" || lab_fail "HEAD /h1 failed"
code=$(on "$NS_A" curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$API/missing")
[ "$code" = 404 ] || lab_fail "GET /missing: HTTP $code, expected 404"
# B reads slowly and gives up: pxed cannot have queued 48 MiB by then.
on "$NS_B" curl -s --limit-rate 200k --max-time 1 -o /dev/null "$API/big" && lab_fail "GET /big ended"
# The failed transfer is recorded when pxed sees the connection go.
failed_bytes=
for _ in $(seq 1 50); do
	api /api/v1/events "$LAB_TMP/events.json" || lab_fail "GET /api/v1/events failed"
	failed_bytes=$("$PY" -c '
import json, sys
ev = [e for e in json.load(open(sys.argv[1]))["events"] if e["proto"] == "http" and not e["ok"]]
print(ev[-1]["bytes"] if ev else "")' "$LAB_TMP/events.json")
	[ -n "$failed_bytes" ] && break
	sleep 0.1
done
[ -n "$failed_bytes" ] || lab_fail "no failed HTTP transfer event for B"
ok "HTTP: 2 initrds, a file, a HEAD, a 404 to A; a transfer B gave up ($failed_bytes bytes sent)"

# ---- (a) the format ------------------------------------------------------------

api /metrics "$LAB_TMP/metrics.txt" || lab_fail "GET /metrics failed"
"$PY" - "$LAB_TMP/metrics.txt" <<'EOF' || lab_fail "prometheus_client cannot parse /metrics"
import sys
from prometheus_client.parser import text_string_to_metric_families
families = list(text_string_to_metric_families(open(sys.argv[1]).read()))
assert len(families) > 20, len(families)
assert all(f.samples or f.type == "gauge" for f in families), [f.name for f in families if not f.samples]
EOF
ok "/metrics parses with prometheus_client"

"$PY" - "$LAB_TMP/metrics.txt" <<'EOF' >"$LAB_TMP/format.txt" 2>&1 || { cat "$LAB_TMP/format.txt"; lab_fail "/metrics breaks the text format"; }
import math, re, sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
SAMPLE = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
text = open(sys.argv[1]).read()
errors = []
def bad(n, msg):
    errors.append("line %d: %s" % (n, msg))

if not text.endswith("\n"):
    bad(0, "the text does not end with a newline")
help_, type_, done, seen = {}, {}, set(), set()
current = None  # the family whose samples come now
hist = {}       # (family, labels without le) -> {"buckets": [(le, v)], "count": v, "sum": v}

def family_of(name):
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[: -len(suffix)]
        if name.endswith(suffix) and type_.get(base) in ("histogram", "summary"):
            return base
    return name

def parse_labels(n, body):
    labels, pos = [], 0
    while pos < len(body):
        m = LABEL.match(body, pos)
        if not m:
            bad(n, "bad label syntax at %r" % body[pos:])
            return None
        labels.append((m.group(1), m.group(2)))
        pos = m.end()
        if pos < len(body):
            if body[pos] != ",":
                bad(n, "labels not separated by commas: %r" % body)
                return None
            pos += 1
    names = [k for k, _ in labels]
    if len(names) != len(set(names)):
        bad(n, "a label twice: %r" % body)
    return labels

for n, line in enumerate(text.split("\n")[:-1], 1):
    if line.startswith("# HELP ") or line.startswith("# TYPE "):
        parts = line.split(" ", 3)
        if len(parts) < 4 or not NAME.match(parts[2]):
            bad(n, "malformed %s line" % parts[1])
            continue
        kind, fam, rest = parts[1], parts[2], parts[3]
        table = help_ if kind == "HELP" else type_
        if fam in table:
            bad(n, "%s of %s twice" % (kind, fam))
        if fam in done or fam == current and kind == "TYPE" and fam in seen:
            bad(n, "%s of %s after its samples" % (kind, fam))
        if kind == "TYPE" and rest not in TYPES:
            bad(n, "unknown type %r" % rest)
        table[fam] = rest
        if current is not None and current != fam:
            done.add(current)
        current = fam
        continue
    if line.startswith("#") or line == "":
        bad(n, "a stray line %r" % line)
        continue
    m = SAMPLE.match(line)
    if not m:
        bad(n, "not a sample: %r" % line)
        continue
    name, body, value = m.group(1), (m.group(2) or "{}")[1:-1], m.group(3)
    fam = family_of(name)
    if fam not in type_:
        bad(n, "%s has no TYPE before it" % name)
    if fam in done:
        bad(n, "%s: the samples of %s are not together" % (name, fam))
    if current is not None and current != fam:
        done.add(current)
    current = fam
    labels = parse_labels(n, body)
    if labels is None:
        continue
    key = (name, tuple(sorted(labels)))
    if key in seen:
        bad(n, "sample %s{%s} twice" % (name, body))
    seen.add(key)
    try:
        v = float(value)
    except ValueError:
        bad(n, "value %r is not a number" % value)
        continue
    t = type_.get(fam)
    if t == "counter":
        if not name.endswith("_total"):
            bad(n, "counter %s does not end in _total" % name)
        if not (v >= 0 and v == int(v)):
            bad(n, "counter %s = %r: not a whole number >= 0" % (name, value))
    if t == "histogram":
        rest = tuple(sorted((k, x) for k, x in labels if k != "le"))
        h = hist.setdefault((fam, rest), {"buckets": [], "count": None, "sum": None})
        if name == fam + "_bucket":
            le = dict(labels).get("le")
            if le is None:
                bad(n, "a bucket without le")
                continue
            h["buckets"].append((float(le), v))
        elif name == fam + "_count":
            h["count"] = v
        elif name == fam + "_sum":
            h["sum"] = v
        else:
            bad(n, "%s in histogram %s" % (name, fam))

for (fam, rest), h in hist.items():
    b = h["buckets"]
    les = [le for le, _ in b]
    if not b or les[-1] != math.inf:
        bad(0, "%s: no le=\"+Inf\" bucket last" % fam)
        continue
    if les != sorted(les) or len(set(les)) != len(les):
        bad(0, "%s: le not strictly ascending: %r" % (fam, les))
    counts = [v for _, v in b]
    if any(x > y for x, y in zip(counts, counts[1:])):
        bad(0, "%s: bucket counts decrease: %r" % (fam, counts))
    if h["count"] is None or h["sum"] is None:
        bad(0, "%s: _count or _sum missing" % fam)
    elif counts[-1] != h["count"]:
        bad(0, "%s: +Inf bucket %r != _count %r" % (fam, counts[-1], h["count"]))
for fam in type_:
    if fam not in help_:
        bad(0, "%s has a TYPE but no HELP" % fam)
print("\n".join(errors) if errors else "format ok: %d families, %d samples" % (len(type_), len(seen)))
sys.exit(1 if errors else 0)
EOF
lab_log "$(cat "$LAB_TMP/format.txt")"
ok "/metrics passes the strict format checker (HELP/TYPE, labels, histograms)"

# ---- (b) the counters ----------------------------------------------------------

# value 'NAME{LABELS}': the sample from the metrics fetched above (absent: "absent").
value() { awk -v k="$1" '$1 == k { v = $2; f = 1 } END { print f ? v : "absent" }' "$LAB_TMP/metrics.txt"; }
KERNEL=$(size "$LAB_TMP/vmlinuz")
F1=$(size "$ROOT/f1")
HTTP_OK_BYTES=$(($(size "$LAB_TMP/initrd0.img") + $(size "$LAB_TMP/initrd1.img") + $(size "$ROOT/h1")))
checks=(
	"pxed_dhcp_packets_received_total 10"
	'pxed_dhcp_messages_received_total{type="discover"} 3'
	'pxed_dhcp_messages_received_total{type="request"} 3'
	'pxed_dhcp_messages_received_total{type="release"} 1'
	'pxed_dhcp_messages_received_total{type="inform"} 1'
	'pxed_dhcp_messages_received_total{type="decline"} 0'
	'pxed_dhcp_messages_received_total{type="other"} 0'
	'pxed_dhcp_packets_dropped_total{reason="malformed"} 2'
	'pxed_dhcp_packets_dropped_total{reason="ignored"} 0'
	'pxed_dhcp_replies_total{type="offer"} 3'
	'pxed_dhcp_replies_total{type="ack"} 4'
	'pxed_dhcp_replies_total{type="nak"} 0'
	"pxed_dhcp_releases_total 1"
	"pxed_dhcp_pool_exhausted_total 0"
	"pxed_dhcp_discover_to_ack_seconds_count 3"
	'pxed_dhcp_discover_to_ack_seconds_bucket{le="+Inf"} 3'
	"pxed_dhcp_pool_size{subnet=\"$LAB_NET.0/24\"} 20"
	"pxed_dhcp_pool_addresses{subnet=\"$LAB_NET.0/24\",state=\"leased\"} 2"
	"pxed_dhcp_pool_addresses{subnet=\"$LAB_NET.0/24\",state=\"offered\"} 0"
	"pxed_dhcp_pool_addresses{subnet=\"$LAB_NET.0/24\",state=\"declined\"} 0"
	"pxed_dhcp_pool_addresses{subnet=\"$LAB_NET.0/24\",state=\"reserved\"} 0"
	"pxed_dhcp_pool_addresses{subnet=\"$LAB_NET.0/24\",state=\"free\"} 18"
	'pxed_tftp_transfers_total{outcome="started"} 3'
	'pxed_tftp_transfers_total{outcome="complete"} 3'
	'pxed_tftp_transfers_total{outcome="failed"} 0'
	"pxed_tftp_bytes_sent_total $((KERNEL + 2 * F1))"
	"pxed_tftp_transfer_seconds_count 3"
	"pxed_http_requests_total $((6 + API_CALLS))"
	"pxed_http_api_requests_total $API_CALLS"
	"pxed_http_errors_total 1"
	'pxed_http_transfers_total{outcome="started"} 5'
	'pxed_http_transfers_total{outcome="complete"} 4'
	'pxed_http_transfers_total{outcome="failed"} 1'
	"pxed_http_bytes_sent_total $((HTTP_OK_BYTES + failed_bytes))"
	"pxed_http_transfer_seconds_count 4"
	'pxed_errors_total{kind="dhcp_malformed"} 2'
	'pxed_errors_total{kind="tftp_transfer_failed"} 0'
	'pxed_errors_total{kind="http_error_response"} 1'
	'pxed_errors_total{kind="http_transfer_failed"} 1'
	'pxed_boot_sessions_total{outcome="started"} 3'
	'pxed_boot_sessions_total{outcome="booted"} 1'
	'pxed_boot_sessions_total{outcome="failed"} 1'
	'pxed_transfers_in_progress{proto="tftp"} 0'
	'pxed_transfers_in_progress{proto="http"} 0'
	"pxed_http_event_streams 0"
)
wrong=0
for c in "${checks[@]}"; do
	name=${c% *}
	want=${c##* }
	got=$(value "$name")
	if [ "$got" != "$want" ]; then
		not_ok "$name is $got, expected $want"
		wrong=$((wrong + 1))
	fi
done
[ "$wrong" = 0 ] && ok "${#checks[@]} counters and gauges match the traffic exactly"
[ "$failed_bytes" -gt 0 ] && [ "$failed_bytes" -lt $((48 * 1024 * 1024)) ] ||
	not_ok "the failed transfer's bytes: $failed_bytes"
started=$(value pxed_start_time_seconds)
now=$(date +%s)
[ "$started" -ge $((t0 - 1)) ] && [ "$started" -le "$now" ] ||
	not_ok "pxed_start_time_seconds $started is not between $t0 and $now"
awk '$1 ~ /_seconds_sum$/ && $2 <= 0 { bad = 1 } END { exit bad }' "$LAB_TMP/metrics.txt" ||
	not_ok "a duration histogram's _sum is 0"

# ---- (c) pxed status --config ------------------------------------------------------

out=$(ip netns exec "$LAB_NS" "$PXED" status --config "$CONFIG") || lab_fail "pxed status --config failed"
grep -qE "^  $LAB_NET.0/24 +$LAB_NET.100-$LAB_NET.119 +\[#---------\] +10% +2/20 in use: 2 leased" <<<"$out" &&
	grep -qE "^  $MAC_A +$IP_A +booted " <<<"$out" && grep -qE "^  $MAC_B +$IP_B +failed " <<<"$out" ||
	lab_fail "pxed status --config: $out"
ok "pxed status --config finds the daemon: the pool, A booted, B failed"

rc=0
lab_kill_pxed 10 || rc=$?
[ "$rc" = 0 ] || lab_fail "pxed exited with status $rc on SIGTERM"
[ "$failed" = 0 ] || exit 1
ok "SIGTERM: a clean exit"
