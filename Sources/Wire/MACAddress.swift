/// A 48-bit IEEE 802 MAC address in the low bits of a `UInt64`.
public struct MACAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var bits: UInt64
    @inlinable public init(bits: UInt64) { self.bits = bits & 0xFFFF_FFFF_FFFF }

    public static func < (a: MACAddress, b: MACAddress) -> Bool { a.bits < b.bits }

    /// The first three bytes: the IEEE OUI (meaningful when the address is not locally administered).
    public var oui: UInt32 { UInt32(truncatingIfNeeded: bits >> 24) }
    /// Bit 1 of the first byte: set for locally administered (random, virtual) addresses.
    public var isLocallyAdministered: Bool { (bits >> 40) & 0x02 != 0 }
    /// Bit 0 of the first byte: set for group (multicast and broadcast) addresses.
    public var isMulticast: Bool { (bits >> 40) & 0x01 != 0 }

    /// Lower case, colon separated, as the flow-records contract prints it.
    public var description: String {
        let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
        var s = ""
        s.reserveCapacity(17)
        for i in 0..<6 {
            if i > 0 { s.append(":") }
            let byte = UInt8(truncatingIfNeeded: bits >> UInt64(40 - 8 * i))
            s.append(digits[Int(byte >> 4)])
            s.append(digits[Int(byte & 0xF)])
        }
        return s
    }

    /// Parses `aa:bb:cc:dd:ee:ff` or `aa-bb-cc-dd-ee-ff`, any case.
    public init?(_ text: String) {
        let parts = text.split(whereSeparator: { $0 == ":" || $0 == "-" })
        guard parts.count == 6 else { return nil }
        var v: UInt64 = 0
        for p in parts {
            guard p.count == 2, let b = UInt8(p, radix: 16) else { return nil }
            v = v << 8 | UInt64(b)
        }
        self.init(bits: v)
    }
}
