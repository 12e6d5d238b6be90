import Foundation
import Testing
import TestSupport
@testable import Analysis
import Classify
@testable import Capture
@testable import Flows
@testable import Wire

/// `audit flows` against nDPI's expected results for real captures (`../shared/corpus/ndpi`, see its
/// README): every flow nDPI lists must come out, with the same packets and frame bytes per direction,
/// apart from differences of definition, which this test derives from its own scan of each capture:
///
/// - nDPI keeps one flow per 5-tuple for the whole file (no timeouts, no TCP reuse): records with the
///   same unordered key are summed on both sides.
/// - Non-TCP/UDP flows are keyed by their addresses only (nDPI prints no ports for them).
/// - Counts are not compared for keys with frames nDPI does not count: IP fragments (nDPI keeps first
///   fragments only), frames cut by a snap length or shorter than their IP length, malformed transport
///   headers, tunnel frames (nDPI moves them to the inner flow), and IPv6 pairs that nDPI's address
///   hash (the sum of the last two 32-bit words) merges with another pair.
/// - Flows nDPI took out of a tunnel SpanAudit does not open (CAPWAP, TZSP) are optional; SpanAudit's
///   outer tunnel flows and flows made only of frames nDPI ignores are tolerated extras.
///
/// The test passes when ≥ 99% of required flows are found with exact counts and no extra flow is
/// unexplained; every capture must also read without a crash or a hang (the corpus includes fuzzed
/// and garbage captures).
@Suite struct NDPIConformanceTests {
    struct Endpoint: Hashable, Comparable, CustomStringConvertible {
        var address: String
        var port: Int
        static func < (a: Endpoint, b: Endpoint) -> Bool { (a.address, a.port) < (b.address, b.port) }
        var description: String { "\(address):\(port)" }
    }

    struct Key: Hashable, CustomStringConvertible {
        var proto: Int
        var a: Endpoint
        var b: Endpoint
        init(proto: Int, _ x: Endpoint, _ y: Endpoint) {
            self.proto = proto
            let ported = proto == 6 || proto == 17
            let x = ported ? x : Endpoint(address: x.address, port: 0)
            let y = ported ? y : Endpoint(address: y.address, port: 0)
            (a, b) = x < y ? (x, y) : (y, x)
        }
        var description: String { "\(proto) \(a) <-> \(b)" }
    }

    struct Counts: Equatable, CustomStringConvertible {
        var packets: [Endpoint: UInt64] = [:]
        var bytes: [Endpoint: UInt64] = [:]
        mutating func add(_ e: Endpoint, packets p: UInt64, bytes b: UInt64) {
            guard p > 0 else { return }
            packets[e, default: 0] += p
            bytes[e, default: 0] += b
        }
        var description: String {
            packets.keys.sorted().map { "\($0): \(packets[$0]!) pkts/\(bytes[$0]!) B" }.joined(separator: ", ")
        }
    }

    struct Expected {
        var counts: [Key: Counts] = [:]
        var optional: Set<Key> = []
    }

    static let protocolNumbers = ["TCP": 6, "UDP": 17, "ICMP": 1, "ICMPV6": 58, "IGMP": 2, "GRE": 47, "ESP": 50,
                                  "AH": 51, "SCTP": 132, "OSPF": 89, "PIM": 103, "VRRP": 112, "PGM": 113, "EGP": 8,
                                  "IPIP": 4]

    /// nDPI's `ndpi_patchIPv6Address`: every `:0:` becomes `::`, left to right.
    static func ndpiText(_ a: IPAddress) -> String {
        guard !a.isIPv4 else { return a.description }
        let chars = Array(a.description)
        var out = "", i = 0
        while i < chars.count {
            if i + 2 < chars.count && chars[i] == ":" && chars[i + 1] == "0" && chars[i + 2] == ":" {
                out += "::"
                i += 3
            } else {
                out.append(chars[i])
                i += 1
            }
        }
        return out
    }

