import Analysis
public import ArgumentParser
import Audit
import Capture
import Foundation
import History
import Reporting

/// `audit nightly`: the night's captures audited, stored in the history, compared with the last
/// run of the site, and written as report.html, report.json and report.md.
struct NightlyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nightly",
        abstract: "Audit a night's captures, keep the result in a history, and write HTML, JSON and Markdown reports.",
        discussion: """
            Reads every pcap/pcapng file given, or found in the folders given (rotated files in any \
            order are read in time order, streaming: memory follows flows, not the night's size), \
            audits them, stores the run in --history (SQLite, or PostgreSQL for a postgres:// URL), \
            compares it with the previous run of \
            the same --site, and writes report.html, report.json and report.md into --out, each \
            replaced atomically. The reports open with what changed: requirements newly blocked \
            (regressions) first, then fixed ones, new and vanished devices, new unexpected \
            destinations and bandwidth that moved. One line goes to standard output, for cron mail.

            Exit status: 0 no required requirement is blocked or failed; 1 one is (with --strict, \
            also one never seen); 2 bad input or usage (no capture, nothing usable read, a history \
            that cannot be opened); 3 partial input (some files unreadable or cut short).
            """)

    @Argument(help: ArgumentHelp("Capture files, or folders of them (*.pcap, *.pcapng, *.cap).", valueName: "dir-or-file"))
    var inputs: [String] = []

    @Option(help: ArgumentHelp("The history: a SQLite file (created if missing), or postgres://user:password@host:5432/database.",
                               valueName: "path-or-url"))
    var history: String

    @Option(help: ArgumentHelp("Folder for report.html, report.json and report.md (created if missing).", valueName: "dir"))
    var out: String

    @Option(help: ArgumentHelp("Which site this is: runs are compared with the same site's.", valueName: "name"))
    var site: String = "site"

    @Option(help: ArgumentHelp("Forget runs older than this (e.g. 90d).", valueName: "duration"))
    var keep: DurationArgument = DurationArgument(argument: "90d")!

    @Option(help: ArgumentHelp("Report an average bandwidth as moved when it changed by more than this percentage.",
                               valueName: "percent"))
    var bandwidthChange: Double = 50

    @OptionGroup var settings: AuditSettings
    @OptionGroup var flowOptions: FlowOptions
    @OptionGroup var deviceOptions: DeviceOptions

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("Give the night's capture files or a folder of them.") }
        if !(bandwidthChange > 0) { throw ValidationError("--bandwidth-change must be more than 0.") }
    }

    /// Files of `inputs`, folders expanded (their capture files, by name; `.part` files still
    /// being written are left out).
    static func captureFiles(_ inputs: [String]) throws -> [String] {
        var files: [String] = []
        for input in inputs {
            guard FileManager.default.fileExists(atPath: input) else {
                printError("audit nightly: \(input): no such file or folder")
                throw ExitCode(2)
            }
            if let names = try? FileManager.default.contentsOfDirectory(atPath: input) {
                files += names.filter { name in [".pcap", ".pcapng", ".cap"].contains { name.hasSuffix($0) } }.sorted()
                    .map { (input as NSString).appendingPathComponent($0) }
            } else {
                files.append(input)
            }
        }
        return files
    }

    func run() throws {
        let (signatures, auditOptions) = try settings.load(deviceOptions, command: "audit nightly")
        let paths = try Self.captureFiles(inputs)
        if paths.isEmpty {
            printError("audit nightly: no capture files (*.pcap, *.pcapng, *.cap) in \(inputs.joined(separator: ", "))")
            throw ExitCode(2)
        }
        let store = try openHistory(history, command: "audit nightly")
        let audit = AuditRun.run(paths: paths, capture: flowOptions.options, signatures: signatures, options: auditOptions,
                                 ieeeData: deviceOptions.ieeeData)
        let summary = audit.summary, result = audit.result
        printRunSummary(summary, command: "audit nightly", quiet: true)
        if summary.inputStatus == .unusable { throw ExitCode(2) }

        let now = Date().timeIntervalSince1970
        var record = RunRecord(site: site, result: result, inputs: paths, firstTimestamp: summary.firstTimestamp,
                               lastTimestamp: summary.lastTimestamp, strict: settings.strict, createdAt: now)
        let changes: RunChanges?
        let trend: [RunRecord]
        do {
            let previous = try store.previous(site: site, before: record.firstTimestamp)
            changes = previous.map { RunChanges(from: $0, to: record, bandwidthChange: bandwidthChange / 100) }
            record.id = try store.record(record)
            _ = try store.prune(site: site, before: (record.lastTimestamp ?? now) - Double(keep.nanoseconds) / 1e9)
            trend = try store.runs(site: site, limit: 30)
        } catch {
            printError("audit nightly: --history \(history): \(error)")
            throw ExitCode(2)
        }

        let tool = ("audit", Audit.version)
        let reports = [
            ("report.json", AuditReport.json(result, run: summary, tool: tool, strict: settings.strict, changes: changes, series: true)),
            ("report.md", AuditReport.text(result, run: summary, strict: settings.strict, markdown: true, changes: changes)),
            ("report.html", HTMLReport.render(result, run: summary, site: site, strict: settings.strict, changes: changes,
                                              trend: trend, tool: tool)),
        ]
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        } catch {
            printError("audit nightly: --out \(out): \(error.localizedDescription)")
            throw ExitCode(2)
        }
        for (name, text) in reports {
            if let problem = writeAtomically(text, to: (out as NSString).appendingPathComponent(name)) {
                printError("audit nightly: \(problem)")
                throw ExitCode(2)
            }
        }

        let violations = result.violations(strict: settings.strict)
        let counts = result.requirementCounts
        var line = "audit nightly: \(site)"
        if let first = summary.firstTimestamp { line += " \(Formatting.iso8601(first).prefix(10))" }
        line += ": " + (violations.isEmpty ? "compliant" : "\(violations.count) required blocked")
        if let changes {
            line += changes.regressions.isEmpty ? ", no regression" : ", \(changes.regressions.count) REGRESSION\(changes.regressions.count == 1 ? "" : "S")"
            if !changes.fixed.isEmpty { line += ", \(changes.fixed.count) fixed" }
        } else {
            line += ", first run"
        }
        line += "; \(counts.ok) ok, \(counts.blocked) blocked, \(counts.notSeen) not seen, \(result.unexpectedCount) unexpected"
        let problems = summary.inputs.filter { $0.error != nil || $0.loss != nil }.count
        if problems > 0 { line += "; PARTIAL INPUT: \(problems) of \(summary.inputs.count) files unreadable or cut short" }
        line += "; \((out as NSString).appendingPathComponent("report.html"))"
        print(line)
        if !violations.isEmpty { throw ExitCode(1) }
        if summary.inputStatus != .complete { throw ExitCode(summary.inputStatus.rawValue) }
    }
}

