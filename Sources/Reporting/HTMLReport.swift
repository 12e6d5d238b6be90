public import Analysis
import Capture
import Classify
public import Audit
public import History
import Wire

/// The nightly report as one self-contained HTML file: inline CSS and SVG, no script and nothing
/// fetched, so it opens offline, attaches to a ticket and prints. It shows what the JSON report
/// holds: a banner with the verdict, what changed since the last night (regressions first), a
/// matrix of devices × requirements coloured by status, then per device the blocked items with
/// how and the evidence, what was never seen, unexpected traffic, a chart of its bandwidth over
/// the night against the vendor's figure, and its last nights as a strip.
public enum HTMLReport {
    public static func render(_ result: AuditResult, run: RunSummary, site: String, strict: Bool,
                              changes: RunChanges?, trend: [RunRecord], tool: (name: String, version: String)) -> String {
        var h = ""
        let violations = result.violations(strict: strict)
        let counts = result.requirementCounts
        let first = run.firstTimestamp, last = run.lastTimestamp
        let period = first.map { Formatting.iso8601($0) + (last.map { " – " + Formatting.iso8601($0) } ?? "") } ?? "no packets"
        h += """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <title>SpanAudit — \(escape(site)) — \(escape(period))</title>
            <style>\(css)</style></head><body>

            """
        let verdictClass = violations.isEmpty ? "good" : "bad"
        let verdict = violations.isEmpty
            ? "Compliant: no required requirement is blocked\(strict ? " or unseen" : "")"
            : "\(violations.count) required requirement\(violations.count == 1 ? " is" : "s are") blocked or failed"
        h += "<header class=\"banner \(verdictClass)\"><h1>\(escape(site))</h1><p class=\"verdict\">\(escape(verdict))</p>"
        h += "<p>\(escape(period)) · \(Formatting.grouped(run.packets)) packets · \(result.devices.count) devices, "
        h += "\(result.devices.filter { !$0.roles.isEmpty }.count) with a vendor role · requirements: "
        h += "<b>\(counts.ok)</b> ok, <b>\(counts.blocked)</b> blocked or failed, <b>\(counts.notSeen)</b> not seen · "
        h += "\(result.unexpectedCount) unexpected flows</p>"
        for input in run.inputs {
            if let error = input.error { h += "<p class=\"warn\">input problem: \(escape(error.description))</p>" }
            if let loss = input.loss { h += "<p class=\"warn\">capture loss: \(escape(loss))</p>" }
        }
        h += "</header>\n"

        if let changes { h += changesSection(changes) }
        h += matrix(result)
        for device in result.devices where !device.roles.isEmpty {
            h += deviceSection(device, trend: trend, window: result.bandwidthWindowSeconds)
        }
        let others = result.devices.filter { $0.roles.isEmpty }
        if !others.isEmpty {
            h += "<section><h2>Other local devices</h2><ul class=\"plain\">"
            for d in others {
                h += "<li>\(escape(d.address.description))\(d.names.first.map { " (\(escape($0)))" } ?? "")"
                h += "\(d.mac.map { " — \(escape($0.description))" } ?? "")\(d.macVendor.map { " \(escape($0))" } ?? "")</li>"
            }
            h += "</ul></section>\n"
        }
        h += "<footer>\(escape(tool.name)) \(escape(tool.version)) · inputs: \(escape(run.inputs.map(\.path).joined(separator: ", ")))"
        h += " · signatures: \(escape(result.signatures.map { "\($0.id) \($0.version)" }.joined(separator: ", ")))</footer>\n"
        h += "</body></html>\n"
        return h
    }

    // MARK: - Sections

