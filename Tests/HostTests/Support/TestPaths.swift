import Foundation

/// Where the tests find the repository and the built products.
enum TestPaths {
    /// The repository root (this file is Tests/HostTests/Support/TestPaths.swift).
    static let repository: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The folder holding the test bundle, the `acmeeh` executable and the plugin libraries.
    static let products: URL = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("acmeeh").path) {
                return url
            }
            url.deleteLastPathComponent()
        }
        return repository.appendingPathComponent(".build/debug")
    }()

    static var executable: URL { products.appendingPathComponent("acmeeh") }

    /// A fresh temporary directory, removed by the caller's tearDown if it wants.
    static func temporaryDirectory(_ prefix: String = "acmeeh-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
