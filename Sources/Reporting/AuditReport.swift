public import Analysis
public import Audit
import Capture
public import History
import Classify
import Wire

/// The audit report in its three forms: JSON (the contract, `../shared/spec/audit-report.md`),
/// the terminal report a person reads at a glance, and Markdown to paste into a ticket. All three
/// show the same content.
public enum AuditReport {
    public enum Format: String, Sendable, CaseIterable {
        case text, json, markdown
    }

    // MARK: - JSON

    /// `changes`: what moved since the previous run of the site (nightly reports); `series`: each
    /// device's bandwidth window by window (nightly reports draw them).
    public static func json(_ result: AuditResult, run: RunSummary, tool: (name: String, version: String), strict: Bool,
                            changes: RunChanges? = nil, series: Bool = false) -> String {
        let counts = result.requirementCounts
        let violations = result.violations(strict: strict)
        var members: [(String, JSONValue)] = [
            ("tool", .object([("name", .string(tool.name)), ("version", .string(tool.version))])),
            ("inputs", .array(run.inputs.map { input in
                JSONValue.object([
                    ("path", .string(input.path)),
                    ("packets", .integer(Int64(input.stats.packets))),
                    ("bytes", .integer(input.stats.bytes)),
                    ("first_ts", input.stats.firstTimestamp.map { .numberText(Formatting.seconds($0)) }),
                    ("last_ts", input.stats.lastTimestamp.map { .numberText(Formatting.seconds($0)) }),
                    ("link_types", .strings(input.stats.linkTypes.keys.sorted().map(\.name))),
                    ("errors", .strings((input.error.map { [$0.description] } ?? []) + (input.loss.map { [$0] } ?? []))),
                    ("live", input.live.map { live in
                        .object([("received", .integer(Int64(live.received))),
                                 ("dropped_by_kernel", .integer(Int64(live.droppedByKernel))),
                                 ("dropped_by_interface", .integer(Int64(live.droppedByInterface)))])
                    }),
                ], omitEmpty: false)
            })),
            ("signatures", .array(result.signatures.map { s in
                .object([("id", .string(s.id)), ("vendor", .string(s.vendor)), ("version", .string(s.version)),
                         ("document", .string(s.source.document)), ("not_auditable", .strings(s.notAuditable))])
            })),
            ("devices", .array(result.devices.map { json($0, window: result.bandwidthWindowSeconds, series: series) })),
            ("role_conflicts", .array(result.roleConflicts.map { c in
                .object([("device", .string(c.address.description)), ("roles", .strings(c.roles.map(\.description))),
                         ("message", .string(c.message))])
            })),
            ("summary", .object([
                ("compliant", .bool(violations.isEmpty)),
                ("devices", .integer(Int64(result.devices.count))),
                ("devices_with_roles", .integer(Int64(result.devices.filter { !$0.roles.isEmpty }.count))),
                ("requirements", .object([("ok", .integer(Int64(counts.ok))), ("blocked", .integer(Int64(counts.blocked))),
                                          ("not_seen", .integer(Int64(counts.notSeen)))])),
                ("violations", .integer(Int64(violations.count))),
                ("unexpected", .integer(Int64(result.unexpectedCount))),
            ])),
        ]
        if let changes { members.append(("changes", json(changes))) }
        return JSONValue.object(members).rendered(indent: 2) + "\n"
    }

    static func json(_ c: RunChanges) -> JSONValue {
        func change(_ x: RunChanges.StatusChange) -> JSONValue {
            .object([("device", .string(x.device)), ("signature", .string(x.signature)), ("id", .string(x.id)),
                     ("proto", .string(x.proto)), ("ports", .strings(x.ports)), ("from", .string(x.from)), ("to", .string(x.to))])
        }
        var previous: [(String, JSONValue?)] = [("id", .string(String(c.previous.id)))]
        previous.append(("first_ts", c.previous.firstTimestamp.map { .number($0) }))
        previous.append(("last_ts", c.previous.lastTimestamp.map { .number($0) }))
        return .object([
            ("previous_run", JSONValue.object(previous, omitEmpty: false)),
            ("regressions", .array(c.regressions.map(change))),
            ("fixed", .array(c.fixed.map(change))),
            ("new_devices", .strings(c.newDevices)),
            ("vanished_devices", .strings(c.vanishedDevices)),
            ("new_unexpected", .array(c.newUnexpected.map { u in
                JSONValue.object([("device", .string(u.device)), ("proto", .string(u.proto)), ("resp_h", .string(u.responder)),
                                  ("resp_p", .integer(Int64(u.responderPort))), ("server_name", u.serverName.map { .string($0) })],
                                 omitEmpty: false)
            })),
            ("bandwidth", .array(c.bandwidth.map { b in
                .object([("device", .string(b.device)), ("direction", .string(b.direction)),
                         ("from_bps", .integer(Int64(b.from.rounded()))), ("to_bps", .integer(Int64(b.to.rounded())))])
            })),
        ])
    }

