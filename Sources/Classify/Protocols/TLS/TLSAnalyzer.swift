import Wire
public import Flows

/// What a TLS (or DTLS) handshake showed.
public struct TLSFacts: ProtocolFacts, Equatable {
    public static let key = "tls"

    public enum Outcome: String, Sendable {
        /// ServerHello, and both sides sent more after the hellos (the handshake went on; in TLS 1.3
        /// everything after the ServerHello is encrypted, so this is as far as a passive observer sees).
        case established
        /// ServerHello seen; the rest of the handshake or the data was not.
        case serverHello = "server_hello"
        /// An alert in clear before encryption: the handshake was refused.
        case alert
        /// A ClientHello, and the responder reset the connection without a ServerHello (the mark of
        /// SNI or content filtering when it comes right after the ClientHello).
        case reset
        /// A ClientHello, and nothing ever came back.
        case noResponse = "no_response"
        /// A ClientHello, an answer that was not a ServerHello, no reset.
        case incomplete
    }

    public var serverName: String?
    public var alpn: [String] = []
    /// Versions the client offered (supported_versions, else its legacy version), GREASE left out.
    public var clientVersions: [String] = []
    /// The version the server chose.
    public var version: String?
    public var cipherSuite: String?
    public var serverALPN: String?
    public var ja4: String?
    /// Encrypted Client Hello offered: `serverName` is then the public outer name.
    public var encryptedClientHello = false
    /// Names of the server's certificate, when it was sent in clear (TLS 1.2 and earlier).
    public var certificateNames: [String] = []
    public var outcome: Outcome?
    /// The first alert seen in clear, by name, and who sent it.
    public var alert: String?
    public var alertFrom: String?
    public var helloRetryRequest = false

    public func report<Sink: FactSink>(to sink: inout Sink) {
        sink.add("server_name", serverName)
        sink.add("client_versions", clientVersions)
        sink.add("alpn", alpn)
        sink.add("ja4", ja4)
        sink.add("ech", encryptedClientHello)
        sink.add("version", version)
        sink.add("cipher_suite", cipherSuite)
        sink.add("server_alpn", serverALPN)
        sink.add("certificate_names", certificateNames)
        sink.add("hello_retry_request", helloRetryRequest)
        sink.add("outcome", outcome?.rawValue)
        sink.add("alert", alert)
        sink.add("alert_from", alertFrom)
    }

    /// Facts from a ClientHello.
    public init(clientHello hello: TLSClientHello?, transport: JA4.Transport) {
        guard let hello else { return }
        serverName = hello.serverName
        alpn = hello.alpn
        clientVersions.reserveCapacity(max(1, hello.supportedVersions.count))
        for v in hello.supportedVersions where !TLSVersion.isGREASE(v) { clientVersions.append(TLSVersion.name(v)) }
        if clientVersions.isEmpty { clientVersions.append(TLSVersion.name(hello.legacyVersion)) }
        ja4 = JA4.fingerprint(hello, transport: transport)
        encryptedClientHello = hello.hasEncryptedClientHello
    }

    public init() {}
}

/// TLS over TCP (RFC 8446, RFC 5246): a record header decides (content type 20–23, version 3.x, a
/// plausible length) and, for a handshake record, a ClientHello or ServerHello inside it.
public final class TLSAnalyzer: ProtocolAnalyzer {
    public let service = Service.tls
    public let transports: [Transport] = [.tcp]
    public let hintPorts: [UInt16] = [443, 8443, 444, 8531, 993, 995, 465, 636, 853, 5061, 8883]
    public let probeBytes = 6

    public init() {}

    public static func probe(_ bytes: Span<UInt8>, previous: Span<UInt8>, context: ProbeContext) -> ProbeVerdict {
        TLSRecordLayer.probe(bytes)
    }

    public func makeSession(flow: FlowStart) -> any ProtocolSession {
        TLSSession(transport: .tcp)
    }
}

/// The TLS record layer (RFC 8446 §5.1): `type(1) version(2) length(2) fragment`.
enum TLSRecordLayer {
    /// The largest record: 2^14 plus expansion (RFC 5246 §6.2.3).
    static let maximumLength = 18_432

