public import Classify
public import Devices
import Flows
import Foundation
import Wire

/// Judges a capture against the signatures: which devices hold which roles, and for each of
/// their requirements whether the traffic shows it working, blocked (and how), or never tried.
///
/// Feed it every classified flow (`add`, from the thread that finishes flows) and every frame
/// (`traffic.frame`, from the reading thread); `evaluate` at the end. The rules follow
/// `../shared/spec/audit-report.md`; `Captures/lab/truth.py` applies the same rules with tshark,
/// and the tests hold the two to the same statuses on every lab capture.
public final class Auditor: @unchecked Sendable {
    public struct Options: Sendable {
        public var local = LocalNetworks()
        public var inventory: Inventory?
        /// Window for bandwidth peaks (nanoseconds).
        public var bandwidthWindow: Int64 = 60 * 1_000_000_000
        public init() {}
    }

    public let signatures: [Signature]
    public let options: Options
    public let traffic: TrafficMeter
    private var flows: [AuditFlow] = []
    private let lock = NSLock()

    /// Flows that ports alone say are the network's own housekeeping (DNS, DHCP, NTP, mDNS,
    /// SSDP, LLMNR, NetBIOS): never unexpected (product.md: "nor the common ones").
    static let commonPorts: Set<UInt16> = [53, 67, 68, 123, 5353, 1900, 5355, 137, 138]

    public init(signatures: [Signature], options: Options) {
        self.signatures = signatures
        self.options = options
        traffic = TrafficMeter(local: options.local, window: options.bandwidthWindow)
    }

    public func add(_ flow: ClassifiedFlow) {
        let r = flow.record
        guard options.local.isLocal(r.originator) || options.local.isLocal(r.responder) else { return }
        let kept = AuditFlow(flow)
        lock.lock()
        flows.append(kept)
        lock.unlock()
    }

