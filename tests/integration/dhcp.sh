#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2015
# pxed's DHCP against real clients, in network namespaces (needs root):
#  1. full mode: busybox udhcpc gets an address from the range; RELEASE (dhcp-probe
#     and udhcpc -R) removes the lease from the store; the client gets the same
#     address again, and keeps its own lease when a lower address is free; a
#     RELEASE from another MAC is ignored; RENEWING gets a unicast ACK; a REQUEST
#     for another client's address a NAK; a DECLINEd address is not offered again;
#  2. PXE reply rules (dhcp-probe): EFI x64 -> snponly.efi, BIOS -> undionly.kpxe,
#     iPXE -> its script URL, no boot information for a plain client; the ACK of
#     a PXE client carries the boot file too;
#  3. the PXE boot server on 4011 answers unicast to the source address and port;
#     a relayed DISCOVER is answered to giaddr:67; the pool runs out cleanly;
#  4. proxyDHCP: PXE clients get yiaddr 0.0.0.0 and boot information, others
#     nothing; no leases;
#  5. garbage and every truncated prefix of a PXE DISCOVER: pxed survives, still
#     answers, and counts each one in pxed_dhcp_packets_dropped_total{reason="malformed"};
#  6. SIGTERM: a clean exit (status 0).
# Usage: tests/integration/dhcp.sh [BUILD_DIR]   (default: build)
# Env: PXED (default BUILD_DIR/pxed), DHCP_PROBE (default BUILD_DIR/tests/dhcp-probe).
set -euo pipefail

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib-dhcp.sh
. "$HERE/lib-dhcp.sh"

NS=pxed-it-dhcp
OCTET=30
CLI_MAC=52:54:00:1e:00:01   # udhcpc's host (eth0 of the client namespace)
PXE_MAC=52:54:00:1e:00:02   # dhcp-probe's PXE client
PXE_MAC_DASH=${PXE_MAC//:/-}
DORA_MAC=52:54:00:1e:00:03  # a second address client
VC_EFI=PXEClient:Arch:00007:UNDI:003000
VC_BIOS=PXEClient:Arch:00000:UNDI:002001
t_start=$(date +%s.%N)

[ -x "$PROBE" ] || { echo "not ok - dhcp-probe not built: $PROBE (ninja -C $BUILD)"; exit 1; }
[ -x "$PXED" ] || { echo "not ok - pxed not built: $PXED"; exit 1; }
for tool in busybox sqlite3 curl; do
	command -v "$tool" >/dev/null || { echo "not ok - $tool is not installed"; exit 1; }
done

lab_setup "$NS" "$OCTET"
SERVER=$LAB_SERVER_IP
lab_add_host cli
CLI_NS=$LAB_HOST_NS
ip -n "$CLI_NS" link set eth0 address "$CLI_MAC"

# Any readable files do as kernel and initrd: nothing boots here.
printf 'not a kernel\n' >"$LAB_TMP/vmlinuz"
printf 'not an initrd\n' >"$LAB_TMP/initrd.img"

# ---- helpers -------------------------------------------------------------

# has_opt CODE TEXT: true if the reply in TEXT carried option CODE.
has_opt() { [[ ",$(field options "$2")," == *",$1,"* ]]; }

# in_pool IP: true if IP is in the full-mode range .100-.110.
in_pool() { [ "${1%.*}" = "$LAB_NET" ] && [ "${1##*.}" -ge 100 ] && [ "${1##*.}" -le 110 ]; }

# sql STATE_DIR QUERY: a query on pxed's lease store.
sql() { sqlite3 "$1/pxed.db" "$2"; }

# lease_ips STATE_DIR: "a.b.c.d=mac" of every lease, space-separated, in address order.
lease_ips() {
	sql "$1" "select $IPSQL||'='||lower(hex(mac)) from leases order by ip" | tr '\n' ' ' |
		sed 's/ $//'
}

# udp_stat FIELD: a counter from the Udp: lines of /proc/net/snmp in the lab namespace.
udp_stat() {
	ip netns exec "$LAB_NS" awk -v f="$1" '
		$1 == "Udp:" && !h { for (i = 2; i <= NF; i++) col[$i] = i; h = 1; next }
		$1 == "Udp:" && h { print $(col[f]); exit }' /proc/net/snmp
}

# start_pxed STATE_DIR MODE-ARGS...: start pxed on br0 and wait for its ports.
start_pxed() {
	local state=$1
	shift
	lab_pxed boot --interface "$LAB_BR" "$@" --kernel "$LAB_TMP/vmlinuz" \
		--initrd "$LAB_TMP/initrd.img" --state-dir "$state" --http-port 8080 --log-level debug
	lab_wait_port udp 67 && lab_wait_port udp 4011 && lab_wait_port tcp 8080 ||
		lab_fail "pxed $* did not listen on UDP 67 and 4011 and TCP 8080"
}

# udhcpc's script applies the lease to eth0 inside the client namespace (so that
# udhcpc -R can send its RELEASE from the address) and records it.
UDHCPC_SCRIPT=$LAB_TMP/udhcpc.script
cat >"$UDHCPC_SCRIPT" <<'EOF'
#!/bin/sh
case "$1" in
deconfig) ip addr flush dev "$interface" ;;
bound | renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/${mask:-24}" dev "$interface"
	echo "$1 ip=$ip serverid=$serverid" >>"$UDHCPC_OUT"
	;;