    static func json(_ d: DeviceVerdict, window: Double, series: Bool = false) -> JSONValue {
        let roles: [JSONValue] = d.roles.map { r in
            JSONValue.object([("signature", .string(r.role.signature)), ("role", .string(r.role.role)),
                              ("source", .string(r.source.rawValue)), ("evidence", .strings(r.evidence))])
        }
        let unexpected: [JSONValue] = d.unexpected.map(json)
        var members: [(String, JSONValue?)] = [("ip", .string(d.address.description))]
        // The same host's other addresses (its IPv6 ones), when it has any.
        members.append(("other_addresses", d.otherAddresses.isEmpty ? nil : .strings(d.otherAddresses.map(\.description))))
        members.append(("mac", d.mac.map { JSONValue.string($0.description) }))
        members.append(("oui_vendor", d.macVendor.map { JSONValue.string($0) }))
        members.append(("names", .strings(d.names)))
        members.append(("roles", .array(roles)))
        members.append(("requirements", .array(d.requirements.map(json))))
        members.append(("bandwidth", json(d.bandwidth, window: window, series: series)))
        members.append(("unexpected", .array(unexpected)))
        return JSONValue.object(members, omitEmpty: false)
    }

    static func json(_ u: UnexpectedFlow) -> JSONValue {
        var members: [(String, JSONValue?)] = [("uid", .string(u.flow.uid)), ("proto", .string(u.flow.proto.auditName))]
        members.append(("orig_h", .string(u.flow.originator.description)))
        members.append(("orig_p", .integer(Int64(u.flow.originatorPort))))
        members.append(("resp_h", .string(u.flow.responder.description)))
        members.append(("resp_p", .integer(Int64(u.flow.responderPort))))
        members.append(("service", u.flow.service.map { JSONValue.string($0.name) }))
        members.append(("server_name", u.flow.serverName.map { JSONValue.string($0) }))
        members.append(("conn_state", .string(u.flow.connState)))
        members.append(("outcome", .string(u.outcome.rawValue)))
        members.append(("first_packet", .integer(Int64(u.flow.firstPacket))))
        return JSONValue.object(members, omitEmpty: false)
    }

    static func json(_ r: RequirementResult) -> JSONValue {
        let q = r.requirement
        let protocols: JSONValue = q.rule.protocols.count == 1 ? .string(q.rule.protocols[0].auditName) : .strings(q.rule.protocols.map(\.auditName))
        let ports: [JSONValue] = q.allPorts.map { $0.lower == $0.upper ? JSONValue.integer(Int64($0.lower)) : JSONValue.string($0.description) }
        let outcomes: [(String, JSONValue)] = Outcome.allCases.compactMap { o in r.outcomes[o].map { (o.rawValue, JSONValue.integer(Int64($0))) } }
        let observed: [(String, JSONValue)] = [
            ("attempts", .integer(Int64(r.attempts))), ("established", .integer(Int64(r.established))),
            ("outcomes", .object(outcomes)), ("server_names", .strings(r.serverNames)), ("addresses", .strings(r.addresses)),
        ]
        let evidence: [JSONValue] = r.flows.prefix(12).map { e in
            let members: [(String, JSONValue)] = [
                ("uid", .string(e.flow.uid)), ("flow", .string(e.flow.label)), ("outcome", .string(e.outcome.rawValue)),
                ("first_packet", .integer(Int64(e.flow.firstPacket))), ("conn_state", .string(e.flow.connState)),
                ("icmp_errors", .strings(e.flow.icmpErrors)), ("server_names", .strings(e.flow.names)),
            ]
            return JSONValue.object(members)
        }
        var members: [(String, JSONValue?)] = [("signature", .string(r.signature)), ("id", .string(q.id))]
        members.append(("level", .string(q.level.rawValue)))
        members.append(("direction", .string(q.rule.direction.rawValue)))
        members.append(("proto", protocols))
        members.append(("ports", .array(ports)))
        members.append(("hosts", .strings(q.rule.hosts.map(\.description))))
        members.append(("peers", q.rule.peers.map { JSONValue.string(peersText($0)) }))
        members.append(("service", q.rule.service.map { JSONValue.string($0.name) }))
        members.append(("group", q.group.map { JSONValue.string($0) }))
        members.append(("status", .string(r.status.rawValue)))
        members.append(("counts_for_verdict", .bool(r.countsForVerdict)))
        members.append(("flows", .strings(r.flows.map(\.flow.uid))))
        members.append(("observed", .object(observed)))
        members.append(("evidence", .array(evidence)))
        members.append(("why", .string(q.why)))
        return JSONValue.object(members, omitEmpty: false)
    }

