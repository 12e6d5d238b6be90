public import Wire
import Foundation
import Yams

/// What the site says about its devices (`--devices FILE`, YAML or JSON): which address, hardware
/// address or block holds which role, and the site's region, settings and features.
///
///     region: global                      # optional (RetailNext: global or china)
///     settings: {ssl: enabled}            # optional: picks requirement variants
///     features: [online-updates]          # optional: conditional requirements that apply
///     devices:
///       - {name: rn-appliance, ip: 10.40.0.21, mac: "20:c3:a4:40:00:21", roles: [retailnext/store-appliance]}
///       - {cidr: 10.40.9.0/24, roles: [valt/camera]}
///
/// A role is `signature/role`. An entry matches a device by `ip` (or `ipv6`), `mac` or `cidr`,
/// whichever it gives; the first entry that matches wins.
public struct Inventory: Sendable {
    public struct Entry: Sendable {
        public var name: String?
        public var addresses: [IPAddress] = []
        public var mac: MACAddress?
        public var network: IPNetwork?
        public var roles: [RoleReference] = []
        public var line: Int
    }

    public var region: String?
    public var settings: [String: String] = [:]
    /// Conditional requirements whose `when: {feature: X}` the site has (nil: not said, so every
    /// conditional requirement is evaluated and reported as conditional).
    public var features: Set<String>?
    public var entries: [Entry] = []

    public init() {}

    /// The entry for a device, if any.
    public func entry(address: IPAddress, mac: MACAddress?) -> Entry? {
        entries.first { e in
            e.addresses.contains(address) || (mac != nil && e.mac == mac) || (e.network?.contains(address) ?? false)
        }
    }

    public static func load(file path: String) -> (Inventory?, [SignatureProblem]) {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            return (nil, [SignatureProblem(file: path, line: 0, message: "cannot read the inventory")])
        }
        return parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) -> (Inventory?, [SignatureProblem]) {
        var reader = NodeReader(file: file)
        guard let root = reader.compose(text) else { return (nil, reader.problems) }
        // `stand_ins`: the lab's note of which public addresses it served from stand-ins (ignored).
        guard let top = reader.mapping(root, "the inventory", known: ["region", "settings", "features", "devices", "stand_ins"]) else {
            return (nil, reader.problems)
        }
        var inventory = Inventory()
        inventory.region = reader.string(top["region"], "region")
        inventory.settings = reader.conditions(top["settings"], "settings")
        if top["features"] != nil { inventory.features = Set(reader.strings(top["features"], "features")) }
        guard let devices = top["devices"]?.sequence else {
            reader.note(top["devices"] ?? root, "devices should be a list of {ip|mac|cidr, roles}")
            return (nil, reader.problems)
        }
        for item in devices {
            guard let fields = reader.mapping(item, "a device", known: ["name", "ip", "ipv6", "mac", "cidr", "roles"]) else { continue }
            var entry = Entry(name: reader.string(fields["name"], "device name"), line: item.mark?.line ?? 0)
            for key in ["ip", "ipv6"] {
                guard let node = fields[key], node.scalar?.string != "null", node.scalar?.string != "" else { continue }
                if let text = node.scalar?.string, let address = IPAddress(text) { entry.addresses.append(address) } else {
                    reader.note(node, "device \(key) `\(node.string ?? "")` is not an address")
                }
            }
            if let node = fields["mac"], let text = node.scalar?.string, text != "null" {
                if let mac = MACAddress(text) { entry.mac = mac } else { reader.note(node, "device mac `\(text)` is not a hardware address") }
            }
            if let node = fields["cidr"], let text = node.scalar?.string {
                if let network = IPNetwork(text) { entry.network = network } else { reader.note(node, "device cidr `\(text)` is not an address block") }
            }
            if entry.addresses.isEmpty && entry.mac == nil && entry.network == nil {
                reader.note(item, "a device needs ip, ipv6, mac or cidr")
            }
            for text in reader.strings(fields["roles"], "device roles") {
                if let role = RoleReference(text) { entry.roles.append(role) } else {
                    reader.note(fields["roles"], "role `\(text)` should be signature/role, such as openeye-ows/recorder")
                }
            }
            inventory.entries.append(entry)
        }
        return (inventory, reader.problems)
    }
}

/// `signature/role`, as inventories and reports write a role.
public struct RoleReference: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var signature: String
    public var role: String

    public init(signature: String, role: String) {
        self.signature = signature
        self.role = role
    }

    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        signature = String(parts[0])
        role = String(parts[1])
    }

    public var description: String { "\(signature)/\(role)" }

    public static func < (a: RoleReference, b: RoleReference) -> Bool { a.description < b.description }
}
