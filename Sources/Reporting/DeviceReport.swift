public import Devices
import Classify
import Wire

/// `audit devices` output: one block of text per device for people, or one JSON document whose
/// device members use the audit report's names (`ip`, `mac`, `oui_vendor`, `names`, see
/// `../shared/spec/audit-report.md`) so a program reads devices the same way in both.
public enum DeviceReport {
    public enum Format: String, CaseIterable, Sendable {
        case text, json
    }

    // MARK: - JSON

    public static func json(_ devices: [Device], inputs: [String], tool: (name: String, version: String)) -> String {
        let document = JSONValue.object([
            ("tool", .object([("name", .string(tool.name)), ("version", .string(tool.version))])),
            ("inputs", .strings(inputs)),
            ("devices", .array(devices.map(json))),
        ])
        return document.rendered(indent: 2) + "\n"
    }

    public static func json(_ d: Device) -> JSONValue {
        .object([
            ("ip", .string(d.address.description)),
            ("mac", d.mac.map { .string($0.description) }),
            ("other_macs", .strings(d.otherMACs.map(\.description))),
            ("oui_vendor", d.macVendor.map { .string($0) }),
            ("names", .strings(d.names.map(\.name))),
            ("name_sources", .array(d.names.map { .object([("name", .string($0.name)), ("source", .string($0.source.rawValue))]) })),
            ("dhcp", d.dhcp.map { dhcp in
                JSONValue.object([
                    ("host_name", dhcp.hostName.map { .string($0) }),
                    ("vendor_class", dhcp.vendorClass.map { .string($0) }),
                    ("parameter_list", .array(dhcp.parameterList.map { .integer(Int64($0)) })),
                    ("assigned_address", dhcp.assignedAddress.map { .string($0) }),
                    ("messages", .strings(dhcp.messages)),
                ], omitEmpty: true)
            }),
            ("mdns", d.mdns.isEmpty ? nil : JSONValue.object([
                ("hosts", .strings(d.mdns.hosts)), ("services", .strings(d.mdns.services)),
                ("instances", .strings(d.mdns.instances)), ("texts", .strings(d.mdns.texts)),
            ], omitEmpty: true)),
            ("ssdp", d.ssdpServers.isEmpty && d.ssdpLocations.isEmpty ? nil : JSONValue.object([
                ("servers", .strings(d.ssdpServers)), ("locations", .strings(d.ssdpLocations)),
            ], omitEmpty: true)),
            ("user_agents", .strings(d.userAgents)),
            ("server_agents", .strings(d.serverAgents)),
            ("tls_clients", .array(d.tlsClients.map {
                .object([("ja4", .string($0.ja4)), ("flows", .integer(Int64($0.flows))), ("server_names", .strings($0.serverNames))])
            })),
            ("serves", .array(d.serves.map(json))),
            ("uses", .array(d.uses.map(json))),
            ("traffic", .object([
                ("tx_bytes", .unsigned(d.traffic.sentBytes)), ("rx_bytes", .unsigned(d.traffic.receivedBytes)),
                ("tx_ip_bytes", .unsigned(d.traffic.sentIPBytes)), ("rx_ip_bytes", .unsigned(d.traffic.receivedIPBytes)),
                ("tx_packets", .unsigned(d.traffic.sentPackets)), ("rx_packets", .unsigned(d.traffic.receivedPackets)),
                ("flows_originated", .integer(Int64(d.traffic.flowsOriginated))),
                ("flows_answered", .integer(Int64(d.traffic.flowsAnswered))),
                ("local_peers", .integer(Int64(d.traffic.localPeers))),
                ("remote_peers", .integer(Int64(d.traffic.remotePeers))),
                ("first_ts", d.traffic.first == .max ? nil : .numberText(Formatting.seconds(d.traffic.first))),
                ("last_ts", d.traffic.last == .min ? nil : .numberText(Formatting.seconds(d.traffic.last))),
            ], omitEmpty: false)),
        ], omitEmpty: true)
    }

    static func json(_ p: Device.ServicePort) -> JSONValue {
        .object([
            ("proto", .string(p.transport)), ("port", .integer(Int64(p.port))), ("service", p.service.map { .string($0.name) }),
            ("flows", .integer(Int64(p.flows))), ("peers", .integer(Int64(p.peers))),
        ], omitEmpty: false)
    }

    // MARK: - Text

    public static func text(_ devices: [Device]) -> String {
        guard !devices.isEmpty else { return "No local devices in the capture.\n" }
        var out = ""
        for d in devices {
            out += headline(d) + "\n"
            for (label, value) in lines(d) { out += "  " + label.padding(10) + " " + value + "\n" }
            out += "\n"
        }
        out += "\(devices.count) device\(devices.count == 1 ? "" : "s")\n"
        return out
    }

