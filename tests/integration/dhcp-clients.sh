#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2015
# pxed's DHCP server (`pxed serve --config`) against three real clients, a relay and
# reservations, in network namespaces (needs root; issue 3):
#  1. ISC dhclient, busybox udhcpc and dhcpcd, each in its own namespace and all at
#     once, obtain a lease from the pool, RENEW it (a unicast REQUEST with ciaddr and
#     no option 50, seen on the wire, answered by a unicast ACK; the lease's expiry in
#     the store moves forward), RELEASE it (the lease leaves the store) and obtain it
#     again (the same address). udhcpc renews on SIGUSR1 and releases on SIGUSR2,
#     dhcpcd on `dhcpcd -N` / `dhcpcd -k`; dhclient renews by itself at T1 (the lease
#     time is the minimum, 60 s, so T1 comes within 22-30 s) and releases with -r.
#     Then udhcpc and dhcpcd both release and come back in the other order: each
#     should still get its previous address (RFC 2131 §4.3.1).
#  2. A relayed client (the test is the relay, giaddr 10.77.131.1 on a second subnet
#     that is not on pxed's interface): DORA through the relay gets an address from
#     the relayed subnet's pool, with that subnet's mask, router and lease time, and
#     the replies go to giaddr:67.
#  3. Two reserved MACs (busybox udhcpc, started once the pool's clients have their
#     leases), one with the pool's first address, one with an address outside the pool:
#     each gets its address, releases it and gets it again; no other client got it;
#     another MAC asking for it, while it is free and while it is held, gets a NAK to a
#     SELECTING REQUEST and no ACK to an INIT-REBOOT one (a NAK, or silence when pxed
#     has no record of that client: RFC 2131 §4.3.2); while the pool one is free, a
#     stranger's DISCOVER is not offered it.
# The wire is checked from pxed's side: a packet capture (python3, AF_PACKET) on br0
# records every DHCP datagram in $LAB_TMP/sniff.log.
# The clients apply addresses only to eth0 of their own namespace: each runs with a
# private script (no resolv.conf, hostname or route hooks), private lease and PID
# files; dhcpcd in addition runs in a private mount namespace whose /run and
# /var/lib/dhcpcd are directories of this test.
# Usage: tests/integration/dhcp-clients.sh [BUILD_DIR]   (default: build)
# Env: PXED (default BUILD_DIR/pxed), DHCP_PROBE (default BUILD_DIR/tests/dhcp-probe).
set -euo pipefail

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib-dhcp.sh
. "$HERE/lib-dhcp.sh"

NS=pxed-it-clients
OCTET=31
MAC_DHCL=52:54:00:1f:00:01 # ISC dhclient
MAC_UDH=52:54:00:1f:00:02  # busybox udhcpc
MAC_DCD=52:54:00:1f:00:03  # dhcpcd
MAC_RES=52:54:00:1f:00:04  # a reserved host, address in the pool (busybox udhcpc)
MAC_RSO=52:54:00:1f:00:07  # a reserved host, address outside the pool (busybox udhcpc)
MAC_OTHER=52:54:00:1f:00:05 # dhcp-probe: a stranger asking for the reserved address
MAC_RLY=52:54:00:1f:00:06  # dhcp-probe: the relayed client
LEASE_S=60                 # the main subnet's lease time (the minimum): T1 30 s
RLY_LEASE_S=600            # the relayed subnet's
t_start=$(date +%s.%N)

[ -x "$PROBE" ] || { echo "not ok - dhcp-probe not built: $PROBE (ninja -C $BUILD)"; exit 1; }
[ -x "$PXED" ] || { echo "not ok - pxed not built: $PXED"; exit 1; }
for tool in busybox dhclient dhcpcd sqlite3 python3 unshare setpriv; do
	command -v "$tool" >/dev/null ||
		{ echo "not ok - $tool is not installed (bash scripts/deps.sh)"; exit 1; }
done

lab_setup "$NS" "$OCTET"
SERVER=$LAB_SERVER_IP
NET=$LAB_NET
RES_IP=$NET.100                # reserved for MAC_RES: the first address of the pool
RSO_IP=$NET.50                 # reserved for MAC_RSO: outside the pool
RNET=10.77.$((OCTET + 100))    # the relayed subnet, behind the relay
RELAY_LAN_IP=$NET.2            # the relay's address on pxed's LAN
GIADDR=$RNET.1                 # the relay's address on the relayed subnet

# ---- the lab -------------------------------------------------------------------

host_ns() { # host_ns SUFFIX MAC: a client host; prints nothing, sets LAB_HOST_NS
	lab_add_host "$1"
	ip -n "$LAB_HOST_NS" link set eth0 address "$2"
}
host_ns dhcl "$MAC_DHCL"
DHCL_NS=$LAB_HOST_NS
host_ns udh "$MAC_UDH"
UDH_NS=$LAB_HOST_NS
host_ns dcd "$MAC_DCD"
DCD_NS=$LAB_HOST_NS
host_ns res "$MAC_RES"
RES_NS=$LAB_HOST_NS
host_ns rso "$MAC_RSO"
RSO_NS=$LAB_HOST_NS
lab_add_host prb # dhcp-probe's host: no address, no DHCP client
PRB_NS=$LAB_HOST_NS
lab_add_host rly "$RELAY_LAN_IP/24"
RLY_NS=$LAB_HOST_NS
ip -n "$RLY_NS" addr add "$GIADDR/24" dev eth0
# pxed sends relayed replies to giaddr: its host routes the relayed subnet via the relay.
ip -n "$LAB_NS" route add "$RNET.0/24" via "$RELAY_LAN_IP" dev "$LAB_BR" ||
	lab_fail "cannot route $RNET.0/24 via $RELAY_LAN_IP in $LAB_NS"

