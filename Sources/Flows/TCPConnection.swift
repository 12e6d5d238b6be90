import Wire

/// The state of one side of a TCP connection, as Zeek's TCP analyzer tracks it
/// (`TCP_ENDPOINT_*` in `src/analyzer/protocol/tcp/TCP_Endpoint.h`).
public enum TCPEndpointState: UInt8, Sendable {
    /// Nothing seen from this side yet.
    case inactive
    /// Sent a SYN.
    case synSent
    /// Sent a SYN+ACK as the originator (the connection's roles look reversed).
    case synAckSent
    /// Sent traffic without a SYN having been seen (a connection joined mid-stream).
    case partial
    case established
    /// Sent a FIN.
    case closed
    /// Sent a RST.
    case reset
}

/// One side of a TCP connection: its state, sequence-space bookkeeping (from which `orig_bytes` and
/// `resp_bytes` are computed, as Zeek does, so retransmissions are not counted twice), and what its
/// history letters need to remember.
public struct TCPEndpoint: Sendable {
    public var state = TCPEndpointState.inactive
    public var previousState = TCPEndpointState.inactive
    /// Whether this side's FIN or RST has been processed (Zeek's `did_close`).
    public var didClose = false
    public var finCount: UInt16 = 0
    public var rstCount: UInt16 = 0
    /// Zeek keeps the initial sequence number as a signed 64-bit value holding a 32-bit number.
    var startSeq: Int64 = 0
    /// Whether this side's SYN was seen: then `startSeq` is its initial sequence number (else it
    /// was guessed from the first segment seen).
    public var sawSYN = false
    var lastSeq: UInt32 = 0
    var ackSeq: UInt32 = 0
    var seqWraps: UInt32 = 0
    var ackWraps: UInt32 = 0
    var finSeq: UInt64 = 0
    var lastSYN: UInt64 = 0
    var lastFIN: UInt64 = 0
    var lastRST: UInt64 = 0
    var retransmissions = ScaledCounter()
    var zeroWindows = ScaledCounter()
    var gaps = ScaledCounter()
    /// Relative sequence number up to which this side's data is accounted for (delivered or declared
    /// missing): Zeek's reassembler `last_reassem_seq`, starting at 1 (after the SYN).
    var reassembled: UInt64 = 1
    /// Highest relative sequence number acknowledged by the peer and processed (Zeek's `trim_seq`).
    var trimmed: UInt64 = 0
    /// Up to two ranges of data seen above a hole (out of order), as relative sequence numbers;
    /// `heldEnd == 0` means empty. More holes than that are merged into the nearest range, which can
    /// only under-report a gap.
    var heldStart: (UInt64, UInt64) = (0, 0)
    var heldEnd: (UInt64, UInt64) = (0, 0)
    /// Bytes the peer acknowledged that were never seen (Zeek's `missed_bytes`).
    public var missedBytes: UInt64 = 0

    init() {}

    @inline(__always) var startSeq32: UInt32 { UInt32(truncatingIfNeeded: startSeq) }

    mutating func initStart(_ seq: UInt32) { startSeq = Int64(seq) }
    mutating func initAck(_ seq: UInt32) {
        ackSeq = seq
        ackWraps = 0
    }
    mutating func initLast(_ seq: UInt32) {
        lastSeq = seq
        seqWraps = 0
    }
    mutating func updateLast(_ seq: UInt32) {
        if seq < lastSeq { seqWraps &+= 1 }
        lastSeq = seq
    }
    mutating func updateAck(_ seq: UInt32) {
        if seq < ackSeq { ackWraps &+= 1 }
        ackSeq = seq
    }

    mutating func setState(_ new: TCPEndpointState) {
        guard new != state else { return }
        previousState = state
        state = new
    }

    /// Established, or closed from established: holes in its data are content gaps.
    var isClean: Bool { state == .established || (state == .closed && previousState == .established) }

    static func full(_ seq: UInt32, _ wraps: UInt32) -> UInt64 { UInt64(wraps) << 32 | UInt64(seq) }

