/// Why a capture could not be read (further): the file, the byte offset, and what was expected.
/// `description` is the one-line message users see, e.g.
/// `store.pcap: byte 1048576: packet record claims 300000 bytes, more than the 262144-byte maximum`.
public struct CaptureError: Error, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var offset: Int64
    public var kind: Kind
    public var message: String

    public init(file: String, offset: Int64, kind: Kind, _ message: String) {
        self.file = file
        self.offset = offset
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(file): byte \(offset): \(message)" }

    public enum Kind: String, Sendable, Hashable {
        /// The file could not be opened or read (permissions, missing, I/O error).
        case io
        /// Not a pcap or pcapng file.
        case badMagic
        /// A header field that cannot be right (version, lengths, interface ids).
        case malformed
        /// The file ends inside a header or a packet (tcpdump killed mid-write).
        case truncated
        /// A record or block larger than any real packet.
        case oversized
    }
}
