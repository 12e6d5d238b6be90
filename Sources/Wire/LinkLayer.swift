/// Link-layer headers: each finds where the network layer starts and which protocol it carries,
/// filling MAC addresses and VLAN ids into the packet on the way.
///
/// Contract for every function here: it throws `WireError` only when its own header is not all
/// captured; anything else (a protocol it does not know) is returned as an `EtherType` for the
/// caller to count as "not IP". Frame lengths are never trusted beyond the captured bytes.
public enum LinkLayer {
    /// How many VLAN tags and MPLS labels are followed before giving up (`vlan_stack_too_deep`).
    public static let maximumTags = 8

    /// Ethernet II / 802.3 (IEEE 802.3 §3.1), with any stack of 802.1Q/802.1ad tags, LLC/SNAP, MPLS
    /// label stacks and PPPoE sessions unwrapped to the protocol they carry.
    ///
    ///     | destination (6) | source (6) | [TPID 0x8100/0x88a8 TCI (4)]... | type or length (2) |
    @inlinable
    public static func ethernet(_ f: Span<UInt8>, at start: Int, into p: inout DecodedPacket,
                                anomalies: inout Anomalies) throws(WireError) -> (Int, EtherType) {
        guard f.has(14, at: start) else { throw .truncated(.ethernet, need: 14, have: f.count &- start, at: start) }
        p.hasMACs = true
        p.destinationMAC = f.mac(start)
        p.sourceMAC = f.mac(start &+ 6)
        var type = f.be16(start &+ 12)
        var offset = start &+ 14
        var tags = 0
        while type == 0x8100 || type == 0x88A8 || type == 0x9100 || type == 0x9200 {
            guard f.has(4, at: offset) else { throw .truncated(.vlan, need: 4, have: f.count &- offset, at: offset) }
            let id = f.be16(offset) & 0x0FFF
            if tags == 0 { p.vlanOuter = id } else if tags == 1 { p.vlanInner = id }
            tags &+= 1
            if tags > maximumTags {
                anomalies.note(.vlanStackTooDeep)
                throw WireError(.vlan, .tooDeep, at: offset)
            }
            type = f.be16(offset &+ 2)
            offset &+= 4
        }
        // IP, nearly every frame: no MPLS or PPPoE to unwrap.
        if type == 0x0800 || type == 0x86DD { return (offset, EtherType(rawValue: type)) }
        if type <= 1500 {
            // An 802.3 length: LLC follows. Only SNAP with a zero OUI carries an EtherType (RFC 1042).
            if f.has(8, at: offset) && f[offset] == 0xAA && f[offset &+ 1] == 0xAA && f[offset &+ 2] == 0x03
                && f[offset &+ 3] == 0 && f[offset &+ 4] == 0 && f[offset &+ 5] == 0 {
                type = f.be16(offset &+ 6)
                offset &+= 8
            } else {
                return (offset, .llc)
            }
        }
        return try afterEtherType(f, EtherType(rawValue: type), at: offset, anomalies: &anomalies)
    }

    /// Unwraps MPLS and PPPoE, which may sit between an EtherType and IP.
    @inlinable
    static func afterEtherType(_ f: Span<UInt8>, _ type: EtherType, at start: Int,
                               anomalies: inout Anomalies) throws(WireError) -> (Int, EtherType) {
        switch type.rawValue {
        case 0x8847, 0x8848:
            // RFC 3032 §2.1: 4-byte labels until the bottom-of-stack bit; the payload's first nibble
            // tells IPv4 from IPv6 (RFC 4928 relies on the same heuristic).
            var offset = start
            var labels = 0
            while true {
                guard f.has(4, at: offset) else { throw .truncated(.mpls, need: 4, have: f.count &- offset, at: offset) }
                let bottom = f[offset &+ 2] & 0x01 != 0
                offset &+= 4
                labels &+= 1
                if bottom { break }
                if labels > maximumTags {
                    anomalies.note(.mplsStackTooDeep)
                    throw WireError(.mpls, .tooDeep, at: offset)
                }
            }
            guard f.has(1, at: offset) else { throw .truncated(.mpls, need: 1, have: 0, at: offset) }
            switch f[offset] >> 4 {
            case 4: return (offset, .ipv4)
            case 6: return (offset, .ipv6)
            default: return (offset, .mplsUnicast)
            }
        case 0x8864:
            // RFC 2516 §4: a 6-byte PPPoE header, then a 2-byte PPP protocol.
            guard f.has(8, at: start) else { throw .truncated(.pppoe, need: 8, have: f.count &- start, at: start) }
            return (start &+ 8, pppProtocol(f.be16(start &+ 6)))
        default:
            return (start, type)
        }
    }

