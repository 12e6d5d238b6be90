/// Why a frame could not be decoded far enough to belong to a flow: the layer, an open code, and
/// where (byte offset from the start of the frame). Equality is by layer and code, so tests can say
/// `#expect(throws: WireError(.ipv4, .truncated))` without repeating offsets.
///
/// Errors are values that the caller counts (the summary's "frames skipped by reason"); decoders
/// never print.
public struct WireError: Error, Hashable, Sendable, CustomStringConvertible {
    public var layer: Layer
    public var code: Code
    /// Byte offset in the frame where the problem is.
    public var offset: Int
    /// Bytes the layer needed and bytes it had, for truncation.
    public var need: Int
    public var have: Int

    public init(_ layer: Layer, _ code: Code, at offset: Int = 0, need: Int = 0, have: Int = 0) {
        self.layer = layer
        self.code = code
        self.offset = offset
        self.need = need
        self.have = have
    }

    public static func truncated(_ layer: Layer, need: Int, have: Int, at offset: Int = 0) -> WireError {
        WireError(layer, .truncated, at: offset, need: need, have: have)
    }

    public static func == (a: WireError, b: WireError) -> Bool { a.layer == b.layer && a.code == b.code }
    public func hash(into h: inout Hasher) {
        h.combine(layer)
        h.combine(code)
    }

    /// The stable reason name used in summaries: `<layer>_<code>`, e.g. `ipv4_truncated`.
    public var reason: String { "\(layer.name)_\(code.name)" }

    public var description: String {
        code == .truncated
            ? "\(layer.name) header truncated at byte \(offset): need \(need) bytes, have \(have)"
            : "\(layer.name): \(code.name.replacingUnderscores) at byte \(offset)"
    }

    public enum Layer: UInt8, Sendable, Hashable {
        case link, ethernet, vlan, mpls, pppoe, ppp, linuxSLL, null, ppi, ipv4, ipv6, tcp, udp, icmp, gre, sctp,
             tunnel

        public var name: String {
            switch self {
            case .link: "link"
            case .ethernet: "ethernet"
            case .vlan: "vlan"
            case .mpls: "mpls"
            case .pppoe: "pppoe"
            case .ppp: "ppp"
            case .linuxSLL: "linux_sll"
            case .null: "null"
            case .ppi: "ppi"
            case .ipv4: "ipv4"
            case .ipv6: "ipv6"
            case .tcp: "tcp"
            case .udp: "udp"
            case .icmp: "icmp"
            case .gre: "gre"
            case .sctp: "sctp"
            case .tunnel: "tunnel"
            }
        }
    }

    /// An open set of error codes.
    public struct Code: RawRepresentable, Hashable, Sendable {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        public static let truncated = Code(rawValue: 1)
        public static let unexpectedVersion = Code(rawValue: 2)
        public static let headerLengthTooSmall = Code(rawValue: 3)
        public static let totalLengthBelowHeader = Code(rawValue: 4)
        public static let badExtensionChain = Code(rawValue: 5)
        public static let unknownFamily = Code(rawValue: 6)
        public static let unsupportedLinkType = Code(rawValue: 7)
        public static let tooDeep = Code(rawValue: 8)

        public var name: String {
            switch rawValue {
            case 1: "truncated"
            case 2: "unexpected_version"
            case 3: "header_length_too_small"
            case 4: "total_length_below_header"
            case 5: "bad_extension_chain"
            case 6: "unknown_family"
            case 7: "unsupported_link_type"
            case 8: "too_deep"
            default: "code_\(rawValue)"
            }
        }
    }
}

extension String {
    var replacingUnderscores: String { String(map { $0 == "_" ? " " : $0 }) }
}
