import Wire

/// A TLS ServerHello body (RFC 8446 §4.1.3): version, the chosen cipher suite, and extensions
/// (supported_versions gives TLS 1.3's real version; ALPN the chosen protocol).
///
///     legacy_version(2) random(32) legacy_session_id_echo<0..32>(1+n)
///     [DTLS: none] cipher_suite(2) legacy_compression_method(1) extensions<6..2^16-1>(2+n)
///
/// Contract: lax like `TLSClientHello`; nil only without version and random. A HelloRetryRequest
/// (RFC 8446 §4.1.3: a ServerHello whose random is SHA-256("HelloRetryRequest")) is flagged.
public struct TLSServerHello: Sendable, Equatable {
    public var legacyVersion: UInt16
    public var cipherSuite: UInt16?
    public var selectedVersion: UInt16?
    public var alpn: String?
    public var isHelloRetryRequest = false

    /// SHA-256 of "HelloRetryRequest" (RFC 8446 §4.1.3).
    static let helloRetryRandom: [UInt8] = [
        0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
        0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
    ]

    public init?(parsing body: Span<UInt8>) {
        guard body.count >= 34 else { return nil }
        legacyVersion = body.be16(0)
        isHelloRetryRequest = (0..<32).allSatisfy { body[2 &+ $0] == Self.helloRetryRandom[$0] }
        var at = 34
        guard body.has(1, at: at) else { return }
        at &+= 1 &+ Int(body[at])
        guard body.has(3, at: at) else { return }
        cipherSuite = body.be16(at)
        at &+= 3
        guard body.has(2, at: at) else { return }
        let end = min(body.count, at &+ 2 &+ Int(body.be16(at)))
        at &+= 2
        while at &+ 4 <= end {
            let type = body.be16(at)
            let length = Int(body.be16(at &+ 2))
            let dataStart = at &+ 4
            let dataEnd = min(dataStart &+ length, body.count)
            if type == TLSClientHello.Extension.supportedVersions && dataEnd &- dataStart >= 2 {
                selectedVersion = body.be16(dataStart)
            } else if type == TLSClientHello.Extension.alpn && dataEnd &- dataStart >= 3 {
                let n = Int(body[dataStart &+ 2])
                let stop = min(dataStart &+ 3 &+ n, dataEnd)
                if stop > dataStart &+ 3 { alpn = body.text((dataStart &+ 3)..<stop) }
            }
            at = dataStart &+ length
        }
    }

    /// The version in force: supported_versions' choice, else the legacy field.
    public var version: UInt16 { selectedVersion ?? legacyVersion }
}

/// The server names a certificate is for: its subject's common name (OID 2.5.4.3) and the DNS names
/// of its subjectAltName extension (OID 2.5.29.17, RFC 5280 §4.2.1.6).
///
/// Contract: reads the DER of one certificate with a small, bounded walker (depth and count
/// limits); anything malformed ends the walk with what was found. Never traps.
public enum CertificateNames {
    /// Names from the first certificate of a TLS 1.2 Certificate message body
    /// (`certificate_list<0..2^24-1>` of `opaque ASN.1Cert<1..2^24-1>`, RFC 5246 §7.4.2).
    public static func fromCertificateMessage(_ body: Span<UInt8>) -> [String] {
        guard body.count >= 6 else { return [] }
        let length = Int(body[3]) << 16 | Int(body[4]) << 8 | Int(body[5])
        let end = min(body.count, 6 &+ length)
        guard end > 6 else { return [] }
        let certificate = body.extracting(6..<end)
        return byCertificate.value(Certificate(bytes: certificate.array(0..<certificate.count))) { names(certificate) }
    }

    /// A server's certificate comes back on every connection to it (1,916 certificates, 156
    /// distinct, in the benchmark's mix.pcapng). Equal means byte for byte (memcmp); the hash
    /// reads the length and the first and last 64 bytes — the serial number near the start, the
    /// signature at the end — so a lookup costs a few hundred instructions, not a walk of ~1.5 KB.
    struct Certificate: Hashable, Sendable {
        var bytes: [UInt8]

