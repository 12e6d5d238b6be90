import Testing
@testable import Wire

@Suite struct IPAddressTests {
    /// RFC 5952 §4: the canonical text of IPv6 addresses.
    @Test(arguments: [
        ("2001:db8:0:0:0:0:2:1", "2001:db8::2:1"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),   // a single zero group is not shortened
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),            // the longest run
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),      // the first of two equal runs
        ("2001:DB8::AAAA", "2001:db8::aaaa"),               // lower case
        ("0:0:0:0:0:0:0:0", "::"),
        ("0:0:0:0:0:0:0:1", "::1"),
        ("fe80:0:0:0:0:ff:fe20:1", "fe80::ff:fe20:1"),
        ("1:0:0:0:0:0:0:0", "1::"),
        ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
    ])
    func canonicalText(input: String, expected: String) throws {
        let a = try #require(IPAddress(input))
        #expect(a.description == expected)
        #expect(IPAddress(expected) == a)
        #expect(!a.isIPv4)
    }

    /// Dotted quads at every octet width (1, 2, 3 digits) in every position, against text made
    /// independently of the writer, and parsed back.
    @Test func ipv4TextAtEveryOctetWidth() throws {
        for octet: UInt32 in [0, 7, 9, 10, 42, 99, 100, 199, 200, 255] {
            for position: UInt32 in 0..<4 {
                var parts: [UInt32] = [10, 1, 2, 3]
                parts[Int(3 - position)] = octet
                let bits = parts[0] << 24 | parts[1] << 16 | parts[2] << 8 | parts[3]
                let a = IPAddress(ipv4: bits)
                #expect(a.description == parts.map(String.init).joined(separator: "."))
                #expect(IPAddress(a.description) == a)
            }
        }
        #expect(IPAddress(ipv4: 0xFFFF_FFFF).description == "255.255.255.255")
        #expect(IPAddress(ipv4: 0).description == "0.0.0.0")
    }

    @Test func ipv4IsHeldMapped() throws {
        let a = try #require(IPAddress("192.168.1.254"))
        #expect(a.isIPv4)
        #expect(a.ipv4Bits == 0xC0A8_01FE)
        #expect(a.description == "192.168.1.254")
        #expect(a.high == 0 && a.low == 0x0000_FFFF_C0A8_01FE)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01234.1.1.1", "1::2::3", ":::", "12345::", "g::1", "1:2:3:4:5:6:7:8:9", "1.2.3.-4"])
    func rejectsInvalidText(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func macAddressText() throws {
        let m = try #require(MACAddress("02:00:00:20:00:0A"))
        #expect(m.description == "02:00:00:20:00:0a")
        #expect(m.isLocallyAdministered)
        #expect(!m.isMulticast)
        #expect(MACAddress("33-33-00-00-00-16")?.isMulticast == true)
        #expect(MACAddress("02:00:00") == nil)
    }
}
