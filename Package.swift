// swift-tools-version:6.0
// No package dependencies: Foundation, Dispatch, Glibc, XCTest and the system library libpq only.
import PackageDescription

let package = Package(
    name: "loyalty",
    products: [
        .executable(name: "loyaltyd", targets: ["loyaltyd"]),
        .executable(name: "loyaltyctl", targets: ["loyaltyctl"]),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // Linux headers the Glibc module does not export (epoll); libc itself, no library.
        .systemLibrary(name: "CLinux"),
        // libpq in Swift; knows nothing of loyalty.
        .target(name: "Postgres", dependencies: ["CLibPQ"]),
        // Pure domain: no SQL, no sockets, clock passed in.
        .target(name: "LoyaltyCore"),
        // Bytes in, commands and replies out; no I/O.
        .target(name: "LineProtocol"),
        // The domain on PostgreSQL.
        .target(name: "LoyaltyStore", dependencies: ["LoyaltyCore", "Postgres"]),
        // Sockets, sessions, the command table, handlers.
        .target(name: "LoyaltyServer", dependencies: ["CLinux", "LineProtocol", "LoyaltyStore", "LoyaltyCore"]),
        // SVG charts from plain integers: strings out, no I/O.
        .target(name: "LoyaltyCharts"),
        // Test support: fresh migrated databases and a running server, for the test targets only.
        .target(name: "LoyaltyTesting", dependencies: ["LoyaltyStore", "Postgres"]),
        .executableTarget(name: "loyaltyd", dependencies: ["LoyaltyServer"]),
        .executableTarget(name: "loyaltyctl", dependencies: ["LoyaltyStore", "LoyaltyCore", "LoyaltyCharts"]),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres"]),
        .testTarget(name: "LoyaltyCoreTests", dependencies: ["LoyaltyCore"]),
        .testTarget(name: "LineProtocolTests", dependencies: ["LineProtocol", "LoyaltyTesting"]),
        .testTarget(name: "LoyaltyStoreTests", dependencies: ["LoyaltyStore", "LoyaltyTesting"]),
        .testTarget(name: "LoyaltyChartsTests", dependencies: ["LoyaltyCharts"]),
        .testTarget(name: "LoyaltyctlTests", dependencies: ["LoyaltyTesting"]),
        .testTarget(name: "LoyaltyServerTests", dependencies: ["LoyaltyServer", "LoyaltyStore", "LoyaltyTesting"]),
        .testTarget(name: "ReliabilityTests", dependencies: ["LoyaltyTesting", "LoyaltyStore"]),
    ]
)
