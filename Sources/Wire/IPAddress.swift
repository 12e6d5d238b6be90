/// An IPv4 or IPv6 address as a 128-bit value; IPv4 is held as an IPv4-mapped IPv6 address
/// (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2) so that one fixed-size type serves both families.
///
/// Contract: formatting follows RFC 5952 for IPv6 (lower case, the longest run of two or more zero
/// groups shortened to `::`, the leftmost on ties) and dotted quad for IPv4; `init?(_:)` accepts what
/// `description` prints, plus the other valid RFC 4291 spellings, and rejects everything else.
public struct IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    @inlinable public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// An IPv4 address from its 32 bits in network order.
    @inlinable public init(ipv4 bits: UInt32) {
        self.high = 0
        self.low = 0x0000_FFFF_0000_0000 | UInt64(bits)
    }

    @inlinable public static var zero: IPAddress { IPAddress(high: 0, low: 0) }

    @inlinable public var isIPv4: Bool { high == 0 && low >> 32 == 0xFFFF }

    /// IPv4 224.0.0.0/4 or IPv6 ff00::/8.
    @inlinable public var isMulticast: Bool { isIPv4 ? ipv4Bits >> 28 == 0xE : high >> 56 == 0xFF }

    /// The IPv4 address bits; meaningful only when `isIPv4`.
    @inlinable public var ipv4Bits: UInt32 { UInt32(truncatingIfNeeded: low) }

    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        a.high != b.high ? a.high < b.high : a.low < b.low
    }

    /// The 16 bytes in network order.
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            out[i] = UInt8(truncatingIfNeeded: high >> UInt64(56 - 8 * i))
            out[8 + i] = UInt8(truncatingIfNeeded: low >> UInt64(56 - 8 * i))
        }
        return out
    }

    /// The most bytes `write(to:at:)` writes (an IPv6 address with no zero group to shorten); it
    /// needs this much room (an IPv4 address is written with one byte to spare, at most 16).
    public static let maximumTextLength = 39

    public var description: String {
        var buffer: InlineArray<40, UInt8> = InlineArray(repeating: 0)
        var out = buffer.mutableSpan
        var count = 0
        write(to: &out, at: &count)
        // ASCII, so always valid UTF-8.
        guard let text = try? UTF8Span(validating: buffer.span.extracting(0..<count)) else { return "" }
        return String(copying: text)
    }

    /// Writes the address as `description` spells it (dotted quad, or RFC 5952 IPv6) at `at`,
    /// which it advances; `out` must have `maximumTextLength` bytes of room there. Renderers write
    /// addresses straight into their output buffers this way, without making a String.
    public func write(to out: inout MutableSpan<UInt8>, at: inout Int) {
        if isIPv4 {
            // Most of a capture's addresses, written for every flow record: one range check, then
            // each octet's text and a dot as one 4-byte store (`TextTables.octetWithDot`; the dot
            // after the last octet lands past the end, where the next write goes). 16 bytes of room.
            precondition(at >= 0 && 16 <= out.count &- at, "an address writer needs 16 bytes of room")
            let v = ipv4Bits
            let start = at
            at &+= unsafe out.withUnsafeMutableBufferPointer { buffer in
                let target = unsafe UnsafeMutableRawPointer(buffer.baseAddress! + start)
                var n = 0
                for i in 0..<4 {
                    let octet = TextTables.octetWithDot(UInt8(truncatingIfNeeded: v >> UInt32(24 &- 8 &* i)))
                    unsafe target.storeBytes(of: octet.text.littleEndian, toByteOffset: n, as: UInt32.self)
                    n &+= octet.length
                }
                return n &- 1
            }
            return
        }
        func group(_ i: Int) -> UInt16 {
            UInt16(truncatingIfNeeded: (i < 4 ? high : low) >> UInt64(48 &- 16 &* (i & 3)))
        }
        // RFC 5952 §4.2: shorten the longest run of at least two zero groups, the first on ties.
        var bestStart = -1, bestLength = 1, runStart = -1
        for i in 0...8 {
            if i < 8 && group(i) == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                if i &- runStart > bestLength { bestStart = runStart; bestLength = i &- runStart }
                runStart = -1
            }
        }
        var i = 0
        while i < 8 {
            if i == bestStart {
                out[at] = UInt8(ascii: ":")
                out[at &+ 1] = UInt8(ascii: ":")
                at &+= 2
                i &+= bestLength
                continue
            }
            if i > 0 && i != bestStart &+ bestLength {
                out[at] = UInt8(ascii: ":")
                at &+= 1
            }
            // Lower-case hex without leading zeros (RFC 5952 §4.1, §4.3).
            let g = group(i)
            var started = false
            for shift in stride(from: UInt16(12), through: 0, by: -4) {
                let nibble = UInt8(truncatingIfNeeded: (g >> shift) & 0xF)
                if nibble != 0 || started || shift == 0 {
                    out[at] = nibble < 10 ? 0x30 &+ nibble : 0x57 &+ nibble
                    at &+= 1
                    started = true
                }
            }
            i &+= 1
        }
    }

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text (with an optional embedded IPv4 tail).
    public init?(_ text: String) {
        if let v4 = IPAddress.parseIPv4(Substring(text)) {
            self.init(ipv4: v4)
            return
        }
        guard let (h, l) = IPAddress.parseIPv6(text) else { return nil }
        self.init(high: h, low: l)
    }

    static func parseIPv4(_ text: Substring) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var v: UInt32 = 0
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let n = UInt32(p), n <= 255 else { return nil }
            v = v << 8 | n
        }
        return v
    }

    static func splitOnDoubleColon(_ text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var previousWasColon = false
        for ch in text {
            if ch == ":" && previousWasColon {
                current.removeLast()
                parts.append(current)
                current = ""
                previousWasColon = false
                continue
            }
            current.append(ch)
            previousWasColon = ch == ":"
        }
        parts.append(current)
        return parts
    }

    static func parseIPv6(_ text: String) -> (UInt64, UInt64)? {
        guard text.contains(":"), text.count <= 45 else { return nil }
        var head: [UInt16] = [], tail: [UInt16] = []
        let halves = IPAddress.splitOnDoubleColon(text)
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String, allowIPv4Tail: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, f) in fields.enumerated() {
                if allowIPv4Tail && index == fields.count - 1 && f.contains(".") {
                    guard let v4 = parseIPv4(f) else { return nil }
                    out.append(UInt16(v4 >> 16))
                    out.append(UInt16(v4 & 0xFFFF))
                    continue
                }
                guard (1...4).contains(f.count), let g = UInt16(f, radix: 16) else { return nil }
                out.append(g)
            }
            return out
        }
        if halves.count == 2 {
            guard let h = groups(halves[0], allowIPv4Tail: false),
                  let t = groups(halves[1], allowIPv4Tail: true), h.count + t.count <= 7 else { return nil }
            head = h
            tail = t
        } else {
            guard let h = groups(halves[0], allowIPv4Tail: true), h.count == 8 else { return nil }
            head = h
        }
        var all = head
        all += [UInt16](repeating: 0, count: 8 - head.count - tail.count)
        all += tail
        var hi: UInt64 = 0, lo: UInt64 = 0
        for i in 0..<4 { hi = hi << 16 | UInt64(all[i]) }
        for i in 4..<8 { lo = lo << 16 | UInt64(all[i]) }
        return (hi, lo)
    }
}

extension Span where Element == UInt8 {
    /// The IPv6 address at `offset` (16 bytes).
    @inlinable @inline(__always)
    package func ipv6Address(_ offset: Int) -> IPAddress {
        IPAddress(high: be64(offset), low: be64(offset &+ 8))
    }
}
