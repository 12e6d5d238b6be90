import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The history in PostgreSQL (`--history postgres://user:password@host:5432/database`): the same
/// tables as SQLite (`HistoryTables`), so a chain of stores can keep one history, each store under
/// its own `--site`. The schema is migrated in code when the store opens, under an advisory lock
/// (several sites' nightly runs may start at once); each run is one transaction.
///
/// The audit is synchronous; each call here waits for its queries on PostgresNIO's event loop.
public final class PostgresHistory: HistoryStore {
    public let url: String
    private let connection: PostgresConnection
    private static let logger = Logger(label: "spanaudit.history", factory: { _ in SwiftLogNoOpLogHandler() })
    /// Taken while migrating: a number of our own (the ASCII of "SpnAudit").
    static let migrationLock: Int64 = 0x53706E_41756469

    /// Connects and migrates; throws a one-line error for a bad URL or an unreachable server.
    public init(url: String) throws {
        self.url = url
        guard let parts = URLComponents(string: url), ["postgres", "postgresql"].contains(parts.scheme ?? ""),
              let host = parts.host, !host.isEmpty else {
            throw HistoryError.badURL(url)
        }
        let database = parts.path.hasPrefix("/") ? String(parts.path.dropFirst()) : parts.path
        let configuration = PostgresConnection.Configuration(
            host: host, port: parts.port ?? 5432, username: parts.user ?? "postgres", password: parts.password,
            database: database.isEmpty ? nil : database, tls: .disable)
        connection = try Self.blocking {
            try await PostgresConnection.connect(configuration: configuration, id: 1, logger: Self.logger)
        }
        try migrate()
    }

    deinit {
        let connection = self.connection
        _ = try? Self.blocking { try await connection.close() }
    }

    private func migrate() throws {
        try transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: Self.logger)
            try await connection.query("CREATE TABLE IF NOT EXISTS spanaudit_schema (version INTEGER NOT NULL)",
                                       logger: Self.logger)
            var version = 0
            for try await (v) in try await connection.query("SELECT max(version) FROM spanaudit_schema", logger: Self.logger)
                .decode((Int?).self) {
                version = v ?? 0
            }
            if version < 1 {
                for statement in HistoryTables.schema(.postgres) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: Self.logger)
                }
                try await connection.query("INSERT INTO spanaudit_schema (version) VALUES (1)", logger: Self.logger)
            }
        }
    }

    public func record(_ run: RunRecord) throws -> Int64 {
        try transaction { connection in
            let row = HistoryTables.runRow(run)
            let insert = HistoryTables.insert("runs", row, .postgres) + " RETURNING id"
            var id: Int64 = 0
            for try await (value) in try await connection.query(try Self.query(insert, row), logger: Self.logger)
                .decode(Int64.self) {
                id = value
            }
            for (table, child) in HistoryTables.childRows(run, id: id) {
                try await connection.query(try Self.query(HistoryTables.insert(table, child, .postgres), child), logger: Self.logger)
            }
            return id
        }
    }

    public func previous(site: String, before time: Double?) throws -> RunRecord? {
        let sql = HistoryTables.previousRunSQL(.postgres)
        return try Self.blocking { [connection] in
            let runs = try await Self.rows(connection, try Self.query(sql, [("site", .text(site)), ("before", time.map { .real($0) } ?? .null)]))
            guard let run = runs.first else { return nil }
            return try await Self.load(connection, run)
        }
    }

    public func runs(site: String, limit: Int) throws -> [RunRecord] {
        let sql = HistoryTables.lastRunsSQL(.postgres)
        return try Self.blocking { [connection] in
            var out: [RunRecord] = []
            for run in try await Self.rows(connection, try Self.query(sql, [("site", .text(site)), ("limit", .integer(Int64(limit)))])) {
                out.append(try await Self.load(connection, run))
            }
            return out
        }
    }

    public func prune(site: String, before time: Double) throws -> Int {
        let sql = HistoryTables.pruneSQL(.postgres) + " RETURNING id"
        return try Self.blocking { [connection] in
            try await Self.rows(connection, try Self.query(sql, [("site", .text(site)), ("before", .real(time))])).count
        }
    }

    public func sites() throws -> [String] {
        try Self.blocking { [connection] in
            try await Self.rows(connection, "SELECT DISTINCT site FROM runs ORDER BY site").compactMap { $0["site"]?.text }
        }
    }

    // MARK: - Plumbing

    private static func load(_ connection: PostgresConnection, _ run: [String: SQLValue]) async throws -> RunRecord {
        let id = run["id"]?.integer ?? 0
        func children(_ table: String) async throws -> [[String: SQLValue]] {
            try await rows(connection, try query(HistoryTables.childrenSQL(table, .postgres), [("run_id", .integer(id))]))
        }
        return HistoryTables.record(run: run, devices: try await children("devices"),
                                    statuses: try await children("requirement_statuses"),
                                    unexpected: try await children("unexpected_flows"))
    }

    private static func rows(_ connection: PostgresConnection, _ query: PostgresQuery) async throws -> [[String: SQLValue]] {
        var out: [[String: SQLValue]] = []
        for try await row in try await connection.query(query, logger: logger) {
            var values: [String: SQLValue] = [:]
            for cell in row {
                values[cell.columnName] = try value(cell)
            }
            out.append(values)
        }
        return out
    }

    private static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
        case .float4, .float8, .numeric: return .real(try cell.decode(Double.self))
        case .bool: return .bool(try cell.decode(Bool.self))
        default: return .text(try cell.decode(String.self))
        }
    }

    private static func query(_ sql: String, _ row: SQLRow) throws -> PostgresQuery {
        var binds = PostgresBindings(capacity: row.count)
        for (_, value) in row {
            switch value {
            case .text(let v): try binds.append(v)
            case .integer(let v): try binds.append(v)
            case .real(let v): try binds.append(v)
            case .bool(let v): try binds.append(v)
            case .null: binds.appendNull()
            }
        }
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }

    private func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) throws -> T {
        try Self.blocking { [connection] in
            try await connection.query("BEGIN", logger: Self.logger)
            do {
                let result = try await body(connection)
                try await connection.query("COMMIT", logger: Self.logger)
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: Self.logger)
                throw error
            }
        }
    }

    /// Runs `work` on the concurrency pool and waits for it (callers are plain threads).
    private static func blocking<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
        let result = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let outcome: Result<T, any Error>
            do { outcome = .success(try await work()) } catch { outcome = .failure(error) }
            result.withLock { $0 = outcome }
            done.signal()
        }
        done.wait()
        return try result.withLock { $0! }.get()
    }
}

extension PostgresHistory {
    /// One line a user can act on, for any error of opening or using a history. PostgresNIO's
    /// errors hide their details from `description` (they may hold query data); the code, the
    /// server's message and the underlying socket error are what help.
    public static func explain(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            var parts = ["\(error.code)"]
            if let message = error.serverInfo?[.message] { parts.append(message) }
            if let underlying = error.underlying { parts.append("\(underlying)") }
            return parts.joined(separator: ": ")
        }
        return String(describing: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
    }
}

/// Why a history could not be opened.
public enum HistoryError: Error, CustomStringConvertible {
    case badURL(String)

    public var description: String {
        switch self {
        case .badURL(let url): "\(url): expected postgres://user:password@host:5432/database"
        }
    }
}
