import Crypto
import FoundationEssentials
import CryptoExtras
import Wire

/// QUIC versions this classifier knows, with what their Initial packets need: the salt and labels
/// that derive Initial keys from the client's Destination Connection ID (RFC 9001 §5.2, RFC 9369
/// §3.3 for v2) and the long-header packet type that marks an Initial.
public struct QUICVersion: Sendable, Equatable {
    public var number: UInt32

    public init(_ number: UInt32) { self.number = number }

    public var isV2: Bool { number == 0x6B33_43CF }
    var isDraft: Bool { number >> 8 == 0xFF_0000 }
    var draftNumber: Int { Int(number & 0xFF) }
    /// Google QUIC: `Q0xx` (its own crypto) or `T0xx` (TLS in QUIC).
    var isGoogle: Bool { number >> 24 == 0x51 || number >> 24 == 0x54 }
    var googleDigits: Int? {
        guard isGoogle else { return nil }
        let d = [(number >> 16) & 0xFF, (number >> 8) & 0xFF, number & 0xFF]
        guard d.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return Int(d[0] - 0x30) * 100 + Int(d[1] - 0x30) * 10 + Int(d[2] - 0x30)
    }

    /// Whether the version is one QUIC uses at all (v1, v2, IETF drafts, Facebook's mvfst, Google's,
    /// and the 0x?a?a?a?a versions that force version negotiation, RFC 9000 §15).
    public var isKnown: Bool {
        number == 1 || isV2 || isDraft || number & 0xFFFF_F000 == 0xFACE_B000 || googleDigits != nil
            || number & 0x0F0F_0F0F == 0x0A0A_0A0A
    }

    /// Whether Initial packets are protected with keys from the connection id (IETF QUIC and
    /// Google's Q050/T05x); older Google versions send their handshake in clear.
    var hasProtectedInitial: Bool {
        if let digits = googleDigits { return digits >= 50 }
        return number == 1 || isV2 || isDraft || number & 0xFFFF_F000 == 0xFACE_B000
    }

    /// The long-header type bits (byte 0, bits 4–5) of an Initial packet.
    var initialType: UInt8 { isV2 ? 1 : 0 }

    public var name: String {
        if number == 1 { return "1" }
        if isV2 { return "2" }
        if isDraft { return "draft-\(draftNumber)" }
        if isGoogle, googleDigits != nil {
            return String(decoding: [UInt8(number >> 24), UInt8((number >> 16) & 0xFF), UInt8((number >> 8) & 0xFF),
                                     UInt8(number & 0xFF)], as: UTF8.self)
        }
        return "0x" + hex4(UInt16(number >> 16)) + hex4(UInt16(number & 0xFFFF))
    }

    /// The salt of the version's Initial keys.
    var initialSalt: InitialSalt {
        if isV2 { return .v2 }
        if let digits = googleDigits {
            switch (number >> 24, digits) {
            case (0x51, 50): return .q050
            case (0x54, 50): return .t050
            default: return .t051
            }
        }
        if isDraft && draftNumber <= 22 { return .draft22 }
        if isDraft && draftNumber <= 28 { return .draft28 }
        if (isDraft && draftNumber <= 32) || number & 0x0F0F_0F0F == 0x0A0A_0A0A || number & 0xFFFF_F000 == 0xFACE_B000 {
            return .draft32
        }
        return .v1
    }
}

/// The Initial salts (RFC 9001 §5.2; RFC 9369 §3.3.1; the drafts' and Google's own), one per
/// family of versions that share it.
enum InitialSalt: Int, CaseIterable {
    /// v1, and drafts 33–34.
    case v1
    case v2
    case q050
    case t050
    case t051
    /// Drafts up to 22.
    case draft22
    /// Drafts 23–28.
    case draft28
    /// Drafts 29–32, mvfst, and the greasing versions.
    case draft32

