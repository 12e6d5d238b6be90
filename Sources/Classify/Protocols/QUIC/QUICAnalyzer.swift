public import Flows
import Wire

/// What a QUIC connection's Initial packets showed.
public struct QUICFacts: ProtocolFacts, Equatable {
    public static let key = "quic"
    public var version: String?
    public var serverName: String?
    public var alpn: [String] = []
    public var clientVersions: [String] = []
    public var ja4: String?
    /// Google QUIC's user agent (the CHLO's UAID, or transport parameter 0x3129).
    public var userAgent: String?
    /// Initial packets that could not be opened with the keys their connection id gives.
    public var undecryptable = 0

    public func report<Sink: FactSink>(to sink: inout Sink) {
        sink.add("version", version)
        sink.add("server_name", serverName)
        sink.add("client_versions", clientVersions)
        sink.add("alpn", alpn)
        sink.add("ja4", ja4)
        sink.add("user_agent", userAgent)
        if undecryptable > 0 { sink.add("undecryptable_initials", undecryptable) }
    }

    public init() {}
}

/// QUIC (RFC 9000, v2 RFC 9369, the IETF drafts, Google QUIC): a long-header packet of a known
/// version whose lengths fit the datagram, or Google's older public header with a `Q0xx` version.
/// Short-header packets alone are not recognisable and are not claimed.
public final class QUICAnalyzer: ProtocolAnalyzer {
    public let service = Service.quic
    public let transports: [Transport] = [.udp]
    public let hintPorts: [UInt16] = [443, 80, 8443, 4433, 4443]
    public let probeDatagrams = 2

    public init() {}

    public static func probe(_ bytes: Span<UInt8>, previous: Span<UInt8>, context: ProbeContext) -> ProbeVerdict {
        guard bytes.count >= 13 else { return .noMatch }
        if bytes[0] & 0x80 != 0 {
            let version = QUICVersion(bytes.be32(1))
            if version.number == 0 {
                // Version Negotiation (RFC 9000 §17.2.1): the versions fill the rest, 4 bytes each.
                return QUICAnalyzer.isVersionNegotiation(bytes) ? .match : .noMatch
            }
            guard version.isKnown else { return .noMatch }
            if version.hasProtectedInitial {
                guard let header = QUICLongHeader.parse(bytes, at: 0, lax: context.isCut(bytes)) else { return .noMatch }
                // A client's first flight is padded to 1200 bytes (RFC 9000 §14.1).
                if header.isInitial && context.direction == .fromOriginator && max(bytes.count, context.claimedLength) < 1200
                    && !version.isGoogle {
                    return .noMatch
                }
                return .match
            }
            return .match  // Google QUIC Q043–Q049 long header.
        }
        // Google QUIC's public header: flags with the version bit (0x01) and an 8-byte connection id
        // (0x08), then the version `Q0xx` at byte 9.
        if bytes[0] & 0x09 == 0x09, bytes[0] & 0x80 == 0,
           QUICVersion(bytes.be32(9)).googleDigits != nil { return .match }
        return .noMatch
    }

    static func isVersionNegotiation(_ b: Span<UInt8>) -> Bool {
        guard b.count >= 7 else { return false }
        let dcid = Int(b[5])
        guard b.has(1, at: 6 &+ dcid) else { return false }
        let scid = Int(b[6 &+ dcid])
        let start = 7 &+ dcid &+ scid
        return start < b.count && (b.count &- start) % 4 == 0
    }

    public func makeSession(flow: FlowStart) -> any ProtocolSession { QUICSession() }
}

/// Keeps the client's first datagrams that carry Initial packets (or Google QUIC's clear
/// handshake) while the flow lives, and when it is finished opens them, puts their CRYPTO frames
/// back in order (a ClientHello may span several packets, out of order) and reads the ClientHello.
/// Decryption is off the packet path: it costs more than anything else a flow needs.
final class QUICSession: ProtocolSession {
    var datagrams: [[UInt8]] = []
    var seen = 0
    /// Three Initial datagrams hold any ClientHello seen in practice (post-quantum key shares make
    /// Chrome's about 1.8 KB: two packets).
    static let keptDatagrams = 3

    var wantsMore: Bool { datagrams.count < Self.keptDatagrams && seen < 16 }

    func consume(_ bytes: Span<UInt8>, context: inout SessionContext) -> Consumption {
        seen &+= 1
        guard context.direction == .fromOriginator, !bytes.isEmpty else { return wantsMore ? .consumed(bytes.count) : .done }
        // Long header (Initial or Google's Q043–Q049), or Google's public header with a version.
        let keep = bytes[0] & 0x80 != 0 ? bytes.count >= 7 && QUICVersion(bytes.be32(1)).number != 0 : bytes[0] & 0x09 == 0x09
        if keep && datagrams.count < Self.keptDatagrams { datagrams.append(Array(span: bytes)) }
        return wantsMore ? .consumed(bytes.count) : .done
    }

