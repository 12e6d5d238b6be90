import Flows
import Testing
@testable import Analysis
@testable import Classify

/// How many `CountingSession`s are alive.
private final class Census {
    var alive = 0
}

/// A session that is counted while it lives, and reports one fact.
private final class CountingSession: ProtocolSession {
    let census: Census
    init(_ census: Census) {
        self.census = census
        census.alive += 1
    }
    deinit { census.alive -= 1 }
    func consume(_ bytes: Span<UInt8>, context: inout SessionContext) -> Consumption { .done }
    var wantsMore: Bool { false }
    func finish(_ ending: FlowEnding, into facts: inout FlowFacts) { facts.notes.append("counted") }
}

/// The move-only hand-over between the reading and finishing threads: flows come out in the order
/// they went in, each once, and a batch dropped before it was drained releases what it still holds.
@Suite struct EndedFlowBatchTests {
    @Test func flowsComeOutInOrderOnce() {
        let records = FlowsRun(["lan.pcap"]).records
        #expect(records.count == 16)
        let batch = EndedFlowBatch(capacity: records.count)
        #expect(batch.isEmpty && !batch.isFull)
        for record in records { batch.append(EndedFlow(record: record)) }
        #expect(batch.isFull && batch.count == records.count)
        var uids: [UInt64] = []
        while let ended = batch.next() { uids.append(ended.finish().record.uidNumber) }
        #expect(uids == records.map(\.uidNumber))
        let drained: Bool
        if batch.next() != nil { drained = false } else { drained = true }
        #expect(drained)
    }

    @Test func aBatchDroppedHalfDrainedReleasesTheRest() {
        let records = FlowsRun(["store-compliant.pcapng"]).records
        #expect(records.count > 8)
        var drained: [String] = []
        let census = Census()
        do {
            let batch = EndedFlowBatch(capacity: 8)
            for record in records.prefix(8) {
                batch.append(EndedFlow(record: record, service: nil, session: CountingSession(census), dnsName: nil, notes: []))
            }
            #expect(census.alive == 8)
            for _ in 0..<3 {
                let flow = batch.next()!.finish()
                #expect(flow.facts.notes == ["counted"])
                drained.append(flow.record.uid)
            }
            #expect(census.alive == 5)
        }
        #expect(census.alive == 0)
        #expect(drained == records.prefix(3).map(\.uid))
    }
}
