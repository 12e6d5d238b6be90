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
        /// Whether `runConcurrently` turns ended flows into facts on a second thread (about half
        /// the time on two cores); off, everything runs on the calling thread — for one-core
        /// machines, and for measuring what one thread does (`audit flows --threads 1`).
        public var finishingThread = true
        public var classification = ClassifierConfiguration()

        public init() {}
    }

    /// Reads `paths` in time order ("-" is standard input) and calls `sink` with every flow as it
    /// ends, with what classification learned about it. Never throws: problems with inputs are in
    /// the summary. Everything runs on the calling thread.
    public static func run(paths: [String], options: Options = Options(),
                           sink: @escaping (ClassifiedFlow) -> Void) -> RunSummary {
        runOnOneThread(source: CaptureSet(paths: paths, io: options.io), options: options, frames: nil, live: nil,
                       sink: sink)
    }

    private static func runOnOneThread(source: any PacketSource, options: Options, frames: FrameObserver?,
                                       live: LiveHooks?, sink: @escaping (ClassifiedFlow) -> Void) -> RunSummary {
        var counts = Classifier.Stats()
        return run(source: source, options: options, frames: frames, live: live,
                   finishing: { ended in
                       let flow = (consume ended).finish()
                       counts.count(flow)
                       sink(flow)
                   }, flush: {}, checkpoint: { $0() }, close: { counts })
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
        runConcurrently(source: CaptureSet(paths: paths, io: options.io), options: options, frames: frames, sink: sink)
    }

    /// `runConcurrently(paths:...)` over any source: files, or live interfaces with `live` hooks
    /// for what a person watches while capture goes on.
    public static func runConcurrently(source: any PacketSource, options: Options = Options(),
                                       frames: FrameObserver? = nil, live: LiveHooks? = nil,
                                       sink: @escaping @Sendable (ClassifiedFlow) -> Void) -> RunSummary {
        guard options.finishingThread else {
            return runOnOneThread(source: source, options: options, frames: frames, live: live, sink: sink)
        }
        let finisher = BackgroundFinisher(sink: sink)
        let thread = Thread { finisher.run() }
        thread.start()
        return run(source: source, options: options, frames: frames, live: live, finishing: { finisher.submit($0) },
                   flush: { finisher.flush() }, checkpoint: { finisher.submit(work: $0) }, close: { finisher.close() })
    }

    /// Sees a decoded frame: its headers, capture time (ns) and length on the wire.
    public typealias FrameObserver = (borrowing DecodedPacket, Int64, Int) -> Void

    /// What a live run does besides reading: on the reading thread, whenever the source is idle
    /// (at least every quarter second of a live capture), never per packet.
    public struct LiveHooks {
        /// Wall-clock nanoseconds between checkpoints.
        public var checkpointInterval: Int64 = 60_000_000_000
        /// Called with the run so far — the flows still open finished as if they ended now — on
        /// the reading thread. The work it returns runs on the finishing thread once every flow
        /// that ended before the checkpoint has reached `sink`: there the sink's state is whole
        /// and safe to read.
        public var checkpoint: ((Checkpoint) -> (@Sendable () -> Void)?)?
        /// Whether checkpoints carry the open flows (finishing them costs a little per open flow).
        public var snapshotOpenFlows = true
        /// About once a second, on the reading thread.
        public var progress: ((Progress) -> Void)?

        public init() {}
    }

    /// The run so far, at a checkpoint.
    public struct Checkpoint: @unchecked Sendable {
        /// Wall-clock time of the checkpoint (ns).
        public var time: Int64
        public var summary: RunSummary
        /// Flows still open, with what they showed so far (`end_reason` "open").
        public var openFlows: [ClassifiedFlow]
    }

    /// Counters for a status line.
    public struct Progress: Sendable {
        public var time: Int64
        public var packets: UInt64
        public var wireBytes: UInt64
        public var openFlows: Int
        public var flowsEnded: UInt64
        /// Each input as now (live interfaces with their kernel counts).
        public var inputs: [CaptureSet.InputResult]
    }

    private static func run(source: any PacketSource, options: Options, frames: FrameObserver?, live: LiveHooks?,
                            finishing: @escaping (consuming EndedFlow) -> Void, flush: () -> Void,
                            checkpoint: (@escaping @Sendable () -> Void) -> Void,
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
        var lastProgress: Int64 = 0
        var lastCheckpoint = WallClock.now

        func summary(classification: Classifier.Stats?) -> RunSummary {
            var anomalies = decodeAnomalies
            anomalies.merge(tracker.anomalies)
            if let classifier { anomalies.merge(classifier.anomalies) }
            let inputs = source.results
            for result in inputs { anomalies.merge(result.anomalies) }
            return RunSummary(inputs: inputs, packets: packets, wireBytes: wireBytes, skipped: skipped,
                              anomalies: anomalies, flows: tracker.stats, classification: classification,
                              dnsNames: classifier?.shared.names)
        }

        // A live source waits for packets: end flows whose timers ran out meanwhile, hand ended
        // flows on, and serve the hooks.
        func idle() {
            let now = WallClock.now
            tracker.advance(to: now)
            flush()
            guard let live else { return }
            if let progress = live.progress, now &- lastProgress >= 1_000_000_000 {
                lastProgress = now
                progress(Progress(time: now, packets: packets, wireBytes: wireBytes, openFlows: tracker.liveFlows,
                                  flowsEnded: tracker.stats.flowsCreated &- UInt64(tracker.liveFlows),
                                  inputs: source.results))
            }
            if let take = live.checkpoint, now &- lastCheckpoint >= live.checkpointInterval {
                lastCheckpoint = now
                let open = !live.snapshotOpenFlows ? [] : tracker.openFlows().map { slot, record in
                    (classifier?.snapshot(record, slot: slot) ?? EndedFlow(record: record)).finish()
                }
                if let work = take(Checkpoint(time: now, summary: summary(classification: classifier?.stats),
                                              openFlows: open)) {
                    checkpoint(work)
                }
            }
        }

        source.read({ record, frame in
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
        }, idle: idle)
        tracker.finish()
        // `close()` hands over the last flows and waits for the finishing thread: it must run
        // whether or not there is a classifier (as the argument of `classification?.addCounts`
        // it was skipped with classification off, and `--no-classify` lost its last flows).
        let finished = close()
        var classification = classifier?.stats
        classification?.addCounts(finished)
        return summary(classification: classification)
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
        // A live capture that dropped packets is partial input too: verdicts may miss traffic.
        if errors.isEmpty && !inputs.contains(where: { $0.loss != nil }) { return .complete }
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
    /// Ended flows in batches, and work to run in order between them (checkpoints).
    private enum Item {
        case flows(EndedFlowBatch)
        case work(@Sendable () -> Void)
    }
    private var batches: [Item] = []
    private var closed = false
    private var exited = false
    private var pending = EndedFlowBatch(capacity: BackgroundFinisher.batchSize)
    private var counts = Classifier.Stats()
    private let sink: @Sendable (ClassifiedFlow) -> Void
    static let batchSize = 256
    static let maximumBatches = 16

    init(sink: @escaping @Sendable (ClassifiedFlow) -> Void) {
        self.sink = sink
    }

    /// From the run's thread.
    func submit(_ flow: consuming EndedFlow) {
        pending.append(flow)
        if pending.isFull { flush() }
    }

    /// From the run's thread: hands over the flows ended so far (batches are otherwise handed
    /// over full).
    func flush() {
        guard !pending.isEmpty else { return }
        enqueue(.flows(pending))
        pending = EndedFlowBatch(capacity: Self.batchSize)
    }

    /// From the run's thread: `work` runs on the finishing thread after every flow submitted
    /// before it.
    func submit(work: @escaping @Sendable () -> Void) {
        flush()
        enqueue(.work(work))
    }

    private func enqueue(_ item: Item) {
        condition.lock()
        while batches.count >= Self.maximumBatches { condition.wait() }
        batches.append(item)
        condition.broadcast()
        condition.unlock()
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
            let item = batches.removeFirst()
            condition.broadcast()
            condition.unlock()
            switch item {
            case .flows(let batch):
                while let ended = batch.next() {
                    let flow = (consume ended).finish()
                    counts.count(flow)
                    sink(flow)
                }
            case .work(let work):
                work()
            }
        }
    }
}

