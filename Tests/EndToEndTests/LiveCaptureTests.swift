import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `audit --iface` on a real interface: a veth pair between two network namespaces this test
/// creates (nothing leaves them), real servers on one side (openssl s_server, coturn's
/// turnserver), real clients on the other (openssl s_client, turnutils_stunclient,
/// python-zeroconf), and the audit capturing on the client's end. Needs root and those programs
/// (`Scripts/setup-debian.sh` installs them when run as root); skipped with a message otherwise.
@Suite(.serialized, .enabled(if: VethLab.unavailable == nil, Comment(rawValue: VethLab.unavailable ?? "")))
struct LiveCaptureTests {
    static let signature = """
        schema: 1
        id: live-test
        vendor: SpanAudit
        product: a device on the veth test link
        version: "1"
        source: {document: "LiveCaptureTests", file: "none", sections: ["test"]}
        roles:
          device:
            title: The client end of the link
            identify:
              - {proto: tcp, ports: [443], hosts: ["api.test.example"]}
        requirements:
          - {id: api, roles: [device], direction: outbound, proto: tcp, ports: [443], hosts: ["api.test.example"], service: tls, level: required, why: "TLS with SNI"}
          - {id: stun, roles: [device], direction: outbound, proto: udp, ports: [3478], hosts: ["10.98.0.2"], service: stun, level: required, why: "STUN"}
          - {id: discovery, roles: [device], direction: outbound, proto: udp, ports: [5353], hosts: ["224.0.0.251"], service: mdns, level: optional, why: "mDNS"}
          - {id: uploads, roles: [device], direction: outbound, proto: tcp, ports: [8443], hosts: ["10.98.0.2"], level: required, why: "nothing listens: reset"}
          - {id: never, roles: [device], direction: outbound, proto: tcp, ports: [9999], hosts: ["10.98.0.2"], level: optional, why: "never tried"}
        """