    /// The verdicts. `names`: what DNS answers in the capture called each address (any time in
    /// the capture: an address a device connects to is the name's, whenever it was looked up);
    /// `devices`: what `DeviceInventory` knows of each local device (MAC, vendor, names).
    ///
    /// While capture goes on (a live report), `open` adds the flows still open, as they are now,
    /// and `traffic` is a copy of the meter taken on the reading thread at the same moment.
    public func evaluate(names: NameCache?, devices known: [Device], open: [ClassifiedFlow] = [],
                         traffic: TrafficMeter? = nil) -> AuditResult {
        let traffic = traffic ?? self.traffic
        lock.lock()
        var flows = self.flows
        lock.unlock()
        for flow in open where options.local.isLocal(flow.record.originator) || options.local.isLocal(flow.record.responder) {
            flows.append(AuditFlow(flow))
        }
        flows.sort { ($0.firstInput, $0.firstPacket, $0.start) < ($1.firstInput, $1.firstPacket, $1.start) }
        let dnsNames: (IPAddress) -> [String] = { names?.allNames(for: $0) ?? [] }
        let knownByAddress = Dictionary(known.map { ($0.address, $0) }, uniquingKeysWith: { a, _ in a })

        // Devices: every local address with a flow (tunnelled inner flows belong to other networks).
        var addresses: [IPAddress] = []
        var seen: Set<IPAddress> = []
        var flowsByAddress: [IPAddress: [Int]] = [:]
        for (i, f) in flows.enumerated() where !f.tunnelled {
            for a in [f.originator, f.responder] where options.local.isLocal(a) {
                flowsByAddress[a, default: []].append(i)
                if seen.insert(a).inserted { addresses.append(a) }
            }
        }
        for device in known where seen.insert(device.address).inserted { addresses.append(device.address) }
        addresses.sort()
        let groups = group(addresses, known: knownByAddress)

        var result = AuditResult(signatures: signatures, bandwidthWindowSeconds: Double(options.bandwidthWindow) / 1e9,
                                 captureSeconds: traffic.span)
        // Roles: the inventory's, then what traffic shows.
        var roles: [[AssignedRole]] = groups.map { g in
            g.entry.map { $0.roles.map { AssignedRole(role: $0, source: .inventory) } } ?? []
        }
        let inferred = inferRoles(groups: groups, flows: flows, flowsByAddress: flowsByAddress, dnsNames: dnsNames, declared: roles)
        for (g, found) in inferred.enumerated() where !found.isEmpty {
            let declared = roles[g]
            if groups[g].entry != nil {
                // The inventory decides; say so where the traffic points elsewhere.
                for (signature, same) in Dictionary(grouping: found, by: \.role.signature) {
                    let mine = declared.filter { $0.role.signature == signature }
                    if !same.contains(where: { f in mine.contains { $0.role == f.role } }) {
                        result.roleConflicts.append(RoleConflict(address: groups[g].primary, roles: same.map(\.role),
                            message: "the inventory says \(mine.isEmpty ? "no \(signature) role" : mine.map(\.role.description).joined(separator: ", ")), but traffic fits \(same.map(\.role.description).joined(separator: ", ")) (flows \(same.flatMap(\.evidence).prefix(3).joined(separator: ", "))); the inventory is used"))
                    }
                }
                continue
            }
            roles[g] = found
            for (_, same) in Dictionary(grouping: found, by: \.role.signature) where same.count > 1 {
                let tied = same.filter { r in same.contains { $0.role != r.role && Set($0.evidence) == Set(r.evidence) } }
                if tied.count > 1 {
                    result.roleConflicts.append(RoleConflict(address: groups[g].primary, roles: tied.map(\.role),
                        message: "traffic fits \(tied.map(\.role.description).joined(separator: " and ")) alike; both are audited — say which it is with --devices"))
                }
            }
        }
        var rolesByAddress: [IPAddress: Set<RoleReference>] = [:]
        for (g, group) in groups.enumerated() {
            for a in group.addresses { rolesByAddress[a] = Set(roles[g].map(\.role)) }
        }

        // Requirements.
        var explained: Set<Int> = []
        let region = options.inventory?.region ?? "global"
        for (g, group) in groups.enumerated() {
            let device = group.addresses.lazy.compactMap { knownByAddress[$0] }.first
            var names: [String] = group.entry?.name.map { [$0] } ?? []
            for a in group.addresses { for n in knownByAddress[a]?.names ?? [] where !names.contains(n.name) { names.append(n.name) } }
            var verdict = DeviceVerdict(address: group.primary, otherAddresses: group.addresses.filter { $0 != group.primary },
                                        mac: group.mac ?? device?.mac, macVendor: device?.macVendor,
                                        names: names, roles: roles[g], bandwidth: BandwidthResult())
            let mine = group.addresses.flatMap { a in (flowsByAddress[a] ?? []).map { (a, $0) } }.sorted { $0.1 < $1.1 }
            for signature in signatures {
                let held = Set(roles[g].filter { $0.role.signature == signature.id }.map(\.role.role))
                guard !held.isEmpty else { continue }
                for requirement in signature.requirements where !held.isDisjoint(with: requirement.roles) {
                    if let wanted = requirement.region, wanted != region { continue }
                    if let feature = requirement.when["feature"], let features = options.inventory?.features,
                       !features.contains(feature) { continue }
                    var r = RequirementResult(signature: signature.id, requirement: requirement, status: .notSeen,
                                              countsForVerdict: countsForVerdict(requirement))
                    var remotes: [String] = []
                    for (a, i) in mine {
                        let f = flows[i]
                        guard matches(requirement.rule, ports: requirement.allPorts, serviceFor: requirement.service(forPort:),
                                      flow: f, device: a, signature: signature.id, dnsNames: dnsNames,
                                      rolesByAddress: rolesByAddress) else { continue }
                        let outcome = f.outcome(for: a)
                        // A SYN retransmitted after Zeek's 5-second attempt timeout starts a new flow
                        // record on the same ports: still the same attempt.
                        let sameAttempt = r.flows.contains { $0.outcome == outcome && $0.flow.hasSameEndpoints(as: f) }
                        if !sameAttempt { r.outcomes[outcome, default: 0] += 1 }
                        if r.flows.count < 32 { r.flows.append(.init(flow: f, outcome: outcome)) }
                        let remote = f.originator == a ? f.responder : f.originator
                        let shown = f.connectHost ?? remote.description
                        if !remotes.contains(shown) { remotes.append(shown) }
                        explained.insert(i)
                    }
                    r.addresses = remotes
                    if let best = r.outcomes.keys.min() { r.status = RequirementStatus(best) }
                    verdict.requirements.append(r)
                }
            }
            verdict.bandwidth = bandwidth(for: group, signatures: signatures, roles: roles[g], flows: mine.map { flows[$0.1] },
                                          traffic: traffic)
            result.devices.append(verdict)
        }

        // RTP and RTCP belong to the RTSP session between the same two hosts (its SETUP set them up).
        var rtspPairs: Set<[IPAddress]> = []
        for i in explained where flows[i].service == .rtsp {
            rtspPairs.insert([flows[i].originator, flows[i].responder].sorted())
        }
        for (i, f) in flows.enumerated() where f.proto == .udp && (f.service == .rtp || f.service == .rtcp)
            && rtspPairs.contains([f.originator, f.responder].sorted()) {
            explained.insert(i)
        }
        // Unexpected: flows of role-holding devices that no requirement of either end explains.
        for d in result.devices.indices where !result.devices[d].roles.isEmpty {
            for a in [result.devices[d].address] + result.devices[d].otherAddresses {
            for i in flowsByAddress[a] ?? [] where !explained.contains(i) {
                let f = flows[i]
                if f.proto == .icmp || f.proto == .icmpv6 || f.proto == .igmp { continue }
                if Self.commonPorts.contains(f.originatorPort) || Self.commonPorts.contains(f.responderPort) { continue }
                result.devices[d].unexpected.append(UnexpectedFlow(flow: f, outcome: f.outcome(for: a)))
            }
            }
        }
        return result
    }

