public import Wire

/// A finished flow, as `audit flows` prints it (`../shared/spec/flow-records.md`): Zeek conn.log
/// fields plus this project's own. Built once per flow when it ends; renderers never see flow-table
/// internals.
public struct FlowRecord: Sendable, Equatable {
    /// The numeric identity behind `uid` (creation order within the run).
    public var uidNumber: UInt64
    /// A stable id within the run, Zeek-style (`C` and 11 base-62 digits).
    public var uid: String { FlowRecord.uidString(uidNumber) }
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
    /// Zeek's history letters (`history.string` is the conn.log text).
    public var history: History
    public var vlan: UInt16?
    public var originatorMAC: MACAddress?
    public var responderMAC: MACAddress?
    /// ICMP errors quoting this flow, as `type/code`, in the order seen.
    public var icmpErrors: [String]
    /// The uid number of the tunnel flow that carried this one.
    public var tunnelParentNumber: UInt64?
    /// The uid of the tunnel flow that carried this one.
    public var tunnelParent: String? { tunnelParentNumber.map(FlowRecord.uidString) }
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

    public enum EndReason: String, Sendable, CaseIterable {
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
        /// Not ended: a snapshot of a flow still open (a live report while capture goes on).
        case open

        var index: Int {
            switch self {
            case .idle: 0
            case .closed: 1
            case .attempt: 2
            case .reused: 3
            case .evicted: 4
            case .endOfCapture: 5
            case .open: 6
            }
        }
    }

    /// The 12 bytes of a uid: `C` plus base-62 digits (`0-9A-Za-z`) of a mixed 64-bit number.
    public static func uidBytes(_ number: UInt64) -> InlineArray<12, UInt8> {
        var x = FlowKey.mix(number &+ 0x5A5A_1234_9876_ABCD)
        var bytes: InlineArray<12, UInt8> = InlineArray(repeating: UInt8(ascii: "C"))
        for i in 1..<12 {
            let q = x / 62
            let digit = x &- q &* 62
            // Without branches (random digits mispredicted two of them per digit): 10 and more
            // skip the 7 bytes between '9' and 'A', 36 and more also the 6 between 'Z' and 'a'.
            let atLeast10 = (9 &- Int(digit)) >> 63, atLeast36 = (35 &- Int(digit)) >> 63
            bytes[i] = UInt8(truncatingIfNeeded: 0x30 &+ Int(digit) &+ (atLeast10 & 7) &+ (atLeast36 & 6))
            x = q
        }
        return bytes
    }

    /// Zeek's uid form: `C` plus 11 base-62 digits.
    public static func uidString(_ number: UInt64) -> String {
        let bytes = uidBytes(number)
        var array = [UInt8](repeating: 0, count: 12)
        for i in 0..<12 { array[i] = bytes[i] }
        return String(decoding: array, as: UTF8.self)
    }
}
