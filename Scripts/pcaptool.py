#!/usr/bin/env python3
"""pcaptool: derive capture forms that no capture tool writes by itself, from real captures.

  pcaptool.py swap IN OUT                         byte-swap a pcap or pcapng file (big <-> little endian)
  pcaptool.py tsresol IN.pcapng OUT --binary N --offset S
                                                  rewrite if_tsresol to 2^-N and if_tsoffset to S seconds,
                                                  re-expressing every packet timestamp in the new unit
  pcaptool.py simple-blocks IN.pcapng OUT         turn every 3rd enhanced packet block into a simple packet
                                                  block and every 3rd+1 into an obsolete packet block
  pcaptool.py cut IN.pcap OUT --fraction F        keep the first ~F of the file, ending inside a packet record
  pcaptool.py split IN.pcap OUT1 OUT2             first half of the packets to OUT1, the rest to OUT2
  pcaptool.py rewrite IN OUT --map OLD=NEW ...    replace IPv4 addresses in IP headers (checksums fixed)
                                                  and in DNS answers' A records; pcap or pcapng kept as is

Apart from `rewrite`, the packets themselves are never changed: only file framing, byte order and
timestamp encoding.
Used by Captures/lab/formats.sh; the Swift tests read its outputs, so a reader bug cannot hide
behind a converter that shares its code.
"""
import argparse
import struct
import sys

PCAP_MAGICS = {0xA1B2C3D4: False, 0xA1B23C4D: True}


def read_pcap(data):
    magic_le = struct.unpack("<I", data[:4])[0]
    magic_be = struct.unpack(">I", data[:4])[0]
    if magic_le in PCAP_MAGICS:
        e = "<"
    elif magic_be in PCAP_MAGICS:
        e = ">"
    else:
        raise SystemExit("not a pcap file")
    header = struct.unpack(e + "IHHiIII", data[:24])
    records = []
    pos = 24
    while pos + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(e + "IIII", data[pos:pos + 16])
        body = data[pos + 16:pos + 16 + incl]
        records.append((sec, frac, incl, orig, body, pos))
        pos += 16 + incl
    return e, header, records


def write_pcap(e, header, records):
    out = bytearray(struct.pack(e + "IHHiIII", *header))
    for sec, frac, incl, orig, body, _ in records:
        out += struct.pack(e + "IIII", sec, frac, incl, orig) + body
    return bytes(out)


# ---- pcapng -------------------------------------------------------------------------------------

# Options whose values are numbers (code -> width), per block type; the rest are strings or bytes.
NUMERIC_OPTIONS = {
    1: {8: 8, 14: 8},                       # IDB: if_speed, if_tsoffset
    6: {2: 4, 4: 8, 5: 8, 6: 4},            # EPB: flags, dropcount, packetid, queue
    2: {2: 4},                              # PB: flags
    5: {2: 8, 3: 8, 4: 8, 5: 8, 6: 8, 7: 8, 8: 8},  # ISB counters (timestamps as 2x32 are swapped as 64)
    0x0A0D0D0A: {},
}


def parse_options(body, e):
    opts = []
    pos = 0
    while pos + 4 <= len(body):
        code, length = struct.unpack(e + "HH", body[pos:pos + 4])
        value = body[pos + 4:pos + 4 + length]
        opts.append((code, value))
        pos += 4 + ((length + 3) & ~3)
        if code == 0:
            break
    return opts


def build_options(opts, e):
    out = bytearray()
    for code, value in opts:
        out += struct.pack(e + "HH", code, len(value)) + value + b"\0" * ((-len(value)) % 4)
    return bytes(out)


def swap_number(value, width, e_in, e_out):
    fmt = {2: "H", 4: "I", 8: "Q"}[width]
    if width == 8 and len(value) == 8:
        return struct.pack(e_out + fmt, struct.unpack(e_in + fmt, value)[0])
    if len(value) == width:
        return struct.pack(e_out + fmt, struct.unpack(e_in + fmt, value)[0])
    return value