    /// Conditional requirements count for the verdict when the site said it has their feature;
    /// variants alone (SSL on or off) do not make a requirement optional.
    private func countsForVerdict(_ requirement: Requirement) -> Bool {
        switch requirement.level {
        case .required: return true
        case .optional: return false
        case .conditional:
            if let feature = requirement.when["feature"] {
                return options.inventory?.features?.contains(feature) ?? false
            }
            return requirement.when.isEmpty
        }
    }

    /// Whether `flow` of `device` is one `rule` is about.
    func matches(_ rule: TrafficRule, ports: [PortRange], serviceFor: (UInt16) -> Service?, flow f: AuditFlow,
                 device a: IPAddress, signature: String, dnsNames: (IPAddress) -> [String],
                 rolesByAddress: [IPAddress: Set<RoleReference>], checkService: Bool = true) -> Bool {
        guard rule.protocols.contains(f.proto), f.originator != f.responder else { return false }
        let deviceOriginated = f.originator == a
        let remote = deviceOriginated ? f.responder : f.originator
        let deviceSent = deviceOriginated ? f.originatorPackets : f.responderPackets
        let remoteSent = deviceOriginated ? f.responderPackets : f.originatorPackets
        let port: UInt16
        switch rule.direction {
        case .outbound:
            if f.proto == .udp { guard deviceSent > 0 else { return false } } else { guard deviceOriginated else { return false } }
            port = f.connectPort ?? (deviceOriginated ? f.responderPort : f.originatorPort)
        case .inbound:
            if f.proto == .udp { guard remoteSent > 0 else { return false } } else { guard !deviceOriginated else { return false } }
            port = deviceOriginated ? f.originatorPort : f.responderPort
        }
        if !ports.isEmpty && (f.proto == .tcp || f.proto == .udp) && !ports.contains(where: { $0.contains(port) }) { return false }
        if !rule.hosts.isEmpty {
            // Through a proxy, the destination is the CONNECT target, not the proxy.
            let names = f.connectHost.map { [$0] } ?? (f.names + dnsNames(remote))
            let address: IPAddress? = f.connectHost == nil ? remote : nil
            let hit = rule.hosts.contains { pattern in
                (address.map(pattern.matches(address:)) ?? false) || names.contains(where: pattern.matches(name:))
            }
            guard hit else { return false }
        }
        switch rule.peers {
        case .local?: guard options.local.isLocal(remote) else { return false }
        case .remote?: guard !options.local.isLocal(remote) else { return false }
        case .roles(let wanted)?:
            let held = rolesByAddress[remote] ?? []
            guard wanted.contains(where: { held.contains(RoleReference(signature: signature, role: $0)) }) else { return false }
        case nil: break
        }
        // A flow that is clearly another application protocol is not this one; one that could not
        // be named (a port nobody expects, a payload cut short) does not contradict it.
        if checkService, let wanted = serviceFor(port), f.outcome(for: a) == .ok, !f.services.isEmpty,
           !f.services.contains(wanted) {
            return false
        }
        return true
    }

