public import Flows
import Wire

/// What NTP packets showed (RFC 5905 §7.3).
public struct NTPFacts: ProtocolFacts, Equatable {
    public static let key = "ntp"
    public var version: Int?
    /// `client`, `server`, `symmetric_active`, `broadcast`, `control`, ... in the order seen.
    public var modes: [String] = []
    /// The server's stratum (1 primary, 2–15 secondary, 16 unsynchronised), from its replies.
    public var stratum: Int?
    /// A stratum-1 server's reference identifier (`GPS`, `PPS`, ...).
    public var referenceID: String?

    public func report<Sink: FactSink>(to sink: inout Sink) {
        sink.add("version", version)
        sink.add("modes", modes)
        sink.add("stratum", stratum)
        sink.add("reference_id", referenceID)
    }

    public init() {}
}

/// NTP by content: `LI(2) VN(3) Mode(3)` with version 1–4 and a 48-byte packet (plus extension
/// fields and a MAC, RFC 5905 §7.5, RFC 7822), or a mode-6/7 control packet whose count fits.
public final class NTPAnalyzer: ProtocolAnalyzer {
    public let service = Service.ntp
    public let transports: [Transport] = [.udp]
    public let hintPorts: [UInt16] = [123]
    public let probeDatagrams = 1

    public init() {}

    public static func probe(_ bytes: Span<UInt8>, previous: Span<UInt8>, context: ProbeContext) -> ProbeVerdict {
        NTPPacket.isNTP(bytes) ? .match : .noMatch
    }

    public func makeSession(flow: FlowStart) -> any ProtocolSession { NTPSession() }
}

enum NTPPacket {
    static func isNTP(_ b: Span<UInt8>) -> Bool {
        guard b.count >= 12 else { return false }
        let version = (b[0] >> 3) & 0x7
        let mode = b[0] & 0x7
        guard (1...4).contains(version) else { return false }
        switch mode {
        case 1...5:
            guard b.count >= 48, b[1] <= 16 else { return false }
            let extra = b.count &- 48
            // Nothing more, a MAC (key id + MD5/SHA-1: 20 or 24 bytes), or 4-byte-aligned extension fields.
            return extra == 0 || extra == 20 || extra == 24 || (extra % 4 == 0 && extra >= 16 && extra <= 1024)
        case 6:
            // Control message (RFC 9327 §2): count of data octets at bytes 10–11.
            let count = Int(b.be16(10))
            return 12 &+ count <= b.count && b.count <= 12 &+ count &+ 3 &+ 24 && b[1] & 0x1F != 0
        case 7:
            return version >= 2 && b.count >= 8 && b.count <= 500
        default:
            return false
        }
    }

    static func modeName(_ mode: UInt8) -> String {
        switch mode {
        case 1: "symmetric_active"
        case 2: "symmetric_passive"
        case 3: "client"
        case 4: "server"
        case 5: "broadcast"
        case 6: "control"
        case 7: "private"
        default: "reserved"
        }
    }
}

final class NTPSession: ProtocolSession {
    var facts = NTPFacts()
    var packets = 0
    var wantsMore: Bool { packets < 8 }

    func consume(_ bytes: Span<UInt8>, context: inout SessionContext) -> Consumption {
        packets &+= 1
        guard bytes.count >= 12 else { return .consumed(bytes.count) }
        let mode = bytes[0] & 0x7
        let name = NTPPacket.modeName(mode)
        if !facts.modes.contains(name) { facts.modes.append(name) }
        if facts.version == nil { facts.version = Int((bytes[0] >> 3) & 0x7) }
        if (mode == 4 || mode == 2 || mode == 5) && bytes.count >= 48 {
            facts.stratum = Int(bytes[1])
            if bytes[1] == 1 {
                var text: [UInt8] = []
                for i in 12..<16 where bytes[i] >= 0x20 && bytes[i] < 0x7F { text.append(bytes[i]) }
                facts.referenceID = String(decoding: text, as: UTF8.self)
            }
        }
        return packets >= 8 ? .done : .consumed(bytes.count)
    }

    func finish(_ ending: FlowEnding, into facts: inout FlowFacts) { facts.details.append(self.facts) }
}
