/// A connection's history string, as Zeek's conn.log records it (`scripts/base/protocols/conn`):
/// one letter per event, upper case when the originator did it, lower case for the responder.
///
/// | letter | event |
/// |---|---|
/// | s | a SYN without ACK |
/// | h | a SYN+ACK ("handshake") |
/// | a | a pure ACK |
/// | d | a packet with payload ("data") |
/// | f | a packet with FIN |
/// | r | a packet with RST |
/// | c | a packet with a bad checksum (SpanAudit does not verify checksums, so never) |
/// | g | a content gap |
/// | t | a packet with retransmitted payload |
/// | w | a packet with a zero window advertisement |
/// | i | an inconsistent packet (FIN and RST) |
/// | q | a multi-flag packet (SYN with FIN or RST) |
/// | ^ | the direction was flipped (the first packet seen was a SYN+ACK) |
///
/// 'a', 'd', 'i' and 'q' are recorded once per direction; 's', 'h', 'f' and 'r' again whenever the
/// sequence number differs from the last packet of that kind; 'c', 'g', 't' and 'w' logarithmically
/// (1st, 10th, 100th, ... occurrence).
///
/// Stored inline (no allocation per flow until it is rendered); letters beyond the 31st are dropped,
/// which only a pathological connection reaches.
public struct History: Sendable, Equatable {
    @usableFromInline var letters: InlineArray<31, UInt8>
    @usableFromInline var length: UInt8 = 0
    /// Events already recorded: originator bits in the low 16, responder bits in the high 16.
    @usableFromInline var seen: UInt32 = 0

    public init() { letters = InlineArray(repeating: 0) }

    @inlinable
    public mutating func add(_ letter: UInt8) {
        guard length < 31 else { return }
        letters[Int(length)] = letter
        length &+= 1
    }

    /// Records `letter` (upper case; lowered for the responder) the first time `mask` is seen in
    /// that direction. Returns whether it had been seen before (Zeek's `CheckHistory`).
    /// (Always inlined: the TCP state machine asks this a few times per segment and the optimizer
    /// left it a call — the call was as long as the test.)
    @inlinable @inline(__always) @discardableResult
    public mutating func check(_ mask: UInt32, _ letter: UInt8, originator: Bool) -> Bool {
        let bit = originator ? mask : mask << 16
        if seen & bit != 0 { return true }
        seen |= bit
        add(originator ? letter : letter | 0x20)
        return false
    }

    public var string: String {
        var array = [UInt8](repeating: 0, count: Int(length))
        for i in 0..<Int(length) { array[i] = letters[i] }
        return String(decoding: array, as: UTF8.self)
    }

    /// Number of letters.
    public var count: Int { Int(length) }

    /// Whether `letter` (ASCII, case as recorded) is in the history.
    public func contains(_ letter: UInt8) -> Bool {
        for i in 0..<Int(length) where letters[i] == letter { return true }
        return false
    }

    /// The letter at `index` (ASCII).
    public subscript(index: Int) -> UInt8 { letters[index] }

    public var isEmpty: Bool { length == 0 }

    public static func == (a: History, b: History) -> Bool {
        guard a.length == b.length, a.seen == b.seen else { return false }
        for i in 0..<Int(a.length) where a.letters[i] != b.letters[i] { return false }
        return true
    }

    public var first: UInt8? { length > 0 ? letters[0] : nil }

    /// Masks (Zeek's `HIST_*` values).
    public enum Mask {
        public static let syn: UInt32 = 0x1
        public static let fin: UInt32 = 0x2
        public static let rst: UInt32 = 0x4
        public static let finRST: UInt32 = 0x8
        public static let data: UInt32 = 0x10
        public static let ack: UInt32 = 0x20
        public static let multiFlag: UInt32 = 0x40
    }
}

/// A counter that adds a history letter at its 1st, 10th, 100th, ... event (Zeek's
/// `ScaledHistoryEntry`).
public struct ScaledCounter: Sendable, Equatable {
    public var count: UInt32 = 0
    public var threshold: UInt32 = 1

    public init() {}

    /// Counts one event; returns whether the letter should be recorded now.
    @inlinable
    public mutating func next() -> Bool {
        count &+= 1
        guard count == threshold else { return false }
        threshold = threshold >= 1_000_000_000 ? .max : threshold &* 10
        return true
    }
}
