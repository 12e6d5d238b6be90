public import Wire

/// One captured packet's metadata, as a capture file or a live capture gives it. The packet's bytes
/// travel beside it as a `Span<UInt8>` view of the reader's buffer, never copied.
public struct PacketRecord: Sendable {
    /// Nanoseconds since the Unix epoch, with the file's resolution and offset applied.
    public var timestamp: Int64
    /// Bytes present in the capture (≤ `originalLength` unless the file is inconsistent).
    public var capturedLength: Int
    /// The frame's length on the wire.
    public var originalLength: Int
    public var linkType: LinkType
    /// The pcapng interface (numbered across sections), 0 for classic pcap.
    public var interface: Int
    /// Which input of the run this packet came from (the order the user gave).
    public var input: Int
    /// 1-based packet number within its file, as Wireshark numbers frames.
    public var number: Int
    /// Where the packet's record starts in its file.
    public var fileOffset: Int64

    public init(timestamp: Int64, capturedLength: Int, originalLength: Int, linkType: LinkType,
                interface: Int = 0, input: Int = 0, number: Int = 0, fileOffset: Int64 = 0) {
        self.timestamp = timestamp
        self.capturedLength = capturedLength
        self.originalLength = originalLength
        self.linkType = linkType
        self.interface = interface
        self.input = input
        self.number = number
        self.fileOffset = fileOffset
    }
}
