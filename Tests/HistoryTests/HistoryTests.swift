import Analysis
import Audit
import Foundation
import History
import Testing
import TestSupport

/// The history: what a run keeps, what changed between two runs, and the SQLite store.
@Suite struct HistoryTests {
    static func record(_ capture: String, site: String = "store-12", createdAt: Double = 1_800_000_000) -> RunRecord {
        let (signatures, _) = SignatureLoader.load(directories: [TestPaths.root.appendingPathComponent("Signatures").path])
        var options = Auditor.Options()
        options.inventory = Inventory.load(file: TestPaths.capture("store-inventory.json")).0
        let run = AuditRun.run(paths: [TestPaths.capture(capture)], capture: CaptureRun.Options(), signatures: signatures,
                               options: options, ieeeData: nil)
        return RunRecord(site: site, result: run.result, inputs: [capture], firstTimestamp: run.summary.firstTimestamp,
                         lastTimestamp: run.summary.lastTimestamp, strict: false, createdAt: createdAt)
    }

    static let blockedNight = [
        "10.40.0.21 retailnext/cloud-service ok → blocked_reset",
        "10.40.0.31 openeye-ows/relay ok → handshake_failed",
        "10.40.0.31 openeye-ows/api ok → blocked_icmp",
        "10.40.0.31 openeye-ows/stun ok → blocked_silent",
        "10.40.0.42 valt/wowza-license ok → blocked_silent",
        "10.40.0.42 valt/cloud-ike ok → blocked_icmp",
    ]

    static func lines(_ changes: [RunChanges.StatusChange]) -> [String] {
        changes.map { "\($0.device) \($0.signature)/\($0.id) \($0.from) → \($0.to)" }
    }

    @Test func aBlockedNightAfterACompliantOne() {
        let compliant = Self.record("store-compliant.pcapng"), blocked = Self.record("store-blocked.pcapng")
        #expect(compliant.compliant && !blocked.compliant)
        #expect((compliant.ok, compliant.blocked, compliant.notSeen) == (70, 0, 0))
        #expect((blocked.ok, blocked.blocked, blocked.notSeen) == (64, 6, 0))
        let changes = RunChanges(from: compliant, to: blocked)
        #expect(Self.lines(changes.regressions) == Self.blockedNight)
        #expect(changes.fixed.isEmpty && changes.newDevices.isEmpty && changes.vanishedDevices.isEmpty)
        // The other way round, the same six are fixed.
        let back = RunChanges(from: blocked, to: compliant)
        #expect(back.regressions.isEmpty)
        #expect(Self.lines(back.fixed) == Self.blockedNight.map {
            let parts = $0.components(separatedBy: " ok → ")
            return "\(parts[0]) \(parts[1]) → ok"
        })
    }

    /// Two runs that differ by one blocked requirement: exactly that one regresses, and, stored
    /// and read back, the history says the same.
    @Test func oneRequirementBlocked() throws {
        let before = Self.record("store-compliant.pcapng")
        var after = before
        after.createdAt += 86_400
        after.firstTimestamp = before.firstTimestamp.map { $0 + 86_400 }
        after.lastTimestamp = before.lastTimestamp.map { $0 + 86_400 }
        let d = try #require(after.devices.firstIndex { $0.ip == "10.40.0.31" })
        let r = try #require(after.devices[d].requirements.firstIndex { $0.id == "stun" })
        after.devices[d].requirements[r].status = "blocked_silent"
        after.devices[d].requirements[r].outcomes = ["blocked_silent": 1]
        let changes = RunChanges(from: before, to: after)
        #expect(Self.lines(changes.regressions) == ["10.40.0.31 openeye-ows/stun ok → blocked_silent"])
        #expect(changes.fixed.isEmpty && changes.newUnexpected.isEmpty && changes.bandwidth.isEmpty)

        let folder = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteHistory(path: folder.appendingPathComponent("h.sqlite").path)
        _ = try store.record(before)
        _ = try store.record(after)
        let stored = try store.runs(site: "store-12", limit: 2)
        #expect(Self.lines(RunChanges(from: stored[0], to: stored[1]).regressions) == ["10.40.0.31 openeye-ows/stun ok → blocked_silent"])
    }

    @Test func newUnexpectedDestinations() {
        let changes = RunChanges(from: Self.record("store-compliant.pcapng"), to: Self.record("store-unexpected.pcapng"))
        #expect(changes.regressions.isEmpty)
        let destinations = changes.newUnexpected.map { "\($0.device) \($0.proto) \($0.serverName ?? $0.responder):\($0.responderPort)" }
        #expect(destinations == ["10.40.0.22 tcp 203.0.113.99:22", "10.40.0.22 udp 198.51.100.66:6881",
                                 "10.40.0.31 tcp 203.0.113.99:8080"])
    }

    @Test func sqliteKeepsRunsPerSite() throws {
        let folder = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("history.sqlite").path
        let store = try SQLiteHistory(path: path)
        var first = Self.record("store-compliant.pcapng")
        var second = Self.record("store-blocked.pcapng")
        first.id = try store.record(first)
        second.id = try store.record(second)
        var other = Self.record("store-partial.pcapng", site: "store-7")
        other.id = try store.record(other)
        #expect(try store.sites() == ["store-12", "store-7"])

        // A second handle on the same file (another process) reads what the first wrote, whole.
        let reader = try SQLiteHistory(path: path)
        #expect(try reader.runs(site: "store-12", limit: 30) == [first, second])
        #expect(try reader.previous(site: "store-12", before: second.firstTimestamp) == first)
        #expect(try reader.previous(site: "store-12", before: nil) == second)
        #expect(try reader.previous(site: "store-12", before: first.firstTimestamp) == nil)
        #expect(try reader.runs(site: "store-7", limit: 30) == [other])
        let stun = try #require(second.devices.first { $0.ip == "10.40.0.31" }?.requirements.first { $0.id == "stun" })
        #expect(stun.status == "blocked_silent" && stun.outcomes == ["blocked_silent": 1] && stun.ports == ["3478"])

        // Retention: runs that began before the cut go, with their rows; other sites stay.
        #expect(try store.prune(site: "store-12", before: second.firstTimestamp!) == 1)
        #expect(try store.runs(site: "store-12", limit: 30) == [second])
        #expect(try store.runs(site: "store-7", limit: 30).count == 1)
    }
}

