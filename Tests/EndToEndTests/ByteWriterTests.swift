import Flows
import Testing
import Wire
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

    /// Strings are scanned eight bytes at a time: every character that needs an escape, at every
    /// position of strings of every length around the word size, and bytes just beside the
    /// escaped ones (0x1F/0x20, 0x21/0x23, 0x5B/0x5D, 0x7F, UTF-8) come out as a byte-by-byte
    /// escaper writes them.
    @Test func jsonStringsAtEveryPositionAndLength() {
        func reference(_ s: String) -> String {
            var out = Array("\"".utf8)
            for b in s.utf8 {
                switch b {
                case 0x22: out += Array("\\\"".utf8)
                case 0x5C: out += Array("\\\\".utf8)
                case 0x0A: out += Array("\\n".utf8)
                case 0x0D: out += Array("\\r".utf8)
                case 0x09: out += Array("\\t".utf8)
                case 0..<0x20: out += Array(("\\u00" + (b < 0x10 ? "0" : "") + String(b, radix: 16)).utf8)
                default: out.append(b)
                }
            }
            return String(decoding: out + Array("\"".utf8), as: UTF8.self)
        }
        let specials: [Character] = ["\"", "\\", "\n", "\u{0}", "\u{1F}", " ", "!", "#", "[", "]", "\u{7F}", "é"]
        for length in 0...26 {
            for position in 0..<max(length, 1) {
                for special in specials {
                    var characters = Array(repeating: Character("a"), count: length)
                    if length > 0 { characters[position] = special }
                    let s = String(characters)
                    #expect(written { o, at in o.putJSONString(s, &at) } == reference(s), "\(length) \(position)")
                }
            }
        }
        #expect(MutableSpan<UInt8>.needsEscape(0x6161_6161_6161_6161) == false)
        #expect(MutableSpan<UInt8>.needsEscape(0xFFFF_FFFF_FFFF_FFFF) == false)
        #expect(MutableSpan<UInt8>.needsEscape(0x6161_6161_6161_611F) == true)
        #expect(MutableSpan<UInt8>.needsEscape(0x5C61_6161_6161_6161) == true)
        #expect(MutableSpan<UInt8>.needsEscape(0x6161_6122_6161_6161) == true)
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

    /// Addresses, MACs, uids and histories are written as their `description`s spell them, with
    /// one range check each: every octet width in every position, IPv6 through the general path.
    @Test func addressesMACsUIDsAndHistories() {
        for octet: UInt32 in [0, 1, 9, 10, 99, 100, 199, 200, 255] {
            for position: UInt32 in 0..<4 {
                let address = IPAddress(ipv4: 0x0A01_0203 & ~(0xFF << (8 * position)) | octet << (8 * position))
                #expect(written { o, at in o.putAddress(address, &at) } == address.description)
            }
        }
        let largest = IPAddress(ipv4: 0xFFFF_FFFF)
        #expect(written { o, at in o.putAddress(largest, &at); o.put(UInt8(ascii: ","), &at) } == "255.255.255.255,")
        for text in ["2001:db8::1", "::", "fe80::1:2:3:4", "2001:db8:0:1:1:1:1:1", "::ffff:1.2.3.4"] {
            let address = IPAddress(text)!
            #expect(written { o, at in o.putAddress(address, &at) } == address.description)
        }
        for bits: UInt64 in [0, 0x0012_3456_789A, 0xFFFF_FFFF_FFFF, 0xA0B0_C0D0_E0F0] {
            let mac = MACAddress(bits: bits)
            #expect(written { o, at in o.putMAC(mac, &at) } == mac.description)
        }
        #expect(written { o, at in o.putMAC(MACAddress(bits: 0x0012_3456_789A), &at) } == "00:12:34:56:78:9a")
        for number: UInt64 in [0, 1, 2, 1_000_000, .max] {
            let uid = written { o, at in o.putUID(number, &at) }
            #expect(uid == FlowRecord.uidString(number))
            #expect(uid.count == 12 && uid.first == "C")
            #expect(uid.utf8.dropFirst().allSatisfy { (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) })
        }
        var history = History()
        #expect(written { o, at in o.putHistory(history, &at) } == "")
        for letter in "ShADadFf".utf8 { history.add(letter) }
        #expect(written { o, at in o.putHistory(history, &at) } == "ShADadFf")
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
