import Foundation
import Testing
import TestSupport
import Analysis
import Classify
@testable import Devices
import Wire
import Capture

/// The devices of the lab's store, from its capture, against the lab's own inventory (what each
/// namespace really was) and tshark's byte counts in the truth file.
@Suite struct DeviceInventoryTests {
    struct Inventory: Decodable {
        struct Entry: Decodable {
            var name: String
            var ip: String
            var ipv6: String?
            var mac: String
        }
        var devices: [Entry]
    }

    struct Truth: Decodable {
        struct Device: Decodable {
            struct Bandwidth: Decodable {
                var tx_bytes: UInt64
                var rx_bytes: UInt64
            }
            var ip: String
            var ipv6: String?
            var bandwidth: Bandwidth
        }
        var devices: [Device]
    }

    static func devices(_ capture: String) -> [Device] {
        let inventory = DeviceInventory()
        _ = CaptureRun.run(paths: [TestPaths.capture(capture)]) { inventory.add($0) }
        return inventory.result()
    }

    static let lab: Inventory = {
        let data = FileManager.default.contents(atPath: TestPaths.capture("store-inventory.json"))!
        return try! JSONDecoder().decode(Inventory.self, from: data)
    }()

    @Test func everyLabDeviceWithItsMACAndDHCPName() throws {
        let devices = Self.devices("store-compliant.pcapng")
        let byAddress = Dictionary(uniqueKeysWithValues: devices.map { ($0.address.description, $0) })
        for entry in Self.lab.devices {
            let device = try #require(byAddress[entry.ip], "\(entry.name) \(entry.ip) missing")
            #expect(device.mac?.description == entry.mac, "\(entry.name)")
            if entry.name != "gateway" {
                // Every device but the DHCP server itself leased its address with its host name.
                #expect(device.dhcp?.hostName == entry.name, "\(entry.name)")
                #expect(device.names.first == Device.Name(name: entry.name, source: .dhcp), "\(entry.name)")
                #expect(device.dhcp?.assignedAddress == entry.ip)
            }
            if let v6 = entry.ipv6 {
                let other = try #require(byAddress[v6], "\(entry.name) \(v6) missing")
                #expect(other.mac?.description == entry.mac)
            }
        }
        // Nothing else of the store's subnets: remote hosts and multicast groups are not devices.
        let lab = Set(Self.lab.devices.flatMap { [$0.ip] + ($0.ipv6.map { [$0] } ?? []) })
        let others = devices.map(\.address.description).filter { !lab.contains($0) }
        #expect(others.allSatisfy { $0.hasPrefix("fe80::") }, "\(others)")
    }

    /// What the devices say about themselves, each credited to the right one.
    @Test func identities() throws {
        let devices = Self.devices("store-compliant.pcapng")
        func device(_ ip: String) throws -> Device { try #require(devices.first { $0.address.description == ip }) }
        let appliance = try device("10.40.0.21")
        #expect(appliance.dhcp?.vendorClass == "RetailNext Store Appliance")
        #expect(appliance.dhcp?.parameterList == [1, 3, 6, 12, 15, 28, 42])
        #expect(appliance.mdns.hosts == ["rn-appliance.local"])
        #expect(appliance.mdns.instances.contains("RetailNext Store Appliance._http._tcp.local"))
        #expect(appliance.ssdpServers == ["Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0"])
        #expect(appliance.names.map(\.name).contains("rn-appliance.store.lan"))
        #expect(appliance.serves.contains { $0.transport == "udp" && $0.port == 8443 && $0.service == .dtls })
        let aurora = try device("10.40.0.22")
        // The aurora answered no mDNS question about the appliance: none of its names are there.
        #expect(!aurora.mdns.instances.contains { $0.hasPrefix("RetailNext Store Appliance") })
        #expect(aurora.mdns.hosts == ["rn-aurora.local"])

        let recorder = try device("10.40.0.31")
        #expect(recorder.tlsClients.count >= 2)
        #expect(recorder.tlsClients.reduce(0) { $0 + $1.flows } >= 10)
        #expect(recorder.tlsClients.first?.ja4.hasPrefix("t13d") == true)
        #expect(recorder.uses.contains { $0.transport == "udp" && $0.port == 3478 && $0.service == .stun })
        #expect(recorder.userAgents == ["curl/7.88.1"])

        let camera = try device("10.40.0.51")
        #expect(camera.serverAgents.contains("GStreamer RTSP server"))
        #expect(camera.serves.first { $0.port == 554 }?.service == .rtsp)
        #expect(camera.traffic.flowsOriginated == 0 && camera.uses.isEmpty)
        let phone = try device("10.40.0.62")
        #expect(phone.uses.contains { $0.transport == "tcp" && $0.port == 444 && $0.service == .rtmp })
        #expect(phone.dhcp?.vendorClass == "BEAM iOS")
    }

    /// Bytes each way equal tshark's frame lengths (the truth file) once the frames that carry no
    /// IP (ARP), which no flow holds, are added back by MAC address as the truth file counts them.
    @Test(arguments: ["store-compliant.pcapng", "store-blocked.pcapng"])
    func trafficAgreesWithTshark(capture: String) throws {
        let data = try #require(FileManager.default.contents(atPath: TestPaths.capture(capture) + ".truth.json"))
        let truth = try JSONDecoder().decode(Truth.self, from: data)
        var nonIPSent: [UInt64: UInt64] = [:], nonIPReceived: [UInt64: UInt64] = [:]
        let decoder = PacketDecoder()
        var anomalies = Anomalies()
        for packet in readPackets(TestPaths.capture(capture)).packets {
            var p = DecodedPacket()
            _ = try? decoder.decode(packet.bytes.span, start: .link(packet.linkType), into: &p, anomalies: &anomalies)
            guard p.ipVersion == 0, p.hasMACs else { continue }
            nonIPSent[p.sourceMAC, default: 0] += UInt64(packet.originalLength)
            nonIPReceived[p.destinationMAC, default: 0] += UInt64(packet.originalLength)
        }
        let devices = Self.devices(capture)
        var checked = 0
        for expected in truth.devices {
            let mine = devices.filter { [expected.ip, expected.ipv6].contains($0.address.description) }
            let mac = try #require(mine.first?.mac).bits
            let sent = mine.reduce(0) { $0 + $1.traffic.sentBytes } + nonIPSent[mac, default: 0]
            let received = mine.reduce(0) { $0 + $1.traffic.receivedBytes } + nonIPReceived[mac, default: 0]
            #expect(sent == expected.bandwidth.tx_bytes, "\(expected.ip) sent")
            #expect(received == expected.bandwidth.rx_bytes, "\(expected.ip) received")
            checked += 1
        }
        #expect(checked == 11)
    }
}
