public import Wire
import CCacheHints

/// Reads one pcap or pcapng file (or stream) packet by packet, handing each packet to the caller as
/// a view of the bytes in the reader's buffer.
///
/// Formats (see `PcapFormat` and `PcapngFormat` for the layouts):
/// - pcap: both byte orders, microsecond (`a1b2c3d4`) and nanosecond (`a1b23c4d`) variants, and the
///   "modified" Kuznetsov variant (`a1b2cd34`, 24-byte record headers);
/// - pcapng: both byte orders, several sections, several interfaces per section each with its own
///   link type, `if_tsresol` (decimal and binary) and `if_tsoffset`; enhanced, simple and obsolete
///   packet blocks; every other block (name resolution, statistics, decryption secrets, custom,
///   unknown) skipped.
///
/// Contract: every length is checked against the bytes present before it is used; the reader never
/// traps and never loops without consuming bytes. The first structural problem stops the reader with
/// a `CaptureError` (file, byte offset, what was expected) — everything before it has been delivered.
/// Lesser problems are counted as anomalies and reading goes on: a captured length above the file's
/// snap length (libpcap reads such records too), an original length below the captured length,
/// timestamps that go backwards.
public final class CaptureReader {
    /// No real packet is larger: 256 KiB is the largest snap length libpcap and Wireshark accept
    /// (`MAXIMUM_SNAPLEN`); a record claiming more is corruption.
    public static let maximumPacketLength = 262_144
    /// No pcapng block should be larger (a name-resolution or decryption-secrets block may be large,
    /// a packet block may not exceed `maximumPacketLength` plus its fields).
    public static let maximumBlockLength = 16 << 20

    public let path: String
    public let input: Int
    public var format: Format { parser.format }
    public private(set) var error: CaptureError?
    public var stats: Stats { parser.stats.summary }
    public var anomalies: Anomalies {
        var all = parser.anomalies
        all.note(.timestampWentBackwards, count: parser.stats.timestampsWentBackwards)
        return all
    }
    /// The first record whose captured length exceeded the snap length, for a one-line warning.
    public var firstOversnapOffset: Int64? { parser.firstOversnapOffset }

    private let source: ByteSource
    private var parser: CaptureParser
    private var finished = false

    public enum Format: String, Sendable {
        case pcap, pcapNanoseconds = "pcap-ns", pcapModified = "pcap-modified", pcapng
    }

    public enum IOMode: String, Sendable, CaseIterable { case read, mmap }

    public struct Stats: Sendable {
        public var packets = 0
        /// Sum of original (wire) lengths.
        public var bytes: Int64 = 0
        /// Sum of captured lengths.
        public var capturedBytes: Int64 = 0
        public var firstTimestamp: Int64?
        public var lastTimestamp: Int64?
        public var linkTypes: [LinkType: Int] = [:]
        public var sections = 0
        public var interfaces = 0
        public var skippedBlocks = 0
    }

    /// Opens `path` ("-" reads standard input) and reads its file header.
    public init(path: String, input: Int = 0, io: IOMode = .read) throws(CaptureError) {
        self.path = path
        self.input = input
        self.source = try ByteSource(path: path, mode: io == .mmap ? .mmap : .read)
        self.parser = try CaptureParser.start(source: source, path: path, input: input)
    }

    // MARK: - Reading packets

    /// Delivers packets in file order to `body` until the next packet's timestamp is later than
    /// `limit`, the input ends, or an error stops the reader. Returns whether packets remain.
    @discardableResult
    public func readPackets(until limit: Int64 = .max, _ body: (PacketRecord, Span<UInt8>) -> Void) -> Bool {
        advance(until: limit, peek: false, body) != nil
    }

    /// The timestamp of the next packet, or nil when the input has ended (or stopped on an error).
    /// Blocks before that packet (interface descriptions, statistics) are consumed.
    public func peekTimestamp() -> Int64? {
        advance(until: .max, peek: true) { _, _ in }
    }

