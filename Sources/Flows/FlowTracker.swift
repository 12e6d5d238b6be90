public import Wire

/// Turns decoded packets into bidirectional flows and hands each finished flow to `sink` as a
/// `FlowRecord`.
///
/// What it does per packet: find or create the flow (ending the old one first when it timed out or
/// a new SYN reuses its 5-tuple), count packets and bytes per direction, run Zeek's TCP state machine,
/// attribute ICMP/ICMPv6 errors to the flow they quote, follow tunnels into their inner packets, and
/// attribute IP fragments to the flow of their datagram (reassembling UDP datagrams so later stages
/// can read a whole DNS answer).
///
/// Contract: memory grows with live flows and buffered fragments, both capped
/// (`FlowConfiguration.maximumFlows`, `fragmentMemoryLimit`); never with packets. Nothing is
/// allocated per packet on the common path (no fragments, no new flow). Flows are emitted when they
/// end — timed out, closed, reused, evicted — and all remaining ones by `finish()`, oldest first.
///
/// This is a value type on purpose: a run holds one tracker in a local variable, so the compiler
/// checks exclusive access statically instead of at run time on every field access.
public struct FlowTracker {
    public let configuration: FlowConfiguration
    public var decoder = PacketDecoder()
    public private(set) var anomalies = Anomalies()
    public private(set) var stats = Stats()

    private var table: FlowTable
    private let sink: (FlowRecord) -> Void
    /// The stage that inspects payloads and takes each ended flow, when there is one (else `sink`).
    /// Called as `observer?.method(...)` everywhere, never through a bound copy (`if let
    /// observer`): a copy is a retain and a release around every call — on every inspected packet,
    /// every new and every ended flow.
    private let observer: (any FlowObserver)?
    private var nextUID: UInt64 = 1
    private var now: Int64 = .min
    /// The flows a sweep or the end of the capture ends, in order (kept to reuse its storage).
    private var batch: [(index: Int, reason: FlowRecord.EndReason)] = []
    /// The states a sweep tests (kept to reuse its storage).
    private var candidates: [Int] = []
    /// How many candidates ahead the sweep asks for a state, and how much of it: the test reads
    /// the key's protocol, the times and the live flag, all in a state's first 112 bytes (176,
    /// as a state need not start on a cache line).
    private static let sweepPrefetchDistance = 8
    private static let sweepTestBytes = 176
    private var lastSweep: Int64 = .min
    private var packetsSinceSweep = 0
    private var fragments: [FragmentKey: FragmentEntry] = [:]
    private var fragmentBytes = 0
    private var quoteAnomalies = Anomalies()

    public struct Stats: Sendable {
        /// IP packets (outer and tunnelled) that were counted into flows.
        public var packets: UInt64 = 0
        public var flowsCreated: UInt64 = 0
        /// Flows ended, per `FlowRecord.EndReason.index`.
        var endedByReason: InlineArray<7, UInt64> = InlineArray(repeating: 0)
        public func flowsEnded(_ reason: FlowRecord.EndReason) -> UInt64 { endedByReason[reason.index] }
        public var flowsEvicted: UInt64 { flowsEnded(.evicted) }
        public var maximumLiveFlows = 0
        public var fragments: UInt64 = 0
        public var datagramsReassembled: UInt64 = 0
        public var icmpErrorsAttributed: UInt64 = 0
        public var tunnelPackets: [String: UInt64] = [:]
        /// The flow table's own memory at its largest (bytes).
        public var flowTableBytes = 0
    }

    /// Flow states reserved up front (584 bytes each: 150 MB of address space, not of memory);
    /// past that many live flows the states array grows by doubling again.
    static let reservedStates = 1 << 18

    /// Timed-out flows are ended when a packet of theirs arrives (exactly on time) or by a sweep
    /// (for memory and output), at most this often in capture time.
    static let sweepInterval: Int64 = 5 * FlowConfiguration.second

    /// A tracker that hands each ended flow to `sink`.
    public init(configuration: FlowConfiguration = FlowConfiguration(), sink: @escaping (FlowRecord) -> Void) {
        self.configuration = configuration
        self.sink = sink
        self.observer = nil
        self.table = FlowTable(initialCapacity: 1024, reservedStates: min(configuration.maximumFlows, Self.reservedStates))
    }

    /// A tracker that shows `observer` every flow's payloads while it asks for them, and hands it
    /// each ended flow.
    public init(configuration: FlowConfiguration = FlowConfiguration(), observer: any FlowObserver) {
        self.configuration = configuration
        self.sink = { _ in }
        self.observer = observer
        self.table = FlowTable(initialCapacity: 1024, reservedStates: min(configuration.maximumFlows, Self.reservedStates))
    }

