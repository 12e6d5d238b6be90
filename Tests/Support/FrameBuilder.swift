/// Builds Ethernet/IPv4/IPv6/TCP/UDP/ICMP frames for edge cases that real software will not produce
/// on demand (a SYN after a close with a chosen sequence number, a zero window, a gap, an exotic
/// link type). Checksums are left zero: SpanAudit does not verify them, as Zeek run with `-C`.
public enum FrameBuilder {
    public static let clientMAC: [UInt8] = [0x02, 0, 0, 0, 0, 0x0A]
    public static let serverMAC: [UInt8] = [0x02, 0, 0, 0, 0, 0x01]

    public static func be16(_ v: Int) -> [UInt8] { [UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
    public static func be32(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    public static func ethernet(_ payload: [UInt8], type: Int = 0x0800, source: [UInt8] = clientMAC,
                                destination: [UInt8] = serverMAC, vlans: [Int] = []) -> [UInt8] {
        var f = destination + source
        for (i, vlan) in vlans.enumerated() { f += be16(i == 0 && vlans.count > 1 ? 0x88A8 : 0x8100) + be16(vlan) }
        return f + be16(type) + payload
    }

    public static func ipv4(_ source: [UInt8], _ destination: [UInt8], proto: UInt8, _ payload: [UInt8],
                            identification: Int = 1, fragmentOffset: Int = 0, moreFragments: Bool = false,
                            totalLength: Int? = nil, options: [UInt8] = []) -> [UInt8] {
        let headerLength = 20 + options.count
        let total = totalLength ?? headerLength + payload.count
        var h: [UInt8] = [UInt8(0x40 | headerLength / 4), 0] + be16(total) + be16(identification)
        h += be16((moreFragments ? 0x2000 : 0) | (fragmentOffset / 8))
        h += [64, proto, 0, 0] + source + destination + options
        return h + payload
    }

    public static func ipv6(_ source: [UInt8], _ destination: [UInt8], next: UInt8, _ payload: [UInt8]) -> [UInt8] {
        [0x60, 0, 0, 0] + be16(payload.count) + [next, 64] + source + destination + payload
    }

    public static func tcp(_ sourcePort: Int, _ destinationPort: Int, seq: UInt32, ack: UInt32 = 0,
                           flags: UInt8, window: Int = 64240, payload: [UInt8] = []) -> [UInt8] {
        be16(sourcePort) + be16(destinationPort) + be32(seq) + be32(ack) + [0x50, flags] + be16(window)
            + [0, 0, 0, 0] + payload
    }

    public static func udp(_ sourcePort: Int, _ destinationPort: Int, _ payload: [UInt8], length: Int? = nil) -> [UInt8] {
        be16(sourcePort) + be16(destinationPort) + be16(length ?? 8 + payload.count) + [0, 0] + payload
    }

    public static func icmp(type: UInt8, code: UInt8, rest: [UInt8] = [0, 0, 0, 0], _ payload: [UInt8] = []) -> [UInt8] {
        [type, code, 0, 0] + rest + payload
    }

    /// TCP flag bytes.
    public static let fin: UInt8 = 0x01, syn: UInt8 = 0x02, rst: UInt8 = 0x04, psh: UInt8 = 0x08, ack: UInt8 = 0x10
}