    static func json(_ b: BandwidthResult, window: Double, series: Bool = false) -> JSONValue {
        var budget: JSONValue?
        if let x = b.budget {
            var members: [(String, JSONValue?)] = []
            members.append(("tx_bps", x.transmitBitsPerSecond.map { JSONValue.integer(Int64($0)) }))
            members.append(("rx_bps", x.receiveBitsPerSecond.map { JSONValue.integer(Int64($0)) }))
            members.append(("streams", x.streams.map { JSONValue.integer(Int64($0)) }))
            members.append(("tx_bps_peak_limit", x.peakLimitBitsPerSecond.map { JSONValue.integer(Int64($0)) }))
            members.append(("basis", .strings(x.basis)))
            budget = JSONValue.object(members, omitEmpty: false)
        }
        var members: [(String, JSONValue?)] = [("tx_bytes", .unsigned(b.sentBytes)), ("rx_bytes", .unsigned(b.receivedBytes))]
        members.append(("tx_bps_avg", .integer(Int64(b.transmitAverage.rounded()))))
        members.append(("rx_bps_avg", .integer(Int64(b.receiveAverage.rounded()))))
        members.append(("tx_bps_peak", .integer(Int64(b.transmitPeak.rounded()))))
        members.append(("rx_bps_peak", .integer(Int64(b.receivePeak.rounded()))))
        members.append(("window_s", .number(window)))
        members.append(("budget", budget))
        members.append(("status", .string(b.status.rawValue)))
        if series, let x = b.series {
            members.append(("series", .object([
                ("start", .numberText(Formatting.seconds(x.start))), ("window_s", .number(x.window)),
                ("tx_bps", .array(x.transmit.map { .integer(Int64($0.rounded())) })),
                ("rx_bps", .array(x.receive.map { .integer(Int64($0.rounded())) })),
            ])))
        }
        return JSONValue.object(members, omitEmpty: false)
    }

    static func peersText(_ p: PeerRule) -> String {
        switch p {
        case .local: "local"
        case .remote: "remote"
        case .roles(let roles): "roles: " + roles.joined(separator: ", ")
        }
    }

    // MARK: - Text and Markdown

