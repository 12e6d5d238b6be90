import Analysis
public import ArgumentParser
public import Capture
import Classify
import Devices
import Flows
import Reporting
import Wire

/// Options of every command that reads captures.
struct InputOptions: ParsableArguments {
    @Argument(help: ArgumentHelp(
        "pcap or pcapng files, in any order (several are read in time order as one capture); '-' reads standard input.",
        valueName: "capture"))
    var captures: [String] = []

    @Option(name: .customLong("io"), help: "How capture files are read: 'read' (a reused buffer) or 'mmap'.")
    var io: CaptureReader.IOMode = .read

    func validate() throws {
        if captures.isEmpty { throw ValidationError("Give at least one capture file ('-' for standard input).") }
        if captures.filter({ $0 == "-" }).count > 1 { throw ValidationError("Standard input ('-') can be read only once.") }
    }
}

/// Flow-table options, Zeek's defaults.
struct FlowOptions: ParsableArguments {
    @Option(help: ArgumentHelp("TCP inactivity timeout (Zeek's default).", valueName: "duration"))
    var tcpTimeout: DurationArgument = DurationArgument(argument: "5m")!

    @Option(help: ArgumentHelp("UDP inactivity timeout.", valueName: "duration"))
    var udpTimeout: DurationArgument = DurationArgument(argument: "1m")!

    @Option(help: ArgumentHelp("ICMP inactivity timeout (also used for other IP protocols).", valueName: "duration"))
    var icmpTimeout: DurationArgument = DurationArgument(argument: "1m")!

    @Option(help: "At most this many live flows; the least recently active are ended beyond it.")
    var maxFlows: Int = 1_000_000

    @Flag(help: "Do not decapsulate tunnels (GRE, IP-in-IP, VXLAN, GENEVE, GTP-U, Teredo).")
    var noTunnels = false

    @Flag(help: "Do not classify flows (no service, server name or protocol facts): flows only, fastest.")
    var noClassify = false

    @Option(help: ArgumentHelp("How long after its TTL a DNS answer still names an address.", valueName: "duration"))
    var dnsGrace: DurationArgument = DurationArgument(argument: "5m")!

    func validate() throws {
        if maxFlows < 1 { throw ValidationError("--max-flows must be at least 1.") }
    }

    var options: CaptureRun.Options {
        var o = CaptureRun.Options()
        o.flows.tcpInactivity = tcpTimeout.nanoseconds
        o.flows.udpInactivity = udpTimeout.nanoseconds
        o.flows.icmpInactivity = icmpTimeout.nanoseconds
        o.flows.otherInactivity = icmpTimeout.nanoseconds
        o.flows.maximumFlows = maxFlows
        o.decodeTunnels = !noTunnels
        o.classify = !noClassify
        o.classification.dnsGrace = dnsGrace.nanoseconds
        return o
    }
}

extension CaptureReader.IOMode: ExpressibleByArgument {}

/// Which addresses are devices, and where MAC vendors come from (`audit devices`, `audit`).
struct DeviceOptions: ParsableArguments {
    @Option(name: .customLong("local"), help: ArgumentHelp(
        "Also count addresses in this block as local devices (CIDR, repeatable), for sites numbered in public space.",
        valueName: "cidr"))
    var localBlocks: [String] = []

    @Option(help: ArgumentHelp("Directory of the IEEE registries (oui.csv, mam.csv, oui36.csv, iab.csv).", valueName: "dir"))
    var ieeeData: String = MACVendors.defaultDirectory

    func validate() throws {
        for block in localBlocks where IPNetwork(block) == nil {
            throw ValidationError("--local \(block): expected an address block such as 198.18.0.0/15 or 2001:db8::/32.")
        }
    }

    var localNetworks: LocalNetworks { LocalNetworks(extra: localBlocks.compactMap(IPNetwork.init)) }
}

/// The run's summary paragraph on standard error; with `quiet`, only its problems (if any).
func printRunSummary(_ summary: RunSummary, command: String, quiet: Bool) {
    guard !quiet || !summary.errors.isEmpty else { return }
    let text = SummaryText.paragraph(summary, command: command)
    printError(quiet ? text.split(separator: "\n").dropFirst().joined(separator: "\n") : text)
}