    @Test func auditsWhatRealProgramsDoAcrossTheLink() throws {
        let lab = try VethLab()
        defer { lab.close() }
        let folder = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.signature.write(to: folder.appendingPathComponent("live-test.yaml"), atomically: true, encoding: .utf8)
        try #"{"devices": [{"ip": "10.98.0.1", "name": "client", "roles": ["live-test/device"]}]}"#
            .write(to: folder.appendingPathComponent("inventory.json"), atomically: true, encoding: .utf8)
        try lab.makeCertificate(in: folder)

        let tls = try lab.start(lab.server, ["openssl", "s_server", "-accept", "443", "-cert", folder.path + "/cert.pem",
                                              "-key", folder.path + "/key.pem", "-www", "-quiet"])
        let stun = try lab.start(lab.server, ["turnserver", "--stun-only", "--no-cli", "--listening-ip=10.98.0.2",
                                               "--listening-port=3478", "--no-tls", "--no-dtls", "--log-file=stdout"])
        defer { lab.end(tls); lab.end(stun) }
        let audit = try lab.start(lab.client, [TestPaths.auditExecutable.path, "--iface", lab.clientInterface,
                                                "--devices", folder.path + "/inventory.json", "--signatures", folder.path,
                                                "--format", "json", "--report-every", "1s",
                                                "--report-file", folder.path + "/interim", "--duration", "60"])
        defer { lab.end(audit) }
        try #require(lab.waitUntilCapturing(audit), "the audit started capturing: \(audit.output().stderr)")

        let hello = try lab.run(lab.client, ["openssl", "s_client", "-connect", "10.98.0.2:443", "-servername", "api.test.example"])
        #expect(hello.output.contains("CN = api.test.example") || hello.output.contains("CN=api.test.example"))
        let binding = try lab.run(lab.client, ["turnutils_stunclient", "10.98.0.2"])
        #expect(binding.output.contains("UDP reflexive addr: 10.98.0.1"))
        let announcer = try lab.start(lab.client, [VethLab.python!, TestPaths.root.path + "/Captures/lab/agents/mdns_announce.py",
                                                    "--address", "10.98.0.1", "--name", "Live Test", "--host", "livetest",
                                                    "--port", "80"])
        Thread.sleep(forTimeInterval: 1.5)
        lab.end(announcer)
        _ = try lab.run(lab.client, ["bash", "-c", "exec 3<>/dev/tcp/10.98.0.2/8443"])
        Thread.sleep(forTimeInterval: 2.5)  // an interim report after all of it

        // Ctrl-C ends the capture; the final report still comes, with everything seen.
        kill(audit.process.processIdentifier, SIGINT)
        #expect(lab.wait(audit, seconds: 10), "SIGINT ends the capture")
        let (stdout, stderr) = audit.output()
        #expect(audit.process.terminationStatus == 1, "a required requirement is blocked: \(stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any], "\(stderr)")
        let statuses = try Self.statuses(report, device: "10.98.0.1")
        #expect(statuses == ["api": "ok", "stun": "ok", "discovery": "ok", "uploads": "blocked_reset", "never": "not_seen"])
        let devices = try #require(report["devices"] as? [[String: Any]])
        let device = try #require(devices.first { $0["ip"] as? String == "10.98.0.1" })
        // The client's IPv6 link-local address (same MAC) belongs to it, not to a second device.
        let mac = try #require(device["mac"] as? String)
        #expect((device["other_addresses"] as? [String])?.contains { $0.hasPrefix("fe80::") } == true, "\(device)")
        #expect(devices.filter { $0["mac"] as? String == mac }.count == 1)
        let api = try #require((device["requirements"] as? [[String: Any]])?.first { $0["id"] as? String == "api" })
        #expect((api["observed"] as? [String: Any])?["server_names"] as? [String] == ["api.test.example"])
        let input = try #require((report["inputs"] as? [[String: Any]])?.first)
        #expect(input["path"] as? String == lab.clientInterface)
        let live = try #require(input["live"] as? [String: Int])
        #expect(live["dropped_by_kernel"] == 0)
        #expect(live["received"] == input["packets"] as? Int)
        #expect(stderr.contains("captured on 1 interface (\(lab.clientInterface))"))

        // The interim report, written while capturing: the same verdicts, complete files.
        let interim = try Data(contentsOf: folder.appendingPathComponent("interim.json"))
        let interimReport = try #require(try JSONSerialization.jsonObject(with: interim) as? [String: Any])
        #expect(try Self.statuses(interimReport, device: "10.98.0.1") == statuses)
        let text = try String(contentsOf: folder.appendingPathComponent("interim.txt"), encoding: .utf8)
        #expect(text.hasPrefix("SpanAudit report: \(lab.clientInterface)\n"))
        #expect(text.contains("BLOCKED (RESET)  live-test/uploads (required) tcp 8443 to 10.98.0.2: 1 attempt"))
    }

    static func statuses(_ report: [String: Any], device ip: String) throws -> [String: String] {
        let device = try #require((report["devices"] as? [[String: Any]])?.first { $0["ip"] as? String == ip })
        let requirements = try #require(device["requirements"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: requirements.map { ($0["id"] as? String ?? "?", $0["status"] as? String ?? "?") })
    }

