import Testing
import TestSupport
@testable import Classify

/// The TCP stream prefix: whatever order, duplication and cutting the segments come in, the
/// consumer sees the stream in order, each byte once — or a clear end (gap, overflow).
@Suite struct StreamPrefixTests {
    /// A consumer of newline-terminated lines, the simplest framed protocol. It records each line
    /// and whatever it was shown as final.
    final class LineReader {
        var lines: [String] = []
        var finalRest: String?
        var shown = 0

        func consume(_ bytes: Span<UInt8>, _ isFinal: Bool) -> Consumption {
            shown += 1
            for i in 0..<bytes.count where bytes[i] == 0x0A {
                lines.append(String(decoding: (0..<i).map { bytes[$0] }, as: UTF8.self))
                return .consumed(i + 1)
            }
            if isFinal {
                finalRest = String(decoding: (0..<bytes.count).map { bytes[$0] }, as: UTF8.self)
                return .done
            }
            return .needMore
        }
    }

    static let text = Array("GET / HTTP/1.1\nHost: example.test\nUser-Agent: tester\n\nsecond line\n".utf8)
    static let lines = ["GET / HTTP/1.1", "Host: example.test", "User-Agent: tester", "", "second line"]

    /// One segment of `bytes` at stream `offset` (sequence number 1000 + offset).
    func send(_ stream: inout StreamPrefix, _ bytes: [UInt8], at offset: Int, claimed: Int? = nil,
              limits: StreamPrefix.Limits = .init(), _ reader: LineReader) {
        stream.accept(sequence: 1000 &+ UInt32(offset), base: 1000, payload: bytes.span, claimedLength: claimed ?? bytes.count,
                      limits: limits, consume: reader.consume)
    }

    /// Sends `segments` (stream offsets and lengths) starting at sequence number `base`.
    func run(_ segments: [(offset: Int, count: Int)], base: UInt32 = 1000, sawSYN: Bool = true,
             bytes: [UInt8] = text, limits: StreamPrefix.Limits = .init(), finish: Bool = true) -> (StreamPrefix, LineReader) {
        var stream = StreamPrefix()
        let reader = LineReader()
        for (offset, count) in segments {
            let piece = Array(bytes[offset..<min(bytes.count, offset + count)])
            stream.accept(sequence: base &+ UInt32(truncatingIfNeeded: offset), base: sawSYN ? base : nil,
                          payload: piece.span, claimedLength: piece.count, limits: limits, consume: reader.consume)
        }
        if finish { stream.finish(consume: reader.consume) }
        return (stream, reader)
    }

    @Test func inOrderSegmentsAreReadInPlace() {
        let (stream, reader) = run([(0, 20), (20, 20), (40, 100)])
        #expect(reader.lines == Self.lines && reader.finalRest == nil)
        #expect(stream.ended == nil && stream.held.isEmpty && stream.delivered == Self.text.count)
    }

    @Test func outOfOrderSegmentsWaitForTheHole() {
        let (stream, reader) = run([(40, 100), (20, 20), (0, 20)])
        #expect(reader.lines == Self.lines)
        #expect(stream.ended == nil && stream.earlyBytes == 0)
    }

    /// RFC 793 leaves overlapping retransmissions to the receiver; like most stacks and IDSs we
    /// keep the first copy of each byte, so a later, different copy cannot change what was read.
    @Test func theFirstCopyOfAByteWins() {
        var altered = Self.text
        for i in 0..<10 { altered[i] = UInt8(ascii: "X") }
        var stream = StreamPrefix()
        let reader = LineReader()
        send(&stream, Array(Self.text[0..<10]), at: 0, reader)
        send(&stream, Array(altered[0..<30]), at: 0, reader)
        send(&stream, Array(Self.text[30...]), at: 30, reader)
        #expect(reader.lines == Self.lines)
    }

    @Test func retransmissionsAreShownOnce() {
        let (_, reader) = run([(0, 20), (0, 20), (10, 30), (40, 100), (40, 100)])
        #expect(reader.lines == Self.lines)
    }

    /// A segment the capture never saw: what came before the hole is read, the rest waits, and at
    /// the end the consumer is shown what it had as final.
    @Test func aHoleThatNeverFillsEndsAsAGap() {
        let (stream, reader) = run([(0, 20), (30, 100)])
        #expect(reader.lines == ["GET / HTTP/1.1"])
        #expect(reader.finalRest == "Host:")
        #expect(stream.ended == .gap)
    }

