import Testing
import TestSupport
@testable import Flows
@testable import Wire

@Suite struct FlowTableTests {
    func key(_ n: Int) -> FlowKey {
        FlowKey(source: IPAddress(ipv4: UInt32(0x0A00_0000 + n % 997)), sourcePort: UInt16(n % 65_000),
                destination: IPAddress(ipv4: 0x0A00_FFFF), destinationPort: 443, protocolNumber: 6, vlans: 0xFFFF_FFFF)
    }

    func state(_ key: FlowKey, _ uid: UInt64) -> FlowState {
        FlowState(key: key, uid: uid, time: 0, originatorIsA: true, protocolNumber: .tcp, ipVersion: 4,
                  vlanOuter: DecodedPacket.noVLAN, firstInput: 0, firstPacket: 0)
    }

    @Test func keysAreDirectionSymmetric() {
        let a = IPAddress("10.0.0.1")!, b = IPAddress("10.0.0.2")!
        let forward = FlowKey(source: a, sourcePort: 1000, destination: b, destinationPort: 80, protocolNumber: 6, vlans: 0)
        let backward = FlowKey(source: b, sourcePort: 80, destination: a, destinationPort: 1000, protocolNumber: 6, vlans: 0)
        #expect(forward == backward)
        #expect(forward.hashValue64 == backward.hashValue64)
        #expect(forward.isFromA(a, 1000) && !backward.isFromA(b, 80))
        // A host talking to itself: ports tell the sides apart.
        let loop = FlowKey(source: a, sourcePort: 9, destination: a, destinationPort: 7, protocolNumber: 17, vlans: 0)
        #expect(loop.isFromA(a, 7) && !loop.isFromA(a, 9))
    }

    /// Random inserts and removals agree with a Dictionary model (backward-shift deletion keeps
    /// every remaining key findable).
    @Test func agreesWithADictionaryUnderChurn() {
        var table = FlowTable(initialCapacity: 4)
        var model: [FlowKey: Int] = [:]
        var rng = SeededGenerator(seed: 7)
        for step in 0..<40_000 {
            let k = key(Int(rng.next() % 3000))
            let h = k.hashValue64
            if let index = model[k] {
                #expect(table.find(k, hash: h) == index)
                if rng.next() % 2 == 0 {
                    table.remove(at: index)
                    model[k] = nil
                    #expect(table.find(k, hash: h) == nil)
                }
            } else {
                #expect(table.find(k, hash: h) == nil)
                model[k] = table.insert(state(k, UInt64(step)), hash: h)
            }
        }
        #expect(table.count == model.count)
        for (k, index) in model { #expect(table.find(k, hash: k.hashValue64) == index) }
    }
}
