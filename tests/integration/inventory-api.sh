#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2015
# The inventory API (docs/api.md "Inventory") and reload, in a network namespace (needs
# root). One pxed from a config file with api.token_file:
#  1. no token, a wrong token: 401 (counted); the public HTTP port refuses writes (405);
#  2. hosts and profiles listed with where they come from (config:LINE or api);
#  3. PUT a profile and a host: the host's reservation and profile take effect at once (a
#     DHCP client gets the reserved address and the profile's iPXE script);
#  4. bad changes are refused with the reason and change nothing: not JSON, an unknown key
#     (with its line), an undefined profile, an address reserved twice or leased to
#     another machine, a MAC that differs from the URL's, a kernel the sandbox does not
#     let pxed read, a FIFO, a file in pxed's own directories;
#  5. an API entry overrides the file's host; DELETE brings the file's back; the file's own
#     entries cannot be deleted (409 with file:line); a profile still in use cannot go;
#  6. changes survive a restart; `pxed hosts` and `pxed profiles` list them; an unknown
#     machine (the subnet has `unknown: discover`) is listed by `pxed hosts --discovered`
#     and boots nothing until a PUT gives it a profile;
#  7. SIGHUP and POST /api/v1/reload apply an edited file; a broken file, or a change that
#     only a restart applies, is refused with file:line and the running one stays; an API
#     entry the edited file no longer admits is left out, listed as unused, and blocks no
#     other change; a TFTP download and a lease in flight across reloads and API changes
#     are undisturbed.
# HTTPS is on (a root-only key): changes and reloads after the privilege drop must not
# need to read it again.
# Usage: tests/integration/inventory-api.sh [BUILD_DIR]   (default: build)
set -euo pipefail

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib-dhcp.sh
. "$HERE/lib-dhcp.sh"

NS=pxed-it-inv
OCTET=136
FILE_MAC=52:54:00:36:00:01
API_MAC=52:54:00:36:00:02
CLI_MAC=52:54:00:36:00:09
TOKEN=inventory-test-token-0123456789

[ -x "$PROBE" ] || { echo "not ok - dhcp-probe not built: $PROBE (ninja -C $BUILD)"; exit 1; }
[ -x "$PXED" ] || { echo "not ok - pxed not built: $PXED"; exit 1; }
for tool in curl python3 sha256sum openssl; do
	command -v "$tool" >/dev/null || { echo "not ok - $tool is not installed"; exit 1; }
done

lab_setup "$NS" "$OCTET"
lab_private_binaries
SERVER=$LAB_SERVER_IP
lab_add_host cli "$LAB_NET.250/24"
CLI_NS=$LAB_HOST_NS
ip -n "$CLI_NS" link set eth0 address "$CLI_MAC"

# The config's directory is readable by pxed after start (a reload reads it again); the
# kernels lie elsewhere, so that one pxed did not start with stays unreadable.
ETC=$LAB_TMP/etc
mkdir -p "$ETC" "$LAB_TMP/k" "$LAB_TMP/other" "$LAB_TMP/root" "$LAB_TMP/state"
chmod 755 "$ETC" "$LAB_TMP/k" "$LAB_TMP/other" "$LAB_TMP/root"
printf 'kernel\n' >"$LAB_TMP/k/vmlinuz"
printf 'initrd\n' >"$LAB_TMP/k/initrd.img"
printf 'other kernel\n' >"$LAB_TMP/other/vmlinuz"
head -c $((3 * 1024 * 1024)) /dev/urandom >"$LAB_TMP/root/big.bin"
want_big=$(sha256sum <"$LAB_TMP/root/big.bin" | cut -d' ' -f1)
printf '%s\n' "$TOKEN" >"$ETC/token"
chmod 600 "$ETC/token"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=pxed \
	-keyout "$ETC/tls.key" -out "$ETC/tls.crt" 2>/dev/null || lab_fail "openssl req failed"
chmod 600 "$ETC/tls.key"
mkfifo "$LAB_TMP/root/fifo"
CFG=$ETC/pxed.yaml

