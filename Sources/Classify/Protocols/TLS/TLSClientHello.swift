import Wire
/// A TLS ClientHello handshake body (RFC 8446 §4.1.2; DTLS adds a cookie, RFC 6347 §4.2.1), as TLS,
/// DTLS and QUIC (RFC 9001 §4.3, in CRYPTO frames) carry it.
///
///     struct {
///         ProtocolVersion legacy_version;                 2
///         Random random;                                  32
///         opaque legacy_session_id<0..32>;                1 + n
///         opaque cookie<0..2^8-1>;                        (DTLS only) 1 + n
///         CipherSuite cipher_suites<2..2^16-2>;           2 + n
///         opaque legacy_compression_methods<1..2^8-1>;    1 + n
///         Extension extensions<8..2^16-1>;                2 + n: type(2) length(2) data
///     } ClientHello;
///
/// Contract: `init(parsing:)` reads the body that follows the handshake header. Lax: a body cut
/// short (a snapped capture, a message spanning records never seen) yields every field read
/// before the cut, with `isComplete == false`; fields whose length runs past the bytes end the
/// parse there. It returns nil only when not even the version and random are there. Never traps.
public struct TLSClientHello: Sendable, Equatable {
    public var legacyVersion: UInt16 = 0
    public var cipherSuites: [UInt16] = []
    /// Extension types in the order sent (GREASE included, as on the wire).
    public var extensionTypes: [UInt16] = []
    public var serverName: String?
    /// The server_name extension was there but cut short by the capture.
    public var serverNameCut = false
    public var alpn: [String] = []
    /// The first and last bytes of the first ALPN value: what JA4 takes of it (as hex digits when
    /// they are not alphanumeric, so the value's text is not enough).
    public var firstALPNEnds: ByteEnds?
    public var supportedVersions: [UInt16] = []
    public var signatureAlgorithms: [UInt16] = []
    public var supportedGroups: [UInt16] = []
    /// Encrypted Client Hello (draft-ietf-tls-esni, type 0xfe0d): the SNI, if any, is the public
    /// outer name, not the server the client means.
    public var hasEncryptedClientHello = false
    /// QUIC transport parameters carried (type 0x39, or 0xffa5 in drafts).
    public var quicTransportParameters: [UInt8]?
    /// Whether the whole body was read.
    public var isComplete = false

    enum Extension {
        static let serverName: UInt16 = 0x0000
        static let supportedGroups: UInt16 = 0x000A
        static let signatureAlgorithms: UInt16 = 0x000D
        static let alpn: UInt16 = 0x0010
        static let supportedVersions: UInt16 = 0x002B
        static let quicTransportParameters: UInt16 = 0x0039
        static let quicTransportParametersDraft: UInt16 = 0xFFA5
        static let encryptedClientHello: UInt16 = 0xFE0D
    }

    public init?(parsing body: Span<UInt8>, dtls: Bool = false) {
        guard body.count >= 34 else { return nil }
        legacyVersion = body.be16(0)
        var at = 34
        // Session id, and DTLS's cookie.
        for _ in 0..<(dtls ? 2 : 1) {
            guard body.has(1, at: at) else { return }
            let n = Int(body[at])
            at &+= 1 &+ n
        }
        guard body.has(2, at: at) else { return }
        let cipherBytes = Int(body.be16(at))
        at &+= 2
        // Lists are sized once from their declared lengths (bounded by the bytes there): growing
        // them entry by entry reallocated each list several times per hello.
        cipherSuites.reserveCapacity(min(cipherBytes, body.count &- at) / 2)
        var i = 0
        while i &+ 1 < cipherBytes && body.has(2, at: at &+ i) {
            cipherSuites.append(body.be16(at &+ i))
            i &+= 2
        }
        at &+= cipherBytes
        guard body.has(1, at: at) else { return }
        at &+= 1 &+ Int(body[at])
        if at == body.count {
            isComplete = true  // No extensions (SSL 3.0-era hellos).
            return
        }
        guard body.has(2, at: at) else { return }
        let declaredEnd = at &+ 2 &+ Int(body.be16(at))
        let extensionsEnd = min(body.count, declaredEnd)
        at &+= 2
        extensionTypes.reserveCapacity(24)
        while at &+ 4 <= extensionsEnd {
            let type = body.be16(at)
            let length = Int(body.be16(at &+ 2))
            let dataStart = at &+ 4
            extensionTypes.append(type)
            let dataEnd = min(dataStart &+ length, body.count)
            readExtension(type, body, dataStart..<dataEnd)
            at = dataStart &+ length
        }
        isComplete = at == declaredEnd && declaredEnd <= body.count
    }

