import Testing
@testable import Reporting

/// The text pieces every JSON line is made of, written with one range check and a bulk copy:
/// the same bytes as the escape rules and digit forms say, at every length.
@Suite struct ByteWriterTests {
    private func written(_ body: (inout MutableSpan<UInt8>, inout Int) -> Void) -> String {
        var w = ByteWriter(capacity: 16)
        w.write(reserving: 512, body)
        return String(decoding: w.written, as: UTF8.self)
    }

    @Test func jsonStringsEscapeWhatRFC8259Requires() {
        #expect(written { o, at in o.putJSONString("plain.example.com", &at) } == "\"plain.example.com\"")
        #expect(written { o, at in o.putJSONString("", &at) } == "\"\"")
        #expect(written { o, at in o.putJSONString("a\"b\\c\nd\re\tf", &at) } == #""a\"b\\c\nd\re\tf""#)
        #expect(written { o, at in o.putJSONString("\u{1}x\u{1F}", &at) } == #""\u0001x\u001f""#)
        #expect(written { o, at in o.putJSONString("\"", &at) } == #""\"""#)
        #expect(written { o, at in o.putJSONString("café ☕", &at) } == "\"café ☕\"")
    }

    @Test func digitsAtEveryWidth() {
        var value: UInt64 = 0
        for digits in 1...20 {
            value = digits == 1 ? 7 : value &* 10 &+ UInt64(digits % 10)
            #expect(written { o, at in o.putDecimal(value, &at) } == String(value), "\(digits) digits")
        }
        #expect(written { o, at in o.putDecimal(0, &at) } == "0")
        var power: UInt64 = 1
        for _ in 0..<19 {
            for v in [power - 1, power, power + 1] where v > 0 {
                #expect(written { o, at in o.putDecimal(v, &at) } == String(v))
            }
            power *= 10
        }
        #expect(written { o, at in o.putDecimal(UInt64.max, &at) } == "18446744073709551615")
        #expect(written { o, at in o.putZeroPadded(42, width: 6, &at) } == "000042")
        #expect(written { o, at in o.putZeroPadded(123_456_789, width: 9, &at) } == "123456789")
        #expect(written { o, at in o.putSeconds(1_700_000_003_271_923_000, &at) } == "1700000003.271923")
        #expect(written { o, at in o.putSeconds(-1_500, &at) } == "-0.000001500")
    }

    @Test func literalsAndTextAppendInOrder() {
        #expect(written { o, at in
            o.put("{\"ts\":", &at)
            o.putText("tcp", &at)
            o.putText("", &at)
            o.put(UInt8(ascii: "}"), &at)
        } == "{\"ts\":tcp}")
        // Output longer than the writer's first storage grows it.
        var w = ByteWriter(capacity: 4)
        for _ in 0..<100 { w.write(reserving: 40) { o, at in o.put("0123456789", &at) } }
        #expect(w.count == 1000 && w.written.last == UInt8(ascii: "9"))
    }
}