    public var liveFlows: Int { table.count }

    // MARK: - Per packet

    /// Accounts one decoded IP packet (`packet.ipVersion != 0`) whose frame bytes are `frame`:
    /// captured at `time` (nanoseconds), `wireLength` bytes long on the wire, packet `number` of
    /// input `input` (for evidence: where to find the flow's first packet).
    public mutating func process(_ packet: inout DecodedPacket, frame: Span<UInt8>, time: Int64, wireLength: Int,
                                 input: Int, number: Int) {
        if time > now { now = time }
        if lastSweep == .min { lastSweep = now }
        packetsSinceSweep &+= 1
        if now &- lastSweep >= Self.sweepInterval && packetsSinceSweep >= 4096 && packetsSinceSweep >= table.count / 8 {
            sweep()
        }
        account(&packet, frame: frame, wireLength: wireLength, time: time, input: input, number: number, depth: 0, parent: 0)
    }

    /// Moves the tracker's clock to `time` without a packet (live capture on a quiet network) and
    /// ends the flows whose timers ran out, as a packet at that time would.
    public mutating func advance(to time: Int64) {
        guard time > now else { return }
        now = time
        if lastSweep == .min { lastSweep = now }
        if now &- lastSweep >= FlowConfiguration.second { sweep() }
    }

    /// The flows still open, as records of what they did so far (`end_reason` "open"), oldest
    /// first, with their slots (for the observer's own state). Nothing is ended or changed.
    public func openFlows() -> [(slot: Int, record: FlowRecord)] {
        table.liveIndices.sorted { (table[$0].firstTime, table[$0].uid) < (table[$1].firstTime, table[$1].uid) }
            .map { ($0, table[$0].record(reason: .open)) }
    }

    private mutating func account(_ p: inout DecodedPacket, frame: Span<UInt8>, wireLength: Int, time: Int64,
                                  input: Int, number: Int, depth: Int, parent: UInt64) {
        guard p.ipVersion != 0 else { return }
        stats.packets &+= 1
        if p.isFragment {
            fragment(&p, frame: frame, wireLength: wireLength, time: time, input: input, number: number, parent: parent)
            return
        }
        let (sourcePort, destinationPort) = Self.ports(of: &p)
        let key = FlowKey(source: p.source, sourcePort: sourcePort, destination: p.destination,
                          destinationPort: destinationPort, protocolNumber: p.protocolNumber.rawValue,
                          vlans: UInt32(p.vlanOuter) << 16 | UInt32(p.vlanInner))
        let fromA = key.isFromA(p.source, sourcePort)
        let index = flow(for: key, packet: &p, fromA: fromA, time: time, input: input, number: number, parent: parent)
        let fromOriginator = fromA == table[index].originatorIsA
        count(index, &p, fromOriginator: fromOriginator, wireLength: wireLength, time: time)
        if table[index].inspecting { inspect(index, &p, frame: frame, fromOriginator: fromOriginator, time: time) }

        if p.protocolNumber == .icmp || p.protocolNumber == .icmpv6 {
            if ICMPHeader.isError(type: p.icmpType, v6: p.protocolNumber == .icmpv6) {
                attributeICMPError(&p, frame: frame)
            }
        }
        if p.tunnel != .none {
            followTunnel(&p, frame: frame, wireLength: wireLength, time: time, input: input, number: number,
                         depth: depth, parent: table[index].uid)
        }
    }

    /// Flow-key ports: transport ports, or ICMP type and counterpart type/code (Zeek's ICMP keys).
    @inline(__always)
    static func ports(of p: inout DecodedPacket) -> (UInt16, UInt16) {
        switch p.protocolNumber.rawValue {
        case 6, 17, 132:
            return p.hasPorts ? (p.sourcePort, p.destinationPort) : (0, 0)
        case 1, 58:
            guard p.hasPorts else { return (0, 0) }
            let counterpart = ICMPCounterpart.of(type: p.icmpType, code: p.icmpCode, v6: p.protocolNumber.rawValue == 58)
            return (UInt16(p.icmpType), UInt16(counterpart))
        default:
            return (0, 0)
        }
    }