    @Test func tooManyEarlySegmentsEndAsAGap() {
        var limits = StreamPrefix.Limits()
        limits.maximumEarlySegments = 2
        let (stream, reader) = run([(0, 5), (10, 2), (20, 2), (30, 2)], limits: limits, finish: false)
        #expect(stream.ended == .gap && stream.earlyBytes == 0)
        #expect(reader.finalRest == "GET /")
    }

    /// A snap length cut the segment: the bytes after the cut will never come.
    @Test func aSegmentCutByTheSnapLengthEndsTheStream() {
        var stream = StreamPrefix()
        let reader = LineReader()
        send(&stream, Array(Self.text[0..<25]), at: 0, claimed: 40, reader)
        #expect(stream.ended == .gap)
        #expect(reader.lines == ["GET / HTTP/1.1"] && reader.finalRest == "Host: exam")
        // Nothing is taken afterwards.
        send(&stream, Array(Self.text[40...]), at: 40, reader)
        #expect(reader.lines.count == 1)
    }

    @Test func aMessageLargerThanTheBufferOverflows() {
        var limits = StreamPrefix.Limits()
        limits.maximumHeldBytes = 64
        let long = Array(repeating: UInt8(ascii: "a"), count: 200) + [0x0A]
        let (stream, reader) = run([(0, 50), (50, 50), (100, 101)], bytes: long, limits: limits, finish: false)
        #expect(stream.ended == .overflow && stream.held.isEmpty)
        #expect(reader.finalRest?.count == 100 && reader.lines.isEmpty)
    }

    /// A consumer skipping a body it does not read (`.consumed` past what it was shown) never sees it.
    @Test func skippedBytesAreNeverShown() {
        let body = Array("HEAD 10\n0123456789NEXT\n".utf8)
        var stream = StreamPrefix()
        var seen: [String] = []
        func consume(_ b: Span<UInt8>, _ isFinal: Bool) -> Consumption {
            let text = String(decoding: (0..<b.count).map { b[$0] }, as: UTF8.self)
            guard let newline = text.firstIndex(of: "\n") else { return .needMore }
            let line = String(text[..<newline])
            seen.append(line)
            return .consumed(line.utf8.count + 1 + (line == "HEAD 10" ? 10 : 0))
        }
        for (offset, count) in [(0, 4), (4, 6), (10, 3), (13, 10)] {
            let piece = Array(body[offset..<(offset + count)])
            stream.accept(sequence: 7 &+ UInt32(offset), base: 7, payload: piece.span, claimedLength: count, limits: .init(),
                          consume: consume)
        }
        #expect(seen == ["HEAD 10", "NEXT"])
    }

    @Test func sequenceNumbersWrapAround() {
        let (_, reader) = run([(0, 20), (20, 20), (40, 100)], base: UInt32.max - 25)
        #expect(reader.lines == Self.lines)
    }

    /// Without the SYN, the first segment seen starts the stream.
    @Test func withoutTheSYNTheFirstSegmentStartsTheStream() {
        let (_, reader) = run([(0, 35), (35, 100)], sawSYN: false)
        #expect(reader.lines == Self.lines)
    }

    @Test func nothingIsReadPastTheMaximumOffset() {
        var limits = StreamPrefix.Limits()
        limits.maximumOffset = 30
        let (stream, reader) = run([(0, 20), (35, 100)], limits: limits, finish: false)
        #expect(stream.ended == .done && reader.lines == ["GET / HTTP/1.1"])
    }

    /// Property: random segment sizes, in random order, some sent twice, give the same lines.
    @Test func anyOrderAndDuplicationGiveTheSameLines() {
        var random = SeededGenerator(seed: 0x5EED)
        for _ in 0..<300 {
            var segments: [(offset: Int, count: Int)] = []
            var offset = 0
            while offset < Self.text.count {
                let count = Int.random(in: 1...12, using: &random)
                segments.append((offset, count))
                offset += count
            }
            for _ in 0..<Int.random(in: 0...3, using: &random) { segments.append(segments.randomElement(using: &random)!) }
            // Shuffle within windows of 4 so the early list (16 segments) is never exceeded.
            var shuffled: [(offset: Int, count: Int)] = []
            var rest = segments[...]
            while !rest.isEmpty {
                shuffled += rest.prefix(4).shuffled(using: &random)
                rest = rest.dropFirst(4)
            }
            let (stream, reader) = run(shuffled)
            #expect(reader.lines == Self.lines, "\(shuffled)")
            #expect(stream.ended == nil)
        }
    }
}
