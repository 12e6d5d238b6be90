import Audit
import Classify
import Foundation
import Testing
import TestSupport
import Wire

/// The signature files and their schema: the shipped ones lint clean, every problem of a bad one
/// is reported with its line, and host patterns mean one label per `*`.
@Suite struct SignatureTests {
    static let shipped = TestPaths.root.appendingPathComponent("Signatures").path

    @Test func shippedSignaturesLintClean() {
        let (signatures, problems) = SignatureLoader.load(directories: [Self.shipped])
        #expect(problems.isEmpty, "\(problems)")
        #expect(signatures.map(\.id) == ["openeye-ows", "retailnext", "valt"])
        #expect(signatures.map(\.requirements.count) == [17, 25, 26])
        let valt = signatures[2]
        let web = valt.requirements.first { $0.id == "web-application" }!
        #expect(web.level == .conditional)
        #expect(web.allPorts == [PortRange(80), PortRange(443)])
        #expect(web.service(forPort: 80) == .http)
        #expect(web.service(forPort: 443) == .tls)
        let ows = signatures[0]
        let p2p = ows.requirements.first { $0.id == "peer-to-peer" }!
        #expect(p2p.rule.ports == [PortRange(1024, 65_535)])
        #expect(p2p.rule.peers == .remote)
        #expect(!ows.notAuditable.isEmpty)
        let retailnext = signatures[1]
        #expect(retailnext.requirements.first { $0.id == "cloud-service-china" }?.region == "china")
        #expect(retailnext.bandwidth.first?.perStreamBitsPerSecond == 15_000)
    }

    /// `Signatures/README.md` maps each document line to requirement ids: every id it names exists,
    /// and every requirement of the shipped files is named there (a new one needs its line).
    @Test func theDocumentTableNamesEveryRequirement() throws {
        let (signatures, _) = SignatureLoader.load(directories: [Self.shipped])
        let table = try String(contentsOfFile: Self.shipped + "/README.md", encoding: .utf8)
        var named = Set<String>()
        for line in table.split(separator: "\n") where line.hasPrefix("| ") {
            for piece in line.split(separator: "`").enumerated() where piece.offset % 2 == 1 && piece.element.contains("/") {
                named.insert(String(piece.element))
            }
        }
        let defined = Set(signatures.flatMap { s in s.requirements.map { "\(s.id)/\($0.id)" } })
        #expect(defined.count == 68)
        #expect(named.subtracting(defined).isEmpty, "named in the table but not defined: \(named.subtracting(defined).sorted())")
        #expect(defined.subtracting(named).isEmpty, "defined but not in the table: \(defined.subtracting(named).sorted())")
    }

    @Test func everyProblemOfABadFileWithItsLine() {
        let text = """
            schema: 1
            id: broken
            vendor: Test
            source: {document: "a test"}
            roles:
              box: {title: A box}
            requirements:
              - id: one
                roles: [box, ghost]
                direction: sideways
                proto: tcp
                ports: [443, "70000", "900-100"]
                hosts: ["r*.example.com", "*.*", "a..b.com"]
                level: required
                why: "words"
              - id: one
                roles: [box]
                proto: udp
                level: conditional
                colour: blue
                why: "more words"
            """
        let (_, problems) = SignatureLoader.parse(text, file: "broken.yaml")
        let lines = problems.map { "\($0.line): \($0.message)" }
        #expect(lines.contains("9: requirement one: unknown role `ghost`"))
        #expect(lines.contains("10: requirement one: direction `sideways` is neither outbound nor inbound"))
        #expect(lines.contains { $0.hasPrefix("12: requirement one ports: 70000 is not a port") })
        #expect(lines.contains("12: requirement one ports: port range 900-100 runs backwards"))
        #expect(lines.contains { $0.hasPrefix("13: requirement one hosts: r*.example.com: a wildcard must be a whole label") })
        #expect(lines.contains { $0.hasPrefix("13: requirement one hosts: *.* is all wildcards") })
        #expect(lines.contains { $0.hasPrefix("13: requirement one hosts: a..b.com has an empty label") })
        #expect(lines.contains { $0.hasPrefix("20: a requirement: unknown key `colour`") })
        #expect(lines.contains("16: requirement id one is already used at line 8"))
        #expect(lines.contains("19: requirement one: a conditional requirement needs `when` or `variants`"))
        #expect(problems.allSatisfy { $0.description.hasPrefix("broken.yaml:") })
    }

