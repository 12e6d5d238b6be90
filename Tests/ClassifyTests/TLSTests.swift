import Foundation
import Testing
import TestSupport
@testable import Classify
@testable import Flows
@testable import Wire

/// TLS: ClientHello, ServerHello, certificate and outcome, from the lab's real connections (curl and
/// openssl against nginx), whole and in every chunking.
@Suite struct TLSTests {
    /// The OpenEye recorder's connection to its relay (curl, TLS 1.2 server, certificate in clear).
    static func relay() throws -> Conversation {
        try Conversation.first(in: "store-compliant.pcapng", port: 443, server: "203.0.113.11")
    }

    /// The highest version offered ignores GREASE, counts any other value (even 0), and falls
    /// back on the legacy version when supported_versions offers nothing else.
    @Test func highestVersionOffered() throws {
        let body = [UInt8](repeating: 0, count: 34)
        let parsed = TLSClientHello(parsing: body.span)
        var hello = try #require(parsed)
        hello.legacyVersion = 0x0303
        hello.supportedVersions = [0x0A0A, 0x0304, 0x0303]
        #expect(hello.highestVersion == 0x0304)
        hello.supportedVersions = [0x0A0A]
        #expect(hello.highestVersion == 0x0303)
        hello.supportedVersions = [0x0000]
        #expect(hello.highestVersion == 0x0000)
        hello.supportedVersions = []
        #expect(hello.highestVersion == 0x0303)
    }

    @Test func clientHelloOfARealConnection() throws {
        let c = try Self.relay()
        let stream = c.stream(fromClient: true)
        // Record header, then the handshake header: ClientHello.
        #expect(stream[0] == 22 && stream[5] == 1)
        let length = Int(stream[6]) << 16 | Int(stream[7]) << 8 | Int(stream[8])
        let body = Array(stream[9..<(9 + length)])
        let parsed = TLSClientHello(parsing: body.span)
        let hello = try #require(parsed)
        #expect(hello.isComplete)
        #expect(hello.serverName == "r1.us.u5fgb.com")
        #expect(hello.alpn == ["h2", "http/1.1"])
        #expect(hello.supportedVersions.filter { !TLSVersion.isGREASE($0) } == [0x0304, 0x0303, 0x0302, 0x0301])
        #expect(hello.cipherSuites.count == 31)
        #expect(JA4.fingerprint(hello, transport: .tcp) == "t13d3112h2_e8f1e7e78f70_b26ce05bbdd6")
    }

    @Test func factsOfTheConnection() throws {
        var driver = ClassifierDriver()
        let flow = driver.classify(try Self.relay())
        #expect(flow.facts.service == .tls)
        #expect(flow.facts.serverName == "r1.us.u5fgb.com" && flow.facts.serverNameSource == .sni)
        let tls = try #require(flow.facts.detail(TLSFacts.self))
        #expect(tls.version == "1.2")
        #expect(tls.cipherSuite == "0xc030")
        #expect(tls.serverALPN == "http/1.1")
        #expect(tls.certificateNames == ["r1.us.u5fgb.com"])
        #expect(tls.outcome == .established)
    }

    /// The same facts whatever the segmentation: whole streams, byte by byte, split anywhere.
    @Test func everyChunkingGivesTheSameFacts() throws {
        let c = try Self.relay()
        var reference = ClassifierDriver()
        let expected = summary(reference.classify(c))
        for (name, chunks) in everyChunking(c.stream(fromClient: false)) {
            var driver = ClassifierDriver()
            #expect(summary(driver.classify(c, chunks: chunks)) == expected, "\(name)")
        }
    }

    /// A ClientHello answered by a reset (the gateway's SNI filter in the blocked scenario).
    @Test func resetAfterClientHello() throws {
        let c = try Conversation.first(in: "store-blocked.pcapng", port: 443) { c in
            c.payloads.allSatisfy(\.fromClient)
        }
        var driver = ClassifierDriver()
        let flow = driver.classify(c)
        #expect(flow.facts.service == .tls && flow.facts.serverName == "r1.us.u5fgb.com")
        // The driver's record has no reset: the outcome is "no response" from a silent server;
        // with the responder's RST in the history it is "reset".
        #expect(flow.facts.detail(TLSFacts.self)?.outcome == .noResponse)
        var record = ClassifierDriver.record(c, uid: 1)
        record.history.add(UInt8(ascii: "r"))
        #expect(TLSSession.outcome(serverHello: false, alert: false, applicationData: false,
                                   ending: FlowEnding(record: record)) == .reset)
    }

    /// Every prefix of a real ClientHello parses without trapping, and a name is whole or absent.
    /// (A prefix that ends right before the extensions is a complete hello without extensions.)
    @Test func everyTruncatedClientHello() throws {
        let stream = try Self.relay().stream(fromClient: true)
        let length = Int(stream[6]) << 16 | Int(stream[7]) << 8 | Int(stream[8])
        let body = Array(stream[9..<(9 + length)])
        var complete: [Int] = []
        for n in 0...body.count {
            let prefix = Array(body[..<n])
            let hello = TLSClientHello(parsing: prefix.span)
            if let name = hello?.serverName { #expect(name == "r1.us.u5fgb.com", "prefix \(n)") }
            #expect((hello == nil) == (n < 34), "prefix \(n)")
            if hello?.isComplete == true { complete.append(n) }
        }
        #expect(complete.count == 2 && complete.last == body.count)
    }

    /// A server name the capture cut is left out, not shortened (the snap-length lab capture).
    @Test func cutServerNameIsLeftOut() throws {
        let c = try Conversation.first(in: "store-compliant-snap256.pcap", port: 443, server: "203.0.113.22")
        var driver = ClassifierDriver()
        let flow = driver.classify(c)
        #expect(flow.facts.service == .tls)
        #expect(flow.facts.detail(TLSFacts.self)?.serverName == nil)
    }
}
