import CLibpcap

/// Facts about the libpcap this binary is linked with (live capture and BPF filters use it; capture
/// files are read by SpanAudit's own readers).
public enum LibpcapInfo {
    /// libpcap's version string, e.g. "libpcap version 1.10.3 (with TPACKET_V3)".
    public static var version: String {
        guard let text = unsafe pcap_lib_version() else { return "libpcap (unknown version)" }
        return unsafe String(cString: text)
    }
}
