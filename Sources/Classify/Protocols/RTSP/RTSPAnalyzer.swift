public import Flows
import Wire

/// What an RTSP session showed (RFC 7826; RFC 2326 for 1.0).
public struct RTSPFacts: ProtocolFacts, Equatable {
    public static let key = "rtsp"
    /// Methods in the order first used.
    public var methods: [String] = []
    public var url: String?
    public var urlHost: String?
    public var userAgent: String?
    public var server: String?
    public var status: Int?
    /// Transport headers of the SETUP replies (or requests, when no reply was seen).
    public var transports: [String] = []
    /// RTP interleaved in the RTSP connection (RFC 7826 §14): `$`, channel, length, packet.
    public var interleaved = false
    public var interleavedFrames = 0

    public func report<Sink: FactSink>(to sink: inout Sink) {
        sink.add("methods", methods)
        sink.add("url", url)
        sink.add("url_host", urlHost)
        sink.add("user_agent", userAgent)
        sink.add("server", server)
        sink.add("status", status)
        sink.add("transports", transports)
        sink.add("interleaved", interleaved)
        if interleavedFrames > 0 { sink.add("interleaved_frames", interleavedFrames) }
    }

    public init() {}
}

/// RTSP (RFC 7826 §20.2): a request line ending in `RTSP/1.0` or `RTSP/2.0`, or a status line
/// starting with it.
public final class RTSPAnalyzer: ProtocolAnalyzer {
    public let service = Service.rtsp
    public let transports: [Transport] = [.tcp]
    public let hintPorts: [UInt16] = [554, 8554, 7070]
    public let probeBytes = 8192

    public init() {}

    public static func probe(_ bytes: Span<UInt8>, previous: Span<UInt8>, context: ProbeContext) -> ProbeVerdict {
        switch StartLine.scan(bytes, isFinal: context.isFinal) {
        case .request(_, let isRTSP, _, _, _), .response(_, let isRTSP, _, _): isRTSP ? .match : .noMatch
        case .needMore: .needMore
        case .invalid: .noMatch
        }
    }

    public func makeSession(flow: FlowStart) -> any ProtocolSession { RTSPSession() }
}

/// Reads RTSP requests and replies for the whole control connection (within the inspection
/// window): methods, the URL, agents, and each SETUP's Transport — which announces the RTP and
/// RTCP ports, so the media flows are labelled and linked to this session when they start.
final class RTSPSession: ProtocolSession {
    var facts = RTSPFacts()
    /// CSeq of SETUP requests not answered yet, with their Transport.
    var pendingSetups: [String: String] = [:]
    /// Replies seen before their request, by CSeq: a SPAN port copies the two directions from
    /// different switch ports, so a reply can reach the capture first.
    var earlyReplies: [String: (status: Int, transport: String?)] = [:]
    var messages: InlineArray<2, Int> = InlineArray(repeating: 0)
    var done: InlineArray<2, Bool> = InlineArray(repeating: false)

    var wantsMore: Bool { !(done[0] && done[1]) }

    func consume(_ bytes: Span<UInt8>, context: inout SessionContext) -> Consumption {
        let d = context.direction.rawValue
        guard !done[d], !bytes.isEmpty else { return done[d] ? .done : .needMore }
        if bytes[0] == 0x24 {
            // Interleaved binary data: `$` channel(1) length(2) data.
            guard bytes.count >= 4 else { return context.isFinal ? .done : .needMore }
            facts.interleaved = true
            facts.interleavedFrames &+= 1
            return .consumed(4 &+ Int(bytes.be16(2)))
        }
        switch HTTPHead.parse(bytes, isFinal: context.isFinal) {
        case .needMore:
            return .needMore
        case .invalid:
            done[d] = true
            return .done
        case .head(let head):
            messages[d] &+= 1
            read(head, context: context)
            if messages[d] >= 64 {
                done[d] = true
                return .done
            }
            return .consumed(head.length &+ (head.contentLength ?? 0))
        }
    }

