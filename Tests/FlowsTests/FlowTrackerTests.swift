import Testing
import TestSupport
@testable import Flows
@testable import Wire

@Suite struct FlowTrackerTests {
    static let t0: Int64 = 1_700_000_000 * FlowHarness.second
    let client: [UInt8] = [10, 0, 0, 1], server: [UInt8] = [10, 0, 0, 2]

    func udp(_ from: [UInt8], _ to: [UInt8], _ sport: Int, _ dport: Int, _ payload: [UInt8] = [1, 2, 3], vlans: [Int] = []) -> [UInt8] {
        FrameBuilder.ethernet(FrameBuilder.ipv4(from, to, proto: 17, FrameBuilder.udp(sport, dport, payload)), vlans: vlans)
    }

    @Test func udpRequestAndAnswer() throws {
        let run = FlowHarness.run([
            (Self.t0, udp(client, server, 5000, 53, [UInt8](repeating: 1, count: 30))),
            (Self.t0 + 2_000_000, udp(server, client, 53, 5000, [UInt8](repeating: 2, count: 70))),
        ])
        let r = try #require(run.records.first)
        #expect(run.records.count == 1)
        #expect(r.connState == .sf && r.history.string == "Dd")
        #expect(r.originatorBytes == 30 && r.responderBytes == 70)
        #expect(r.originatorCounters.ipBytes == 58 && r.responderCounters.ipBytes == 98)
        #expect(r.protocolNumber == .udp)
    }

    @Test func udpWithoutAnswerAndTheIdleTimeout() {
        let run = FlowHarness.run([
            (Self.t0, udp(client, server, 5000, 3478)),
            (Self.t0 + 30 * FlowHarness.second, udp(client, server, 5000, 3478)),
            (Self.t0 + 91 * FlowHarness.second, udp(client, server, 5000, 3478)),  // 61 s idle: a new flow
        ])
        #expect(run.records.map(\.connState) == [.s0, .s0])
        #expect(run.records.map(\.history.string) == ["D", "D"])
        #expect(run.records.map(\.originatorCounters.packets) == [2, 1])
        #expect(run.records[0].endReason == .idle)
    }

    @Test func configurableTimeouts() {
        var configuration = FlowConfiguration()
        configuration.udpInactivity = 10 * FlowHarness.second
        let run = FlowHarness.run([
            (Self.t0, udp(client, server, 5000, 3478)),
            (Self.t0 + 30 * FlowHarness.second, udp(client, server, 5000, 3478)),
        ], configuration: configuration)
        #expect(run.records.count == 2)
    }

    @Test func icmpEchoIsOneFlowWithTypeAndCounterpart() throws {
        let request = FrameBuilder.ethernet(FrameBuilder.ipv4(client, server, proto: 1, FrameBuilder.icmp(type: 8, code: 0, [UInt8](repeating: 0, count: 56))))
        let reply = FrameBuilder.ethernet(FrameBuilder.ipv4(server, client, proto: 1, FrameBuilder.icmp(type: 0, code: 0, [UInt8](repeating: 0, count: 56))))
        let run = FlowHarness.run([(Self.t0, request), (Self.t0 + 1000, reply)])
        let r = try #require(run.records.first)
        #expect(run.records.count == 1)
        #expect(r.originatorPort == 8 && r.responderPort == 0)
        #expect(r.connState == .oth && r.history.isEmpty)
        #expect(r.originatorBytes == 56 && r.responderBytes == 56)
    }

    /// ICMP port unreachable quoting a UDP datagram: attributed to that flow, and a flow itself.
    @Test func icmpErrorIsAttributedToTheFlowItQuotes() throws {
        let probe = udp(client, server, 5000, 9999)
        let quoted = Array(probe[14..<(14 + 28)])
        let error = FrameBuilder.ethernet(FrameBuilder.ipv4(server, client, proto: 1, FrameBuilder.icmp(type: 3, code: 3, quoted)))
        let run = FlowHarness.run([(Self.t0, probe), (Self.t0 + 1000, error)])
        #expect(run.records.count == 2)
        let udpFlow = try #require(run.records.first { $0.protocolNumber == .udp })
        #expect(udpFlow.icmpErrors == ["3/3"])
        #expect(udpFlow.connState == .s0)
        let icmpFlow = try #require(run.records.first { $0.protocolNumber == .icmp })
        #expect(icmpFlow.originator == IPAddress("10.0.0.2") && icmpFlow.originatorPort == 3 && icmpFlow.responderPort == 3)
        #expect(run.stats.icmpErrorsAttributed == 1)
    }

