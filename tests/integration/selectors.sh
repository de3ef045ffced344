#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Classes that select by UUID (option 97) and by subnet, against pxed's DHCP server, with
# dhcp-probe as the client, in network namespaces (needs root). Each class names a profile
# whose BIOS program is a file of its own, so the boot file (`file=`) says which class won:
#  a. pxed check accepts UUIDs in upper case and subnets as class conditions;
#  b. a DORA with the UUID a class lists (written in upper case in the config) gets that
#     class's program; relayed into a subnet with `unknown: discover`, the same client is
#     listed by /api/v1/discovered with the UUID in the text the class used;
#  c. another UUID, and no option 97 at all, get the default profile's program;
#  d. a request relayed by a giaddr inside the class's subnet gets that class's program;
#  e. a client on pxed's own interface, whose network is inside another class's subnet,
#     gets that class's program when the class's other condition (arch) holds too.
# Usage: tests/integration/selectors.sh [BUILD_DIR]   (default: build)
# Env: PXED (default BUILD_DIR/pxed), DHCP_PROBE (default BUILD_DIR/tests/dhcp-probe).
set -euo pipefail

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib-dhcp.sh
. "$HERE/lib-dhcp.sh"

OCTET=140
VC_BIOS=PXEClient:Arch:00000:UNDI:002001
VC_EFI=PXEClient:Arch:00007:UNDI:003000
MAC_UUID=52:54:00:8c:00:01  # its UUID is in class by-uuid
MAC_OTHER=52:54:00:8c:00:02 # another UUID
MAC_RLY=52:54:00:8c:00:03   # relayed
MAC_EFI=52:54:00:8c:00:04   # on pxed's interface, EFI
# dhcp-probe --uuid sends "pxed-probe" and the MAC: this is MAC_UUID's, as pxed prints it.
UUID=70786564-2d70-726f-6265-5254008c0001

[ -x "$PROBE" ] || { echo "not ok - dhcp-probe not built: $PROBE"; exit 1; }
[ -x "$PXED" ] || { echo "not ok - pxed not built: $PXED"; exit 1; }
command -v curl >/dev/null || { echo "not ok - curl is not installed"; exit 1; }

lab_setup pxed-it-selectors "$OCTET"
SERVER=$LAB_SERVER_IP
NET=$LAB_NET
RNET=10.$OCTET.7         # the relayed subnet, behind the relay
RELAY_LAN_IP=$NET.2      # the relay's address on pxed's LAN
GIADDR=$RNET.1           # the relay's address on the relayed subnet
DNET=10.$OCTET.8         # a relayed subnet with unknown: discover
lab_add_host cli
# shellcheck disable=SC2178 # one client host: probe() takes its namespace
CLI_NS=$LAB_HOST_NS
lab_add_host rly "$RELAY_LAN_IP/24"
RLY_NS=$LAB_HOST_NS
ip -n "$RLY_NS" addr add "$GIADDR/24" dev eth0
ip -n "$RLY_NS" addr add "$DNET.1/24" dev eth0
# pxed sends relayed replies to giaddr: its host routes the relayed subnets via the relay.
for n in "$RNET" "$DNET"; do
	ip -n "$LAB_NS" route add "$n.0/24" via "$RELAY_LAN_IP" dev "$LAB_BR" ||
		lab_fail "cannot route $n.0/24 via $RELAY_LAN_IP in $LAB_NS"
done

printf 'a kernel\n' >"$LAB_TMP/vmlinuz"
cat >"$LAB_TMP/pxed.yaml" <<YAML
interfaces: [$LAB_BR]
dhcp:
  mode: server
state_dir: $LAB_TMP/state
http:
  port: 8080
subnets:
  - subnet: $NET.0/24
    pool: $NET.100-$NET.149
  - subnet: $RNET.0/24
    pool: $RNET.100-$RNET.149
  - subnet: $DNET.0/24
    pool: $DNET.100-$DNET.149
    unknown: discover
profiles:
  dflt:
    kernel: $LAB_TMP/vmlinuz
    programs: {bios: default.0}
  uuidp:
    kernel: $LAB_TMP/vmlinuz
    programs: {bios: by-uuid.0}
  relayp:
    kernel: $LAB_TMP/vmlinuz
    programs: {bios: by-relay-subnet.0}
  lanp:
    kernel: $LAB_TMP/vmlinuz
    programs: {efi-x64: by-lan-subnet.efi}
default_profile: dflt
classes:
  - name: by-uuid
    match: {uuid: [11111111-2222-3333-4444-555555555555, ${UUID^^}]}
    profile: uuidp
  - name: by-relay-subnet
    match: {subnet: [10.$OCTET.0.0/16]}
    profile: relayp
  - name: by-lan-subnet
    match: {subnet: $NET.0/25, arch: efi-x64}
    profile: lanp
YAML

# ---- a. check --------------------------------------------------------------

"$PXED" check --config "$LAB_TMP/pxed.yaml" >"$LAB_TMP/check.log" 2>&1 ||
	lab_fail "pxed check refused the config: $(cat "$LAB_TMP/check.log")"
