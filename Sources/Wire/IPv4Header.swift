/// An IPv4 header (RFC 791 §3.1), parsed from the start of a byte span.
///
///      0                   1                   2                   3
///      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///     +-------+-------+---------------+-------------------------------+
///     |Version|  IHL  |    DSCP/ECN   |          Total Length         |
///     +-------+-------+---------------+-----+-------------------------+
///     |         Identification        |Flags|     Fragment Offset     |
///     +---------------+---------------+-----+-------------------------+
///     |      TTL      |    Protocol   |        Header Checksum        |
///     +---------------+---------------+-------------------------------+
///     |                        Source Address                         |
///     |                      Destination Address                      |
///     |                    Options (IHL > 5) ...                      |
///
/// Contract: `init(parsing:)` either throws, or returns a header whose `headerLength` bytes were
/// present. Validated: version 4, IHL ≥ 5, the whole header captured, total length ≥ header length.
/// Tolerated (lax, because passive captures are routinely snapped and offloaded): a total length
/// beyond the captured bytes (`payload` is clamped, `.ipv4Truncated` noted), a total length of 0
/// (TCP segmentation offload; the captured length is used, `.ipv4TotalLengthZero` noted), trailing
/// bytes after the packet (Ethernet padding). The checksum is not verified.
public struct IPv4Header: Hashable, Sendable {
    public var headerLength: Int
    /// As claimed by the header, or the captured length when the header says 0.
    public var totalLength: Int
    public var identification: UInt16
    public var dontFragment: Bool
    public var moreFragments: Bool
    /// In bytes (the header counts 8-byte units).
    public var fragmentOffset: Int
    public var ttl: UInt8
    public var protocolNumber: IPProtocol
    /// The addresses' 32 bits, kept as read: as `IPAddress` values (two 8-byte halves) they were
    /// stored to the stack here and read back as one 16-byte copy into the decoded packet, which
    /// the CPU cannot forward from two stores — a stall on every IPv4 packet (perf: ~40% of the
    /// decoder's `network` step). Built into addresses where they are used, from registers.
    public var sourceBits: UInt32
    public var destinationBits: UInt32
    public var source: IPAddress { IPAddress(ipv4: sourceBits) }
    public var destination: IPAddress { IPAddress(ipv4: destinationBits) }
    /// Where the payload lives in the parsed span, clamped to the captured bytes.
    public var payload: Range<Int>

    public static let minimumLength = 20

    enum Field {
        static let versionIHL = 0, totalLength = 2, identification = 4, flagsFragment = 6
        static let ttl = 8, proto = 9, source = 12, destination = 16
    }

    @inlinable public var isFragment: Bool { moreFragments || fragmentOffset != 0 }
}

/// What the decoder takes from either IP version's header.
public protocol IPHeaderFields {
    var headerLength: Int { get }
    var totalLength: Int { get }
    var protocolNumber: IPProtocol { get }
    var source: IPAddress { get }
    var destination: IPAddress { get }
    var isFragment: Bool { get }
    var fragmentOffset: Int { get }
    var moreFragments: Bool { get }
    /// IPv4 identification or IPv6 fragment identification.
    var fragmentIdentification: UInt32 { get }
    /// TTL or hop limit.
    var hopLimit: UInt8 { get }
    /// Where the upper-layer payload is in the parsed bytes, clamped to what was captured.
    var payload: Range<Int> { get }
}

extension IPv4Header: IPHeaderFields {
    @inlinable public var fragmentIdentification: UInt32 { UInt32(identification) }
    @inlinable public var hopLimit: UInt8 { ttl }
}

extension IPv6Header: IPHeaderFields {}

extension IPv4Header {
    /// Parses the header at the start of `bytes`.
    /// - Throws: `WireError` with layer `.ipv4`, offsets relative to `bytes`.
    @inlinable
    @inline(__always)
    public init(parsing bytes: Span<UInt8>, anomalies: inout Anomalies) throws(WireError) {
        guard bytes.count >= Self.minimumLength else {
            throw .truncated(.ipv4, need: Self.minimumLength, have: bytes.count)
        }
        let versionIHL = bytes[0]
        guard versionIHL >> 4 == 4 else { throw WireError(.ipv4, .unexpectedVersion) }
        let ihl = Int(versionIHL & 0x0F) &* 4
        guard ihl >= Self.minimumLength else { throw WireError(.ipv4, .headerLengthTooSmall) }
        guard bytes.count >= ihl else { throw .truncated(.ipv4, need: ihl, have: bytes.count) }

        var claimed = Int(bytes.be16(2))
        if claimed == 0 {
            // TCP segmentation offload: the kernel hands the capture a super-packet before the NIC
            // fills in the length. Trust what was captured.
            anomalies.note(.ipv4TotalLengthZero)
            claimed = bytes.count
        }
        guard claimed >= ihl else { throw WireError(.ipv4, .totalLengthBelowHeader, at: 2) }
        if claimed > bytes.count { anomalies.note(.ipv4Truncated) }

        let flagsFragment = bytes.be16(6)
        self.headerLength = ihl
        self.totalLength = claimed
        self.identification = bytes.be16(4)
        self.dontFragment = flagsFragment & 0x4000 != 0
        self.moreFragments = flagsFragment & 0x2000 != 0
        self.fragmentOffset = Int(flagsFragment & 0x1FFF) &* 8
        self.ttl = bytes[8]
        self.protocolNumber = IPProtocol(rawValue: bytes[9])
        self.sourceBits = bytes.be32(12)
        self.destinationBits = bytes.be32(16)
        self.payload = ihl..<min(claimed, bytes.count)
    }
}
