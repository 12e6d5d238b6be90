/// Which byte ranges of a message have arrived, as sorted, merged ranges: handshake fragments
/// (DTLS) and CRYPTO frames (QUIC) arrive out of order, overlapping and retransmitted.
struct CoveredRanges {
    private(set) var ranges: [Range<Int>] = []

    /// Adds `r`, merging it with every range it overlaps or touches.
    mutating func cover(_ r: Range<Int>) {
        var merged = r
        var kept: [Range<Int>] = []
        for c in ranges {
            if c.upperBound < merged.lowerBound || c.lowerBound > merged.upperBound {
                kept.append(c)
            } else {
                merged = min(c.lowerBound, merged.lowerBound)..<max(c.upperBound, merged.upperBound)
            }
        }
        kept.append(merged)
        ranges = kept.sorted { $0.lowerBound < $1.lowerBound }
    }

    /// The bytes from offset 0 that have all arrived (empty when the first byte has not).
    var prefix: Range<Int> {
        guard let first = ranges.first, first.lowerBound == 0 else { return 0..<0 }
        return first
    }
}
