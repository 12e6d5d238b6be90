/// A JSON value for documents built once per run (device lists, audit reports): members keep the
/// order they were added in, so output is stable and reads in a sensible order. Per-flow output
/// does not use this (it writes bytes straight into the output buffer).
public indirect enum JSONValue: Sendable, Equatable {
    case object([(String, JSONValue)])
    case array([JSONValue])
    case string(String)
    case integer(Int64)
    case unsigned(UInt64)
    case number(Double)
    /// A number already written as JSON text (timestamps in the flow records' seconds format).
    case numberText(String)
    case bool(Bool)
    case null

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        a.rendered() == b.rendered()
    }

    /// Members whose value is nil are left out; empty arrays and objects too when `omitEmpty`.
    public static func object(_ members: [(String, JSONValue?)], omitEmpty: Bool) -> JSONValue {
        .object(members.compactMap { name, value in
            guard let value else { return nil }
            if omitEmpty {
                if case .array(let a) = value, a.isEmpty { return nil }
                if case .object(let o) = value, o.isEmpty { return nil }
            }
            return (name, value)
        })
    }

    public static func strings(_ values: [String]) -> JSONValue { .array(values.map { .string($0) }) }

    /// Compact (`indent` nil, one line) or pretty-printed with `indent` spaces per level.
    public func rendered(indent: Int? = nil) -> String {
        var out = ""
        write(into: &out, indent: indent, level: 0)
        return out
    }

    private func write(into out: inout String, indent: Int?, level: Int) {
        switch self {
        case .string(let s): out += Formatting.jsonString(s)
        case .integer(let v): out += String(v)
        case .unsigned(let v): out += String(v)
        case .number(let v): out += v.isFinite ? String(v) : "null"
        case .numberText(let text): out += text
        case .bool(let v): out += v ? "true" : "false"
        case .null: out += "null"
        case .array(let values):
            guard !values.isEmpty else { out += "[]"; return }
            // Arrays of scalars stay on one line: lists of names and ports read better that way.
            let scalars = values.allSatisfy { if case .object = $0 { false } else if case .array = $0 { false } else { true } }
            out += "["
            for (i, value) in values.enumerated() {
                if i > 0 { out += scalars || indent == nil ? (indent == nil ? "," : ", ") : "," }
                if !scalars { newline(&out, indent, level + 1) }
                value.write(into: &out, indent: indent, level: level + 1)
            }
            if !scalars { newline(&out, indent, level) }
            out += "]"
        case .object(let members):
            guard !members.isEmpty else { out += "{}"; return }
            out += "{"
            for (i, (name, value)) in members.enumerated() {
                if i > 0 { out += "," }
                newline(&out, indent, level + 1)
                out += Formatting.jsonString(name)
                out += indent == nil ? ":" : ": "
                value.write(into: &out, indent: indent, level: level + 1)
            }
            newline(&out, indent, level)
            out += "}"
        }
    }

    private func newline(_ out: inout String, _ indent: Int?, _ level: Int) {
        guard let indent else { return }
        out += "\n"
        out += String(repeating: " ", count: indent * level)
    }
}
