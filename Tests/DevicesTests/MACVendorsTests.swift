import Foundation
import Testing
@testable import Devices
import Wire

@Suite struct MACVendorsTests {
    /// A registry with every row shape the IEEE files have: quoted names with commas and quotes,
    /// a longer MA-M prefix inside an MA-L block, CRLF line ends, junk rows.
    static func registry() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ieee-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let oui = """
            Registry,Assignment,Organization Name,Organization Address\r
            MA-L,20C3A4,RetailNext,"60 S. Market St, 10th Floor San Jose CA US 95113 "\r
            MA-L,002590,"Super Micro Computer, Inc.",980 Rock Avenue San Jose California US 95131 \r
            MA-L,70B3D5,IEEE Registration Authority,445 Hoes Lane Piscataway NJ US 08554 \r
            MA-L,ZZZZZZ,Broken Row,\r
            MA-L,ACCC8E,"The ""Quoted"" Company",Street\r
            """
        let mam = "Registry,Assignment,Organization Name,Organization Address\nMA-M,70B3D59,Longer Prefix Ltd,Street\n"
        let oui36 = "Registry,Assignment,Organization Name,Organization Address\nMA-S,70B3D5F2F,TELEPLATFORMS,\"Polbina st., 3/1\"\n"
        try oui.write(to: directory.appendingPathComponent("oui.csv"), atomically: true, encoding: .utf8)
        try mam.write(to: directory.appendingPathComponent("mam.csv"), atomically: true, encoding: .utf8)
        try oui36.write(to: directory.appendingPathComponent("oui36.csv"), atomically: true, encoding: .utf8)
        return directory.path
    }

    @Test func longestAssignmentNamesTheVendor() throws {
        let directory = try Self.registry()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let macs = ["20:c3:a4:40:00:21", "00:25:90:40:00:31", "70:b3:d5:f2:f1:23", "70:b3:d5:91:00:01", "70:b3:d5:11:00:01",
                    "ac:cc:8e:00:00:01", "22:c3:a4:40:00:21", "00:00:5e:00:01:01"].map { MACAddress($0)! }
        let vendors = try MACVendors.load(directory: directory, for: Set(macs))
        #expect(vendors.vendor(of: macs[0]) == "RetailNext")
        #expect(vendors.vendor(of: macs[1]) == "Super Micro Computer, Inc.")
        #expect(vendors.vendor(of: macs[2]) == "TELEPLATFORMS")
        #expect(vendors.vendor(of: macs[3]) == "Longer Prefix Ltd")
        #expect(vendors.vendor(of: macs[4]) == "IEEE Registration Authority")
        #expect(vendors.vendor(of: macs[5]) == "The \"Quoted\" Company")
        // Locally administered (the RetailNext OUI with bit 1 set) and unassigned: no vendor.
        #expect(vendors.vendor(of: macs[6]) == nil && vendors.vendor(of: macs[7]) == nil)
        // Addresses not asked for are not kept.
        #expect(vendors.vendor(of: MACAddress("20:c3:a4:00:00:99")!) == "RetailNext")
        let few = try MACVendors.load(directory: directory, for: [macs[1]])
        #expect(few.vendor(of: macs[0]) == nil)
    }

    @Test func aDirectoryWithoutRegistriesIsAnError() {
        #expect(throws: MACVendors.LoadError.self) {
            try MACVendors.load(directory: "/nonexistent-ieee-data", for: [MACAddress("20:c3:a4:40:00:21")!])
        }
    }

    /// Debian's ieee-data, as the setup command installs it.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: MACVendors.defaultDirectory + "/oui.csv"),
                   "ieee-data is not installed (apt-get install ieee-data)"))
    func debianRegistry() throws {
        let macs = ["20:c3:a4:40:00:21", "00:06:5b:40:00:41", "04:03:12:40:00:52", "00:03:93:40:00:62"].map { MACAddress($0)! }
        let vendors = try MACVendors.load(for: Set(macs))
        #expect(vendors.vendor(of: macs[0]) == "RetailNext")
        #expect(vendors.vendor(of: macs[1]) == "Dell Inc.")
        #expect(vendors.vendor(of: macs[2]) == "Hangzhou Hikvision Digital Technology Co.,Ltd.")
        #expect(vendors.vendor(of: macs[3]) == "Apple, Inc.")
    }
}
