public import Wire

/// A later pipeline stage that looks inside flows (classification): told when each flow starts,
/// shown the payloads of its packets for as long as it wants, and handed each flow when it ends.
///
/// Why a class-bound protocol rather than a closure per event: the tracker calls it for every
/// packet of a flow under inspection, and the observer keeps per-flow state in arrays indexed by
/// `slot`; one object with three entry points keeps that state in one place. Flows the observer has
/// seen enough of cost the tracker one flag test per packet, nothing more.
///
/// Contract: for every flow, `flowStarted` comes first, then any number of `inspect` calls (only
/// while the last answer was `true`), then exactly one `flowEnded`. A slot is reused only after its
/// flow ended. `inspect` gets TCP segments that carry payload (with where the sender's stream
/// starts, from the flow's own TCP state), and whole UDP datagrams (fragmented ones once
/// reassembled, never their fragments; a cut one when the rest never came); other protocols none.
public protocol FlowObserver: AnyObject {
    /// A new flow. Returns whether to inspect its payloads.
    func flowStarted(_ flow: borrowing FlowStart) -> Bool
    /// One packet of a flow under inspection; `payload` holds the captured transport payload.
    /// Returns whether to go on inspecting this flow.
    func inspect(_ segment: borrowing InspectedSegment, payload: Span<UInt8>) -> Bool
    /// The flow ended: the observer adds what it learned and passes the record on.
    func flowEnded(_ record: consuming FlowRecord, slot: Int)
    /// The flow in `slot` ends after `ahead` (3, 2, 1) other flows of a batch (a sweep, the end of
    /// the capture): a hint to prefetch what the observer keeps for it, one step of pointers per
    /// call. Changes nothing; the default does nothing.
    func willEnd(slot: Int, ahead: Int)
    /// The next new flow will get `slot` (a freed slot, whose entries have left the caches since):
    /// a hint to prefetch what the observer keeps per slot. Changes nothing; the default does nothing.
    func willStart(slot: Int)
}

extension FlowObserver {
    public func willEnd(slot: Int, ahead: Int) {}
    public func willStart(slot: Int) {}
}

/// A flow as it starts: who opened it to whom, and when.
public struct FlowStart: Sendable {
    /// The flow's index in the flow table, stable while the flow lives (reused after it ends).
    public var slot: Int
    public var uid: UInt64
    public var time: Int64
    public var protocolNumber: IPProtocol
    public var originator: IPAddress
    public var originatorPort: UInt16
    public var responder: IPAddress
    public var responderPort: UInt16
    /// The flow that carried this one (tunnels), or 0.
    public var tunnelParent: UInt64

    public init(slot: Int, uid: UInt64, time: Int64, protocolNumber: IPProtocol, originator: IPAddress,
                originatorPort: UInt16, responder: IPAddress, responderPort: UInt16, tunnelParent: UInt64) {
        self.slot = slot
        self.uid = uid
        self.time = time
        self.protocolNumber = protocolNumber
        self.originator = originator
        self.originatorPort = originatorPort
        self.responder = responder
        self.responderPort = responderPort
        self.tunnelParent = tunnelParent
    }
}

/// One packet of a flow under inspection.
public struct InspectedSegment: Sendable {
    public var slot: Int
    public var uid: UInt64
    public var time: Int64
    public var fromOriginator: Bool
    public var protocolNumber: IPProtocol
    /// TCP only: flags, the sequence number of the first payload byte, and, when the sender's SYN
    /// was seen, that of its stream offset 0 (the SYN's plus one); nil otherwise (the capture
    /// joined the connection later).
    public var tcpFlags: TCPFlags
    public var tcpSequence: UInt32
    public var streamBase: UInt32?
    /// The payload length the headers claim: more than the payload span when the capture cut the
    /// packet short (snap length).
    public var claimedLength: Int
    /// The packet's source and destination MAC addresses (0 when the link layer has none).
    public var sourceMAC: UInt64
    public var destinationMAC: UInt64
}
