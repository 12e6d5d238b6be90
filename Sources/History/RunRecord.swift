public import Audit
import Foundation
import Wire

/// One audit run as the history keeps it: per device, each requirement's status with its counts,
/// bandwidth aggregates and unexpected flows — what a later run is compared with and what
/// `audit history` lists. Built from an `AuditResult`; nothing in it depends on the capture files.
public struct RunRecord: Sendable, Codable, Equatable {
    /// The history's id for the run (0 until stored).
    public var id: Int64 = 0
    /// The site the run audits (`--site`): one history may serve many stores.
    public var site: String
    /// First and last packet times (seconds since the epoch), when anything was read.
    public var firstTimestamp: Double?
    public var lastTimestamp: Double?
    /// When the run was made (seconds since the epoch).
    public var createdAt: Double
    public var inputs: [String]
    public var compliant: Bool
    public var ok: Int
    public var blocked: Int
    public var notSeen: Int
    public var unexpected: Int
    public var devices: [Device]

    public struct Device: Sendable, Codable, Equatable {
        public var ip: String
        public var mac: String?
        public var names: [String]
        public var roles: [String]
        public var requirements: [Requirement]
        public var bandwidth: Bandwidth
        public var unexpected: [Unexpected]
    }

    public struct Requirement: Sendable, Codable, Equatable {
        public var signature: String
        public var id: String
        public var level: String
        public var proto: String
        public var ports: [String]
        public var status: String
        public var attempts: Int
        public var established: Int
        /// Flows per outcome (`ok`, `blocked_reset`, ...).
        public var outcomes: [String: Int]
    }

    public struct Bandwidth: Sendable, Codable, Equatable {
        public var transmitAverage: Double
        public var receiveAverage: Double
        public var transmitPeak: Double
        public var receivePeak: Double
        public var status: String
    }

    public struct Unexpected: Sendable, Codable, Equatable, Hashable {
        public var proto: String
        public var responder: String
        public var responderPort: Int
        public var serverName: String?
        public var connState: String
        public var uid: String
    }

    public init(site: String, firstTimestamp: Double?, lastTimestamp: Double?, createdAt: Double, inputs: [String],
                compliant: Bool, ok: Int, blocked: Int, notSeen: Int, unexpected: Int, devices: [Device]) {
        self.site = site
        self.firstTimestamp = firstTimestamp
        self.lastTimestamp = lastTimestamp
        self.createdAt = createdAt
        self.inputs = inputs
        self.compliant = compliant
        self.ok = ok
        self.blocked = blocked
        self.notSeen = notSeen
        self.unexpected = unexpected
        self.devices = devices
    }

    /// The record of `result` for `site`.
    public init(site: String, result: AuditResult, inputs: [String], firstTimestamp: Int64?, lastTimestamp: Int64?,
                strict: Bool, createdAt: Double) {
        let counts = result.requirementCounts
        self.init(site: site, firstTimestamp: firstTimestamp.map { Double($0) / 1e9 },
                  lastTimestamp: lastTimestamp.map { Double($0) / 1e9 }, createdAt: createdAt, inputs: inputs,
                  compliant: result.violations(strict: strict).isEmpty, ok: counts.ok, blocked: counts.blocked,
                  notSeen: counts.notSeen, unexpected: result.unexpectedCount,
                  devices: result.devices.map { d in
                      Device(ip: d.address.description, mac: d.mac?.description, names: d.names,
                             roles: d.roles.map(\.role.description),
                             requirements: d.requirements.map { r in
                                 Requirement(signature: r.signature, id: r.requirement.id, level: r.requirement.level.rawValue,
                                             proto: r.requirement.rule.protocols.map(\.auditName).joined(separator: ","),
                                             ports: r.requirement.allPorts.map(\.description), status: r.status.rawValue,
                                             attempts: r.attempts, established: r.established,
                                             outcomes: Dictionary(uniqueKeysWithValues: r.outcomes.map { ($0.key.rawValue, $0.value) }))
                             },
                             bandwidth: Bandwidth(transmitAverage: d.bandwidth.transmitAverage,
                                                  receiveAverage: d.bandwidth.receiveAverage,
                                                  transmitPeak: d.bandwidth.transmitPeak, receivePeak: d.bandwidth.receivePeak,
                                                  status: d.bandwidth.status.rawValue),
                             unexpected: d.unexpected.map { u in
                                 Unexpected(proto: u.flow.proto.auditName, responder: u.flow.responder.description,
                                            responderPort: Int(u.flow.responderPort), serverName: u.flow.serverName,
                                            connState: u.flow.connState, uid: u.flow.uid)
                             })
                  })
    }

    /// Statuses that mean blocked or failed (the audit's own definition, as stored strings).
    public static let failures = Set(RequirementStatus.allCases.filter(\.isFailure).map(\.rawValue))
}
