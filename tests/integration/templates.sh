#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Templates (docs/config.md, "Templates") served by a real pxed to curl and tftp-hpa, in
# network namespaces (needs root):
#  1. install/<mac>/ks.cfg of a profile's template, with profile and host vars: the exact
#     text over HTTP, the same bytes over TFTP (dashes in the MAC too);
#  2. an `ipxe` template served at boot/<mac>.ipxe instead of pxed's script;
#  3. a templated cmdline ({{install_url}}, {{#if}}, a host's var) in that script, in a
#     built-in iPXE script and in a pxelinux configuration;
#  4. an unknown MAC, a missing template name and a profile without templates: HTTP 404
#     and TFTP error 1;
#  5. examples/templates/ (kickstart, preseed, autoinstall, NoCloud) pass `pxed check` and
#     render with no tag left;
#  6. `pxed check` reports a broken template at the template's file:line, and an unknown
#     variable in a cmdline at the config's line;
#  7. {{arch}} and {{uuid}}: pxed restarted in proxy mode, a machine's proxyDHCP DISCOVER
#     (option 93 = 7, option 97), then its own HTTP and TFTP fetches of its template show
#     efi-x64 and its UUID; fetched by another machine, or for a machine pxed never
#     heard in DHCP, they are empty.
# Usage: tests/integration/templates.sh [BUILD_DIR]   (default: build)
set -euo pipefail

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib-dhcp.sh
. "$HERE/lib-dhcp.sh"

NS=pxed-it-tmpl
OCTET=131
HOST1=52:54:00:83:00:01 # node1: profile inst, host vars, templated host cmdline
HOST2=52:54:00:83:00:02 # profile inst, the profile's vars only
HOST3=52:54:00:83:00:03 # profile plain: no templates, a templated cmdline
HOST4=52:54:00:83:00:04 # profile examples: examples/templates/
HOST5=52:54:00:83:00:05 # profile facts: sends a proxyDHCP DISCOVER, then fetches
HOST6=52:54:00:83:00:06 # profile facts: never heard in DHCP
STRANGER=52:54:00:83:00:99

[ -x "$PXED" ] || { echo "not ok - pxed not built: $PXED"; exit 1; }
for tool in curl tftp cmp; do
	command -v "$tool" >/dev/null || { echo "not ok - $tool is not installed"; exit 1; }
done

lab_setup "$NS" "$OCTET"
SERVER=$LAB_SERVER_IP
URL=http://$SERVER:8080
lab_add_host cli "$LAB_NET.10/24"
CLIENT_NS=$LAB_HOST_NS
in_cli() { ip netns exec "$CLIENT_NS" "$@"; }