ok "pxed check accepts classes by uuid (upper case) and by subnet"
lab_pxed serve --config "$LAB_TMP/pxed.yaml"
if ! lab_wait_port udp 67 || ! lab_wait_port tcp 8080; then
	lab_fail "pxed did not listen on UDP 67 and TCP 8080"
fi

# ---- b. by UUID --------------------------------------------------------------

out=$(probe --type dora --mac "$MAC_UUID" --vendor-class "$VC_BIOS" --arch 0 --uuid) ||
	lab_fail "DORA with option 97: no ACK"
expect type ACK "$out" "DORA with $UUID"
expect file by-uuid.0 "$out" "DORA with $UUID"
ok "a client whose option 97 is $UUID (listed in upper case) boots class by-uuid's program"

out=$(probe_in "$RLY_NS" --type dora --mac "$MAC_UUID" --giaddr "$DNET.1" --to "$SERVER" \
	--from-port 67 --vendor-class "$VC_BIOS" --arch 0 --uuid) ||
	lab_fail "relayed DORA into $DNET.0/24 (unknown: discover): no ACK"
disc=""
for _ in $(seq 1 20); do
	disc=$(ip netns exec "$LAB_NS" curl -sS --max-time 5 "http://$SERVER:8080/api/v1/discovered") ||
		lab_fail "GET /api/v1/discovered failed"
	grep -q "\"uuid\": *\"$UUID\"" <<<"$disc" && break
	sleep 0.2
done
grep -q "\"uuid\": *\"$UUID\"" <<<"$disc" ||
	lab_fail "/api/v1/discovered does not show $UUID: $disc"
ok "/api/v1/discovered prints the UUID as the class matches it ($UUID)"

# ---- c. another UUID, none -----------------------------------------------------

out=$(probe --type dora --mac "$MAC_OTHER" --vendor-class "$VC_BIOS" --arch 0 --uuid) ||
	lab_fail "DORA with another UUID: no ACK"
expect file default.0 "$out" "DORA with another UUID"
out=$(probe --type discover --mac "$MAC_OTHER" --vendor-class "$VC_BIOS" --arch 0) ||
	lab_fail "DISCOVER without option 97: no OFFER"
expect file default.0 "$out" "DISCOVER without option 97"
# MAC_UUID itself, without its UUID: the class is by UUID, not by MAC.
out=$(probe --type discover --mac "$MAC_UUID" --vendor-class "$VC_BIOS" --arch 0) ||
	lab_fail "DISCOVER of $MAC_UUID without option 97: no OFFER"
expect file default.0 "$out" "DISCOVER of $MAC_UUID without option 97"
ok "another UUID, and no option 97 (same MAC too), boot the default profile's program"

# ---- d. by subnet, relayed ---------------------------------------------------

out=$(probe_in "$RLY_NS" --type dora --mac "$MAC_RLY" --giaddr "$GIADDR" --to "$SERVER" \
	--from-port 67 --vendor-class "$VC_BIOS" --arch 0) ||
	lab_fail "relayed DORA (giaddr $GIADDR): no ACK"
what="relayed DORA (giaddr $GIADDR)"
expect type ACK "$out" "$what"
expect file by-relay-subnet.0 "$out" "$what"
rip=$(field yiaddr "$out")
[ "${rip%.*}" = "$RNET" ] || lab_fail "$what: yiaddr '$rip' is not in $RNET.0/24"
ok "a request relayed by $GIADDR (inside 10.$OCTET.0.0/16) boots class by-relay-subnet's program"

# The same client on pxed's own network is outside 10.140.0.0/16: the default.
out=$(probe --type discover --mac "$MAC_RLY" --vendor-class "$VC_BIOS" --arch 0) ||
	lab_fail "DISCOVER of $MAC_RLY on the LAN: no OFFER"
expect file default.0 "$out" "DISCOVER of $MAC_RLY on the LAN"
ok "the same client on $NET.0/24 (outside 10.$OCTET.0.0/16) boots the default profile's program"

# ---- e. by subnet, on the interface --------------------------------------------

out=$(probe --type discover --mac "$MAC_EFI" --vendor-class "$VC_EFI" --arch 7) ||
	lab_fail "EFI DISCOVER on the LAN: no OFFER"
expect file by-lan-subnet.efi "$out" "EFI DISCOVER on the LAN"
# Relayed from outside $NET.0/25, the same EFI client is not in by-lan-subnet.
out=$(probe_in "$RLY_NS" --type discover --mac "$MAC_EFI" --giaddr "$GIADDR" --to "$SERVER" \
	--from-port 67 --vendor-class "$VC_EFI" --arch 7) || lab_fail "relayed EFI DISCOVER: no OFFER"
expect file snponly.efi "$out" "relayed EFI DISCOVER"
ok "an EFI client on $LAB_BR ($SERVER, inside $NET.0/25) boots class by-lan-subnet's program; relayed, it does not"

lab_kill_pxed 10 || lab_fail "pxed did not exit cleanly on SIGTERM"
ok "pxed exits 0 on SIGTERM"
lab_log "runtime ${SECONDS} s"
[ "$failed" -eq 0 ] || exit 1
