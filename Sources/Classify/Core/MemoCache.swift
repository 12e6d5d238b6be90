import Synchronization

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
