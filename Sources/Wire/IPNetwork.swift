/// An address block in CIDR notation (`10.0.0.0/8`, `fd00::/8`, RFC 4632 §3.1 and RFC 4291 §2.3).
///
/// IPv4 blocks are kept in the IPv4-mapped part of the IPv6 space, as `IPAddress` keeps IPv4
/// addresses, so one comparison serves both families and an IPv4 block never contains an IPv6
/// address. Contract: `init?(_:)` accepts `address/length` (length 0–32 for IPv4, 0–128 for IPv6)
/// and a bare address (one host); bits set past the prefix are cleared (`10.1.2.3/8` is
/// `10.0.0.0/8`); anything else is nil.
public struct IPNetwork: Hashable, Sendable, CustomStringConvertible {
    /// The first address of the block.
    public let address: IPAddress
    /// The prefix length in the 128-bit space (IPv4: 96 + its own length).
    public let prefixLength: Int

    public init(address: IPAddress, prefixLength: Int) {
        let length = max(0, min(128, prefixLength))
        let (maskHigh, maskLow) = IPNetwork.mask(length)
        self.address = IPAddress(high: address.high & maskHigh, low: address.low & maskLow)
        self.prefixLength = length
    }

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else { return nil }
        let familyBits = address.isIPv4 ? 32 : 128
        var length = familyBits
        if parts.count == 2 {
            guard let n = Int(parts[1]), (0...familyBits).contains(n), parts[1].allSatisfy(\.isASCII) else { return nil }
            length = n
        }
        self.init(address: address, prefixLength: address.isIPv4 ? 96 &+ length : length)
    }

    public var isIPv4: Bool { prefixLength >= 96 && address.isIPv4 }

    public func contains(_ other: IPAddress) -> Bool {
        let (maskHigh, maskLow) = IPNetwork.mask(prefixLength)
        return other.high & maskHigh == address.high && other.low & maskLow == address.low
    }

    public var description: String {
        "\(address)/\(isIPv4 ? prefixLength &- 96 : prefixLength)"
    }

    static func mask(_ length: Int) -> (UInt64, UInt64) {
        let high: UInt64 = length >= 64 ? ~0 : length <= 0 ? 0 : ~0 << UInt64(64 &- length)
        let low: UInt64 = length >= 128 ? ~0 : length <= 64 ? 0 : ~0 << UInt64(128 &- length)
        return (high, low)
    }
}
