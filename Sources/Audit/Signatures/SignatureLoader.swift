import Classify
import Foundation
import Wire
import Yams

/// A problem in a signature or inventory file, where it is.
public struct SignatureProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var message: String

    public var description: String { line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)" }
}

/// Reads signature files: every problem at once, each with its line, and the signatures that
/// were sound enough to use.
///
/// Contract: unknown keys, wrong types, bad ports and ranges, malformed hosts and wildcards,
/// unknown protocols, services, levels, roles, settings and regions, duplicate requirement ids and
/// duplicate signature ids are problems; a signature with any problem is still returned (as much
/// of it as was understood) so that `lint` can report everything, but `audit` refuses to run on
/// problems.
public enum SignatureLoader {
    /// Where the signatures shipped with SpanAudit are: `$AUDIT_SIGNATURES`, else the `Signatures`
    /// folder of the checkout the executable was built in, else `/usr/share/spanaudit/signatures`.
    public static func defaultDirectory(executable: String = CommandLine.arguments.first ?? "") -> String? {
        if let fromEnvironment = ProcessInfo.processInfo.environment["AUDIT_SIGNATURES"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        var url = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            let candidate = url.appendingPathComponent("Signatures")
            if hasYAML(candidate.path) { return candidate.path }
            url.deleteLastPathComponent()
        }
        for path in ["/usr/share/spanaudit/signatures", "Signatures"] where hasYAML(path) { return path }
        return nil
    }

    static func hasYAML(_ directory: String) -> Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).contains { $0.hasSuffix(".yaml") }
    }

    /// Every `*.yaml` of `directories`, in name order per directory.
    public static func load(directories: [String]) -> (signatures: [Signature], problems: [SignatureProblem]) {
        var signatures: [Signature] = []
        var problems: [SignatureProblem] = []
        for directory in directories {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
                problems.append(SignatureProblem(file: directory, line: 0, message: "cannot read this folder of signatures"))
                continue
            }
            for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
                let path = (directory as NSString).appendingPathComponent(name)
                let (signature, found) = load(file: path)
                problems += found
                if let signature {
                    if let other = signatures.first(where: { $0.id == signature.id }) {
                        problems.append(SignatureProblem(file: path, line: 1,
                            message: "signature id \(signature.id) is already used by \(other.file)"))
                    } else {
                        signatures.append(signature)
                    }
                }
            }
        }
        return (signatures, problems)
    }

    public static func load(file path: String) -> (Signature?, [SignatureProblem]) {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            return (nil, [SignatureProblem(file: path, line: 0, message: "cannot read the file as UTF-8 text")])
        }
        return parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) -> (Signature?, [SignatureProblem]) {
        var reader = NodeReader(file: file)
        guard let root = reader.compose(text) else { return (nil, reader.problems) }
        let signature = reader.signature(root)
        return (signature, reader.problems)
    }
}

/// Walks a YAML tree, noting every problem with its line.
struct NodeReader {
    let file: String
    var problems: [SignatureProblem] = []

    init(file: String) { self.file = file }

    mutating func note(_ node: Node?, _ message: String) {
        problems.append(SignatureProblem(file: file, line: node?.mark?.line ?? 0, message: message))
    }

    /// The YAML tree of `text`, or nil with the problem noted (its line when the parser gives one).
    mutating func compose(_ text: String) -> Node? {
        do {
            guard let node = try Yams.compose(yaml: text) else {
                note(nil, "the file is empty")
                return nil
            }
            return node
        } catch let error as YamlError {
            problems.append(problem(from: error))
        } catch {
            note(nil, "\(error)")
        }
        return nil
    }