def swap_options(opts, block_type, e_in, e_out):
    numeric = NUMERIC_OPTIONS.get(block_type, {})
    out = []
    for code, value in opts:
        if code in numeric:
            value = swap_number(value, numeric[code], e_in, e_out)
        elif code in (2988, 2989, 19372, 19373) and len(value) >= 4:
            value = swap_number(value[:4], 4, e_in, e_out) + value[4:]
        out.append((code, value))
    return out


def read_pcapng(data):
    """Yields (endianness, block type, body) for every block."""
    pos = 0
    e = "<"
    while pos + 12 <= len(data):
        btype = struct.unpack("<I", data[pos:pos + 4])[0]
        if btype == 0x0A0D0D0A:
            bom = data[pos + 8:pos + 12]
            e = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
        btype, length = struct.unpack(e + "II", data[pos:pos + 8])
        body = data[pos + 8:pos + length - 4]
        yield e, btype, body
        pos += length


def block(e, btype, body):
    body += b"\0" * ((-len(body)) % 4)
    length = len(body) + 12
    return struct.pack(e + "II", btype, length) + body + struct.pack(e + "I", length)


def swap_pcapng(data):
    out = bytearray()
    for e, btype, body in read_pcapng(data):
        o = ">" if e == "<" else "<"
        if btype == 0x0A0D0D0A:
            bom, major, minor, seclen = struct.unpack(e + "IHHq", body[:16])
            opts = swap_options(parse_options(body[16:], e), btype, e, o)
            nb = struct.pack(o + "IHHq", bom, major, minor, seclen) + build_options(opts, o)
        elif btype == 1:
            link, res, snap = struct.unpack(e + "HHI", body[:8])
            nb = struct.pack(o + "HHI", link, res, snap) + build_options(swap_options(parse_options(body[8:], e), 1, e, o), o)
        elif btype == 6:
            ifid, hi, lo, cap, orig = struct.unpack(e + "IIIII", body[:20])
            padded = (cap + 3) & ~3
            pkt = body[20:20 + padded]
            opts = swap_options(parse_options(body[20 + padded:], e), 6, e, o)
            nb = struct.pack(o + "IIIII", ifid, hi, lo, cap, orig) + pkt + build_options(opts, o)
        elif btype == 3:
            (orig,) = struct.unpack(e + "I", body[:4])
            nb = struct.pack(o + "I", orig) + body[4:]
        elif btype == 2:
            ifid, drops, hi, lo, cap, orig = struct.unpack(e + "HHIIII", body[:20])
            padded = (cap + 3) & ~3
            pkt = body[20:20 + padded]
            opts = swap_options(parse_options(body[20 + padded:], e), 2, e, o)
            nb = struct.pack(o + "HHIIII", ifid, drops, hi, lo, cap, orig) + pkt + build_options(opts, o)
        elif btype == 5:
            ifid, hi, lo = struct.unpack(e + "III", body[:12])
            opts = swap_options(parse_options(body[12:], e), 5, e, o)
            nb = struct.pack(o + "III", ifid, hi, lo) + build_options(opts, o)
        else:
            continue  # name resolution, custom and other blocks are dropped rather than mis-swapped
        out += block(o, btype, nb)
    return bytes(out)


def tsresol_pcapng(data, binary_exponent, offset_seconds):
    out = bytearray()
    resolutions = []
    for e, btype, body in read_pcapng(data):
        if btype == 0x0A0D0D0A:
            resolutions = []
            out += block(e, btype, body)
        elif btype == 1:
            link, res, snap = struct.unpack(e + "HHI", body[:8])
            opts = parse_options(body[8:], e)
            old = 6
            for code, value in opts:
                if code == 9 and value:
                    old = value[0]
            if old & 0x80:
                raise SystemExit("input already uses a binary resolution")
            resolutions.append(10 ** (old & 0x7F))
            kept = [(c, v) for c, v in opts if c not in (0, 9, 14)]
            kept += [(9, bytes([0x80 | binary_exponent])), (14, struct.pack(e + "q", offset_seconds)), (0, b"")]
            out += block(e, 1, struct.pack(e + "HHI", link, res, snap) + build_options(kept, e))
        elif btype == 6:
            ifid, hi, lo, cap, orig = struct.unpack(e + "IIIII", body[:20])
            units = (hi << 32) | lo
            per_second = resolutions[ifid]
            # new = (t - offset) * 2^n, with t = units / per_second, in exact integer arithmetic
            new = ((units - offset_seconds * per_second) << binary_exponent) // per_second
            out += block(e, 6, struct.pack(e + "IIIII", ifid, new >> 32, new & 0xFFFFFFFF, cap, orig) + body[20:])
        else:
            out += block(e, btype, body)
    return bytes(out)