esac
exit 0
EOF
chmod +x "$UDHCPC_SCRIPT"

# udhcpc_lease: run busybox udhcpc once on the client host; sets
# UDHCPC_IP to the address it was bound to (fails the test if it got none).
UDHCPC_RUNS=0
udhcpc_lease() {
	local out
	UDHCPC_RUNS=$((UDHCPC_RUNS + 1))
	out=$LAB_TMP/udhcpc.$UDHCPC_RUNS.out
	: >"$out"
	UDHCPC_OUT=$out timeout 30 ip netns exec "$CLI_NS" busybox udhcpc -f -i eth0 -n -q \
		-t 5 -T 1 -s "$UDHCPC_SCRIPT" </dev/null >>"$LAB_TMP/udhcpc.log" 2>&1 ||
		lab_fail "udhcpc got no lease (see udhcpc.log)"
	grep -q "serverid=$SERVER\$" "$out" || lab_fail "udhcpc: lease not from $SERVER: $(cat "$out")"
	UDHCPC_IP=$(sed -n 's/^bound ip=\([0-9.]*\) .*/\1/p' "$out" | tail -n1)
}

# ---- 1. full mode: leases for a real client ------------------------------

STATE=$LAB_TMP/state
start_pxed "$STATE" --dhcp-range "$LAB_NET.100,$LAB_NET.110"
ok "full mode: pxed listens on UDP 67 and 4011 and TCP 8080"

udhcpc_lease
ip_a=$UDHCPC_IP
in_pool "$ip_a" || lab_fail "udhcpc got '$ip_a', outside $LAB_NET.100-110"
[ "$(lease_ips "$STATE")" = "$ip_a=${CLI_MAC//:/}" ] ||
	lab_fail "store after udhcpc: '$(lease_ips "$STATE")', expected $ip_a=${CLI_MAC//:/}"
ok "udhcpc got $ip_a; the store holds exactly that lease for $CLI_MAC"

# pxed leases lists it, in text and JSON.
"$PXED" leases --state-dir "$STATE" | grep -qE "^$ip_a +$CLI_MAC .* active" ||
	lab_fail "pxed leases does not list $ip_a for $CLI_MAC: $("$PXED" leases --state-dir "$STATE")"
"$PXED" leases --json --state-dir "$STATE" | grep -q "\"ip\": \"$ip_a\"" ||
	lab_fail "pxed leases --json does not list $ip_a"
ok "pxed leases lists $ip_a for $CLI_MAC (text and JSON)"