    /// The read loop: parses records in the buffer, delivers packets up to `limit` (none when
    /// `peek`), refills the buffer, and returns the timestamp of the packet it stopped before, or
    /// nil at the end of the input or on an error.
    private func advance(until limit: Int64, peek: Bool, _ body: (PacketRecord, Span<UInt8>) -> Void) -> Int64? {
        // The parser is moved into a local for the loop: its per-packet updates then need no
        // run-time exclusivity checks, which a class's stored properties would.
        var parser = self.parser
        defer { self.parser = parser }
        while !finished {
            var need = 0
            var stoppedBefore: Int64?
            var failure: CaptureError?
            let base = source.offset
            let consumed = source.withWindow { window in
                var position = 0
                loop: while true {
                    switch parser.parseNext(window, at: position, base: base) {
                    case .packet(let record, let data, let next):
                        if peek || record.timestamp > limit {
                            stoppedBefore = record.timestamp
                            break loop
                        }
                        parser.stats.count(record)
                        // The next record's header and first bytes, asked for while this packet is
                        // processed: by then the buffer's bytes have usually left the caches (the
                        // kernel copied the chunk in long before), and every record's first read
                        // stalled on them.
                        window.prefetch(at: next, bytes: 128)
                        body(record, window.extracting(data))
                        position = next
                    case .skipped(let next):
                        position = next
                    case .needMore(let count):
                        need = count
                        break loop
                    case .failed(let problem):
                        failure = problem
                        break loop
                    }
                }
                return position
            }
            source.consume(consumed)
            if let failure {
                error = failure
                finished = true
                return nil
            }
            if let stoppedBefore { return stoppedBefore }
            refill(need, parser: parser)
        }
        return nil
    }

    /// Whether the reader has delivered everything it will deliver.
    public var isFinished: Bool { finished }

    private func refill(_ need: Int, parser: CaptureParser) {
        do {
            if try source.fill(atLeast: need) { return }
        } catch {
            self.error = error
            finished = true
            return
        }
        finished = true
        if source.available == 0 { return }
        let noun = parser.format == .pcapng ? "block" : "packet record"
        error = CaptureError(file: path, offset: source.offset, kind: .truncated,
                             "file ends inside a \(noun): \(need) bytes needed, \(source.available) present (capture cut short?)")
    }
}

/// Per-packet counters of a reader, kept in plain fields (a run of one link type counted without
/// hashing) and summarised on demand.
struct ReaderCounters {
    var packets = 0
    var bytes: Int64 = 0
    var capturedBytes: Int64 = 0
    var firstTimestamp: Int64?
    var lastTimestamp: Int64 = .min
    var linkTypes: [(LinkType, Int)] = []
    var currentLinkType = LinkType(rawValue: .max)
    var currentLinkCount = 0
    var sections = 0
    var interfaces = 0
    var skippedBlocks = 0
    var timestampsWentBackwards: UInt64 = 0

    @inline(__always)
    mutating func count(_ record: PacketRecord) {
        packets &+= 1
        bytes &+= Int64(record.originalLength)
        capturedBytes &+= Int64(record.capturedLength)
        if firstTimestamp == nil { firstTimestamp = record.timestamp }
        if record.timestamp < lastTimestamp { timestampsWentBackwards &+= 1 }
        lastTimestamp = record.timestamp
        if record.linkType == currentLinkType {
            currentLinkCount &+= 1
        } else {
            flushLinkType()
            currentLinkType = record.linkType
            currentLinkCount = 1
        }
    }

    mutating func flushLinkType() {
        guard currentLinkCount > 0 else { return }
        if let i = linkTypes.firstIndex(where: { $0.0 == currentLinkType }) {
            linkTypes[i].1 &+= currentLinkCount
        } else {
            linkTypes.append((currentLinkType, currentLinkCount))
        }
        currentLinkCount = 0
    }

    var summary: CaptureReader.Stats {
        var copy = self
        copy.flushLinkType()
        var s = CaptureReader.Stats()
        s.packets = packets
        s.bytes = bytes
        s.capturedBytes = capturedBytes
        s.firstTimestamp = firstTimestamp
        s.lastTimestamp = packets > 0 ? lastTimestamp : nil
        for (type, n) in copy.linkTypes { s.linkTypes[type, default: 0] += n }
        s.sections = sections
        s.interfaces = interfaces
        s.skippedBlocks = skippedBlocks
        return s
    }
}

