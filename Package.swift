// swift-tools-version:6.1
import PackageDescription

/// Plugins export only `acmeeh_plugin_register` and bind their own symbols first
/// (the plugin ABI; see docs/plugins.md).
let pluginLinkerSettings: [LinkerSetting] = [
    .unsafeFlags([
        "-Xlinker", "--version-script=\(Context.packageDirectory)/Plugins/exports.map",
        "-Xlinker", "-Bsymbolic",
    ])
]

func plugin(_ name: String, _ extra: [Target.Dependency] = []) -> Target {
    .target(
        name: name,
        dependencies: ["PluginAPI", "PluginKit"] + extra,
        path: "Plugins/\(name)",
        linkerSettings: pluginLinkerSettings
    )
}

let package = Package(
    name: "acmeeh",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "acmeeh", targets: ["Host"]),
        // The load tool of BENCHMARKS.md: full issuance flows against any ACME directory.
        .executable(name: "acmeeh-bench", targets: ["Bench"]),
        .library(name: "CAFile", type: .dynamic, targets: ["CAFile"]),
        .library(name: "CAExternal", type: .dynamic, targets: ["CAExternal"]),
        .library(name: "ChallengeHTTP01", type: .dynamic, targets: ["ChallengeHTTP01"]),
        .library(name: "ChallengeDNS01", type: .dynamic, targets: ["ChallengeDNS01"]),
        .library(name: "ChallengeTLSALPN", type: .dynamic, targets: ["ChallengeTLSALPN"]),
        .library(name: "NotifierSMTP", type: .dynamic, targets: ["NotifierSMTP"]),
        .library(name: "NotifierWebhook", type: .dynamic, targets: ["NotifierWebhook"]),
        // docs/examples/MinimalCA: the Swift CA plugin of docs/plugins.md, built and checked by the tests.
        .library(name: "ExampleMinimalCA", type: .dynamic, targets: ["ExampleMinimalCA"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
    ],
    targets: [
        .systemLibrary(name: "PluginAPI", path: "Sources/PluginAPI"),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl"),
        .systemLibrary(name: "CLibPQ", path: "Sources/CLibPQ", pkgConfig: "libpq"),
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl"),
        .systemLibrary(name: "CLDNS", path: "Sources/CLDNS", pkgConfig: "ldns"),
        .target(name: "PluginKit", dependencies: ["PluginAPI"]),
        // Name resolution (libldns) and address guards for plugins that reach out to
        // identifiers (http-01, dns-01, tls-alpn-01). Apart from PluginKit so that plugins
        // which never resolve names do not link libldns.
        .target(name: "PluginNetwork", dependencies: ["PluginAPI", "PluginKit", "CLDNS"]),
        .executableTarget(
            name: "Host",
            dependencies: [
                "PluginAPI", "COpenSSL", "CLibPQ", "CLDNS", "CCurl",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            ]
        ),
        .executableTarget(
            name: "Bench",
            dependencies: [
                "COpenSSL", "CCurl",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        plugin("CAFile", ["COpenSSL"]),
        plugin("CAExternal", ["CCurl", "COpenSSL"]),
        plugin("ChallengeHTTP01", ["CCurl", "PluginNetwork"]),
        plugin("ChallengeDNS01", ["PluginNetwork", "COpenSSL"]),
        plugin("ChallengeTLSALPN", ["COpenSSL", "PluginNetwork"]),
        plugin("NotifierSMTP", ["CCurl"]),
        plugin("NotifierWebhook", ["CCurl", "COpenSSL"]),
        .target(
            name: "ExampleMinimalCA",
            dependencies: ["PluginAPI", "PluginKit", "COpenSSL"],
            path: "docs/examples/MinimalCA",
            linkerSettings: pluginLinkerSettings
        ),
        .testTarget(
            name: "HostTests",
            dependencies: [
                "Host", "PluginAPI", "COpenSSL",
            ],
            exclude: ["Fixtures"]
        ),
    ]
)