# --log-level debug names every option of a reply, from the option catalogue.
grep -qE "$CLI_MAC ACK options: .*subnet-mask=255\.255\.255\.0" "$LAB_TMP/pxed.log" ||
	lab_fail "no debug line naming the ACK's options in pxed.log"
ok "--log-level debug logs the ACK's options by name"

if command -v dhclient >/dev/null; then
	lab_log "dhclient is installed but not exercised here"
else
	lab_log "dhclient not installed: only busybox udhcpc is used as a real client"
fi

# A RELEASE from another MAC must not free somebody else's lease.
probe --type release --mac "$DORA_MAC" --ciaddr "$ip_a" --server-id "$SERVER" --to "$SERVER" \
	>/dev/null || lab_fail "dhcp-probe could not send a RELEASE"
sleep 0.3
[ "$(sql "$STATE" 'select count(*) from leases')" = 1 ] ||
	lab_fail "a RELEASE of $ip_a from $DORA_MAC removed $CLI_MAC's lease"
ok "a RELEASE of $ip_a from another MAC is ignored: the lease stays"

# udhcpc's script put ip_a on eth0: the RELEASE goes unicast from it, as RFC 2131 says.
probe --type release --mac "$CLI_MAC" --ciaddr "$ip_a" --server-id "$SERVER" --to "$SERVER" \
	>/dev/null || lab_fail "dhcp-probe could not send a RELEASE"
for ((i = 0; i < 20; i++)); do
	[ "$(sql "$STATE" 'select count(*) from leases')" = 0 ] && break
	sleep 0.1
done
[ "$(sql "$STATE" 'select count(*) from leases')" = 0 ] ||
	lab_fail "after RELEASE of $ip_a the store still has: $(lease_ips "$STATE")"
ok "RELEASE (dhcp-probe, unicast from $ip_a): the lease is gone from the store"

# udhcpc as a daemon: bound, then SIGTERM; with -R it releases the lease on exit.
# (busybox 1.35's "-q -R" quits without sending the RELEASE.)
UDHCPC_OUT=$LAB_TMP/udhcpc.R.out ip netns exec "$CLI_NS" setpriv --pdeathsig TERM -- \
	busybox udhcpc -f -i eth0 -R -t 5 -T 1 -s "$UDHCPC_SCRIPT" \
	</dev/null >>"$LAB_TMP/udhcpc.log" 2>&1 &
udhcpc_pid=$!
lab_track_pid "$udhcpc_pid"
for ((i = 0; i < 100; i++)); do
	grep -q '^bound ' "$LAB_TMP/udhcpc.R.out" 2>/dev/null && break
	lab_alive "$udhcpc_pid" || break
	sleep 0.1
done
ip_again=$(sed -n 's/^bound ip=\([0-9.]*\) .*/\1/p' "$LAB_TMP/udhcpc.R.out" 2>/dev/null | head -n1)
[ "$ip_again" = "$ip_a" ] || lab_fail "after RELEASE udhcpc got '$ip_again', expected $ip_a again"
[ "$(sql "$STATE" 'select count(*) from leases')" = 1 ] ||
	lab_fail "udhcpc -R: bound to $ip_a but the store has '$(lease_ips "$STATE")'"
lab_stop_pid "$udhcpc_pid" 5 || true
for ((i = 0; i < 20; i++)); do
	[ "$(sql "$STATE" 'select count(*) from leases')" = 0 ] && break
	sleep 0.1
done
[ "$(sql "$STATE" 'select count(*) from leases')" = 0 ] ||
	lab_fail "udhcpc -R stopped: the store still has $(lease_ips "$STATE")"
ok "udhcpc got $ip_a again; stopped, its RELEASE (-R) emptied the store"

