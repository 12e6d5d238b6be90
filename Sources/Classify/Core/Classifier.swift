public import Flows
public import Wire

/// Limits and choices of classification.
public struct ClassifierConfiguration: Sendable {
    /// How long after its TTL a DNS answer still names an address (nanoseconds).
    public var dnsGrace: Int64 = 300 * 1_000_000_000
    /// Bytes one direction may keep waiting for one message (at least 16 KiB: a ClientHello with
    /// post-quantum key shares is ~1.8 KB, a TLS 1.2 certificate chain several KB).
    public var maximumMessageBytes = 32 * 1024
    /// Stream offsets beyond this are not inspected.
    public var maximumStreamOffset = 1 << 20
    /// Bytes all flows together may keep waiting; past it, flows still being probed are let go.
    public var maximumBufferedBytes = 64 << 20
    /// Out-of-order segments one direction may hold.
    public var maximumEarlySegments = 16

    public init() {}
}

/// Names every flow: runs the protocols' probes over the first bytes of each direction (content
/// decides; ports only order the probes), then the matched protocol's session over what follows,
/// and hands each ended flow on (`EndedFlow`, turned into facts by `finish()`).
///
/// It is the flow tracker's `FlowObserver`. The work is done by `ClassifierCore`, a value held in
/// one stored property: each callback is one access to it, so the per-packet path pays for one
/// dynamic exclusivity check instead of one per field. Per-flow state lives in arrays indexed by
/// the flow's slot; a flow it has seen enough of costs the tracker one flag test per packet.
public final class Classifier: FlowObserver {
    private var core: ClassifierCore
    private let output: (consuming EndedFlow) -> Void

    public var configuration: ClassifierConfiguration { core.configuration }
    public var shared: SharedClassification { core.shared }
    public var anomalies: Anomalies { core.anomalies }
    public var stats: Stats { core.stats }

    public struct Stats: Sendable {
        /// Flows per service, by `Service.rawValue` (counted by `count(_:)` as flows are finished).
        var flows: InlineArray<32, UInt64> = InlineArray(repeating: 0)
        /// Flows per service that had any.
        public var flowsByService: [Service: UInt64] {
            var out: [Service: UInt64] = [:]
            for service in Service.allCases where flows[Int(service.rawValue)] > 0 { out[service] = flows[Int(service.rawValue)] }
            return out
        }
        /// Flows left unnamed.
        public var unclassifiedFlows: UInt64 = 0
        /// Packets shown to classification, and flows with payload it looked into.
        public var packetsInspected: UInt64 = 0
        public var flowsInspected: UInt64 = 0
        /// The most bytes flows kept waiting at once.
        public var peakBufferedBytes = 0

        public init() {}

        /// Counts a finished flow under its service.
        public mutating func count(_ flow: ClassifiedFlow) {
            if let service = flow.facts.service { flows[Int(service.rawValue)] &+= 1 } else { unclassifiedFlows &+= 1 }
        }

        /// Adds the service counts of `other` (kept where flows were finished) to these.
        public mutating func addCounts(_ other: Stats) {
            for i in 0..<32 { flows[i] &+= other.flows[i] }
            unclassifiedFlows &+= other.unclassifiedFlows
        }
    }

    /// `output` receives each ended flow; `EndedFlow.finish()` turns it into facts (on this thread
    /// or another: it touches nothing the classifier still uses).
    public init(configuration: ClassifierConfiguration = ClassifierConfiguration(),
                analyzers: [any ProtocolAnalyzer] = ProtocolRegistry.all,
                output: @escaping (consuming EndedFlow) -> Void) {
        core = ClassifierCore(configuration: configuration, analyzers: analyzers)
        self.output = output
    }

    public func flowStarted(_ flow: borrowing FlowStart) -> Bool {
        core.flowStarted(flow)
    }

    public func inspect(_ segment: borrowing InspectedSegment, payload: Span<UInt8>) -> Bool {
        core.inspect(segment, payload)
    }

    public func flowEnded(_ record: consuming FlowRecord, slot: Int) {
        core.flowEnded(record, slot: slot, to: output)
    }

    public func willEnd(slot: Int, ahead: Int) {
        core.willEnd(slot: slot, ahead: ahead)
    }

    public func willStart(slot: Int) {
        core.willStart(slot: slot)
    }

