public import Flows

/// Receives one protocol's facts, in report order: a JSON writer, a text renderer, a test's list.
/// Facts call it directly (a visitor), so reporting builds no intermediate structures per flow.
public protocol FactSink {
    mutating func text(_ name: StaticString, _ value: String)
    mutating func number(_ name: StaticString, _ value: Int)
    mutating func flag(_ name: StaticString, _ value: Bool)
    mutating func texts(_ name: StaticString, _ values: [String])
    mutating func numbers(_ name: StaticString, _ values: [Int])
}

extension FactSink {
    /// Absent values, false flags and empty lists are left out of reports.
    public mutating func add(_ name: StaticString, _ value: String?) { if let value { text(name, value) } }
    public mutating func add(_ name: StaticString, _ value: Int?) { if let value { number(name, value) } }
    public mutating func add(_ name: StaticString, _ value: Bool) { if value { flag(name, true) } }
    public mutating func add(_ name: StaticString, _ values: [String]) { if !values.isEmpty { texts(name, values) } }
    public mutating func add(_ name: StaticString, numbers values: [Int]) { if !values.isEmpty { numbers(name, values) } }
}

/// A fact's value, for sinks that keep them (tests, renderers that sort or reshape).
public enum FactValue: Sendable, Equatable {
    case text(String)
    case number(Int)
    case flag(Bool)
    case texts([String])
    case numbers([Int])
}

/// A sink that collects facts as (name, value) pairs.
public struct FactList: FactSink, Sendable, Equatable {
    public private(set) var fields: [(String, FactValue)] = []

    public init() {}

    public init(_ facts: any ProtocolFacts) {
        facts.report(to: &self)
    }

    public subscript(_ name: String) -> FactValue? { fields.first { $0.0 == name }?.1 }

    public mutating func text(_ name: StaticString, _ value: String) { fields.append(("\(name)", .text(value))) }
    public mutating func number(_ name: StaticString, _ value: Int) { fields.append(("\(name)", .number(value))) }
    public mutating func flag(_ name: StaticString, _ value: Bool) { fields.append(("\(name)", .flag(value))) }
    public mutating func texts(_ name: StaticString, _ values: [String]) { fields.append(("\(name)", .texts(values))) }
    public mutating func numbers(_ name: StaticString, _ values: [Int]) { fields.append(("\(name)", .numbers(values))) }

    public static func == (a: FactList, b: FactList) -> Bool {
        a.fields.count == b.fields.count && zip(a.fields, b.fields).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }
}

/// What one protocol learned about one flow: a plain value (strings copied out of the packets),
/// typed for the stages that use it (devices, the audit) and reported field by field.
public protocol ProtocolFacts: Sendable {
    /// The key the facts appear under in reports (`"tls"`, `"http"`, ...).
    static var key: String { get }
    /// Hands the facts to `sink` in report order.
    func report<Sink: FactSink>(to sink: inout Sink)
}

/// Everything classification learned about one flow.
public struct FlowFacts: Sendable {
    /// The application protocol the flow carries.
    public var service: Service?
    /// Every application protocol seen on the flow, in the order seen (more than one when a flow
    /// multiplexes them, RFC 7983, or upgrades, RFC 6455).
    public var services: [Service] = []
    public var serverName: String?
    public var serverNameSource: ServerNameSource?
    /// Per-protocol facts, in the order the protocols were seen.
    public var details: [any ProtocolFacts] = []
    /// Things that were odd about the flow's application data (a gap before the first message, a
    /// malformed message), as stable snake_case names.
    public var notes: [String] = []

    public init() {}

    /// The facts of one protocol, if the flow has them.
    public func detail<T: ProtocolFacts>(_ type: T.Type) -> T? {
        for d in details { if let found = d as? T { return found } }
        return nil
    }
}

/// A finished flow with what classification learned about it.
public struct ClassifiedFlow: Sendable {
    public var record: FlowRecord
    public var facts: FlowFacts

    public init(record: FlowRecord, facts: FlowFacts) {
        self.record = record
        self.facts = facts
    }
}

/// A flow that ended, with what classification kept of it, before it becomes facts.
///
/// `finish()` is pure — it reads only this value (the session object is no longer used by the
/// classifier once the flow ended) — so it may run on another thread: that is what `@unchecked
/// Sendable` asserts, and why the classifier hands the session over and forgets it.
///
/// Move-only: the classifier hands each one on and `finish()` takes its record out, and the
/// compiler may not copy it on the way (it did, twice per flow: a retain and a release of every
/// string, list and session it holds, and ~400 bytes, at each hand-over).
public struct EndedFlow: ~Copyable, @unchecked Sendable {
    public var record: FlowRecord
    var service: Service?
    var session: (any ProtocolSession)?
    var dnsName: String?
    var notes: [String]

    /// A flow classification never looked at (classification off).
    public init(record: FlowRecord) {
        self.init(record: record, service: nil, session: nil, dnsName: nil, notes: [])
    }

    init(record: FlowRecord, service: Service?, session: (any ProtocolSession)?, dnsName: String?, notes: [String]) {
        self.record = record
        self.service = service
        self.session = session
        self.dnsName = dnsName
        self.notes = notes
    }

    /// The flow with its facts: the session's, and a name from DNS when nothing better named it.
    /// Consuming: the record moves into the result instead of being copied (a retain and a release
    /// of each of its strings and lists, and 300 bytes, per flow).
    public consuming func finish() -> ClassifiedFlow {
        var facts = FlowFacts()
        if let service {
            facts.service = service
            facts.services = service.alone
        }
        session.take()?.finish(FlowEnding(record: record), into: &facts)
        if !notes.isEmpty { facts.notes += notes }
        if facts.serverName == nil, let dnsName = dnsName.take() {
            facts.serverName = dnsName
            facts.serverNameSource = .dns
        }
        // The record is completed where it is and moved out as `self` is consumed.
        // (Set only when there is something to set: most flows have no name, and assigning nil
        // over nil still destroys the old value, three calls per flow.)
        if let service = facts.service { record.service = service.name }
        if let name = facts.serverName { record.serverName = name }
        if let source = facts.serverNameSource { record.serverNameSource = source.name }
        return ClassifiedFlow(record: record, facts: facts)
    }
}