# A second client takes a free address (pxed allocates next-fit, so it is not the one
# just released); the first client then gets its previous address back, and keeps it
# (its own lease) once another address is free again.
out=$(probe --type dora --mac "$DORA_MAC") || lab_fail "dhcp-probe --type dora got no reply"
expect type ACK "$out" "DORA"
ip_d=$(field yiaddr "$out")
in_pool "$ip_d" || lab_fail "DORA for $DORA_MAC got '$ip_d', not an address of the pool"
udhcpc_lease
ip_b=$UDHCPC_IP
in_pool "$ip_b" && [ "$ip_b" != "$ip_d" ] || lab_fail "udhcpc got '$ip_b' while $ip_d is taken"
[ "$(sql "$STATE" 'select count(*) from leases')" = 2 ] ||
	lab_fail "store: '$(lease_ips "$STATE")', expected two leases"
probe --type release --mac "$DORA_MAC" --ciaddr "$ip_d" --server-id "$SERVER" --to "$SERVER" \
	>/dev/null || lab_fail "dhcp-probe could not send a RELEASE"
sleep 0.3
udhcpc_lease
[ "$UDHCPC_IP" = "$ip_b" ] ||
	lab_fail "udhcpc got $UDHCPC_IP although it holds $ip_b ($ip_d is free)"
ok "DORA gave $DORA_MAC $ip_d; udhcpc then got $ip_b and kept it after $ip_d was freed"

# RENEWING (RFC 2131 §4.3.2): unicast REQUEST with ciaddr; the ACK comes back unicast.
out=$(probe --type request --mac "$CLI_MAC" --ciaddr "$ip_b" --to "$SERVER") ||
	lab_fail "renewing REQUEST for $ip_b: no reply"
expect type ACK "$out" "renewing REQUEST"
expect yiaddr "$ip_b" "$out" "renewing REQUEST"
expect dst "$ip_b" "$out" "renewing REQUEST"
ok "renewing REQUEST (ciaddr $ip_b, unicast) gets an ACK unicast to $ip_b:68"

# INFORM (RFC 2131 §4.3.5): configuration only, no address and no lease time.
out=$(probe --type inform --mac "$CLI_MAC" --ciaddr "$ip_b" --to "$SERVER") ||
	lab_fail "INFORM from $ip_b: no reply"
expect type ACK "$out" "INFORM"
expect yiaddr 0.0.0.0 "$out" "INFORM"
expect subnet_mask 255.255.255.0 "$out" "INFORM"
expect dst "$ip_b" "$out" "INFORM"
! has_opt 51 "$out" || lab_fail "INFORM's ACK carries a lease time: $out"
ok "INFORM from $ip_b gets a configuration-only ACK (mask, no yiaddr, no lease time)"

# A REQUEST for an address that another client holds is refused.
out=$(probe --type request --mac "$DORA_MAC" --requested-ip "$ip_b") ||
	lab_fail "REQUEST for $ip_b from $DORA_MAC: no reply"
expect type NAK "$out" "REQUEST for another client's address"
ok "a REQUEST from $DORA_MAC for $CLI_MAC's $ip_b gets a NAK"

# DECLINE (RFC 2131 §4.3.3): "the server MUST mark the network address as not
# available": offering it again, even to the same client, starts a loop of
# OFFER, ARP conflict, DECLINE.
out=$(probe --type dora --mac "$DORA_MAC") || lab_fail "DORA for $DORA_MAC: no reply"
expect type ACK "$out" "DORA before DECLINE"
ip_x=$(field yiaddr "$out")
probe --type decline --mac "$DORA_MAC" --requested-ip "$ip_x" --server-id "$SERVER" >/dev/null ||
	lab_fail "dhcp-probe could not send a DECLINE"
sleep 0.3
out=$(probe --mac "$DORA_MAC") || lab_fail "DISCOVER after DECLINE: no reply"
if [ "$(field yiaddr "$out")" = "$ip_x" ]; then
	not_ok "DECLINE of $ip_x by $DORA_MAC: pxed offers $ip_x to it again (RFC 2131 §4.3.3: MUST mark it not available); store: $(lease_ips "$STATE")"
else
	ok "DECLINE of $ip_x: the next OFFER is $(field yiaddr "$out"), not $ip_x"
fi

# ---- 2. PXE reply rules in full mode --------------------------------------

