import Foundation
import Testing
import TestSupport
@testable import Classify
@testable import Flows
@testable import Wire

/// TCP protocols from the lab's real traffic, each checked whole and in every chunking (the facts
/// must not depend on how TCP cut the stream).
@Suite struct TCPProtocolTests {
    static let capture = "store-compliant.pcapng"

    func classified(_ c: Conversation) -> ClassifiedFlow {
        var driver = ClassifierDriver()
        return driver.classify(c)
    }

    func expectSameFactsInEveryChunking(_ c: Conversation, sourceLocation: SourceLocation = #_sourceLocation) {
        var reference = ClassifierDriver()
        let expected = summary(reference.classify(c))
        for side in [true, false] {
            for (name, chunks) in everyChunking(c.stream(fromClient: side)) {
                var driver = ClassifierDriver()
                #expect(summary(driver.classify(c, chunkedSide: side, chunks: chunks)) == expected, "\(side ? "client" : "server") \(name)",
                        sourceLocation: sourceLocation)
            }
        }
    }

    /// curl fetching a camera snapshot from nginx: request and response heads.
    @Test func httpExchange() throws {
        let c = try Conversation.first(in: Self.capture, port: 80, server: "10.40.0.51")
        let flow = classified(c)
        #expect(flow.facts.service == .http)
        let http = try #require(flow.facts.detail(HTTPFacts.self))
        #expect(http.method == "GET" && http.uri == "/snapshot.jpg" && http.host == "10.40.0.51")
        #expect(http.userAgent == "curl/7.88.1" && http.status == 403 && http.server == "nginx/1.22.1")
        #expect(flow.facts.serverName == "10.40.0.51" && flow.facts.serverNameSource == .httpHost)
        expectSameFactsInEveryChunking(c)
    }

    /// OpenEye Remote Assist through tinyproxy: CONNECT, then TLS inside the tunnel; the proxied
    /// host names the flow (its SNI, which is the CONNECT target).
    @Test func connectThroughAProxy() throws {
        let c = try Conversation.first(in: Self.capture, port: 3128)
        let flow = classified(c)
        #expect(flow.facts.service == .http && flow.facts.services == [.http, .tls])
        let http = try #require(flow.facts.detail(HTTPFacts.self))
        #expect(http.method == "CONNECT" && http.connectHost == "assist.dvrsupportcenter.com" && http.connectPort == 443)
        #expect(http.status == 200)
        #expect(flow.facts.detail(TLSFacts.self)?.serverName == "assist.dvrsupportcenter.com")
        #expect(flow.facts.serverName == "assist.dvrsupportcenter.com" && flow.facts.serverNameSource == .sni)
        expectSameFactsInEveryChunking(c)
    }

    /// VALT's WebSocket stream on 1935: an HTTP upgrade the server accepted.
    @Test func webSocketUpgrade() throws {
        let c = try Conversation.first(in: Self.capture, port: 1935, server: "10.40.0.41") { $0.client.description == "10.40.0.61" }
        let flow = classified(c)
        #expect(flow.facts.service == .websocket && flow.facts.services == [.http, .websocket])
        let http = try #require(flow.facts.detail(HTTPFacts.self))
        #expect(http.websocket && http.status == 101 && http.uri == "/live")
        expectSameFactsInEveryChunking(c)
    }

    /// ffmpeg reading a GStreamer RTSP camera with RTP over UDP: methods, URL, the SETUP's Transport.
    @Test func rtspSession() throws {
        let c = try Conversation.first(in: Self.capture, port: 554, server: "10.40.0.51") { $0.client.description == "10.40.0.21" }
        let flow = classified(c)
        #expect(flow.facts.service == .rtsp)
        let rtsp = try #require(flow.facts.detail(RTSPFacts.self))
        #expect(rtsp.methods == ["OPTIONS", "DESCRIBE", "SETUP", "PLAY", "TEARDOWN"])
        #expect(rtsp.url == "rtsp://10.40.0.51:554/stream" && rtsp.urlHost == "10.40.0.51")
        #expect(rtsp.server == "GStreamer RTSP server" && rtsp.userAgent == "Lavf59.27.100")
        #expect(rtsp.transports.count == 1 && rtsp.transports[0].contains("client_port=") && !rtsp.interleaved)
        #expect(flow.facts.serverName == "10.40.0.51" && flow.facts.serverNameSource == .rtspURL)
        expectSameFactsInEveryChunking(c)
    }

    /// A SPAN port copies each direction from a different switch port, so replies can reach the
    /// capture before their requests: the SETUP is still paired with its reply by CSeq.
    @Test func rtspRepliesBeforeRequests() throws {
        var c = try Conversation.first(in: Self.capture, port: 554, server: "10.40.0.51") { $0.client.description == "10.40.0.21" }
        c.payloads = c.payloads.filter { !$0.fromClient } + c.payloads.filter(\.fromClient)
        let flow = classified(c)
        #expect(flow.facts.service == .rtsp)
        let rtsp = try #require(flow.facts.detail(RTSPFacts.self))
        #expect(rtsp.transports.count == 1 && rtsp.transports[0].contains("server_port="))
        #expect(rtsp.methods == ["OPTIONS", "DESCRIBE", "SETUP", "PLAY", "TEARDOWN"])
    }

    /// The VALT media server reading the camera with RTP interleaved in the RTSP connection.
    @Test func rtspInterleaved() throws {
        let c = try Conversation.first(in: Self.capture, port: 554, server: "10.40.0.51") { $0.client.description == "10.40.0.42" }
        let flow = classified(c)
        let rtsp = try #require(flow.facts.detail(RTSPFacts.self))
        #expect(rtsp.interleaved && rtsp.interleavedFrames > 10)
        #expect(rtsp.transports.first?.contains("interleaved=0-1") == true)
        #expect(flow.facts.services == [.rtsp, .rtp])
    }

    /// OpenSSH banners both ways.
    @Test func sshBanners() throws {
        let c = try Conversation.first(in: Self.capture, port: 22)
        let flow = classified(c)
        #expect(flow.facts.service == .ssh)
        let ssh = try #require(flow.facts.detail(SSHFacts.self))
        #expect(ssh.client == "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10" && ssh.server == ssh.client)
        expectSameFactsInEveryChunking(c)
    }

    /// ffmpeg publishing to nginx-rtmp: C0/C1 from the phone, S0/S1 back.
    @Test func rtmpHandshake() throws {
        let c = try Conversation.first(in: Self.capture, port: 1935, server: "10.40.0.42") { $0.client.description == "10.40.0.62" }
        let flow = classified(c)
        #expect(flow.facts.service == .rtmp)
        let rtmp = try #require(flow.facts.detail(RTMPFacts.self))
        #expect(rtmp.version == 3 && rtmp.serverAnswered)
        expectSameFactsInEveryChunking(c)
    }

    /// A chunked response body is skipped chunk by chunk; the next request is read after it.
    @Test func chunkedBodiesAreSkipped() throws {
        let request = Array("GET /a HTTP/1.1\r\nHost: example.test\r\n\r\n".utf8)
        let response = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nServer: t\r\n\r\n5\r\nhello\r\n0\r\n\r\n".utf8)
        var c = Conversation(proto: .tcp, client: IPAddress("10.0.0.1")!, clientPort: 40000, server: IPAddress("10.0.0.2")!,
                             serverPort: 8080, clientBase: 1001, serverBase: 2001)
        c.payloads = [.init(fromClient: true, sequence: 1001, bytes: request, claimed: request.count),
                      .init(fromClient: false, sequence: 2001, bytes: response, claimed: response.count)]
        let flow = classified(c)
        let http = try #require(flow.facts.detail(HTTPFacts.self))
        #expect(http.status == 200 && http.server == "t" && flow.facts.serverName == "example.test")
        expectSameFactsInEveryChunking(c)
    }
}
