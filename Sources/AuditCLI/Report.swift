import Analysis
public import ArgumentParser
import Audit
import Devices
import Foundation
import Synchronization
import Capture
public import Reporting
import Wire

/// `audit CAPTURE...` (the default command): a verdict per device and requirement.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Audit captures against the vendor signatures: a verdict per device and requirement (the default command).",
        discussion: """
            `audit CAPTURE...` is `audit report CAPTURE...`. Devices get their roles from --devices \
            (an inventory: IP, MAC or CIDR → signature/role) or, without one, from what their \
            traffic shows (each role's `identify` rules); conflicts are listed, never resolved \
            silently. Every requirement of every role-holding device gets a status: ok, \
            blocked_reset, blocked_icmp, blocked_silent, handshake_failed or not_seen, with the \
            flows that show it (first packet number: find it in Wireshark with frame.number == N).

            Live (--iface): a status line while capturing; Ctrl-C or --duration ends the capture \
            and prints the report; --report-every writes the report so far meanwhile. Packets the \
            kernel dropped are in the report and make the input partial.

            Exit status: 0 no required requirement of an identified device is blocked or failed; \
            1 one is (with --strict, also one never seen); 2 bad input or usage (nothing usable \
            read, or signature problems, or an interface that cannot be opened); 3 partial input \
            (some files unreadable or cut short, or packets dropped live: what was read is \
            audited) when nothing is blocked.
            """)

    @OptionGroup var input: InputOptions
    @OptionGroup var flowOptions: FlowOptions

    @Option(help: "Output format: text (the default on a terminal), json (otherwise) or markdown.")
    var format: AuditReport.Format?

    @OptionGroup var settings: AuditSettings
    var strict: Bool { settings.strict }

    @OptionGroup var deviceOptions: DeviceOptions

    @Option(help: ArgumentHelp("Live: write the report so far every this often (e.g. 5m) to --report-file.json and .txt, atomically.",
                               valueName: "duration"))
    var reportEvery: DurationArgument?

    @Option(help: ArgumentHelp("Live, with --report-every: path of the reports, without extension.", valueName: "path"))
    var reportFile: String = "audit-report"

    @Flag(name: .shortAndLong, help: "Do not print the reading summary on standard error.")
    var quiet = false

    func validate() throws {
        if reportEvery != nil && !input.isLive { throw ValidationError("--report-every applies to live capture (--iface).") }
        if let reportEvery, reportEvery.nanoseconds < 1_000_000_000 { throw ValidationError("--report-every must be at least 1s.") }
        if flowOptions.noClassify { throw ValidationError("--no-classify: the audit needs classification (server names, TLS outcomes).") }
    }

    func run() throws {
        let (signatures, auditOptions) = try settings.load(deviceOptions, command: "audit")
        var options = flowOptions.options
        options.io = input.io
        let (source, live) = try input.source(command: "audit")
        var hooks: AuditRun.LiveHooks?
        let status = LiveStatus(command: "audit")
        if live != nil {
            var h = AuditRun.LiveHooks()
            let every = reportEvery?.nanoseconds
            h.interval = min(every ?? 10_000_000_000, 10_000_000_000)
            if !quiet { h.progress = { status.update($0, verdicts: $1) } }
            if let every {
                let prefix = reportFile, strict = strict
                let last = Mutex<Int64>(0)
                h.report = { interim in
                    let now = WallClock.now
                    // Checkpoints come every 10 s at most; a report is due every `every`.
                    let due = last.withLock { (previous: inout Int64) -> Bool in
                        guard now - previous >= every - 500_000_000 else { return false }
                        previous = now
                        return true
                    }
                    guard due else { return }
                    let json = AuditReport.json(interim.result, run: interim.summary, tool: ("audit", Audit.version), strict: strict)
                    let text = AuditReport.text(interim.result, run: interim.summary, strict: strict)
                    for (content, path) in [(json, prefix + ".json"), (text, prefix + ".txt")] {
                        if let problem = writeAtomically(content, to: path) { printError("audit: \(problem)") }
                    }
                }
            }
            hooks = h
        }
        let run = AuditRun.run(source: source, capture: options, signatures: signatures, options: auditOptions,
                               ieeeData: deviceOptions.ieeeData, live: hooks)
        status.finish()
        let summary = run.summary, result = run.result
        if summary.inputStatus == .unusable {
            for error in summary.errors { printError("audit: \(error)") }
            throw ExitCode(2)
        }
        let output = OutputBuffer(fileDescriptor: 1)
        switch format ?? (standardOutputIsTerminal ? .text : .json) {
        case .text: output.write(AuditReport.text(result, run: summary, strict: strict))
        case .markdown: output.write(AuditReport.text(result, run: summary, strict: strict, markdown: true))
        case .json: output.write(AuditReport.json(result, run: summary, tool: ("audit", Audit.version), strict: strict))
        }
        output.flush()
        printRunSummary(summary, command: "audit", quiet: quiet)
        if !result.violations(strict: strict).isEmpty { throw ExitCode(1) }
        if summary.inputStatus != .complete { throw ExitCode(summary.inputStatus.rawValue) }
    }
}

/// What the audit judges by, for `audit` and `audit nightly`.
struct AuditSettings: ParsableArguments {
    @Option(name: .customLong("devices"), help: ArgumentHelp("Inventory file (YAML or JSON): which IP, MAC or CIDR holds which role.", valueName: "file"))
    var inventoryFile: String?

