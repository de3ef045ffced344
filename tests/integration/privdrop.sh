#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Least privilege (docs/security.md), in network namespaces (needs root):
#  1. pxed serve (DHCP on br0, TFTP, HTTP, uploads) started as root runs as the user
#     pxed: Uid, Gid, only pxed's own Groups, no capabilities at all (CapEff/CapPrm/
#     CapBnd/CapAmb), no_new_privs, a seccomp filter; lab_check_privdrop fails on a
#     wrong gid or groups; the state and upload directories and pxed's files in them
#     now belong to pxed; the roots, subdirectories, links and their targets, and
#     other files in the state directory stay root's;
#  2. with the drop on, the daemon still works: a DHCP lease (stored), a TFTP download,
#     an HTTP download, a built-in boot program (through Debian's symlink into /boot),
#     a profile's kernel over HTTP, a TFTP upload; a symlink in the roots that points
#     outside is refused over TFTP and HTTP; seccomp refused no system call;
#  3. pxed sandbox-check with the same config: reading in a root and writing in the
#     state directory work; reading /etc/passwd, writing in a root, a TCP connection,
#     ioctl(TIOCSTI) (also on a terminal, under script) and running /bin/false are
#     refused;
#  4. the same as root with seccomp off: the refusals are Landlock's own (EACCES), as
#     root would otherwise be allowed each of them (TCP only with Landlock ABI 4 and
#     later: older kernels' Landlock has no network rules);
#  5. a config naming a user that does not exist: pxed exits 1 with FILE:LINE, the
#     useradd command and `root` as the way out;
#  6. security.user root: pxed keeps uid 0 without capabilities, says so in a warning,
#     and still serves;
#  7. started as pxed with ambient capabilities (packaging/pxed.service): every one is
#     cleared after start, and it serves; SIGTERM: a clean exit (status 0) every time;
#  8. a pxed.db planted as a symlink (or a hard link, a -wal symlink, another user's
#     file): serve, leases and timeline refuse it, naming the file; the target is
#     untouched;
#  9. a state_dir that overlaps a root (config: FILE:LINE; --state-dir: a message), or
#     is /: refused before anything is created or chowned.
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
# What pxed must not give to its user: all but its own files in the state directory, and
# in the upload directory what is not a regular file directly in it with one link.
mkdir -p "$STATE/keep" "$UPLOADS/dir"
echo kept >"$STATE/keep/file"
echo kept >"$STATE/other"
ln -s "$LAB_TMP/secret" "$STATE/link"
echo old >"$UPLOADS/old.txt"
echo kept >"$UPLOADS/dir/inner"
ln -s "$LAB_TMP/secret" "$UPLOADS/link"
ln "$LAB_TMP/secret" "$UPLOADS/hard"

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
gid=$(id -g pxed)
v=$(awk '$1 == "Gid:" { print $2, $3, $4, $5 }' "/proc/$PID/status")
[ "$v" = "$gid $gid $gid $gid" ] || lab_fail "pxed's Gid is '$v', expected $gid four times"
v=$(awk '$1 == "Groups:" { $1 = ""; print }' "/proc/$PID/status" | tr ' ' '\n' | sed '/^$/d' | sort -n | xargs)
[ "$v" = "$(id -G pxed | tr ' ' '\n' | sort -n | xargs)" ] ||
	lab_fail "pxed's Groups is '$v', expected pxed's own: $(id -G pxed)"
[ "$(status_field "$PID" CapBnd)" = 0000000000000000 ] ||
	lab_fail "pxed's bounding set is $(status_field "$PID" CapBnd), expected empty"
for f in CapEff CapPrm CapAmb; do
	[ "$(status_field "$PID" "$f")" = 0000000000000000 ] || lab_fail "pxed's $f is not empty"
done
[ "$(status_field "$PID" NoNewPrivs)" = 1 ] || lab_fail "NoNewPrivs is not 1"
[ "$(status_field "$PID" Seccomp)" = 2 ] || lab_fail "Seccomp is not 2"
grep -q "running as uid $PXED_UID gid .*, no capabilities, Landlock ABI [0-9]*, seccomp [0-9]* calls" \
	"$LAB_TMP/pxed.log" || lab_fail "no 'running as' line in the log"
ok "pxed runs as pxed ($PXED_UID, group $gid, groups $v): no capabilities, empty bounding set, no_new_privs, seccomp"

# lab_check_privdrop (every lab test's check) fails on a wrong gid or wrong groups: id
# is made to lie about pxed's primary group, then about its groups.
# shellcheck disable=SC2317 # id() is called by lab_check_privdrop
out=$( (id() { if [ "$1" = -g ]; then echo 4242; else command id "$@"; fi; }
	lab_check_privdrop "$PID") 2>&1) && lab_fail "lab_check_privdrop passed a wrong gid"