out=$(probe --mac "$PXE_MAC" --vendor-class "$VC_EFI" --arch 7 --uuid) ||
	lab_fail "PXE DISCOVER (arch 7): no reply"
what="PXE DISCOVER arch 7"
expect type OFFER "$out" "$what"
expect file snponly.efi "$out" "$what"
expect vendor_class PXEClient "$out" "$what"
expect siaddr "$SERVER" "$out" "$what"
expect server_id "$SERVER" "$out" "$what"
expect bootfile snponly.efi "$out" "$what" # option 67, because 67 was in option 55
# dhcp-probe's UUID: type 0, "pxed-probe", the MAC.
expect uuid "00707865642d70726f6265${PXE_MAC//:/}" "$out" "$what"
has_opt 43 "$out" || lab_fail "$what: no option 43 in the OFFER"
in_pool "$(field yiaddr "$out")" || lab_fail "$what: yiaddr $(field yiaddr "$out") not in the pool"
expect dst 255.255.255.255 "$out" "$what"
ok "EFI x64 PXE DISCOVER: OFFER of $(field yiaddr "$out"), file snponly.efi, option 60 PXEClient, siaddr $SERVER, option 43 $(field vendor_opts "$out"), UUID echoed"

out=$(probe --mac "$PXE_MAC" --vendor-class "$VC_BIOS" --arch 0) ||
	lab_fail "PXE DISCOVER (arch 0): no reply"
expect type OFFER "$out" "PXE DISCOVER arch 0"
expect file undionly.kpxe "$out" "PXE DISCOVER arch 0"
expect vendor_class PXEClient "$out" "PXE DISCOVER arch 0"
has_opt 43 "$out" || lab_fail "PXE DISCOVER arch 0: no option 43"
ok "BIOS PXE DISCOVER: file undionly.kpxe"

out=$(probe --mac "$PXE_MAC" --vendor-class "$VC_BIOS" --arch 0 --user-class iPXE) ||
	lab_fail "iPXE DISCOVER: no reply"
expect type OFFER "$out" "iPXE DISCOVER"
expect file "http://$SERVER:8080/boot/$PXE_MAC_DASH.ipxe" "$out" "iPXE DISCOVER"
ok "iPXE DISCOVER (user class iPXE): file http://$SERVER:8080/boot/$PXE_MAC_DASH.ipxe"

out=$(probe --mac "$PXE_MAC") || lab_fail "plain DISCOVER: no reply"
expect type OFFER "$out" "plain DISCOVER"
expect file "" "$out" "plain DISCOVER"
expect siaddr 0.0.0.0 "$out" "plain DISCOVER"
has_opt 60 "$out" && lab_fail "plain DISCOVER: the OFFER has option 60: $(field vendor_class "$out")"
has_opt 43 "$out" && lab_fail "plain DISCOVER: the OFFER has option 43"
has_opt 67 "$out" && lab_fail "plain DISCOVER: the OFFER has option 67"
in_pool "$(field yiaddr "$out")" || lab_fail "plain DISCOVER: yiaddr not in the pool"
ok "plain DISCOVER: OFFER of $(field yiaddr "$out") without file, option 60, 43 or 67"

# The ACK of a PXE client's REQUEST carries the boot information too (iPXE reads it).
out=$(probe --type dora --mac "$PXE_MAC" --vendor-class "$VC_EFI" --arch 7) ||
	lab_fail "PXE DORA: no reply"
expect type ACK "$out" "PXE DORA"
expect file snponly.efi "$out" "PXE DORA"
expect vendor_class PXEClient "$out" "PXE DORA"
in_pool "$(field yiaddr "$out")" || lab_fail "PXE DORA: yiaddr $(field yiaddr "$out")"
ok "PXE DORA: ACK of $(field yiaddr "$out") with file snponly.efi and option 60 PXEClient"

# ---- 3. the PXE boot server on 4011 ----------------------------------------

