import Foundation
import Testing
import TestSupport

/// The `audit` executable as users run it: exit statuses of `../shared/spec/audit-report.md`,
/// standard input, output formats, help text.
@Suite(.serialized) struct CommandLineTests {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    func audit(_ arguments: [String], stdin: Data? = nil) throws -> Result {
        let process = Process()
        process.executableURL = TestPaths.auditExecutable
        process.arguments = arguments
        process.currentDirectoryURL = TestPaths.root
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        let stderrData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                      stderr: String(decoding: stderrData, as: UTF8.self))
    }

    @Test func auditExitStatuses() throws {
        let compliant = try audit(["Captures/store-compliant.pcapng", "--devices", "Captures/store-inventory.json", "-q", "--format", "text"])
        #expect(compliant.status == 0)
        #expect(compliant.stdout.contains("VERDICT: no required requirement is blocked."))
        let blocked = try audit(["Captures/store-blocked.pcapng", "--devices", "Captures/store-inventory.json", "-q", "--format", "text"])
        #expect(blocked.status == 1)
        #expect(blocked.stdout.contains("VERDICT: 5 required requirements are blocked or failed."))
        #expect(blocked.stdout.contains("BLOCKED (RESET)  retailnext/cloud-service (required) tcp 8278 to 104.154.145.235: 1 attempt"))
        #expect(blocked.stdout.contains("tcp 10.40.0.21:41156 > 104.154.145.235:8278 packet 105 REJ"))
        // Everything tried works in the partial scenario; --strict also fails on what was never tried.
        let partial = try audit(["Captures/store-partial.pcapng", "--devices", "Captures/store-inventory.json", "-q"])
        #expect(partial.status == 0)
        let strict = try audit(["Captures/store-partial.pcapng", "--devices", "Captures/store-inventory.json", "-q", "--strict"])
        #expect(strict.status == 1)
        let cut = try audit(["Captures/store-compliant-cut.pcap", "--devices", "Captures/store-inventory.json", "-q"])
        #expect(cut.status == 3)
        let unusable = try audit(["Package.swift"])
        #expect(unusable.status == 2)
    }

    @Test func auditReportAsJSON() throws {
        let r = try audit(["Captures/store-blocked.pcapng", "--devices", "Captures/store-inventory.json", "-q", "--format", "json"])
        #expect(r.status == 1)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let summary = try #require(document["summary"] as? [String: Any])
        #expect(summary["compliant"] as? Bool == false)
        #expect((summary["requirements"] as? [String: Int]) == ["ok": 64, "blocked": 6, "not_seen": 0])
        let devices = try #require(document["devices"] as? [[String: Any]])
        let recorder = try #require(devices.first { $0["ip"] as? String == "10.40.0.31" })
        let requirements = try #require(recorder["requirements"] as? [[String: Any]])
        let relay = try #require(requirements.first { $0["id"] as? String == "relay" })
        #expect(relay["status"] as? String == "handshake_failed")
        #expect(relay["hosts"] as? [String] == ["*.*.u5fgb.com"])
        #expect((relay["observed"] as? [String: Any])?["server_names"] as? [String] == ["r1.us.u5fgb.com"])
        #expect((recorder["roles"] as? [[String: Any]])?.first?["source"] as? String == "inventory")
    }

    @Test func signaturesLint() throws {
        let clean = try audit(["signatures", "lint"])
        #expect(clean.status == 0)
        #expect(clean.stderr.contains("3 signatures, 68 requirements, 0 problems"))
        let directory = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try "schema: 1\nid: mine\nvendor: Me\nsource: {document: x}\nroles: {box: {title: Box}}\nrequirements:\n  - {id: a, roles: [box], proto: tcp, ports: [99999], level: required, why: w}\n"
            .write(to: directory.appendingPathComponent("mine.yaml"), atomically: true, encoding: .utf8)
        let bad = try audit(["signatures", "lint", "--signatures", directory.path, "--only-given"])
        #expect(bad.status == 1)
        #expect(bad.stdout == "\(directory.path)/mine.yaml:7: requirement a ports: 99999 is not a port (0–65535) or a range such as 1024-65535\n")
    }

    @Test func flowsAsJSONLines() throws {
        let r = try audit(["flows", "Captures/lan.pcap"])
        #expect(r.status == 0)
        #expect(r.stdout == FlowsRun(["lan.pcap"]).jsonl)
        #expect(r.stderr.hasPrefix("audit flows: read 1 input (pcap): 73 packets, 17.1 kB"))
        #expect(r.stderr.contains("16 flows"))
    }

    /// One thread or two: the same flows, in the same order, and the same audit; with
    /// classification off too (every flow must reach the output before the command exits).
    @Test func oneThreadGivesTheSameOutputAsTwo() throws {
        for capture in ["Captures/store-compliant.pcapng", "Captures/lan-multi.pcapng"] {
            for options in [[], ["--no-classify"]] {
                let two = try audit(["flows", "-q"] + options + [capture])
                let one = try audit(["flows", "-q", "--threads", "1"] + options + [capture])
                #expect(one.status == 0 && two.status == 0)
                #expect(one.stdout.split(separator: "\n").count > 10)
                #expect(one.stdout == two.stdout)
            }
        }
        let arguments = ["Captures/store-blocked.pcapng", "--devices", "Captures/store-inventory.json", "-q", "--format", "json"]
        let auditTwo = try audit(arguments)
        let auditOne = try audit(arguments + ["--threads", "1"])
        #expect(auditOne.status == 1 && auditTwo.status == 1)
        #expect(auditOne.stdout.contains("\"blocked\""))
        #expect(auditOne.stdout == auditTwo.stdout)
        let three = try audit(["flows", "--threads", "3", "Captures/lan.pcap"])
        #expect(three.status == 2)
        #expect(three.stderr.contains("--threads must be 1 or 2"))
    }

    @Test func standardInput() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.capture("lan.pcapng")))
        let r = try audit(["flows", "-q", "-"], stdin: data)
        #expect(r.status == 0)
        #expect(r.stdout == FlowsRun(["lan.pcapng"]).jsonl)
        #expect(r.stderr.isEmpty)
    }

    @Test func truncatedInputExitsThreeAndKeepsWhatWasRead() throws {
        let r = try audit(["flows", "Captures/lan-cut.pcap"])
        #expect(r.status == 3)
        #expect(r.stdout.split(separator: "\n").count == 7)
        #expect(r.stderr.contains("audit flows: error: Captures/lan-cut.pcap: byte 11580: file ends inside a packet record: 82 bytes needed, 49 present (capture cut short?) (38 packets before it are reported)"))
    }

    @Test func unusableInputExitsTwo() throws {
        let r = try audit(["flows", "Package.swift"])
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("error: Package.swift: byte 0: not a pcap or pcapng file (magic 0x2f2f2073"))
        let missing = try audit(["flows", "no-such.pcap"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("no-such.pcap: byte 0: cannot open: No such file or directory"))
    }

    @Test func oneGoodFileOfTwoIsPartial() throws {
        let r = try audit(["flows", "-q", "Package.swift", "Captures/lan.pcap"])
        #expect(r.status == 3)
        #expect(r.stdout.split(separator: "\n").count == 16)
    }

    @Test func devicesAsJSON() throws {
        let r = try audit(["devices", "--format", "json", "Captures/store-compliant.pcapng"])
        #expect(r.status == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let devices = try #require(document["devices"] as? [[String: Any]])
        let appliance = try #require(devices.first { $0["ip"] as? String == "10.40.0.21" })
        #expect(appliance["mac"] as? String == "20:c3:a4:40:00:21")
        #expect((appliance["names"] as? [String])?.first == "rn-appliance")
        #expect((appliance["dhcp"] as? [String: Any])?["vendor_class"] as? String == "RetailNext Store Appliance")
        let traffic = try #require(appliance["traffic"] as? [String: Any])
        #expect((traffic["tx_bytes"] as? Int ?? 0) > 10_000 && (traffic["flows_answered"] as? Int ?? 0) >= 3)
        if FileManager.default.fileExists(atPath: "/usr/share/ieee-data/oui.csv") {
            #expect(appliance["oui_vendor"] as? String == "RetailNext")
        }
        #expect(r.stderr.hasPrefix("audit devices: read 1 input (pcapng)"))
    }

    @Test func devicesAsText() throws {
        let r = try audit(["devices", "--format", "text", "--ieee-data", "/nonexistent", "Captures/store-compliant.pcapng"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("10.40.0.21  rn-appliance  20:c3:a4:40:00:21\n"))
        #expect(r.stdout.contains("  dhcp       host rn-appliance · vendor class \"RetailNext Store Appliance\""))
        #expect(r.stdout.hasSuffix("devices\n"))
        #expect(r.stderr.contains("audit devices: no IEEE registry in /nonexistent"))
        let bad = try audit(["devices", "--local", "10.0.0.0/40", "Captures/store-compliant.pcapng"])
        #expect(bad.status == 2 && bad.stderr.contains("--local 10.0.0.0/40"))
    }

    @Test func usageErrorsExitTwo() throws {
        let none = try audit(["flows"])
        #expect(none.status == 2)
        #expect(none.stderr.contains("Give at least one capture file"))
        let badFormat = try audit(["flows", "--format", "xml", "Captures/lan.pcap"])
        #expect(badFormat.status == 2)
        #expect(badFormat.stderr.contains("xml"))
    }

    @Test func zeekTSV() throws {
        let r = try audit(["flows", "-q", "--format", "tsv", "Captures/lan.pcap"])
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0] == "#separator \\x09")
        #expect(lines[4] == "#path\tconn")
        #expect(lines[6].hasPrefix("#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration"))
        #expect(lines[7].hasPrefix("#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval"))
        let rows = lines.filter { !$0.hasPrefix("#") && !$0.isEmpty }
        #expect(rows.count == 16)
        #expect(rows.allSatisfy { $0.split(separator: "\t", omittingEmptySubsequences: false).count == 28 })
        #expect(lines.last { !$0.isEmpty }?.hasPrefix("#close\t2026-") == true)
    }

    @Test func tableForPeople() throws {
        let r = try audit(["flows", "-q", "--format", "table", "Captures/lan.pcap"])
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("time (UTC)   proto  originator") == true)
        #expect(lines.count == 17)
        #expect(r.stdout.contains("10:44:43.573 tcp    10.20.0.10:50862       → 10.20.0.1:8080         http      10.20.0.1"))
        #expect(r.stdout.contains("10:44:43.993 tcp    10.20.0.10:48078       → 10.20.0.1:8443         tls       server.lan.test"))
    }

    @Test func decodeListing() throws {
        let r = try audit(["decode", "--count", "11", "Captures/lan.pcap"])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 11)
        #expect(lines[10] == "11 1795257883.573741 10.20.0.10.50862 > 10.20.0.1.8080: tcp [S] seq 4076954687 ack 0 win 64240 len 0")
    }

    @Test func versionAndHelp() throws {
        let version = try audit(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.hasPrefix("0.1.0 (libpcap version 1."))
        let help = try audit(["flows", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("USAGE: audit flows [<options>] [<capture> ...]"))
        #expect(help.stdout.contains("--iface <name>"))
        #expect(help.stdout.contains("--filter <expression>"))
        #expect(help.stdout.contains("Exit status: 0 all input read; 2 nothing usable read; 3 some input"))
        #expect(help.stdout.contains("(default: 5m)"))
    }
}
