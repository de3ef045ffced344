#!/usr/bin/env python3
"""dhcp-sniff.py IFACE OUTDIR MAX_SECONDS: save every DHCP datagram seen on IFACE.
dhcp-sniff.py --classify OUTDIR DEST: copy the first client message of each kind.

A capture without tcpdump, for tests/fuzz/capture-seeds.sh: an AF_PACKET socket
(run it inside the lab's network namespace, as root) reads Ethernet frames,
keeps IPv4/UDP datagrams from or to ports 67, 68 and 4011, and writes each UDP
payload to OUTDIR/NNNN-SRCPORT-DSTPORT.bin at once (the process may be killed
at any moment). It stops after MAX_SECONDS or 2000 datagrams, whichever comes
first.

--classify names what clients sent (to ports 67 and 4011) by firmware and
message, e.g. bios-ipxe-discover.bin, uefi-edk2-request-4011.bin, and copies
the first datagram of each name from OUTDIR to DEST.
"""
import os
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PORTS = {67, 68, 4011}
MAX_PACKETS = 2000


def udp_payload(frame):
    """(sport, dport, payload) of an Ethernet/IPv4/UDP frame, or None."""
    if len(frame) < 14 + 20 + 8 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    if ip[0] >> 4 != 4 or ihl < 20 or ip[9] != 17 or len(ip) < ihl + 8:
        return None
    total = struct.unpack("!H", ip[2:4])[0]
    udp = ip[ihl:total]
    if len(udp) < 8:
        return None
    sport, dport, ulen = struct.unpack("!HHH", udp[:6])
    if sport not in PORTS and dport not in PORTS:
        return None
    return sport, dport, udp[8:ulen]


MSG_NAMES = {1: "discover", 3: "request", 4: "decline", 7: "release", 8: "inform"}


def dhcp_options(payload):
    """{code: value} of a BOOTREQUEST's options field (repeats concatenated)."""
    opts = {}
    i = 240
    if len(payload) < 240 or payload[236:240] != b"\x63\x82\x53\x63":
        return opts
    while i < len(payload):
        code = payload[i]
        if code == 255:
            break
        if code == 0:
            i += 1
            continue
        if i + 2 > len(payload):
            break
        n = payload[i + 1]
        opts[code] = opts.get(code, b"") + payload[i + 2:i + 2 + n]
        i += 2 + n
    return opts


def seed_name(payload, dport):
    """bios-ipxe-discover, uefi-edk2-request-4011, ... or None."""
    if len(payload) < 240 or payload[0] != 1:
        return None
    o = dhcp_options(payload)
    msg = MSG_NAMES.get(o.get(53, b"\0")[0])
    if msg is None:
        return None
    arch = struct.unpack("!H", o[93][:2])[0] if len(o.get(93, b"")) >= 2 else 0
    fw = "bios" if arch == 0 else "uefi"
    ipxe = o.get(77) == b"iPXE" or 175 in o
    who = "ipxe" if ipxe else ("edk2" if fw == "uefi" else "pxe")
    return "%s-%s-%s%s" % (fw, who, msg, "-4011" if dport == 4011 else "")


def classify(outdir, dest):
    os.makedirs(dest, exist_ok=True)
    seen = set()
    for f in sorted(os.listdir(outdir)):
        parts = f[:-4].split("-")
        if not f.endswith(".bin") or len(parts) != 3 or parts[2] not in ("67", "4011"):
            continue
        with open(os.path.join(outdir, f), "rb") as fh:
            payload = fh.read()
        name = seed_name(payload, int(parts[2]))
        if name is None or name in seen:
            continue
        seen.add(name)
        with open(os.path.join(dest, name + ".bin"), "wb") as fh:
            fh.write(payload)
        print("%s.bin %d bytes (from %s)" % (name, len(payload), f))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--classify":
        classify(sys.argv[2], sys.argv[3])
        return
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    iface, outdir, limit = sys.argv[1], sys.argv[2], float(sys.argv[3])
    os.makedirs(outdir, exist_ok=True)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((iface, 0))
    s.settimeout(0.5)
    deadline = time.monotonic() + limit
    n = 0
    while n < MAX_PACKETS and time.monotonic() < deadline:
        try:
            frame = s.recv(65535)
        except socket.timeout:
            continue
        got = udp_payload(frame)
        if got is None:
            continue
        sport, dport, payload = got
        path = os.path.join(outdir, "%04d-%d-%d.bin" % (n, sport, dport))
        with open(path, "wb") as f:
            f.write(payload)
        n += 1


if __name__ == "__main__":
    main()