STATE=$LAB_TMP/state
CONF=$LAB_TMP/pxed.yaml
cat >"$CONF" <<EOF
interfaces: [$LAB_BR]
dhcp:
  mode: server
state_dir: $STATE
tftp:
  port: 69
http:
  port: 8080
subnets:
  - subnet: $NET.0/24
    pool: $NET.100-$NET.120
    lease_time: ${LEASE_S}s
  - subnet: $RNET.0/24
    pool: $RNET.100-$RNET.150
    router: $GIADDR
    lease_time: ${RLY_LEASE_S}s
hosts:
  - mac: $MAC_RES
    name: reserved1
    address: $RES_IP
  - mac: $MAC_RSO
    name: reserved2
    address: $RSO_IP
EOF

# ---- helpers -------------------------------------------------------------------

sql() { sqlite3 -cmd '.timeout 2000' "$STATE/pxed.db" "$1"; }
hexmac() { local m=${1//:/}; echo "${m^^}"; }

# lease_ip MAC / lease_exp MAC: the store's lease of MAC (empty if none).
lease_ip() { sql "select $IPSQL from leases where hex(mac) = '$(hexmac "$1")'"; }
lease_exp() { sql "select expires from leases where hex(mac) = '$(hexmac "$1")'"; }
# lease_count MAC: 0 or 1.
lease_count() { sql "select count(*) from leases where hex(mac) = '$(hexmac "$1")'"; }
# leases: every lease, "ip=mac" in address order, for messages.
leases() { sql "select $IPSQL||'='||lower(hex(mac)) from leases order by ip" | tr '\n' ' '; }

in_pool() { [ "${1%.*}" = "$NET" ] && [ "${1##*.}" -ge 100 ] && [ "${1##*.}" -le 120 ]; }

# wait_until SECONDS CMD...: poll CMD every 0.1 s until it succeeds (0) or SECONDS pass (1).
wait_until() {
	local t=$1 i
	shift
	for ((i = 0; i < t * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

# The clients' scripts write "EVENT ip=A.B.C.D ..." lines to their event files.
# last_ip FILE EVENTS-ERE: the address of the last event matching EVENTS-ERE.
# count_ev FILE EVENTS-ERE: how many such events; ev_after FILE EVENTS-ERE N: more than N.
last_ip() { sed -nE "s/^($2) ip=([0-9.]*).*/\2/p" "$1" 2>/dev/null | tail -n1; }
count_ev() { grep -cE "^($2) " "$1" 2>/dev/null || true; }
ev_after() { [ "$(count_ev "$1" "$2")" -gt "$3" ]; }
no_lease() { [ "$(lease_count "$1")" = 0 ]; }
has_lease() { [ "$(lease_ip "$1")" = "$2" ]; }
exp_after() { local e; e=$(lease_exp "$1"); [ -n "$e" ] && [ "$e" -gt "$2" ]; }

# ---- the wire: every DHCP datagram through br0, as pxed's host sees it -----------

SNIFF=$LAB_TMP/sniff.log
cat >"$LAB_TMP/sniff.py" <<'EOF'
# One line per DHCP datagram (UDP 67/68, BOOTP magic cookie) seen on an interface.
import socket, struct, sys, time
NAMES = {1: "DISCOVER", 2: "OFFER", 3: "REQUEST", 4: "DECLINE", 5: "ACK", 6: "NAK",
         7: "RELEASE", 8: "INFORM"}
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))  # ETH_P_ALL: both ways
s.bind((sys.argv[1], 3))
ip = socket.inet_ntoa
print("ready", flush=True)
while True:
    pkt, addr = s.recvfrom(65535)
    if len(pkt) < 34 or pkt[12:14] != b"\x08\x00":
        continue
    h = pkt[14:]
    ihl = (h[0] & 15) * 4
    if h[9] != 17 or struct.unpack("!H", h[6:8])[0] & 0x1FFF:
        continue
    u = h[ihl:]
    sp, dp = struct.unpack("!HH", u[:4])
    b = u[8:]
    if not {sp, dp} & {67, 68} or len(b) < 240 or b[236:240] != b"\x63\x82\x53\x63":
        continue
    opts, i = {}, 240
    while i < len(b) and b[i] != 255:
        if b[i] == 0:
            i += 1
            continue
        if i + 1 >= len(b):
            break
        opts.setdefault(b[i], b[i + 2:i + 2 + b[i + 1]])
        i += 2 + b[i + 1]
    t = opts.get(53, b"\x00")[0]
    o = lambda c: ip(opts[c]) if len(opts.get(c, b"")) == 4 else "-"
    print("%s %s src=%s:%d dst=%s:%d type=%s xid=%08x flags=%04x ciaddr=%s yiaddr=%s "
          "giaddr=%s chaddr=%s req_ip=%s server_id=%s lease=%s" % (
              "%.3f" % time.monotonic(), "out" if addr[2] == 4 else "in",
              ip(h[12:16]), sp, ip(h[16:20]), dp, NAMES.get(t, str(t)),
              struct.unpack("!I", b[4:8])[0], struct.unpack("!H", b[10:12])[0],
              ip(b[12:16]), ip(b[16:20]), ip(b[24:28]), b[28:34].hex(":"),
              o(50), o(54),
              struct.unpack("!I", opts[51])[0] if len(opts.get(51, b"")) == 4 else "-"),
          flush=True)
EOF
ip netns exec "$LAB_NS" setpriv --pdeathsig TERM -- timeout 300 python3 -u "$LAB_TMP/sniff.py" \
	"$LAB_BR" </dev/null >"$SNIFF" 2>"$LAB_TMP/sniff.err.log" &
SNIFF_PID=$!
lab_track_pid "$SNIFF_PID"
wait_until 10 grep -q '^ready' "$SNIFF" || lab_fail "the packet capture on $LAB_BR did not start"

# sniff_mark: the number of lines captured so far (later checks look only after it).
sniff_mark() { wc -l <"$SNIFF"; }
# sniff_since MARK: the lines captured after MARK.
sniff_since() { tail -n "+$(($1 + 1))" "$SNIFF"; }
# renewed MAC IP MARK: since MARK, a REQUEST from MAC in RENEWING state (RFC 2131
# §4.3.2: unicast from IP:68 to the server, ciaddr IP, no option 50) and pxed's ACK
# of IP unicast to IP:68. Prints the two lines.
renewed() {
	local mac=$1 ip=$2 req ack
	req=$(sniff_since "$3" | grep -F " type=REQUEST " | grep -F " chaddr=${mac,,} " |
		grep -F " src=$ip:68 dst=$SERVER:67 " | grep -F " ciaddr=$ip " |
		grep -F " req_ip=- " | head -n1) || true
	ack=$(sniff_since "$3" | grep -F " type=ACK " | grep -F " chaddr=${mac,,} " |
		grep -F " dst=$ip:68 " | grep -F " yiaddr=$ip " | head -n1) || true
	[ -n "$req" ] && [ -n "$ack" ] && printf '%s\n%s\n' "$req" "$ack"
}

# ---- pxed --------------------------------------------------------------------------

"$PXED" check --config "$CONF" >"$LAB_TMP/check.log" 2>&1 ||
	lab_fail "pxed check rejects the test's config: $(cat "$LAB_TMP/check.log")"
lab_pxed serve --config "$CONF"
lab_wait_port udp 67 || lab_fail "pxed serve --config did not listen on UDP 67"
ok "pxed serve --config: DHCP server on $LAB_BR, pool $NET.100-120 (lease ${LEASE_S} s), $RES_IP and $RSO_IP reserved, relayed subnet $RNET.0/24"

# ---- the clients -------------------------------------------------------------------

# ISC dhclient: private config, lease file and PID file; its script only sets the
# address on eth0 of its namespace and records the event.
DHCL_EV=$LAB_TMP/dhclient.events
DHCL_ARGS=(-4 -v -cf "$LAB_TMP/dhclient.conf" -sf "$LAB_TMP/dhclient.script"
	-lf "$LAB_TMP/dhclient.leases" -pf "$LAB_TMP/dhclient.pid")
printf 'request subnet-mask, broadcast-address, dhcp-lease-time, dhcp-server-identifier;\n' \
	>"$LAB_TMP/dhclient.conf"
cat >"$LAB_TMP/dhclient.script" <<EOF
#!/bin/sh
case "\$reason" in
BOUND | RENEW | REBIND | REBOOT)
	if [ "\$old_ip_address" != "\$new_ip_address" ]; then
		ip -4 addr flush dev "\$interface"
		ip addr add "\$new_ip_address/\${new_subnet_mask:-255.255.255.0}" dev "\$interface"
	fi
	echo "\$reason ip=\$new_ip_address" >>$DHCL_EV ;;
EXPIRE | FAIL | RELEASE | STOP)
	ip -4 addr flush dev "\$interface"
	echo "\$reason ip=\$old_ip_address" >>$DHCL_EV ;;
esac
exit 0
EOF
chmod +x "$LAB_TMP/dhclient.script"
: >"$DHCL_EV"

# dhclient_start: dhclient in the foreground (-d), in the background of this shell.
DHCL_PID=
dhclient_start() {
	ip netns exec "$DHCL_NS" setpriv --pdeathsig TERM -- dhclient -d "${DHCL_ARGS[@]}" eth0 \
		</dev/null >>"$LAB_TMP/dhclient.log" 2>&1 &
	DHCL_PID=$!
	lab_track_pid "$DHCL_PID"
}

# busybox udhcpc: its script sets the address on eth0 and records the event in the
# file named by UDHCPC_EV.
cat >"$LAB_TMP/udhcpc.script" <<'EOF'
#!/bin/sh
case "$1" in
deconfig)
	ip -4 addr flush dev "$interface"
	echo "deconfig ip=" >>"$UDHCPC_EV" ;;