    /// An open flow as if it ended now, for a report while capture goes on: what its session
    /// learned so far (shared with the live session: finish it on this thread, before the next
    /// packet). Nothing of the flow's state changes.
    public func snapshot(_ record: FlowRecord, slot: Int) -> EndedFlow {
        core.snapshot(record, slot: slot)
    }
}

/// The classifier's state and logic, as a value (see `Classifier`).
struct ClassifierCore {
    let configuration: ClassifierConfiguration
    let shared: SharedClassification
    var anomalies = Anomalies()
    var stats = Classifier.Stats()

    private let analyzers: [any ProtocolAnalyzer]
    /// Their types, whose static probes the probe loop calls (no reference counting).
    private let probeTypes: [any ProtocolAnalyzer.Type]
    /// Each analyzer's `probeBytes` and `probeDatagrams`, read once.
    private let probeBudgets: [(bytes: Int, datagrams: Int)]
    private let transportMasks: (tcp: UInt64, udp: UInt64)
    /// Per port: which analyzers list it as a hint (TCP and UDP).
    private let tcpHints: PortHints
    private let udpHints: PortHints
    private var flows: [FlowInspection] = []
    /// Payload state of flows with payload, indexed by `FlowInspection.payload`; freed entries are
    /// reused (no allocation per flow once the array has grown).
    private var payloads: [PayloadState] = []
    private var freePayloads: [Int32] = []
    private var bufferedBytes = 0
    private let limits: StreamPrefix.Limits

    init(configuration: ClassifierConfiguration, analyzers: [any ProtocolAnalyzer]) {
        precondition(analyzers.count <= 64, "at most 64 protocols (one bit each)")
        self.configuration = configuration
        self.shared = SharedClassification(dnsGrace: configuration.dnsGrace)
        self.analyzers = analyzers
        self.probeTypes = analyzers.map { type(of: $0) }
        self.probeBudgets = analyzers.map { ($0.probeBytes, $0.probeDatagrams) }
        var tcp: UInt64 = 0, udp: UInt64 = 0
        var tcpHints = PortHints()
        var udpHints = PortHints()
        for (i, analyzer) in analyzers.enumerated() {
            let bit = UInt64(1) << UInt64(i)
            for transport in analyzer.transports {
                switch transport {
                case .tcp:
                    tcp |= bit
                    for port in analyzer.hintPorts { tcpHints.add(bit, port: port) }
                case .udp:
                    udp |= bit
                    for port in analyzer.hintPorts { udpHints.add(bit, port: port) }
                }
            }
        }
        self.transportMasks = (tcp, udp)
        self.tcpHints = tcpHints
        self.udpHints = udpHints
        var limits = StreamPrefix.Limits()
        limits.maximumHeldBytes = configuration.maximumMessageBytes
        limits.maximumOffset = configuration.maximumStreamOffset
        limits.maximumEarlySegments = configuration.maximumEarlySegments
        self.limits = limits
    }

    // MARK: - Flow start and end

    mutating func flowStarted(_ flow: borrowing FlowStart) -> Bool {
        let slot = flow.slot
        if flows.count <= slot { flows.append(contentsOf: repeatElement(FlowInspection(), count: slot &+ 1 &- flows.count)) }
        let dnsName = shared.name(for: flow.responder, client: flow.originator, at: flow.time)
        var phase = FlowInspection.Phase.probing
        var transport = Transport.tcp
        var candidates: UInt64 = 0, hinted: UInt64 = 0
        var service: Service?
        var session: (any ProtocolSession)?
        switch flow.protocolNumber {
        case .tcp:
            candidates = transportMasks.tcp
            hinted = tcpHints[flow.responderPort] | tcpHints[flow.originatorPort]
        case .udp:
            transport = .udp
            candidates = transportMasks.udp
            hinted = udpHints[flow.responderPort] | udpHints[flow.originatorPort]
            if !shared.media.isEmpty,
               let expected = shared.media.match(flow.originator, flow.originatorPort, flow.responder,
                                                 flow.responderPort, at: flow.time) {
                // RTSP announced this flow: no probing, its session reads it.
                service = expected.service
                session = RTPSession(expectation: expected)
                phase = .session
            }
        default:
            phase = .done
        }
        flows[slot].reset(start: flow, transport: transport, phase: phase, candidates: candidates, hinted: hinted,
                          service: service, dnsName: dnsName)
        if let session {
            let p = allocatePayload(slot)
            payloads[p].session = session
        }
        return phase != .done
    }

