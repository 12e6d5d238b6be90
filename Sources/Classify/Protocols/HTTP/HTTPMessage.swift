import Wire

/// The start of an HTTP/1.x message (RFC 9112): the start line and the header fields before the
/// blank line. Shared by RTSP (RFC 7826) and SSDP, which use the same syntax.
///
/// Contract: `StartLine.parse` needs only the first line; `HTTPHead.parse` needs the whole header
/// block (`.needMore` until the blank line, within `limit` bytes). With `isFinal`, a cut header
/// block is read as far as it goes. A request's method must be a known one; a damaged version
/// (fuzzed captures, HTTP/0.9) is replaced by what the method implies. Header names are compared
/// case-insensitively (RFC 9110 §5.1). Works on bytes: only the target (at most 512 bytes), the
/// version and wanted header values become strings. Never traps.
enum StartLine: Equatable {
    /// `METHOD SP target SP VERSION`
    case request(method: String, target: String, version: String)
    /// `VERSION SP status SP reason`
    case response(version: String, status: Int)

    enum Parse: Equatable {
        case line(StartLine, end: Int)
        case needMore
        case invalid
    }

    /// Methods of HTTP (RFC 9110 §9, WebDAV RFC 4918, PATCH RFC 5789), RTSP (RFC 7826 §13) and
    /// SSDP (UPnP Device Architecture §1.3) — a request line must start with one of them.
    static let methods: [String] = [
        "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "TRACE", "PATCH",
        "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT", "SEARCH",
        "DESCRIBE", "ANNOUNCE", "GET_PARAMETER", "PAUSE", "PLAY", "PLAY_NOTIFY", "RECORD", "REDIRECT",
        "SETUP", "SET_PARAMETER", "TEARDOWN",
        "M-SEARCH", "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE",
    ]
    static let methodBytes: [[UInt8]] = methods.map { Array($0.utf8) }

    /// Methods only RTSP has (RFC 7826 §13): with them, a request is RTSP whatever its version says.
    static let rtspOnly: Set<String> = ["DESCRIBE", "ANNOUNCE", "GET_PARAMETER", "PAUSE", "PLAY", "PLAY_NOTIFY",
                                        "RECORD", "REDIRECT", "SETUP", "SET_PARAMETER", "TEARDOWN"]

    static let maximumTarget = 512

    /// What a start line is, found without making strings (probes and the packet path use this).
    enum Scan: Equatable {
        /// A request: the method's index in `methods`, whether it is RTSP, and where the line's
        /// parts are (target and version ranges may be empty) and where the next line starts.
        case request(method: Int, isRTSP: Bool, target: Range<Int>, version: Range<Int>, end: Int)
        case response(status: Int, isRTSP: Bool, version: Range<Int>, end: Int)
        case needMore
        case invalid
    }

    /// The start line at the beginning of `b`, without strings.
    static func scan(_ b: Span<UInt8>, isFinal: Bool = false, limit: Int = 8192) -> Scan {
        if b.count >= 5 && (b.matches("HTTP/") || b.matches("RTSP/")) { return scanResponse(b, isFinal: isFinal, limit: limit) }
        if b.count < 5 && !isFinal && (b.agrees(with: "HTTP/") || b.agrees(with: "RTSP/")) { return .needMore }
        // A method: upper-case letters, '_' and '-', then a space.
        var i = 0
        while i < b.count && i < 16 {
            let c = b[i]
            if c == 0x20 { break }
            guard (0x41...0x5A).contains(c) || c == 0x5F || c == 0x2D else { return .invalid }
            i &+= 1
        }
        guard i < b.count, i < 16 else { return isFinal || i >= 16 ? .invalid : .needMore }
        guard let known = methodBytes.firstIndex(where: { candidate in
            candidate.count == i && (0..<i).allSatisfy { b[$0] == candidate[$0] }
        }) else { return .invalid }
        let search = min(b.count, limit)
        let lineFeed = b.firstIndex(of: 0x0A, in: i..<search)
        if lineFeed == nil && !(isFinal || b.count >= limit) { return .needMore }
        var lineEnd = lineFeed ?? search
        if lineEnd > i && b[lineEnd &- 1] == 0x0D { lineEnd &-= 1 }
        // Target: after the method's space up to the next space; version: the last word.
        var targetStart = i &+ 1
        while targetStart < lineEnd && b[targetStart] == 0x20 { targetStart &+= 1 }
        var targetEnd = targetStart
        while targetEnd < lineEnd && b[targetEnd] != 0x20 { targetEnd &+= 1 }
        var versionStart = lineEnd
        while versionStart > targetEnd && b[versionStart &- 1] != 0x20 { versionStart &-= 1 }
        var version = versionStart..<lineEnd
        let isRTSP: Bool
        if versionStart < lineEnd && versionStart > targetEnd && b.matches("RTSP/", at: versionStart) {
            isRTSP = true
        } else if versionStart < lineEnd && versionStart > targetEnd && b.matches("HTTP/", at: versionStart) {
            isRTSP = false
        } else {
            // A damaged or missing version (HTTP/0.9, a fuzzed capture): the method decides.
            isRTSP = rtspOnlyIndices.contains(known)
            version = lineEnd..<lineEnd
        }
        return .request(method: known, isRTSP: isRTSP, target: targetStart..<min(targetEnd, targetStart &+ maximumTarget),
                        version: version, end: lineFeed.map { $0 &+ 1 } ?? search)
    }

