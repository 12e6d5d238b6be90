public import Flows
import Wire

/// What STUN messages showed (RFC 8489; TURN, RFC 8656).
public struct STUNFacts: ProtocolFacts, Equatable {
    public static let key = "stun"
    /// `binding_request`, `binding_success`, `allocate_error`, ... in the order first seen.
    public var messages: [String] = []
    /// The address the server saw the client at (XOR-MAPPED-ADDRESS of a success response).
    public var mappedAddress: String?
    public var software: [String] = []
    public var realm: String?
    public var errorCodes: [Int] = []
    /// RFC 3489 messages (no magic cookie).
    public var classic = false

    public func report<Sink: FactSink>(to sink: inout Sink) {
        sink.add("messages", messages)
        sink.add("mapped_address", mappedAddress)
        sink.add("software", software)
        sink.add("realm", realm)
        sink.add("error_codes", numbers: errorCodes)
        sink.add("classic", classic)
    }

    public init() {}
}

/// STUN/TURN (RFC 8489, RFC 8656, classic RFC 3489): a message whose length field and attributes
/// account for every byte, with the magic cookie (or, for RFC 3489, a Binding type). Over TCP, the
/// message comes first or behind an RFC 4571 length.
public final class STUNAnalyzer: ProtocolAnalyzer {
    public let service = Service.stun
    public let transports: [Transport] = [.udp, .tcp]
    public let hintPorts: [UInt16] = [3478, 3479, 5349, 19302, 8801]
    public let probeBytes = 512
    public let probeDatagrams = 1

    public init() {}

    public static func probe(_ bytes: Span<UInt8>, previous: Span<UInt8>, context: ProbeContext) -> ProbeVerdict {
        if context.transport == .udp {
            guard let m = STUNMessage(parsing: bytes), m.length == bytes.count else { return .noMatch }
            return .match
        }
        // Over TCP only RFC 5389 STUN is looked for: the magic cookie at byte 4, or at byte 6 behind
        // an RFC 4571 length.
        guard bytes.count >= 1, bytes[0] & 0xC0 == 0 else { return .noMatch }
        if bytes.count >= 8 && bytes.be32(4) != STUNMessage.magicCookie
            && (bytes.count < 10 || bytes.be32(6) != STUNMessage.magicCookie) { return .noMatch }
        if let m = STUNMessage(parsing: bytes), m.hasMagicCookie { return .match }
        if bytes.count >= 22, let m = STUNMessage(parsing: bytes.extracting(2...)), m.hasMagicCookie,
           Int(bytes.be16(0)) == m.length { return .match }
        return context.isFinal ? .noMatch : .needMore
    }

    public func makeSession(flow: FlowStart) -> any ProtocolSession { MultiplexSession(first: .stun) }
}
