import Foundation

/// A value in a history row, whatever the database.
enum SQLValue: Sendable, Equatable {
    case text(String)
    case integer(Int64)
    case real(Double)
    case bool(Bool)
    case null

    var text: String? { if case .text(let v) = self { v } else { nil } }
    var integer: Int64? {
        switch self {
        case .integer(let v): v
        case .real(let v): Int64(v)
        case .bool(let v): v ? 1 : 0
        default: nil
        }
    }
    var real: Double? {
        switch self {
        case .real(let v): v
        case .integer(let v): Double(v)
        default: nil
        }
    }
    var bool: Bool? {
        switch self {
        case .bool(let v): v
        case .integer(let v): v != 0
        default: nil
        }
    }
}

/// One row: column names and values, in the table's column order.
typealias SQLRow = [(column: String, value: SQLValue)]

/// The history's tables, one definition for SQLite and PostgreSQL: the schema, a run as rows, and
/// rows back into a run. The stores only move rows, so both keep exactly the same history.
enum HistoryTables {
    enum Dialect { case sqlite, postgres }

    /// The schema, version 1. Types both databases accept; only the run id's differs.
    static func schema(_ dialect: Dialect) -> [String] {
        let id = dialect == .sqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGSERIAL PRIMARY KEY"
        let reference = dialect == .sqlite ? "INTEGER" : "BIGINT"
        return [
            """
            CREATE TABLE runs (
                id \(id), site TEXT NOT NULL, first_ts DOUBLE PRECISION, last_ts DOUBLE PRECISION,
                created_at DOUBLE PRECISION NOT NULL, inputs TEXT NOT NULL, compliant BOOLEAN NOT NULL, ok INTEGER NOT NULL,
                blocked INTEGER NOT NULL, not_seen INTEGER NOT NULL, unexpected INTEGER NOT NULL)
            """,
            "CREATE INDEX runs_by_site ON runs (site, first_ts)",
            """
            CREATE TABLE devices (
                run_id \(reference) NOT NULL REFERENCES runs (id) ON DELETE CASCADE, position INTEGER NOT NULL,
                ip TEXT NOT NULL, mac TEXT, names TEXT NOT NULL, roles TEXT NOT NULL, tx_bps_avg DOUBLE PRECISION NOT NULL,
                rx_bps_avg DOUBLE PRECISION NOT NULL, tx_bps_peak DOUBLE PRECISION NOT NULL,
                rx_bps_peak DOUBLE PRECISION NOT NULL, bandwidth_status TEXT NOT NULL, PRIMARY KEY (run_id, ip))
            """,
            """
            CREATE TABLE requirement_statuses (
                run_id \(reference) NOT NULL REFERENCES runs (id) ON DELETE CASCADE, position INTEGER NOT NULL,
                device_ip TEXT NOT NULL, signature TEXT NOT NULL, requirement TEXT NOT NULL, level TEXT NOT NULL,
                proto TEXT NOT NULL, ports TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL,
                established INTEGER NOT NULL, outcomes TEXT NOT NULL, PRIMARY KEY (run_id, device_ip, signature, requirement))
            """,
            "CREATE INDEX statuses_by_requirement ON requirement_statuses (device_ip, signature, requirement)",
            """
            CREATE TABLE unexpected_flows (
                run_id \(reference) NOT NULL REFERENCES runs (id) ON DELETE CASCADE, position INTEGER NOT NULL,
                device_ip TEXT NOT NULL, proto TEXT NOT NULL, resp_h TEXT NOT NULL, resp_p INTEGER NOT NULL,
                server_name TEXT, conn_state TEXT NOT NULL, uid TEXT NOT NULL)
            """,
            "CREATE INDEX unexpected_by_run ON unexpected_flows (run_id)",
        ]
    }

