import Synchronization
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Results of a pure function of message bytes, remembered across flows and threads.
///
/// Real traffic repeats itself: every connection of a device sends the same ClientHello lists,
/// and every connection to a server gets the same certificate. Where deriving a fact costs tens
/// of thousands of instructions (two SHA-256 runs for a JA4, a DER walk and a string per name for
/// a certificate), a lookup costs a hash of the input. Bounded: the cache is emptied when it
/// holds `capacity` entries, so memory stays flat on a hostile capture where no input repeats.
final class MemoCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    let capacity: Int
    private let entries = Mutex<[Key: Value]>([:])

    init(capacity: Int) { self.capacity = capacity }

    /// The value remembered for `key`, or `make()`'s, remembered.
    func value(_ key: Key, _ make: () -> Value) -> Value {
        if let known = entries.withLock({ $0[key] }) { return known }
        let value = make()
        entries.withLock {
            if $0.count >= capacity { $0.removeAll(keepingCapacity: true) }
            $0[key] = value
        }
        return value
    }

    var count: Int { entries.withLock { $0.count } }
}

/// Cache keys made of arrays of plain values (a ClientHello's lists, a certificate's bytes) compare
/// with memcmp: an element-by-element compare of the whole key was most of the cost of a hit.
extension Array where Element: BitwiseCopyable {
    func hasSameBytes(as other: [Element]) -> Bool {
        guard count == other.count else { return false }
        guard !isEmpty else { return true }
        return unsafe withUnsafeBytes { a in
            unsafe other.withUnsafeBytes { b in unsafe memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 }
        }
    }

    /// Feeds the count and the bytes to `hasher` in one call.
    func hashBytes(into hasher: inout Hasher) {
        hasher.combine(count)
        unsafe withUnsafeBytes { unsafe hasher.combine(bytes: $0) }
    }
}