bound | renew)
	[ "$(ip -4 -o addr show dev "$interface" | awk '{ print $4 }')" = "$ip/${mask:-24}" ] || {
		ip -4 addr flush dev "$interface"
		ip addr add "$ip/${mask:-24}" dev "$interface"
	}
	echo "$1 ip=$ip lease=$lease serverid=$serverid" >>"$UDHCPC_EV" ;;
esac
exit 0
EOF
chmod +x "$LAB_TMP/udhcpc.script"

# udhcpc_start NS EVENTS LOG: udhcpc as a daemon (foreground, in this shell's
# background); prints nothing, sets UDHCPC_PID.
udhcpc_start() {
	UDHCPC_EV=$2 ip netns exec "$1" setpriv --pdeathsig TERM -- busybox udhcpc -f -i eth0 \
		-t 5 -T 1 -A 1 -s "$LAB_TMP/udhcpc.script" </dev/null >>"$3" 2>&1 &
	UDHCPC_PID=$!
	lab_track_pid "$UDHCPC_PID"
}

# dhcpcd: private config (IPv4 only, no IPv4LL, no ARP probing), a script that only
# records the event (dhcpcd sets the address on eth0 itself), and a private mount
# namespace whose /run (PID file, control socket) and /var/lib/dhcpcd (lease, DUID)
# are the test's directories. Every dhcpcd command runs the same way so that it
# finds the daemon's control socket.
DCD_EV=$LAB_TMP/dhcpcd.events
mkdir -p "$LAB_TMP/dhcpcd-run" "$LAB_TMP/dhcpcd-db"
cat >"$LAB_TMP/dhcpcd.conf" <<'EOF'
ipv4only
noipv4ll
noarp
noipv6rs
option subnet_mask, broadcast_address, dhcp_lease_time, dhcp_server_identifier
EOF
cat >"$LAB_TMP/dhcpcd.script" <<EOF
#!/bin/sh
case "\$reason" in
BOUND | RENEW | REBIND | REBOOT | STATIC) echo "\$reason ip=\$new_ip_address" >>$DCD_EV ;;
EXPIRE | NAK | RELEASE | STOP | FAIL) echo "\$reason ip=\$old_ip_address" >>$DCD_EV ;;
esac
exit 0
EOF
chmod +x "$LAB_TMP/dhcpcd.script"
: >"$DCD_EV"
DCD_ARGS=(-4 -f "$LAB_TMP/dhcpcd.conf" -c "$LAB_TMP/dhcpcd.script")
# DCD_IN: the prefix that runs a command in DCD_NS with the private /run and
# /var/lib/dhcpcd; each step execs the next, so `"${DCD_IN[@]}" dhcpcd ... &` has
# dhcpcd's own PID.
# shellcheck disable=SC2016 # $1, $2 and $@ are sh's
DCD_IN=(ip netns exec "$DCD_NS" unshare -m --propagation private sh -c
	'mount --bind "$1" /run && mount --bind "$2" /var/lib/dhcpcd && shift 2 && exec "$@"'
	_ "$LAB_TMP/dhcpcd-run" "$LAB_TMP/dhcpcd-db")
