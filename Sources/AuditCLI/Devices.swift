import Analysis
public import ArgumentParser
import Devices
import Foundation
public import Reporting
import Wire

/// `audit devices`: the local devices of the captures, with what identifies them.
struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List the local devices of the captures: MAC and vendor, names, DHCP, mDNS, SSDP, agents, TLS fingerprints, traffic.",
        discussion: """
            A device is a local address: RFC 1918, RFC 3927 link-local, IPv6 unique local or \
            link-local, or inside a --local block. MAC vendors come from the IEEE registries of \
            Debian's ieee-data package (--ieee-data). Formats: text (the default on a terminal) and \
            json (otherwise). A one-paragraph summary goes to standard error.

            Exit status: 0 all input read; 2 nothing usable read; 3 some input unreadable or cut short \
            (everything before the problem is reported).
            """)

    @OptionGroup var input: InputOptions
    @OptionGroup var flowOptions: FlowOptions

    @Option(help: "Output format: text or json.")
    var format: DeviceReport.Format?

    @OptionGroup var deviceOptions: DeviceOptions

    @Flag(name: .shortAndLong, help: "Do not print the summary on standard error.")
    var quiet = false

    func run() throws {
        let inventory = DeviceInventory(local: deviceOptions.localNetworks)
        var options = flowOptions.options
        options.io = input.io
        let (source, live) = try input.source(command: "audit devices")
        var hooks: CaptureRun.LiveHooks?
        let status = LiveStatus(command: "audit devices")
        if live != nil && !quiet {
            var h = CaptureRun.LiveHooks()
            h.progress = { status.update($0) }
            hooks = h
        }
        let summary = CaptureRun.runConcurrently(source: source, options: options, live: hooks) { inventory.add($0) }
        status.finish()
        let (devices, vendorProblem) = inventory.result(ieeeData: deviceOptions.ieeeData)
        let vendorNote = vendorProblem.map { "audit devices: \($0)" }
        let output = OutputBuffer(fileDescriptor: 1)
        switch format ?? (standardOutputIsTerminal ? .text : .json) {
        case .text: output.write(DeviceReport.text(devices))
        case .json: output.write(DeviceReport.json(devices, inputs: input.names, tool: ("audit", Audit.version)))
        }
        output.flush()
        if let vendorNote { printError(vendorNote) }
        printRunSummary(summary, command: "audit devices", quiet: quiet)
        if summary.inputStatus != .complete { throw ExitCode(summary.inputStatus.rawValue) }
    }
}

extension DeviceReport.Format: ExpressibleByArgument {}