    var bytes: [UInt8] {
        switch self {
        case .v1:
            [0x38, 0x76, 0x2C, 0xF7, 0xF5, 0x59, 0x34, 0xB3, 0x4D, 0x17, 0x9A, 0xE6, 0xA4, 0xC8, 0x0C, 0xAD,
             0xCC, 0xBB, 0x7F, 0x0A]
        case .v2:
            [0x0D, 0xED, 0xE3, 0xDE, 0xF7, 0x00, 0xA6, 0xDB, 0x81, 0x93, 0x81, 0xBE, 0x6E, 0x26, 0x9D, 0xCB,
             0xF9, 0xBD, 0x2E, 0xD9]
        case .q050:
            [0x50, 0x45, 0x74, 0xEF, 0xD0, 0x66, 0xFE, 0x2F, 0x9D, 0x94, 0x5C, 0xFC, 0xDB, 0xD3, 0xA7, 0xF0,
             0xD3, 0xB5, 0x6B, 0x45]
        case .t050:
            [0x7F, 0xF5, 0x79, 0xE5, 0xAC, 0xD0, 0x72, 0x91, 0x55, 0x80, 0x30, 0x4C, 0x43, 0xA2, 0x36, 0x7C,
             0x60, 0x48, 0x83, 0x10]
        case .t051:
            [0x7A, 0x4E, 0xDE, 0xF4, 0xE7, 0xCC, 0xEE, 0x5F, 0xA4, 0x50, 0x6C, 0x19, 0x12, 0x4F, 0xC8, 0xCC,
             0xDA, 0x6E, 0x03, 0x3D]
        case .draft22:
            [0x7F, 0xBC, 0xDB, 0x0E, 0x7C, 0x66, 0xBB, 0xE9, 0x19, 0x3A, 0x96, 0xCD, 0x21, 0x51, 0x9E, 0xBD,
             0x7A, 0x02, 0x64, 0x4A]
        case .draft28:
            [0xC3, 0xEE, 0xF7, 0x12, 0xC7, 0x2E, 0xBB, 0x5A, 0x11, 0xA7, 0xD2, 0x43, 0x2B, 0xB4, 0x63, 0x65,
             0xBE, 0xF9, 0xF5, 0x02]
        case .draft32:
            [0xAF, 0xBF, 0xEC, 0x28, 0x99, 0x93, 0xD2, 0x4C, 0x9E, 0x97, 0x86, 0xF1, 0x9C, 0x61, 0x11, 0xE0,
             0x43, 0x90, 0xA8, 0x99]
        }
    }
}

/// The Initial packet protection keys of one side (RFC 9001 §5.1–5.4).
struct QUICInitialKeys {
    var key: SymmetricKey
    var iv: [UInt8]
    var headerProtection: SymmetricKey
    /// The key bytes (tests compare them with RFC 9001's vectors).
    var keyBytes: [UInt8]
    var headerProtectionBytes: [UInt8]

    /// HMAC key schedules of every salt, made once: an extraction then costs two SHA-256 blocks
    /// instead of four.
    private static let saltSchedules = InitialSalt.allCases.map { HMACSHA256(key: $0.bytes) }

    /// The `HkdfLabel` structures (RFC 8446 §7.1) each derivation expands, built once: v2 renames
    /// the labels (RFC 9369 §3.3.2), the secrets' labels are the same for every version.
    private static let clientIn = HMACSHA256.labelInfo("client in", length: 32)
    private static let serverIn = HMACSHA256.labelInfo("server in", length: 32)
    private static let v1Labels = LabelInfos(prefix: "quic ")
    private static let v2Labels = LabelInfos(prefix: "quicv2 ")

    private struct LabelInfos {
        let key: [UInt8]
        let iv: [UInt8]
        let hp: [UInt8]

        init(prefix: String) {
            key = HMACSHA256.labelInfo(prefix + "key", length: 16)
            iv = HMACSHA256.labelInfo(prefix + "iv", length: 12)
            hp = HMACSHA256.labelInfo(prefix + "hp", length: 16)
        }
    }

    /// Keys for the client (`client in`) or server (`server in`) from the client's first
    /// Destination Connection ID.
    init(version: QUICVersion, connectionID: [UInt8], client: Bool) {
        // HKDF-Extract(salt, IKM) = HMAC(salt, IKM) (RFC 5869 §2.2).
        let initial = HMACSHA256(key: Self.saltSchedules[version.initialSalt.rawValue].authenticationCode(connectionID))
        let secret = HMACSHA256(key: initial.authenticationCode(client ? Self.clientIn : Self.serverIn))
        let labels = version.isV2 ? Self.v2Labels : Self.v1Labels
        keyBytes = secret.expand(labels.key)
        key = SymmetricKey(data: keyBytes)
        iv = secret.expand(labels.iv)
        headerProtectionBytes = secret.expand(labels.hp)
        headerProtection = SymmetricKey(data: headerProtectionBytes)
    }
}

/// HMAC-SHA-256 (RFC 2104) of one key, its padded key hashed once into the inner and outer
/// states and copied for each message. (swift-crypto's generic `HMAC` rebuilds the padded key in
/// secure memory for every key and took ~47 k instructions per label; QUIC derives four labels
/// per flow.)
struct HMACSHA256 {
    private var inner = SHA256()
    private var outer = SHA256()