ip -n "$CLI_NS" addr flush dev eth0
ip -n "$CLI_NS" addr add "$LAB_NET.50/24" dev eth0
for from in 4011 0; do
	out=$(probe --type request --to "$SERVER" --port 4011 --from-port "$from" \
		--ciaddr "$LAB_NET.50" --mac "$PXE_MAC" --vendor-class "$VC_EFI" --arch 7) ||
		lab_fail "REQUEST to $SERVER:4011 from port $from: no reply"
	what="4011 REQUEST from $LAB_NET.50:$from"
	expect type ACK "$out" "$what"
	expect file snponly.efi "$out" "$what"
	expect vendor_class PXEClient "$out" "$what"
	expect from "$SERVER:4011" "$out" "$what"
	expect dst "$LAB_NET.50" "$out" "$what"
	expect yiaddr 0.0.0.0 "$out" "$what"
	port=$(field local_port "$out")
	[ "$from" = 0 ] && { [ "$port" -gt 1024 ] && [ "$port" != 4011 ] ||
		lab_fail "$what: ephemeral port is $port"; }
	[ "$from" = 0 ] || expect local_port "$from" "$out" "$what"
	ok "4011: REQUEST from $LAB_NET.50:$port gets an ACK (snponly.efi) unicast back to $LAB_NET.50:$port"
done

# A relayed DISCOVER (giaddr set, RFC 2131 §4.1): the OFFER goes to the relay's port 67.
out=$(probe --mac 52:54:00:1e:02:01 --giaddr "$LAB_NET.50" --to "$SERVER" --from-port 67 \
	--vendor-class "$VC_EFI" --arch 7) || lab_fail "relayed DISCOVER: no reply at $LAB_NET.50:67"
what="relayed DISCOVER"
expect type OFFER "$out" "$what"
expect dst "$LAB_NET.50" "$out" "$what"
expect local_port 67 "$out" "$what"
expect giaddr "$LAB_NET.50" "$out" "$what"
expect file snponly.efi "$out" "$what"
in_pool "$(field yiaddr "$out")" || lab_fail "$what: yiaddr $(field yiaddr "$out")"
ok "relayed DISCOVER (giaddr $LAB_NET.50): OFFER of $(field yiaddr "$out") sent to $LAB_NET.50:67"

# The pool holds 11 addresses, some taken by now (leases, held offers): new clients
# get distinct free ones until it runs out, and then no OFFER at all.
empty0=$(metric pxed_dhcp_pool_exhausted_total)
leased=" $(lease_ips "$STATE") "
declare -A offered=()
n=0
rc=0
for ((i = 0; i < 12; i++)); do
	rc=0
	out=$(probe --mac "52:54:00:1e:01:$(printf %02x "$i")" --timeout-ms 700 2>/dev/null) || rc=$?
	[ "$rc" = 0 ] || break
	y=$(field yiaddr "$out")
	in_pool "$y" || lab_fail "pool: client $i was offered '$y'"
	[ -z "${offered[$y]:-}" ] || lab_fail "pool: $y offered to two new clients"
	[[ "$leased" != *" $y="* ]] || lab_fail "pool: $y is leased, yet offered to a new client"
	offered[$y]=1
	n=$((n + 1))
done
[ "$rc" = 1 ] || lab_fail "pool: $((n + 1))th new client: dhcp-probe status $rc, expected no reply"
[ "$(metric pxed_dhcp_pool_exhausted_total)" = $((empty0 + 1)) ] ||
	lab_fail "pool: pxed_dhcp_pool_exhausted_total did not count the refused DISCOVER"
ok "pool: $n new clients got distinct free addresses, the next one no OFFER (counted in pxed_dhcp_pool_exhausted_total)"

rc=0
lab_kill_pxed || rc=$?
[ "$rc" = 0 ] || lab_fail "full mode: pxed exited with status $rc on SIGTERM"
ok "full mode: SIGTERM, pxed exited with status 0"

# ---- 4. proxyDHCP -----------------------------------------------------------

PSTATE=$LAB_TMP/state-proxy
start_pxed "$PSTATE" --proxy
ok "proxy mode: pxed listens"