    static func parseEndpoint(_ text: Substring) -> Endpoint {
        if text.hasPrefix("[") {
            let close = text.firstIndex(of: "]")!
            let address = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            return Endpoint(address: address, port: rest.hasPrefix(":") ? Int(rest.dropFirst()) ?? 0 : 0)
        }
        let parts = text.split(separator: ":")
        return Endpoint(address: String(parts[0]), port: parts.count > 1 ? Int(parts[1]) ?? 0 : 0)
    }

    /// The flow lines of an expected `.out` file: `\t<n>\t<PROTO> <a> <-> <b> [proto: ...]...[x pkts/y bytes <-> ...]`.
    static func parseExpected(_ text: String) -> Expected {
        var expected = Expected()
        let countsPattern = /\[(\d+) pkts\/(\d+) bytes (<->|->) (\d+) pkts\/(\d+) bytes\]/
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 3, fields[0].isEmpty, Int(fields[1]) != nil else { continue }
            let words = fields[2].split(separator: " ")
            guard words.count >= 4, words[2] == "<->" || words[2] == "->" else { continue }
            guard let proto = protocolNumbers[String(words[0])] ?? Int(words[0]) else { continue }
            let a = parseEndpoint(words[1]), b = parseEndpoint(words[3])
            guard let m = fields[2].firstMatch(of: countsPattern) else { continue }
            let key = Key(proto: proto, a, b)
            expected.counts[key, default: Counts()].add(a, packets: UInt64(m.1)!, bytes: UInt64(m.2)!)
            expected.counts[key, default: Counts()].add(b, packets: UInt64(m.4)!, bytes: UInt64(m.5)!)
            // A flow nDPI took out of a tunnel that SpanAudit does not open.
            if fields[2].contains("[proto: CAPWAP:") || fields[2].contains("[proto: TZSP:") { expected.optional.insert(key) }
        }
        return expected
    }

    /// What our own decoder sees in the capture, per key: reasons to skip counts or tolerate extras.
    struct Scan {
        var uncountable: Set<Key> = []
        var tunnelCarriers: Set<Key> = []
        var tunnelInner: Set<Key> = []
        var ignoredOnly: [Key: Bool] = [:]
        var fragmentPairs: Set<Key> = []
        var malformed: Set<Key> = []
        var ipv6Hashes: [String: Set<Key>] = [:]
    }

    static func key(of p: DecodedPacket) -> Key {
        let ported = p.protocolNumber == .tcp || p.protocolNumber == .udp
        let hasPorts = ported && p.hasPorts && !p.isFragment
        return Key(proto: Int(p.protocolNumber.rawValue),
                   Endpoint(address: ndpiText(p.source), port: hasPorts ? Int(p.sourcePort) : 0),
                   Endpoint(address: ndpiText(p.destination), port: hasPorts ? Int(p.destinationPort) : 0))
    }

    static func scan(_ path: String) -> Scan {
        var scan = Scan()
        let decoder = PacketDecoder()
        var anomalies = Anomalies()
        let set = CaptureSet(paths: [path])
        set.read { record, frame in
            var p = DecodedPacket()
            guard (try? decoder.decode(frame, start: .link(record.linkType), into: &p, anomalies: &anomalies)) != nil,
                  p.ipVersion != 0 else { return }
            var k = key(of: p)
            if p.isFragment {
                scan.fragmentPairs.insert(Key(proto: k.proto, Endpoint(address: k.a.address, port: 0), Endpoint(address: k.b.address, port: 0)))
                if p.fragmentOffset == 0 {
                    // The first fragment counts to the ported flow in SpanAudit, to nDPI's as well.
                    k = Key(proto: k.proto, Endpoint(address: ndpiText(p.source), port: p.hasPorts ? Int(p.sourcePort) : 0),
                            Endpoint(address: ndpiText(p.destination), port: p.hasPorts ? Int(p.destinationPort) : 0))
                }
                scan.uncountable.insert(k)
            }
            let ipEnd = p.networkOffset + p.ipTotalLength
            let ignored = (p.isFragment && p.fragmentOffset != 0) || ipEnd > frame.count
                || frame.count - p.networkOffset < 28
            scan.ignoredOnly[k] = (scan.ignoredOnly[k] ?? true) && ignored
            if ignored || record.capturedLength < record.originalLength { scan.uncountable.insert(k) }
            if (p.protocolNumber == .tcp || p.protocolNumber == .udp) && !p.transportComplete && !p.isFragment {
                scan.malformed.insert(k)
                scan.uncountable.insert(k)
            }
            if p.ipVersion == 6 {
                func words(_ a: IPAddress) -> UInt64 { (a.low >> 32) &+ (a.low & 0xFFFF_FFFF) }
                let hash = "\(k.proto) \(words(p.source) &+ words(p.destination)) \(k.a.port + k.b.port)"
                scan.ipv6Hashes[hash, default: []].insert(k)
            }
            if p.tunnel != .none {
                scan.tunnelCarriers.insert(k)
                scan.uncountable.insert(k)
                var inner = DecodedPacket()
                let end = min(frame.count, p.networkOffset + p.ipTotalLength)
                if p.innerOffset < end,
                   (try? decoder.decode(frame.extracting(p.innerOffset..<end), start: p.innerStart, into: &inner, anomalies: &anomalies)) != nil,
                   inner.ipVersion != 0 {
                    scan.tunnelInner.insert(key(of: inner))
                    scan.uncountable.insert(key(of: inner))
                }
            }
        }
        for keys in scan.ipv6Hashes.values where keys.count > 1 { scan.uncountable.formUnion(keys) }
        return scan
    }

    struct Outcome {
        var required = 0, found = 0, compared = 0, exact = 0, extras: [String] = [], problems: [String] = []
    }

    static func check(_ name: String, corpus: URL) -> Outcome {
        var outcome = Outcome()
        let pcap = corpus.appendingPathComponent("pcap").appendingPathComponent(name).path
        // Fuzzed captures give host names that are not UTF-8: decode leniently.
        guard let data = try? Data(contentsOf: corpus.appendingPathComponent("expected/\(name).out")),
              case let text = String(decoding: data, as: UTF8.self) else {
            outcome.problems.append("\(name): no expected file")
            return outcome
        }
        let expected = parseExpected(text)
        var records: [FlowRecord] = []
        _ = CaptureRun.run(paths: [pcap]) { records.append($0.record) }
        var ours: [Key: Counts] = [:]
        for r in records {
            let o = Endpoint(address: ndpiText(r.originator), port: Int(r.originatorPort))
            let s = Endpoint(address: ndpiText(r.responder), port: Int(r.responderPort))
            let k = Key(proto: Int(r.protocolNumber.rawValue), o, s)
            let ported = k.proto == 6 || k.proto == 17
            let oe = ported ? o : Endpoint(address: o.address, port: 0), se = ported ? s : Endpoint(address: s.address, port: 0)
            ours[k, default: Counts()].add(oe, packets: r.originatorCounters.packets, bytes: r.originatorCounters.wireBytes)
            ours[k, default: Counts()].add(se, packets: r.responderCounters.packets, bytes: r.responderCounters.wireBytes)
        }
        let scan = scan(pcap)
        for (k, counts) in expected.counts {
            let optional = expected.optional.contains(k) || scan.malformed.contains(k)
            if !optional { outcome.required += 1 }
            guard let mine = ours[k] else {
                if !optional { outcome.problems.append("\(name): missing flow \(k) (nDPI \(counts))") }
                continue
            }
            if !optional { outcome.found += 1 }
            guard !scan.uncountable.contains(k) else { continue }
            outcome.compared += 1
            if mine == counts {
                outcome.exact += 1
            } else {
                outcome.problems.append("\(name): counts for \(k): nDPI \(counts), SpanAudit \(mine)")
            }
        }
        for k in ours.keys where expected.counts[k] == nil {
            let pair = Key(proto: k.proto, Endpoint(address: k.a.address, port: 0), Endpoint(address: k.b.address, port: 0))
            let explained = scan.tunnelCarriers.contains(k) || scan.tunnelInner.contains(k) || scan.malformed.contains(k)
                || scan.ignoredOnly[k] == true || scan.fragmentPairs.contains(pair) || scan.uncountable.contains(k)
            if !explained { outcome.extras.append("\(name): unexplained flow \(k) \(ours[k]!)") }
        }
        return outcome
    }

    @Test(.timeLimit(.minutes(5)))
    func everyFlowNDPIListsWithTheSameCounts() throws {
        guard let corpus = TestPaths.ndpiCorpus else {
            print("NDPIConformanceTests: ../shared/corpus/ndpi is absent in this checkout; skipped.")
            return
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: corpus.appendingPathComponent("pcap").path).sorted()
        #expect(names.count >= 40)
        var total = Outcome()
        for name in names {
            let o = Self.check(name, corpus: corpus)
            total.required += o.required
            total.found += o.found
            total.compared += o.compared
            total.exact += o.exact
            total.extras += o.extras
            total.problems += o.problems
        }
        let recall = Double(total.found) / Double(max(1, total.required))
        let exact = Double(total.exact) / Double(max(1, total.compared))
        print("nDPI conformance: \(total.found)/\(total.required) flows found, \(total.exact)/\(total.compared) with exact counts, \(total.extras.count) unexplained extras")
        for problem in total.problems.prefix(20) { print("  " + problem) }
        #expect(total.required > 200)
        #expect(recall >= 0.99, "\(total.problems)")
        #expect(exact >= 0.99, "\(total.problems)")
        #expect(total.extras.isEmpty, "\(total.extras)")
    }
}

