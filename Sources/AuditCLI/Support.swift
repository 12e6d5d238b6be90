import ArgumentParser
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func printError(_ text: String) {
    _ = writeAll(2, text.hasSuffix("\n") ? text : text + "\n")
}

/// Writes `text` to standard error as it is (no newline added).
func printErrorRaw(_ text: String) {
    _ = writeAll(2, text)
}

/// Writes all of `text` to `fd` (through short writes and interruptions); false on an error.
func writeAll(_ fd: Int32, _ text: String) -> Bool {
    let bytes = Array(text.utf8)
    var written = 0
    while written < bytes.count {
        let n = unsafe bytes.withUnsafeBytes { unsafe write(fd, $0.baseAddress! + written, $0.count - written) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return false }
        written += n
    }
    return true
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
        guard let value = scaled(argument.lowercased(), units: [("ms", 1_000_000), ("s", 1_000_000_000),
                                                               ("m", 60_000_000_000), ("h", 3_600_000_000_000),
                                                               ("d", 86_400_000_000_000)],
                                 plain: 1_000_000_000) else { return nil }
        nanoseconds = value
    }

    static var defaultCompletionKind: CompletionKind { .default }
}

/// A size given as `1048576`, `500k`, `64M` or `10G` (powers of 1024); stored as bytes.
struct ByteSize: ExpressibleByArgument, CustomStringConvertible {
    var bytes: Int64
    var text: String

    var description: String { text }
    var defaultValueDescription: String { text }

    init?(argument: String) {
        text = argument
        guard let value = scaled(argument.lowercased(), units: [("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30), ("t", 1 << 40)],
                                 plain: 1) else { return nil }
        bytes = value
    }
}

/// Giving up root after the interfaces are open (`--user`): what is open stays usable, nothing
/// else runs privileged.
enum Privileges {
    /// Returns why it failed, or nil.
    static func drop(to name: String) -> String? {
        guard let entry = unsafe getpwnam(name) else { return "no such user" }
        let (uid, gid) = unsafe (entry.pointee.pw_uid, entry.pointee.pw_gid)
        guard geteuid() == 0 else {
            return getuid() == uid ? nil : "switching user needs root (run with sudo, or leave out --user)"
        }
        if setgroups(0, nil) != 0 || setgid(gid) != 0 || setuid(uid) != 0 {
            return "cannot switch: " + (unsafe String(cString: strerror(errno)))
        }
        // Make sure root cannot be regained.
        if setuid(0) == 0 { return "root could be regained after switching; refusing to go on" }
        return nil
    }
}

/// A non-negative number with an optional unit suffix (the longest listed suffix that matches),
/// times the unit's multiplier (`plain` without a suffix); nil when it does not parse or overflows.
func scaled(_ text: String, units: [(suffix: String, multiplier: Int64)], plain: Int64) -> Int64? {
    var digits = Substring(text)
    var multiplier = plain
    for unit in units.sorted(by: { $0.suffix.count > $1.suffix.count }) where digits.hasSuffix(unit.suffix) {
        digits = digits.dropLast(unit.suffix.count)
        multiplier = unit.multiplier
        break
    }
    guard let number = Double(digits), number >= 0, number.isFinite, number * Double(multiplier) < 9e18 else { return nil }
    return Int64(number * Double(multiplier))
}
