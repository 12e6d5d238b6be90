public import Classify
import Flows
import Wire

/// Gathers the local devices of a capture from its classified flows.
///
/// Contract: `add` takes flows in any order (they arrive as they end); memory grows with devices,
/// their ports and their peers, never with packets. Everything a device says about itself is
/// credited to the side that said it: a User-Agent or JA4 to the client, a `Server` string to the
/// server, an mDNS record to the host that answered, a DHCP identity to the client hardware
/// address it names. Not thread-safe: one caller at a time (`CaptureRun` calls its sink serially).
public final class DeviceInventory: @unchecked Sendable {
    public let local: LocalNetworks
    /// Peers remembered per device and per port: enough to tell one from many.
    public static let maximumPeersPerDevice = 4096
    public static let maximumPeersPerPort = 256
    static let maximumListed = 16

    private struct PortKey: Hashable {
        var transport: String
        var port: UInt16
    }

    private struct PortUse {
        var flows = 0
        var services: [Service: Int] = [:]
        var peers: Set<IPAddress> = []
    }

    private struct Accumulator {
        var device: Device
        var macs: [MACAddress: Int] = [:]
        var localPeers: Set<IPAddress> = []
        var remotePeers: Set<IPAddress> = []
        var serves: [PortKey: PortUse] = [:]
        var uses: [PortKey: PortUse] = [:]
        var fingerprints: [String: (flows: Int, names: [String])] = [:]
        var fingerprintOrder: [String] = []
    }

    private var devices: [IPAddress: Accumulator] = [:]
    /// DHCP identities by client hardware address: the client has no address yet when it asks.
    private var dhcpByMAC: [MACAddress: Device.DHCPIdentity] = [:]
    /// Addresses DHCP gave, by client hardware address (a device first seen through its lease).
    private var leases: [MACAddress: IPAddress] = [:]
    /// Names other devices' mDNS answers and DNS lookups gave local addresses.
    private var namesByAddress: [IPAddress: [Device.Name]] = [:]

    public init(local: LocalNetworks = LocalNetworks()) {
        self.local = local
    }

    /// An independent copy (for a report while capture goes on: the copy also takes the flows
    /// still open, the original only ended ones).
    public func copy() -> DeviceInventory {
        let other = DeviceInventory(local: local)
        other.devices = devices
        other.dhcpByMAC = dhcpByMAC
        other.leases = leases
        other.namesByAddress = namesByAddress
        return other
    }

    public func add(_ flow: ClassifiedFlow) {
        let r = flow.record
        // A tunnel's inner flows (GRE, VXLAN) are already counted in its outer flow, between the
        // tunnel's endpoints: their addresses belong to the networks at either end, not this one.
        guard r.tunnelParentNumber == nil else { return }
        let originatorLocal = local.isLocal(r.originator)
        let responderLocal = local.isLocal(r.responder)
        if originatorLocal { credit(flow, asOriginator: true, peerIsLocal: responderLocal) }
        if responderLocal { credit(flow, asOriginator: false, peerIsLocal: originatorLocal) }
        readIdentities(flow)
    }