/// The same history in PostgreSQL, against a real server the test starts on loopback.
@Suite(.serialized, .enabled(if: PostgresServer.unavailable == nil, Comment(rawValue: PostgresServer.unavailable ?? "")))
struct PostgresHistoryTests {
    @Test func postgresAndSQLiteKeepTheSameHistory() throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let folder = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let sqlite = try SQLiteHistory(path: folder.appendingPathComponent("history.sqlite").path)
        let postgres = try PostgresHistory(url: server.url)
        let nights = [HistoryTests.record("store-compliant.pcapng"), HistoryTests.record("store-blocked.pcapng"),
                      HistoryTests.record("store-unexpected.pcapng", site: "store-7")]
        for night in nights {
            #expect(try sqlite.record(night) == (try postgres.record(night)))
        }
        #expect(try postgres.sites() == ["store-12", "store-7"])
        #expect(try postgres.sites() == (try sqlite.sites()))
        for site in ["store-12", "store-7"] {
            let fromPostgres = try postgres.runs(site: site, limit: 30)
            #expect(fromPostgres == (try sqlite.runs(site: site, limit: 30)))
            #expect(fromPostgres.map(\.devices.count) == (site == "store-12" ? [11, 11] : [11]))
        }
        let second = try #require(try postgres.runs(site: "store-12", limit: 30).last)
        #expect(try postgres.previous(site: "store-12", before: second.firstTimestamp)
                == (try sqlite.previous(site: "store-12", before: second.firstTimestamp)))
        // The diff the nightly report opens with is the same from either store.
        let previous = try #require(try postgres.previous(site: "store-12", before: second.firstTimestamp))
        #expect(HistoryTests.lines(RunChanges(from: previous, to: second).regressions) == HistoryTests.blockedNight)
        // A second connection (another site's nightly run) finds the schema migrated and the runs.
        let again = try PostgresHistory(url: server.url)
        #expect(try again.runs(site: "store-7", limit: 30).count == 1)
        #expect(try postgres.prune(site: "store-12", before: second.firstTimestamp!) == 1)
        #expect(try again.runs(site: "store-12", limit: 30) == [second])
    }

    @Test func aBadAddressIsOneLine() {
        #expect(throws: HistoryError.self) { _ = try PostgresHistory(url: "postgres://") }
    }
}
