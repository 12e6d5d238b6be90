#!/usr/bin/env python3
"""quic_peer.py — QUIC with aioquic (PyPI): a browser-like client opening an HTTP/3 connection
(ALPN h3, SNI set) and a server that accepts it.

    quic_peer.py serve ADDRESS PORT CERT KEY
    quic_peer.py connect HOST PORT --name SNI --cafile CA
"""
import argparse
import asyncio
import ssl

from aioquic.asyncio import connect, serve
from aioquic.quic.configuration import QuicConfiguration


async def run_server(address, port, cert, key):
    config = QuicConfiguration(is_client=False, alpn_protocols=["h3"])
    config.load_cert_chain(cert, key)
    await serve(address, port, configuration=config)
    await asyncio.Future()


async def run_client(host, port, name, cafile):
    config = QuicConfiguration(is_client=True, alpn_protocols=["h3"], server_name=name)
    config.load_verify_locations(cafile)
    async with connect(host, port, configuration=config) as client:
        await client.ping()
        await asyncio.sleep(0.3)
        await client.ping()


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("serve"); s.add_argument("address"); s.add_argument("port", type=int)
    s.add_argument("cert"); s.add_argument("key")
    c = sub.add_parser("connect"); c.add_argument("host"); c.add_argument("port", type=int)
    c.add_argument("--name", required=True); c.add_argument("--cafile", required=True)
    a = ap.parse_args()
    if a.mode == "serve":
        asyncio.run(run_server(a.address, a.port, a.cert, a.key))
    else:
        asyncio.run(asyncio.wait_for(run_client(a.host, a.port, a.name, a.cafile), 10))


if __name__ == "__main__":
    main()
