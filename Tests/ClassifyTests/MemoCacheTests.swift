import Testing
import TestSupport
@testable import Classify

/// The caches of facts that repeat across flows (JA4 parts by ClientHello lists, certificate
/// names by certificate): a hit gives exactly what a fresh derivation gives, different inputs never
/// share an entry, and the size stays bounded.
@Suite struct MemoCacheTests {
    @Test func remembersAndStaysBounded() {
        let cache = MemoCache<Int, String>(capacity: 4)
        var made = 0
        for round in 0..<2 {
            for key in 0..<3 {
                let value = cache.value(key) { made += 1; return "v\(key)" }
                #expect(value == "v\(key)", "round \(round)")
            }
        }
        #expect(made == 3)
        for key in 3..<20 { _ = cache.value(key) { "v\(key)" } }
        #expect(cache.count <= 4)
        #expect(cache.value(19) { "other" } == "v19")
    }

    /// The cached JA4 of a real ClientHello equals the derivation without the cache, and a hello
    /// with one cipher suite fewer does not hit the first one's entry.
    @Test func ja4FromTheCacheIsTheFreshOne() throws {
        let stream = try TLSTests.relay().stream(fromClient: true)
        let length = Int(stream[6]) << 16 | Int(stream[7]) << 8 | Int(stream[8])
        let body = Array(stream[9..<(9 + length)])
        let parsed = TLSClientHello(parsing: body.span)
        let hello = try #require(parsed)
        let fresh = JA4.derivedCountsAndHashes(hello)
        #expect(JA4.HashCache.countsAndHashes(hello) == fresh)
        #expect(JA4.HashCache.countsAndHashes(hello) == fresh)
        #expect(JA4.fingerprint(hello, transport: .tcp) == "t13d3112h2_e8f1e7e78f70_b26ce05bbdd6")
        var fewer = hello
        fewer.cipherSuites.removeLast()
        let other = JA4.fingerprint(fewer, transport: .tcp)
        #expect(other.hasPrefix("t13d3012h2_") && !other.contains("e8f1e7e78f70"))
        #expect(other.hasSuffix("_b26ce05bbdd6"))
        // The same counts, one value changed: a different entry, not the first hello's.
        var changed = hello
        changed.cipherSuites[changed.cipherSuites.count - 1] &+= 1
        let third = JA4.fingerprint(changed, transport: .tcp)
        #expect(third.hasPrefix("t13d3112h2_") && !third.contains("e8f1e7e78f70") && third.hasSuffix("_b26ce05bbdd6"))
        #expect(JA4.HashCache.countsAndHashes(changed) == JA4.derivedCountsAndHashes(changed))
    }

    /// Two certificates that differ only in the middle (the same first and last 64 bytes, so the
    /// same hash) are told apart by their bytes: each gets its own names.
    @Test func certificatesDifferingInTheMiddleKeepTheirOwnNames() throws {
        let server = try TLSTests.relay().stream(fromClient: false)
        // The Certificate handshake message: type 11, length(3), certificate_list length(3) = length - 3.
        let start = try #require((0..<(server.count - 8)).first { i in
            guard server[i] == 11 else { return false }
            let length = Int(server[i + 1]) << 16 | Int(server[i + 2]) << 8 | Int(server[i + 3])
            let list = Int(server[i + 4]) << 16 | Int(server[i + 5]) << 8 | Int(server[i + 6])
            return length > 3 && list == length - 3 && i + 4 + length <= server.count
        })
        let length = Int(server[start + 1]) << 16 | Int(server[start + 2]) << 8 | Int(server[start + 3])
        let body = Array(server[(start + 4)..<(start + 4 + length)])
        #expect(CertificateNames.fromCertificateMessage(body.span) == ["r1.us.u5fgb.com"])
        // Change the name where it appears in the certificate (every copy past the first 70 bytes).
        var changed = body
        let name = Array("u5fgb".utf8)
        var replaced = 0
        for i in 70..<(changed.count - 70 - name.count) where Array(changed[i..<(i + name.count)]) == name {
            changed[i] = UInt8(ascii: "x")
            replaced += 1
        }
        #expect(replaced >= 1)
        let a = CertificateNames.Certificate(bytes: body), b = CertificateNames.Certificate(bytes: changed)
        #expect(a != b && a.hashValue == b.hashValue)
        #expect(CertificateNames.fromCertificateMessage(changed.span) == ["r1.us.x5fgb.com"])
        #expect(CertificateNames.fromCertificateMessage(body.span) == ["r1.us.u5fgb.com"])
    }
}
