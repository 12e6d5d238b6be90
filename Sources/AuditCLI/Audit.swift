import ArgumentParser
import Capture

/// `audit`: the command users run. Subcommands share their input and flow options through option
/// groups so that every command reads captures the same way.
@main
struct Audit: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Passive network traffic analyzer and compliance auditor.",
        discussion: """
            Reads pcap/pcapng captures, or captures live on interfaces (--iface, e.g. a switch's \
            SPAN port), and reports, device by device, what each vendor system can reach. It never \
            sends a packet.

            Exit status: 0 success; 1 a required requirement is blocked or failed; \
            2 bad input or usage (nothing usable was read); 3 partial input (some files unreadable \
            or cut short; what was read is reported).
            """,
        version: "\(Audit.version) (\(LibpcapInfo.version))",
        subcommands: [ReportCommand.self, Flows.self, DevicesCommand.self, NightlyCommand.self, HistoryCommand.self,
                      SignaturesCommand.self, Decode.self],
        defaultSubcommand: ReportCommand.self
    )

    /// Runs the command with the project's exit statuses: usage errors exit 2 (the contract's "bad
    /// usage"), not ArgumentParser's 64.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success || error is ExitCode {
                exit(withError: error)
            }
            let message = fullMessage(for: error)
            if !message.isEmpty { printError(message) }
            Foundation_exit(code.rawValue == 64 ? 2 : code.rawValue)
        }
    }
}
