import Testing
@testable import Wire

/// The writers' text tables, entry by entry, against text made by the standard library.
@Suite struct TextTablesTests {
    static func text(_ word: UInt32, _ length: Int) -> String {
        String(decoding: (0..<length).map { UInt8(truncatingIfNeeded: word >> UInt32(8 * $0)) }, as: UTF8.self)
    }

    @Test func decimalPairsAreTheTwoDigitsOfEveryNumberBelow100() {
        for n in 0..<100 {
            let expected = n < 10 ? "0\(n)" : "\(n)"
            #expect(Self.text(UInt32(TextTables.decimalPair(n)), 2) == expected, "\(n)")
        }
    }

    @Test func hexPairsAreTheLowerCaseDigitsOfEveryByte() {
        for b in 0...255 {
            let digits = String(b, radix: 16)
            #expect(Self.text(UInt32(TextTables.hexPair(UInt8(b))), 2) == (b < 16 ? "0" + digits : digits), "\(b)")
        }
    }

    @Test func octetsAreTheirDecimalTextAndADot() {
        for b in 0...255 {
            let octet = TextTables.octetWithDot(UInt8(b))
            #expect(octet.length == String(b).count + 1)
            #expect(Self.text(octet.text, octet.length) == "\(b).", "\(b)")
        }
    }

    /// An IPv4 address needs 16 bytes of room (its text and the dot after the last octet), and
    /// writes only the text: at the very end of a buffer, and followed by what was there.
    @Test func ipv4WriterNeedsSixteenBytesAndWritesOnlyTheText() throws {
        let a = try #require(IPAddress("255.255.255.255"))
        var buffer: InlineArray<20, UInt8> = InlineArray(repeating: UInt8(ascii: "x"))
        var span = buffer.mutableSpan
        var at = 4
        a.write(to: &span, at: &at)
        #expect(at == 19)
        let written = String(decoding: (0..<20).map { buffer[$0] }, as: UTF8.self)
        #expect(written.hasPrefix("xxxx255.255.255.255"))
    }
}
