public import Flows
public import Wire

/// What a DNS flow asked and was told. Kept typed while the flow lives (text is made when it is
/// reported, off the packet path).
public struct DNSFacts: ProtocolFacts, Equatable {
    public static let key = "dns"

    public struct Query: Sendable, Equatable {
        public var name: String
        public var type: UInt16
    }

    public enum Answer: Sendable, Equatable {
        case address(IPAddress)
        case alias(String)

        public var text: String {
            switch self {
            case .address(let a): String.joined(a.isIPv4 ? "A" : "AAAA", a.description)
            case .alias(let name): String.joined("CNAME", name)
            }
        }
    }

    /// In the order asked.
    public var queries: [Query] = []
    public var answers: [Answer] = []
    public var rcode: UInt8?

    public func report<Sink: FactSink>(to sink: inout Sink) {
        sink.add("queries", queries.map { String.joined($0.name, DNSMessage.typeName($0.type)) })
        sink.add("answers", answers.map(\.text))
        sink.add("rcode", rcode.map(DNSMessage.rcodeName))
    }

    public init() {}
}

/// What mDNS announcements and answers showed (RFC 6762, DNS-SD RFC 6763).
public struct MDNSFacts: ProtocolFacts, Equatable {
    public static let key = "mdns"
    /// Host names with addresses (A/AAAA owners, `name.local`).
    public var hosts: [String] = []
    /// Service types (`_http._tcp.local`) and instances (`Living Room._airplay._tcp.local`).
    public var services: [String] = []
    public var instances: [String] = []
    /// Names asked about.
    public var queries: [String] = []
    /// TXT strings of instances (`model=...`), a few.
    public var texts: [String] = []
    /// The addresses the host names were announced with (`rn-aurora.local` → 10.40.0.22).
    public var hostAddresses: [HostAddress] = []
    /// Who sent the responses (announcements and answers): the hosts, services and instances
    /// above are theirs. Names in queries and in a query's known answers are not.
    public var responders: [IPAddress] = []

    public struct HostAddress: Sendable, Equatable {
        public var name: String
        public var address: IPAddress
    }

    public func report<Sink: FactSink>(to sink: inout Sink) {
        sink.add("hosts", hosts)
        sink.add("host_addresses", hostAddresses.map { "\($0.name) \($0.address)" })
        sink.add("responders", responders.map(\.description))
        sink.add("services", services)
        sink.add("instances", instances)
        sink.add("queries", queries)
        sink.add("texts", texts)
    }

    public init() {}
}

/// DNS by content (RFC 1035): a header and exactly the questions and records it declares. Over
/// TCP, each message has a 2-byte length in front (RFC 1035 §4.2.2). Messages on port 5353 are
/// mDNS (`MDNSAnalyzer`), which RFC 6762 defines by that port.
public final class DNSAnalyzer: ProtocolAnalyzer {
    public let service = Service.dns
    public let transports: [Transport] = [.udp, .tcp]
    public let hintPorts: [UInt16] = [53, 5355, 853]
    public let probeBytes = 2048
    public let probeDatagrams = 2

    public init() {}

    public static func probe(_ bytes: Span<UInt8>, previous: Span<UInt8>, context: ProbeContext) -> ProbeVerdict {
        probe(bytes, context: context, multicast: false)
    }

    /// Both analyzers' probe: the same messages, told apart by port 5353.
    static func probe(_ bytes: Span<UInt8>, context: ProbeContext, multicast: Bool) -> ProbeVerdict {
        guard context.uses(port: 5353) == multicast else { return .noMatch }
        if context.transport == .tcp {
            guard bytes.count >= 2 else { return .needMore }
            let length = Int(bytes.be16(0))
            guard length >= 12 else { return .noMatch }
            guard bytes.count >= 2 &+ length else {
                if context.isFinal, DNSMessage(parsing: bytes.extracting(2...), lax: true) != nil { return .match }
                guard bytes.count >= 14 else { return .needMore }
                return plausibleHeader(bytes.extracting(2...)) ? .needMore : .noMatch
            }
            return accept(bytes.extracting(2..<(2 &+ length)), lax: false) ? .match : .noMatch
        }
        return accept(bytes, lax: false) ? .match : .noMatch
    }

