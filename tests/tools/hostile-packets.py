#!/usr/bin/env python3
"""Crafted bad DHCP and TFTP packets for tests/integration/hostile.sh.

Each case is one item of the bad input list of PXE-NOTES.md that reaches
the wire. The script sends one case and checks the answer where there must
be one; the test checks pxed's counters around it.

  hostile-packets.py list dhcp|tftp        the case names, one a line
  hostile-packets.py dhcp SERVER CASE      send DHCP case CASE to SERVER:67
  hostile-packets.py tftp SERVER CASE ROOT send TFTP case CASE to SERVER:69
                                           (ROOT: the served directory, for
                                           the cases that compare content)
Exit status 0 when the case went as expected, 1 with a message otherwise.
"""
import hashlib
import os
import socket
import struct
import sys

# ---- DHCP ----------------------------------------------------------------

MAC = bytes.fromhex("02bb00000001")
VC = b"PXEClient:Arch:00000:UNDI:002001"


def bootrequest(hops=0, hlen=6, giaddr=b"\0\0\0\0", file=b"", sname=b""):
    h = struct.pack("!BBBBIHH", 1, 1, hlen, hops, 0x686f7374, 0, 0)
    h += b"\0" * 12 + giaddr + MAC + b"\0" * 10
    h += sname.ljust(64, b"\0") + file.ljust(128, b"\0")
    return h + b"\x63\x82\x53\x63"


def opt(code, value):
    return bytes([code, len(value)]) + value


DISCOVER = opt(53, b"\x01")
# 255 bytes, with what a log or lease file must not take raw: NUL, newline, %s, ESC.
CLIENT_ID = b"\x01" + b"\xff\x00\n%s\x1b[31m" * 25 + b"\x01" * 4
assert len(CLIENT_ID) == 255
RELAY = b"\x0a\x4d\x6e\x05"  # 10.77.110.5: a relay on the lab's own network

# name: (packet, what pxed does with it)
DHCP_CASES = {
    "empty": (b"", "malformed"),
    "truncated": (bootrequest()[:100], "malformed"),
    "no-cookie": (bootrequest()[:236] + b"\0\0\0\0" + DISCOVER + b"\xff", "malformed"),
    "hlen-17": (bootrequest(hlen=17) + DISCOVER + b"\xff", "malformed"),
    "option-past-end": (bootrequest() + DISCOVER + b"\x3c\xc8PXE", "malformed"),
    # A zero-length host name (RFC 2132 wants 1 or more) is taken as none: answered.
    "zero-length-option": (bootrequest() + DISCOVER + b"\x0c\x00\xff", "offer"),
    "no-end": (bootrequest() + DISCOVER + opt(60, VC), "malformed"),
    "two-message-types": (bootrequest() + DISCOVER + opt(53, b"\x03") + b"\xff", "malformed"),
    "overload-bad": (bootrequest() + DISCOVER + opt(52, b"\x04") + b"\xff", "malformed"),
    "overload-file": (
        bootrequest(file=opt(60, VC) + opt(93, b"\0\0") + b"\xff") + DISCOVER + opt(52, b"\x01")
        + b"\xff",
        "offer",
    ),
    "client-id-255": (
        bootrequest() + DISCOVER + opt(61, CLIENT_ID) + b"\xff",
        "offer",
    ),
    "hops-17": (bootrequest(hops=17, giaddr=RELAY) + DISCOVER + b"\xff", "malformed"),
    "option-82-bad": (
        bootrequest(hops=1, giaddr=RELAY) + DISCOVER + opt(82, b"\x01\x09abc") + b"\xff",
        "malformed",
    ),
    "option-82-link-bad": (
        bootrequest(hops=1, giaddr=RELAY) + DISCOVER + opt(82, b"\x05\x03abc") + b"\xff",
        "malformed",
    ),
}


def dhcp(server, case):
    pkt, _ = DHCP_CASES[case]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(pkt, (server, 67))


# ---- TFTP ----------------------------------------------------------------


def rrq(name, mode=b"octet", opts=(), op=1):
    p = struct.pack("!H", op) + name + b"\0" + mode + b"\0"
    for k, v in opts:
        p += k + b"\0" + v + b"\0"
    return p


