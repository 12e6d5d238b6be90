import Foundation
public import Wire

/// MAC address vendors from the IEEE registries Debian ships in `ieee-data`
/// (`/usr/share/ieee-data`): MA-L (`oui.csv`, 24-bit prefixes), MA-M (`mam.csv`, 28-bit), MA-S
/// (`oui36.csv`, 36-bit) and the older IAB (`iab.csv`, 36-bit). The longest assignment covering
/// an address names its vendor.
///
/// Contract: only the assignments covering the addresses asked for are kept (a few per device,
/// not the 46,000 of the files). Rows that are not `registry,hex prefix,organization,...` are
/// skipped; a missing file is skipped; a directory without any of them is an error the caller
/// reports once (vendors are then unknown).
public struct MACVendors: Sendable {
    public static let defaultDirectory = "/usr/share/ieee-data"
    static let files = ["oui.csv", "mam.csv", "oui36.csv", "iab.csv"]

    struct Assignment: Hashable {
        var bits: Int
        var prefix: UInt64
    }

    private var vendors: [Assignment: String] = [:]
    /// The prefix lengths present, longest first.
    private var lengths: [Int] = []

    public init() {}

    public enum LoadError: Error, CustomStringConvertible {
        case noRegistry(directory: String)

        public var description: String {
            switch self {
            case .noRegistry(let directory):
                "no IEEE registry in \(directory) (oui.csv, mam.csv, oui36.csv, iab.csv): install Debian's ieee-data "
                    + "package; MAC vendors are left out"
            }
        }
    }

    /// Reads the registries in `directory`, keeping the assignments that cover `addresses`.
    public static func load(directory: String = defaultDirectory, for addresses: Set<MACAddress>) throws(LoadError)
        -> MACVendors {
        var result = MACVendors()
        var found = false
        let wanted = addresses.filter { !$0.isMulticast }
        for file in files {
            guard let data = FileManager.default.contents(atPath: directory + "/" + file) else { continue }
            found = true
            guard !wanted.isEmpty else { continue }
            result.read(csv: data, keeping: wanted)
        }
        guard found else { throw .noRegistry(directory: directory) }
        result.lengths = Set(result.vendors.keys.map(\.bits)).sorted(by: >)
        return result
    }

    /// The organization the IEEE assigned the address's prefix to. Locally administered addresses
    /// (random per-network addresses of phones, virtual machines) have none.
    public func vendor(of mac: MACAddress) -> String? {
        guard !mac.isLocallyAdministered else { return nil }
        for bits in lengths {
            if let name = vendors[Assignment(bits: bits, prefix: mac.bits >> UInt64(48 - bits))] { return name }
        }
        return nil
    }

    /// Rows: `Registry,Assignment,Organization Name,Organization Address`, the name quoted when it
    /// holds a comma (RFC 4180 quoting, `""` for a quote).
    mutating func read(csv data: Data, keeping wanted: Set<MACAddress>) {
        let wantedOUIs = Set(wanted.map { $0.bits >> 24 })
        let bytes = [UInt8](data)
        var lineStart = 0
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count && bytes[lineEnd] != 0x0A { lineEnd += 1 }
            readRow(bytes, lineStart, lineEnd, wanted, wantedOUIs)
            lineStart = lineEnd + 1
        }
    }

    private mutating func readRow(_ b: [UInt8], _ start: Int, _ end: Int, _ wanted: Set<MACAddress>,
                                  _ wantedOUIs: Set<UInt64>) {
        // Field 1 (registry) is skipped; field 2 is the hex prefix.
        var i = start
        while i < end && b[i] != 0x2C { i += 1 }
        i += 1
        var prefix: UInt64 = 0
        var digits = 0
        while i < end && b[i] != 0x2C {
            guard let v = Self.hexValue(b[i]) else { return }
            prefix = prefix << 4 | UInt64(v)
            digits += 1
            i += 1
        }
        guard i < end, (6...9).contains(digits) else { return }
        let bits = digits * 4
        let assignment = Assignment(bits: bits, prefix: prefix)
        guard wantedOUIs.contains(prefix >> UInt64(bits - 24)),
              wanted.contains(where: { $0.bits >> UInt64(48 - bits) == prefix }) else { return }
        i += 1
        var name: [UInt8] = []
        if i < end && b[i] == 0x22 {
            i += 1
            while i < end {
                if b[i] == 0x22 {
                    if i + 1 < end && b[i + 1] == 0x22 {
                        name.append(0x22)
                        i += 2
                        continue
                    }
                    break
                }
                name.append(b[i])
                i += 1
            }
        } else {
            while i < end && b[i] != 0x2C && b[i] != 0x0D {
                name.append(b[i])
                i += 1
            }
        }
        let text = String(decoding: name, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        if !text.isEmpty { vendors[assignment] = text }
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46: c - 0x37
        case 0x61...0x66: c - 0x57
        default: nil
        }
    }
}