/// The record and block parsing of `CaptureReader`: a value, so the read loop can own it.
struct CaptureParser {
    let path: String
    let input: Int
    var format: CaptureReader.Format = .pcap
    var stats = ReaderCounters()
    var anomalies = Anomalies()
    var firstOversnapOffset: Int64?
    private var bigEndian = false
    private var nanosecondPcap = false
    private var pcapRecordHeaderLength = 16
    private var pcapLinkType = LinkType.ethernet
    private var pcapSnapLength = CaptureReader.maximumPacketLength
    private var interfaces: [Interface] = []
    private var sectionInterfaceBase = 0
    private var totalInterfaces = 0

    /// A pcapng interface: its link type and how to turn its timestamps into nanoseconds.
    struct Interface {
        var linkType: LinkType
        var snapLength: Int
        var resolution: TimestampResolution
        var offsetSeconds: Int64
        var fcsLength: Int
    }

    enum ParseResult {
        /// A packet: its record, where its bytes are in the window, and where the next record starts.
        case packet(PacketRecord, Range<Int>, Int)
        case skipped(Int)
        case needMore(Int)
        case failed(CaptureError)
    }

    private init(path: String, input: Int) {
        self.path = path
        self.input = input
    }

    static func start(source: ByteSource, path: String, input: Int) throws(CaptureError) -> CaptureParser {
        var parser = CaptureParser(path: path, input: input)
        try parser.readFileHeader(source)
        return parser
    }
    // MARK: - File header

    mutating func readFileHeader(_ source: ByteSource) throws(CaptureError) {
        guard try source.fill(atLeast: 4) else {
            throw CaptureError(file: path, offset: Int64(source.available), kind: .truncated,
                               source.available == 0 ? "empty file: no capture header"
                                                     : "file ends inside the capture header (\(source.available) bytes)")
        }
        let magic = source.withWindow { $0.be32(0) }
        switch magic {
        case 0x0A0D_0D0A:
            format = .pcapng
            // The first section header is read by the block loop like any other.
        case 0xA1B2_C3D4, 0xD4C3_B2A1, 0xA1B2_3C4D, 0x4D3C_B2A1, 0xA1B2_CD34, 0x34CD_B2A1:
            try readPcapHeader(magic: magic, source)
        default:
            throw CaptureError(file: path, offset: 0, kind: .badMagic,
                               "not a pcap or pcapng file (magic 0x\(hex8(magic)); expected a1b2c3d4, a1b23c4d or 0a0d0d0a)")
        }
    }

    /// pcap file header (24 bytes): magic, version 2.4, thiszone, sigfigs, snaplen, linktype
    /// (the low 16 bits; bits 28–31 may hold an FCS length, `LINKTYPE_*` "additional information").
    private mutating func readPcapHeader(magic: UInt32, _ source: ByteSource) throws(CaptureError) {
        guard try source.fill(atLeast: 24) else {
            throw CaptureError(file: path, offset: Int64(source.available), kind: .truncated,
                               "file ends inside the 24-byte pcap header")
        }
        bigEndian = magic == 0xA1B2_C3D4 || magic == 0xA1B2_3C4D || magic == 0xA1B2_CD34
        nanosecondPcap = magic == 0xA1B2_3C4D || magic == 0x4D3C_B2A1
        if magic == 0xA1B2_CD34 || magic == 0x34CD_B2A1 {
            format = .pcapModified
            pcapRecordHeaderLength = 24
        } else {
            format = nanosecondPcap ? .pcapNanoseconds : .pcap
        }
        let be = bigEndian
        let (major, snap, link) = source.withWindow { w in
            (w.u16(4, bigEndian: be), w.u32(16, bigEndian: be), w.u32(20, bigEndian: be))
        }
        guard major == 2 else {
            throw CaptureError(file: path, offset: 4, kind: .malformed, "pcap version \(major) (expected 2)")
        }
        pcapLinkType = LinkType(rawValue: link & 0xFFFF)
        pcapSnapLength = snap == 0 || snap > UInt32(CaptureReader.maximumPacketLength) ? CaptureReader.maximumPacketLength : Int(snap)
        source.consume(24)
        stats.sections = 1
        stats.interfaces = 1
    }

    // MARK: - Records

