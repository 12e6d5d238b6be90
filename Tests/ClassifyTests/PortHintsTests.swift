import Testing
@testable import Classify

/// Port hints: each hinted port gives the analyzers that list it, every other port none.
@Suite struct PortHintsTests {
    @Test func hintedPortsAndTheirNeighbours() {
        var hints = PortHints()
        hints.add(1 << 0, port: 443)
        hints.add(1 << 3, port: 443)
        hints.add(1 << 1, port: 444)    // same block of 64 as 443
        hints.add(1 << 2, port: 53)
        hints.add(1 << 4, port: 65_535)
        hints.add(1 << 5, port: 0)
        #expect(hints[443] == 0b1001)
        #expect(hints[444] == 0b10)
        #expect(hints[53] == 0b100)
        #expect(hints[65_535] == 1 << 4)
        #expect(hints[0] == 1 << 5)
        for port: UInt16 in [1, 52, 54, 442, 445, 447, 8443, 65_534, 40_000] { #expect(hints[port] == 0, "\(port)") }
        var none = PortHints()
        none.add(0, port: 1)
        #expect((0...UInt16.max).allSatisfy { none[$0] == 0 })
    }
}
