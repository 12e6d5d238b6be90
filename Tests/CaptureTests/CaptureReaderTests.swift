import Foundation
import Testing
import TestSupport
@testable import Capture
@testable import Wire

@Suite struct CaptureReaderTests {
    @Test func pcapBothByteOrdersGiveTheSamePackets() throws {
        let little = readPackets(TestPaths.capture("lan.pcap"))
        let big = readPackets(TestPaths.capture("lan-be.pcap"))
        #expect(little.error == nil && big.error == nil)
        #expect(little.packets.count == 73)
        #expect(little.packets == big.packets)
        // tcpdump -nr lan.pcap, packet 9: IP 10.20.0.10.42024 > 10.20.0.1.53: A? server.lan.test.
        #expect(little.packets[8].bytes.prefix(16) == hexBytes("0200 0020 0001 0200 0020 0010 0800 4500")[...])
        #expect(little.packets[8].capturedLength == 98 && little.packets[8].originalLength == 98)
    }

    @Test func pcapMicrosecondsAndNanoseconds() throws {
        let micro = readPackets(TestPaths.capture("lan.pcap")).packets
        let nano = readPackets(TestPaths.capture("lan-ns.pcap")).packets
        #expect(nano.count == 71)
        #expect(micro.allSatisfy { $0.timestamp % 1000 == 0 })
        #expect(nano.contains { $0.timestamp % 1000 != 0 })
        // Same traffic: the nanosecond capture's packets are the microsecond capture's, two later.
        #expect(nano.map(\.bytes) == micro.dropFirst(2).map(\.bytes))
        for (n, m) in zip(nano, micro.dropFirst(2)) { #expect(abs(n.timestamp - m.timestamp) < 1_000_000) }
        // tcpdump -nr lan.pcap, packet 4: 10:44:42.512562 IP 10.20.0.10 > 10.20.0.1: ICMP echo request
        #expect(micro[3].timestamp % 1_000_000_000 == 512_562_000)
    }

    @Test func pcapngBothByteOrders() throws {
        let little = readPackets(TestPaths.capture("lan.pcapng"))
        let big = readPackets(TestPaths.capture("lan-be.pcapng"))
        #expect(little.error == nil && big.error == nil)
        #expect(little.packets.count == 71)
        #expect(little.packets == big.packets)
        #expect(little.packets.map(\.bytes) == readPackets(TestPaths.capture("lan-ns.pcap")).packets.map(\.bytes))
    }

    @Test func binaryResolutionAndOffset() throws {
        let decimal = readPackets(TestPaths.capture("lan.pcapng")).packets
        let binary = readPackets(TestPaths.capture("lan-tsresol.pcapng"))
        #expect(binary.error == nil)
        #expect(binary.packets.map(\.bytes) == decimal.map(\.bytes))
        // 2^-20 s units plus a 1000 s offset name the same instants to within a microsecond.
        for (b, d) in zip(binary.packets, decimal) { #expect(abs(b.timestamp - d.timestamp) <= 1000) }
        #expect(binary.packets.contains { $0.timestamp % 1000 != 0 })
    }

    @Test func simpleAndObsoletePacketBlocks() throws {
        let reader = try CaptureReader(path: TestPaths.capture("lan-spb.pcapng"))
        var packets: [(Int64, [UInt8])] = []
        reader.readPackets { record, span in packets.append((record.timestamp, (0..<span.count).map { span[$0] })) }
        let enhanced = readPackets(TestPaths.capture("lan.pcapng")).packets
        #expect(reader.error == nil)
        #expect(packets.map(\.1) == enhanced.map(\.bytes))
        #expect(reader.anomalies[.pcapngSimplePacketBlock] == 24)
        #expect(reader.anomalies[.pcapngObsoletePacketBlock] == 23)
        // A simple packet block has no timestamp: it takes the previous packet's.
        #expect(packets[1].0 == packets[0].0)
        #expect(packets[2].0 == enhanced[2].timestamp)
    }

    @Test func twoInterfacesWithTwoLinkTypes() throws {
        let reader = try CaptureReader(path: TestPaths.capture("lan-multi.pcapng"))
        var interfaces: [Int: LinkType] = [:]
        reader.readPackets { record, _ in interfaces[record.interface] = record.linkType }
        #expect(reader.error == nil)
        #expect(interfaces == [0: .ethernet, 1: .linuxSLL])
        #expect(reader.stats.linkTypes == [.ethernet: 71, .linuxSLL: 71])
        #expect(reader.stats.interfaces == 2)
        #expect(reader.anomalies[.timestampWentBackwards] > 0)
    }

    @Test func severalSectionsWithDifferentByteOrders() throws {
        let directory = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let joined = directory.appendingPathComponent("two-sections.pcapng")
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.capture("lan.pcapng")))
            + Data(contentsOf: URL(fileURLWithPath: TestPaths.capture("lan-be.pcapng")))
        try data.write(to: joined)
        let reader = try CaptureReader(path: joined.path)
        var interfaces: [Int] = []
        reader.readPackets { record, _ in interfaces.append(record.interface) }
        #expect(reader.error == nil)
        #expect(interfaces.count == 142)
        #expect(Set(interfaces[..<71]) == [0] && Set(interfaces[71...]) == [1])
        #expect(reader.stats.sections == 2)
    }

