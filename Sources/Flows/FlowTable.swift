/// An open-addressing hash table from `FlowKey` to a slot in a dense array of flow states, with
/// linear probing and backward-shift deletion (no tombstones, so lookups stay short however many
/// flows come and go).
///
/// Why not `Dictionary<FlowKey, FlowState>`: per packet, the table is the cost that matters, and a
/// compact probe array of 8-byte slots (hash bits + index) measured 20–33% faster than `Dictionary`
/// on the benchmark captures (`../shared/bench/README.md`). Flow states stay put when the probe array
/// grows, and freed states are reused, so memory follows the number of live flows.
struct FlowTable {
    /// Each slot: 0 when empty, else the low 32 bits of the key's hash in the high half and
    /// `index + 1` in the low half.
    private var slots: [UInt64]
    private var mask: Int
    private(set) var states: [FlowState] = []
    /// Per state, a time at or before which the flow cannot have timed out (`FlowTracker.sweep`):
    /// `.min` for a new flow (not yet looked at), `.max` for a free slot. The sweep visits every
    /// slot each time it runs; reading 8 dense bytes per slot instead of the timers inside each
    /// ~580-byte state made it touch one cache line per eight flows instead of one or two per flow.
    private(set) var wake: [Int64] = []
    private var freeList: [Int32] = []
    private(set) var count = 0

    /// `reservedStates`: room for this many flow states is reserved up front (address space only:
    /// pages become memory when a state is first written), so the states array never grows by
    /// copying itself — a copy of ~100 k states paused a live capture for tens of milliseconds,
    /// long enough to overflow a small kernel ring.
    init(initialCapacity: Int = 1024, reservedStates: Int = 0) {
        var capacity = 16
        while capacity < initialCapacity * 2 { capacity <<= 1 }
        slots = [UInt64](repeating: 0, count: capacity)
        mask = capacity - 1
        if reservedStates > 0 {
            states.reserveCapacity(reservedStates)
            wake.reserveCapacity(reservedStates)
        }
    }

    /// The index of the state holding `key`, or nil.
    @inline(__always)
    func find(_ key: FlowKey, hash: UInt64) -> Int? {
        let tag = hash & 0xFFFF_FFFF
        var position = Int(truncatingIfNeeded: hash) & mask
        while true {
            let slot = slots[position]
            if slot == 0 { return nil }
            if slot >> 32 == tag {
                let index = Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) &- 1
                if states[index].key == key { return index }
            }
            position = (position &+ 1) & mask
        }
    }

    /// Stores a new state (whose key must not be present) and returns its index.
    mutating func insert(_ state: FlowState, hash: UInt64) -> Int {
        if (count &+ 1) &* 2 > slots.count { grow() }
        let index: Int
        if let free = freeList.popLast() {
            index = Int(free)
            states[index] = state
            wake[index] = .min
        } else {
            index = states.count
            states.append(state)
            wake.append(.min)
        }
        place(index: index, hash: hash)
        count &+= 1
        return index
    }

    /// The index the next `insert` will use: the last freed one, else a new one past the end.
    var nextInsertIndex: Int { freeList.last.map { Int($0) } ?? states.count }

    /// Removes the state at `index` from the table; its storage is reused by a later insert.
    mutating func remove(at index: Int) {
        let hash = states[index].key.hashValue64
        var position = Int(truncatingIfNeeded: hash) & mask
        let wanted = UInt64(index &+ 1)
        while slots[position] & 0xFFFF_FFFF != wanted {
            precondition(slots[position] != 0, "flow table: removing a flow that is not in the table")
            position = (position &+ 1) & mask
        }
        // Backward-shift deletion: pull later entries of the probe run into the hole when their
        // ideal position is not between the hole and themselves.
        var hole = position
        var next = (hole &+ 1) & mask
        while slots[next] != 0 {
            let ideal = Int(truncatingIfNeeded: slots[next] >> 32) & mask
            let distanceFromIdeal = (next &- ideal) & mask
            let distanceToHole = (next &- hole) & mask
            if distanceFromIdeal >= distanceToHole {
                slots[hole] = slots[next]
                hole = next
            }
            next = (next &+ 1) & mask
        }
        slots[hole] = 0
        states[index].isLive = false
        wake[index] = .max
        freeList.append(Int32(index))
        count &-= 1
    }

    /// The state at `index`, borrowed in place: reading one field does not copy the whole state.
    subscript(index: Int) -> FlowState {
        @inline(__always) _read { yield states[index] }
        @inline(__always) _modify { yield &states[index] }
    }

    /// Moves the state's wake time to `time` if that is earlier (a timer was shortened).
    @inline(__always)
    mutating func wake(_ index: Int, noLaterThan time: Int64) {
        if time < wake[index] { wake[index] = time }
    }

    /// Sets the state's wake time (the sweep found it not yet expired).
    @inline(__always)
    mutating func setWake(_ index: Int, _ time: Int64) { wake[index] = time }

    /// Asks the caches for the state at `index`, its first `bytes` or all of it (a hint: see
    /// `FlowTracker.endBatch`).
    @inline(__always)
    mutating func prefetch(_ index: Int, bytes: Int = MemoryLayout<FlowState>.stride) {
        states.prefetch(index, bytes: bytes)
    }

    /// Asks the caches for the probe slot of the state at `index` (which `remove(at:)` will search
    /// for): the state's key must be cached already, or this stalls on it.
    mutating func prefetchSlot(of index: Int) {
        guard index >= 0, index < states.count else { return }
        slots.prefetch(Int(truncatingIfNeeded: states[index].key.hashValue64) & mask)
    }

    /// Number of state slots (live or free).
    var capacity: Int { states.count }

    /// Indices of all live states, in storage order.
    var liveIndices: [Int] { states.indices.filter { states[$0].isLive } }

    /// Bytes the table's arrays use (for the memory figures in summaries and benchmarks): the
    /// states written so far, not the reserved room.
    var memoryBytes: Int {
        slots.capacity * MemoryLayout<UInt64>.stride + states.count * MemoryLayout<FlowState>.stride
            + wake.count * 8 + freeList.capacity * 4
    }

    private mutating func place(index: Int, hash: UInt64) {
        var position = Int(truncatingIfNeeded: hash) & mask
        while slots[position] != 0 { position = (position &+ 1) & mask }
        slots[position] = (hash & 0xFFFF_FFFF) << 32 | UInt64(index &+ 1)
    }

    private mutating func grow() {
        let capacity = slots.count * 2
        slots = [UInt64](repeating: 0, count: capacity)
        mask = capacity - 1
        for index in states.indices where states[index].isLive {
            place(index: index, hash: states[index].key.hashValue64)
        }
    }
}
