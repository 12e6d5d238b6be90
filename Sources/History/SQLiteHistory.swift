import Foundation
import GRDB

/// Where runs are kept: SQLite by default (one file, nothing to run), PostgreSQL for a chain of
/// stores sharing one database.
public protocol HistoryStore: Sendable {
    /// Stores a run; returns its id.
    func record(_ run: RunRecord) throws -> Int64
    /// The latest run of `site` that began before `time` (seconds), or the latest of all.
    func previous(site: String, before time: Double?) throws -> RunRecord?
    /// The last `limit` runs of `site`, oldest first.
    func runs(site: String, limit: Int) throws -> [RunRecord]
    /// Deletes the runs of `site` that began before `time`; returns how many.
    func prune(site: String, before time: Double) throws -> Int
    func sites() throws -> [String]
}

/// The history in one SQLite file (GRDB). The schema is migrated in code on open; the file is in
/// WAL mode, so reports and `audit history` read it while a nightly run writes (readers see the
/// last committed run, never half of one: a run is one transaction).
public final class SQLiteHistory: HistoryStore {
    public let path: String
    private let pool: DatabasePool

    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("1: runs, devices, requirement statuses, unexpected flows") { db in
            try db.execute(sql: HistorySchema.statements.joined(separator: ";\n"))
        }
        return migrator
    }

    public func record(_ run: RunRecord) throws -> Int64 {
        try pool.write { db in
            try db.execute(sql: """
                INSERT INTO runs (site, first_ts, last_ts, created_at, inputs, compliant, ok, blocked, not_seen, unexpected)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [run.site, run.firstTimestamp, run.lastTimestamp, run.createdAt, HistorySchema.json(run.inputs),
                                 run.compliant, run.ok, run.blocked, run.notSeen, run.unexpected])
            let id = db.lastInsertedRowID
            for d in run.devices {
                try db.execute(sql: """
                    INSERT INTO devices (run_id, ip, mac, names, roles, tx_bps_avg, rx_bps_avg, tx_bps_peak, rx_bps_peak, bandwidth_status)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [id, d.ip, d.mac, HistorySchema.json(d.names), HistorySchema.json(d.roles),
                                     d.bandwidth.transmitAverage, d.bandwidth.receiveAverage, d.bandwidth.transmitPeak,
                                     d.bandwidth.receivePeak, d.bandwidth.status])
                for r in d.requirements {
                    try db.execute(sql: """
                        INSERT INTO requirement_statuses (run_id, device_ip, signature, requirement, level, proto, ports, status,
                                                          attempts, established, outcomes)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [id, d.ip, r.signature, r.id, r.level, r.proto, HistorySchema.json(r.ports), r.status,
                                         r.attempts, r.established, HistorySchema.json(r.outcomes)])
                }
                for u in d.unexpected {
                    try db.execute(sql: """
                        INSERT INTO unexpected_flows (run_id, device_ip, proto, resp_h, resp_p, server_name, conn_state, uid)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [id, d.ip, u.proto, u.responder, u.responderPort, u.serverName, u.connState, u.uid])
                }
            }
            return id
        }
    }

    public func previous(site: String, before time: Double?) throws -> RunRecord? {
        try pool.read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT * FROM runs WHERE site = ? AND (? IS NULL OR first_ts < ?)
                ORDER BY first_ts DESC, id DESC LIMIT 1
                """, arguments: [site, time, time])
            return try row.map { try Self.load($0, db) }
        }
    }

    public func runs(site: String, limit: Int) throws -> [RunRecord] {
        try pool.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT * FROM (SELECT * FROM runs WHERE site = ? ORDER BY first_ts DESC, id DESC LIMIT ?)
                ORDER BY first_ts, id
                """, arguments: [site, limit])
            return try rows.map { try Self.load($0, db) }
        }
    }

    public func prune(site: String, before time: Double) throws -> Int {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM runs WHERE site = ? AND COALESCE(first_ts, created_at) < ?", arguments: [site, time])
            return db.changesCount
        }
    }

    public func sites() throws -> [String] {
        try pool.read { db in try String.fetchAll(db, sql: "SELECT DISTINCT site FROM runs ORDER BY site") }
    }

    private static func load(_ row: Row, _ db: Database) throws -> RunRecord {
        let id: Int64 = row["id"]
        var devices: [RunRecord.Device] = []
        var index: [String: Int] = [:]
        for d in try Row.fetchAll(db, sql: "SELECT * FROM devices WHERE run_id = ? ORDER BY rowid", arguments: [id]) {
            index[d["ip"]] = devices.count
            devices.append(RunRecord.Device(
                ip: d["ip"], mac: d["mac"], names: HistorySchema.decode(d["names"]) ?? [],
                roles: HistorySchema.decode(d["roles"]) ?? [], requirements: [],
                bandwidth: RunRecord.Bandwidth(transmitAverage: d["tx_bps_avg"], receiveAverage: d["rx_bps_avg"],
                                               transmitPeak: d["tx_bps_peak"], receivePeak: d["rx_bps_peak"],
                                               status: d["bandwidth_status"]),
                unexpected: []))
        }
        for r in try Row.fetchAll(db, sql: "SELECT * FROM requirement_statuses WHERE run_id = ? ORDER BY rowid", arguments: [id]) {
            guard let i = index[r["device_ip"]] else { continue }
            devices[i].requirements.append(RunRecord.Requirement(
                signature: r["signature"], id: r["requirement"], level: r["level"], proto: r["proto"],
                ports: HistorySchema.decode(r["ports"]) ?? [], status: r["status"], attempts: r["attempts"],
                established: r["established"], outcomes: HistorySchema.decode(r["outcomes"]) ?? [:]))
        }
        for u in try Row.fetchAll(db, sql: "SELECT * FROM unexpected_flows WHERE run_id = ? ORDER BY rowid", arguments: [id]) {
            guard let i = index[u["device_ip"]] else { continue }
            devices[i].unexpected.append(RunRecord.Unexpected(
                proto: u["proto"], responder: u["resp_h"], responderPort: u["resp_p"], serverName: u["server_name"],
                connState: u["conn_state"], uid: u["uid"]))
        }
        var run = RunRecord(site: row["site"], firstTimestamp: row["first_ts"], lastTimestamp: row["last_ts"],
                            createdAt: row["created_at"], inputs: HistorySchema.decode(row["inputs"]) ?? [],
                            compliant: row["compliant"], ok: row["ok"], blocked: row["blocked"], notSeen: row["not_seen"],
                            unexpected: row["unexpected"], devices: devices)
        run.id = id
        return run
    }
}

