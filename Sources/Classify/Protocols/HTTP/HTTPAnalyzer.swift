public import Flows
import Wire

/// What an HTTP/1.x exchange showed.
public struct HTTPFacts: ProtocolFacts, Equatable {
    public static let key = "http"
    public var method: String?
    /// The Host header as sent (it may carry a port).
    public var host: String?
    public var uri: String?
    public var userAgent: String?
    public var requestContentType: String?
    public var status: Int?
    public var server: String?
    public var responseContentType: String?
    /// CONNECT (RFC 9110 §9.3.6): the host and port the proxy was asked to reach.
    public var connectHost: String?
    public var connectPort: Int?
    /// An Upgrade to WebSocket the server accepted (101, RFC 6455 §4.2.2).
    public var websocket = false
    public var websocketProtocol: String?
    public var requests = 0

    public func report<Sink: FactSink>(to sink: inout Sink) {
        sink.add("method", method)
        sink.add("host", host)
        sink.add("uri", uri)
        sink.add("user_agent", userAgent)
        sink.add("request_content_type", requestContentType)
        sink.add("status", status)
        sink.add("server", server)
        sink.add("response_content_type", responseContentType)
        sink.add("connect_host", connectHost)
        sink.add("connect_port", connectPort)
        sink.add("websocket", websocket)
        sink.add("websocket_protocol", websocketProtocol)
        if requests > 1 { sink.add("requests", requests) }
    }

    public init() {}
}

/// HTTP/1.x (RFC 9112): a request line with a known method and an `HTTP/` version, or a status
/// line. RTSP, whose lines look the same, ends in `RTSP/` and is left to its own analyzer.
public final class HTTPAnalyzer: ProtocolAnalyzer {
    public let service = Service.http
    public let transports: [Transport] = [.tcp]
    public let hintPorts: [UInt16] = [80, 8080, 8000, 8008, 8086, 8087, 8088, 3128, 8888, 1935]
    public let probeBytes = 8192

    public init() {}

    public static func probe(_ bytes: Span<UInt8>, previous: Span<UInt8>, context: ProbeContext) -> ProbeVerdict {
        switch StartLine.scan(bytes, isFinal: context.isFinal) {
        case .request(_, let isRTSP, _, _, _), .response(_, let isRTSP, _, _):
            return isRTSP ? .noMatch : .match
        case .needMore:
            return .needMore
        case .invalid:
            return .noMatch
        }
    }

    public func makeSession(flow: FlowStart) -> any ProtocolSession { HTTPSession() }
}

/// Follows the exchange on the packet path by scanning heads as bytes (where each ends, how long
/// its body is, whether it upgrades or tunnels) and keeps a copy of the first request and response
/// heads; their header fields become facts when the flow is finished. Follows a CONNECT into its
/// tunnel (TLS inside is read by a TLS session) and notes an accepted WebSocket upgrade.
final class HTTPSession: ProtocolSession {
    var requestHead: [UInt8]?
    var responseHead: [UInt8]?
    var requests = 0
    var tunnel: TLSSession?
    /// Per direction: reading heads, skipping a chunked body, in a tunnel, or finished.
    enum Mode { case heads, chunked, tunnel, done }
    var modes: InlineArray<2, Mode> = InlineArray(repeating: .heads)
    var pendingConnect = false
    var pendingUpgrade = false
    var websocket = false
    var responses = 0
    static let keptHead = 4096

    var wantsMore: Bool {
        if let tunnel { return tunnel.wantsMore }
        return !(modes[0] == .done && modes[1] == .done)
    }

