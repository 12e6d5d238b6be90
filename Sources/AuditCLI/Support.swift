import ArgumentParser
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func printError(_ text: String) {
    var line = text
    if !line.hasSuffix("\n") { line += "\n" }
    let bytes = Array(line.utf8)
    var written = 0
    while written < bytes.count {
        let n = unsafe bytes.withUnsafeBytes { unsafe write(2, $0.baseAddress! + written, $0.count - written) }
        if n <= 0 { break }
        written += n
    }
}

func Foundation_exit(_ code: Int32) -> Never {
    exit(code)
}

/// Whether standard output is a terminal (tables for people, JSON lines for programs).
var standardOutputIsTerminal: Bool { isatty(1) == 1 }

/// A duration given as `90`, `90s`, `5m`, `2h` or `1d`; stored as nanoseconds.
struct DurationArgument: ExpressibleByArgument, CustomStringConvertible {
    var nanoseconds: Int64
    var text: String

    var description: String { text }
    var defaultValueDescription: String { text }

    init?(argument: String) {
        text = argument
        let units: [(String, Int64)] = [("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000),
                                        ("h", 3_600_000_000_000), ("d", 86_400_000_000_000)]
        var text = Substring(argument.lowercased())
        var multiplier: Int64 = 1_000_000_000
        for (suffix, value) in units where text.hasSuffix(suffix) {
            if suffix == "s" && text.hasSuffix("ms") { continue }
            text = text.dropLast(suffix.count)
            multiplier = value
            break
        }
        guard let number = Double(text), number >= 0, number.isFinite else { return nil }
        nanoseconds = Int64(number * Double(multiplier))
    }

    static var defaultCompletionKind: CompletionKind { .default }
}
