#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CCacheHints

/// A file or stream read in large chunks into one reused buffer (`read(2)`), or mapped whole
/// (`mmap(2)`). Callers look at the unread bytes through `withWindow`, a `Span` over the buffer:
/// packets are views of these bytes, never copies.
///
/// Why `read` is the default: on the virtual machines we measured, page faults made a mapped file
/// slower to walk than `read` into a buffer that stays in cache (`Scripts/bench.sh` measures both;
/// `--io mmap` selects the mapping).
///
/// Memory is bounded: the buffer is `chunkSize` plus the largest record allowed, whatever the file size.
@safe final class ByteSource {
    enum Mode: String, Sendable { case read, mmap }

    let name: String
    private let fd: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8]
    /// Unread bytes are `buffer[start..<end]`.
    private var start = 0
    private var end = 0
    /// File offset of `buffer[start]`.
    private(set) var offset: Int64 = 0
    private(set) var reachedEnd = false
    private let chunkSize: Int
    private var mapped: UnsafeRawBufferPointer?
    /// Large regular files only (else -1): how far ahead of the reads the kernel has been asked
    /// to fetch.
    private var advisedUpTo: Int64 = -1
    /// Whether reads first try the page cache alone (`spanaudit_read_cached`), so that a file
    /// already in memory is not advised about: asking the kernel to fetch 16 MiB that it holds
    /// still walks its page-cache index for every page, 1.5% of a run on a cached capture.
    /// Cleared when the kernel or file system cannot read that way.
    private var tryCachedReads = false
    /// Whether some read found the file not in the page cache: from then on the kernel is asked to
    /// read ahead of every read, as it would be without the cached reads.
    private(set) var missedPageCache = false

    static let defaultChunkSize = 1 << 20

    /// Opens `path` ("-" for standard input).
    init(path: String, mode: Mode = .read, chunkSize: Int = ByteSource.defaultChunkSize) throws(CaptureError) {
        self.name = path
        self.chunkSize = chunkSize
        if path == "-" {
            fd = 0
            ownsDescriptor = false
        } else {
            let opened = unsafe open(path, O_RDONLY)
            guard opened >= 0 else {
                throw CaptureError(file: path, offset: 0, kind: .io, "cannot open: \(Self.errorText(errno))")
            }
            fd = opened
            ownsDescriptor = true
        }
        var info = stat()
        let size: Int64 = unsafe fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG ? Int64(info.st_size) : -1
        if (info.st_mode & S_IFMT) == S_IFDIR {
            if ownsDescriptor { close(fd) }
            throw CaptureError(file: path, offset: 0, kind: .io, "is a directory, not a capture file")
        }
        if mode == .mmap && size > 0 {
            let address = unsafe mmap(nil, Int(size), PROT_READ, MAP_PRIVATE, fd, 0)
            if let address = unsafe address, unsafe address != MAP_FAILED {
                unsafe madvise(address, Int(size), MADV_SEQUENTIAL)
                unsafe mapped = unsafe UnsafeRawBufferPointer(start: address, count: Int(size))
                buffer = []
                end = Int(size)
                reachedEnd = true
                return
            }
        }
        if size > Int64(chunkSize) {
            // Sequential reading: the kernel may read further ahead than its default.
            _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
            advisedUpTo = 0
            tryCachedReads = true
        }
        // Small files get a buffer their size; streams and large files get a full chunk.
        let initial = size >= 0 ? Int(min(Int64(chunkSize), size + 64)) : chunkSize
        buffer = [UInt8](repeating: 0, count: max(initial, 4096))
    }

    deinit {
        if let mapped = unsafe mapped, let base = mapped.baseAddress {
            unsafe munmap(UnsafeMutableRawPointer(mutating: base), mapped.count)
        }
        if ownsDescriptor { close(fd) }
    }

    /// Unread bytes available without reading more.
    var available: Int { end &- start }

    /// Calls `body` with the unread bytes.
    @inline(__always)
    func withWindow<R>(_ body: (Span<UInt8>) -> R) -> R {
        if let mapped = unsafe mapped {
            let all = unsafe mapped.bindMemory(to: UInt8.self)
            let span = unsafe Span(_unsafeElements: all)
            return body(span.extracting(start..<end))
        }
        let local = buffer
        return body(local.span.extracting(start..<end))
    }

    /// Marks `count` bytes as read.
    @inline(__always)
    func consume(_ count: Int) {
        start &+= count
        offset &+= Int64(count)
    }

    /// Reads until at least `count` unread bytes are available or the input ends.
    /// Returns whether `count` bytes are available.
    func fill(atLeast count: Int) throws(CaptureError) -> Bool {
        if available >= count { return true }
        if reachedEnd { return false }
        if start > 0 {
            // Move the unread tail (less than one record) to the front: once per chunk.
            let tail = end &- start
            for i in 0..<tail { buffer[i] = buffer[start &+ i] }
            start = 0
            end = tail
        }
        if count > buffer.count {
            buffer += [UInt8](repeating: 0, count: count &- buffer.count)
        }
        while available < count {
            let n = try readSome(buffer.count &- end)
            if n == 0 {
                reachedEnd = true
                return false
            }
            end &+= n
        }
        if missedPageCache || !tryCachedReads { adviseAhead() }
        return true
    }

    /// One read into the `room` bytes after `end`: the count read, 0 at the end of the input.
    /// Where it works, only cached bytes are asked for first (a file in memory needs no advice);
    /// when the file is not in memory, the kernel is told to read ahead and an ordinary read waits.
    private func readSome(_ room: Int) throws(CaptureError) -> Int {
        while true {
            if tryCachedReads {
                let n = unsafe buffer.withUnsafeMutableBytes { raw in
                    unsafe spanaudit_read_cached(fd, raw.baseAddress! + end, room)
                }
                if n >= 0 { return n }
                if n == -Int(EINTR) { continue }
                if n == -Int(EAGAIN) {
                    missedPageCache = true
                    adviseAhead()
                } else {
                    tryCachedReads = false
                }
            }
            let n: Int = unsafe buffer.withUnsafeMutableBytes { raw in
                unsafe read(fd, raw.baseAddress! + end, room)
            }
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw CaptureError(file: name, offset: offset &+ Int64(available), kind: .io,
                               "read failed: \(Self.errorText(errno))")
        }
    }

    /// Asks the kernel to start reading the next `readAheadBytes` of a large file while the
    /// packets already read are decoded. A capture that is not in the page cache (a customer's
    /// file copied in, last night's rotation on a busy disk) then arrives while it is being
    /// analysed instead of stalling each `read`: without the hint the kernel reads ahead only
    /// 128–256 KiB, less than one of our reads.
    private func adviseAhead() {
        // The file offset just past the bytes read so far.
        let readOffset = offset &+ Int64(available)
        guard advisedUpTo >= 0, readOffset &+ Self.readAheadBytes / 2 > advisedUpTo else { return }
        let from = max(advisedUpTo, readOffset)
        _ = posix_fadvise(fd, off_t(from), off_t(Self.readAheadBytes), POSIX_FADV_WILLNEED)
        advisedUpTo = from &+ Self.readAheadBytes
    }

    static let readAheadBytes: Int64 = 16 << 20

    static func errorText(_ code: Int32) -> String {
        guard let text = unsafe strerror(code) else { return "error \(code)" }
        return unsafe String(cString: text)
    }
}
