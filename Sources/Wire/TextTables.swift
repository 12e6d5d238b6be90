/// Constant tables that turn numbers into text two characters per load. Writers of flow records
/// format two addresses, a dozen decimals and two MAC addresses for every flow; digit by digit,
/// random values (octets of one, two or three digits) were branches the processor mispredicted
/// and chains of dependent divisions.
///
/// The tables are string literals: constant bytes in the binary, read through a pointer the
/// compiler knows at build time (a `static let` array or `InlineArray` is initialized lazily and
/// was reached through an accessor call per use, or copied whole).
/// Pairs and octet texts are little-endian words: stored with `.littleEndian`, the first character
/// comes first.
///
/// Public, not `package`: the `package` `@inlinable` functions were not inlined into Reporting
/// (swiftc 6.3 called them, a call per pair), public ones are.
public enum TextTables {
    /// The two ASCII digits of `n` (`"00"` ... `"99"`), first digit in the low byte.
    @inlinable @inline(__always)
    public static func decimalPair(_ n: Int) -> UInt16 {
        precondition(n >= 0 && n < 100)
        let table: StaticString = """
            0001020304050607080910111213141516171819\
            2021222324252627282930313233343536373839\
            4041424344454647484950515253545556575859\
            6061626364656667686970717273747576777879\
            8081828384858687888990919293949596979899
            """
        return unsafe table.withUTF8Buffer { buffer in
            UInt16(littleEndian: unsafe UnsafeRawPointer(buffer.baseAddress!).loadUnaligned(fromByteOffset: 2 &* n, as: UInt16.self))
        }
    }

    /// The two lower-case hex digits of a byte (`"00"` ... `"ff"`), first digit in the low byte.
    @inlinable @inline(__always)
    public static func hexPair(_ byte: UInt8) -> UInt16 {
        let table: StaticString = """
            000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\
            202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\
            404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f\
            606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f\
            808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f\
            a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf\
            c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf\
            e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff
            """
        return unsafe table.withUTF8Buffer { buffer in
            UInt16(littleEndian: unsafe UnsafeRawPointer(buffer.baseAddress!).loadUnaligned(fromByteOffset: 2 &* Int(byte), as: UInt16.self))
        }
    }

    /// An octet's decimal text followed by a dot (`"7."`, `"42."`, `"255."`) in the low bytes of
    /// the result, first character first, and the text's length with the dot. No branches: the
    /// three digits are made and the leading zeros shifted out.
    @inlinable @inline(__always)
    public static func octetWithDot(_ octet: UInt8) -> (text: UInt32, length: Int) {
        let n = Int(octet)
        let hundreds = n / 100
        let full = UInt32(0x30 &+ hundreds) | UInt32(decimalPair(n &- hundreds &* 100)) << 8 | UInt32(UInt8(ascii: ".")) << 24
        let digits = 1 &+ (n >= 10 ? 1 : 0) &+ (n >= 100 ? 1 : 0)
        return (full >> UInt32(8 &* (3 &- digits)), digits &+ 1)
    }
}