    static func probe(_ b: Span<UInt8>) -> ProbeVerdict {
        guard b.count >= 1 else { return .needMore }
        guard (20...23).contains(b[0]) else { return .noMatch }
        guard b.count >= 3 else { return .needMore }
        guard b[1] == 3, b[2] <= 4 else { return .noMatch }
        guard b.count >= 5 else { return .needMore }
        let length = Int(b.be16(3))
        guard length >= 1, length <= maximumLength else { return .noMatch }
        guard b[0] == 22 else { return .match }
        guard b.count >= 6 else { return .needMore }
        // A handshake record that starts a connection holds a ClientHello or a ServerHello.
        return b[5] == 1 || b[5] == 2 ? .match : .noMatch
    }
}

/// Reads a TLS connection's first records: the ClientHello, then the server's flight up to the
/// ServerHello (TLS 1.3) or its certificate (TLS 1.2), and alerts before encryption. It stops
/// there; whether the connection went on is judged at the end from the bytes each side sent past
/// the hellos. Record bodies it does not need are skipped unseen.
final class TLSSession: ProtocolSession {
    let transport: JA4.Transport
    /// The ClientHello and certificate messages, kept as bytes while the flow lives and parsed
    /// when it is finished (off the packet path: most of their cost is strings and lists).
    var clientHelloBytes: [UInt8]?
    var certificateBytes: [UInt8]?
    var serverHello: TLSServerHello?
    var alert: (description: UInt8, from: Direction)?
    var applicationData: InlineArray<2, Bool> = InlineArray(repeating: false)
    var changeCipherSpec: InlineArray<2, Bool> = InlineArray(repeating: false)
    var records: InlineArray<2, Int> = InlineArray(repeating: 0)
    var done: InlineArray<2, Bool> = InlineArray(repeating: false)
    /// Stream bytes read per direction (through the last record looked at).
    var consumed: InlineArray<2, Int> = InlineArray(repeating: 0)
    /// Handshake bytes of a message spanning records, per direction.
    var pending: ([UInt8], [UInt8]) = ([], [])
    var malformed = false

    init(transport: JA4.Transport) {
        self.transport = transport
    }

    var wantsMore: Bool { !(done[0] && done[1]) }

    func consume(_ bytes: Span<UInt8>, context: inout SessionContext) -> Consumption {
        let d = context.direction.rawValue
        guard !done[d] else { return .done }
        guard bytes.count >= 5 else { return context.isFinal ? finishDirection(d) : .needMore }
        let type = bytes[0]
        let length = Int(bytes.be16(3))
        guard (20...24).contains(type), bytes[1] == 3, length <= TLSRecordLayer.maximumLength else {
            malformed = true
            return finishDirection(d)
        }
        let total = 5 &+ length
        switch type {
        case 23:
            applicationData[d] = true
            return afterRecord(d, total)
        case 20:
            changeCipherSpec[d] = true
            return afterRecord(d, total)
        case 24:
            return afterRecord(d, total)  // heartbeat
        default:
            break
        }
        guard bytes.count >= total else {
            if context.isFinal {
                // Cut by the capture: read what the record holds.
                if type == 22 { handshake(bytes.extracting(5..<bytes.count), d, isFinal: true) }
                return finishDirection(d)
            }
            return .needMore
        }
        let body = bytes.extracting(5..<total)
        if type == 21 {
            // An alert in clear: before ChangeCipherSpec (TLS 1.2) or a ServerHello (TLS 1.3).
            if length == 2 && !isEncrypted(d) && alert == nil {
                alert = (body[1], Direction(rawValue: d) ?? .fromOriginator)
            }
        } else if !isEncrypted(d) {
            handshake(body, d, isFinal: false)
        }
        return afterRecord(d, total)
    }

    private func isEncrypted(_ d: Int) -> Bool {
        if changeCipherSpec[d] { return true }
        // TLS 1.3 encrypts everything after the ServerHello.
        if let hello = serverHello, hello.version == 0x0304 || hello.version >= 0x7F00 { return d == 1 || applicationData[d] }
        return false
    }

