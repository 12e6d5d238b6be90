import Wire

/// The first bytes of one direction of a TCP connection, put back in order for the parsers.
///
/// Contract:
/// - The consumer sees the stream in order, each byte once, from where it last stopped; what it
///   asks to skip (`.consumed(n)` beyond the bytes shown) is never shown.
/// - In-order segments are shown straight from the packet (no copy); bytes are copied only when the
///   consumer needs more than one segment holds, or a segment arrives early.
/// - Retransmissions and overlaps: the first copy of a byte wins (later copies are ignored).
/// - Out-of-order segments wait (at most `maximumEarlySegments`) until the hole before them fills.
/// - A hole that cannot fill (the capture missed a segment, the early list overflowed), a segment
///   the capture cut short (snap length), or more than `maximumHeldBytes` waiting for one message:
///   the consumer is shown what there is with `isFinal`, and the direction ends (`gap` or
///   `overflow`). Nothing is buffered past that, so memory per direction stays bounded.
struct StreamPrefix {
    /// Sequence number of stream offset 0 (the SYN's plus one, else the first segment's).
    private(set) var base: UInt32 = 0
    private(set) var hasBase = false
    /// Stream offset of the next in-order byte.
    private(set) var delivered = 0
    /// Stream offset up to which the consumer took bytes (beyond `delivered` while skipping).
    private(set) var consumed = 0
    /// Bytes from `consumed` to `delivered` the consumer has not taken.
    private(set) var held: [UInt8] = []
    private var early: [(offset: Int, bytes: [UInt8])] = []
    private(set) var earlyBytes = 0
    private(set) var ended: End?

    enum End: Equatable {
        /// The consumer has what it wants.
        case done
        /// A hole in the stream (lost or cut segment).
        case gap
        /// A message larger than the buffer allowed.
        case overflow
    }

    struct Limits {
        var maximumHeldBytes = 32 * 1024
        var maximumEarlySegments = 16
        /// Stream offsets beyond this are not looked at.
        var maximumOffset = 1 << 20
    }

    typealias Consumer = (Span<UInt8>, _ isFinal: Bool) -> Consumption

    var isEnded: Bool { ended != nil }
    /// Bytes this direction keeps in memory now.
    var memory: Int { held.capacity &+ earlyBytes }

    /// Takes one segment: `sequence` of its first payload byte, `base` the sequence number of
    /// stream offset 0 when the flow's TCP state saw the SYN (else the first segment seen starts
    /// the stream), its captured `payload`, and the payload length its headers claim.
    mutating func accept(sequence: UInt32, base streamBase: UInt32?, payload: Span<UInt8>, claimedLength: Int,
                         limits: Limits, consume: Consumer) {
        guard ended == nil, !payload.isEmpty else { return }
        if !hasBase || delivered == 0 {
            // Until data was delivered, a retransmitted SYN with another number may move offset 0.
            base = streamBase ?? (hasBase ? base : sequence)
            hasBase = true
        }
        var offset = Int(Int32(bitPattern: sequence &- base))
        var bytes = payload
        if offset < 0 {
            // Starts before offset 0: a retransmission reaching back past the SYN's data.
            guard bytes.count > -offset else { return }
            bytes = bytes.extracting((-offset)...)
            offset = 0
        }
        let truncated = payload.count < claimedLength
        if offset >= limits.maximumOffset {
            // Far enough into the stream: whatever a protocol shows, it showed by now.
            ended = .done
            held = []
            early = []
            earlyBytes = 0
            return
        }
        if offset > delivered {
            holdEarly(offset: offset, bytes: bytes, truncated: truncated, limits: limits, consume: consume)
            return
        }
        let end = offset &+ bytes.count
        if end > delivered {
            deliver(bytes.extracting((delivered &- offset)...), limits: limits, consume: consume)
        }
        if truncated && ended == nil && end >= delivered {
            // The capture cut this segment: the bytes after it are missing for good.
            endWithGap(.gap, consume: consume)
            return
        }
        drainEarly(limits: limits, consume: consume)
    }