    /// Bytes of payload this side sent, from its sequence space (Zeek's `TCP_Endpoint::Size`).
    func size(peerState: TCPEndpointState) -> UInt64 {
        if previousState == .synSent && state == .reset && peerState == .inactive && !noDataAcked {
            // A half-open connection discovered and aborted: its sequence numbers mean nothing.
            return 0
        }
        let last = Self.full(lastSeq, seqWraps)
        let ack = Self.full(ackSeq, ackWraps)
        let top = Int64(bitPattern: max(last, ack))
        var size = UInt64(bitPattern: top &- startSeq)
        if size != 0 { size &-= 1 }                 // not the SYN's sequence number
        if finCount > 0 && size != 0 { size &-= 1 } // not the FIN's
        return size
    }

    var noDataAcked: Bool {
        let ack = Self.full(ackSeq, ackWraps)
        let start = UInt64(bitPattern: startSeq)
        return ack == start || ack == start &+ 1
    }

    /// `cur` relative to this side's initial sequence number, with 32-bit wrap-arounds followed from
    /// `last` (Zeek's `get_relative_seq`). `underflow` is set when `cur` lies before the start.
    func relative(_ cur: UInt32, last: UInt32, wraps: UInt32, underflow: inout Bool) -> UInt64 {
        var wraps = wraps
        let delta = Int32(bitPattern: cur &- last)
        if delta < 0 {
            if wraps > 0 && cur > last { wraps &-= 1 }
        } else if delta > 0 {
            if cur < last { wraps &+= 1 }
        }
        if wraps == 0 {
            let fromStart = Int32(bitPattern: cur &- startSeq32)
            if fromStart < 0 { underflow = true }
            return UInt64(bitPattern: Int64(fromStart))
        }
        return UInt64(bitPattern: Int64(bitPattern: Self.full(cur, wraps)) &- startSeq)
    }
}

/// What a packet did to the connection, for the flow table's timers.
struct TCPPacketOutcome {
    /// The connection completed closing on this packet (Zeek then deletes it `tcp_close_delay` later).
    var closeCompleted = false
    /// The originator entered SYN_SENT (Zeek's attempt timer starts).
    var attemptStarted = false
}

/// A TCP connection's two endpoints and Zeek's state machine over them
/// (`TCPSessionAdapter::Process` and `UpdateStateMachine`), reimplemented: the same states, the
/// same history letters, the same `conn_state` codes, on every packet order Zeek handles.
///
/// What is left out, on purpose: checksum verification ('c' never appears), window-scale and
/// window-recision bookkeeping (they only raise Zeek "weirds"), and storm detection.
public struct TCPConnection: Sendable {
    public var originator = TCPEndpoint()
    public var responder = TCPEndpoint()
    /// Connection-level flags (kept apart from the endpoints so that a segment can borrow both
    /// endpoints and these at once).
    var meta = Meta()

    /// Zeek's `is_active`: cleared once the connection finished or was reset; a SYN after that
    /// starts a new connection.
    var isActive: Bool { meta.isActive }

    static let tooLargeSeqDelta: Int32 = 1_048_576

    public init() {}

    /// Whether a SYN would start a new connection on this 5-tuple (Zeek's `IsReuse`): any SYN once
    /// this one finished or was reset, or a SYN whose sequence number differs from the opening SYN's.
    func isReuse(flags: TCPFlags, sequence: UInt32, anomalies: inout Anomalies) -> Bool {
        guard flags.contains(.syn) else { return false }
        var opener = originator
        if flags.contains(.ack) {
            // A SYN+ACK starts over only for half connections (whose originator never spoke).
            guard originator.state == .inactive else { return false }
            opener = responder
        }
        if isActive {
            if sequence == opener.startSeq32 { return false }
            if !flags.contains(.ack) && opener.state == .synAckSent && responder.state == .inactive
                && sequence == responder.startSeq32 {
                return false
            }
            anomalies.note(opener.state == .synSent ? .tcpSYNSeqJump : .tcpActiveConnectionReuse)
        }
        return true
    }

