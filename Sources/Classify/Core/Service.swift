/// An application protocol a flow carries: the `service` field of `../shared/spec/flow-records.md`.
/// Names are the contract's; a later version may add cases, never rename one.
public enum Service: UInt8, CaseIterable, Sendable, Comparable, CustomStringConvertible {
    case tls, dtls, quic, http, websocket, rtsp, rtp, rtcp, rtmp, stun, dns, mdns, ssdp, ntp, dhcp, ssh, ike

    /// The contract's lower-case name.
    public var name: String {
        switch self {
        case .tls: "tls"
        case .dtls: "dtls"
        case .quic: "quic"
        case .http: "http"
        case .websocket: "websocket"
        case .rtsp: "rtsp"
        case .rtp: "rtp"
        case .rtcp: "rtcp"
        case .rtmp: "rtmp"
        case .stun: "stun"
        case .dns: "dns"
        case .mdns: "mdns"
        case .ssdp: "ssdp"
        case .ntp: "ntp"
        case .dhcp: "dhcp"
        case .ssh: "ssh"
        case .ike: "ike"
        }
    }

    public var description: String { name }

    public init?(name: String) {
        guard let found = Service.allCases.first(where: { $0.name == name }) else { return nil }
        self = found
    }

    public static func < (a: Service, b: Service) -> Bool { a.rawValue < b.rawValue }

    /// `[self]`, one shared array per service: most named flows carry one service, and building a
    /// one-element list for each was an allocation and a free per flow (a third of all flows on
    /// the benchmark capture). Appending to it copies it, as for any array.
    var alone: [Service] { Self.singletons[Int(rawValue)] }

    private static let singletons: [[Service]] = {
        var lists = [[Service]](repeating: [], count: Int(Service.allCases.map(\.rawValue).max()!) + 1)
        for service in Service.allCases { lists[Int(service.rawValue)] = [service] }
        return lists
    }()
}

/// Where a flow's `server_name` came from (`server_name_source` in the contract).
public enum ServerNameSource: UInt8, Sendable, Comparable, CustomStringConvertible {
    /// TLS, DTLS or QUIC ClientHello server_name extension (RFC 6066 §3).
    case sni
    /// The HTTP `Host` header (RFC 9110 §7.2).
    case httpHost
    /// The authority of an HTTP CONNECT request (RFC 9110 §9.3.6): the host the proxy was asked to
    /// reach. Not in the contract's first list; added because proxied flows name their real server only here.
    case httpConnect
    /// The host of an RTSP request URL (RFC 7826 §18.2).
    case rtspURL
    /// A DNS answer seen earlier in the capture for the responder's address.
    case dns

    public var name: String {
        switch self {
        case .sni: "sni"
        case .httpHost: "http_host"
        case .httpConnect: "http_connect"
        case .rtspURL: "rtsp_url"
        case .dns: "dns"
        }
    }

    public var description: String { name }

    public static func < (a: ServerNameSource, b: ServerNameSource) -> Bool { a.rawValue < b.rawValue }
}

/// Which way a message went, relative to the flow's originator.
public enum Direction: Int, Sendable, CaseIterable {
    case fromOriginator = 0
    case fromResponder = 1

    public var reversed: Direction { self == .fromOriginator ? .fromResponder : .fromOriginator }
}

/// The transport a flow runs on, as classification sees it.
public enum Transport: UInt8, Sendable {
    case tcp, udp
}
