public import Devices
public import Wire

/// Frame bytes each local device sent and received, in total and per time window, counted on
/// every frame as it is read (not from flows: a flow's bytes say nothing of when they moved).
///
/// Contract: a frame with IP counts for its source address (sent) and its destination address
/// (received) when they are local; a frame without IP (ARP, LLDP) counts for the hardware
/// addresses it names, and those are credited to the device with that MAC when the audit ends.
/// Tunnelled packets count once, by their outer addresses. Memory grows with devices and
/// windows, never with packets. Not thread-safe: the reading thread calls `frame`.
public final class TrafficMeter: @unchecked Sendable {
    public struct Meter: Sendable {
        public var sent: UInt64 = 0
        public var received: UInt64 = 0
        /// Bytes per window, by window index from the capture's first frame.
        public var sentByWindow: [Int: UInt64] = [:]
        public var receivedByWindow: [Int: UInt64] = [:]

        mutating func add(sent bytes: UInt64, window: Int) {
            sent &+= bytes
            sentByWindow[window, default: 0] &+= bytes
        }

        mutating func add(received bytes: UInt64, window: Int) {
            received &+= bytes
            receivedByWindow[window, default: 0] &+= bytes
        }

        public mutating func merge(_ other: Meter) {
            sent &+= other.sent
            received &+= other.received
            sentByWindow.merge(other.sentByWindow, uniquingKeysWith: +)
            receivedByWindow.merge(other.receivedByWindow, uniquingKeysWith: +)
        }
    }

    public let local: LocalNetworks
    /// The window peaks are measured over (nanoseconds).
    public let window: Int64
    public private(set) var first: Int64?
    public private(set) var last: Int64?
    public private(set) var byAddress: [IPAddress: Meter] = [:]
    /// Frames without IP, by hardware address.
    public private(set) var byMAC: [UInt64: Meter] = [:]

    public init(local: LocalNetworks, window: Int64) {
        self.local = local
        self.window = max(window, 1_000_000)
    }

    public func frame(_ decoded: borrowing DecodedPacket, time: Int64, wireLength: Int) {
        if first == nil { first = time }
        if time > last ?? .min { last = time }
        let index = Int((time &- (first ?? time)) / window)
        let bytes = UInt64(wireLength)
        if decoded.ipVersion != 0 {
            if local.isLocal(decoded.source) { byAddress[decoded.source, default: Meter()].add(sent: bytes, window: index) }
            if local.isLocal(decoded.destination) {
                byAddress[decoded.destination, default: Meter()].add(received: bytes, window: index)
            }
        } else if decoded.hasMACs {
            byMAC[decoded.sourceMAC, default: Meter()].add(sent: bytes, window: index)
            byMAC[decoded.destinationMAC, default: Meter()].add(received: bytes, window: index)
        }
    }

    /// A copy of the counts so far (taken on the reading thread, read on another).
    public func copy() -> TrafficMeter {
        let other = TrafficMeter(local: local, window: window)
        other.first = first
        other.last = last
        other.byAddress = byAddress
        other.byMAC = byMAC
        return other
    }

    /// Seconds from the first frame to the last.
    public var span: Double {
        guard let first, let last else { return 0 }
        return Double(last &- first) / 1e9
    }
}
