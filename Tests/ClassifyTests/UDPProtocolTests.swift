import Foundation
import Testing
import TestSupport
import Analysis
@testable import Classify
@testable import Flows
@testable import Wire

/// UDP protocols from the lab's real traffic: what each gives, and that its datagrams in any
/// truncation never trap.
@Suite struct UDPProtocolTests {
    static let capture = "store-compliant.pcapng"

    func classify(port: UInt16, server: String? = nil, capture: String = UDPProtocolTests.capture) throws -> ClassifiedFlow {
        var driver = ClassifierDriver()
        return driver.classify(try Conversation.first(in: capture, proto: .udp, port: port, server: server))
    }

    /// coturn's answer to turnutils_stunclient: RFC 5389 Binding, XOR-MAPPED-ADDRESS, SOFTWARE.
    @Test func stunBinding() throws {
        let flow = try classify(port: 3478)
        #expect(flow.facts.service == .stun)
        let stun = try #require(flow.facts.detail(STUNFacts.self))
        #expect(stun.messages == ["binding_request", "binding_success"])
        #expect(stun.mappedAddress == "198.51.100.2:\(flow.record.originatorPort)")
        #expect(stun.software == ["Coturn-4.6.1 'Gorst'"])
    }

    @Test func stunMessageFields() throws {
        let c = try Conversation.first(in: Self.capture, proto: .udp, port: 3478)
        let answer = try #require(c.messages(fromClient: false).first)
        let parsed = STUNMessage(parsing: answer.span)
        let message = try #require(parsed)
        #expect(message.hasMagicCookie && message.length == answer.count)
        #expect(message.name == "binding_success")
        // Every prefix: never a trap, and a message only when whole.
        for n in 0..<answer.count {
            let prefix = Array(answer[..<n])
            #expect(STUNMessage(parsing: prefix.span) == nil, "prefix \(n)")
        }
    }

    /// dnsmasq's DHCP: DISCOVER/REQUEST with the client's name, vendor class and parameter list.
    @Test func dhcpClient() throws {
        let c = try #require(Conversation.all(in: Self.capture).first { $0.proto == .udp && $0.serverPort == 67 && $0.client.description == "0.0.0.0" })
        var driver = ClassifierDriver()
        let flow = driver.classify(c)
        #expect(flow.facts.service == .dhcp)
        let dhcp = try #require(flow.facts.detail(DHCPFacts.self))
        #expect(dhcp.messages.first == "DISCOVER")
        #expect(dhcp.hostName != nil && dhcp.vendorClass == "udhcp 1.35.0")
        #expect(dhcp.client?.parameterList == [1, 3, 6, 12, 15, 28, 42])
        #expect(dhcp.clients.count >= 10 && Set(dhcp.clients.compactMap(\.clientMAC)).count == dhcp.clients.count)
        #expect(dhcp.clientMAC?.count == 17)
    }

    /// chronyd -Q against the lab's chrony: NTPv4 client and server modes, the server's stratum.
    @Test func ntpExchange() throws {
        let flow = try classify(port: 123)
        #expect(flow.facts.service == .ntp)
        let ntp = try #require(flow.facts.detail(NTPFacts.self))
        #expect(ntp.version == 4 && ntp.modes == ["client", "server"] && ntp.stratum == 8)
        // Named after the DNS answer the recorder asked for.
        #expect(flow.facts.serverName == nil)  // the driver has no DNS cache: the name is the pipeline's
    }

