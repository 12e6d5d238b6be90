public import Flows
import Wire

/// What SSDP messages showed (UPnP Device Architecture 2.0 §1).
public struct SSDPFacts: ProtocolFacts, Equatable {
    public static let key = "ssdp"
    /// `M-SEARCH`, `NOTIFY`, `response`, in the order first seen.
    public var messages: [String] = []
    public var server: String?
    public var userAgent: String?
    public var location: String?
    /// Search targets (ST of M-SEARCH and replies) and notification types (NT).
    public var targets: [String] = []
    public var usns: [String] = []

    public func report<Sink: FactSink>(to sink: inout Sink) {
        sink.add("messages", messages)
        sink.add("server", server)
        sink.add("user_agent", userAgent)
        sink.add("location", location)
        sink.add("targets", targets)
        sink.add("usn", usns)
    }

    public init() {}
}

/// SSDP (HTTPU over UDP): `M-SEARCH * HTTP/1.1` or `NOTIFY * HTTP/1.1`, or a unicast
/// `HTTP/1.1 200` reply carrying ST and USN headers.
public final class SSDPAnalyzer: ProtocolAnalyzer {
    public let service = Service.ssdp
    public let transports: [Transport] = [.udp]
    public let hintPorts: [UInt16] = [1900]
    public let probeDatagrams = 1

    public init() {}

    public static func probe(_ bytes: Span<UInt8>, previous: Span<UInt8>, context: ProbeContext) -> ProbeVerdict {
        if bytes.matches("M-SEARCH * HTTP/1.") || bytes.matches("NOTIFY * HTTP/1.") { return .match }
        guard bytes.matches("HTTP/1."), case .head(let head) = HTTPHead.parse(bytes, isFinal: true) else { return .noMatch }
        return head.headers.value("st") != nil && head.headers.value("usn") != nil ? .match : .noMatch
    }

    public func makeSession(flow: FlowStart) -> any ProtocolSession { SSDPSession() }
}

/// Reads every SSDP datagram of the flow (announcements repeat; the facts are bounded sets).
final class SSDPSession: ProtocolSession {
    var facts = SSDPFacts()
    var datagrams = 0
    var wantsMore: Bool { datagrams < 256 }

    func consume(_ bytes: Span<UInt8>, context: inout SessionContext) -> Consumption {
        datagrams &+= 1
        guard case .head(let head) = HTTPHead.parse(bytes, isFinal: true) else { return .consumed(bytes.count) }
        let kind: String
        switch head.start {
        case .request(let method, _, _): kind = method
        case .response: kind = "response"
        }
        add(kind, to: &facts.messages, limit: 4)
        if facts.server == nil { facts.server = head.headers.value("server") }
        if facts.userAgent == nil { facts.userAgent = head.headers.value("user-agent") }
        if facts.location == nil { facts.location = head.headers.value("location") }
        if let target = head.headers.value("st") ?? head.headers.value("nt") { add(target, to: &facts.targets, limit: 16) }
        if let usn = head.headers.value("usn") { add(usn, to: &facts.usns, limit: 16) }
        return .consumed(bytes.count)
    }

    private func add(_ value: String, to list: inout [String], limit: Int) {
        if !list.contains(value) && list.count < limit { list.append(value) }
    }

    func finish(_ ending: FlowEnding, into facts: inout FlowFacts) {
        facts.details.append(self.facts)
    }
}
