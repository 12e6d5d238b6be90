/// What the decoder learned about one frame: plain values and byte offsets into the frame, never a
/// copy of its bytes. One instance is reused for every packet of a run (`PacketDecoder.decode` resets
/// what it sets), so decoding allocates nothing.
public struct DecodedPacket: Sendable {
    /// "No VLAN tag" for `vlanOuter` / `vlanInner` (802.1Q ids are 12 bits).
    @inlinable public static var noVLAN: UInt16 { 0xFFFF }

    // MARK: - Link layer
    public var hasMACs = false
    public var sourceMAC: UInt64 = 0
    public var destinationMAC: UInt64 = 0
    /// The first and second 802.1Q/802.1ad VLAN ids of the frame, outermost first.
    public var vlanOuter: UInt16 = DecodedPacket.noVLAN
    public var vlanInner: UInt16 = DecodedPacket.noVLAN
    /// The EtherType (or equivalent) that introduced the network layer; for frames that are not IP,
    /// the reason they were skipped.
    public var etherType = EtherType(rawValue: 0)

    // MARK: - Network layer
    /// 4 or 6; 0 when the frame is not IP.
    public var ipVersion: UInt8 = 0
    public var networkOffset = 0
    public var source = IPAddress.zero
    public var destination = IPAddress.zero
    /// IPv4 header (with options), or IPv6 fixed header plus extension headers.
    public var ipHeaderLength = 0
    /// The IP packet's length as its header claims it (IPv4 total length, IPv6 40 + payload length);
    /// for TSO captures that write 0 there, the captured length.
    public var ipTotalLength = 0
    /// Where the IP packet's captured bytes end, relative to `networkOffset`.
    public var ipPayloadEnd = 0
    /// The upper-layer protocol (after IPv6 extension headers).
    public var protocolNumber = IPProtocol(rawValue: 0)
    public var ttl: UInt8 = 0
    public var isFragment = false
    /// Byte offset of this fragment's data in the original datagram.
    public var fragmentOffset = 0
    public var moreFragments = false
    /// IPv4 identification (16 bits) or IPv6 fragment identification (32 bits).
    public var fragmentID: UInt32 = 0

    // MARK: - Transport layer
    /// The transport header's offset in the frame.
    public var transportOffset = 0
    /// Whether source and destination ports (TCP, UDP, SCTP) or type and code (ICMP) were read.
    public var hasPorts = false
    /// Whether the whole transport header was present and consistent, so flags, sequence numbers and
    /// payload length can be trusted.
    public var transportComplete = false
    public var sourcePort: UInt16 = 0
    public var destinationPort: UInt16 = 0
    public var tcpFlags = TCPFlags(rawValue: 0)
    public var tcpSequence: UInt32 = 0
    public var tcpAcknowledgment: UInt32 = 0
    public var tcpWindow: UInt16 = 0
    public var icmpType: UInt8 = 0
    public var icmpCode: UInt8 = 0
    /// Where the transport payload starts in the frame.
    public var payloadOffset = 0
    /// The payload length the headers claim (TCP: IP payload minus TCP header; UDP: its length field
    /// minus 8; ICMP: after its 8-byte header; others: the IP payload).
    public var payloadLength = 0
    /// How many payload bytes the frame actually holds (less than `payloadLength` when snapped).
    public var payloadCaptured = 0

    // MARK: - Encapsulation
    /// A tunnel inside this packet, whose inner packet starts at `innerOffset`.
    public var tunnel = Tunnel.none
    public var innerOffset = 0

    public init() {}

    /// The layer a decoder starts at: a capture's link type, or the inside of a tunnel.
    public enum Start: Sendable, Equatable {
        case link(LinkType)
        case ethernet
        case ip
        case ppp
        case ieee80211
    }

    /// Encapsulations whose inner packets become flows of their own.
    public enum Tunnel: UInt8, Sendable {
        case none
        case ipInIP
        case gre
        case vxlan
        case geneve
        case gtpU
        case teredo
        case capwap

        public var name: String {
            switch self {
            case .none: "none"
            case .ipInIP: "ip_in_ip"
            case .gre: "gre"
            case .vxlan: "vxlan"
            case .geneve: "geneve"
            case .gtpU: "gtp_u"
            case .teredo: "teredo"
            case .capwap: "capwap"
            }
        }
    }

    /// Where the inner packet of `tunnel` starts decoding.
    public var innerStart: Start = .ip
}

/// TCP control bits (RFC 9293 §3.1).
public struct TCPFlags: OptionSet, Sendable, Hashable {
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
    @inlinable public static var fin: TCPFlags { TCPFlags(rawValue: 0x01) }
    @inlinable public static var syn: TCPFlags { TCPFlags(rawValue: 0x02) }
    @inlinable public static var rst: TCPFlags { TCPFlags(rawValue: 0x04) }
    @inlinable public static var psh: TCPFlags { TCPFlags(rawValue: 0x08) }
    @inlinable public static var ack: TCPFlags { TCPFlags(rawValue: 0x10) }
    @inlinable public static var urg: TCPFlags { TCPFlags(rawValue: 0x20) }
    @inlinable public static var ece: TCPFlags { TCPFlags(rawValue: 0x40) }
    @inlinable public static var cwr: TCPFlags { TCPFlags(rawValue: 0x80) }
}
