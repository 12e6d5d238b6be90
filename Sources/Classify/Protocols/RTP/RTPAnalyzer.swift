import Wire
public import Flows

/// What a media flow showed.
public struct RTPFacts: ProtocolFacts, Equatable {
    public static let key = "rtp"
    public var payloadTypes: [Int] = []
    public var ssrcs: [String] = []
    public var rtcpTypes: [Int] = []
    /// The RTSP flow whose SETUP announced this one.
    public var rtspSession: String?

    public func report<Sink: FactSink>(to sink: inout Sink) {
        sink.add("payload_types", numbers: payloadTypes)
        sink.add("ssrc", ssrcs)
        sink.add("rtcp_types", numbers: rtcpTypes)
        sink.add("rtsp_uid", rtspSession)
    }

    public init() {}
}

/// RTP by content (RFC 3550): two packets from one side with the same SSRC and payload type and
/// sequence numbers a little apart. One packet is never enough: a version-2 first byte is common.
/// Datagrams that are not RTP (keepalives, STUN checks) do not rule it out until the budget is
/// spent. Over TCP, packets are framed by a 2-byte length (RFC 4571).
public final class RTPAnalyzer: ProtocolAnalyzer {
    public let service = Service.rtp
    public let transports: [Transport] = [.udp, .tcp]
    public let hintPorts: [UInt16] = [5004, 5006]
    public let probeDatagrams = 4
    public let probeBytes = 4096

    public init() {}

    public static func probe(_ bytes: Span<UInt8>, previous: Span<UInt8>, context: ProbeContext) -> ProbeVerdict {
        if context.transport == .tcp { return Self.probeFramed(bytes, isFinal: context.isFinal) }
        guard let header = RTPHeader(parsing: bytes), let before = RTPHeader(parsing: previous) else { return .needMore }
        return before.isFollowed(by: header) ? .match : .needMore
    }

    /// RFC 4571 framing: `length(2) packet`, twice, the second following the first.
    static func probeFramed(_ b: Span<UInt8>, isFinal: Bool) -> ProbeVerdict {
        guard b.count >= 3 else { return isFinal ? .noMatch : .needMore }
        let first = Int(b.be16(0))
        guard first >= 12, b[2] >> 6 == 2 else { return .noMatch }
        guard b.count >= 2 &+ first &+ 2 &+ 12 else { return isFinal ? .noMatch : .needMore }
        guard let a = RTPHeader(parsing: b.extracting(2..<(2 &+ first))) else { return .noMatch }
        let second = Int(b.be16(2 &+ first))
        let start = 4 &+ first
        guard second >= 12, let c = RTPHeader(parsing: b.extracting(start..<min(b.count, start &+ second))) else { return .noMatch }
        return a.isFollowed(by: c) ? .match : .noMatch
    }

    public func makeSession(flow: FlowStart) -> any ProtocolSession {
        RTPSession(expectation: nil)
    }
}

/// RTCP by content (RFC 3550 §6): a compound packet whose lengths add up exactly.
public final class RTCPAnalyzer: ProtocolAnalyzer {
    public let service = Service.rtcp
    public let transports: [Transport] = [.udp]
    public let hintPorts: [UInt16] = [5005, 5007]
    public let probeDatagrams = 4

    public init() {}

    public static func probe(_ bytes: Span<UInt8>, previous: Span<UInt8>, context: ProbeContext) -> ProbeVerdict {
        guard bytes.count >= 8, let types = RTCPPacket.types(bytes) else { return .needMore }
        // A compound packet starts with SR or RR (RFC 3550 §6.1); reduced-size RTCP (RFC 5506)
        // may start with feedback (205, 206) or SDES/BYE.
        return (200...206).contains(types[0]) ? .match : .noMatch
    }

    public func makeSession(flow: FlowStart) -> any ProtocolSession {
        RTPSession(expectation: nil)
    }
}

/// Reads a media flow's first datagrams: payload types and sources (RTP), packet types (RTCP).
final class RTPSession: ProtocolSession {
    var facts = RTPFacts()
    var datagrams = 0
    let expectation: MediaExpectations.Expectation?

    init(expectation: MediaExpectations.Expectation?) {
        self.expectation = expectation
        if let expectation { facts.rtspSession = FlowRecord.uidString(expectation.session) }
    }

    var wantsMore: Bool { datagrams < 8 }

    func consume(_ bytes: Span<UInt8>, context: inout SessionContext) -> Consumption {
        if context.transport == .tcp {
            // RFC 4571: length(2) packet.
            guard bytes.count >= 2 else { return context.isFinal ? .done : .needMore }
            let length = Int(bytes.be16(0))
            guard bytes.count >= 2 &+ length else { return context.isFinal ? .done : .needMore }
            read(bytes.extracting(2..<(2 &+ length)))
            return datagrams >= 8 ? .done : .consumed(2 &+ length)
        }
        read(bytes)
        return datagrams >= 8 ? .done : .consumed(bytes.count)
    }

    private func read(_ bytes: Span<UInt8>) {
        datagrams &+= 1
        if let types = RTCPPacket.types(bytes) {
            for t in types where !facts.rtcpTypes.contains(Int(t)) && facts.rtcpTypes.count < 8 {
                facts.rtcpTypes.append(Int(t))
            }
        } else if let header = RTPHeader(parsing: bytes) {
            if !facts.payloadTypes.contains(Int(header.payloadType)) && facts.payloadTypes.count < 8 {
                facts.payloadTypes.append(Int(header.payloadType))
            }
            let ssrc = "0x" + hex4(UInt16(header.ssrc >> 16)) + hex4(UInt16(header.ssrc & 0xFFFF))
            if !facts.ssrcs.contains(ssrc) && facts.ssrcs.count < 8 { facts.ssrcs.append(ssrc) }
        }
    }

    func finish(_ ending: FlowEnding, into facts: inout FlowFacts) {
        if !self.facts.rtcpTypes.isEmpty && !facts.services.contains(.rtcp) && facts.service != .rtcp {
            if self.facts.payloadTypes.isEmpty, facts.service == .rtp {
                // Announced as RTP by RTSP but carries only RTCP (rtcp-mux off, the odd port).
                facts.service = .rtcp
                facts.services = Service.rtcp.alone
            } else {
                facts.services.append(.rtcp)
            }
        }
        facts.details.append(self.facts)
    }
}