    private func credit(_ flow: ClassifiedFlow, asOriginator: Bool, peerIsLocal: Bool) {
        let r = flow.record
        let address = asOriginator ? r.originator : r.responder
        let peer = asOriginator ? r.responder : r.originator
        var a = devices[address] ?? Accumulator(device: Device(address: address))
        defer { devices[address] = a }
        let mine = asOriginator ? r.originatorCounters : r.responderCounters
        let theirs = asOriginator ? r.responderCounters : r.originatorCounters
        // Only packets it sent carry its MAC.
        if mine.packets > 0, let mac = asOriginator ? r.originatorMAC : r.responderMAC, !mac.isMulticast {
            a.macs[mac, default: 0] += Int(mine.packets)
        }
        var traffic = a.device.traffic
        traffic.sentBytes &+= mine.wireBytes
        traffic.sentIPBytes &+= mine.ipBytes
        traffic.sentPackets &+= mine.packets
        traffic.receivedBytes &+= theirs.wireBytes
        traffic.receivedIPBytes &+= theirs.ipBytes
        traffic.receivedPackets &+= theirs.packets
        if asOriginator { traffic.flowsOriginated += 1 } else { traffic.flowsAnswered += 1 }
        traffic.first = min(traffic.first, r.start)
        traffic.last = max(traffic.last, r.end)
        a.device.traffic = traffic
        if LocalNetworks.isUnicast(peer) {
            if peerIsLocal {
                if a.localPeers.count < Self.maximumPeersPerDevice { a.localPeers.insert(peer) }
            } else if a.remotePeers.count < Self.maximumPeersPerDevice {
                a.remotePeers.insert(peer)
            }
        }

        let transport = r.protocolNumber.name
        let service = flow.facts.service
        if asOriginator {
            let key = PortKey(transport: transport, port: r.responderPort)
            Self.count(&a.uses[key, default: PortUse()], service: service, peer: peer)
        } else if Self.answered(r) {
            // A port it answered on: a reset to a closed port is not a service.
            let key = PortKey(transport: transport, port: r.responderPort)
            Self.count(&a.serves[key, default: PortUse()], service: service, peer: peer)
        }

        let facts = flow.facts
        if asOriginator {
            if let http = facts.detail(HTTPFacts.self), let agent = http.userAgent { Self.insert(agent, into: &a.device.userAgents) }
            if let rtsp = facts.detail(RTSPFacts.self), let agent = rtsp.userAgent { Self.insert(agent, into: &a.device.userAgents) }
            if let ssh = facts.detail(SSHFacts.self), let banner = ssh.client { Self.insert(banner, into: &a.device.userAgents) }
            for (ja4, serverName) in Self.clientHellos(facts) {
                if a.fingerprints[ja4] == nil { a.fingerprintOrder.append(ja4) }
                var entry = a.fingerprints[ja4] ?? (0, [])
                entry.flows += 1
                if let name = serverName, entry.names.count < 4, !entry.names.contains(name) { entry.names.append(name) }
                a.fingerprints[ja4] = entry
            }
            if let ssdp = facts.detail(SSDPFacts.self) {
                // NOTIFY and search answers are the device speaking for itself; an M-SEARCH's
                // USER-AGENT names the searcher.
                if let server = ssdp.server { Self.insert(server, into: &a.device.ssdpServers) }
                if let location = ssdp.location { Self.insert(location, into: &a.device.ssdpLocations) }
                if let agent = ssdp.userAgent { Self.insert(agent, into: &a.device.userAgents) }
            }
        } else {
            if let http = facts.detail(HTTPFacts.self), let server = http.server { Self.insert(server, into: &a.device.serverAgents) }
            if let rtsp = facts.detail(RTSPFacts.self), let server = rtsp.server { Self.insert(server, into: &a.device.serverAgents) }
            if let ssh = facts.detail(SSHFacts.self), let banner = ssh.server { Self.insert(banner, into: &a.device.serverAgents) }
            if let name = facts.serverName, let source = facts.serverNameSource, source != .dns, IPAddress(name) == nil {
                Self.insert(Device.Name(name: name, source: .serverName), into: &a.device.names)
            }
        }
    }

    /// Identities that name a device other than by the flow's own addresses: DHCP by hardware
    /// address, mDNS and DNS answers by the address they give.
    private func readIdentities(_ flow: ClassifiedFlow) {
        let facts = flow.facts
        for client in facts.detail(DHCPFacts.self)?.clients ?? [] {
            guard let text = client.clientMAC, let mac = MACAddress(text) else { continue }
            var identity = dhcpByMAC[mac] ?? Device.DHCPIdentity()
            identity.hostName = client.hostName ?? identity.hostName
            identity.vendorClass = client.vendorClass ?? identity.vendorClass
            if !client.parameterList.isEmpty { identity.parameterList = client.parameterList }
            for message in client.messages { Self.insert(message, into: &identity.messages) }
            if let assigned = client.assignedAddress {
                identity.assignedAddress = assigned
                if let address = IPAddress(assigned), local.isLocal(address) { leases[mac] = address }
            }
            dhcpByMAC[mac] = identity
        }
        if let mdns = facts.detail(MDNSFacts.self) {
            let responders = Set(mdns.responders)
            for host in mdns.hostAddresses where local.isLocal(host.address) {
                Self.insert(Device.Name(name: host.name, source: .mdns), into: &namesByAddress[host.address, default: []])
            }
            // Services and instances belong to whoever answered; with several answerers on one
            // flow (a querier's unicast answers), to each local one.
            for responder in responders where local.isLocal(responder) {
                var a = devices[responder] ?? Accumulator(device: Device(address: responder))
                for service in mdns.services { Self.insert(service, into: &a.device.mdns.services) }
                for instance in mdns.instances { Self.insert(instance, into: &a.device.mdns.instances) }
                for text in mdns.texts { Self.insert(text, into: &a.device.mdns.texts) }
                for host in mdns.hostAddresses where host.address == responder {
                    Self.insert(host.name, into: &a.device.mdns.hosts)
                }
                devices[responder] = a
            }
        }
        if let dns = facts.detail(DNSFacts.self), let asked = dns.queries.first?.name {
            // A lookup answered with a local address names that device (the store's own names).
            for case .address(let address) in dns.answers where local.isLocal(address) {
                Self.insert(Device.Name(name: asked, source: .dns), into: &namesByAddress[address, default: []])
            }
        }
    }

    /// Every local device seen sending or receiving, by address; MAC vendors from `vendors`.
    /// The devices with MAC vendors from the IEEE registries in `ieeeData`; when they cannot be
    /// read, the devices without vendors and the reason.
    public func result(ieeeData: String) -> (devices: [Device], vendorProblem: (any Error)?) {
        let devices = result()
        do {
            let vendors = try MACVendors.load(directory: ieeeData, for: Set(devices.compactMap(\.mac)))
            return (result(vendors: vendors), nil)
        } catch {
            return (devices, error)
        }
    }

