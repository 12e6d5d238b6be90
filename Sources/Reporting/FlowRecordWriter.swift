public import Flows
import Wire

/// Writes flow records in the formats of `audit flows` (`../shared/spec/flow-records.md`).
///
/// - `jsonl`: one JSON object per line, fields in the contract's order; optional fields absent
///   when unknown. Extra fields after the contract's: `missed_bytes`, `tunnel_parents`,
///   `first_packet` (and `first_packet_file` when several inputs were read).
/// - `tsv`: a Zeek ASCII log (`#separator`, `#fields`, `#types` headers; `-` for unset), readable by
///   `zeek-cut` and every tool that reads conn.log.
/// - `table`: aligned columns for people.
public final class FlowRecordWriter {
    public enum Format: String, Sendable, CaseIterable { case jsonl, tsv, table }

    public let format: Format
    private let output: OutputBuffer
    private let inputNames: [String]
    private var wroteHeader = false
    private var lastTime: Int64 = 0

    /// `inputNames`: the capture paths, to name the file of a flow's first packet when there are several.
    public init(format: Format, output: OutputBuffer, inputNames: [String] = []) {
        self.format = format
        self.output = output
        self.inputNames = inputNames
    }

    public static let zeekFields: [(name: String, type: String)] = [
        ("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"), ("id.resp_h", "addr"),
        ("id.resp_p", "port"), ("proto", "enum"), ("service", "string"), ("duration", "interval"),
        ("orig_bytes", "count"), ("resp_bytes", "count"), ("conn_state", "string"), ("history", "string"),
        ("orig_pkts", "count"), ("resp_pkts", "count"), ("orig_ip_bytes", "count"), ("resp_ip_bytes", "count"),
        ("orig_l2_bytes", "count"), ("resp_l2_bytes", "count"), ("server_name", "string"),
        ("server_name_source", "string"), ("vlan", "int"), ("orig_l2_addr", "string"), ("resp_l2_addr", "string"),
        ("icmp_errors", "vector[string]"), ("missed_bytes", "count"), ("tunnel_parents", "set[string]"),
        ("first_packet", "count"),
    ]

    public func write(_ r: FlowRecord) {
        switch format {
        case .jsonl: output.write(json(r))
        case .tsv: writeTSV(r)
        case .table: writeTable(r)
        }
    }

    /// Ends the output (the TSV `#close` line) and flushes it.
    public func finish() {
        if format == .tsv {
            if !wroteHeader { writeTSVHeader(openedAt: 0) }
            output.write("#close\t\(Formatting.zeekStamp(lastTime))\n")
        }
        output.flush()
    }

    // MARK: - JSON lines

    public func json(_ r: FlowRecord) -> String {
        var s = "{\"ts\":"
        s += Formatting.seconds(r.start)
        s += ",\"uid\":\"" + r.uid + "\""
        s += ",\"id.orig_h\":\"\(r.originator)\",\"id.orig_p\":\(r.originatorPort)"
        s += ",\"id.resp_h\":\"\(r.responder)\",\"id.resp_p\":\(r.responderPort)"
        s += ",\"proto\":\"" + r.protocolNumber.name + "\""
        if let service = r.service { s += ",\"service\":" + Formatting.jsonString(service) }
        s += ",\"duration\":" + Formatting.seconds(r.duration)
        s += ",\"orig_bytes\":\(r.originatorBytes),\"resp_bytes\":\(r.responderBytes)"
        s += ",\"conn_state\":\"" + r.connState.name + "\""
        s += ",\"history\":" + Formatting.jsonString(r.history)
        s += ",\"orig_pkts\":\(r.originatorCounters.packets),\"resp_pkts\":\(r.responderCounters.packets)"
        s += ",\"orig_ip_bytes\":\(r.originatorCounters.ipBytes),\"resp_ip_bytes\":\(r.responderCounters.ipBytes)"
        s += ",\"orig_l2_bytes\":\(r.originatorCounters.wireBytes),\"resp_l2_bytes\":\(r.responderCounters.wireBytes)"
        if let name = r.serverName { s += ",\"server_name\":" + Formatting.jsonString(name) }
        if let source = r.serverNameSource { s += ",\"server_name_source\":" + Formatting.jsonString(source) }
        if let vlan = r.vlan { s += ",\"vlan\":\(vlan)" }
        if let mac = r.originatorMAC { s += ",\"orig_l2_addr\":\"\(mac)\"" }
        if let mac = r.responderMAC { s += ",\"resp_l2_addr\":\"\(mac)\"" }
        if !r.icmpErrors.isEmpty {
            s += ",\"icmp_errors\":[" + r.icmpErrors.map { "\"" + $0 + "\"" }.joined(separator: ",") + "]"
        }
        if r.missedBytes > 0 { s += ",\"missed_bytes\":\(r.missedBytes)" }
        if let parent = r.tunnelParent { s += ",\"tunnel_parents\":[\"" + parent + "\"]" }
        s += ",\"first_packet\":\(r.firstPacket)"
        if inputNames.count > 1 && r.firstInput < inputNames.count {
            s += ",\"first_packet_file\":" + Formatting.jsonString(inputNames[r.firstInput])
        }
        s += "}\n"
        return s
    }