    /// `HTTP/1.1 200 OK`
    private static func scanResponse(_ b: Span<UInt8>, isFinal: Bool, limit: Int) -> Scan {
        guard let lineFeed = b.firstIndex(of: 0x0A, in: 0..<min(b.count, limit)) else {
            return isFinal || b.count >= limit ? .invalid : .needMore
        }
        var versionEnd = 5
        while versionEnd < lineFeed && b[versionEnd] != 0x20 { versionEnd &+= 1 }
        // Status: three digits after the space.
        let s = versionEnd &+ 1
        guard b.has(3, at: s), s &+ 3 <= lineFeed else { return .invalid }
        var status = 0
        for k in 0..<3 {
            let c = b[s &+ k]
            guard (0x30...0x39).contains(c) else { return .invalid }
            status = status &* 10 &+ Int(c &- 0x30)
        }
        guard status >= 100, s &+ 3 == lineFeed || b[s &+ 3] == 0x20 || b[s &+ 3] == 0x0D else { return .invalid }
        return .response(status: status, isRTSP: b.matches("RTSP/"), version: 0..<min(versionEnd, 16), end: lineFeed &+ 1)
    }

    static let rtspOnlyIndices: Set<Int> = Set(methods.indices.filter { rtspOnly.contains(methods[$0]) })

    /// The start line at the beginning of `b`, with its parts as strings.
    static func parse(_ b: Span<UInt8>, isFinal: Bool = false, limit: Int = 8192) -> Parse {
        switch scan(b, isFinal: isFinal, limit: limit) {
        case let .request(method, isRTSP, target, version, end):
            let versionText = version.isEmpty ? (isRTSP ? "RTSP/?" : "HTTP/?") : b.text(version.lowerBound..<min(version.upperBound, version.lowerBound &+ 16))
            return .line(.request(method: methods[method], target: b.text(target), version: versionText), end: end)
        case let .response(status, _, version, end):
            return .line(.response(version: b.text(version), status: status), end: end)
        case .needMore:
            return .needMore
        case .invalid:
            return .invalid
        }
    }

    var version: String {
        switch self {
        case .request(_, _, let v): v
        case .response(let v, _): v
        }
    }

    var isRTSP: Bool { version.hasPrefix("RTSP/") }
}

/// A whole message head: start line and header fields.
struct HTTPHead {
    var start: StartLine
    var headers: HeaderBlock
    /// Bytes of the head, through the blank line.
    var length: Int

    enum Parse {
        case head(HTTPHead)
        case needMore
        case invalid
    }

    static func parse(_ b: Span<UInt8>, isFinal: Bool, limit: Int = 32 * 1024) -> Parse {
        let start: StartLine
        let lineEnd: Int
        switch StartLine.parse(b, isFinal: isFinal) {
        case .line(let line, let end):
            start = line
            lineEnd = end
        case .needMore:
            return .needMore
        case .invalid:
            return .invalid
        }
        guard let end = end(b, lineEnd: lineEnd, isFinal: isFinal, limit: limit) else { return .needMore }
        return .head(HTTPHead(start: start, headers: HeaderBlock(b, from: lineEnd, end: end), length: end))
    }

