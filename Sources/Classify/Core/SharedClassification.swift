public import Wire

/// What classification learns from one flow and uses on others: names that DNS answers gave
/// addresses, and media flows that RTSP announced. One instance per run.
public final class SharedClassification {
    public var names: NameCache
    public var media = MediaExpectations()

    public init(dnsGrace: Int64) {
        names = NameCache(grace: dnsGrace)
    }

    /// `names.name(for:client:at:)`, looked up in place (see `NameCache.lookUp`).
    func name(for address: IPAddress, client: IPAddress, at time: Int64) -> String? {
        names.lookUp(address, client: client, at: time)
    }
}

/// Names that DNS answers in the capture gave addresses, so a flow to an address can be named by
/// what its client looked up (CNAME-aware: the name asked for, not the CDN alias it pointed to).
///
/// Contract: an answer names an address from the moment it was seen until its TTL plus `grace`
/// ran out (clients keep using addresses after the TTL, and connections outlive it). Among valid
/// answers, one given to the flow's own client wins over one given to another host, and the most
/// recent wins among those. Memory: at most `perAddress` names per address and `maximumAddresses`
/// addresses; past that, expired entries go first, then the oldest.
public struct NameCache: Sendable {
    struct Entry: Sendable {
        var name: String
        var client: IPAddress
        var answered: Int64
        var expires: Int64
    }

    public let grace: Int64
    public var maximumAddresses = 1 << 20
    static let perAddress = 4
    fileprivate var entries: [IPAddress: [Entry]] = [:]
    /// One bit per address hash (64 Ki bits): set for every address ever added, never cleared.
    /// Most flows go to addresses no answer named; a clear bit says so without hashing the
    /// address into the dictionary (SipHash and a probe, for every flow that ends). A set bit
    /// only means "look".
    private var seen = [UInt64](repeating: 0, count: 1024)

    public init(grace: Int64) { self.grace = grace }

    @inline(__always)
    private static func seenBit(_ address: IPAddress) -> (word: Int, mask: UInt64) {
        let h = (address.high ^ address.low &* 0x9E37_79B9_7F4A_7C15) &* 0xBF58_476D_1CE4_E5B9
        let bit = Int(truncatingIfNeeded: h >> 48)
        return (bit >> 6, UInt64(1) << UInt64(bit & 63))
    }

    public var count: Int { entries.count }

    /// Remembers that a DNS answer seen at `time`, sent to `client`, gave `address` for `name`,
    /// valid for `ttl` seconds.
    public mutating func add(name: String, address: IPAddress, client: IPAddress, time: Int64, ttl: UInt32) {
        let expires = time &+ Int64(min(ttl, 7 * 86_400)) * 1_000_000_000
        let entry = Entry(name: name, client: client, answered: time, expires: expires)
        let (word, mask) = Self.seenBit(address)
        seen[word] |= mask
        if let slot = entries.index(forKey: address) {
            // Changed where it is: taken out and put back, the list was copied on every answer.
            Self.merge(entry, into: &entries.values[slot])
            return
        }
        if entries.count >= maximumAddresses { prune(now: time) }
        entries[address] = [entry]
    }

    private static func merge(_ entry: Entry, into list: inout [Entry]) {
        if let i = list.firstIndex(where: { $0.name == entry.name && $0.client == entry.client }) {
            list[i] = entry
        } else if list.count < perAddress {
            list.append(entry)
        } else if let oldest = list.indices.min(by: { list[$0].answered < list[$1].answered }) {
            list[oldest] = entry
        }
    }

    /// The name for `address` when a flow from `client` started at `time`, or nil.
    public func name(for address: IPAddress, client: IPAddress, at time: Int64) -> String? {
        var copy = self
        return copy.lookUp(address, client: client, at: time)
    }

    /// `name(for:client:at:)` for the classifier, which asks on every new flow. It changes nothing;
    /// it is `mutating` so that the cache is used where it is: called as a non-mutating method of
    /// the class's stored cache, the cache was copied for the call (a retain and a release of both
    /// its tables per flow; the compiler cannot tell the class's property stays put meanwhile).
    mutating func lookUp(_ address: IPAddress, client: IPAddress, at time: Int64) -> String? {
        let (word, mask) = Self.seenBit(address)
        guard seen[word] & mask != 0, let list = entries[address] else { return nil }
        var best: Entry?
        for e in list where e.answered <= time && time <= e.expires &+ grace {
            guard let b = best else { best = e; continue }
            let mine = e.client == client, bestMine = b.client == client
            if (mine != bestMine) ? mine : (e.answered > b.answered) { best = e }
        }
        return best?.name
    }

    private mutating func prune(now: Int64) {
        let before = entries.count
        entries = entries.filter { $0.value.contains { $0.expires &+ grace >= now } }
        if entries.count > before * 3 / 4 {
            // Still full of valid names: drop the least recently answered quarter.
            let sorted = entries.map { ($0.key, $0.value.map(\.answered).max() ?? 0) }.sorted { $0.1 < $1.1 }
            for (address, _) in sorted.prefix(before / 4) { entries[address] = nil }
        }
    }
}

/// Media flows an RTSP session set up (RFC 7826 §18.54 Transport: `client_port`, `server_port`),
/// so the UDP flows that carry them are labelled RTP or RTCP and linked to the session even when
/// their content alone would not say so.
public struct MediaExpectations {
    public struct Expectation: Sendable, Equatable {
        public var client: IPAddress
        public var clientPort: UInt16
        public var server: IPAddress
        /// 0 when the reply did not name the server's port.
        public var serverPort: UInt16
        public var service: Service
        /// The RTSP flow that set it up.
        public var session: UInt64
        public var expires: Int64
    }

    struct Endpoint: Hashable {
        var address: IPAddress
        var port: UInt16
    }

    private var byClient: [Endpoint: Expectation] = [:]
    public var maximum = 65_536

    public init() {}

    public var isEmpty: Bool { byClient.isEmpty }

    public mutating func expect(_ e: Expectation) {
        if byClient.count >= maximum {
            byClient = byClient.filter { $0.value.expires >= e.expires &- 3_600_000_000_000 }
            if byClient.count >= maximum { return }
        }
        byClient[Endpoint(address: e.client, port: e.clientPort)] = e
    }

    /// The expectation a new UDP flow between these endpoints fulfils, if any.
    public func match(_ a: IPAddress, _ aPort: UInt16, _ b: IPAddress, _ bPort: UInt16, at time: Int64) -> Expectation? {
        func check(_ client: IPAddress, _ clientPort: UInt16, _ server: IPAddress, _ serverPort: UInt16) -> Expectation? {
            guard let e = byClient[Endpoint(address: client, port: clientPort)], e.server == server,
                  e.serverPort == 0 || e.serverPort == serverPort, time <= e.expires else { return nil }
            return e
        }
        return check(a, aPort, b, bPort) ?? check(b, bPort, a, aPort)
    }
}

extension NameCache {
    /// Every name DNS answers in the capture gave `address` (asked-for names, CNAME-aware), in the
    /// order they were answered; at most `perAddress`.
    public func allNames(for address: IPAddress) -> [String] {
        guard let list = entries[address] else { return [] }
        var out: [String] = []
        for e in list.sorted(by: { $0.answered < $1.answered }) where !out.contains(e.name) { out.append(e.name) }
        return out
    }
}