/// `service` and `server_name` against nDPI's content-based verdicts on the same corpus.
///
/// A flow is judged when nDPI classified it by payload inspection (`[Confidence: DPI]`) as one of
/// the contract's protocols; its master protocol maps to the names accepted for it. nDPI names a
/// flow that multiplexes STUN, DTLS and media (RFC 7983) by one of them: any of the four is
/// accepted there; an upgraded HTTP connection may be `websocket`, an HTTP CONNECT tunnel `http`
/// or `tls`. Server names are compared for TLS, QUIC and DTLS flows with an SNI, after nDPI's
/// normalisation (lower case, at most the last 79 characters). Goals: service ≥ 97%, SNI ≥ 98%.
@Suite struct NDPIClassificationTests {
    struct Verdict {
        var key: NDPIConformanceTests.Key
        var master: String
        var dpi: Bool
        var hostname: String?
    }

    static let accepted: [String: Set<String>] = [
        "TLS": ["tls"], "DTLS": ["dtls", "stun", "rtp", "rtcp"], "QUIC": ["quic"], "HTTP": ["http", "websocket"],
        "HTTP_Proxy": ["http", "websocket"], "HTTP_Connect": ["http", "tls"], "WebSocket": ["websocket"],
        "RTSP": ["rtsp"], "RTP": ["rtp", "rtcp", "stun", "dtls"], "RTCP": ["rtcp", "rtp"],
        "SRTP": ["rtp", "rtcp", "stun", "dtls"], "RTMP": ["rtmp"], "STUN": ["stun", "dtls", "rtp", "rtcp"],
        "DNS": ["dns"], "MDNS": ["mdns"], "SSDP": ["ssdp"], "NTP": ["ntp"], "DHCP": ["dhcp"], "DHCPV6": ["dhcp"],
        "SSH": ["ssh"], "IPSec": ["ike"],
    ]