out=$(probe --mac "$PXE_MAC" --vendor-class "$VC_EFI" --arch 7) ||
	lab_fail "proxy: PXE DISCOVER got no reply"
what="proxy: PXE DISCOVER"
expect type OFFER "$out" "$what"
expect yiaddr 0.0.0.0 "$out" "$what"
expect vendor_class PXEClient "$out" "$what"
expect server_id "$SERVER" "$out" "$what"
expect siaddr "$SERVER" "$out" "$what"
expect file snponly.efi "$out" "$what"
has_opt 43 "$out" || lab_fail "$what: no option 43"
has_opt 51 "$out" && lab_fail "$what: a proxy OFFER carries a lease time (option 51)"
ok "proxy: PXE DISCOVER gets an OFFER with yiaddr 0.0.0.0, option 60 PXEClient, option 54 $SERVER, file snponly.efi"

rc=0
probe --mac "$DORA_MAC" --timeout-ms 1500 >"$LAB_TMP/probe.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || lab_fail "proxy: a plain DISCOVER got an answer (status $rc): $(cat "$LAB_TMP/probe.out")"
ok "proxy: a DISCOVER without PXEClient gets no reply"

out=$(probe --type request --to "$SERVER" --port 4011 --ciaddr "$LAB_NET.50" --mac "$PXE_MAC" \
	--vendor-class "$VC_EFI" --arch 7 --from-port 4011) || lab_fail "proxy: 4011 REQUEST: no reply"
expect type ACK "$out" "proxy: 4011 REQUEST"
expect file snponly.efi "$out" "proxy: 4011 REQUEST"
expect dst "$LAB_NET.50" "$out" "proxy: 4011 REQUEST"
ok "proxy: the 4011 REQUEST gets an ACK with snponly.efi back to $LAB_NET.50:4011"

[ "$(sql "$PSTATE" 'select count(*) from leases')" = 0 ] ||
	lab_fail "proxy: the store has leases: $(lease_ips "$PSTATE")"
ok "proxy: no leases in the store"

# ---- 5. bad input -------------------------------------------------------------

bad0=$(metric 'pxed_dhcp_packets_dropped_total{reason="malformed"}')
rx0=$(metric pxed_dhcp_packets_received_total)
rcvbuf0=$(udp_stat RcvbufErrors)
inerr0=$(udp_stat InErrors)

full=$(probe --mac "$PXE_MAC" --vendor-class "$VC_EFI" --arch 7 --no-pad --dry-run)
len=$(field length "$full")
[ "$len" = "$(field options_end "$full")" ] && [ "$len" -gt 240 ] ||
	lab_fail "dhcp-probe --no-pad --dry-run: length '$len'"
out=$(probe --mac "$PXE_MAC" --vendor-class "$VC_EFI" --arch 7 --no-pad) ||
	lab_fail "the unpadded $len-byte PXE DISCOVER got no reply"
expect type OFFER "$out" "unpadded PXE DISCOVER"

out=$(probe --garbage 200 --port 67) || lab_fail "dhcp-probe --garbage failed"
[ "$(field garbage_sent "$out")" = 200 ] || lab_fail "garbage: $out"
lab_log "garbage to 67 (seed $(field seed "$out")): $(grep '^garbage_' <<<"$out" | tr '\n' ' ' || true)"
out=$(probe --garbage 20 --port 4011 --to "$SERVER" --from-port 0) ||
	lab_fail "dhcp-probe --garbage to 4011 failed"
[ "$(field garbage_sent "$out")" = 20 ] || lab_fail "garbage to 4011: $out"
# Datagrams over pxed's 1501-byte receive buffer (fragmented on the wire).
out=$(probe --garbage 5 --garbage-len 1502,9000 --port 67) ||
	lab_fail "dhcp-probe --garbage (oversize) failed"
[ "$(field garbage_sent "$out")" = 5 ] || lab_fail "oversize garbage: $out"
oversize=5

