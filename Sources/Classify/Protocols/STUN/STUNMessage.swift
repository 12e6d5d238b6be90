import Wire

/// A STUN message (RFC 8489 §5; classic RFC 3489 §11.1 without the magic cookie).
///
///      0                   1                   2                   3
///     |0 0|     STUN Message Type     |         Message Length        |
///     |                         Magic Cookie                          |
///     |                     Transaction ID (96 bits)                  |
///     attributes: Type(2) Length(2) Value, padded to 4 bytes
///
/// Contract: the message length is a multiple of 4, fits the bytes, and the attributes fill it
/// exactly; without the magic cookie (RFC 3489) only the Binding and Shared Secret message types
/// are accepted, since nothing else marks the bytes as STUN. `length` is the whole message (20 +
/// the header's length), so several can be read back to back (TCP). Never traps.
public struct STUNMessage: Sendable, Equatable {
    public static let magicCookie: UInt32 = 0x2112_A442

    public var type: UInt16
    public var hasMagicCookie: Bool
    public var length: Int
    public var mappedAddress: String?
    public var software: String?
    public var realm: String?
    public var errorCode: Int?

    public init?(parsing b: Span<UInt8>) {
        guard b.count >= 20, b[0] & 0xC0 == 0 else { return nil }
        type = b.be16(0)
        let bodyLength = Int(b.be16(2))
        guard bodyLength % 4 == 0, b.count >= 20 &+ bodyLength else { return nil }
        hasMagicCookie = b.be32(4) == Self.magicCookie
        if !hasMagicCookie {
            // RFC 3489: Binding Request/Response/Error, Shared Secret Request/Response/Error.
            guard [0x0001, 0x0101, 0x0111, 0x0002, 0x0102, 0x0112].contains(type) else { return nil }
        }
        length = 20 &+ bodyLength
        var at = 20
        while at < length {
            guard at &+ 4 <= length else { return nil }
            let attribute = b.be16(at)
            let n = Int(b.be16(at &+ 2))
            let value = at &+ 4
            guard value &+ n <= length else { return nil }
            read(attribute, b, value..<(value &+ n))
            at = value &+ ((n &+ 3) & ~3)
        }
        guard at == length else { return nil }
    }

    private mutating func read(_ attribute: UInt16, _ b: Span<UInt8>, _ r: Range<Int>) {
        switch attribute {
        case 0x0020, 0x8020:
            if mappedAddress == nil || !hasMagicCookie { mappedAddress = Self.address(b, r, xor: true) }
        case 0x0001:
            if mappedAddress == nil { mappedAddress = Self.address(b, r, xor: false) }
        case 0x8022:
            software = b.text(r)
        case 0x0014:
            realm = b.text(r)
        case 0x0009 where r.count >= 4:
            errorCode = Int(b[r.lowerBound &+ 2] & 0x7) * 100 &+ Int(b[r.lowerBound &+ 3])
        default:
            break
        }
    }

    /// `address:port` of a (XOR-)MAPPED-ADDRESS (RFC 8489 §14.1, §14.2).
    static func address(_ b: Span<UInt8>, _ r: Range<Int>, xor: Bool) -> String? {
        guard r.count >= 8 else { return nil }
        let family = b[r.lowerBound &+ 1]
        var port = b.be16(r.lowerBound &+ 2)
        if xor { port ^= 0x2112 }
        let start = r.lowerBound &+ 4
        if family == 1 {
            var bits = b.be32(start)
            if xor { bits ^= magicCookie }
            return "\(IPAddress(ipv4: bits)):\(port)"
        }
        guard family == 2, r.count >= 20 else { return nil }
        var high = b.be64(start), low = b.be64(start &+ 8)
        if xor {
            // XOR with the magic cookie and the transaction id (bytes 4..<20 of the message).
            high ^= b.be64(4)
            low ^= b.be64(12)
        }
        return "[\(IPAddress(high: high, low: low))]:\(port)"
    }

    /// `binding_request`, `allocate_success`, ... (method and class, RFC 8489 §5, RFC 8656 §17).
    public var name: String {
        let messageClass = (type >> 7) & 0x2 | (type >> 4) & 0x1
        let method = type & 0xF | (type >> 1) & 0x70 | (type >> 2) & 0xF80
        let methodName: String
        switch method {
        case 0x001: methodName = "binding"
        case 0x002: methodName = "shared_secret"
        case 0x003: methodName = "allocate"
        case 0x004: methodName = "refresh"
        case 0x006: methodName = "send"
        case 0x007: methodName = "data"
        case 0x008: methodName = "create_permission"
        case 0x009: methodName = "channel_bind"
        default: methodName = "method_0x" + hex4(method)
        }
        let className = ["request", "indication", "success", "error"][Int(messageClass)]
        return methodName + "_" + className
    }
}