/// Ended flows handed from the reading thread to the finishing thread together: moved in one by
/// one and moved out one by one, never copied. (Out of an array a flow can only be copied — a
/// retain and a release of everything it holds, and a copy of its record — or taken by reversing
/// the array, which swaps whole flows.)
///
/// `@unchecked Sendable`: the reading thread fills a batch, then hands it over through the
/// finisher's locked queue and never touches it again; the finishing thread drains it.
@safe final class EndedFlowBatch: @unchecked Sendable {
    private let storage: UnsafeMutablePointer<EndedFlow>
    let capacity: Int
    /// Flows moved in; `storage[taken..<count]` are initialized.
    private(set) var count = 0
    private var taken = 0

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
        unsafe storage = UnsafeMutablePointer<EndedFlow>.allocate(capacity: capacity)
    }

    var isEmpty: Bool { count == 0 }
    var isFull: Bool { count == capacity }

    func append(_ flow: consuming EndedFlow) {
        precondition(count < capacity, "an ended-flow batch is full")
        unsafe (storage + count).initialize(to: flow)
        count &+= 1
    }

    /// Moves the next flow out, in the order they came; nil when all were taken.
    func next() -> EndedFlow? {
        guard taken < count else { return nil }
        defer { taken &+= 1 }
        return unsafe (storage + taken).move()
    }

    deinit {
        unsafe (storage + taken).deinitialize(count: count &- taken)
        unsafe storage.deallocate()
    }
}
