public import Classify
public import Wire

/// One vendor document's network requirements as data (`Signatures/*.yaml`, schema 1; the schema
/// is described in `Signatures/README.md`).
public struct Signature: Sendable {
    public var id: String
    public var vendor: String
    public var product: String
    public var version: String
    public var source: Source
    /// Region names and what they mean (RetailNext: `global`, `china`).
    public var regions: [String: String] = [:]
    /// Site settings that variants depend on (VALT: `ssl` enabled or disabled).
    public var settings: [String: Setting] = [:]
    public var roles: [Role] = []
    public var requirements: [Requirement] = []
    public var bandwidth: [BandwidthFigure] = []
    /// What the document asks that traffic cannot show, said so rather than dropped.
    public var notAuditable: [String] = []
    /// The file it was read from.
    public var file: String

    public struct Source: Sendable {
        public var document: String
        public var file: String?
        public var sections: [String] = []
    }

    public struct Setting: Sendable {
        public var title: String
        public var values: [String]
    }

    public struct Role: Sendable {
        public var id: String
        public var title: String
        /// Traffic that earns a device this role (any rule).
        public var identify: [TrafficRule] = []
    }

    public func role(_ id: String) -> Role? { roles.first { $0.id == id } }
}

/// What a requirement (or a role's identifying traffic) is about: which flows of a device count.
public struct TrafficRule: Sendable {
    public var direction: TrafficDirection = .outbound
    /// Any one of these IP protocols (TCP, UDP, GRE, ...).
    public var protocols: [IPProtocol] = []
    /// Any one of these ports (the remote port outbound, the device's own port inbound); empty: any.
    public var ports: [PortRange] = []
    /// The remote side: any one of these (names, wildcards, addresses, blocks); empty: any.
    public var hosts: [HostPattern] = []
    public var peers: PeerRule?
    /// The application protocol the flow must carry, when the document names one.
    public var service: Service?

    public init() {}
}

public enum TrafficDirection: String, Sendable {
    /// The device opens the flow.
    case outbound
    /// Others open it to the device.
    case inbound
}

/// Who is at the other end.
public enum PeerRule: Sendable, Equatable {
    /// A local device (RFC 1918, ULA, link-local, `--local`).
    case local
    /// Anything not local (the internet, through the gateway).
    case remote
    /// A device holding one of these roles of the same signature.
    case roles([String])
}

public enum RequirementLevel: String, Sendable, CaseIterable {
    case required, optional, conditional
}

/// One line of a vendor document as data.
public struct Requirement: Sendable {
    public var id: String
    /// Roles of the same signature that must be able to do this.
    public var roles: [String]
    public var rule: TrafficRule
    public var level: RequirementLevel
    /// For conditional requirements: the feature or setting it depends on (`feature: pos-connect`).
    public var when: [String: String] = [:]
    /// Alternatives chosen by a site setting; when the setting is unknown, either satisfies.
    public var variants: [Variant] = []
    /// Requirements of one group are alternatives: one working satisfies the group.
    public var group: String?
    /// Only sites of this region need it (RetailNext's China service).
    public var region: String?
    /// The document's own words.
    public var why: String
    /// Where it is written (`file:line`), for lint messages and reports.
    public var line: Int

    public struct Variant: Sendable {
        public var when: [String: String]
        public var ports: [PortRange]
        public var service: Service?
    }

    /// Ports of the requirement and of every variant (a site whose setting is unknown may use any).
    public var allPorts: [PortRange] { rule.ports + variants.flatMap(\.ports) }

    /// The application protocol a flow to `port` must carry: the variant's that lists the port,
    /// else the requirement's.
    public func service(forPort port: UInt16) -> Service? {
        for variant in variants where variant.ports.contains(where: { $0.contains(port) }) {
            if let service = variant.service { return service }
        }
        return rule.service
    }
}

/// A bandwidth figure of a document, with what it is measured against.
public struct BandwidthFigure: Sendable {
    public enum Direction: String, Sendable {
        case transmit, receive, both
    }

    public var roles: [String]
    public var direction: Direction
    /// Average per media stream (RetailNext: 15 kbit/s out per monocular stream), scaled by the
    /// streams of `streams` (a service: `rtsp`) the device was seen to pull.
    public var perStreamBitsPerSecond: Double?
    public var streams: Service?
    /// A recommended link speed (OpenEye: 5 Mbit/s upload): the device's peak should stay under it.
    public var recommendedBitsPerSecond: Double?
    /// Per-channel playback figures (OpenEye's table), by quality.
    public var perChannelBitsPerSecond: [String: Double] = [:]
    public var table: [[String: Double]] = []
    /// Data per day (OpenEye's usage table, bytes).
    public var dailyBytes: [String: Double] = [:]
    public var why: String
}

extension IPProtocol {
    /// The name a signature or report uses: `tcp`, `udp`, `gre`, ... or the number.
    public var auditName: String {
        switch rawValue {
        case 1: "icmp"
        case 2: "igmp"
        case 6: "tcp"
        case 17: "udp"
        case 47: "gre"
        case 50: "esp"
        case 51: "ah"
        case 58: "icmpv6"
        case 132: "sctp"
        default: String(rawValue)
        }
    }

    /// `tcp`, `udp`, ... or a number 0–255.
    public init?(auditName: String) {
        switch auditName.lowercased() {
        case "icmp": self = .icmp
        case "igmp": self = .igmp
        case "tcp": self = .tcp
        case "udp": self = .udp
        case "gre": self = .gre
        case "esp": self = .esp
        case "ah": self = .ah
        case "icmpv6": self = .icmpv6
        case "sctp": self = .sctp
        default:
            guard let n = UInt8(auditName) else { return nil }
            self.init(rawValue: n)
        }
    }
}
