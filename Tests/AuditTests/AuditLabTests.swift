import Analysis
import Audit
import Classify
import Foundation
import Testing
import TestSupport
import Wire

/// The audit against the lab's truth files (`Captures/*.truth.json`, computed by
/// `Captures/lab/truth.py` with tshark): every requirement of every device, every capture.
@Suite struct AuditLabTests {
    static let captures = ["store-compliant.pcapng", "store-compliant.pcap", "store-compliant-ns.pcap", "store-compliant-vlan.pcap",
                           "store-compliant-sll.pcap", "store-compliant-sll2.pcap", "store-compliant-snap256.pcap",
                           "store-compliant-cut.pcap", "store-blocked.pcapng", "store-partial.pcapng", "store-unexpected.pcapng"]

    static func audit(_ capture: String, inventory: Bool = true, window: Double = 5) -> AuditRun.Output {
        let (signatures, problems) = SignatureLoader.load(directories: [TestPaths.root.appendingPathComponent("Signatures").path])
        precondition(problems.isEmpty)
        var options = Auditor.Options()
        if inventory { options.inventory = Inventory.load(file: TestPaths.capture("store-inventory.json")).0 }
        options.bandwidthWindow = Int64(window * 1e9)
        return AuditRun.run(paths: [TestPaths.capture(capture)], capture: CaptureRun.Options(), signatures: signatures,
                            options: options, ieeeData: nil)
    }

    struct TruthDevice: Decodable {
        struct Requirement: Decodable {
            var signature: String
            var id: String
            var status: String
            var outcomes: [String: Int]
        }
        struct Unexpected: Decodable { var flow: String }
        struct Bandwidth: Decodable { var tx_bytes: UInt64; var rx_bytes: UInt64 }
        var ip: String
        var name: String
        var requirements: [Requirement]
        var unexpected: [Unexpected]?
        var bandwidth: Bandwidth
    }

    struct Truth: Decodable { var devices: [TruthDevice] }

