import Wire

/// DTLS records (RFC 6347 §4.1, RFC 9147 §4 with the DTLS 1.2-style header):
///
///     type(1) version(2) epoch(2) sequence_number(6) length(2) fragment
///
/// and handshake messages inside them (RFC 6347 §4.2.2):
///
///     msg_type(1) length(3) message_seq(2) fragment_offset(3) fragment_length(3) body
///
/// Contract: `records` walks a datagram's records and returns nil unless their lengths fill it
/// exactly with DTLS versions (0xFEFF, 0xFEFD, 0xFEFC) and content types 20–25. Never traps.
enum DTLSRecords {
    struct Record {
        var type: UInt8
        var version: UInt16
        var epoch: UInt16
        var body: Range<Int>
    }

    static func records(_ b: Span<UInt8>) -> [Record]? {
        var out: [Record] = []
        var at = 0
        while at < b.count {
            guard b.has(13, at: at) else { return nil }
            let type = b[at]
            let version = b.be16(at &+ 1)
            guard (20...25).contains(type), version == 0xFEFF || version == 0xFEFD || version == 0xFEFC else { return nil }
            let length = Int(b.be16(at &+ 11))
            guard b.has(length, at: at &+ 13) else { return nil }
            out.append(Record(type: type, version: version, epoch: b.be16(at &+ 3), body: (at &+ 13)..<(at &+ 13 &+ length)))
            at &+= 13 &+ length
            if out.count > 64 { return nil }
        }
        return out.isEmpty ? nil : out
    }

    static func probe(_ b: Span<UInt8>) -> ProbeVerdict {
        guard let records = records(b) else { return .noMatch }
        let first = records[0]
        if first.type == 22 && first.epoch == 0 {
            // Unencrypted handshake: ClientHello, ServerHello, HelloVerifyRequest, or a fragment of
            // a later message of the same flight.
            guard first.body.count >= 12 else { return .noMatch }
            let type = b[first.body.lowerBound]
            return [1, 2, 3, 11, 12, 14, 16].contains(type) ? .match : .noMatch
        }
        // The middle of a connection: records of a later epoch.
        return first.epoch > 0 ? .match : .noMatch
    }
}

/// Handshake messages of one direction put back together from their fragments.
struct DTLSHandshakeAssembler {
    struct Message {
        var type: UInt8
        var bytes: [UInt8]
        /// Byte ranges received so far, sorted and merged (fragments are often retransmitted).
        var covered = CoveredRanges()

        var isComplete: Bool { covered.prefix == 0..<bytes.count }
    }

    var messages: [UInt16: Message] = [:]
    var delivered: Set<UInt16> = []

    /// Adds the handshake fragments in one record body; returns complete messages (type, body).
    mutating func add(_ b: Span<UInt8>, _ range: Range<Int>) -> [(UInt8, [UInt8])] {
        var out: [(UInt8, [UInt8])] = []
        var at = range.lowerBound
        while at &+ 12 <= range.upperBound {
            let type = b[at]
            let length = Int(b[at &+ 1]) << 16 | Int(b[at &+ 2]) << 8 | Int(b[at &+ 3])
            let sequence = b.be16(at &+ 4)
            let offset = Int(b[at &+ 6]) << 16 | Int(b[at &+ 7]) << 8 | Int(b[at &+ 8])
            let fragment = Int(b[at &+ 9]) << 16 | Int(b[at &+ 10]) << 8 | Int(b[at &+ 11])
            let start = at &+ 12
            guard start &+ fragment <= range.upperBound, offset &+ fragment <= length, length <= 1 << 16 else { return out }
            at = start &+ fragment
            guard !delivered.contains(sequence) else { continue }
            var message = messages[sequence] ?? Message(type: type, bytes: [UInt8](repeating: 0, count: length))
            guard message.bytes.count == length, messages.count < 8 || messages[sequence] != nil else { continue }
            message.bytes.overwrite(at: offset, with: b, start..<(start &+ fragment))
            message.covered.cover(offset..<(offset &+ fragment))
            if message.isComplete || length == 0 {
                messages[sequence] = nil
                delivered.insert(sequence)
                out.append((type, message.bytes))
            } else {
                messages[sequence] = message
            }
        }
        return out
    }
}