    /// Maps a PPP protocol number (RFC 1661, IANA "PPP DLL Protocol Numbers") to an EtherType.
    @inlinable
    static func pppProtocol(_ value: UInt16) -> EtherType {
        switch value {
        case 0x0021: .ipv4
        case 0x0057: .ipv6
        case 0x0281: .mplsUnicast
        default: .ppp
        }
    }

    /// PPP (RFC 1661 §2), with or without the RFC 1662 address/control bytes `ff 03` and with a
    /// compressed (1-byte, odd) or full (2-byte) protocol field (RFC 1661 §6.5).
    @inlinable
    public static func ppp(_ f: Span<UInt8>, at start: Int) throws(WireError) -> (Int, EtherType) {
        var offset = start
        if f.has(2, at: offset) && f[offset] == 0xFF && f[offset &+ 1] == 0x03 { offset &+= 2 }
        guard f.has(1, at: offset) else { throw .truncated(.ppp, need: 1, have: 0, at: offset) }
        if f[offset] & 0x01 != 0 {
            return (offset &+ 1, pppProtocol(UInt16(f[offset])))
        }
        guard f.has(2, at: offset) else { throw .truncated(.ppp, need: 2, have: f.count &- offset, at: offset) }
        return (offset &+ 2, pppProtocol(f.be16(offset)))
    }

    /// Linux cooked capture v1 (`LINKTYPE_LINUX_SLL`, 16 bytes):
    ///
    ///     | packet type (2) | ARPHRD type (2) | address length (2) | address (8) | protocol (2) |
    ///
    /// and v2 (`LINKTYPE_LINUX_SLL2`, 20 bytes):
    ///
    ///     | protocol (2) | reserved (2) | ifindex (4) | ARPHRD (2) | packet type (1) | addr len (1) | address (8) |
    ///
    /// The address is the sender's link-layer address; for Ethernet (ARPHRD 1, length 6) it is kept as
    /// the source MAC. The destination MAC is not recorded by cooked captures.
    @inlinable
    public static func linuxSLL(_ f: Span<UInt8>, at start: Int, version: Int, into p: inout DecodedPacket,
                                anomalies: inout Anomalies) throws(WireError) -> (Int, EtherType) {
        let length = version == 1 ? 16 : 20
        guard f.has(length, at: start) else {
            throw .truncated(.linuxSLL, need: length, have: f.count &- start, at: start)
        }
        let arphrd: UInt16, addressLength: Int, addressOffset: Int, proto: UInt16
        if version == 1 {
            arphrd = f.be16(start &+ 2)
            addressLength = Int(f.be16(start &+ 4))
            addressOffset = start &+ 6
            proto = f.be16(start &+ 14)
        } else {
            proto = f.be16(start)
            arphrd = f.be16(start &+ 8)
            addressLength = Int(f[start &+ 11])
            addressOffset = start &+ 12
        }
        if arphrd == 1 && addressLength == 6 {
            p.hasMACs = true
            p.sourceMAC = f.mac(addressOffset)
            p.destinationMAC = 0
        }
        let offset = start &+ length
        // Protocol values below 0x0600 are Linux's ETH_P_* pseudo-types (802.2 LLC, 802.3, CAN, ...).
        if proto < 0x0600 { return (offset, .llc) }
        if proto == 0x8100 || proto == 0x88A8 {
            // `tcpdump -i any` on a VLAN trunk: the tag follows the cooked header.
            guard f.has(4, at: offset) else { throw .truncated(.vlan, need: 4, have: f.count &- offset, at: offset) }
            p.vlanOuter = f.be16(offset) & 0x0FFF
            return try afterEtherType(f, EtherType(rawValue: f.be16(offset &+ 2)), at: offset &+ 4, anomalies: &anomalies)
        }
        return try afterEtherType(f, EtherType(rawValue: proto), at: offset, anomalies: &anomalies)
    }

    /// BSD loopback (`DLT_NULL`, host byte order) and OpenBSD `DLT_LOOP` (network order): a 4-byte
    /// address family. IPv4 is 2 everywhere; IPv6 is 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (macOS)
    /// or 10 (Linux).
    @inlinable
    public static func null(_ f: Span<UInt8>, at start: Int, bigEndian: Bool?) throws(WireError) -> (Int, EtherType) {
        guard f.has(4, at: start) else { throw .truncated(.null, need: 4, have: f.count &- start, at: start) }
        var family = bigEndian == true ? f.be32(start) : f.le32(start)
        if bigEndian == nil && family > 0xFFFF { family = f.be32(start) }  // written on a big-endian host
        switch family {
        case 2: return (start &+ 4, .ipv4)
        case 10, 24, 28, 30: return (start &+ 4, .ipv6)
        default: return (start &+ 4, EtherType(rawValue: UInt16(truncatingIfNeeded: family)))
        }
    }

