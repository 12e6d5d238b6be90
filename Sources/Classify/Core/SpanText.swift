// Text helpers over byte spans, shared by the protocol parsers. Every read is bounds-checked by
// `Span`; callers check lengths first.

import Wire
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

extension Span where Element == UInt8 {
    /// The bytes `range` as text: UTF-8, invalid sequences replaced (names and headers are copied
    /// out of the packet here, once).
    func text(_ range: Range<Int>) -> String {
        String(utf8: extracting(range))
    }

    /// The bytes `range` copied into an array in one move. `range` must lie within the span.
    func array(_ range: Range<Int>) -> [UInt8] { Array(span: extracting(range)) }

    /// Whether the bytes at `offset` spell `ascii` exactly. (Literals are `StaticString`s: their
    /// bytes are read straight from the program's constant data, the probes' inner loop.)
    func matches(_ ascii: StaticString, at offset: Int = 0) -> Bool {
        guard has(ascii.utf8CodeUnitCount, at: offset) else { return false }
        return ascii.withUTF8Buffer { buffer in
            var i = offset
            for unsafe c in unsafe buffer {
                if self[i] != c { return false }
                i &+= 1
            }
            return true
        }
    }

    /// Whether the bytes there are (up to the shorter length) the same as `ascii`: a stream that
    /// may still turn out to be `ascii` when more bytes come.
    func agrees(with ascii: StaticString) -> Bool {
        ascii.withUTF8Buffer { buffer in
            var i = 0
            for unsafe c in unsafe buffer {
                if i >= count { return true }
                if self[i] != c { return false }
                i &+= 1
            }
            return true
        }
    }

    /// Like `matches`, ignoring ASCII case (`ascii` must be lower case).
    func matchesIgnoringCase(_ ascii: StaticString, at offset: Int = 0) -> Bool {
        guard has(ascii.utf8CodeUnitCount, at: offset) else { return false }
        return ascii.withUTF8Buffer { buffer in
            var i = offset
            for unsafe c in unsafe buffer {
                if Self.lower(self[i]) != c { return false }
                i &+= 1
            }
            return true
        }
    }

    /// Whether the bytes of `range` are the header name `lower` (ASCII, compared ignoring case).
    func matchesName(_ lower: StaticString, _ range: Range<Int>) -> Bool {
        range.count == lower.utf8CodeUnitCount && matchesIgnoringCase(lower, at: range.lowerBound)
    }

    /// The first index of `byte` in `range` (clamped to the span), or nil. (memchr: header
    /// blocks are scanned for line ends byte by byte otherwise, a bounds check per byte.)
    func firstIndex(of byte: UInt8, in range: Range<Int>) -> Int? {
        let start = Swift.max(0, range.lowerBound)
        let end = Swift.min(count, range.upperBound)
        guard start < end else { return nil }
        return unsafe withUnsafeBufferPointer { buffer in
            let base = unsafe buffer.baseAddress!
            guard let found = unsafe memchr(base + start, Int32(byte), end &- start) else { return nil }
            return unsafe UnsafeRawPointer(found) - UnsafeRawPointer(base)
        }
    }

    /// The offset just past the first `\r\n\r\n` (or `\n\n`) at or after `from`, within `limit`
    /// bytes, or nil.
    func endOfHeaders(from: Int = 0, limit: Int) -> Int? {
        let end = Swift.min(count, limit)
        var at = from
        while let i = firstIndex(of: 0x0A, in: at..<end) {
            if i &+ 1 < count && self[i &+ 1] == 0x0A { return i &+ 2 }
            if i &+ 2 < count && self[i &+ 1] == 0x0D && self[i &+ 2] == 0x0A { return i &+ 3 }
            at = i &+ 1
        }
        return nil
    }

    /// Big-endian `UInt16` at `offset`, or 0 when the bytes are not there.
    func be16Safe(_ offset: Int) -> UInt16 { has(2, at: offset) ? be16(offset) : 0 }

    static func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }

    /// Whether every byte of `range` is printable ASCII or tab.
    func isPrintableASCII(_ range: Range<Int>) -> Bool {
        for i in range where !(self[i] >= 0x20 && self[i] < 0x7F) && self[i] != 0x09 { return false }
        return true
    }
}

/// The header fields of an HTTP-like header block (HTTP, RTSP, SSDP) that classification reads,
/// from the bytes before the blank line.
///
/// Only the fields `HeaderBlock.wantedName` knows are copied out (a request carries a dozen others);
/// names are matched case-insensitively (RFC 9110 §5.1), values trimmed.
struct HeaderBlock {
    /// Wanted field names (lower case) and their values, in order.
    var fields: [(name: String, value: String)]

    func value(_ name: String) -> String? { fields.first { $0.name == name }?.value }