    /// The run's own row (without its id, which the database gives).
    static func runRow(_ run: RunRecord) -> SQLRow {
        [("site", .text(run.site)), ("first_ts", run.firstTimestamp.map { .real($0) } ?? .null),
         ("last_ts", run.lastTimestamp.map { .real($0) } ?? .null), ("created_at", .real(run.createdAt)),
         ("inputs", .text(json(run.inputs))), ("compliant", .bool(run.compliant)), ("ok", .integer(Int64(run.ok))),
         ("blocked", .integer(Int64(run.blocked))), ("not_seen", .integer(Int64(run.notSeen))),
         ("unexpected", .integer(Int64(run.unexpected)))]
    }

    /// The rows of the run's devices, statuses and unexpected flows, by table.
    static func childRows(_ run: RunRecord, id: Int64) -> [(table: String, row: SQLRow)] {
        var out: [(String, SQLRow)] = []
        var statusPosition = 0, flowPosition = 0
        for (position, d) in run.devices.enumerated() {
            out.append(("devices", [
                ("run_id", .integer(id)), ("position", .integer(Int64(position))), ("ip", .text(d.ip)),
                ("mac", d.mac.map { .text($0) } ?? .null), ("names", .text(json(d.names))), ("roles", .text(json(d.roles))),
                ("tx_bps_avg", .real(d.bandwidth.transmitAverage)), ("rx_bps_avg", .real(d.bandwidth.receiveAverage)),
                ("tx_bps_peak", .real(d.bandwidth.transmitPeak)), ("rx_bps_peak", .real(d.bandwidth.receivePeak)),
                ("bandwidth_status", .text(d.bandwidth.status)),
            ]))
            for r in d.requirements {
                out.append(("requirement_statuses", [
                    ("run_id", .integer(id)), ("position", .integer(Int64(statusPosition))), ("device_ip", .text(d.ip)),
                    ("signature", .text(r.signature)), ("requirement", .text(r.id)), ("level", .text(r.level)),
                    ("proto", .text(r.proto)), ("ports", .text(json(r.ports))), ("status", .text(r.status)),
                    ("attempts", .integer(Int64(r.attempts))), ("established", .integer(Int64(r.established))),
                    ("outcomes", .text(json(r.outcomes))),
                ]))
                statusPosition += 1
            }
            for u in d.unexpected {
                out.append(("unexpected_flows", [
                    ("run_id", .integer(id)), ("position", .integer(Int64(flowPosition))), ("device_ip", .text(d.ip)),
                    ("proto", .text(u.proto)), ("resp_h", .text(u.responder)), ("resp_p", .integer(Int64(u.responderPort))),
                    ("server_name", u.serverName.map { .text($0) } ?? .null), ("conn_state", .text(u.connState)),
                    ("uid", .text(u.uid)),
                ]))
                flowPosition += 1
            }
        }
        return out
    }

