public import Wire

/// A finished flow, as `audit flows` prints it (`../shared/spec/flow-records.md`): Zeek conn.log
/// fields plus this project's own. Built once per flow when it ends; renderers never see flow-table
/// internals.
public struct FlowRecord: Sendable, Equatable {
    /// A stable id within the run, Zeek-style (`C` and base-62 digits).
    public var uid: String
    /// The numeric identity behind `uid` (creation order within the run).
    public var uidNumber: UInt64
    /// First and last packet times, nanoseconds since the epoch.
    public var start: Int64
    public var end: Int64
    public var originator: IPAddress
    public var originatorPort: UInt16
    public var responder: IPAddress
    public var responderPort: UInt16
    public var protocolNumber: IPProtocol
    public var ipVersion: UInt8
    /// Payload bytes each way (TCP: from sequence numbers, as Zeek; others: summed).
    public var originatorBytes: UInt64
    public var responderBytes: UInt64
    public var originatorCounters: DirectionCounters
    public var responderCounters: DirectionCounters
    public var connState: ConnState
    public var history: String
    public var vlan: UInt16?
    public var originatorMAC: MACAddress?
    public var responderMAC: MACAddress?
    /// ICMP errors quoting this flow, as `type/code`, in the order seen.
    public var icmpErrors: [String]
    /// The uid of the tunnel flow that carried this one.
    public var tunnelParent: String?
    /// Bytes acknowledged but never seen (Zeek's `missed_bytes`): loss in the capture.
    public var missedBytes: UInt64
    /// Where the flow's first packet is: input index and 1-based packet number (Wireshark's frame).
    public var firstInput: Int
    public var firstPacket: Int
    /// Why the flow ended.
    public var endReason: EndReason
    /// Application service and server name: set by classification (later stages); absent here.
    public var service: String?
    public var serverName: String?
    public var serverNameSource: String?

    public var duration: Int64 { end - start }

    public enum EndReason: String, Sendable {
        /// No packet for the protocol's inactivity timeout.
        case idle
        /// TCP: closed or reset, and the close delay passed (Zeek's `tcp_close_delay`).
        case closed
        /// TCP: a SYN attempt unanswered for `tcp_attempt_delay`.
        case attempt
        /// TCP: a new SYN on the same 5-tuple started another connection.
        case reused
        /// Removed to keep the flow table under its cap.
        case evicted
        /// Still open when the capture ended.
        case endOfCapture = "end_of_capture"
    }

    /// Zeek's uid alphabet and length: `C` plus base-62 digits of a mixed 64-bit number.
    static func uidString(_ number: UInt64) -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        var x = FlowKey.mix(number &+ 0x5A5A_1234_9876_ABCD)
        var s = "C"
        for _ in 0..<11 {
            s.append(alphabet[Int(x % 62)])
            x /= 62
        }
        return s
    }
}
