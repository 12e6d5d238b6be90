import Wire

/// One UDP flow that carries STUN, DTLS and RTP/RTCP together (WebRTC; RFC 7983 §7 tells them
/// apart by the first byte: 0–3 STUN, 16–19 ZRTP, 20–63 DTLS, 64–79 TURN ChannelData, 128–191
/// RTP/RTCP). The flow's service is what was seen first; `services` lists them all.
final class MultiplexSession: ProtocolSession {
    var order: [Service]
    var stun = STUNFacts()
    var rtp = RTPFacts()
    var assemblers = (DTLSHandshakeAssembler(), DTLSHandshakeAssembler())
    var clientHello: TLSClientHello?
    var serverHello: TLSServerHello?
    var certificateNames: [String] = []
    var sawDTLSApplicationData = (false, false)
    var datagrams = 0

    init(first: Service) {
        order = [first]
    }

    var wantsMore: Bool { datagrams < Self.datagramsRead }
    /// Enough to see the STUN exchange, a DTLS handshake and the media behind them.
    static let datagramsRead = 24

    func consume(_ bytes: Span<UInt8>, context: inout SessionContext) -> Consumption {
        if context.transport == .tcp { return consumeStream(bytes, context: context) }
        datagrams &+= 1
        dispatch(bytes, direction: context.direction, depth: 0)
        return datagrams >= Self.datagramsRead ? .done : .consumed(bytes.count)
    }

    /// STUN over TCP: messages back to back, or each behind a 2-byte length (RFC 4571, ICE-TCP).
    private func consumeStream(_ b: Span<UInt8>, context: SessionContext) -> Consumption {
        if let m = STUNMessage(parsing: b) {
            read(m)
            return .consumed(m.length)
        }
        if b.count >= 22, let m = STUNMessage(parsing: b.extracting(2...)), Int(b.be16(0)) == m.length {
            read(m)
            return .consumed(2 &+ m.length)
        }
        if b.count >= 4 && b[0] >= 0x40 && b[0] < 0x80 {
            // TURN ChannelData over TCP: channel(2) length(2) data, padded to 4 (RFC 8656 §12.5).
            return .consumed(4 &+ ((Int(b.be16(2)) &+ 3) & ~3))
        }
        return b.count < 20 && !context.isFinal ? .needMore : .done
    }

    private func dispatch(_ b: Span<UInt8>, direction: Direction, depth: Int) {
        guard !b.isEmpty else { return }
        switch b[0] {
        case 0...3:
            if let m = STUNMessage(parsing: b) {
                note(.stun)
                read(m)
            }
        case 20...63:
            if let records = DTLSRecords.records(b) {
                note(.dtls)
                read(records, b, direction)
            }
        case 64...79 where depth == 0 && b.count >= 4:
            // TURN ChannelData (RFC 8656 §12.4): channel(2) length(2) application data.
            let length = min(Int(b.be16(2)), b.count &- 4)
            dispatch(b.extracting(4..<(4 &+ length)), direction: direction, depth: 1)
        case 128...191:
            if let types = RTCPPacket.types(b) {
                note(.rtcp)
                for t in types where !rtp.rtcpTypes.contains(Int(t)) && rtp.rtcpTypes.count < 8 { rtp.rtcpTypes.append(Int(t)) }
            } else if let header = RTPHeader(parsing: b) {
                note(.rtp)
                if !rtp.payloadTypes.contains(Int(header.payloadType)) && rtp.payloadTypes.count < 8 {
                    rtp.payloadTypes.append(Int(header.payloadType))
                }
            }
        default:
            break
        }
    }

    private func note(_ service: Service) {
        if !order.contains(service) { order.append(service) }
    }

    private func read(_ m: STUNMessage) {
        if !stun.messages.contains(m.name) && stun.messages.count < 12 { stun.messages.append(m.name) }
        if stun.mappedAddress == nil, let a = m.mappedAddress { stun.mappedAddress = a }
        if let s = m.software, !stun.software.contains(s), stun.software.count < 4 { stun.software.append(s) }
        if stun.realm == nil { stun.realm = m.realm }
        if let e = m.errorCode, !stun.errorCodes.contains(e), stun.errorCodes.count < 4 { stun.errorCodes.append(e) }
        if !m.hasMagicCookie { stun.classic = true }
    }

    private func read(_ records: [DTLSRecords.Record], _ b: Span<UInt8>, _ direction: Direction) {
        for record in records {
            switch record.type {
            case 22 where record.epoch == 0:
                let complete = direction == .fromOriginator ? assemblers.0.add(b, record.body) : assemblers.1.add(b, record.body)
                for (type, body) in complete { handshake(type, body) }
            case 23:
                if direction == .fromOriginator { sawDTLSApplicationData.0 = true } else { sawDTLSApplicationData.1 = true }
            default:
                break
            }
        }
    }

    private func handshake(_ type: UInt8, _ body: [UInt8]) {
        switch type {
        case 1 where clientHello == nil:
            clientHello = TLSClientHello(parsing: body.span, dtls: true)
        case 2 where serverHello == nil:
            serverHello = TLSServerHello(parsing: body.span)
        case 11 where certificateNames.isEmpty:
            certificateNames = CertificateNames.fromCertificateMessage(body.span)
        default:
            break
        }
    }

    func finish(_ ending: FlowEnding, into facts: inout FlowFacts) {
        for service in order where !facts.services.contains(service) { facts.services.append(service) }
        if order.contains(.stun) { facts.details.append(stun) }
        if order.contains(.dtls) {
            var tls = TLSFacts(clientHello: clientHello, transport: .dtls)
            if let server = serverHello {
                tls.version = TLSVersion.name(server.version)
                tls.cipherSuite = server.cipherSuite.map { "0x" + hex4($0) }
            }
            tls.certificateNames = certificateNames
            if clientHello != nil || serverHello != nil {
                tls.outcome = TLSSession.outcome(serverHello: serverHello != nil, alert: false,
                                                 applicationData: sawDTLSApplicationData.0 && sawDTLSApplicationData.1,
                                                 ending: ending)
            }
            facts.details.append(DTLSFacts(tls: tls))
            if let name = tls.serverName, !name.isEmpty {
                facts.serverName = name
                facts.serverNameSource = .sni
            }
        }
        if order.contains(.rtp) || order.contains(.rtcp) { facts.details.append(rtp) }
    }
}
