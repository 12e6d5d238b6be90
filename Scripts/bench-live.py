#!/usr/bin/env python3
"""bench-live.py: how fast a live capture can go before the kernel drops packets — `audit --iface`
side by side with `tcpdump -i`, replaying the same capture into the same veth pair, in one run.

    sudo Scripts/bench-live.py [--capture .build/bench-captures/mix.pcap] [--limit 1000000] [--runs 1]

Needs root (network namespaces), tcpreplay and tcpdump (Debian packages). It builds the release
binary, makes two network namespaces joined by a veth pair (MTU 9000, nothing leaves them), and for
each tool:

    audit flows --iface V --format jsonl > /dev/null        (flows and classification, as `audit flows`)
    audit --iface V --format json > /dev/null               (the whole audit: devices, verdicts, bandwidth)
    tcpdump -i V -w /dev/null                                (copies packets out, decodes nothing)

starts it on the receiving end, replays the first --limit packets with `tcpreplay --topspeed` from
the other end, stops it with SIGINT and reads its kernel counts (received, dropped). Then, for each
tool that dropped packets at top speed, it replays at fixed rates (`tcpreplay --pps`), halving the
distance between the best rate without drops and the lowest with, to find the highest rate the tool
sustains without a kernel drop. On a 2-core machine tcpreplay itself takes one core: the figures are
for that setup, and the ratios between tools are what carries over.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SENDER, RECEIVER = "sabench-tx", "sabench-rx"
TX, RX = "sabtx0", "sabrx0"


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def lab_up():
    lab_down()
    sh("ip", "netns", "add", SENDER)
    sh("ip", "netns", "add", RECEIVER)
    sh("ip", "link", "add", TX, "type", "veth", "peer", "name", RX)
    sh("ip", "link", "set", TX, "netns", SENDER)
    sh("ip", "link", "set", RX, "netns", RECEIVER)
    for ns, dev in ((SENDER, TX), (RECEIVER, RX)):
        sh("ip", "-n", ns, "link", "set", dev, "mtu", "9000")
        sh("ip", "-n", ns, "link", "set", dev, "up")
        # Nothing answers from the receiving end: no ARP, no IPv6.
        sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
    sh("ip", "-n", RECEIVER, "link", "set", RX, "arp", "off")


def lab_down():
    for ns in (SENDER, RECEIVER):
        sh("ip", "netns", "del", ns, check=False)


def replay(capture, limit, pps=None):
    """Replays; returns (packets sent, seconds, pps) from tcpreplay's summary."""
    speed = ["--pps", str(int(pps))] if pps else ["--topspeed"]
    out = sh("ip", "netns", "exec", SENDER, "tcpreplay", "-q", "--preload-pcap", "-i", TX, "--limit", str(limit), *speed, capture,
             check=False)
    text = out.stdout + out.stderr
    m = re.search(r"Actual: (\d+) packets .*? in ([\d.]+) seconds", text)
    if not m:
        sys.exit("tcpreplay failed: " + text)
    packets, seconds = int(m.group(1)), float(m.group(2))
    return packets, seconds, packets / seconds if seconds > 0 else 0


BUFFER_KIB = 64 * 1024