    /// Processes one TCP segment from the originator (`fromOriginator`) or the responder.
    mutating func process(fromOriginator: Bool, flags: TCPFlags, sequence: UInt32, acknowledgment: UInt32,
                          window: UInt16, payloadLength: Int, history: inout History,
                          anomalies: inout Anomalies) -> TCPPacketOutcome {
        var outcome = TCPPacketOutcome()
        setPartialStatus(flags: flags, fromOriginator: fromOriginator)
        if fromOriginator {
            Self.segment(&originator, peer: &responder, isOrig: true, connection: &meta, flags: flags,
                         base: sequence, ack: acknowledgment, window: window, length: payloadLength,
                         history: &history, anomalies: &anomalies, outcome: &outcome)
        } else {
            Self.segment(&responder, peer: &originator, isOrig: false, connection: &meta, flags: flags,
                         base: sequence, ack: acknowledgment, window: window, length: payloadLength,
                         history: &history, anomalies: &anomalies, outcome: &outcome)
        }
        meta.firstPacketSeen |= fromOriginator ? 1 : 2
        return outcome
    }

    struct Meta: Sendable {
        /// Zeek's `is_active`.
        var isActive = true
        /// Zeek's `is_partial`: the connection was joined without seeing its opening.
        var isPartial = false
        /// Bit 1: a packet from the originator was seen; bit 2: from the responder.
        var firstPacketSeen: UInt8 = 0
    }

    @inline(__always)
    private mutating func setPartialStatus(flags: TCPFlags, fromOriginator: Bool) {
        if fromOriginator {
            if meta.firstPacketSeen & 1 == 0 { meta.isPartial = !flags.contains(.syn) || flags.contains(.ack) }
        } else if meta.firstPacketSeen & 2 == 0 && !meta.isPartial {
            meta.isPartial = !flags.contains(.syn)
        }
    }

    // MARK: - One segment

    private static func segment(_ e: inout TCPEndpoint, peer: inout TCPEndpoint, isOrig: Bool,
                                connection c: inout Meta, flags: TCPFlags, base: UInt32, ack: UInt32,
                                window: UInt16, length: Int, history: inout History,
                                anomalies: inout Anomalies, outcome: inout TCPPacketOutcome) {
        let syn = flags.contains(.syn), fin = flags.contains(.fin), rst = flags.contains(.rst)
        var segmentLength = length
        if syn { segmentLength &+= 1 }
        if fin { segmentLength &+= 1 }
        if rst { segmentLength &-= length }  // a RST's payload is not part of the stream
        let onePast = base &+ UInt32(truncatingIfNeeded: segmentLength)

        initEndpoint(&e, flags: flags, first: base, last: onePast, anomalies: &anomalies)

        var underflow = false
        let relSeq = e.relative(base, last: e.lastSeq, wraps: e.seqWraps, underflow: &underflow)
        updateHistory(&e, isOrig: isOrig, flags: flags, relSeq: relSeq, length: length, history: &history)

        // Zero windows are noted unless they come with or after a RST, or after the peer's FIN.
        if window == 0 && !rst && peer.state != .closed && e.state != .reset {
            anomalies.note(.tcpZeroWindow)
            if e.zeroWindows.next() { history.add(isOrig ? UInt8(ascii: "W") : UInt8(ascii: "w")) }
        }

        if fin {
            e.finCount = e.finCount == .max ? .max : e.finCount &+ 1
            e.finSeq = relSeq &+ UInt64(segmentLength)
        }
        if rst { e.rstCount = e.rstCount == .max ? .max : e.rstCount &+ 1 }

        var relAck: UInt64 = 0
        if flags.contains(.ack) {
            if peer.state == .inactive {
                relAck = 1
                // Number the peer's sequence space as if its SYN had been seen.
                peer.initStart(ack &- 1)
                peer.initAck(ack &- 1)
                peer.initLast(ack &- 1)
            } else {
                var ackUnderflow = false
                relAck = peer.relative(ack, last: peer.ackSeq, wraps: peer.ackWraps, underflow: &ackUnderflow)
                if ackUnderflow {
                    relAck = 0
                } else if !rst {
                    let delta = Int32(bitPattern: ack &- peer.ackSeq)
                    if !(ack == 0 && delta > tooLargeSeqDelta) && delta > 0 { peer.updateAck(ack) }
                }
            }
        }

        let deltaLast = updateLastSeq(&e, onePast, flags: flags, length: length, isOrig: isOrig, history: &history)

        var doClose = false, generateEvent = false
        switch e.state {
        case .inactive:
            inactiveState(&e, peer: &peer, isOrig: isOrig, connection: &c, flags: flags, base: base,
                          length: length, doClose: &doClose, generateEvent: &generateEvent,
                          anomalies: &anomalies, outcome: &outcome)
        case .synSent, .synAckSent:
            if fin {
                e.setState(.closed)
                doClose = true
                generateEvent = true
            }
            if rst {
                e.setState(.reset)
                c.isActive = false
                doClose = true
            }
        case .established, .partial:
            if syn && e.state == .partial && peer.state == .inactive && !flags.contains(.ack) {
                e.setState(.synSent)
            }
            if fin && !rst {
                e.setState(.closed)
                if peer.state == .reset && peer.previousState == .closed {
                    // The peer's FIN was followed by its RST: that was a normal termination.
                    peer.setState(.closed)
                }
                doClose = true
                generateEvent = true
            }
            if rst {
                e.setState(.reset)
                doClose = true
                if peer.state != .reset || peer.previousState != .established { c.isActive = false }
            }
        case .closed:
            if syn { anomalies.note(.tcpSYNAfterClose) }
            if rst && peer.state != .closed {
                e.setState(.reset)
                if !e.didClose { doClose = true }
            }
        case .reset:
            if length > 0 && !rst { anomalies.note(.tcpDataAfterReset) }
        }

        if flags.contains(.ack) {
            ackReceived(&peer, senderIsClean: e.isClean, relAck: relAck, isPartial: c.isPartial,
                        peerIsOrig: !isOrig, history: &history, anomalies: &anomalies)
        }
        _ = deltaLast

        if length > 0 && !rst && !underflow {
            dataSent(&e, relativeSeq: syn ? relSeq &+ 1 : relSeq, length: UInt64(length))
        }

        if doClose {
            connectionClosed(&e, peerDidClose: peer.didClose, peerState: peer.state, connection: &c,
                             generateEvent: generateEvent, outcome: &outcome)
        }
    }

