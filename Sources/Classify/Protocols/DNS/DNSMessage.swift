public import Wire

/// A DNS message (RFC 1035 §4.1), as DNS, mDNS (RFC 6762) and LLMNR carry it.
///
///     header: ID(2) flags(2: QR opcode(4) AA TC RD RA Z AD CD rcode(4)) QDCOUNT ANCOUNT NSCOUNT ARCOUNT
///     question: QNAME QTYPE(2) QCLASS(2)
///     resource record: NAME TYPE(2) CLASS(2) TTL(4) RDLENGTH(2) RDATA
///
/// Contract: strict by default — every declared question and record must be present and well
/// formed (names of labels ≤ 63 bytes, ≤ 255 bytes in all, compression pointers that point back
/// and do not loop), and nothing may follow them. `lax` (a datagram the capture cut short) keeps
/// every question and record read before the cut. Nil when the header is not there or (strict)
/// anything is wrong. Never traps, never loops.
public struct DNSMessage: Sendable, Equatable {
    public struct Question: Sendable, Equatable {
        public var name: String
        public var type: UInt16
    }

    /// A resource record, by where its parts are in the message: names and data are decoded on
    /// demand (`name(in:)`, `address(in:)`, `target(in:)`), since most records are never looked at.
    public struct Record: Sendable, Equatable {
        public var nameOffset: Int
        public var type: UInt16
        public var ttl: UInt32
        public var data: Range<Int>

        public func name(in b: Span<UInt8>, preservingCase: Bool = false) -> String {
            DNSMessage.name(b, at: nameOffset, preservingCase: preservingCase)?.0 ?? ""
        }

        /// The address of an A or AAAA record.
        public func address(in b: Span<UInt8>) -> IPAddress? {
            if type == 1 && data.count == 4 { return IPAddress(ipv4: b.be32(data.lowerBound)) }
            if type == 28 && data.count == 16 {
                return IPAddress(high: b.be64(data.lowerBound), low: b.be64(data.lowerBound &+ 8))
            }
            return nil
        }

        /// The name a CNAME, PTR, NS or DNAME record points to; an SRV record's target.
        public func target(in b: Span<UInt8>, preservingCase: Bool = false) -> String? {
            switch type {
            case 5, 12, 2, 39: return DNSMessage.name(b, at: data.lowerBound, preservingCase: preservingCase)?.0
            case 33 where data.count >= 7: return DNSMessage.name(b, at: data.lowerBound &+ 6, preservingCase: preservingCase)?.0
            default: return nil
            }
        }

        /// The strings of a TXT record.
        public func texts(in b: Span<UInt8>) -> [String] {
            guard type == 16 else { return [] }
            var strings: [String] = []
            var i = data.lowerBound
            while i < data.upperBound, strings.count < 16 {
                let n = Int(b[i])
                let end = min(i &+ 1 &+ n, data.upperBound)
                strings.append(b.text((i &+ 1)..<end))
                i &+= 1 &+ n
            }
            return strings
        }
    }

    public var id: UInt16
    public var isResponse: Bool
    public var opcode: UInt8
    public var rcode: UInt8
    public var truncated: Bool
    /// The first question, and the others (nearly every message asks one: the others' list stays
    /// empty, without an allocation).
    public var firstQuestion: Question?
    public var otherQuestions: [Question] = []
    public var authorities = 0
    /// How many questions and records were read.
    public var questionCount = 0
    public var answerCount = 0
    public var additionalCount = 0
    /// Where the answer and additional sections start. Records are not kept in lists: they are
    /// walked again over the message's bytes (`forEachAnswer`, `forEachAdditional`) — two arrays
    /// per message were most of the DNS work on the reading thread (allocation, then the
    /// release of each list when the message was dropped).
    public var answersStart = 12
    public var additionalsStart = 12
    /// Bytes the message took.
    public var length = 0
    public var isComplete = false

    static let maximumRecords = 512

    /// `decodeNames: false` checks the message without making strings of names or keeping the
    /// questions and records (probes: only the counts are set).
    public init?(parsing b: Span<UInt8>, lax: Bool = false, decodeNames: Bool = true) {
        guard b.count >= 12 else { return nil }
        id = b.be16(0)
        let flags = b.be16(2)
        isResponse = flags & 0x8000 != 0
        opcode = UInt8((flags >> 11) & 0xF)
        truncated = flags & 0x0200 != 0
        rcode = UInt8(flags & 0xF)
        let qd = Int(b.be16(4)), an = Int(b.be16(6)), ns = Int(b.be16(8)), ar = Int(b.be16(10))
        guard opcode <= 6, opcode != 3 else { return nil }
        guard qd &+ an &+ ns &+ ar <= Self.maximumRecords else { return nil }
        // The sections are read by a mutating method on the value built so far: with its several
        // exits in this failable initializer, the whole message was copied once per parse.
        guard readSections(b, counts: (qd, an, ns, ar), lax: lax, decodeNames: decodeNames) else { return nil }
    }

