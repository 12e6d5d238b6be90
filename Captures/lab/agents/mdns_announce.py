#!/usr/bin/env python3
"""mdns_announce.py — announce a device over mDNS/DNS-SD with python-zeroconf (PyPI), as a store
appliance or sensor advertises itself for discovery, then stay until terminated.

    mdns_announce.py --address A --name "RetailNext Store Appliance" --host rn-appliance --type _http._tcp --port 80 [--txt k=v ...]
"""
import argparse
import signal
import socket
import time

from zeroconf import IPVersion, ServiceInfo, Zeroconf


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--address", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--host", required=True)
    ap.add_argument("--type", default="_http._tcp")
    ap.add_argument("--port", type=int, default=80)
    ap.add_argument("--txt", action="append", default=[])
    a = ap.parse_args()
    properties = dict(kv.split("=", 1) for kv in a.txt)
    info = ServiceInfo("%s.local." % a.type, "%s.%s.local." % (a.name, a.type), addresses=[socket.inet_aton(a.address)],
                       port=a.port, properties=properties, server="%s.local." % a.host)
    zc = Zeroconf(interfaces=[a.address], ip_version=IPVersion.V4Only)
    zc.register_service(info)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    while not stop:
        time.sleep(0.2)
    zc.unregister_service(info)
    zc.close()


if __name__ == "__main__":
    main()
