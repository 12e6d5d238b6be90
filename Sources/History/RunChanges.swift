/// What changed since the previous run of the same site (`../shared/spec/audit-report.md`,
/// `changes`): requirements newly blocked first — the loud signal — then fixed ones, devices that
/// came and went, new unexpected destinations and bandwidth that moved.
public struct RunChanges: Sendable, Equatable {
    public struct Previous: Sendable, Equatable {
        public var id: Int64
        public var firstTimestamp: Double?
        public var lastTimestamp: Double?
    }

    /// One requirement of one device whose status moved.
    public struct StatusChange: Sendable, Equatable {
        public var device: String
        public var signature: String
        public var id: String
        public var proto: String
        public var ports: [String]
        public var from: String
        public var to: String
    }

    public struct NewUnexpected: Sendable, Equatable {
        public var device: String
        public var proto: String
        public var responder: String
        public var responderPort: Int
        public var serverName: String?
    }

    public struct BandwidthMove: Sendable, Equatable {
        public var device: String
        /// `tx` or `rx`.
        public var direction: String
        public var from: Double
        public var to: Double
    }

    public var previous: Previous
    /// Failing now, not failing before (ok, never seen, or not yet a requirement of the device).
    public var regressions: [StatusChange] = []
    /// Failing before, ok now.
    public var fixed: [StatusChange] = []
    public var newDevices: [String] = []
    public var vanishedDevices: [String] = []
    public var newUnexpected: [NewUnexpected] = []
    public var bandwidth: [BandwidthMove] = []

    public var isEmpty: Bool {
        regressions.isEmpty && fixed.isEmpty && newDevices.isEmpty && vanishedDevices.isEmpty && newUnexpected.isEmpty
            && bandwidth.isEmpty
    }

    /// Bandwidth counts as moved when an average changed by more than `bandwidthChange` (0.5:
    /// half) of the larger of the two and by more than `bandwidthFloor` bits per second (so a
    /// quiet device going from 80 to 200 bit/s says nothing).
    public init(from previous: RunRecord, to current: RunRecord, bandwidthChange: Double = 0.5,
                bandwidthFloor: Double = 8_000) {
        self.previous = Previous(id: previous.id, firstTimestamp: previous.firstTimestamp, lastTimestamp: previous.lastTimestamp)
        let before = Dictionary(previous.devices.map { ($0.ip, $0) }, uniquingKeysWith: { a, _ in a })
        let now = Set(current.devices.map(\.ip))
        for device in current.devices {
            let old = before[device.ip]
            if old == nil { newDevices.append(device.ip) }
            let oldStatus = Dictionary((old?.requirements ?? []).map { ("\($0.signature)/\($0.id)", $0.status) },
                                       uniquingKeysWith: { a, _ in a })
            for r in device.requirements {
                let was = oldStatus["\(r.signature)/\(r.id)"]
                let change = StatusChange(device: device.ip, signature: r.signature, id: r.id, proto: r.proto, ports: r.ports,
                                          from: was ?? "not_seen", to: r.status)
                let failsNow = RunRecord.failures.contains(r.status)
                let failedBefore = was.map { RunRecord.failures.contains($0) } ?? false
                if failsNow && !failedBefore { regressions.append(change) }
                if r.status == "ok" && failedBefore { fixed.append(change) }
            }
            let seen = Set((old?.unexpected ?? []).map { Destination($0) })
            var listed = Set<Destination>()
            for u in device.unexpected where !seen.contains(Destination(u)) && listed.insert(Destination(u)).inserted {
                newUnexpected.append(NewUnexpected(device: device.ip, proto: u.proto, responder: u.responder,
                                                   responderPort: u.responderPort, serverName: u.serverName))
            }
            if let old {
                for (direction, from, to) in [("tx", old.bandwidth.transmitAverage, device.bandwidth.transmitAverage),
                                              ("rx", old.bandwidth.receiveAverage, device.bandwidth.receiveAverage)]
                where abs(to - from) > bandwidthChange * max(from, to) && abs(to - from) > bandwidthFloor {
                    bandwidth.append(BandwidthMove(device: device.ip, direction: direction, from: from, to: to))
                }
            }
        }
        vanishedDevices = previous.devices.map(\.ip).filter { !now.contains($0) }
    }

    /// Where an unexpected flow went: the same destination on another night is not new.
    private struct Destination: Hashable {
        var proto: String
        var responder: String
        var port: Int
        var serverName: String?
        init(_ u: RunRecord.Unexpected) {
            proto = u.proto
            responder = u.responder
            port = u.responderPort
            serverName = u.serverName
        }
    }
}
