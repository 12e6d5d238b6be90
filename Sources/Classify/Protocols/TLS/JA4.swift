import Wire
import Crypto

/// The JA4 client fingerprint of a ClientHello (FoxIO, https://github.com/FoxIO-LLC/ja4,
/// `technical_details/JA4.md`): `t13d1516h2_8daaf6152771_e5627efa2ab1`.
///
/// - a: transport (`t` TLS over TCP, `q` QUIC, `d` DTLS), the highest version offered
///   (supported_versions, else the legacy version; `00` when unknown), `d` with SNI else `i`, the
///   counts of cipher suites and of extensions (two digits, at most 99), and the first and last
///   character of the first ALPN value (`00` without ALPN; the first and last hex digits when
///   either character is not alphanumeric).
/// - b: the first 12 hex digits of SHA-256 over the sorted cipher suites (4-digit hex, comma
///   separated); `000000000000` when there are none.
/// - c: the same over the sorted extensions without SNI (0000) and ALPN (0010), then `_` and the
///   signature algorithms in the order sent (the `_` part only when there are some).
/// GREASE values are left out everywhere.
public enum JA4 {
    public enum Transport: String, Sendable {
        case tcp = "t"
        case quic = "q"
        case dtls = "d"
    }

    public static func fingerprint(_ hello: TLSClientHello, transport: Transport) -> String {
        let lists = HashCache.countsAndHashes(hello)
        let version = versionCode(hello.highestVersion)
        let alpn = alpnCode(hello.firstALPNEnds)
        // One allocation: the fingerprint's own storage (36 bytes, too long for a small string).
        let counts = min(4, lists.count)
        return unsafe String(unsafeUninitializedCapacity: 7 &+ lists.count) { buffer in
            unsafe buffer[0] = transport.rawValue.utf8.first ?? 0x74
            unsafe buffer[1] = version.0
            unsafe buffer[2] = version.1
            unsafe buffer[3] = hello.extensionTypes.contains(TLSClientHello.Extension.serverName) ? 0x64 : 0x69  // d / i
            var at = 4
            for byte in lists[0..<counts] {
                unsafe buffer[at] = byte
                at &+= 1
            }
            unsafe buffer[at] = alpn.0
            unsafe buffer[at &+ 1] = alpn.1
            unsafe buffer[at &+ 2] = 0x5F
            at &+= 3
            for byte in lists[counts...] {
                unsafe buffer[at] = byte
                at &+= 1
            }
            return at
        }
    }

    /// The cipher and extension counts (`1516`) and the hashed `b_c` part of `hello`, derived
    /// (`HashCache` remembers them).
    static func derivedCountsAndHashes(_ hello: TLSClientHello) -> [UInt8] {
        var ciphers = hello.cipherSuites.filter { !TLSVersion.isGREASE($0) }
        ciphers.sort()
        var extensionCount = 0
        var kept: [UInt16] = []
        kept.reserveCapacity(hello.extensionTypes.count)
        for type in hello.extensionTypes where !TLSVersion.isGREASE(type) {
            extensionCount &+= 1
            if type != TLSClientHello.Extension.serverName && type != TLSClientHello.Extension.alpn { kept.append(type) }
        }
        kept.sort()
        let signatures = hello.signatureAlgorithms.filter { !TLSVersion.isGREASE($0) }
        var out: [UInt8] = []
        out.reserveCapacity(29)
        appendTwoDigits(ciphers.count, to: &out)
        appendTwoDigits(extensionCount, to: &out)
        out += hashedParts(ciphers: ciphers, extensions: kept, signatures: signatures)
        return out
    }

    /// The `b_c` part (`8daaf6152771_e5627efa2ab1`) from the sorted lists: two SHA-256 hashes.
    static func hashedParts(ciphers: [UInt16], extensions kept: [UInt16], signatures: [UInt16]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(25)
        var text: [UInt8] = []
        text.reserveCapacity(5 * max(ciphers.count, kept.count + signatures.count))
        appendHexList(ciphers, to: &text)
        appendTruncatedHash(ciphers.isEmpty ? nil : text, to: &out)
        out.append(0x5F)
        text.removeAll(keepingCapacity: true)
        appendHexList(kept, to: &text)
        if !signatures.isEmpty {
            text.append(0x5F)
            appendHexList(signatures, to: &text)
        }
        appendTruncatedHash(kept.isEmpty ? nil : text, to: &out)
        return out
    }

