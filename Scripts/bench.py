#!/usr/bin/env python3
"""bench.py: `audit flows` side by side with the peer tools, on the same captures, in one run.

    Scripts/bench.py [--captures DIR] [--runs N] [--only mix.pcap,...] [--skip-tshark]

Builds the release binary, makes the benchmark captures with ../shared/bench/make-bench.sh when
DIR lacks them (default: .build/bench-captures; needs Debian's wireshark-common and tcpreplay), then
for each capture runs, interleaved round by round so that drift on a shared machine hits every tool
alike:

    audit flows --format jsonl -q F > /dev/null        (read() into a reused buffer, classification on: the default)
    audit flows --format jsonl -q --threads 1 F > /dev/null     (all on one thread: the single-threaded goal)
    audit flows --format jsonl -q --no-classify F > /dev/null   (flows only: the cost of classification)
    audit flows --format jsonl -q --io mmap F > /dev/null
    ndpiReader -q -i F                                   (Debian libndpi-bin)
    tcpdump -nr F -w /dev/null                           (reads and writes every packet, no decoding)
    tshark -q -z conv,tcp -r F                           (Debian tshark; slow: --skip-tshark to omit)

each run right after reading the whole file once (so that every tool finds it in the page cache:
see `warm`), and prints the best of N runs per tool: seconds, CPU seconds (user + system, all threads: by
default `audit` turns ended flows into facts on a second thread; `--threads 1` keeps everything on
one, which is what the single-threaded goal of issue 2 measures, and costs less CPU), packets/s, Gbit/s of packet data, peak RSS (from wait4's ru_maxrss), and time relative to
`audit flows`. Absolute times drift on shared machines:
compare the ratios, which are measured in the same run.

With --allocations it also counts heap allocations (valgrind memcheck) of `audit flows` on
../shared/bench/base-mix.pcap and on a 73-packet capture, to show what is allocated per packet
and per flow beyond start-up.
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_BENCH = os.path.join(os.path.dirname(ROOT), "shared", "bench")


def run(cmd, stdout=subprocess.DEVNULL):
    """Runs cmd; returns (seconds, CPU seconds, peak RSS in KiB, exit status)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, os.waitstatus_to_exitcode(status)


def warm(path):
    """Reads the whole file so that the next run finds it in the page cache, as the yardsticks were
    measured (../shared/bench/README.md: "file in the page cache"). Needed before every run, not
    once: this kind of VM gives page-cache memory back to the host within seconds (`fincore` on
    mix.pcap, idle: 973 MB resident, 729 MB ten seconds later), and a run that finds part of the
    file gone spends that part in the kernel reading it again: +0.1-0.2 s of system time for
    `audit flows --threads 1` on mix.pcap, a fixed cost that weighs most on the fastest tool."""
    buffer = bytearray(1 << 20)
    with open(path, "rb", buffering=0) as f:
        while f.readinto(buffer):
            pass