    /// Parses the record or block at `position` of the window `w`, whose first byte is at file
    /// offset `base`.
    @inline(__always)
    mutating func parseNext(_ w: Span<UInt8>, at position: Int, base: Int64) -> ParseResult {
        format == .pcapng ? parsePcapngBlock(w, at: position, base: base) : parsePcapRecord(w, at: position, base: base)
    }

    // MARK: - pcap records

    /// A pcap record header: seconds, micro- or nanoseconds, captured length, original length
    /// (16 bytes; the modified variant adds interface index, protocol, packet type and padding).
    private mutating func parsePcapRecord(_ w: Span<UInt8>, at position: Int, base: Int64) -> ParseResult {
        let headerLength = pcapRecordHeaderLength
        guard w.count &- position >= headerLength else { return .needMore(headerLength) }
        let be = bigEndian
        let seconds = Int64(w.u32(position, bigEndian: be))
        let fraction = Int64(w.u32(position &+ 4, bigEndian: be))
        let captured = Int(w.u32(position &+ 8, bigEndian: be))
        var original = Int(w.u32(position &+ 12, bigEndian: be))
        let fileOffset = base &+ Int64(position)
        if captured > CaptureReader.maximumPacketLength {
            return .failed(CaptureError(file: path, offset: fileOffset, kind: .oversized,
                "packet record claims \(captured) bytes, more than the \(CaptureReader.maximumPacketLength)-byte maximum (corrupt record header)"))
        }
        if captured > pcapSnapLength {
            anomalies.note(.captureLengthExceedsSnapLength)
            if firstOversnapOffset == nil { firstOversnapOffset = fileOffset }
        }
        if original < captured {
            anomalies.note(.captureLengthExceedsOriginalLength)
            original = captured
        }
        let total = headerLength &+ captured
        guard w.count &- position >= total else { return .needMore(total) }
        let nanos = nanosecondPcap ? fraction : fraction &* 1000
        let record = PacketRecord(timestamp: seconds &* 1_000_000_000 &+ nanos, capturedLength: captured,
                                  originalLength: original, linkType: pcapLinkType, interface: 0, input: input,
                                  number: stats.packets &+ 1, fileOffset: fileOffset)
        let dataStart = position &+ headerLength
        return .packet(record, dataStart..<(dataStart &+ captured), position &+ total)
    }

    // MARK: - pcapng blocks

