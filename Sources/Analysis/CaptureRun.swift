public import Capture
public import Flows
public import Wire

/// Runs captures through the pipeline — read, decode, track flows — and reports what happened:
/// the one place where the stages meet, so every command reads captures the same way.
public enum CaptureRun {
    public struct Options: Sendable {
        public var io = CaptureReader.IOMode.read
        public var flows = FlowConfiguration()
        public var decodeTunnels = true

        public init() {}
    }

    /// Reads `paths` in time order ("-" is standard input) and calls `sink` with every flow as it
    /// ends. Never throws: problems with inputs are in the summary.
    public static func run(paths: [String], options: Options = Options(),
                           sink: @escaping (FlowRecord) -> Void) -> RunSummary {
        var tracker = FlowTracker(configuration: options.flows, sink: sink)
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
            guard decoded.ipVersion != 0 else {
                skipped.nonIP[decoded.etherType, default: 0] &+= 1
                return
            }
            tracker.process(&decoded, frame: frame, time: record.timestamp, wireLength: record.originalLength,
                            input: record.input, number: record.number)
        }
        tracker.finish()

        var anomalies = decodeAnomalies
        anomalies.merge(tracker.anomalies)
        for result in inputs.results { anomalies.merge(result.anomalies) }
        return RunSummary(inputs: inputs.results, packets: packets, wireBytes: wireBytes, skipped: skipped,
                          anomalies: anomalies, flows: tracker.stats)
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