grep -q "Gid is '$gid $gid $gid $gid', expected pxed's group (4242)" <<<"$out" ||
	lab_fail "lab_check_privdrop did not name the gid: $out"
# shellcheck disable=SC2317 # id() is called by lab_check_privdrop
out=$( (id() { if [ "$1" = -G ]; then echo "$gid 4242"; else command id "$@"; fi; }
	lab_check_privdrop "$PID") 2>&1) && lab_fail "lab_check_privdrop passed wrong groups"
grep -q "Groups is .*expected pxed's own: '$gid 4242 '" <<<"$out" ||
	lab_fail "lab_check_privdrop did not name the groups: $out"
ok "lab_check_privdrop fails on a wrong gid and on wrong groups"

for f in "$STATE" "$STATE/pxed.db" "$STATE/pxed.db-wal" "$UPLOADS" "$UPLOADS/old.txt"; do
	[ "$(stat -c %U "$f")" = pxed ] || lab_fail "$f is not pxed's"
done
for f in "$ROOT" "$ROOT/f1" "$STATE/keep" "$STATE/keep/file" "$STATE/other" "$STATE/link" \
	"$UPLOADS/dir" "$UPLOADS/dir/inner" "$UPLOADS/link" "$UPLOADS/hard" "$LAB_TMP/secret"; do
	[ "$(stat -c %U "$f")" = root ] || lab_fail "$f changed owner (now $(stat -c %U "$f"))"
done
ok "the state and upload directories and pxed's files belong to pxed; subdirectories, links, hard links and the root are still root's"

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

# An address pxed never leased: the client's MAC comes from /proc/net/arp, which pxed
# opened before the drop (Landlock has no rule for /proc).
ip -n "$CLI_NS" addr add "$LAB_NET.77/24" dev eth0 || lab_fail "cannot give the client $LAB_NET.77"
code=$(on curl -sS --max-time 20 --interface "$LAB_NET.77" -o /dev/null -w '%{http_code}' \
	"http://$SERVER:8080/sub/f2")
[ "$code" = 200 ] || lab_fail "HTTP from $LAB_NET.77: status $code"
for ((i = 0; i < 20; i++)); do
	grep -q "http  $MAC $LAB_NET.77 transfer file /sub/f2" "$LAB_TMP/pxed.log" && break
	sleep 0.1
done
grep -q "http  $MAC $LAB_NET.77 transfer file /sub/f2" "$LAB_TMP/pxed.log" ||
	lab_fail "the HTTP transfer from $LAB_NET.77 was not logged with $MAC (from /proc/net/arp)"
ok "HTTP from an address pxed never leased: the client's MAC read from /proc/net/arp"

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
sc_expect read-proc 'denied'
sc_expect write-root 'denied'
sc_expect connect-tcp 'denied'
sc_expect ioctl-tiocsti 'denied \(Operation not permitted\)'
sc_expect exec 'denied'
ok "sandbox-check as pxed: reads the root, writes the state; /etc/passwd, writing the root, TCP, TIOCSTI and exec refused"

# On a terminal of its own (script gives it a pty): TIOCSTI could type into it.
if command -v script >/dev/null; then
	SC=$(ip netns exec "$LAB_NS" script -qec "$PXED sandbox-check --config $LAB_TMP/pxed.yaml" \
		/dev/null </dev/null 2>&1 | tr -d '\r') || lab_fail "sandbox-check under script: $SC"
	sc_expect ioctl-tiocsti 'denied \(Operation not permitted\)'
	ok "sandbox-check on a terminal: ioctl(TIOCSTI) refused by seccomp"
else
	echo "ok - TIOCSTI on a terminal # SKIP script (util-linux) is not installed"
fi
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
sc_expect read-proc 'denied \(Permission denied\)'
sc_expect write-root 'denied \(Permission denied\)'
sc_expect exec 'denied \(Permission denied\)'
sc_expect ioctl-tiocsti 'skipped'
abi=$(sed -n 's/^uid .* landlock-abi \([0-9]*\) .*/\1/p' <<<"$SC")
# Landlock has network rules from ABI 4 (Linux 6.7) on; before, only seccomp refuses TCP.
if [ "$abi" -ge 4 ]; then
	sc_expect connect-tcp 'denied \(Permission denied\)'
	ok "Landlock alone (as root, seccomp off, ABI $abi) refuses /etc/passwd, writing the root, TCP and exec"
else
	sc_expect connect-tcp 'allowed'
	ok "Landlock alone (as root, seccomp off, ABI $abi) refuses /etc/passwd, writing the root and exec (TCP: ABI 4+)"
fi

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

# ---- 8. a store planted as a link ------------------------------------------------------

