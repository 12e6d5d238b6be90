import Testing
@testable import Classify

/// The byte searches every text parser stands on: ranges are clamped to the span, never trap.
@Suite struct SpanTextTests {
    @Test func firstIndexSearchesOnlyItsRange() {
        let bytes: [UInt8] = Array("GET / HTTP/1.1\r\nHost: a\r\n\r\nbody\n".utf8)
        let b = bytes.span
        #expect(b.firstIndex(of: 0x0A, in: 0..<bytes.count) == 15)
        #expect(b.firstIndex(of: 0x0A, in: 16..<bytes.count) == 24)
        #expect(b.firstIndex(of: 0x0A, in: 16..<24) == nil)
        #expect(b.firstIndex(of: 0x0A, in: -5..<16) == 15)
        #expect(b.firstIndex(of: 0x0A, in: 27..<1000) == bytes.count - 1)
        #expect(b.firstIndex(of: 0x0A, in: 40..<50) == nil)
        #expect(b.firstIndex(of: 0x0A, in: 5..<5) == nil)
        #expect(b.endOfHeaders(limit: 1000) == 27)
        #expect(b.endOfHeaders(limit: 24) == nil)
        #expect(b.endOfHeaders(limit: 25) == 27)  // the line feed counts where it starts
        #expect(b.endOfHeaders(from: 27, limit: 1000) == nil)
        let empty: [UInt8] = []
        #expect(empty.span.firstIndex(of: 0, in: 0..<10) == nil)
    }

    @Test func headerFieldsOnEveryLineEnding() {
        for ending in ["\r\n", "\n"] {
            let text = ["GET / HTTP/1.1", "Host:  example.com ", "X-Other: 1", "user-agent:curl/8", "", ""]
                .joined(separator: ending)
            let bytes = Array(text.utf8)
            let start = bytes.span.firstIndex(of: 0x0A, in: 0..<bytes.count)! + 1
            let block = HeaderBlock(bytes.span, from: start, end: bytes.count)
            #expect(block.value("host") == "example.com")
            #expect(block.value("user-agent") == "curl/8")
            #expect(block.fields.count == 2)
        }
    }
}