    // MARK: - Zeek TSV

    private func writeTSVHeader(openedAt: Int64) {
        wroteHeader = true
        var h = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n"
        h += "#open\t\(Formatting.zeekStamp(openedAt))\n"
        h += "#fields\t" + Self.zeekFields.map(\.name).joined(separator: "\t") + "\n"
        h += "#types\t" + Self.zeekFields.map(\.type).joined(separator: "\t") + "\n"
        output.write(h)
    }

    private func writeTSV(_ r: FlowRecord) {
        if !wroteHeader { writeTSVHeader(openedAt: r.start) }
        if r.end > lastTime { lastTime = r.end }
        func field(_ s: String?) -> String {
            guard let s else { return "-" }
            if s.isEmpty { return "(empty)" }
            return s.replacing("\t", with: "\\x09").replacing("\n", with: "\\x0a")
        }
        let columns: [String] = [
            Formatting.seconds(r.start), r.uid, "\(r.originator)", "\(r.originatorPort)", "\(r.responder)",
            "\(r.responderPort)", r.protocolNumber.name, field(r.service), Formatting.seconds(r.duration),
            "\(r.originatorBytes)", "\(r.responderBytes)", r.connState.name, r.history.isEmpty ? "-" : r.history,
            "\(r.originatorCounters.packets)", "\(r.responderCounters.packets)",
            "\(r.originatorCounters.ipBytes)", "\(r.responderCounters.ipBytes)",
            "\(r.originatorCounters.wireBytes)", "\(r.responderCounters.wireBytes)",
            field(r.serverName), field(r.serverNameSource), r.vlan.map { "\($0)" } ?? "-",
            r.originatorMAC.map { "\($0)" } ?? "-", r.responderMAC.map { "\($0)" } ?? "-",
            r.icmpErrors.isEmpty ? "-" : r.icmpErrors.joined(separator: ","), "\(r.missedBytes)",
            r.tunnelParent ?? "-", "\(r.firstPacket)",
        ]
        output.write(columns.joined(separator: "\t") + "\n")
    }

    // MARK: - Table

    private func writeTable(_ r: FlowRecord) {
        if !wroteHeader {
            wroteHeader = true
            output.write(Self.row(["time (UTC)", "proto", "originator", "", "responder", "service", "state",
                                   "pkts o/r", "bytes o/r", "duration", "history"]))
        }
        func endpoint(_ a: IPAddress, _ p: UInt16) -> String {
            let hasPorts = r.protocolNumber.hasPorts
            let text = a.isIPv4 ? "\(a)" : "[\(a)]"
            return hasPorts ? "\(text):\(p)" : text
        }
        output.write(Self.row([
            Formatting.timeOfDay(r.start), r.protocolNumber.name, endpoint(r.originator, r.originatorPort), "→",
            endpoint(r.responder, r.responderPort), r.service ?? "-", r.connState.name,
            "\(r.originatorCounters.packets)/\(r.responderCounters.packets)",
            "\(Formatting.bytes(r.originatorCounters.wireBytes))/\(Formatting.bytes(r.responderCounters.wireBytes))",
            Formatting.oneDecimal(Double(r.duration) / 1e9) + "s", r.history.isEmpty ? "-" : r.history,
        ]))
    }

    private static let widths = [12, 6, 22, 1, 22, 8, 6, 11, 20, 8, 0]

    private static func row(_ columns: [String]) -> String {
        var line = ""
        for (i, c) in columns.enumerated() {
            line += c
            let width = i < widths.count ? widths[i] : 0
            if i < columns.count - 1 {
                line += String(repeating: " ", count: max(1, width - c.count + 1))
            }
        }
        return line + "\n"
    }
}