    static func changesSection(_ c: RunChanges) -> String {
        var h = "<section class=\"changes\"><h2>Since the previous run"
        if let t = c.previous.firstTimestamp { h += " (\(escape(Formatting.iso8601(Int64(t * 1e9)))))" }
        h += "</h2>"
        if c.regressions.isEmpty {
            h += "<p class=\"good-text\">No regression: nothing that worked is blocked now.</p>"
        } else {
            h += "<h3 class=\"bad-text\">Regressions: \(c.regressions.count) newly blocked or failed</h3><ul>"
            for x in c.regressions { h += "<li class=\"regression\">\(change(x))</li>" }
            h += "</ul>"
        }
        if !c.fixed.isEmpty {
            h += "<h3 class=\"good-text\">Fixed: \(c.fixed.count)</h3><ul>"
            for x in c.fixed { h += "<li>\(change(x))</li>" }
            h += "</ul>"
        }
        var notes: [String] = []
        if !c.newDevices.isEmpty { notes.append("New devices: " + escape(c.newDevices.joined(separator: ", "))) }
        if !c.vanishedDevices.isEmpty { notes.append("Vanished devices: " + escape(c.vanishedDevices.joined(separator: ", "))) }
        for u in c.newUnexpected {
            notes.append("New unexpected destination: \(escape(u.device)) → \(escape(u.proto)) \(escape(u.serverName ?? u.responder)):\(u.responderPort)")
        }
        for b in c.bandwidth {
            notes.append("Bandwidth \(escape(b.device)) \(b.direction): \(escape(AuditReport.rate(b.from))) → \(escape(AuditReport.rate(b.to)))")
        }
        if !notes.isEmpty { h += "<ul>" + notes.map { "<li>\($0)</li>" }.joined() + "</ul>" }
        h += "</section>\n"
        return h
    }

    static func change(_ x: RunChanges.StatusChange) -> String {
        "<b>\(escape(x.device))</b> \(escape(x.signature))/\(escape(x.id)) (\(escape(x.proto)) \(escape(x.ports.joined(separator: ",")))): "
            + "<span class=\"st \(statusClass(x.from))\">\(escape(x.from))</span> → <span class=\"st \(statusClass(x.to))\">\(escape(x.to))</span>"
    }

    /// Per signature: devices holding its roles down, its requirements across, a cell per status.
    static func matrix(_ result: AuditResult) -> String {
        var h = "<section><h2>Devices × requirements</h2>"
        h += "<p class=\"legend\">" + ["ok", "blocked_reset", "blocked_icmp", "blocked_silent", "handshake_failed", "not_seen"].map {
            "<span class=\"st \(statusClass($0))\">\($0)</span>"
        }.joined(separator: " ") + " <span class=\"st na\">—</span> not a requirement of the device</p>"
        for signature in result.signatures {
            let devices = result.devices.filter { d in d.requirements.contains { $0.signature == signature.id } }
            guard !devices.isEmpty else { continue }
            let ids = signature.requirements.map(\.id).filter { id in
                devices.contains { d in d.requirements.contains { $0.signature == signature.id && $0.requirement.id == id } }
            }
            h += "<h3>\(escape(signature.vendor)) (\(escape(signature.id)))</h3><div class=\"scroll\"><table class=\"matrix\"><tr><th></th>"
            for id in ids { h += "<th class=\"rot\"><div>\(escape(id))</div></th>" }
            h += "</tr>"
            for d in devices {
                h += "<tr><th class=\"dev\">\(escape(d.address.description))\(d.names.first.map { "<br><small>\(escape($0))</small>" } ?? "")</th>"
                for id in ids {
                    if let r = d.requirements.first(where: { $0.signature == signature.id && $0.requirement.id == id }) {
                        let s = r.status.rawValue
                        h += "<td class=\"st \(statusClass(s))\" title=\"\(escape("\(id): \(s), \(r.established)/\(r.attempts) established"))\">"
                        h += "\(symbol(s))</td>"
                    } else {
                        h += "<td class=\"st na\">—</td>"
                    }
                }
                h += "</tr>"
            }
            h += "</table></div>"
        }
        h += "</section>\n"
        return h
    }

