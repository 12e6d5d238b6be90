import Testing
@testable import Wire

/// The integer reads every decoder uses: one wide load each, at any alignment, in either byte
/// order, with the same values as assembling the bytes one by one.
@Suite struct ByteReadsTests {
    @Test func readsAtEveryOffsetMatchTheBytes() {
        let bytes = Fixtures.dnsQuery
        let span = bytes.span
        func assembled(_ at: Int, _ count: Int, bigEndian: Bool) -> UInt64 {
            let slice = bytes[at..<(at + count)]
            return (bigEndian ? Array(slice) : slice.reversed()).reduce(0) { $0 << 8 | UInt64($1) }
        }
        for at in 0...(bytes.count - 8) {
            #expect(UInt64(span.be16(at)) == assembled(at, 2, bigEndian: true))
            #expect(UInt64(span.be32(at)) == assembled(at, 4, bigEndian: true))
            #expect(span.be64(at) == assembled(at, 8, bigEndian: true))
            #expect(UInt64(span.le16(at)) == assembled(at, 2, bigEndian: false))
            #expect(UInt64(span.le32(at)) == assembled(at, 4, bigEndian: false))
            #expect(span.mac(at) == assembled(at, 6, bigEndian: true))
            #expect(span.u32(at, bigEndian: false) == span.le32(at))
        }
        // The first frame's Ethernet header: destination 02:00:00:20:00:01, EtherType IPv4.
        #expect(span.mac(0) == 0x0200_0020_0001)
        #expect(span.be16(12) == 0x0800)
        #expect(span.be32(26) == 0x0A14_000A)
    }

    @Test func lengthChecksRefuseWhatIsNotThere() {
        let bytes = [UInt8](repeating: 0, count: 4)
        let span = bytes.span
        let answers = [span.has(4, at: 0), span.has(4, at: 1), span.has(1, at: -1), span.has(-1, at: 0),
                       span.has(Int.max, at: 1), span.has(0, at: 4)]
        #expect(answers == [true, false, false, false, false, true])
    }
}