# dcd ARGS...: a dhcpcd command (-N, -k) for the running daemon.
dcd() { timeout 20 "${DCD_IN[@]}" dhcpcd "${DCD_ARGS[@]}" "$@" </dev/null; }
# dhcpcd_start: the dhcpcd daemon in the foreground (-B), in this shell's background.
DCD_PID=
dhcpcd_start() {
	setpriv --pdeathsig TERM -- "${DCD_IN[@]}" dhcpcd -B -d -t 30 "${DCD_ARGS[@]}" eth0 \
		</dev/null >>"$LAB_TMP/dhcpcd.log" 2>&1 &
	DCD_PID=$!
	lab_track_pid "$DCD_PID"
}

# ---- 1+3. all clients at once: obtain ---------------------------------------------

UDH_EV=$LAB_TMP/udhcpc.events
: >"$UDH_EV"
# The reserved hosts, by index: 0 address in the pool, 1 outside it.
R_WHAT=("in the pool" "outside the pool")
R_MAC=("$MAC_RES" "$MAC_RSO")
R_IP=("$RES_IP" "$RSO_IP")
R_NS=("$RES_NS" "$RSO_NS")
R_EV=("$LAB_TMP/udhcpc-res.events" "$LAB_TMP/udhcpc-rso.events")
R_LOG=("$LAB_TMP/udhcpc-res.log" "$LAB_TMP/udhcpc-rso.log")
R_PID=()
R_OK=(1 1)
dhclient_start
udhcpc_start "$UDH_NS" "$UDH_EV" "$LAB_TMP/udhcpc.log"
UDH_PID=$UDHCPC_PID
dhcpcd_start

wait_until 20 ev_after "$DHCL_EV" 'BOUND|REBOOT' 0 ||
	lab_fail "dhclient got no lease in 20 s (dhclient.log)"
wait_until 10 ev_after "$UDH_EV" bound 0 || lab_fail "udhcpc got no lease (udhcpc.log)"
wait_until 20 ev_after "$DCD_EV" 'BOUND|REBOOT' 0 ||
	lab_fail "dhcpcd got no lease in 20 s (dhcpcd.log)"
t_dhcl_bound=$(date +%s)

IP_DHCL=$(last_ip "$DHCL_EV" 'BOUND|REBOOT')
IP_UDH=$(last_ip "$UDH_EV" bound)
IP_DCD=$(last_ip "$DCD_EV" 'BOUND|REBOOT')
for c in "dhclient $MAC_DHCL $IP_DHCL" "udhcpc $MAC_UDH $IP_UDH" "dhcpcd $MAC_DCD $IP_DCD"; do
	read -r name mac ip <<<"$c"
	in_pool "$ip" || lab_fail "$name got '$ip', outside the pool $NET.100-120"
	wait_until 3 has_lease "$mac" "$ip" ||
		lab_fail "$name bound $ip but the store has '$(lease_ip "$mac")' for $mac; leases: $(leases)"