    /// python-zeroconf's announcements: host, service type, instance (case kept), TXT.
    @Test func mdnsAnnouncements() throws {
        let c = try Conversation.first(in: Self.capture, proto: .udp, port: 5353, server: "224.0.0.251")
        var driver = ClassifierDriver()
        let flow = driver.classify(c)
        #expect(flow.facts.service == .mdns)
        let mdns = try #require(flow.facts.detail(MDNSFacts.self))
        #expect(mdns.hosts == ["rn-appliance.local"])
        #expect(mdns.services == ["_http._tcp.local"])
        #expect(mdns.instances == ["RetailNext Store Appliance._http._tcp.local"])
        #expect(mdns.texts.contains("vendor=RetailNext"))
        // And the answer names the host in the shared cache.
        #expect(driver.classifier.shared.names.name(for: IPAddress("10.40.0.21")!, client: IPAddress("10.40.0.9")!,
                                                     at: 2_000_000_000) == "rn-appliance.local")
    }

    /// minidlna's NOTIFY: SERVER, LOCATION, USNs.
    @Test func ssdpNotify() throws {
        let flow = try classify(port: 1900, server: "239.255.255.250")
        #expect(flow.facts.service == .ssdp)
        let ssdp = try #require(flow.facts.detail(SSDPFacts.self))
        #expect(ssdp.messages.contains("NOTIFY"))
        #expect(ssdp.server == "Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/1.3.0")
        #expect(ssdp.location == "http://10.40.0.21:8200/rootDesc.xml")
        #expect(ssdp.usns.contains("uuid:4d696e69-444c-164e-9d41-20c3a4400021::upnp:rootdevice"))
    }

    /// ike-scan against strongSwan: IKEv2 IKE_SA_INIT on 500, behind the non-ESP marker on 4500.
    @Test func ikeOnBothPorts() throws {
        let plain = try classify(port: 500)
        #expect(plain.facts.service == .ike)
        #expect(plain.facts.detail(IKEFacts.self)?.exchanges == ["IKE_SA_INIT"])
        let natT = try classify(port: 4500)
        #expect(natT.facts.service == .ike)
        #expect(natT.facts.detail(IKEFacts.self)?.natTraversal == true)
    }

    /// aioquic's HTTP/3 client: the Initial packets opened, the ClientHello read from CRYPTO frames.
    @Test func quicInitial() throws {
        let flow = try classify(port: 443, server: "203.0.113.30")
        #expect(flow.facts.service == .quic)
        let quic = try #require(flow.facts.detail(QUICFacts.self))
        #expect(quic.version == "1" && quic.serverName == "store1.cloud.retailnext.net")
        #expect(quic.alpn == ["h3"] && quic.undecryptable == 0)
        #expect(quic.ja4 == "q13d0307h3_55b375c5d22e_1cecd519fee8")
        #expect(flow.facts.serverName == "store1.cloud.retailnext.net" && flow.facts.serverNameSource == .sni)
    }

    /// RFC 9001 Appendix A.1: the client's Initial keys for connection id 0x8394c8f03e515708.
    @Test func quicInitialKeysOfRFC9001() throws {
        let keys = QUICInitialKeys(version: QUICVersion(1), connectionID: [0x83, 0x94, 0xC8, 0xF0, 0x3E, 0x51, 0x57, 0x08],
                                   client: true)
        func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }
        #expect(hex(keys.keyBytes) == "1f369613dd76d5467730efcbe3b1a22d")
        #expect(hex(keys.iv) == "fa044b2f42a3fd3b46fb255c")
        #expect(hex(keys.headerProtectionBytes) == "9f50449e04a0e810283a1e9933adedd2")
        // RFC 9369 §A.1, the same connection id under QUIC version 2.
        let v2 = QUICInitialKeys(version: QUICVersion(0x6B33_43CF), connectionID: [0x83, 0x94, 0xC8, 0xF0, 0x3E, 0x51, 0x57, 0x08],
                                 client: true)
        #expect(hex(v2.keyBytes) == "8b1a0bc121284290a29e0971b5cd045d")
        #expect(hex(v2.iv) == "91f73e2351d8fa91660e909f")
        #expect(hex(v2.headerProtectionBytes) == "45b95e15235d6f45a6b19cbcb0294ba9")
    }

    /// openssl's DTLS 1.2 on the appliance's playback port: ClientHello, ServerHello, certificate.
    @Test func dtlsHandshake() throws {
        let flow = try classify(port: 8443, server: "10.40.0.21")
        #expect(flow.facts.service == .dtls)
        let dtls = try #require(flow.facts.detail(DTLSFacts.self))
        #expect(dtls.tls.version == "dtls1.2" && dtls.tls.certificateNames == ["rn-appliance.store.lan"])
        #expect(dtls.tls.ja4?.hasPrefix("dd2i") == true)
    }

    /// The RTSP session's SETUP announced these RTP and RTCP flows (GStreamer's server): the
    /// pipeline labels them and links them to the session.
    @Test func mediaFlowsAnnouncedByRTSP() throws {
        var flows: [ClassifiedFlow] = []
        _ = CaptureRun.run(paths: [TestPaths.capture(Self.capture)]) { flows.append($0) }
        let rtsp = try #require(flows.first { $0.facts.service == .rtsp && $0.record.responderPort == 554 })
        let media = flows.filter { $0.facts.detail(RTPFacts.self)?.rtspSession == rtsp.record.uid }
        #expect(Set(media.compactMap(\.facts.service)) == [.rtp, .rtcp])
        #expect(media.first { $0.facts.service == .rtp }?.facts.detail(RTPFacts.self)?.payloadTypes.contains(26) == true)
    }

    /// QUIC PADDING is skipped 8 bytes at a time: the frames after it are found wherever the
    /// padding ends, at every length and alignment.
    @Test func quicPaddingOfEveryLengthEndsWhereTheNextFrameStarts() {
        let crypto: [UInt8] = [0x06, 0x00, 0x03, 0xAA, 0xBB, 0xCC]  // CRYPTO offset 0, 3 bytes
        for lead in 0..<3 {
            for padding in 0..<40 {
                let payload = [UInt8](repeating: 0x01, count: lead) + [UInt8](repeating: 0, count: padding) + crypto
                let frames = Self.cryptoFrames(payload)
                #expect(frames.count == 1 && frames.first?.0 == 0 && frames.first?.1 == [0xAA, 0xBB, 0xCC],
                        "lead \(lead), padding \(padding)")
                #expect(QUICFrames.endOfZeros(payload.span, from: lead) == lead + padding)
            }
        }
        let zeros = [UInt8](repeating: 0, count: 21)
        #expect(QUICFrames.endOfZeros(zeros.span, from: 0) == 21)
        #expect(QUICFrames.endOfZeros(zeros.span, from: 21) == 21)
        #expect(Self.cryptoFrames(zeros).isEmpty)
    }

    static func cryptoFrames(_ payload: [UInt8]) -> [(UInt64, [UInt8])] {
        var frames: [(UInt64, [UInt8])] = []
        QUICFrames.forEachCryptoFrame(payload.span) { frames.append(($0, Array(span: $1))) }
        return frames
    }
}