    init(key: [UInt8]) {
        // Keys longer than a block are hashed first (RFC 2104 §2); QUIC's are 20 and 32 bytes.
        if key.count > 64 {
            unsafe SHA256.hash(data: key).withUnsafeBytes { unsafe absorb(key: $0) }
        } else {
            unsafe key.withUnsafeBytes { unsafe absorb(key: $0) }
        }
    }

    /// A key that is a digest (the extracted secrets): no copy into an array first.
    init(key: SHA256Digest) {
        unsafe key.withUnsafeBytes { unsafe absorb(key: $0) }
    }

    private mutating func absorb(key: UnsafeRawBufferPointer) {
        var pad: InlineArray<64, UInt8> = InlineArray(repeating: 0x36)
        for i in 0..<key.count { unsafe pad[i] ^= key[i] }
        unsafe pad.span.withUnsafeBytes { unsafe inner.update(bufferPointer: $0) }
        for i in 0..<64 { pad[i] ^= 0x36 ^ 0x5C }
        unsafe pad.span.withUnsafeBytes { unsafe outer.update(bufferPointer: $0) }
    }

    func authenticationCode(_ message: [UInt8]) -> SHA256Digest {
        var inside = inner
        unsafe message.withUnsafeBytes { unsafe inside.update(bufferPointer: $0) }
        var outside = outer
        unsafe inside.finalize().withUnsafeBytes { unsafe outside.update(bufferPointer: $0) }
        return outside.finalize()
    }

    /// `HKDF-Expand(secret, info, length)` for this key as the secret and an output of at most
    /// one SHA-256 block (32 bytes), which HKDF-Expand makes as `T(1) = HMAC(secret, info | 0x01)`
    /// (RFC 5869 §2.3). `info` comes from `labelInfo`: it starts with the output length and ends
    /// with the `0x01` counter.
    func expand(_ info: [UInt8]) -> [UInt8] {
        let length = Int(info[0]) << 8 | Int(info[1])
        return unsafe authenticationCode(info).withUnsafeBytes { unsafe Array($0.prefix(min(length, 32))) }
    }

    /// `HKDF-Expand-Label(secret, label, "", length)`'s info with the `tls13 ` prefix (RFC 8446
    /// §7.1), followed by the counter byte of the first (only) block.
    static func labelInfo(_ label: String, length: Int) -> [UInt8] {
        let full = Array(("tls13 " + label).utf8)
        var info: [UInt8] = [UInt8(length >> 8), UInt8(length & 0xFF), UInt8(full.count)]
        info += full
        info.append(0)  // empty context
        info.append(1)  // T(1)
        return info
    }
}

/// A QUIC long-header packet (RFC 9000 §17.2) and, for Initial packets, its decrypted payload.
///
///     Header Form (1) = 1, Fixed Bit (1), Long Packet Type (2), Type-Specific Bits (4),
///     Version (32), DCID Length (8), DCID (0..160), SCID Length (8), SCID (0..160),
///     [Initial: Token Length (i), Token] Length (i), Packet Number (8..32), Packet Payload
///
/// Contract: `parse` reads the header without keys (never traps; nil when the lengths do not
/// fit). `open` removes header protection and opens the AEAD (RFC 9001 §5.3, §5.4); it returns
/// false when authentication fails, so a payload it hands on is certainly the sender's.
struct QUICLongHeader {
    var firstByte: UInt8
    var version: QUICVersion
    var destinationID: [UInt8]
    var sourceID: [UInt8]
    /// Where the packet number starts, and where the packet ends, in the datagram.
    var packetNumberOffset: Int
    var end: Int
    var isInitial: Bool

