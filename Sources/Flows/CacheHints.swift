import CCacheHints

// Prefetch hints in Swift terms, over `CCacheHints` (Swift has no spelling for a prefetch). Used
// where flows end in batches (`FlowTracker.endBatch`, `FlowObserver.willEnd`) and for the slot the
// next new flow takes (`FlowObserver.willStart`): a hint never faults and changes nothing; an
// index outside the array asks for nothing. (The reader's `Span.prefetch(at:bytes:)`, in Capture,
// is the same hint over a span: Capture and Flows share only Wire, which has no C dependency.)

extension Array {
    /// Asks the caches for the first `bytes` of the element at `index` (all of it by default).
    @inline(__always)
    package func prefetch(_ index: Int, bytes: Int = MemoryLayout<Element>.stride) {
        unsafe withUnsafeBufferPointer { buffer in
            guard index >= 0, index < buffer.count, let base = buffer.baseAddress else { return }
            unsafe spanaudit_prefetch(base + index, bytes)
        }
    }
}

/// Asks the caches for the first `bytes` of `object`'s storage, without retaining it.
@inline(__always)
package func prefetch(_ object: AnyObject, bytes: Int) {
    unsafe spanaudit_prefetch(UnsafeRawPointer(Unmanaged.passUnretained(object).toOpaque()), bytes)
}
