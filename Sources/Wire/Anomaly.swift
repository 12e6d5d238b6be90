/// Something odd about a packet that was still analysed (Zeek calls these "weirds"). Anomalies are
/// counted, never printed by decoders; the run summary and reports list them by their stable
/// snake_case `name`, which goldens and JSON depend on — add names, never rename one.
public enum Anomaly: UInt8, CaseIterable, Sendable {
    // Link layer
    case vlanStackTooDeep
    case mplsStackTooDeep
    // IP
    case ipv4Truncated
    case ipv4TotalLengthZero
    case ipv6Truncated
    case ipv6PayloadLengthZero
    case ipv6ExtensionChainTooLong
    case ipVersionMismatch
    // Transport
    case tcpHeaderLengthInvalid
    case tcpHeaderTruncated
    case udpLengthInvalid
    case udpHeaderTruncated
    case icmpTruncated
    case transportPortsOnly
    // Fragments
    case fragmentOverlap
    case fragmentReassemblyTimeout
    case fragmentWithoutFirst
    case fragmentMemoryLimit
    case fragmentTooLarge
    // ICMP errors
    case icmpErrorQuotesUnknownFlow
    case icmpErrorQuoteTruncated
    // Tunnels
    case tunnelTooDeep
    case tunnelInnerMalformed
    // TCP (Zeek weird names where Zeek has one)
    case tcpSYNSeqJump
    case tcpActiveConnectionReuse
    case tcpSYNAfterClose
    case tcpDataAfterReset
    case tcpSpontaneousFIN
    case tcpSpontaneousRST
    case tcpFlagsSYNFIN
    case tcpFlagsFINRST
    case tcpZeroWindow
    case tcpContentGap
    // Flow table
    case flowEvicted
    // Classification
    case inspectionMemoryLimit
    case inspectionMessageTooLarge
    case quicDecryptionFailed
    // Capture
    case captureLengthExceedsSnapLength
    case captureLengthExceedsOriginalLength
    case timestampWentBackwards
    case pcapngSimplePacketBlock
    case pcapngObsoletePacketBlock

    /// The stable name used in summaries, JSON and goldens.
    public var name: String {
        switch self {
        case .vlanStackTooDeep: "vlan_stack_too_deep"
        case .mplsStackTooDeep: "mpls_stack_too_deep"
        case .ipv4Truncated: "ipv4_truncated"
        case .ipv4TotalLengthZero: "ipv4_total_length_zero"
        case .ipv6Truncated: "ipv6_truncated"
        case .ipv6PayloadLengthZero: "ipv6_payload_length_zero"
        case .ipv6ExtensionChainTooLong: "ipv6_extension_chain_too_long"
        case .ipVersionMismatch: "ip_version_mismatch"
        case .tcpHeaderLengthInvalid: "tcp_header_length_invalid"
        case .tcpHeaderTruncated: "tcp_header_truncated"
        case .udpLengthInvalid: "udp_length_invalid"
        case .udpHeaderTruncated: "udp_header_truncated"
        case .icmpTruncated: "icmp_truncated"
        case .transportPortsOnly: "transport_ports_only"
        case .fragmentOverlap: "fragment_overlap"
        case .fragmentReassemblyTimeout: "fragment_reassembly_timeout"
        case .fragmentWithoutFirst: "fragment_without_first"
        case .fragmentMemoryLimit: "fragment_memory_limit"
        case .fragmentTooLarge: "fragment_too_large"
        case .icmpErrorQuotesUnknownFlow: "icmp_error_quotes_unknown_flow"
        case .icmpErrorQuoteTruncated: "icmp_error_quote_truncated"
        case .tunnelTooDeep: "tunnel_too_deep"
        case .tunnelInnerMalformed: "tunnel_inner_malformed"
        case .tcpSYNSeqJump: "SYN_seq_jump"
        case .tcpActiveConnectionReuse: "active_connection_reuse"
        case .tcpSYNAfterClose: "SYN_after_close"
        case .tcpDataAfterReset: "data_after_reset"
        case .tcpSpontaneousFIN: "spontaneous_FIN"
        case .tcpSpontaneousRST: "spontaneous_RST"
        case .tcpFlagsSYNFIN: "SYN_with_FIN"
        case .tcpFlagsFINRST: "FIN_with_RST"
        case .tcpZeroWindow: "zero_window"
        case .tcpContentGap: "content_gap"
        case .flowEvicted: "flow_evicted"
        case .inspectionMemoryLimit: "inspection_memory_limit"
        case .inspectionMessageTooLarge: "inspection_message_too_large"
        case .quicDecryptionFailed: "quic_decryption_failed"
        case .captureLengthExceedsSnapLength: "caplen_exceeds_snaplen"
        case .captureLengthExceedsOriginalLength: "caplen_exceeds_original_length"
        case .timestampWentBackwards: "timestamp_went_backwards"
        case .pcapngSimplePacketBlock: "pcapng_simple_packet_block"
        case .pcapngObsoletePacketBlock: "pcapng_obsolete_packet_block"
        }
    }
}

/// Counts of each `Anomaly`, in a fixed-size inline array: noting one never allocates.
public struct Anomalies: Sendable, Equatable {
    @usableFromInline var counts: InlineArray<64, UInt64>

    public init() { counts = InlineArray(repeating: 0) }

    @inlinable @inline(__always)
    public mutating func note(_ anomaly: Anomaly, count: UInt64 = 1) {
        counts[Int(anomaly.rawValue)] &+= count
    }

    public subscript(_ anomaly: Anomaly) -> UInt64 { counts[Int(anomaly.rawValue)] }

    public var isEmpty: Bool { Anomaly.allCases.allSatisfy { self[$0] == 0 } }

    /// The non-zero counts, in declaration order.
    public var nonZero: [(anomaly: Anomaly, count: UInt64)] {
        Anomaly.allCases.compactMap { self[$0] > 0 ? ($0, self[$0]) : nil }
    }

    public mutating func merge(_ other: Anomalies) {
        for a in Anomaly.allCases { counts[Int(a.rawValue)] &+= other[a] }
    }

    public static func == (a: Anomalies, b: Anomalies) -> Bool {
        Anomaly.allCases.allSatisfy { a[$0] == b[$0] }
    }
}