T=$LAB_TMP/templates
mkdir -p "$T"
head -c 4096 /dev/urandom >"$LAB_TMP/vmlinuz"
head -c 4096 /dev/urandom >"$LAB_TMP/initrd.img"
cat >"$T/ks.tmpl" <<'EOF'
# kickstart for {{mac}}
network --hostname={{#if hostname}}{{hostname}}{{else}}node-{{mac_dashes}}{{/if}}
timezone {{timezone}}
{{#if disk}}
ignoredisk --only-use={{disk}}
{{/if}}
url --url={{http_url}}/repo
%post
echo {{profile}} {{ip}} > /etc/pxed
%end
EOF
cat >"$T/boot.ipxe" <<'EOF'
#!ipxe
echo templated script for {{mac}}
kernel {{kernel_url}} initrd=initrd0 {{cmdline}}
initrd --name initrd0 {{initrd_urls}}
boot
EOF
printf 'arch={{arch}}\nuuid={{uuid}}\nmac={{mac}}\n' >"$T/facts.tmpl"
cp "$SRC"/examples/templates/* "$T/"
chmod -R a+rX "$T"

CONF=$LAB_TMP/pxed.yaml
cat >"$CONF" <<EOF
dhcp:
  mode: off
state_dir: $LAB_TMP/state
tftp:
  port: 6969
http:
  port: 8080
profiles:
  inst:
    kernel: $LAB_TMP/vmlinuz
    initrd: $LAB_TMP/initrd.img
    cmdline: "inst.ks={{install_url}}ks.cfg {{#if disk}}disk={{disk}}{{/if}} tz={{timezone}}"
    templates:
      ks.cfg: $T/ks.tmpl
      ipxe: $T/boot.ipxe
    vars:
      timezone: Etc/UTC
      disk: ""
  plain:
    kernel: $LAB_TMP/vmlinuz
    cmdline: "console=ttyS0 url={{install_url}}preseed.cfg"
  examples:
    kernel: $LAB_TMP/vmlinuz
    cmdline: "ip=dhcp autoinstall ds=nocloud-net;s={{install_url}}"
    templates:
      ks.cfg: $T/kickstart.ks
      preseed.cfg: $T/preseed.cfg
      user-data: $T/autoinstall-user-data
      cloud-user-data: $T/nocloud-user-data
      meta-data: $T/nocloud-meta-data
    vars: {repo: "http://mirror.example/os", timezone: Etc/UTC, ssh_key: "ssh-ed25519 AAAA op@lab",
           disk: vda, domain: lab.example, mirror: deb.debian.org, password_hash: "!"}
  facts:
    kernel: $LAB_TMP/vmlinuz
    templates:
      facts.txt: $T/facts.tmpl
hosts:
  - {mac: "$HOST5", profile: facts}
  - {mac: "$HOST6", profile: facts}
  - {mac: "$HOST1", name: node1, profile: inst, vars: {timezone: Europe/Paris, disk: sda},
     cmdline: "rd.node={{hostname}}"}
  - {mac: "$HOST2", profile: inst}
  - {mac: "$HOST3", profile: plain}
  - {mac: "$HOST4", name: ex4, profile: examples}
EOF

# ---- 6 first: `pxed check` --------------------------------------------------------
if "$PXED" check --config "$CONF" >"$LAB_TMP/check.log" 2>&1; then
	ok "pxed check accepts templates, vars and templated cmdlines (examples/templates/ included)"
else
	not_ok "pxed check rejects the test's config: $(head -5 "$LAB_TMP/check.log")"
	lab_fail "cannot go on without a valid config"
fi
# bad_check NAME CONFIG_FILE WANT: pxed check fails, and says WANT.
bad_check() {
	local out rc=0
	out=$("$PXED" check --config "$2" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ] && grep -qF -- "$3" <<<"$out"; then
		ok "pxed check: $1 ($3)"
	else
		not_ok "pxed check: $1: rc $rc, wanted '$3', got: $(head -3 <<<"$out")"
	fi
}
printf 'line one\n{{#if hostname}}\n{{hostnme}}\n{{/if}}\n' >"$T/bad.tmpl"
sed "s#ks.cfg: $T/ks.tmpl#ks.cfg: $T/bad.tmpl#" "$CONF" >"$LAB_TMP/bad1.yaml"
bad_check "unknown variable" "$LAB_TMP/bad1.yaml" \
	"$T/bad.tmpl:3: unknown variable 'hostnme' (template ks.cfg of profile 'inst')"
printf 'a\n{{#if disk}}\nb\n' >"$T/bad2.tmpl"
sed "s#ks.cfg: $T/ks.tmpl#ks.cfg: $T/bad2.tmpl#" "$CONF" >"$LAB_TMP/bad2.yaml"
bad_check "unclosed block" "$LAB_TMP/bad2.yaml" "$T/bad2.tmpl:2: {{#if}} is never closed"
sed 's#rd.node={{hostname}}#rd.node={{hostnam}}#' "$CONF" >"$LAB_TMP/bad3.yaml"
line=$(grep -n "name: node1" "$LAB_TMP/bad3.yaml" | cut -d: -f1)
bad_check "unknown variable in a host's cmdline" "$LAB_TMP/bad3.yaml" \
	"$LAB_TMP/bad3.yaml:$line: host node1: cmdline: unknown variable 'hostnam'"

lab_pxed serve --config "$CONF" --log-level debug
lab_wait_port tcp 8080 || lab_fail "pxed did not listen on TCP 8080"
lab_wait_port udp 6969 || lab_fail "pxed did not listen on UDP 6969"

# fetch PATH OUT: GET into OUT; prints the status code.
fetch() { in_cli curl -sS --max-time 10 -o "$2" -w '%{http_code}' "$URL/$1"; }
# tget PATH OUT: tftp-hpa's get; prints its messages (empty on success). tftp-hpa reads
# "a:b" as host a, file b: MACs in TFTP paths are written with dashes here.
tget() {
	rm -f "$2"
	in_cli timeout 20 tftp -m binary "$SERVER" 6969 -c get "$1" "$2" 2>&1 || true
}

# ---- 1. install/<mac>/ks.cfg ------------------------------------------------------
cat >"$LAB_TMP/want1" <<EOF
# kickstart for $HOST1
network --hostname=node1
timezone Europe/Paris
ignoredisk --only-use=sda
url --url=http://$SERVER:8080/repo
%post
echo inst $LAB_NET.10 > /etc/pxed
%end
EOF
code=$(fetch "install/$HOST1/ks.cfg" "$LAB_TMP/h1")
if [ "$code" = 200 ] && cmp -s "$LAB_TMP/want1" "$LAB_TMP/h1"; then
	ok "HTTP install/$HOST1/ks.cfg: 200, host vars over the profile's, exact text"
else
	not_ok "HTTP install/$HOST1/ks.cfg: $code: $(diff "$LAB_TMP/want1" "$LAB_TMP/h1" | head -5)"
fi
msg=$(tget "install/${HOST1//:/-}/ks.cfg" "$LAB_TMP/t1")
if [ -z "$msg" ] && cmp -s "$LAB_TMP/h1" "$LAB_TMP/t1"; then
	ok "TFTP install/${HOST1//:/-}/ks.cfg: the same $(wc -c <"$LAB_TMP/t1") bytes as HTTP"
else
	not_ok "TFTP install/$HOST1/ks.cfg: '$msg', $(cmp "$LAB_TMP/h1" "$LAB_TMP/t1" 2>&1)"
fi
DASHES=${HOST2//:/-}
cat >"$LAB_TMP/want2" <<EOF
# kickstart for $HOST2
network --hostname=node-$DASHES
timezone Etc/UTC
url --url=http://$SERVER:8080/repo
%post
echo inst $LAB_NET.10 > /etc/pxed
%end
EOF
code=$(fetch "install/$DASHES/ks.cfg" "$LAB_TMP/h2")
msg=$(tget "install/$DASHES/ks.cfg" "$LAB_TMP/t2")
if [ "$code" = 200 ] && cmp -s "$LAB_TMP/want2" "$LAB_TMP/h2" && [ -z "$msg" ] &&
	cmp -s "$LAB_TMP/h2" "$LAB_TMP/t2"; then
	ok "install/$DASHES/ks.cfg: the profile's vars, {{else}} branches, same bytes over TFTP"
else
	not_ok "install/$HOST2/ks.cfg: $code '$msg': $(diff "$LAB_TMP/want2" "$LAB_TMP/h2" | head -5)"
fi

# ---- 2 and 3. the ipxe template, templated cmdlines -------------------------------
cat >"$LAB_TMP/want3" <<EOF
#!ipxe
echo templated script for $HOST1
kernel http://$SERVER:8080/files/inst/kernel initrd=initrd0 inst.ks=http://$SERVER:8080/install/$HOST1/ks.cfg disk=sda tz=Europe/Paris rd.node=node1
initrd --name initrd0 http://$SERVER:8080/files/inst/initrd0
boot
EOF
code=$(fetch "boot/$HOST1.ipxe" "$LAB_TMP/h3")
if [ "$code" = 200 ] && cmp -s "$LAB_TMP/want3" "$LAB_TMP/h3"; then
	ok "boot/$HOST1.ipxe is the profile's ipxe template, with the rendered cmdline"
else
	not_ok "boot/$HOST1.ipxe: $code: $(diff "$LAB_TMP/want3" "$LAB_TMP/h3" | head -5)"
fi
want_cmd="console=ttyS0 url=http://$SERVER:8080/install/$HOST3/preseed.cfg"
code=$(fetch "boot/$HOST3.ipxe" "$LAB_TMP/h4")
if [ "$code" = 200 ] && grep -qxF "kernel http://$SERVER:8080/files/plain/kernel $want_cmd" "$LAB_TMP/h4"; then
	ok "built-in iPXE script of a profile without templates has the templated cmdline"
else
	not_ok "boot/$HOST3.ipxe: $code: $(cat "$LAB_TMP/h4")"
fi
msg=$(tget "pxelinux.cfg/01-${HOST1//:/-}" "$LAB_TMP/t5")
if [ -z "$msg" ] && grep -qxF "  APPEND inst.ks=http://$SERVER:8080/install/$HOST1/ks.cfg disk=sda tz=Europe/Paris rd.node=node1" "$LAB_TMP/t5"; then
	ok "pxelinux.cfg/01-${HOST1//:/-} over TFTP: APPEND has the templated cmdline"
else
	not_ok "pxelinux.cfg/01-${HOST1//:/-}: '$msg': $(cat "$LAB_TMP/t5" 2>/dev/null)"
fi

# ---- 4. not found ------------------------------------------------------------------
for path in "install/$STRANGER/ks.cfg" "install/$HOST1/preseed.cfg" "install/$HOST3/ks.cfg" \
	"install/$HOST1/ipxe"; do
	code=$(fetch "$path" "$LAB_TMP/nf")
	msg=$(tget "${path//:/-}" "$LAB_TMP/nf")
	if [ "$code" = 404 ] && grep -q "Error code 1" <<<"$msg" && [ ! -s "$LAB_TMP/nf" ]; then
		ok "$path: HTTP 404, TFTP error 1"
	else
		not_ok "$path: HTTP $code, TFTP '$msg'"
	fi
done

# ---- 5. examples/templates/ -------------------------------------------------------
for name in ks.cfg preseed.cfg user-data cloud-user-data meta-data; do
	code=$(fetch "install/$HOST4/$name" "$LAB_TMP/ex")
	if [ "$code" = 200 ] && [ -s "$LAB_TMP/ex" ] && ! grep -q '{{' "$LAB_TMP/ex" &&
		grep -q "$HOST4\|ex4" "$LAB_TMP/ex"; then
		ok "examples/templates: install/$HOST4/$name renders ($(wc -l <"$LAB_TMP/ex") lines)"
	else
		not_ok "examples/templates: install/$HOST4/$name: $code: $(head -3 "$LAB_TMP/ex")"
	fi
done
fetch "install/$HOST4/meta-data" "$LAB_TMP/md" >/dev/null
if grep -qxF "instance-id: pxed-${HOST4//:/-}" "$LAB_TMP/md" &&
	grep -qxF "local-hostname: ex4" "$LAB_TMP/md"; then
	ok "NoCloud meta-data: instance-id and local-hostname"
else
	not_ok "NoCloud meta-data: $(cat "$LAB_TMP/md")"
fi

if lab_alive "$LAB_PXED_PID"; then
	ok "pxed still runs"
else
	not_ok "pxed exited: $(tail -5 "$LAB_TMP/pxed.log")"
fi

# ---- 7. {{arch}} and {{uuid}}: what the machine told DHCP -------------------------
# The same inventory in proxy mode: the proxyDHCP request is what pxed hears. The
# machine's host has HOST5 as its own MAC, so pxed ties its fetches to it (as it ties
# a real machine's, by its address).
lab_stop_pid "$LAB_PXED_PID" 5 || true
CONF7=$LAB_TMP/pxed-proxy.yaml
{
	echo "interfaces: [$LAB_BR]"
	sed 's/^  mode: off$/  mode: proxy/' "$CONF"
} >"$CONF7"
grep -qx '  mode: proxy' "$CONF7" || lab_fail "no proxy mode in $CONF7"
lab_pxed serve --config "$CONF7" --log-level debug
lab_wait_port tcp 8080 || lab_fail "pxed (proxy mode) did not listen on TCP 8080"
lab_wait_port udp 6969 || lab_fail "pxed (proxy mode) did not listen on UDP 6969"
lab_wait_port udp 67 || lab_fail "pxed (proxy mode) did not listen on UDP 67"
lab_add_host m5
M5_NS=$LAB_HOST_NS
if ! { ip -n "$M5_NS" link set eth0 down && ip -n "$M5_NS" link set eth0 address "$HOST5" &&
	ip -n "$M5_NS" link set eth0 up && ip -n "$M5_NS" addr add "$LAB_NET.11/24" dev eth0; }; then
	lab_fail "cannot give $M5_NS's eth0 the MAC $HOST5 and $LAB_NET.11"
fi
in_m5() { ip netns exec "$M5_NS" "$@"; }
# dhcp-probe's UUID for a MAC: type 0, "pxed-probe", the MAC (tests/tools/dhcp-probe.c).
UUID5=70786564-2d70-726f-6265-${HOST5//:/}

out=$(probe_in "$M5_NS" --mac "$HOST5" --vendor-class PXEClient:Arch:00007:UNDI:003000 \
	--arch 7 --uuid) || true
if [ "$(field type "$out")" = OFFER ]; then
	ok "proxyDHCP DISCOVER of $HOST5 (arch 7, option 97): a proxy OFFER"
else
	not_ok "proxyDHCP DISCOVER of $HOST5: no OFFER: $(tr '\n' ' ' <<<"$out")"
fi
printf 'arch=efi-x64\nuuid=%s\nmac=%s\n' "$UUID5" "$HOST5" >"$LAB_TMP/want7"
code=$(in_m5 curl -sS --max-time 10 -o "$LAB_TMP/h7" -w '%{http_code}' \
	"$URL/install/$HOST5/facts.txt")
if [ "$code" = 200 ] && cmp -s "$LAB_TMP/want7" "$LAB_TMP/h7"; then
	ok "HTTP install/$HOST5/facts.txt: {{arch}} efi-x64, {{uuid}} $UUID5"
else
	not_ok "HTTP install/$HOST5/facts.txt: $code: $(diff "$LAB_TMP/want7" "$LAB_TMP/h7" | head -5)"
fi
rm -f "$LAB_TMP/t7"
msg=$(in_m5 timeout 20 tftp -m binary "$SERVER" 6969 -c get "install/${HOST5//:/-}/facts.txt" \
	"$LAB_TMP/t7" 2>&1 || true)
if [ -z "$msg" ] && cmp -s "$LAB_TMP/want7" "$LAB_TMP/t7"; then
	ok "TFTP install/${HOST5//:/-}/facts.txt: the same arch and UUID"
else
	not_ok "TFTP install/$HOST5/facts.txt: '$msg': $(diff "$LAB_TMP/want7" "$LAB_TMP/t7" | head -5)"
fi
# The same file fetched by another machine: not its facts, and not the requester's.
printf 'arch=\nuuid=\nmac=%s\n' "$HOST5" >"$LAB_TMP/want7o"
code=$(fetch "install/$HOST5/facts.txt" "$LAB_TMP/h7o")
if [ "$code" = 200 ] && cmp -s "$LAB_TMP/want7o" "$LAB_TMP/h7o"; then
	ok "install/$HOST5/facts.txt fetched by another machine: {{arch}} and {{uuid}} empty"
else
	not_ok "install/$HOST5/facts.txt from another machine: $code: $(diff "$LAB_TMP/want7o" "$LAB_TMP/h7o" | head -3)"
fi
printf 'arch=\nuuid=\nmac=%s\n' "$HOST6" >"$LAB_TMP/want8"
code=$(fetch "install/$HOST6/facts.txt" "$LAB_TMP/h8")
msg=$(tget "install/${HOST6//:/-}/facts.txt" "$LAB_TMP/t8")
if [ "$code" = 200 ] && cmp -s "$LAB_TMP/want8" "$LAB_TMP/h8" && [ -z "$msg" ] &&
	cmp -s "$LAB_TMP/want8" "$LAB_TMP/t8"; then
	ok "a machine never heard in DHCP: {{arch}} and {{uuid}} empty over HTTP and TFTP"
else
	not_ok "install/$HOST6/facts.txt: $code '$msg': $(diff "$LAB_TMP/want8" "$LAB_TMP/h8" | head -3)"
fi
if lab_alive "$LAB_PXED_PID"; then
	ok "pxed (proxy mode) still runs"
else
	not_ok "pxed (proxy mode) exited: $(tail -5 "$LAB_TMP/pxed.log")"
fi
echo "# $passed passed, $failed failed"
[ "$failed" -eq 0 ]