    /// A run from its rows (children in any order: `position` orders them).
    static func record(run: [String: SQLValue], devices: [[String: SQLValue]], statuses: [[String: SQLValue]],
                       unexpected: [[String: SQLValue]]) -> RunRecord {
        func position(_ row: [String: SQLValue]) -> Int64 { row["position"]?.integer ?? 0 }
        var list: [RunRecord.Device] = []
        var index: [String: Int] = [:]
        for d in devices.sorted(by: { position($0) < position($1) }) {
            let ip = d["ip"]?.text ?? ""
            index[ip] = list.count
            list.append(RunRecord.Device(
                ip: ip, mac: d["mac"]?.text, names: decode(d["names"]?.text) ?? [], roles: decode(d["roles"]?.text) ?? [],
                requirements: [],
                bandwidth: RunRecord.Bandwidth(transmitAverage: d["tx_bps_avg"]?.real ?? 0, receiveAverage: d["rx_bps_avg"]?.real ?? 0,
                                               transmitPeak: d["tx_bps_peak"]?.real ?? 0, receivePeak: d["rx_bps_peak"]?.real ?? 0,
                                               status: d["bandwidth_status"]?.text ?? "unknown"),
                unexpected: []))
        }
        for r in statuses.sorted(by: { position($0) < position($1) }) {
            guard let i = index[r["device_ip"]?.text ?? ""] else { continue }
            list[i].requirements.append(RunRecord.Requirement(
                signature: r["signature"]?.text ?? "", id: r["requirement"]?.text ?? "", level: r["level"]?.text ?? "",
                proto: r["proto"]?.text ?? "", ports: decode(r["ports"]?.text) ?? [], status: r["status"]?.text ?? "",
                attempts: Int(r["attempts"]?.integer ?? 0), established: Int(r["established"]?.integer ?? 0),
                outcomes: decode(r["outcomes"]?.text) ?? [:]))
        }
        for u in unexpected.sorted(by: { position($0) < position($1) }) {
            guard let i = index[u["device_ip"]?.text ?? ""] else { continue }
            list[i].unexpected.append(RunRecord.Unexpected(
                proto: u["proto"]?.text ?? "", responder: u["resp_h"]?.text ?? "", responderPort: Int(u["resp_p"]?.integer ?? 0),
                serverName: u["server_name"]?.text, connState: u["conn_state"]?.text ?? "", uid: u["uid"]?.text ?? ""))
        }
        var record = RunRecord(site: run["site"]?.text ?? "", firstTimestamp: run["first_ts"]?.real,
                               lastTimestamp: run["last_ts"]?.real, createdAt: run["created_at"]?.real ?? 0,
                               inputs: decode(run["inputs"]?.text) ?? [], compliant: run["compliant"]?.bool ?? false,
                               ok: Int(run["ok"]?.integer ?? 0), blocked: Int(run["blocked"]?.integer ?? 0),
                               notSeen: Int(run["not_seen"]?.integer ?? 0), unexpected: Int(run["unexpected"]?.integer ?? 0),
                               devices: list)
        record.id = run["id"]?.integer ?? 0
        return record
    }

    /// `INSERT INTO table (a, b) VALUES (?, ?)` with the placeholder style of the dialect.
    static func insert(_ table: String, _ row: SQLRow, _ dialect: Dialect) -> String {
        let placeholders = row.indices.map { dialect == .sqlite ? "?" : "$\($0 + 1)" }.joined(separator: ", ")
        return "INSERT INTO \(table) (\(row.map(\.column).joined(separator: ", "))) VALUES (\(placeholders))"
    }

    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    static func decode<T: Decodable>(_ text: String?) -> T? {
        guard let text else { return nil }
        return try? JSONDecoder().decode(T.self, from: Data(text.utf8))
    }

    /// Queries both stores ask, in the dialect's placeholders: the previous run, the last runs,
    /// pruning and sites.
    static func previousRunSQL(_ d: Dialect) -> String {
        d == .sqlite
            ? "SELECT * FROM runs WHERE site = ? AND (? IS NULL OR first_ts < ?) ORDER BY first_ts DESC, id DESC LIMIT 1"
            : "SELECT * FROM runs WHERE site = $1 AND ($2::DOUBLE PRECISION IS NULL OR first_ts < $2) ORDER BY first_ts DESC, id DESC LIMIT 1"
    }

    static func lastRunsSQL(_ d: Dialect) -> String {
        let p = d == .sqlite ? ("?", "?") : ("$1", "$2")
        return "SELECT * FROM (SELECT * FROM runs WHERE site = \(p.0) ORDER BY first_ts DESC, id DESC LIMIT \(p.1)) AS last ORDER BY first_ts, id"
    }

    static func pruneSQL(_ d: Dialect) -> String {
        d == .sqlite ? "DELETE FROM runs WHERE site = ? AND COALESCE(first_ts, created_at) < ?"
                     : "DELETE FROM runs WHERE site = $1 AND COALESCE(first_ts, created_at) < $2"
    }

    static func childrenSQL(_ table: String, _ d: Dialect) -> String {
        "SELECT * FROM \(table) WHERE run_id = \(d == .sqlite ? "?" : "$1")"
    }
}
