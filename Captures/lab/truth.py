#!/usr/bin/env python3
"""truth.py — what a correct audit of a lab capture must report, computed with tshark.

    truth.py CAPTURE --inventory store-inventory.json --scenario NAME [--signatures DIR] [--out FILE] [--check]

The statuses come from the finished capture, read by a tool we did not write (tshark), not from
the lab's intentions: tshark dissects every frame (TCP/UDP streams, TLS handshakes and SNI, HTTP
and CONNECT, DNS answers, ICMP errors and the headers they quote, service protocols); this script
only groups frames into flows and applies the rules of `../shared/spec/audit-report.md` to the
requirements in `Signatures/*.yaml`:

    ok                 a matching flow worked: TCP handshake completed (and, when a TLS ClientHello
                       was sent, the server answered it), UDP answered (or a multicast announcement)
    handshake_failed   TCP connected but the TLS handshake got no ServerHello
    blocked_icmp       attempts drew ICMP destination unreachable
    blocked_reset      attempts were answered only by RST
    blocked_silent     attempts got no answer
    not_seen           no attempt
    (with several flows, the best outcome counts and every outcome is counted)

With --check the statuses are compared with what the scenario intended (INTENTIONS below); any
difference is an error, so a lab run cannot publish a truth file that the capture does not bear out.
"""
import argparse
import collections
import ipaddress
import json
import os
import subprocess
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

FIELDS = ["frame.number", "frame.time_epoch", "frame.len", "frame.protocols", "eth.src", "eth.dst",
          "ip.src", "ip.dst", "ip.proto", "ipv6.src", "ipv6.dst", "ipv6.nxt",
          "tcp.srcport", "tcp.dstport", "tcp.flags.syn", "tcp.flags.ack", "tcp.flags.reset", "tcp.stream",
          "udp.srcport", "udp.dstport", "udp.stream", "icmp.type", "icmp.code", "icmpv6.type",
          "tls.handshake.type", "tls.handshake.extensions_server_name", "dtls.handshake.type",
          "http.request.method", "http.request.uri", "http.host", "rtsp.url", "quic.version",
          "dns.flags.response", "dns.qry.name", "dns.a", "dns.aaaa", "dns.resp.name", "dns.resp.type"]
# tshark dissects TLS and DTLS on the lab's non-standard ports when told to. (Port 444 carries both
# VALT's WSS and BEAM's RTMP, so it is left to tshark: an undissected flow does not contradict a service.)
DECODE_AS = ["tcp.port==8531,tls", "udp.port==8443,dtls"]
SERVICES = {"tls": ("tls",), "rtsp": ("rtsp",), "http": ("http",), "websocket": ("websocket",), "stun": ("stun", "classicstun"),
            "ike": ("isakmp",), "mdns": ("mdns",), "ssdp": ("ssdp",), "ntp": ("ntp",), "rtmp": ("rtmpt",), "ssh": ("ssh",)}
COMMON_PORTS = {53, 67, 68, 123, 5353, 1900, 5355, 137, 138}
RANK = ["ok", "handshake_failed", "blocked_icmp", "blocked_reset", "blocked_silent"]


def tshark(capture):
    cmd = ["tshark", "-r", capture, "-n", "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,"]
    for d in DECODE_AS:
        cmd += ["-d", d]
    for f in FIELDS:
        cmd += ["-e", f]
    # tshark exits 2 on a capture cut short, after printing every frame it could read: keep those.
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode not in (0, 2) or (result.returncode == 2 and "cut short" not in result.stderr):
        raise SystemExit("truth.py: tshark failed on %s: %s" % (capture, result.stderr.strip()))
    out = result.stdout
    for line in out.splitlines():
        values = line.split("\t")
        yield {f: (values[i].split(",") if i < len(values) and values[i] else []) for i, f in enumerate(FIELDS)}