    private static func initEndpoint(_ e: inout TCPEndpoint, flags: TCPFlags, first: UInt32, last: UInt32,
                                     anomalies: inout Anomalies) {
        let syn = flags.contains(.syn)
        if syn { e.sawSYN = true }
        switch e.state {
        case .inactive:
            if syn {
                e.initAck(first)
                e.initStart(first)
                e.initLast(last)
            } else {
                // Joined mid-stream: number as if a SYN had preceded, and do not mark this first
                // segment as a retransmission.
                e.initAck(first &- 1)
                e.initStart(first &- 1)
                e.initLast(first)
            }
        case .synSent, .synAckSent:
            if syn && first != e.startSeq32 {
                anomalies.note(.tcpSYNSeqJump)
                e.initStart(first)
                e.initAck(first)
                e.initLast(last)
            }
        case .established, .partial:
            if syn {
                if first != e.startSeq32 { anomalies.note(.tcpSYNSeqJump) }
                e.initStart(first)
                e.initAck(first)
                e.initLast(last)
            }
        case .reset:
            if syn && e.previousState == .inactive {
                e.initStart(first)
                e.initAck(first)
                e.initLast(last)
            }
        case .closed:
            break
        }
    }

    /// The history letters of a segment. Most segments carry data or a bare acknowledgment: that
    /// case is decided here, inlined into the segment path; SYN, FIN and RST go to
    /// `updateControlHistory` (swiftc kept the whole function out of line despite `@inline(__always)`:
    /// a call per segment).
    @inline(__always)
    private static func updateHistory(_ e: inout TCPEndpoint, isOrig: Bool, flags: TCPFlags, relSeq: UInt64,
                                      length: Int, history: inout History) {
        if !flags.contains(.syn) && !flags.contains(.fin) && !flags.contains(.rst) {
            if length > 0 {
                history.check(History.Mask.data, UInt8(ascii: "D"), originator: isOrig)
            } else if flags.contains(.ack) {
                history.check(History.Mask.ack, UInt8(ascii: "A"), originator: isOrig)
            }
            return
        }
        updateControlHistory(&e, isOrig: isOrig, flags: flags, relSeq: relSeq, length: length, history: &history)
    }