    static func deviceSection(_ d: DeviceVerdict, trend: [RunRecord], window: Double) -> String {
        var h = "<section class=\"device\"><h2>\(escape(d.address.description))"
        if let name = d.names.first { h += " <small>(\(escape(name)))</small>" }
        h += "</h2><p>" + escape(d.roles.map { "\($0.role)\($0.source == .inferred ? " (inferred)" : "")" }.joined(separator: ", "))
        if let mac = d.mac { h += " · \(escape(mac.description))\(d.macVendor.map { " \(escape($0))" } ?? "")" }
        h += "</p>"
        h += trendStrip(d.address.description, trend: trend)
        let failed = d.requirements.filter { $0.status.isFailure }
        if !failed.isEmpty {
            h += "<h3 class=\"bad-text\">Blocked or failed</h3><table class=\"evidence\"><tr><th>requirement</th><th>how</th>"
            h += "<th>attempts</th><th>evidence (flow, first packet, time)</th></tr>"
            for r in failed {
                h += "<tr><td>\(escape(r.signature))/\(escape(r.requirement.id)) <small>(\(r.requirement.level.rawValue))</small><br>"
                h += "<small>\(escape(AuditReport.what(r)))</small></td>"
                h += "<td class=\"st \(statusClass(r.status.rawValue))\">\(escape(AuditReport.label(r.status)))</td>"
                h += "<td>\(r.attempts)\(escape(AuditReport.outcomeCounts(r)))</td><td>"
                for e in r.flows.filter({ $0.outcome != .ok }).prefix(3) {
                    h += "<code>\(escape(e.flow.label))</code> packet \(e.flow.firstPacket), \(escape(Formatting.iso8601(e.flow.start)))"
                    h += " \(escape(e.flow.connState))"
                    if !e.flow.icmpErrors.isEmpty { h += " icmp \(escape(e.flow.icmpErrors.joined(separator: ",")))" }
                    if !e.flow.names.isEmpty { h += " \(escape(e.flow.names.joined(separator: ",")))" }
                    h += "<br>"
                }
                h += "</td></tr>"
            }
            h += "</table>"
        }
        let unseen = d.requirements.filter { $0.status == .notSeen }
        if !unseen.isEmpty {
            h += "<h3>Not seen</h3><ul>"
            for r in unseen {
                h += "<li>\(escape(r.signature))/\(escape(r.requirement.id)) <small>(\(r.requirement.level.rawValue))</small> \(escape(AuditReport.what(r)))</li>"
            }
            h += "</ul>"
        }
        let fine = d.requirements.filter { $0.status == .ok }
        if !fine.isEmpty {
            h += "<p class=\"ok-list\"><b>ok:</b> " + escape(fine.map { "\($0.requirement.id) (\($0.established)/\($0.attempts))" }.joined(separator: ", ")) + "</p>"
        }
        if !d.unexpected.isEmpty {
            h += "<h3>Unexpected traffic</h3><ul>"
            for u in d.unexpected.prefix(20) {
                h += "<li><code>\(escape(u.flow.label))</code>\(u.flow.service.map { " \(escape($0.name))" } ?? "")"
                h += "\(u.flow.serverName.map { " \(escape($0))" } ?? "") packet \(u.flow.firstPacket) \(escape(u.outcome.rawValue))</li>"
            }
            if d.unexpected.count > 20 { h += "<li>… and \(d.unexpected.count - 20) more</li>" }
            h += "</ul>"
        }
        h += "<h3>Bandwidth</h3>" + chart(d.bandwidth)
        h += "</section>\n"
        return h
    }

    /// The device's last nights, oldest first: red when a requirement failed, grey when one was
    /// not seen, green when all worked, blank when the device was absent.
    static func trendStrip(_ ip: String, trend: [RunRecord]) -> String {
        guard !trend.isEmpty else { return "" }
        var h = "<div class=\"trend\" aria-label=\"last \(trend.count) runs\"><svg width=\"\(trend.count * 14 + 4)\" height=\"18\" role=\"img\">"
        for (i, run) in trend.enumerated() {
            let day = run.firstTimestamp.map { Formatting.iso8601(Int64($0 * 1e9)) } ?? "run \(run.id)"
            let fill: String, what: String
            if let device = run.devices.first(where: { $0.ip == ip }) {
                if device.requirements.contains(where: { RunRecord.failures.contains($0.status) }) {
                    (fill, what) = ("#c62828", "blocked or failed")
                } else if device.requirements.contains(where: { $0.status == "not_seen" }) {
                    (fill, what) = ("#9e9e9e", "something not seen")
                } else {
                    (fill, what) = ("#2e7d32", "all ok")
                }
            } else {
                (fill, what) = ("#ffffff", "absent")
            }
            h += "<rect x=\"\(2 + i * 14)\" y=\"2\" width=\"12\" height=\"14\" fill=\"\(fill)\" stroke=\"#bbb\"><title>\(escape(day)): \(what)</title></rect>"
        }
        h += "</svg> <small>last \(trend.count) run\(trend.count == 1 ? "" : "s"), oldest first</small></div>"
        return h
    }