    /// The wanted field name `bytes[range]` is (ignoring ASCII case), as the lower-case literal
    /// it is kept under, or nil. Names are told apart by length first: most lines are fields
    /// nobody wants, and their lengths rule them out at once.
    static func wantedName(_ b: Span<UInt8>, _ range: Range<Int>) -> String? {
        switch range.count {
        case 2:
            if b.matchesName("st", range) { return "st" }
            return b.matchesName("nt", range) ? "nt" : nil
        case 3: return b.matchesName("usn", range) ? "usn" : nil
        case 4:
            if b.matchesName("host", range) { return "host" }
            return b.matchesName("cseq", range) ? "cseq" : nil
        case 6: return b.matchesName("server", range) ? "server" : nil
        case 7: return b.matchesName("upgrade", range) ? "upgrade" : nil
        case 8: return b.matchesName("location", range) ? "location" : nil
        case 9: return b.matchesName("transport", range) ? "transport" : nil
        case 10: return b.matchesName("user-agent", range) ? "user-agent" : nil
        case 12: return b.matchesName("content-type", range) ? "content-type" : nil
        case 14: return b.matchesName("content-length", range) ? "content-length" : nil
        case 17: return b.matchesName("transfer-encoding", range) ? "transfer-encoding" : nil
        case 22: return b.matchesName("sec-websocket-protocol", range) ? "sec-websocket-protocol" : nil
        default: return nil
        }
    }

    /// Parses the field lines of `bytes[from..<end]` (from: after the start line; end: just past the
    /// blank line, or the bytes there are).
    init(_ bytes: Span<UInt8>, from: Int, end: Int) {
        var fields: [(name: String, value: String)] = []
        Self.forEachWanted(bytes, from: from, end: end) { name, value in
            if fields.isEmpty { fields.reserveCapacity(8) }
            fields.append((name, bytes.text(value)))
        }
        self.fields = fields
    }

    /// Calls `body` with each wanted field of `bytes[from..<end]`, in order: its name (the lower-case
    /// literal) and where its trimmed value is. Readers that want a few values take them from
    /// here without the list and a string per field.
    static func forEachWanted(_ b: Span<UInt8>, from: Int, end: Int, _ body: (String, Range<Int>) -> Void) {
        var start = from
        let limit = Swift.min(end, b.count)
        while start <= limit {
            let i = b.firstIndex(of: 0x0A, in: start..<limit) ?? limit
            var lineEnd = i
            if lineEnd > start && b[lineEnd &- 1] == 0x0D { lineEnd &-= 1 }
            if lineEnd > start, let colon = b.firstIndex(of: UInt8(ascii: ":"), in: start..<lineEnd) {
                var nameEnd = colon
                while nameEnd > start && (b[nameEnd &- 1] == 0x20 || b[nameEnd &- 1] == 0x09) { nameEnd &-= 1 }
                if let name = wantedName(b, start..<nameEnd) {
                    var valueStart = colon &+ 1, valueEnd = lineEnd
                    while valueStart < valueEnd && (b[valueStart] == 0x20 || b[valueStart] == 0x09) { valueStart &+= 1 }
                    while valueEnd > valueStart && (b[valueEnd &- 1] == 0x20 || b[valueEnd &- 1] == 0x09) { valueEnd &-= 1 }
                    body(name, valueStart..<valueEnd)
                }
            }
            start = i &+ 1
        }
    }
}

extension String {
    /// Text from UTF-8 bytes, copied once (invalid sequences replaced, as `String(decoding:)`).
    init(utf8 bytes: Span<UInt8>) {
        if let valid = try? UTF8Span(validating: bytes) {
            self = String(copying: valid)
        } else {
            self = String(decoding: Array(span: bytes), as: UTF8.self)
        }
    }

    /// `first + " " + second`, made in one allocation (none when it fits a small string): with
    /// `+`, reports built two strings per line (`"example.com A"`, `"A 192.0.2.1"`).
    static func joined(_ first: String, _ second: String) -> String {
        let a = first.utf8, b = second.utf8
        return unsafe String(unsafeUninitializedCapacity: a.count &+ 1 &+ b.count) { buffer in
            var at = unsafe buffer.initialize(fromContentsOf: a)
            unsafe buffer[at] = 0x20
            at &+= 1
            let rest = unsafe UnsafeMutableBufferPointer(rebasing: buffer[at...])
            return unsafe at &+ rest.initialize(fromContentsOf: b)
        }
    }

    var trimmingSpaces: String {
        // Header values arrive trimmed already: skip the `Character` walk when the ends are clean.
        let isSpace = { (b: UInt8) in b == 0x20 || b == 0x09 }
        if let f = utf8.first, let l = utf8.last, !isSpace(f), !isSpace(l), l != 0x0D { return self }
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}