    /// Hands the ended flow to `output`, built in the call (returned, the value was built once and
    /// then copied into place: a copy and a destroy per flow, ~1 % of the reading thread).
    mutating func flowEnded(_ record: consuming FlowRecord, slot: Int, to output: (consuming EndedFlow) -> Void) {
        guard slot < flows.count, flows[slot].uid == record.uidNumber, flows[slot].uid != 0 else {
            output(EndedFlow(record: record, service: nil, session: nil, dnsName: nil, notes: []))
            return
        }
        let p = Int(flows[slot].payload)
        var session: (any ProtocolSession)?
        var notes: [String] = []
        if p >= 0 {
            if flows[slot].transport == .tcp && flows[slot].phase != .done {
                // Messages still waiting for bytes that will not come: read what there is.
                let time = record.end
                for direction in Direction.allCases {
                    var stream = takeStream(p, direction)
                    stream.finish { bytes, isFinal in
                        handleStream(slot, p, direction, bytes, isFinal: isFinal, time: time, sourceMAC: 0)
                    }
                    putStream(p, direction, &stream)
                }
            }
            session = payloads[p].session.take()
            swap(&notes, &payloads[p].notes)
            freePayload(slot)
        }
        let service = flows[slot].service
        let dnsName = flows[slot].dnsName.take()
        flows[slot].clear()
        output(EndedFlow(record: record, service: service, session: session, dnsName: dnsName, notes: notes))
    }

    /// Prefetches the entry `flowStarted` will reset for the next new flow (its old values are
    /// read to be released: a stall on a cold line, half of `flowStarted`'s samples).
    mutating func willStart(slot: Int) {
        flows.prefetch(slot)
    }

    /// Prefetches what `flowEnded` will read for `slot` (see `FlowObserver.willEnd`): the slot's
    /// entry three flows ahead, its payload state two ahead, the session object one ahead, each
    /// found through the one before, which has arrived by then.
    mutating func willEnd(slot: Int, ahead: Int) {
        guard slot >= 0, slot < flows.count else { return }
        if ahead == 3 {
            flows.prefetch(slot)
            return
        }
        let p = Int(flows[slot].payload)
        guard p >= 0, p < payloads.count else { return }
        switch ahead {
        case 2: payloads.prefetch(p)
        case 1: if let session = payloads[p].session { prefetch(session, bytes: 128) }
        default: break
        }
    }

    func snapshot(_ record: FlowRecord, slot: Int) -> EndedFlow {
        guard slot < flows.count, flows[slot].uid == record.uidNumber, flows[slot].uid != 0 else {
            return EndedFlow(record: record)
        }
        let p = Int(flows[slot].payload)
        return EndedFlow(record: record, service: flows[slot].service, session: p >= 0 ? payloads[p].session : nil,
                         dnsName: flows[slot].dnsName, notes: p >= 0 ? payloads[p].notes : [])
    }

    // MARK: - Packets

    mutating func inspect(_ segment: borrowing InspectedSegment, _ payload: Span<UInt8>) -> Bool {
        let slot = segment.slot
        guard slot < flows.count, flows[slot].uid == segment.uid, flows[slot].phase != .done else { return false }
        stats.packetsInspected &+= 1
        var p = Int(flows[slot].payload)
        if p < 0 {
            p = allocatePayload(slot)
            stats.flowsInspected &+= 1
        }
        let direction: Direction = segment.fromOriginator ? .fromOriginator : .fromResponder
        if flows[slot].transport == .udp {
            inspectDatagram(slot, p, direction, segment, payload)
        } else {
            inspectSegment(slot, p, direction, segment, payload)
        }
        return flows[slot].phase != .done
    }

    // MARK: - UDP

