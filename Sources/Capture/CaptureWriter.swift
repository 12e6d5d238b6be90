import Glibc
public import Wire

/// Writes packets as a pcapng file (one section; one interface description per capture
/// interface, with its name and nanosecond timestamps), through a buffer: no allocation per packet.
///
/// Contract: what `write` accepted is on disk after `flush` or `close`; an I/O error (disk full)
/// stops writing and is kept in `error`, never thrown per packet.
@safe public final class PcapngWriter {
    public let path: String
    /// Bytes on disk so far.
    public private(set) var bytesWritten: Int64 = 0
    /// The file's size once what is buffered is written.
    public var size: Int64 { bytesWritten + Int64(buffer.count) }
    public private(set) var packets = 0
    public private(set) var error: String?
    private var fd: Int32
    private var buffer: [UInt8] = []
    private let interfaces: [(name: String, linkType: LinkType, snaplen: Int)]
    static let bufferBytes = 1 << 20

    /// Creates `path` (replacing any file there) and writes the section and interface headers.
    public init(path: String, interfaces: [(name: String, linkType: LinkType, snaplen: Int)]) throws(CaptureError) {
        self.path = path
        self.interfaces = interfaces
        fd = unsafe open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 {
            throw CaptureError(file: path, offset: 0, kind: .io, "cannot create: " + (unsafe String(cString: strerror(errno))))
        }
        buffer.reserveCapacity(Self.bufferBytes + 65_536)
        writeSectionHeader()
        for interface in interfaces { writeInterface(interface) }
        flush()
        if let error { throw CaptureError(file: path, offset: 0, kind: .io, error) }
    }

    deinit { close() }

    /// One packet of interface `interface` (an index into the interfaces given at creation).
    public func write(_ record: PacketRecord, _ bytes: Span<UInt8>, interface: Int) {
        guard error == nil else { return }
        let captured = bytes.count
        let padded = (captured + 3) & ~3
        let total = 32 + padded
        appendU32(6)
        appendU32(UInt32(total))
        appendU32(UInt32(interface))
        let time = UInt64(bitPattern: record.timestamp)
        appendU32(UInt32(truncatingIfNeeded: time >> 32))
        appendU32(UInt32(truncatingIfNeeded: time))
        appendU32(UInt32(captured))
        appendU32(UInt32(clamping: record.originalLength))
        // One copy of the packet, not a capacity check per byte (this runs for every packet).
        buffer.append(span: bytes)
        for _ in captured..<padded { buffer.append(0) }
        appendU32(UInt32(total))
        packets &+= 1
        if buffer.count >= Self.bufferBytes { flush() }
    }

    /// Puts what is buffered on disk (Wireshark can then open the file as it grows).
    public func flush() {
        guard !buffer.isEmpty, fd >= 0, error == nil else { return }
        var offset = 0
        while offset < buffer.count {
            let n: Int = unsafe buffer.withUnsafeBytes { raw in
                unsafe Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            }
            if n < 0 {
                if errno == EINTR { continue }
                error = "cannot write: " + (unsafe String(cString: strerror(errno)))
                break
            }
            offset += n
        }
        bytesWritten += Int64(offset)
        buffer.removeAll(keepingCapacity: true)
    }

    public func close() {
        guard fd >= 0 else { return }
        flush()
        _ = Glibc.close(fd)
        fd = -1
    }

    // MARK: - Blocks (pcapng, draft-ietf-opsawg-pcapng)

    private func writeSectionHeader() {
        let application = Array("SpanAudit audit".utf8)
        let optionBytes = 4 + ((application.count + 3) & ~3) + 4
        let total = 28 + optionBytes
        appendU32(0x0A0D_0D0A)
        appendU32(UInt32(total))
        appendU32(0x1A2B_3C4D)
        appendU16(1)
        appendU16(0)
        appendU32(0xFFFF_FFFF)  // section length unknown (-1)
        appendU32(0xFFFF_FFFF)
        appendOption(4, application)  // shb_userappl
        appendU32(0)  // opt_endofopt
        appendU32(UInt32(total))
    }

    private func writeInterface(_ interface: (name: String, linkType: LinkType, snaplen: Int)) {
        let name = Array(interface.name.utf8)
        let optionBytes = 4 + ((name.count + 3) & ~3) + 8 + 4
        let total = 20 + optionBytes
        appendU32(1)
        appendU32(UInt32(total))
        appendU16(UInt16(truncatingIfNeeded: Self.fileLinkType(interface.linkType).rawValue))
        appendU16(0)
        appendU32(UInt32(clamping: interface.snaplen))
        appendOption(2, name)  // if_name
        appendOption(9, [9])   // if_tsresol: 10^-9 s
        appendU32(0)
        appendU32(UInt32(total))
    }

    /// Files record `LINKTYPE_*` numbers; libpcap reports `DLT_*` ones, which differ for raw IP.
    static func fileLinkType(_ dlt: LinkType) -> LinkType {
        dlt == .rawDLT12 || dlt == .rawDLT14 ? .raw : dlt
    }

    private func appendOption(_ code: UInt16, _ value: [UInt8]) {
        appendU16(code)
        appendU16(UInt16(value.count))
        buffer.append(contentsOf: value)
        for _ in value.count..<((value.count + 3) & ~3) { buffer.append(0) }
    }

    private func appendU16(_ v: UInt16) {
        buffer.append(UInt8(truncatingIfNeeded: v))
        buffer.append(UInt8(truncatingIfNeeded: v >> 8))
    }

    private func appendU32(_ v: UInt32) {
        appendU16(UInt16(truncatingIfNeeded: v))
        appendU16(UInt16(truncatingIfNeeded: v >> 16))
    }
}