    @Test func administrativelyProhibitedQuotingATCPSYN() throws {
        var t = TCPScript()
        t.client(S, seq: 100)
        let syn = t.frames[0].1
        let error = FrameBuilder.ethernet(FrameBuilder.ipv4([10, 0, 0, 254], client, proto: 1,
                                                            FrameBuilder.icmp(type: 3, code: 13, Array(syn[14..<(14 + 28)]))))
        let run = FlowHarness.run([t.frames[0], (t.time + 1000, error)])
        let tcp = try #require(run.records.first { $0.protocolNumber == .tcp })
        #expect(tcp.icmpErrors == ["3/13"])
        #expect(tcp.connState == .s0)
    }

    @Test func sameAddressesOnTwoVLANsAreTwoFlows() {
        let run = FlowHarness.run([
            (Self.t0, udp(client, server, 5000, 53, vlans: [10])),
            (Self.t0 + 1, udp(client, server, 5000, 53, vlans: [20])),
        ])
        #expect(run.records.map(\.vlan) == [10, 20])
    }

    @Test func fragmentsCountToTheirFlowInEitherOrderAndAreReassembled() throws {
        let payload = (0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let datagram = FrameBuilder.udp(53, 5000, payload)
        func fragments(identification: Int) -> [[UInt8]] {
            stride(from: 0, to: datagram.count, by: 1480).map { offset in
                let piece = Array(datagram[offset..<min(datagram.count, offset + 1480)])
                return FrameBuilder.ethernet(FrameBuilder.ipv4(server, client, proto: 17, piece, identification: identification,
                                                               fragmentOffset: offset, moreFragments: offset + 1480 < datagram.count))
            }
        }
        let inOrder = fragments(identification: 7)
        let reversed = Array(fragments(identification: 8).reversed())
        let frames = (inOrder + reversed).enumerated().map { (Self.t0 + Int64($0.offset) * 1000, $0.element) }
        let run = FlowHarness.run(frames)
        let r = try #require(run.records.first)
        #expect(run.records.count == 1)
        #expect(r.originatorCounters.packets == 6)
        #expect(r.originatorBytes == 6000)  // the UDP length of each datagram, once
        #expect(r.originatorCounters.ipBytes == UInt64(2 * (datagram.count + 3 * 20)))
        // Only the reassembled datagrams are shown, never their fragments.
        #expect(run.datagrams.count == 2)
        #expect(run.datagrams.allSatisfy { $0.2 == payload && $0.1 })
        #expect(run.stats.datagramsReassembled == 2)
    }

    /// Hundreds of tiny scattered fragments: still counted to their flow, but not reassembled.
    @Test func scatteredTinyFragmentsAreCountedNotReassembled() throws {
        let first = FrameBuilder.ethernet(FrameBuilder.ipv4(server, client, proto: 17, FrameBuilder.udp(53, 5000, [], length: 8 + 8000),
                                                            identification: 9, moreFragments: true))
        var frames = [(Self.t0, first)]
        for i in 0..<300 {
            let frame = FrameBuilder.ethernet(FrameBuilder.ipv4(server, client, proto: 17, [UInt8](repeating: 7, count: 8), identification: 9,
                                                                fragmentOffset: 16 + 16 * i, moreFragments: true))
            frames.append((Self.t0 + Int64(i + 1) * 1000, frame))
        }
        let run = FlowHarness.run(frames)
        let r = try #require(run.records.first { $0.originatorPort == 53 })
        #expect(r.originatorCounters.packets == 301)
        #expect(run.datagrams.isEmpty)
        #expect(run.anomalies[.fragmentMemoryLimit] >= 1)
    }

    @Test func fragmentsWhoseFirstNeverCameCountToAPortlessFlow() throws {
        let piece = [UInt8](repeating: 9, count: 800)
        let frame = FrameBuilder.ethernet(FrameBuilder.ipv4(server, client, proto: 17, piece, identification: 3, fragmentOffset: 1480))
        let run = FlowHarness.run([(Self.t0, frame)])
        let r = try #require(run.records.first)
        #expect(r.protocolNumber == .udp && r.originatorPort == 0 && r.responderPort == 0)
        #expect(r.originatorCounters.packets == 1)
        #expect(run.anomalies[.fragmentWithoutFirst] == 1)
    }

    @Test func greTunnelYieldsOuterAndInnerFlows() throws {
        let inner = FrameBuilder.ipv4([192, 168, 1, 1], [192, 168, 1, 2], proto: 17, FrameBuilder.udp(5060, 5060, [1, 2, 3, 4]))
        let frame = FrameBuilder.ethernet(FrameBuilder.ipv4(client, server, proto: 47, [0, 0, 0x08, 0x00] + inner))
        let run = FlowHarness.run([(Self.t0, frame)])
        #expect(run.records.count == 2)
        let outer = try #require(run.records.first { $0.protocolNumber == .gre })
        let innerFlow = try #require(run.records.first { $0.protocolNumber == .udp })
        #expect(innerFlow.tunnelParent == outer.uid)
        #expect(innerFlow.originatorCounters.wireBytes == UInt64(frame.count))
        #expect(innerFlow.originatorMAC == outer.originatorMAC)
        #expect(run.stats.tunnelPackets == ["gre": 1])
    }

    /// The observer is shown TCP segments with payload (not bare ACKs, SYNs or FINs), with their
    /// sequence numbers and where each side's stream starts, and no more packets of a flow once it
    /// answered false.
    @Test func theObserverSeesSegmentsUntilItHasEnough() throws {
        var script = TCPScript()
        script.handshake()
        script.client(A | P, seq: 101, ack: 301, length: 10)
        script.server(A, seq: 301, ack: 111)
        script.server(A | P, seq: 301, ack: 111, length: 20)
        script.client(A | F, seq: 111, ack: 321)
        let all = FlowHarness.run(script.frames)
        #expect(all.segments.map(\.3) == [101, 301])
        #expect(all.segments.map(\.1) == [true, false])
        #expect(all.bases == [101, 301])
        #expect(all.segments[0].4 == [UInt8](repeating: 0x41, count: 10))
        #expect(all.started.count == 1 && all.started[0].originatorPort == 40000 && all.started[0].responderPort == 80)
        let limited = FlowHarness.run(script.frames, inspectLimit: 1)
        #expect(limited.segments.count == 1)
        // Inspection does not change what is counted.
        #expect(limited.records == all.records)
    }

    /// Every flow's start and end are paired, also for flows that reuse a slot after others ended.
    @Test func startsAndEndsPairUp() {
        let frames = (0..<30).map { (Self.t0 + Int64($0) * 40 * FlowHarness.second, udp(client, server, 10000 + $0 % 3, 53)) }
        let run = FlowHarness.run(frames)
        #expect(run.started.count == run.records.count)
        #expect(Set(run.started.map(\.uid)) == Set(run.records.map(\.uidNumber)))
        #expect(Set(run.endedSlots).count < run.records.count)  // slots were reused
    }

    /// The sweep looks into a flow only once its wake time (a lower bound of its expiry) has
    /// passed; a close shortens the expiry, and the wake time must follow. Here the first sweep
    /// sees the connection open (wake time: 300 s of inactivity later); the FIN exchange comes
    /// after it, and the second sweep, well within those 300 s, must end the connection as closed.
    @Test func aSweepEndsAConnectionClosedAfterAnEarlierSweep() throws {
        var script = TCPScript()
        script.handshake()
        var frames = script.frames
        func burst(from start: Int64) -> Int64 {
            // 4200 datagrams over ~10 s: enough packets and capture time for one sweep.
            for i in 0..<4200 { frames.append((start + Int64(i) * 2_400_000, udp(client, server, 5000, 53))) }
            return start + 4200 * 2_400_000
        }
        script.time = burst(from: script.time + 1_000_000)
        let closeStart = script.frames.count
        script.client(A | F, seq: 101, ack: 301)
        script.server(A | F, seq: 301, ack: 102)
        script.client(A, seq: 102, ack: 302)
        frames += script.frames[closeStart...]
        _ = burst(from: script.time + 1_000_000)
        let run = FlowHarness.run(frames)
        #expect(run.records.map(\.protocolNumber) == [.tcp, .udp])
        #expect(run.records.map(\.endReason) == [.closed, .endOfCapture])
        #expect(run.records[0].history.string == "ShAFf")
    }

    @Test func theFlowCapEvictsTheLeastRecentlyActive() {
        var configuration = FlowConfiguration()
        configuration.maximumFlows = 8
        let frames = (0..<20).map { (Self.t0 + Int64($0) * 1000, udp(client, server, 10000 + $0, 53)) }
        let run = FlowHarness.run(frames, configuration: configuration)
        #expect(run.records.count == 20)
        #expect(run.started.count == 20 && run.endedSlots.count == 20)
        #expect(run.stats.flowsEvicted == 12)
        #expect(run.stats.maximumLiveFlows == 8)
        #expect(run.records.filter { $0.endReason == .evicted }.map(\.originatorPort).sorted() == (10000..<10012).map(UInt16.init))
    }
}

@Suite struct FlowConservationTests {
    /// Random TCP/UDP/ICMP traffic with random flags, sequence numbers, fragments and corrupted bytes:
    /// nothing traps, and every IP packet the tracker accepted is counted in exactly one record.
    @Test func everyPacketIsCountedExactlyOnce() {
        var rng = SeededGenerator(seed: 2026)
        var frames: [(Int64, [UInt8])] = []
        var time = FlowTrackerTests.t0
        for _ in 0..<20_000 {
            time += Int64(rng.next() % 3_000_000_000)
            let hosts: [[UInt8]] = [[10, 0, 0, 1], [10, 0, 0, 2], [10, 0, 0, 3]]
            let a = hosts[Int(rng.next() % 3)], b = hosts[Int(rng.next() % 3)]
            let ports = [80, 443, 5000, 5001, 53]
            let sport = ports[Int(rng.next() % 5)], dport = ports[Int(rng.next() % 5)]
            let payload = [UInt8](repeating: 0x55, count: Int(rng.next() % 40))
            var ip: [UInt8]
            switch rng.next() % 4 {
            case 0, 1:
                let flags = UInt8(truncatingIfNeeded: rng.next()) & 0x1F
                let seq = UInt32(truncatingIfNeeded: rng.next() % 4 == 0 ? rng.next() : rng.next() % 2000)
                ip = FrameBuilder.ipv4(a, b, proto: 6, FrameBuilder.tcp(sport, dport, seq: seq, ack: UInt32(rng.next() % 2000),
                                                                       flags: flags, window: Int(rng.next() % 3), payload: payload))
            case 2:
                let offset = rng.next() % 5 == 0 ? Int(rng.next() % 4) * 8 : 0
                ip = FrameBuilder.ipv4(a, b, proto: 17, FrameBuilder.udp(sport, dport, payload),
                                       identification: Int(rng.next() % 4), fragmentOffset: offset, moreFragments: rng.next() % 5 == 0)
            default:
                let type: UInt8 = [0, 3, 8, 11][Int(rng.next() % 4)]
                ip = FrameBuilder.ipv4(a, b, proto: 1, FrameBuilder.icmp(type: type, code: UInt8(rng.next() % 4), payload))
            }
            var frame = FrameBuilder.ethernet(ip)
            if rng.next() % 10 == 0 { frame[Int(rng.next() % UInt64(frame.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            frames.append((time, frame))
        }
        var configuration = FlowConfiguration()
        configuration.maximumFlows = 50
        let run = FlowHarness.run(frames, configuration: configuration)
        let counted = run.records.reduce(UInt64(0)) { $0 + $1.originatorCounters.packets + $1.responderCounters.packets }
        #expect(counted == run.stats.packets)
        #expect(run.stats.packets > 15_000)
        #expect(run.records.count == Int(run.stats.flowsCreated))
    }
}
