import Foundation
import Testing
import TestSupport

/// `audit nightly` as cron runs it: two nights built from the lab captures (compliant, then
/// blocked) into one history; the second night's reports open with exactly what regressed.
@Suite(.serialized) struct NightlyTests {
    struct Night {
        var folder: URL
        var first: VethLab.Finished
        var second: VethLab.Finished
    }

    /// Runs both nights in a fresh folder (relative paths, so the reports do not name it). MAC
    /// vendors are left out (`--ieee-data` pointing nowhere) so goldens do not follow ieee-data.
    static func twoNights(history: String = "history.sqlite") throws -> Night {
        let folder = TestPaths.temporaryDirectory()
        for (night, capture) in [("n1", "store-compliant.pcapng"), ("n2", "store-blocked.pcapng")] {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent(night), withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: TestPaths.capture(capture),
                                             toPath: folder.appendingPathComponent("\(night)/\(capture)").path)
        }
        func nightly(_ night: String) throws -> VethLab.Finished {
            try run([TestPaths.auditExecutable.path, "nightly", night, "--history", history, "--out", "out-\(night)",
                     "--site", "store-12", "--devices", TestPaths.capture("store-inventory.json"), "--window", "2",
                     "--ieee-data", "/nonexistent"], in: folder)
        }
        return Night(folder: folder, first: try nightly("n1"), second: try nightly("n2"))
    }

    static func run(_ arguments: [String], in folder: URL) throws -> VethLab.Finished {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.currentDirectoryURL = folder
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return VethLab.Finished(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                                stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test func theBlockedNightOpensWithItsRegressions() throws {
        let night = try Self.twoNights()
        defer { try? FileManager.default.removeItem(at: night.folder) }
        #expect(night.first.status == 0, "\(night.first.stderr)")
        #expect(night.first.stdout == "audit nightly: store-12 2026-11-21: compliant, first run; 70 ok, 0 blocked, 0 not seen, 1 unexpected; out-n1/report.html\n")
        #expect(night.second.status == 1, "\(night.second.stderr)")
        #expect(night.second.stdout == "audit nightly: store-12 2026-11-21: 5 required blocked, 6 REGRESSIONS; 64 ok, 6 blocked, 0 not seen, 1 unexpected; out-n2/report.html\n")

        let markdown = try String(contentsOf: night.folder.appendingPathComponent("out-n2/report.md"), encoding: .utf8)
        let lines = markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(Array(lines.prefix(10)) == [
            "# SpanAudit report: n2/store-blocked.pcapng",
            "",
            "**REGRESSIONS since 2026-11-21T12:30:32Z**: 6 requirements newly blocked or failed",
            "",
            "- 10.40.0.21 retailnext/cloud-service (tcp 8278): ok → blocked_reset",
            "- 10.40.0.31 openeye-ows/relay (tcp 443,80): ok → handshake_failed",
            "- 10.40.0.31 openeye-ows/api (tcp 443): ok → blocked_icmp",
            "- 10.40.0.31 openeye-ows/stun (udp 3478): ok → blocked_silent",
            "- 10.40.0.42 valt/wowza-license (tcp 80): ok → blocked_silent",
            "- 10.40.0.42 valt/cloud-ike (udp 500): ok → blocked_icmp",
        ])
        let json = try Data(contentsOf: night.folder.appendingPathComponent("out-n2/report.json"))
        let report = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        let changes = try #require(report["changes"] as? [String: Any])
        let regressions = try #require(changes["regressions"] as? [[String: Any]])
        #expect(regressions.map { "\($0["device"]!) \($0["signature"]!)/\($0["id"]!) \($0["to"]!)" } == [
            "10.40.0.21 retailnext/cloud-service blocked_reset", "10.40.0.31 openeye-ows/relay handshake_failed",
            "10.40.0.31 openeye-ows/api blocked_icmp", "10.40.0.31 openeye-ows/stun blocked_silent",
            "10.40.0.42 valt/wowza-license blocked_silent", "10.40.0.42 valt/cloud-ike blocked_icmp",
        ])
        #expect((changes["previous_run"] as? [String: Any])?["id"] as? String == "1")
        // The first night had no previous run: no changes member.
        let firstJSON = try Data(contentsOf: night.folder.appendingPathComponent("out-n1/report.json"))
        #expect((try JSONSerialization.jsonObject(with: firstJSON) as? [String: Any])?["changes"] == nil)

        for (file, golden) in [("out-n2/report.json", "nightly-blocked.report.json"), ("out-n2/report.md", "nightly-blocked.report.md")] {
            let text = try String(contentsOf: night.folder.appendingPathComponent(file), encoding: .utf8)
            if let difference = GoldenFile.check(text, target: "EndToEndTests", name: golden) {
                Issue.record(Comment(rawValue: difference))
            }
        }

        // `audit history` reads the same history back.
        let history = try Self.run([TestPaths.auditExecutable.path, "history", "--history", "history.sqlite",
                                    "--device", "10.40.0.31", "--requirement", "openeye-ows/stun"], in: night.folder)
        #expect(history.status == 0)
        #expect(history.stdout == "store-12:\n  2026-11-21T12:30:32Z  ok  1/1 established\n  2026-11-21T12:31:13Z  blocked_silent  0/1 established\n")
    }

    /// A chain of stores keeps its history in PostgreSQL: the same two nights give the same reports
    /// as with SQLite, and `audit history` reads them back.
    @Test(.enabled(if: PostgresServer.unavailable == nil, Comment(rawValue: PostgresServer.unavailable ?? "")))
    func thePostgreSQLHistoryGivesTheSameReports() throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let sqlite = try Self.twoNights()
        defer { try? FileManager.default.removeItem(at: sqlite.folder) }
        let postgres = try Self.twoNights(history: server.url)
        defer { try? FileManager.default.removeItem(at: postgres.folder) }
        #expect(postgres.first.status == 0 && postgres.second.status == 1, "\(postgres.first.stderr) \(postgres.second.stderr)")
        #expect(postgres.second.stdout == sqlite.second.stdout)
        for file in ["out-n2/report.json", "out-n2/report.md", "out-n2/report.html"] {
            let a = try String(contentsOf: sqlite.folder.appendingPathComponent(file), encoding: .utf8)
            let b = try String(contentsOf: postgres.folder.appendingPathComponent(file), encoding: .utf8)
            #expect(a == b, "\(file) differs between the SQLite and the PostgreSQL history")
        }
        let history = try Self.run([TestPaths.auditExecutable.path, "history", "--history", server.url, "--site", "store-12"],
                                   in: postgres.folder)
        #expect(history.stdout == """
            store-12:
              2026-11-21T12:30:32Z  compliant      70 ok, 0 blocked, 0 not seen, 1 unexpected, 11 devices
              2026-11-21T12:31:13Z  NOT COMPLIANT  64 ok, 6 blocked, 0 not seen, 1 unexpected, 11 devices

            """, "\(history.stderr)")
    }

    /// A night whose file was cut short: everything before the cut is audited and reported, the
    /// line says so, and the exit status is 3.
    @Test func aCutNightIsPartialInput() throws {
        let folder = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("n"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: TestPaths.capture("store-compliant-cut.pcap"),
                                         toPath: folder.appendingPathComponent("n/store-compliant-cut.pcap").path)
        let night = try Self.run([TestPaths.auditExecutable.path, "nightly", "n", "--history", "h.sqlite", "--out", "out",
                                  "--devices", TestPaths.capture("store-inventory.json")], in: folder)
        #expect(night.status == 3, "\(night.stderr)")
        #expect(night.stdout == "audit nightly: site 2026-11-21: compliant, first run; 50 ok, 0 blocked, 20 not seen, 0 unexpected; PARTIAL INPUT: 1 of 1 files unreadable or cut short; out/report.html\n")
        #expect(night.stderr.contains("store-compliant-cut.pcap: byte 388192: file ends inside a packet record"))
        let markdown = try String(contentsOf: folder.appendingPathComponent("out/report.md"), encoding: .utf8)
        #expect(markdown.contains("input problem: n/store-compliant-cut.pcap: byte 388192"))
    }

    static let chromium: String? = ["chromium", "chromium-browser", "google-chrome"].lazy.compactMap { VethLab.which($0) }.first

    /// The HTML report in a real browser: it renders without a console error, and shows the
    /// matrix, the charts and the evidence.
    @Test(.enabled(if: chromium != nil, "needs Debian's chromium (Scripts/setup-debian.sh installs it)"))
    func theHTMLReportRendersInChromium() throws {
        let night = try Self.twoNights()
        defer { try? FileManager.default.removeItem(at: night.folder) }
        let html = night.folder.appendingPathComponent("out-n2/report.html")
        let text = try String(contentsOf: html, encoding: .utf8)
        #expect(!text.contains("<script") && !text.contains("http://") && !text.contains("https://"), "self-contained")
        let browser = [Self.chromium!, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                       "--user-data-dir=\(night.folder.path)/chromium-profile", "--enable-logging=stderr", "--v=0"]
        let shot = try Self.run(browser + ["--window-size=1200,2400", "--screenshot=\(night.folder.path)/report.png",
                                           html.absoluteString], in: night.folder)
        #expect(shot.status == 0, "\(shot.stderr)")
        #expect(!shot.stderr.contains(":CONSOLE("), "console messages: \(shot.stderr)")
        let png = try Data(contentsOf: night.folder.appendingPathComponent("report.png"))
        #expect(png.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        #expect(png.count > 50_000, "a page with content, not a blank one (\(png.count) bytes)")
        let dom = try Self.run(browser + ["--dump-dom", html.absoluteString], in: night.folder)
        #expect(dom.status == 0)
        #expect(dom.stdout.contains("<table class=\"matrix\">"))
        #expect(dom.stdout.components(separatedBy: "<svg class=\"chart\"").count - 1 == 9, "a chart per device with a role")
        #expect(dom.stdout.contains("Regressions: 6 newly blocked or failed"))
        #expect(dom.stdout.contains("<code>tcp 10.40.0.31:49256 &gt; 203.0.113.11:443</code> packet 293"))
    }
}