    /// `--write DIR` keeps what was captured: the file reads back as the same flows.
    @Test func keepsTheCaptureAsPcapng() throws {
        let lab = try VethLab()
        defer { lab.close() }
        let folder = TestPaths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let kept = folder.appendingPathComponent("kept").path
        let flows = try lab.start(lab.client, [TestPaths.auditExecutable.path, "flows", "--iface", lab.clientInterface,
                                                "--write", kept, "--format", "jsonl", "--no-promisc",
                                                "--filter", "icmp[icmptype] == icmp-echo or icmp[icmptype] == icmp-echoreply"])
        defer { lab.end(flows) }
        try #require(lab.waitUntilCapturing(flows), "audit flows started capturing: \(flows.output().stderr)")
        let ping = try lab.run(lab.client, ["ping", "-c", "3", "-i", "0.2", "10.98.0.2"])
        #expect(ping.status == 0)
        // Filtered out: the datagram, and the ICMP port unreachable it draws.
        _ = try lab.run(lab.client, ["bash", "-c", "echo x > /dev/udp/10.98.0.2/7000"])
        Thread.sleep(forTimeInterval: 0.5)
        kill(flows.process.processIdentifier, SIGTERM)
        #expect(lab.wait(flows, seconds: 10), "SIGTERM ends the capture")
        #expect(flows.process.terminationStatus == 0)
        let liveLines = flows.output().stdout.split(separator: "\n")
        let files = try FileManager.default.contentsOfDirectory(atPath: kept)
        #expect(files.count == 1 && files[0].hasPrefix("audit-") && files[0].hasSuffix(".pcapng"), "\(files)")
        let reread = try lab.run(nil, [TestPaths.auditExecutable.path, "flows", "--format", "jsonl", kept + "/" + files[0]])
        #expect(reread.status == 0)
        let rereadLines = reread.stdout.split(separator: "\n")
        #expect(liveLines.count == 1 && rereadLines.count == 1, "live: \(liveLines) \(flows.output().stderr) reread: \(rereadLines)")
        // The ping, and nothing else.
        #expect(rereadLines.first?.contains(#""proto":"icmp","#) == true)
        #expect(rereadLines.first?.contains(#""orig_pkts":3,"#) == true)
        #expect(rereadLines.first?.contains(#""resp_pkts":3,"#) == true)
        #expect(liveLines.first.map { $0.replacingOccurrences(of: "\"uid\":\"[^\"]*\"", with: "", options: .regularExpression) }
                == rereadLines.first.map { $0.replacingOccurrences(of: "\"uid\":\"[^\"]*\"", with: "", options: .regularExpression) })
    }

    /// What goes wrong says so in one line, with exit status 2; capabilities instead of root work.
    @Test func permissionsAndMistakes() throws {
        let lab = try VethLab()
        defer { lab.close() }
        let missing = try lab.run(lab.client, [TestPaths.auditExecutable.path, "flows", "--iface", "nosuch0", "--duration", "1"])
        #expect(missing.status == 2)
        #expect(missing.stderr == "audit flows: nosuch0: no such interface (list them with `ip link`)\n")
        let filter = try lab.run(lab.client, [TestPaths.auditExecutable.path, "flows", "--iface", lab.clientInterface,
                                              "--filter", "tcp port", "--duration", "1"])
        #expect(filter.status == 2)
        #expect(filter.stderr.hasPrefix("Error: --filter: bad filter \"tcp port\": can't parse filter expression: syntax error."))

        // As an ordinary user: refused with the way out; with CAP_NET_RAW and CAP_NET_ADMIN, it captures.
        let copy = try lab.executableReadableByAll()
        let plain = try lab.run(lab.client, ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                             copy, "flows", "--iface", lab.clientInterface, "--duration", "1"])
        #expect(plain.status == 2)
        #expect(plain.stderr.contains("permission denied: capturing needs root or the capabilities CAP_NET_RAW and CAP_NET_ADMIN"))
        let capable = try lab.run(lab.client, ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                               "--inh-caps=+net_raw,+net_admin", "--ambient-caps=+net_raw,+net_admin",
                                               copy, "flows", "--iface", lab.clientInterface, "--duration", "1", "--format", "jsonl"])
        #expect(capable.status == 0, "\(capable.stderr)")
        #expect(capable.stderr.contains("captured on 1 interface (\(lab.clientInterface))"))
        // Root opens the interface, then runs as nobody.
        let dropped = try lab.run(lab.client, [TestPaths.auditExecutable.path, "flows", "--iface", lab.clientInterface,
                                               "--duration", "1", "--user", "nobody", "--format", "jsonl"])
        #expect(dropped.status == 0, "\(dropped.stderr)")
        let wrongUser = try lab.run(lab.client, [TestPaths.auditExecutable.path, "flows", "--iface", lab.clientInterface,
                                                 "--duration", "1", "--user", "no-such-user-here"])
        #expect(wrongUser.status == 2)
        #expect(wrongUser.stderr == "audit flows: --user no-such-user-here: no such user\n")
    }
}