    @Test func malformedYAMLIsOneProblemWithItsLine() {
        let (signature, problems) = SignatureLoader.parse("schema: 1\nid: [unclosed\n", file: "x.yaml")
        #expect(signature == nil)
        #expect(problems.count == 1)
        #expect(problems.first?.line == 3)
        #expect(problems.first?.message.hasPrefix("not valid YAML") == true)
    }

    @Test func duplicateSignatureIdsAcrossFolders() throws {
        let directory = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = try String(contentsOfFile: Self.shipped + "/valt.yaml", encoding: .utf8)
        try copy.write(to: directory.appendingPathComponent("mine.yaml"), atomically: true, encoding: .utf8)
        let (signatures, problems) = SignatureLoader.load(directories: [Self.shipped, directory.path])
        #expect(signatures.count == 3)
        #expect(problems.map(\.message) == ["signature id valt is already used by \(Self.shipped)/valt.yaml"])
    }

    @Test func oneLabelPerWildcard() throws {
        let cloud = try #require(HostPattern("*.cloud.retailnext.net"))
        #expect(cloud.matches(name: "eu1.cloud.retailnext.net"))
        #expect(cloud.matches(name: "EU1.Cloud.RetailNext.net."))
        #expect(!cloud.matches(name: "cloud.retailnext.net"))
        #expect(!cloud.matches(name: "a.b.cloud.retailnext.net"))
        #expect(!cloud.matches(name: "eu1.cloud.retailnext.net.evil.com"))
        let relay = try #require(HostPattern("*.*.u5fgb.com"))
        #expect(relay.matches(name: "r1.us.u5fgb.com"))
        #expect(!relay.matches(name: "stun.u5fgb.com"))
        #expect(!relay.matches(name: "a.r1.us.u5fgb.com"))
        #expect(!relay.matches(name: "r1.us.u5fgb.com.cn"))
        let exact = try #require(HostPattern("restapi.gp4f.com"))
        #expect(exact.matches(name: "restapi.gp4f.com"))
        #expect(!exact.matches(name: "x.restapi.gp4f.com"))
    }

    @Test func addressesAndBlocks() throws {
        let address = try #require(HostPattern("104.154.145.235"))
        #expect(address.matches(address: IPAddress("104.154.145.235")!))
        #expect(!address.matches(address: IPAddress("104.154.145.236")!))
        #expect(address.matches(name: "104.154.145.235"))  // an HTTP Host written as the address
        let block = try #require(HostPattern("35.244.0.0/16"))
        #expect(block.matches(address: IPAddress("35.244.170.41")!))
        #expect(!block.matches(address: IPAddress("35.245.0.1")!))
        let v6 = try #require(HostPattern("ff02::fb"))
        #expect(v6.matches(address: IPAddress("ff02::fb")!))
        #expect(HostPattern("10.0.0.0/33") == nil)
        #expect(HostPattern("") == nil)
        #expect(HostPattern("localhost") == nil)
    }

    @Test func portRanges() throws {
        #expect(try PortRange.parse("443").get() == PortRange(443))
        #expect(try PortRange.parse("1024-65535").get() == PortRange(1024, 65_535))
        #expect((try? PortRange.parse("65536").get()) == nil)
        #expect((try? PortRange.parse("80-").get()) == nil)
        #expect(PortRange(1024, 65_535).contains(1024) && PortRange(1024, 65_535).contains(65_535) && !PortRange(1024, 65_535).contains(1023))
    }

    @Test func inventoryFile() throws {
        let (inventory, problems) = Inventory.load(file: TestPaths.capture("store-inventory.json"))
        #expect(problems.isEmpty)
        let i = try #require(inventory)
        #expect(i.region == "global")
        #expect(i.entries.count == 11)
        let recorder = try #require(i.entry(address: IPAddress("10.40.0.31")!, mac: nil))
        #expect(recorder.roles == [RoleReference("openeye-ows/recorder")!])
        let byMAC = i.entry(address: IPAddress("fd00:40::99")!, mac: MACAddress("00:25:90:40:00:31"))
        #expect(byMAC?.name == "oe-recorder")
        let (_, bad) = Inventory.parse("devices:\n  - {ip: 10.0.0.300, roles: [nope]}\n", file: "inv.yaml")
        #expect(bad.map(\.description) == ["inv.yaml:2: device ip `10.0.0.300` is not an address",
                                           "inv.yaml:2: a device needs ip, ipv6, mac or cidr",
                                           "inv.yaml:2: role `nope` should be signature/role, such as openeye-ows/recorder"])
    }
}
