/// One tcpdump-like line describing what the decoder saw in a packet (smoltcp's pretty-printer
/// idea): the first tool a maintainer reaches for when a flow looks wrong.
///
///     10.0.0.2.53012 > 10.0.0.1.53: udp 29
///     10.0.0.2.40522 > 93.184.216.34.443: tcp [S] seq 1000 ack 0 win 64240 len 0
///     vlan 20: 10.20.0.5 > 203.0.113.9: icmp 3/13 (quotes udp 10.20.0.5.5000 > 203.0.113.9.3478)
public enum PacketDump {
    public static func line(_ p: DecodedPacket) -> String {
        var s = ""
        if p.vlanOuter != DecodedPacket.noVLAN {
            s += "vlan \(p.vlanOuter)"
            if p.vlanInner != DecodedPacket.noVLAN { s += ".\(p.vlanInner)" }
            s += ": "
        }
        guard p.ipVersion != 0 else {
            if p.hasMACs {
                s += "\(MACAddress(bits: p.sourceMAC)) > \(MACAddress(bits: p.destinationMAC)): "
            }
            return s + "not IP (\(p.etherType.name))"
        }
        let ports = p.hasPorts && p.protocolNumber.hasPorts
        s += endpoint(p.source, ports ? p.sourcePort : nil) + " > " + endpoint(p.destination, ports ? p.destinationPort : nil)
        s += ": " + p.protocolNumber.name
        if p.isFragment {
            s += " fragment id \(p.fragmentID) offset \(p.fragmentOffset)\(p.moreFragments ? "+" : "")"
            if p.fragmentOffset != 0 { return s + " len \(p.payloadLength)" }
        }
        switch p.protocolNumber.rawValue {
        case 6 where p.transportComplete:
            s += " [" + flags(p.tcpFlags) + "] seq \(p.tcpSequence) ack \(p.tcpAcknowledgment) win \(p.tcpWindow) len \(p.payloadLength)"
        case 1 where p.hasPorts, 58 where p.hasPorts:
            s += " \(p.icmpType)/\(p.icmpCode) len \(p.payloadLength)"
        default:
            if !p.transportComplete && p.protocolNumber.hasPorts { s += " (header truncated)" }
            s += " len \(p.payloadLength)"
        }
        if p.tunnel != .none { s += " carries \(p.tunnel.name)" }
        return s
    }

    static func endpoint(_ address: IPAddress, _ port: UInt16?) -> String {
        guard let port else { return "\(address)" }
        return "\(address).\(port)"
    }

    static func flags(_ f: TCPFlags) -> String {
        var s = ""
        if f.contains(.syn) { s += "S" }
        if f.contains(.fin) { s += "F" }
        if f.contains(.rst) { s += "R" }
        if f.contains(.psh) { s += "P" }
        if f.contains(.urg) { s += "U" }
        if f.contains(.ack) { s += "." }
        return s.isEmpty ? "none" : s
    }
}