    /// `lax`: the capture cut the datagram, so the packet may end past the bytes there are.
    static func parse(_ b: Span<UInt8>, at start: Int, lax: Bool = false) -> QUICLongHeader? {
        guard b.has(7, at: start), b[start] & 0x80 != 0 else { return nil }
        let version = QUICVersion(b.be32(start &+ 1))
        var at = start &+ 5
        let dcidLength = Int(b[at])
        guard dcidLength <= 20 || version.isGoogle, b.has(dcidLength &+ 1, at: at &+ 1) else { return nil }
        let dcid = b.array((at &+ 1)..<(at &+ 1 &+ dcidLength))
        at &+= 1 &+ dcidLength
        let scidLength = Int(b[at])
        guard scidLength <= 20 || version.isGoogle, b.has(scidLength, at: at &+ 1) else { return nil }
        let scid = b.array((at &+ 1)..<(at &+ 1 &+ scidLength))
        at &+= 1 &+ scidLength
        let type = (b[start] >> 4) & 0x3
        let isInitial = version.number != 0 && type == version.initialType
        if isInitial {
            guard let (tokenLength, n) = varint(b, at: at), tokenLength <= UInt64(b.count) else { return nil }
            at &+= n &+ Int(tokenLength)
        } else if type == 3 && !version.isV2 || type == 0 && version.isV2 {
            return nil  // Retry: no length field, nothing to read.
        }
        guard let (length, n) = varint(b, at: at), length <= 65_535 else { return nil }
        at &+= n
        guard lax || b.has(Int(length), at: at) else { return nil }
        return QUICLongHeader(firstByte: b[start], version: version, destinationID: dcid, sourceID: scid,
                              packetNumberOffset: at, end: at &+ Int(length), isInitial: isInitial)
    }

    /// A variable-length integer (RFC 9000 §16) and its size.
    static func varint(_ b: Span<UInt8>, at: Int) -> (UInt64, Int)? {
        guard b.has(1, at: at) else { return nil }
        let size = 1 << Int(b[at] >> 6)
        guard b.has(size, at: at) else { return nil }
        var value = UInt64(b[at] & 0x3F)
        for i in 1..<size { value = value << 8 | UInt64(b[at &+ i]) }
        return (value, size)
    }

    /// Removes header protection, opens the AEAD and hands `body` the packet's plaintext payload;
    /// false (and `body` not called) when the packet cannot be opened.
    ///
    /// swift-crypto takes the nonce, ciphertext and tag as one `Data` (`SealedBox(combined:)`); the
    /// packet's ciphertext and tag are contiguous, so they are put behind the nonce in one scratch
    /// buffer that becomes that `Data`, and the plaintext is read where `open` put it. (Ciphertext
    /// and tag copied into arrays, then into the box, then the plaintext into an array: about ten
    /// allocations and four copies of each packet, more than the AES itself. A `Data` made with
    /// room and filled in place cost more than the scratch buffer's extra copy.)
    func open(_ b: Span<UInt8>, start: Int, keys: QUICInitialKeys, _ body: (Span<UInt8>) -> Void) -> Bool {
        // Header protection sample: 16 bytes starting 4 bytes after the packet number's start.
        let sampleStart = packetNumberOffset &+ 4
        guard start >= 0, start < packetNumberOffset, b.has(16, at: sampleStart), sampleStart &+ 16 <= end,
              end <= b.count else { return false }
        var mask = b.array(sampleStart..<(sampleStart &+ 16))
        do { try AES.permute(&mask, key: keys.headerProtection) } catch { return false }
        let first = firstByte ^ (mask[0] & 0x0F)
        let numberLength = Int(first & 0x3) &+ 1
        let payloadStart = packetNumberOffset &+ numberLength
        guard end &- payloadStart > 16 else { return false }
        // The associated data is the header as sent, without protection (RFC 9001 §5.3).
        var header: [UInt8] = []
        header.reserveCapacity(payloadStart &- start)
        header.append(first)
        header.append(span: b.extracting((start &+ 1)..<packetNumberOffset))
        var packetNumber: UInt64 = 0
        for i in 0..<numberLength {
            let byte = b[packetNumberOffset &+ i] ^ mask[1 &+ i]
            header.append(byte)
            packetNumber = packetNumber << 8 | UInt64(byte)
        }
        let sealed = b.extracting(payloadStart..<end)
        let combined = unsafe withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 12 &+ sealed.count) { buffer in
            // The nonce is the IV with the packet number xored into its low bytes (RFC 9001 §5.3).
            for i in 0..<12 {
                let shift = 11 &- i
                unsafe buffer[i] = keys.iv[i] ^ (shift < 8 ? UInt8(truncatingIfNeeded: packetNumber >> UInt64(8 &* shift)) : 0)
            }
            unsafe sealed.withUnsafeBufferPointer { bytes in
                _ = unsafe UnsafeMutableBufferPointer(rebasing: buffer[12...]).initialize(fromContentsOf: bytes)
            }
            return unsafe Data(buffer: buffer)
        }
        let plaintext: Data
        do {
            plaintext = try AES.GCM.open(AES.GCM.SealedBox(combined: combined), using: keys.key, authenticating: header)
        } catch {
            return false
        }
        body(plaintext.span)
        return true
    }
}

