import Testing
import TestSupport
@testable import Classify

/// `CoveredRanges` against the plain truth: the set of byte offsets covered so far.
@Suite struct CoveredRangesTests {
    @Test func mergesOverlappingAndTouchingRanges() {
        var covered = CoveredRanges()
        covered.cover(10..<20)
        covered.cover(30..<40)
        #expect(covered.ranges == [10..<20, 30..<40])
        #expect(covered.prefix == 0..<0)
        covered.cover(20..<25)  // touches the first
        #expect(covered.ranges == [10..<25, 30..<40])
        covered.cover(0..<10)  // touches the first from below
        #expect(covered.ranges == [0..<25, 30..<40])
        #expect(covered.prefix == 0..<25)
        covered.cover(22..<31)  // bridges both
        #expect(covered.ranges == [0..<40])
        covered.cover(50..<60)
        covered.cover(45..<46)
        #expect(covered.ranges == [0..<40, 45..<46, 50..<60])
        covered.cover(5..<55)  // swallows three
        #expect(covered.ranges == [0..<60])
    }

    /// Random ranges in random order (CRYPTO frames retransmitted and reordered): the ranges are
    /// always sorted, apart, and cover exactly the offsets added.
    @Test func matchesTheSetOfCoveredOffsets() {
        var random = SeededGenerator(seed: 0xC0FFEE)
        for _ in 0..<300 {
            var covered = CoveredRanges()
            var truth = [Bool](repeating: false, count: 200)
            for _ in 0..<Int(random.next() % 12) {
                let start = Int(random.next() % 190)
                let length = 1 + Int(random.next() % 20)
                let r = start..<min(200, start + length)
                covered.cover(r)
                for i in r { truth[i] = true }
                var fromRanges = [Bool](repeating: false, count: 200)
                for c in covered.ranges { for i in c { fromRanges[i] = true } }
                #expect(fromRanges == truth)
                for (a, b) in zip(covered.ranges, covered.ranges.dropFirst()) { #expect(a.upperBound < b.lowerBound) }
            }
        }
    }
}