    static func headline(_ d: Device) -> String {
        var parts = [d.address.description]
        if let first = d.names.first { parts.append(first.name) }
        if let mac = d.mac {
            let vendor = d.macVendor ?? (mac.isLocallyAdministered ? "locally administered" : nil)
            parts.append(mac.description + (vendor.map { " (\($0))" } ?? ""))
        }
        return parts.joined(separator: "  ")
    }

    static func lines(_ d: Device) -> [(String, String)] {
        var lines: [(String, String)] = []
        if d.names.count > 0 {
            lines.append(("names", d.names.map { "\($0.name) (\($0.source.rawValue.replacingUnderscores))" }.joined(separator: ", ")))
        }
        if !d.otherMACs.isEmpty { lines.append(("other MACs", d.otherMACs.map(\.description).joined(separator: ", "))) }
        if let dhcp = d.dhcp {
            var parts: [String] = []
            if let host = dhcp.hostName { parts.append("host \(host)") }
            if let vendor = dhcp.vendorClass { parts.append("vendor class \"\(vendor)\"") }
            if !dhcp.parameterList.isEmpty { parts.append("asks " + dhcp.parameterList.map(String.init).joined(separator: ",")) }
            if let assigned = dhcp.assignedAddress { parts.append("lease \(assigned)") }
            lines.append(("dhcp", parts.joined(separator: " · ")))
        }
        if !d.mdns.isEmpty {
            var parts: [String] = []
            if !d.mdns.hosts.isEmpty { parts.append(d.mdns.hosts.joined(separator: ", ")) }
            if !d.mdns.instances.isEmpty { parts.append(d.mdns.instances.joined(separator: ", ")) }
            else if !d.mdns.services.isEmpty { parts.append(d.mdns.services.joined(separator: ", ")) }
            lines.append(("mdns", parts.joined(separator: " · ")))
        }
        if !d.ssdpServers.isEmpty { lines.append(("ssdp", d.ssdpServers.map { "\"\($0)\"" }.joined(separator: ", "))) }
        if !d.userAgents.isEmpty { lines.append(("agents", d.userAgents.map { "\"\($0)\"" }.joined(separator: ", "))) }
        if !d.serverAgents.isEmpty { lines.append(("servers", d.serverAgents.map { "\"\($0)\"" }.joined(separator: ", "))) }
        for (i, fingerprint) in d.tlsClients.prefix(4).enumerated() {
            let names = fingerprint.serverNames.isEmpty ? "" : ": " + fingerprint.serverNames.joined(separator: ", ")
            lines.append((i == 0 ? "tls" : "", "\(fingerprint.ja4) (\(flows(fingerprint.flows))\(names))"))
        }
        if d.tlsClients.count > 4 { lines.append(("", "and \(d.tlsClients.count - 4) more fingerprints")) }
        if !d.serves.isEmpty { lines.append(("serves", ports(d.serves))) }
        if !d.uses.isEmpty { lines.append(("uses", ports(d.uses))) }
        let t = d.traffic
        var traffic = "sent \(Formatting.bytes(t.sentBytes)) in \(Formatting.grouped(t.sentPackets)) packets"
        traffic += " · received \(Formatting.bytes(t.receivedBytes)) in \(Formatting.grouped(t.receivedPackets)) packets"
        traffic += " · \(t.flowsOriginated) out, \(t.flowsAnswered) in"
        traffic += " · peers: \(t.localPeers) local, \(t.remotePeers) remote"
        if t.first != .max { traffic += " · \(Formatting.timeOfDay(t.first))–\(Formatting.timeOfDay(t.last))" }
        lines.append(("traffic", traffic))
        return lines
    }

    static func ports(_ list: [Device.ServicePort]) -> String {
        let shown = list.prefix(8).map { p in
            // Port-less protocols (ICMP, GRE, ESP, IGMP) by name, or number when they have none.
            let place = p.port != 0 ? "\(p.transport)/\(p.port)" : p.transport.first!.isNumber ? "ip proto \(p.transport)" : p.transport
            return place + (p.service.map { " \($0.name)" } ?? "") + " (\(flows(p.flows)))"
        }
        return shown.joined(separator: ", ") + (list.count > 8 ? ", and \(list.count - 8) more" : "")
    }

    static func flows(_ n: Int) -> String { n == 1 ? "1 flow" : "\(n) flows" }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    var replacingUnderscores: String { String(map { $0 == "_" ? " " : $0 }) }
}