    private mutating func inspectDatagram(_ slot: Int, _ p: Int, _ direction: Direction,
                                          _ segment: borrowing InspectedSegment, _ payload: Span<UInt8>) {
        let d = direction.rawValue
        if flows[slot].phase == .probing {
            let index = payloads[p].countDatagram(d)
            let context = ProbeContext(transport: .udp, direction: direction,
                                       originatorPort: flows[slot].start.originatorPort,
                                       responderPort: flows[slot].start.responderPort, datagramIndex: index,
                                       claimedLength: segment.claimedLength)
            let previous = payloads[p].previous(d)
            if let matched = runProbes(slot, payload, previous: previous.bytes.span.extracting(0..<previous.count),
                                       context: context, budgetUnits: index) {
                startSession(slot, p, analyzer: matched)
            } else {
                if flows[slot].candidates == 0 {
                    stopInspecting(slot, p)
                } else {
                    payloads[p].keep(payload, d)
                }
                return
            }
        }
        guard flows[slot].phase == .session, let session = payloads[p].session, !payloads[p].isDone(d) else { return }
        var context = sessionContext(slot, direction, time: segment.time, isFinal: false,
                                     claimedLength: segment.claimedLength, sourceMAC: segment.sourceMAC)
        if session.consume(payload, context: &context) == .done { payloads[p].setDone(d) }
        if !session.wantsMore || (payloads[p].isDone(0) && payloads[p].isDone(1)) { stopInspecting(slot, p) }
    }

    // MARK: - TCP

    private mutating func inspectSegment(_ slot: Int, _ p: Int, _ direction: Direction,
                                         _ segment: borrowing InspectedSegment, _ payload: Span<UInt8>) {
        if bufferedBytes > configuration.maximumBufferedBytes && flows[slot].phase == .probing && !payload.isEmpty {
            anomalies.note(.inspectionMemoryLimit)
            stopInspecting(slot, p)
            return
        }
        var stream = takeStream(p, direction)
        let before = stream.memory
        let time = segment.time, mac = segment.sourceMAC
        stream.accept(sequence: segment.tcpSequence, base: segment.streamBase, payload: payload,
                      claimedLength: segment.claimedLength, limits: limits) { bytes, isFinal in
            handleStream(slot, p, direction, bytes, isFinal: isFinal, time: time, sourceMAC: mac)
        }
        if stream.ended == .gap || stream.ended == .overflow { noteStreamEnd(p, stream.ended) }
        bufferedBytes &+= stream.memory &- before
        if bufferedBytes > stats.peakBufferedBytes { stats.peakBufferedBytes = bufferedBytes }
        putStream(p, direction, &stream)

        if let other = payloads[p].refeed {
            // A protocol matched on this direction: its session reads the other one from the start.
            payloads[p].refeed = nil
            var otherStream = takeStream(p, other)
            let otherBefore = otherStream.memory
            otherStream.refeed { bytes, isFinal in
                handleStream(slot, p, other, bytes, isFinal: isFinal, time: time, sourceMAC: 0)
            }
            bufferedBytes &+= otherStream.memory &- otherBefore
            putStream(p, other, &otherStream)
        }
        if flows[slot].phase == .done || (payloads[p].streams.0.isEnded && payloads[p].streams.1.isEnded)
            || (flows[slot].phase == .session && !(payloads[p].session?.wantsMore ?? false)) {
            stopInspecting(slot, p)
        }
    }

    /// The consumer of one direction's stream: probes while the flow is unnamed, then its session.
    private mutating func handleStream(_ slot: Int, _ p: Int, _ direction: Direction, _ bytes: Span<UInt8>,
                                       isFinal: Bool, time: Int64, sourceMAC: UInt64) -> Consumption {
        if flows[slot].phase == .probing {
            let context = ProbeContext(transport: .tcp, direction: direction,
                                       originatorPort: flows[slot].start.originatorPort,
                                       responderPort: flows[slot].start.responderPort, isFinal: isFinal)
            guard let matched = runProbes(slot, bytes, previous: Span(), context: context, budgetUnits: bytes.count) else {
                if flows[slot].candidates == 0 {
                    flows[slot].phase = .done
                    return .done
                }
                return .needMore
            }
            startSession(slot, p, analyzer: matched)
            payloads[p].refeed = direction.reversed
        }
        guard flows[slot].phase == .session, let session = payloads[p].session else { return .done }
        var context = sessionContext(slot, direction, time: time, isFinal: isFinal, claimedLength: bytes.count,
                                     sourceMAC: sourceMAC)
        return session.consume(bytes, context: &context)
    }

    // MARK: - Probing

