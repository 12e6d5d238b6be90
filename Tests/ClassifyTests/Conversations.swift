import Foundation
import Testing
import TestSupport
@testable import Classify
@testable import Flows
@testable import Wire

/// One TCP or UDP conversation of a real capture, with its payloads in capture order: the golden
/// bytes the protocol tests use (read with SpanAudit's own reader and decoder).
struct Conversation {
    struct Payload {
        var fromClient: Bool
        var sequence: UInt32
        var bytes: [UInt8]
        /// The payload length the headers claimed (more than `bytes` when the capture cut it).
        var claimed: Int
    }

    var proto: IPProtocol
    var client: IPAddress
    var clientPort: UInt16
    var server: IPAddress
    var serverPort: UInt16
    var payloads: [Payload] = []
    /// Sequence numbers of each side's stream start (SYN + 1), when seen.
    var clientBase: UInt32?
    var serverBase: UInt32?

    /// Every payload of one direction, concatenated in order (TCP, no loss in the lab captures).
    func stream(fromClient: Bool) -> [UInt8] {
        payloads.filter { $0.fromClient == fromClient }.flatMap(\.bytes)
    }

    /// The datagrams (UDP) or segments (TCP) of one direction.
    func messages(fromClient: Bool) -> [[UInt8]] {
        payloads.filter { $0.fromClient == fromClient }.map(\.bytes)
    }

    /// Every conversation of `capture` (in `Captures/`), in order of first packet.
    static func all(in capture: String) -> [Conversation] {
        let (packets, _) = readPackets(TestPaths.capture(capture))
        let decoder = PacketDecoder()
        var anomalies = Anomalies()
        var order: [String] = []
        var byKey: [String: Conversation] = [:]
        for packet in packets {
            var p = DecodedPacket()
            guard (try? decoder.decode(packet.bytes.span, start: .link(packet.linkType), into: &p, anomalies: &anomalies)) != nil,
                  p.ipVersion != 0, p.hasPorts, !p.isFragment,
                  p.protocolNumber == .tcp || p.protocolNumber == .udp else { continue }
            let forward = "\(p.protocolNumber.rawValue) \(p.source) \(p.sourcePort) \(p.destination) \(p.destinationPort)"
            let backward = "\(p.protocolNumber.rawValue) \(p.destination) \(p.destinationPort) \(p.source) \(p.sourcePort)"
            var key = forward
            if byKey[forward] == nil, byKey[backward] != nil { key = backward }
            if byKey[key] == nil {
                // A SYN+ACK seen first: its receiver is the client.
                let flipped = p.protocolNumber == .tcp && p.tcpFlags.contains(.syn) && p.tcpFlags.contains(.ack)
                byKey[key] = Conversation(proto: p.protocolNumber, client: flipped ? p.destination : p.source,
                                          clientPort: flipped ? p.destinationPort : p.sourcePort,
                                          server: flipped ? p.source : p.destination,
                                          serverPort: flipped ? p.sourcePort : p.destinationPort)
                order.append(key)
            }
            let fromClient = p.source == byKey[key]!.client && p.sourcePort == byKey[key]!.clientPort
            if p.protocolNumber == .tcp && p.tcpFlags.contains(.syn) {
                if fromClient { byKey[key]!.clientBase = p.tcpSequence &+ 1 } else { byKey[key]!.serverBase = p.tcpSequence &+ 1 }
            }
            guard p.payloadCaptured > 0 else { continue }
            let start = p.payloadOffset, end = min(packet.bytes.count, start + p.payloadCaptured)
            let sequence = p.tcpFlags.contains(.syn) ? p.tcpSequence &+ 1 : p.tcpSequence
            byKey[key]!.payloads.append(Payload(fromClient: fromClient, sequence: sequence,
                                                bytes: Array(packet.bytes[start..<end]), claimed: p.payloadLength))
        }
        return order.map { byKey[$0]! }
    }

    /// The first conversation whose server uses `port` (and `server`, when given).
    static func first(in capture: String, proto: IPProtocol = .tcp, port: UInt16, server: String? = nil,
                      where extra: (Conversation) -> Bool = { _ in true }) throws -> Conversation {
        try #require(all(in: capture).first {
            $0.proto == proto && $0.serverPort == port && (server == nil || $0.server.description == server)
                && !$0.payloads.isEmpty && extra($0)
        }, "no \(proto.name) conversation to port \(port) in \(capture)")
    }
}

/// Runs payloads through a real `Classifier` as the flow tracker would, and returns what it made
/// of the flow.
struct ClassifierDriver {
    var classifier: Classifier
    private let box: Box

    final class Box {
        var finished: [ClassifiedFlow] = []
    }

    init() {
        let box = Box()
        self.box = box
        classifier = Classifier { box.finished.append($0.finish()) }
    }