class Flow:
    def __init__(self, key, proto):
        self.key = key                 # ("tcp", stream) / ("udp", stream) / (proto, a, b)
        self.proto = proto
        self.initiator = None          # (address, port)
        self.responder = None
        self.first_frame = None
        self.first_time = None
        self.packets = collections.Counter()   # by sender address
        self.syn_ack = False
        self.responder_reset = False
        self.responder_data = False
        self.client_hello = False
        self.server_hello = False
        self.connect = None            # (host, port) of an HTTP CONNECT
        self.names = set()             # SNI, HTTP Host, CONNECT host
        self.sni = set()               # each name source apart, for the per-flow truth
        self.hosts = set()
        self.rtsp_hosts = set()
        self.protocols = set()
        self.icmp_errors = []          # (type, code)

    def remote(self, device_ip):
        """The other endpoint (address, port) seen from `device_ip`."""
        return self.responder if self.initiator[0] == device_ip else self.initiator


def flows_of(capture):
    flows = collections.OrderedDict()
    dns_names = collections.defaultdict(set)
    dns_answers = collections.defaultdict(list)    # address -> [(time, name, client)]
    icmp_quotes = []
    frames = []
    for f in tshark(capture):
        number = int(f["frame.number"][0])
        time = float(f["frame.time_epoch"][0])
        length = int(f["frame.len"][0])
        protocols = set(f["frame.protocols"][0].split(":")) if f["frame.protocols"] else set()
        src = (f["ip.src"] or f["ipv6.src"] or [None])[0]
        dst = (f["ip.dst"] or f["ipv6.dst"] or [None])[0]
        if src is None:
            frames.append((number, time, length, None, None, f["eth.src"][:1], f["eth.dst"][:1]))
            continue
        frames.append((number, time, length, src, dst, f["eth.src"][:1], f["eth.dst"][:1]))
        # DNS answers name the addresses devices later connect to.
        if f["dns.flags.response"][:1] == ["1"] and f["dns.qry.name"]:
            for address in f["dns.a"] + f["dns.aaaa"]:
                dns_names[address].add(f["dns.qry.name"][0].lower())
                dns_answers[address].append((time, f["dns.qry.name"][0].lower(), dst))
        # ICMP errors quote the packet that caused them: the second IP header and ports in the frame.
        if f["icmp.type"][:1] and f["icmp.type"][0] in ("3", "11") and len(f["ip.src"]) >= 2:
            inner_proto = f["ip.proto"][1] if len(f["ip.proto"]) > 1 else None
            ports = (f["tcp.srcport"] + f["udp.srcport"])[:1], (f["tcp.dstport"] + f["udp.dstport"])[:1]
            icmp_quotes.append((number, int(f["icmp.type"][0]), int(f["icmp.code"][0]), f["ip.src"][1], f["ip.dst"][1], inner_proto,
                                ports[0][0] if ports[0] else None, ports[1][0] if ports[1] else None))
            continue
        if f["tcp.stream"]:
            key, proto = ("tcp", f["tcp.stream"][0]), "tcp"
            sport, dport = int(f["tcp.srcport"][0]), int(f["tcp.dstport"][0])
        elif f["udp.stream"]:
            key, proto = ("udp", f["udp.stream"][0]), "udp"
            sport, dport = int(f["udp.srcport"][0]), int(f["udp.dstport"][0])
        else:
            number_proto = (f["ip.proto"] or f["ipv6.nxt"])[0]
            proto = {"1": "icmp", "58": "icmpv6", "47": "gre", "50": "esp", "2": "igmp"}.get(number_proto, number_proto)
            key = (proto,) + tuple(sorted((src, dst)))
            sport = dport = 0
        flow = flows.get(key)
        if flow is None:
            flow = flows[key] = Flow(key, proto)
            flow.initiator, flow.responder = (src, sport), (dst, dport)
            flow.first_frame, flow.first_time = number, time
        syn = f["tcp.flags.syn"][:1] == ["1"]
        ack = f["tcp.flags.ack"][:1] == ["1"]
        if proto == "tcp" and syn and not ack and flow.packets.total() == 0:
            pass
        elif proto == "tcp" and syn and ack and (src, sport) == flow.initiator and flow.packets.total() == 0:
            flow.initiator, flow.responder = (dst, dport), (src, sport)    # a SYN+ACK seen first: its receiver began
        flow.packets[src] += 1
        from_responder = (src, sport) == flow.responder
        if from_responder:
            if proto == "tcp" and syn and ack:
                flow.syn_ack = True
            if f["tcp.flags.reset"][:1] == ["1"]:
                flow.responder_reset = True
            else:
                flow.responder_data = True
        types = f["tls.handshake.type"] + f["dtls.handshake.type"]
        if "1" in types and not from_responder:
            flow.client_hello = True
        if "2" in types and from_responder:
            flow.server_hello = True
        for name in f["tls.handshake.extensions_server_name"] + f["http.host"]:
            flow.names.add(name.lower().split(":")[0])
        flow.sni |= {n.lower() for n in f["tls.handshake.extensions_server_name"]}
        flow.hosts |= {host_of(h) for h in f["http.host"]}
        for url in f["rtsp.url"]:
            if "://" in url:
                flow.rtsp_hosts.add(host_of(url.split("://", 1)[1].split("/")[0].split("@")[-1]))
        if f["http.request.method"][:1] == ["CONNECT"] and f["http.request.uri"]:
            host, _, port = f["http.request.uri"][0].rpartition(":")
            flow.connect = (host.lower(), int(port or 443))
            flow.names.add(host.lower())
        flow.protocols |= protocols
    # Attribute each ICMP error to the flow whose packet it quotes.
    for number, itype, code, qsrc, qdst, qproto, qsport, qdport in icmp_quotes:
        for flow in flows.values():
            if {flow.initiator[0], flow.responder[0]} != {qsrc, qdst}:
                continue
            if flow.proto in ("tcp", "udp") and qsport and {str(flow.initiator[1]), str(flow.responder[1])} != {qsport, qdport}:
                continue
            flow.icmp_errors.append((itype, code))
            break
    # tshark dissects port 1935 as RTMP whatever it carries; where a second pass that dissects it as
    # HTTP finds HTTP requests (VALT's WebSocket streams, a curl), that view is the right one.
    for stream, (protocols, hosts) in http_on_rtmp_port(capture).items():
        flow = flows.get(("tcp", stream))
        if flow is not None:
            flow.protocols = protocols - {"http-request"}
            flow.hosts = hosts
    # mDNS answers name hosts by their A/AAAA records' owners (RFC 6762 §6). tshark's flat field
    # lists cannot pair an owner with its address (an SRV record has no dns.resp.name), so these
    # come from its JSON tree, one object per record.
    for time, name, address, dst in mdns_host_answers(capture):
        dns_answers[address].append((time, name, dst))
    for answers in dns_answers.values():
        answers.sort()
    flows_of.dns_answers = dns_answers
    return flows, dns_names, frames