    /// Runs the remaining candidates' probes, hinted ones first; returns the analyzer that matched.
    /// `budgetUnits`: bytes seen (TCP) or datagrams seen before this one (UDP), against each
    /// analyzer's `probeBytes` / `probeDatagrams`.
    private mutating func runProbes(_ slot: Int, _ bytes: Span<UInt8>, previous: Span<UInt8>, context: ProbeContext,
                                    budgetUnits: Int) -> Int? {
        var remaining = flows[slot].candidates
        let hinted = flows[slot].hinted
        for pass in 0..<2 {
            var mask = pass == 0 ? remaining & hinted : remaining & ~hinted
            while mask != 0 {
                let i = mask.trailingZeroBitCount
                mask &= mask &- 1
                switch probeTypes[i].probe(bytes, previous: previous, context: context) {
                case .match:
                    flows[slot].candidates = remaining
                    return i
                case .noMatch:
                    remaining &= ~(UInt64(1) << UInt64(i))
                case .needMore:
                    let exhausted = context.transport == .tcp ? budgetUnits >= probeBudgets[i].bytes
                                                              : budgetUnits &+ 1 >= probeBudgets[i].datagrams
                    if context.isFinal || exhausted { remaining &= ~(UInt64(1) << UInt64(i)) }
                }
            }
        }
        flows[slot].candidates = remaining
        return nil
    }

    private mutating func startSession(_ slot: Int, _ p: Int, analyzer index: Int) {
        flows[slot].phase = .session
        flows[slot].service = analyzers[index].service
        payloads[p].session = analyzers[index].makeSession(flow: flows[slot].start)
        payloads[p].previous = (KeptDatagram(), KeptDatagram())
    }

    private mutating func stopInspecting(_ slot: Int, _ p: Int) {
        flows[slot].phase = .done
        bufferedBytes &-= payloads[p].memory
        payloads[p].releaseBuffers()
    }

    private mutating func noteStreamEnd(_ p: Int, _ end: StreamPrefix.End?) {
        switch end {
        case .gap:
            if !payloads[p].notes.contains("stream_gap") { payloads[p].notes.append("stream_gap") }
        case .overflow:
            anomalies.note(.inspectionMessageTooLarge)
            if !payloads[p].notes.contains("message_too_large") { payloads[p].notes.append("message_too_large") }
        default:
            break
        }
    }

    private func sessionContext(_ slot: Int, _ direction: Direction, time: Int64, isFinal: Bool, claimedLength: Int,
                                sourceMAC: UInt64) -> SessionContext {
        SessionContext(transport: flows[slot].transport, direction: direction, time: time, isFinal: isFinal,
                       claimedLength: claimedLength, flow: flows[slot].start, sourceMAC: sourceMAC, shared: shared)
    }

    // MARK: - Payload state storage

    private mutating func allocatePayload(_ slot: Int) -> Int {
        let p: Int
        if let free = freePayloads.popLast() {
            p = Int(free)
        } else {
            p = payloads.count
            payloads.append(PayloadState())
        }
        flows[slot].payload = Int32(p)
        return p
    }

    private mutating func freePayload(_ slot: Int) {
        let p = Int(flows[slot].payload)
        bufferedBytes &-= payloads[p].memory
        payloads[p] = PayloadState()
        freePayloads.append(Int32(p))
        flows[slot].payload = -1
    }

    /// Takes one direction's stream out (so that its consumer may use `self` freely).
    @inline(__always)
    private mutating func takeStream(_ p: Int, _ direction: Direction) -> StreamPrefix {
        var stream = StreamPrefix()
        if direction == .fromOriginator { swap(&stream, &payloads[p].streams.0) } else { swap(&stream, &payloads[p].streams.1) }
        return stream
    }

    /// Puts `stream` back by swapping (assigned, it was copied: a retain of each of its buffers per
    /// segment, and a release of the copy left behind).
    @inline(__always)
    private mutating func putStream(_ p: Int, _ direction: Direction, _ stream: inout StreamPrefix) {
        if direction == .fromOriginator { swap(&stream, &payloads[p].streams.0) } else { swap(&stream, &payloads[p].streams.1) }
    }
}

/// Which analyzers (one bit each) list a port among their hints. A table of 65,536 masks (512 KiB)
/// missed the cache on every flow's ephemeral port. Hinted ports fall in a few dozen blocks of 64
/// ports: a 2 KiB index names each port's block, and only blocks with a hinted port have masks.
struct PortHints {
    /// Per block of 64 ports: 0, or 1 + the block's place in `masks`.
    private var blockIndex = [UInt16](repeating: 0, count: 65_536 / 64)
    private var masks: [UInt64] = []

