public import Classify
import Flows
public import Wire

/// What the audit keeps of a flow: who talked to whom, how it went, and the names it carried.
/// Small on purpose: the audit keeps one per flow of a local device until the capture ends.
public struct AuditFlow: Sendable {
    public var uid: String
    public var proto: IPProtocol
    public var originator: IPAddress
    public var originatorPort: UInt16
    public var responder: IPAddress
    public var responderPort: UInt16
    public var start: Int64
    /// The flow's first packet: input (0-based, as given) and packet number in it (1-based, as
    /// Wireshark numbers frames).
    public var firstInput: Int
    public var firstPacket: Int
    public var originatorPackets: UInt64
    public var responderPackets: UInt64
    public var connState: String
    public var history: String
    public var icmpErrors: [String]
    public var service: Service?
    public var services: [Service]
    public var serverName: String?
    /// SNI, HTTP Host, CONNECT target, RTSP URL host: the names the flow itself carried.
    public var names: [String]
    /// The host and port an HTTP CONNECT asked a proxy for: the flow's real destination.
    public var connectHost: String?
    public var connectPort: UInt16?
    /// A TLS (or DTLS) ClientHello was sent, and a ServerHello answered it.
    public var clientHello: Bool
    public var serverHello: Bool
    public var tunnelled: Bool

    public init(_ flow: ClassifiedFlow) {
        let r = flow.record
        uid = r.uid
        proto = r.protocolNumber
        originator = r.originator
        originatorPort = r.originatorPort
        responder = r.responder
        responderPort = r.responderPort
        start = r.start
        firstInput = r.firstInput
        firstPacket = r.firstPacket
        originatorPackets = r.originatorCounters.packets
        responderPackets = r.responderCounters.packets
        connState = r.connState.name
        history = r.history.string
        icmpErrors = r.icmpErrors
        service = flow.facts.service
        services = flow.facts.services
        serverName = flow.facts.serverName
        tunnelled = r.tunnelParentNumber != nil
        var names: [String] = []
        func add(_ name: String?) {
            guard let name, !name.isEmpty else { return }
            let host = AuditFlow.hostPart(name)
            if !names.contains(host) { names.append(host) }
        }
        var clientHello = false, serverHello = false
        for detail in flow.facts.details {
            if let tls = detail as? TLSFacts {
                clientHello = true
                serverHello = serverHello || tls.version != nil || tls.outcome == .established || tls.outcome == .serverHello
                add(tls.serverName)
            } else if let dtls = detail as? DTLSFacts {
                clientHello = true
                serverHello = serverHello || dtls.tls.version != nil || dtls.tls.outcome == .established
                add(dtls.tls.serverName)
            } else if let http = detail as? HTTPFacts {
                add(http.host)
                if let host = http.connectHost {
                    connectHost = host.lowercased()
                    connectPort = http.connectPort.flatMap { UInt16(exactly: $0) } ?? 443
                    add(host)
                }
            }
        }
        if flow.facts.serverNameSource != .dns { add(flow.facts.serverName) }
        self.names = names
        self.clientHello = clientHello
        self.serverHello = serverHello
    }

    /// A flow described directly (rules tested against facts, without a capture).
    public init(uid: String, proto: IPProtocol, originator: IPAddress, originatorPort: UInt16, responder: IPAddress,
                responderPort: UInt16, originatorPackets: UInt64 = 1, responderPackets: UInt64 = 0, history: String = "",
                icmpErrors: [String] = [], services: [Service] = [], names: [String] = [], clientHello: Bool = false,
                serverHello: Bool = false, connectHost: String? = nil, connectPort: UInt16? = nil) {
        self.uid = uid
        self.proto = proto
        self.originator = originator
        self.originatorPort = originatorPort
        self.responder = responder
        self.responderPort = responderPort
        start = 0
        firstInput = 0
        firstPacket = 1
        self.originatorPackets = originatorPackets
        self.responderPackets = responderPackets
        connState = ""
        self.history = history
        self.icmpErrors = icmpErrors
        service = services.first
        self.services = services
        serverName = names.first
        self.names = names
        self.connectHost = connectHost
        self.connectPort = connectPort
        self.clientHello = clientHello
        self.serverHello = serverHello
        tunnelled = false
    }

    /// `host` of `host:port` or `[v6]:port`, lower case.
    static func hostPart(_ authority: String) -> String {
        let a = authority.lowercased()
        if a.hasPrefix("[") { return String(a.dropFirst().prefix { $0 != "]" }) }
        if a.filter({ $0 == ":" }).count == 1 { return String(a.prefix { $0 != ":" }) }
        return a
    }

    public var synAck: Bool { history.contains("h") }
    public var responderReset: Bool { history.contains("r") }
    /// The responder sent something other than a reset.
    public var responderAnswered: Bool { history.contains { "hadft".contains($0) } }

    /// The same protocol, addresses and ports in the same roles.
    public func hasSameEndpoints(as other: AuditFlow) -> Bool {
        proto == other.proto && originator == other.originator && originatorPort == other.originatorPort
            && responder == other.responder && responderPort == other.responderPort
    }

    /// `tcp 10.40.0.21:41156 > 104.154.145.235:8278`
    public var label: String {
        "\(proto.auditName) \(endpoint(originator, originatorPort)) > \(endpoint(responder, responderPort))"
    }

    func endpoint(_ a: IPAddress, _ port: UInt16) -> String {
        a.isIPv4 ? "\(a):\(port)" : "[\(a)]:\(port)"
    }

    /// How the flow went for a device at one end (`device`), per `../shared/spec/audit-report.md`.
    public func outcome(for device: IPAddress) -> Outcome {
        let peerIsOriginator = responder == device
        if proto == .tcp {
            if connectHost != nil && synAck {
                return serverHello || !clientHello ? .ok : .handshakeFailed
            }
            if synAck || (responderAnswered && !responderReset) {
                return clientHello && !serverHello ? .handshakeFailed : .ok
            }
            if !icmpErrors.isEmpty { return .blockedICMP }
            if responderReset { return .blockedReset }
            return .blockedSilent
        }
        let peerSent = peerIsOriginator ? originatorPackets : responderPackets
        if peerSent > 0 { return .ok }
        if responder.isMulticast { return .ok }  // an announcement: nobody is meant to answer
        if !icmpErrors.isEmpty { return .blockedICMP }
        return .blockedSilent
    }
}

/// How one attempt went, best first (the order a requirement's status takes the best of).
public enum Outcome: String, Sendable, CaseIterable, Comparable {
    case ok
    case handshakeFailed = "handshake_failed"
    case blockedICMP = "blocked_icmp"
    case blockedReset = "blocked_reset"
    case blockedSilent = "blocked_silent"

    var rank: Int { Outcome.allCases.firstIndex(of: self)! }

    public static func < (a: Outcome, b: Outcome) -> Bool { a.rank < b.rank }
}

/// A requirement's status for one device: the best outcome among its flows, or `not_seen`.
public enum RequirementStatus: String, Sendable, CaseIterable {
    case ok
    case handshakeFailed = "handshake_failed"
    case blockedICMP = "blocked_icmp"
    case blockedReset = "blocked_reset"
    case blockedSilent = "blocked_silent"
    case notSeen = "not_seen"

    public init(_ outcome: Outcome) { self = RequirementStatus(rawValue: outcome.rawValue)! }

    /// Blocked or failed: the attempts show the network in the way.
    public var isFailure: Bool { self != .ok && self != .notSeen }
}