def mdns_host_answers(capture):
    """(time, owner name, address, receiver) of every A/AAAA record in an mDNS response."""
    cmd = ["tshark", "-r", capture, "-n", "-Y", "mdns && dns.flags.response == 1", "-T", "json", "-J", "frame ip ipv6 mdns"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode not in (0, 2):
        raise SystemExit("truth.py: tshark failed on %s: %s" % (capture, result.stderr.strip()))
    out = []
    for packet in json.loads(result.stdout or "[]"):
        layers = packet["_source"]["layers"]
        time = float(layers["frame"]["frame.time_epoch"])
        dst = (layers.get("ip") or layers.get("ipv6") or {}).get("ip.dst") or (layers.get("ipv6") or {}).get("ipv6.dst")
        mdns = layers.get("mdns")
        for section in ("Answers", "Additional records"):
            for record in (mdns or {}).get(section, {}).values():
                address = record.get("dns.a") or record.get("dns.aaaa")
                if address and "dns.resp.name" in record:
                    out.append((time, record["dns.resp.name"].lower(), address, dst))
    return out


def http_on_rtmp_port(capture):
    """tcp.stream -> (protocols, HTTP hosts) of port-1935 traffic dissected as HTTP."""
    cmd = ["tshark", "-r", capture, "-n", "-d", "tcp.port==1935,http", "-Y", "tcp.port==1935", "-T", "fields",
           "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=,", "-e", "tcp.stream", "-e", "frame.protocols",
           "-e", "http.host", "-e", "http.request.method"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    out = {}
    for line in result.stdout.splitlines():
        parts = (line.split("\t") + ["", "", "", ""])[:4]
        if not parts[0]:
            continue
        protocols, hosts = out.setdefault(parts[0], (set(), set()))
        protocols |= set(parts[1].split(":")) if parts[1] else set()
        hosts |= {host_of(h) for h in parts[2].split(",") if h}
        if parts[3]:
            protocols.add("http-request")
    # Only streams with a parsed request line are HTTP; the dissector labels any bytes it is given.
    return {k: v for k, v in out.items() if "http-request" in v[0]}


def host_of(authority):
    """`host` of `host:port`, `[v6]:port` or a bare host, lower case (the contract's server name)."""
    a = authority.strip().lower()
    if a.startswith("["):
        return a[1:].split("]")[0]
    return a.rsplit(":", 1)[0] if a.count(":") == 1 else a


# tshark's protocol names, in the order that decides a flow's service (the contract's names):
# an upgraded connection is WebSocket, a CONNECT tunnel is HTTP although TLS runs inside it.
SERVICE_ORDER = [("websocket", "websocket"), ("quic", "quic"), ("gquic", "quic"), ("dtls", "dtls"), ("rtsp", "rtsp"),
                 ("rtmpt", "rtmp"), ("http", "http"), ("tls", "tls"), ("ssh", "ssh"), ("isakmp", "ike"),
                 ("stun", "stun"), ("classicstun", "stun"), ("mdns", "mdns"), ("ssdp", "ssdp"), ("dns", "dns"),
                 ("ntp", "ntp"), ("dhcp", "dhcp"), ("dhcpv6", "dhcp"), ("rtcp", "rtcp"), ("rtp", "rtp")]


def flow_truth(flow, dns_answers):
    """What tshark says a flow carries and which server it names, with where the name came from."""
    service = next((name for proto, name in SERVICE_ORDER if proto in flow.protocols), None)
    names, source = [], None
    if flow.sni:
        names, source = sorted(flow.sni), "sni"
    elif flow.connect:
        names, source = [flow.connect[0]], "http_connect"
    elif flow.hosts and service in ("http", "websocket"):
        names, source = sorted(flow.hosts), "http_host"
    elif flow.rtsp_hosts:
        names, source = sorted(flow.rtsp_hosts), "rtsp_url"
    else:
        # DNS answers seen before the flow began, preferring those its originator asked for.
        answers = [(t, n, c) for t, n, c in dns_answers.get(flow.responder[0], []) if t <= flow.first_time]
        mine = [n for t, n, c in answers if c == flow.initiator[0]]
        candidates = sorted(set(mine or [n for _, n, _ in answers]))
        if candidates:
            names, source = candidates, "dns"
    return {"flow": "%s %s:%s > %s:%s" % (flow.proto, *flow.initiator, *flow.responder), "first_frame": flow.first_frame,
            "service": service, "server_names": names, "server_name_source": source}


# ---------------------------------------------------------------- requirement matching

def port_set(ports):
    out = []
    for p in ports or []:
        if isinstance(p, str) and "-" in p:
            lo, hi = p.split("-")
            out.append((int(lo), int(hi)))
        else:
            out.append((int(p), int(p)))
    return out


def in_ports(port, ranges):
    return any(lo <= port <= hi for lo, hi in ranges)


def host_matches(pattern, address, names):
    pattern = pattern.lower().rstrip(".")
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(pattern, strict=False)
    except ValueError:
        pass
    p = pattern.split(".")
    for name in names:
        n = name.rstrip(".").split(".")
        if len(n) == len(p) and all(a == "*" or a == b for a, b in zip(p, n)):
            return True
    return False


LOCAL_NETWORKS = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fe80::/10",
                                                      "169.254.0.0/16", "224.0.0.0/4", "ff00::/8")]


