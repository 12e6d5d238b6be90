public import Wire

/// Where a run's packets come from: capture files (`CaptureSet`) or live interfaces
/// (`LiveCaptureSet`). Packets reach `body` as views of the source's buffer, valid during the call.
public protocol PacketSource: AnyObject {
    /// Delivers every packet until the source ends (or is stopped); `idle` runs on the same
    /// thread between packets when the source waits (live capture), never for files.
    func read(_ body: (PacketRecord, Span<UInt8>) -> Void, idle: () -> Void)
    /// What became of each input, in the order given.
    var results: [CaptureSet.InputResult] { get }
}

/// Several capture files read as one capture, in time order: rotated captures (`tcpdump -G`,
/// `audit --iface ... --write DIR`) in any order on the command line, and overlapping captures from
/// several interfaces merged packet by packet.
///
/// Each file is first opened just long enough to learn its first timestamp. Files are then opened
/// one at a time, in order of first timestamp, when the merge reaches that time, and closed when
/// they end — so a night of 24 hourly files holds one file's buffer at a time, and only files whose
/// times really overlap are open together.
///
/// Contract: packets reach `body` in non-decreasing timestamp order across files whenever each file
/// is itself in order; a file that cannot be opened, or stops on an error, is recorded in `results`
/// with everything read before the error delivered, and the others go on.
public final class CaptureSet: PacketSource {
    public let paths: [String]
    public let io: CaptureReader.IOMode
    /// One entry per input, in the order given.
    public private(set) var results: [InputResult]

    /// What became of one input.
    public struct InputResult: Sendable {
        public var path: String
        public var format: CaptureReader.Format?
        public var stats = CaptureReader.Stats()
        public var anomalies = Anomalies()
        public var error: CaptureError?
        public var firstOversnapOffset: Int64?
        /// Whether anything usable was read (a header at least).
        public var opened = false
        /// A live interface's kernel counts (received, dropped); nil for files.
        public var live: LiveStatistics?

        public init(path: String) { self.path = path }

        /// What was lost before it could be read: a live capture's drops, as a one-line message.
        public var loss: String? {
            guard let live, live.dropped > 0 else { return nil }
            return "\(path): \(live.dropped) of \(live.received &+ live.droppedByInterface) packets dropped "
                + "(\(live.droppedByKernel) by the kernel: the analysis fell behind; \(live.droppedByInterface) by the interface)"
        }
    }

    public init(paths: [String], io: CaptureReader.IOMode = .read) {
        self.paths = paths
        self.io = io
        self.results = paths.map { InputResult(path: $0) }
    }

    /// Files have no idle time: `idle` is never called.
    public func read(_ body: (PacketRecord, Span<UInt8>) -> Void, idle: () -> Void) { read(body) }

    /// Reads every input, delivering packets in time order.
    public func read(_ body: (PacketRecord, Span<UInt8>) -> Void) {
        if paths.count == 1 {
            guard let reader = open(0) else { return }
            reader.readPackets(body)
            finish(reader)
            return
        }
        // Learn each file's first timestamp; standard input cannot be read twice, so it stays open.
        var pending: [(first: Int64, index: Int, reader: CaptureReader?)] = []
        for index in paths.indices {
            guard let reader = open(index) else { continue }
            if let first = reader.peekTimestamp() {
                pending.append((first, index, paths[index] == "-" ? reader : nil))
            } else {
                finish(reader)
            }
        }
        pending.sort { ($0.first, $0.index) < ($1.first, $1.index) }

        var active: [(next: Int64, index: Int, reader: CaptureReader)] = []
        var cursor = 0
        while true {
            // Open every file whose first packet is due before the earliest open file's next packet.
            while cursor < pending.count,
                  pending[cursor].first <= active.map(\.next).min() ?? .max {
                let entry = pending[cursor]
                cursor += 1
                guard let reader = entry.reader ?? open(entry.index) else { continue }
                if let next = reader.peekTimestamp() {
                    active.append((next, entry.index, reader))
                } else {
                    finish(reader)
                }
            }
            guard let earliest = active.indices.min(by: {
                (active[$0].next, active[$0].index) < (active[$1].next, active[$1].index)
            }) else { break }
            // Read the earliest file up to the next packet of any other file, open or not yet opened.
            var limit = cursor < pending.count ? pending[cursor].first - 1 : Int64.max
            for (i, entry) in active.enumerated() where i != earliest { limit = min(limit, entry.next) }
            limit = max(limit, active[earliest].next)
            let reader = active[earliest].reader
            if reader.readPackets(until: limit, body), let next = reader.peekTimestamp() {
                active[earliest].next = next
            } else {
                finish(reader)
                active.remove(at: earliest)
            }
        }
    }

    private func open(_ index: Int) -> CaptureReader? {
        do {
            let reader = try CaptureReader(path: paths[index], input: index, io: io)
            results[index].opened = true
            results[index].format = reader.format
            return reader
        } catch {
            results[index].error = error
            return nil
        }
    }

    private func finish(_ reader: CaptureReader) {
        var result = results[reader.input]
        result.stats = reader.stats
        result.anomalies = reader.anomalies
        result.error = reader.error
        result.firstOversnapOffset = reader.firstOversnapOffset
        result.format = reader.format
        results[reader.input] = result
    }
}
