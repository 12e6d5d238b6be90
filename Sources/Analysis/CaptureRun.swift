public import Capture
public import Classify
public import Flows
public import Wire
import Foundation

/// Runs captures through the pipeline — read, decode, track flows — and reports what happened:
/// the one place where the stages meet, so every command reads captures the same way.
public enum CaptureRun {
    public struct Options: Sendable {
        public var io = CaptureReader.IOMode.read
        public var flows = FlowConfiguration()
        public var decodeTunnels = true
        /// Name each flow's application protocol and server (off: flows only, as fast as can be).
        public var classify = true
        public var classification = ClassifierConfiguration()

        public init() {}
    }

    /// Reads `paths` in time order ("-" is standard input) and calls `sink` with every flow as it
    /// ends, with what classification learned about it. Never throws: problems with inputs are in
    /// the summary. Everything runs on the calling thread.
    public static func run(paths: [String], options: Options = Options(),
                           sink: @escaping (ClassifiedFlow) -> Void) -> RunSummary {
        var counts = Classifier.Stats()
        return run(paths: paths, options: options, finishing: { ended in
            let flow = ended.finish()
            counts.count(flow)
            sink(flow)
        }, close: { counts })
    }

    /// Like `run(paths:options:sink:)`, but flows are turned into facts and handed to `sink` on a
    /// second thread, in the order they ended: reading, decoding, flow tracking and the per-packet
    /// part of classification go on meanwhile (the two halves take similar time, so on two cores
    /// the run takes about half as long). `sink` is called from that thread only, one flow at a
    /// time; it has returned for every flow when this returns.
    ///
    /// `frames`, when given, sees every decoded frame (IP or not, outer headers of tunnels) with
    /// its time and length on the wire, on the calling thread, before its flow does.
    public static func runConcurrently(paths: [String], options: Options = Options(),
                                       frames: FrameObserver? = nil,
                                       sink: @escaping @Sendable (ClassifiedFlow) -> Void) -> RunSummary {
        let finisher = BackgroundFinisher(sink: sink)
        let thread = Thread { finisher.run() }
        thread.start()
        return run(paths: paths, options: options, frames: frames, finishing: { finisher.submit($0) },
                   close: { finisher.close() })
    }

    /// Sees a decoded frame: its headers, capture time (ns) and length on the wire.
    public typealias FrameObserver = (borrowing DecodedPacket, Int64, Int) -> Void

    private static func run(paths: [String], options: Options, frames: FrameObserver? = nil,
                            finishing: @escaping (consuming EndedFlow) -> Void,
                            close: () -> Classifier.Stats) -> RunSummary {
        let classifier = options.classify ? Classifier(configuration: options.classification, output: finishing) : nil
        var tracker: FlowTracker
        if let classifier {
            tracker = FlowTracker(configuration: options.flows, observer: classifier)
        } else {
            tracker = FlowTracker(configuration: options.flows) { record in
                finishing(EndedFlow(record: record))
            }
        }
        tracker.decoder.decodeTunnels = options.decodeTunnels
        let decoder = tracker.decoder
        var decoded = DecodedPacket()
        var decodeAnomalies = Anomalies()
        var skipped = SkipCounts()
        var packets: UInt64 = 0
        var wireBytes: UInt64 = 0
        let inputs = CaptureSet(paths: paths, io: options.io)
        inputs.read { record, frame in
            packets &+= 1
            wireBytes &+= UInt64(record.originalLength)
            do throws(WireError) {
                try decoder.decode(frame, start: .link(record.linkType), into: &decoded, anomalies: &decodeAnomalies)
            } catch {
                skipped.count(error, linkType: record.linkType)
                return
            }
            frames?(decoded, record.timestamp, record.originalLength)
            guard decoded.ipVersion != 0 else {
                skipped.nonIP[decoded.etherType, default: 0] &+= 1
                return
            }
            tracker.process(&decoded, frame: frame, time: record.timestamp, wireLength: record.originalLength,
                            input: record.input, number: record.number)
        }
        tracker.finish()
        var classification = classifier?.stats
        classification?.addCounts(close())

        var anomalies = decodeAnomalies
        anomalies.merge(tracker.anomalies)
        if let classifier { anomalies.merge(classifier.anomalies) }
        for result in inputs.results { anomalies.merge(result.anomalies) }
        return RunSummary(inputs: inputs.results, packets: packets, wireBytes: wireBytes, skipped: skipped,
                          anomalies: anomalies, flows: tracker.stats, classification: classification,
                          dnsNames: classifier?.shared.names)
    }
}

