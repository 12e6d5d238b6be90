/// An IP protocol number (IANA "Assigned Internet Protocol Numbers"), an open set.
public struct IPProtocol: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// IPv6 Hop-by-Hop Options (RFC 8200 §4.3). C: `IPPROTO_HOPOPTS`.
    public static let hopByHop = IPProtocol(rawValue: 0)
    /// C: `IPPROTO_ICMP`.
    public static let icmp = IPProtocol(rawValue: 1)
    /// C: `IPPROTO_IGMP`.
    public static let igmp = IPProtocol(rawValue: 2)
    /// IPv4 encapsulated in IP (RFC 2003). C: `IPPROTO_IPIP`.
    public static let ipInIP = IPProtocol(rawValue: 4)
    /// C: `IPPROTO_TCP`.
    public static let tcp = IPProtocol(rawValue: 6)
    /// C: `IPPROTO_UDP`.
    public static let udp = IPProtocol(rawValue: 17)
    /// IPv6 encapsulated in IP (RFC 4213, 6in4). C: `IPPROTO_IPV6`.
    public static let ipv6InIP = IPProtocol(rawValue: 41)
    /// IPv6 Routing header. C: `IPPROTO_ROUTING`.
    public static let routing = IPProtocol(rawValue: 43)
    /// IPv6 Fragment header. C: `IPPROTO_FRAGMENT`.
    public static let fragment = IPProtocol(rawValue: 44)
    /// Generic Routing Encapsulation (RFC 2784). C: `IPPROTO_GRE`.
    public static let gre = IPProtocol(rawValue: 47)
    /// Encapsulating Security Payload (RFC 4303). C: `IPPROTO_ESP`.
    public static let esp = IPProtocol(rawValue: 50)
    /// Authentication Header (RFC 4302). C: `IPPROTO_AH`.
    public static let ah = IPProtocol(rawValue: 51)
    /// C: `IPPROTO_ICMPV6`.
    public static let icmpv6 = IPProtocol(rawValue: 58)
    /// IPv6 "No Next Header". C: `IPPROTO_NONE`.
    public static let noNextHeader = IPProtocol(rawValue: 59)
    /// IPv6 Destination Options. C: `IPPROTO_DSTOPTS`.
    public static let destinationOptions = IPProtocol(rawValue: 60)
    /// C: `IPPROTO_OSPF` (89), `IPPROTO_PIM` (103), VRRP (112).
    public static let ospf = IPProtocol(rawValue: 89)
    public static let pim = IPProtocol(rawValue: 103)
    public static let vrrp = IPProtocol(rawValue: 112)
    /// C: `IPPROTO_SCTP`.
    public static let sctp = IPProtocol(rawValue: 132)
    /// IPv6 Mobility header (RFC 6275).
    public static let mobility = IPProtocol(rawValue: 135)
    /// Host Identity Protocol (RFC 7401) and Shim6 (RFC 5533): IPv6 extension headers.
    public static let hip = IPProtocol(rawValue: 139)
    public static let shim6 = IPProtocol(rawValue: 140)

    /// The `proto` name of `../shared/spec/flow-records.md`, or the number as a string.
    public var name: String {
        switch rawValue {
        case 1: "icmp"
        case 6: "tcp"
        case 17: "udp"
        case 47: "gre"
        case 50: "esp"
        case 58: "icmpv6"
        case 132: "sctp"
        default: String(rawValue)
        }
    }

    /// Whether the flow key carries ports for this protocol (TCP, UDP, SCTP); ICMP carries its
    /// type and code in their place, as Zeek does.
    @inlinable public var hasPorts: Bool { rawValue == 6 || rawValue == 17 || rawValue == 132 }

    public var description: String { name }
}
