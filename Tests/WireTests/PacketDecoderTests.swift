import Testing
import TestSupport
@testable import Wire

@Suite struct PacketDecoderTests {
    let decoder = PacketDecoder()

    func decode(_ frame: [UInt8], start: DecodedPacket.Start = .link(.ethernet)) throws(WireError) -> DecodedPacket {
        var p = DecodedPacket()
        var a = Anomalies()
        try decoder.decode(frame.span, start: start, into: &p, anomalies: &a)
        return p
    }

    @Test func dnsQueryOverUDP() throws {
        let p = try decode(Fixtures.dnsQuery)
        #expect(p.hasMACs)
        #expect(MACAddress(bits: p.sourceMAC).description == "02:00:00:20:00:10")
        #expect(MACAddress(bits: p.destinationMAC).description == "02:00:00:20:00:01")
        #expect(p.ipVersion == 4)
        #expect(p.protocolNumber == .udp)
        #expect(p.sourcePort == 42024 && p.destinationPort == 53)
        #expect(p.transportComplete)
        #expect(p.payloadOffset == 42)
        #expect(p.payloadLength == 56)
        #expect(p.payloadCaptured == 56)
        #expect(p.ipTotalLength == 84)
        #expect(p.tunnel == .none)
    }

    @Test func tcpSYNWithOptions() throws {
        let p = try decode(Fixtures.tcpSYN)
        #expect(p.protocolNumber == .tcp)
        #expect(p.tcpFlags == .syn)
        #expect(p.tcpSequence == 4_076_954_687)
        #expect(p.tcpAcknowledgment == 0)
        #expect(p.tcpWindow == 64240)
        #expect(p.payloadOffset == 14 + 20 + 40)
        #expect(p.payloadLength == 0)
        #expect(PacketDump.line(p) == "10.20.0.10.50862 > 10.20.0.1.8080: tcp [S] seq 4076954687 ack 0 win 64240 len 0")
    }

    @Test func icmpErrorQuotesTheUDPPacket() throws {
        let p = try decode(Fixtures.icmpPortUnreachable)
        #expect(p.protocolNumber == .icmp)
        #expect(p.icmpType == 3 && p.icmpCode == 3)
        #expect(ICMPHeader.isError(type: p.icmpType, v6: false))
        // The quoted packet starts after the 8-byte ICMP header and decodes as the original datagram.
        var q = DecodedPacket()
        var a = Anomalies()
        let quoted = Array(Fixtures.icmpPortUnreachable[p.payloadOffset...])
        try decoder.decode(quoted.span, start: .ip, into: &q, anomalies: &a)
        #expect(q.source == IPAddress("10.20.0.10") && q.destination == IPAddress("10.20.0.1"))
        #expect(q.protocolNumber == .udp)
        #expect(q.sourcePort == 51157 && q.destinationPort == 9999)
    }

    @Test func laterFragmentHasNoPorts() throws {
        let p = try decode(Fixtures.laterFragment)
        #expect(p.isFragment && p.fragmentOffset == 1480 && p.moreFragments)
        #expect(p.fragmentID == 0xFDCB)
        #expect(!p.hasPorts)
        #expect(PacketDump.line(p) == "10.20.0.1 > 10.20.0.10: udp fragment id 64971 offset 1480+ len 1480")
    }

    @Test func ipv6AfterHopByHop() throws {
        let p = try decode(Fixtures.ipv6HopByHop)
        #expect(p.ipVersion == 6)
        #expect(p.protocolNumber == .icmpv6)
        #expect(p.icmpType == 143)
        #expect(p.ipHeaderLength == 48)
        #expect(p.payloadLength == 40)
    }

