/// An EtherType (IEEE 802 numbers), an open set: unknown values are data, not errors.
public struct EtherType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// IPv4. C: `ETHERTYPE_IP`.
    @inlinable public static var ipv4: EtherType { EtherType(rawValue: 0x0800) }
    /// ARP. C: `ETHERTYPE_ARP`.
    @inlinable public static var arp: EtherType { EtherType(rawValue: 0x0806) }
    /// Reverse ARP. C: `ETHERTYPE_REVARP`.
    @inlinable public static var rarp: EtherType { EtherType(rawValue: 0x8035) }
    /// 802.1Q customer VLAN tag. C: `ETHERTYPE_VLAN`.
    @inlinable public static var vlan: EtherType { EtherType(rawValue: 0x8100) }
    /// 802.1ad service VLAN tag (QinQ outer tag).
    @inlinable public static var qinq: EtherType { EtherType(rawValue: 0x88A8) }
    /// Pre-standard QinQ tags still sent by some switches.
    @inlinable public static var qinqLegacy9100: EtherType { EtherType(rawValue: 0x9100) }
    @inlinable public static var qinqLegacy9200: EtherType { EtherType(rawValue: 0x9200) }
    /// IPv6. C: `ETHERTYPE_IPV6`.
    @inlinable public static var ipv6: EtherType { EtherType(rawValue: 0x86DD) }
    /// MPLS unicast and multicast.
    @inlinable public static var mplsUnicast: EtherType { EtherType(rawValue: 0x8847) }
    @inlinable public static var mplsMulticast: EtherType { EtherType(rawValue: 0x8848) }
    /// PPPoE discovery and session stages (RFC 2516).
    @inlinable public static var pppoeDiscovery: EtherType { EtherType(rawValue: 0x8863) }
    @inlinable public static var pppoeSession: EtherType { EtherType(rawValue: 0x8864) }
    /// Link Layer Discovery Protocol.
    @inlinable public static var lldp: EtherType { EtherType(rawValue: 0x88CC) }
    /// Transparent Ethernet bridging, as carried in GRE (NVGRE, EoGRE).
    @inlinable public static var transparentEthernet: EtherType { EtherType(rawValue: 0x6558) }
    /// ERSPAN type II and type III, carried in GRE.
    @inlinable public static var erspanTypeII: EtherType { EtherType(rawValue: 0x88BE) }
    @inlinable public static var erspanTypeIII: EtherType { EtherType(rawValue: 0x22EB) }
    /// PPP, as carried in PPTP's enhanced GRE.
    @inlinable public static var ppp: EtherType { EtherType(rawValue: 0x880B) }
    /// EAP over LAN (802.1X).
    @inlinable public static var eapol: EtherType { EtherType(rawValue: 0x888E) }
    /// 802.1AE MACsec.
    @inlinable public static var macsec: EtherType { EtherType(rawValue: 0x88E5) }
    /// Wake-on-LAN magic packets.
    @inlinable public static var wakeOnLAN: EtherType { EtherType(rawValue: 0x0842) }
    /// Cisco's loopback test frames (ECTP / "LOOP").
    @inlinable public static var loopback: EtherType { EtherType(rawValue: 0x9000) }
    /// Precision Time Protocol over Ethernet.
    @inlinable public static var ptp: EtherType { EtherType(rawValue: 0x88F7) }
    /// Novell IPX.
    @inlinable public static var ipx: EtherType { EtherType(rawValue: 0x8137) }
    /// HomePlug / IEEE 1905.1 and friends are left to their numbers.

    /// A pseudo-value for 802.11 frames that carry no LLC payload (management, control, null data,
    /// encrypted).
    @inlinable public static var ieee80211: EtherType { EtherType(rawValue: 0xFFFE) }

    /// A pseudo-value for 802.3 frames whose type field is a length (≤ 1500): LLC/SNAP, STP, CDP, ...
    @inlinable public static var llc: EtherType { EtherType(rawValue: 0x0000) }

    /// The stable name used in summaries (`frames skipped: arp 12, lldp 3`).
    public var name: String {
        switch rawValue {
        case 0x0800: "ipv4"
        case 0x0806: "arp"
        case 0x8035: "rarp"
        case 0x8100: "vlan"
        case 0x88A8, 0x9100, 0x9200: "qinq"
        case 0x86DD: "ipv6"
        case 0x8847, 0x8848: "mpls"
        case 0x8863: "pppoe_discovery"
        case 0x8864: "pppoe_session"
        case 0x88CC: "lldp"
        case 0x6558: "transparent_ethernet"
        case 0x88BE, 0x22EB: "erspan"
        case 0x880B: "ppp"
        case 0x888E: "eapol"
        case 0x88E5: "macsec"
        case 0x0842: "wake_on_lan"
        case 0x9000: "loopback"
        case 0x88F7: "ptp"
        case 0x8137, 0x8138: "ipx"
        case 0x0000: "llc"
        case 0x893A: "ieee1905"
        case 0x88E1, 0x887B: "homeplug"
        case 0x8809: "slow_protocols"
        case 0x88E3: "mrp"
        case 0x8899: "realtek"
        case 0x22F3: "trill"
        case 0xFFFF: "unknown"
        case 0xFFFE: "ieee80211_not_data"
        default: "ethertype_0x" + hex4(rawValue)
        }
    }

    public var description: String { name }
}

/// Four lower-case hex digits, without Foundation (`"1301"`: fingerprints, versions, names of
/// unknown codes). Four ASCII bytes make a small string: no allocation.
package func hex4(_ value: UInt16) -> String {
    var bytes: InlineArray<4, UInt8> = InlineArray(repeating: 0)
    for i in 0..<4 {
        let nibble = UInt8(truncatingIfNeeded: value >> UInt16(12 &- 4 &* i)) & 0xF
        bytes[i] = nibble < 10 ? 0x30 &+ nibble : 0x57 &+ nibble
    }
    // Hex digits are ASCII: validation cannot fail.
    guard let text = try? UTF8Span(validating: bytes.span) else { return "" }
    return String(copying: text)
}
