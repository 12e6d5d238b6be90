public import Flows
import Wire

/// The software banners of an SSH connection (RFC 4253 §4.2: `SSH-protoversion-softwareversion`).
public struct SSHFacts: ProtocolFacts, Equatable {
    public static let key = "ssh"
    public var client: String?
    public var server: String?

    public func report<Sink: FactSink>(to sink: inout Sink) {
        sink.add("client", client)
        sink.add("server", server)
    }

    public init() {}
}

/// SSH: either side's first bytes are `SSH-` (RFC 4253 §4.2; a server may send other lines
/// before it, which this does not follow).
public final class SSHAnalyzer: ProtocolAnalyzer {
    public let service = Service.ssh
    public let transports: [Transport] = [.tcp]
    public let hintPorts: [UInt16] = [22, 2222]
    public let probeBytes = 4

    public init() {}

    public static func probe(_ bytes: Span<UInt8>, previous: Span<UInt8>, context: ProbeContext) -> ProbeVerdict {
        guard bytes.agrees(with: "SSH-") else { return .noMatch }
        return bytes.count >= 4 ? .match : .needMore
    }

    public func makeSession(flow: FlowStart) -> any ProtocolSession { SSHSession() }
}

final class SSHSession: ProtocolSession {
    var facts = SSHFacts()
    var done: InlineArray<2, Bool> = InlineArray(repeating: false)
    var wantsMore: Bool { !(done[0] && done[1]) }

    func consume(_ bytes: Span<UInt8>, context: inout SessionContext) -> Consumption {
        let d = context.direction.rawValue
        guard !done[d] else { return .done }
        guard let lf = bytes.firstIndex(of: 0x0A, in: 0..<min(bytes.count, 256)) else {
            if context.isFinal || bytes.count >= 256 {
                done[d] = true
                return .done
            }
            return .needMore
        }
        let end = lf > 0 && bytes[lf &- 1] == 0x0D ? lf &- 1 : lf
        if bytes.matches("SSH-") {
            let banner = bytes.text(0..<end)
            if d == 0 { facts.client = banner } else { facts.server = banner }
        }
        done[d] = true
        return .done
    }

    func finish(_ ending: FlowEnding, into facts: inout FlowFacts) { facts.details.append(self.facts) }
}
