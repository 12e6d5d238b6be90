public import Analysis
import Classify
import Capture
import Flows
import Wire

/// The one-paragraph run summary `audit` prints on standard error: what was read, how many flows,
/// link types, frames skipped by reason, anomalies by name — and one line per input error.
public enum SummaryText {
    public static func paragraph(_ s: RunSummary, command: String = "audit") -> String {
        var parts: [String] = []
        let live = s.inputs.contains { $0.live != nil }
        let files = live ? (s.inputs.count == 1 ? "1 interface" : "\(s.inputs.count) interfaces")
                         : s.inputs.count == 1 ? "1 input" : "\(s.inputs.count) inputs"
        let formats = Set(s.inputs.compactMap { $0.format?.rawValue }).sorted().joined(separator: ", ")
        var read = (live ? "captured on \(files) (\(s.inputs.map(\.path).joined(separator: ", ")))" : "read \(files)")
            + (formats.isEmpty ? "" : " (\(formats))")
        read += ": \(Formatting.grouped(s.packets)) packets, \(Formatting.bytes(s.wireBytes))"
        if let first = s.firstTimestamp, let last = s.lastTimestamp {
            read += " from \(Formatting.iso8601(first)) over \(Formatting.oneDecimal(Double(last - first) / 1e9)) s"
        }
        parts.append(read)

        var flows = "\(Formatting.grouped(s.flowCount)) flows"
        var ended: [String] = []
        if s.flows.flowsEvicted > 0 { ended.append("\(Formatting.grouped(s.flows.flowsEvicted)) evicted at the flow cap") }
        if s.flows.datagramsReassembled > 0 {
            ended.append("\(Formatting.grouped(s.flows.datagramsReassembled)) fragmented datagrams reassembled")
        }
        if s.flows.icmpErrorsAttributed > 0 {
            ended.append("\(Formatting.grouped(s.flows.icmpErrorsAttributed)) ICMP errors matched to flows")
        }
        if !s.flows.tunnelPackets.isEmpty {
            ended.append("tunnelled packets: " + s.flows.tunnelPackets.sorted { $0.key < $1.key }
                .map { "\($0.key) \(Formatting.grouped($0.value))" }.joined(separator: ", "))
        }
        if !ended.isEmpty { flows += " (" + ended.joined(separator: "; ") + ")" }
        parts.append(flows)
        if let c = s.classification {
            let named = c.flowsByService.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
                .map { "\($0.key.name) \(Formatting.grouped($0.value))" }
            parts.append("services: " + (named.isEmpty ? "none" : named.joined(separator: ", "))
                + "; unclassified \(Formatting.grouped(c.unclassifiedFlows))"
                + " (\(Formatting.grouped(c.packetsInspected)) packets inspected)")
        }

        let links = s.linkTypes.sorted { $0.key < $1.key }.map { "\($0.key.name) \(Formatting.grouped(UInt64($0.value)))" }
        parts.append("link types: " + (links.isEmpty ? "none" : links.joined(separator: ", ")))

        var skipped: [String] = []
        for (type, n) in s.skipped.nonIP.sorted(by: { $0.value > $1.value || ($0.value == $1.value && $0.key.rawValue < $1.key.rawValue) }) {
            skipped.append("\(type.name) \(Formatting.grouped(n))")
        }
        for (link, n) in s.skipped.unsupportedLinkType.sorted(by: { $0.key < $1.key }) {
            skipped.append("unsupported link type \(link.name) \(Formatting.grouped(n))")
        }
        for (reason, n) in s.skipped.malformed.sorted(by: { $0.key < $1.key }) {
            skipped.append("\(reason) \(Formatting.grouped(n))")
        }
        parts.append("frames skipped: " + (skipped.isEmpty ? "none"
            : "\(Formatting.grouped(s.skipped.total)) (" + skipped.joined(separator: ", ") + ")"))

        let anomalies = s.anomalies.nonZero.map { "\($0.anomaly.name) \(Formatting.grouped($0.count))" }
        parts.append("anomalies: " + (anomalies.isEmpty ? "none" : anomalies.joined(separator: ", ")))

        var text = "\(command): " + parts.joined(separator: "; ") + ".\n"
        for input in s.inputs {
            if let offset = input.firstOversnapOffset {
                text += "\(command): warning: \(input.path): byte \(offset): a packet's captured length exceeds the file's snap length (read anyway)\n"
            }
            if let live = input.live {
                text += "\(command): \(input.path): kernel counted \(Formatting.grouped(live.received)) packets, "
                    + "dropped \(Formatting.grouped(live.droppedByKernel)) (buffer full), "
                    + "\(Formatting.grouped(live.droppedByInterface)) by the interface\n"
            }
            if let error = input.error {
                let kept = input.stats.packets > 0 ? " (\(Formatting.grouped(UInt64(input.stats.packets))) packets before it are reported)" : ""
                text += "\(command): error: \(error)\(kept)\n"
            }
        }
        return text
    }
}
