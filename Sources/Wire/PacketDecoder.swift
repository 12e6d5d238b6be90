/// The fixed decoding stack: link layer → IPv4/IPv6 → TCP, UDP, ICMP, ICMPv6, SCTP, GRE, IP-in-IP.
///
/// Contract: `decode` either throws a `WireError` (the frame cannot belong to a flow: the reason is
/// counted by the caller), or returns with `packet.ipVersion == 0` (a frame that is not IP, named by
/// `packet.etherType`), or with an IP packet decoded as far as the captured bytes allow. Ports are
/// read whenever their 4 bytes are present, even when the rest of the transport header is missing or
/// inconsistent (`transportComplete` tells which). A non-first fragment has no transport header.
/// Tunnels are reported (`tunnel`, `innerOffset`, `innerStart`), not followed: the caller decodes the
/// inner packet with another call, so nesting depth stays the caller's decision.
///
/// Nothing here allocates, and no byte outside the frame is read.
public struct PacketDecoder: Sendable {
    /// Whether UDP and GRE/IP-in-IP encapsulations are reported as tunnels.
    public var decodeTunnels = true
    /// UDP ports that suggest a tunnel; the header must still look right (`UDPTunnel`).
    public var vxlanPort: UInt16 = 4789
    public var genevePort: UInt16 = 6081
    public var gtpUPort: UInt16 = 2152
    public var teredoPort: UInt16 = 3544
    /// CAPWAP data channel (RFC 5415 §3.1): wireless access points tunnel their clients' frames to
    /// the controller.
    public var capwapDataPort: UInt16 = 5247

    public init() {}

    @inlinable
    public func decode(_ f: Span<UInt8>, start: DecodedPacket.Start, into p: inout DecodedPacket,
                       anomalies: inout Anomalies) throws(WireError) {
        p.hasMACs = false
        p.vlanOuter = DecodedPacket.noVLAN
        p.vlanInner = DecodedPacket.noVLAN
        p.ipVersion = 0
        p.isFragment = false
        p.hasPorts = false
        p.transportComplete = false
        p.sourcePort = 0
        p.destinationPort = 0
        p.tcpFlags = TCPFlags(rawValue: 0)
        p.payloadLength = 0
        p.payloadCaptured = 0
        p.tunnel = .none

        let (offset, type) = try link(f, start: start, into: &p, anomalies: &anomalies)
        p.etherType = type
        guard type == .ipv4 || type == .ipv6 else { return }
        try network(f, at: offset, into: &p, anomalies: &anomalies)
    }

    @inlinable
    func link(_ f: Span<UInt8>, start: DecodedPacket.Start, into p: inout DecodedPacket,
              anomalies: inout Anomalies) throws(WireError) -> (Int, EtherType) {
        switch start {
        case .ethernet: return try LinkLayer.ethernet(f, at: 0, into: &p, anomalies: &anomalies)
        case .ip: return Self.sniffIP(f, at: 0)
        case .ppp: return try LinkLayer.ppp(f, at: 0)
        case .ieee80211: return try LinkLayer.ieee80211(f, at: 0, into: &p, anomalies: &anomalies)
        case .link(let linkType):
            switch linkType.rawValue {
            case 1: return try LinkLayer.ethernet(f, at: 0, into: &p, anomalies: &anomalies)
            case 113: return try LinkLayer.linuxSLL(f, at: 0, version: 1, into: &p, anomalies: &anomalies)
            case 276: return try LinkLayer.linuxSLL(f, at: 0, version: 2, into: &p, anomalies: &anomalies)
            case 12, 14, 101: return Self.sniffIP(f, at: 0)
            case 228: return (0, .ipv4)
            case 229: return (0, .ipv6)
            case 0: return try LinkLayer.null(f, at: 0, bigEndian: nil)
            case 108: return try LinkLayer.null(f, at: 0, bigEndian: true)
            case 9, 50: return try LinkLayer.ppp(f, at: 0)
            case 104: return try LinkLayer.ciscoHDLC(f, at: 0, anomalies: &anomalies)
            case 105: return try LinkLayer.ieee80211(f, at: 0, into: &p, anomalies: &anomalies)
            case 127: return try LinkLayer.radiotap(f, at: 0, into: &p, anomalies: &anomalies)
            case 192:
                let (offset, inner) = try LinkLayer.ppi(f, at: 0)
                switch inner.rawValue {
                case 1: return try LinkLayer.ethernet(f, at: offset, into: &p, anomalies: &anomalies)
                case 105: return try LinkLayer.ieee80211(f, at: offset, into: &p, anomalies: &anomalies)
                case 127: return try LinkLayer.radiotap(f, at: offset, into: &p, anomalies: &anomalies)
                case 12, 14, 101: return Self.sniffIP(f, at: offset)
                case 228: return (offset, .ipv4)
                case 229: return (offset, .ipv6)
                default: throw WireError(.link, .unsupportedLinkType, at: offset)
                }
            default:
                throw WireError(.link, .unsupportedLinkType)
            }
        }
    }