    static func verdicts(_ text: String) -> [Verdict] {
        var out: [Verdict] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 3, fields[0].isEmpty, Int(fields[1]) != nil else { continue }
            let body = fields[2]
            let words = body.split(separator: " ")
            guard words.count >= 4, words[2] == "<->" || words[2] == "->",
                  let proto = NDPIConformanceTests.protocolNumbers[String(words[0])] ?? Int(words[0]),
                  let protoField = body.firstMatch(of: /\[proto: ([^\]]+)\]/) else { continue }
            // "GTP:91.126/TLS.Google" -> "TLS"
            var names = String(protoField.1)
            if let colon = names.firstIndex(of: ":"), !names[..<colon].contains("/") { names = String(names[names.index(after: colon)...]) }
            let master = names.split(separator: "/").last.map { String($0.split(separator: ".").first ?? "") } ?? ""
            let dpi = body.contains("[Confidence: DPI]") || body.contains("[Confidence: DPI (partial)]")
            let hostname = body.firstMatch(of: /\[Hostname\/SNI: ([^\]]*)\]/).map { String($0.1) }
            let key = NDPIConformanceTests.Key(proto: proto, NDPIConformanceTests.parseEndpoint(words[1]),
                                               NDPIConformanceTests.parseEndpoint(words[3]))
            out.append(Verdict(key: key, master: master, dpi: dpi, hostname: hostname))
        }
        return out
    }

    /// nDPI's normalisation of host names: lower case, non-printable bytes as '?', trailing spaces
    /// dropped.
    static func normalised(_ name: String) -> String {
        var out = ""
        for u in name.unicodeScalars { out.unicodeScalars.append(u.value >= 0x20 && u.value < 0x7F ? u : "?") }
        return out.lowercased().trimmingCharacters(in: .whitespaces)
    }

    @Test(.timeLimit(.minutes(5)))
    func serviceAndServerNameAgreeWithNDPI() throws {
        guard let corpus = TestPaths.ndpiCorpus else {
            print("NDPIClassificationTests: ../shared/corpus/ndpi is absent in this checkout; skipped.")
            return
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: corpus.appendingPathComponent("pcap").path).sorted()
        var services = 0, servicesAgree = 0, snis = 0, snisAgree = 0
        var problems: [String] = []
        for name in names {
            guard let data = try? Data(contentsOf: corpus.appendingPathComponent("expected/\(name).out")) else { continue }
            let expected = Self.verdicts(String(decoding: data, as: UTF8.self))
            var ours: [NDPIConformanceTests.Key: [ClassifiedFlow]] = [:]
            _ = CaptureRun.run(paths: [corpus.appendingPathComponent("pcap/\(name)").path]) { flow in
                let r = flow.record
                let key = NDPIConformanceTests.Key(
                    proto: Int(r.protocolNumber.rawValue),
                    .init(address: NDPIConformanceTests.ndpiText(r.originator), port: Int(r.originatorPort)),
                    .init(address: NDPIConformanceTests.ndpiText(r.responder), port: Int(r.responderPort)))
                ours[key, default: []].append(flow)
            }
            for v in expected where v.dpi {
                guard var accepted = Self.accepted[v.master], !(v.master == "IPSec" && v.key.proto != 17) else { continue }
                guard let flows = ours[v.key] else { continue }  // flow recall is the other test's
                if v.master == "HTTP" || v.master == "HTTP_Proxy" { accepted.insert("websocket") }
                services += 1
                let got = flows.compactMap(\.record.service)
                if !got.isEmpty && got.allSatisfy(accepted.contains) {
                    servicesAgree += 1
                } else {
                    problems.append("\(name) \(v.key): service \(got), nDPI \(v.master)")
                }
                if ["TLS", "QUIC", "DTLS"].contains(v.master), let host = v.hostname, !host.isEmpty {
                    snis += 1
                    let want = host.lowercased()
                    let matched = flows.contains { flow in
                        guard let n = flow.record.serverName.map(Self.normalised) else { return false }
                        return want.count >= 79 ? n.hasSuffix(want) : n == want
                    }
                    if matched { snisAgree += 1 } else {
                        problems.append("\(name) \(v.key): server_name \(flows.compactMap(\.record.serverName)), nDPI SNI \(host)")
                    }
                }
            }
        }
        print("nDPI classification: service \(servicesAgree)/\(services), SNI \(snisAgree)/\(snis)")
        for p in problems.prefix(20) { print("  " + p) }
        #expect(services > 150 && snis > 30)
        #expect(Double(servicesAgree) >= 0.97 * Double(services), "\(problems)")
        #expect(Double(snisAgree) >= 0.98 * Double(snis), "\(problems)")
    }
}