    private mutating func readExtension(_ type: UInt16, _ b: Span<UInt8>, _ r: Range<Int>) {
        switch type {
        case Extension.serverName:
            // ServerNameList: length(2), then entries of type(1) length(2) name; type 0 is host_name.
            // A name the capture cut (snap length) is left out: a prefix of a name is another name.
            var at = r.lowerBound &+ 2
            while at &+ 3 <= r.upperBound {
                let kind = b[at]
                let n = Int(b.be16(at &+ 1))
                let end = at &+ 3 &+ n
                if kind == 0 && serverName == nil && n > 0 {
                    if end <= r.upperBound { serverName = b.text((at &+ 3)..<end) } else { serverNameCut = true }
                }
                at &+= 3 &+ n
            }
        case Extension.alpn:
            var at = r.lowerBound &+ 2
            while at < r.upperBound {
                let n = Int(b[at])
                let end = min(at &+ 1 &+ n, r.upperBound)
                if end > at &+ 1 {
                    if alpn.isEmpty {
                        firstALPNEnds = ByteEnds(first: b[at &+ 1], last: b[end &- 1])
                    }
                    alpn.append(b.text((at &+ 1)..<end))
                }
                at &+= 1 &+ n
            }
        case Extension.supportedVersions:
            guard r.count >= 1 else { return }
            var at = r.lowerBound &+ 1
            let end = min(r.upperBound, at &+ Int(b[r.lowerBound]))
            supportedVersions.reserveCapacity(max(0, end &- at) / 2)
            while at &+ 2 <= end {
                supportedVersions.append(b.be16(at))
                at &+= 2
            }
        case Extension.signatureAlgorithms:
            signatureAlgorithms = Self.list16(b, r)
        case Extension.supportedGroups:
            supportedGroups = Self.list16(b, r)
        case Extension.encryptedClientHello:
            hasEncryptedClientHello = true
        case Extension.quicTransportParameters, Extension.quicTransportParametersDraft:
            quicTransportParameters = b.array(r)
        default:
            break
        }
    }

    /// A list of 16-bit values behind a 2-byte length.
    private static func list16(_ b: Span<UInt8>, _ r: Range<Int>) -> [UInt16] {
        guard r.count >= 2 else { return [] }
        var at = r.lowerBound &+ 2
        let end = min(r.upperBound, at &+ Int(b.be16(r.lowerBound)))
        var out: [UInt16] = []
        out.reserveCapacity(max(0, end &- at) / 2)
        while at &+ 2 <= end {
            out.append(b.be16(at))
            at &+= 2
        }
        return out
    }

    /// The highest version offered: from supported_versions when present (GREASE ignored), else
    /// the legacy version field.
    public var highestVersion: UInt16 {
        var highest: UInt16?
        for v in supportedVersions where !TLSVersion.isGREASE(v) && highest.map({ v > $0 }) ?? true { highest = v }
        return highest ?? legacyVersion
    }

    /// The first and last byte of a value.
    public struct ByteEnds: Sendable, Equatable {
        public var first: UInt8
        public var last: UInt8
    }
}

/// TLS and DTLS version numbers and their names.
public enum TLSVersion {
    /// GREASE values (RFC 8701): 0x?a?a with equal bytes.
    public static func isGREASE(_ v: UInt16) -> Bool { v & 0x0F0F == 0x0A0A && v >> 8 == v & 0xFF }

    /// A version as reports print it: `1.3`, `1.2`, `ssl3`, `dtls1.2`, `1.3-draft-23`; others in hex.
    public static func name(_ v: UInt16) -> String {
        switch v {
        case 0x0002: "ssl2"
        case 0x0300: "ssl3"
        case 0x0301: "1.0"
        case 0x0302: "1.1"
        case 0x0303: "1.2"
        case 0x0304: "1.3"
        case 0xFEFF: "dtls1.0"
        case 0xFEFD: "dtls1.2"
        case 0xFEFC: "dtls1.3"
        case 0x7F00...0x7FFF: "1.3-draft-\(v & 0xFF)"
        default: "0x" + hex4(v)
        }
    }
}
