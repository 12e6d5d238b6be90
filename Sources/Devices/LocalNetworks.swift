public import Wire

/// Which addresses are devices of the site: the private and link-local blocks, plus the blocks
/// the user names with `--local` (a site numbered in public space).
///
/// Only unicast addresses count: the unspecified address (a DHCP client before its lease),
/// broadcast and multicast are never devices.
public struct LocalNetworks: Sendable {
    /// RFC 1918 private IPv4, RFC 3927 IPv4 link-local, RFC 4193 unique local and RFC 4291
    /// link-local IPv6: the blocks `product.md` calls local.
    public static let standard: [IPNetwork] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
                                               "fc00::/7", "fe80::/10"].compactMap(IPNetwork.init)

    public var networks: [IPNetwork]

    public init(extra: [IPNetwork] = []) {
        networks = Self.standard + extra
    }

    public func isLocal(_ address: IPAddress) -> Bool {
        guard Self.isUnicast(address) else { return false }
        return networks.contains { $0.contains(address) }
    }

    static func isUnicast(_ a: IPAddress) -> Bool {
        if a.isIPv4 {
            let bits = a.ipv4Bits
            // 0.0.0.0/8 "this network", 224.0.0.0/4 multicast, 240.0.0.0/4 reserved and broadcast.
            return bits >> 24 != 0 && bits >> 28 < 0xE
        }
        // ff00::/8 multicast, :: unspecified.
        return !a.isMulticast && a != .zero
    }
}