/// Two network namespaces joined by a veth pair: `client` (10.98.0.1) and `server` (10.98.0.2),
/// named after this process so parallel runs do not collide, deleted by `close()`.
final class VethLab {
    let client: String
    let server: String
    let clientInterface: String
    let serverInterface: String
    private var temporary: [String] = []

    /// Why the lab cannot run here, or nil.
    static let unavailable: String? = {
        guard geteuid() == 0 else { return "live capture tests need root (network namespaces); CI runs them as root" }
        for tool in ["ip", "openssl", "turnserver", "turnutils_stunclient", "setpriv", "ping", "bash"] where which(tool) == nil {
            // (ping: Debian's iputils-ping; setpriv: util-linux)
            return "live capture tests need \(tool) (Scripts/setup-debian.sh installs it when run as root)"
        }
        guard python != nil else { return "live capture tests need python3 with zeroconf (python3-zeroconf)" }
        // Root without the right to make namespaces (some containers): say so rather than fail.
        let probe = "sa\(getpid() % 100_000)probe"
        let made = Process()
        made.executableURL = URL(fileURLWithPath: which("ip")!)
        made.arguments = ["netns", "add", probe]
        made.standardError = FileHandle.nullDevice
        guard (try? made.run()) != nil else { return "cannot run ip" }
        made.waitUntilExit()
        guard made.terminationStatus == 0 else { return "live capture tests cannot create network namespaces here (ip netns add failed)" }
        let removed = Process()
        removed.executableURL = made.executableURL
        removed.arguments = ["netns", "del", probe]
        try? removed.run()
        removed.waitUntilExit()
        return nil
    }()

