public import Flows
import Wire

/// What an RTMP handshake showed (Adobe RTMP specification 1.0 §5.2).
public struct RTMPFacts: ProtocolFacts, Equatable {
    public static let key = "rtmp"
    /// The version byte of C0 (3 plain, 6 encrypted RTMPE).
    public var version: Int?
    /// The server answered with S0 and S1.
    public var serverAnswered = false

    public func report<Sink: FactSink>(to sink: inout Sink) {
        sink.add("version", version)
        sink.add("server_answered", serverAnswered)
    }

    public init() {}
}

/// RTMP: the handshake's first message is C0 (the version, 3; 6 for RTMPE) and C1 (1536 bytes),
/// answered by S0 and S1 of the same sizes. TPKT (RDP, ISO 8073), which also starts with 3, has a
/// zero byte and a length after it and is told apart.
public final class RTMPAnalyzer: ProtocolAnalyzer {
    public let service = Service.rtmp
    public let transports: [Transport] = [.tcp]
    public let hintPorts: [UInt16] = [1935, 444]
    public let probeBytes = 1537

    public init() {}

    public static func probe(_ bytes: Span<UInt8>, previous: Span<UInt8>, context: ProbeContext) -> ProbeVerdict {
        guard !bytes.isEmpty else { return .needMore }
        guard bytes[0] == 3 || bytes[0] == 6 else { return .noMatch }
        if bytes.count >= 4 && bytes[1] == 0 && Int(bytes.be16(2)) == bytes.count && bytes.count < 1537 { return .noMatch }
        if bytes.count >= 1537 { return .match }
        // The stream ends early (the capture cut it): a long C1 start is RTMP enough.
        return context.isFinal ? (bytes.count >= 128 ? .match : .noMatch) : .needMore
    }

    public func makeSession(flow: FlowStart) -> any ProtocolSession { RTMPSession() }
}

final class RTMPSession: ProtocolSession {
    var facts = RTMPFacts()
    var done: InlineArray<2, Bool> = InlineArray(repeating: false)
    var wantsMore: Bool { !(done[0] && done[1]) }

    func consume(_ bytes: Span<UInt8>, context: inout SessionContext) -> Consumption {
        let d = context.direction.rawValue
        guard !done[d], !bytes.isEmpty else { return .done }
        if d == 0 { facts.version = Int(bytes[0]) } else { facts.serverAnswered = bytes[0] == 3 || bytes[0] == 6 }
        done[d] = true
        return .done
    }

    func finish(_ ending: FlowEnding, into facts: inout FlowFacts) { facts.details.append(self.facts) }
}