    /// Finds the live flow for `key`, ending it first when it expired or a SYN reuses it, or creates one.
    private mutating func flow(for key: FlowKey, packet p: inout DecodedPacket, fromA: Bool, time: Int64,
                               input: Int, number: Int, parent: UInt64) -> Int {
        let hash = key.hashValue64
        if let index = table.find(key, hash: hash) {
            if time > table[index].deadline {
                end(index, table[index].tcp.isUnansweredAttempt ? .attempt : .closed)
            } else if time &- table[index].lastTime > configuration.inactivity(for: key.protocolNumber) {
                end(index, .idle)
            } else if key.protocolNumber == 6 && p.transportComplete && p.tcpFlags.contains(.syn)
                        && table[index].tcp.isReuse(flags: p.tcpFlags, sequence: p.tcpSequence, anomalies: &anomalies) {
                end(index, .reused)
            } else {
                return index
            }
        }
        if table.count >= configuration.maximumFlows { makeRoom() }
        // The originator sent the first SYN: a SYN+ACK seen first means the other side did (Zeek flips
        // such connections and marks the history with '^').
        let flipped = p.protocolNumber == .tcp && p.transportComplete && p.tcpFlags.contains(.syn)
            && p.tcpFlags.contains(.ack)
        var state = FlowState(key: key, uid: nextUID, time: time, originatorIsA: flipped ? !fromA : fromA,
                              protocolNumber: p.protocolNumber, ipVersion: p.ipVersion, vlanOuter: p.vlanOuter,
                              firstInput: input, firstPacket: number)
        if flipped { state.history.add(UInt8(ascii: "^")) }
        state.tunnelParent = parent
        nextUID &+= 1
        stats.flowsCreated &+= 1
        let index = table.insert(state, hash: hash)
        if observer != nil {
            let originatorIsA = table[index].originatorIsA
            let start = FlowStart(slot: index, uid: table[index].uid, time: time, protocolNumber: p.protocolNumber,
                                  originator: originatorIsA ? key.addressA : key.addressB,
                                  originatorPort: originatorIsA ? key.portA : key.portB,
                                  responder: originatorIsA ? key.addressB : key.addressA,
                                  responderPort: originatorIsA ? key.portB : key.portA, tunnelParent: parent)
            table[index].inspecting = observer?.flowStarted(start) ?? false
        }
        // The next new flow's slot (usually a freed one, cold by now): its state and the observer's
        // entry are asked for now, a dozen packets before they are overwritten.
        let next = table.nextInsertIndex
        table.prefetch(next)
        observer?.willStart(slot: next)
        if table.count > stats.maximumLiveFlows {
            stats.maximumLiveFlows = table.count
            stats.flowTableBytes = max(stats.flowTableBytes, table.memoryBytes)
        }
        return index
    }

    @inline(__always)
    private mutating func count(_ index: Int, _ p: inout DecodedPacket, fromOriginator: Bool, wireLength: Int,
                                time: Int64) {
        let shortened = table[index].count(&p, fromOriginator: fromOriginator, wireLength: wireLength, time: time,
                                           timers: configuration.tcpTimers, anomalies: &anomalies)
        if shortened { table.wake(index, noLaterThan: table[index].deadline) }
    }

    // MARK: - Inspection

    /// Shows the observer one packet of a flow it inspects: TCP segments with payload or SYN/FIN/RST,
    /// UDP datagrams that are whole (a fragmented one comes when reassembled, from `deliverDatagram`).
    private mutating func inspect(_ index: Int, _ p: inout DecodedPacket, frame: Span<UInt8>, fromOriginator: Bool,
                                  time: Int64) {
        guard observer != nil, p.transportComplete else { return }
        let isTCP = p.protocolNumber == .tcp
        guard p.payloadCaptured > 0, isTCP || (p.protocolNumber == .udp && !p.isFragment) else { return }
        let sender = fromOriginator ? table[index].tcp.originator : table[index].tcp.responder
        let start = min(p.payloadOffset, frame.count)
        let end = min(frame.count, start &+ max(0, p.payloadCaptured))
        let segment = InspectedSegment(slot: index, uid: table[index].uid, time: time, fromOriginator: fromOriginator,
                                       protocolNumber: p.protocolNumber, tcpFlags: p.tcpFlags,
                                       // A SYN's data starts one after the SYN's own number.
                                       tcpSequence: p.tcpFlags.contains(.syn) ? p.tcpSequence &+ 1 : p.tcpSequence,
                                       streamBase: isTCP && sender.sawSYN ? sender.startSeq32 &+ 1 : nil,
                                       claimedLength: max(0, p.payloadLength),
                                       sourceMAC: p.hasMACs ? p.sourceMAC : 0,
                                       destinationMAC: p.hasMACs ? p.destinationMAC : 0)
        if observer?.inspect(segment, payload: frame.extracting(start..<end)) == false {
            table[index].inspecting = false
        }
    }

