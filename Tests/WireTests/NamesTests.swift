import Testing
@testable import Wire

/// Names that reports print for codes: hex digits, protocol names, names of unknown codes.
@Suite struct NamesTests {
    @Test func hexDigitsAreFourLowerCase() {
        #expect(hex4(0) == "0000")
        #expect(hex4(0x1301) == "1301")
        #expect(hex4(0xABCD) == "abcd")
        #expect(hex4(0x0A0F) == "0a0f")
        #expect(hex4(0xFFFF) == "ffff")
        for v in stride(from: 0, through: 0xFFFF, by: 0x0111) {
            #expect(hex4(UInt16(v)) == String(repeating: "0", count: 4 - String(v, radix: 16).count) + String(v, radix: 16))
        }
    }

    @Test func unknownCodesAreNamedByNumber() {
        #expect(EtherType(rawValue: 0x8903).name == "ethertype_0x8903")
        #expect(IPProtocol(rawValue: 6).name == "tcp")
        #expect(IPProtocol(rawValue: 6).knownName?.description == "tcp")
        #expect(IPProtocol(rawValue: 47).name == "gre")
        #expect(IPProtocol(rawValue: 99).name == "99")
        #expect(IPProtocol(rawValue: 99).knownName == nil)
    }
}