    /// One device: its addresses (IPv4 and IPv6 of one host), hardware address and inventory entry.
    struct DeviceGroup {
        var addresses: [IPAddress]
        var mac: MACAddress?
        var entry: Inventory.Entry?
        var primary: IPAddress { addresses.first { $0.isIPv4 } ?? addresses[0] }
    }

    /// Addresses of one device together: those one inventory entry names by `ip`, `ipv6` or
    /// `mac`, and without an entry those that share a MAC when it has at most one IPv4 address
    /// (a host's IPv4 and IPv6; a router's MAC, behind which many IPv4 hosts hide, is not one device).
    /// An entry that names a device by its IPv4 address also takes that host's other addresses
    /// (its IPv6 link-local one, from the same MAC), or they would show as a second device.
    func group(_ addresses: [IPAddress], known: [IPAddress: Device]) -> [DeviceGroup] {
        var groups: [DeviceGroup] = []
        var byKey: [String: Int] = [:]
        var macAddresses: [MACAddress: [IPAddress]] = [:]
        for a in addresses { if let mac = known[a]?.mac { macAddresses[mac, default: []].append(a) } }
        func namedEntry(_ a: IPAddress) -> Int? {
            options.inventory?.entries.firstIndex { e in e.addresses.contains(a) }
        }
        var entryOfHost: [MACAddress: Int] = [:]
        for (mac, list) in macAddresses where list.filter(\.isIPv4).count <= 1 {
            if let entry = list.lazy.compactMap(namedEntry).first { entryOfHost[mac] = entry }
        }
        for a in addresses {
            let mac = known[a]?.mac
            let entry = options.inventory?.entries.firstIndex { e in
                e.addresses.contains(a) || (mac != nil && e.mac == mac) || (e.network?.contains(a) ?? false)
            } ?? mac.flatMap { entryOfHost[$0] }
            var key: String?
            if let entry, let e = options.inventory?.entries[entry], e.network == nil || !e.addresses.isEmpty || e.mac != nil {
                key = "entry \(entry)"
            } else if let mac, (macAddresses[mac] ?? []).filter(\.isIPv4).count <= 1 {
                key = "mac \(mac)"
            }
            if let key, let g = byKey[key] {
                groups[g].addresses.append(a)
                continue
            }
            let inventoryEntry = entry.flatMap { options.inventory?.entries[$0] }
            groups.append(DeviceGroup(addresses: [a], mac: inventoryEntry?.mac ?? mac, entry: inventoryEntry))
            if let key { byKey[key] = groups.count - 1 }
        }
        return groups
    }

    /// Roles the traffic shows (identify rules), repeated while roles that rules refer to
    /// (`peers: {roles: ...}`) keep appearing. Within a signature, a role whose evidence is
    /// strictly contained in another's gives way to it (a recorder also logs in where a client
    /// does); roles with the same evidence stay, as a conflict to report.
    private func inferRoles(groups: [DeviceGroup], flows: [AuditFlow], flowsByAddress: [IPAddress: [Int]],
                            dnsNames: (IPAddress) -> [String], declared: [[AssignedRole]]) -> [[AssignedRole]] {
        var found = [[AssignedRole]](repeating: [], count: groups.count)
        for _ in 0..<4 {
            var changed = false
            var known: [IPAddress: Set<RoleReference>] = [:]
            for (g, group) in groups.enumerated() {
                let roles = Set((declared[g] + found[g]).map(\.role))
                for a in group.addresses { known[a] = roles }
            }
            for (g, group) in groups.enumerated() {
                for signature in signatures {
                    for role in signature.roles where !role.identify.isEmpty {
                        let reference = RoleReference(signature: signature.id, role: role.id)
                        if found[g].contains(where: { $0.role == reference }) { continue }
                        var evidence: [String] = []
                        for a in group.addresses {
                            for i in flowsByAddress[a] ?? [] {
                                let f = flows[i]
                                for rule in role.identify where matches(rule, ports: rule.ports, serviceFor: { _ in rule.service },
                                                                        flow: f, device: a, signature: signature.id,
                                                                        dnsNames: dnsNames, rolesByAddress: known, checkService: false) {
                                    if let wanted = rule.service, !f.services.contains(wanted) { continue }
                                    if !evidence.contains(f.uid) { evidence.append(f.uid) }
                                }
                            }
                        }
                        if !evidence.isEmpty {
                            found[g].append(AssignedRole(role: reference, source: .inferred, evidence: evidence))
                            changed = true
                        }
                    }
                }
            }
            if !changed { break }
        }
        for g in found.indices {
            let all = found[g]
            found[g] = all.filter { r in
                let mine = Set(r.evidence)
                return !all.contains { o in
                    o.role.signature == r.role.signature && o.role != r.role && mine.isStrictSubset(of: Set(o.evidence))
                }
            }.map { var r = $0; r.evidence = Array(r.evidence.prefix(8)); return r }
        }
        return found
    }