    /// A pcapng block (draft-ietf-opsawg-pcapng §3.1): type (4), total length (4), body, total
    /// length again (4). The byte order is the section header's.
    private mutating func parsePcapngBlock(_ w: Span<UInt8>, at position: Int, base: Int64) -> ParseResult {
        guard w.count &- position >= 12 else { return .needMore(12) }
        let fileOffset = base &+ Int64(position)
        let type = w.be32(position)  // the SHB type is a palindrome, so it reads the same either way
        if type == 0x0A0D_0D0A {
            return parseSectionHeader(w, at: position, fileOffset: fileOffset)
        }
        guard stats.sections > 0 else {
            return .failed(CaptureError(file: path, offset: fileOffset, kind: .malformed,
                                        "pcapng block before any section header"))
        }
        let be = bigEndian
        let blockType = w.u32(position, bigEndian: be)
        let length = Int(w.u32(position &+ 4, bigEndian: be))
        if let problem = Self.checkBlockLength(length, fileOffset: fileOffset, path: path) { return .failed(problem) }
        guard w.count &- position >= length else { return .needMore(length) }
        let trailer = Int(w.u32(position &+ length &- 4, bigEndian: be))
        guard trailer == length else {
            return .failed(CaptureError(file: path, offset: fileOffset, kind: .malformed,
                "pcapng block lengths disagree: \(length) at the start, \(trailer) at the end"))
        }
        let body = w.extracting((position &+ 8)..<(position &+ length &- 4))
        let next = position &+ length
        switch blockType {
        case 1:
            if let problem = parseInterfaceDescription(body, fileOffset: fileOffset) { return .failed(problem) }
            return .skipped(next)
        case 6:
            // Enhanced Packet Block: interface id, timestamp (high, low), captured length, original
            // length, data padded to 32 bits, options.
            guard body.count >= 20 else { return .failed(Self.shortBlock("enhanced packet", fileOffset, path: path)) }
            return packetBlock(body, interface: Int(body.u32(0, bigEndian: be)),
                               timestamp: UInt64(body.u32(4, bigEndian: be)) << 32 | UInt64(body.u32(8, bigEndian: be)),
                               captured: Int(body.u32(12, bigEndian: be)), original: Int(body.u32(16, bigEndian: be)),
                               dataOffset: 20, blockStart: position, fileOffset: fileOffset, next: next)
        case 3:
            // Simple Packet Block: original length, data; interface 0, no timestamp (the previous
            // packet's is used so that time order is kept).
            guard body.count >= 4 else { return .failed(Self.shortBlock("simple packet", fileOffset, path: path)) }
            guard let first = interfaces.first else { return .failed(Self.noInterface(0, fileOffset, path: path, described: interfaces.count)) }
            anomalies.note(.pcapngSimplePacketBlock)
            let original = Int(body.u32(0, bigEndian: be))
            let captured = min(original, first.snapLength, body.count &- 4)
            return packetBlock(body, interface: 0, timestamp: nil, captured: captured, original: original,
                               dataOffset: 4, blockStart: position, fileOffset: fileOffset, next: next)
        case 2:
            // Obsolete Packet Block: interface id (2), drops count (2), timestamp, lengths, data.
            guard body.count >= 20 else { return .failed(Self.shortBlock("packet", fileOffset, path: path)) }
            anomalies.note(.pcapngObsoletePacketBlock)
            return packetBlock(body, interface: Int(body.u16(0, bigEndian: be)),
                               timestamp: UInt64(body.u32(4, bigEndian: be)) << 32 | UInt64(body.u32(8, bigEndian: be)),
                               captured: Int(body.u32(12, bigEndian: be)), original: Int(body.u32(16, bigEndian: be)),
                               dataOffset: 20, blockStart: position, fileOffset: fileOffset, next: next)
        default:
            // Name resolution (4), interface statistics (5), decryption secrets (10), custom
            // (0x00000BAD, 0x40000BAD), and blocks this reader does not know.
            stats.skippedBlocks &+= 1
            return .skipped(next)
        }
    }

    // The error builders are static: as methods, calling one from a mutating parse made the
    // compiler copy the whole parser (712 bytes) on every block.
    private static func checkBlockLength(_ length: Int, fileOffset: Int64, path: String) -> CaptureError? {
        if length < 12 || length % 4 != 0 {
            return CaptureError(file: path, offset: fileOffset, kind: .malformed,
                                "pcapng block length \(length) is not a multiple of 4 of at least 12")
        }
        if length > CaptureReader.maximumBlockLength {
            return CaptureError(file: path, offset: fileOffset, kind: .oversized,
                                "pcapng block claims \(length) bytes, more than the \(CaptureReader.maximumBlockLength)-byte maximum")
        }
        return nil
    }

    private static func shortBlock(_ what: String, _ fileOffset: Int64, path: String) -> CaptureError {
        CaptureError(file: path, offset: fileOffset, kind: .malformed, "pcapng \(what) block too short for its fields")
    }

    private static func noInterface(_ id: Int, _ fileOffset: Int64, path: String, described: Int) -> CaptureError {
        CaptureError(file: path, offset: fileOffset, kind: .malformed,
                     "packet names interface \(id), but the section describes \(described)")
    }

