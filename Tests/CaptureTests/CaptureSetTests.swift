import Foundation
import Testing
import TestSupport
@testable import Capture
@testable import Wire

@Suite struct CaptureSetTests {
    func merged(_ paths: [String]) -> [(Int64, [UInt8], Int)] {
        var out: [(Int64, [UInt8], Int)] = []
        let set = CaptureSet(paths: paths)
        set.read { record, span in out.append((record.timestamp, (0..<span.count).map { span[$0] }, record.input)) }
        return out
    }

    @Test func rotatedFilesInAnyOrderAreReadInTimeOrder() throws {
        let whole = readPackets(TestPaths.capture("lan.pcap")).packets
        let parts = merged([TestPaths.capture("lan-part2.pcap"), TestPaths.capture("lan-part1.pcap")])
        #expect(parts.map(\.1) == whole.map(\.bytes))
        #expect(parts.map(\.0) == whole.map(\.timestamp))
        #expect(Set(parts.prefix(36).map(\.2)) == [1] && Set(parts.suffix(37).map(\.2)) == [0])
    }

    @Test func overlappingFilesAreMergedPacketByPacket() throws {
        let whole = readPackets(TestPaths.capture("lan.pcap")).packets
        let directory = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let odd = directory.appendingPathComponent("odd.pcap"), even = directory.appendingPathComponent("even.pcap")
        try writePcap(odd, packets: whole.enumerated().filter { $0.offset % 2 == 1 }.map { ($0.element.timestamp, $0.element.bytes) })
        try writePcap(even, packets: whole.enumerated().filter { $0.offset % 2 == 0 }.map { ($0.element.timestamp, $0.element.bytes) })
        let m = merged([odd.path, even.path])
        #expect(m.map(\.1) == whole.map(\.bytes))
        #expect(m.map(\.0) == m.map(\.0).sorted())
    }

    @Test func aBadFileDoesNotStopTheOthers() throws {
        let directory = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let bad = directory.appendingPathComponent("bad.pcap")
        try Data("garbage".utf8).write(to: bad)
        let set = CaptureSet(paths: [bad.path, TestPaths.capture("lan-part1.pcap"), TestPaths.capture("lan-cut.pcap")])
        var count = 0
        set.read { _, _ in count += 1 }
        #expect(count == 36 + 38)
        #expect(set.results[0].error?.kind == .badMagic)
        #expect(!set.results[0].opened)
        #expect(set.results[1].error == nil && set.results[1].stats.packets == 36)
        #expect(set.results[2].error?.kind == .truncated && set.results[2].stats.packets == 38)
    }
}
