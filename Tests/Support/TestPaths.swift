public import Foundation

/// Where the repository's captures, goldens and the shared conformance corpus are.
public enum TestPaths {
    /// The repository root (this file is `Tests/Support/TestPaths.swift`).
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static func capture(_ name: String) -> String {
        root.appendingPathComponent("Captures").appendingPathComponent(name).path
    }

    /// `../shared/corpus/ndpi` beside the repository, or nil when absent (a user's clone).
    public static var ndpiCorpus: URL? {
        let url = root.deletingLastPathComponent().appendingPathComponent("shared/corpus/ndpi")
        return FileManager.default.fileExists(atPath: url.appendingPathComponent("pcap").path) ? url : nil
    }

    /// A fresh temporary directory, removed by the caller.
    public static func temporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("spanaudit-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The built `audit` executable next to the test bundle (`.build/<config>/audit`).
    public static var auditExecutable: URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // `swift test` runs `.build/<config>/SpanAuditPackageTests.xctest`; on some setups the
        // runner is a helper inside it.
        for _ in 0..<3 {
            let candidate = directory.appendingPathComponent("audit")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return root.appendingPathComponent(".build/debug/audit")
    }
}

/// A text compared with a file under `Tests/<target>/Goldens/`; `AUDIT_UPDATE_GOLDENS=1 swift test`
/// rewrites the files instead (review the diff like code).
public enum GoldenFile {
    public static var updating: Bool { ProcessInfo.processInfo.environment["AUDIT_UPDATE_GOLDENS"] == "1" }

    /// Returns nil when `actual` matches (or was written), else a description of the first difference.
    public static func check(_ actual: String, target: String, name: String) -> String? {
        let url = TestPaths.root.appendingPathComponent("Tests").appendingPathComponent(target)
            .appendingPathComponent("Goldens").appendingPathComponent(name)
        if updating {
            try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? actual.write(to: url, atomically: true, encoding: .utf8)
            return nil
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            return "missing golden \(url.path) (run AUDIT_UPDATE_GOLDENS=1 swift test)"
        }
        if expected == actual { return nil }
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        for i in 0..<max(e.count, a.count) {
            let el = i < e.count ? String(e[i]) : "<end>"
            let al = i < a.count ? String(a[i]) : "<end>"
            if el != al { return "\(name) line \(i + 1):\n expected: \(el)\n   actual: \(al)" }
        }
        return "\(name) differs"
    }
}

/// Hex text (`"45 00 00 3c"`, spaces and newlines ignored) to bytes.
public func hexBytes(_ text: String) -> [UInt8] {
    let digits = text.filter { $0.isHexDigit }
    var out: [UInt8] = []
    var index = digits.startIndex
    while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        out.append(UInt8(digits[index..<next], radix: 16)!)
        index = next
    }
    return out
}

/// A deterministic pseudo-random generator (SplitMix64) so that property tests are repeatable.
public struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
