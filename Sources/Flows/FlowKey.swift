public import Wire

/// A flow's identity: the two endpoints (address, port) in canonical order, the IP protocol and the
/// VLAN ids. Both directions of a conversation produce the same key, so one lookup finds the flow
/// whichever side sent the packet (gopacket's `Flow`, with a direction-symmetric hash).
///
/// Ports are the transport ports for TCP, UDP and SCTP; for ICMP and ICMPv6 they are the message
/// type and its counterpart type (or the code, for one-way messages), as Zeek keys ICMP
/// "connections"; 0 for every other protocol.
///
/// VLAN ids are part of the key, as nDPI and Zeek's VLAN-aware keys have them: on a SPAN port, the
/// same addresses on two VLANs are two different networks (or the same packet routed between them).
public struct FlowKey: Hashable, Sendable {
    public var addressA: IPAddress
    public var addressB: IPAddress
    public var portA: UInt16
    public var portB: UInt16
    public var protocolNumber: UInt8
    /// Outer VLAN id in the high 16 bits, inner in the low 16 (0xFFFF when absent).
    public var vlans: UInt32

    /// The key for a packet from `source:sourcePort` to `destination:destinationPort`, and whether
    /// the sender is endpoint A.
    @inlinable
    public init(source: IPAddress, sourcePort: UInt16, destination: IPAddress, destinationPort: UInt16,
                protocolNumber: UInt8, vlans: UInt32) {
        let sourceFirst = source < destination || (source == destination && sourcePort <= destinationPort)
        if sourceFirst {
            addressA = source; portA = sourcePort; addressB = destination; portB = destinationPort
        } else {
            addressA = destination; portA = destinationPort; addressB = source; portB = sourcePort
        }
        self.protocolNumber = protocolNumber
        self.vlans = vlans
    }

    /// Whether a packet sent from `address:port` comes from endpoint A.
    @inlinable
    public func isFromA(_ address: IPAddress, _ port: UInt16) -> Bool {
        address == addressA && (port == portA || addressA != addressB)
    }

    /// A fast, well-mixed 64-bit hash: each word multiplied by its own odd constant, summed, and
    /// mixed once (not `Hasher`, whose per-process seed and SipHash rounds cost more than the rest
    /// of a packet's decoding; the keys are not attacker-chosen table sizes, and probing is linear).
    @inlinable @inline(__always)
    public var hashValue64: UInt64 {
        // The ports are read one by one (a multiplication, not a shift, joins them): read as one
        // 4-byte word, as the compiler merged `portA | portB << 16`, they were a load spanning the
        // two 2-byte stores that had just written the key, which the CPU cannot forward — a stall
        // on every packet (perf: a third of this getter's samples).
        let ports = UInt64(portA) &* 0x1_0001 ^ UInt64(portB) << 16 | UInt64(protocolNumber) << 32
        var h = addressA.low &* 0x9E37_79B9_7F4A_7C15
        h = h &+ addressB.low &* 0xC2B2_AE3D_27D4_EB4F
        h = h &+ (addressA.high ^ (addressB.high &<< 1)) &* 0x1656_67B1_9E37_79F9
        h = h &+ (ports ^ UInt64(vlans) &<< 40) &* 0x27D4_EB2F_1656_67C5
        return Self.mix(h)
    }

    @inlinable @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var x = value &* 0xBF58_476D_1CE4_E5B9
        x ^= x >> 31
        x = x &* 0x94D0_49BB_1331_11EB
        return x ^ (x >> 29)
    }
}
