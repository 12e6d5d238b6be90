public import Flows
import Wire

/// WebSocket frames seen without the HTTP upgrade that started them (the capture began later).
public struct WebSocketFacts: ProtocolFacts, Equatable {
    public static let key = "websocket"
    /// `text`, `binary`, `close`, `ping`, `pong`, `continuation`, in the order first seen.
    public var opcodes: [String] = []
    public var frames = 0

    public func report<Sink: FactSink>(to sink: inout Sink) {
        sink.add("opcodes", opcodes)
        sink.add("frames", frames)
    }

    public init() {}
}

/// A WebSocket frame header (RFC 6455 §5.2):
///
///     FIN(1) RSV1-3(3) opcode(4) MASK(1) length(7) [length 16 or 64] [masking key 32] payload
///
/// Contract: nil unless the opcode is defined (0–2, 8–10), RSV2 and RSV3 are clear (RSV1 is
/// permessage-deflate, RFC 7692), and control frames are final and at most 125 bytes.
struct WebSocketFrame {
    var opcode: UInt8
    var masked: Bool
    var headerLength: Int
    var payloadLength: Int
    var maskingKey: (UInt8, UInt8, UInt8, UInt8)

    init?(parsing b: Span<UInt8>) {
        guard b.count >= 2 else { return nil }
        let first = b[0], second = b[1]
        opcode = first & 0x0F
        guard first & 0x30 == 0, [0, 1, 2, 8, 9, 10].contains(opcode) else { return nil }
        masked = second & 0x80 != 0
        var length = Int(second & 0x7F)
        var at = 2
        if length == 126 {
            guard b.count >= 4 else { return nil }
            length = Int(b.be16(2))
            at = 4
        } else if length == 127 {
            guard b.count >= 10, b[2] == 0 else { return nil }
            length = Int(b.be64(2) & 0x00FF_FFFF_FFFF_FFFF)
            at = 10
        }
        if opcode >= 8 { guard first & 0x80 != 0, length <= 125 else { return nil } }
        maskingKey = (0, 0, 0, 0)
        if masked {
            guard b.has(4, at: at) else { return nil }
            maskingKey = (b[at], b[at &+ 1], b[at &+ 2], b[at &+ 3])
            at &+= 4
        }
        headerLength = at
        payloadLength = length
    }

    var total: Int { headerLength &+ payloadLength }

    /// Whether the (unmasked) payload of a text frame is UTF-8 (RFC 6455 §5.6).
    func hasTextPayload(_ b: Span<UInt8>) -> Bool {
        guard b.count >= total else { return false }
        let key = [maskingKey.0, maskingKey.1, maskingKey.2, maskingKey.3]
        var bytes = [UInt8](repeating: 0, count: payloadLength)
        for i in 0..<payloadLength { bytes[i] = b[headerLength &+ i] ^ (masked ? key[i & 3] : 0) }
        guard bytes.allSatisfy({ $0 >= 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) else { return false }
        return String(validating: bytes, as: UTF8.self) != nil
    }

    var opcodeName: String {
        switch opcode {
        case 0: "continuation"
        case 1: "text"
        case 2: "binary"
        case 8: "close"
        case 9: "ping"
        default: "pong"
        }
    }
}

/// WebSocket frames from the first byte of a stream (a connection whose HTTP upgrade was not
/// captured): a text frame whose payload is UTF-8, or two well-formed frames back to back.
public final class WebSocketAnalyzer: ProtocolAnalyzer {
    public let service = Service.websocket
    public let transports: [Transport] = [.tcp]
    public let hintPorts: [UInt16] = []
    public var probeBytes: Int { Self.probeDepth }
    static let probeDepth = 4096

    public init() {}

    public static func probe(_ bytes: Span<UInt8>, previous: Span<UInt8>, context: ProbeContext) -> ProbeVerdict {
        guard !bytes.isEmpty, WebSocketFrame.couldStart(bytes[0]) else { return .noMatch }
        guard let frame = WebSocketFrame(parsing: bytes) else {
            return bytes.count < 14 && !context.isFinal && bytes.count >= 1 && WebSocketFrame.couldStart(bytes[0]) ? .needMore : .noMatch
        }
        guard frame.total <= probeDepth else { return .noMatch }
        guard bytes.count >= frame.total else { return context.isFinal ? .noMatch : .needMore }
        if frame.opcode == 1 && frame.payloadLength > 0 && frame.hasTextPayload(bytes) { return .match }
        if frame.opcode == 1 { return .noMatch }
        if bytes.count == frame.total { return context.isFinal ? .noMatch : .needMore }
        guard let next = WebSocketFrame(parsing: bytes.extracting(frame.total...)) else {
            return bytes.count &- frame.total < 14 && !context.isFinal ? .needMore : .noMatch
        }
        return next.total <= probeDepth ? .match : .noMatch
    }

    public func makeSession(flow: FlowStart) -> any ProtocolSession { WebSocketSession() }
}

extension WebSocketFrame {
    /// A first byte a stream seen from its start can begin with: a text, binary or control frame
    /// (a continuation frame cannot come first), final or not, RSV2/RSV3 clear.
    static func couldStart(_ b: UInt8) -> Bool {
        let opcode = b & 0x0F
        return b & 0x30 == 0 && (opcode == 1 || opcode == 2 || (b & 0x80 != 0 && (8...10).contains(opcode)))
    }
}

final class WebSocketSession: ProtocolSession {
    var facts = WebSocketFacts()
    var wantsMore: Bool { facts.frames < 32 }

    func consume(_ bytes: Span<UInt8>, context: inout SessionContext) -> Consumption {
        guard let frame = WebSocketFrame(parsing: bytes) else {
            return bytes.count < 14 && !context.isFinal ? .needMore : .done
        }
        facts.frames &+= 1
        if !facts.opcodes.contains(frame.opcodeName) { facts.opcodes.append(frame.opcodeName) }
        return facts.frames >= 32 ? .done : .consumed(frame.total)
    }

    func finish(_ ending: FlowEnding, into facts: inout FlowFacts) { facts.details.append(self.facts) }
}