done
[ "$(printf '%s\n' "$IP_DHCL" "$IP_UDH" "$IP_DCD" | sort -u | wc -l)" = 3 ] ||
	lab_fail "two clients got the same address: dhclient $IP_DHCL, udhcpc $IP_UDH, dhcpcd $IP_DCD"
ok "obtain: dhclient $IP_DHCL, udhcpc $IP_UDH, dhcpcd $IP_DCD (in parallel, distinct, in the pool, each in the store)"

# The reserved hosts come up once the pool's clients have their addresses (a reserved
# address of the pool must not have been given to any of them meanwhile). A failure
# is reported, and that host's later checks are skipped; the other checks go on.
for r in 0 1; do
	: >"${R_EV[r]}"
	udhcpc_start "${R_NS[r]}" "${R_EV[r]}" "${R_LOG[r]}"
	R_PID[r]=$UDHCPC_PID
done
# res_fail R MSG: a failed check of reserved host R (not fatal); stops the host.
res_fail() {
	not_ok "reservation ${R_WHAT[$1]}: $2"
	R_OK[$1]=0
	lab_stop_pid "${R_PID[$1]}" 5 || true
}
for r in 0 1; do
	mac=${R_MAC[r]}
	rip=${R_IP[r]}
	thief=
	for c in "dhclient $IP_DHCL" "udhcpc $IP_UDH" "dhcpcd $IP_DCD"; do
		[ "${c#* }" = "$rip" ] && thief=${c% *}
	done
	wait_until 10 ev_after "${R_EV[r]}" bound 0 || true
	ip=$(last_ip "${R_EV[r]}" bound)
	if [ -n "$thief" ]; then
		res_fail "$r" "$rip is reserved for $mac, yet pxed leased it to $thief; $mac got '$ip' and $(grep -c NAK "${R_LOG[r]}" || true) NAKs in 10 s; leases: $(leases)"
	elif [ "$ip" != "$rip" ]; then
		res_fail "$r" "$mac got '$ip', expected its reserved $rip; leases: $(leases)"
	elif ! has_lease "$mac" "$rip"; then
		res_fail "$r" "$mac bound $rip, but the store has '$(lease_ip "$mac")'"
	else
		ok "reservation ${R_WHAT[r]}: $mac got its reserved $rip, which no other client got"
	fi
done

# ---- renew: udhcpc (SIGUSR1) and dhcpcd (dhcpcd -N) --------------------------------

# The store's expiry is in whole seconds: let one pass so that a renewal moves it.
sleep 1.2
exp_udh=$(lease_exp "$MAC_UDH")
exp_dcd=$(lease_exp "$MAC_DCD")
mark=$(sniff_mark)
n_udh=$(count_ev "$UDH_EV" renew)
n_dcd=$(count_ev "$DCD_EV" 'RENEW|BOUND|REBOOT')
kill -USR1 "$UDH_PID"
dcd -N eth0 >>"$LAB_TMP/dhcpcd.log" 2>&1 || lab_fail "dhcpcd -N eth0 failed (dhcpcd.log)"

wait_until 10 ev_after "$UDH_EV" renew "$n_udh" || lab_fail "udhcpc: no renewal after SIGUSR1"
[ "$(last_ip "$UDH_EV" renew)" = "$IP_UDH" ] ||
	lab_fail "udhcpc renewed '$(last_ip "$UDH_EV" renew)', not $IP_UDH"
wire=$(wait_until 3 renewed "$MAC_UDH" "$IP_UDH" "$mark") ||
	lab_fail "udhcpc: no unicast REQUEST (ciaddr $IP_UDH) + unicast ACK on the wire; seen: $(sniff_since "$mark" | grep -F "${MAC_UDH}" | tr '\n' '|')"
wait_until 3 exp_after "$MAC_UDH" "$exp_udh" ||
	lab_fail "udhcpc renewed, but the store's expiry of $IP_UDH stayed at $exp_udh ($(lease_exp "$MAC_UDH"))"
lab_log "wire: $(tr '\n' '|' <<<"$wire")"
ok "renew: udhcpc (SIGUSR1) sent a unicast REQUEST with ciaddr $IP_UDH, got a unicast ACK; expiry $exp_udh -> $(lease_exp "$MAC_UDH")"

wait_until 10 ev_after "$DCD_EV" 'RENEW|BOUND|REBOOT' "$n_dcd" ||
	lab_fail "dhcpcd: no renewal after dhcpcd -N"
[ "$(last_ip "$DCD_EV" 'RENEW|BOUND|REBOOT')" = "$IP_DCD" ] ||
	lab_fail "dhcpcd renewed '$(last_ip "$DCD_EV" 'RENEW|BOUND|REBOOT')', not $IP_DCD"
wire=$(wait_until 3 renewed "$MAC_DCD" "$IP_DCD" "$mark") ||
	lab_fail "dhcpcd: no unicast REQUEST (ciaddr $IP_DCD) + unicast ACK on the wire; seen: $(sniff_since "$mark" | grep -F "${MAC_DCD}" | tr '\n' '|')"