    public func result(vendors: MACVendors? = nil) -> [Device] {
        // A device known only from its DHCP lease still counts (it got an address, then the
        // capture ended or it stayed quiet).
        for (mac, address) in leases where devices[address] == nil {
            var a = Accumulator(device: Device(address: address))
            a.macs[mac] = 0
            devices[address] = a
        }
        var primary: [IPAddress: (mac: MACAddress?, others: [MACAddress])] = [:]
        var devicesOfMAC: [MACAddress: Int] = [:]
        for (address, a) in devices {
            let macs = a.macs.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key)
            primary[address] = (macs.first, Array(macs.dropFirst()))
            if let mac = macs.first { devicesOfMAC[mac, default: 0] += 1 }
        }
        var out: [Device] = []
        for (address, a) in devices {
            var d = a.device
            (d.mac, d.otherMACs) = primary[address]!
            if let mac = d.mac {
                d.macVendor = vendors?.vendor(of: mac)
                // A DHCP identity is the device's whose lease it names; without a lease seen, the
                // one device showing that MAC (behind a router, many addresses share its MAC).
                if let identity = dhcpByMAC[mac],
                   identity.assignedAddress.map({ $0 == address.description }) ?? (devicesOfMAC[mac] == 1) {
                    d.dhcp = identity
                    if let host = identity.hostName { Self.insert(Device.Name(name: host, source: .dhcp), at: 0, into: &d.names) }
                }
            }
            for name in namesByAddress[address] ?? [] { Self.insert(name, into: &d.names) }
            for host in d.mdns.hosts { Self.insert(Device.Name(name: host, source: .mdns), into: &d.names) }
            d.traffic.localPeers = a.localPeers.count
            d.traffic.remotePeers = a.remotePeers.count
            d.serves = Self.ports(a.serves)
            d.uses = Self.ports(a.uses)
            d.tlsClients = a.fingerprintOrder.map {
                Device.Fingerprint(ja4: $0, flows: a.fingerprints[$0]!.flows, serverNames: a.fingerprints[$0]!.names)
            }.sorted { $0.flows > $1.flows }
            out.append(d)
        }
        return out.sorted { $0.address < $1.address }
    }

    // MARK: - Helpers

    /// JA4 and server name of each ClientHello the flow carried (TLS, inside QUIC, DTLS).
    private static func clientHellos(_ facts: FlowFacts) -> [(String, String?)] {
        var hellos: [(String, String?)] = []
        if let tls = facts.detail(TLSFacts.self), let ja4 = tls.ja4 { hellos.append((ja4, tls.serverName)) }
        if let quic = facts.detail(QUICFacts.self), let ja4 = quic.ja4 { hellos.append((ja4, quic.serverName)) }
        if let dtls = facts.detail(DTLSFacts.self), let ja4 = dtls.tls.ja4 { hellos.append((ja4, dtls.tls.serverName)) }
        return hellos
    }

    /// Whether the responder served the flow: TCP, it accepted the connection (SYN-ACK, `h`) or
    /// sent data (`d`); other protocols, it sent anything.
    static func answered(_ r: FlowRecord) -> Bool {
        guard r.protocolNumber == .tcp else { return r.responderCounters.packets > 0 }
        let history = r.history.string
        return history.contains("h") || history.contains("d")
    }

    private static func count(_ use: inout PortUse, service: Service?, peer: IPAddress) {
        use.flows += 1
        if let service { use.services[service, default: 0] += 1 }
        if use.peers.count < maximumPeersPerPort { use.peers.insert(peer) }
    }

    private static func ports(_ table: [PortKey: PortUse]) -> [Device.ServicePort] {
        table.map { key, use in
            let service = use.services.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }?.key
            return Device.ServicePort(transport: key.transport, port: key.port, service: service, flows: use.flows,
                                      peers: use.peers.count)
        }.sorted { $0.flows != $1.flows ? $0.flows > $1.flows : ($0.transport, $0.port) < ($1.transport, $1.port) }
    }

    /// A name once, with the source that gave it first (DHCP's is put first: the device chose it).
    private static func insert(_ name: Device.Name, at index: Int? = nil, into list: inout [Device.Name]) {
        if let existing = list.firstIndex(where: { $0.name == name.name }) {
            guard index != nil, existing != 0 else { return }
            list.remove(at: existing)
        }
        guard list.count < maximumListed else { return }
        if let index { list.insert(name, at: min(index, list.count)) } else { list.append(name) }
    }

    private static func insert<T: Equatable>(_ value: T, at index: Int? = nil, into list: inout [T]) {
        guard !list.contains(value), list.count < maximumListed else { return }
        if let index { list.insert(value, at: min(index, list.count)) } else { list.append(value) }
    }
}
