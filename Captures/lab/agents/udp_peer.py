#!/usr/bin/env python3
"""udp_peer.py — UDP conversations between two hosts: OWS peer-to-peer video after STUN (both sides
send on one random high port), or any other datagram exchange.

    udp_peer.py listen ADDRESS PORT [--reply]
    udp_peer.py send HOST PORT [--count N] [--size B] [--interval S] [--bind PORT]
"""
import argparse
import socket
import time


def listen(address, port, reply):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((address, port))
    while True:
        data, peer = s.recvfrom(65535)
        if reply:
            s.sendto(data[:200], peer)


def send(host, port, count, size, interval, bind):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if bind:
        s.bind(("0.0.0.0", bind))
    s.settimeout(interval)
    for i in range(count):
        s.sendto(bytes([i % 256]) * size, (host, port))
        try:
            s.recvfrom(65535)
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="mode", required=True)
    l = sub.add_parser("listen"); l.add_argument("address"); l.add_argument("port", type=int); l.add_argument("--reply", action="store_true")
    c = sub.add_parser("send"); c.add_argument("host"); c.add_argument("port", type=int)
    c.add_argument("--count", type=int, default=10); c.add_argument("--size", type=int, default=900)
    c.add_argument("--interval", type=float, default=0.1); c.add_argument("--bind", type=int, default=0)
    a = ap.parse_args()
    if a.mode == "listen":
        listen(a.address, a.port, a.reply)
    else:
        send(a.host, a.port, a.count, a.size, a.interval, a.bind)


if __name__ == "__main__":
    main()
