#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Least privilege (docs/security.md), in network namespaces (needs root):
#  1. pxed serve (DHCP on br0, TFTP, HTTP, uploads) started as root runs as the user
#     pxed: Uid, no capabilities at all (CapEff/CapPrm/CapBnd/CapAmb), no_new_privs,
#     a seccomp filter; the state and upload directories now belong to pxed, the roots
#     stay root's;
#  2. with the drop on, the daemon still works: a DHCP lease (stored), a TFTP download,
#     an HTTP download, a built-in boot program (through Debian's symlink into /boot),
#     a profile's kernel over HTTP, a TFTP upload; a symlink in the roots that points
#     outside is refused over TFTP and HTTP; seccomp refused no system call;
#  3. pxed sandbox-check with the same config: reading in a root and writing in the
#     state directory work; reading /etc/passwd, writing in a root, a TCP connection
#     and running /bin/false are refused;
#  4. the same as root with seccomp off: the refusals are Landlock's own (EACCES), as
#     root would otherwise be allowed each of them;
#  5. a config naming a user that does not exist: pxed exits 1 with FILE:LINE, the
#     useradd command and `root` as the way out;
#  6. security.user root: pxed keeps uid 0 without capabilities, says so in a warning,
#     and still serves;
#  7. started as pxed with ambient capabilities (packaging/pxed.service): every one is
#     cleared after start, and it serves; SIGTERM: a clean exit (status 0) every time.
# Usage: tests/integration/privdrop.sh [BUILD_DIR]   (default: build)
set -euo pipefail

BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib-dhcp.sh
. "$HERE/lib-dhcp.sh"

NS=pxed-it-privdrop
OCTET=90
MAC=52:54:00:5a:00:01

[ -x "$PROBE" ] || { echo "not ok - dhcp-probe not built: $PROBE (ninja -C $BUILD)"; exit 1; }
[ -x "$PXED" ] || { echo "not ok - pxed not built: $PXED"; exit 1; }
for tool in curl sqlite3; do
	command -v "$tool" >/dev/null || { echo "not ok - $tool is not installed"; exit 1; }
done
id -u pxed >/dev/null 2>&1 || { echo "not ok - no user pxed: run scripts/deps.sh"; exit 1; }
# A sanitizer build keeps its user, without Landlock and seccomp (src/main.c); under
# valgrind there is no seccomp: what this test checks is the normal build's.
real=$(readlink -f "$PXED")
# (The valgrind wrapper, scripts/valgrind-pxed.sh, is a script: "#!".)
if grep -qa __asan_init "$real" || [ "$(head -c 2 "$real")" = "#!" ]; then
	echo "ok - privilege drop # SKIP $PXED is a sanitizer build or runs under valgrind"
	exit 0
fi
PXED_UID=$(id -u pxed)

lab_setup "$NS" "$OCTET"
SERVER=$LAB_SERVER_IP
lab_add_host cli
CLI_NS=$LAB_HOST_NS
ip -n "$CLI_NS" link set eth0 address "$MAC"

# ---- files and config ------------------------------------------------------

ROOT=$LAB_TMP/root
UPLOADS=$LAB_TMP/uploads
STATE=$LAB_TMP/state
mkdir -p "$ROOT/sub" "$UPLOADS"
head -c 70000 /dev/urandom >"$ROOT/f1"
head -c 3000 /dev/urandom >"$ROOT/sub/f2"
head -c 20000 /dev/urandom >"$LAB_TMP/vmlinuz"
head -c 5000 /dev/urandom >"$LAB_TMP/up.bin"
echo "secret outside the roots" >"$LAB_TMP/secret"
ln -s "$LAB_TMP/secret" "$ROOT/escape"
ln -s ../secret "$ROOT/escape-rel"

