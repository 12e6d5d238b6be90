public import Flows
import Wire

/// What a DTLS handshake showed: the TLS facts, under their own key.
public struct DTLSFacts: ProtocolFacts, Equatable {
    public static let key = "dtls"
    public var tls: TLSFacts
    public func report<Sink: FactSink>(to sink: inout Sink) { tls.report(to: &sink) }
}

/// DTLS (RFC 6347, RFC 9147) over UDP: records whose headers fill the datagram exactly, starting
/// with an epoch-0 handshake, or from a later epoch when the capture began mid-connection.
public final class DTLSAnalyzer: ProtocolAnalyzer {
    public let service = Service.dtls
    public let transports: [Transport] = [.udp]
    public let hintPorts: [UInt16] = [443, 4433, 8443, 5061, 3478]
    public let probeDatagrams = 2

    public init() {}

    public static func probe(_ bytes: Span<UInt8>, previous: Span<UInt8>, context: ProbeContext) -> ProbeVerdict {
        DTLSRecords.probe(bytes)
    }

    public func makeSession(flow: FlowStart) -> any ProtocolSession { MultiplexSession(first: .dtls) }
}
