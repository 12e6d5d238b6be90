import Wire

/// Packets and bytes one side of a flow sent.
public struct DirectionCounters: Sendable, Equatable {
    public var packets: UInt64 = 0
    /// IP-layer bytes (IPv4 total length, IPv6 40 + payload length), Zeek's `*_ip_bytes`.
    public var ipBytes: UInt64 = 0
    /// Frame bytes on the wire (the capture record's original length).
    public var wireBytes: UInt64 = 0
    /// Transport payload bytes for protocols without sequence numbers (UDP: length field minus 8;
    /// ICMP: after its 8-byte header; others: the IP payload). TCP sizes come from sequence space.
    public var payloadBytes: UInt64 = 0

    public init() {}
}

/// Everything the flow table keeps about one live flow. A plain value in one dense array: no
/// allocation per packet, and none per flow beyond the array's growth.
struct FlowState {
    var key: FlowKey
    var uid: UInt64
    var firstTime: Int64
    var lastTime: Int64
    /// A TCP timer deadline (attempt, close, linger) or `.max`; idle timeouts are separate.
    var deadline: Int64 = .max
    /// When an unanswered SYN's attempt timer fires (Zeek's `tcp_attempt_delay` after the SYN).
    var attemptDeadline: Int64 = .max
    /// When a closed connection is deleted (Zeek's `tcp_close_delay` after the close completed).
    var closeDeadline: Int64 = .max
    /// Whether endpoint A of the key is the originator.
    var originatorIsA: Bool
    var isLive = true
    /// Whether the observer (classification) still wants this flow's payloads.
    var inspecting = false
    var hasMACs = false
    var protocolNumber: IPProtocol
    var ipVersion: UInt8
    var vlanOuter: UInt16
    var icmpErrorCount: UInt8 = 0
    var originatorMAC: UInt64 = 0
    var responderMAC: UInt64 = 0
    var originator = DirectionCounters()
    var responder = DirectionCounters()
    var history = History()
    var tcp = TCPConnection()
    /// ICMP error messages that quoted this flow: (ICMPv6 flag << 15 | type << 8 | code).
    var icmpErrors: InlineArray<8, UInt16> = InlineArray(repeating: 0)
    /// The uid of the flow whose packets carried this one (tunnels), or 0.
    var tunnelParent: UInt64 = 0
    /// Where the first packet is: input index and 1-based packet number.
    var firstInput: Int32
    var firstPacket: Int64

    init(key: FlowKey, uid: UInt64, time: Int64, originatorIsA: Bool, protocolNumber: IPProtocol,
         ipVersion: UInt8, vlanOuter: UInt16, firstInput: Int, firstPacket: Int) {
        self.key = key
        self.uid = uid
        self.firstTime = time
        self.lastTime = time
        self.originatorIsA = originatorIsA
        self.protocolNumber = protocolNumber
        self.ipVersion = ipVersion
        self.vlanOuter = vlanOuter
        self.firstInput = Int32(truncatingIfNeeded: firstInput)
        self.firstPacket = Int64(firstPacket)
    }

    var isTCP: Bool { protocolNumber == .tcp }
}