    /// The counts and hashed parts by the ClientHello's lists as sent. A device offers the same
    /// ClientHello on every connection (a capture of a store holds thousands of flows from a
    /// handful of TLS stacks: 5,387 JA4s but 181 distinct ones in the benchmark's mix.pcapng), and
    /// sorting, two SHA-256 runs and the hex lists cost ~30 k instructions where a lookup costs
    /// ~2 k. The key holds the hello's own arrays (no copy).
    enum HashCache {
        struct Key: Hashable {
            var ciphers: [UInt16]
            var extensions: [UInt16]
            var signatures: [UInt16]

            func hash(into hasher: inout Hasher) {
                ciphers.hashBytes(into: &hasher)
                extensions.hashBytes(into: &hasher)
                signatures.hashBytes(into: &hasher)
            }

            static func == (a: Key, b: Key) -> Bool {
                a.ciphers.hasSameBytes(as: b.ciphers) && a.extensions.hasSameBytes(as: b.extensions)
                    && a.signatures.hasSameBytes(as: b.signatures)
            }
        }

        static let entries = MemoCache<Key, [UInt8]>(capacity: 4096)

        static func countsAndHashes(_ hello: TLSClientHello) -> [UInt8] {
            let key = Key(ciphers: hello.cipherSuites, extensions: hello.extensionTypes,
                          signatures: hello.signatureAlgorithms)
            return entries.value(key) { JA4.derivedCountsAndHashes(hello) }
        }
    }

    @inline(__always) static func hexDigit(_ nibble: UInt16) -> UInt8 {
        let n = UInt8(truncatingIfNeeded: nibble & 0xF)
        return n < 10 ? 0x30 &+ n : 0x57 &+ n
    }

    /// `0a0b,1301,...`: 4-digit lower-case hex, comma separated.
    static func appendHexList(_ values: [UInt16], to text: inout [UInt8]) {
        for (i, v) in values.enumerated() {
            if i > 0 { text.append(0x2C) }
            text.append(hexDigit(v >> 12))
            text.append(hexDigit(v >> 8))
            text.append(hexDigit(v >> 4))
            text.append(hexDigit(v))
        }
    }

    static func appendTwoDigits(_ n: Int, to out: inout [UInt8]) {
        let v = min(n, 99)
        out.append(0x30 &+ UInt8(v / 10))
        out.append(0x30 &+ UInt8(v % 10))
    }

    /// The first 12 hex digits of SHA-256 of `text`, or twelve zeros without it.
    static func appendTruncatedHash(_ text: [UInt8]?, to out: inout [UInt8]) {
        guard let text else {
            out += [UInt8](repeating: 0x30, count: 12)
            return
        }
        for byte in SHA256.hash(data: text).prefix(6) {
            out.append(hexDigit(UInt16(byte >> 4)))
            out.append(hexDigit(UInt16(byte)))
        }
    }

    /// The two characters of a version.
    static func versionCode(_ v: UInt16) -> (UInt8, UInt8) {
        switch v {
        case 0x0304: (0x31, 0x33)  // 13
        case 0x0303: (0x31, 0x32)  // 12
        case 0x0302: (0x31, 0x31)  // 11
        case 0x0301: (0x31, 0x30)  // 10
        case 0x0300: (0x73, 0x33)  // s3
        case 0x0002: (0x73, 0x32)  // s2
        case 0xFEFF: (0x64, 0x31)  // d1
        case 0xFEFD: (0x64, 0x32)  // d2
        case 0xFEFC: (0x64, 0x33)  // d3
        default: (0x30, 0x30)      // 00
        }
    }

    /// The two characters of the first ALPN value's ends.
    static func alpnCode(_ ends: TLSClientHello.ByteEnds?) -> (UInt8, UInt8) {
        guard let ends else { return (0x30, 0x30) }
        func alphanumeric(_ c: UInt8) -> Bool {
            (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c)
        }
        if alphanumeric(ends.first) && alphanumeric(ends.last) { return (ends.first, ends.last) }
        return (hexDigit(UInt16(ends.first >> 4)), hexDigit(UInt16(ends.last)))
    }
}