    @Test func fileCutInsideARecord() throws {
        let result = readPackets(TestPaths.capture("lan-cut.pcap"))
        #expect(result.packets.count == 38)
        let error = try #require(result.error)
        #expect(error.kind == .truncated)
        #expect(error.offset == 11580)
        #expect(error.description == "\(TestPaths.capture("lan-cut.pcap")): byte 11580: file ends inside a packet record: 82 bytes needed, 49 present (capture cut short?)")
        #expect(result.packets.map(\.bytes) == readPackets(TestPaths.capture("lan.pcap")).packets.prefix(38).map(\.bytes))
    }

    /// Every prefix of a capture reads the packets wholly present and stops with `truncated` (or
    /// cleanly at a record boundary): never a trap, never a hang.
    @Test(arguments: ["lan.pcap", "lan.pcapng", "lan-be.pcapng", "lan-spb.pcapng"])
    func everyPrefixOfTheFirstPackets(name: String) throws {
        let all = try Data(contentsOf: URL(fileURLWithPath: TestPaths.capture(name)))
        let full = readPackets(TestPaths.capture(name)).packets
        let directory = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent(name)
        for length in stride(from: 0, through: min(all.count, 1600), by: 1) {
            try all.prefix(length).write(to: url)
            let result = readPackets(url.path)
            #expect(full.starts(with: result.packets))
            if let error = result.error { #expect(error.kind == .truncated, "\(length): \(error)") }
        }
    }

    @Test func notACaptureFile() throws {
        let directory = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = directory.appendingPathComponent("notes.txt")
        try Data("hello, this is not a capture\n".utf8).write(to: text)
        #expect(throws: CaptureError.self) { try CaptureReader(path: text.path) }
        do {
            _ = try CaptureReader(path: text.path)
        } catch {
            #expect(error.kind == .badMagic)
            #expect(error.description == "\(text.path): byte 0: not a pcap or pcapng file (magic 0x68656c6c; expected a1b2c3d4, a1b23c4d or 0a0d0d0a)")
        }
        let empty = directory.appendingPathComponent("empty.pcap")
        try Data().write(to: empty)
        do {
            _ = try CaptureReader(path: empty.path)
            Issue.record("an empty file opened")
        } catch {
            #expect(error.description.hasSuffix("byte 0: empty file: no capture header"))
        }
        do {
            _ = try CaptureReader(path: directory.appendingPathComponent("missing.pcap").path)
            Issue.record("a missing file opened")
        } catch {
            #expect(error.kind == .io)
            #expect(error.description.hasSuffix("cannot open: No such file or directory"))
        }
    }

    /// Patches bytes of a real capture and reads it back.
    func patched(_ name: String, _ patch: (inout [UInt8]) -> Void) throws -> (packets: [CapturedPacket], error: CaptureError?, reader: CaptureReader?) {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: TestPaths.capture(name))))
        patch(&bytes)
        let directory = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        let result = readPackets(url.path)
        return (result.packets, result.error, nil)
    }

    @Test func recordLongerThanAnyPacket() throws {
        // The first record's captured length (bytes 32..35 of a little-endian pcap) := 300000.
        let result = try patched("lan.pcap") { b in b[32] = 0xE0; b[33] = 0x93; b[34] = 0x04; b[35] = 0 }
        #expect(result.packets.isEmpty)
        #expect(result.error?.kind == .oversized)
        #expect(result.error?.offset == 24)
        #expect(result.error?.message == "packet record claims 300000 bytes, more than the 262144-byte maximum (corrupt record header)")
    }

    @Test func recordLongerThanTheSnapLengthIsReadAnyway() throws {
        let url = TestPaths.capture("lan.pcap")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: url)))
        bytes[16] = 80; bytes[17] = 0; bytes[18] = 0; bytes[19] = 0  // snap length 80
        let directory = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let patchedURL = directory.appendingPathComponent("snap80.pcap")
        try Data(bytes).write(to: patchedURL)
        let reader = try CaptureReader(path: patchedURL.path)
        reader.readPackets { _, _ in }
        #expect(reader.error == nil)
        #expect(reader.stats.packets == 73)
        let longer = readPackets(url).packets.filter { $0.capturedLength > 80 }.count
        #expect(longer == 46)
        #expect(reader.anomalies[.captureLengthExceedsSnapLength] == UInt64(longer))
        #expect(reader.firstOversnapOffset == 24)
    }

    /// The byte offset of the first block of `type` in a little-endian pcapng.
    func blockOffset(_ bytes: [UInt8], type: UInt32) -> Int {
        var at = 0
        while at + 8 <= bytes.count {
            let t = UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
            if t == type { return at }
            at += Int(UInt32(bytes[at + 4]) | UInt32(bytes[at + 5]) << 8 | UInt32(bytes[at + 6]) << 16)
        }
        return -1
    }

    @Test func pcapngBlockLengthsThatDisagree() throws {
        let result = try patched("lan.pcapng") { b in
            let idb = blockOffset(b, type: 1)
            let length = Int(b[idb + 4]) | Int(b[idb + 5]) << 8
            b[idb + length - 4] &+= 4
        }
        #expect(result.packets.isEmpty)
        #expect(result.error?.kind == .malformed)
        #expect(result.error?.message.hasPrefix("pcapng block lengths disagree") == true)
    }

    @Test func pcapngOptionOverrunningItsBlock() throws {
        let result = try patched("lan.pcapng") { b in
            let idb = blockOffset(b, type: 1)
            // The first option of the IDB starts after type, length, link type, reserved, snap length.
            b[idb + 18] = 0xF0
        }
        #expect(result.error?.kind == .malformed)
        #expect(result.error?.message.contains("overrunning its block") == true)
    }

    @Test func pcapngBlockLengthNotAMultipleOfFour() throws {
        let result = try patched("lan.pcapng") { b in b[blockOffset(b, type: 6) + 4] &+= 1 }
        #expect(result.error?.message.hasPrefix("pcapng block length") == true)
        #expect(result.packets.isEmpty)
    }

    @Test func packetNamingAMissingInterface() throws {
        let result = try patched("lan.pcapng") { b in
            let epb = blockOffset(b, type: 6)
            b[epb + 8] = 5
        }
        #expect(result.error?.message == "packet names interface 5, but the section describes 1")
    }

    @Test func mmapAndReadGiveTheSamePackets() throws {
        for name in ["lan.pcap", "lan-multi.pcapng", "lan-cut.pcap"] {
            let read = readPackets(TestPaths.capture(name), io: .read)
            let mapped = readPackets(TestPaths.capture(name), io: .mmap)
            #expect(read.packets == mapped.packets)
            #expect(read.error == mapped.error)
        }
    }

    /// A capture larger than one read, read while it is in the page cache (cached reads only, no
    /// read-ahead advice) and after the kernel dropped it (a cached read fails, the reader advises
    /// read-ahead and waits): the same bytes as mapping it, either way.
    @Test func largeFileInAndOutOfThePageCache() throws {
        let lan = Array(try Data(contentsOf: URL(fileURLWithPath: TestPaths.capture("lan.pcap"))))
        var bytes = Array(lan.prefix(24))
        while bytes.count < 3 * ByteSource.defaultChunkSize + 12345 { bytes += lan.dropFirst(24) }
        let directory = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("large.pcap").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        func readAll() throws -> (bytes: [UInt8], missed: Bool) {
            let source = try ByteSource(path: path)
            var all: [UInt8] = []
            while try source.fill(atLeast: 1) {
                source.withWindow { window in for i in 0..<window.count { all.append(window[i]) } }
                source.consume(source.available)
            }
            return (all, source.missedPageCache)
        }
        let cached = try readAll()
        #expect(cached.bytes == bytes)
        #expect(!cached.missed)
        let reference = readPackets(path, io: .mmap)
        #expect(readPackets(path, io: .read).packets == reference.packets)

        let dropped = dropFromPageCache(path)
        let evicted = try readAll()
        #expect(evicted.bytes == bytes)
        // Where the kernel really dropped the pages (not tmpfs, which keeps them whatever the
        // advice), the first cached read failed and the reader went on with ordinary reads.
        #expect(evicted.missed == dropped)
        _ = dropFromPageCache(path)
        #expect(readPackets(path, io: .read).packets == reference.packets)
    }

    /// Writes the file back and asks the kernel to drop its pages; returns whether its first page
    /// left memory (`mincore`).
    private func dropFromPageCache(_ path: String) -> Bool {
        let fd = unsafe open(path, O_RDONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        fsync(fd)
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)
        guard let page = unsafe mmap(nil, 4096, PROT_READ, MAP_SHARED, fd, 0), unsafe page != MAP_FAILED else {
            return false
        }
        defer { unsafe munmap(page, 4096) }
        var resident: UInt8 = 0
        return unsafe mincore(page, 4096, &resident) == 0 && resident & 1 == 0
    }

    /// Random bytes after a valid file header: the reader stops (error or end) in bounded steps.
    @Test func randomBytesAfterAValidHeaderNeverHang() throws {
        var rng = SeededGenerator(seed: 42)
        let directory = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let headers: [[UInt8]] = [
            Array(try Data(contentsOf: URL(fileURLWithPath: TestPaths.capture("lan.pcap"))).prefix(24)),
            Array(try Data(contentsOf: URL(fileURLWithPath: TestPaths.capture("lan.pcapng"))).prefix(132)),
        ]
        for round in 0..<400 {
            let header = headers[round % 2]
            let tail = (0..<Int(rng.next() % 3000)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let url = directory.appendingPathComponent("random-\(round)")
            try Data(header + tail).write(to: url)
            let reader = try CaptureReader(path: url.path)
            var count = 0
            reader.readPackets { _, span in count += span.count >= 0 ? 1 : 0 }
            #expect(reader.isFinished)
            #expect(count <= 3000)
        }
    }
}
