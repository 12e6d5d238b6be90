#!/usr/bin/env python3
"""span.py: a switch's SPAN port in user space, for the lab.

    span.py --source IFACE [--source IFACE ...] --mirror IFACE [--vlan ID]

Copies every Ethernet frame sent or received on the source interfaces to the mirror interface,
as a switch's mirror port does, optionally with the 802.1Q tag the frames carry on a trunk
(this kernel has no VLAN devices and no tc vlan action, so the tag is inserted here; the frames
themselves are the real traffic of real programs). Run it inside the namespace that owns the
interfaces; it stops on SIGTERM/SIGINT.
"""
import argparse
import select
import signal
import socket
import struct
import sys

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", action="append", required=True)
    ap.add_argument("--mirror", required=True)
    ap.add_argument("--vlan", type=int)
    a = ap.parse_args(argv[1:])

    running = True

    def stop(*_):
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    sources = []
    for name in a.source:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((name, 0))
        sources.append(s)
    out = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    out.bind((a.mirror, 0))
    tag = struct.pack("!HH", 0x8100, a.vlan & 0x0FFF) if a.vlan is not None else b""
    print("span: mirroring %s to %s%s" % (",".join(a.source), a.mirror,
                                          " with VLAN %d" % a.vlan if tag else ""), flush=True)
    while running:
        try:
            ready, _, _ = select.select(sources, [], [], 0.2)
        except InterruptedError:
            continue
        for s in ready:
            frame, address = s.recvfrom(65535)
            if len(frame) < 14:
                continue
            if tag:
                frame = frame[:12] + tag + frame[12:]
            out.send(frame)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
