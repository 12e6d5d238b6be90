import Foundation
import Testing
import TestSupport
@testable import Flows
import Wire

/// The lab's truth files were computed by tshark; SpanAudit's flows must agree with them on every
/// evidence flow: the flow exists, and its Zeek state tells the same outcome (an independent check
/// of flows, TCP states and ICMP attribution on real traffic).
@Suite struct LabTruthFlowTests {
    struct Evidence: Decodable {
        var flow: String
        var outcome: String
    }
    struct Requirement: Decodable {
        var evidence: [Evidence]
    }
    struct Device: Decodable {
        var ip: String
        var requirements: [Requirement]
    }
    struct Truth: Decodable {
        var devices: [Device]
    }

    /// The conn_state values each outcome allows.
    static let states: [String: Set<ConnState>] = [
        "ok": [.sf, .s1, .s2, .s3, .rsto, .rstr, .oth],
        "handshake_failed": [.rstr, .rsto, .s1, .sf, .s2, .s3],
        "blocked_reset": [.rej],
        "blocked_silent": [.s0, .oth],
        "blocked_icmp": [.s0, .oth],
    ]

    @Test(arguments: ["store-compliant.pcapng", "store-blocked.pcapng", "store-partial.pcapng", "store-unexpected.pcapng",
                      "store-compliant-sll2.pcap", "store-compliant-vlan.pcap"])
    func everyEvidenceFlowAgrees(capture: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.capture(capture + ".truth.json")))
        let truth = try JSONDecoder().decode(Truth.self, from: data)
        let records = FlowsRun([capture]).records
        var byKey: [String: [FlowRecord]] = [:]
        for r in records {
            byKey["\(r.protocolNumber.name) \(r.originator):\(r.originatorPort) > \(r.responder):\(r.responderPort)", default: []].append(r)
        }
        // UDP has no handshake: tshark names the sender of the stream's first packet *it kept*, we the
        // first packet seen, and an RTP receiver's NAT-opening packet can precede the camera's stream.
        // So a UDP evidence flow matches either direction.
        func lookUp(_ flow: String) -> [FlowRecord]? {
            if let found = byKey[flow] { return found }
            guard flow.hasPrefix("udp "), let arrow = flow.range(of: " > ") else { return nil }
            let reversed = "udp " + flow[arrow.upperBound...] + " > " + flow[flow.index(flow.startIndex, offsetBy: 4)..<arrow.lowerBound]
            return byKey[reversed]
        }
        var checked = 0
        for device in truth.devices {
            for requirement in device.requirements {
                for evidence in requirement.evidence {
                    // "tcp 10.40.0.31:52862 > 203.0.113.11:443" (tshark's initiator first, like ours).
                    guard let matches = lookUp(evidence.flow) else {
                        Issue.record("\(capture): no flow \(evidence.flow) (\(evidence.outcome))")
                        continue
                    }
                    checked += 1
                    if evidence.flow.hasPrefix("tcp") {
                        let allowed = Self.states[evidence.outcome] ?? []
                        #expect(matches.contains { allowed.contains($0.connState) },
                                "\(capture) \(evidence.flow): \(evidence.outcome) but \(matches.map(\.connState.name))")
                    }
                    if evidence.outcome == "blocked_icmp" {
                        #expect(matches.contains { !$0.icmpErrors.isEmpty }, "\(capture) \(evidence.flow): no icmp_errors")
                    }
                    if evidence.outcome == "ok" && evidence.flow.hasPrefix("udp") && !evidence.flow.contains("> 224.") && !evidence.flow.contains("> 239.") {
                        // For UDP, `ok` means the device's peer sent something (an answer outbound, the
                        // traffic itself inbound).
                        #expect(matches.contains { ($0.originator.description == device.ip ? $0.responderCounters.packets : $0.originatorCounters.packets) > 0 },
                                "\(capture) \(evidence.flow): nothing from \(device.ip)'s peer")
                    }
                }
            }
        }
        #expect(checked > 60)
    }
}