    /// Every prefix of every golden frame either throws or decodes; nothing traps, and a prefix
    /// that still holds the IP header keeps the addresses.
    @Test(arguments: Fixtures.all.map(\.0))
    func everyTruncatedPrefix(name: String) throws {
        let frame = try #require(Fixtures.all.first { $0.0 == name }?.1)
        let whole = try decode(frame)
        for length in 0...frame.count {
            let prefix = Array(frame[0..<length])
            do throws(WireError) {
                let p = try decode(prefix)
                if p.ipVersion != 0 {
                    #expect(p.source == whole.source && p.destination == whole.destination)
                    // Cut inside an IPv6 extension header, the upper layer is unknown (and the packet is kept).
                    if length >= 14 + whole.ipHeaderLength { #expect(p.protocolNumber == whole.protocolNumber) }
                }
                if p.transportComplete { #expect(p.payloadCaptured <= length) }
            } catch {
                #expect(length < 14 + (whole.ipVersion == 6 ? 40 : 20), "prefix of \(length) bytes threw \(error)")
            }
        }
    }

    /// Random bytes, under every supported link type and tunnel start, never trap.
    @Test func randomBytesNeverTrap() {
        var rng = SeededGenerator(seed: 0x5EED)
        let starts: [DecodedPacket.Start] = [.ethernet, .ip, .ppp] + [0, 1, 9, 12, 14, 50, 101, 104, 108, 113, 192, 228, 229, 276, 147]
            .map { .link(LinkType(rawValue: $0)) }
        var decoded = 0
        for round in 0..<30_000 {
            let length = Int(rng.next() % 200)
            var frame = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            // Half of the frames get plausible headers so that decoding goes deep.
            if round % 2 == 0 && length > 34 {
                frame[12] = 0x08; frame[13] = 0x00; frame[14] = 0x45
            }
            var p = DecodedPacket()
            var a = Anomalies()
            for start in starts {
                if (try? decoder.decode(frame.span, start: start, into: &p, anomalies: &a)) != nil, p.ipVersion != 0 {
                    decoded += 1
                    #expect(p.payloadCaptured >= 0 && p.payloadOffset <= frame.count)
                }
            }
        }
        #expect(decoded > 1000)
    }

    // MARK: - Link layers

    @Test func stackedVLANTags() throws {
        let frame = FrameBuilder.ethernet(FrameBuilder.ipv4([10, 0, 0, 1], [10, 0, 0, 2], proto: 17, FrameBuilder.udp(1000, 53, [1, 2])),
                                          vlans: [100, 20])
        let p = try decode(frame)
        #expect(p.vlanOuter == 100 && p.vlanInner == 20)
        #expect(p.destinationPort == 53)
        #expect(PacketDump.line(p).hasPrefix("vlan 100.20: 10.0.0.1.1000 > 10.0.0.2.53: udp"))
    }

    @Test func tooManyVLANTagsStop() {
        var frame = FrameBuilder.serverMAC + FrameBuilder.clientMAC
        for _ in 0..<12 { frame += [0x81, 0x00, 0x00, 0x01] }
        frame += [0x08, 0x00] + [UInt8](repeating: 0, count: 20)
        #expect(throws: WireError(.vlan, .tooDeep)) { try decode(frame) }
    }

    @Test func llcSNAPCarriesIPv4AndPlainLLCIsNotIP() throws {
        let ip = FrameBuilder.ipv4([10, 0, 0, 1], [10, 0, 0, 2], proto: 17, FrameBuilder.udp(1, 2, []))
        let snap = FrameBuilder.serverMAC + FrameBuilder.clientMAC + FrameBuilder.be16(8 + ip.count)
            + [0xAA, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00] + ip
        #expect(try decode(snap).ipVersion == 4)
        let stp = FrameBuilder.serverMAC + FrameBuilder.clientMAC + FrameBuilder.be16(38) + [0x42, 0x42, 0x03] + [UInt8](repeating: 0, count: 35)
        let p = try decode(stp)
        #expect(p.ipVersion == 0 && p.etherType == .llc)
    }

    @Test func arpIsNotIP() throws {
        let p = try decode(FrameBuilder.ethernet([UInt8](repeating: 0, count: 28), type: 0x0806))
        #expect(p.ipVersion == 0)
        #expect(p.etherType.name == "arp")
    }

    @Test func mplsAndPPPoEReachIP() throws {
        let ip = FrameBuilder.ipv4([10, 0, 0, 1], [10, 0, 0, 2], proto: 6, FrameBuilder.tcp(1, 2, seq: 1, flags: 2))
        let mpls = FrameBuilder.ethernet([0, 0x01, 0x00, 0x40, 0, 0x02, 0x01, 0x40] + ip, type: 0x8847)
        #expect(try decode(mpls).protocolNumber == .tcp)
        let pppoe = FrameBuilder.ethernet([0x11, 0, 0, 1] + FrameBuilder.be16(ip.count + 2) + [0x00, 0x21] + ip, type: 0x8864)
        #expect(try decode(pppoe).destinationPort == 2)
    }

    @Test func linuxCookedV1AndV2() throws {
        let ip = FrameBuilder.ipv4([10, 0, 0, 1], [10, 0, 0, 2], proto: 17, FrameBuilder.udp(5, 6, []))
        let v1: [UInt8] = [0, 4, 0, 1, 0, 6] + FrameBuilder.clientMAC + [0, 0, 0x08, 0x00] + ip
        let p1 = try decode(v1, start: .link(.linuxSLL))
        #expect(p1.sourcePort == 5 && MACAddress(bits: p1.sourceMAC).description == "02:00:00:00:00:0a")
        let v2: [UInt8] = [0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 4, 6] + FrameBuilder.clientMAC + [0, 0] + ip
        let p2 = try decode(v2, start: .link(.linuxSLL2))
        #expect(p2.destinationPort == 6 && p2.hasMACs)
    }

    @Test func bsdLoopbackInEitherByteOrder() throws {
        let ip = FrameBuilder.ipv4([127, 0, 0, 1], [127, 0, 0, 1], proto: 17, FrameBuilder.udp(7, 8, []))
        #expect(try decode([2, 0, 0, 0] + ip, start: .link(.null)).ipVersion == 4)
        #expect(try decode([0, 0, 0, 2] + ip, start: .link(.null)).ipVersion == 4)
        #expect(try decode([0, 0, 0, 2] + ip, start: .link(.loop)).ipVersion == 4)
        let v6 = FrameBuilder.ipv6([UInt8](repeating: 0, count: 15) + [1], [UInt8](repeating: 0, count: 15) + [1], next: 17, FrameBuilder.udp(1, 2, []))
        #expect(try decode([30, 0, 0, 0] + v6, start: .link(.null)).ipVersion == 6)
        #expect(try decode([24, 0, 0, 0] + v6, start: .link(.null)).ipVersion == 6)
    }

    @Test func pppWithAndWithoutHDLCBytesAndCompressedProtocol() throws {
        let ip = FrameBuilder.ipv4([10, 0, 0, 1], [10, 0, 0, 2], proto: 1, FrameBuilder.icmp(type: 8, code: 0))
        #expect(try decode([0xFF, 0x03, 0x00, 0x21] + ip, start: .link(.ppp)).protocolNumber == .icmp)
        #expect(try decode([0x00, 0x21] + ip, start: .link(.ppp)).protocolNumber == .icmp)
        #expect(try decode([0x21] + ip, start: .link(.ppp)).protocolNumber == .icmp)
        #expect(try decode([0xFF, 0x03, 0xC0, 0x21, 1, 2, 3], start: .link(.ppp)).ipVersion == 0)  // LCP
    }

    @Test func ciscoHDLCAndPPIAndRawIP() throws {
        let ip = FrameBuilder.ipv4([10, 0, 0, 1], [10, 0, 0, 2], proto: 6, FrameBuilder.tcp(179, 5000, seq: 1, flags: 0x18))
        #expect(try decode([0x0F, 0x00, 0x08, 0x00] + ip, start: .link(.ciscoHDLC)).sourcePort == 179)
        let ppi: [UInt8] = [0, 0, 8, 0, 1, 0, 0, 0] + FrameBuilder.ethernet(ip)
        #expect(try decode(ppi, start: .link(.ppi)).sourcePort == 179)
        for raw: UInt32 in [12, 14, 101, 228] { #expect(try decode(ip, start: .link(LinkType(rawValue: raw))).ipVersion == 4) }
        #expect(throws: WireError(.link, .unsupportedLinkType)) { try decode(ip, start: .link(LinkType(rawValue: 147))) }
    }

    /// An 802.11 QoS data frame to the distribution system (ToDS), with LLC/SNAP.
    static func wifiFrame(_ ip: [UInt8]) -> [UInt8] {
        let bssid: [UInt8] = [0xA4, 0xC6, 0x4F, 0x3B, 0xB3, 0xAB], station: [UInt8] = [0x02, 0, 0, 0, 0, 0x33]
        let gateway: [UInt8] = [0x02, 0, 0, 0, 0, 0x01]
        return [0x88, 0x01, 0, 0] + bssid + station + gateway + [0, 0] + [0, 0]
            + [0xAA, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00] + ip
    }

    @Test func wifiDataFramesAndRadiotap() throws {
        let ip = FrameBuilder.ipv4([10, 1, 3, 68], [10, 1, 3, 1], proto: 6, FrameBuilder.tcp(47025, 443, seq: 0, flags: 2))
        let p = try decode(Self.wifiFrame(ip), start: .link(.ieee80211))
        #expect(p.destinationPort == 443)
        #expect(MACAddress(bits: p.sourceMAC).description == "02:00:00:00:00:33")
        #expect(MACAddress(bits: p.destinationMAC).description == "02:00:00:00:00:01")
        let radiotap: [UInt8] = [0, 0, 8, 0, 0, 0, 0, 0] + Self.wifiFrame(ip)
        #expect(try decode(radiotap, start: .link(.radiotap)).sourcePort == 47025)
        let beacon: [UInt8] = [0x80, 0] + [UInt8](repeating: 0, count: 40)
        #expect(try decode(beacon, start: .link(.ieee80211)).etherType == .ieee80211)
    }

    /// CAPWAP data from an access point (RFC 5415): an 8-byte header with WBID 1 and T set, then the
    /// client's 802.11 frame.
    @Test func capwapCarriesWifiFrames() throws {
        let inner = FrameBuilder.ipv4([10, 1, 3, 68], [74, 125, 130, 188], proto: 6, FrameBuilder.tcp(47025, 443, seq: 0, flags: 2))
        let capwap: [UInt8] = [0x00, 0x10, 0x03, 0x00, 0, 0, 0, 0] + Self.wifiFrame(inner)
        let frame = FrameBuilder.ethernet(FrameBuilder.ipv4([172, 50, 100, 155], [172, 16, 100, 87], proto: 17,
                                                            FrameBuilder.udp(41264, 5247, capwap)))
        let p = try decode(frame)
        #expect(p.tunnel == .capwap && p.innerStart == .ieee80211)
        let q = try decode(Array(frame[p.innerOffset...]), start: p.innerStart)
        #expect(q.destination == IPAddress("74.125.130.188") && q.destinationPort == 443)
    }

    // MARK: - Tunnels

    @Test func greCarriesIPv4() throws {
        let inner = FrameBuilder.ipv4([192, 168, 1, 1], [192, 168, 1, 2], proto: 17, FrameBuilder.udp(5060, 5060, [1]))
        let gre: [UInt8] = [0x00, 0x00, 0x08, 0x00] + inner
        let frame = FrameBuilder.ethernet(FrameBuilder.ipv4([10, 0, 0, 1], [10, 0, 0, 2], proto: 47, gre))
        let p = try decode(frame)
        #expect(p.protocolNumber == .gre && p.tunnel == .gre && p.innerStart == .ip)
        #expect(p.innerOffset == 14 + 20 + 4)
        let q = try decode(Array(frame[p.innerOffset...]), start: p.innerStart)
        #expect(q.sourcePort == 5060 && q.source == IPAddress("192.168.1.1"))
    }

    @Test func vxlanCarriesEthernet() throws {
        let inner = FrameBuilder.ethernet(FrameBuilder.ipv4([172, 16, 0, 1], [172, 16, 0, 2], proto: 6, FrameBuilder.tcp(1234, 80, seq: 9, flags: 2)))
        let vxlan: [UInt8] = [0x08, 0, 0, 0, 0, 0, 0x64, 0] + inner
        let frame = FrameBuilder.ethernet(FrameBuilder.ipv4([10, 0, 0, 1], [10, 0, 0, 2], proto: 17, FrameBuilder.udp(40000, 4789, vxlan)))
        let p = try decode(frame)
        #expect(p.tunnel == .vxlan && p.innerStart == .ethernet)
        let q = try decode(Array(frame[p.innerOffset...]), start: p.innerStart)
        #expect(q.destinationPort == 80 && q.tcpFlags == .syn)
    }

    @Test func ipInIPAndNotATunnelOnPort4789WithoutTheFlag() throws {
        let inner = FrameBuilder.ipv4([1, 1, 1, 1], [2, 2, 2, 2], proto: 1, FrameBuilder.icmp(type: 8, code: 0))
        let p = try decode(FrameBuilder.ethernet(FrameBuilder.ipv4([10, 0, 0, 1], [10, 0, 0, 2], proto: 4, inner)))
        #expect(p.tunnel == .ipInIP)
        let notVXLAN = FrameBuilder.ethernet(FrameBuilder.ipv4([10, 0, 0, 1], [10, 0, 0, 2], proto: 17,
                                                               FrameBuilder.udp(1, 4789, [UInt8](repeating: 0, count: 40))))
        #expect(try decode(notVXLAN).tunnel == .none)
    }
}