    /// Classifies `conversation` as captured (its real segments, sequence numbers and claimed
    /// lengths), or with each direction's stream cut into the pieces `chunks` gives (consecutive
    /// sequence numbers) on the `chunkedSide` (true: the client's). UDP datagrams are shown as they are.
    mutating func classify(_ c: Conversation, slot: Int = 0, uid: UInt64 = 1, chunkedSide: Bool = true,
                           chunks: ((_ stream: [UInt8]) -> [[UInt8]])? = nil) -> ClassifiedFlow {
        let start = FlowStart(slot: slot, uid: uid, time: 1_000_000_000, protocolNumber: c.proto, originator: c.client,
                              originatorPort: c.clientPort, responder: c.server, responderPort: c.serverPort, tunnelParent: 0)
        _ = classifier.flowStarted(start)
        var time: Int64 = 1_000_000_000
        if c.proto == .udp || chunks == nil {
            for p in c.payloads {
                time += 1000
                _ = inspect(slot: slot, uid: uid, proto: c.proto, fromClient: p.fromClient, sequence: p.sequence,
                            base: p.fromClient ? c.clientBase : c.serverBase, p.bytes, claimed: p.claimed, time: time)
            }
        } else if let chunks {
            // One direction re-chunked, the other as captured. The chunked side's bytes are cut
            // where `chunks` says and where a flight ends (its run of segments before the other side
            // speaks); each piece goes out when its flight ends. So pieces merge segments and split
            // them anywhere, and still no byte arrives before the one that caused it.
            let side = chunkedSide
            let stream = c.stream(fromClient: side)
            var flightEnds: Set<Int> = []
            var offset = 0
            for (i, p) in c.payloads.enumerated() where p.fromClient == side {
                offset += p.bytes.count
                if i + 1 == c.payloads.count || c.payloads[i + 1].fromClient != side { flightEnds.insert(offset) }
            }
            var pieces: [[UInt8]] = []
            offset = 0
            for piece in chunks(stream) {
                var start = 0
                for k in 1...max(1, piece.count) where k == piece.count || flightEnds.contains(offset + k) {
                    pieces.append(Array(piece[start..<k]))
                    start = k
                }
                offset += piece.count
            }
            var next = pieces[...]
            var cursor = 0, sent = 0
            let base = side ? c.clientBase ?? 1000 : c.serverBase ?? 5000
            for p in c.payloads {
                guard p.fromClient == side else {
                    time += 1000
                    _ = inspect(slot: slot, uid: uid, proto: c.proto, fromClient: p.fromClient, sequence: p.sequence,
                                base: p.fromClient ? c.clientBase : c.serverBase, p.bytes, claimed: p.claimed, time: time)
                    continue
                }
                cursor += p.bytes.count
                guard flightEnds.contains(cursor) else { continue }
                while let piece = next.first, sent + piece.count <= cursor {
                    time += 1000
                    _ = inspect(slot: slot, uid: uid, proto: c.proto, fromClient: side, sequence: base &+ UInt32(sent),
                                base: base, piece, claimed: piece.count, time: time)
                    sent += piece.count
                    next.removeFirst()
                }
            }
        }
        classifier.flowEnded(Self.record(c, uid: uid), slot: slot)
        return box.finished.removeLast()
    }

    @discardableResult
    func inspect(slot: Int, uid: UInt64, proto: IPProtocol, fromClient: Bool, sequence: UInt32, base: UInt32?,
                 _ bytes: [UInt8], claimed: Int, time: Int64) -> Bool {
        let segment = InspectedSegment(slot: slot, uid: uid, time: time, fromOriginator: fromClient,
                                       protocolNumber: proto, tcpFlags: TCPFlags(rawValue: 0x18), tcpSequence: sequence,
                                       streamBase: base, claimedLength: claimed, sourceMAC: 0, destinationMAC: 0)
        return classifier.inspect(segment, payload: bytes.span)
    }

    /// A finished record for the conversation (counts as the tracker would give them roughly: what
    /// the outcome rules read is whether each side sent data and whether the responder reset).
    static func record(_ c: Conversation, uid: UInt64) -> FlowRecord {
        var originator = DirectionCounters(), responder = DirectionCounters()
        for p in c.payloads {
            if p.fromClient { originator.packets += 1; originator.payloadBytes += UInt64(p.bytes.count) } else {
                responder.packets += 1; responder.payloadBytes += UInt64(p.bytes.count)
            }
        }
        var history = History()
        if originator.packets > 0 { history.add(UInt8(ascii: "D")) }
        if responder.packets > 0 { history.add(UInt8(ascii: "d")) }
        return FlowRecord(uidNumber: uid, start: 1_000_000_000, end: 2_000_000_000, originator: c.client,
                          originatorPort: c.clientPort, responder: c.server, responderPort: c.serverPort,
                          protocolNumber: c.proto, ipVersion: c.client.isIPv4 ? 4 : 6,
                          originatorBytes: originator.payloadBytes, responderBytes: responder.payloadBytes,
                          originatorCounters: originator, responderCounters: responder, connState: .sf, history: history,
                          vlan: nil, originatorMAC: nil, responderMAC: nil, icmpErrors: [], tunnelParentNumber: nil,
                          missedBytes: 0, firstInput: 0, firstPacket: 1, endReason: .endOfCapture, service: nil,
                          serverName: nil, serverNameSource: nil)
    }
}

/// A flow's facts as comparable text: service, server name and source, every protocol's facts.
func summary(_ flow: ClassifiedFlow) -> String {
    var text = "\(flow.facts.service?.name ?? "-") \(flow.facts.serverName ?? "-") \(flow.facts.serverNameSource?.name ?? "-")"
    text += " services=\(flow.facts.services.map(\.name))"
    for detail in flow.facts.details {
        text += " \(type(of: detail).key)=\(FactList(detail).fields.map { "\($0.0):\($0.1)" })"
    }
    return text
}

/// Every way to cut a stream the tests try: whole, byte by byte, and in two at every offset.
func everyChunking(_ stream: [UInt8]) -> [(String, (_ s: [UInt8]) -> [[UInt8]])] {
    var ways: [(String, ([UInt8]) -> [[UInt8]])] = [("whole", { [$0] }), ("byte by byte", { $0.map { [$0] } })]
    for k in stride(from: 1, to: stream.count, by: max(1, stream.count / 64)) {
        ways.append(("split at \(k)", { s in k < s.count ? [Array(s[..<k]), Array(s[k...])] : [s] }))
    }
    return ways
}