/// Keeps what a live capture saw as rotating pcapng files in a folder, so evidence can be opened
/// in Wireshark later and the nightly report can read it: a new file every `maximumFileBytes` or
/// `maximumFileAge`, oldest files deleted beyond `maximumTotalBytes`.
///
/// A file being written is named `audit-<UTC start>.pcapng.part` and renamed to `.pcapng` when
/// complete, so a reader of `*.pcapng` never sees a half-written file (a `.part` left by a crash
/// is still a readable capture up to its last whole packet).
public final class RotatingCaptureWriter {
    public struct Limits: Sendable {
        public var maximumFileBytes: Int64 = 100 << 20
        public var maximumFileAge: Int64 = 3_600 * 1_000_000_000
        public var maximumTotalBytes: Int64 = 10 << 30
        public init() {}
    }

    public let directory: String
    public let limits: Limits
    public private(set) var filesWritten: [String] = []
    public private(set) var error: String?
    private let interfaces: [(name: String, linkType: LinkType, snaplen: Int)]
    private var current: PcapngWriter?
    private var currentStart: Int64 = 0

    /// Checks that `directory` exists (creating it) and is writable; nothing is written until the
    /// first packet.
    public init(directory: String, interfaces: [(name: String, linkType: LinkType, snaplen: Int)],
                limits: Limits) throws(CaptureError) {
        self.directory = directory
        self.interfaces = interfaces
        self.limits = limits
        if unsafe mkdir(directory, 0o755) != 0 && errno != EEXIST {
            throw CaptureError(file: directory, offset: 0, kind: .io, "cannot create the folder: " + (unsafe String(cString: strerror(errno))))
        }
        if unsafe access(directory, W_OK) != 0 {
            throw CaptureError(file: directory, offset: 0, kind: .io, "cannot write in the folder: " + (unsafe String(cString: strerror(errno))))
        }
    }

    public func write(_ record: PacketRecord, _ bytes: Span<UInt8>) {
        guard error == nil else { return }
        if let writer = current,
           writer.size >= limits.maximumFileBytes || record.timestamp &- currentStart >= limits.maximumFileAge {
            rotate()
        }
        if current == nil { start(at: record.timestamp) }
        guard let writer = current else { return }
        writer.write(record, bytes, interface: record.interface)
        if let problem = writer.error { error = "\(writer.path): \(problem)" }
    }

    /// On idle moments: buffered packets go to disk, and an old file is closed even when no
    /// packet comes.
    public func tick(now: Int64) {
        guard let writer = current else { return }
        writer.flush()
        if now &- currentStart >= limits.maximumFileAge { rotate() }
    }

    public func close() { rotate() }

    private func start(at time: Int64) {
        let name = "audit-\(Self.stamp(time))"
        var path = "\(directory)/\(name).pcapng.part"
        var suffix = 1
        func exists(_ p: String) -> Bool { unsafe access(p, F_OK) == 0 }
        while exists(path) || exists(String(path.dropLast(5))) {
            suffix += 1
            path = "\(directory)/\(name)-\(suffix).pcapng.part"
        }
        do {
            current = try PcapngWriter(path: path, interfaces: interfaces)
            currentStart = time
        } catch {
            self.error = error.description
        }
    }

    private func rotate() {
        guard let writer = current else { return }
        writer.close()
        current = nil
        let finished = String(writer.path.dropLast(5))
        if unsafe rename(writer.path, finished) == 0 { filesWritten.append(finished) }
        enforceTotal()
    }

    /// Deletes the oldest of our files while all of them together exceed the cap.
    private func enforceTotal() {
        guard let dir = unsafe opendir(directory) else { return }
        var files: [(name: String, size: Int64, modified: Int64)] = []
        while let entry = unsafe readdir(dir) {
            let name = unsafe withUnsafeBytes(of: entry.pointee.d_name) { raw in
                unsafe String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name.hasPrefix("audit-"), name.hasSuffix(".pcapng") else { continue }
            var info = stat()
            if unsafe stat("\(directory)/\(name)", &info) == 0 {
                let modified = Int64(info.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_mtim.tv_nsec)
                files.append((name, Int64(info.st_size), modified))
            }
        }
        unsafe closedir(dir)
        // Oldest first: files are finished in order (names alone mis-sort "-2" suffixes).
        files.sort { ($0.modified, $0.name) < ($1.modified, $1.name) }
        var total = files.reduce(0) { $0 + $1.size }
        for file in files where total > limits.maximumTotalBytes && files.count > 1 {
            if unsafe unlink("\(directory)/\(file.name)") == 0 { total -= file.size }
        }
    }

    /// `20261121T140501Z` for a time in nanoseconds.
    static func stamp(_ time: Int64) -> String {
        var seconds = time_t(time / 1_000_000_000)
        var parts = unsafe tm()
        unsafe gmtime_r(&seconds, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let (year, month, day) = unsafe (parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday)
        let (hour, minute, second) = unsafe (parts.tm_hour, parts.tm_min, parts.tm_sec)
        return "\(year)\(two(month))\(two(day))T\(two(hour))\(two(minute))\(two(second))Z"
    }
}

/// A source whose packets are also kept on disk (`audit --iface ... --write DIR`).
public final class RecordingSource: PacketSource {
    public let source: any PacketSource
    public let writer: RotatingCaptureWriter

    public init(source: any PacketSource, writer: RotatingCaptureWriter) {
        self.source = source
        self.writer = writer
    }

    public func read(_ body: (PacketRecord, Span<UInt8>) -> Void, idle: () -> Void) {
        source.read({ record, bytes in
            writer.write(record, bytes)
            body(record, bytes)
        }, idle: {
            writer.tick(now: WallClock.now)
            idle()
        })
        writer.close()
    }

    public var results: [CaptureSet.InputResult] { source.results }
}
