public import Flows
import Wire

/// What DHCP (RFC 2131/2132) or DHCPv6 (RFC 8415) messages said about their clients.
///
/// One flow often carries many clients: every DHCPv4 client broadcasts from 0.0.0.0:68 to
/// 255.255.255.255:67 before it has an address, so each client is kept apart by its hardware
/// address (chaddr), or for DHCPv6 by the exchange.
public struct DHCPFacts: ProtocolFacts, Equatable {
    public static let key = "dhcp"

    public struct Client: Sendable, Equatable {
        /// The client's hardware address (chaddr); nil for DHCPv6.
        public var clientMAC: String?
        /// Option 12 (v4) or the client FQDN (option 81 / v6 option 39).
        public var hostName: String?
        /// Option 60 (v4) / vendor class option 16 (v6).
        public var vendorClass: String?
        /// Option 55 (v4) / option request option 6 (v6): the options the client asked for, an OS
        /// fingerprint.
        public var parameterList: [Int] = []
        public var requestedAddress: String?
        /// The address the server gave (yiaddr of an OFFER/ACK).
        public var assignedAddress: String?
        /// Message types of this client's exchange, in order seen.
        public var messages: [String] = []
    }

    /// `DISCOVER`, `OFFER`, `REQUEST`, `ACK`, ... (v6: `SOLICIT`, `ADVERTISE`, ...), in order seen.
    public var messages: [String] = []
    /// Every client the flow's messages were about, in order seen (at most 64).
    public var clients: [Client] = []
    public var version6 = false

    /// The first client (the only one on a flow between a leased client and its server).
    public var client: Client? { clients.first }
    public var hostName: String? { client?.hostName }
    public var vendorClass: String? { client?.vendorClass }
    public var clientMAC: String? { client?.clientMAC }
    public var assignedAddress: String? { client?.assignedAddress }

    public func report<Sink: FactSink>(to sink: inout Sink) {
        sink.add("messages", messages)
        sink.add("host_name", client?.hostName)
        sink.add("vendor_class", client?.vendorClass)
        sink.add("parameter_list", numbers: client?.parameterList ?? [])
        sink.add("client_mac", client?.clientMAC)
        sink.add("requested_address", client?.requestedAddress)
        sink.add("assigned_address", client?.assignedAddress)
        // Other clients of a broadcast flow, as `mac host` (host `-` when unnamed).
        sink.add("other_clients", clients.dropFirst().map { "\($0.clientMAC ?? "-") \($0.hostName ?? "-")" })
        sink.add("v6", version6)
    }

    public init() {}
}

/// DHCP by content: a BOOTP message (op 1 or 2, hardware address length ≤ 16) with the magic
/// cookie 99.130.83.99 at byte 236 (RFC 2131 §3); DHCPv6 (on 546/547): a known message type whose
/// options fill the datagram exactly (RFC 8415 §8, §21.1).
public final class DHCPAnalyzer: ProtocolAnalyzer {
    public let service = Service.dhcp
    public let transports: [Transport] = [.udp]
    public let hintPorts: [UInt16] = [67, 68, 546, 547]
    public let probeDatagrams = 1

    public init() {}

    public static func probe(_ bytes: Span<UInt8>, previous: Span<UInt8>, context: ProbeContext) -> ProbeVerdict {
        if DHCPMessage.isBOOTP(bytes) { return .match }
        // Cut before the magic cookie (snap length): the fixed start of a BOOTP message over
        // Ethernet (op 1/2, htype 1, hlen 6, hops 0) and a claimed length that holds the cookie.
        if context.isCut(bytes) && context.claimedLength >= 240 && bytes.count >= 4 && (bytes[0] == 1 || bytes[0] == 2)
            && bytes[1] == 1 && bytes[2] == 6 && bytes[3] <= 16 { return .match }
        if (context.uses(port: 546) || context.uses(port: 547)) && DHCPMessage.isDHCPv6(bytes) { return .match }
        return .noMatch
    }

    public func makeSession(flow: FlowStart) -> any ProtocolSession { DHCPSession() }
}

enum DHCPMessage {
    static func isBOOTP(_ b: Span<UInt8>) -> Bool {
        guard b.count >= 240, b[0] == 1 || b[0] == 2, b[2] <= 16 else { return false }
        return b.be32(236) == 0x6382_5363
    }

    static func isDHCPv6(_ b: Span<UInt8>) -> Bool {
        guard b.count >= 4, (1...13).contains(b[0]) else { return false }
        var at = 4
        while at &+ 4 <= b.count {
            let n = Int(b.be16(at &+ 2))
            guard b.has(n, at: at &+ 4) else { return false }
            at &+= 4 &+ n
        }
        return at == b.count
    }