    static func plausibleHeader(_ b: Span<UInt8>) -> Bool {
        guard b.count >= 12 else { return false }
        let opcode = (b[2] >> 3) & 0xF
        let counts = Int(b.be16(4)) &+ Int(b.be16(6)) &+ Int(b.be16(8)) &+ Int(b.be16(10))
        return opcode <= 6 && opcode != 3 && counts >= 1 && counts <= DNSMessage.maximumRecords
    }

    static func accept(_ b: Span<UInt8>, lax: Bool) -> Bool {
        guard let message = DNSMessage(parsing: b, lax: lax, decodeNames: false) else { return false }
        // A header of zeros is not DNS; a query asks something.
        if message.questionCount == 0 && message.answerCount == 0 && message.additionalCount == 0 { return false }
        return message.isResponse || message.questionCount > 0
    }

    public func makeSession(flow: FlowStart) -> any ProtocolSession {
        DNSSession(multicast: false)
    }
}

/// mDNS (RFC 6762): DNS messages on port 5353, over UDP.
public final class MDNSAnalyzer: ProtocolAnalyzer {
    public let service = Service.mdns
    public let transports: [Transport] = [.udp]
    public let hintPorts: [UInt16] = [5353]
    public let probeBytes = 2048
    public let probeDatagrams = 2

    public init() {}

    public static func probe(_ bytes: Span<UInt8>, previous: Span<UInt8>, context: ProbeContext) -> ProbeVerdict {
        DNSAnalyzer.probe(bytes, context: context, multicast: true)
    }

    public func makeSession(flow: FlowStart) -> any ProtocolSession {
        DNSSession(multicast: true)
    }
}

/// Reads every message of a DNS flow: questions and answers for the facts, and each answer's
/// addresses into the shared name cache (the name the client asked for, through CNAME chains).
final class DNSSession: ProtocolSession {
    let multicast: Bool
    var dns = DNSFacts()
    var mdns = MDNSFacts()
    /// Questions not yet added to `dns.queries`, in message order: a query, read at the finish
    /// from its bytes in `pendingBytes`, or a response's questions. A query says nothing the
    /// reading thread needs (only answers feed the name cache), so its parse moves to the thread
    /// that finishes flows — a third of the DNS work on the reading thread. Bounded by
    /// `maximumPending` messages; the bytes share one buffer per flow.
    private var pending: [PendingQuestions] = []
    private var pendingBytes: [UInt8] = []
    private static let maximumPending = 16
    /// Distinct questions kept per flow.
    private static let maximumQueries = 16

    private enum PendingQuestions {
        case query(Range<Int>)
        case questions([DNSMessage.Question])
    }

    init(multicast: Bool) {
        self.multicast = multicast
    }

    var wantsMore: Bool { true }

    func consume(_ bytes: Span<UInt8>, context: inout SessionContext) -> Consumption {
        if context.transport == .tcp {
            guard bytes.count >= 2 else { return context.isFinal ? .done : .needMore }
            let length = Int(bytes.be16(0))
            guard bytes.count >= 2 &+ length else {
                if context.isFinal {
                    let message = bytes.extracting(2...)
                    if let m = DNSMessage(parsing: message, lax: true) { read(m, message, context: context) }
                }
                return context.isFinal ? .done : .needMore
            }
            let message = bytes.extracting(2..<(2 &+ length))
            take(message, context: context)
            return .consumed(2 &+ length)
        }
        take(bytes, context: context)
        return .consumed(bytes.count)
    }

    private func take(_ message: Span<UInt8>, context: SessionContext) {
        if !multicast, message.count >= 12, message[2] & 0x80 == 0 {
            // A query: keep it for the finish (unless no question could be added any more).
            if pending.isEmpty && dns.queries.count >= Self.maximumQueries { return }
            let start = pendingBytes.count
            pendingBytes.append(span: message)
            pending.append(.query(start..<pendingBytes.count))
            if pending.count >= Self.maximumPending { addPendingQuestions() }
            return
        }
        if let m = DNSMessage(parsing: message, lax: true) { read(m, message, context: context) }
    }

    /// Adds the pending questions to the facts, in the order their messages came.
    private func addPendingQuestions() {
        let bytes = pendingBytes
        for entry in pending {
            switch entry {
            case .query(let range):
                guard let m = DNSMessage(parsing: bytes.span.extracting(range), lax: true) else { continue }
                m.forEachQuestion { addQuestion($0) }
            case .questions(let questions):
                for q in questions { addQuestion(q) }
            }
        }
        pending.removeAll()
        pendingBytes.removeAll()
    }

