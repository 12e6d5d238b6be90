import Testing
import TestSupport
@testable import Flows
@testable import Wire

/// conn_state and history, as Zeek's TCP analyzer and `conn_state()` define them
/// (`scripts/base/protocols/conn/main.zeek`), one scenario per state.
@Suite struct TCPStateTests {
    func only(_ script: TCPScript) throws -> FlowRecord {
        let run = FlowHarness.run(script.frames)
        #expect(run.records.count == 1)
        return try #require(run.records.first)
    }

    @Test func normalEstablishmentAndTermination() throws {
        var t = TCPScript()
        t.handshake()
        t.client(P | A, seq: 101, ack: 301, length: 10)
        t.server(A, seq: 301, ack: 111)
        t.server(P | A, seq: 301, ack: 111, length: 20)
        t.client(A, seq: 111, ack: 321)
        t.client(F | A, seq: 111, ack: 321)
        t.server(F | A, seq: 321, ack: 112)
        t.client(A, seq: 112, ack: 322)
        let r = try only(t)
        #expect(r.connState == .sf)
        #expect(r.history.string == "ShADadFf")
        #expect(r.originatorBytes == 10 && r.responderBytes == 20)
        #expect(r.originatorCounters.packets == 6 && r.responderCounters.packets == 4)
        #expect(r.originatorCounters.ipBytes == 6 * 40 + 10 && r.responderCounters.ipBytes == 4 * 40 + 20)
        #expect(r.originatorCounters.wireBytes == 6 * 54 + 10 && r.responderCounters.wireBytes == 4 * 54 + 20)
        #expect(r.originator == IPAddress("10.0.0.1") && r.originatorPort == 40000 && r.responderPort == 80)
        #expect(r.originatorMAC?.description == "02:00:00:00:00:0a" && r.responderMAC?.description == "02:00:00:00:00:01")
        #expect(r.duration == 9_000_000)
        #expect(r.endReason == .endOfCapture)
    }

    @Test func attemptWithoutReply() throws {
        var t = TCPScript()
        t.client(S, seq: 100)
        t.client(S, seq: 100, after: FlowHarness.second)
        t.client(S, seq: 100, after: 2 * FlowHarness.second)
        let r = try only(t)
        #expect(r.connState == .s0)
        #expect(r.history.string == "S")
        #expect(r.originatorCounters.packets == 3 && r.responderCounters.packets == 0)
    }

    /// Zeek's attempt timer (`tcp_attempt_delay`, 5 s): a later retransmission starts a new record.
    @Test func retransmittedSYNAfterTheAttemptDelayIsANewRecord() {
        var t = TCPScript()
        t.client(S, seq: 100)
        t.client(S, seq: 100, after: 6 * FlowHarness.second)
        let run = FlowHarness.run(t.frames)
        #expect(run.records.map(\.connState) == [.s0, .s0])
        #expect(run.records.map(\.endReason) == [.attempt, .endOfCapture])
        #expect(run.records[0].uid != run.records[1].uid)
    }

    @Test func rejected() throws {
        var t = TCPScript()
        t.client(S, seq: 100)
        t.server(R | A, seq: 0, ack: 101)
        let r = try only(t)
        #expect(r.connState == .rej)
        #expect(r.history.string == "Sr")
    }

    @Test func originatorAborts() throws {
        var t = TCPScript()
        t.handshake()
        t.client(R, seq: 101)
        let r = try only(t)
        #expect(r.connState == .rsto)
        #expect(r.history.string == "ShAR")
    }

    @Test func responderAborts() throws {
        var t = TCPScript()
        t.handshake()
        t.server(R, seq: 301)
        let r = try only(t)
        #expect(r.connState == .rstr)
        #expect(r.history.string == "ShAr")
    }

    @Test func synThenResetFromTheOriginator() throws {
        var t = TCPScript()
        t.client(S, seq: 100)
        t.client(R, seq: 101)
        let r = try only(t)
        #expect(r.connState == .rstos0)
        #expect(r.history.string == "SR")
    }

    @Test func halfOpenSynThenFin() throws {
        var t = TCPScript()
        t.client(S, seq: 100)
        t.client(F | A, seq: 101)
        let r = try only(t)
        #expect(r.connState == .sh)
        #expect(r.history.string == "SF")
    }

    /// The first packet is a SYN+ACK: its receiver sent the SYN, so it is the originator ('^').
    @Test func synAckThenFinFromTheResponder() throws {
        var t = TCPScript()
        t.server(S | A, seq: 300, ack: 101)
        t.server(F | A, seq: 301, ack: 101)
        let r = try only(t)
        #expect(r.originator == IPAddress("10.0.0.1"))
        #expect(r.connState == .shr)
        #expect(r.history.string == "^hf")
    }

    @Test func synAckThenResetFromTheResponder() throws {
        var t = TCPScript()
        t.server(S | A, seq: 300, ack: 101)
        t.server(R, seq: 301)
        let r = try only(t)
        #expect(r.connState == .rstrh)
        #expect(r.history.string == "^hr")
    }

    @Test func establishedNotTerminated() throws {
        var t = TCPScript()
        t.handshake()
        #expect(try only(t).connState == .s1)
        #expect(try only(t).history.string == "ShA")
    }

    @Test func closeByOneSideOnly() throws {
        var byOriginator = TCPScript()
        byOriginator.handshake()
        byOriginator.client(F | A, seq: 101, ack: 301)
        #expect(try only(byOriginator).connState == .s2)
        #expect(try only(byOriginator).history.string == "ShAF")
        var byResponder = TCPScript()
        byResponder.handshake()
        byResponder.server(F | A, seq: 301, ack: 101)
        #expect(try only(byResponder).connState == .s3)
        #expect(try only(byResponder).history.string == "ShAf")
    }

    @Test func midstreamTraffic() throws {
        var t = TCPScript()
        t.client(P | A, seq: 5000, ack: 9000, length: 100)
        t.server(A, seq: 9000, ack: 5100)
        let r = try only(t)
        #expect(r.connState == .oth)
        #expect(r.history.string == "Da")
        #expect(r.originatorBytes == 100)
    }

    /// Zeek's `IsReuse`: a SYN after the connection finished starts a new one.
    @Test func newSYNAfterACloseStartsANewFlow() {
        var t = TCPScript()
        t.handshake()
        t.client(F | A, seq: 101, ack: 301)
        t.server(F | A, seq: 301, ack: 102)
        t.client(A, seq: 102, ack: 302)
        t.client(S, seq: 7000, after: FlowHarness.second)
        t.server(S | A, seq: 8000, ack: 7001)
        let run = FlowHarness.run(t.frames)
        #expect(run.records.map(\.connState) == [.sf, .s1])
        #expect(run.records.map(\.history.string) == ["ShAFf", "Sh"])
        #expect(run.records[0].endReason == .reused)
    }

    @Test func retransmissionZeroWindowAndGap() throws {
        var t = TCPScript()
        t.handshake()
        t.client(P | A, seq: 101, ack: 301, length: 10)
        t.client(P | A, seq: 101, ack: 301, length: 10)           // retransmitted
        t.server(A, seq: 301, ack: 111, window: 0)                // zero window
        t.client(P | A, seq: 121, ack: 301, length: 10)           // bytes 111..120 never seen
        t.server(A, seq: 301, ack: 131)                           // ...but acknowledged: a gap
        let r = try only(t)
        #expect(r.history.string == "ShADTawG")
        #expect(r.missedBytes == 10)
        #expect(r.originatorBytes == 30)
    }
}
