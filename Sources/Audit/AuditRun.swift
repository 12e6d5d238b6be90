public import Analysis
public import Devices
import Wire

/// A capture run that ends in an audit: reads the inputs once, feeding the device inventory, the
/// audit's flows and its bandwidth meter, then judges. The one place commands and tests audit from.
public enum AuditRun {
    public struct Output: Sendable {
        public var result: AuditResult
        public var summary: RunSummary
        public var devices: [Device]
    }

    /// `ieeeData`: the folder of the IEEE registries for MAC vendors (skipped when unreadable).
    public static func run(paths: [String], capture: CaptureRun.Options, signatures: [Signature],
                           options: Auditor.Options, ieeeData: String? = MACVendors.defaultDirectory) -> Output {
        let auditor = Auditor(signatures: signatures, options: options)
        let inventory = DeviceInventory(local: options.local)
        let traffic = auditor.traffic
        let summary = CaptureRun.runConcurrently(paths: paths, options: capture,
                                                 frames: { traffic.frame($0, time: $1, wireLength: $2) }) { flow in
            inventory.add(flow)
            auditor.add(flow)
        }
        let devices = ieeeData.map { inventory.result(ieeeData: $0).devices } ?? inventory.result()
        return Output(result: auditor.evaluate(names: summary.dnsNames, devices: devices), summary: summary, devices: devices)
    }
}