# config FILE [SECURITY-YAML...]: the lab's config, with extra lines under security:.
config() {
	local file=$1
	shift
	cat >"$file" <<EOF
interfaces: [$LAB_BR]
state_dir: $STATE
tftp:
  root: $ROOT
  upload_dir: $UPLOADS
http:
  root: $ROOT
  port: 8080
subnets:
  - subnet: $LAB_NET.0/24
    pool: $LAB_NET.100-$LAB_NET.119
profiles:
  default:
    kernel: $LAB_TMP/vmlinuz
default_profile: default
EOF
	if [ $# -gt 0 ]; then
		echo "security:" >>"$file"
		printf '  %s\n' "$@" >>"$file"
	fi
	"$PXED" check --config "$file" >/dev/null || lab_fail "pxed check refused $file"
}

# on CMD...: CMD in the client's namespace.
on() { ip netns exec "$CLI_NS" "$@"; }

# status_field PID NAME: a field of /proc/PID/status.
status_field() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# start CONFIG: pxed serve in the lab, waited for (and lab_wait_port checks the drop).
start() {
	lab_pxed serve --config "$1"
	lab_wait_port udp 67 || lab_fail "pxed does not listen on UDP 67"
	lab_wait_port tcp 8080 || lab_fail "pxed does not listen on TCP 8080"
}

# ---- 1. the drop -----------------------------------------------------------

config "$LAB_TMP/pxed.yaml"
start "$LAB_TMP/pxed.yaml"
PID=$LAB_PXED_PID
[ "$(status_field "$PID" Uid)" = "$PXED_UID" ] || lab_fail "pxed's uid is not pxed's"
[ "$(status_field "$PID" CapBnd)" = 0000000000000000 ] ||
	lab_fail "pxed's bounding set is $(status_field "$PID" CapBnd), expected empty"
for f in CapEff CapPrm CapAmb; do
	[ "$(status_field "$PID" "$f")" = 0000000000000000 ] || lab_fail "pxed's $f is not empty"
done
[ "$(status_field "$PID" NoNewPrivs)" = 1 ] || lab_fail "NoNewPrivs is not 1"
[ "$(status_field "$PID" Seccomp)" = 2 ] || lab_fail "Seccomp is not 2"
grep -q "running as uid $PXED_UID gid .*, no capabilities, Landlock ABI [0-9]*, seccomp [0-9]* calls" \
	"$LAB_TMP/pxed.log" || lab_fail "no 'running as' line in the log"
ok "pxed runs as pxed ($PXED_UID): no capabilities, empty bounding set, no_new_privs, seccomp"

[ "$(stat -c %U "$STATE")" = pxed ] && [ "$(stat -c %U "$STATE/pxed.db")" = pxed ] &&
	[ "$(stat -c %U "$UPLOADS")" = pxed ] || lab_fail "state or upload directory not pxed's"
bad=$(find "$STATE" ! -user pxed | head -n 3)
[ -z "$bad" ] || lab_fail "not pxed's in the state directory: $bad"
[ "$(stat -c %U "$ROOT")" = root ] && [ "$(stat -c %U "$ROOT/f1")" = root ] ||
	lab_fail "the root changed owner"
ok "the state and upload directories belong to pxed; the root is still root's"

# ---- 2. serving with the drop on --------------------------------------------

out=$(probe --type dora --mac "$MAC") || lab_fail "dhcp-probe --type dora got no reply"
expect type ACK "$out" "DORA"
ip=$(field yiaddr "$out")
n=$(sqlite3 "$STATE/pxed.db" "select count(*) from leases where $IPSQL = '$ip'")
[ "$n" = 1 ] || lab_fail "the lease on $ip is not in the store"
ok "DHCP: $ip leased to $MAC and stored"
ip -n "$CLI_NS" addr add "$ip/24" dev eth0 || lab_fail "cannot give the client $ip"

on curl -sS --max-time 20 -o "$LAB_TMP/t1" "tftp://$SERVER/f1" || lab_fail "TFTP f1 failed"
cmp -s "$LAB_TMP/t1" "$ROOT/f1" || lab_fail "TFTP f1: other bytes"
on curl -sS --max-time 20 -o "$LAB_TMP/t2" "tftp://$SERVER/sub/f2" || lab_fail "TFTP sub/f2 failed"
cmp -s "$LAB_TMP/t2" "$ROOT/sub/f2" || lab_fail "TFTP sub/f2: other bytes"
ok "TFTP downloads: f1 and sub/f2, the same bytes"

code=$(on curl -sS --max-time 20 -o "$LAB_TMP/h1" -w '%{http_code}' "http://$SERVER:8080/f1")
[ "$code" = 200 ] && cmp -s "$LAB_TMP/h1" "$ROOT/f1" || lab_fail "HTTP f1: status $code"
code=$(on curl -sS --max-time 20 -o "$LAB_TMP/k" -w '%{http_code}' \
	"http://$SERVER:8080/files/default/kernel")
[ "$code" = 200 ] && cmp -s "$LAB_TMP/k" "$LAB_TMP/vmlinuz" || lab_fail "HTTP kernel: $code"
ok "HTTP downloads: a file of the root and the profile's kernel"

# Debian's /usr/lib/ipxe/ipxe.efi is a link to /boot/ipxe.efi: its target is allowed.
if [ -r /usr/lib/ipxe/ipxe.efi ] && [ -r /usr/lib/ipxe/snponly.efi ]; then
	on curl -sS --max-time 30 -o "$LAB_TMP/ipxe.efi" "tftp://$SERVER/ipxe.efi" ||
		lab_fail "TFTP ipxe.efi failed"
	cmp -s "$LAB_TMP/ipxe.efi" /usr/lib/ipxe/ipxe.efi || lab_fail "ipxe.efi: other bytes"
	on curl -sS --max-time 30 -o "$LAB_TMP/snp.efi" "tftp://$SERVER/snponly.efi" ||
		lab_fail "TFTP snponly.efi failed"
	cmp -s "$LAB_TMP/snp.efi" /usr/lib/ipxe/snponly.efi || lab_fail "snponly.efi: other bytes"
	ok "built-in programs: snponly.efi and ipxe.efi (a link into /boot)"
else
	echo "ok - built-in programs # SKIP the ipxe package is not installed"
fi

on curl -sS --max-time 20 -T "$LAB_TMP/up.bin" "tftp://$SERVER/up.bin" || lab_fail "upload failed"
cmp -s "$UPLOADS/up.bin" "$LAB_TMP/up.bin" || lab_fail "the upload has other bytes"
[ "$(stat -c %U "$UPLOADS/up.bin")" = pxed ] || lab_fail "the upload is not pxed's"
ok "TFTP upload: written by pxed in the upload directory"

for link in escape escape-rel; do
	if on curl -sS --max-time 10 -o "$LAB_TMP/esc" "tftp://$SERVER/$link" 2>/dev/null; then
		lab_fail "TFTP served $link, a link out of the root"
	fi
	code=$(on curl -s --max-time 10 -o "$LAB_TMP/esc" -w '%{http_code}' \
		"http://$SERVER:8080/$link" || true)
	[ "$code" != 200 ] || lab_fail "HTTP served $link, a link out of the root"
done
ok "links out of the root (absolute and ../) are refused over TFTP and HTTP"

# ---- 3. sandbox-check --------------------------------------------------------

# sandbox_check CONFIG: runs it in the lab; the output in $SC.
sandbox_check() {
	SC=$(ip netns exec "$LAB_NS" "$PXED" sandbox-check --config "$1" 2>"$LAB_TMP/sc.err") ||
		lab_fail "sandbox-check: $(tr '\n' ' ' <<<"$SC") $(tr '\n' ' ' <"$LAB_TMP/sc.err")"
	sed 's/^/#   /' <<<"$SC"
}

# sc_expect NAME OUTCOME: the sandbox-check line NAME ends in OUTCOME.
sc_expect() {
	grep -Eq "^$1 .*: $2" <<<"$SC" || lab_fail "sandbox-check: $1 is not '$2': $(grep "^$1 " <<<"$SC")"
}

sandbox_check "$LAB_TMP/pxed.yaml"
grep -q "^uid $PXED_UID " <<<"$SC" || lab_fail "sandbox-check did not run as pxed"
sc_expect read-root allowed
sc_expect write-state allowed
sc_expect read-outside 'denied'
sc_expect write-root 'denied'
sc_expect connect-tcp 'denied'
sc_expect exec 'denied'
ok "sandbox-check as pxed: reads the root, writes the state; /etc/passwd, writing the root, TCP and exec refused"
lab_kill_pxed || lab_fail "pxed did not exit cleanly on SIGTERM (status $?)"
ok "SIGTERM: a clean exit with the drop on"

# ---- 4. Landlock alone: root without seccomp (the state directory becomes root's) --

config "$LAB_TMP/root.yaml" "user: root" "seccomp: false"
sandbox_check "$LAB_TMP/root.yaml"
grep -q "^uid 0 .*landlock-abi [1-9].* seccomp-calls 0" <<<"$SC" ||
	lab_fail "sandbox-check did not run as root with Landlock and without seccomp"
sc_expect read-root allowed
sc_expect write-state allowed
sc_expect read-outside 'denied \(Permission denied\)'
sc_expect write-root 'denied \(Permission denied\)'
sc_expect connect-tcp 'denied \(Permission denied\)'
sc_expect exec 'denied \(Permission denied\)'
ok "Landlock alone (as root, seccomp off) refuses /etc/passwd, writing the root, TCP and exec"

# ---- 5. a user that does not exist ---------------------------------------------

config "$LAB_TMP/nouser.yaml" "user: pxed-no-such-user"
line=$(grep -n 'user: pxed-no-such-user' "$LAB_TMP/nouser.yaml" | cut -d: -f1)
if err=$(ip netns exec "$LAB_NS" "$PXED" serve --config "$LAB_TMP/nouser.yaml" 2>&1); then
	lab_fail "pxed started with a user that does not exist"
fi
grep -q "nouser.yaml:$line: security.user: no user 'pxed-no-such-user'" <<<"$err" &&
	grep -q "useradd --system" <<<"$err" && grep -q "root" <<<"$err" ||
	lab_fail "the message does not name the line and the fix: $err"
ok "a missing user: pxed exits 1 naming nouser.yaml:$line, useradd and root"

# ---- 6. user root ----------------------------------------------------------------

config "$LAB_TMP/asroot.yaml" "user: root"
LAB_PXED_USER=root
start "$LAB_TMP/asroot.yaml"
grep -q "security.user is root: pxed keeps uid 0" "$LAB_TMP/pxed.log" ||
	lab_fail "no warning about running as root"
on curl -sS --max-time 20 -o "$LAB_TMP/t3" "tftp://$SERVER/f1" || lab_fail "TFTP as root failed"
cmp -s "$LAB_TMP/t3" "$ROOT/f1" || lab_fail "TFTP as root: other bytes"
out=$(probe --type dora --mac "$MAC") || lab_fail "dhcp-probe got no reply from pxed as root"
expect type ACK "$out" "DORA as root"
lab_kill_pxed || lab_fail "pxed as root did not exit cleanly (status $?)"
LAB_PXED_USER=pxed
ok "user root: uid 0 without capabilities, a warning, TFTP and DHCP still served"

# ---- 7. started as pxed with ambient capabilities, as packaging/pxed.service does ------

chown -R pxed:pxed "$STATE" # StateDirectory= does this
ip netns exec "$LAB_NS" setpriv --pdeathsig TERM --reuid pxed --regid pxed --init-groups \
	--inh-caps +net_bind_service,+net_raw,+net_admin \
	--ambient-caps +net_bind_service,+net_raw,+net_admin -- \
	"$PXED" serve --config "$LAB_TMP/pxed.yaml" </dev/null >>"$LAB_TMP/pxed.log" 2>&1 &
LAB_PXED_PID=$!
lab_track_pid "$LAB_PXED_PID"
lab_wait_port udp 67 || lab_fail "pxed started as pxed does not listen on UDP 67"
grep -q "running as uid $PXED_UID gid [0-9]* (not changed), no capabilities" "$LAB_TMP/pxed.log" ||
	lab_fail "pxed started as pxed did not say it kept its uid"
on curl -sS --max-time 20 -o "$LAB_TMP/t4" "tftp://$SERVER/f1" || lab_fail "TFTP failed"
cmp -s "$LAB_TMP/t4" "$ROOT/f1" || lab_fail "TFTP (started as pxed): other bytes"
lab_kill_pxed || lab_fail "pxed started as pxed did not exit cleanly (status $?)"
ok "started as pxed with ambient capabilities (the systemd unit): none left, still serves"

# ---- seccomp refused nothing ---------------------------------------------------------

if grep -q "seccomp refused" "$LAB_TMP/pxed.log"; then
	lab_fail "seccomp refused a call: $(grep "seccomp refused" "$LAB_TMP/pxed.log" | sort -u)"
fi
ok "seccomp refused no system call the daemon made"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