    /// Where the head whose start line ends at `lineEnd` ends: past the blank line, or (`isFinal`,
    /// or `limit` bytes without one) the bytes there are; nil when more bytes are needed.
    static func end(_ b: Span<UInt8>, lineEnd: Int, isFinal: Bool, limit: Int = 32 * 1024) -> Int? {
        if let end = b.endOfHeaders(from: max(0, lineEnd &- 1), limit: limit) { return end }
        return isFinal || b.count >= limit ? b.count : nil
    }

    /// The body length the head announces (Content-Length), or nil (none, or chunked).
    var contentLength: Int? {
        guard let text = headers.value("content-length"), let n = Int(text), n >= 0 else { return nil }
        return n
    }

    var isChunked: Bool { headers.value("transfer-encoding")?.lowercased().contains("chunked") ?? false }
}

/// What the packet path needs of a message head, found without making strings: where it ends,
/// what follows it (a body of known length, chunks), and the few headers that change how the rest
/// of the connection is read (RFC 9112 §6, RFC 9110 §7.8, RFC 6455 §4.1).
struct HeadScan {
    var line: StartLine.Scan
    /// Bytes of the head, through the blank line.
    var length: Int
    var contentLength: Int?
    var chunked = false
    var upgradeWebSocket = false

    enum Result {
        case head(HeadScan)
        case needMore
        case invalid
    }

    /// One pass over the head: the start line, then each field line until the blank line that
    /// ends the head (a bare LF ends lines too, RFC 9112 §2.2).
    static func scan(_ b: Span<UInt8>, isFinal: Bool, limit: Int = 32 * 1024) -> Result {
        let line = StartLine.scan(b, isFinal: isFinal)
        let lineEnd: Int
        switch line {
        case .request(_, _, _, _, let end), .response(_, _, _, let end): lineEnd = end
        case .needMore: return .needMore
        case .invalid: return .invalid
        }
        var head = HeadScan(line: line, length: 0)
        let end = min(b.count, limit)
        var start = lineEnd
        while true {
            guard start < end, let lineFeed = b.firstIndex(of: 0x0A, in: start..<end) else {
                // No blank line yet: wait for it, unless no more bytes will come or the head is
                // already too long to wait for (then what there is counts as the head).
                guard isFinal || b.count >= limit else { return .needMore }
                if start < end { head.field(b, start..<end) }
                head.length = b.count
                return .head(head)
            }
            var stop = lineFeed
            if stop > start && b[stop &- 1] == 0x0D { stop &-= 1 }
            if stop == start {
                head.length = lineFeed &+ 1
                return .head(head)
            }
            head.field(b, start..<stop)
            start = lineFeed &+ 1
        }
    }

    /// One `name: value` line: only the fields that frame the message or upgrade it.
    private mutating func field(_ b: Span<UInt8>, _ line: Range<Int>) {
        guard let colon = b.firstIndex(of: 0x3A, in: line) else { return }
        var value = colon &+ 1
        while value < line.upperBound && (b[value] == 0x20 || b[value] == 0x09) { value &+= 1 }
        let name = line.lowerBound..<colon
        // The three names differ in length: compare bytes only when the length fits.
        switch name.count {
        case 14 where b.matchesName("content-length", name):
            var n = 0, digits = 0
            var k = value
            while k < line.upperBound, (0x30...0x39).contains(b[k]), digits < 15 {
                n = n &* 10 &+ Int(b[k] &- 0x30)
                digits &+= 1
                k &+= 1
            }
            if digits > 0 { contentLength = n }
        case 17 where b.matchesName("transfer-encoding", name):
            chunked = b.containsIgnoringCase("chunked", value..<line.upperBound)
        case 7 where b.matchesName("upgrade", name):
            upgradeWebSocket = b.containsIgnoringCase("websocket", value..<line.upperBound)
        default:
            break
        }
    }
}

extension Span where Element == UInt8 {
    /// Whether `lower` occurs in `range`, ignoring ASCII case.
    func containsIgnoringCase(_ lower: StaticString, _ range: Range<Int>) -> Bool {
        let n = lower.utf8CodeUnitCount
        guard range.count >= n else { return false }
        var i = range.lowerBound
        while i &+ n <= range.upperBound {
            if matchesIgnoringCase(lower, at: i) { return true }
            i &+= 1
        }
        return false
    }
}