def is_local(address):
    """product.md's local endpoint: RFC 1918, ULA, link-local (and multicast on the LAN). Not
    Python's `is_private`, which also counts the documentation ranges the lab's internet uses."""
    a = ipaddress.ip_address(address)
    return any(a in n for n in LOCAL_NETWORKS)


APPLICATION_PROTOCOLS = {p for names in SERVICES.values() for p in names} | {"rtp", "rtcp", "dns", "dhcp", "dtls", "quic", "gquic"}


def outcome(flow, device_ip):
    """The flow's outcome as an attempt by `device_ip` (or to it, for inbound)."""
    peer = flow.remote(device_ip)[0]
    if flow.proto == "tcp":
        if flow.connect and flow.syn_ack:
            return "ok" if flow.server_hello or not flow.client_hello else "handshake_failed"
        if flow.syn_ack or (flow.responder_data and not flow.responder_reset):
            if flow.client_hello and not flow.server_hello:
                return "handshake_failed"
            return "ok"
        if flow.icmp_errors:
            return "blocked_icmp"
        if flow.responder_reset:
            return "blocked_reset"
        return "blocked_silent"
    if flow.packets[peer] > 0:
        return "ok"
    if ipaddress.ip_address(flow.responder[0]).is_multicast:
        return "ok"
    if flow.icmp_errors:
        return "blocked_icmp"
    return "blocked_silent"