    static let v4Names = ["", "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM"]
    static let v6Names = ["", "SOLICIT", "ADVERTISE", "REQUEST", "CONFIRM", "RENEW", "REBIND", "REPLY", "RELEASE",
                          "DECLINE", "RECONFIGURE", "INFORMATION-REQUEST", "RELAY-FORW", "RELAY-REPL"]
}

final class DHCPSession: ProtocolSession {
    var facts = DHCPFacts()
    var messages = 0
    var wantsMore: Bool { messages < 32 }

    func consume(_ bytes: Span<UInt8>, context: inout SessionContext) -> Consumption {
        messages &+= 1
        if DHCPMessage.isBOOTP(bytes) { readV4(bytes) } else if DHCPMessage.isDHCPv6(bytes) { readV6(bytes) }
        return .consumed(bytes.count)
    }

    private func readV4(_ b: Span<UInt8>) {
        var mac: String?
        if b[1] == 1 && b[2] == 6 { mac = (0..<6).map { hex2(b[28 &+ $0]) }.joined(separator: ":") }
        var client = facts.clients.firstIndex { $0.clientMAC == mac }.map { facts.clients[$0] } ?? DHCPFacts.Client(clientMAC: mac)
        var type: UInt8 = 0
        var at = 240
        while at < b.count {
            let code = b[at]
            if code == 255 { break }
            if code == 0 { at &+= 1; continue }
            guard b.has(2, at: at) else { break }
            let n = Int(b[at &+ 1])
            let start = at &+ 2
            guard b.has(n, at: start) else { break }
            let r = start..<(start &+ n)
            switch code {
            case 53 where n == 1: type = b[start]
            case 12 where client.hostName == nil: client.hostName = b.text(r)
            case 81 where client.hostName == nil && n > 3: client.hostName = b.text((start &+ 3)..<r.upperBound)
            case 60 where client.vendorClass == nil: client.vendorClass = b.text(r)
            case 55 where client.parameterList.isEmpty: client.parameterList = r.map { Int(b[$0]) }
            case 50 where n == 4: client.requestedAddress = IPAddress(ipv4: b.be32(start)).description
            default: break
            }
            at = r.upperBound
        }
        if type == 5 || type == 2, b.be32(16) != 0 {
            client.assignedAddress = IPAddress(ipv4: b.be32(16)).description
        }
        let name = Int(type) < DHCPMessage.v4Names.count && type > 0 ? DHCPMessage.v4Names[Int(type)] : "TYPE\(type)"
        if !facts.messages.contains(name) && facts.messages.count < 8 { facts.messages.append(name) }
        if !client.messages.contains(name) && client.messages.count < 8 { client.messages.append(name) }
        store(client)
    }

    private func store(_ client: DHCPFacts.Client) {
        if let i = facts.clients.firstIndex(where: { $0.clientMAC == client.clientMAC }) {
            facts.clients[i] = client
        } else if facts.clients.count < 64 {
            facts.clients.append(client)
        }
    }

    private func readV6(_ b: Span<UInt8>) {
        facts.version6 = true
        var client = facts.clients.first { $0.clientMAC == nil } ?? DHCPFacts.Client()
        let type = Int(b[0])
        let name = type < DHCPMessage.v6Names.count ? DHCPMessage.v6Names[type] : "TYPE\(type)"
        if !facts.messages.contains(name) && facts.messages.count < 8 { facts.messages.append(name) }
        if !client.messages.contains(name) && client.messages.count < 8 { client.messages.append(name) }
        var at = 4
        while at &+ 4 <= b.count {
            let code = b.be16(at)
            let n = Int(b.be16(at &+ 2))
            let start = at &+ 4
            guard b.has(n, at: start) else { break }
            switch code {
            case 39 where n > 1 && client.hostName == nil:
                // Client FQDN (RFC 4704): flags(1) then the name in DNS wire format.
                if let (name, _) = DNSMessage.name(b.extracting(0..<(start &+ n)), at: start &+ 1) { client.hostName = name }
            case 16 where n > 6 && client.vendorClass == nil:
                // enterprise(4) then length-prefixed data.
                let length = Int(b.be16(start &+ 4))
                client.vendorClass = b.text((start &+ 6)..<min(start &+ 6 &+ length, start &+ n))
            case 6 where client.parameterList.isEmpty:
                var i = start
                while i &+ 2 <= start &+ n { client.parameterList.append(Int(b.be16(i))); i &+= 2 }
            default: break
            }
            at = start &+ n
        }
        store(client)
    }

    func finish(_ ending: FlowEnding, into facts: inout FlowFacts) { facts.details.append(self.facts) }
}

func hex2(_ b: UInt8) -> String {
    let digits = Array("0123456789abcdef".utf8)
    return String(decoding: [digits[Int(b >> 4)], digits[Int(b & 0xF)]], as: UTF8.self)
}
