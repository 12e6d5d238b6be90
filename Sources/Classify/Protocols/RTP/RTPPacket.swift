import Wire
/// An RTP header (RFC 3550 §5.1).
///
///      0                   1                   2                   3
///     |V=2|P|X|  CC   |M|     PT      |       sequence number         |
///     |                           timestamp                           |
///     |           synchronization source (SSRC) identifier            |
///     |            contributing source (CSRC) identifiers (CC)        |
///
/// Contract: nil unless version is 2, the CSRC list and (when X is set) the extension header fit
/// the datagram, and the payload type is not one RTCP would collide with (72–76, RFC 5761 §4).
/// Never traps.
public struct RTPHeader: Sendable, Equatable {
    public var payloadType: UInt8
    public var marker: Bool
    public var sequence: UInt16
    public var timestamp: UInt32
    public var ssrc: UInt32
    public var headerLength: Int

    public init?(parsing b: Span<UInt8>) {
        guard b.count >= 12, b[0] >> 6 == 2 else { return nil }
        let csrcCount = Int(b[0] & 0x0F)
        var length = 12 &+ 4 &* csrcCount
        guard b.count >= length else { return nil }
        if b[0] & 0x10 != 0 {
            guard b.has(4, at: length) else { return nil }
            length &+= 4 &+ 4 &* Int(b.be16(length &+ 2))
            guard b.count >= length else { return nil }
        }
        payloadType = b[1] & 0x7F
        guard !(72...76).contains(payloadType) else { return nil }
        marker = b[1] & 0x80 != 0
        sequence = b.be16(2)
        timestamp = b.be32(4)
        ssrc = b.be32(8)
        headerLength = length
    }

    /// Whether `next` plausibly follows `self` in one stream (same source and payload type,
    /// sequence a little ahead).
    public func isFollowed(by next: RTPHeader) -> Bool {
        let step = next.sequence &- sequence
        return next.ssrc == ssrc && next.payloadType == payloadType && step >= 1 && step <= 100
    }
}

/// An RTCP compound packet (RFC 3550 §6.1): packets of `V=2 P RC(5) PT(8) length(16)`, length in
/// 32-bit words minus one, which together fill the datagram (an SRTCP trailer of 14 bytes may
/// follow, RFC 3711 §3.4).
///
/// Contract: `isCompound` is true only when every packet is version 2 with an RTCP type (192–223)
/// and the lengths add up exactly. Never traps.
public enum RTCPPacket {
    public static func types(_ b: Span<UInt8>) -> [UInt8]? {
        var at = 0
        var types: [UInt8] = []
        while at &+ 4 <= b.count {
            guard b[at] >> 6 == 2, (192...223).contains(b[at &+ 1]) else { break }
            types.append(b[at &+ 1])
            at &+= 4 &* (Int(b.be16(at &+ 2)) &+ 1)
        }
        guard !types.isEmpty, at == b.count || b.count &- at == 14 || b.count &- at == 4 else { return nil }
        return types
    }
}
