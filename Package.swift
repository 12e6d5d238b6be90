// swift-tools-version: 6.2
//
// SpanAudit: one library target per pipeline stage, each depending only on the stages before it.
//
//   capture (Capture) ─┐
//   wire decode (Wire) ─┼─> flows (Flows) ─> classify (Classify) ─> devices (Devices)
//                                            run a capture end to end (Analysis) ─> output (Reporting) ─> `audit` (AuditCLI)
//
// `Wire` imports nothing, not even Foundation: it is the per-packet hot path, fuzzable on its own.
import PackageDescription

let strict: [SwiftSetting] = [
    .strictMemorySafety(),
    .treatWarning("StrictMemorySafety", as: .error),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    // Release builds skip the dynamic exclusivity checks on class and global state: they cost 4–5% of
    // the packet path (Scripts/bench.py, mix.pcap) and the debug builds that run the tests keep them,
    // so an overlapping access still traps there.
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
    // See the `audit` target's linker settings.
    .unsafeFlags(["-static-stdlib"], .when(configuration: .release)),
]

let package = Package(
    name: "SpanAudit",
    platforms: [.macOS(.v26)],
    products: [
        .executable(name: "audit", targets: ["AuditCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // QUIC Initial packets: HKDF, AES-GCM and the AES block function for header protection.
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        // Signatures and inventories are YAML; lint reports problems by line, from Yams' node marks.
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // The nightly history: SQLite in one file, migrated in code, WAL for readers during a run.
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // The same history in PostgreSQL, for a chain of stores sharing one database.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibpcap",
            pkgConfig: "libpcap",
            providers: [.apt(["libpcap-dev"])]
        ),
        .target(name: "Wire", swiftSettings: strict),
        // Software prefetch for ending flows in batches (a C builtin) and reads that do not wait for
        // the disk (preadv2's RWF_NOWAIT, declared only under _GNU_SOURCE): Swift cannot spell them.
        .target(name: "CCacheHints"),
        .target(name: "Capture", dependencies: ["Wire", "CLibpcap", "CCacheHints"], swiftSettings: strict),
        .target(name: "Flows", dependencies: ["Wire", "CCacheHints"], swiftSettings: strict),
        .target(
            name: "Classify",
            dependencies: [
                "Wire", "Flows",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .target(name: "Analysis", dependencies: ["Capture", "Wire", "Flows", "Classify"], swiftSettings: strict),
        .target(name: "Devices", dependencies: ["Wire", "Flows", "Classify"], swiftSettings: strict),
        .target(
            name: "Audit",
            dependencies: ["Wire", "Capture", "Flows", "Classify", "Analysis", "Devices", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        .target(name: "History", dependencies: ["Audit", "Wire", .product(name: "GRDB", package: "GRDB.swift"),
                                                .product(name: "PostgresNIO", package: "postgres-nio"),
                                                .product(name: "Logging", package: "swift-log")],
                swiftSettings: strict),
        .target(name: "Reporting", dependencies: ["Analysis", "Audit", "History", "Capture", "Classify", "Devices", "Flows", "Wire"],
                swiftSettings: strict),
        .executableTarget(
            name: "AuditCLI",
            dependencies: [
                "Analysis", "Audit", "Capture", "Classify", "Devices", "Flows", "History", "Reporting", "Wire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict,
            // Release builds link the Swift runtime and Foundation statically (with `-static-stdlib`
            // in `strict` above, which makes the modules name the static libraries they need): the
            // binary then runs on a Debian machine without a Swift toolchain (it needs libpcap and
            // libsqlite3 only), and start-up skips resolving the runtime's symbols — 15.6 -> 10.7 ms
            // for `audit flows` on a small capture (25 interleaved runs each). The binary grows
            // from 92 to 166 MB. Debug builds (the tests) stay dynamic.
            // Linked by the toolchain's lld with packed relative relocations (DT_RELR, glibc 2.36):
            // the position-independent binary has ~124 k relocations, which gold writes as 3 MB of
            // RELA entries that the loader applies one by one; packed, they are a 24 KB bitmap —
            // start-up 15.5 -> 11.5 ms (medians of 40 runs, `audit flows` on a small capture), and
            // the release link takes ~4 s instead of ~9 s.
            linkerSettings: [.unsafeFlags(["-static-stdlib", "-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"],
                                          .when(configuration: .release))]
        ),
        .target(name: "TestSupport", dependencies: ["Wire", "Capture"], path: "Tests/Support", swiftSettings: strict),
        .testTarget(name: "WireTests", dependencies: ["Wire", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "CaptureTests", dependencies: ["Capture", "Wire", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "FlowsTests", dependencies: ["Flows", "Wire", "Capture", "Analysis", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "ClassifyTests", dependencies: ["Classify", "Flows", "Wire", "Capture", "Analysis", "TestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "DevicesTests", dependencies: ["Devices", "Analysis", "Classify", "Wire", "Capture", "TestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "AuditTests", dependencies: ["Audit", "Analysis", "Classify", "Devices", "Wire", "TestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "HistoryTests", dependencies: ["History", "Audit", "Analysis", "TestSupport"], swiftSettings: strict),
        .testTarget(
            name: "EndToEndTests",
            // AuditCLI: the command-line tests run the built `audit` executable.
            dependencies: ["Analysis", "Audit", "Reporting", "Capture", "Classify", "Flows", "Wire", "TestSupport", "AuditCLI"],
            exclude: ["Goldens"],
            swiftSettings: strict
        ),
    ]
)