    private mutating func packetBlock(_ body: Span<UInt8>, interface id: Int, timestamp: UInt64?, captured: Int, original: Int,
                             dataOffset: Int, blockStart: Int, fileOffset: Int64, next: Int) -> ParseResult {
        guard id >= 0 && id < interfaces.count else { return .failed(Self.noInterface(id, fileOffset, path: path, described: interfaces.count)) }
        let interface = interfaces[id]
        if captured > CaptureReader.maximumPacketLength {
            return .failed(CaptureError(file: path, offset: fileOffset, kind: .oversized,
                "packet block claims \(captured) bytes, more than the \(CaptureReader.maximumPacketLength)-byte maximum"))
        }
        guard captured <= body.count &- dataOffset else {
            return .failed(CaptureError(file: path, offset: fileOffset, kind: .malformed,
                "packet block claims \(captured) captured bytes, but the block holds \(max(0, body.count &- dataOffset))"))
        }
        if captured > interface.snapLength {
            anomalies.note(.captureLengthExceedsSnapLength)
            if firstOversnapOffset == nil { firstOversnapOffset = fileOffset }
        }
        var wire = original
        if wire < captured {
            anomalies.note(.captureLengthExceedsOriginalLength)
            wire = captured
        }
        // An FCS at the end of the frame (if_fcslen) is not part of the packet's bytes to decode.
        let decoded = interface.fcsLength > 0 && captured >= wire && captured > interface.fcsLength
            ? captured &- interface.fcsLength : captured
        let nanoseconds: Int64
        if let timestamp {
            nanoseconds = interface.resolution.nanoseconds(timestamp) &+ interface.offsetSeconds &* 1_000_000_000
        } else {
            nanoseconds = stats.lastTimestamp == .min ? 0 : stats.lastTimestamp
        }
        let record = PacketRecord(timestamp: nanoseconds, capturedLength: captured, originalLength: wire,
                                  linkType: interface.linkType, interface: sectionInterfaceBase &+ id,
                                  input: input, number: stats.packets &+ 1, fileOffset: fileOffset)
        let dataStart = blockStart &+ 8 &+ dataOffset
        return .packet(record, dataStart..<(dataStart &+ decoded), next)
    }

    /// Section Header Block: byte-order magic `1a2b3c4d`, version 1.x, section length, options.
    private mutating func parseSectionHeader(_ w: Span<UInt8>, at position: Int, fileOffset: Int64) -> ParseResult {
        let magic = w.be32(position &+ 8)
        let be: Bool
        switch magic {
        case 0x1A2B_3C4D: be = true
        case 0x4D3C_2B1A: be = false
        default:
            return .failed(CaptureError(file: path, offset: fileOffset &+ 8, kind: .malformed,
                "pcapng section header byte-order magic 0x\(hex8(magic)) (expected 1a2b3c4d)"))
        }
        let length = Int(w.u32(position &+ 4, bigEndian: be))
        if let problem = Self.checkBlockLength(length, fileOffset: fileOffset, path: path) { return .failed(problem) }
        guard length >= 28 else { return .failed(Self.shortBlock("section header", fileOffset, path: path)) }
        guard w.count &- position >= length else { return .needMore(length) }
        let trailer = Int(w.u32(position &+ length &- 4, bigEndian: be))
        guard trailer == length else {
            return .failed(CaptureError(file: path, offset: fileOffset, kind: .malformed,
                "pcapng block lengths disagree: \(length) at the start, \(trailer) at the end"))
        }
        let major = w.u16(position &+ 12, bigEndian: be)
        guard major == 1 else {
            return .failed(CaptureError(file: path, offset: fileOffset &+ 12, kind: .malformed,
                                        "pcapng version \(major) (expected 1)"))
        }
        let options = w.extracting((position &+ 24)..<(position &+ length &- 4))
        if let problem = walkOptions(options, bigEndian: be, fileOffset: fileOffset &+ 24, { _, _ in }) {
            return .failed(problem)
        }
        bigEndian = be
        sectionInterfaceBase = totalInterfaces
        interfaces.removeAll(keepingCapacity: true)
        stats.sections &+= 1
        return .skipped(position &+ length)
    }

