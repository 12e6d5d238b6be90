// The one place where bytes become integers. Every read is bounds-checked by `Span` or `RawSpan`: a
// decoder that forgot a length check traps in a test instead of reading past the packet. Decoders
// check lengths first and only then read, so in practice these checks never fire.

extension Span where Element == UInt8 {
    /// The `T` whose bytes are at `offset`, in memory order: one range check for all of them and
    /// one load. (Assembled byte by byte, with a check per byte, the capture's record headers and
    /// the IP and TCP headers took 3% more of the instructions of `audit flows` on mix.pcap.)
    @inlinable @inline(__always)
    package func load<T: FixedWidthInteger & BitwiseCopyable>(_ offset: Int) -> T {
        unsafe bytes.unsafeLoadUnaligned(fromByteOffset: offset, as: T.self)
    }

    /// Big-endian (network order) `UInt16` at `offset`.
    @inlinable @inline(__always)
    package func be16(_ offset: Int) -> UInt16 {
        UInt16(bigEndian: load(offset))
    }

    /// Big-endian `UInt32` at `offset`.
    @inlinable @inline(__always)
    package func be32(_ offset: Int) -> UInt32 {
        UInt32(bigEndian: load(offset))
    }

    /// Big-endian `UInt64` at `offset`.
    @inlinable @inline(__always)
    package func be64(_ offset: Int) -> UInt64 {
        UInt64(bigEndian: load(offset))
    }

    /// Little-endian `UInt16` at `offset`.
    @inlinable @inline(__always)
    package func le16(_ offset: Int) -> UInt16 {
        UInt16(littleEndian: load(offset))
    }

    /// Little-endian `UInt32` at `offset`.
    @inlinable @inline(__always)
    package func le32(_ offset: Int) -> UInt32 {
        UInt32(littleEndian: load(offset))
    }

    /// `UInt16` at `offset` in the given byte order.
    @inlinable @inline(__always)
    package func u16(_ offset: Int, bigEndian: Bool) -> UInt16 {
        bigEndian ? be16(offset) : le16(offset)
    }

    /// `UInt32` at `offset` in the given byte order.
    @inlinable @inline(__always)
    package func u32(_ offset: Int, bigEndian: Bool) -> UInt32 {
        bigEndian ? be32(offset) : le32(offset)
    }

    /// The 48-bit MAC address at `offset`, in the low bits of a `UInt64`.
    @inlinable @inline(__always)
    package func mac(_ offset: Int) -> UInt64 {
        UInt64(be16(offset)) &<< 32 | UInt64(be32(offset &+ 2))
    }

    /// Whether `count` bytes starting at `offset` are inside the span (no overflow, no negative offsets).
    @inlinable @inline(__always)
    package func has(_ count: Int, at offset: Int) -> Bool {
        offset >= 0 && count >= 0 && offset <= self.count && count <= self.count &- offset
    }
}

// Bytes kept beyond the packet (a stream's first bytes, a reassembled datagram) are copied out of
// the capture's buffer in one move: copied element by element through spans, a bounds check per
// byte, the payloads kept for the finish cost 1.5% of the reading thread.
extension Array where Element == UInt8 {
    /// A copy of the bytes of `span`.
    @inlinable
    package init(span: Span<UInt8>) {
        self = unsafe span.withUnsafeBufferPointer { unsafe Array($0) }
    }

    /// Appends the bytes of `span`.
    @inlinable
    package mutating func append(span: Span<UInt8>) {
        unsafe span.withUnsafeBufferPointer { unsafe append(contentsOf: $0) }
    }

    /// Overwrites `self[at ..< at + range.count]` with `source[range]`; both ranges must be in bounds.
    @inlinable
    package mutating func overwrite(at at: Int, with source: Span<UInt8>, _ range: Range<Int>) {
        precondition(at >= 0 && at &+ range.count <= count)
        let part = source.extracting(range)
        unsafe withUnsafeMutableBufferPointer { target in
            unsafe part.withUnsafeBufferPointer { bytes in
                guard let from = bytes.baseAddress, let to = target.baseAddress else { return }
                unsafe (to + at).update(from: from, count: bytes.count)
            }
        }
    }
}