    private func bandwidth(for group: DeviceGroup, signatures: [Signature], roles: [AssignedRole],
                           flows: [AuditFlow], traffic: TrafficMeter) -> BandwidthResult {
        var meter = TrafficMeter.Meter()
        for a in group.addresses { if let m = traffic.byAddress[a] { meter.merge(m) } }
        if let mac = group.mac, let frames = traffic.byMAC[mac.bits] { meter.merge(frames) }
        var b = BandwidthResult()
        b.sentBytes = meter.sent
        b.receivedBytes = meter.received
        let span = max(traffic.span, 1e-6)
        let window = Double(options.bandwidthWindow) / 1e9
        b.transmitAverage = Double(meter.sent) * 8 / span
        b.receiveAverage = Double(meter.received) * 8 / span
        // The busiest window's rate. A capture shorter than one window is that one window (dividing
        // its bytes by the whole window would put the peak under the average); a last, partial
        // window counts over a whole one rather than spiking on its few seconds; and a peak is
        // never under the average, which is itself a mean of the windows' rates.
        let divisor = min(window, span)
        b.transmitPeak = max(Double(meter.sentByWindow.values.max() ?? 0) * 8 / divisor, b.transmitAverage)
        b.receivePeak = max(Double(meter.receivedByWindow.values.max() ?? 0) * 8 / divisor, b.receiveAverage)
        if let first = traffic.first {
            let count = Int(traffic.span / window) + 1
            b.series = BandwidthResult.Series(
                start: first, window: divisor,
                transmit: (0..<count).map { Double(meter.sentByWindow[$0] ?? 0) * 8 / divisor },
                receive: (0..<count).map { Double(meter.receivedByWindow[$0] ?? 0) * 8 / divisor })
        }

        var budget = BandwidthResult.Budget()
        var applies = false
        for signature in signatures {
            let held = Set(roles.filter { $0.role.signature == signature.id }.map(\.role.role))
            for figure in signature.bandwidth where !held.isDisjoint(with: figure.roles) {
                if let perStream = figure.perStreamBitsPerSecond, let service = figure.streams {
                    let streams = flows.filter { group.addresses.contains($0.originator) && $0.service == service }.count
                    budget.streams = streams
                    guard streams > 0 else { continue }
                    applies = true
                    let total = perStream * Double(streams)
                    switch figure.direction {
                    case .transmit: budget.transmitBitsPerSecond = (budget.transmitBitsPerSecond ?? 0) + total
                    case .receive: budget.receiveBitsPerSecond = (budget.receiveBitsPerSecond ?? 0) + total
                    case .both:
                        budget.transmitBitsPerSecond = (budget.transmitBitsPerSecond ?? 0) + total
                        budget.receiveBitsPerSecond = (budget.receiveBitsPerSecond ?? 0) + total
                    }
                    budget.basis.append("\(signature.id): \(Int(perStream)) bit/s \(figure.direction.rawValue) per \(service.name) stream × \(streams)")
                } else if let recommended = figure.recommendedBitsPerSecond {
                    applies = true
                    budget.peakLimitBitsPerSecond = recommended
                    budget.basis.append("\(signature.id): \(Int(recommended)) bit/s recommended \(figure.direction.rawValue)")
                }
            }
        }
        guard applies else { return b }
        b.budget = budget
        // "Approximately" (RetailNext): a quarter over the figure is still within it.
        var over = false
        if let tx = budget.transmitBitsPerSecond, b.transmitAverage > tx * 1.25 { over = true }
        if let rx = budget.receiveBitsPerSecond, b.receiveAverage > rx * 1.25 { over = true }
        if let limit = budget.peakLimitBitsPerSecond, b.transmitPeak > limit { over = true }
        b.status = over ? .over : .ok
        return b
    }
}
