/// A TCP header (RFC 9293 §3.1).
///
///      0                   1                   2                   3
///      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///     +-------------------------------+-------------------------------+
///     |          Source Port          |       Destination Port        |
///     +-------------------------------+-------------------------------+
///     |                        Sequence Number                        |
///     |                    Acknowledgment Number                      |
///     +-------+-------+---------------+-------------------------------+
///     |  Data |       |C|E|U|A|P|R|S|F|                               |
///     | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
///     +-------+-------+---------------+-------------------------------+
///     |           Checksum            |         Urgent Pointer        |
///
/// Contract: `init(parsing:segmentLength:)` throws unless 20 bytes are present, the data offset is at
/// least 5 words, the header is captured whole and fits in `segmentLength` (the IP payload length the
/// IP header claims). Options are not interpreted. The checksum is not verified.
public struct TCPHeader: Hashable, Sendable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var sequence: UInt32
    public var acknowledgment: UInt32
    public var headerLength: Int
    public var flags: TCPFlags
    public var window: UInt16

    public static let minimumLength = 20
}

extension TCPHeader {
    @inlinable @inline(__always)
    public init(parsing bytes: Span<UInt8>, segmentLength: Int) throws(WireError) {
        guard bytes.count >= Self.minimumLength else {
            throw .truncated(.tcp, need: Self.minimumLength, have: bytes.count)
        }
        let dataOffset = Int(bytes[12] >> 4) &* 4
        guard dataOffset >= Self.minimumLength, dataOffset <= segmentLength else {
            throw WireError(.tcp, .headerLengthTooSmall, at: 12)
        }
        guard bytes.count >= dataOffset else { throw .truncated(.tcp, need: dataOffset, have: bytes.count) }
        self.sourcePort = bytes.be16(0)
        self.destinationPort = bytes.be16(2)
        self.sequence = bytes.be32(4)
        self.acknowledgment = bytes.be32(8)
        self.headerLength = dataOffset
        self.flags = TCPFlags(rawValue: bytes[13])
        self.window = bytes.be16(14)
    }
}

/// A UDP header (RFC 768).
///
///      0      7 8     15 16    23 24    31
///     +--------+--------+--------+--------+
///     |     Source      |   Destination   |
///     |      Port       |      Port       |
///     +--------+--------+--------+--------+
///     |     Length      |    Checksum     |
///
/// Contract: throws unless 8 bytes are present. A length field below 8 or beyond the IP payload is
/// tolerated: `payloadLength` then comes from the IP payload and `lengthValid` is false. In the first
/// fragment of a fragmented datagram the length field covers the whole datagram, so any value of at
/// least 8 is valid there (`isFirstFragment`).
public struct UDPHeader: Hashable, Sendable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// The length field minus the header, or the IP payload minus 8 when the field is inconsistent.
    public var payloadLength: Int
    public var lengthValid: Bool

    public static let length = 8
}

extension UDPHeader {
    @inlinable @inline(__always)
    public init(parsing bytes: Span<UInt8>, ipPayloadLength: Int, isFirstFragment: Bool = false) throws(WireError) {
        guard bytes.count >= Self.length else { throw .truncated(.udp, need: Self.length, have: bytes.count) }
        self.sourcePort = bytes.be16(0)
        self.destinationPort = bytes.be16(2)
        let length = Int(bytes.be16(4))
        if length >= Self.length && (length <= ipPayloadLength || isFirstFragment) {
            self.payloadLength = length &- Self.length
            self.lengthValid = true
        } else if length == 0 && ipPayloadLength > 65535 {
            // RFC 2675 §4: a UDP jumbogram carries 0 in its length field.
            self.payloadLength = ipPayloadLength &- Self.length
            self.lengthValid = true
        } else {
            self.payloadLength = max(0, ipPayloadLength &- Self.length)
            self.lengthValid = false
        }
    }
}

/// The first 8 bytes of an ICMP (RFC 792) or ICMPv6 (RFC 4443) message: type, code, checksum and
/// the 4 type-specific bytes.
///
/// Contract: throws unless type and code (2 bytes) are present; `complete` says whether all 8 were.
public struct ICMPHeader: Hashable, Sendable {
    public var type: UInt8
    public var code: UInt8
    public var complete: Bool

    public static let length = 8

    /// Whether this message is an error that quotes the packet that caused it.
    /// ICMP: destination unreachable (3), source quench (4), redirect (5), time exceeded (11),
    /// parameter problem (12). ICMPv6: types 1–4 (RFC 4443 §2.1: error messages have types 0–127).
    @inlinable
    public static func isError(type: UInt8, v6: Bool) -> Bool {
        v6 ? (1...4).contains(type) : (type == 3 || type == 4 || type == 5 || type == 11 || type == 12)
    }
}

extension ICMPHeader {
    @inlinable
    public init(parsing bytes: Span<UInt8>) throws(WireError) {
        guard bytes.count >= 2 else { throw .truncated(.icmp, need: 2, have: bytes.count) }
        self.type = bytes[0]
        self.code = bytes[1]
        self.complete = bytes.count >= Self.length
    }
}
