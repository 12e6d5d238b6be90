public import Analysis
public import Capture
public import Devices
import Synchronization
import Wire

/// A capture run that ends in an audit: reads the inputs once, feeding the device inventory, the
/// audit's flows and its bandwidth meter, then judges. The one place commands and tests audit from.
public enum AuditRun {
    public struct Output: Sendable {
        public var result: AuditResult
        public var summary: RunSummary
        public var devices: [Device]
    }

    /// What a live audit shows while capture goes on.
    public struct LiveHooks {
        /// Wall-clock nanoseconds between interim verdicts.
        public var interval: Int64 = 10_000_000_000
        /// Each interim report (flows still open count as they are now), on the thread that
        /// finishes flows: write it out there, the capture goes on meanwhile.
        public var report: (@Sendable (Output) -> Void)?
        /// About once a second, on the reading thread, with the latest interim verdicts.
        public var progress: ((CaptureRun.Progress, Verdicts?) -> Void)?

        public init() {}
    }

    /// The counts a status line shows.
    public struct Verdicts: Sendable {
        public var devices = 0
        public var devicesWithRoles = 0
        public var ok = 0
        public var blocked = 0
        public var notSeen = 0
        public var violations = 0

        init(_ result: AuditResult) {
            devices = result.devices.count
            devicesWithRoles = result.devices.filter { !$0.roles.isEmpty }.count
            let counts = result.requirementCounts
            (ok, blocked, notSeen) = (counts.ok, counts.blocked, counts.notSeen)
            violations = result.violations(strict: false).count
        }
    }

    /// `ieeeData`: the folder of the IEEE registries for MAC vendors (skipped when unreadable).
    public static func run(paths: [String], capture: CaptureRun.Options, signatures: [Signature],
                           options: Auditor.Options, ieeeData: String? = MACVendors.defaultDirectory) -> Output {
        run(source: CaptureSet(paths: paths, io: capture.io), capture: capture, signatures: signatures, options: options,
            ieeeData: ieeeData)
    }

    /// The audit of any source: files, or live interfaces with `live` hooks.
    public static func run(source: any PacketSource, capture: CaptureRun.Options, signatures: [Signature],
                           options: Auditor.Options, ieeeData: String? = MACVendors.defaultDirectory,
                           live: LiveHooks? = nil) -> Output {
        let auditor = Auditor(signatures: signatures, options: options)
        let inventory = DeviceInventory(local: options.local)
        let traffic = auditor.traffic
        let latest = Mutex<Verdicts?>(nil)
        @Sendable func devices(of inventory: DeviceInventory) -> [Device] {
            ieeeData.map { inventory.result(ieeeData: $0).devices } ?? inventory.result()
        }

        var hooks: CaptureRun.LiveHooks?
        if let live {
            var h = CaptureRun.LiveHooks()
            h.checkpointInterval = live.interval
            h.progress = { progress in live.progress?(progress, latest.withLock { $0 }) }
            h.checkpoint = { checkpoint in
                // On the reading thread: the meter as it is now; the rest on the finishing thread.
                let meter = traffic.copy()
                let report = live.report
                return { @Sendable in
                    let interim = inventory.copy()
                    for flow in checkpoint.openFlows { interim.add(flow) }
                    let known = devices(of: interim)
                    let result = auditor.evaluate(names: checkpoint.summary.dnsNames, devices: known,
                                                  open: checkpoint.openFlows, traffic: meter)
                    latest.withLock { $0 = Verdicts(result) }
                    report?(Output(result: result, summary: checkpoint.summary, devices: known))
                }
            }
            hooks = h
        }
        let summary = CaptureRun.runConcurrently(source: source, options: capture,
                                                 frames: { traffic.frame($0, time: $1, wireLength: $2) },
                                                 live: hooks) { flow in
            inventory.add(flow)
            auditor.add(flow)
        }
        let known = devices(of: inventory)
        return Output(result: auditor.evaluate(names: summary.dnsNames, devices: known), summary: summary, devices: known)
    }
}
