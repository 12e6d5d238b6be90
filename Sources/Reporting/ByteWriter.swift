public import Flows
public import Wire

/// A growing byte buffer that renderers write into through one `MutableSpan` per record: each
/// store is a bounds check and a write — no per-byte capacity or uniqueness checks, no intermediate
/// strings. Integers, fixed-point seconds, addresses and uids are written digit by digit.
public struct ByteWriter {
    /// Storage; only the first `count` bytes are output.
    public private(set) var storage: [UInt8] = []
    public private(set) var count = 0

    public init(capacity: Int = 1 << 16) {
        storage = [UInt8](repeating: 0, count: capacity)
    }

    /// Lets `body` write at most `maximum` bytes at the end.
    @inline(__always)
    public mutating func write(reserving maximum: Int, _ body: (inout MutableSpan<UInt8>, inout Int) -> Void) {
        if storage.count &- count < maximum {
            storage.append(contentsOf: repeatElement(0, count: max(maximum, storage.count)))
        }
        var at = count
        var span = storage.mutableSpan
        body(&span, &at)
        count = at
    }

    /// Forgets what was written, keeping the storage.
    public mutating func removeAll() { count = 0 }

    /// The bytes written so far.
    public var written: ArraySlice<UInt8> { storage[0..<count] }
}

/// Writers of text pieces into a span at a cursor. The caller reserved room for them.
///
/// Pieces of more than one byte are written with one range check and then a bulk copy (literals,
/// strings without escapes) or unchecked stores (digits): checked byte by byte, the JSON lines of
/// `audit flows` took 40% of the finishing thread, most of it in bounds checks.
extension MutableSpan where Element == UInt8 {
    /// Runs `body` on the storage after checking that `length` bytes at `at` are inside it.
    @inline(__always)
    mutating func withRoom<R>(_ length: Int, at: Int, _ body: (UnsafeMutablePointer<UInt8>) -> R) -> R {
        precondition(at >= 0 && length >= 0 && length <= count &- at, "a writer wrote past the room it reserved")
        return unsafe withUnsafeMutableBufferPointer { buffer in unsafe body(buffer.baseAddress! + at) }
    }

    @inline(__always)
    public mutating func put(_ b: UInt8, _ at: inout Int) {
        self[at] = b
        at &+= 1
    }

    /// A literal. (A `StaticString` points at immutable program data that lives as long as the
    /// process, so reading it through its buffer is safe.)
    @inline(__always)
    public mutating func put(_ text: StaticString, _ at: inout Int) {
        let length = text.utf8CodeUnitCount
        guard length > 0 else { return }
        text.withUTF8Buffer { source in
            unsafe withRoom(length, at: at) { target in unsafe target.update(from: source.baseAddress!, count: length) }
        }
        at &+= length
    }

    public mutating func putText(_ text: String, _ at: inout Int) {
        let bytes = text.utf8Span.span
        let length = bytes.count
        guard length > 0 else { return }
        unsafe bytes.withUnsafeBufferPointer { source in
            unsafe withRoom(length, at: at) { target in unsafe target.update(from: source.baseAddress!, count: length) }
        }
        at &+= length
    }

    public mutating func putDecimal(_ value: UInt64, _ at: inout Int) {
        if value < 10 {
            // Most counters of short flows, zeros: one store.
            self[at] = 0x30 &+ UInt8(truncatingIfNeeded: value)
            at &+= 1
            return
        }
        putZeroPadded(value, width: Self.decimalDigits(value), &at)
    }

    /// How many decimal digits `value` has: a few comparisons (counting by multiplying by ten was
    /// a chain of dependent multiplications, most of the cost of a 10-digit number).
    @inline(__always)
    static func decimalDigits(_ v: UInt64) -> Int {
        if v < 100_000 {
            if v < 100 { return v < 10 ? 1 : 2 }
            return v < 1_000 ? 3 : v < 10_000 ? 4 : 5
        }
        if v < 10_000_000_000 {
            if v < 10_000_000 { return v < 1_000_000 ? 6 : 7 }
            return v < 100_000_000 ? 8 : v < 1_000_000_000 ? 9 : 10
        }
        var n = 11
        var limit: UInt64 = 100_000_000_000
        while n < 20 && v >= limit {
            n &+= 1
            limit = limit &* 10
        }
        return n
    }

    @inline(__always)
    public mutating func putZeroPadded(_ value: UInt64, width: Int, _ at: inout Int) {
        guard width > 0 else { return }
        unsafe withRoom(width, at: at) { target in
            // Two digits per division by 100 (a multiplication) and a table load, from the right.
            let raw = UnsafeMutableRawPointer(target)
            var v = value
            var i = width
            while i >= 2 {
                let q = v / 100
                let pair = Int(truncatingIfNeeded: v &- q &* 100)
                i &-= 2
                unsafe raw.storeBytes(of: TextTables.decimalPair(pair).littleEndian, toByteOffset: i, as: UInt16.self)
                v = q
            }
            if i == 1 { unsafe target[0] = 0x30 &+ UInt8(truncatingIfNeeded: v % 10) }
        }
        at &+= width
    }

