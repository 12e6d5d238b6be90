import Analysis
import Audit
import Capture
import Reporting
#if canImport(Glibc)
import Glibc
#endif

/// What a person watching a live capture sees on standard error: one status line refreshed in
/// place on a terminal, or a plain log line every `logInterval` when standard error is a file or
/// a pipe (a service's journal).
final class LiveStatus {
    let command: String
    let isTerminal = isatty(2) == 1
    let logInterval: Int64 = 10_000_000_000
    private var lastLog: Int64 = 0
    private var lastPackets: UInt64 = 0
    private var lastTime: Int64 = 0
    private var shown = false

    init(command: String) { self.command = command }

    func update(_ p: CaptureRun.Progress, verdicts: AuditRun.Verdicts? = nil) {
        // A log line comes every `logInterval`: its rate is over that interval, not the last second.
        if !isTerminal && lastLog != 0 && p.time &- lastLog < logInterval { return }
        let seconds = lastTime == 0 ? 1 : max(Double(p.time - lastTime) / 1e9, 0.001)
        let rate = Double(p.packets &- lastPackets) / seconds
        lastPackets = p.packets
        lastTime = p.time
        var parts = ["\(Formatting.grouped(p.packets)) packets (\(Formatting.grouped(UInt64(rate)))/s)"]
        let kernel = p.inputs.compactMap(\.live).reduce(LiveStatistics()) { sum, live in
            LiveStatistics(received: sum.received &+ live.received, droppedByKernel: sum.droppedByKernel &+ live.droppedByKernel,
                           droppedByInterface: sum.droppedByInterface &+ live.droppedByInterface)
        }
        parts.append("dropped \(Formatting.grouped(kernel.droppedByKernel)) kernel, \(Formatting.grouped(kernel.droppedByInterface)) interface")
        parts.append("\(Formatting.grouped(UInt64(p.openFlows))) flows open, \(Formatting.grouped(p.flowsEnded)) ended")
        if let v = verdicts {
            parts.append("\(v.devices) devices (\(v.devicesWithRoles) with roles)")
            parts.append("requirements \(v.ok) ok, \(v.blocked) blocked, \(v.notSeen) not seen")
        }
        let line = "\(command): " + parts.joined(separator: "; ")
        if isTerminal {
            printErrorRaw("\r\u{1B}[K" + line)
            shown = true
        } else {
            lastLog = p.time
            printError(line)
        }
    }

    /// Ends the status line so what follows starts on its own line.
    func finish() {
        if shown { printErrorRaw("\r\u{1B}[K") }
        shown = false
    }
}

/// Writes `text` to `path` atomically: readers see the old report or the new one, never half.
func writeAtomically(_ text: String, to path: String) -> String? {
    let temporary = path + ".tmp"
    let fd = unsafe open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { return "\(path): cannot write: " + (unsafe String(cString: strerror(errno))) }
    let written = writeAll(fd, text)
    let synced = fsync(fd) == 0
    close(fd)
    guard written, synced, unsafe rename(temporary, path) == 0 else {
        unsafe unlink(temporary)
        return "\(path): cannot write the report"
    }
    return nil
}