        func hash(into hasher: inout Hasher) {
            hasher.combine(bytes.count)
            unsafe bytes.withUnsafeBytes { raw in
                let edge = min(64, raw.count)
                unsafe hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: raw[0..<edge]))
                unsafe hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: raw[(raw.count &- edge)...]))
            }
        }

        static func == (a: Certificate, b: Certificate) -> Bool { a.bytes.hasSameBytes(as: b.bytes) }
    }

    static let byCertificate = MemoCache<Certificate, [String]>(capacity: 1024)

    /// Names in one DER certificate.
    public static func names(_ der: Span<UInt8>) -> [String] {
        // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version?, serial, signature,
        // issuer, validity, subject, spki, [1]?, [2]?, [3] extensions? } ... }
        guard let certificate = DER.element(der, at: 0), certificate.tag == 0x30,
              let tbs = DER.element(der, at: certificate.content.lowerBound), tbs.tag == 0x30 else { return [] }
        var fields = DER.Children(of: tbs, limit: 12)
        var subject: DER.Element?
        var extensions: DER.Element?
        var index = 0
        var subjectIndex = 4
        while let field = fields.next(der) {
            if index == 0 && field.tag == 0xA0 { subjectIndex = 5 }
            if index == subjectIndex { subject = field }
            if field.tag == 0xA3 && extensions == nil { extensions = field }
            index &+= 1
        }
        var names: [String] = []
        if let subject { commonNames(der, subject, into: &names) }
        if let extensions {
            // A certificate for a CDN lists hundreds of names: keep the order, find repeats by set.
            var seen = Set(names)
            subjectAltNames(der, extensions) { name in
                if seen.insert(name).inserted { names.append(name) }
            }
        }
        return names
    }

    static let commonNameOID: [UInt8] = [0x55, 0x04, 0x03]
    static let subjectAltNameOID: [UInt8] = [0x55, 0x1D, 0x11]

    /// Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY }
    private static func commonNames(_ der: Span<UInt8>, _ name: DER.Element, into out: inout [String]) {
        var sets = DER.Children(of: name)
        while let set = sets.next(der) {
            var pairs = DER.Children(of: set)
            while let pair = pairs.next(der) {
                var parts = DER.Children(of: pair)
                guard let type = parts.next(der), let value = parts.next(der), parts.next(der) == nil,
                      type.tag == 0x06, DER.equals(der, type.content, commonNameOID) else { continue }
                out.append(der.text(value.content))
            }
        }
    }

    /// [3] { SEQUENCE OF Extension { extnID OID, critical BOOLEAN?, extnValue OCTET STRING } }
    private static func subjectAltNames(_ der: Span<UInt8>, _ wrapper: DER.Element, _ body: (String) -> Void) {
        var wrapped = DER.Children(of: wrapper)
        guard let list = wrapped.next(der) else { return }
        var extensions = DER.Children(of: list)
        while let ext = extensions.next(der) {
            var parts = DER.Children(of: ext)
            guard let oid = parts.next(der), oid.tag == 0x06, DER.equals(der, oid.content, subjectAltNameOID) else { continue }
            var value = oid
            while let next = parts.next(der) { value = next }
            guard value.tag == 0x04, let names = DER.element(der, at: value.content.lowerBound), names.tag == 0x30 else { continue }
            // GeneralName dNSName is [2] IMPLICIT IA5String: tag 0x82.
            var general = DER.Children(of: names)
            while let name = general.next(der) {
                if name.tag == 0x82 { body(der.text(name.content)) }
            }
        }
    }
}

/// A minimal DER reader: one element's tag and content range, and an element's children.
enum DER {
    struct Element {
        var tag: UInt8
        var content: Range<Int>
    }

    /// The element at `offset` (short and long definite lengths up to 4 bytes), or nil.
    static func element(_ b: Span<UInt8>, at offset: Int) -> Element? {
        guard b.has(2, at: offset) else { return nil }
        let tag = b[offset]
        var length = Int(b[offset &+ 1])
        var at = offset &+ 2
        if length & 0x80 != 0 {
            let n = length & 0x7F
            guard n >= 1, n <= 4, b.has(n, at: at) else { return nil }
            length = 0
            for i in 0..<n { length = length << 8 | Int(b[at &+ i]) }
            at &+= n
        }
        guard length >= 0, length <= b.count &- at else { return nil }
        return Element(tag: tag, content: at..<(at &+ length))
    }

    /// The elements inside `parent`, one at a time, without building an array (a certificate's
    /// names took ~200 arrays per certificate that way): at most `limit`, and none that overruns
    /// its parent.
    struct Children {
        var at: Int
        let end: Int
        var remaining: Int

        init(of parent: Element, limit: Int = 64) {
            at = parent.content.lowerBound
            end = parent.content.upperBound
            remaining = limit
        }

        mutating func next(_ b: Span<UInt8>) -> Element? {
            guard at < end, remaining > 0, let e = DER.element(b, at: at), e.content.upperBound <= end else { return nil }
            at = e.content.upperBound
            remaining &-= 1
            return e
        }
    }

    static func equals(_ b: Span<UInt8>, _ range: Range<Int>, _ bytes: [UInt8]) -> Bool {
        guard range.count == bytes.count else { return false }
        for i in 0..<bytes.count where b[range.lowerBound &+ i] != bytes[i] { return false }
        return true
    }
}

/// TLS alert descriptions (RFC 8446 §6) by number, for reports.
public enum TLSAlert {
    public static func name(_ description: UInt8) -> String {
        switch description {
        case 0: "close_notify"
        case 10: "unexpected_message"
        case 20: "bad_record_mac"
        case 22: "record_overflow"
        case 40: "handshake_failure"
        case 42: "bad_certificate"
        case 43: "unsupported_certificate"
        case 44: "certificate_revoked"
        case 45: "certificate_expired"
        case 46: "certificate_unknown"
        case 47: "illegal_parameter"
        case 48: "unknown_ca"
        case 49: "access_denied"
        case 50: "decode_error"
        case 51: "decrypt_error"
        case 70: "protocol_version"
        case 71: "insufficient_security"
        case 80: "internal_error"
        case 86: "inappropriate_fallback"
        case 90: "user_canceled"
        case 109: "missing_extension"
        case 110: "unsupported_extension"
        case 112: "unrecognized_name"
        case 113: "bad_certificate_status_response"
        case 115: "unknown_psk_identity"
        case 116: "certificate_required"
        case 120: "no_application_protocol"
        default: "alert_\(description)"
        }
    }
}