    func problem(from error: YamlError) -> SignatureProblem {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return SignatureProblem(file: file, line: mark.line, message: "not valid YAML: \(problem)")
        default:
            return SignatureProblem(file: file, line: 0, message: "not valid YAML: \(error)")
        }
    }

    /// The entries of a mapping, noting keys not in `known`.
    mutating func mapping(_ node: Node?, _ what: String, known: Set<String>) -> [String: Node]? {
        guard let node else { return nil }
        guard let mapping = node.mapping else {
            note(node, "\(what) should be a mapping (key: value)")
            return nil
        }
        var out: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.string else { note(key, "\(what): a key should be text"); continue }
            if !known.contains(name) {
                note(key, "\(what): unknown key `\(name)` (expected one of: \(known.sorted().joined(separator: ", ")))")
                continue
            }
            if out[name] != nil { note(key, "\(what): `\(name)` is given twice") }
            out[name] = value
        }
        return out
    }

    mutating func string(_ node: Node?, _ what: String, required: Bool = false, parent: Node? = nil) -> String? {
        guard let node else {
            if required { note(parent, "\(what) is missing") }
            return nil
        }
        guard let scalar = node.scalar, !scalar.string.isEmpty else {
            note(node, "\(what) should be text")
            return nil
        }
        return scalar.string
    }

    mutating func strings(_ node: Node?, _ what: String) -> [String] {
        guard let node else { return [] }
        if let scalar = node.scalar { return [scalar.string] }
        guard let sequence = node.sequence else { note(node, "\(what) should be a list"); return [] }
        var out: [String] = []
        for item in sequence {
            if let s = item.scalar?.string { out.append(s) } else { note(item, "\(what): each item should be text") }
        }
        return out
    }

    mutating func ports(_ node: Node?, _ what: String) -> [PortRange] {
        guard let node else { return [] }
        let items = node.sequence.map(Array.init) ?? [node]
        var out: [PortRange] = []
        for item in items {
            guard let text = item.scalar?.string else { note(item, "\(what): a port should be a number or a range"); continue }
            switch PortRange.parse(text) {
            case .success(let range): out.append(range)
            case .failure(let error): note(item, "\(what): \(error)")
            }
        }
        return out
    }

    mutating func hosts(_ node: Node?, _ what: String) -> [HostPattern] {
        guard let node else { return [] }
        guard let sequence = node.sequence else { note(node, "\(what) should be a list of hosts"); return [] }
        var out: [HostPattern] = []
        for item in sequence {
            guard let text = item.scalar?.string else { note(item, "\(what): a host should be text"); continue }
            switch HostPattern.parse(text) {
            case .success(let pattern): out.append(pattern)
            case .failure(let error): note(item, "\(what): \(error)")
            }
        }
        return out
    }

    mutating func conditions(_ node: Node?, _ what: String) -> [String: String] {
        guard let node else { return [:] }
        guard let mapping = node.mapping else { note(node, "\(what) should be a mapping such as {ssl: enabled}"); return [:] }
        var out: [String: String] = [:]
        for (key, value) in mapping {
            guard let k = key.string, let v = value.scalar?.string else { note(key, "\(what): expected name: value"); continue }
            out[k] = v
        }
        return out
    }

    static let ruleKeys: Set<String> = ["direction", "proto", "ports", "hosts", "peers", "service"]

    /// The parts of a requirement or an identify rule that say which flows count.
    mutating func rule(_ fields: [String: Node], _ what: String, node: Node) -> TrafficRule {
        var rule = TrafficRule()
        if let text = string(fields["direction"], "\(what) direction") {
            if let d = TrafficDirection(rawValue: text) { rule.direction = d } else {
                note(fields["direction"], "\(what): direction `\(text)` is neither outbound nor inbound")
            }
        }
        for name in strings(fields["proto"], "\(what) proto") {
            if let p = IPProtocol(auditName: name) { rule.protocols.append(p) } else {
                note(fields["proto"], "\(what): unknown protocol `\(name)` (tcp, udp, icmp, gre, esp, sctp, or a number)")
            }
        }
        if fields["proto"] == nil { note(node, "\(what): proto is missing") }
        rule.ports = ports(fields["ports"], "\(what) ports")
        if !rule.ports.isEmpty && !rule.protocols.allSatisfy({ $0 == .tcp || $0 == .udp || $0 == .sctp }) {
            note(fields["ports"], "\(what): ports only mean something for tcp, udp and sctp")
        }
        rule.hosts = hosts(fields["hosts"], "\(what) hosts")
        if let peers = fields["peers"] {
            if let text = peers.scalar?.string {
                switch text {
                case "local": rule.peers = .local
                case "remote": rule.peers = .remote
                default: note(peers, "\(what): peers `\(text)` is not local, remote or {roles: [...]}")
                }
            } else if let fields = mapping(peers, "\(what) peers", known: ["roles"]) {
                rule.peers = .roles(strings(fields["roles"], "\(what) peers roles"))
            }
            if !rule.hosts.isEmpty { note(peers, "\(what): give hosts or peers, not both") }
        }
        if let text = string(fields["service"], "\(what) service") {
            if let s = Service(name: text) { rule.service = s } else {
                note(fields["service"], "\(what): unknown service `\(text)` (\(Service.allCases.map(\.name).joined(separator: ", ")))")
            }
        }
        return rule
    }

    mutating func signature(_ root: Node) -> Signature? {
        let known: Set<String> = ["schema", "id", "vendor", "product", "version", "source", "regions", "settings", "roles",
                                  "requirements", "bandwidth", "not_auditable"]
        guard let top = mapping(root, "the signature", known: known) else { return nil }
        if let schema = top["schema"] {
            if schema.int != 1 { note(schema, "schema \(schema.string ?? "?") is not supported (this audit reads schema 1)") }
        } else {
            note(root, "schema is missing (schema: 1)")
        }
        let id = string(top["id"], "id", required: true, parent: root) ?? ""
        if !id.isEmpty && !id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) {
            note(top["id"], "id `\(id)` should be letters, digits and dashes")
        }
        var signature = Signature(id: id, vendor: string(top["vendor"], "vendor", required: true, parent: root) ?? "",
                                  product: string(top["product"], "product") ?? "",
                                  version: string(top["version"], "version") ?? "",
                                  source: Signature.Source(document: ""), file: file)
        if let fields = mapping(top["source"], "source", known: ["document", "file", "sections"]) {
            signature.source = Signature.Source(document: string(fields["document"], "source document", required: true, parent: top["source"]) ?? "",
                                                file: string(fields["file"], "source file"),
                                                sections: strings(fields["sections"], "source sections"))
        } else if top["source"] == nil {
            note(root, "source is missing: a signature cites the document it encodes")
        }
        if let regions = top["regions"] {
            if let mapping = regions.mapping {
                for (key, value) in mapping { if let k = key.string { signature.regions[k] = value.string ?? "" } }
            } else {
                note(regions, "regions should be a mapping of region name to description")
            }
        }
        if let settings = top["settings"]?.mapping {
            for (key, value) in settings {
                guard let name = key.string else { continue }
                let fields = mapping(value, "setting \(name)", known: ["title", "values"]) ?? [:]
                let values = strings(fields["values"], "setting \(name) values")
                if values.isEmpty { note(value, "setting \(name) lists no values") }
                signature.settings[name] = Signature.Setting(title: string(fields["title"], "setting title") ?? name, values: values)
            }
        } else if let settings = top["settings"] {
            note(settings, "settings should be a mapping")
        }
        if let roles = top["roles"]?.mapping {
            for (key, value) in roles {
                guard let roleID = key.string else { continue }
                let fields = mapping(value, "role \(roleID)", known: ["title", "identify"]) ?? [:]
                var role = Signature.Role(id: roleID, title: string(fields["title"], "role \(roleID) title") ?? roleID)
                if let identify = fields["identify"] {
                    if let sequence = identify.sequence {
                        for item in sequence {
                            if let ruleFields = mapping(item, "role \(roleID) identify rule", known: Self.ruleKeys) {
                                role.identify.append(rule(ruleFields, "role \(roleID) identify rule", node: item))
                            }
                        }
                    } else {
                        note(identify, "role \(roleID): identify should be a list of rules")
                    }
                }
                signature.roles.append(role)
            }
        } else {
            note(top["roles"] ?? root, top["roles"] == nil ? "roles is missing" : "roles should be a mapping of role id to role")
        }
        let roleIDs = Set(signature.roles.map(\.id))
        for role in signature.roles {
            for rule in role.identify { checkPeers(rule.peers, roleIDs, "role \(role.id)", node: top["roles"]) }
        }
        if let requirements = top["requirements"]?.sequence {
            var seen: [String: Int] = [:]
            for item in requirements {
                guard let requirement = requirement(item, signature: signature, roleIDs: roleIDs) else { continue }
                if let first = seen[requirement.id] {
                    note(item, "requirement id \(requirement.id) is already used at line \(first)")
                } else {
                    seen[requirement.id] = requirement.line
                }
                signature.requirements.append(requirement)
            }
        } else {
            note(top["requirements"] ?? root, top["requirements"] == nil ? "requirements is missing" : "requirements should be a list")
        }
        if let figures = top["bandwidth"] {
            if let sequence = figures.sequence {
                for item in sequence {
                    if let figure = bandwidth(item, roleIDs: roleIDs) { signature.bandwidth.append(figure) }
                }
            } else {
                note(figures, "bandwidth should be a list")
            }
        }
        signature.notAuditable = strings(top["not_auditable"], "not_auditable")
        return signature
    }

    mutating func checkPeers(_ peers: PeerRule?, _ roleIDs: Set<String>, _ what: String, node: Node?) {
        guard case .roles(let roles) = peers else { return }
        for role in roles where !roleIDs.contains(role) { note(node, "\(what): peers name unknown role `\(role)`") }
    }

    mutating func requirement(_ node: Node, signature: Signature, roleIDs: Set<String>) -> Requirement? {
        let known = Self.ruleKeys.union(["id", "roles", "level", "when", "variants", "group", "region", "why"])
        guard let fields = mapping(node, "a requirement", known: known) else { return nil }
        guard let id = string(fields["id"], "requirement id", required: true, parent: node) else { return nil }
        let what = "requirement \(id)"
        let roles = strings(fields["roles"], "\(what) roles")
        if roles.isEmpty { note(node, "\(what): roles is missing or empty") }
        for role in roles where !roleIDs.contains(role) { note(fields["roles"], "\(what): unknown role `\(role)`") }
        let rule = rule(fields, what, node: node)
        checkPeers(rule.peers, roleIDs, what, node: fields["peers"])
        var level = RequirementLevel.required
        if let text = string(fields["level"], "\(what) level", required: true, parent: node) {
            if let l = RequirementLevel(rawValue: text) { level = l } else {
                note(fields["level"], "\(what): level `\(text)` is not required, optional or conditional")
            }
        }
        let when = conditions(fields["when"], "\(what) when")
        var variants: [Requirement.Variant] = []
        if let list = fields["variants"] {
            if let sequence = list.sequence {
                for item in sequence {
                    guard let v = mapping(item, "\(what) variant", known: ["when", "ports", "service"]) else { continue }
                    let variantWhen = conditions(v["when"], "\(what) variant when")
                    for (setting, value) in variantWhen {
                        if let known = signature.settings[setting] {
                            if !known.values.contains(value) {
                                note(item, "\(what): setting \(setting) has no value `\(value)` (\(known.values.joined(separator: ", ")))")
                            }
                        } else {
                            note(item, "\(what): variant depends on unknown setting `\(setting)` (declare it under settings)")
                        }
                    }
                    var service: Service?
                    if let text = string(v["service"], "\(what) variant service") {
                        service = Service(name: text)
                        if service == nil { note(v["service"], "\(what): unknown service `\(text)`") }
                    }
                    let ports = ports(v["ports"], "\(what) variant ports")
                    if ports.isEmpty { note(item, "\(what): a variant needs ports") }
                    variants.append(Requirement.Variant(when: variantWhen, ports: ports, service: service))
                }
            } else {
                note(list, "\(what): variants should be a list")
            }
        }
        if level == .conditional && when.isEmpty && variants.isEmpty {
            note(fields["level"], "\(what): a conditional requirement needs `when` or `variants`")
        }
        let region = string(fields["region"], "\(what) region")
        if let region, signature.regions[region] == nil {
            note(fields["region"], "\(what): unknown region `\(region)` (declare it under regions)")
        }
        let why = string(fields["why"], "\(what) why", required: true, parent: node) ?? ""
        return Requirement(id: id, roles: roles, rule: rule, level: level, when: when, variants: variants,
                           group: string(fields["group"], "\(what) group"), region: region, why: why,
                           line: node.mark?.line ?? 0)
    }

    mutating func number(_ node: Node?, _ what: String) -> Double? {
        guard let node else { return nil }
        guard let text = node.scalar?.string, let value = Double(text), value >= 0 else {
            note(node, "\(what) should be a number of at least 0")
            return nil
        }
        return value
    }

    mutating func numbers(_ node: Node?, _ what: String) -> [String: Double] {
        guard let node else { return [:] }
        guard let mapping = node.mapping else { note(node, "\(what) should be a mapping of name to number"); return [:] }
        var out: [String: Double] = [:]
        for (key, value) in mapping {
            if let k = key.string, let v = number(value, "\(what) \(key.string ?? "")") { out[k] = v }
        }
        return out
    }

    mutating func bandwidth(_ node: Node, roleIDs: Set<String>) -> BandwidthFigure? {
        let known: Set<String> = ["roles", "direction", "per_stream_bps", "streams", "recommended_bps", "per_channel_bps",
                                  "table", "daily_bytes", "why"]
        guard let fields = mapping(node, "a bandwidth figure", known: known) else { return nil }
        let roles = strings(fields["roles"], "bandwidth roles")
        for role in roles where !roleIDs.contains(role) { note(fields["roles"], "bandwidth: unknown role `\(role)`") }
        var direction = BandwidthFigure.Direction.transmit
        if let text = string(fields["direction"], "bandwidth direction", required: true, parent: node) {
            if let d = BandwidthFigure.Direction(rawValue: text) { direction = d } else {
                note(fields["direction"], "bandwidth: direction `\(text)` is not transmit, receive or both")
            }
        }
        var streams: Service?
        if let text = string(fields["streams"], "bandwidth streams") {
            streams = Service(name: text)
            if streams == nil { note(fields["streams"], "bandwidth: unknown service `\(text)` for streams") }
        }
        var table: [[String: Double]] = []
        if let rows = fields["table"]?.sequence {
            for row in rows { table.append(numbers(row, "bandwidth table row")) }
        }
        let figure = BandwidthFigure(roles: roles, direction: direction,
                                     perStreamBitsPerSecond: number(fields["per_stream_bps"], "per_stream_bps"), streams: streams,
                                     recommendedBitsPerSecond: number(fields["recommended_bps"], "recommended_bps"),
                                     perChannelBitsPerSecond: numbers(fields["per_channel_bps"], "per_channel_bps"), table: table,
                                     dailyBytes: numbers(fields["daily_bytes"], "daily_bytes"),
                                     why: string(fields["why"], "bandwidth why", required: true, parent: node) ?? "")
        if figure.perStreamBitsPerSecond != nil && figure.streams == nil {
            note(node, "bandwidth: per_stream_bps needs `streams` (the service whose streams scale it)")
        }
        return figure
    }
}