    @Test(arguments: captures) func everyRequirementAsTheTruthFileSays(capture: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.capture(capture + ".truth.json")))
        let truth = try JSONDecoder().decode(Truth.self, from: data)
        let result = Self.audit(capture).result
        var compared = 0
        for device in truth.devices {
            let verdict = try #require(result.devices.first { $0.address.description == device.ip }, "\(capture): no device \(device.ip)")
            for want in device.requirements {
                let got = verdict.requirements.first { $0.signature == want.signature && $0.requirement.id == want.id }
                #expect(got?.status.rawValue == want.status, "\(capture) \(device.name) \(want.signature)/\(want.id)")
                let counts = Dictionary(uniqueKeysWithValues: (got?.outcomes ?? [:]).map { ($0.key.rawValue, $0.value) })
                #expect(counts == want.outcomes, "\(capture) \(device.name) \(want.signature)/\(want.id) outcome counts")
                compared += 1
            }
            #expect(verdict.requirements.count == device.requirements.count, "\(capture) \(device.name): requirement count")
            let unexpected = verdict.unexpected.map(\.flow.label).sorted()
            #expect(unexpected == (device.unexpected ?? []).map(\.flow).sorted(), "\(capture) \(device.name): unexpected flows")
            // Frame bytes each way equal tshark's where the device has one address and frames carry
            // Ethernet headers (tshark counts non-IP frames by eth.src, which cooked captures lack).
            if verdict.otherAddresses.isEmpty && !capture.contains("sll") {
                #expect(verdict.bandwidth.sentBytes == device.bandwidth.tx_bytes, "\(capture) \(device.name) tx bytes")
                #expect(verdict.bandwidth.receivedBytes == device.bandwidth.rx_bytes, "\(capture) \(device.name) rx bytes")
            }
        }
        #expect(compared == 70)
    }

    @Test func blockedScenarioSaysHowEachRequirementIsBlocked() throws {
        let result = Self.audit("store-blocked.pcapng").result
        var failures: [String: String] = [:]
        for device in result.devices {
            for r in device.failures { failures["\(device.names.first ?? "?") \(r.signature)/\(r.requirement.id)"] = r.status.rawValue }
        }
        #expect(failures == [
            "rn-appliance retailnext/cloud-service": "blocked_reset",
            "oe-recorder openeye-ows/api": "blocked_icmp",
            "oe-recorder openeye-ows/relay": "handshake_failed",
            "oe-recorder openeye-ows/stun": "blocked_silent",
            "valt-media valt/cloud-ike": "blocked_icmp",
            "valt-media valt/wowza-license": "blocked_silent",
        ])
        // cloud-ike is conditional on VALT Cloud, which the inventory does not say the site has.
        #expect(result.violations(strict: false).map { "\($0.0.names.first!) \($0.1.requirement.id)" }.sorted()
                == ["oe-recorder api", "oe-recorder relay", "oe-recorder stun", "rn-appliance cloud-service", "valt-media wowza-license"])
        let relay = try #require(result.devices.first { $0.names.first == "oe-recorder" }?.requirements.first { $0.requirement.id == "relay" })
        #expect(relay.flows.first?.flow.label == "tcp 10.40.0.31:49256 > 203.0.113.11:443")
        #expect(relay.flows.first?.flow.names == ["r1.us.u5fgb.com"])
    }

    /// Peaks are the busiest window's rate and never under the average: a 36-s capture seen through
    /// a 60-s window is one window, so its peak is its average.
    @Test func bandwidthPeaksAgainstAverages() throws {
        let whole = Self.audit("store-compliant.pcapng", window: 60).result
        #expect(whole.devices.count == 11)
        for device in whole.devices {
            #expect(device.bandwidth.transmitPeak == device.bandwidth.transmitAverage, "\(device.address)")
            #expect(device.bandwidth.receivePeak == device.bandwidth.receiveAverage, "\(device.address)")
        }
        let windows = Self.audit("store-compliant.pcapng", window: 5).result
        let appliance = try #require(windows.devices.first { $0.address.description == "10.40.0.21" }).bandwidth
        #expect(appliance.transmitPeak > appliance.transmitAverage)
        // A whole number of bytes in one 5-s window, at most everything the device sent.
        let peakBytes = appliance.transmitPeak * 5 / 8
        #expect(peakBytes == peakBytes.rounded() && peakBytes < Double(appliance.sentBytes))
    }

    @Test func rolesFromTrafficAlone() throws {
        let result = Self.audit("store-compliant.pcapng", inventory: false).result
        func roles(_ ip: String) -> [String] {
            result.devices.first { $0.address.description == ip }?.roles.map(\.role.description).sorted() ?? []
        }
        #expect(roles("10.40.0.31") == ["openeye-ows/recorder"])  // the client role's evidence is a subset
        #expect(roles("10.40.0.62") == ["valt/beam"])              // RTMP to a device that is a media server
        #expect(roles("10.40.0.21") == ["retailnext/aurora", "retailnext/store-appliance"])
        #expect(result.roleConflicts.map(\.address.description).sorted() == ["10.40.0.21", "10.40.0.22"])
        #expect(result.devices.first { $0.address.description == "10.40.0.31" }?.roles.first?.source == .inferred)
    }

    /// Rules against facts, no capture: each outcome, and what a requirement's matching rests on.
    @Test func outcomesFromFacts() {
        let device = IPAddress("10.0.0.5")!, server = IPAddress("203.0.113.9")!
        func tcp(_ history: String, icmp: [String] = [], hello: Bool = false, answered: Bool = false) -> Outcome {
            AuditFlow(uid: "C1", proto: .tcp, originator: device, originatorPort: 40000, responder: server, responderPort: 443,
                      history: history, icmpErrors: icmp, clientHello: hello, serverHello: answered).outcome(for: device)
        }
        #expect(tcp("ShAdDaFf") == .ok)
        #expect(tcp("Sr") == .blockedReset)
        #expect(tcp("S", icmp: ["3/13"]) == .blockedICMP)
        #expect(tcp("S") == .blockedSilent)
        #expect(tcp("ShADr", hello: true) == .handshakeFailed)
        #expect(tcp("ShADadFf", hello: true, answered: true) == .ok)
        let silentUDP = AuditFlow(uid: "C2", proto: .udp, originator: device, originatorPort: 5000, responder: server, responderPort: 3478)
        #expect(silentUDP.outcome(for: device) == .blockedSilent)
        let answered = AuditFlow(uid: "C3", proto: .udp, originator: device, originatorPort: 5000, responder: server,
                                 responderPort: 3478, responderPackets: 1)
        #expect(answered.outcome(for: device) == .ok)
        let announcement = AuditFlow(uid: "C4", proto: .udp, originator: device, originatorPort: 5353,
                                     responder: IPAddress("224.0.0.251")!, responderPort: 5353)
        #expect(announcement.outcome(for: device) == .ok)
        #expect([Outcome.blockedSilent, .ok, .handshakeFailed].min() == .ok)
    }
}
