import Classify
public import Wire

/// What the audit found: a verdict per device and requirement, unexpected traffic and bandwidth.
/// The report renderers (terminal, JSON, Markdown) show this and nothing else.
public struct AuditResult: Sendable {
    public var devices: [DeviceVerdict] = []
    public var signatures: [Signature] = []
    /// Roles the traffic suggests that disagree with each other or with the inventory.
    public var roleConflicts: [RoleConflict] = []
    public var bandwidthWindowSeconds: Double
    public var captureSeconds: Double

    public var requirementCounts: (ok: Int, blocked: Int, notSeen: Int) {
        var counts = (ok: 0, blocked: 0, notSeen: 0)
        for device in devices {
            for r in device.requirements {
                switch r.status {
                case .ok: counts.ok += 1
                case .notSeen: counts.notSeen += 1
                default: counts.blocked += 1
                }
            }
        }
        return counts
    }

    /// Required requirements of identified devices that are blocked or failed (and, `strict`,
    /// never seen): what makes `audit` exit 1.
    public func violations(strict: Bool) -> [(DeviceVerdict, RequirementResult)] {
        var out: [(DeviceVerdict, RequirementResult)] = []
        for device in devices {
            for r in device.requirements where r.countsForVerdict {
                if r.status.isFailure || (strict && r.status == .notSeen) {
                    // A group of alternatives is satisfied by any one member that works.
                    if let group = r.requirement.group,
                       device.requirements.contains(where: { $0.signature == r.signature && $0.requirement.group == group && $0.status == .ok }) {
                        continue
                    }
                    out.append((device, r))
                }
            }
        }
        return out
    }

    public var unexpectedCount: Int { devices.reduce(0) { $0 + $1.unexpected.count } }
}

public struct DeviceVerdict: Sendable {
    public var address: IPAddress
    public var otherAddresses: [IPAddress] = []
    public var mac: MACAddress?
    public var macVendor: String?
    public var names: [String] = []
    public var roles: [AssignedRole] = []
    public var requirements: [RequirementResult] = []
    public var unexpected: [UnexpectedFlow] = []
    public var bandwidth: BandwidthResult

    public var failures: [RequirementResult] { requirements.filter { $0.status.isFailure } }
}

public struct AssignedRole: Sendable, Equatable {
    public enum Source: String, Sendable { case inventory, inferred }
    public var role: RoleReference
    public var source: Source
    /// Flows (uids) that earned the role, for inferred roles.
    public var evidence: [String] = []
}

public struct RoleConflict: Sendable, Equatable {
    public var address: IPAddress
    public var roles: [RoleReference]
    public var message: String
}

public struct RequirementResult: Sendable {
    public var signature: String
    public var requirement: Requirement
    public var status: RequirementStatus
    /// Counts the exit status and the summary's verdict (required, or conditional on what the
    /// site said it has).
    public var countsForVerdict: Bool
    public var flows: [Evidence] = []
    public var outcomes: [Outcome: Int] = [:]

    public struct Evidence: Sendable {
        public var flow: AuditFlow
        public var outcome: Outcome
    }

    public var attempts: Int { outcomes.values.reduce(0, +) }
    public var established: Int { outcomes[.ok] ?? 0 }
    public var serverNames: [String] { Array(Set(flows.flatMap { $0.flow.names })).sorted() }
    /// Remote addresses the attempts went to.
    public var addresses: [String] = []
}

public struct UnexpectedFlow: Sendable {
    public var flow: AuditFlow
    public var outcome: Outcome
}

public struct BandwidthResult: Sendable {
    public var sentBytes: UInt64 = 0
    public var receivedBytes: UInt64 = 0
    public var transmitAverage: Double = 0
    public var receiveAverage: Double = 0
    public var transmitPeak: Double = 0
    public var receivePeak: Double = 0
    public var budget: Budget?
    public var status: Status = .unknown
    /// Bits per second each way, window by window from the capture's first frame (for charts).
    public var series: Series?

    public struct Series: Sendable {
        /// Start of the first window (ns since the epoch) and the windows' length (s).
        public var start: Int64
        public var window: Double
        public var transmit: [Double]
        public var receive: [Double]
    }

    public enum Status: String, Sendable { case ok, over, under, unknown }

    /// The document's figure for this device, as it applies to what the capture showed.
    public struct Budget: Sendable {
        public var transmitBitsPerSecond: Double?
        public var receiveBitsPerSecond: Double?
        /// Streams seen that scale per-stream figures.
        public var streams: Int?
        public var peakLimitBitsPerSecond: Double?
        public var basis: [String] = []
    }
}
