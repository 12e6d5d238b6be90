import Analysis
import Audit
import Foundation
import Reporting
import Testing
import TestSupport

/// The audit report of every lab capture against all shipped signatures and the store's inventory,
/// in its three forms, compared with `Goldens/<capture>.audit.{txt,json,md}` (regenerate with
/// `AUDIT_UPDATE_GOLDENS=1 swift test`, then review the diff like code). MAC vendors are left out
/// so the goldens do not depend on the machine's `ieee-data` version.
@Suite struct AuditReportGoldenTests {
    static let captures = ["store-compliant.pcapng", "store-compliant.pcap", "store-compliant-ns.pcap", "store-compliant-vlan.pcap",
                           "store-compliant-sll.pcap", "store-compliant-sll2.pcap", "store-compliant-snap256.pcap",
                           "store-compliant-cut.pcap", "store-blocked.pcapng", "store-partial.pcapng", "store-unexpected.pcapng"]

    /// The report as `audit CAPTURE --devices Captures/store-inventory.json` prints it (default
    /// 60-s bandwidth window), with the checkout's path removed.
    static func reports(_ capture: String, inventory: Bool = true) -> (text: String, json: String, markdown: String, result: AuditResult) {
        let (signatures, problems) = SignatureLoader.load(directories: [TestPaths.root.appendingPathComponent("Signatures").path])
        precondition(problems.isEmpty, "\(problems)")
        var options = Auditor.Options()
        if inventory { options.inventory = Inventory.load(file: TestPaths.capture("store-inventory.json")).0 }
        options.bandwidthWindow = 60_000_000_000
        let run = AuditRun.run(paths: [TestPaths.capture(capture)], capture: CaptureRun.Options(), signatures: signatures,
                               options: options, ieeeData: nil)
        let folder = TestPaths.root.appendingPathComponent("Captures").path + "/"
        func relative(_ s: String) -> String { s.replacingOccurrences(of: folder, with: "Captures/") }
        return (relative(AuditReport.text(run.result, run: run.summary, strict: false)),
                relative(AuditReport.json(run.result, run: run.summary, tool: ("audit", "golden"), strict: false)),
                relative(AuditReport.text(run.result, run: run.summary, strict: false, markdown: true)),
                run.result)
    }

    @Test(arguments: captures) func goldenReports(capture: String) {
        let reports = Self.reports(capture)
        for (text, suffix) in [(reports.text, "txt"), (reports.json, "json"), (reports.markdown, "md")] {
            if let difference = GoldenFile.check(text, target: "EndToEndTests", name: "\(capture).audit.\(suffix)") {
                Issue.record(Comment(rawValue: difference))
            }
        }
    }

    /// Without an inventory the roles come from traffic; the report says which and lists conflicts.
    @Test func goldenReportWithRolesFromTraffic() {
        let reports = Self.reports("store-compliant.pcapng", inventory: false)
        if let difference = GoldenFile.check(reports.text, target: "EndToEndTests", name: "store-compliant.pcapng.inferred.audit.txt") {
            Issue.record(Comment(rawValue: difference))
        }
        #expect(reports.text.contains("[inferred]"))
        #expect(reports.text.contains("role conflict at 10.40.0.21"))
    }

    /// What the report's first lines say, checked apart from the goldens so a careless regeneration
    /// cannot hide a wrong verdict.
    @Test func verdictLines() throws {
        let compliant = Self.reports("store-compliant.pcapng")
        let lines = compliant.text.split(separator: "\n").map(String.init)
        #expect(lines[0] == "SpanAudit report: Captures/store-compliant.pcapng")
        #expect(lines[2] == "VERDICT: no required requirement is blocked.")
        let blocked = Self.reports("store-blocked.pcapng")
        #expect(blocked.text.split(separator: "\n")[2] == "VERDICT: 5 required requirements are blocked or failed.")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(blocked.json.utf8)) as? [String: Any])
        let summary = try #require(json["summary"] as? [String: Any])
        #expect(summary["compliant"] as? Bool == false)
        #expect(summary["violations"] as? Int == 5)
        #expect(blocked.markdown.hasPrefix("# SpanAudit report: Captures/store-blocked.pcapng\n\n"))
        // The markdown report holds the same evidence flows as the terminal one, in code spans.
        #expect(blocked.markdown.contains("`tcp 10.40.0.31:49256 > 203.0.113.11:443` packet"))
        #expect(blocked.text.contains("tcp 10.40.0.31:49256 > 203.0.113.11:443 packet"))
    }
}