    // MARK: - ICMP errors

    /// An ICMP error quotes the IP header and first bytes of the packet that caused it; the quoted
    /// packet was sent by the flow's other side, toward the host that answered with the error.
    private mutating func attributeICMPError(_ p: inout DecodedPacket, frame: Span<UInt8>) {
        let end = min(frame.count, p.networkOffset &+ p.ipTotalLength)
        guard p.payloadOffset < end else {
            anomalies.note(.icmpErrorQuoteTruncated)
            return
        }
        let quoted = frame.extracting(p.payloadOffset..<end)
        var q = DecodedPacket()
        do {
            var quoteDecoder = decoder
            quoteDecoder.decodeTunnels = false
            try quoteDecoder.decode(quoted, start: .ip, into: &q, anomalies: &quoteAnomalies)
        } catch {
            anomalies.note(.icmpErrorQuoteTruncated)
            return
        }
        guard q.ipVersion != 0 else { return }
        let (sourcePort, destinationPort) = Self.ports(of: &q)
        let key = FlowKey(source: q.source, sourcePort: sourcePort, destination: q.destination,
                          destinationPort: destinationPort, protocolNumber: q.protocolNumber.rawValue,
                          vlans: UInt32(p.vlanOuter) << 16 | UInt32(p.vlanInner))
        guard let index = table.find(key, hash: key.hashValue64) else {
            anomalies.note(.icmpErrorQuotesUnknownFlow)
            return
        }
        stats.icmpErrorsAttributed &+= 1
        let code = UInt16(p.protocolNumber == .icmpv6 ? 0x8000 : 0) | UInt16(p.icmpType & 0x7F) << 8 | UInt16(p.icmpCode)
        let n = Int(table[index].icmpErrorCount)
        if n < 8 {
            table[index].icmpErrors[n] = code
            table[index].icmpErrorCount &+= 1
        }
    }

    // MARK: - Tunnels

    private mutating func followTunnel(_ p: inout DecodedPacket, frame: Span<UInt8>, wireLength: Int, time: Int64,
                                       input: Int, number: Int, depth: Int, parent: UInt64) {
        guard depth < configuration.maximumTunnelDepth else {
            anomalies.note(.tunnelTooDeep)
            return
        }
        let end = min(frame.count, p.networkOffset &+ p.ipTotalLength)
        guard p.innerOffset < end else { return }
        let innerFrame = frame.extracting(p.innerOffset..<end)
        var inner = DecodedPacket()
        do {
            try decoder.decode(innerFrame, start: p.innerStart, into: &inner, anomalies: &anomalies)
        } catch {
            anomalies.note(.tunnelInnerMalformed)
            return
        }
        guard inner.ipVersion != 0 else { return }
        stats.tunnelPackets[p.tunnel.name, default: 0] &+= 1
        if !inner.hasMACs && p.hasMACs {
            // The inner packet travelled in the outer frame: the outer MACs are the ones on this wire.
            inner.hasMACs = true
            inner.sourceMAC = p.sourceMAC
            inner.destinationMAC = p.destinationMAC
        }
        if inner.vlanOuter == DecodedPacket.noVLAN {
            inner.vlanOuter = p.vlanOuter
            inner.vlanInner = p.vlanInner
        }
        account(&inner, frame: innerFrame, wireLength: wireLength, time: time, input: input, number: number,
                depth: depth &+ 1, parent: parent)
    }

    // MARK: - Fragments

