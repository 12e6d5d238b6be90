public import Wire

/// A host a requirement names: a DNS name, possibly with wildcard labels, an address, or an
/// address block.
///
/// Wildcards: a `*` label stands for exactly one DNS label, as RFC 6125 §6.4.3 reads a wildcard,
/// extended to several `*` labels: `*.cloud.retailnext.net` matches `eu1.cloud.retailnext.net` but
/// neither `cloud.retailnext.net` nor `a.b.cloud.retailnext.net`; `*.*.u5fgb.com` matches
/// `r1.us.u5fgb.com` only (exactly two labels before `u5fgb.com`). A label that mixes `*` with
/// other characters (`r*.u5fgb.com`) is malformed: no vendor document uses one and readers
/// disagree on what it means. Matching ignores case and one trailing dot on either side.
public enum HostPattern: Sendable, Hashable, CustomStringConvertible {
    case name(labels: [String])
    case address(IPAddress)
    case network(IPNetwork)

    /// Parses `text`, or says what is wrong with it.
    public static func parse(_ text: String) -> Result<HostPattern, HostPatternError> {
        let trimmed = text.hasSuffix(".") ? String(text.dropLast()) : text
        if trimmed.isEmpty { return .failure(HostPatternError("an empty host")) }
        if trimmed.contains("/") {
            guard let network = IPNetwork(trimmed) else {
                return .failure(HostPatternError("\(text) is not an address block (expected 203.0.113.0/24 or 2001:db8::/32)"))
            }
            return .success(.network(network))
        }
        if let address = IPAddress(trimmed) { return .success(.address(address)) }
        let labels = trimmed.lowercased().split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        for label in labels {
            if label.isEmpty { return .failure(HostPatternError("\(text) has an empty label")) }
            if label.count > 63 { return .failure(HostPatternError("\(text) has a label longer than 63 characters")) }
            if label != "*" && label.contains("*") {
                return .failure(HostPatternError("\(text): a wildcard must be a whole label (`*.example.com`), not part of one"))
            }
            if label != "*" && !label.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") }) {
                return .failure(HostPatternError("\(text) has a character a host name cannot have in `\(label)`"))
            }
        }
        if labels.allSatisfy({ $0 == "*" }) {
            return .failure(HostPatternError("\(text) is all wildcards: it would match any host"))
        }
        if labels.count < 2 { return .failure(HostPatternError("\(text) is not a full host name")) }
        return .success(.name(labels: labels))
    }

    public init?(_ text: String) {
        guard case .success(let pattern) = HostPattern.parse(text) else { return nil }
        self = pattern
    }

    /// Whether a DNS name (any case, with or without its trailing dot) matches.
    public func matches(name: String) -> Bool {
        guard case .name(let labels) = self else {
            // A name written as an address literal (an HTTP Host of "10.0.0.5") is that address.
            return IPAddress(name).map(matches(address:)) ?? false
        }
        let trimmed = name.hasSuffix(".") ? name.dropLast() : Substring(name)
        let parts = trimmed.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == labels.count else { return false }
        for (pattern, part) in zip(labels, parts) where pattern != "*" {
            guard part.count == pattern.count, part.lowercased() == pattern else { return false }
        }
        return true
    }

    /// Whether an address matches (names never match an address).
    public func matches(address: IPAddress) -> Bool {
        switch self {
        case .address(let a): a == address
        case .network(let n): n.contains(address)
        case .name: false
        }
    }

    public var isName: Bool {
        if case .name = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .name(let labels): labels.joined(separator: ".")
        case .address(let a): a.description
        case .network(let n): n.description
        }
    }
}

public struct HostPatternError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Ports a requirement names: single ports and `low-high` ranges.
public struct PortRange: Sendable, Hashable, CustomStringConvertible {
    public var lower: UInt16
    public var upper: UInt16

    public init(_ port: UInt16) { lower = port; upper = port }
    public init(_ lower: UInt16, _ upper: UInt16) { self.lower = lower; self.upper = upper }

    /// `443` or `"1024-65535"`.
    public static func parse(_ text: String) -> Result<PortRange, HostPatternError> {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        func port(_ s: Substring) -> UInt16? {
            guard let n = Int(s.trimmingPrefix(" ")), (0...65_535).contains(n) else { return nil }
            return UInt16(n)
        }
        if parts.count == 1, let p = port(parts[0]) { return .success(PortRange(p)) }
        if parts.count == 2, let lo = port(parts[0]), let hi = port(parts[1]) {
            guard lo <= hi else { return .failure(HostPatternError("port range \(text) runs backwards")) }
            return .success(PortRange(lo, hi))
        }
        return .failure(HostPatternError("\(text) is not a port (0–65535) or a range such as 1024-65535"))
    }

    public func contains(_ port: UInt16) -> Bool { lower <= port && port <= upper }

    public var description: String { lower == upper ? "\(lower)" : "\(lower)-\(upper)" }
}