    func consume(_ bytes: Span<UInt8>, context: inout SessionContext) -> Consumption {
        let d = context.direction.rawValue
        switch modes[d] {
        case .done:
            return .done
        case .tunnel:
            if tunnel == nil {
                guard TLSRecordLayer.probe(bytes) != .noMatch else { modes[d] = .done; return .done }
                tunnel = TLSSession(transport: .tcp)
            }
            return tunnel?.consume(bytes, context: &context) ?? .done
        case .chunked:
            return skipChunk(bytes, d, isFinal: context.isFinal)
        case .heads:
            break
        }
        if d == 0 && pendingConnect && responses == 0 {
            // Tunnel bytes before the proxy's answer: wait for it.
            return context.isFinal ? .done : .needMore
        }
        switch HeadScan.scan(bytes, isFinal: context.isFinal) {
        case .needMore:
            return .needMore
        case .invalid:
            modes[d] = .done
            return .done
        case .head(let head):
            return read(head, bytes, d)
        }
    }

    private func read(_ head: HeadScan, _ bytes: Span<UInt8>, _ d: Int) -> Consumption {
        let keptLength = min(head.length, bytes.count, Self.keptHead)
        switch head.line {
        case .request(let method, _, _, _, _):
            requests &+= 1
            if requests == 1 {
                requestHead = Array(span: bytes.extracting(0..<keptLength))
                if StartLine.methods[method] == "CONNECT" { pendingConnect = true }
                if head.upgradeWebSocket { pendingUpgrade = true }
            }
            if pendingConnect { return .consumed(head.length) }
        case .response(let status, _, _, _):
            guard status >= 200 || status == 101 else { return .consumed(head.length) }  // 1xx interim
            responses &+= 1
            if responses == 1 { responseHead = Array(span: bytes.extracting(0..<keptLength)) }
            if pendingConnect && responses == 1 {
                if (200..<300).contains(status) {
                    modes[0] = .tunnel
                    modes[1] = .tunnel
                    return .consumed(head.length)
                }
                pendingConnect = false
            }
            if pendingUpgrade && status == 101 {
                websocket = true
                modes[0] = .done
                modes[1] = .done
                return .done
            }
            // One exchange tells what this flow is; the rest is bodies.
            modes[1] = .done
            if requests >= 1 { modes[0] = .done }
            return .done
        default:
            return .done
        }
        if head.chunked {
            modes[d] = .chunked
            return .consumed(head.length)
        }
        return .consumed(head.length &+ (head.contentLength ?? 0))
    }

    /// The facts, read from the kept heads in one pass over each: only the values the facts hold
    /// become strings (an `HTTPHead` made a string of every wanted field and a list of them).
    var facts: HTTPFacts {
        var facts = HTTPFacts()
        facts.requests = requests
        facts.websocket = websocket
        if let requestHead {
            let b = requestHead.span
            if case .request(let method, _, let target, _, let lineEnd) = StartLine.scan(b, isFinal: true),
               let end = HTTPHead.end(b, lineEnd: lineEnd, isFinal: true) {
                facts.method = StartLine.methods[method]
                facts.uri = b.text(target)
                // The first of each field counts, as `HeaderBlock.value` has it.
                var upgrade: Range<Int>?, websocketProtocol: Range<Int>?
                HeaderBlock.forEachWanted(b, from: lineEnd, end: end) { name, value in
                    switch name {
                    case "host": if facts.host == nil { facts.host = b.text(value) }
                    case "user-agent": if facts.userAgent == nil { facts.userAgent = b.text(value) }
                    case "content-type": if facts.requestContentType == nil { facts.requestContentType = b.text(value) }
                    case "upgrade": if upgrade == nil { upgrade = value }
                    case "sec-websocket-protocol": if websocketProtocol == nil { websocketProtocol = value }
                    default: break
                    }
                }
                if let upgrade, b.text(upgrade).lowercased() == "websocket", let websocketProtocol {
                    facts.websocketProtocol = b.text(websocketProtocol)
                }
                if facts.method == "CONNECT" {
                    let (host, port) = Self.splitAuthority(facts.uri ?? "")
                    facts.connectHost = host
                    facts.connectPort = port
                }
            }
        }
        if let responseHead {
            let b = responseHead.span
            if case .response(let status, _, _, let lineEnd) = StartLine.scan(b, isFinal: true),
               let end = HTTPHead.end(b, lineEnd: lineEnd, isFinal: true) {
                facts.status = status
                HeaderBlock.forEachWanted(b, from: lineEnd, end: end) { name, value in
                    switch name {
                    case "server": if facts.server == nil { facts.server = b.text(value) }
                    case "content-type": if facts.responseContentType == nil { facts.responseContentType = b.text(value) }
                    default: break
                    }
                }
            }
        }
        return facts
    }

