import Analysis
public import ArgumentParser
public import Capture
import Classify
import Flows

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