    /// The terminal report: a verdict per device, blocked items first with how and the evidence
    /// (flow, first packet number for Wireshark), then not-seen ones, unexpected traffic and bandwidth.
    public static func text(_ result: AuditResult, run: RunSummary, strict: Bool, markdown: Bool = false,
                            changes: RunChanges? = nil) -> String {
        var out = ""
        let h1 = markdown ? "# " : "", h2 = markdown ? "## " : "", bullet = markdown ? "- " : "    "

        let violations = result.violations(strict: strict)
        let counts = result.requirementCounts
        let packets = run.packets
        out += "\(h1)SpanAudit report: \(run.inputs.map(\.path).joined(separator: ", "))\n"
        if markdown { out += "\n" }
        // A nightly report opens with what changed, regressions first.
        if let changes { out += changesText(changes, markdown: markdown) }
        out += "\(Formatting.grouped(packets)) packets over \(Formatting.oneDecimal(result.captureSeconds)) s; "
        out += "\(result.devices.count) local devices, \(result.devices.filter { !$0.roles.isEmpty }.count) with a vendor role; "
        out += "requirements: \(counts.ok) ok, \(counts.blocked) blocked or failed, \(counts.notSeen) not seen; "
        out += "\(result.unexpectedCount) unexpected flows.\n"
        out += violations.isEmpty
            ? "VERDICT: no required requirement is blocked\(strict ? " or unseen" : "").\n"
            : "VERDICT: \(violations.count) required requirement\(violations.count == 1 ? " is" : "s are") \(strict ? "blocked, failed or unseen" : "blocked or failed").\n"
        for input in run.inputs where input.error != nil { out += "input problem: \(input.error!.description)\n" }
        for input in run.inputs { if let loss = input.loss { out += "capture loss: \(loss); verdicts may miss traffic\n" } }
        for conflict in result.roleConflicts { out += "role conflict at \(conflict.address): \(conflict.message)\n" }
        for device in result.devices where !device.roles.isEmpty {
            out += "\n\(h2)\(device.address)"
            if let name = device.names.first { out += " (\(name))" }
            out += " — " + device.roles.map { "\($0.role)\($0.source == .inferred ? " [inferred]" : "")" }.joined(separator: ", ")
            if let mac = device.mac { out += " — \(mac)\(device.macVendor.map { " \($0)" } ?? "")" }
            out += "\n"
            if markdown { out += "\n" }
            let failed = device.requirements.filter { $0.status.isFailure }
            let unseen = device.requirements.filter { $0.status == .notSeen }
            let fine = device.requirements.filter { $0.status == .ok }
            for r in failed {
                out += "\(bullet)\(markdown ? "**" : "")\(label(r.status))\(markdown ? "**" : "")  \(r.signature)/\(r.requirement.id) (\(r.requirement.level.rawValue)) \(what(r))"
                out += ": \(r.attempts) attempt\(r.attempts == 1 ? "" : "s")\(outcomeCounts(r))\n"
                for e in r.flows.filter({ $0.outcome != .ok }).prefix(3) {
                    out += "\(bullet)    \(markdown ? "`" : "")\(e.flow.label)\(markdown ? "`" : "") packet \(e.flow.firstPacket) \(e.flow.connState)"
                    if !e.flow.icmpErrors.isEmpty { out += " icmp \(e.flow.icmpErrors.joined(separator: ","))" }
                    if !e.flow.names.isEmpty { out += " \(e.flow.names.joined(separator: ","))" }
                    out += "\n"
                }
            }
            for r in unseen {
                out += "\(bullet)not seen  \(r.signature)/\(r.requirement.id) (\(r.requirement.level.rawValue)) \(what(r))\n"
            }
            if !fine.isEmpty {
                out += "\(bullet)ok        " + fine.map { "\($0.requirement.id) (\($0.established)/\($0.attempts))" }.joined(separator: ", ") + "\n"
            }
            for u in device.unexpected.prefix(10) {
                out += "\(bullet)unexpected \(markdown ? "`" : "")\(u.flow.label)\(markdown ? "`" : "")"
                out += "\(u.flow.service.map { " \($0.name)" } ?? "")\(u.flow.serverName.map { " \($0)" } ?? "") packet \(u.flow.firstPacket) \(u.outcome.rawValue)\n"
            }
            if device.unexpected.count > 10 { out += "\(bullet)... and \(device.unexpected.count - 10) more unexpected flows\n" }
            let b = device.bandwidth
            out += "\(bullet)bandwidth tx \(rate(b.transmitAverage)) avg, \(rate(b.transmitPeak)) peak; rx \(rate(b.receiveAverage)) avg, \(rate(b.receivePeak)) peak"
            if let budget = b.budget {
                var parts: [String] = []
                if let tx = budget.transmitBitsPerSecond { parts.append("tx \(rate(tx))") }
                if let rx = budget.receiveBitsPerSecond { parts.append("rx \(rate(rx))") }
                if let peak = budget.peakLimitBitsPerSecond { parts.append("peak under \(rate(peak))") }
                out += " — document: \(parts.joined(separator: ", ")) → \(b.status.rawValue)"
            }
            out += "\n"
        }
        let others = result.devices.filter { $0.roles.isEmpty }
        if !others.isEmpty {
            out += "\n\(h2)Other local devices (no vendor role)\n"
            if markdown { out += "\n" }
            for d in others {
                out += "\(bullet)\(d.address)\(d.names.first.map { " (\($0))" } ?? "")\(d.mac.map { " \($0)" } ?? "")\(d.macVendor.map { " \($0)" } ?? "")\n"
            }
        }
        return out
    }

