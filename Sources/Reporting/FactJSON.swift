import Classify

/// Classification facts as JSON members appended to a flow record: `services` when a flow carried
/// several, one object per protocol under its key (`"tls":{...}`), and `notes`. Facts are written as
/// they are visited (`FactSink`): nothing is built in between.
enum FactJSON {
    /// Appends the members to `w` (each member reserves its own room).
    static func append(_ facts: FlowFacts, to w: inout ByteWriter) {
        if facts.services.count > 1 {
            w.write(reserving: 16 + 24 * facts.services.count) { o, at in
                o.put(",\"services\":[", &at)
                for (i, service) in facts.services.enumerated() {
                    if i > 0 { o.put(UInt8(ascii: ","), &at) }
                    o.putJSONString(service.name, &at)
                }
                o.put(UInt8(ascii: "]"), &at)
            }
        }
        // The buffer moves into the writer and back by swapping: a copy, even for a moment, would
        // leave two references and make the next write copy the whole buffer.
        var writer = Writer(bytes: ByteWriter(capacity: 0))
        swap(&writer.bytes, &w)
        for detail in facts.details {
            let key = type(of: detail).key
            writer.bytes.write(reserving: 8 + 6 * key.utf8.count) { o, at in
                o.put(UInt8(ascii: ","), &at)
                o.putJSONString(key, &at)
                o.put(":{", &at)
            }
            writer.first = true
            detail.report(to: &writer)
            writer.bytes.write(reserving: 1) { o, at in o.put(UInt8(ascii: "}"), &at) }
        }
        swap(&w, &writer.bytes)
        if !facts.notes.isEmpty {
            w.write(reserving: 16 + facts.notes.reduce(0) { $0 + 3 + 6 * $1.utf8.count }) { o, at in
                o.put(",\"notes\":[", &at)
                for (i, note) in facts.notes.enumerated() {
                    if i > 0 { o.put(UInt8(ascii: ","), &at) }
                    o.putJSONString(note, &at)
                }
                o.put(UInt8(ascii: "]"), &at)
            }
        }
    }

    /// Writes `"name":value` members, comma separated, each with the room it needs.
    struct Writer: FactSink {
        var bytes: ByteWriter
        var first = true

        private mutating func member(_ name: StaticString, room: Int, _ value: (inout MutableSpan<UInt8>, inout Int) -> Void) {
            let comma = !first
            first = false
            bytes.write(reserving: room &+ name.utf8CodeUnitCount &+ 4) { o, at in
                if comma { o.put(UInt8(ascii: ","), &at) }
                o.put(UInt8(ascii: "\""), &at)
                o.put(name, &at)
                o.put("\":", &at)
                value(&o, &at)
            }
        }

        mutating func text(_ name: StaticString, _ value: String) {
            member(name, room: 2 &+ 6 &* value.utf8.count) { o, at in o.putJSONString(value, &at) }
        }

        mutating func number(_ name: StaticString, _ value: Int) {
            member(name, room: 21) { o, at in
                if value < 0 { o.put(UInt8(ascii: "-"), &at) }
                o.putDecimal(UInt64(value.magnitude), &at)
            }
        }

        mutating func flag(_ name: StaticString, _ value: Bool) {
            member(name, room: 5) { o, at in if value { o.put("true", &at) } else { o.put("false", &at) } }
        }

        mutating func texts(_ name: StaticString, _ values: [String]) {
            let room = values.reduce(2) { $0 &+ 3 &+ 6 &* $1.utf8.count }
            member(name, room: room) { o, at in
                o.put(UInt8(ascii: "["), &at)
                for (i, v) in values.enumerated() {
                    if i > 0 { o.put(UInt8(ascii: ","), &at) }
                    o.putJSONString(v, &at)
                }
                o.put(UInt8(ascii: "]"), &at)
            }
        }

        mutating func numbers(_ name: StaticString, _ values: [Int]) {
            member(name, room: 2 &+ 22 &* values.count) { o, at in
                o.put(UInt8(ascii: "["), &at)
                for (i, v) in values.enumerated() {
                    if i > 0 { o.put(UInt8(ascii: ","), &at) }
                    if v < 0 { o.put(UInt8(ascii: "-"), &at) }
                    o.putDecimal(UInt64(v.magnitude), &at)
                }
                o.put(UInt8(ascii: "]"), &at)
            }
        }
    }
}