    private mutating func fragment(_ p: inout DecodedPacket, frame: Span<UInt8>, wireLength: Int, time: Int64,
                                   input: Int, number: Int, parent: UInt64) {
        stats.fragments &+= 1
        let fragmentKey = FragmentKey(source: p.source, destination: p.destination, identification: p.fragmentID,
                                      protocolNumber: p.protocolNumber.rawValue,
                                      vlans: UInt32(p.vlanOuter) << 16 | UInt32(p.vlanInner))
        // The entry is out of the table while it is worked on: creating a flow may sweep the table,
        // and a sweep must not expire the datagram being added to.
        var entry: FragmentEntry
        if let existing = fragments.removeValue(forKey: fragmentKey) {
            entry = existing
        } else {
            if fragments.count >= configuration.maximumFragmentedDatagrams { expireFragments(force: true) }
            entry = FragmentEntry(firstSeen: time, reassemble: p.protocolNumber == .udp)
        }
        let piece = FragmentEntry.Piece(time: time, ipBytes: p.ipTotalLength, wireLength: wireLength, input: input,
                                        number: number, sourceMAC: p.hasMACs ? p.sourceMAC : nil,
                                        destinationMAC: p.destinationMAC)
        if p.fragmentOffset == 0 {
            // The first fragment carries the transport header: it creates or finds the flow.
            let (sourcePort, destinationPort) = Self.ports(of: &p)
            let key = FlowKey(source: p.source, sourcePort: sourcePort, destination: p.destination,
                              destinationPort: destinationPort, protocolNumber: p.protocolNumber.rawValue,
                              vlans: fragmentKey.vlans)
            let fromA = key.isFromA(p.source, sourcePort)
            let index = flow(for: key, packet: &p, fromA: fromA, time: time, input: input, number: number, parent: parent)
            let fromOriginator = fromA == table[index].originatorIsA
            count(index, &p, fromOriginator: fromOriginator, wireLength: wireLength, time: time)
            entry.flow = (key, fromA)
            // Fragments that arrived before the first one now count to this flow.
            for early in entry.pending { countFragment(index, early, fromOriginator: fromOriginator) }
            entry.pending.removeAll()
        } else if let (key, fromA) = entry.flow {
            // The datagram's flow may have ended between its fragments (evicted): then a fresh one.
            let index = table.find(key, hash: key.hashValue64)
                ?? flow(for: key, packet: &p, fromA: fromA, time: time, input: input, number: number, parent: parent)
            countFragment(index, piece, fromOriginator: fromA == table[index].originatorIsA)
        } else if entry.pending.count < 64 {
            entry.pending.append(piece)
        } else {
            anomalies.note(.fragmentWithoutFirst)
        }
        if entry.reassemble { addFragmentData(&entry, &p, frame: frame) }
        if entry.isComplete {
            fragmentBytes &-= entry.data.count
            deliverDatagram(entry)
        } else {
            fragments[fragmentKey] = entry
        }
    }

    private mutating func countFragment(_ index: Int, _ piece: FragmentEntry.Piece, fromOriginator: Bool) {
        if piece.time > table[index].lastTime { table[index].lastTime = piece.time }
        if fromOriginator {
            table[index].originator.packets &+= 1
            table[index].originator.ipBytes &+= UInt64(piece.ipBytes)
            table[index].originator.wireBytes &+= UInt64(piece.wireLength)
        } else {
            table[index].responder.packets &+= 1
            table[index].responder.ipBytes &+= UInt64(piece.ipBytes)
            table[index].responder.wireBytes &+= UInt64(piece.wireLength)
        }
    }

    private mutating func addFragmentData(_ entry: inout FragmentEntry, _ p: inout DecodedPacket, frame: Span<UInt8>) {
        let end = min(frame.count, p.networkOffset &+ p.ipTotalLength)
        // The first fragment's payload offset is after the UDP header; reassemble from the IP payload.
        let from = p.fragmentOffset == 0 ? p.networkOffset &+ p.ipHeaderLength : p.payloadOffset
        guard from <= end else { return }
        let length = end &- from
        guard p.fragmentOffset &+ length <= 65_535 &+ 65_535 else {
            anomalies.note(.fragmentTooLarge)
            dropFragmentData(&entry)
            return
        }
        if fragmentBytes &+ length > configuration.fragmentMemoryLimit {
            anomalies.note(.fragmentMemoryLimit)
            expireFragments(force: true)
            guard fragmentBytes &+ length <= configuration.fragmentMemoryLimit else {
                dropFragmentData(&entry)
                return
            }
        }
        let before = entry.data.count
        if entry.add(frame.extracting(from..<end), at: p.fragmentOffset, isLast: !p.moreFragments) {
            anomalies.note(.fragmentOverlap)
        }
        fragmentBytes &+= entry.data.count &- before
        if !entry.reassemble {
            // Too scattered to put back together: keep counting its fragments, drop its bytes.
            anomalies.note(.fragmentMemoryLimit)
            dropFragmentData(&entry)
        }
    }

    private mutating func dropFragmentData(_ entry: inout FragmentEntry) {
        fragmentBytes &-= entry.data.count
        entry.reassemble = false
        entry.data = []
        entry.covered = []
    }

