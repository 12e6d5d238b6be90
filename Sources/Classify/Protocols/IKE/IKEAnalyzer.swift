public import Flows
import Wire

/// What IKE messages showed (IKEv1 RFC 2408, IKEv2 RFC 7296) and whether they used NAT traversal.
public struct IKEFacts: ProtocolFacts, Equatable {
    public static let key = "ike"
    public var versions: [Int] = []
    /// `IKE_SA_INIT`, `IKE_AUTH`, `main_mode`, `aggressive`, ... in the order seen.
    public var exchanges: [String] = []
    /// IKE on UDP 4500 behind the non-ESP marker (RFC 3948 §2.2).
    public var natTraversal = false
    /// ESP in UDP (RFC 3948) datagrams seen on the flow.
    public var espInUDP = 0

    public func report<Sink: FactSink>(to sink: inout Sink) {
        sink.add("versions", numbers: versions)
        sink.add("exchanges", exchanges)
        sink.add("nat_t", natTraversal)
        if espInUDP > 0 { sink.add("esp_in_udp_datagrams", espInUDP) }
    }

    public init() {}
}

/// IKE by content: the 28-byte header (RFC 7296 §3.1) with a non-zero initiator SPI, version 1.0 or
/// 2.0, a known exchange type and a length equal to the datagram's; on port 4500 behind four zero
/// bytes (RFC 3948 §2.2). On 4500, ESP in UDP (a non-zero SPI, RFC 3948 §2.1) is part of the same
/// IPsec session and labelled so too.
public final class IKEAnalyzer: ProtocolAnalyzer {
    public let service = Service.ike
    public let transports: [Transport] = [.udp]
    public let hintPorts: [UInt16] = [500, 4500]
    public let probeDatagrams = 3

    public init() {}

    public static func probe(_ bytes: Span<UInt8>, previous: Span<UInt8>, context: ProbeContext) -> ProbeVerdict {
        let length = max(bytes.count, context.claimedLength)
        if IKEHeader(parsing: bytes, datagramLength: length) != nil { return .match }
        guard context.uses(port: 4500) else { return .noMatch }
        if bytes.count >= 32 && bytes.be32(0) == 0 && IKEHeader(parsing: bytes.extracting(4...), datagramLength: length &- 4) != nil {
            return .match
        }
        // NAT keepalive (RFC 3948 §2.3): one 0xFF byte; not telling yet.
        if bytes.count == 1 && bytes[0] == 0xFF { return .needMore }
        if bytes.count >= 16 && bytes.be32(0) != 0 { return .match }  // ESP in UDP
        return .noMatch
    }

    public func makeSession(flow: FlowStart) -> any ProtocolSession { IKESession() }
}

struct IKEHeader {
    var version: Int
    var exchange: String

    /// `datagramLength`: the message's length as the UDP header claims it (the bytes may be fewer
    /// when the capture cut them).
    init?(parsing b: Span<UInt8>, datagramLength: Int? = nil) {
        guard b.count >= 28, b.be64(0) != 0 else { return nil }
        let major = b[17] >> 4
        let type = b[18]
        guard Int(b.be32(24)) == (datagramLength ?? b.count) else { return nil }
        switch (major, type) {
        case (2, 34): exchange = "IKE_SA_INIT"
        case (2, 35): exchange = "IKE_AUTH"
        case (2, 36): exchange = "CREATE_CHILD_SA"
        case (2, 37): exchange = "INFORMATIONAL"
        case (2, 43): exchange = "IKE_INTERMEDIATE"
        case (2, 44): exchange = "IKE_FOLLOWUP_KE"
        case (1, 2): exchange = "identity_protection"
        case (1, 4): exchange = "aggressive"
        case (1, 5): exchange = "informational"
        case (1, 32): exchange = "quick_mode"
        case (1, 33): exchange = "new_group"
        case (1, 1): exchange = "base"
        default: return nil
        }
        version = Int(major)
    }
}

final class IKESession: ProtocolSession {
    var facts = IKEFacts()
    var datagrams = 0
    var wantsMore: Bool { datagrams < 12 }

    func consume(_ bytes: Span<UInt8>, context: inout SessionContext) -> Consumption {
        datagrams &+= 1
        let length = max(bytes.count, context.claimedLength)
        var header = IKEHeader(parsing: bytes, datagramLength: length)
        if header == nil && bytes.count >= 32 && bytes.be32(0) == 0 {
            header = IKEHeader(parsing: bytes.extracting(4...), datagramLength: length &- 4)
            if header != nil { facts.natTraversal = true }
        }
        if let header {
            if !facts.versions.contains(header.version) { facts.versions.append(header.version) }
            if !facts.exchanges.contains(header.exchange) && facts.exchanges.count < 8 { facts.exchanges.append(header.exchange) }
        } else if bytes.count >= 16 && bytes.be32(0) != 0 && (context.senderPort == 4500 || context.receiverPort == 4500) {
            facts.espInUDP &+= 1
        }
        return datagrams >= 12 ? .done : .consumed(bytes.count)
    }

    func finish(_ ending: FlowEnding, into facts: inout FlowFacts) { facts.details.append(self.facts) }
}
