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
        var flows: [FlowTruth]
    }
    struct FlowTruth: Decodable {
        var flow: String
        var service: String?
        var server_names: [String]
        var server_name_source: String?
    }

    static let captures = ["store-compliant.pcapng", "store-compliant.pcap", "store-compliant-ns.pcap",
                           "store-compliant-sll.pcap", "store-compliant-sll2.pcap", "store-compliant-vlan.pcap",
                           "store-compliant-snap256.pcap", "store-compliant-cut.pcap", "store-blocked.pcapng",
                           "store-partial.pcapng", "store-unexpected.pcapng"]

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

extension LabTruthFlowTests {
    /// Every TCP and UDP flow of every lab capture gets the service and server name tshark gives it
    /// (`truth.py`'s `flows`: the service from tshark's dissectors, the name from SNI, CONNECT, Host,
    /// the RTSP URL, or DNS answers seen before the flow began).
    @Test(arguments: LabTruthFlowTests.captures)
    func everyFlowHasItsServiceAndServerName(capture: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.capture(capture + ".truth.json")))
        let truth = try JSONDecoder().decode(Truth.self, from: data)
        var byKey: [String: [FlowRecord]] = [:]
        for r in FlowsRun([capture]).records {
            byKey["\(r.protocolNumber.name) \(r.originator):\(r.originatorPort) > \(r.responder):\(r.responderPort)", default: []].append(r)
            if r.protocolNumber == .udp {
                byKey["udp \(r.responder):\(r.responderPort) > \(r.originator):\(r.originatorPort)", default: []].append(r)
            }
        }
        // tshark does not read TLS records a snap length cut: where its truth falls back to DNS or the
        // CONNECT line, ours may come from the SNI, which a lax parse still finds whole.
        let snapped = capture.contains("snap")
        var services = 0, names = 0
        for flow in truth.flows {
            let matches = try #require(byKey[flow.flow], "\(capture): no flow \(flow.flow)")
            if let service = flow.service {
                services += 1
                #expect(matches.contains { $0.service == service },
                        "\(capture) \(flow.flow): service \(matches.map { $0.service ?? "-" }), tshark \(service)")
            }
            if flow.server_names.isEmpty {
                #expect(matches.allSatisfy { $0.serverName == nil },
                        "\(capture) \(flow.flow): server name \(matches.compactMap(\.serverName)), tshark none")
                continue
            }
            names += 1
            let named = matches.filter { $0.serverName.map(flow.server_names.contains) ?? false }
            #expect(!named.isEmpty, "\(capture) \(flow.flow): server name \(matches.map { $0.serverName ?? "-" }), tshark \(flow.server_names)")
            let sourceAgrees = named.contains { $0.serverNameSource == flow.server_name_source }
                || (snapped && named.contains { $0.serverNameSource == "sni" })
            #expect(sourceAgrees, "\(capture) \(flow.flow): source \(named.map { $0.serverNameSource ?? "-" }), tshark \(flow.server_name_source ?? "-")")
        }
        #expect(services > 100 && names > 50)
    }
}
