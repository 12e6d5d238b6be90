#!/usr/bin/env python3
"""ws_peer.py — WebSocket video streaming as VALT's Wowza offers it, with the `websockets` library
(PyPI): a server on a plain (WS) and/or TLS (WSS) port that streams binary frames, and a client.

    ws_peer.py serve ADDRESS PORT [--cert C --key K]
    ws_peer.py play URL [--cafile CA] [--seconds S]
"""
import argparse
import asyncio
import ssl

import websockets


async def stream(ws):
    try:
        for i in range(200):
            await ws.send(bytes([i % 256]) * 1200)
            await asyncio.sleep(0.05)
    except websockets.ConnectionClosed:
        pass


async def run_server(address, port, cert, key):
    context = None
    if cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
    async with websockets.serve(stream, address, port, ssl=context):
        await asyncio.Future()


async def run_client(url, cafile, seconds):
    context = ssl.create_default_context(cafile=cafile) if url.startswith("wss") else None
    async with websockets.connect(url, ssl=context) as ws:
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while loop.time() < end:
            try:
                await asyncio.wait_for(ws.recv(), timeout=end - loop.time())
            except asyncio.TimeoutError:
                break


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("serve"); s.add_argument("address"); s.add_argument("port", type=int)
    s.add_argument("--cert"); s.add_argument("--key")
    c = sub.add_parser("play"); c.add_argument("url"); c.add_argument("--cafile"); c.add_argument("--seconds", type=float, default=2)
    a = ap.parse_args()
    if a.mode == "serve":
        asyncio.run(run_server(a.address, a.port, a.cert, a.key))
    else:
        asyncio.run(run_client(a.url, a.cafile, a.seconds))


if __name__ == "__main__":
    main()