    /// Raw IP: the version nibble decides.
    @inlinable
    static func sniffIP(_ f: Span<UInt8>, at offset: Int) -> (Int, EtherType) {
        guard f.has(1, at: offset) else { return (offset, .unknown) }
        switch f[offset] >> 4 {
        case 4: return (offset, .ipv4)
        case 6: return (offset, .ipv6)
        default: return (offset, .unknown)
        }
    }

    @inlinable
    func network(_ f: Span<UInt8>, at offset: Int, into p: inout DecodedPacket,
                 anomalies: inout Anomalies) throws(WireError) {
        guard f.has(1, at: offset) else { throw .truncated(p.etherType == .ipv6 ? .ipv6 : .ipv4, need: 20, have: 0, at: offset) }
        let version = f[offset] >> 4
        if (version == 4) != (p.etherType == .ipv4) { anomalies.note(.ipVersionMismatch) }
        let ipBytes = f.extracting(offset...)
        p.networkOffset = offset
        if version == 6 {
            do { fill(&p, try IPv6Header(parsing: ipBytes, anomalies: &anomalies), version: 6) }
            catch { throw error.shifted(by: offset) }
        } else {
            do { fill(&p, try IPv4Header(parsing: ipBytes, anomalies: &anomalies), version: 4) }
            catch { throw error.shifted(by: offset) }
        }
        let transportStart = offset &+ p.ipHeaderLength
        let capturedEnd = offset &+ p.ipPayloadEnd
        let claimedPayload = p.ipTotalLength &- p.ipHeaderLength
        p.transportOffset = transportStart
        p.payloadOffset = transportStart
        p.payloadLength = claimedPayload
        p.payloadCaptured = max(0, capturedEnd &- transportStart)
        if p.isFragment && p.fragmentOffset != 0 { return }
        transport(f, from: transportStart, to: max(transportStart, capturedEnd), claimed: claimedPayload,
                  into: &p, anomalies: &anomalies)
    }

    @inlinable @inline(__always)
    func fill(_ p: inout DecodedPacket, _ h: some IPHeaderFields, version: UInt8) {
        p.ipVersion = version
        p.source = h.source
        p.destination = h.destination
        p.ipHeaderLength = h.headerLength
        p.ipTotalLength = h.totalLength
        p.ipPayloadEnd = h.payload.upperBound
        p.protocolNumber = h.protocolNumber
        p.ttl = h.hopLimit
        p.isFragment = h.isFragment
        p.fragmentOffset = h.fragmentOffset
        p.moreFragments = h.moreFragments
        p.fragmentID = h.fragmentIdentification
    }

