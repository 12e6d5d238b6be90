#!/usr/bin/env python3
"""rn_cloud.py — a stand-in for RetailNext's proprietary sensor protocol on TCP 8278.

    rn_cloud.py serve ADDRESS PORT
    rn_cloud.py send HOST PORT --seconds S [--tx-bps 15000] [--rx-bps 2000]

The document only says the appliance keeps an outbound TCP connection to the cloud service on port
8278 and sends ~15 kbit/s of track data per video stream while receiving ~2 kbit/s. The client sends
track-data-sized chunks at that rate; the server answers with acknowledgements at the receive rate.
Real TCP through the kernel: only the payload is ours, because the real protocol is not public.
"""
import argparse
import socket
import threading
import time


def serve(address, port):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((address, port))
    listener.listen(16)

    def handle(conn):
        with conn:
            received = 0
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                received += len(data)
                # One acknowledgement per ~7.5 bytes received keeps the 15:2 ratio of the document.
                while received >= 900:
                    conn.sendall(b"ACK" + b"." * 117)
                    received -= 900

    while True:
        conn, _ = listener.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def send(host, port, seconds, tx_bps):
    conn = socket.create_connection((host, port), timeout=5)
    chunk = b"TRACK" + b"x" * (tx_bps // 8 // 4 - 5)   # four chunks a second
    deadline = time.time() + seconds
    conn.settimeout(0.05)
    while time.time() < deadline:
        conn.sendall(chunk)
        end = time.time() + 0.25
        while time.time() < end:
            try:
                if not conn.recv(65536):
                    break
            except socket.timeout:
                pass
    conn.shutdown(socket.SHUT_WR)
    conn.settimeout(2)
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass
    conn.close()


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("serve"); s.add_argument("address"); s.add_argument("port", type=int)
    c = sub.add_parser("send"); c.add_argument("host"); c.add_argument("port", type=int)
    c.add_argument("--seconds", type=float, default=10); c.add_argument("--tx-bps", type=int, default=15000)
    a = ap.parse_args()
    if a.mode == "serve":
        serve(a.address, a.port)
    else:
        try:
            send(a.host, a.port, a.seconds, a.tx_bps)
        except OSError as e:
            print("rn_cloud: %s" % e)


if __name__ == "__main__":
    main()