    private mutating func deliverDatagram(_ entry: FragmentEntry) {
        stats.datagramsReassembled &+= 1
        guard let (key, fromA) = entry.flow, let total = entry.totalLength, total >= 8,
              let index = table.find(key, hash: key.hashValue64) else { return }
        guard observer != nil, table[index].inspecting else { return }
        let fromOriginator = fromA == table[index].originatorIsA
        let segment = InspectedSegment(slot: index, uid: table[index].uid, time: table[index].lastTime,
                                       fromOriginator: fromOriginator, protocolNumber: .udp,
                                       tcpFlags: TCPFlags(rawValue: 0), tcpSequence: 0, streamBase: nil,
                                       claimedLength: total &- 8,
                                       sourceMAC: 0, destinationMAC: 0)
        if observer?.inspect(segment, payload: entry.data.span.extracting(8..<total)) == false {
            table[index].inspecting = false
        }
    }

    /// A datagram whose other fragments never came: the observer still sees what its first
    /// fragment(s) carried (a cut datagram, like a snapped packet), so a lost tail does not hide
    /// what the start says.
    private mutating func deliverPartialDatagram(_ entry: FragmentEntry) {
        guard observer != nil, entry.reassemble, let (key, fromA) = entry.flow,
              let first = entry.covered.first, first.lowerBound == 0, first.upperBound > 8,
              let index = table.find(key, hash: key.hashValue64), table[index].inspecting else { return }
        let claimed = entry.data.count >= 8 ? Int(entry.data.span.be16(4)) &- 8 : 0
        let segment = InspectedSegment(slot: index, uid: table[index].uid, time: table[index].lastTime,
                                       fromOriginator: fromA == table[index].originatorIsA, protocolNumber: .udp,
                                       tcpFlags: TCPFlags(rawValue: 0), tcpSequence: 0, streamBase: nil,
                                       claimedLength: max(claimed, first.upperBound &- 8), sourceMAC: 0, destinationMAC: 0)
        if observer?.inspect(segment, payload: entry.data.span.extracting(8..<first.upperBound)) == false {
            table[index].inspecting = false
        }
    }

    /// Ends incomplete datagrams that waited longer than the fragment timeout (all of them when
    /// `force`, to make room); fragments whose first fragment never came count to a port-less flow.
    private mutating func expireFragments(force: Bool) {
        var expired = fragments.filter { force || now &- $0.value.firstSeen > configuration.fragmentTimeout }
            .map { (key: $0.key, firstSeen: $0.value.firstSeen) }
            .sorted { $0.firstSeen < $1.firstSeen }
            .map(\.key)
        if force { expired = Array(expired.prefix(max(1, expired.count / 4))) }
        for fragmentKey in expired {
            guard let entry = fragments.removeValue(forKey: fragmentKey) else { continue }
            fragmentBytes &-= entry.data.count
            anomalies.note(.fragmentReassemblyTimeout)
            deliverPartialDatagram(entry)
            guard !entry.pending.isEmpty else { continue }
            anomalies.note(.fragmentWithoutFirst, count: UInt64(entry.pending.count))
            let key = FlowKey(source: fragmentKey.source, sourcePort: 0, destination: fragmentKey.destination,
                              destinationPort: 0, protocolNumber: fragmentKey.protocolNumber, vlans: fragmentKey.vlans)
            let fromA = key.isFromA(fragmentKey.source, 0)
            var q = DecodedPacket()
            q.ipVersion = fragmentKey.source.isIPv4 ? 4 : 6
            q.protocolNumber = IPProtocol(rawValue: fragmentKey.protocolNumber)
            q.vlanOuter = UInt16(fragmentKey.vlans >> 16)
            let first = entry.pending[0]
            let index = flow(for: key, packet: &q, fromA: fromA, time: first.time, input: first.input,
                             number: first.number, parent: 0)
            if table[index].firstTime > first.time { table[index].firstTime = first.time }
            if let mac = first.sourceMAC, !table[index].hasMACs {
                table[index].hasMACs = true
                table[index].originatorMAC = mac
                table[index].responderMAC = first.destinationMAC
            }
            for piece in entry.pending {
                countFragment(index, piece, fromOriginator: fromA == table[index].originatorIsA)
            }
        }
    }

    // MARK: - Ending flows

