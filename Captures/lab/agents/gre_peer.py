#!/usr/bin/env python3
"""gre_peer.py — GRE (RFC 2784) carried in user space, because this kernel has no GRE module: the
VALT on-premise media server and the VALT Cloud application server exchange GRE packets that
encapsulate IPv4 (a keepalive-style echo of the inner packets), over raw IP sockets.

    gre_peer.py echo ADDRESS               answer every GRE packet sent to ADDRESS, swapping inner addresses
    gre_peer.py send REMOTE --count N      send N GRE packets carrying small inner ICMP echo requests
"""
import argparse
import socket
import struct
import time

IPPROTO_GRE = 47


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return (~s) & 0xFFFF


def inner_packet(src, dst, seq, reply=False):
    icmp = struct.pack("!BBHHH", 0 if reply else 8, 0, 0, 0x5641, seq) + b"valt-cloud keepalive"
    icmp = icmp[:2] + struct.pack("!H", checksum(icmp)) + icmp[4:]
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), seq, 0, 64, 1, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + icmp


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="mode", required=True)
    e = sub.add_parser("echo"); e.add_argument("address")
    s = sub.add_parser("send"); s.add_argument("remote"); s.add_argument("--count", type=int, default=5)
    a = ap.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_GRE)
    gre = struct.pack("!HH", 0, 0x0800)
    if a.mode == "echo":
        # Bound to the cloud address, so replies leave from it (and NAT on the way back matches).
        sock.bind((a.address, 0))
        while True:
            packet, peer = sock.recvfrom(65535)
            ihl = (packet[0] & 0x0F) * 4
            inner = packet[ihl + 4:]
            if len(inner) < 20:
                continue
            reply = inner_packet(socket.inet_ntoa(inner[16:20]), socket.inet_ntoa(inner[12:16]),
                                 struct.unpack("!H", inner[4:6])[0], reply=True)
            sock.sendto(gre + reply, (peer[0], 0))
    else:
        sock.settimeout(0.5)
        for seq in range(a.count):
            sock.sendto(gre + inner_packet("172.31.255.2", "172.31.255.1", seq), (a.remote, 0))
            try:
                sock.recvfrom(65535)
            except OSError:
                pass
            time.sleep(0.2)


if __name__ == "__main__":
    main()
