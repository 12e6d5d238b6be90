import TestSupport
@testable import Flows
@testable import Wire

/// Runs frames through the real decoder and flow tracker and collects the records, and, as an
/// observer that inspects every flow, every UDP datagram and TCP segment it is shown.
final class FlowHarness: FlowObserver {
    var records: [FlowRecord] = []
    /// (uid, from the originator, payload) of each UDP datagram shown.
    var datagrams: [(UInt64, Bool, [UInt8])] = []
    /// (uid, from the originator, flags, sequence, payload) of each TCP segment shown.
    var segments: [(UInt64, Bool, TCPFlags, UInt32, [UInt8])] = []
    var started: [FlowStart] = []
    /// The stream base given with each TCP segment (nil: no SYN seen for that side).
    var bases: [UInt32?] = []
    /// Ended slots, in order; a test checks that starts and ends pair up.
    var endedSlots: [Int] = []
    /// Inspect a flow's first this many packets only (then answer false).
    var inspectLimit = Int.max
    private var inspected: [UInt64: Int] = [:]
    private(set) var stats = FlowTracker.Stats()
    private(set) var anomalies = Anomalies()

    static let second: Int64 = 1_000_000_000

    @discardableResult
    static func run(_ frames: [(Int64, [UInt8])], configuration: FlowConfiguration = FlowConfiguration(),
                    start: DecodedPacket.Start = .link(.ethernet), inspectLimit: Int = .max) -> FlowHarness {
        let harness = FlowHarness()
        harness.inspectLimit = inspectLimit
        var tracker = FlowTracker(configuration: configuration, observer: harness)
        var packet = DecodedPacket()
        var anomalies = Anomalies()
        for (number, (time, frame)) in frames.enumerated() {
            do {
                try tracker.decoder.decode(frame.span, start: start, into: &packet, anomalies: &anomalies)
            } catch {
                continue
            }
            guard packet.ipVersion != 0 else { continue }
            tracker.process(&packet, frame: frame.span, time: time, wireLength: frame.count, input: 0, number: number + 1)
        }
        tracker.finish()
        harness.stats = tracker.stats
        anomalies.merge(tracker.anomalies)
        harness.anomalies = anomalies
        return harness
    }

    func flowStarted(_ flow: borrowing FlowStart) -> Bool {
        started.append(copy flow)
        return true
    }

    func inspect(_ segment: borrowing InspectedSegment, payload: Span<UInt8>) -> Bool {
        let bytes = (0..<payload.count).map { payload[$0] }
        if segment.protocolNumber == .udp {
            datagrams.append((segment.uid, segment.fromOriginator, bytes))
        } else {
            segments.append((segment.uid, segment.fromOriginator, segment.tcpFlags, segment.tcpSequence, bytes))
            bases.append(segment.streamBase)
        }
        inspected[segment.uid, default: 0] += 1
        return inspected[segment.uid]! < inspectLimit
    }

    func flowEnded(_ record: consuming FlowRecord, slot: Int) {
        endedSlots.append(slot)
        records.append(record)
    }
}

/// A TCP conversation between 10.0.0.1:40000 (the client) and 10.0.0.2:80.
struct TCPScript {
    var frames: [(Int64, [UInt8])] = []
    var time: Int64 = 1_700_000_000 * FlowHarness.second
    var clientPort = 40000

    mutating func client(_ flags: UInt8, seq: UInt32, ack: UInt32 = 0, length: Int = 0, window: Int = 64240,
                         after gap: Int64 = 1_000_000) {
        time += gap
        let segment = FrameBuilder.tcp(clientPort, 80, seq: seq, ack: ack, flags: flags, window: window,
                                       payload: [UInt8](repeating: 0x41, count: length))
        frames.append((time, FrameBuilder.ethernet(FrameBuilder.ipv4([10, 0, 0, 1], [10, 0, 0, 2], proto: 6, segment))))
    }

    mutating func server(_ flags: UInt8, seq: UInt32, ack: UInt32 = 0, length: Int = 0, window: Int = 65160,
                         after gap: Int64 = 1_000_000) {
        time += gap
        let segment = FrameBuilder.tcp(80, clientPort, seq: seq, ack: ack, flags: flags, window: window,
                                       payload: [UInt8](repeating: 0x42, count: length))
        frames.append((time, FrameBuilder.ethernet(FrameBuilder.ipv4([10, 0, 0, 2], [10, 0, 0, 1], proto: 6, segment,
                                                                      identification: frames.count),
                                                   source: FrameBuilder.serverMAC, destination: FrameBuilder.clientMAC)))
    }

    /// SYN, SYN+ACK, ACK with client ISN 100 and server ISN 300.
    mutating func handshake() {
        client(FrameBuilder.syn, seq: 100)
        server(FrameBuilder.syn | FrameBuilder.ack, seq: 300, ack: 101)
        client(FrameBuilder.ack, seq: 101, ack: 301)
    }
}

let S = FrameBuilder.syn, A = FrameBuilder.ack, F = FrameBuilder.fin, R = FrameBuilder.rst, P = FrameBuilder.psh
