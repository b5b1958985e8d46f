#!/usr/bin/env python3
# Sends crafted VXLAN frames: VNI, inner Ethernet (dst = a workload's MAC), inner IPv4/UDP to the
# workload's address. Run inside a test namespace (nsenter --net=...); the test counts arrivals.
# usage: vxlan-inject.py SRC_IP DST_IP VNI INNER_DST_MAC INNER_DST_IP INNER_DPORT COUNT
import socket, struct, sys

src, dst, vni, dmac, dip, dport, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6]), int(sys.argv[7])

def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

payload = b'vxmesh-injected'
udp = struct.pack('!HHHH', 40000, dport, 8 + len(payload), 0) + payload  # UDP checksum 0: none (IPv4)
sip = '10.255.255.254'
hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, socket.inet_aton(sip), socket.inet_aton(dip))
ip = hdr[:10] + struct.pack('!H', csum(hdr)) + hdr[12:]
eth = bytes.fromhex(dmac.replace(':', '')) + bytes.fromhex('02aabbccddee') + b'\x08\x00'
vxlan = struct.pack('!II', 0x08000000, vni << 8)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
for _ in range(count):
    s.sendto(vxlan + eth + ip + udp, (dst, 4789))