    /// Cisco HDLC (`DLT_C_HDLC`): address (1), control (1), then an EtherType.
    @inlinable
    public static func ciscoHDLC(_ f: Span<UInt8>, at start: Int,
                                 anomalies: inout Anomalies) throws(WireError) -> (Int, EtherType) {
        guard f.has(4, at: start) else { throw .truncated(.link, need: 4, have: f.count &- start, at: start) }
        return try afterEtherType(f, EtherType(rawValue: f.be16(start &+ 2)), at: start &+ 4, anomalies: &anomalies)
    }

    /// An IEEE 802.11 data frame (IEEE 802.11-2020 §9.3.2.1) with an LLC/SNAP header (RFC 1042):
    ///
    ///     | frame control (2) | duration (2) | address 1 | address 2 | address 3 | sequence (2) |
    ///     | [address 4 when ToDS and FromDS] | [QoS control (2)] | [HT control (4)] | LLC/SNAP (8) | ...
    ///
    /// Management, control, null-data and protected (encrypted) frames are not IP (`.ieee80211`).
    /// Source and destination MACs follow the ToDS/FromDS bits.
    @inlinable
    public static func ieee80211(_ f: Span<UInt8>, at start: Int, into p: inout DecodedPacket,
                                 anomalies: inout Anomalies) throws(WireError) -> (Int, EtherType) {
        guard f.has(24, at: start) else { throw .truncated(.link, need: 24, have: f.count &- start, at: start) }
        let control = f[start], flags = f[start &+ 1]
        let type = (control >> 2) & 0x3, subtype = control >> 4
        guard type == 2, subtype & 0x4 == 0, flags & 0x40 == 0 else { return (start, .ieee80211) }
        let toDS = flags & 0x01 != 0, fromDS = flags & 0x02 != 0
        var offset = start &+ 24
        if toDS && fromDS { offset &+= 6 }
        if subtype & 0x8 != 0 {
            offset &+= 2
            if flags & 0x80 != 0 { offset &+= 4 }
        }
        let a1 = start &+ 4, a2 = start &+ 10, a3 = start &+ 16
        p.hasMACs = true
        switch (toDS, fromDS) {
        case (false, false): p.destinationMAC = f.mac(a1); p.sourceMAC = f.mac(a2)
        case (true, false): p.destinationMAC = f.mac(a3); p.sourceMAC = f.mac(a2)
        case (false, true): p.destinationMAC = f.mac(a1); p.sourceMAC = f.mac(a3)
        case (true, true): p.destinationMAC = f.mac(a3); p.sourceMAC = f.has(6, at: start &+ 24) ? f.mac(start &+ 24) : 0
        }
        guard f.has(8, at: offset), f[offset] == 0xAA, f[offset &+ 1] == 0xAA, f[offset &+ 2] == 0x03 else {
            return (offset, .llc)
        }
        return try afterEtherType(f, EtherType(rawValue: f.be16(offset &+ 6)), at: offset &+ 8, anomalies: &anomalies)
    }

    /// Radiotap (`DLT_IEEE802_11_RADIO`): version (1), pad (1), length (2, little endian), present
    /// flags ..., then an 802.11 frame.
    @inlinable
    public static func radiotap(_ f: Span<UInt8>, at start: Int, into p: inout DecodedPacket,
                                anomalies: inout Anomalies) throws(WireError) -> (Int, EtherType) {
        guard f.has(4, at: start) else { throw .truncated(.link, need: 4, have: f.count &- start, at: start) }
        let length = Int(f.le16(start &+ 2))
        guard length >= 8, f.has(length, at: start) else { throw .truncated(.link, need: length, have: f.count &- start, at: start) }
        return try ieee80211(f, at: start &+ length, into: &p, anomalies: &anomalies)
    }

    /// PPI (Per-Packet Information, `DLT_PPI`): version (1), flags (1), header length (2, little
    /// endian), the DLT of what follows (4, little endian), then fields, then that link layer.
    @inlinable
    public static func ppi(_ f: Span<UInt8>, at start: Int) throws(WireError) -> (Int, LinkType) {
        guard f.has(8, at: start) else { throw .truncated(.ppi, need: 8, have: f.count &- start, at: start) }
        let length = Int(f.le16(start &+ 2))
        guard length >= 8, f.has(length, at: start) else {
            throw .truncated(.ppi, need: length, have: f.count &- start, at: start)
        }
        return (start &+ length, LinkType(rawValue: f.le32(start &+ 4)))
    }
}