/// Frames of a decrypted Initial packet (RFC 9000 §19): the CRYPTO data in it, by offset.
enum QUICFrames {
    /// The first offset at or after `start` that does not hold a zero byte (8 bytes per step: a
    /// frame at a time, the padding took a switch per byte).
    static func endOfZeros(_ b: Span<UInt8>, from start: Int) -> Int {
        var at = start
        unsafe b.withUnsafeBufferPointer { buffer in
            let raw = unsafe UnsafeRawBufferPointer(buffer)
            while at &+ 8 <= raw.count, unsafe raw.loadUnaligned(fromByteOffset: at, as: UInt64.self) == 0 { at &+= 8 }
        }
        while at < b.count && b[at] == 0 { at &+= 1 }
        return at
    }

    /// Hands `each` the offset and bytes of each CRYPTO frame in `b`; stops at the first frame type
    /// an Initial cannot carry. `google`: Google's T05x, whose CRYPTO frames have type 0x08 (an early
    /// draft's numbering).
    static func forEachCryptoFrame(_ b: Span<UInt8>, google: Bool = false, _ each: (UInt64, Span<UInt8>) -> Void) {
        var at = 0
        while at < b.count {
            let type = b[at]
            switch type {
            case 0x00:  // PADDING: one byte each, and they fill a client's Initial to 1,200 bytes
                at = endOfZeros(b, from: at &+ 1)
            case 0x01:  // PING
                at &+= 1
            case 0x02, 0x03:  // ACK
                at &+= 1
                var fields = 4
                guard let (_, n0) = QUICLongHeader.varint(b, at: at) else { return }
                at &+= n0
                guard let (_, n1) = QUICLongHeader.varint(b, at: at) else { return }
                at &+= n1
                guard let (ranges, n2) = QUICLongHeader.varint(b, at: at), ranges < 256 else { return }
                at &+= n2
                fields = 1 &+ 2 &* Int(ranges) &+ (type == 0x03 ? 3 : 0)
                for _ in 0..<fields {
                    guard let (_, n) = QUICLongHeader.varint(b, at: at) else { return }
                    at &+= n
                }
            case _ where type == 0x06 || (type == 0x08 && google):  // CRYPTO (0x08 in Google QUIC)
                at &+= 1
                guard let (offset, n0) = QUICLongHeader.varint(b, at: at) else { return }
                at &+= n0
                guard let (length, n1) = QUICLongHeader.varint(b, at: at), b.has(Int(min(length, 1 << 20)), at: at &+ n1) else {
                    return
                }
                at &+= n1
                each(offset, b.extracting(at..<(at &+ Int(length))))
                at &+= Int(length)
            default:
                return  // CONNECTION_CLOSE or anything else ends what an Initial tells.
            }
        }
    }
}

/// Google QUIC's handshake message in clear (`CHLO`, a tag-value map: tag count(2, LE), padding(2),
/// then (tag(4), end offset(4, LE)) pairs, then the values).
enum GoogleHandshake {
    /// SNI and UAID tags of a CHLO found in `b`.
    static func clientHello(_ b: Span<UInt8>) -> (serverName: String?, userAgent: String?)? {
        var start: Int?
        var from = 0
        // The CHLO comes right after the packet and frame headers: look in the first bytes only
        // (for each 'C', by memchr: most datagrams looked at are later packets without one).
        let lastStart = min(b.count, 512) &- 3
        while from < lastStart, let i = b.firstIndex(of: 0x43, in: from..<lastStart) {
            if b.matches("CHLO", at: i) { start = i; break }
            from = i &+ 1
        }
        guard let at = start, b.has(8, at: at) else { return nil }
        let count = Int(b.le16(at &+ 4))
        let valuesStart = at &+ 8 &+ count &* 8
        guard count <= 64, b.has(count &* 8, at: at &+ 8) else { return nil }
        var previous = 0
        var serverName: String?, userAgent: String?
        for k in 0..<count {
            let entry = at &+ 8 &+ k &* 8
            let end = Int(b.le32(entry &+ 4))
            guard end >= previous, valuesStart &+ end <= b.count else { break }
            let range = (valuesStart &+ previous)..<(valuesStart &+ end)
            if b.matches("SNI\u{0}", at: entry) { serverName = b.text(range) }
            if b.matches("UAID", at: entry) { userAgent = b.text(range) }
            previous = end
        }
        return (serverName, userAgent)
    }
}
