#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bytes collected in memory and written to a file descriptor in large writes: one record per flow
/// would otherwise be one system call per flow.
public final class OutputBuffer {
    private var bytes: [UInt8] = []
    private let fd: Int32
    private let flushThreshold: Int
    /// Set when a write failed (a closed pipe: `audit flows x.pcap | head`); later output is dropped.
    public private(set) var failed = false

    public init(fileDescriptor: Int32 = 1, flushThreshold: Int = 1 << 16) {
        self.fd = fileDescriptor
        self.flushThreshold = flushThreshold
        bytes.reserveCapacity(flushThreshold + 4096)
    }

    /// Collects output in memory only (tests, goldens).
    public static func memory() -> OutputBuffer { OutputBuffer(fileDescriptor: -1, flushThreshold: .max) }

    public func write(_ text: String) {
        bytes.append(contentsOf: text.utf8)
        if bytes.count >= flushThreshold { flush() }
    }

    public func write(_ raw: [UInt8]) {
        bytes.append(contentsOf: raw)
        if bytes.count >= flushThreshold { flush() }
    }

    /// What has been collected and not flushed (all of it, for a memory buffer).
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public func flush() {
        guard fd >= 0, !bytes.isEmpty else { return }
        if failed {
            bytes.removeAll(keepingCapacity: true)
            return
        }
        var written = 0
        while written < bytes.count {
            let n = unsafe bytes.withUnsafeBytes { raw in
                unsafe Glibc.write(fd, raw.baseAddress! + written, raw.count - written)
            }
            if n < 0 {
                if errno == EINTR { continue }
                failed = true
                break
            }
            written += n
        }
        bytes.removeAll(keepingCapacity: true)
    }

    deinit { flush() }
}