    @inlinable
    func transport(_ f: Span<UInt8>, from start: Int, to end: Int, claimed: Int, into p: inout DecodedPacket,
                   anomalies: inout Anomalies) {
        let seg = f.extracting(start..<end)
        switch p.protocolNumber.rawValue {
        case 6:
            guard seg.count >= 4 else { anomalies.note(.tcpHeaderTruncated); return }
            p.sourcePort = seg.be16(0)
            p.destinationPort = seg.be16(2)
            p.hasPorts = true
            do {
                let h = try TCPHeader(parsing: seg, segmentLength: claimed)
                p.tcpFlags = h.flags
                p.tcpSequence = h.sequence
                p.tcpAcknowledgment = h.acknowledgment
                p.tcpWindow = h.window
                p.payloadOffset = start &+ h.headerLength
                p.payloadLength = claimed &- h.headerLength
                p.payloadCaptured = seg.count &- h.headerLength
                p.transportComplete = true
            } catch {
                anomalies.note(error.code == .truncated ? .tcpHeaderTruncated : .tcpHeaderLengthInvalid)
                p.payloadLength = 0
                p.payloadCaptured = 0
            }
        case 17:
            guard seg.count >= 4 else { anomalies.note(.udpHeaderTruncated); return }
            p.sourcePort = seg.be16(0)
            p.destinationPort = seg.be16(2)
            p.hasPorts = true
            guard let h = try? UDPHeader(parsing: seg, ipPayloadLength: claimed, isFirstFragment: p.isFragment) else {
                anomalies.note(.udpHeaderTruncated)
                p.payloadLength = 0
                p.payloadCaptured = 0
                return
            }
            if !h.lengthValid { anomalies.note(.udpLengthInvalid) }
            p.payloadOffset = start &+ 8
            p.payloadLength = h.payloadLength
            p.payloadCaptured = min(seg.count &- 8, h.payloadLength)
            p.transportComplete = true
            if decodeTunnels && !p.isFragment { udpTunnel(seg, at: start, into: &p) }
        case 1, 58:
            guard let h = try? ICMPHeader(parsing: seg) else { anomalies.note(.icmpTruncated); return }
            p.icmpType = h.type
            p.icmpCode = h.code
            p.hasPorts = true
            p.transportComplete = h.complete
            if !h.complete { anomalies.note(.icmpTruncated) }
            p.payloadOffset = start &+ min(8, seg.count)
            p.payloadLength = max(0, claimed &- 8)
            p.payloadCaptured = max(0, seg.count &- 8)
        case 132:
            // RFC 9260 §3.1: the common header starts with the two ports.
            guard seg.count >= 4 else { return }
            p.sourcePort = seg.be16(0)
            p.destinationPort = seg.be16(2)
            p.hasPorts = true
            p.transportComplete = seg.count >= 12
            p.payloadOffset = start &+ min(12, seg.count)
            p.payloadLength = max(0, claimed &- 12)
            p.payloadCaptured = max(0, seg.count &- 12)
        case 47:
            guard decodeTunnels, let h = try? GREHeader(parsing: seg) else { return }
            p.transportComplete = true
            var inner = start &+ h.headerLength
            let innerStart: DecodedPacket.Start
            switch h.protocolType.rawValue {
            case 0x0800, 0x86DD: innerStart = .ip
            case 0x6558: innerStart = .ethernet
            case 0x880B: innerStart = .ppp
            case 0x88BE:
                // ERSPAN type II carries an 8-byte header (and GRE sequence numbers); type I neither.
                if h.hasSequence { inner &+= 8 }
                innerStart = .ethernet
            case 0x22EB:
                // ERSPAN type III: 12 bytes, plus an 8-byte platform subheader when O (last bit) is set.
                guard f.has(12, at: inner) else { return }
                let optional = f[inner &+ 11] & 0x01 != 0
                inner &+= optional ? 20 : 12
                innerStart = .ethernet
            default: return
            }
            guard inner < end else { return }
            p.tunnel = .gre
            p.innerOffset = inner
            p.innerStart = innerStart
        case 4, 41:
            guard decodeTunnels, start < end else { return }
            p.tunnel = .ipInIP
            p.innerOffset = start
            p.innerStart = .ip
        default:
            break
        }
    }

    @inlinable
    func udpTunnel(_ seg: Span<UInt8>, at start: Int, into p: inout DecodedPacket) {
        guard seg.count > 8 else { return }
        let payload = seg.extracting(8...)
        let found: (Int, DecodedPacket.Start)?
        let kind: DecodedPacket.Tunnel
        if p.destinationPort == vxlanPort || p.sourcePort == vxlanPort {
            found = UDPTunnel.vxlan(payload); kind = .vxlan
        } else if p.destinationPort == genevePort || p.sourcePort == genevePort {
            found = UDPTunnel.geneve(payload); kind = .geneve
        } else if p.destinationPort == gtpUPort || p.sourcePort == gtpUPort {
            found = UDPTunnel.gtpU(payload); kind = .gtpU
        } else if p.destinationPort == teredoPort || p.sourcePort == teredoPort {
            found = UDPTunnel.teredo(payload); kind = .teredo
        } else if p.destinationPort == capwapDataPort || p.sourcePort == capwapDataPort {
            found = UDPTunnel.capwap(payload); kind = .capwap
        } else {
            return
        }
        guard let (offset, innerStart) = found else { return }
        p.tunnel = kind
        p.innerOffset = start &+ 8 &+ offset
        p.innerStart = innerStart
    }
}

extension WireError {
    /// The same error with its offset moved from a sub-span to the enclosing frame.
    @inlinable
    public func shifted(by delta: Int) -> WireError {
        var e = self
        e.offset &+= delta
        return e
    }
}

extension EtherType {
    /// A raw-IP frame whose first nibble is neither 4 nor 6.
    @inlinable public static var unknown: EtherType { EtherType(rawValue: 0xFFFF) }
}