    private func read(_ head: HTTPHead, context: SessionContext) {
        let cseq = head.headers.value("cseq") ?? ""
        switch head.start {
        case .request(let method, let target, _):
            if !facts.methods.contains(method) && facts.methods.count < 16 { facts.methods.append(method) }
            if facts.url == nil && target.lowercased().hasPrefix("rtsp") {
                facts.url = String(target.prefix(512))
                facts.urlHost = Self.host(ofURL: target)
            }
            if facts.userAgent == nil { facts.userAgent = head.headers.value("user-agent") }
            if method == "SETUP", let transport = head.headers.value("transport") {
                if let reply = earlyReplies.removeValue(forKey: cseq) {
                    answered(requested: transport, reply: reply.transport, status: reply.status, context: context)
                } else if pendingSetups.count < 16 {
                    pendingSetups[cseq] = transport
                }
            }
        case .response(_, let status):
            if facts.status == nil { facts.status = status }
            if facts.server == nil { facts.server = head.headers.value("server") }
            let transport = head.headers.value("transport")
            if let requested = pendingSetups.removeValue(forKey: cseq) {
                answered(requested: requested, reply: transport, status: status, context: context)
            } else if transport != nil && earlyReplies.count < 16 {
                earlyReplies[cseq] = (status, transport)
            }
        }
    }

    /// A SETUP and its reply: the reply's Transport is what the server chose (the request's only
    /// offers), so it is the one kept.
    private func answered(requested: String, reply: String?, status: Int, context: SessionContext) {
        let transport = reply ?? requested
        if facts.transports.count < 8 { facts.transports.append(transport) }
        if transport.lowercased().contains("interleaved=") { facts.interleaved = true }
        if (200..<300).contains(status) { expectMedia(transport, context: context) }
    }

    /// Registers the RTP and RTCP flows a SETUP reply's Transport announces (RFC 7826 §18.54,
    /// RFC 2326 §12.39): `client_port=a-b` on the client, `server_port=c-d` on the server; RTP on
    /// the first port of each pair, RTCP on the second.
    private func expectMedia(_ transport: String, context: SessionContext) {
        // The RTSP client is the control connection's originator.
        let flow = context.flow
        for spec in transport.split(separator: ",").prefix(4) {
            var clientPorts: (Int, Int)?, serverPorts: (Int, Int)?
            var client = flow.originator, server = flow.responder
            for parameter in spec.split(separator: ";") {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: " ") }
                guard pair.count == 2 else { continue }
                switch pair[0].lowercased() {
                case "client_port": clientPorts = Self.portPair(pair[1])
                case "server_port": serverPorts = Self.portPair(pair[1])
                case "destination": if let a = IPAddress(pair[1]) { client = a }
                case "source": if let a = IPAddress(pair[1]) { server = a }
                default: break
                }
            }
            guard let ports = clientPorts else { continue }
            let expires = context.time &+ 3_600_000_000_000
            context.shared.media.expect(.init(client: client, clientPort: UInt16(ports.0), server: server,
                                              serverPort: UInt16(serverPorts?.0 ?? 0), service: .rtp,
                                              session: flow.uid, expires: expires))
            context.shared.media.expect(.init(client: client, clientPort: UInt16(ports.1), server: server,
                                              serverPort: UInt16(serverPorts?.1 ?? 0), service: .rtcp,
                                              session: flow.uid, expires: expires))
        }
    }

    /// `a-b` or `a` (then b = a + 1).
    static func portPair(_ text: String) -> (Int, Int)? {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard let first = parts.first, (1...65_534).contains(first) else { return nil }
        let second = parts.count > 1 ? parts[1] : first + 1
        guard (1...65_535).contains(second) else { return nil }
        return (first, second)
    }

    /// The host of `rtsp://[user@]host[:port]/path` (lower case, brackets removed).
    static func host(ofURL url: String) -> String? {
        let parts = url.split(separator: "://", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        var rest = parts[1]
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        let host = HTTPSession.splitAuthority(String(rest)).0.lowercased()
        return host.isEmpty ? nil : host
    }

    func finish(_ ending: FlowEnding, into facts: inout FlowFacts) {
        facts.details.append(self.facts)
        if self.facts.interleaved && !facts.services.contains(.rtp) { facts.services.append(.rtp) }
        if let host = self.facts.urlHost {
            facts.serverName = host
            facts.serverNameSource = .rtspURL
        }
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        var s = self
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
