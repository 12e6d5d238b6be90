public import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL server of Debian's `postgresql` package, started by a test on 127.0.0.1 in a
/// fresh data folder and stopped (by its PID) when the test is done. PostgreSQL refuses to run as
/// root: as root the server runs as the `postgres` user the package creates.
public final class PostgresServer {
    public let port: Int
    public let url: String
    private let folder: URL
    private let process: Process

    private static let started = Atomic<Int>(0)

    /// Why no server can start here, or nil.
    public static let unavailable: String? = {
        guard binaries != nil else { return "needs PostgreSQL's server (Debian's postgresql; Scripts/setup-debian.sh installs it)" }
        let hasUser = unsafe getpwnam("postgres") != nil
        if geteuid() == 0 && !hasUser { return "as root, needs the postgres user to run the server" }
        return nil
    }()

    /// `/usr/lib/postgresql/<version>/bin`, the newest there.
    static let binaries: String? = {
        let base = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).compactMap(Int.init).sorted()
        guard let newest = versions.last else { return nil }
        let bin = "\(base)/\(newest)/bin"
        return FileManager.default.isExecutableFile(atPath: "\(bin)/initdb") ? bin : nil
    }()

    public init() throws {
        guard let bin = Self.binaries else { throw ServerError(message: Self.unavailable ?? "no PostgreSQL") }
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("spanaudit-pg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let data = folder.appendingPathComponent("data").path
        // A port of our own, from the process id and a count of servers this process started:
        // parallel runs on one machine, and parallel suites in one run, differ.
        let serial = Self.started.add(1, ordering: .relaxed).oldValue
        port = 20_000 + Int(getpid() % 5_000) * 8 + serial % 8
        url = "postgres://spanaudit@127.0.0.1:\(port)/postgres"
        var prefix: [String] = []
        if geteuid() == 0 {
            _ = try Self.run(["/bin/chown", "-R", "postgres:postgres", folder.path])
            prefix = ["/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups"]
        }
        let initdb = try Self.run(prefix + ["\(bin)/initdb", "-D", data, "-U", "spanaudit", "--auth=trust", "-E", "UTF8",
                                            "--no-sync"])
        guard initdb.status == 0 else { throw ServerError(message: "initdb: \(initdb.output)") }
        process = Process()
        process.executableURL = URL(fileURLWithPath: prefix.first ?? "\(bin)/postgres")
        process.arguments = Array(prefix.dropFirst()) + (prefix.isEmpty ? [] : ["\(bin)/postgres"])
            + ["-D", data, "-p", "\(port)", "-k", folder.path, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]
        let log = folder.appendingPathComponent("server.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = process.standardOutput
        try process.run()
        // Ready when it accepts connections (pg_isready), within 30 s.
        for _ in 0..<300 {
            if try Self.run(["\(bin)/pg_isready", "-h", "127.0.0.1", "-p", "\(port)", "-q"]).status == 0 { return }
            if !process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        stop()
        throw ServerError(message: "the server did not start: \(text)")
    }

    deinit { stop() }

    /// Ends the server by its PID (SIGINT: PostgreSQL's fast shutdown) and removes its folder.
    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGINT)
            for _ in 0..<100 where process.isRunning { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: folder)
    }

    public struct ServerError: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: arguments[0])
        p.arguments = Array(arguments.dropFirst())
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