    /// Nanoseconds as seconds with 6 decimals, or 9 when there are sub-microsecond digits
    /// (the same text as `Formatting.seconds`).
    public mutating func putSeconds(_ nanoseconds: Int64, _ at: inout Int) {
        if nanoseconds < 0 { put(UInt8(ascii: "-"), &at) }
        let magnitude = nanoseconds.magnitude
        putDecimal(magnitude / 1_000_000_000, &at)
        put(UInt8(ascii: "."), &at)
        let fraction = magnitude % 1_000_000_000
        if fraction % 1000 == 0 {
            putZeroPadded(fraction / 1000, width: 6, &at)
        } else {
            putZeroPadded(fraction, width: 9, &at)
        }
    }

    public mutating func putAddress(_ a: IPAddress, _ at: inout Int) {
        a.write(to: &self, at: &at)
    }

    /// `aa:bb:cc:dd:ee:ff`, lower case: 17 bytes, one range check, a 2-byte store per byte.
    public mutating func putMAC(_ m: MACAddress, _ at: inout Int) {
        let bits = m.bits
        unsafe withRoom(17, at: at) { target in
            let raw = UnsafeMutableRawPointer(target)
            for i in 0..<6 {
                let b = UInt8(truncatingIfNeeded: bits >> UInt64(40 &- 8 &* i))
                if i > 0 { unsafe target[3 &* i &- 1] = UInt8(ascii: ":") }
                unsafe raw.storeBytes(of: TextTables.hexPair(b).littleEndian, toByteOffset: 3 &* i, as: UInt16.self)
            }
        }
        at &+= 17
    }

    @inline(__always)
    static func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 &+ nibble : 0x57 &+ nibble }

    public mutating func putUID(_ number: UInt64, _ at: inout Int) {
        let b = FlowRecord.uidBytes(number)
        unsafe withRoom(12, at: at) { target in
            for i in 0..<12 { unsafe target[i] = b[i] }
        }
        at &+= 12
    }

    public mutating func putHistory(_ h: History, _ at: inout Int) {
        let count = h.count
        unsafe withRoom(count, at: at) { target in
            for i in 0..<count { unsafe target[i] = h[i] }
        }
        at &+= count
    }

    /// A JSON string literal (RFC 8259 §7); needs up to 6 bytes per input byte plus 2. Reads the
    /// string's UTF-8 storage as a span (no per-character iteration).
    public mutating func putJSONString(_ s: String, _ at: inout Int) {
        put(UInt8(ascii: "\""), &at)
        let bytes = s.utf8Span.span
        unsafe bytes.withUnsafeBufferPointer { source in
            // Runs of bytes that need no escape are copied whole; names and headers rarely hold any.
            // They are looked for eight bytes at a time (`needsEscape`), then byte by byte in a word
            // that holds one.
            var runStart = 0
            let count = source.count
            var i = 0
            while i < count {
                if count &- i >= 8 {
                    let word = unsafe UnsafeRawPointer(source.baseAddress! + i).loadUnaligned(as: UInt64.self)
                    if !Self.needsEscape(word) {
                        i &+= 8
                        continue
                    }
                }
                let b = unsafe source[i]
                i &+= 1
                if b >= 0x20 && b != 0x22 && b != 0x5C { continue }
                unsafe putRun(source, runStart..<(i &- 1), &at)
                runStart = i
                switch b {
                case UInt8(ascii: "\""): put("\\\"", &at)
                case UInt8(ascii: "\\"): put("\\\\", &at)
                case UInt8(ascii: "\n"): put("\\n", &at)
                case UInt8(ascii: "\r"): put("\\r", &at)
                case UInt8(ascii: "\t"): put("\\t", &at)
                default:
                    put("\\u00", &at)
                    put(Self.hexDigit(b >> 4), &at)
                    put(Self.hexDigit(b & 0xF), &at)
                }
            }
            unsafe putRun(source, runStart..<count, &at)
        }
        put(UInt8(ascii: "\""), &at)
    }

    /// Whether any of the eight bytes of `word` is a control character (< 0x20), `"` or `\\`.
    /// The classic word tests for "some byte is zero" and "some byte is below n" (n ≤ 0x80): each
    /// is nonzero in the high bits exactly when such a byte exists (bytes of 0x80 and more never
    /// count, so UTF-8 passes through).
    @inline(__always)
    static func needsEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let control = (word &- ones &* 0x20) & ~word
        let isQuote = (quote &- ones) & ~quote
        let isBackslash = (backslash &- ones) & ~backslash
        return (control | isQuote | isBackslash) & highs != 0
    }

    @inline(__always)
    private mutating func putRun(_ source: UnsafeBufferPointer<UInt8>, _ run: Range<Int>, _ at: inout Int) {
        guard !run.isEmpty else { return }
        unsafe withRoom(run.count, at: at) { target in
            unsafe target.update(from: source.baseAddress! + run.lowerBound, count: run.count)
        }
        at &+= run.count
    }
}