def simple_blocks_pcapng(data):
    out = bytearray()
    n = 0
    for e, btype, body in read_pcapng(data):
        if btype == 6:
            ifid, hi, lo, cap, orig = struct.unpack(e + "IIIII", body[:20])
            padded = (cap + 3) & ~3
            pkt = body[20:20 + cap]
            if n % 3 == 1 and ifid == 0 and cap == orig:
                out += block(e, 3, struct.pack(e + "I", orig) + pkt)
            elif n % 3 == 2:
                out += block(e, 2, struct.pack(e + "HHIIII", ifid, 0, hi, lo, cap, orig) + body[20:20 + padded])
            else:
                out += block(e, btype, body)
            n += 1
        else:
            out += block(e, btype, body)
    return bytes(out)


# ---- rewrite ----------------------------------------------------------------------------------------

def ones_complement(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def network_offset(frame, linktype):
    """Offset of an IPv4 header in a frame, or None."""
    if linktype == 1:
        offset, ethertype = 14, frame[12:14]
        while ethertype in (b"\x81\x00", b"\x88\xa8") and len(frame) >= offset + 4:
            ethertype = frame[offset + 2:offset + 4]
            offset += 4
    elif linktype == 113:
        offset, ethertype = 16, frame[14:16]
    elif linktype == 276:
        offset, ethertype = 20, frame[0:2]
    elif linktype in (101, 228, 12, 14):
        offset, ethertype = 0, b"\x08\x00"
    else:
        return None
    if ethertype != b"\x08\x00" or len(frame) < offset + 20 or frame[offset] >> 4 != 4:
        return None
    return offset


def rewrite_dns(payload, mapping):
    """Replaces A-record addresses in a DNS message's answer, authority and additional sections."""
    if len(payload) < 12:
        return payload
    data = bytearray(payload)
    qd, an, ns, ar = struct.unpack("!HHHH", data[4:12])

    def skip_name(pos):
        while pos < len(data):
            length = data[pos]
            if length == 0:
                return pos + 1
            if length & 0xC0 == 0xC0:
                return pos + 2
            pos += 1 + length
        return len(data)

    pos = 12
    for _ in range(qd):
        pos = skip_name(pos) + 4
    for _ in range(an + ns + ar):
        pos = skip_name(pos)
        if pos + 10 > len(data):
            break
        rtype, _, _, rdlength = struct.unpack("!HHIH", data[pos:pos + 10])
        pos += 10
        if rtype == 1 and rdlength == 4 and bytes(data[pos:pos + 4]) in mapping:
            data[pos:pos + 4] = mapping[bytes(data[pos:pos + 4])]
        pos += rdlength
    return bytes(data)


def rewrite_frame(frame, linktype, mapping):
    offset = network_offset(frame, linktype)
    if offset is None:
        return frame
    data = bytearray(frame)
    ihl = (data[offset] & 0x0F) * 4
    src, dst = bytes(data[offset + 12:offset + 16]), bytes(data[offset + 16:offset + 20])
    proto = data[offset + 9]
    total = struct.unpack("!H", data[offset + 2:offset + 4])[0]
    end = min(len(data), offset + total)
    changed = False
    if src in mapping:
        data[offset + 12:offset + 16] = mapping[src]; changed = True
    if dst in mapping:
        data[offset + 16:offset + 20] = mapping[dst]; changed = True
    fragment = struct.unpack("!H", data[offset + 6:offset + 8])[0] & 0x3FFF
    t = offset + ihl
    if proto == 17 and not fragment and end >= t + 8:
        sport, dport = struct.unpack("!HH", data[t:t + 4])
        if 53 in (sport, dport) or 5353 in (sport, dport):
            new = rewrite_dns(bytes(data[t + 8:end]), mapping)
            if new != bytes(data[t + 8:end]):
                data[t + 8:end] = new; changed = True
    if not changed:
        return frame
    data[offset + 10:offset + 12] = b"\0\0"
    data[offset + 10:offset + 12] = struct.pack("!H", ones_complement(bytes(data[offset:offset + ihl])))
    # Transport checksums cover a pseudo-header with the addresses: recompute them when complete.
    if not fragment and end == offset + total and proto in (6, 17):
        at = t + (16 if proto == 6 else 6)
        if end >= at + 2:
            data[at:at + 2] = b"\0\0"
            pseudo = bytes(data[offset + 12:offset + 20]) + struct.pack("!BBH", 0, proto, end - t)
            value = ones_complement(pseudo + bytes(data[t:end]))
            data[at:at + 2] = struct.pack("!H", value if value or proto == 6 else 0xFFFF)
    return bytes(data)


def rewrite_capture(data, mapping):
    if data[:4] == b"\x0a\x0d\x0d\x0a":
        out = bytearray()
        links = []
        for e, btype, body in read_pcapng(data):
            if btype == 0x0A0D0D0A:
                links = []
            elif btype == 1:
                links.append(struct.unpack(e + "H", body[:2])[0])
            elif btype == 6:
                ifid, hi, lo, cap, orig = struct.unpack(e + "IIIII", body[:20])
                padded = (cap + 3) & ~3
                # The rewrite keeps every frame's length, so the block layout is unchanged.
                frame = rewrite_frame(body[20:20 + cap], links[ifid], mapping)
                body = body[:20] + frame + body[20 + cap:]
            out += block(e, btype, body)
        return bytes(out)
    e, header, records = read_pcap(data)
    linktype = header[6] & 0xFFFF
    rewritten = [(sec, frac, incl, orig, rewrite_frame(body, linktype, mapping), pos) for sec, frac, incl, orig, body, pos in records]
    return write_pcap(e, header, rewritten)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("swap"); s.add_argument("src"); s.add_argument("dst")
    t = sub.add_parser("tsresol"); t.add_argument("src"); t.add_argument("dst")
    t.add_argument("--binary", type=int, required=True); t.add_argument("--offset", type=int, required=True)
    b = sub.add_parser("simple-blocks"); b.add_argument("src"); b.add_argument("dst")
    c = sub.add_parser("cut"); c.add_argument("src"); c.add_argument("dst"); c.add_argument("--fraction", type=float, default=0.5)
    p = sub.add_parser("split"); p.add_argument("src"); p.add_argument("dst1"); p.add_argument("dst2")
    r = sub.add_parser("rewrite"); r.add_argument("src"); r.add_argument("dst"); r.add_argument("--map", action="append", required=True)
    a = ap.parse_args(argv[1:])
    data = open(a.src, "rb").read()
    if a.cmd == "swap":
        if data[:4] == b"\x0a\x0d\x0d\x0a":
            out = swap_pcapng(data)
        else:
            e, header, records = read_pcap(data)
            out = write_pcap(">" if e == "<" else "<", header, records)
        open(a.dst, "wb").write(out)
    elif a.cmd == "tsresol":
        open(a.dst, "wb").write(tsresol_pcapng(data, a.binary, a.offset))
    elif a.cmd == "simple-blocks":
        open(a.dst, "wb").write(simple_blocks_pcapng(data))
    elif a.cmd == "cut":
        _, _, records = read_pcap(data)
        target = int(len(data) * a.fraction)
        rec = next(r for r in records if r[5] >= target and r[2] >= 40)
        open(a.dst, "wb").write(data[:rec[5] + 16 + rec[2] // 2])
    elif a.cmd == "rewrite":
        import socket
        mapping = {socket.inet_aton(old): socket.inet_aton(new) for old, new in (m.split("=") for m in a.map)}
        open(a.dst, "wb").write(rewrite_capture(data, mapping))
    elif a.cmd == "split":
        e, header, records = read_pcap(data)
        half = len(records) // 2
        open(a.dst1, "wb").write(write_pcap(e, header, records[:half]))
        open(a.dst2, "wb").write(write_pcap(e, header, records[half:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
