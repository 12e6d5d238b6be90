/// Every protocol classification knows, in probe order (hinted ones first, then this order: strong
/// signatures before weak heuristics). Adding a protocol: a folder under `Protocols/` and one line here.
public enum ProtocolRegistry {
    public static let all: [any ProtocolAnalyzer] = [
        TLSAnalyzer(),
        QUICAnalyzer(),
        DTLSAnalyzer(),
        STUNAnalyzer(),
        HTTPAnalyzer(),
        RTSPAnalyzer(),
        SSDPAnalyzer(),
        DNSAnalyzer(),
        MDNSAnalyzer(),
        DHCPAnalyzer(),
        SSHAnalyzer(),
        IKEAnalyzer(),
        NTPAnalyzer(),
        RTMPAnalyzer(),
        WebSocketAnalyzer(),
        RTCPAnalyzer(),
        RTPAnalyzer(),
    ]
}