    /// Ends flows whose timers ran out. Runs every second of capture time at most, and only after
    /// enough packets that its cost stays a small fraction per packet.
    private mutating func sweep() {
        lastSweep = now
        packetsSinceSweep = 0
        // The same test as `flow(for:)`'s, read from the state only where the wake time (a lower
        // bound of the flow's expiry, see `FlowTable.wake`) has passed. Those states are listed
        // first, so that each can be asked for a few ahead of its test (it is out of the caches
        // as often as not: the flow went quiet).
        candidates.removeAll(keepingCapacity: true)
        for index in 0..<table.capacity where table.wake[index] < now { candidates.append(index) }
        for k in candidates.indices {
            if k &+ Self.sweepPrefetchDistance < candidates.count {
                table.prefetch(candidates[k &+ Self.sweepPrefetchDistance], bytes: Self.sweepTestBytes)
            }
            let index = candidates[k]
            guard table[index].isLive else { continue }
            let inactivity = configuration.inactivity(for: table[index].key.protocolNumber)
            if now > table[index].deadline {
                batch.append((index, table[index].tcp.isUnansweredAttempt ? .attempt : .closed))
            } else if now &- table[index].lastTime > inactivity {
                batch.append((index, .idle))
            } else {
                let (idleAt, overflow) = table[index].lastTime.addingReportingOverflow(inactivity)
                table.setWake(index, min(table[index].deadline, overflow ? .max : idleAt))
            }
        }
        endBatch()
        if !fragments.isEmpty { expireFragments(force: false) }
    }

    /// At the flow cap: end timed-out flows, then the least recently active sixteenth.
    private mutating func makeRoom() {
        sweep()
        guard table.count >= configuration.maximumFlows else { return }
        var times = table.states.filter(\.isLive).map(\.lastTime)
        let victims = max(1, times.count / 16)
        times.sort()
        let cutoff = times[victims - 1]
        var ended = 0
        for index in table.states.indices where ended < victims && table.states[index].isLive
            && table.states[index].lastTime <= cutoff {
            anomalies.note(.flowEvicted)
            end(index, .evicted)
            ended += 1
        }
    }

    /// Ends the flows of `batch`, in order, and empties it. Flows end in batches when they went
    /// quiet, so their state, the observer's, and the observer's session objects are out of the
    /// caches: each is asked for a few flows ahead (the state and the observer's entry three
    /// ahead; the state's probe slot and what the observer's entry points to two and one ahead),
    /// so that it arrives while the flows before it are finished instead of stalling each flow's
    /// end in turn. Ending one flow changes nothing the others' ends read, so the order and the
    /// records are those of ending them one by one.
    private mutating func endBatch() {
        let count = batch.count
        var k = 0
        while k < count {
            if k &+ 3 < count {
                let next = batch[k &+ 3].index
                table.prefetch(next)
                observer?.willEnd(slot: next, ahead: 3)
            }
            if k &+ 2 < count {
                let next = batch[k &+ 2].index
                table.prefetchSlot(of: next)
                observer?.willEnd(slot: next, ahead: 2)
            }
            if k &+ 1 < count { observer?.willEnd(slot: batch[k &+ 1].index, ahead: 1) }
            end(batch[k].index, batch[k].reason)
            k &+= 1
        }
        batch.removeAll(keepingCapacity: true)
    }

    private mutating func end(_ index: Int, _ reason: FlowRecord.EndReason) {
        let record = table[index].record(reason: reason)
        table.remove(at: index)
        stats.endedByReason[reason.index] &+= 1
        if observer != nil {
            observer?.flowEnded(record, slot: index)
        } else {
            sink(record)
        }
    }

    /// Ends every remaining flow (the capture is over), oldest first. Fragments still waiting for
    /// the rest of their datagram count to their flow first.
    public mutating func finish() {
        if !fragments.isEmpty {
            now = .max
            expireFragments(force: false)
        }
        let remaining = table.liveIndices.sorted {
            (table[$0].firstTime, table[$0].uid) < (table[$1].firstTime, table[$1].uid)
        }
        batch = remaining.map { ($0, .endOfCapture) }
        endBatch()
    }
}

// MARK: - Flow state operations