    /// One chunk of a chunked body (RFC 9112 §7.1): `size[;ext] CRLF data CRLF`; size 0 ends it.
    private func skipChunk(_ b: Span<UInt8>, _ d: Int, isFinal: Bool) -> Consumption {
        guard let lf = b.firstIndex(of: 0x0A, in: 0..<min(b.count, 1024)) else {
            if isFinal || b.count >= 1024 { modes[d] = .done; return .done }
            return .needMore
        }
        var size = 0
        var i = 0
        while i < lf, let digit = Self.hexValue(b[i]) {
            size = size << 4 | digit
            if size > 1 << 40 { modes[d] = .done; return .done }
            i &+= 1
        }
        guard i > 0 else { modes[d] = .done; return .done }
        if size == 0 {
            // Last chunk; trailers and the final CRLF follow (assume none).
            modes[d] = .heads
            guard b.count >= lf &+ 3 else { return isFinal ? .done : .needMore }
            return .consumed(lf &+ 3)
        }
        return .consumed(lf &+ 1 &+ size &+ 2)
    }

    private static func hexValue(_ c: UInt8) -> Int? {
        switch c {
        case 0x30...0x39: Int(c &- 0x30)
        case 0x41...0x46: Int(c &- 0x37)
        case 0x61...0x66: Int(c &- 0x57)
        default: nil
        }
    }

    /// `host:port`, `[v6]:port` or a bare host.
    /// (Searched in the UTF-8 view: `Character` search runs grapheme breaking over every byte.)
    static func splitAuthority(_ authority: String) -> (String, Int?) {
        let utf8 = authority.utf8
        if utf8.first == UInt8(ascii: "["), let close = utf8.firstIndex(of: UInt8(ascii: "]")) {
            let host = String(authority[utf8.index(after: utf8.startIndex)..<close])
            let rest = authority[utf8.index(after: close)...]
            return (host, rest.utf8.first == UInt8(ascii: ":") ? Int(rest.dropFirst()) : nil)
        }
        if let colon = utf8.lastIndex(of: UInt8(ascii: ":")), utf8.firstIndex(of: UInt8(ascii: ":")) == colon {
            return (String(authority[..<colon]), Int(authority[utf8.index(after: colon)...]))
        }
        return (authority, nil)
    }

    /// A server name from a Host header: lower case, without port or brackets.
    static func hostName(_ host: String) -> String? {
        let name = splitAuthority(host.trimmingSpaces).0.lowercased()
        return name.isEmpty ? nil : name
    }

    func finish(_ ending: FlowEnding, into facts: inout FlowFacts) {
        let http = self.facts
        if http.websocket {
            facts.service = .websocket
            if !facts.services.contains(.websocket) { facts.services.append(.websocket) }
        }
        facts.details.append(http)
        var tunnelFacts = FlowFacts()
        if let tunnel {
            tunnel.finish(ending, into: &tunnelFacts)
            facts.details += tunnelFacts.details
            if !facts.services.contains(.tls) { facts.services.append(.tls) }
        }
        if let sni = tunnelFacts.serverName {
            facts.serverName = sni
            facts.serverNameSource = .sni
        } else if let host = http.connectHost, !host.isEmpty {
            facts.serverName = host.lowercased()
            facts.serverNameSource = .httpConnect
        } else if let host = http.host.flatMap(Self.hostName) {
            facts.serverName = host
            facts.serverNameSource = .httpHost
        }
    }
}
