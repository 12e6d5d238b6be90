import Testing
import TestSupport
@testable import Classify
@testable import Flows
@testable import Wire

/// Hostile captures are normal: no probe and no session may trap or loop on any bytes — random
/// ones, real messages cut at every length, or real traffic with bytes flipped.
@Suite struct RobustnessTests {
    static let flow = FlowStart(slot: 0, uid: 1, time: 1_000_000_000, protocolNumber: .udp,
                                originator: IPAddress("10.0.0.1")!, originatorPort: 40000,
                                responder: IPAddress("10.0.0.2")!, responderPort: 443, tunnelParent: 0)

    /// Feeds `bytes` to `session` as the stream prefix would: message after message until it needs
    /// more, is done, or skips past the end. Returns the number of calls.
    @discardableResult
    static func feed(_ session: any ProtocolSession, _ bytes: [UInt8], transport: Transport, direction: Direction,
                     isFinal: Bool, shared: SharedClassification) -> Int {
        var context = SessionContext(transport: transport, direction: direction, time: 2_000_000_000, isFinal: isFinal,
                                     claimedLength: bytes.count, flow: flow, sourceMAC: 0, shared: shared)
        guard transport == .tcp else {
            _ = session.consume(bytes.span, context: &context)
            return 1
        }
        var position = 0, calls = 0
        while position < bytes.count, calls < 10_000 {
            calls += 1
            switch session.consume(bytes.span.extracting(position...), context: &context) {
            case .consumed(let n) where n > 0: position += n
            default: return calls
            }
        }
        return calls
    }

    static func ending(_ transport: Transport) -> FlowEnding {
        var c = Conversation(proto: transport == .tcp ? .tcp : .udp, client: flow.originator, clientPort: 40000,
                             server: flow.responder, serverPort: 443)
        c.payloads = [.init(fromClient: false, sequence: 0, bytes: [1], claimed: 1)]
        return FlowEnding(record: ClassifierDriver.record(c, uid: 1))
    }

    @Test func randomBytesNeverTrap() {
        var random = SeededGenerator(seed: 0xBAD_B17E5)
        var sessionsFed = 0
        for analyzer in ProtocolRegistry.all {
            for transport in analyzer.transports {
                let shared = SharedClassification(dnsGrace: 0)
                for round in 0..<400 {
                    // Mostly short buffers, where length checks matter most, some long ones.
                    let count = round % 8 == 0 ? Int.random(in: 0...4000, using: &random) : Int.random(in: 0...80, using: &random)
                    var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
                    // Give every probe a start it might accept: the analyzer's own port byte
                    // patterns are unknown here, so also try the common magic first bytes.
                    if round % 3 == 1, !bytes.isEmpty { bytes[0] = [0x16, 0xC0, 0x00, 0x80, 0x24, 0x03, 0x01][round % 7] }
                    let context = ProbeContext(transport: transport, direction: round % 2 == 0 ? .fromOriginator : .fromResponder,
                                               originatorPort: UInt16.random(in: 1...65535, using: &random),
                                               responderPort: analyzer.hintPorts.first ?? 9,
                                               datagramIndex: round % 4, claimedLength: count + (round % 5 == 0 ? 100 : 0),
                                               isFinal: round % 2 == 1)
                    let previous = Array(bytes.prefix(Int.random(in: 0...16, using: &random)))
                    _ = analyzer.probe(bytes.span, previous: previous.span, context: context)

                    let session = analyzer.makeSession(flow: Self.flow)
                    for direction in [Direction.fromOriginator, .fromResponder] {
                        Self.feed(session, bytes, transport: transport, direction: direction, isFinal: round % 2 == 0, shared: shared)
                    }
                    var facts = FlowFacts()
                    session.finish(Self.ending(transport), into: &facts)
                    sessionsFed += 1
                }
            }
        }
        #expect(sessionsFed >= ProtocolRegistry.all.count * 400)
    }

    /// The first message of each direction of one conversation per service in the lab capture, cut
    /// at every length: probes and sessions take every prefix, and the whole message still matches.
    @Test func everyPrefixOfRealMessages() throws {
        let conversations = Conversation.all(in: "store-compliant.pcapng")
        var bestOfService: [Service: Conversation] = [:]
        for c in conversations {
            var driver = ClassifierDriver()
            guard let service = driver.classify(c).facts.service, bestOfService[service] == nil else { continue }
            bestOfService[service] = c
        }
        #expect(bestOfService.count >= 14, "services in the capture: \(bestOfService.keys.map(\.name).sorted())")
        for (service, c) in bestOfService {
            let analyzers = ProtocolRegistry.all.filter { $0.service == service }
            let transport: Transport = c.proto == .tcp ? .tcp : .udp
            for fromClient in [true, false] {
                guard let message = c.messages(fromClient: fromClient).first else { continue }
                let shared = SharedClassification(dnsGrace: 0)
                for length in 0...min(message.count, 3000) {
                    let prefix = Array(message[..<length])
                    for analyzer in analyzers where analyzer.transports.contains(transport) {
                        let context = ProbeContext(transport: transport, direction: fromClient ? .fromOriginator : .fromResponder,
                                                   originatorPort: c.clientPort, responderPort: c.serverPort,
                                                   claimedLength: message.count, isFinal: length < message.count)
                        _ = analyzer.probe(prefix.span, previous: Span(), context: context)
                        let session = analyzer.makeSession(flow: Self.flow)
                        Self.feed(session, prefix, transport: transport, direction: context.direction, isFinal: true,
                                  shared: shared)
                        var facts = FlowFacts()
                        session.finish(Self.ending(transport), into: &facts)
                    }
                }
            }
        }
    }

    /// Real conversations with bytes flipped, cut or dropped, through the whole classifier.
    @Test func damagedRealTrafficNeverTraps() {
        var random = SeededGenerator(seed: 0xF11B)
        let conversations = Conversation.all(in: "store-compliant.pcapng")
        var classified = 0
        for c in conversations.prefix(120) {
            for _ in 0..<6 {
                var damaged = c
                for i in damaged.payloads.indices.prefix(12) {
                    guard !damaged.payloads[i].bytes.isEmpty else { continue }
                    switch Int.random(in: 0..<4, using: &random) {
                    case 0:
                        for _ in 0..<Int.random(in: 1...4, using: &random) {
                            let at = Int.random(in: 0..<damaged.payloads[i].bytes.count, using: &random)
                            damaged.payloads[i].bytes[at] = UInt8.random(in: 0...255, using: &random)
                        }
                    case 1:
                        damaged.payloads[i].bytes.removeLast(Int.random(in: 0..<damaged.payloads[i].bytes.count, using: &random))
                    case 2:
                        damaged.payloads[i].sequence &+= UInt32.random(in: 0...3000, using: &random)
                    default:
                        break
                    }
                }
                var driver = ClassifierDriver()
                if driver.classify(damaged).facts.service != nil { classified += 1 }
            }
        }
        // Damage is light enough that most flows are still recognised (the probes match, the
        // sessions read damaged messages).
        #expect(classified > 300)
    }
}