    /// Transmit and receive over the night, window by window, with the document's figures as
    /// dashed lines.
    static func chart(_ b: BandwidthResult) -> String {
        let summary = "<p><small>tx \(escape(AuditReport.rate(b.transmitAverage))) avg, \(escape(AuditReport.rate(b.transmitPeak))) peak; "
            + "rx \(escape(AuditReport.rate(b.receiveAverage))) avg, \(escape(AuditReport.rate(b.receivePeak))) peak"
            + (b.budget == nil ? "" : " — vendor figure: \(escape(b.status.rawValue))") + "</small></p>"
        guard let series = b.series, !series.transmit.isEmpty else { return summary }
        let width = 720.0, height = 170.0, left = 64.0, bottom = 22.0, top = 8.0, right = 8.0
        var lines: [(value: Double, label: String)] = []
        if let tx = b.budget?.transmitBitsPerSecond { lines.append((tx, "vendor tx \(AuditReport.rate(tx))")) }
        if let rx = b.budget?.receiveBitsPerSecond { lines.append((rx, "vendor rx \(AuditReport.rate(rx))")) }
        if let peak = b.budget?.peakLimitBitsPerSecond { lines.append((peak, "vendor peak \(AuditReport.rate(peak))")) }
        let top0 = max(series.transmit.max() ?? 0, series.receive.max() ?? 0, lines.map(\.value).max() ?? 0, 1)
        let maxY = top0 * 1.15
        let n = series.transmit.count
        func x(_ i: Int) -> Double { left + (n <= 1 ? 0 : Double(i) / Double(n - 1)) * (width - left - right) }
        func y(_ v: Double) -> Double { top + (1 - v / maxY) * (height - top - bottom) }
        func points(_ values: [Double]) -> String {
            // One window (a capture shorter than it): its rate held across the chart.
            if values.count == 1 { return "\(fmt(left)),\(fmt(y(values[0]))) \(fmt(width - right)),\(fmt(y(values[0])))" }
            return values.enumerated().map { "\(fmt(x($0.offset))),\(fmt(y($0.element)))" }.joined(separator: " ")
        }
        var s = "<svg class=\"chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\">"
        s += "<rect x=\"\(fmt(left))\" y=\"\(fmt(top))\" width=\"\(fmt(width - left - right))\" height=\"\(fmt(height - top - bottom))\" fill=\"#fafafa\" stroke=\"#ddd\"/>"
        for fraction in [0.0, 0.5, 1.0] {
            let v = top0 * fraction
            s += "<text x=\"\(fmt(left - 4))\" y=\"\(fmt(y(v) + 4))\" text-anchor=\"end\" class=\"axis\">\(escape(AuditReport.rate(v)))</text>"
        }
        let hours = Double(n) * series.window / 3600
        let ticks = min(8, max(1, Int(hours.rounded(.up))))
        for t in 0...ticks {
            let i = Int(Double(n - 1) * Double(t) / Double(ticks))
            let time = series.start + Int64(Double(i) * series.window * 1e9)
            let label = String(Formatting.iso8601(time).dropFirst(11).prefix(5))
            let anchor = t == 0 ? "start" : t == ticks ? "end" : "middle"
            s += "<text x=\"\(fmt(x(i)))\" y=\"\(fmt(height - 6))\" text-anchor=\"\(anchor)\" class=\"axis\">\(escape(label))</text>"
        }
        for line in lines {
            s += "<line x1=\"\(fmt(left))\" x2=\"\(fmt(width - right))\" y1=\"\(fmt(y(line.value)))\" y2=\"\(fmt(y(line.value)))\" class=\"figure\"/>"
            s += "<text x=\"\(fmt(width - right - 4))\" y=\"\(fmt(y(line.value) - 3))\" text-anchor=\"end\" class=\"figure-label\">\(escape(line.label))</text>"
        }
        s += "<polyline class=\"tx\" points=\"\(points(series.transmit))\"/><polyline class=\"rx\" points=\"\(points(series.receive))\"/>"
        s += "<text x=\"\(fmt(left + 6))\" y=\"\(fmt(top + 12))\" class=\"tx-label\">tx</text>"
        s += "<text x=\"\(fmt(left + 26))\" y=\"\(fmt(top + 12))\" class=\"rx-label\">rx</text>"
        s += "</svg>"
        return s + summary
    }