def start(tool, audit):
    if tool == "tcpdump":
        cmd = ["tcpdump", "-i", RX, "-w", "/dev/null", "-B", str(BUFFER_KIB)]
    elif tool == "audit flows":
        cmd = [audit, "flows", "--iface", RX, "--format", "jsonl", "--buffer-size", "%dk" % BUFFER_KIB]
    else:
        cmd = [audit, "--iface", RX, "--format", "json", "--buffer-size", "%dk" % BUFFER_KIB]
    proc = subprocess.Popen(["ip", "netns", "exec", RECEIVER, *cmd], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    return proc


def cpu_seconds(pid):
    """User + system CPU seconds of a running process, all its threads (/proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(proc, tool):
    """SIGINT, then the kernel's counts from the tool's own report: (received, dropped, CPU s)."""
    time.sleep(1.0)
    cpu = cpu_seconds(proc.pid)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    if tool == "tcpdump":
        received = re.search(r"(\d+) packets received by filter", err)
        dropped = re.search(r"(\d+) packets dropped by kernel", err)
    else:
        received = re.search(r"kernel counted ([\d,]+) packets", err)
        dropped = re.search(r"dropped ([\d,]+) \(buffer full\)", err)
    if not received or not dropped:
        sys.exit("%s: no kernel counts in its output:\n%s" % (tool, err))
    return int(received.group(1).replace(",", "")), int(dropped.group(1).replace(",", "")), cpu


def trial(tool, audit, capture, limit, pps=None):
    proc = start(tool, audit)
    sent, seconds, rate = replay(capture, limit, pps)
    received, dropped, cpu = stop(proc, tool)
    return sent, rate, received, dropped, cpu


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--capture", default=os.path.join(ROOT, ".build", "bench-captures", "mix.pcap"))
    ap.add_argument("--limit", type=int, default=1_000_000, help="packets replayed per trial")
    ap.add_argument("--steps", type=int, default=5, help="rate steps of the search for each tool that drops")
    ap.add_argument("--tools", default="audit flows,audit,tcpdump")
    ap.add_argument("--buffer", type=int, default=64 * 1024,
                    help="kernel ring per tool in KiB (default 64 MiB; a small one shows where each tool falls behind)")
    a = ap.parse_args(argv)
    global BUFFER_KIB
    BUFFER_KIB = a.buffer
    if os.geteuid() != 0:
        sys.exit("bench-live.py needs root (network namespaces)")
    for tool in ("tcpreplay", "tcpdump", "ip"):
        if subprocess.run(["sh", "-c", "command -v " + tool], capture_output=True).returncode != 0:
            sys.exit("bench-live.py needs %s (apt-get install tcpreplay tcpdump iproute2)" % tool)
    if not os.path.exists(a.capture):
        sys.exit("%s: missing (Scripts/bench.py builds the benchmark captures)" % a.capture)
    subprocess.run(["swift", "build", "-c", "release", "--product", "audit"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    audit = os.path.join(ROOT, ".build", "release", "audit")
    tools = a.tools.split(",")
    lab_up()
    try:
        print("%s: first %d packets per trial, replayed into a veth pair; kernel ring %d KiB per tool" % (
            os.path.basename(a.capture), a.limit, BUFFER_KIB))
        print("%-12s %12s %10s %10s %9s %8s %12s" % ("tool", "offered pps", "received", "dropped", "loss", "CPU s",
                                                   "CPU µs/pkt"))
        top = {}
        for tool in tools:
            sent, rate, received, dropped, cpu = trial(tool, audit, a.capture, a.limit)
            top[tool] = (rate, dropped)
            print("%-12s %12.0f %10d %10d %8.2f%% %8.2f %12.2f  (tcpreplay --topspeed)" % (
                tool, rate, received, dropped, 100.0 * dropped / max(received, 1), cpu, 1e6 * cpu / max(received, 1)))
        sustained = {}
        for tool in tools:
            rate, dropped = top[tool]
            if dropped == 0:
                sustained[tool] = (rate, True)
                continue
            good, bad = 0.0, rate
            for _ in range(a.steps):
                pps = (good + bad) / 2 if good else bad / 2
                sent, offered, received, dropped, cpu = trial(tool, audit, a.capture, a.limit, pps)
                print("%-12s %12.0f %10d %10d %8.2f%% %8.2f %12.2f  (--pps %d)" % (
                    tool, offered, received, dropped, 100.0 * dropped / max(received, 1), cpu,
                    1e6 * cpu / max(received, 1), pps))
                if dropped == 0:
                    good = max(good, offered)
                else:
                    bad = min(bad, pps)
            sustained[tool] = (good, False)
        print()
        print("highest rate without a kernel drop (packets/s):")
        for tool in tools:
            rate, at_top = sustained[tool]
            print("  %-12s %10.0f%s" % (tool, rate, "  (tcpreplay's top speed: no drop at all)" if at_top else ""))
        if "tcpdump" in sustained and sustained["tcpdump"][0] > 0:
            for tool in tools:
                if tool != "tcpdump":
                    print("  %s / tcpdump = %.2fx" % (tool, sustained[tool][0] / sustained["tcpdump"][0]))
    finally:
        lab_down()


if __name__ == "__main__":
    main(sys.argv[1:])
