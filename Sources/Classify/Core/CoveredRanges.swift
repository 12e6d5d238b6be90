/// Which byte ranges of a message have arrived, as sorted, merged ranges: handshake fragments
/// (DTLS) and CRYPTO frames (QUIC) arrive out of order, overlapping and retransmitted.
struct CoveredRanges {
    private(set) var ranges: [Range<Int>] = []

    /// Adds `r`, merging it with every range it overlaps or touches. The ranges it meets are
    /// consecutive in the sorted list, so they are replaced where they are (a new list and a sort
    /// per CRYPTO frame cost ~1,300 instructions).
    mutating func cover(_ r: Range<Int>) {
        var first = 0
        while first < ranges.count && ranges[first].upperBound < r.lowerBound { first &+= 1 }
        var merged = r
        var end = first
        while end < ranges.count && ranges[end].lowerBound <= merged.upperBound {
            merged = min(ranges[end].lowerBound, merged.lowerBound)..<max(ranges[end].upperBound, merged.upperBound)
            end &+= 1
        }
        ranges.replaceSubrange(first..<end, with: CollectionOfOne(merged))
    }

    /// The bytes from offset 0 that have all arrived (empty when the first byte has not).
    var prefix: Range<Int> {
        guard let first = ranges.first, first.lowerBound == 0 else { return 0..<0 }
        return first
    }
}