    /// A segment with SYN, FIN or RST (one or several).
    private static func updateControlHistory(_ e: inout TCPEndpoint, isOrig: Bool, flags: TCPFlags, relSeq: UInt64,
                                             length: Int, history: inout History) {
        let syn = flags.contains(.syn), fin = flags.contains(.fin), rst = flags.contains(.rst)
        let bits = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0)
        if bits > 1 {
            if fin && rst {
                history.check(History.Mask.finRST, UInt8(ascii: "I"), originator: isOrig)
            } else {
                history.check(History.Mask.multiFlag, UInt8(ascii: "Q"), originator: isOrig)
            }
        } else if bits == 1 {
            if syn {
                let letter = flags.contains(.ack) ? UInt8(ascii: "H") : UInt8(ascii: "S")
                if history.check(History.Mask.syn, letter, originator: isOrig) && relSeq != e.lastSYN {
                    history.add(isOrig ? letter : letter | 0x20)
                }
                e.lastSYN = relSeq
            }
            if fin {
                // A FIN's sequence number is the one after its data.
                let finAt = relSeq &+ UInt64(length)
                if history.check(History.Mask.fin, UInt8(ascii: "F"), originator: isOrig) && finAt != e.lastFIN {
                    history.add(isOrig ? UInt8(ascii: "F") : UInt8(ascii: "f"))
                }
                e.lastFIN = finAt
            }
            if rst {
                if history.check(History.Mask.rst, UInt8(ascii: "R"), originator: isOrig) && relSeq != e.lastRST {
                    history.add(isOrig ? UInt8(ascii: "R") : UInt8(ascii: "r"))
                }
                e.lastRST = relSeq
            }
        }
    }

    private static func updateLastSeq(_ e: inout TCPEndpoint, _ last: UInt32, flags: TCPFlags, length: Int,
                                      isOrig: Bool, history: inout History) -> Int32 {
        let delta = Int32(bitPattern: last &- e.lastSeq)
        if (flags.contains(.syn) || flags.contains(.rst)) && (delta > tooLargeSeqDelta || delta < -tooLargeSeqDelta) {
            // Outlandish sequence numbers on a SYN or RST are not trusted.
        } else if flags.contains(.fin) && e.lastSeq == e.startSeq32 &+ 1 {
            // Only the SYN and the FIN seen: take the FIN's number even if it looks backwards
            // (connections over 2 GB).
            e.updateLast(last)
        } else if e.state == .reset {
            // Nothing after a RST is trusted.
        } else if delta > 0 {
            e.updateLast(last)
        } else if length > 0 {
            if e.retransmissions.next() { history.add(isOrig ? UInt8(ascii: "T") : UInt8(ascii: "t")) }
        }
        return delta
    }

    private static func inactiveState(_ e: inout TCPEndpoint, peer: inout TCPEndpoint, isOrig: Bool,
                                      connection c: inout Meta, flags: TCPFlags, base: UInt32, length: Int,
                                      doClose: inout Bool, generateEvent: inout Bool,
                                      anomalies: inout Anomalies, outcome: inout TCPPacketOutcome) {
        let syn = flags.contains(.syn), ackFlag = flags.contains(.ack)
        if syn {
            if isOrig {
                e.setState(ackFlag ? .synAckSent : .synSent)
                outcome.attemptStarted = true
            } else {
                if ackFlag {
                    // A SYN+ACK answers the originator's SYN.
                } else if peer.state == .synAckSent && base == e.startSeq32 {
                    // SYN and SYN+ACK seen in reverse order (two capture interfaces): establish.
                    c.isPartial = false
                    peer.setState(.established)
                }
                if peer.state == .synSent { peer.setState(.established) }
                e.setState(.established)
            }
        }
        if flags.contains(.fin) {
            e.setState(.closed)
            doClose = true
            generateEvent = true
            if peer.state != .partial && !syn { anomalies.note(.tcpSpontaneousFIN) }
        }
        if flags.contains(.rst) {
            e.setState(.reset)
            var isReject = false
            if isOrig {
                // The responder established (its SYN+ACK seen) without our SYN: a reverse scan.
                if peer.state == .established { isReject = true }
            } else if peer.state == .synSent || peer.state == .synAckSent {
                isReject = true  // rejecting the originator's SYN
            }
            doClose = true
            generateEvent = !isReject
            if !isReject && peer.state == .inactive { anomalies.note(.tcpSpontaneousRST) }
        }
        if e.state == .inactive {
            if !isOrig && length == 0 && peer.state == .synSent {
                // Some stacks ACK a SYN before answering it; that is not a partial connection.
            } else if ackFlag && peer.state == .established {
                // The SYN was missed but the SYN+ACK was seen: establish.
                e.setState(.established)
                c.isPartial = false
                c.firstPacketSeen |= isOrig ? 1 : 2
            } else {
                e.setState(.partial)
            }
        }
    }

    /// Zeek's `ConnectionClosed` without data-pending deferral.
    /// (The peer comes as the two facts used, not as a 152-byte endpoint: passed by value, it was
    /// copied for every segment that closes.)
    private static func connectionClosed(_ e: inout TCPEndpoint, peerDidClose: Bool, peerState: TCPEndpointState,
                                         connection c: inout Meta, generateEvent: Bool,
                                         outcome: inout TCPPacketOutcome) {
        guard !e.didClose else { return }
        e.didClose = true
        let complete = e.state == .reset || peerDidClose || peerState == .inactive
        guard complete else { return }
        if (e.previousState != .inactive || peerState != .inactive) && generateEvent {
            c.isActive = false  // ConnectionFinished
        }
        outcome.closeCompleted = true
    }

    // MARK: - Gaps (what the reassembler would report)

    /// Data from `e` at relative sequence `seq` (the payload's first byte).
    @inline(__always)
    private static func dataSent(_ e: inout TCPEndpoint, relativeSeq seq: UInt64, length: UInt64) {
        // Data the peer already acknowledged is not buffered (Zeek trims it).
        let acked = UInt64(bitPattern: Int64(bitPattern: TCPEndpoint.full(e.ackSeq, e.ackWraps)) &- e.startSeq)
        var start = seq
        let end = seq &+ length
        if start < acked {
            if end <= acked { return }
            start = acked
        }
        if start <= e.reassembled {
            if end > e.reassembled {
                e.reassembled = end
                absorbHeld(&e)
            }
        } else {
            hold(&e, start, end)
        }
    }

    /// Keeps `[start, end)`, seen above a hole.
    private static func hold(_ e: inout TCPEndpoint, _ start: UInt64, _ end: UInt64) {
        if e.heldEnd.0 == 0 {
            e.heldStart.0 = start; e.heldEnd.0 = end
        } else if start <= e.heldEnd.0 && end >= e.heldStart.0 {
            e.heldStart.0 = min(e.heldStart.0, start); e.heldEnd.0 = max(e.heldEnd.0, end)
        } else if e.heldEnd.1 == 0 {
            e.heldStart.1 = start; e.heldEnd.1 = end
        } else {
            e.heldStart.1 = min(e.heldStart.1, start); e.heldEnd.1 = max(e.heldEnd.1, end)
        }
        if e.heldEnd.1 != 0 && e.heldStart.1 < e.heldStart.0 {
            swap(&e.heldStart.0, &e.heldStart.1)
            swap(&e.heldEnd.0, &e.heldEnd.1)
        }
        if e.heldEnd.1 != 0 && e.heldStart.1 <= e.heldEnd.0 {
            e.heldEnd.0 = max(e.heldEnd.0, e.heldEnd.1)
            e.heldStart.1 = 0; e.heldEnd.1 = 0
        }
    }

    /// Moves `reassembled` over held ranges that now touch it.
    private static func absorbHeld(_ e: inout TCPEndpoint) {
        while e.heldEnd.0 != 0 && e.heldStart.0 <= e.reassembled {
            e.reassembled = max(e.reassembled, e.heldEnd.0)
            e.heldStart.0 = e.heldStart.1; e.heldEnd.0 = e.heldEnd.1
            e.heldStart.1 = 0; e.heldEnd.1 = 0
        }
    }

    /// The peer acknowledged `relAck` of `e`'s data: holes between what was seen and the
    /// acknowledgment are content gaps (Zeek's `AckReceived` → `Undelivered` → `Gap`), reported
    /// when both sides are clean (`senderIsClean`: the acknowledging endpoint's, passed as a flag
    /// rather than a copy of its 152 bytes on every acknowledgment).
    private static func ackReceived(_ e: inout TCPEndpoint, senderIsClean: Bool,
                                    relAck: UInt64, isPartial: Bool, peerIsOrig: Bool,
                                    history: inout History, anomalies: inout Anomalies) {
        var seq = relAck
        if e.finCount > 0 && seq >= e.finSeq { seq = e.finSeq &- 1 }
        if seq <= e.trimmed { return }
        e.trimmed = seq
        guard seq > e.reassembled else { return }
        if seq <= 2 && isPartial {
            // A partial connection's invented SYN, or its first byte: not a real gap.
            e.reassembled = seq
            absorbHeld(&e)
            return
        }
        let report = e.isClean && senderIsClean
        // Each hole below `seq` is one gap; held data between holes is delivered.
        while seq > e.reassembled {
            let holeEnd = e.heldEnd.0 != 0 && e.heldStart.0 < seq ? e.heldStart.0 : seq
            if holeEnd > e.reassembled && report {
                anomalies.note(.tcpContentGap)
                e.missedBytes &+= holeEnd &- e.reassembled
                if e.gaps.next() { history.add(peerIsOrig ? UInt8(ascii: "G") : UInt8(ascii: "g")) }
            }
            e.reassembled = max(e.reassembled, holeEnd)
            if holeEnd < seq {
                absorbHeld(&e)
            } else {
                break
            }
        }
    }

    // MARK: - Results

    /// Zeek's `conn_state` for this connection (`scripts/base/protocols/conn/main.zeek`).
    public func connState(history: History) -> ConnState {
        let os = originator.state, rs = responder.state
        let originatorInactive = os == .inactive || os == .partial
        let responderInactive = rs == .inactive || rs == .partial
        if rs == .reset {
            if os == .synSent || os == .synAckSent
                || (os == .reset && size(originator: true) == 0 && size(originator: false) == 0) {
                return .rej
            }
            return originatorInactive ? .rstrh : .rstr
        }
        if os == .reset {
            if responderInactive {
                return Self.looksLikeSYNThenRST(history) ? .rstos0 : .oth
            }
            return .rsto
        }
        if rs == .closed && os == .closed { return .sf }
        if os == .closed { return responderInactive ? .sh : .s2 }
        if rs == .closed { return originatorInactive ? .shr : .s3 }
        if os == .synSent && rs == .inactive { return .s0 }
        if os == .established && rs == .established { return .s1 }
        return .oth
    }

    /// Zeek's test `/\^?S[^HAFGIQ]*R.*/ == history`.
    static func looksLikeSYNThenRST(_ history: History) -> Bool {
        let h = Array(history.string.utf8)
        var i = 0
        if i < h.count && h[i] == UInt8(ascii: "^") { i += 1 }
        guard i < h.count && h[i] == UInt8(ascii: "S") else { return false }
        i += 1
        while i < h.count {
            let c = h[i]
            if c == UInt8(ascii: "R") { return true }
            if "HAFGIQ".utf8.contains(c) { return false }
            i += 1
        }
        return false
    }

    /// Payload bytes of one side, from sequence numbers.
    public func size(originator isOrig: Bool) -> UInt64 {
        isOrig ? originator.size(peerState: responder.state) : responder.size(peerState: originator.state)
    }

    /// Whether the attempt timer applies: the originator sent a SYN and the responder never answered.
    @inline(__always) var isUnansweredAttempt: Bool {
        (originator.state == .synSent || originator.state == .synAckSent) && responder.state == .inactive
    }

    /// Whether Zeek's expire timer would remove the connection once idle for `tcp_connection_linger`:
    /// one side closed, and both did or one reset or one never spoke.
    @inline(__always) var isLingering: Bool {
        (originator.didClose || responder.didClose)
            && ((originator.didClose && responder.didClose) || originator.state == .reset
                || responder.state == .reset || originator.state == .inactive || responder.state == .inactive)
    }
}

/// Zeek's connection states (`conn_state` in conn.log).
public enum ConnState: UInt8, Sendable, CaseIterable {
    case s0, s1, sf, rej, s2, s3, rsto, rstr, rstos0, rstrh, sh, shr, oth

    public var name: String { label.description }

    /// The state's name as a literal (writers copy it without making a string).
    public var label: StaticString {
        switch self {
        case .s0: "S0"
        case .s1: "S1"
        case .sf: "SF"
        case .rej: "REJ"
        case .s2: "S2"
        case .s3: "S3"
        case .rsto: "RSTO"
        case .rstr: "RSTR"
        case .rstos0: "RSTOS0"
        case .rstrh: "RSTRH"
        case .sh: "SH"
        case .shr: "SHR"
        case .oth: "OTH"
        }
    }
}