def candidates(req, variant_ports, device, flows, dns_names, inventory_roles):
    """Flows of `device` that `req` is about."""
    protos = req["proto"] if isinstance(req["proto"], list) else [req["proto"]]
    ports = port_set(variant_ports)
    out = []
    for flow in flows.values():
        ends = (flow.initiator[0], flow.responder[0])
        if device.ip not in ends and (device.ipv6 or None) not in ends:
            continue
        device_ip = device.ip if device.ip in ends else device.ipv6
        if flow.proto not in protos:
            continue
        remote = flow.remote(device_ip)
        remote_port = remote[1]
        local_port = flow.initiator[1] if flow.initiator[0] == device_ip else flow.responder[1]
        device_sent = flow.packets[device_ip] > 0
        remote_sent = flow.packets[remote[0]] > 0
        if req["direction"] == "outbound":
            if flow.proto == "tcp" and flow.initiator[0] != device_ip:
                continue
            if flow.proto == "udp" and not device_sent:
                continue
            if flow.proto not in ("tcp", "udp") and flow.initiator[0] != device_ip:
                continue
            port = flow.connect[1] if flow.connect else remote_port
        else:
            if flow.proto == "tcp" and flow.initiator[0] == device_ip:
                continue
            if flow.proto == "udp" and not remote_sent:
                continue
            port = local_port
        if ports and flow.proto in ("tcp", "udp") and not in_ports(port, ports):
            continue
        names = set(flow.names) | dns_names.get(remote[0], set())
        address = remote[0]
        if flow.connect:
            names = {flow.connect[0]}
            address = flow.connect[0]
        if req.get("hosts"):
            if not any(host_matches(h, address if not flow.connect else "0.0.0.0", names) for h in req["hosts"]):
                continue
        peers = req.get("peers")
        if peers == "local" and not is_local(remote[0]):
            continue
        if peers == "remote" and is_local(remote[0]):
            continue
        if isinstance(peers, dict) and not set(peers["roles"]) & inventory_roles.get(remote[0], set()):
            continue
        service = req.get("service")
        if service and outcome(flow, device_ip) == "ok":
            wanted = set(SERVICES.get(service, (service,)))
            # A flow that tshark identified as another application protocol is not this service;
            # one it could not identify (a non-standard port) does not contradict it.
            if not wanted & flow.protocols and flow.protocols & APPLICATION_PROTOCOLS:
                continue
        out.append((flow, device_ip))
    return out


class Device:
    def __init__(self, d):
        self.name, self.ip, self.ipv6, self.mac = d["name"], d["ip"], d.get("ipv6"), d["mac"]
        self.roles = d["roles"]


