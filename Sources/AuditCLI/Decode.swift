import Analysis
import ArgumentParser
import Capture
import Reporting
import Wire

/// `audit decode`: what the decoder sees in each packet, one tcpdump-like line each.
struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print what the decoder sees in each packet (a tcpdump-like listing).")

    @OptionGroup var input: InputOptions

    @Option(name: .shortAndLong, help: "Stop after this many packets.")
    var count: Int?

    func run() throws {
        let output = OutputBuffer(fileDescriptor: 1)
        let decoder = PacketDecoder()
        var decoded = DecodedPacket()
        var anomalies = Anomalies()
        var printed = 0
        let limit = count ?? .max
        let inputs = CaptureSet(paths: input.captures, io: input.io)
        inputs.read { record, frame in
            guard printed < limit else { return }
            printed += 1
            var line = "\(record.number) \(Formatting.seconds(record.timestamp)) "
            do throws(WireError) {
                try decoder.decode(frame, start: .link(record.linkType), into: &decoded, anomalies: &anomalies)
                line += PacketDump.line(decoded)
            } catch {
                line += "[\(error.reason)] \(error)"
            }
            if record.capturedLength < record.originalLength {
                line += " [captured \(record.capturedLength) of \(record.originalLength)]"
            }
            output.write(line + "\n")
        }
        output.flush()
        for result in inputs.results {
            if let error = result.error { printError("audit decode: error: \(error)") }
        }
        if inputs.results.contains(where: { $0.error != nil }) {
            throw ExitCode(inputs.results.contains(where: { $0.opened && $0.stats.packets > 0 }) ? 3 : 2)
        }
    }
}
