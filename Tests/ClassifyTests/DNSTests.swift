import Testing
import TestSupport
import Analysis
@testable import Classify
@testable import Flows
@testable import Wire

/// Strict or lax parsing of a whole message (a helper: spans cannot be captured by `#expect`).
func parse(_ bytes: [UInt8], lax: Bool = false) -> DNSMessage? {
    DNSMessage(parsing: bytes.span, lax: lax)
}

/// DNS messages (RFC 1035) from the lab's real resolvers (dnsmasq), and the names they give flows.
@Suite struct DNSTests {
    static let capture = "store-compliant.pcapng"

    /// The OpenEye recorder asking the store's dnsmasq for its S3 bucket: the answer is a CNAME
    /// chain, as S3 gives it, ending in an A record.
    static func bucketLookup() throws -> Conversation {
        try Conversation.first(in: capture, proto: .udp, port: 53) { c in
            c.messages(fromClient: true).first.map {
                parse($0)?.questions.first?.name == "oe-prod-files.s3.amazonaws.com"
            } ?? false
        }
    }

    @Test func cnameChainAnswer() throws {
        let reply = try #require(Self.bucketLookup().messages(fromClient: false).first)
        let m = try #require(parse(reply))
        #expect(m.isResponse && m.rcode == 0 && m.isComplete && m.length == reply.count)
        #expect(m.questions == [.init(name: "oe-prod-files.s3.amazonaws.com", type: 1)])
        let span = reply.span
        let answers = m.answers(in: span)
        #expect(answers.map(\.type) == [5, 5, 1] && m.answerCount == 3)
        #expect(answers.map { $0.name(in: span) }
                == ["oe-prod-files.s3.amazonaws.com", "s3-1-w.amazonaws.com", "s3-w.us-east-1.amazonaws.com"])
        #expect(answers[0].target(in: span) == "s3-1-w.amazonaws.com")
        #expect(answers[1].target(in: span) == "s3-w.us-east-1.amazonaws.com")
        #expect(answers[2].address(in: span) == IPAddress("203.0.113.21"))
        #expect(answers.allSatisfy { $0.ttl > 0 && $0.ttl <= 300 })
    }

    /// The address is remembered under the name the device asked for, not the end of the chain:
    /// that is the name a vendor document gives.
    @Test func answersNameTheAskedHost() throws {
        let c = try Self.bucketLookup()
        var driver = ClassifierDriver()
        let flow = driver.classify(c)
        #expect(flow.facts.service == .dns)
        let dns = try #require(flow.facts.detail(DNSFacts.self))
        #expect(dns.queries.contains(.init(name: "oe-prod-files.s3.amazonaws.com", type: 1)))
        #expect(dns.answers == [.alias("s3-1-w.amazonaws.com"), .alias("s3-w.us-east-1.amazonaws.com"),
                                .address(IPAddress("203.0.113.21")!)] || dns.answers.count == 4)
        #expect(dns.rcode == 0)
        let name = driver.classifier.shared.names.name(for: IPAddress("203.0.113.21")!, client: c.client,
                                                       at: 1_000_000_000 + 10_000_000)
        #expect(name == "oe-prod-files.s3.amazonaws.com")
    }

    /// In the whole capture, the STUN flow is named through the load balancer's CNAME.
    @Test func stunFlowIsNamedThroughACNAME() throws {
        var flows: [ClassifiedFlow] = []
        _ = CaptureRun.run(paths: [TestPaths.capture(Self.capture)]) { flows.append($0) }
        let stun = try #require(flows.first { $0.facts.service == .stun && $0.record.responderPort == 3478 })
        #expect(stun.facts.serverName == "stun.u5fgb.com" && stun.facts.serverNameSource == .dns)
    }

    /// Strict parsing refuses every cut of the message; lax parsing keeps what came before the
    /// cut, and never more than the whole message gives.
    /// The name cache answers for every address it was given (IPv4 and IPv6, thousands of them,
    /// so that its quick "never seen" filter is exercised on both sides) and for no other, and an
    /// answer stops naming its address once its TTL and the grace have run out.
    @Test func nameCacheKnowsExactlyTheAddressesItWasGiven() {
        var cache = NameCache(grace: 5_000_000_000)
        let client = IPAddress("10.0.0.2")!
        func v4(_ i: UInt32) -> IPAddress { IPAddress(ipv4: 0xC633_0000 | i) }
        func v6(_ i: UInt64) -> IPAddress { IPAddress(high: 0x2001_0DB8_0000_0000, low: i) }
        for i in 0..<3000 {
            cache.add(name: "h\(i).example", address: v4(UInt32(i)), client: client, time: 1_000_000_000, ttl: 60)
            cache.add(name: "v\(i).example", address: v6(UInt64(i)), client: client, time: 1_000_000_000, ttl: 60)
        }
        let now: Int64 = 2_000_000_000
        for i in 0..<3000 {
            #expect(cache.name(for: v4(UInt32(i)), client: client, at: now) == "h\(i).example")
            #expect(cache.name(for: v6(UInt64(i)), client: client, at: now) == "v\(i).example")
            #expect(cache.name(for: v4(UInt32(i) + 10_000), client: client, at: now) == nil)
            #expect(cache.name(for: v6(UInt64(i) + 10_000), client: client, at: now) == nil)
        }
        // Valid for the TTL (60 s) plus the grace (5 s) from the answer at 1 s.
        #expect(cache.name(for: v4(7), client: client, at: 65_999_999_999) == "h7.example")
        #expect(cache.name(for: v4(7), client: client, at: 66_000_000_001) == nil)
        #expect(cache.name(for: v4(7), client: client, at: 999_999_999) == nil)
    }

    @Test func everyTruncatedMessage() throws {
        let reply = try #require(Self.bucketLookup().messages(fromClient: false).first)
        let whole = try #require(parse(reply))
        for length in 0..<reply.count {
            let cut = Array(reply[..<length])
            #expect(parse(cut) == nil, "strict at \(length)")
            let lax = parse(cut, lax: true)
            if length < 12 {
                #expect(lax == nil)
            } else {
                let m = try #require(lax)
                #expect(!m.isComplete && m.length <= length)
                let answers = m.answers(in: cut.span), wholeAnswers = whole.answers(in: reply.span)
                #expect(m.questions.count <= 1 && answers.count < wholeAnswers.count && answers.count == m.answerCount)
                #expect(answers == Array(wholeAnswers.prefix(answers.count)))
            }
        }
    }

    /// Compression pointers must point back (RFC 1035 §4.1.4 allows only prior occurrences), so a
    /// pointer to itself or forward is refused rather than followed.
    @Test func compressionLoopsAndForwardPointersAreRefused() {
        let header: [UInt8] = [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0]
        let loop = header + [0xC0, 12, 0, 1, 0, 1]
        #expect(parse(loop) == nil)
        let loopName = DNSMessage.name(loop.span, at: 12)
        #expect(loopName == nil)
        let forward = header + [0xC0, 14, 1, 0x61, 0, 0, 1, 0, 1]
        #expect(parse(forward) == nil)
        let twoHop = header + [1, 0x61, 0xC0, 12, 0, 1, 0, 1]
        #expect(parse(twoHop) == nil)
        let good = header + [1, 0x61, 4, 0x74, 0x65, 0x73, 0x74, 0, 0, 1, 0, 1]
        #expect(parse(good)?.questions.first?.name == "a.test")
    }

    /// Labels are binary (RFC 2181 §11): bytes that are not printable ASCII come out as `\xNN`;
    /// case-preserved (DNS-SD) names keep valid UTF-8.
    @Test func binaryLabelsAreEscaped() {
        let header: [UInt8] = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        let binary = header + [4, 0x41, 0x01, 0xC3, 0xA9, 4, 0x74, 0x65, 0x73, 0x74, 0, 0, 1, 0, 1]
        #expect(parse(binary)?.questions.first?.name == "a\\x01\\xc3\\xa9.test")
        let utf8 = Array(binary[12...])
        #expect(DNSMessage.name(utf8.span, at: 0, preservingCase: true)?.0 == "A\\x01é.test")
        let invalid: [UInt8] = [2, 0xC3, 0x41, 0]
        #expect(DNSMessage.name(invalid.span, at: 0, preservingCase: true)?.0 == "\\xc3A")
    }

    /// Labels of more than 63 bytes and names of more than 255 are not DNS (RFC 1035 §2.3.4).
    @Test func overlongLabelsAndNamesAreRefused() {
        let header: [UInt8] = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        let longLabel = header + [64] + Array(repeating: 0x61, count: 64) + [0, 0, 1, 0, 1]
        #expect(parse(longLabel) == nil)
        let longName = header + Array((0..<5).map { _ in [63] + Array(repeating: UInt8(0x61), count: 63) }.joined())
            + [0, 0, 1, 0, 1]
        #expect(parse(longName) == nil)
        let longest = header + Array((0..<3).map { _ in [63] + Array(repeating: UInt8(0x61), count: 63) }.joined())
            + [61] + Array(repeating: 0x61, count: 61) + [0, 0, 1, 0, 1]
        #expect(parse(longest)?.questions.first?.name.utf8.count == 253)
    }

    /// DNS over TCP (RFC 1035 §4.2.2): two-byte length prefixes, however the stream is cut.
    @Test func messagesOverTCPInAnyChunking() throws {
        let c = try Self.bucketLookup()
        let query = try #require(c.messages(fromClient: true).first)
        let reply = try #require(c.messages(fromClient: false).first)
        var tcp = Conversation(proto: .tcp, client: c.client, clientPort: 41000, server: c.server, serverPort: 53,
                               clientBase: 100, serverBase: 900)
        let prefixedQuery = [UInt8(query.count >> 8), UInt8(query.count & 0xFF)] + query
        let prefixedReply = [UInt8(reply.count >> 8), UInt8(reply.count & 0xFF)] + reply
        tcp.payloads = [.init(fromClient: true, sequence: 100, bytes: prefixedQuery, claimed: prefixedQuery.count),
                        .init(fromClient: false, sequence: 900, bytes: prefixedReply, claimed: prefixedReply.count)]
        var reference = ClassifierDriver()
        let expected = reference.classify(tcp)
        #expect(expected.facts.service == .dns)
        #expect(expected.facts.detail(DNSFacts.self)?.answers.count == 3)
        for side in [true, false] {
            for (name, chunks) in everyChunking(tcp.stream(fromClient: side)) {
                var driver = ClassifierDriver()
                #expect(summary(driver.classify(tcp, chunkedSide: side, chunks: chunks)) == summary(expected), "\(name)")
            }
        }
    }

    /// A message as a resolver sends it: one question; a response answers it with one address.
    static func message(id: UInt16, name: String, type: UInt16, answer: [UInt8]? = nil) -> [UInt8] {
        var m: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), answer == nil ? 0x01 : 0x81, answer == nil ? 0x00 : 0x80,
                          0, 1, 0, answer == nil ? 0 : 1, 0, 0, 0, 0]
        for label in name.split(separator: ".") {
            m.append(UInt8(label.utf8.count))
            m += Array(label.utf8)
        }
        m += [0, UInt8(type >> 8), UInt8(type & 0xFF), 0, 1]
        if let answer {
            m += [0xC0, 0x0C, UInt8(type >> 8), UInt8(type & 0xFF), 0, 1, 0, 0, 0x01, 0x2C, 0, UInt8(answer.count)]
            m += answer
        }
        return m
    }

    /// Queries are read when the flow ends (off the reading thread), responses as they come: the
    /// questions still come out in the order of the messages, answered out of order or not at all.
    @Test func questionsKeepTheOrderOfTheMessages() throws {
        var c = Conversation(proto: .udp, client: IPAddress("192.168.1.20")!, clientPort: 40000,
                             server: IPAddress("192.168.1.1")!, serverPort: 53)
        let messages: [(Bool, [UInt8])] = [
            (true, Self.message(id: 1, name: "a.example.com", type: 1)),
            (true, Self.message(id: 2, name: "b.example.com", type: 28)),
            (false, Self.message(id: 2, name: "b.example.com", type: 28, answer: [UInt8](repeating: 0, count: 15) + [1])),
            (false, Self.message(id: 1, name: "a.example.com", type: 1, answer: [203, 0, 113, 7])),
            (true, Self.message(id: 3, name: "c.example.com", type: 1)),
        ]
        c.payloads = messages.map { .init(fromClient: $0.0, sequence: 0, bytes: $0.1, claimed: $0.1.count) }
        var driver = ClassifierDriver()
        let flow = driver.classify(c)
        let dns = try #require(flow.facts.detail(DNSFacts.self))
        #expect(dns.queries == [.init(name: "a.example.com", type: 1), .init(name: "b.example.com", type: 28),
                                .init(name: "c.example.com", type: 1)])
        #expect(dns.answers == [.address(IPAddress("::1")!), .address(IPAddress("203.0.113.7")!)])
        #expect(driver.classifier.shared.names.name(for: IPAddress("203.0.113.7")!, client: c.client,
                                                    at: 1_000_000_000 + 10_000_000) == "a.example.com")
    }

    /// A flow of many queries keeps the first 16 distinct ones, in order; repeats count once.
    @Test func manyQueriesKeepTheFirstSixteen() throws {
        var c = Conversation(proto: .udp, client: IPAddress("192.168.1.20")!, clientPort: 40001,
                             server: IPAddress("192.168.1.1")!, serverPort: 53)
        let names = (0..<40).map { "host\($0 / 2).example.com" }  // each asked twice
        c.payloads = names.enumerated().map { i, name in
            let m = Self.message(id: UInt16(i), name: name, type: 1)
            return .init(fromClient: true, sequence: 0, bytes: m, claimed: m.count)
        }
        var driver = ClassifierDriver()
        let dns = try #require(driver.classify(c).facts.detail(DNSFacts.self))
        #expect(dns.queries == (0..<16).map { .init(name: "host\($0).example.com", type: 1) })
    }
}