extension FlowState {
    /// Counts one packet into the flow and runs the protocol's state (one access to the flow's
    /// storage per packet).
    /// - Returns: whether the flow's deadline moved earlier (the tracker's wake time must follow).
    @inline(__always)
    mutating func count(_ p: inout DecodedPacket, fromOriginator: Bool, wireLength: Int, time: Int64,
                        timers: FlowConfiguration.TCPTimers, anomalies: inout Anomalies) -> Bool {
        let ipBytes = UInt64(p.ipTotalLength)
        let payload = UInt64(max(0, p.payloadLength))
        lastTime = time
        if fromOriginator {
            originator.packets &+= 1
            originator.ipBytes &+= ipBytes
            originator.wireBytes &+= UInt64(wireLength)
            originator.payloadBytes &+= payload
        } else {
            responder.packets &+= 1
            responder.ipBytes &+= ipBytes
            responder.wireBytes &+= UInt64(wireLength)
            responder.payloadBytes &+= payload
        }
        if p.hasMACs {
            if !hasMACs {
                hasMACs = true
                originatorMAC = fromOriginator ? p.sourceMAC : p.destinationMAC
                responderMAC = fromOriginator ? p.destinationMAC : p.sourceMAC
            } else if p.destinationMAC == 0 {
                // Cooked captures record only the sender's address: each side fills in its own.
                if fromOriginator { originatorMAC = p.sourceMAC } else { responderMAC = p.sourceMAC }
            }
        }
        switch protocolNumber.rawValue {
        case 6:
            if p.transportComplete {
                return trackTCP(fromOriginator: fromOriginator, &p, time: time, timers: timers,
                                anomalies: &anomalies)
            }
        case 17:
            history.check(fromOriginator ? 0x1 : 0x2, UInt8(ascii: "D"), originator: fromOriginator)
        default:
            break
        }
        return false
    }

    /// - Returns: whether `deadline` moved earlier.
    mutating func trackTCP(fromOriginator: Bool, _ p: inout DecodedPacket, time: Int64,
                           timers: FlowConfiguration.TCPTimers, anomalies: inout Anomalies) -> Bool {
        let outcome = tcp.process(fromOriginator: fromOriginator, flags: p.tcpFlags, sequence: p.tcpSequence,
                                  acknowledgment: p.tcpAcknowledgment, window: p.tcpWindow,
                                  payloadLength: max(0, p.payloadLength), history: &history, anomalies: &anomalies)
        if outcome.attemptStarted && tcp.isUnansweredAttempt { attemptDeadline = time &+ timers.attemptDelay }
        if outcome.closeCompleted && closeDeadline == .max { closeDeadline = time &+ timers.closeDelay }
        var d = closeDeadline
        if tcp.isUnansweredAttempt { d = min(d, attemptDeadline) }
        if tcp.isLingering { d = min(d, time &+ timers.linger) }
        let shortened = d < deadline
        deadline = d
        return shortened
    }

    func record(reason: FlowRecord.EndReason) -> FlowRecord {
        let originatorAddress = originatorIsA ? key.addressA : key.addressB
        let responderAddress = originatorIsA ? key.addressB : key.addressA
        let originatorPort = originatorIsA ? key.portA : key.portB
        let responderPort = originatorIsA ? key.portB : key.portA
        let state: ConnState
        let originatorBytes: UInt64, responderBytes: UInt64
        var missed: UInt64 = 0
        switch protocolNumber.rawValue {
        case 6:
            state = tcp.connState(history: history)
            originatorBytes = tcp.size(originator: true)
            responderBytes = tcp.size(originator: false)
            missed = tcp.originator.missedBytes &+ tcp.responder.missedBytes
        case 17:
            switch (originator.packets > 0, responder.packets > 0) {
            case (true, true): state = .sf
            case (true, false): state = .s0
            case (false, true): state = .shr
            default: state = .oth
            }
            originatorBytes = originator.payloadBytes
            responderBytes = responder.payloadBytes
        default:
            state = .oth
            originatorBytes = originator.payloadBytes
            responderBytes = responder.payloadBytes
        }
        var errors: [String] = []
        for i in 0..<Int(icmpErrorCount) {
            let code = icmpErrors[i]
            errors.append("\((code >> 8) & 0x7F)/\(code & 0xFF)")
        }
        return FlowRecord(
            uidNumber: uid, start: firstTime, end: lastTime,
            originator: originatorAddress, originatorPort: originatorPort,
            responder: responderAddress, responderPort: responderPort,
            protocolNumber: protocolNumber, ipVersion: ipVersion,
            originatorBytes: originatorBytes, responderBytes: responderBytes,
            originatorCounters: originator, responderCounters: responder,
            connState: state, history: history,
            vlan: vlanOuter == DecodedPacket.noVLAN ? nil : vlanOuter,
            originatorMAC: hasMACs && originatorMAC != 0 ? MACAddress(bits: originatorMAC) : nil,
            responderMAC: hasMACs && responderMAC != 0 ? MACAddress(bits: responderMAC) : nil,
            icmpErrors: errors,
            tunnelParentNumber: tunnelParent == 0 ? nil : tunnelParent,
            missedBytes: missed, firstInput: Int(firstInput), firstPacket: Int(firstPacket),
            endReason: reason, service: nil, serverName: nil, serverNameSource: nil)
    }
}
