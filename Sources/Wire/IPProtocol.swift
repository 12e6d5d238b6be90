/// An IP protocol number (IANA "Assigned Internet Protocol Numbers"), an open set.
public struct IPProtocol: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// IPv6 Hop-by-Hop Options (RFC 8200 §4.3). C: `IPPROTO_HOPOPTS`.
    @inlinable public static var hopByHop: IPProtocol { IPProtocol(rawValue: 0) }
    /// C: `IPPROTO_ICMP`.
    @inlinable public static var icmp: IPProtocol { IPProtocol(rawValue: 1) }
    /// C: `IPPROTO_IGMP`.
    @inlinable public static var igmp: IPProtocol { IPProtocol(rawValue: 2) }
    /// IPv4 encapsulated in IP (RFC 2003). C: `IPPROTO_IPIP`.
    @inlinable public static var ipInIP: IPProtocol { IPProtocol(rawValue: 4) }
    /// C: `IPPROTO_TCP`.
    @inlinable public static var tcp: IPProtocol { IPProtocol(rawValue: 6) }
    /// C: `IPPROTO_UDP`.
    @inlinable public static var udp: IPProtocol { IPProtocol(rawValue: 17) }
    /// IPv6 encapsulated in IP (RFC 4213, 6in4). C: `IPPROTO_IPV6`.
    @inlinable public static var ipv6InIP: IPProtocol { IPProtocol(rawValue: 41) }
    /// IPv6 Routing header. C: `IPPROTO_ROUTING`.
    @inlinable public static var routing: IPProtocol { IPProtocol(rawValue: 43) }
    /// IPv6 Fragment header. C: `IPPROTO_FRAGMENT`.
    @inlinable public static var fragment: IPProtocol { IPProtocol(rawValue: 44) }
    /// Generic Routing Encapsulation (RFC 2784). C: `IPPROTO_GRE`.
    @inlinable public static var gre: IPProtocol { IPProtocol(rawValue: 47) }
    /// Encapsulating Security Payload (RFC 4303). C: `IPPROTO_ESP`.
    @inlinable public static var esp: IPProtocol { IPProtocol(rawValue: 50) }
    /// Authentication Header (RFC 4302). C: `IPPROTO_AH`.
    @inlinable public static var ah: IPProtocol { IPProtocol(rawValue: 51) }
    /// C: `IPPROTO_ICMPV6`.
    @inlinable public static var icmpv6: IPProtocol { IPProtocol(rawValue: 58) }
    /// IPv6 "No Next Header". C: `IPPROTO_NONE`.
    @inlinable public static var noNextHeader: IPProtocol { IPProtocol(rawValue: 59) }
    /// IPv6 Destination Options. C: `IPPROTO_DSTOPTS`.
    @inlinable public static var destinationOptions: IPProtocol { IPProtocol(rawValue: 60) }
    /// C: `IPPROTO_OSPF` (89), `IPPROTO_PIM` (103), VRRP (112).
    @inlinable public static var ospf: IPProtocol { IPProtocol(rawValue: 89) }
    @inlinable public static var pim: IPProtocol { IPProtocol(rawValue: 103) }
    @inlinable public static var vrrp: IPProtocol { IPProtocol(rawValue: 112) }
    /// C: `IPPROTO_SCTP`.
    @inlinable public static var sctp: IPProtocol { IPProtocol(rawValue: 132) }
    /// IPv6 Mobility header (RFC 6275).
    @inlinable public static var mobility: IPProtocol { IPProtocol(rawValue: 135) }
    /// Host Identity Protocol (RFC 7401) and Shim6 (RFC 5533): IPv6 extension headers.
    @inlinable public static var hip: IPProtocol { IPProtocol(rawValue: 139) }
    @inlinable public static var shim6: IPProtocol { IPProtocol(rawValue: 140) }

    /// The `proto` name of `../shared/spec/flow-records.md`, or the number as a string.
    public var name: String { knownName?.description ?? String(rawValue) }

    /// The name of a protocol that has one (writers copy it without making a string).
    public var knownName: StaticString? {
        switch rawValue {
        case 1: "icmp"
        case 6: "tcp"
        case 17: "udp"
        case 47: "gre"
        case 50: "esp"
        case 58: "icmpv6"
        case 132: "sctp"
        default: nil
        }
    }

    /// Whether the flow key carries ports for this protocol (TCP, UDP, SCTP); ICMP carries its
    /// type and code in their place, as Zeek does.
    @inlinable public var hasPorts: Bool { rawValue == 6 || rawValue == 17 || rawValue == 132 }

    public var description: String { name }
}
