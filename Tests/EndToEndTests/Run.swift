import Analysis
import Classify
import Flows
import Wire
import Foundation
import Reporting
import TestSupport

/// One `audit flows` run in-process: the JSON lines and the summary paragraph.
struct FlowsRun {
    var records: [FlowRecord] = []
    var flows: [ClassifiedFlow] = []
    var jsonl = ""
    var summary: RunSummary

    init(_ names: [String], options: CaptureRun.Options = CaptureRun.Options()) {
        let paths = names.map(TestPaths.capture)
        let output = OutputBuffer.memory()
        let writer = FlowRecordWriter(format: .jsonl, output: output, inputNames: names)
        var collected: [ClassifiedFlow] = []
        summary = CaptureRun.run(paths: paths, options: options) { flow in
            collected.append(flow)
            writer.write(flow)
        }
        flows = collected
        records = collected.map(\.record)
        jsonl = output.text
    }

    /// The summary with the checkout's absolute path removed, for goldens.
    var summaryText: String {
        SummaryText.paragraph(summary, command: "audit flows")
            .replacingOccurrences(of: TestPaths.root.appendingPathComponent("Captures").path + "/", with: "")
    }
}

/// A flow reduced to what must not depend on the capture's file form.
struct FlowShape: Hashable, CustomStringConvertible {
    var key: String
    var counts: String
    var state: String

    init(_ r: FlowRecord, macs: Bool = true, vlan: Bool = true) {
        key = "\(r.protocolNumber.name) \(r.originator):\(r.originatorPort) > \(r.responder):\(r.responderPort)"
            + (vlan ? " vlan \(r.vlan.map(String.init) ?? "-")" : "")
        counts = "\(r.originatorCounters.packets)/\(r.responderCounters.packets) pkts, "
            + "\(r.originatorCounters.ipBytes)/\(r.responderCounters.ipBytes) ip, "
            + "\(r.originatorBytes)/\(r.responderBytes) payload, \(r.icmpErrors)"
        state = "\(r.connState.name) \(r.history.string)"
            + (macs ? " \(r.originatorMAC.map { "\($0)" } ?? "-") \(r.responderMAC.map { "\($0)" } ?? "-")" : "")
    }

    var description: String { "\(key) \(counts) \(state)" }
}
