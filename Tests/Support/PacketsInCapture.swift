public import Capture
public import Foundation
public import Wire

/// A packet copied out of a capture, for tests that need owned bytes.
public struct CapturedPacket: Equatable, Sendable {
    public var timestamp: Int64
    public var capturedLength: Int
    public var originalLength: Int
    public var linkType: LinkType
    public var interface: Int
    public var bytes: [UInt8]
}

/// Reads every packet of a capture with SpanAudit's reader; returns them and the reader's error.
public func readPackets(_ path: String, io: CaptureReader.IOMode = .read) -> (packets: [CapturedPacket], error: CaptureError?) {
    let reader: CaptureReader
    do {
        reader = try CaptureReader(path: path, io: io)
    } catch {
        return ([], error)
    }
    var packets: [CapturedPacket] = []
    reader.readPackets { record, span in
        var bytes: [UInt8] = []
        bytes.reserveCapacity(span.count)
        for i in 0..<span.count { bytes.append(span[i]) }
        packets.append(CapturedPacket(timestamp: record.timestamp, capturedLength: record.capturedLength,
                                      originalLength: record.originalLength, linkType: record.linkType,
                                      interface: record.interface, bytes: bytes))
    }
    return (packets, reader.error)
}

/// Writes a little-endian microsecond pcap of Ethernet (or `linkType`) frames.
public func writePcap(_ url: URL, linkType: UInt32 = 1, packets: [(timestamp: Int64, bytes: [UInt8])]) throws {
    var data = Data()
    func u32(_ v: UInt32) { data.append(contentsOf: [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)]) }
    func u16(_ v: UInt16) { data.append(contentsOf: [UInt8(v & 0xFF), UInt8(v >> 8)]) }
    u32(0xA1B2_C3D4); u16(2); u16(4); u32(0); u32(0); u32(262_144); u32(linkType)
    for (ts, bytes) in packets {
        u32(UInt32(ts / 1_000_000_000)); u32(UInt32(ts % 1_000_000_000 / 1000))
        u32(UInt32(bytes.count)); u32(UInt32(bytes.count))
        data.append(contentsOf: bytes)
    }
    try data.write(to: url)
}