    private func addQuestion(_ q: DNSMessage.Question) {
        guard dns.queries.count < Self.maximumQueries else { return }
        let query = DNSFacts.Query(name: q.name, type: q.type)
        if !dns.queries.contains(query) { dns.queries.append(query) }
    }

    private func read(_ m: DNSMessage, _ b: Span<UInt8>, context: SessionContext) {
        if multicast {
            readMulticast(m, b, context: context)
            return
        }
        if pending.isEmpty {
            m.forEachQuestion { addQuestion($0) }
        } else if dns.queries.count < Self.maximumQueries {
            pending.append(.questions(m.questions))
            if pending.count >= Self.maximumPending { addPendingQuestions() }
        }
        guard m.isResponse else { return }
        if dns.rcode == nil || m.rcode != 0 { dns.rcode = m.rcode }
        // Answers name addresses by the name that was asked for: CNAME chains lead back to it. The
        // usual answer points its owner name at the question (offset 12): no decoding needed then.
        let asked = m.firstQuestion?.name
        var aliases: [String: String] = [:]
        m.forEachAnswer(in: b) { r in
            guard r.type == 5, let target = r.target(in: b) else { return }
            let owner = b.be16Safe(r.nameOffset) == 0xC00C ? asked ?? "" : r.name(in: b)
            aliases[target] = aliases[owner] ?? owner
            add(.alias(target))
        }
        m.forEachAnswer(in: b) { r in
            guard let address = r.address(in: b) else { return }
            let owner: String
            if let asked, b.be16Safe(r.nameOffset) == 0xC00C {
                owner = asked
            } else {
                owner = r.name(in: b)
            }
            let name = aliases[owner] ?? owner
            context.shared.names.add(name: name, address: address, client: context.receiver, time: context.time, ttl: r.ttl)
            add(.address(address))
        }
    }

    private func add(_ answer: DNSFacts.Answer) {
        if dns.answers.count < 32 && !dns.answers.contains(answer) { dns.answers.append(answer) }
    }

    private func readMulticast(_ m: DNSMessage, _ b: Span<UInt8>, context: SessionContext) {
        m.forEachQuestion { insert($0.name, into: &mdns.queries, limit: 32) }
        // A query's answer section lists what the querier already knows (RFC 6762 §7.1): other
        // hosts' records, which say nothing about the querier.
        guard m.isResponse else { return }
        if mdns.responders.count < 4 && !mdns.responders.contains(context.sender) { mdns.responders.append(context.sender) }
        m.forEachAnswer(in: b) { readMulticast($0, b, context: context) }
        m.forEachAdditional(in: b) { readMulticast($0, b, context: context) }
    }

    private func readMulticast(_ r: DNSMessage.Record, _ b: Span<UInt8>, context: SessionContext) {
        switch r.type {
        case 1, 28:
            guard let address = r.address(in: b) else { return }
            let name = r.name(in: b)
            insert(name, into: &mdns.hosts, limit: 16)
            let host = MDNSFacts.HostAddress(name: name, address: address)
            if mdns.hostAddresses.count < 16 && !mdns.hostAddresses.contains(host) { mdns.hostAddresses.append(host) }
            // mDNS answers name link-local hosts too: flows to them can be named after them.
            context.shared.names.add(name: name, address: address, client: context.receiver, time: context.time,
                                     ttl: r.ttl)
        case 12:
            guard let target = r.target(in: b, preservingCase: true) else { return }
            let owner = r.name(in: b)
            if owner == "_services._dns-sd._udp.local" {
                insert(target, into: &mdns.services, limit: 32)
            } else {
                insert(owner, into: &mdns.services, limit: 32)
                insert(target, into: &mdns.instances, limit: 32)
            }
        case 33:
            insert(r.name(in: b, preservingCase: true), into: &mdns.instances, limit: 32)
        case 16:
            for text in r.texts(in: b) where !text.isEmpty { insert(text, into: &mdns.texts, limit: 16) }
        default:
            break
        }
    }

    private func insert(_ value: String, into list: inout [String], limit: Int) {
        if list.count < limit && !list.contains(value) { list.append(value) }
    }

    func finish(_ ending: FlowEnding, into facts: inout FlowFacts) {
        addPendingQuestions()
        if multicast {
            facts.details.append(mdns)
        } else {
            facts.details.append(dns)
        }
    }
}