    private mutating func readSections(_ b: Span<UInt8>, counts: (Int, Int, Int, Int), lax: Bool,
                                       decodeNames: Bool) -> Bool {
        let (qd, an, ns, ar) = counts
        var at = 12
        for _ in 0..<qd {
            var question: Question?
            var end: Int?
            if decodeNames {
                if let (decoded, next) = Self.name(b, at: at) { question = Question(name: decoded, type: 0); end = next }
            } else if let next = Self.skipName(b, at: at) {
                end = next
            }
            guard let next = end, b.has(4, at: next) else {
                if lax { length = at; return true }
                return false
            }
            if var question {
                question.type = b.be16(next)
                if firstQuestion == nil { firstQuestion = question } else { otherQuestions.append(question) }
            }
            questionCount &+= 1
            at = next &+ 4
        }
        answersStart = at
        for section in 0..<3 {
            let n = section == 0 ? an : section == 1 ? ns : ar
            if section == 2 { additionalsStart = at }
            for _ in 0..<n {
                guard let (_, next) = Self.record(b, at: at) else {
                    if lax { length = at; return true }
                    return false
                }
                switch section {
                case 0: answerCount &+= 1
                case 1: authorities &+= 1
                default: additionalCount &+= 1
                }
                at = next
            }
        }
        length = at
        isComplete = true
        return lax || at == b.count
    }

    /// The resource record at `offset` and where the next one starts, or nil when it does not fit.
    @inline(__always)
    static func record(_ b: Span<UInt8>, at offset: Int) -> (Record, Int)? {
        guard let next = skipName(b, at: offset), b.has(10, at: next) else { return nil }
        let dataLength = Int(b.be16(next &+ 8))
        let dataStart = next &+ 10
        guard b.has(dataLength, at: dataStart) else { return nil }
        return (Record(nameOffset: offset, type: b.be16(next), ttl: b.be32(next &+ 4),
                       data: dataStart..<(dataStart &+ dataLength)), dataStart &+ dataLength)
    }

    /// Calls `body` with each question read, in order.
    public func forEachQuestion(_ body: (Question) -> Void) {
        if let firstQuestion { body(firstQuestion) }
        for question in otherQuestions { body(question) }
    }

    /// All questions read, in order (an allocation: the hot paths use `forEachQuestion`).
    public var questions: [Question] {
        var out: [Question] = []
        forEachQuestion { out.append($0) }
        return out
    }

    /// Calls `body` with each answer read, in order; `b` is the message the parse read.
    public func forEachAnswer(in b: Span<UInt8>, _ body: (Record) -> Void) {
        Self.forEachRecord(b, from: answersStart, count: answerCount, body)
    }

    /// Calls `body` with each additional record read, in order, at most 64 (mDNS announcements
    /// list a host's records there).
    public func forEachAdditional(in b: Span<UInt8>, _ body: (Record) -> Void) {
        Self.forEachRecord(b, from: additionalsStart, count: min(additionalCount, 64), body)
    }

    /// The answers as a list (tests; the hot paths walk them with `forEachAnswer`).
    public func answers(in b: Span<UInt8>) -> [Record] {
        var out: [Record] = []
        forEachAnswer(in: b) { out.append($0) }
        return out
    }

    private static func forEachRecord(_ b: Span<UInt8>, from start: Int, count: Int, _ body: (Record) -> Void) {
        var at = start
        for _ in 0..<count {
            // The parse read these records from the same bytes: they are there.
            guard let (record, next) = record(b, at: at) else { return }
            body(record)
            at = next
        }
    }

    /// The offset after the name at `offset`, checking it as `name` does but building nothing.
    static func skipName(_ b: Span<UInt8>, at offset: Int) -> Int? {
        var at = offset
        var total = 0
        while true {
            guard b.has(1, at: at) else { return nil }
            let length = Int(b[at])
            switch length & 0xC0 {
            case 0x00:
                if length == 0 { return at &+ 1 }
                total &+= length &+ 1
                guard total < 255, b.has(1 &+ length, at: at) else { return nil }
                at &+= 1 &+ length
            case 0xC0:
                // The rest of the name is elsewhere (checked when the name is read).
                guard b.has(2, at: at), Int(b.be16(at) & 0x3FFF) < at else { return nil }
                return at &+ 2
            default:
                return nil
            }
        }
    }