wait_until 3 exp_after "$MAC_DCD" "$exp_dcd" ||
	lab_fail "dhcpcd renewed, but the store's expiry of $IP_DCD stayed at $exp_dcd"
lab_log "wire: $(tr '\n' '|' <<<"$wire")"
ok "renew: dhcpcd (-N) sent a unicast REQUEST with ciaddr $IP_DCD, got a unicast ACK; expiry $exp_dcd -> $(lease_exp "$MAC_DCD")"

# ---- release and re-obtain: udhcpc, then dhcpcd (the others keep their leases) -----

n=$(count_ev "$UDH_EV" deconfig)
kill -USR2 "$UDH_PID"
wait_until 5 no_lease "$MAC_UDH" ||
	lab_fail "udhcpc released (SIGUSR2) but the store still has $(lease_ip "$MAC_UDH") for $MAC_UDH"
wait_until 3 ev_after "$UDH_EV" deconfig "$n" || lab_fail "udhcpc did not deconfigure on SIGUSR2"
n=$(count_ev "$UDH_EV" bound)
kill -USR1 "$UDH_PID"
wait_until 10 ev_after "$UDH_EV" bound "$n" || lab_fail "udhcpc: no new lease after the release"
ip=$(last_ip "$UDH_EV" bound)
[ "$ip" = "$IP_UDH" ] || lab_fail "udhcpc re-obtained '$ip', expected its $IP_UDH again"
wait_until 3 has_lease "$MAC_UDH" "$IP_UDH" || lab_fail "store after udhcpc's re-obtain: $(leases)"
ok "release: udhcpc (SIGUSR2) - lease gone from the store; re-obtain (SIGUSR1): $ip again"

n=$(count_ev "$DCD_EV" 'RELEASE|STOP')
dcd -k eth0 >>"$LAB_TMP/dhcpcd.log" 2>&1 || lab_fail "dhcpcd -k eth0 failed (dhcpcd.log)"
wait_until 5 no_lease "$MAC_DCD" ||
	lab_fail "dhcpcd -k: the store still has $(lease_ip "$MAC_DCD") for $MAC_DCD"
wait_until 3 ev_after "$DCD_EV" 'RELEASE|STOP' "$n" || lab_fail "dhcpcd -k: its script saw no RELEASE"
# With its only interface released, dhcpcd exits.
lab_wait_exit "$DCD_PID" 10 >/dev/null || true
lab_alive "$DCD_PID" && lab_stop_pid "$DCD_PID" 5 || true
n=$(count_ev "$DCD_EV" 'BOUND|REBOOT')
dhcpcd_start
wait_until 20 ev_after "$DCD_EV" 'BOUND|REBOOT' "$n" || lab_fail "dhcpcd: no new lease after -k"
ip=$(last_ip "$DCD_EV" 'BOUND|REBOOT')
[ "$ip" = "$IP_DCD" ] || lab_fail "dhcpcd re-obtained '$ip', expected its $IP_DCD again"
wait_until 3 has_lease "$MAC_DCD" "$IP_DCD" || lab_fail "store after dhcpcd's re-obtain: $(leases)"
ok "release: dhcpcd -k - lease gone from the store; re-obtain (restarted): $ip again"

# ---- 3. reservation: release, strangers, re-obtain ---------------------------------

# reply_text OUT STATUS: dhcp-probe's reply in a few words.
reply_text() {
	if [ "$2" = 0 ]; then echo "$(field type "$1") of $(field yiaddr "$1")"; else echo "no reply (status $2)"; fi
}

# stranger_refused R WHEN: MAC_OTHER asks for reserved host R's address, once as a
# SELECTING REQUEST (server id pxed's: RFC 2131 §4.3.2 wants a NAK when the address
# cannot be given), once as an INIT-REBOOT one (no server id: a NAK, or silence for
# a client pxed has no record of; never an ACK). Prints why not and returns 1 if not.
stranger_refused() {
	local rip=${R_IP[$1]} out rc=0
	out=$(probe_in "$PRB_NS" --type request --mac "$MAC_OTHER" --requested-ip "$rip" \
		--server-id "$SERVER") || rc=$?
	[ "$rc" = 0 ] && [ "$(field type "$out")" = NAK ] || {
		echo "SELECTING REQUEST for the $2 reserved $rip from $MAC_OTHER: got $(reply_text "$out" "$rc"), expected a NAK"
		return 1
	}
	rc=0
	out=$(probe_in "$PRB_NS" --type request --mac "$MAC_OTHER" --requested-ip "$rip" \
		--timeout-ms 1000) || rc=$?
	[ "$rc" = 1 ] || { [ "$rc" = 0 ] && [ "$(field type "$out")" = NAK ]; } || {
		echo "INIT-REBOOT REQUEST for the $2 reserved $rip from $MAC_OTHER: got $(reply_text "$out" "$rc"), expected a NAK or no reply"
		return 1
	}
}

