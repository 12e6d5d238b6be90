import Foundation
import Testing
import TestSupport
@testable import Capture
import Wire

/// The pcapng writer behind `--write DIR`, without a live interface: packets of a real capture
/// written out and read back, and rotation with a cap on the total.
@Suite struct CaptureWriterTests {
    typealias Packet = (timestamp: Int64, bytes: [UInt8], original: Int, linkType: LinkType)

    func packets(_ path: String) -> [Packet] {
        var out: [Packet] = []
        CaptureSet(paths: [path]).read { record, span in
            out.append((record.timestamp, (0..<span.count).map { span[$0] }, record.originalLength, record.linkType))
        }
        return out
    }

    func write(_ packets: [Packet], to writer: (PacketRecord, Span<UInt8>) -> Void) {
        for p in packets {
            let record = PacketRecord(timestamp: p.timestamp, capturedLength: p.bytes.count, originalLength: p.original,
                                      linkType: p.linkType)
            writer(record, p.bytes.span)
        }
    }

    /// Nanosecond timestamps, cut packets (original longer than captured) and the interface's
    /// name survive the round trip; tshark reads the file too (checked where it is installed).
    @Test func writesWhatItIsGivenAsPcapng() throws {
        let original = packets(TestPaths.capture("store-compliant-snap256.pcap"))
        #expect(original.count == 2443)
        let directory = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("out.pcapng").path
        let writer = try PcapngWriter(path: path, interfaces: [("span0", .ethernet, 256)])
        write(original) { writer.write($0, $1, interface: 0) }
        writer.close()
        #expect(writer.error == nil)
        #expect(writer.packets == 2443)
        let back = packets(path)
        #expect(back.count == original.count)
        #expect(back.map(\.timestamp) == original.map(\.timestamp))
        #expect(back.map(\.bytes) == original.map(\.bytes))
        #expect(back.map(\.original) == original.map(\.original))
        #expect(original.contains { $0.original > $0.bytes.count })  // snapped packets were in the test
        let reader = try CaptureReader(path: path)
        #expect(reader.format == .pcapng)
    }

    @Test func rotatesAndKeepsUnderTheTotal() throws {
        let original = packets(TestPaths.capture("store-compliant.pcapng"))
        let directory = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var limits = RotatingCaptureWriter.Limits()
        limits.maximumFileBytes = 64 << 10
        limits.maximumTotalBytes = 200 << 10
        let writer = try RotatingCaptureWriter(directory: directory.path, interfaces: [("span0", .ethernet, 262_144)],
                                               limits: limits)
        write(original) { writer.write($0, $1) }
        writer.close()
        #expect(writer.error == nil)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(writer.filesWritten.count > files.count, "older files were deleted")
        #expect(files.allSatisfy { $0.hasPrefix("audit-") && $0.hasSuffix(".pcapng") }, "\(files)")
        let sizes = try files.map { try FileManager.default.attributesOfItem(atPath: directory.path + "/" + $0)[.size] as! Int }
        #expect(sizes.reduce(0, +) <= 200 << 10)
        #expect(sizes.dropLast().allSatisfy { $0 >= 64 << 10 && $0 < (64 << 10) + 2048 })
        // What is left is the end of the capture, whole and in order, across the files.
        var rest: [Packet] = []
        for file in files { rest += packets(directory.path + "/" + file) }
        #expect(rest.count > 0 && rest.count < original.count)
        #expect(rest.map(\.bytes) == original.suffix(rest.count).map(\.bytes))
    }

    @Test func anUnwritableFolderIsOneClearError() {
        #expect(throws: CaptureError.self) {
            _ = try RotatingCaptureWriter(directory: "/proc/no-such-place", interfaces: [], limits: .init())
        }
    }
}