    /// Shows the consumer the bytes it left waiting again (after it changed: a protocol was matched
    /// on the other direction, and its session now reads this one from the start).
    mutating func refeed(consume: Consumer) {
        guard ended == nil, !held.isEmpty else { return }
        var buffer = held
        held = []
        let taken = feed(buffer.span, isFinal: false, consume: consume)
        if ended == nil {
            if taken > 0 { buffer.removeFirst(min(taken, buffer.count)) }
            held = buffer
        }
    }

    /// The flow ended: shows the consumer what it was waiting on, as final.
    mutating func finish(consume: Consumer) {
        guard ended == nil else { return }
        if !held.isEmpty { endWithGap(.gap, consume: consume) }
    }

    // MARK: - Internals

    private mutating func holdEarly(offset: Int, bytes: Span<UInt8>, truncated: Bool, limits: Limits,
                                    consume: Consumer) {
        if early.count >= limits.maximumEarlySegments || earlyBytes &+ bytes.count > limits.maximumHeldBytes {
            endWithGap(.gap, consume: consume)
            return
        }
        // A cut early segment is kept only up to where it was cut; the hole after it ends the
        // stream when it is reached.
        _ = truncated
        early.append((offset, Array(span: bytes)))
        earlyBytes &+= bytes.count
    }

    private mutating func drainEarly(limits: Limits, consume: Consumer) {
        while ended == nil, !early.isEmpty {
            guard let i = early.indices.min(by: { early[$0].offset < early[$1].offset }),
                  early[i].offset <= delivered else { return }
            let segment = early.remove(at: i)
            earlyBytes &-= segment.bytes.count
            let end = segment.offset &+ segment.bytes.count
            if end > delivered {
                let span = segment.bytes.span
                deliver(span.extracting((delivered &- segment.offset)...), limits: limits, consume: consume)
            }
        }
    }

    /// New in-order bytes starting at `delivered`.
    private mutating func deliver(_ fresh: Span<UInt8>, limits: Limits, consume: Consumer) {
        let start = delivered
        delivered &+= fresh.count
        var bytes = fresh
        if consumed > start {
            // The consumer skips these (a message body it does not read).
            let skip = min(bytes.count, consumed &- start)
            if skip == bytes.count { return }
            bytes = bytes.extracting(skip...)
        }
        if held.isEmpty {
            let taken = feed(bytes, isFinal: false, consume: consume)
            if ended == nil && taken < bytes.count {
                held = Array(span: bytes.extracting(taken...))
            }
        } else {
            var buffer = held
            held = []
            buffer.append(span: bytes)
            let taken = feed(buffer.span, isFinal: false, consume: consume)
            if ended == nil {
                if taken > 0 { buffer.removeFirst(min(taken, buffer.count)) }
                held = buffer
            }
        }
        if ended == nil && held.count > limits.maximumHeldBytes {
            endWithGap(.overflow, consume: consume)
        }
    }

    /// Shows `bytes` (which start at `consumed`) to the consumer until it needs more; returns how
    /// many of them it took.
    private mutating func feed(_ bytes: Span<UInt8>, isFinal: Bool, consume: Consumer) -> Int {
        var position = 0
        while position < bytes.count {
            switch consume(bytes.extracting(position...), isFinal) {
            case .consumed(let n) where n > 0:
                consumed &+= n
                position &+= n
            case .consumed, .needMore:
                return position
            case .done:
                ended = .done
                return bytes.count
            }
        }
        return min(position, bytes.count)
    }

    private mutating func endWithGap(_ reason: End, consume: Consumer) {
        if !held.isEmpty {
            let pending = held
            held = []
            _ = feed(pending.span, isFinal: true, consume: consume)
        }
        // The gap or overflow is what ended the stream, even when the consumer, shown the rest
        // as final, said it was done with it.
        ended = reason
        held = []
        early = []
        earlyBytes = 0
    }
}