def evaluate(capture, inventory, signatures_dir):
    flows, dns_names, frames = flows_of(capture)
    devices = [Device(d) for d in inventory["devices"]]
    roles_by_address = {}
    for d in devices:
        for address in filter(None, (d.ip, d.ipv6)):
            roles_by_address[address] = {r.split("/")[1] for r in d.roles}
    signatures = {}
    for name in sorted(os.listdir(signatures_dir)):
        if name.endswith(".yaml"):
            with open(os.path.join(signatures_dir, name)) as fh:
                s = yaml.safe_load(fh)
            signatures[s["id"]] = s
    explained = set()
    results = []
    for d in devices:
        entry = {"name": d.name, "ip": d.ip, "mac": d.mac, "roles": d.roles, "requirements": []}
        if d.ipv6:
            entry["ipv6"] = d.ipv6
        for role_ref in d.roles:
            sig_id, role = role_ref.split("/")
            for req in signatures[sig_id]["requirements"]:
                if role not in req["roles"]:
                    continue
                if req.get("region") and req["region"] != inventory.get("region", "global"):
                    continue
                variant_ports = list(req.get("ports") or [])
                for v in req.get("variants", []):
                    variant_ports += v["ports"]
                matched = candidates(req, variant_ports, d, flows, dns_names, roles_by_address)
                counts = collections.Counter(outcome(f, ip) for f, ip in matched)
                status = next((s for s in RANK if counts[s]), "not_seen")
                for f, _ in matched:
                    explained.add(f.key)
                entry["requirements"].append({
                    "signature": sig_id, "id": req["id"], "level": req["level"], "status": status,
                    "outcomes": dict(sorted(counts.items())),
                    "evidence": [{"flow": "%s %s:%s > %s:%s" % (f.proto, *f.initiator, *f.responder), "first_frame": f.first_frame,
                                  "outcome": outcome(f, ip), "server_names": sorted(f.names)} for f, ip in matched][:12],
                })
        results.append(entry)
    # RTP and RTCP flows belong to the RTSP session between the same two hosts (SETUP negotiated them).
    rtsp_pairs = {frozenset((f.initiator[0], f.responder[0])) for f in flows.values() if f.key in explained and "rtsp" in f.protocols}
    for flow in flows.values():
        if flow.proto == "udp" and flow.protocols & {"rtp", "rtcp"} and frozenset((flow.initiator[0], flow.responder[0])) in rtsp_pairs:
            explained.add(flow.key)
    # Unexpected: flows of role-holding devices that no requirement of either end explains.
    for flow in flows.values():
        if flow.key in explained or flow.proto in ("icmp", "icmpv6", "igmp"):
            continue
        if {flow.initiator[1], flow.responder[1]} & COMMON_PORTS:
            continue
        for d in results:
            if not d["roles"]:
                continue
            mine = {d["ip"], d.get("ipv6")} & {flow.initiator[0], flow.responder[0]}
            if mine:
                d.setdefault("unexpected", []).append({
                    "flow": "%s %s:%s > %s:%s" % (flow.proto, *flow.initiator, *flow.responder), "first_frame": flow.first_frame,
                    "server_names": sorted(flow.names), "outcome": outcome(flow, next(iter(mine)))})
    # Bandwidth: frame bytes each device sent and received, average and peak over 5-second windows.
    first = min(t for _, t, *_ in frames)
    last = max(t for _, t, *_ in frames)
    span = max(last - first, 1e-6)
    for d in results:
        addresses = {d["ip"], d.get("ipv6")} - {None}
        mac = d["mac"]
        tx = rx = 0
        windows_tx, windows_rx = collections.Counter(), collections.Counter()
        for number, t, length, src, dst, esrc, edst in frames:
            w = int((t - first) // 5)
            if src in addresses or (src is None and esrc[:1] == [mac]):
                tx += length; windows_tx[w] += length
            if dst in addresses or (dst is None and edst[:1] == [mac]):
                rx += length; windows_rx[w] += length
        d["bandwidth"] = {"tx_bytes": tx, "rx_bytes": rx, "tx_bps_avg": round(tx * 8 / span), "rx_bps_avg": round(rx * 8 / span),
                          "tx_bps_peak_5s": round(max(windows_tx.values(), default=0) * 8 / 5),
                          "rx_bps_peak_5s": round(max(windows_rx.values(), default=0) * 8 / 5)}
    per_flow = [flow_truth(f, flows_of.dns_answers) for f in flows.values() if f.proto in ("tcp", "udp")]
    return {"capture": os.path.basename(capture), "frames": len(frames), "first_ts": first, "last_ts": last,
            "region": inventory.get("region", "global"), "devices": results, "flows": per_flow}


# ---------------------------------------------------------------- what each scenario intended

# Every applicable requirement of every role-holding device is intended `ok` in `compliant`;
# the other scenarios list their differences. Unexpected flows are listed by device and remote.
INTENTIONS = {
    "compliant": {"statuses": {}, "unexpected": {"office-pc": ["udp 203.0.113.30:443"]}},
    "blocked": {"statuses": {
        ("rn-appliance", "retailnext/cloud-service"): "blocked_reset",
        ("oe-recorder", "openeye-ows/api"): "blocked_icmp",
        ("oe-recorder", "openeye-ows/relay"): "handshake_failed",
        ("oe-recorder", "openeye-ows/stun"): "blocked_silent",
        ("valt-media", "valt/cloud-ike"): "blocked_icmp",
        ("valt-media", "valt/wowza-license"): "blocked_silent",
    }, "unexpected": {"office-pc": ["udp 203.0.113.30:443"]}},
    "partial": {"statuses": {
        ("oe-recorder", "openeye-ows/windows-updates"): "not_seen",
        ("oe-recorder", "openeye-ows/stun"): "not_seen",
        ("oe-recorder", "openeye-ows/pos-connect"): "not_seen",
        ("oe-recorder", "openeye-ows/ntp"): "not_seen",
        ("oe-recorder", "openeye-ows/peer-to-peer"): "not_seen",
        ("valt-media", "valt/cloud-ike"): "not_seen",
        ("valt-media", "valt/cloud-ike-nat-t"): "not_seen",
        ("valt-media", "valt/cloud-gre"): "not_seen",
        ("valt-media", "valt/lets-encrypt"): "not_seen",
        ("valt-media", "valt/updates-docker"): "not_seen",
        ("rn-aurora", "retailnext/admin-ui"): "not_seen",
    }, "unexpected": {"office-pc": ["udp 203.0.113.30:443"]}},
    "unexpected": {"statuses": {}, "unexpected": {
        "office-pc": ["udp 203.0.113.30:443"],
        "rn-aurora": ["tcp 203.0.113.99:22", "udp 198.51.100.66:6881"],
        "oe-recorder": ["tcp 203.0.113.99:8080"],
    }},
}


def check(truth, scenario, stand_ins):
    """Differences between the truth computed from the capture and the scenario's intentions."""
    intended = INTENTIONS[scenario]
    problems = []
    for d in truth["devices"]:
        for r in d["requirements"]:
            key = (d["name"], "%s/%s" % (r["signature"], r["id"]))
            want = intended["statuses"].get(key, "ok")
            if r["status"] != want:
                problems.append("%s %s: capture shows %s (%s), scenario intended %s" % (
                    d["name"], key[1], r["status"], r["outcomes"], want))
        seen = sorted({"%s %s" % (u["flow"].split()[0], u["flow"].split(" > ")[1]) for u in d.get("unexpected", [])})
        want_unexpected = sorted(intended["unexpected"].get(d["name"], []))
        rewritten = {stand_ins.get(w.split()[1].rsplit(":", 1)[0], w.split()[1].rsplit(":", 1)[0]) for w in want_unexpected}
        if seen != want_unexpected and {s.split()[1].rsplit(":", 1)[0] for s in seen} != rewritten:
            problems.append("%s unexpected flows: capture shows %s, scenario intended %s" % (d["name"], seen, want_unexpected))
    return problems


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("capture")
    ap.add_argument("--inventory", required=True)
    ap.add_argument("--scenario", required=True, choices=sorted(INTENTIONS))
    ap.add_argument("--signatures", default=os.path.join(ROOT, "Signatures"))
    ap.add_argument("--out")
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args(argv[1:])
    with open(a.inventory) as fh:
        inventory = json.load(fh)
    truth = evaluate(a.capture, inventory, a.signatures)
    truth["scenario"] = a.scenario
    out = a.out or a.capture + ".truth.json"
    with open(out, "w") as fh:
        json.dump(truth, fh, indent=1, sort_keys=True)
        fh.write("\n")
    if a.check:
        problems = check(truth, a.scenario, inventory.get("stand_ins", {}))
        for p in problems:
            print("truth.py: %s: %s" % (os.path.basename(a.capture), p), file=sys.stderr)
        if problems:
            return 1
        print("truth.py: %s: every requirement as the %s scenario intended (%d requirement statuses)" % (
            os.path.basename(a.capture), a.scenario, sum(len(d["requirements"]) for d in truth["devices"])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
