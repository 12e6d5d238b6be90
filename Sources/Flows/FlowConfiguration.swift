/// Timeouts and limits of the flow table. The defaults are Zeek's (`base/init-bare.zeek`), so flows
/// split where Zeek would split them.
public struct FlowConfiguration: Sendable, Equatable {
    /// Idle time after which a TCP connection ends (Zeek's `tcp_inactivity_timeout`, 5 min).
    public var tcpInactivity: Int64 = 300 * Self.second
    /// Idle time after which a UDP flow ends (`udp_inactivity_timeout`, 1 min).
    public var udpInactivity: Int64 = 60 * Self.second
    /// Idle time after which an ICMP flow ends (`icmp_inactivity_timeout`, 1 min).
    public var icmpInactivity: Int64 = 60 * Self.second
    /// Idle time for every other IP protocol (`unknown_ip_inactivity_timeout`, 1 min).
    public var otherInactivity: Int64 = 60 * Self.second
    /// How long an unanswered SYN keeps its connection (`tcp_attempt_delay`, 5 s): later SYN
    /// retransmissions start a new record, as in Zeek.
    public var tcpAttemptDelay: Int64 = 5 * Self.second
    /// How long a closed or reset connection is kept for stray packets (`tcp_close_delay`, 5 s).
    public var tcpCloseDelay: Int64 = 5 * Self.second
    /// How long a half-closed connection may stay idle (`tcp_connection_linger`, 5 s).
    public var tcpLinger: Int64 = 5 * Self.second
    /// At most this many live flows; beyond it the least recently active are ended (`evicted`).
    public var maximumFlows = 1_000_000
    /// Tunnels inside tunnels are followed this deep.
    public var maximumTunnelDepth = 3
    /// IP fragments: how long an incomplete datagram is kept (Linux's `ipfrag_time` is 30 s).
    public var fragmentTimeout: Int64 = 30 * Self.second
    /// IP fragments: bytes held for reassembly across all datagrams.
    public var fragmentMemoryLimit = 4 << 20
    /// IP fragments: incomplete datagrams held at once.
    public var maximumFragmentedDatagrams = 4096

    public static let second: Int64 = 1_000_000_000

    public init() {}

    /// The TCP timers a packet may start, as the per-packet code takes them: three words passed in
    /// registers (the whole configuration was copied to the stack for every packet).
    struct TCPTimers {
        var attemptDelay: Int64
        var closeDelay: Int64
        var linger: Int64
    }

    var tcpTimers: TCPTimers { TCPTimers(attemptDelay: tcpAttemptDelay, closeDelay: tcpCloseDelay, linger: tcpLinger) }

    func inactivity(for protocolNumber: UInt8) -> Int64 {
        switch protocolNumber {
        case 6: tcpInactivity
        case 17: udpInactivity
        case 1, 58: icmpInactivity
        default: otherInactivity
        }
    }
}