    mutating func add(_ bit: UInt64, port: UInt16) {
        let block = Int(port >> 6)
        if blockIndex[block] == 0 {
            masks.append(contentsOf: repeatElement(0, count: 64))
            blockIndex[block] = UInt16(masks.count / 64)
        }
        masks[(Int(blockIndex[block]) &- 1) &* 64 &+ Int(port & 63)] |= bit
    }

    subscript(port: UInt16) -> UInt64 {
        let place = Int(blockIndex[Int(port >> 6)])
        guard place > 0 else { return 0 }
        return masks[(place &- 1) &* 64 &+ Int(port & 63)]
    }
}

/// Classification state of one live flow: small and kept in place (no copies per packet). What
/// only flows with payload need is in `ClassifierCore.payloads`, at index `payload`.
struct FlowInspection {
    enum Phase: UInt8 {
        case probing, session, done
    }

    var uid: UInt64 = 0
    var start = FlowStart(slot: 0, uid: 0, time: 0, protocolNumber: IPProtocol(rawValue: 0), originator: .zero,
                          originatorPort: 0, responder: .zero, responderPort: 0, tunnelParent: 0)
    var transport = Transport.tcp
    var phase = Phase.done
    /// Analyzers (one bit each) that may still match, and those the ports hint at.
    var candidates: UInt64 = 0
    var hinted: UInt64 = 0
    var service: Service?
    var dnsName: String?
    /// Index of the flow's payload state, or -1.
    var payload: Int32 = -1

    mutating func reset(start: FlowStart, transport: Transport, phase: Phase, candidates: UInt64, hinted: UInt64,
                        service: Service?, dnsName: String?) {
        self.uid = start.uid
        self.start = start
        self.transport = transport
        self.phase = phase
        self.candidates = candidates
        self.hinted = hinted
        self.service = service
        self.dnsName = dnsName
        self.payload = -1
    }

    mutating func clear() {
        uid = 0
        phase = .done
        dnsName = nil
        payload = -1
    }
}

/// The start of a datagram kept for a probe that compares two (RTP): inline, no allocation.
struct KeptDatagram {
    var bytes: InlineArray<32, UInt8> = InlineArray(repeating: 0)
    var count = 0

    mutating func keep(_ payload: Span<UInt8>) {
        count = min(payload.count, 32)
        for i in 0..<count { bytes[i] = payload[i] }
    }
}

/// What a flow with payload needs while it is inspected.
struct PayloadState {
    var streams = (StreamPrefix(), StreamPrefix())
    /// UDP while probing: datagrams per direction, and the start of each direction's last one.
    // Per direction as plain fields, not InlineArrays: an InlineArray read through `payloads[p]`
    // made Swift copy the whole PayloadState per datagram (its subscript needs an address).
    var datagrams = (UInt32(0), UInt32(0))
    var previous = (KeptDatagram(), KeptDatagram())
    var directionDone = (false, false)

    /// Counts a datagram of direction `d`; returns how many came before it.
    mutating func countDatagram(_ d: Int) -> Int {
        if d == 0 {
            defer { datagrams.0 &+= 1 }
            return Int(datagrams.0)
        }
        defer { datagrams.1 &+= 1 }
        return Int(datagrams.1)
    }

    func previous(_ d: Int) -> KeptDatagram { d == 0 ? previous.0 : previous.1 }

    mutating func keep(_ payload: Span<UInt8>, _ d: Int) {
        if d == 0 { previous.0.keep(payload) } else { previous.1.keep(payload) }
    }

    func isDone(_ d: Int) -> Bool { d == 0 ? directionDone.0 : directionDone.1 }

    mutating func setDone(_ d: Int) {
        if d == 0 { directionDone.0 = true } else { directionDone.1 = true }
    }
    var session: (any ProtocolSession)?
    /// A direction whose waiting bytes a new session must read.
    var refeed: Direction?
    var notes: [String] = []

    var memory: Int { streams.0.memory &+ streams.1.memory }

    mutating func releaseBuffers() {
        streams = (StreamPrefix(), StreamPrefix())
    }
}