/// Frames that did not become part of a flow, by reason.
public struct SkipCounts: Sendable, Equatable {
    /// Frames that are not IP, by the protocol they carry (ARP, LLDP, STP/LLC, ...).
    public var nonIP: [EtherType: UInt64] = [:]
    /// Frames of link types the decoder does not know.
    public var unsupportedLinkType: [LinkType: UInt64] = [:]
    /// Frames too damaged or short to reach a flow, by `WireError.reason`.
    public var malformed: [String: UInt64] = [:]

    public init() {}

    mutating func count(_ error: WireError, linkType: LinkType) {
        if error.code == .unsupportedLinkType {
            unsupportedLinkType[linkType, default: 0] &+= 1
        } else {
            malformed[error.reason, default: 0] &+= 1
        }
    }

    public var total: UInt64 {
        nonIP.values.reduce(0, &+) &+ unsupportedLinkType.values.reduce(0, &+) &+ malformed.values.reduce(0, &+)
    }
}

/// What a run read and found, for the stderr summary, reports and exit statuses.
public struct RunSummary: Sendable {
    public var inputs: [CaptureSet.InputResult]
    public var packets: UInt64
    public var wireBytes: UInt64
    public var skipped: SkipCounts
    public var anomalies: Anomalies
    public var flows: FlowTracker.Stats
    /// Flows per service, when classification ran.
    public var classification: Classifier.Stats?
    /// What DNS answers in the capture named each address (when classification ran).
    public var dnsNames: NameCache?

    public var flowCount: UInt64 { flows.flowsCreated }
    public var errors: [CaptureError] { inputs.compactMap(\.error) }

    public var firstTimestamp: Int64? { inputs.compactMap(\.stats.firstTimestamp).min() }
    public var lastTimestamp: Int64? { inputs.compactMap(\.stats.lastTimestamp).max() }

    /// Packets per link type, over all inputs.
    public var linkTypes: [LinkType: Int] {
        var all: [LinkType: Int] = [:]
        for input in inputs { all.merge(input.stats.linkTypes, uniquingKeysWith: +) }
        return all
    }

    /// The exit status of `../shared/spec/audit-report.md` for reading: 0 all read, 3 partial
    /// (some input unreadable or cut short — what was read is reported), 2 nothing usable read.
    public var inputStatus: InputStatus {
        if errors.isEmpty { return .complete }
        let usable = inputs.contains { $0.opened && ($0.stats.packets > 0 || $0.error == nil) }
        return usable ? .partial : .unusable
    }

    public enum InputStatus: Int32, Sendable {
        case complete = 0
        case unusable = 2
        case partial = 3
    }
}

/// Finishes ended flows on its own thread: batches come in from the run's thread through a small
/// bounded queue (the reader waits when the finisher falls behind, so memory stays bounded).
///
/// `@unchecked Sendable`: its queue is only touched under `condition`; `pending` only by the
/// submitting thread; `counts` only by the finishing thread until `close()` has seen it exit.
final class BackgroundFinisher: @unchecked Sendable {
    private let condition = NSCondition()
    private var batches: [[EndedFlow]] = []
    private var closed = false
    private var exited = false
    private var pending: [EndedFlow] = []
    private var counts = Classifier.Stats()
    private let sink: @Sendable (ClassifiedFlow) -> Void
    static let batchSize = 256
    static let maximumBatches = 16

    init(sink: @escaping @Sendable (ClassifiedFlow) -> Void) {
        self.sink = sink
        pending.reserveCapacity(Self.batchSize)
    }

    /// From the run's thread.
    func submit(_ flow: consuming EndedFlow) {
        pending.append(flow)
        if pending.count >= Self.batchSize { flush() }
    }

    private func flush() {
        guard !pending.isEmpty else { return }
        condition.lock()
        while batches.count >= Self.maximumBatches { condition.wait() }
        batches.append(pending)
        condition.broadcast()
        condition.unlock()
        pending = []
        pending.reserveCapacity(Self.batchSize)
    }

    /// From the run's thread: hands over what is left, waits until everything was finished, and
    /// returns the service counts.
    func close() -> Classifier.Stats {
        flush()
        condition.lock()
        closed = true
        condition.broadcast()
        while !exited { condition.wait() }
        condition.unlock()
        return counts
    }

    /// The finishing thread's loop.
    func run() {
        while true {
            condition.lock()
            while batches.isEmpty && !closed { condition.wait() }
            if batches.isEmpty {
                exited = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let batch = batches.removeFirst()
            condition.broadcast()
            condition.unlock()
            for ended in batch {
                let flow = ended.finish()
                counts.count(flow)
                sink(flow)
            }
        }
    }
}
