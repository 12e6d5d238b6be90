/// A capture's link-layer header type: the `LINKTYPE_*` number a pcap or pcapng file records
/// (tcpdump.org/linktypes.html), an open set.
///
/// Raw IP has several numbers for historical reasons: `DLT_RAW` is 12 on most systems and 14 on OpenBSD,
/// files use `LINKTYPE_RAW` (101), and 228/229 mean "raw IPv4 only" / "raw IPv6 only".
public struct LinkType: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public var rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static func < (a: LinkType, b: LinkType) -> Bool { a.rawValue < b.rawValue }

    /// BSD loopback: a 4-byte address family in the capturing host's byte order. C: `DLT_NULL`.
    @inlinable public static var null: LinkType { LinkType(rawValue: 0) }
    /// Ethernet II / 802.3. C: `DLT_EN10MB`.
    @inlinable public static var ethernet: LinkType { LinkType(rawValue: 1) }
    /// PPP, RFC 1661 framing, optionally with HDLC address/control bytes. C: `DLT_PPP`.
    @inlinable public static var ppp: LinkType { LinkType(rawValue: 9) }
    /// Raw IP as written by most systems. C: `DLT_RAW` (Linux, macOS).
    @inlinable public static var rawDLT12: LinkType { LinkType(rawValue: 12) }
    /// Raw IP as written by OpenBSD. C: `DLT_RAW` (OpenBSD).
    @inlinable public static var rawDLT14: LinkType { LinkType(rawValue: 14) }
    /// PPP in HDLC-like framing (RFC 1662). C: `DLT_PPP_SERIAL`.
    @inlinable public static var pppHDLC: LinkType { LinkType(rawValue: 50) }
    /// Raw IP, the file-format number. C: `LINKTYPE_RAW`.
    @inlinable public static var raw: LinkType { LinkType(rawValue: 101) }
    /// Cisco HDLC. C: `DLT_C_HDLC`.
    @inlinable public static var ciscoHDLC: LinkType { LinkType(rawValue: 104) }
    /// IEEE 802.11 without radio information. C: `DLT_IEEE802_11`.
    @inlinable public static var ieee80211: LinkType { LinkType(rawValue: 105) }
    /// IEEE 802.11 with a radiotap header. C: `DLT_IEEE802_11_RADIO`.
    @inlinable public static var radiotap: LinkType { LinkType(rawValue: 127) }
    /// OpenBSD loopback: like `null` but always big-endian. C: `DLT_LOOP`.
    @inlinable public static var loop: LinkType { LinkType(rawValue: 108) }
    /// Linux "cooked" capture v1 (`tcpdump -i any`). C: `DLT_LINUX_SLL`.
    @inlinable public static var linuxSLL: LinkType { LinkType(rawValue: 113) }
    /// Per-Packet Information header before another link type. C: `DLT_PPI`.
    @inlinable public static var ppi: LinkType { LinkType(rawValue: 192) }
    /// Raw IPv4. C: `LINKTYPE_IPV4`.
    @inlinable public static var ipv4: LinkType { LinkType(rawValue: 228) }
    /// Raw IPv6. C: `LINKTYPE_IPV6`.
    @inlinable public static var ipv6: LinkType { LinkType(rawValue: 229) }
    /// Linux "cooked" capture v2 (newer `tcpdump -i any`). C: `DLT_LINUX_SLL2`.
    @inlinable public static var linuxSLL2: LinkType { LinkType(rawValue: 276) }

    /// Whether the decoder understands this link type.
    public var isSupported: Bool {
        switch rawValue {
        case 0, 1, 9, 12, 14, 50, 101, 104, 105, 108, 113, 127, 192, 228, 229, 276: true
        default: false
        }
    }

    /// A short stable name, as tcpdump and Wireshark's `capinfos` spell them where they agree.
    public var name: String {
        switch rawValue {
        case 0: "null"
        case 1: "ethernet"
        case 9: "ppp"
        case 12, 14, 101: "raw"
        case 50: "ppp_hdlc"
        case 104: "cisco_hdlc"
        case 108: "loop"
        case 113: "linux_sll"
        case 192: "ppi"
        case 228: "ipv4"
        case 229: "ipv6"
        case 276: "linux_sll2"
        case 105: "ieee802_11"
        case 127: "ieee802_11_radiotap"
        case 147...162: "user\(rawValue - 147)"
        default: "linktype_\(rawValue)"
        }
    }

    public var description: String { name }
}