/// The history's tables, the same for SQLite and PostgreSQL (types both accept).
enum HistorySchema {
    static let statements = [
        """
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT, site TEXT NOT NULL, first_ts DOUBLE PRECISION, last_ts DOUBLE PRECISION,
            created_at DOUBLE PRECISION NOT NULL, inputs TEXT NOT NULL, compliant BOOLEAN NOT NULL, ok INTEGER NOT NULL,
            blocked INTEGER NOT NULL, not_seen INTEGER NOT NULL, unexpected INTEGER NOT NULL)
        """,
        "CREATE INDEX runs_by_site ON runs (site, first_ts)",
        """
        CREATE TABLE devices (
            run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE, ip TEXT NOT NULL, mac TEXT, names TEXT NOT NULL,
            roles TEXT NOT NULL, tx_bps_avg DOUBLE PRECISION NOT NULL, rx_bps_avg DOUBLE PRECISION NOT NULL,
            tx_bps_peak DOUBLE PRECISION NOT NULL, rx_bps_peak DOUBLE PRECISION NOT NULL, bandwidth_status TEXT NOT NULL,
            PRIMARY KEY (run_id, ip))
        """,
        """
        CREATE TABLE requirement_statuses (
            run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE, device_ip TEXT NOT NULL, signature TEXT NOT NULL,
            requirement TEXT NOT NULL, level TEXT NOT NULL, proto TEXT NOT NULL, ports TEXT NOT NULL, status TEXT NOT NULL,
            attempts INTEGER NOT NULL, established INTEGER NOT NULL, outcomes TEXT NOT NULL,
            PRIMARY KEY (run_id, device_ip, signature, requirement))
        """,
        "CREATE INDEX statuses_by_requirement ON requirement_statuses (device_ip, signature, requirement)",
        """
        CREATE TABLE unexpected_flows (
            run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE, device_ip TEXT NOT NULL, proto TEXT NOT NULL,
            resp_h TEXT NOT NULL, resp_p INTEGER NOT NULL, server_name TEXT, conn_state TEXT NOT NULL, uid TEXT NOT NULL)
        """,
        "CREATE INDEX unexpected_by_run ON unexpected_flows (run_id)",
    ]

    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    static func decode<T: Decodable>(_ text: String?) -> T? {
        guard let text else { return nil }
        return try? JSONDecoder().decode(T.self, from: Data(text.utf8))
    }
}