# Every prefix 0..len-1 of the DISCOVER, in one process tree in the client namespace.
ip netns exec "$CLI_NS" bash -c '
	for ((n = 0; n < $2; n++)); do
		"$1" --iface eth0 --mac "$3" --vendor-class "$4" --arch 7 --no-pad --truncate "$n" \
			>/dev/null || exit 1
	done' _ "$PROBE" "$len" "$PXE_MAC" "$VC_EFI" || lab_fail "sending truncated DISCOVERs failed"
# A few truncated boot-server REQUESTs to 4011.
cuts4011=(0 1 100 239 240 250)
for n in "${cuts4011[@]}"; do
	probe --type request --to "$SERVER" --port 4011 --from-port 0 --ciaddr "$LAB_NET.50" \
		--mac "$PXE_MAC" --vendor-class "$VC_EFI" --arch 7 --no-pad --truncate "$n" >/dev/null ||
		lab_fail "sending a truncated REQUEST to 4011 failed"
done
sent=$((200 + 20 + oversize + len + ${#cuts4011[@]}))

# Bounded wait for pxed to have read everything.
for ((i = 0; i < 50; i++)); do
	[ "$(metric 'pxed_dhcp_packets_dropped_total{reason="malformed"}')" -ge $((bad0 + sent)) ] &&
		break
	sleep 0.1
done
bad1=$(metric 'pxed_dhcp_packets_dropped_total{reason="malformed"}')
rx1=$(metric pxed_dhcp_packets_received_total)
rcvbuf1=$(udp_stat RcvbufErrors)
inerr1=$(udp_stat InErrors)
lab_alive "$LAB_PXED_PID" || lab_fail "pxed died on bad input"
ok "pxed is alive after $sent bad datagrams (to 67: 200 garbage, $oversize over 1501 bytes, $len truncated DISCOVERs; to 4011: 20 garbage, ${#cuts4011[@]} truncated REQUESTs)"

out=$(probe --mac "$PXE_MAC" --vendor-class "$VC_EFI" --arch 7) ||
	lab_fail "after bad input: a valid PXE DISCOVER got no reply"
expect type OFFER "$out" "after bad input"
ok "after bad input pxed still answers a PXE DISCOVER"

lab_log "bad=$sent: malformed $bad0 -> $bad1, received $rx0 -> $rx1, Udp RcvbufErrors $rcvbuf0 -> $rcvbuf1, InErrors $inerr0 -> $inerr1"
[ "$rcvbuf1" = "$rcvbuf0" ] ||
	lab_fail "the kernel dropped $((rcvbuf1 - rcvbuf0)) datagrams (receive buffer full): counts are not comparable"
[ $((bad1 - bad0)) -ge "$sent" ] ||
	lab_fail "malformed counter rose by $((bad1 - bad0)), less than the $sent bad datagrams sent"
[ $((bad1 - bad0)) = "$sent" ] ||
	lab_fail "malformed rose by $((bad1 - bad0)) for $sent bad datagrams: expected exactly $sent"
# Every datagram is received, the oversized ones included (they are truncated on
# receipt, so they are malformed too); "+ 1" is the valid unpadded DISCOVER.
[ $((rx1 - rx0)) = $((sent + 1)) ] ||
	lab_fail "received rose by $((rx1 - rx0)), expected $((sent + 1)) ($sent bad + 1 valid)"
ok "pxed_dhcp_packets_dropped_total{reason=\"malformed\"} rose by exactly $sent, one per bad datagram; received by $((rx1 - rx0)) (every one, plus the valid DISCOVER)"

# ---- 6. SIGTERM ---------------------------------------------------------------

pid=$LAB_PXED_PID
rc=0
lab_kill_pxed || rc=$?
[ "$rc" = 0 ] || lab_fail "pxed exited with status $rc on SIGTERM"
kill -0 "$pid" 2>/dev/null && lab_fail "pxed $pid still runs after SIGTERM"
grep -q 'stopped' "$LAB_TMP/pxed.log" || lab_fail "pxed's log does not say it stopped"
ok "SIGTERM: pxed exited with status 0"

echo "# $(awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
