/// An IPv6 header (RFC 8200 §3) with its extension headers (§4), parsed from the start of a span.
///
///      0                   1                   2                   3
///      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///     +-------+---------------+---------------------------------------+
///     |Version| Traffic Class |           Flow Label                  |
///     +-------+---------------+-------+---------------+---------------+
///     |         Payload Length        |  Next Header  |   Hop Limit   |
///     +-------------------------------+---------------+---------------+
///     |                 Source Address (128 bits)                     |
///     |              Destination Address (128 bits)                   |
///
/// Extension headers walked: Hop-by-Hop (0), Routing (43), Fragment (44), Destination Options (60),
/// Authentication (51, RFC 4302: length in 4-byte units), Mobility (135), HIP (139), Shim6 (140).
/// The walk stops at any other next header (the upper layer: TCP, UDP, ICMPv6, ESP, No Next Header,
/// ...) and after a non-first fragment's Fragment header, whose following bytes are not headers.
///
/// Contract: validated: version 6, 40 bytes captured, every extension header inside the payload
/// length, at most 16 extension headers (`.badExtensionChain` otherwise). An extension header cut by
/// the capture's snap length (not by the payload length) ends the walk: the packet keeps its
/// addresses, with no transport header.
/// Tolerated: payload beyond the captured bytes (clamped, `.ipv6Truncated` noted), a payload length
/// of 0 followed by a Hop-by-Hop header (jumbogram or BIG TCP offload: the captured length is used,
/// `.ipv6PayloadLengthZero` noted).
public struct IPv6Header: Hashable, Sendable {
    /// 40 plus the extension headers walked.
    public var headerLength: Int
    /// 40 + payload length, as claimed (or as captured when the header says 0).
    public var totalLength: Int
    public var hopLimit: UInt8
    /// The protocol after the extension headers.
    public var protocolNumber: IPProtocol
    public var source: IPAddress
    public var destination: IPAddress
    public var isFragment: Bool
    public var fragmentOffset: Int
    public var moreFragments: Bool
    public var fragmentIdentification: UInt32
    /// Where the upper-layer payload lives in the parsed span, clamped to the captured bytes.
    public var payload: Range<Int>

    public static let fixedLength = 40
    public static let maximumExtensionHeaders = 16
}

extension IPv6Header {
    @inlinable
    public init(parsing bytes: Span<UInt8>, anomalies: inout Anomalies) throws(WireError) {
        guard bytes.count >= Self.fixedLength else {
            throw .truncated(.ipv6, need: Self.fixedLength, have: bytes.count)
        }
        guard bytes[0] >> 4 == 6 else { throw WireError(.ipv6, .unexpectedVersion) }
        var claimed = Self.fixedLength &+ Int(bytes.be16(4))
        if claimed == Self.fixedLength && bytes.count > Self.fixedLength && bytes[6] == 0 {
            // A jumbogram (RFC 2675) or a BIG TCP super-packet: the real length is in a Hop-by-Hop
            // option; trust what was captured.
            anomalies.note(.ipv6PayloadLengthZero)
            claimed = bytes.count
        }
        if claimed > bytes.count { anomalies.note(.ipv6Truncated) }
        let end = min(claimed, bytes.count)

        var next = bytes[6]
        var offset = Self.fixedLength
        var isFragment = false, moreFragments = false
        var fragmentOffset = 0
        var fragmentID: UInt32 = 0
        var walked = 0
        var truncatedChain = false
        walk: while true {
            switch next {
            case 0, 43, 60, 135, 139, 140, 51:
                walked &+= 1
                guard walked <= Self.maximumExtensionHeaders else {
                    anomalies.note(.ipv6ExtensionChainTooLong)
                    throw WireError(.ipv6, .badExtensionChain, at: offset)
                }
                guard offset &+ 2 <= end else {
                    if end < claimed { truncatedChain = true; break walk }
                    throw WireError(.ipv6, .badExtensionChain, at: offset)
                }
                let length = next == 51 ? (Int(bytes[offset &+ 1]) &+ 2) &* 4 : (Int(bytes[offset &+ 1]) &+ 1) &* 8
                guard offset &+ length <= end else {
                    if end < claimed && offset &+ length <= claimed { truncatedChain = true; break walk }
                    throw WireError(.ipv6, .badExtensionChain, at: offset)
                }
                next = bytes[offset]
                offset &+= length
            case 44:
                walked &+= 1
                guard walked <= Self.maximumExtensionHeaders, offset &+ 8 <= end else {
                    if walked <= Self.maximumExtensionHeaders && end < claimed && offset &+ 8 <= claimed {
                        truncatedChain = true
                        break walk
                    }
                    throw WireError(.ipv6, .badExtensionChain, at: offset)
                }
                let offsetFlags = bytes.be16(offset &+ 2)
                isFragment = true
                fragmentOffset = Int(offsetFlags & 0xFFF8)
                moreFragments = offsetFlags & 1 != 0
                fragmentID = bytes.be32(offset &+ 4)
                next = bytes[offset]
                offset &+= 8
                if fragmentOffset != 0 { break walk }
            default:
                break walk
            }
        }
        // A snapped capture may cut the chain: the packet still counts, its upper layer is unknown
        // (`protocolNumber` is the header where the capture ended) and it has no transport header.
        self.headerLength = truncatedChain ? end : offset
        self.totalLength = claimed
        self.hopLimit = bytes[7]
        self.protocolNumber = IPProtocol(rawValue: next)
        self.source = bytes.ipv6Address(8)
        self.destination = bytes.ipv6Address(24)
        self.isFragment = isFragment
        self.fragmentOffset = fragmentOffset
        self.moreFragments = moreFragments
        self.fragmentIdentification = fragmentID
        self.payload = truncatedChain ? end..<end : offset..<end
    }
}
