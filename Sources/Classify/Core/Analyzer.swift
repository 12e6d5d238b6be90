public import Flows
public import Wire

/// A probe's answer about the first bytes one side of a flow sent (Suricata's three-valued probe,
/// Zeek's accept/decline).
public enum ProbeVerdict: Sendable, Equatable {
    /// The bytes are this protocol.
    case match
    /// Not decided yet: for a TCP stream, more bytes of this direction; for UDP, another datagram.
    case needMore
    /// Definitely not this protocol.
    case noMatch
}

/// What a probe knows besides the bytes.
public struct ProbeContext: Sendable {
    public var transport: Transport
    public var direction: Direction
    public var originatorPort: UInt16
    public var responderPort: UInt16
    /// UDP: how many datagrams this direction sent before this one.
    public var datagramIndex: Int
    /// UDP: the datagram's payload length as its header claims it (more than the bytes shown when
    /// the capture cut the packet: length checks then compare with this).
    public var claimedLength: Int
    /// No more bytes will come in this direction (a gap, a snapped packet, the flow ended): decide
    /// with what there is.
    public var isFinal: Bool

    public init(transport: Transport, direction: Direction, originatorPort: UInt16 = 0, responderPort: UInt16 = 0,
                datagramIndex: Int = 0, claimedLength: Int = 0, isFinal: Bool = false) {
        self.transport = transport
        self.direction = direction
        self.originatorPort = originatorPort
        self.responderPort = responderPort
        self.datagramIndex = datagramIndex
        self.claimedLength = claimedLength
        self.isFinal = isFinal
    }

    /// UDP: whether the capture cut this datagram short.
    public func isCut(_ bytes: Span<UInt8>) -> Bool { claimedLength > bytes.count }

    /// Whether either end of the flow uses `port`.
    public func uses(port: UInt16) -> Bool { originatorPort == port || responderPort == port }
}

/// A session's answer after reading bytes of one direction.
public enum Consumption: Sendable, Equatable {
    /// Took this many bytes (whole messages). More than it was given means: the rest of a message
    /// body follows, skip it without showing it.
    case consumed(Int)
    /// The message at the start is not complete yet: show it again with more bytes.
    case needMore
    /// Nothing more to learn from this direction.
    case done
}

/// Where a session reads from and what it may use besides the bytes.
public struct SessionContext {
    public var transport: Transport
    public var direction: Direction
    /// Capture time of the packet that brought the bytes, nanoseconds since the epoch.
    public var time: Int64
    /// No more bytes will come in this direction: parse what there is, even a cut message.
    public var isFinal: Bool
    /// UDP: the datagram's length as its header claims (more than the bytes when snapped).
    public var claimedLength: Int
    /// The flow: its uid and endpoints.
    public var flow: FlowStart
    /// The packet's link-layer source address (0 when there is none).
    public var sourceMAC: UInt64
    /// What the classifier shares across flows: names from DNS, expected media flows.
    public var shared: SharedClassification

    /// The sender of the bytes.
    public var sender: IPAddress { direction == .fromOriginator ? flow.originator : flow.responder }
    public var receiver: IPAddress { direction == .fromOriginator ? flow.responder : flow.originator }
    public var senderPort: UInt16 { direction == .fromOriginator ? flow.originatorPort : flow.responderPort }
    public var receiverPort: UInt16 { direction == .fromOriginator ? flow.responderPort : flow.originatorPort }
}

/// One application protocol: a content probe, and the session that reads a matched flow.
///
/// A protocol lives in its own folder (`Protocols/<Name>/`): a pure parser of its messages, and this
/// analyzer. It is registered in `ProtocolRegistry.all`; ports in `hintPorts` only decide the order
/// in which probes run, never the verdict.
///
/// Analyzers are classes: a class reference is cheap to reach in an array where a struct
/// existential was copied out on every call. Probes are static (a probe needs nothing of the
/// analyzer but its type): the classifier calls them through the analyzers' metatypes, which are
/// not reference counted — called through the analyzer, every probe cost a retain and a release
/// of it (1.2 million of each on mix.pcap).
public protocol ProtocolAnalyzer: AnyObject, Sendable {
    /// The service a match gives the flow.
    var service: Service { get }
    var transports: [Transport] { get }
    /// Ports where this protocol is tried first.
    var hintPorts: [UInt16] { get }
    /// TCP: stream bytes of one direction looked at before giving up (Suricata's probing depth).
    var probeBytes: Int { get }
    /// UDP: datagrams of one direction the probe may see before giving up.
    var probeDatagrams: Int { get }
    /// Looks at the first bytes one side sent (TCP: the stream from its start; UDP: one datagram,
    /// with `previous`, the start of the one this side sent before, or nothing).
    static func probe(_ bytes: Span<UInt8>, previous: Span<UInt8>, context: ProbeContext) -> ProbeVerdict
    /// The per-flow reader for a flow this protocol matched.
    func makeSession(flow: FlowStart) -> any ProtocolSession
}

extension ProtocolAnalyzer {
    /// The analyzer's probe (`Self.probe`), for callers that hold an analyzer.
    public func probe(_ bytes: Span<UInt8>, previous: Span<UInt8>, context: ProbeContext) -> ProbeVerdict {
        Self.probe(bytes, previous: previous, context: context)
    }

    public var probeBytes: Int { 4096 }
    public var probeDatagrams: Int { 4 }
}

/// The per-flow state of one protocol on one matched flow: it reads messages and keeps facts.
///
/// Contract: `consume` is shown each direction's bytes in order — a TCP stream from where the last
/// call stopped (from the stream's start for the first call), or one whole UDP datagram per call;
/// then `finish` once when the flow ends.
public protocol ProtocolSession: AnyObject {
    func consume(_ bytes: Span<UInt8>, context: inout SessionContext) -> Consumption
    /// Whether the session wants to see more of the flow at all (false lets the flow go).
    var wantsMore: Bool { get }
    /// Adds what the session learned to the flow's facts.
    func finish(_ ending: FlowEnding, into facts: inout FlowFacts)
}

/// How a flow ended, for outcomes that depend on what did not happen (a TLS ClientHello answered by
/// silence or a reset).
public struct FlowEnding: Sendable {
    /// Payload bytes each side sent (TCP: by sequence numbers).
    public var originatorBytes: UInt64
    public var responderBytes: UInt64
    /// TCP: the responder sent a RST (Zeek's history letter `r`).
    public var responderReset: Bool
    /// Whether the responder sent any payload at all.
    public var responderSentData: Bool

    /// (Reads the history's letters in place: the record is not copied and no string is made,
    /// once per flow on the finishing thread.)
    public init(record: borrowing FlowRecord) {
        originatorBytes = record.originatorBytes
        responderBytes = record.responderBytes
        responderReset = record.history.contains(UInt8(ascii: "r"))
        responderSentData = record.responderBytes > 0 || record.history.contains(UInt8(ascii: "d"))
    }
}
