import Testing
import TestSupport
@testable import Wire

@Suite struct IPv4HeaderTests {
    @Test func fieldsOfTheDNSQuery() throws {
        var a = Anomalies()
        let ip = Array(Fixtures.dnsQuery[14...])
        let h = try IPv4Header(parsing: ip.span, anomalies: &a)
        #expect(h.headerLength == 20)
        #expect(h.totalLength == 84)
        #expect(h.identification == 0x1716)
        #expect(h.ttl == 64)
        #expect(h.protocolNumber == .udp)
        #expect(h.source == IPAddress("10.20.0.10"))
        #expect(h.destination == IPAddress("10.20.0.1"))
        #expect(h.payload == 20..<84)
        #expect(!h.isFragment)
        #expect(a.isEmpty)
    }

    @Test func laterFragmentOffsetAndFlags() throws {
        var a = Anomalies()
        let ip = Array(Fixtures.laterFragment[14...])
        let h = try IPv4Header(parsing: ip.span, anomalies: &a)
        #expect(h.isFragment)
        #expect(h.fragmentOffset == 1480)
        #expect(h.moreFragments)
        #expect(h.totalLength == 1500)
        // Only 50 bytes of the 1500 were kept in the fixture: lax, clamped, noted.
        #expect(h.payload == 20..<50)
        #expect(a[.ipv4Truncated] == 1)
    }

    /// Every prefix shorter than the header throws `truncated`; never traps.
    @Test(arguments: 0..<20)
    func shortInputThrowsTruncated(length: Int) {
        let ip = Array(Fixtures.dnsQuery[14..<(14 + length)])
        var a = Anomalies()
        #expect(throws: WireError.truncated(.ipv4, need: 20, have: length)) {
            try IPv4Header(parsing: ip.span, anomalies: &a)
        }
    }

    @Test func headerLengthBelowFiveWordsIsInvalid() {
        var ip = Array(Fixtures.dnsQuery[14...])
        ip[0] = 0x44
        var a = Anomalies()
        #expect(throws: WireError(.ipv4, .headerLengthTooSmall)) { try IPv4Header(parsing: ip.span, anomalies: &a) }
    }

    @Test func totalLengthBelowHeaderIsInvalid() {
        var ip = Array(Fixtures.dnsQuery[14...])
        ip[2] = 0; ip[3] = 19
        var a = Anomalies()
        #expect(throws: WireError(.ipv4, .totalLengthBelowHeader)) { try IPv4Header(parsing: ip.span, anomalies: &a) }
    }

    @Test func zeroTotalLengthIsSegmentationOffload() throws {
        var ip = Array(Fixtures.dnsQuery[14...])
        ip[2] = 0; ip[3] = 0
        var a = Anomalies()
        let h = try IPv4Header(parsing: ip.span, anomalies: &a)
        #expect(h.totalLength == ip.count)
        #expect(a[.ipv4TotalLengthZero] == 1)
    }

    @Test func optionsAreSkipped() throws {
        let packet = FrameBuilder.ipv4([10, 0, 0, 1], [10, 0, 0, 2], proto: 17, FrameBuilder.udp(1, 2, [9]),
                                       options: [0x94, 0x04, 0, 0])  // Router Alert (RFC 2113)
        var a = Anomalies()
        let h = try IPv4Header(parsing: packet.span, anomalies: &a)
        #expect(h.headerLength == 24)
        #expect(h.payload == 24..<33)
    }

    @Test func wrongVersionIsRejected() {
        let ip = Array(Fixtures.ipv6SYN[14...])
        var a = Anomalies()
        #expect(throws: WireError(.ipv4, .unexpectedVersion)) { try IPv4Header(parsing: ip.span, anomalies: &a) }
    }
}