    @Option(name: .customLong("signatures"), help: ArgumentHelp(
        "A folder of more signature files (repeatable), read after the ones SpanAudit ships.", valueName: "dir"))
    var signatureDirectories: [String] = []

    @Flag(help: "Also fail (exit 1) when a required requirement was never seen.")
    var strict = false

    @Option(help: ArgumentHelp("Window over which bandwidth peaks are measured, in seconds.", valueName: "seconds"))
    var window: Double = 60

    func validate() throws {
        if !(window > 0) { throw ValidationError("--window must be more than 0 seconds.") }
    }

    /// The signatures and the auditor's options; problems print every line and exit 2.
    func load(_ deviceOptions: DeviceOptions, command: String) throws -> ([Signature], Auditor.Options) {
        let signatures = try loadSignatures(extra: signatureDirectories)
        var options = Auditor.Options()
        options.local = deviceOptions.localNetworks
        options.bandwidthWindow = Int64(window * 1e9)
        if let inventoryFile {
            let (inventory, problems) = Inventory.load(file: inventoryFile)
            for problem in problems { printError("\(command): \(problem)") }
            guard let inventory, problems.isEmpty else { throw ExitCode(2) }
            options.inventory = inventory
        }
        return (signatures, options)
    }
}

/// The shipped signatures plus `extra` folders; any problem stops the audit (exit 2) after
/// listing every one.
func loadSignatures(extra: [String]) throws -> [Signature] {
    var directories: [String] = []
    if let shipped = SignatureLoader.defaultDirectory() { directories.append(shipped) }
    directories += extra
    if directories.isEmpty {
        printError("audit: no signatures found: set AUDIT_SIGNATURES or give --signatures DIR")
        throw ExitCode(2)
    }
    let (signatures, problems) = SignatureLoader.load(directories: directories)
    if !problems.isEmpty {
        for problem in problems { printError("audit: \(problem)") }
        printError("audit: \(problems.count) problem\(problems.count == 1 ? "" : "s") in the signatures; `audit signatures lint` lists them")
        throw ExitCode(2)
    }
    return signatures
}

extension AuditReport.Format: ExpressibleByArgument {}

/// `audit signatures lint|list|show`.
struct SignaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signatures",
        abstract: "Check, list and show the vendor signatures (requirements as data).",
        subcommands: [Lint.self, List.self, Show.self])

    struct Source: ParsableArguments {
        @Option(name: .customLong("signatures"), help: ArgumentHelp("A folder of more signature files (repeatable).", valueName: "dir"))
        var directories: [String] = []

        @Flag(help: "Only the folders given with --signatures, not the shipped signatures.")
        var onlyGiven = false

        var all: [String] {
            (onlyGiven ? [] : SignatureLoader.defaultDirectory().map { [$0] } ?? []) + directories
        }
    }

    struct Lint: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check signature files: every problem at once, each as file:line. Exit 0 clean, 1 problems.")
        @OptionGroup var source: Source

        func run() throws {
            let (signatures, problems) = SignatureLoader.load(directories: source.all)
            for problem in problems { print(problem) }
            let requirements = signatures.reduce(0) { $0 + $1.requirements.count }
            printError("audit signatures lint: \(signatures.count) signature\(signatures.count == 1 ? "" : "s"), \(requirements) requirements, \(problems.count) problem\(problems.count == 1 ? "" : "s")")
            if !problems.isEmpty { throw ExitCode(1) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One line per signature: id, vendor, roles, requirement count, file.")
        @OptionGroup var source: Source

        func run() throws {
            let (signatures, problems) = SignatureLoader.load(directories: source.all)
            for s in signatures {
                print("\(s.id)\t\(s.vendor)\t\(s.requirements.count) requirements\troles: \(s.roles.map(\.id).joined(separator: ", "))\t\(s.file)")
            }
            for problem in problems { printError("audit: \(problem)") }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every requirement of one signature, with the document's words.")
        @OptionGroup var source: Source
        @Argument(help: "The signature id (see `audit signatures list`).") var id: String

        func run() throws {
            let (signatures, _) = SignatureLoader.load(directories: source.all)
            guard let s = signatures.first(where: { $0.id == id }) else {
                printError("audit signatures show: no signature \(id) (have: \(signatures.map(\.id).joined(separator: ", ")))")
                throw ExitCode(2)
            }
            print("\(s.id): \(s.vendor) — \(s.product) (version \(s.version))")
            print("source: \(s.source.document)\(s.source.file.map { " (\($0))" } ?? "")")
            for role in s.roles { print("role \(role.id): \(role.title)\(role.identify.isEmpty ? " (from the inventory only)" : "")") }
            for r in s.requirements {
                var line = "\(r.id) [\(r.level.rawValue)] roles \(r.roles.joined(separator: ",")) \(r.rule.direction.rawValue) "
                line += r.rule.protocols.map(\.auditName).joined(separator: "/")
                if !r.allPorts.isEmpty { line += " " + r.allPorts.map(\.description).joined(separator: ",") }
                if !r.rule.hosts.isEmpty { line += " → " + r.rule.hosts.map(\.description).joined(separator: ", ") }
                if let group = r.group { line += " (group \(group))" }
                if let region = r.region { line += " (region \(region))" }
                print(line)
                print("    \"\(r.why)\"")
            }
            for figure in s.bandwidth { print("bandwidth \(figure.roles.joined(separator: ",")) \(figure.direction.rawValue): \(figure.why)") }
            for item in s.notAuditable { print("not auditable: \(item)") }
        }
    }
}
