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
        var migrator = DatabaseMigrator()
        migrator.registerMigration("1: runs, devices, requirement statuses, unexpected flows") { db in
            for statement in HistoryTables.schema(.sqlite) { try db.execute(sql: statement) }
        }
        try migrator.migrate(pool)
    }

    public func record(_ run: RunRecord) throws -> Int64 {
        try pool.write { db in
            let row = HistoryTables.runRow(run)
            try db.execute(sql: HistoryTables.insert("runs", row, .sqlite), arguments: Self.arguments(row))
            let id = db.lastInsertedRowID
            for (table, child) in HistoryTables.childRows(run, id: id) {
                try db.execute(sql: HistoryTables.insert(table, child, .sqlite), arguments: Self.arguments(child))
            }
            return id
        }
    }

    public func previous(site: String, before time: Double?) throws -> RunRecord? {
        try pool.read { db in
            let rows = try Row.fetchAll(db, sql: HistoryTables.previousRunSQL(.sqlite), arguments: [site, time, time])
            return try rows.first.map { try Self.load($0, db) }
        }
    }

    public func runs(site: String, limit: Int) throws -> [RunRecord] {
        try pool.read { db in
            try Row.fetchAll(db, sql: HistoryTables.lastRunsSQL(.sqlite), arguments: [site, limit]).map { try Self.load($0, db) }
        }
    }

    public func prune(site: String, before time: Double) throws -> Int {
        try pool.write { db in
            try db.execute(sql: HistoryTables.pruneSQL(.sqlite), arguments: [site, time])
            return db.changesCount
        }
    }

    public func sites() throws -> [String] {
        try pool.read { db in try String.fetchAll(db, sql: "SELECT DISTINCT site FROM runs ORDER BY site") }
    }

    private static func load(_ run: Row, _ db: Database) throws -> RunRecord {
        let id: Int64 = run["id"]
        func children(_ table: String) throws -> [[String: SQLValue]] {
            try Row.fetchAll(db, sql: HistoryTables.childrenSQL(table, .sqlite), arguments: [id]).map(values)
        }
        return HistoryTables.record(run: values(run), devices: try children("devices"),
                                    statuses: try children("requirement_statuses"), unexpected: try children("unexpected_flows"))
    }

    private static func values(_ row: Row) -> [String: SQLValue] {
        var out: [String: SQLValue] = [:]
        for (column, value) in row {
            switch value.storage {
            case .null: out[column] = .null
            case .int64(let v): out[column] = .integer(v)
            case .double(let v): out[column] = .real(v)
            case .string(let v): out[column] = .text(v)
            case .blob: out[column] = .null
            }
        }
        return out
    }

    private static func arguments(_ row: SQLRow) -> StatementArguments {
        StatementArguments(row.map { _, value -> (any DatabaseValueConvertible)? in
            switch value {
            case .text(let v): v
            case .integer(let v): v
            case .real(let v): v
            case .bool(let v): v
            case .null: nil
            }
        })
    }
}
