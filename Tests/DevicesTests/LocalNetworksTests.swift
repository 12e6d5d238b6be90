import Testing
@testable import Devices
import Wire

@Suite struct LocalNetworksTests {
    @Test(arguments: ["10.40.0.21", "172.16.5.4", "172.31.255.254", "192.168.1.10", "169.254.12.1", "fd00:40::29", "fe80::212:f0ff:fe40:61"])
    func localAddresses(text: String) {
        #expect(LocalNetworks().isLocal(IPAddress(text)!))
    }

    /// Public, multicast, broadcast and unspecified addresses are never devices.
    @Test(arguments: ["203.0.113.7", "172.32.0.1", "8.8.8.8", "224.0.0.251", "239.255.255.250", "255.255.255.255", "0.0.0.0",
                      "ff02::fb", "::", "2001:db8::1", "100.64.0.1"])
    func otherAddresses(text: String) {
        #expect(!LocalNetworks().isLocal(IPAddress(text)!))
    }

    @Test func extraBlocks() {
        let local = LocalNetworks(extra: [IPNetwork("198.18.0.0/15")!, IPNetwork("2001:db8:40::/48")!])
        #expect(local.isLocal(IPAddress("198.19.1.1")!) && local.isLocal(IPAddress("2001:db8:40::5")!))
        #expect(!local.isLocal(IPAddress("198.20.0.1")!) && !local.isLocal(IPAddress("2001:db8:41::5")!))
    }
}