/// `audit history`: what the history holds, over time.
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show the runs a history holds: a site's verdicts, a device's, or one requirement's status over time.")

    @Option(help: ArgumentHelp("The history: a SQLite file, or postgres://user:password@host:5432/database.",
                               valueName: "path-or-url"))
    var history: String

    @Option(help: ArgumentHelp("The site (default: the only one, or every one).", valueName: "name"))
    var site: String?

    @Option(help: ArgumentHelp("One device's requirements over time.", valueName: "ip"))
    var device: String?

    @Option(help: ArgumentHelp("With --device: one requirement (signature/id) over time.", valueName: "signature/id"))
    var requirement: String?

    @Option(help: "How many runs, newest last.")
    var last: Int = 30

    func validate() throws {
        if requirement != nil && device == nil { throw ValidationError("--requirement needs --device.") }
        if last < 1 { throw ValidationError("--last must be at least 1.") }
    }

    func run() throws {
        if !isPostgres(history) && !FileManager.default.fileExists(atPath: history) {
            printError("audit history: \(history): no such history")
            throw ExitCode(2)
        }
        let store = try openHistory(history, command: "audit history")
        let sites = try site.map { [$0] } ?? store.sites()
        for site in sites {
            print("\(site):")
            for run in try store.runs(site: site, limit: last) {
                let day = run.firstTimestamp.map { Formatting.iso8601(Int64($0 * 1e9)) } ?? "run \(run.id)"
                if let device {
                    guard let d = run.devices.first(where: { $0.ip == device }) else {
                        print("  \(day)  (device absent)")
                        continue
                    }
                    if let requirement {
                        let r = d.requirements.first { "\($0.signature)/\($0.id)" == requirement }
                        print("  \(day)  \(r.map { "\($0.status)  \($0.established)/\($0.attempts) established" } ?? "(not a requirement of the device)")")
                    } else {
                        let failed = d.requirements.filter { RunRecord.failures.contains($0.status) }
                        let ok = d.requirements.filter { $0.status == "ok" }.count
                        let unseen = d.requirements.filter { $0.status == "not_seen" }.count
                        var line = "  \(day)  \(ok) ok, \(failed.count) blocked, \(unseen) not seen"
                        if !failed.isEmpty { line += ": " + failed.map { "\($0.signature)/\($0.id) \($0.status)" }.joined(separator: ", ") }
                        print(line)
                    }
                } else {
                    print("  \(day)  \(run.compliant ? "compliant    " : "NOT COMPLIANT")  \(run.ok) ok, \(run.blocked) blocked, "
                          + "\(run.notSeen) not seen, \(run.unexpected) unexpected, \(run.devices.count) devices")
                }
            }
        }
    }
}

func isPostgres(_ history: String) -> Bool { history.hasPrefix("postgres://") || history.hasPrefix("postgresql://") }

/// The history `--history` names: PostgreSQL for a URL, else a SQLite file. A problem prints one
/// line and exits 2.
func openHistory(_ history: String, command: String) throws -> any HistoryStore {
    do {
        return isPostgres(history) ? try PostgresHistory(url: history) : try SQLiteHistory(path: history)
    } catch {
        // Never echo a password back.
        let shown = isPostgres(history) ? history.replacingOccurrences(of: ":[^:@/]*@", with: ":***@", options: .regularExpression) : history
        printError("\(command): --history \(shown): \(PostgresHistory.explain(error))")
        throw ExitCode(2)
    }
}