# reservation_cycle R: release, a stranger asks for the address, re-obtain, a
# stranger asks again.
reservation_cycle() {
	local r=$1 why ip n mac=${R_MAC[$1]} rip=${R_IP[$1]} ev=${R_EV[$1]}
	kill -USR2 "${R_PID[r]}"
	wait_until 5 no_lease "$mac" ||
		{ res_fail "$r" "released (SIGUSR2) but the store still has $(lease_ip "$mac")"; return; }
	why=$(stranger_refused "$r" free) || { res_fail "$r" "$why; leases: $(leases)"; return; }
	n=$(count_ev "$ev" bound)
	kill -USR1 "${R_PID[r]}"
	wait_until 10 ev_after "$ev" bound "$n" || { res_fail "$r" "no lease after its release"; return; }
	ip=$(last_ip "$ev" bound)
	[ "$ip" = "$rip" ] || { res_fail "$r" "re-obtained '$ip', expected $rip"; return; }
	wait_until 3 has_lease "$mac" "$rip" ||
		{ res_fail "$r" "store after the re-obtain: $(leases)"; return; }
	why=$(stranger_refused "$r" held) || { res_fail "$r" "$why"; return; }
	ok "reservation ${R_WHAT[r]}: released (lease gone from the store), re-obtained $rip; $MAC_OTHER asking for $rip gets a NAK (SELECTING) and no ACK (INIT-REBOOT), whether it is free or held"
}
for r in 0 1; do
	if [ "${R_OK[r]}" = 1 ]; then
		reservation_cycle "$r"
	else
		lab_log "reservation ${R_WHAT[r]}: release/re-obtain/NAK checks skipped (it failed above)"
	fi
done

# ---- 2. a relayed client ------------------------------------------------------------

mark=$(sniff_mark)
out=$(probe_in "$RLY_NS" --type dora --mac "$MAC_RLY" --giaddr "$GIADDR" --to "$SERVER" \
	--from-port 67) || lab_fail "relayed DORA (giaddr $GIADDR) got no ACK at $GIADDR:67"
what="relayed DORA (giaddr $GIADDR)"
[ "$(field type "$out")" = ACK ] || lab_fail "$what: reply $(field type "$out"): $(tr '\n' ' ' <<<"$out")"
rip=$(field yiaddr "$out")
[ "${rip%.*}" = "$RNET" ] && [ "${rip##*.}" -ge 100 ] && [ "${rip##*.}" -le 150 ] ||
	lab_fail "$what: yiaddr '$rip', not from the relayed pool $RNET.100-150"
[ "$(field giaddr "$out")" = "$GIADDR" ] && [ "$(field dst "$out")" = "$GIADDR" ] &&
	[ "$(field local_port "$out")" = 67 ] ||
	lab_fail "$what: the ACK did not go to $GIADDR:67: $(tr '\n' ' ' <<<"$out")"
[ "$(field subnet_mask "$out")" = 255.255.255.0 ] && [ "$(field router "$out")" = "$GIADDR" ] &&
	[ "$(field lease_time "$out")" = "$RLY_LEASE_S" ] ||
	lab_fail "$what: mask/router/lease '$(field subnet_mask "$out")/$(field router "$out")/$(field lease_time "$out")', expected 255.255.255.0/$GIADDR/$RLY_LEASE_S"
wait_until 3 has_lease "$MAC_RLY" "$rip" || lab_fail "$what: store: $(leases)"
offer=$(sniff_since "$mark" | grep -F " type=OFFER " | grep -F " chaddr=$MAC_RLY " | head -n1)
[[ "$offer" == *" dst=$GIADDR:67 "* ]] || lab_fail "$what: the OFFER did not go to $GIADDR:67: $offer"
ok "relay: DORA through giaddr $GIADDR got $rip from the relayed pool (mask /24, router $GIADDR, lease $RLY_LEASE_S s); OFFER and ACK went to $GIADDR:67; leased in the store"

# ---- 1. dhclient: its own renewal at T1, release (-r), re-obtain ---------------------

exp_dhcl=$(lease_exp "$MAC_DHCL")
n=$(count_ev "$DHCL_EV" RENEW)
# dhclient renews between 3/4 T1 and T1 (22.5-30 s) after it was bound.
left=$((t_dhcl_bound + LEASE_S / 2 + 10 - $(date +%s)))
[ "$left" -gt 0 ] || left=1
lab_log "waiting up to ${left} s for dhclient's renewal at T1"
wait_until "$left" ev_after "$DHCL_EV" RENEW "$n" ||
	lab_fail "dhclient did not renew within $((LEASE_S / 2 + 10)) s of its lease (T1 is $((LEASE_S / 2)) s)"
[ "$(last_ip "$DHCL_EV" RENEW)" = "$IP_DHCL" ] || lab_fail "dhclient renewed '$(last_ip "$DHCL_EV" RENEW)'"
wire=$(renewed "$MAC_DHCL" "$IP_DHCL" 0) ||
	lab_fail "dhclient: no unicast REQUEST (ciaddr $IP_DHCL) + unicast ACK on the wire; seen: $(grep -F "$MAC_DHCL" "$SNIFF" | tr '\n' '|')"
wait_until 3 exp_after "$MAC_DHCL" "$exp_dhcl" ||
	lab_fail "dhclient renewed, but the store's expiry of $IP_DHCL stayed at $exp_dhcl"
lab_log "wire: $(tr '\n' '|' <<<"$wire")"
ok "renew: dhclient at T1 sent a unicast REQUEST with ciaddr $IP_DHCL, got a unicast ACK; expiry $exp_dhcl -> $(lease_exp "$MAC_DHCL")"

