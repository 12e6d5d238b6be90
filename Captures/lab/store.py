#!/usr/bin/env python3
"""store.py — the SpanAudit store lab: a store network in network namespaces, real software
standing in for every system of the three vendor documents, captured on a SPAN port.

    sudo python3 Captures/lab/store.py [--out DIR] [--scenario NAME ...] [--keep-work]

Scenarios (one capture each, plus truth files made by truth.py):
    compliant   every documented requirement of each device exercised and allowed; also written in
                every form users send (pcapng, pcap µs and ns, SLL, SLL2, VLAN-tagged SPAN copy,
                snap-length-limited, cut mid-record)
    blocked     the gateway breaks requirements in each distinct way (TCP RST, ICMP administratively
                prohibited, ICMP port unreachable, silent drop, a TLS connection killed right after
                the ClientHello, an unanswered UDP request) and leaves the rest working
    partial     some requirements never exercised
    unexpected  devices also doing things no document allows

Topology (all addresses inside our own namespaces):
    store LAN 10.40.0.0/24 and fd00:40::/64 on a bridge in the "sw" namespace; every bridge port's
    ingress is mirrored (tc mirred) to a SPAN port in the "cap" namespace, where dumpcap/tcpdump run;
    gateway 10.40.0.1 (dnsmasq DNS + DHCP with fixed leases, nftables NAT and firewall) →
    198.51.100.2 ↔ "internet" 198.51.100.1, with every cloud endpoint on 203.0.113.0/24
    (and two internet peers on 198.51.100.0/24). Nothing routes out of the namespaces.

RetailNext pins public addresses (cloud service 104.154.145.235, security events 35.244.170.41,
uploads 35.244.192.136): stand-ins on 203.0.113.x serve them, and rewrite.py rewrites the finished
captures (IP headers and DNS answers) to the documented addresses.

Needs (Debian): iproute2 nftables tcpdump tshark(dumpcap) dnsmasq-base busybox curl openssl ffmpeg
gstreamer1.0-plugins-good gir1.2-gst-rtsp-server-1.0 python3-gi nginx libnginx-mod-rtmp coturn chrony
strongswan-charon ike-scan tinyproxy minidlna gupnp-tools openssh-server openssh-client
and from PyPI (for the python3 running this script): aioquic websockets zeroconf scapy pyyaml.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
AGENTS = os.path.join(HERE, "agents")
ROOT = os.path.dirname(os.path.dirname(HERE))
PYTHON = sys.executable            # PyPI agents (aioquic, websockets, zeroconf)
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's python3-gi for the GStreamer RTSP server

LAN = "10.40.0"
LAN6 = "fd00:40::"


class Device:
    def __init__(self, name, host, mac, vendor_class, roles, ipv6=False):
        self.name, self.host, self.mac, self.vendor_class = name, host, mac, vendor_class
        self.ip = "%s.%d" % (LAN, host)
        self.ip6 = "%s%x" % (LAN6, host) if ipv6 else None
        self.roles = roles


# MAC addresses carry the real vendors' OUIs (IEEE registry), so the MAC vendor column is meaningful.
DEVICES = [
    Device("gateway", 1, "00:18:0a:40:00:01", None, []),                                   # Cisco Meraki
    Device("proxy", 5, "00:05:69:40:00:05", None, []),                                     # VMware
    Device("rn-appliance", 21, "20:c3:a4:40:00:21", "RetailNext Store Appliance", ["retailnext/store-appliance"]),
    Device("rn-aurora", 22, "20:c3:a4:40:00:22", "RetailNext Aurora", ["retailnext/aurora"]),
    Device("oe-recorder", 31, "00:25:90:40:00:31", "OpenEye Apex", ["openeye-ows/recorder"]),  # Super Micro
    Device("valt-app", 41, "00:06:5b:40:00:41", "VALT Application Server", ["valt/application-server"], ipv6=True),  # Dell
    Device("valt-media", 42, "00:06:5b:40:00:42", "VALT Media Server", ["valt/media-server"]),
    Device("cam-axis", 51, "ac:cc:8e:40:00:51", "AXIS P3245", ["valt/camera"]),
    Device("cam-hik", 52, "04:03:12:40:00:52", "Hikvision DS-2CD2143", ["valt/camera"]),
    Device("office-pc", 61, "00:12:f0:40:00:61", "MSFT 5.0", ["valt/client", "openeye-ows/client", "retailnext/user"], ipv6=True),  # Intel
    Device("beam-phone", 62, "00:03:93:40:00:62", "BEAM iOS", ["valt/beam"]),            # Apple
]
BY_NAME = {d.name: d for d in DEVICES}

# Internet endpoints: name → address (203.0.113.0/24), as the documents name them.
ENDPOINTS = {
    # OpenEye Web Services
    "r1.us.u5fgb.com": "203.0.113.11", "r2.us.u5fgb.com": "203.0.113.11", "stun.u5fgb.com": "203.0.113.13",
    "restapi.gp4f.com": "203.0.113.12", "oe-cpos1.gp4f.com": "203.0.113.14", "activateapi.gp4.com": "203.0.113.15",
    "ows.openeye.net": "203.0.113.16", "assist.dvrsupportcenter.com": "203.0.113.17", "serverupdates.net": "203.0.113.18",
    "ctldl.windowsupdate.com": "203.0.113.19", "oe-prod-devmon.s3.us-west-2.amazonaws.com": "203.0.113.20",
    "oe-prod-files.s3.amazonaws.com": "203.0.113.21", "oe-prod-media.s3.us-west-2.amazonaws.com": "203.0.113.22",
    "1.cctv.pool.ntp.org": "203.0.113.123",
    # RetailNext (stand-ins for pinned addresses are rewritten afterwards, see STAND_INS)
    "store1.cloud.retailnext.net": "203.0.113.30", "acme.api.retailnext.net": "203.0.113.31",
    "acme.upload.ops.retailnext.net": "203.0.113.236", "acme.security-events.ops.retailnext.net": "203.0.113.241",
    # VALT
    "us.archive.ubuntu.com": "203.0.113.40", "security.ubuntu.com": "203.0.113.41", "kazooie.canonical.com": "203.0.113.42",
    "banjo.canonical.com": "203.0.113.43", "apt.ipivs.com": "203.0.113.44", "ppa.launchpad.net": "203.0.113.45",
    "ppa.launchpadcontent.net": "203.0.113.46", "changelogs.ubuntu.com": "203.0.113.47", "deb.nodesource.com": "203.0.113.48",
    "download.docker.com": "203.0.113.49", "docker.ipivs.com": "203.0.113.50", "wowzalicense1.wowzamedia.com": "203.0.113.60",
    "wowzalicense-all.wowzamedia.com": "203.0.113.60", "acme-v02.api.letsencrypt.org": "203.0.113.70",
    "route53.amazonaws.com": "203.0.113.71",
}
# Names the public resolver answers with a CNAME chain, as cloud services do (S3 buckets, load
# balancers): the flow must still be named after the name the device asked for. alias -> chain.
CNAMES = {
    "oe-prod-files.s3.amazonaws.com": ["s3-1-w.amazonaws.com", "s3-w.us-east-1.amazonaws.com"],
    "oe-prod-devmon.s3.us-west-2.amazonaws.com": ["s3-r-w.us-west-2.amazonaws.com"],
    "oe-prod-media.s3.us-west-2.amazonaws.com": ["s3-w.us-west-2.amazonaws.com"],
    "stun.u5fgb.com": ["ows-stun-7f3a.elb.us-west-2.amazonaws.com"],
}
PUBLIC_TTL = 300                  # seconds, for every public answer
RN_CLOUD = "203.0.113.235"        # stand-in for 104.154.145.235 (TCP 8278, no name)
VALT_CLOUD = "203.0.113.80"       # VALT Cloud application server (IKE, GRE): the document names no host
OWS_PEER = "198.51.100.77"        # a remote OWS client for peer-to-peer video
ROGUE_SSH = "203.0.113.99"        # hosts no document mentions
ROGUE_UDP = "198.51.100.66"
PUBLIC_DNS = "203.0.113.53"
STAND_INS = {RN_CLOUD: "104.154.145.235", "203.0.113.241": "35.244.170.41", "203.0.113.236": "35.244.192.136"}

TLS_NAMES = ["r1.us.u5fgb.com", "restapi.gp4f.com", "oe-cpos1.gp4f.com", "activateapi.gp4.com", "ows.openeye.net",
             "assist.dvrsupportcenter.com", "serverupdates.net", "ctldl.windowsupdate.com",
             "oe-prod-devmon.s3.us-west-2.amazonaws.com", "oe-prod-files.s3.amazonaws.com",
             "oe-prod-media.s3.us-west-2.amazonaws.com", "store1.cloud.retailnext.net", "acme.api.retailnext.net",
             "acme.upload.ops.retailnext.net", "acme.security-events.ops.retailnext.net", "ppa.launchpadcontent.net",
             "changelogs.ubuntu.com", "deb.nodesource.com", "download.docker.com", "docker.ipivs.com",
             "acme-v02.api.letsencrypt.org", "route53.amazonaws.com"]
HTTP_NAMES = ["r2.us.u5fgb.com", "ctldl.windowsupdate.com", "us.archive.ubuntu.com", "security.ubuntu.com",
              "kazooie.canonical.com", "banjo.canonical.com", "apt.ipivs.com", "ppa.launchpad.net",
              "wowzalicense1.wowzamedia.com"]
LAN_TLS_NAMES = ["valt.store.lan", "rn-appliance.store.lan", "oe-recorder.store.lan", "media.store.lan"]


class Lab:
    def __init__(self, work, keep):
        self.tag = "sl%d" % (os.getpid() % 100000)
        self.work = work
        self.keep = keep
        self.namespaces = []
        self.processes = []     # (name, Popen)
        self.netns_etc = []

    # ---------------------------------------------------------------- namespaces and processes
    def ns(self, name):
        return "%s-%s" % (self.tag, name)

    def add_namespace(self, name, resolver=None):
        full = self.ns(name)
        run(["ip", "netns", "add", full])
        self.namespaces.append(full)
        if resolver:
            # `ip netns exec` bind-mounts /etc/netns/<name>/* over /etc: each host gets its resolver.
            etc = os.path.join("/etc/netns", full)
            os.makedirs(etc, exist_ok=True)
            with open(os.path.join(etc, "resolv.conf"), "w") as fh:
                fh.write("nameserver %s\noptions timeout:2 attempts:1\n" % resolver)
            self.netns_etc.append(etc)
        self.x(name, "ip", "link", "set", "lo", "up")
        return full

    def x(self, name, *cmd, check=True, timeout=60, quiet=True):
        """Runs a command in namespace `name` and waits for it; after `timeout` seconds its whole
        process group is ended (a client that never gives up, e.g. STUN with no answer)."""
        full = ["ip", "netns", "exec", self.ns(name)] + list(cmd)
        proc = subprocess.Popen(full, stdout=subprocess.PIPE if quiet else None, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        try:
            stdout, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, _ = proc.communicate()
            if check:
                raise RuntimeError("%s: %s timed out after %ss" % (name, " ".join(cmd), timeout))
        if check and proc.returncode != 0:
            raise RuntimeError("%s: %s failed (%d): %s" % (name, " ".join(cmd), proc.returncode, (stdout or "")[-600:]))
        return subprocess.CompletedProcess(full, proc.returncode, stdout, None)

    def start(self, name, label, *cmd, env=None):
        """Starts a long-running process in namespace `name`; it is ended by PID at cleanup."""
        log = open(os.path.join(self.work, "%s-%s.log" % (name, label)), "w")
        environment = dict(os.environ, **(env or {}))
        proc = subprocess.Popen(["ip", "netns", "exec", self.ns(name)] + list(cmd), stdout=log, stderr=subprocess.STDOUT,
                                env=environment, start_new_session=True)
        self.processes.append(("%s/%s" % (name, label), proc))
        return proc

    def stop(self, proc, sig=signal.SIGTERM):
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def stop_all(self):
        for _, proc in reversed(self.processes):
            self.stop(proc)
        self.processes = []

    def cleanup(self):
        self.stop_all()
        for full in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", full], stderr=subprocess.DEVNULL)
        for etc in self.netns_etc:
            shutil.rmtree(etc, ignore_errors=True)
        if not self.keep:
            shutil.rmtree(self.work, ignore_errors=True)

    def veth(self, a, a_if, b, b_if, a_mac=None):
        left = "v%s" % os.urandom(4).hex()
        right = "v%s" % os.urandom(4).hex()
        run(["ip", "link", "add", left, "type", "veth", "peer", "name", right])
        run(["ip", "link", "set", left, "netns", self.ns(a), "name", a_if])
        run(["ip", "link", "set", right, "netns", self.ns(b), "name", b_if])
        if a_mac:
            self.x(a, "ip", "link", "set", a_if, "address", a_mac)
        for ns_, ifc in ((a, a_if), (b, b_if)):
            # A SPAN port sees frames as they are on the wire: no offload super-packets.
            self.x(ns_, "ethtool", "-K", ifc, "tso", "off", "gso", "off", "gro", "off", "tx", "off", "rx", "off", check=False)
            self.x(ns_, "ip", "link", "set", ifc, "up")

    # ---------------------------------------------------------------- topology
    def build(self):
        self.add_namespace("sw")
        self.add_namespace("cap")
        self.add_namespace("capvlan")
        self.add_namespace("inet")
        self.x("sw", "ip", "link", "add", "br0", "type", "bridge")
        self.x("sw", "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        self.x("sw", "ip", "link", "set", "br0", "up")
        # SPAN ports: one plain, one that span.py turns into a VLAN-tagged trunk copy.
        self.veth("sw", "mirror0", "cap", "span0")
        self.veth("sw", "mirror1", "capvlan", "span1")
        for ns_, ifc in (("cap", "span0"), ("capvlan", "span1")):
            self.x(ns_, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        self.x("capvlan", "ip", "link", "add", "tag0", "type", "veth", "peer", "name", "tag1")
        for ifc in ("tag0", "tag1"):
            self.x("capvlan", "ip", "link", "set", ifc, "up")

        for d in DEVICES:
            self.add_namespace(d.name, resolver=None if d.name == "gateway" else "%s.1" % LAN)
            self.x(d.name, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
            if not d.ip6 and d.name != "gateway":
                self.x(d.name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
            port = "p-%s" % d.name[:11]
            self.veth(d.name, "eth0", "sw", port, a_mac=d.mac)
            self.x("sw", "ip", "link", "set", port, "master", "br0")
            self.x("sw", "tc", "qdisc", "add", "dev", port, "clsact")
            self.x("sw", "tc", "filter", "add", "dev", port, "ingress", "protocol", "all", "u32", "match", "u32", "0", "0",
                   "action", "mirred", "egress", "mirror", "dev", "mirror0", "pipe",
                   "action", "mirred", "egress", "mirror", "dev", "mirror1")

        gw = BY_NAME["gateway"]
        self.x("gateway", "ip", "addr", "add", "%s/24" % gw.ip, "dev", "eth0")
        self.x("gateway", "ip", "addr", "add", "%s1/64" % LAN6, "dev", "eth0", "nodad")
        self.veth("gateway", "wan0", "inet", "wan0")
        self.x("gateway", "ip", "addr", "add", "198.51.100.2/24", "dev", "wan0")
        self.x("gateway", "ip", "route", "add", "default", "via", "198.51.100.1")
        self.x("gateway", "sysctl", "-qw", "net.ipv4.ip_forward=1")
        self.x("inet", "ip", "addr", "add", "198.51.100.1/24", "dev", "wan0")
        for address in sorted(set(list(ENDPOINTS.values()) + [RN_CLOUD, VALT_CLOUD, PUBLIC_DNS, ROGUE_SSH, "203.0.113.235"])):
            self.x("inet", "ip", "addr", "add", address + "/32", "dev", "lo")
        for address in (OWS_PEER, ROGUE_UDP):
            self.x("inet", "ip", "addr", "add", address + "/32", "dev", "lo")
        self.x("inet", "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")

    # ---------------------------------------------------------------- configuration files
    def write(self, relative, text):
        path = os.path.join(self.work, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as fh:
            fh.write(text)
        return path

    def certificates(self):
        ca_key, ca = os.path.join(self.work, "ca.key"), os.path.join(self.work, "ca.pem")
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-subj", "/CN=Store Lab Root CA",
             "-keyout", ca_key, "-out", ca])
        self.ca = ca
        for name in TLS_NAMES + LAN_TLS_NAMES:
            key, csr, crt = (os.path.join(self.work, "%s.%s" % (name, ext)) for ext in ("key", "csr", "pem"))
            run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=%s" % name, "-keyout", key, "-out", csr])
            ext = self.write("%s.ext" % name, "subjectAltName=DNS:%s\n" % name)
            run(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-days", "3650",
                 "-extfile", ext, "-out", crt])

    def cert(self, name):
        return os.path.join(self.work, name + ".pem"), os.path.join(self.work, name + ".key")

    def nginx(self, ns_name, http_blocks, rtmp=None, streams=None):
        """Starts nginx in a namespace with the given http server blocks (and an RTMP block)."""
        d = os.path.join(self.work, "nginx-" + ns_name)
        os.makedirs(os.path.join(d, "www"), exist_ok=True)
        with open(os.path.join(d, "www", "index.html"), "w") as fh:
            fh.write("<html><body>store lab %s</body></html>\n" % ns_name)
        with open(os.path.join(d, "www", "snapshot.jpg"), "wb") as fh:
            fh.write(b"\xff\xd8\xff\xe0" + os.urandom(6000) + b"\xff\xd9")
        conf = ["load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;" if rtmp else "",
                "pid %s/nginx.pid;" % d, "error_log %s/error.log;" % d, "daemon off;", "events {}",
                "http { access_log off; client_body_temp_path %s/body; proxy_temp_path %s/proxy; fastcgi_temp_path %s/fcgi; uwsgi_temp_path %s/uwsgi; scgi_temp_path %s/scgi; client_max_body_size 10m;" % ((d,) * 5)]
        for block in http_blocks:
            conf.append("  server { %s root %s/www; location / { if ($request_method = POST) { return 200 \"ok\\n\"; } } }" % (block, d))
        conf.append("}")
        if rtmp:
            conf.append("rtmp { %s }" % rtmp)
        path = self.write("nginx-%s/nginx.conf" % ns_name, "\n".join(conf) + "\n")
        self.start(ns_name, "nginx", "nginx", "-c", path, "-p", d)

    # ---------------------------------------------------------------- services
    def start_dhcp_server(self):
        lan_names = ["--address=/%s.store.lan/%s" % (d.name, d.ip) for d in DEVICES]
        lan_names += ["--address=/valt.store.lan/%s" % BY_NAME["valt-app"].ip, "--address=/media.store.lan/%s" % BY_NAME["valt-media"].ip]
        # Public DNS in the internet namespace: every endpoint the documents name.
        records = ["--address=/%s/%s" % (n, a) for n, a in ENDPOINTS.items() if n not in CNAMES]
        for alias, chain in CNAMES.items():
            records.append("--host-record=%s,%s" % (chain[-1], ENDPOINTS[alias]))
            for name, target in zip([alias] + chain, chain):
                records.append("--cname=%s,%s" % (name, target))
        self.start("inet", "dns", "dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
                   "--listen-address=%s" % PUBLIC_DNS, "--bind-interfaces", "--port=53",
                   "--local-ttl=%d" % PUBLIC_TTL, *records)
        # The store's resolver and DHCP server on the gateway: fixed leases by MAC, names for the LAN.
        hosts = ["--dhcp-host=%s,%s,%s" % (d.mac, d.ip, d.name) for d in DEVICES if d.name != "gateway"]
        self.start("gateway", "dnsmasq", "dnsmasq", "--no-daemon", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
                   "--interface=eth0", "--bind-interfaces", "--server=%s" % PUBLIC_DNS, "--domain=store.lan",
                   "--dhcp-range=%s.100,%s.199,12h" % (LAN, LAN), "--dhcp-option=option:router,%s.1" % LAN,
                   "--dhcp-leasefile=%s/leases" % self.work, "--log-dhcp", *hosts, *lan_names)
        time.sleep(1)

    def services(self):

        # Internet endpoints: TLS with SNI certificates, plain HTTP hosts, WSUS on 8531.
        blocks = []
        for name in TLS_NAMES:
            crt, key = self.cert(name)
            port = 8531 if name == "serverupdates.net" else 443
            address = ENDPOINTS.get(name)
            blocks.append("listen %s:%d ssl; server_name %s; ssl_certificate %s; ssl_certificate_key %s;" % (address, port, name, crt, key))
        for name in HTTP_NAMES:
            blocks.append("listen %s:80; server_name %s;" % (ENDPOINTS[name], name))
        self.nginx("inet", blocks)
        self.start("inet", "rn-cloud", PYTHON, os.path.join(AGENTS, "rn_cloud.py"), "serve", RN_CLOUD, "8278")
        self.start("inet", "stun", "turnserver", "--stun-only", "--no-cli", "--listening-ip=%s" % ENDPOINTS["stun.u5fgb.com"],
                   "--listening-port=3478", "--log-file=stdout", "--simple-log", "--no-tls", "--no-dtls")
        chrony = self.write("chrony-server.conf", "local stratum 8\nallow all\nbindaddress %s\ndriftfile %s/drift\n"
                            "pidfile %s/chronyd-server.pid\ncmdport 0\n" % (ENDPOINTS["1.cctv.pool.ntp.org"], self.work, self.work))
        self.start("inet", "ntp", "chronyd", "-d", "-x", "-f", chrony, "-P", "0")
        crt, key = self.cert("store1.cloud.retailnext.net")
        self.start("inet", "quic", PYTHON, os.path.join(AGENTS, "quic_peer.py"), "serve", ENDPOINTS["store1.cloud.retailnext.net"], "443", crt, key)
        swan = self.write("strongswan.conf", "charon {\n  port = 500\n  port_nat_t = 4500\n  load_modular = yes\n"
                          "  plugins { include /etc/strongswan.d/charon/*.conf }\n  filelog { stderr { default = 1 } }\n}\n")
        self.start("inet", "ike", "/usr/lib/ipsec/charon", env={"STRONGSWAN_CONF": swan})
        self.start("inet", "gre", PYTHON, os.path.join(AGENTS, "gre_peer.py"), "echo", VALT_CLOUD)
        self.start("inet", "p2p", PYTHON, os.path.join(AGENTS, "udp_peer.py"), "listen", OWS_PEER, "40000", "--reply")
        self.start("inet", "rogue-udp", PYTHON, os.path.join(AGENTS, "udp_peer.py"), "listen", ROGUE_UDP, "6881")
        self.sshd("inet", ROGUE_SSH)

        # Store LAN servers.
        self.start("proxy", "tinyproxy", "tinyproxy", "-d", "-c", self.write("tinyproxy.conf",
                   "User nobody\nGroup nogroup\nPort 3128\nListen %s\nTimeout 60\nAllow %s.0/24\nConnectPort 443\nConnectPort 8531\nLogLevel Info\n" % (BY_NAME["proxy"].ip, LAN)))
        for cam in ("cam-axis", "cam-hik"):
            self.start(cam, "rtsp", SYSTEM_PYTHON, os.path.join(AGENTS, "rtsp_camera.py"), BY_NAME[cam].ip, "554")
            self.nginx(cam, ["listen %s:80;" % BY_NAME[cam].ip])
        app, media = BY_NAME["valt-app"], BY_NAME["valt-media"]
        crt, key = self.cert("valt.store.lan")
        self.nginx("valt-app", ["listen %s:80; listen [%s]:80;" % (app.ip, app.ip6),
                                "listen %s:443 ssl; listen [%s]:443 ssl; ssl_certificate %s; ssl_certificate_key %s;" % (app.ip, app.ip6, crt, key),
                                "listen %s:8000; listen %s:8086; listen %s:8087; listen %s:8088;" % ((app.ip,) * 4)])
        self.start("valt-app", "ws", PYTHON, os.path.join(AGENTS, "ws_peer.py"), "serve", app.ip, "1935")
        self.start("valt-app", "wss", PYTHON, os.path.join(AGENTS, "ws_peer.py"), "serve", app.ip, "444", "--cert", crt, "--key", key)
        self.sshd("valt-app", app.ip, app.ip6)
        crt, key = self.cert("media.store.lan")
        self.nginx("valt-media", ["listen %s:80;" % media.ip,
                                  "listen %s:443 ssl; ssl_certificate %s; ssl_certificate_key %s;" % (media.ip, crt, key),
                                  "listen %s:8000; listen %s:8086; listen %s:8087;" % ((media.ip,) * 3)],
                   rtmp="server { listen %s:1935; application live { live on; record off; } } "
                        "server { listen %s:444; application live { live on; record off; } }" % (media.ip, media.ip))
        self.sshd("valt-media", media.ip)
        rn, aurora, recorder = BY_NAME["rn-appliance"], BY_NAME["rn-aurora"], BY_NAME["oe-recorder"]
        crt, key = self.cert("rn-appliance.store.lan")
        self.nginx("rn-appliance", ["listen %s:80;" % rn.ip, "listen %s:443 ssl; ssl_certificate %s; ssl_certificate_key %s;" % (rn.ip, crt, key)])
        self.start("rn-appliance", "dtls", "openssl", "s_server", "-dtls1_2", "-accept", "8443", "-cert", crt, "-key", key, "-quiet")
        self.nginx("rn-aurora", ["listen %s:80;" % aurora.ip])
        crt, key = self.cert("oe-recorder.store.lan")
        self.nginx("oe-recorder", ["listen %s:80;" % recorder.ip, "listen %s:443 ssl; ssl_certificate %s; ssl_certificate_key %s;" % (recorder.ip, crt, key),
                                   "listen %s:2001;" % recorder.ip])
        for dev, friendly in (("rn-appliance", "RetailNext Store Appliance"), ("rn-aurora", "RetailNext Aurora")):
            d = BY_NAME[dev]
            media_dir = os.path.join(self.work, "dlna-" + dev)
            os.makedirs(media_dir, exist_ok=True)
            conf = self.write("minidlna-%s.conf" % dev, "port=8200\nnetwork_interface=eth0\nmedia_dir=%s\ndb_dir=%s\nlog_dir=%s\n"
                              "friendly_name=%s\nserial=%s\nmodel_name=%s\nnotify_interval=10\ninotify=no\n" % (
                                  media_dir, media_dir, media_dir, friendly, d.mac.replace(":", ""), friendly))
            self.start(dev, "ssdp", "minidlnad", "-d", "-f", conf, "-P", os.path.join(media_dir, "pid"))
        time.sleep(3)

    def sshd(self, ns_name, *addresses):
        d = os.path.join(self.work, "ssh-" + ns_name)
        os.makedirs(d, exist_ok=True)
        key = os.path.join(d, "host_ed25519")
        if not os.path.exists(key):
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key])
        client_key = os.path.join(self.work, "client_ed25519")
        if not os.path.exists(client_key):
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", client_key])
        keys = self.write("ssh-%s/authorized_keys" % ns_name, open(client_key + ".pub").read())
        os.chmod(keys, 0o600)
        conf = ["HostKey %s" % key, "AuthorizedKeysFile %s" % keys, "PasswordAuthentication no", "UsePAM no",
                "PidFile %s/sshd.pid" % d, "StrictModes no", "PermitRootLogin yes"]
        conf += ["ListenAddress %s" % (a if ":" not in a else "[%s]" % a) for a in addresses]
        path = self.write("ssh-%s/sshd_config" % ns_name, "\n".join(conf) + "\n")
        os.makedirs("/run/sshd", exist_ok=True)
        self.start(ns_name, "sshd", "/usr/sbin/sshd", "-D", "-e", "-f", path)

    # ---------------------------------------------------------------- firewall
    def firewall(self, scenario):
        rules = ["table ip nat {", "  chain post {", "    type nat hook postrouting priority srcnat;", "    oifname \"wan0\" masquerade", "  }", "}",
                 "table inet filter {", "  chain forward {", "    type filter hook forward priority filter; policy accept;"]
        if scenario == "blocked":
            rn, rec, media = BY_NAME["rn-appliance"].ip, BY_NAME["oe-recorder"].ip, BY_NAME["valt-media"].ip
            rules += [
                # TCP RST: the RetailNext appliance's cloud service connection.
                "ip saddr %s ip daddr %s tcp dport 8278 reject with tcp reset" % (rn, RN_CLOUD),
                # ICMP administratively prohibited: the recorder's API service.
                "ip saddr %s ip daddr %s tcp dport 443 reject with icmp type admin-prohibited" % (rec, ENDPOINTS["restapi.gp4f.com"]),
                # ICMP port unreachable: VALT Cloud's IKE on UDP 500.
                "ip saddr %s ip daddr %s udp dport 500 reject with icmp type port-unreachable" % (media, VALT_CLOUD),
                # Silent drop: the Wowza license servers.
                "ip saddr %s ip daddr %s tcp dport 80 drop" % (media, ENDPOINTS["wowzalicense1.wowzamedia.com"]),
                # The mark of SNI/content filtering: the relay's TLS connection is killed right after the
                # ClientHello (the first segment with data is answered with a RST and never forwarded).
                "ip saddr %s ip daddr %s tcp dport 443 tcp flags & (syn | rst | fin) == 0 meta length > 100 reject with tcp reset" % (rec, ENDPOINTS["r1.us.u5fgb.com"]),
                # An unanswered UDP request: STUN.
                "ip saddr %s ip daddr %s udp dport 3478 drop" % (rec, ENDPOINTS["stun.u5fgb.com"]),
            ]
        rules += ["  }", "}"]
        path = self.write("nftables-%s.conf" % scenario, "flush ruleset\n" + "\n".join(rules) + "\n")
        self.x("gateway", "nft", "-f", path)

    # ---------------------------------------------------------------- devices join the network
    def dhcp(self, release=False):
        """Each device asks for its lease (its fixed address comes back; services bound to it
        keep working). With `release`, the address is dropped first, as after a reboot."""
        script = self.write("udhcpc.sh", "#!/bin/sh\ncase \"$1\" in bound|renew)\n"
                            "  ip addr replace $ip/${mask:-24} dev $interface\n"
                            "  [ -n \"$router\" ] && ip route replace default via $router\n;; esac\n")
        os.chmod(script, 0o755)
        for d in DEVICES:
            if d.name == "gateway":
                continue
            if release:
                self.x(d.name, "ip", "-4", "addr", "flush", "dev", "eth0", check=False)
            args = ["busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-f", "-t", "4", "-T", "1", "-s", script, "-x", "hostname:%s" % d.name]
            if d.vendor_class:
                args += ["-V", d.vendor_class]
            self.x(d.name, *args, timeout=30)
            if d.ip6:
                self.x(d.name, "ip", "-6", "addr", "replace", "%s/64" % d.ip6, "dev", "eth0", "nodad")

    # ---------------------------------------------------------------- traffic
    def traffic(self, scenario):
        """What each device does. `skip` lists actions that the partial scenario leaves out."""
        partial = scenario == "partial"
        blocked = scenario == "blocked"
        ca = self.ca
        curl = ["curl", "-sS", "-o", "/dev/null", "--max-time", "6", "--cacert", ca]
        jobs = []

        def bg(device, label, *cmd):
            jobs.append(self.start(device, label, *cmd))

        def fg(device, *cmd, timeout=30):
            self.x(device, *cmd, check=False, timeout=timeout)

        app, media, rn, aurora, rec = (BY_NAME[n] for n in ("valt-app", "valt-media", "rn-appliance", "rn-aurora", "oe-recorder"))
        cam_axis, cam_hik = BY_NAME["cam-axis"], BY_NAME["cam-hik"]
        # --- long-running background activity -------------------------------------------------
        bg("rn-appliance", "track-data", PYTHON, os.path.join(AGENTS, "rn_cloud.py"), "send", RN_CLOUD, "8278", "--seconds", "20")
        bg("rn-aurora", "track-data", PYTHON, os.path.join(AGENTS, "rn_cloud.py"), "send", RN_CLOUD, "8278", "--seconds", "20")
        time.sleep(0.5)
        # --- RetailNext --------------------------------------------------------------------------
        fg("rn-appliance", "getent", "hosts", "store1.cloud.retailnext.net")
        fg("rn-aurora", "getent", "hosts", "store1.cloud.retailnext.net")
        fg("rn-appliance", "ffmpeg", "-loglevel", "error", "-rtsp_transport", "udp", "-i", "rtsp://%s:554/stream" % cam_axis.ip,
           "-t", "2", "-f", "null", "-", timeout=20)
        fg("rn-appliance", *curl, "http://%s/snapshot.jpg" % cam_axis.ip)
        # --- OpenEye recorder ------------------------------------------------------------------------
        post = ["-H", "Content-Type: message/http", "--data-binary", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]
        fg("oe-recorder", *curl, *post, "https://r1.us.u5fgb.com/relay/session")
        if not blocked:
            fg("oe-recorder", *curl, *post, "http://r2.us.u5fgb.com/relay/session")
        fg("oe-recorder", *curl, "https://restapi.gp4f.com/v1/recorder")
        fg("oe-recorder", *curl, "--tls-max", "1.2", "https://activateapi.gp4.com/license")   # TLS 1.2 (certificates in clear)
        fg("oe-recorder", *curl, "https://ows.openeye.net/")
        fg("oe-recorder", *curl, "--proxy", "http://%s:3128" % BY_NAME["proxy"].ip, "https://assist.dvrsupportcenter.com/")
        if not partial:
            fg("oe-recorder", *curl, "https://serverupdates.net:8531/ClientWebService/client.asmx")
        fg("oe-recorder", *curl, "http://ctldl.windowsupdate.com/msdownload/update/v3/static/trustedr/en/authrootstl.cab")
        fg("oe-recorder", *curl, "https://ctldl.windowsupdate.com/")
        if not partial:
            fg("oe-recorder", "sh", "-c", "turnutils_stunclient $(getent hosts stun.u5fgb.com | cut -d' ' -f1)", timeout=6)
        for host in ("oe-prod-devmon.s3.us-west-2.amazonaws.com", "oe-prod-files.s3.amazonaws.com", "oe-prod-media.s3.us-west-2.amazonaws.com"):
            fg("oe-recorder", *curl, "https://%s/" % host)
        if not partial:
            fg("oe-recorder", *curl, "https://oe-cpos1.gp4f.com/pos")
            chrony = self.write("chrony-client.conf", "server 1.cctv.pool.ntp.org iburst maxsamples 2\n"
                                "pidfile %s/chronyd-client.pid\ncmdport 0\n" % self.work)
            fg("oe-recorder", "chronyd", "-Q", "-f", chrony, "-t", "8", timeout=15)
            fg("oe-recorder", PYTHON, os.path.join(AGENTS, "udp_peer.py"), "send", OWS_PEER, "40000", "--count", "10", "--bind", "50000")
        # --- VALT application and media servers --------------------------------------------------------
        for server in ("valt-app", "valt-media"):
            for url in ("http://us.archive.ubuntu.com/ubuntu/dists/jammy/InRelease", "http://security.ubuntu.com/ubuntu/",
                        "http://kazooie.canonical.com/", "http://banjo.canonical.com/", "http://apt.ipivs.com/dists/",
                        "http://ppa.launchpad.net/ondrej/php/", "https://ppa.launchpadcontent.net/ondrej/php/",
                        "https://changelogs.ubuntu.com/meta-release-lts", "https://deb.nodesource.com/",
                        "https://download.docker.com/linux/ubuntu/", "https://docker.ipivs.com/"):
                if partial and server == "valt-media" and "docker" in url:
                    continue
                fg(server, *curl, url)
        ssh = ["ssh", "-i", os.path.join(self.work, "client_ed25519"), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
               "-o", "ConnectTimeout=5", "-o", "BatchMode=yes"]
        fg("valt-app", *ssh, "root@%s" % media.ip, "true")
        for port in (1935, 8000, 8086, 8087):
            fg("valt-app", *curl, "http://%s:%d/" % (media.ip, port))
        fg("valt-media", *ssh, "root@%s" % app.ip, "true")
        fg("valt-media", *curl, "http://%s/api/streams" % app.ip)
        fg("valt-media", *curl, "https://valt.store.lan/api/streams")
        for port in (8086, 8087):
            fg("valt-media", *curl, "http://%s:%d/" % (app.ip, port))
        fg("valt-media", "ffmpeg", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", "rtsp://%s:554/stream" % cam_axis.ip,
           "-t", "2", "-f", "null", "-", timeout=20)
        fg("valt-media", *curl, "http://%s/snapshot.jpg" % cam_hik.ip)
        fg("valt-media", *curl, "http://wowzalicense1.wowzamedia.com/license")
        if not partial:
            fg("valt-media", "ike-scan", "--ikev2", VALT_CLOUD, timeout=20)
            fg("valt-media", "ike-scan", "--ikev2", "--nat-t", VALT_CLOUD, timeout=20)
            fg("valt-media", PYTHON, os.path.join(AGENTS, "gre_peer.py"), "send", VALT_CLOUD, "--count", "4")
            fg("valt-media", *curl, "https://acme-v02.api.letsencrypt.org/directory")
            fg("valt-media", *curl, "https://route53.amazonaws.com/")
        # --- The office PC: VALT client, OpenEye client, RetailNext user --------------------------------
        fg("office-pc", *curl, "http://%s/" % app.ip)
        fg("office-pc", *curl, "https://valt.store.lan/")
        fg("office-pc", *curl, "-6", "http://[%s]/" % app.ip6)
        fg("office-pc", PYTHON, os.path.join(AGENTS, "ws_peer.py"), "play", "ws://%s:1935/live" % app.ip, "--seconds", "1.5")
        fg("office-pc", PYTHON, os.path.join(AGENTS, "ws_peer.py"), "play", "wss://valt.store.lan:444/live", "--cafile", ca, "--seconds", "1.5")
        fg("office-pc", *curl, "http://%s:8000/" % app.ip)
        fg("office-pc", *curl, "http://%s:8088/" % app.ip)
        fg("office-pc", *ssh, "root@%s" % app.ip6, "true")
        fg("office-pc", *curl, "http://%s/" % rec.ip)
        fg("office-pc", *curl, "http://%s:2001/" % rec.ip)
        fg("office-pc", *curl, "https://store1.cloud.retailnext.net/")
        fg("office-pc", PYTHON, os.path.join(AGENTS, "quic_peer.py"), "connect", "store1.cloud.retailnext.net", "443",
           "--name", "store1.cloud.retailnext.net", "--cafile", ca, timeout=20)
        fg("office-pc", *curl, "https://acme.api.retailnext.net/v1/")
        fg("office-pc", *curl, "https://acme.upload.ops.retailnext.net/upload")
        fg("office-pc", *curl, "https://acme.security-events.ops.retailnext.net/")
        fg("office-pc", *curl, "http://%s/" % rn.ip)
        if not partial:
            fg("office-pc", *curl, "http://%s/" % aurora.ip)
        fg("office-pc", *curl, "https://rn-appliance.store.lan/")
        fg("office-pc", "sh", "-c", "echo play | timeout 4 openssl s_client -dtls1_2 -connect %s:8443 -quiet -CAfile %s" % (rn.ip, ca))
        fg("office-pc", "gssdp-discover", "-i", "eth0", "-n", "3", "-t", "upnp:rootdevice", timeout=10)
        # --- BEAM mobile: live streaming and uploads to the media server --------------------------------------
        for port in (1935, 444):
            fg("beam-phone", "ffmpeg", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=5", "-t", "2",
               "-c:v", "flv1", "-f", "flv", "rtmp://%s:%d/live/beam" % (media.ip, port), timeout=20)
        fg("beam-phone", *curl, "--data-binary", "@/etc/hostname", "http://%s/upload" % media.ip)
        if not partial:
            fg("beam-phone", *curl, "--data-binary", "@/etc/hostname", "https://media.store.lan/upload")
        # --- What no document allows ------------------------------------------------------------------------
        if scenario == "unexpected":
            fg("rn-aurora", *ssh, "-o", "ConnectTimeout=3", "root@%s" % ROGUE_SSH, "true")
            fg("rn-aurora", PYTHON, os.path.join(AGENTS, "udp_peer.py"), "send", ROGUE_UDP, "6881", "--count", "6", "--interval", "0.1")
            fg("oe-recorder", *curl, "http://%s:8080/" % ROGUE_SSH)
        for proc in jobs:
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.stop(proc)
        time.sleep(1.5)

    # ---------------------------------------------------------------- one scenario
    def scenario(self, name, out, all_forms):
        self.firewall(name)
        captures = []

        def capture(ns_name, label, *cmd):
            captures.append(self.start(ns_name, "capture-" + label, *cmd))

        base = os.path.join(out, "store-%s" % name)
        capture("cap", "pcapng", "dumpcap", "-q", "-i", "span0", "-w", base + ".pcapng")
        if all_forms:
            capture("cap", "pcap", "tcpdump", "-U", "-i", "span0", "-w", base + ".pcap")
            capture("cap", "pcap-ns", "tcpdump", "-U", "-i", "span0", "--time-stamp-precision=nano", "-w", base + "-ns.pcap")
            capture("cap", "sll", "tcpdump", "-U", "-i", "any", "-y", "LINUX_SLL", "-w", base + "-sll.pcap")
            capture("cap", "sll2", "tcpdump", "-U", "-i", "any", "-y", "LINUX_SLL2", "-w", base + "-sll2.pcap")
            capture("cap", "snap", "tcpdump", "-U", "-i", "span0", "-s", "256", "-w", base + "-snap256.pcap")
            captures.append(self.start("capvlan", "span", PYTHON, os.path.join(HERE, "span.py"), "--source", "span1", "--mirror", "tag0", "--vlan", "120"))
            capture("capvlan", "vlan", "tcpdump", "-U", "-i", "tag1", "-w", base + "-vlan.pcap")
        time.sleep(2)
        # Every capture starts as a store's day does: neighbours unknown, devices asking for leases.
        for d in DEVICES:
            self.x(d.name, "ip", "neigh", "flush", "all", check=False)
        self.dhcp(release=True)
        # Discovery announcements start with the day (zeroconf announces when it registers).
        for dev, friendly in (("rn-appliance", "RetailNext Store Appliance"), ("rn-aurora", "RetailNext Aurora")):
            d = BY_NAME[dev]
            captures.append(self.start(dev, "mdns", PYTHON, os.path.join(AGENTS, "mdns_announce.py"), "--address", d.ip,
                                       "--name", friendly, "--host", dev, "--type", "_http._tcp", "--port", "80",
                                       "--txt", "vendor=RetailNext", "--txt", "model=%s" % friendly))
        self.traffic(name)
        time.sleep(1)
        for proc in captures:
            self.stop(proc, signal.SIGINT)
        for path in os.listdir(out):
            if path.startswith("store-%s" % name):
                os.chmod(os.path.join(out, path), 0o644)


def run(cmd):
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if out.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(cmd), out.stdout[-500:]))
    return out.stdout


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "Captures"))
    ap.add_argument("--scenario", action="append", choices=["compliant", "blocked", "partial", "unexpected"])
    ap.add_argument("--keep-work", action="store_true", help="keep configuration files and logs")
    ap.add_argument("--finish-only", action="store_true",
                    help="only redo the post-processing (address rewrite, cut file, truth files) of existing captures")
    a = ap.parse_args(argv[1:])
    if a.finish_only:
        return finish(os.path.abspath(a.out), a.scenario or ["compliant", "blocked", "partial", "unexpected"],
                      os.path.join(os.path.abspath(a.out), "store-inventory.json"))
    if os.geteuid() != 0:
        sys.exit("store.py: run as root (it creates network namespaces)")
    scenarios = a.scenario or ["compliant", "blocked", "partial", "unexpected"]
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="store-lab-")
    lab = Lab(work, a.keep_work)
    try:
        lab.build()
        lab.certificates()
        lab.firewall("compliant")
        lab.start_dhcp_server()
        lab.dhcp()
        lab.services()
        for name in scenarios:
            print("store.py: scenario %s" % name, flush=True)
            lab.scenario(name, out, all_forms=(name == "compliant"))
    finally:
        lab.cleanup()
        if a.keep_work:
            print("store.py: work files kept in %s" % work)
    # Inventory of the store, for truth.py and for `audit --devices`.
    inventory = [{"name": d.name, "ip": d.ip, "ipv6": d.ip6, "mac": d.mac, "roles": d.roles} for d in DEVICES]
    inventory_path = os.path.join(out, "store-inventory.json")
    with open(inventory_path, "w") as fh:
        json.dump({"devices": inventory, "region": "global", "stand_ins": STAND_INS}, fh, indent=1)
        fh.write("\n")
    return finish(out, scenarios, inventory_path)


def finish(out, scenarios, inventory_path):
    """Rewrites the stand-in addresses to the documented ones, derives the cut file, and computes
    and checks every capture's truth file with truth.py (tshark)."""
    tool = os.path.join(ROOT, "Scripts", "pcaptool.py")
    maps = []
    for stand_in, real in STAND_INS.items():
        maps += ["--map", "%s=%s" % (stand_in, real)]
    captures = sorted(f for f in os.listdir(out) if f.startswith("store-") and f.endswith((".pcap", ".pcapng")))
    for name in captures:
        path = os.path.join(out, name)
        run([sys.executable, tool, "rewrite", path, path + ".tmp"] + maps)
        os.replace(path + ".tmp", path)
        os.chmod(path, 0o644)
    if "compliant" in scenarios:
        cut = os.path.join(out, "store-compliant-cut.pcap")
        run([sys.executable, tool, "cut", os.path.join(out, "store-compliant.pcap"), cut, "--fraction", "0.7"])
        os.chmod(cut, 0o644)
        captures.append("store-compliant-cut.pcap")
    failed = False
    for name in captures:
        scenario = name[len("store-"):].split("-")[0].split(".")[0]
        if scenario not in scenarios:
            continue
        args = [sys.executable, os.path.join(HERE, "truth.py"), os.path.join(out, name), "--inventory", inventory_path,
                "--scenario", scenario, "--out", os.path.join(out, name + ".truth.json")]
        # A capture cut short shows only its first part: its truth is computed, not held to the plan.
        if not name.endswith("-cut.pcap"):
            args.append("--check")
        result = subprocess.run(args, capture_output=True, text=True)
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        failed |= result.returncode != 0
    if failed:
        print("store.py: some captures do not show what their scenario intended (see above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
