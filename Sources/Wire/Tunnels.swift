/// A GRE header (RFC 2784, key and sequence from RFC 2890; version 1 is PPTP's enhanced GRE, RFC 2637).
///
///      0                   1                   2                   3
///      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///     +-+-+-+-+-------------+---------+-------------------------------+
///     |C| |K|S| Reserved0   | Ver     |         Protocol Type         |
///     +-+-+-+-+-------------+---------+-------------------------------+
///     |      Checksum (optional)      |       Reserved1 (optional)    |
///     |                         Key (optional)                        |
///     |                 Sequence Number (optional)                    |
///     |           Acknowledgment Number (version 1, optional)         |
///
/// Contract: throws unless the base header and every optional field its flags announce are present
/// and the version is 0 or 1. `protocolType` is returned as is; the caller decides what it carries.
public struct GREHeader: Hashable, Sendable {
    public var version: UInt8
    public var protocolType: EtherType
    public var hasSequence: Bool
    public var headerLength: Int
}

extension GREHeader {
    @inlinable
    public init(parsing bytes: Span<UInt8>) throws(WireError) {
        guard bytes.count >= 4 else { throw .truncated(.gre, need: 4, have: bytes.count) }
        let flags = bytes[0]
        let version = bytes[1] & 0x07
        guard version <= 1 else { throw WireError(.gre, .unexpectedVersion, at: 1) }
        var length = 4
        if flags & 0x80 != 0 { length &+= 4 }          // checksum present
        if flags & 0x20 != 0 { length &+= 4 }          // key present
        if flags & 0x10 != 0 { length &+= 4 }          // sequence number present
        if version == 1 && bytes[1] & 0x80 != 0 { length &+= 4 } // PPTP acknowledgment present
        guard bytes.count >= length else { throw .truncated(.gre, need: length, have: bytes.count) }
        self.version = version
        self.protocolType = EtherType(rawValue: bytes.be16(2))
        self.hasSequence = flags & 0x10 != 0
        self.headerLength = length
    }
}

/// Headers of the UDP tunnels whose inner packets become flows of their own. Each returns where the
/// inner packet starts (relative to the UDP payload) and how to decode it, or nil when the bytes do
/// not look like that tunnel — ports only suggest a tunnel, the header must agree.
public enum UDPTunnel {
    /// VXLAN (RFC 7348 §5): 8 bytes, the I flag (0x08) set; an Ethernet frame follows.
    @inlinable
    public static func vxlan(_ p: Span<UInt8>) -> (Int, DecodedPacket.Start)? {
        guard p.count >= 8 + 14, p[0] & 0x08 != 0 else { return nil }
        return (8, .ethernet)
    }

    /// GENEVE (RFC 8926 §3.4): version 0, options length in 4-byte words, protocol type 0x6558
    /// (Ethernet) or an IP EtherType.
    @inlinable
    public static func geneve(_ p: Span<UInt8>) -> (Int, DecodedPacket.Start)? {
        guard p.count >= 8, p[0] >> 6 == 0 else { return nil }
        let length = 8 &+ Int(p[0] & 0x3F) &* 4
        guard p.count > length else { return nil }
        switch p.be16(2) {
        case 0x6558: return (length, .ethernet)
        case 0x0800, 0x86DD: return (length, .ip)
        default: return nil
        }
    }

    /// GTP-U (3GPP TS 29.281 §5): version 1, protocol type 1, message type 255 (G-PDU); the optional
    /// sequence/N-PDU/extension fields when any of E, S, PN is set; then the extension header chain
    /// (each header's length is in 4-byte units, its last byte names the next type). An IP packet follows.
    @inlinable
    public static func gtpU(_ p: Span<UInt8>) -> (Int, DecodedPacket.Start)? {
        guard p.count >= 8 else { return nil }
        let flags = p[0]
        guard flags >> 5 == 1, flags & 0x10 != 0, p[1] == 0xFF else { return nil }
        var offset = 8
        if flags & 0x07 != 0 {
            guard p.count >= 12 else { return nil }
            var nextType = p[11]
            offset = 12
            var hops = 0
            while nextType != 0 && flags & 0x04 != 0 {
                hops &+= 1
                guard hops <= 8, p.count > offset else { return nil }
                let length = Int(p[offset]) &* 4
                guard length > 0, p.count >= offset &+ length else { return nil }
                nextType = p[offset &+ length &- 1]
                offset &+= length
            }
        }
        guard p.count > offset, p[offset] >> 4 == 4 || p[offset] >> 4 == 6 else { return nil }
        return (offset, .ip)
    }

    /// Teredo (RFC 4380 §5.1.1): an IPv6 packet, optionally preceded by an authentication indicator
    /// (type 0x0001) and/or an origin indication (type 0x0000, 8 bytes). The inner IPv6 header's
    /// payload length must match the datagram, so ordinary traffic on port 3544 is not mistaken for it.
    @inlinable
    public static func teredo(_ p: Span<UInt8>) -> (Int, DecodedPacket.Start)? {
        var offset = 0
        if p.count >= 4 && p[0] == 0 && p[1] == 1 {
            let idLength = Int(p[2]), authLength = Int(p[3])
            offset = 4 &+ idLength &+ authLength &+ 9
        }
        if p.has(8, at: offset) && p[offset] == 0 && p[offset &+ 1] == 0 { offset &+= 8 }
        guard p.has(40, at: offset), p[offset] >> 4 == 6 else { return nil }
        guard 40 &+ Int(p.be16(offset &+ 4)) == p.count &- offset else { return nil }
        return (offset, .ip)
    }

    /// CAPWAP data (RFC 5415 §4.3): preamble version 0 type 0 (type 1 is DTLS, encrypted), header
    /// length HLEN in 4-byte words, and the T bit: a native frame of the wireless binding (802.11 when
    /// WBID is 1) or an 802.3 frame. Fragments after the first cannot be decoded alone.
    @inlinable
    public static func capwap(_ p: Span<UInt8>) -> (Int, DecodedPacket.Start)? {
        guard p.count >= 8, p[0] == 0 else { return nil }
        let length = Int(p[1] >> 3) &* 4
        guard length >= 8, p.count > length else { return nil }
        let fragmentOffset = Int(p.be16(6) >> 3)
        guard p[3] & 0x80 == 0 || fragmentOffset == 0 else { return nil }
        let wirelessBinding = (p[2] >> 1) & 0x1F
        if p[2] & 0x01 == 0 { return (length, .ethernet) }
        return wirelessBinding == 1 ? (length, .ieee80211) : nil
    }
}
