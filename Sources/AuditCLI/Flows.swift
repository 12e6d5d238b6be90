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
                                      output: output, inputNames: input.captures)
        var options = flowOptions.options
        options.io = input.io
        let summary = CaptureRun.runConcurrently(paths: input.captures, options: options) { writer.write($0) }
        writer.finish()
        printRunSummary(summary, command: "audit flows", quiet: quiet)
        let status = summary.inputStatus
        if status != .complete { throw ExitCode(status.rawValue) }
    }
}

extension FlowRecordWriter.Format: ExpressibleByArgument {}