# write_config [EXTRA_HOST_YAML] [TFTP_PORT]: the config file, with an extra host entry.
write_config() {
	cat >"$CFG" <<EOF
interfaces: [$LAB_BR]
state_dir: $LAB_TMP/state
tftp: {root: $LAB_TMP/root, port: ${2:-69}}
http: {port: 8080, tls_port: 8443, tls_cert: $ETC/tls.crt, tls_key: $ETC/tls.key}
api: {listen: 127.0.0.1, port: 8780, token_file: $ETC/token}
subnets:
  - subnet: $LAB_NET.0/24
    pool: $LAB_NET.100-$LAB_NET.150
    unknown: discover
profiles:
  base:
    kernel: $LAB_TMP/k/vmlinuz
    initrd: $LAB_TMP/k/initrd.img
    cmdline: console=ttyS0
default_profile: base
hosts:
  - {mac: $FILE_MAC, name: filehost, address: $LAB_NET.10}
${1:-}
EOF
}

API=http://127.0.0.1:8780/api/v1
# api METHOD PATH [BODY]: curl in the lab namespace with the token; prints the body,
# then a last line with the status code.
api() {
	local args=(-sS --max-time 10 -X "$1" -H "Authorization: Bearer $TOKEN" -w '\n%{http_code}')
	[ $# -lt 3 ] || args+=(-H 'Content-Type: application/json' --data-binary "$3")
	ip netns exec "$LAB_NS" curl "${args[@]}" "$API$2"
}
# expect_status WANT OUT WHAT: the last line of OUT is WANT.
expect_status() {
	[ "$(tail -n1 <<<"$2")" = "$1" ] || lab_fail "$3: HTTP $(tail -n1 <<<"$2"), expected $1: $(head -n-1 <<<"$2")"
}
# body OUT: OUT without its status line.
body() { head -n-1 <<<"$1"; }
# jq_py EXPR: a Python expression on the JSON on stdin (bound to j).
jq_py() { python3 -c "import json, sys; j = json.load(sys.stdin); print($1)"; }
# host_field MAC KEY: KEY of GET /hosts/MAC.
host_field() {
	local out
	out=$(api GET "/hosts/$1")
	expect_status 200 "$out" "GET /hosts/$1"
	body "$out" | jq_py "j.get('$2')"
}
# dora MAC: DISCOVER+REQUEST as a PXE client; sets DORA (dhcp-probe's output).
dora() {
	DORA=$(ip netns exec "$CLI_NS" ip link set eth0 address "$1" &&
		probe --type dora --mac "$1" --vendor-class PXEClient:Arch:00000:UNDI:002001 \
			--user-class iPXE --arch 0) || lab_fail "no DHCP answer for $1"
}
start() {
	lab_pxed serve --config "$CFG" --log-level debug
	lab_wait_port tcp 8780 && lab_wait_port tcp 8080 && lab_wait_port udp 67 ||
		lab_fail "pxed did not listen on TCP 8780, 8080 and UDP 67 (see pxed.log)"
}

write_config
FILE_LINE=$(grep -n "$FILE_MAC" "$CFG" | cut -d: -f1)
start
ok "pxed serves the inventory API on 127.0.0.1:8780 (only in its namespace)"

# ---- 1. the token --------------------------------------------------------------
out=$(ip netns exec "$LAB_NS" curl -sS --max-time 5 -w '\n%{http_code}' "$API/hosts")
expect_status 401 "$out" "GET without a token"
out=$(ip netns exec "$LAB_NS" curl -sS --max-time 5 -w '\n%{http_code}' \
	-H "Authorization: Bearer ${TOKEN}x" "$API/hosts")
expect_status 401 "$out" "GET with a wrong token"
out=$(ip netns exec "$LAB_NS" curl -sS --max-time 5 -w '\n%{http_code}' -X PUT \
	-H "Authorization: Bearer wrong-token-wrong-token" --data-binary '{"profile": "base"}' \
	"$API/hosts/$API_MAC")
expect_status 401 "$out" "PUT with a wrong token"
[ "$(metric 'pxed_api_requests_refused_total{reason="unauthorized"}')" = 3 ] ||
	lab_fail "pxed_api_requests_refused_total is $(metric 'pxed_api_requests_refused_total{reason="unauthorized"}'), expected 3"
out=$(ip netns exec "$LAB_NS" curl -sS --max-time 5 -w '\n%{http_code}' -X PUT \
	-H "Authorization: Bearer $TOKEN" --data-binary '{}' "http://$SERVER:8080/api/v1/hosts/$API_MAC")
expect_status 405 "$out" "PUT on the public HTTP port"
ok "no token or a wrong one: 401 (counted); the public port takes no writes (405)"

# ---- 2. listing ----------------------------------------------------------------
out=$(api GET /hosts)
expect_status 200 "$out" "GET /hosts"
[ "$(body "$out" | jq_py "[(h['mac'], h['name'], h['address'], h['source'], h['line']) for h in j['hosts']]")" = \
	"[('$FILE_MAC', 'filehost', '$LAB_NET.10', 'config', $FILE_LINE)]" ] ||
	lab_fail "GET /hosts: $(body "$out")"
out=$(api GET /profiles)
[ "$(body "$out" | jq_py "[(p['name'], p['kernel'], p['default'], p['source']) for p in j['profiles']]")" = \
	"[('base', '$LAB_TMP/k/vmlinuz', True, 'config')]" ] || lab_fail "GET /profiles: $(body "$out")"
ok "GET /hosts and /profiles list the file's entries with their lines"

# ---- 3. put a profile and a host: used at once ---------------------------------
out=$(api PUT /profiles/rescue "{\"kernel\": \"$LAB_TMP/k/vmlinuz\", \"initrds\": [\"$LAB_TMP/k/initrd.img\"], \"cmdline\": \"rescue=1\"}")
expect_status 201 "$out" "PUT /profiles/rescue"
[ "$(body "$out" | jq_py "(j['source'], j['cmdline'], j['spec']['cmdline'])")" = "('api', 'rescue=1', 'rescue=1')" ] ||
	lab_fail "PUT /profiles/rescue answered $(body "$out")"
out=$(api PUT "/hosts/${API_MAC^^}" "{\"name\": \"apihost\", \"address\": \"$LAB_NET.20\", \"profile\": \"rescue\", \"cmdline\": \"node=2\"}")
expect_status 201 "$out" "PUT /hosts/$API_MAC"
[ "$(body "$out" | jq_py "(j['mac'], j['source'], j['profile'])")" = "('$API_MAC', 'api', 'rescue')" ] ||
	lab_fail "PUT /hosts answered $(body "$out")"
dora "$API_MAC"
[ "$(field yiaddr "$DORA")" = "$LAB_NET.20" ] || lab_fail "the API's host got $(field yiaddr "$DORA"), expected $LAB_NET.20"
script=$(ip netns exec "$LAB_NS" curl -sS --max-time 5 "http://$SERVER:8080/boot/$API_MAC.ipxe")
grep -q 'files/rescue/kernel' <<<"$script" && grep -q 'rescue=1 node=2' <<<"$script" ||
	lab_fail "the API host's iPXE script is not the rescue profile's: $script"
ok "PUT a profile and a host (201): DHCP gives the reserved $LAB_NET.20 and the profile's script at once"
out=$(api PUT "/hosts/$API_MAC" "{\"name\": \"apihost\", \"address\": \"$LAB_NET.20\", \"profile\": \"rescue\", \"cmdline\": \"node=2b\"}")
expect_status 200 "$out" "PUT /hosts/$API_MAC again"
[ "$(metric pxed_inventory_changes_total)" = 3 ] || lab_fail "pxed_inventory_changes_total is $(metric pxed_inventory_changes_total)"
ok "PUT of an existing entry replaces it (200); changes counted"

# An unknown machine: discovered, then given a profile.
dora "$CLI_MAC"
[ -z "$(field file "$DORA")" ] || lab_fail "an unknown machine on a discover subnet got a boot file: $(field file "$DORA")"
cli_leased=$(field yiaddr "$DORA")
found=$(ip netns exec "$LAB_NS" "$PXED" hosts --discovered --config "$CFG")
grep -Eq "^$CLI_MAC +$LAB_NET\.[0-9]+ +bios +PXEClient:Arch:00000" <<<"$found" ||
	lab_fail "pxed hosts --discovered does not list $CLI_MAC: $found"
out=$(api PUT "/hosts/$CLI_MAC" '{"profile": "rescue"}')
expect_status 201 "$out" "PUT of the discovered machine"
dora "$CLI_MAC"
[ "$(field file "$DORA")" = "http://$SERVER:8080/boot/${CLI_MAC//:/-}.ipxe" ] ||
	lab_fail "the machine given a profile got file '$(field file "$DORA")'"
found=$(ip netns exec "$LAB_NS" "$PXED" hosts --discovered --config "$CFG") ||
	lab_fail "pxed hosts --discovered failed"
! grep -q "^$CLI_MAC" <<<"$found" || lab_fail "a machine with a host entry is still listed as discovered"
out=$(api DELETE "/hosts/$CLI_MAC")
expect_status 204 "$out" "DELETE of the discovered machine's entry"
ok "an unknown machine is listed by pxed hosts --discovered and boots nothing until a PUT gives it a profile"

# ---- 4. bad changes: refused, nothing changed -----------------------------------
bad() { # bad PATH BODY ERE WHAT
	local out
	out=$(api PUT "$1" "$2")
	expect_status 400 "$out" "$4"
	body "$out" | grep -Eq "$3" || lab_fail "$4: the reason does not match /$3/: $(body "$out")"
}
bad "/hosts/$API_MAC" '{"profile": "rescue",' 'not JSON' "a body that is not JSON"
bad "/hosts/$API_MAC" '["profile"]' 'JSON object' "a body that is not an object"
bad "/hosts/$API_MAC" '{"profile": "rescue", "bogus": 1}' "api host $API_MAC:1: unknown key 'bogus'" "an unknown key"
bad "/hosts/$API_MAC" '{"profile": "nope"}' "profile 'nope'" "an undefined profile"
bad "/hosts/$API_MAC" "{\"address\": \"$LAB_NET.10\"}" "$LAB_NET.10 is reserved for two hosts" "an address reserved twice"
bad "/hosts/$API_MAC" '{"mac": "52:54:00:36:00:77"}' 'differs' "a MAC that differs from the URL's"
bad /profiles/fifo "{\"kernel\": \"$LAB_TMP/root/fifo\"}" 'is not a regular file' "a FIFO as a kernel"
bad /profiles/own "{\"kernel\": \"$CFG\"}" "lies in pxed's own directories" "the config file as a kernel"
bad "/hosts/52:54:00:36:00:07" "{\"address\": \"$cli_leased\"}" "address $cli_leased is leased to $CLI_MAC" \
	"an address another machine holds a lease on"
# Without Landlock (a sanitizer build, valgrind) the file is readable: pxed says how it runs.
if grep -q 'Landlock ABI' "$LAB_TMP/pxed.log"; then
	bad "/profiles/other" "{\"kernel\": \"$LAB_TMP/other/vmlinuz\"}" \
		'reads only the files of the profiles it started with' "a kernel outside the sandbox"
fi
out=$(api PUT /hosts/not-a-mac '{}')
expect_status 400 "$out" "a malformed MAC in the URL"
[ "$(host_field "$API_MAC" cmdline)" = node=2b ] && [ "$(host_field "$API_MAC" profile)" = rescue ] ||
	lab_fail "a refused change changed the host: $(api GET "/hosts/$API_MAC")"
out=$(api GET /profiles/other)
expect_status 404 "$out" "the refused profile"
ok "bad changes get 400 with the reason (JSON, unknown key with its line, undefined profile, address reserved or leased, MAC, sandbox, FIFO, own files) and change nothing"

# ---- 5. overrides and deletes ---------------------------------------------------
out=$(api PUT "/hosts/$FILE_MAC" "{\"name\": \"overridden\", \"address\": \"$LAB_NET.11\"}")
expect_status 201 "$out" "PUT over the file's host"
[ "$(host_field "$FILE_MAC" name) $(host_field "$FILE_MAC" source)" = "overridden api" ] ||
	lab_fail "the API's entry does not override the file's"
out=$(api DELETE "/hosts/$FILE_MAC")
expect_status 204 "$out" "DELETE the override"
[ "$(host_field "$FILE_MAC" name) $(host_field "$FILE_MAC" source)" = "filehost config" ] ||
	lab_fail "after DELETE the file's host is not back"
out=$(api DELETE "/hosts/$FILE_MAC")
expect_status 409 "$out" "DELETE of the file's host"
body "$out" | grep -q "declared in $CFG:$FILE_LINE" || lab_fail "409 without file:line: $(body "$out")"
out=$(api DELETE /hosts/52:54:00:36:00:55)
expect_status 404 "$out" "DELETE of an unknown host"
out=$(api DELETE /profiles/rescue)
expect_status 400 "$out" "DELETE of a profile in use"
body "$out" | grep -q "profile 'rescue'" || lab_fail "DELETE of a profile in use: $(body "$out")"
ok "an API host overrides the file's, DELETE brings it back; the file's cannot be deleted (409 file:line), nor a profile in use (400)"

# ---- 6. restart; pxed hosts and pxed profiles ----------------------------------
lab_kill_pxed || lab_fail "pxed did not stop cleanly"
start
[ "$(host_field "$API_MAC" profile) $(host_field "$API_MAC" cmdline)" = "rescue node=2b" ] ||
	lab_fail "after a restart: $(api GET "/hosts/$API_MAC")"
dora "$API_MAC"
[ "$(field yiaddr "$DORA")" = "$LAB_NET.20" ] || lab_fail "after a restart the API's host got $(field yiaddr "$DORA")"
hosts=$(ip netns exec "$LAB_NS" "$PXED" hosts --config "$CFG")
grep -Eq "^$API_MAC +apihost +$LAB_NET.20 +rescue +- +api\$" <<<"$hosts" &&
	grep -Eq "^$FILE_MAC +filehost +$LAB_NET.10 +\(default\) +- +config:$FILE_LINE\$" <<<"$hosts" ||
	lab_fail "pxed hosts: $hosts"
profiles=$(ip netns exec "$LAB_NS" "$PXED" profiles --config "$CFG")
grep -Eq "^rescue +$LAB_TMP/k/vmlinuz +1 +api\$" <<<"$profiles" &&
	grep -Eq "^base +.* config:[0-9]+ \(default_profile\)\$" <<<"$profiles" || lab_fail "pxed profiles: $profiles"
[ "$(ip netns exec "$LAB_NS" "$PXED" hosts --url http://127.0.0.1:8780 --token-file "$ETC/token" --json |
	jq_py "len(j['hosts'])")" = 2 ] || lab_fail "pxed hosts --json"
! ip netns exec "$LAB_NS" "$PXED" hosts --url http://127.0.0.1:8780 --token-file "$LAB_TMP/k/vmlinuz" \
	>/dev/null 2>&1 || lab_fail "pxed hosts with a file that is no token succeeded"
ok "changes survive a restart; pxed hosts and pxed profiles list both sources"

# ---- 7. reload -----------------------------------------------------------------
# A download in flight (3 ms before each ACK of 1 KiB: ~10 s) and a lease granted before.
dora "$CLI_MAC"
cli_ip=$(field yiaddr "$DORA")
ip netns exec "$CLI_NS" timeout 60 python3 "$HERE/../tools/slow-tftp.py" "$SERVER" 69 big.bin \
	"$LAB_TMP/big.got" 0.003 1024 2>"$LAB_TMP/curl-big.err" &
dl=$!
lab_track_pid "$dl"
sleep 1

ADDED="  - {mac: 52:54:00:36:00:03, name: added, profile: rescue}"
write_config "$ADDED"
kill -HUP "$LAB_PXED_PID"
for ((i = 0; i < 50; i++)); do
	out=$(api GET /hosts/52:54:00:36:00:03)
	[ "$(tail -n1 <<<"$out")" = 200 ] && break
	sleep 0.1
done
expect_status 200 "$out" "the host added to the file, after SIGHUP"
[ "$(metric 'pxed_reloads_total{outcome="done"}')" = 1 ] || lab_fail "reload not counted as done"
ok "SIGHUP applies the edited file (a host added)"

# The file now reserves the API host's address for another: that API entry is left out.
write_config "$ADDED
  - {mac: 52:54:00:36:00:05, name: taker, address: $LAB_NET.20}"
out=$(api POST /reload)
expect_status 200 "$out" "POST /reload of a file that takes an API host's address"
lab_wait_log "$LAB_TMP/pxed.log" "api host $API_MAC is not used" 5 ||
	lab_fail "the API host that no longer fits is not named in the log"
out=$(api GET /hosts)
[ "$(body "$out" | jq_py "[h.get('used', True) for h in j['hosts'] if h['mac'] == '$API_MAC']")" = "[False]" ] ||
	lab_fail "GET /hosts does not list the left-out API host as unused: $(body "$out")"
out=$(api PUT /hosts/52:54:00:36:00:06 '{"name": "unrelated"}')
expect_status 201 "$out" "an unrelated PUT while an API entry is left out"
out=$(api DELETE /hosts/52:54:00:36:00:06)
expect_status 204 "$out" "DELETE of the unrelated host"
ok "an API host the edited file no longer admits is left out (logged, listed unused) and blocks no other change"

printf 'interfaces: [%s\nbroken: [\n' "$LAB_BR" >"$CFG"
kill -HUP "$LAB_PXED_PID"
lab_wait_log "$LAB_TMP/pxed.log" "reload refused, the running configuration stays: $CFG:[0-9]+" 5 ||
	lab_fail "a broken file: no 'reload refused' with file:line in the log"
[ "$(metric 'pxed_reloads_total{outcome="refused"}')" = 1 ] || lab_fail "refused reload not counted"
[ "$(host_field 52:54:00:36:00:03 name)" = added ] || lab_fail "a refused reload changed the inventory"
out=$(api POST /reload)
expect_status 400 "$out" "POST /reload of a broken file"
body "$out" | grep -q "$CFG:[0-9]" || lab_fail "POST /reload: no file:line: $(body "$out")"
write_config "" 6969
out=$(api POST /reload)
expect_status 400 "$out" "POST /reload of a file that changes tftp.port"
body "$out" | grep -q 'tftp.port changed: only a restart of pxed applies it' ||
	lab_fail "POST /reload (tftp.port): $(body "$out")"
write_config
out=$(api POST /reload)
expect_status 200 "$out" "POST /reload"
out=$(api GET /hosts/52:54:00:36:00:03)
expect_status 404 "$out" "the host removed from the file, after POST /reload"
ok "a broken file or a restart-only change is refused with file:line (log, API) and the running one stays; POST /reload applies"

out=$(api PUT /hosts/52:54:00:36:00:04 '{"name": "during-download"}')
expect_status 201 "$out" "PUT during the download"
wait "$dl" || lab_fail "the download in flight failed: $(cat "$LAB_TMP/curl-big.err")"
lab_untrack_pid "$dl"
[ "$(sha256sum <"$LAB_TMP/big.got" | cut -d' ' -f1)" = "$want_big" ] ||
	lab_fail "the download across the reloads has the wrong checksum"
dora "$CLI_MAC"
[ "$(field yiaddr "$DORA")" = "$cli_ip" ] || lab_fail "the client's lease moved across reloads: $cli_ip -> $(field yiaddr "$DORA")"
ok "a TFTP download in flight across 4 reloads and an API change arrives whole; a lease granted before stays"

lab_kill_pxed || lab_fail "pxed did not stop cleanly"
! grep -E 'Z error |AddressSanitizer' "$LAB_TMP/pxed.log" | grep -v 'reload refused\|is not used (it stays in the store' ||
	lab_fail "unexpected errors in pxed.log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