# name: (packet, TFTP error codes one of which must come back; None: no answer)
TFTP_CASES = {
    "1-byte": (b"\x01", None),
    "3-bytes": (b"\x00\x01a", None),
    "rrq-without-nuls": (b"\x00\x01no-terminator-octet", [4, 0]),
    "rrq-without-mode": (b"\x00\x01small\x00", [4]),
    "unknown-mode": (rrq(b"small", b"mail"), [4]),
    "unknown-opcode": (b"\x00\x09\x00\x00\x00", [4]),
    "blksize-7": (rrq(b"small", opts=((b"blksize", b"7"),)), [8]),
    "blksize-65465": (rrq(b"small", opts=((b"blksize", b"65465"),)), [8]),
    "windowsize-0": (rrq(b"small", opts=((b"windowsize", b"0"),)), [8]),
    "duplicate-option": (rrq(b"small", opts=((b"tsize", b"0"), (b"tsize", b"0"))), [8]),
    "dot-dot": (rrq(b"../../../../etc/passwd"), [1, 2]),
    "absolute": (rrq(b"/etc/passwd"), [1, 2]),
    "backslashes": (rrq(b"..\\..\\..\\etc\\passwd"), [1, 2]),
    "percent-dot-dot": (rrq(b"%2e%2e/%2e%2e/etc/passwd"), [1, 2]),
    "embedded-nul": (b"\x00\x01small\x00../../etc/passwd\x00octet\x00", [4]),
    "symlink-out": (rrq(b"escape"), [1, 2]),
    "wrq-writes-off": (rrq(b"upload", op=2), [2]),
    "ack-to-listener": (b"\x00\x04\x00\x01", None),
}


def tftp_sock():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    return s


def expect_error(s, codes):
    data, addr = s.recvfrom(70000)
    op, code = struct.unpack("!HH", data[:4])
    if op != 5 or code not in codes:
        sys.exit("expected ERROR %s, got opcode %d code %d" % (codes, op, code))
    return addr


def recv_data(s, block):
    data, addr = s.recvfrom(70000)
    op, blk = struct.unpack("!HH", data[:4])
    if op != 3 or blk != block & 0xFFFF:
        sys.exit("expected DATA %d, got opcode %d block %d" % (block, op, blk))
    return data[4:], addr


def ack(s, to, block):
    s.sendto(struct.pack("!HH", 4, block & 0xFFFF), to)


def fetch(server, name, root, stranger=False, dup_acks=False):
    """A lockstep download: with a stranger's ACK, or every ACK sent three times."""
    a, b = tftp_sock(), tftp_sock()
    a.sendto(rrq(name.encode()), (server, 69))
    got, tid = recv_data(a, 1)
    if stranger:  # RFC 1350 §4: ERROR 5 to the stranger; the transfer goes on
        ack(b, tid, 1)
        expect_error(b, [5])
    block = 1
    while True:
        for _ in range(3 if dup_acks else 1):
            ack(a, tid, block)
        if len(got) != 512 * block:
            break
        block += 1
        chunk, _ = recv_data(a, block)
        got += chunk
    # The Sorcerer's Apprentice (RFC 1123 §4.2.3.1): duplicate ACKs get no duplicate DATA.
    a.settimeout(0.3)
    try:
        extra, _ = a.recvfrom(70000)
        sys.exit("a packet after the last ACK: %r" % extra[:4])
    except socket.timeout:
        pass
    with open(os.path.join(root, name), "rb") as f:
        if hashlib.sha256(got).digest() != hashlib.sha256(f.read()).digest():
            sys.exit("content differs")


def lost_last_ack(server):
    """Takes every block but never acknowledges the last one, then goes away."""
    s = tftp_sock()
    s.sendto(rrq(b"small"), (server, 69))
    block = 1
    while True:
        data, tid = recv_data(s, block)
        if len(data) < 512:
            return
        ack(s, tid, block)
        block += 1


def tftp(server, case, root):
    if case == "stranger-ack":
        return fetch(server, "small", root, stranger=True)
    if case == "duplicate-acks":
        return fetch(server, "small", root, dup_acks=True)
    if case == "lost-last-ack":
        return lost_last_ack(server)
    pkt, codes = TFTP_CASES[case]
    s = tftp_sock()
    s.sendto(pkt, (server, 69))
    if codes is not None:
        expect_error(s, codes)
    return None


TFTP_FLOWS = ["stranger-ack", "duplicate-acks", "lost-last-ack"]


def main():
    a = sys.argv[1:]
    if len(a) == 2 and a[0] == "list":
        names = DHCP_CASES if a[1] == "dhcp" else list(TFTP_CASES) + TFTP_FLOWS
        for n in names:
            print(n, DHCP_CASES[n][1] if a[1] == "dhcp" else "")
    elif len(a) == 3 and a[0] == "dhcp":
        dhcp(a[1], a[2])
    elif len(a) == 4 and a[0] == "tftp":
        tftp(a[1], a[2], a[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
