public import Classify
public import Flows
import Wire

/// Writes flow records in the formats of `audit flows` (`../shared/spec/flow-records.md`).
///
/// - `jsonl`: one JSON object per line, fields in the contract's order; optional fields absent
///   when unknown. Extra fields after the contract's: `missed_bytes`, `tunnel_parents`,
///   `first_packet` (and `first_packet_file` when several inputs were read); then what
///   classification learned: `services` (when a flow carried several), one object per protocol
///   (`tls`, `http`, `dns`, ...), and `notes`.
/// - `tsv`: a Zeek ASCII log (`#separator`, `#fields`, `#types` headers; `-` for unset), readable by
///   `zeek-cut` and every tool that reads conn.log.
/// - `table`: aligned columns for people.
///
/// `@unchecked Sendable`: a writer is used by one thread at a time — during a concurrent run by the
/// thread that finishes flows, and by the caller once the run returned (which waits for it).
public final class FlowRecordWriter: @unchecked Sendable {
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
        case .jsonl:
            output.withWriter { appendJSON(r, facts: nil, to: &$0) }
        case .tsv: writeTSV(r)
        case .table: writeTable(r)
        }
    }

    /// Writes a flow with what classification learned (JSON lines carry every fact; TSV and the
    /// table the contract's service and server name).
    public func write(_ flow: ClassifiedFlow) {
        switch format {
        case .jsonl:
            output.withWriter { appendJSON(flow.record, facts: flow.facts, to: &$0) }
        case .tsv: writeTSV(flow.record)
        case .table: writeTable(flow.record)
        }
    }

    /// Puts what was written so far out (a live run's flows as they end).
    public func flush() { output.flush() }

    /// Ends the output (the TSV `#close` line) and flushes it.
    public func finish() {
        if format == .tsv {
            if !wroteHeader { writeTSVHeader(openedAt: 0) }
            output.write("#close\t\(Formatting.zeekStamp(lastTime))\n")
        }
        output.flush()
    }

    // MARK: - JSON lines

    /// One JSON line for `r`, fields in the contract's order.
    public func json(_ r: FlowRecord, facts: FlowFacts? = nil) -> String {
        var w = ByteWriter(capacity: 4096)
        appendJSON(r, facts: facts, to: &w)
        return String(decoding: w.written, as: UTF8.self)
    }

    /// Room one record can need: fixed fields, two IPv6 addresses, and every string escaped.
    private func maximumJSONLength(_ r: FlowRecord) -> Int {
        var strings = (r.service?.utf8.count ?? 0) + (r.serverName?.utf8.count ?? 0)
        strings += r.serverNameSource?.utf8.count ?? 0
        if inputNames.count > 1 && r.firstInput < inputNames.count { strings += inputNames[r.firstInput].utf8.count }
        return 1024 + 6 * strings + 16 * r.icmpErrors.count
    }

    func appendJSON(_ r: FlowRecord, facts: FlowFacts?, to w: inout ByteWriter) {
        let file = inputNames.count > 1 && r.firstInput < inputNames.count ? inputNames[r.firstInput] : nil
        w.write(reserving: maximumJSONLength(r)) { o, at in
            o.put("{\"ts\":", &at)
            o.putSeconds(r.start, &at)
            o.put(",\"uid\":\"", &at)
            o.putUID(r.uidNumber, &at)
            o.put("\",\"id.orig_h\":\"", &at)
            o.putAddress(r.originator, &at)
            o.put("\",\"id.orig_p\":", &at)
            o.putDecimal(UInt64(r.originatorPort), &at)
            o.put(",\"id.resp_h\":\"", &at)
            o.putAddress(r.responder, &at)
            o.put("\",\"id.resp_p\":", &at)
            o.putDecimal(UInt64(r.responderPort), &at)
            o.put(",\"proto\":\"", &at)
            if let name = r.protocolNumber.knownName {
                o.put(name, &at)
            } else {
                o.putDecimal(UInt64(r.protocolNumber.rawValue), &at)
            }
            o.put(UInt8(ascii: "\""), &at)
            if let service = r.service {
                o.put(",\"service\":", &at)
                o.putJSONString(service, &at)
            }
            o.put(",\"duration\":", &at)
            o.putSeconds(r.duration, &at)
            o.put(",\"orig_bytes\":", &at)
            o.putDecimal(r.originatorBytes, &at)
            o.put(",\"resp_bytes\":", &at)
            o.putDecimal(r.responderBytes, &at)
            o.put(",\"conn_state\":\"", &at)
            o.put(r.connState.label, &at)
            o.put("\",\"history\":\"", &at)
            o.putHistory(r.history, &at)
            o.put("\",\"orig_pkts\":", &at)
            o.putDecimal(r.originatorCounters.packets, &at)
            o.put(",\"resp_pkts\":", &at)
            o.putDecimal(r.responderCounters.packets, &at)
            o.put(",\"orig_ip_bytes\":", &at)
            o.putDecimal(r.originatorCounters.ipBytes, &at)
            o.put(",\"resp_ip_bytes\":", &at)
            o.putDecimal(r.responderCounters.ipBytes, &at)
            o.put(",\"orig_l2_bytes\":", &at)
            o.putDecimal(r.originatorCounters.wireBytes, &at)
            o.put(",\"resp_l2_bytes\":", &at)
            o.putDecimal(r.responderCounters.wireBytes, &at)
            if let name = r.serverName {
                o.put(",\"server_name\":", &at)
                o.putJSONString(name, &at)
            }
            if let source = r.serverNameSource {
                o.put(",\"server_name_source\":", &at)
                o.putJSONString(source, &at)
            }
            if let vlan = r.vlan {
                o.put(",\"vlan\":", &at)
                o.putDecimal(UInt64(vlan), &at)
            }
            if let mac = r.originatorMAC {
                o.put(",\"orig_l2_addr\":\"", &at)
                o.putMAC(mac, &at)
                o.put(UInt8(ascii: "\""), &at)
            }
            if let mac = r.responderMAC {
                o.put(",\"resp_l2_addr\":\"", &at)
                o.putMAC(mac, &at)
                o.put(UInt8(ascii: "\""), &at)
            }
            if !r.icmpErrors.isEmpty {
                o.put(",\"icmp_errors\":[", &at)
                for (i, e) in r.icmpErrors.enumerated() {
                    if i > 0 { o.put(UInt8(ascii: ","), &at) }
                    o.putJSONString(e, &at)
                }
                o.put(UInt8(ascii: "]"), &at)
            }
            if r.missedBytes > 0 {
                o.put(",\"missed_bytes\":", &at)
                o.putDecimal(r.missedBytes, &at)
            }
            if let parent = r.tunnelParentNumber {
                o.put(",\"tunnel_parents\":[\"", &at)
                o.putUID(parent, &at)
                o.put("\"]", &at)
            }
            o.put(",\"first_packet\":", &at)
            o.putDecimal(UInt64(r.firstPacket), &at)
            if let file {
                o.put(",\"first_packet_file\":", &at)
                o.putJSONString(file, &at)
            }
        }
        if let facts { FactJSON.append(facts, to: &w) }
        w.write(reserving: 2) { o, at in o.put("}\n", &at) }
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
            "\(r.originatorBytes)", "\(r.responderBytes)", r.connState.name, r.history.isEmpty ? "-" : r.history.string,
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
            output.write(Self.row(["time (UTC)", "proto", "originator", "", "responder", "service", "server",
                                   "state", "pkts o/r", "bytes o/r", "duration", "history"]))
        }
        func endpoint(_ a: IPAddress, _ p: UInt16) -> String {
            let hasPorts = r.protocolNumber.hasPorts
            let text = a.isIPv4 ? "\(a)" : "[\(a)]"
            return hasPorts ? "\(text):\(p)" : text
        }
        output.write(Self.row([
            Formatting.timeOfDay(r.start), r.protocolNumber.name, endpoint(r.originator, r.originatorPort), "→",
            endpoint(r.responder, r.responderPort), r.service ?? "-", Self.shortened(r.serverName ?? "-", 28),
            r.connState.name,
            "\(r.originatorCounters.packets)/\(r.responderCounters.packets)",
            "\(Formatting.bytes(r.originatorCounters.wireBytes))/\(Formatting.bytes(r.responderCounters.wireBytes))",
            Formatting.oneDecimal(Double(r.duration) / 1e9) + "s", r.history.isEmpty ? "-" : r.history.string,
        ]))
    }

    private static let widths = [12, 6, 22, 1, 22, 9, 28, 6, 11, 20, 8, 0]

    /// `text`, or its last `width - 1` characters after an ellipsis (a name's end tells most).
    static func shortened(_ text: String, _ width: Int) -> String {
        text.count <= width ? text : "…" + text.suffix(width - 1)
    }

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
