/// Number and time formatting shared by the renderers, without Foundation's locale-dependent
/// formatters: output must be byte-for-byte reproducible (goldens) and fast.
public enum Formatting {
    /// Seconds with six decimals (Zeek's precision), or nine when the value has sub-microsecond
    /// digits (nanosecond captures): `1700000000.123456`.
    public static func seconds(_ nanoseconds: Int64) -> String {
        let negative = nanoseconds < 0
        let magnitude = nanoseconds.magnitude
        let whole = magnitude / 1_000_000_000
        let fraction = magnitude % 1_000_000_000
        var s = negative ? "-" : ""
        s += String(whole)
        s += "."
        if fraction % 1000 == 0 {
            s += padded(fraction / 1000, width: 6)
        } else {
            s += padded(fraction, width: 9)
        }
        return s
    }

    static func padded(_ value: UInt64, width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// `2024-05-01-13-45-07`, Zeek's `#open`/`#close` stamp, in UTC.
    public static func zeekStamp(_ nanoseconds: Int64) -> String {
        let (y, m, d, hh, mm, ss) = civil(nanoseconds)
        return "\(y)-\(pad2(m))-\(pad2(d))-\(pad2(hh))-\(pad2(mm))-\(pad2(ss))"
    }

    /// `2024-05-01 13:45:07.123 UTC`-style time of day for people: `13:45:07.123`.
    public static func timeOfDay(_ nanoseconds: Int64) -> String {
        let (_, _, _, hh, mm, ss) = civil(nanoseconds)
        let millis = (nanoseconds % 1_000_000_000 + 1_000_000_000) % 1_000_000_000 / 1_000_000
        return "\(pad2(hh)):\(pad2(mm)):\(pad2(ss)).\(padded(UInt64(millis), width: 3))"
    }

    /// `2024-05-01T13:45:07Z`.
    public static func iso8601(_ nanoseconds: Int64) -> String {
        let (y, m, d, hh, mm, ss) = civil(nanoseconds)
        return "\(y)-\(pad2(m))-\(pad2(d))T\(pad2(hh)):\(pad2(mm)):\(pad2(ss))Z"
    }

    static func pad2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }

    /// Year, month, day, hour, minute, second in UTC (days-from-civil inverse, proleptic Gregorian).
    static func civil(_ nanoseconds: Int64) -> (Int, Int, Int, Int, Int, Int) {
        var seconds = nanoseconds / 1_000_000_000
        if nanoseconds < 0 && nanoseconds % 1_000_000_000 != 0 { seconds -= 1 }
        var days = Int(seconds / 86_400)
        var rest = Int(seconds % 86_400)
        if rest < 0 { rest += 86_400; days -= 1 }
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return (y, m, d, rest / 3600, rest % 3600 / 60, rest % 60)
    }

    /// `1.2 MB`, `512 B`: decimal units, as network people count bytes.
    public static func bytes(_ value: UInt64) -> String {
        if value < 1000 { return "\(value) B" }
        let units = ["kB", "MB", "GB", "TB", "PB"]
        var v = Double(value) / 1000
        var unit = 0
        while v >= 1000 && unit < units.count - 1 {
            v /= 1000
            unit += 1
        }
        return oneDecimal(v) + " " + units[unit]
    }

    /// `12,345,678`.
    public static func grouped(_ value: UInt64) -> String {
        let digits = Array(String(value))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return out
    }

    public static func oneDecimal(_ v: Double) -> String {
        let tenths = Int((v * 10).rounded())
        return "\(tenths / 10).\(abs(tenths % 10))"
    }

    /// A JSON string literal (RFC 8259 §7): quotes, backslashes and control characters escaped.
    public static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
        return out
    }
}
