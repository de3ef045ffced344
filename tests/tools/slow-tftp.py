#!/usr/bin/env python3
"""A TFTP client that waits DELAY seconds before each ACK (RFC 1350, 2347, 2348), for tests
that need a download to last: slow-tftp.py SERVER PORT NAME OUT DELAY BLKSIZE.
Writes the file to OUT; exits non-zero on a TFTP error or a 10-s silence."""
import socket, struct, sys, time
server, port, name, out, delay, blksize = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5]), int(sys.argv[6])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(10)
s.sendto(b"\0\1" + name.encode() + b"\0octet\0blksize\0" + str(blksize).encode() + b"\0", (server, port))
want, data = 1, bytearray()
while True:
    pkt, peer = s.recvfrom(65536)
    op = struct.unpack("!H", pkt[:2])[0]
    if op == 6:  # OACK: acknowledge with block 0
        s.sendto(b"\0\4\0\0", peer)
        continue
    if op == 5:
        sys.exit("TFTP error: %r" % pkt[4:])
    if op != 3:
        continue
    blk = struct.unpack("!H", pkt[2:4])[0]
    if blk == want & 0xFFFF:
        data += pkt[4:]
        want += 1
    time.sleep(delay)
    s.sendto(b"\0\4" + pkt[2:4], peer)
    if blk == (want - 1) & 0xFFFF and len(pkt) - 4 < blksize:
        break
open(out, "wb").write(data)
