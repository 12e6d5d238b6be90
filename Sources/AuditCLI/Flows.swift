import Analysis
public import ArgumentParser
import Classify
import Flows
public import Reporting

/// `audit flows`: every flow of the captures as Zeek-compatible records.
struct Flows: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print every flow of the captures (Zeek conn.log fields).",
        discussion: """
            Formats: jsonl (one JSON object per line; the default when output is not a terminal), \
            tsv (a Zeek ASCII log with #fields headers), table (for people; the default on a terminal). \
            A one-paragraph summary goes to standard error.

            Exit status: 0 all input read; 2 nothing usable read; 3 some input unreadable or cut short \
            (everything before the problem is reported).
            """)

    @OptionGroup var input: InputOptions
    @OptionGroup var flowOptions: FlowOptions

    @Option(help: "Output format: jsonl, tsv or table.")
    var format: FlowRecordWriter.Format?

    @Flag(name: .shortAndLong, help: "Do not print the summary on standard error.")
    var quiet = false

    func run() throws {
        let output = OutputBuffer(fileDescriptor: 1)
        let writer = FlowRecordWriter(format: format ?? (standardOutputIsTerminal ? .table : .jsonl),
                                      output: output, inputNames: input.names)
        var options = flowOptions.options
        options.io = input.io
        let (source, live) = try input.source(command: "audit flows")
        var hooks: CaptureRun.LiveHooks?
        let status = LiveStatus(command: "audit flows")
        if live != nil {
            // Flows are printed as they end; a live run puts them out every second.
            var h = CaptureRun.LiveHooks()
            h.checkpointInterval = 1_000_000_000
            h.snapshotOpenFlows = false
            h.checkpoint = { _ in { writer.flush() } }
            if !quiet && !(standardOutputIsTerminal && status.isTerminal) { h.progress = { status.update($0) } }
            hooks = h
        }
        let summary = CaptureRun.runConcurrently(source: source, options: options, live: hooks) { writer.write($0) }
        status.finish()
        writer.finish()
        printRunSummary(summary, command: "audit flows", quiet: quiet)
        if summary.inputStatus != .complete { throw ExitCode(summary.inputStatus.rawValue) }
    }
}

extension FlowRecordWriter.Format: ExpressibleByArgument {}