    // MARK: - Helpers

    static func statusClass(_ status: String) -> String {
        switch status {
        case "ok": "ok"
        case "not_seen": "unseen"
        case "handshake_failed": "handshake"
        default: "blocked"
        }
    }

    static func symbol(_ status: String) -> String {
        switch status {
        case "ok": "✓"
        case "not_seen": "·"
        case "blocked_reset": "RST"
        case "blocked_icmp": "ICMP"
        case "blocked_silent": "⌀"
        case "handshake_failed": "TLS"
        default: "?"
        }
    }

    static func fmt(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    static let css = """
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1100px;padding:0 16px 32px;color:#212121}
        h1{margin:0;font-size:22px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #e0e0e0;padding-bottom:4px}h3{font-size:15px;margin:14px 0 6px}
        .banner{padding:14px 18px;margin:16px 0;border-radius:6px;color:#fff}.banner.good{background:#2e7d32}.banner.bad{background:#c62828}
        .banner p{margin:4px 0}.banner .verdict{font-size:18px;font-weight:600}.warn{background:#fff3;padding:2px 6px;border-radius:3px}
        .good-text{color:#2e7d32}.bad-text{color:#c62828}.regression{font-weight:600}
        .st{display:inline-block;padding:0 5px;border-radius:3px;color:#fff;font-size:12px}
        td.st{display:table-cell;text-align:center;min-width:22px;padding:3px 2px;font-size:11px}
        .ok{background:#2e7d32}.blocked{background:#c62828}.handshake{background:#ef6c00}.unseen{background:#9e9e9e}.na{background:#f5f5f5;color:#bbb}
        .scroll{overflow-x:auto}table{border-collapse:collapse}.matrix th,.matrix td{border:1px solid #fff}
        .matrix th.rot{height:120px;vertical-align:bottom;white-space:nowrap;font-weight:normal;font-size:11px;max-width:26px}
        .matrix th.rot div{transform:rotate(-60deg);transform-origin:left bottom;width:20px;margin-left:12px}
        .matrix{margin-right:90px}
        .matrix th.dev{text-align:left;font-weight:normal;padding-right:10px;white-space:nowrap}
        .evidence{width:100%}.evidence th,.evidence td{border-bottom:1px solid #eee;text-align:left;vertical-align:top;padding:4px 6px}
        code{font-size:12px;background:#f5f5f5;padding:0 3px;border-radius:2px}.legend .st{margin-right:2px}
        .chart .axis{font-size:10px;fill:#757575}.chart .tx{fill:none;stroke:#1565c0;stroke-width:1.5}.chart .rx{fill:none;stroke:#00897b;stroke-width:1.5}
        .chart .figure{stroke:#c62828;stroke-dasharray:5 4;stroke-width:1.2}.chart .figure-label{font-size:10px;fill:#c62828}
        .chart .tx-label{font-size:11px;fill:#1565c0}.chart .rx-label{font-size:11px;fill:#00897b}
        .trend small{color:#757575}.plain{list-style:none;padding-left:0}footer{margin-top:32px;color:#757575;font-size:12px}
        @media print{body{max-width:none}.banner{-webkit-print-color-adjust:exact;print-color-adjust:exact}section{break-inside:avoid-page}
        .st,td.st{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
        """
}
