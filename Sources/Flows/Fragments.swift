import Wire

/// Identifies one fragmented datagram (RFC 791 §3.2: source, destination, protocol and
/// identification; RFC 8200 §4.5 likewise for IPv6), per VLAN.
struct FragmentKey: Hashable {
    var source: IPAddress
    var destination: IPAddress
    var identification: UInt32
    var protocolNumber: UInt8
    var vlans: UInt32
}

/// The fragments of one datagram seen so far: which flow they count to (known once the first
/// fragment, the one with the transport header, arrives), counts of fragments that came before it,
/// and for UDP the datagram's bytes being put back together.
///
/// Contract: bytes are placed at their fragment offset; overlapping bytes keep the first copy
/// (Linux and RFC 5722 discard overlapping IPv6 fragments; keeping the first is what most stacks
/// do for IPv4) and are reported; the datagram is complete when the last fragment fixed its length
/// and every byte before it is present.
struct FragmentEntry {
    struct Piece {
        var time: Int64
        var ipBytes: Int
        var wireLength: Int
        var input: Int
        var number: Int
        var sourceMAC: UInt64?
        var destinationMAC: UInt64
    }

    var firstSeen: Int64
    var flow: (FlowKey, Bool)?
    var pending: [Piece] = []
    var reassemble: Bool
    var data: [UInt8] = []
    /// Byte ranges present, sorted and disjoint.
    var covered: [Range<Int>] = []
    var totalLength: Int?

    init(firstSeen: Int64, reassemble: Bool) {
        self.firstSeen = firstSeen
        self.reassemble = reassemble
    }

    var isComplete: Bool {
        guard reassemble, let total = totalLength else { return false }
        return covered.count == 1 && covered[0].lowerBound == 0 && covered[0].upperBound >= total
    }

    /// At most this many separate byte ranges per datagram (a hostile capture of tiny, scattered
    /// fragments stops being reassembled instead of costing quadratic time).
    static let maximumRanges = 64

    /// Places `bytes` at `offset`; returns whether they overlapped bytes already present. Bytes
    /// already present are kept (the first copy wins).
    mutating func add(_ bytes: Span<UInt8>, at offset: Int, isLast: Bool) -> Bool {
        let end = offset &+ bytes.count
        if isLast { totalLength = end }
        if data.count < end { data += [UInt8](repeating: 0, count: end &- data.count) }
        var overlapped = false
        var position = offset
        // `covered` is sorted and disjoint: copy the stretches between the ranges that intersect.
        for range in covered where range.upperBound > offset && range.lowerBound < end {
            overlapped = true
            let stretchEnd = min(range.lowerBound, end)
            if position < stretchEnd {
                data.overwrite(at: position, with: bytes, (position &- offset)..<(stretchEnd &- offset))
            }
            position = max(position, range.upperBound)
        }
        if position < end {
            data.overwrite(at: position, with: bytes, (position &- offset)..<(end &- offset))
        }
        covered.append(offset..<end)
        covered.sort { $0.lowerBound < $1.lowerBound }
        var merged: [Range<Int>] = []
        for r in covered {
            if let last = merged.last, r.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, r.upperBound)
            } else {
                merged.append(r)
            }
        }
        covered = merged
        if covered.count > Self.maximumRanges { reassemble = false }
        return overlapped
    }
}
