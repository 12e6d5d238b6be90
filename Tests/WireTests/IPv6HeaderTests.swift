import Testing
import TestSupport
@testable import Wire

@Suite struct IPv6HeaderTests {
    @Test func hopByHopIsWalkedToICMPv6() throws {
        var a = Anomalies()
        let ip = Array(Fixtures.ipv6HopByHop[14...])
        let h = try IPv6Header(parsing: ip.span, anomalies: &a)
        #expect(h.headerLength == 48)
        #expect(h.protocolNumber == .icmpv6)
        #expect(h.totalLength == 96)
        #expect(h.source.description == "fe80::ff:fe20:1")
        #expect(h.destination.description == "ff02::16")
        #expect(h.payload == 48..<96)
        #expect(!h.isFragment)
    }

    @Test func tcpOverIPv6() throws {
        var a = Anomalies()
        let ip = Array(Fixtures.ipv6SYN[14...])
        let h = try IPv6Header(parsing: ip.span, anomalies: &a)
        #expect(h.headerLength == 40)
        #expect(h.protocolNumber == .tcp)
        #expect(h.hopLimit == 64)
        #expect(h.source.description == "fd00:20::10")
    }

    @Test func fragmentHeaderGivesOffsetAndIdentification() throws {
        // Destination Options (8 bytes), then a Fragment header: offset 1448, M set, id 0x01020304.
        let destinationOptions: [UInt8] = [44, 0, 1, 4, 0, 0, 0, 0]
        let fragment: [UInt8] = [17, 0] + FrameBuilder.be16(1448 | 1) + [1, 2, 3, 4]
        let source = [UInt8](repeating: 0, count: 15) + [1], destination = [UInt8](repeating: 0, count: 15) + [2]
        let packet = FrameBuilder.ipv6(source, destination, next: 60, destinationOptions + fragment + [1, 2, 3, 4])
        var a = Anomalies()
        let h = try IPv6Header(parsing: packet.span, anomalies: &a)
        #expect(h.isFragment)
        #expect(h.fragmentOffset == 1448)
        #expect(h.moreFragments)
        #expect(h.fragmentIdentification == 0x0102_0304)
        #expect(h.protocolNumber == .udp)
        #expect(h.headerLength == 56)
    }

    @Test func extensionHeaderBeyondThePacketIsABadChain() {
        let source = [UInt8](repeating: 0, count: 16)
        let packet = FrameBuilder.ipv6(source, source, next: 0, [6, 5, 0, 0])  // claims 48 bytes, has 4
        var a = Anomalies()
        #expect(throws: WireError(.ipv6, .badExtensionChain)) { try IPv6Header(parsing: packet.span, anomalies: &a) }
    }

    @Test func endlessExtensionChainStops() {
        let source = [UInt8](repeating: 0, count: 16)
        var chain: [UInt8] = []
        for _ in 0..<40 { chain += [60, 0, 0, 0, 0, 0, 0, 0] }
        let packet = FrameBuilder.ipv6(source, source, next: 60, chain)
        var a = Anomalies()
        #expect(throws: WireError(.ipv6, .badExtensionChain)) { try IPv6Header(parsing: packet.span, anomalies: &a) }
        #expect(a[.ipv6ExtensionChainTooLong] == 1)
    }

    @Test(arguments: 0..<40)
    func shortInputThrowsTruncated(length: Int) {
        let ip = Array(Fixtures.ipv6SYN[14..<(14 + length)])
        var a = Anomalies()
        #expect(throws: WireError.truncated(.ipv6, need: 40, have: length)) { try IPv6Header(parsing: ip.span, anomalies: &a) }
    }
}