n=$(count_ev "$DHCL_EV" RELEASE)
ip netns exec "$DHCL_NS" timeout 20 dhclient -r "${DHCL_ARGS[@]}" eth0 </dev/null \
	>>"$LAB_TMP/dhclient.log" 2>&1 || lab_fail "dhclient -r failed (dhclient.log)"
lab_wait_exit "$DHCL_PID" 5 >/dev/null || true # -r stops the running dhclient
lab_alive "$DHCL_PID" && lab_stop_pid "$DHCL_PID" 5 || true
wait_until 5 no_lease "$MAC_DHCL" ||
	lab_fail "dhclient -r: the store still has $(lease_ip "$MAC_DHCL") for $MAC_DHCL"
wait_until 3 ev_after "$DHCL_EV" RELEASE "$n" || lab_fail "dhclient -r: its script saw no RELEASE"
n=$(count_ev "$DHCL_EV" 'BOUND|REBOOT')
dhclient_start
wait_until 20 ev_after "$DHCL_EV" 'BOUND|REBOOT' "$n" || lab_fail "dhclient: no lease after -r"
ip=$(last_ip "$DHCL_EV" 'BOUND|REBOOT')
[ "$ip" = "$IP_DHCL" ] || lab_fail "dhclient re-obtained '$ip', expected its $IP_DHCL again"
wait_until 3 has_lease "$MAC_DHCL" "$IP_DHCL" || lab_fail "store after dhclient's re-obtain: $(leases)"
ok "release: dhclient -r - lease gone from the store; re-obtain (restarted, $(tail -n1 "$DHCL_EV" | cut -d' ' -f1)): $ip again"

# ---- RFC 2131 §4.3.1: a returning client gets its previous address -------------------
# udhcpc and dhcpcd both release; they come back in the other order. "The client's
# previous address as recorded in the client's (now expired or released) binding"
# comes before a new address.
if [ "${IP_UDH##*.}" -lt "${IP_DCD##*.}" ]; then first=dhcpcd; else first=udhcpc; fi
kill -USR2 "$UDH_PID"
dcd -k eth0 >>"$LAB_TMP/dhcpcd.log" 2>&1 || lab_fail "dhcpcd -k eth0 failed (dhcpcd.log)"
wait_until 5 no_lease "$MAC_UDH" && wait_until 5 no_lease "$MAC_DCD" ||
	lab_fail "udhcpc and dhcpcd released, but the store has $(leases)"
lab_wait_exit "$DCD_PID" 10 >/dev/null || true
lab_alive "$DCD_PID" && lab_stop_pid "$DCD_PID" 5 || true
n_u=$(count_ev "$UDH_EV" bound)
n_d=$(count_ev "$DCD_EV" 'BOUND|REBOOT')
for who in "$first" "$([ "$first" = udhcpc ] && echo dhcpcd || echo udhcpc)"; do
	if [ "$who" = udhcpc ]; then
		kill -USR1 "$UDH_PID"
		wait_until 10 ev_after "$UDH_EV" bound "$n_u" || lab_fail "udhcpc: no lease on its return"
	else
		dhcpcd_start
		wait_until 20 ev_after "$DCD_EV" 'BOUND|REBOOT' "$n_d" ||
			lab_fail "dhcpcd: no lease on its return"
	fi
done
ip_u=$(last_ip "$UDH_EV" bound)
ip_d=$(last_ip "$DCD_EV" 'BOUND|REBOOT')
if [ "$ip_u" = "$IP_UDH" ] && [ "$ip_d" = "$IP_DCD" ]; then
	ok "previous address: udhcpc and dhcpcd released, came back $first first, and each got its own address again ($ip_u, $ip_d)"
else
	not_ok "previous address (RFC 2131 §4.3.1): udhcpc had $IP_UDH, dhcpcd $IP_DCD; both released, $first came back first; now udhcpc has $ip_u, dhcpcd $ip_d (pxed forgets a released binding and offers the first free address)"
fi

# A stranger is never offered a reserved address of the pool, even while it is free.
reservation_stranger() {
	local out oip
	kill -USR2 "${R_PID[0]}"
	wait_until 5 no_lease "$MAC_RES" || { res_fail 0 "release not honoured"; return; }
	out=$(probe_in "$PRB_NS" --mac "$MAC_OTHER") || lab_fail "DISCOVER from $MAC_OTHER: no reply"
	oip=$(field yiaddr "$out")
	in_pool "$oip" && [ "$oip" != "$RES_IP" ] ||
		{ res_fail 0 "DISCOVER from $MAC_OTHER while $RES_IP is free: offered '$oip'"; return; }
	ok "reservation in the pool: while $RES_IP is free, a DISCOVER from $MAC_OTHER is offered $oip, not $RES_IP"
}
if [ "${R_OK[0]}" = 1 ]; then
	reservation_stranger
else
	lab_log "reservation in the pool: the stranger's DISCOVER check skipped (it failed above)"
fi

# ---- the end -------------------------------------------------------------------------

lab_alive "$LAB_PXED_PID" || lab_fail "pxed died"
for pid in "$DHCL_PID" "$UDH_PID" "${R_PID[@]}" "$DCD_PID" "$SNIFF_PID"; do
	lab_stop_pid "$pid" 5 || true
done
rc=0
lab_kill_pxed 10 || rc=$?
[ "$rc" = 0 ] || lab_fail "pxed exited with status $rc on SIGTERM"
ok "SIGTERM: pxed exited with status 0"

echo "# $(awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
