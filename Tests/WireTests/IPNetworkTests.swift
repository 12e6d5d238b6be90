import Testing
@testable import Wire

@Suite struct IPNetworkTests {
    @Test(arguments: [("10.1.2.3/8", "10.0.0.0/8"), ("192.168.1.77/24", "192.168.1.0/24"), ("172.16.0.0/12", "172.16.0.0/12"),
                      ("0.0.0.0/0", "0.0.0.0/0"), ("10.0.0.1", "10.0.0.1/32"), ("fd00:40::29/8", "fd00::/8"),
                      ("fe80::1/10", "fe80::/10"), ("2001:db8::1", "2001:db8::1/128"), ("::/0", "::/0")])
    func canonicalBlocks(text: String, expected: String) throws {
        #expect(try #require(IPNetwork(text)).description == expected)
    }

    @Test(arguments: ["10.0.0.0/33", "10.0.0.0/-1", "::/129", "10.0.0/8", "example.com/8", "10.0.0.0/", "10.0.0.0/8/8", "", "/8",
                      "10.0.0.0/٨"])
    func invalidBlocks(text: String) {
        #expect(IPNetwork(text) == nil)
    }

    @Test func membership() throws {
        let v4 = try #require(IPNetwork("172.16.0.0/12"))
        #expect(v4.contains(IPAddress("172.31.255.255")!) && !v4.contains(IPAddress("172.32.0.0")!))
        #expect(!v4.contains(IPAddress("fd00::1")!))
        let all4 = try #require(IPNetwork("0.0.0.0/0"))
        #expect(all4.contains(IPAddress("203.0.113.7")!) && !all4.contains(IPAddress("2001:db8::1")!))
        let ula = try #require(IPNetwork("fc00::/7"))
        #expect(ula.contains(IPAddress("fd00:40::29")!) && !ula.contains(IPAddress("fe80::1")!))
        #expect(!ula.contains(IPAddress("10.0.0.1")!))
        let host = try #require(IPNetwork("2001:db8::1"))
        #expect(host.contains(IPAddress("2001:db8::1")!) && !host.contains(IPAddress("2001:db8::2")!))
    }
}