    /// A domain name at `offset` (RFC 1035 §4.1.4 compression), without the final dot (`"."` for
    /// the root), lower case unless `preservingCase` (DNS-SD instance names are for people, RFC 6763
    /// §4.1.1), and the offset after it in the message.
    ///
    /// Bytes that are not printable ASCII are written `\xNN`, as Zeek writes them: labels are
    /// binary (RFC 2181 §11), and a report should show what was there rather than U+FFFD. Only
    /// `preservingCase` names keep UTF-8 (DNS-SD instance names are UTF-8), when it is valid.
    static func name(_ b: Span<UInt8>, at offset: Int, preservingCase: Bool = false) -> (String, Int)? {
        if preservingCase, let found = name(b, at: offset, preservingCase: true, escapingNonASCII: false) { return found }
        return name(b, at: offset, preservingCase: preservingCase, escapingNonASCII: true)
    }

    private static func name(_ b: Span<UInt8>, at offset: Int, preservingCase: Bool,
                             escapingNonASCII: Bool) -> (String, Int)? {
        // Written through pointers into an uninitialized buffer: indexed through the span and an
        // `InlineArray` (zeroed first, 1 KiB), a name cost ~1,400 instructions, most of them
        // bounds checks, for the ~25 bytes of a usual name. Every read below is checked against
        // the message's length first, and every write stays within the 1,024 bytes (255 bytes of
        // name, each at most 4 when escaped).
        unsafe b.withUnsafeBufferPointer { message in
            unsafe withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1024) { text in
                unsafe decodeName(message, at: offset, into: text, preservingCase: preservingCase,
                                  escapingNonASCII: escapingNonASCII)
            }
        }
    }

    private static func decodeName(_ message: UnsafeBufferPointer<UInt8>, at offset: Int,
                                   into text: UnsafeMutableBufferPointer<UInt8>, preservingCase: Bool,
                                   escapingNonASCII: Bool) -> (String, Int)? {
        let size = message.count
        var count = 0
        var length255 = 0
        var at = offset
        var after: Int?
        var jumps = 0
        while true {
            guard at >= 0, at < size else { return nil }
            let length = Int(unsafe message[at])
            switch length & 0xC0 {
            case 0x00:
                if length == 0 {
                    guard count > 0 else { return (".", after ?? at &+ 1) }
                    let bytes = unsafe UnsafeBufferPointer(rebasing: text[0..<count])
                    // Escaped text is ASCII; otherwise only valid UTF-8 is kept (else: escape).
                    if escapingNonASCII { return (unsafe String(decoding: bytes, as: UTF8.self), after ?? at &+ 1) }
                    guard let valid = unsafe try? UTF8Span(validating: bytes.span) else { return nil }
                    return (String(copying: valid), after ?? at &+ 1)
                }
                length255 &+= length &+ 1
                // 255 octets with the root (RFC 1035 §3.1).
                guard length <= size &- at &- 1, length255 < 255 else { return nil }
                if count > 0 {
                    unsafe text[count] = UInt8(ascii: ".")
                    count &+= 1
                }
                for i in (at &+ 1)...(at &+ length) {
                    let byte = unsafe message[i]
                    if byte &- 0x20 < 0x5F || (byte >= 0x80 && !escapingNonASCII) {
                        unsafe text[count] = preservingCase ? byte : Span<UInt8>.lower(byte)
                        count &+= 1
                    } else {
                        unsafe text[count] = 0x5C
                        unsafe text[count &+ 1] = 0x78
                        unsafe text[count &+ 2] = hexDigit(byte >> 4)
                        unsafe text[count &+ 3] = hexDigit(byte & 0xF)
                        count &+= 4
                    }
                }
                at &+= 1 &+ length
            case 0xC0:
                guard at &+ 1 < size else { return nil }
                let target = (Int(unsafe message[at]) & 0x3F) << 8 | Int(unsafe message[at &+ 1])
                // Pointers point back (RFC 1035 §4.1.4: "a prior occurrence"); a bound on jumps
                // stops loops whatever they point at.
                guard target < at, jumps < 64 else { return nil }
                if after == nil { after = at &+ 2 }
                jumps &+= 1
                at = target
            default:
                return nil  // 0x40 and 0x80 label types are obsolete / reserved (RFC 6891 §5).
            }
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 &+ nibble : 0x57 &+ nibble }

    /// Type mnemonics for reports.
    public static func typeName(_ type: UInt16) -> String {
        switch type {
        case 1: "A"
        case 2: "NS"
        case 5: "CNAME"
        case 6: "SOA"
        case 12: "PTR"
        case 15: "MX"
        case 16: "TXT"
        case 28: "AAAA"
        case 33: "SRV"
        case 41: "OPT"
        case 47: "NSEC"
        case 64: "SVCB"
        case 65: "HTTPS"
        case 255: "ANY"
        default: "TYPE\(type)"
        }
    }

    public static func rcodeName(_ rcode: UInt8) -> String {
        switch rcode {
        case 0: "NOERROR"
        case 1: "FORMERR"
        case 2: "SERVFAIL"
        case 3: "NXDOMAIN"
        case 4: "NOTIMP"
        case 5: "REFUSED"
        default: "RCODE\(rcode)"
        }
    }
}