    private func afterRecord(_ d: Int, _ total: Int) -> Consumption {
        consumed[d] &+= total
        records[d] &+= 1
        let finished: Bool
        if d == 0 {
            finished = clientHelloBytes != nil
        } else if let hello = serverHello {
            // TLS 1.3: all after the ServerHello is encrypted. TLS 1.2: up to the certificate, or
            // the server's ChangeCipherSpec when it sends none (resumption).
            finished = hello.version >= 0x0304 || certificateBytes != nil || changeCipherSpec[1] || applicationData[1]
        } else {
            finished = false
        }
        if finished || records[d] >= 16 || alert != nil { done[d] = true }
        return .consumed(total)
    }

    private func finishDirection(_ d: Int) -> Consumption {
        done[d] = true
        return .done
    }

    /// Handshake messages in one record's body: `type(1) length(3) body`, possibly split across records.
    private func handshake(_ body: Span<UInt8>, _ d: Int, isFinal: Bool) {
        var buffer = d == 0 ? pending.0 : pending.1
        if buffer.isEmpty {
            let used = messages(body, d, isFinal: isFinal)
            if used < body.count && !isFinal { buffer = Array(span: body.extracting(used...)) }
        } else {
            buffer.append(span: body)
            let used = messages(buffer.span, d, isFinal: isFinal)
            buffer.removeFirst(min(used, buffer.count))
        }
        if buffer.count > 1 << 16 || isFinal { buffer = [] }
        if d == 0 { pending.0 = buffer } else { pending.1 = buffer }
    }

    /// Reads whole messages from `b`; returns the bytes used. With `isFinal`, a cut last message is
    /// read too.
    private func messages(_ b: Span<UInt8>, _ d: Int, isFinal: Bool) -> Int {
        var at = 0
        while b.has(4, at: at) {
            let type = b[at]
            let length = Int(b[at &+ 1]) << 16 | Int(b[at &+ 2]) << 8 | Int(b[at &+ 3])
            let bodyStart = at &+ 4
            let complete = b.has(length, at: bodyStart)
            guard complete || isFinal else { return at }
            let body = b.extracting(bodyStart..<min(bodyStart &+ length, b.count))
            message(type, body)
            at = complete ? bodyStart &+ length : b.count
        }
        return at
    }

    private func message(_ type: UInt8, _ body: Span<UInt8>) {
        switch type {
        case 1 where clientHelloBytes == nil:
            clientHelloBytes = Array(span: body)
        case 2 where serverHello == nil:
            serverHello = TLSServerHello(parsing: body)
        case 11 where certificateBytes == nil:
            certificateBytes = Array(span: body.extracting(0..<min(body.count, 16 * 1024)))
        default:
            break
        }
    }

    func finish(_ ending: FlowEnding, into facts: inout FlowFacts) {
        let clientHello = clientHelloBytes.flatMap { TLSClientHello(parsing: $0.span, dtls: transport == .dtls) }
        var tls = TLSFacts(clientHello: clientHello, transport: transport)
        if let server = serverHello {
            tls.version = TLSVersion.name(server.version)
            tls.cipherSuite = server.cipherSuite.map { "0x" + hex4($0) }
            tls.serverALPN = server.alpn
            tls.helloRetryRequest = server.isHelloRetryRequest
        }
        if let certificateBytes { tls.certificateNames = CertificateNames.fromCertificateMessage(certificateBytes.span) }
        if let alert {
            tls.alert = TLSAlert.name(alert.description)
            tls.alertFrom = alert.from == .fromOriginator ? "originator" : "responder"
        }
        if clientHelloBytes != nil || serverHello != nil {
            let wentOn = ending.originatorBytes > UInt64(consumed[0]) && ending.responderBytes > UInt64(consumed[1])
            tls.outcome = Self.outcome(serverHello: serverHello != nil, alert: alert != nil,
                                       applicationData: (applicationData[0] && applicationData[1]) || wentOn, ending: ending)
        }
        if malformed { facts.notes.append("tls_malformed_record") }
        if let name = tls.serverName, !name.isEmpty {
            facts.serverName = name
            facts.serverNameSource = .sni
        }
        facts.details.append(tls)
    }

    static func outcome(serverHello: Bool, alert: Bool, applicationData: Bool, ending: FlowEnding) -> TLSFacts.Outcome {
        if alert { return .alert }
        if serverHello { return applicationData ? .established : .serverHello }
        if ending.responderReset { return .reset }
        if !ending.responderSentData { return .noResponse }
        return .incomplete
    }
}