    /// A python3 that has python-zeroconf (Debian's, or the one on PATH).
    static let python: String? = {
        for candidate in ["/usr/bin/python3", which("python3")].compactMap({ $0 }) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: candidate)
            p.arguments = ["-c", "import zeroconf"]
            p.standardError = FileHandle.nullDevice
            if (try? p.run()) != nil {
                p.waitUntilExit()
                if p.terminationStatus == 0 { return candidate }
            }
        }
        return nil
    }()

    static func which(_ tool: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(separator: ":")
            + ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"] {
            let path = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    init() throws {
        let tag = "\(getpid() % 100_000)"
        client = "sa\(tag)c"
        server = "sa\(tag)s"
        clientInterface = "sa\(tag)c0"
        serverInterface = "sa\(tag)s0"
        close()
        for command in [
            ["netns", "add", client], ["netns", "add", server],
            ["link", "add", clientInterface, "type", "veth", "peer", "name", serverInterface],
            ["link", "set", clientInterface, "netns", client], ["link", "set", serverInterface, "netns", server],
            ["-n", client, "addr", "add", "10.98.0.1/24", "dev", clientInterface],
            ["-n", server, "addr", "add", "10.98.0.2/24", "dev", serverInterface],
            ["-n", client, "link", "set", clientInterface, "up"], ["-n", server, "link", "set", serverInterface, "up"],
            ["-n", client, "link", "set", "lo", "up"], ["-n", server, "link", "set", "lo", "up"],
            // mDNS goes to 224.0.0.251: multicast leaves through the link.
            ["-n", client, "route", "add", "224.0.0.0/4", "dev", clientInterface],
        ] {
            let r = try run(nil, ["ip"] + command)
            if r.status != 0 { throw LabError(message: "ip \(command.joined(separator: " ")): \(r.stderr)") }
        }
        // The link is up when the first ping comes back (veth carrier, IPv6 DAD do not matter).
        for _ in 0..<20 {
            if try run(client, ["ping", "-c", "1", "-W", "1", "10.98.0.2"]).status == 0 { break }
        }
    }

    struct LabError: Error { var message: String }

    func close() {
        for ns in [client, server] { _ = try? run(nil, ["ip", "netns", "del", ns]) }
        for path in temporary { try? FileManager.default.removeItem(atPath: path) }
        temporary = []
    }

    final class Started {
        let process: Process
        let stdout: URL
        let stderr: URL
        init(process: Process, stdout: URL, stderr: URL) {
            self.process = process
            self.stdout = stdout
            self.stderr = stderr
        }
        func output() -> (stdout: String, stderr: String) {
            ((try? String(contentsOf: stdout, encoding: .utf8)) ?? "", (try? String(contentsOf: stderr, encoding: .utf8)) ?? "")
        }
    }

    /// Starts `arguments` in namespace `ns` (nil: here) in the background, output to files.
    func start(_ ns: String?, _ arguments: [String]) throws -> Started {
        let process = Process()
        if let ns {
            process.executableURL = URL(fileURLWithPath: Self.which("ip")!)
            process.arguments = ["netns", "exec", ns] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: arguments[0].hasPrefix("/") ? arguments[0] : Self.which(arguments[0]) ?? arguments[0])
            process.arguments = Array(arguments.dropFirst())
        }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("spanaudit-live-\(UUID().uuidString).out")
        let err = FileManager.default.temporaryDirectory.appendingPathComponent("spanaudit-live-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        temporary += [out.path, err.path]
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return Started(process: process, stdout: out, stderr: err)
    }

    /// Waits until a started `audit --iface` logs its first status line (the capture loop runs).
    func waitUntilCapturing(_ started: Started, seconds: Double = 30) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline && started.process.isRunning {
            if started.output().stderr.contains(" packets (") { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    /// Waits for a started process to exit on its own; false (and it is killed) after `seconds`.
    func wait(_ started: Started, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while started.process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        let exited = !started.process.isRunning
        if !exited {
            kill(started.process.processIdentifier, SIGKILL)
            started.process.waitUntilExit()
        }
        return exited
    }

    /// Ends a started process by its PID (SIGTERM, then SIGKILL if it lingers).
    func end(_ started: Started) {
        guard started.process.isRunning else { return }
        kill(started.process.processIdentifier, SIGTERM)
        for _ in 0..<50 where started.process.isRunning { Thread.sleep(forTimeInterval: 0.05) }
        if started.process.isRunning { kill(started.process.processIdentifier, SIGKILL) }
        started.process.waitUntilExit()
    }

    struct Finished {
        var status: Int32
        var stdout: String
        var stderr: String
        var output: String { stdout + stderr }
    }

    /// Runs `arguments` in namespace `ns` (nil: here) to completion (ended after 20 s at most).
    func run(_ ns: String?, _ arguments: [String]) throws -> Finished {
        let started = try start(ns, arguments)
        let deadline = Date().addingTimeInterval(20)
        while started.process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        end(started)
        let (stdout, stderr) = started.output()
        return Finished(status: started.process.terminationStatus, stdout: stdout, stderr: stderr)
    }

    /// A self-signed certificate for api.test.example in `folder` (cert.pem, key.pem).
    func makeCertificate(in folder: URL) throws {
        let r = try run(nil, [Self.which("openssl")!, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                              "-nodes", "-keyout", folder.path + "/key.pem", "-out", folder.path + "/cert.pem",
                              "-subj", "/CN=api.test.example", "-days", "1"])
        if r.status != 0 { throw LabError(message: "openssl req: \(r.stderr)") }
    }

    /// The audit executable copied where any user may run it (the build folder may not be).
    func executableReadableByAll() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("spanaudit-audit-\(getpid())").path
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.copyItem(atPath: TestPaths.auditExecutable.path, toPath: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        temporary.append(path)
        return path
    }
}