    func finish(_ ending: FlowEnding, into facts: inout FlowFacts) {
        var reader = QUICInitialReader()
        for datagram in datagrams { reader.read(datagram) }
        let quic = reader.facts()
        if let name = quic.serverName, !name.isEmpty {
            facts.serverName = name
            facts.serverNameSource = .sni
        }
        facts.details.append(quic)
    }
}

/// What `QUICSession.finish` does with the kept datagrams.
struct QUICInitialReader {
    var version: QUICVersion?
    var keys: QUICInitialKeys?
    var crypto: [UInt8] = []
    var covered = CoveredRanges()
    var clientHello: TLSClientHello?
    var google: (serverName: String?, userAgent: String?)?
    var undecryptable = 0
    static let maximumCrypto = 64 * 1024

    mutating func read(_ datagram: [UInt8]) {
        let bytes = datagram.span
        if bytes[0] & 0x80 == 0 {
            google = GoogleHandshake.clientHello(bytes) ?? google
            return
        }
        var at = 0
        while at < bytes.count, bytes[at] & 0x80 != 0, let header = QUICLongHeader.parse(bytes, at: at) {
            if version == nil { version = header.version }
            if header.isInitial && header.version.hasProtectedInitial {
                if keys == nil {
                    keys = QUICInitialKeys(version: header.version, connectionID: header.destinationID, client: true)
                }
                let opened = keys.map { keys in
                    header.open(bytes, start: at, keys: keys) { payload in
                        QUICFrames.forEachCryptoFrame(payload, google: header.version.isGoogle) { add($0, $1) }
                    }
                } ?? false
                if !opened { undecryptable &+= 1 }
            } else if !header.version.hasProtectedInitial {
                google = GoogleHandshake.clientHello(bytes) ?? google
            }
            at = header.end
        }
        if version.map({ !$0.hasProtectedInitial }) ?? false, google == nil {
            google = GoogleHandshake.clientHello(bytes)
        }
    }

    private mutating func add(_ offset: UInt64, _ data: Span<UInt8>) {
        guard offset < UInt64(Self.maximumCrypto) else { return }
        let start = Int(offset)
        let end = min(start &+ data.count, Self.maximumCrypto)
        guard end > start else { return }
        if crypto.count < end { crypto.append(contentsOf: repeatElement(0, count: end &- crypto.count)) }
        crypto.overwrite(at: start, with: data, 0..<(end &- start))
        covered.cover(start..<end)
    }

    /// The ClientHello in the crypto stream from offset 0 (as much of it as arrived).
    private mutating func readCrypto() {
        let first = covered.prefix
        guard clientHello == nil, !first.isEmpty else { return }
        let stream = crypto
        let b = stream.span.extracting(0..<first.upperBound)
        if let v = version, v.number >> 24 == 0x51 {
            google = GoogleHandshake.clientHello(b) ?? google  // Q050: Google's CHLO inside CRYPTO.
            return
        }
        guard b.count >= 4, b[0] == 1 else { return }
        let length = Int(b[1]) << 16 | Int(b[2]) << 8 | Int(b[3])
        clientHello = TLSClientHello(parsing: b.extracting(4..<min(b.count, 4 &+ length)))
    }

    mutating func facts() -> QUICFacts {
        readCrypto()
        var quic = QUICFacts()
        quic.version = version?.name
        quic.undecryptable = undecryptable
        if let hello = clientHello {
            let tls = TLSFacts(clientHello: hello, transport: .quic)
            quic.serverName = tls.serverName
            quic.alpn = tls.alpn
            quic.clientVersions = tls.clientVersions
            quic.ja4 = tls.ja4
            if let parameters = hello.quicTransportParameters { quic.userAgent = QUICSession.googleUserAgent(parameters) }
        }
        if let google {
            quic.serverName = quic.serverName ?? google.serverName
            quic.userAgent = quic.userAgent ?? google.userAgent
        }
        return quic
    }
}

extension QUICSession {
    /// Google's user-agent transport parameter (id 0x3129) among `id(i) length(i) value` entries.
    static func googleUserAgent(_ parameters: [UInt8]) -> String? {
        let b = parameters.span
        var at = 0
        while at < b.count {
            guard let (id, n0) = QUICLongHeader.varint(b, at: at) else { return nil }
            guard let (length, n1) = QUICLongHeader.varint(b, at: at &+ n0) else { return nil }
            let start = at &+ n0 &+ n1
            guard b.has(Int(min(length, 1 << 16)), at: start) else { return nil }
            if id == 0x3129 { return b.text(start..<(start &+ Int(length))) }
            at = start &+ Int(length)
        }
        return nil
    }
}
