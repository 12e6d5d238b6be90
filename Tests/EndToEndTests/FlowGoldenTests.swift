import Foundation
import Testing
import TestSupport
@testable import Analysis
@testable import Flows
import Capture
import Wire

/// `audit flows` over every capture in `Captures/`, compared with `Goldens/<capture>.jsonl` and
/// `Goldens/<capture>.summary` (regenerate with `AUDIT_UPDATE_GOLDENS=1 swift test`).
@Suite struct FlowGoldenTests {
    static let captures = [
        "lan.pcap", "lan-ns.pcap", "lan.pcapng", "lan-multi.pcapng", "lan-sll.pcap", "lan-sll2.pcap",
        "lan-snap96.pcap", "lan-vlan.pcap", "lan-be.pcap", "lan-be.pcapng", "lan-tsresol.pcapng", "lan-spb.pcapng",
        "lan-cut.pcap",
        "store-compliant.pcapng", "store-compliant.pcap", "store-compliant-ns.pcap", "store-compliant-sll.pcap",
        "store-compliant-sll2.pcap", "store-compliant-vlan.pcap", "store-compliant-snap256.pcap", "store-compliant-cut.pcap",
        "store-blocked.pcapng", "store-partial.pcapng", "store-unexpected.pcapng",
    ]

    @Test(arguments: captures)
    func goldenFlows(capture: String) {
        let run = FlowsRun([capture])
        if let difference = GoldenFile.check(run.jsonl, target: "EndToEndTests", name: capture + ".jsonl") {
            Issue.record(Comment(rawValue: difference))
        }
        if let difference = GoldenFile.check(run.summaryText, target: "EndToEndTests", name: capture + ".summary") {
            Issue.record(Comment(rawValue: difference))
        }
    }

    @Test func theReferenceConversation() throws {
        let run = FlowsRun(["lan.pcap"])
        #expect(run.summary.packets == 73 && run.summary.flowCount == 16)
        #expect(run.summary.inputStatus == .complete)
        let http = try #require(run.records.first { $0.responderPort == 8080 && $0.ipVersion == 4 })
        #expect(http.connState == .sf && http.history.string == "ShADadfF")
        #expect(http.originatorBytes == 87 && http.responderBytes == 205)
        let rejected = try #require(run.records.first { $0.responderPort == 81 })
        #expect(rejected.connState == .rej && rejected.history.string == "Sr")
        let unanswered = try #require(run.records.first { $0.responderPort == 9999 })
        #expect(unanswered.connState == .s0 && unanswered.icmpErrors == ["3/3"])
        let bigAnswer = try #require(run.records.first { $0.protocolNumber == .udp && $0.responderCounters.packets == 3 })
        #expect(bigAnswer.responderBytes > 2900)
        #expect(run.summary.flows.datagramsReassembled == 1)
        #expect(run.records.filter { $0.ipVersion == 6 }.count == 8)
    }

    @Test func byteOrderDoesNotChangeAnything() {
        #expect(FlowsRun(["lan-be.pcap"]).jsonl == FlowsRun(["lan.pcap"]).jsonl)
        #expect(FlowsRun(["lan-be.pcapng"]).jsonl == FlowsRun(["lan.pcapng"]).jsonl)
    }

    /// The same packets in every capture form give the same flows.
    @Test(arguments: ["lan-ns.pcap", "lan-tsresol.pcapng", "lan-spb.pcapng", "lan-snap96.pcap"])
    func sameFlowsAsPcapng(capture: String) {
        let reference = Set(FlowsRun(["lan.pcapng"]).records.map { FlowShape($0) })
        let other = Set(FlowsRun([capture]).records.map { FlowShape($0) })
        #expect(other == reference, "\(other.symmetricDifference(reference).sorted { $0.key < $1.key })")
    }

    /// Cooked captures record only the sender's link address; everything else agrees.
    @Test(arguments: ["lan-sll.pcap", "lan-sll2.pcap"])
    func cookedCapturesGiveTheSameFlows(capture: String) {
        let reference = Set(FlowsRun(["lan.pcapng"]).records.map { FlowShape($0, macs: false) })
        let cooked = FlowsRun([capture])
        #expect(Set(cooked.records.map { FlowShape($0, macs: false) }) == reference)
        let tcp = cooked.records.first { $0.responderPort == 8080 }
        #expect(tcp?.originatorMAC?.description == "02:00:00:20:00:10")
        #expect(tcp?.responderMAC?.description == "02:00:00:20:00:01")
    }

    @Test func rotatedPartsInAnyOrderGiveTheWholeCapture() {
        let whole = FlowsRun(["lan.pcap"])
        let parts = FlowsRun(["lan-part2.pcap", "lan-part1.pcap"])
        #expect(parts.records.map { FlowShape($0) } == whole.records.map { FlowShape($0) })
        #expect(parts.records.map(\.uid) == whole.records.map(\.uid))
        #expect(parts.records.map(\.start) == whole.records.map(\.start))
        #expect(parts.summary.inputStatus == .complete)
    }

    /// The store's compliant day in every form users send gives the same flows (the VLAN copy adds
    /// its tag; cooked captures record only senders' MAC addresses).
    @Test(arguments: ["store-compliant.pcap", "store-compliant-ns.pcap", "store-compliant-sll.pcap", "store-compliant-sll2.pcap",
                      "store-compliant-vlan.pcap", "store-compliant-snap256.pcap"])
    func storeFormsGiveTheSameFlows(capture: String) throws {
        let reference = Set(FlowsRun(["store-compliant.pcapng"]).records.map { FlowShape($0, macs: false, vlan: false) })
        let other = FlowsRun([capture])
        let shapes = Set(other.records.map { FlowShape($0, macs: false, vlan: false) })
        #expect(shapes == reference, "\(shapes.symmetricDifference(reference).sorted { $0.key < $1.key }.prefix(6))")
        // Every frame tshark read (the truth file's count) is a packet here too.
        let truth = try #require(FileManager.default.contents(atPath: TestPaths.capture(capture) + ".truth.json"))
        let frames = try #require((try JSONSerialization.jsonObject(with: truth) as? [String: Any])?["frames"] as? Int)
        #expect(other.summary.packets == UInt64(frames))
        if capture.contains("vlan") { #expect(other.records.allSatisfy { $0.vlan == 120 }) }
    }

    @Test func vlanTaggedSPANCopy() {
        let run = FlowsRun(["lan-vlan.pcap"])
        #expect(run.records.count == 12)
        #expect(run.records.allSatisfy { $0.vlan == 20 })
        #expect(run.summary.linkTypes == [.ethernet: 70])
    }

    @Test func aCutFileIsPartialInput() throws {
        let run = FlowsRun(["lan-cut.pcap"])
        #expect(run.summary.inputStatus == .partial)
        #expect(run.summary.packets == 38)
        #expect(run.records.count == 7)
        let error = try #require(run.summary.errors.first)
        #expect(error.kind == .truncated && error.offset == 11580)
    }
}
