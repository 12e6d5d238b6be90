import Analysis
public import ArgumentParser
public import Capture
import Classify
import Devices
import Flows
import Reporting
import Wire

/// Options of every command that reads captures: files, or live interfaces.
struct InputOptions: ParsableArguments {
    @Argument(help: ArgumentHelp(
        "pcap or pcapng files, in any order (several are read in time order as one capture); '-' reads standard input.",
        valueName: "capture"))
    var captures: [String] = []

    @Option(name: .customLong("io"), help: "How capture files are read: 'read' (a reused buffer) or 'mmap'.")
    var io: CaptureReader.IOMode = .read

    @Option(name: .customLong("iface"), help: ArgumentHelp(
        "Capture live on this interface (repeatable), e.g. the one plugged into a switch's SPAN (mirror) port; "
            + "stop with Ctrl-C or --duration.", valueName: "name"))
    var interfaces: [String] = []

    @Option(help: ArgumentHelp("Live: capture only what this BPF expression (tcpdump syntax) selects.", valueName: "expression"))
    var filter: String?

    @Option(help: ArgumentHelp("Live: bytes kept of each packet.", valueName: "bytes"))
    var snaplen: Int = 262_144

    @Flag(inversion: .prefixedNo, help: "Live: promiscuous mode (a SPAN port needs it: mirrored frames are addressed to other hosts).")
    var promisc = true

    @Flag(help: "Live: deliver each packet at once (libpcap then uses TPACKET_V2 instead of V3's blocks).")
    var immediate = false

    @Option(help: ArgumentHelp("Live: kernel ring buffer per interface (k, M, G), which absorbs bursts.", valueName: "size"))
    var bufferSize: ByteSize = ByteSize(argument: "64M")!

    @Option(help: ArgumentHelp("Live: stop after this long (e.g. 90s, 30m, 8h).", valueName: "duration"))
    var duration: DurationArgument?

    @Option(help: ArgumentHelp("Live: after opening the interfaces, run as this user (needs root to switch).", valueName: "name"))
    var user: String?

    @Option(help: ArgumentHelp("Live: also keep what is captured as rotating pcapng files in this folder.", valueName: "dir"))
    var write: String?

    @Option(help: ArgumentHelp("Live, with --write: start a new file after this many bytes.", valueName: "size"))
    var writeSize: ByteSize = ByteSize(argument: "100M")!

    @Option(help: ArgumentHelp("Live, with --write: start a new file after this long.", valueName: "duration"))
    var writeEvery: DurationArgument = DurationArgument(argument: "1h")!

    @Option(help: ArgumentHelp("Live, with --write: delete the oldest files beyond this total.", valueName: "size"))
    var writeTotal: ByteSize = ByteSize(argument: "10G")!

    var isLive: Bool { !interfaces.isEmpty }

    /// How the inputs are named in reports.
    var names: [String] { isLive ? interfaces : captures }

    func validate() throws {
        if captures.isEmpty && interfaces.isEmpty {
            throw ValidationError("Give at least one capture file ('-' for standard input) or --iface NAME.")
        }
        if !captures.isEmpty && !interfaces.isEmpty {
            throw ValidationError("Give capture files or --iface, not both.")
        }
        if captures.filter({ $0 == "-" }).count > 1 { throw ValidationError("Standard input ('-') can be read only once.") }
        if !isLive {
            let liveOnly = [(filter != nil, "--filter"), (duration != nil, "--duration"), (user != nil, "--user"),
                            (write != nil, "--write"), (immediate, "--immediate")]
            for (given, name) in liveOnly where given { throw ValidationError("\(name) applies to live capture (--iface).") }
        }
        if snaplen < 64 || snaplen > 262_144 { throw ValidationError("--snaplen must be between 64 and 262144.") }
        if let filter, let problem = LiveInterface.validate(filter: filter) { throw ValidationError("--filter: \(problem).") }
        if let duration, duration.nanoseconds <= 0 { throw ValidationError("--duration must be more than 0.") }
        if writeSize.bytes < 1 << 20 { throw ValidationError("--write-size must be at least 1M.") }
        if writeTotal.bytes < writeSize.bytes { throw ValidationError("--write-total must be at least --write-size.") }
    }

    /// The packets' source: the files, or the interfaces opened (then privileges dropped to
    /// --user, then the --write folder set up). Problems print one line and exit 2.
    func source(command: String) throws -> (source: any PacketSource, live: LiveCaptureSet?) {
        guard isLive else { return (CaptureSet(paths: captures, io: io), nil) }
        var options = LiveOptions()
        options.snaplen = snaplen
        options.promiscuous = promisc
        options.immediate = immediate
        options.bufferBytes = Int(clamping: bufferSize.bytes)
        options.filter = filter
        let live: LiveCaptureSet
        do {
            live = try LiveCaptureSet(interfaces: interfaces, options: options)
        } catch {
            printError("\(command): \(error)")
            throw ExitCode(2)
        }
        live.duration = duration?.nanoseconds
        LiveSignals.install()
        if let user {
            if let problem = Privileges.drop(to: user) {
                printError("\(command): --user \(user): \(problem)")
                throw ExitCode(2)
            }
        }
        guard let write else { return (live, live) }
        var limits = RotatingCaptureWriter.Limits()
        limits.maximumFileBytes = writeSize.bytes
        limits.maximumFileAge = writeEvery.nanoseconds
        limits.maximumTotalBytes = writeTotal.bytes
        do {
            let writer = try RotatingCaptureWriter(
                directory: write, interfaces: live.interfaces.map { ($0.name, $0.linkType, $0.snaplen) }, limits: limits)
            return (RecordingSource(source: live, writer: writer), live)
        } catch {
            printError("\(command): --write: \(error)")
            throw ExitCode(2)
        }
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

    @Option(help: ArgumentHelp(
        "1: everything on one thread (one-core machines, single-threaded benchmarks); 2: ended flows become facts and output on a second thread.",
        valueName: "1|2"))
    var threads: Int = 2

    func validate() throws {
        if maxFlows < 1 { throw ValidationError("--max-flows must be at least 1.") }
        if threads != 1 && threads != 2 { throw ValidationError("--threads must be 1 or 2.") }
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
        o.finishingThread = threads == 2
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
    guard !quiet || !summary.errors.isEmpty || summary.inputs.contains(where: { $0.loss != nil }) else { return }
    let text = SummaryText.paragraph(summary, command: command)
    printError(quiet ? text.split(separator: "\n").dropFirst().joined(separator: "\n") : text)
}