EVIL=$LAB_TMP/state-evil
mkdir -p "$EVIL"
chown pxed:pxed "$EVIL"
echo "root's own file" >"$LAB_TMP/target"
chmod 600 "$LAB_TMP/target"
before=$(stat -c '%U %s %Y' "$LAB_TMP/target")$(sha256sum <"$LAB_TMP/target")
sed "s|^state_dir: .*|state_dir: $EVIL|" "$LAB_TMP/pxed.yaml" >"$LAB_TMP/evil.yaml"

# refused WHAT FILE ARGS...: pxed ARGS fails, naming FILE and WHAT; the target is as it was.
refused() {
	local what=$1 file=$2 err
	shift 2
	if err=$(ip netns exec "$LAB_NS" timeout 20 "$PXED" "$@" </dev/null 2>&1); then
		lab_fail "pxed $1 accepted $file, which $what"
	fi
	grep -q "$file $what: pxed will not open it" <<<"$err" ||
		lab_fail "pxed $1 did not name $file ($what): $err"
	[ "$(stat -c '%U %s %Y' "$LAB_TMP/target")$(sha256sum <"$LAB_TMP/target")" = "$before" ] ||
		lab_fail "pxed $1 changed the target of $file"
}

ln -s "$LAB_TMP/target" "$EVIL/pxed.db"
refused "is a symbolic link" "$EVIL/pxed.db" serve --config "$LAB_TMP/evil.yaml"
refused "is a symbolic link" "$EVIL/pxed.db" leases --state-dir "$EVIL"
refused "is a symbolic link" "$EVIL/pxed.db" timeline "$MAC" --state-dir "$EVIL"
[ "$(stat -c %U "$LAB_TMP/target")" = root ] || lab_fail "the target changed owner"
ok "pxed.db a symlink to root's file: serve, leases and timeline refuse it; the target is untouched"

rm "$EVIL/pxed.db"
ln "$LAB_TMP/target" "$EVIL/pxed.db"
refused "has more than one hard link" "$EVIL/pxed.db" serve --config "$LAB_TMP/evil.yaml"
rm "$EVIL/pxed.db"
cp "$STATE/pxed.db" "$EVIL/pxed.db"
ln -s "$LAB_TMP/target" "$EVIL/pxed.db-wal"
refused "is a symbolic link" "$EVIL/pxed.db-wal" leases --state-dir "$EVIL"
rm "$EVIL/pxed.db-wal"
chown nobody "$EVIL/pxed.db"
refused "belongs to a user other than root and the state directory's owner" "$EVIL/pxed.db" \
	leases --state-dir "$EVIL"
chown pxed "$EVIL/pxed.db"
"$PXED" leases --state-dir "$EVIL" >/dev/null || lab_fail "pxed leases refused a plain pxed.db of pxed's"
ok "a hard link, a -wal symlink and another user's pxed.db are refused; pxed's own is read"

# ---- 9. a state directory that overlaps a root, or is / -------------------------------

sed "s|^state_dir: .*|state_dir: $ROOT/state|" "$LAB_TMP/pxed.yaml" >"$LAB_TMP/overlap.yaml"
line=$(grep -n '^state_dir:' "$LAB_TMP/overlap.yaml" | cut -d: -f1)
for cmd in sandbox-check serve; do
	if err=$(ip netns exec "$LAB_NS" "$PXED" $cmd --config "$LAB_TMP/overlap.yaml" 2>&1 </dev/null); then
		lab_fail "pxed $cmd accepted a state_dir inside the root"
	fi
	grep -q "overlap.yaml:$line: state_dir $ROOT/state overlaps tftp.root $ROOT" <<<"$err" ||
		lab_fail "pxed $cmd did not name overlap.yaml:$line: $err"
done
[ ! -e "$ROOT/state" ] || lab_fail "pxed made $ROOT/state all the same"
for dir in "$ROOT" /; do
	if err=$(ip netns exec "$LAB_NS" "$PXED" serve --config "$LAB_TMP/pxed.yaml" \
		--state-dir "$dir" 2>&1 </dev/null); then
		lab_fail "pxed serve accepted --state-dir $dir"
	fi
	grep -Eq "state_dir $dir (overlaps tftp.root|is /, a directory of the system)" <<<"$err" ||
		lab_fail "pxed serve --state-dir $dir: no clear message: $err"
done
[ "$(stat -c %U "$ROOT")" = root ] && [ "$(stat -c %U "$ROOT/f1")" = root ] &&
	[ "$(stat -c %U /)" = root ] || lab_fail "a refused state directory changed owner"
ok "state_dir in the root: refused with overlap.yaml:$line; --state-dir the root or /: refused, nothing chowned"

# ---- seccomp refused nothing ---------------------------------------------------------

if grep -q "seccomp refused" "$LAB_TMP/pxed.log"; then
	lab_fail "seccomp refused a call: $(grep "seccomp refused" "$LAB_TMP/pxed.log" | sort -u)"
fi
ok "seccomp refused no system call the daemon made"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