def capinfo(path):
    out = subprocess.run(["capinfos", "-T", "-M", "-c", "-d", path], capture_output=True, text=True).stdout
    lines = [l for l in out.splitlines() if l and not l.startswith("File name")]
    fields = lines[-1].split("\t")
    return int(fields[1]), int(fields[2])  # packets, data bytes


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--captures", default=os.path.join(ROOT, ".build", "bench-captures"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="mix.pcap,small-packets.pcap,mix.pcapng")
    ap.add_argument("--skip-tshark", action="store_true")
    ap.add_argument("--allocations", action="store_true")
    a = ap.parse_args(argv[1:])

    subprocess.run(["swift", "build", "-c", "release", "--product", "audit"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    audit = os.path.join(ROOT, ".build", "release", "audit")
    names = a.only.split(",")
    if not all(os.path.exists(os.path.join(a.captures, n)) for n in names):
        make = os.path.join(SHARED_BENCH, "make-bench.sh")
        if not os.path.exists(make):
            sys.exit("bench: no captures in %s and no %s to make them" % (a.captures, make))
        print("bench: making the benchmark captures in %s (about a minute)..." % a.captures, flush=True)
        subprocess.run(["bash", make, a.captures], check=True, stdout=subprocess.DEVNULL)

    tools = [
        ("audit flows", lambda f: [audit, "flows", "--format", "jsonl", "-q", f]),
        ("audit flows --threads 1", lambda f: [audit, "flows", "--format", "jsonl", "-q", "--threads", "1", f]),
        ("audit flows --no-classify", lambda f: [audit, "flows", "--format", "jsonl", "-q", "--no-classify", f]),
        ("audit flows --io mmap", lambda f: [audit, "flows", "--format", "jsonl", "-q", "--io", "mmap", f]),
    ]
    if shutil.which("ndpiReader"):
        tools.append(("ndpiReader -q", lambda f: ["ndpiReader", "-q", "-i", f]))
    if shutil.which("tcpdump"):
        tools.append(("tcpdump -r -w /dev/null", lambda f: ["tcpdump", "-nr", f, "-w", "/dev/null"]))
    if shutil.which("tshark") and not a.skip_tshark:
        tools.append(("tshark -z conv,tcp", lambda f: ["tshark", "-q", "-z", "conv,tcp", "-r", f]))

    print("machine: %s, %d cores; best of %d interleaved runs per tool" % (
        os.uname().release, os.cpu_count(), a.runs))
    for name in names:
        path = os.path.join(a.captures, name)
        packets, data_bytes = capinfo(path)
        best = {}
        rounds = []  # per interleaved round: label -> seconds (paired ratios cancel the host's drift)
        for _ in range(a.runs):
            rounds.append({})
            for label, cmd in tools:
                if label.startswith("tshark") and _ > 0:
                    continue  # one tshark run is plenty: it is 30-60x slower
                warm(path)
                seconds, cpu, rss, status = run(cmd(path))
                rounds[-1][label] = seconds
                prev = best.get(label)
                if prev is None or seconds < prev[0]:
                    best[label] = (seconds, cpu, rss, status)
        base = best["audit flows"][0]
        print()
        print("%s: %s packets, %.2f GB of packet data, %s" % (
            name, format(packets, ","), data_bytes / 1e9, time.strftime("%Y-%m-%d %H:%M")))
        print("  %-27s %8s %8s %12s %8s %10s %12s" % ("tool", "seconds", "CPU s", "packets/s", "Gbit/s", "peak RSS",
                                                      "time vs audit"))
        for label, _ in tools:
            seconds, cpu, rss, status = best[label]
            note = "" if status == 0 else "  (exit %d)" % status
            print("  %-27s %8.2f %8.2f %12s %8.2f %7.0f MiB %11.2fx%s" % (
                label, seconds, cpu, format(int(packets / seconds), ","), data_bytes * 8 / seconds / 1e9,
                rss / 1024, seconds / base, note))
        if "ndpiReader -q" in best:
            ndpi = best["ndpiReader -q"]
            flows_only = best["audit flows --no-classify"]
            one = best["audit flows --threads 1"]
            print("  ratios: ndpiReader / audit flows = %.1fx by time, %.1fx by CPU; single-threaded (--threads 1, "
                  "the goal): %.1fx by time, %.1fx by CPU" % (
                      ndpi[0] / base, ndpi[1] / best["audit flows"][1], ndpi[0] / one[0], ndpi[1] / one[1]))
            print("  classification costs %.2fx time, %.2fx CPU (audit flows / --no-classify)" % (
                base / flows_only[0], best["audit flows"][1] / flows_only[1]))
            for label in ("audit flows", "audit flows --threads 1"):
                paired = sorted(r["ndpiReader -q"] / r[label] for r in rounds if "ndpiReader -q" in r and label in r)
                if len(paired) > 1:
                    print("  ndpiReader / %s within each round (by time): min %.1fx, median %.1fx, max %.1fx" % (
                        label, paired[0], paired[len(paired) // 2], paired[-1]))
    if a.allocations:
        allocations(audit)
    return 0


def allocations(audit):
    import re
    if not shutil.which("valgrind"):
        print("bench: valgrind not installed; no allocation counts")
        return
    def count(path):
        out = subprocess.run(["valgrind", "--tool=memcheck", audit, "flows", "-q", path],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True).stderr
        allocs = int(re.search(r"total heap usage: ([\d,]+) allocs", out).group(1).replace(",", ""))
        summary = subprocess.run([audit, "flows", path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                 text=True).stderr
        packets = int(re.search(r"([\d,]+) packets", summary).group(1).replace(",", ""))
        flows = int(re.search(r"; ([\d,]+) flows", summary).group(1).replace(",", ""))
        return allocs, packets, flows
    base = count(os.path.join(ROOT, "Captures", "lan.pcap"))
    big = count(os.path.join(SHARED_BENCH, "base-mix.pcap"))
    extra = big[0] - base[0]
    print()
    print("heap allocations (valgrind): %s for %s packets / %s flows; %s for %s packets (start-up)" % (
        format(big[0], ","), format(big[1], ","), format(big[2], ","), format(base[0], ","), base[1]))
    print("  beyond start-up: %.3f per packet, %.2f per flow" % (extra / big[1], extra / big[2]))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