    /// What changed since the last run, regressions first: the lines cron mail and a ticket
    /// start with.
    public static func changesText(_ c: RunChanges, markdown: Bool) -> String {
        let bullet = markdown ? "- " : "    "
        var out = ""
        let since = c.previous.firstTimestamp.map { Formatting.iso8601(Int64($0 * 1e9)) } ?? "run \(c.previous.id)"
        func line(_ x: RunChanges.StatusChange) -> String {
            "\(bullet)\(x.device) \(x.signature)/\(x.id) (\(x.proto) \(x.ports.joined(separator: ","))): \(x.from) → \(x.to)\n"
        }
        if c.regressions.isEmpty {
            out += "\(markdown ? "**" : "")NO REGRESSIONS\(markdown ? "**" : "") since \(since).\n"
        } else {
            out += "\(markdown ? "**" : "")REGRESSIONS since \(since)\(markdown ? "**" : ""): \(c.regressions.count) requirement\(c.regressions.count == 1 ? "" : "s") newly blocked or failed\n"
            if markdown { out += "\n" }
            for x in c.regressions { out += line(x) }
        }
        if !c.fixed.isEmpty {
            out += "\(markdown ? "\n" : "")fixed since \(since): \(c.fixed.count)\n"
            if markdown { out += "\n" }
            for x in c.fixed { out += line(x) }
        }
        var notes: [String] = []
        if !c.newDevices.isEmpty { notes.append("new devices: \(c.newDevices.joined(separator: ", "))") }
        if !c.vanishedDevices.isEmpty { notes.append("vanished devices: \(c.vanishedDevices.joined(separator: ", "))") }
        if !c.newUnexpected.isEmpty {
            notes.append("new unexpected destinations: " + c.newUnexpected.map {
                "\($0.device) → \($0.proto) \($0.serverName ?? $0.responder):\($0.responderPort)"
            }.joined(separator: ", "))
        }
        for b in c.bandwidth {
            notes.append("bandwidth \(b.device) \(b.direction) \(rate(b.from)) → \(rate(b.to))")
        }
        if !notes.isEmpty {
            if markdown { out += "\n" }
            for n in notes { out += "\(bullet)\(n)\n" }
        }
        out += "\n"
        return out
    }

    static func label(_ status: RequirementStatus) -> String {
        switch status {
        case .ok: "ok"
        case .handshakeFailed: "HANDSHAKE FAILED"
        case .blockedICMP: "BLOCKED (ICMP)"
        case .blockedReset: "BLOCKED (RESET)"
        case .blockedSilent: "BLOCKED (SILENT)"
        case .notSeen: "not seen"
        }
    }

    static func what(_ r: RequirementResult) -> String {
        let q = r.requirement
        var parts = [q.rule.protocols.map(\.auditName).joined(separator: "/")]
        if !q.allPorts.isEmpty { parts[0] += " " + q.allPorts.map(\.description).joined(separator: ",") }
        if !q.rule.hosts.isEmpty { parts.append("to " + q.rule.hosts.map(\.description).joined(separator: ", ")) }
        if let peers = q.rule.peers { parts.append("(\(peersText(peers)))") }
        if q.rule.direction == .inbound { parts.append("inbound") }
        return parts.joined(separator: " ")
    }

    static func outcomeCounts(_ r: RequirementResult) -> String {
        guard r.outcomes.count > 1 || r.outcomes[.ok] != nil else { return "" }
        return " (" + Outcome.allCases.compactMap { o in r.outcomes[o].map { "\($0) \(o.rawValue)" } }.joined(separator: ", ") + ")"
    }

    static func rate(_ bps: Double) -> String {
        if bps >= 1e6 { return Formatting.oneDecimal(bps / 1e6) + " Mbit/s" }
        if bps >= 1e3 { return Formatting.oneDecimal(bps / 1e3) + " kbit/s" }
        return "\(Int(bps.rounded())) bit/s"
    }
}
