#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bytes collected in memory and written to a file descriptor in large writes: one record per flow
/// would otherwise be one system call per flow.
public final class OutputBuffer {
    private var writer: ByteWriter
    private let fd: Int32
    private let flushThreshold: Int
    /// Set when a write failed (a closed pipe: `audit flows x.pcap | head`); later output is dropped.
    public private(set) var failed = false

    public init(fileDescriptor: Int32 = 1, flushThreshold: Int = 1 << 16) {
        self.fd = fileDescriptor
        self.flushThreshold = flushThreshold
        self.writer = ByteWriter(capacity: min(flushThreshold, 1 << 20) + 8192)
    }

    /// Collects output in memory only (tests, goldens).
    public static func memory() -> OutputBuffer { OutputBuffer(fileDescriptor: -1, flushThreshold: .max) }

    public func write(_ text: String) {
        let length = text.utf8.count
        writer.write(reserving: length) { o, at in o.putText(text, &at) }
        if writer.count >= flushThreshold { flush() }
    }

    /// Lets `body` render straight into the buffer.
    public func withWriter(_ body: (inout ByteWriter) -> Void) {
        body(&writer)
        if writer.count >= flushThreshold { flush() }
    }

    /// What has been collected and not flushed (all of it, for a memory buffer).
    public var text: String { String(decoding: writer.written, as: UTF8.self) }

    public func flush() {
        guard fd >= 0, writer.count > 0 else { return }
        if failed {
            writer.removeAll()
            return
        }
        var written = 0
        let total = writer.count
        while written < total {
            let n = unsafe writer.storage.withUnsafeBytes { raw in
                unsafe Glibc.write(fd, raw.baseAddress! + written, total - written)
            }
            if n < 0 {
                if errno == EINTR { continue }
                failed = true
                break
            }
            written += n
        }
        writer.removeAll()
    }

    deinit { flush() }
}