    /// Interface Description Block: link type (2), reserved (2), snap length (4), options —
    /// `if_tsresol` (9), `if_fcslen` (13) and `if_tsoffset` (14) are used.
    private mutating func parseInterfaceDescription(_ body: Span<UInt8>, fileOffset: Int64) -> CaptureError? {
        guard body.count >= 8 else { return Self.shortBlock("interface description", fileOffset, path: path) }
        let be = bigEndian
        let snap = Int(body.u32(4, bigEndian: be))
        var interface = Interface(
            linkType: LinkType(rawValue: UInt32(body.u16(0, bigEndian: be))),
            snapLength: snap == 0 || snap > CaptureReader.maximumPacketLength ? CaptureReader.maximumPacketLength : snap,
            resolution: .decimal(6), offsetSeconds: 0, fcsLength: 0)
        var problem: CaptureError?
        let walkProblem = walkOptions(body.extracting(8...), bigEndian: be, fileOffset: fileOffset &+ 16) { code, value in
            switch code {
            case 9 where value.count >= 1:
                let r = value[0]
                let exponent = Int(r & 0x7F)
                if r & 0x80 == 0 {
                    if exponent > 18 {
                        problem = CaptureError(file: path, offset: fileOffset, kind: .malformed,
                                               "if_tsresol 10^-\(exponent) is finer than this reader supports (10^-18)")
                    }
                    interface.resolution = .decimal(exponent)
                } else {
                    if exponent > 63 {
                        problem = CaptureError(file: path, offset: fileOffset, kind: .malformed,
                                               "if_tsresol 2^-\(exponent) is out of range")
                    }
                    interface.resolution = .binary(exponent)
                }
            case 13 where value.count >= 1:
                interface.fcsLength = Int(value[0])
            case 14 where value.count >= 8:
                interface.offsetSeconds = Int64(bitPattern: be ? value.be64(0) : UInt64(value.le32(0)) | UInt64(value.le32(4)) << 32)
            default:
                break
            }
        }
        if let problem = walkProblem ?? problem { return problem }
        interfaces.append(interface)
        totalInterfaces &+= 1
        stats.interfaces &+= 1
        return nil
    }

    /// Walks pcapng options (code (2), length (2), value padded to 32 bits) until `opt_endofopt`
    /// or the end of the block. An option whose length runs past the block is an error.
    private func walkOptions(_ options: Span<UInt8>, bigEndian be: Bool, fileOffset: Int64,
                             _ visit: (UInt16, Span<UInt8>) -> Void) -> CaptureError? {
        var position = 0
        while options.count &- position >= 4 {
            let code = options.u16(position, bigEndian: be)
            let length = Int(options.u16(position &+ 2, bigEndian: be))
            if code == 0 { return nil }
            let padded = (length &+ 3) & ~3
            guard options.count &- position &- 4 >= padded else {
                return CaptureError(file: path, offset: fileOffset &+ Int64(position), kind: .malformed,
                    "pcapng option \(code) claims \(length) bytes, overrunning its block by \(padded &- (options.count &- position &- 4))")
            }
            visit(code, options.extracting((position &+ 4)..<(position &+ 4 &+ length)))
            position &+= 4 &+ padded
        }
        return nil
    }
}

/// A pcapng interface's timestamp unit: 10^-n or 2^-n seconds (`if_tsresol`).
enum TimestampResolution: Equatable {
    case decimal(Int)
    case binary(Int)

    /// Converts a timestamp in this unit to nanoseconds, without overflow for any 64-bit input that
    /// fits in nanoseconds since 1970.
    @inline(__always)
    func nanoseconds(_ units: UInt64) -> Int64 {
        switch self {
        case .decimal(let n):
            if n == 6 { return Int64(bitPattern: units &* 1000) }
            if n == 9 { return Int64(bitPattern: units) }
            if n < 9 { return Int64(bitPattern: units &* power10(9 &- n)) }
            return Int64(bitPattern: units / power10(n &- 9))
        case .binary(let n):
            // units × 10^9 / 2^n with a 128-bit intermediate.
            let product = units.multipliedFullWidth(by: 1_000_000_000)
            if n == 0 { return Int64(bitPattern: product.low) }
            if n >= 64 { return Int64(bitPattern: product.high >> UInt64(n &- 64)) }
            return Int64(bitPattern: product.high << UInt64(64 &- n) | product.low >> UInt64(n))
        }
    }

    private func power10(_ n: Int) -> UInt64 {
        var v: UInt64 = 1
        for _ in 0..<n { v &*= 10 }
        return v
    }
}

/// Eight lower-case hex digits.
func hex8(_ value: UInt32) -> String {
    let s = String(value, radix: 16)
    return String(repeating: "0", count: max(0, 8 - s.count)) + s
}

extension Span where Element == UInt8 {
    /// Asks the caches for up to `bytes` bytes at `offset` (a hint; nothing past the end).
    @inline(__always)
    func prefetch(at offset: Int, bytes: Int) {
        guard offset >= 0, offset < count else { return }
        unsafe withUnsafeBufferPointer { buffer in
            unsafe spanaudit_prefetch(buffer.baseAddress! + offset, Swift.min(bytes, count &- offset))
        }
    }
}
