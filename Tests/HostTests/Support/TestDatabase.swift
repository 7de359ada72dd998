import Foundation
import XCTest

@testable import Host

/// The PostgreSQL server the tests use.
///
/// With `ACMEEH_TEST_PGHOST` (socket directory or host) and `ACMEEH_TEST_PGPORT` set (and
/// optionally `ACMEEH_TEST_PGUSER`, default `acmeeh`), that server. Otherwise a private
/// cluster started once per test process by `scripts/pg-cluster start /tmp/acmeeh-test-pg 54329`
/// (left running for the next run; stop it with `scripts/pg-cluster stop /tmp/acmeeh-test-pg`).
/// When neither works, every test using it fails with the reason — never a silent skip.
enum TestPostgres {
    struct Server: Sendable {
        let host: String
        let port: Int
        let user: String
    }

    struct Unavailable: Error, CustomStringConvertible {
        let description: String
    }

    static let defaultDirectory = "/tmp/acmeeh-test-pg"
    static let defaultPort = 54329

    /// Resolved once per process (a `static let` initialises exactly once, thread-safely).
    static let server: Result<Server, Unavailable> = locate()

    static func require() throws -> Server {
        switch server {
        case .success(let s): return s
        case .failure(let e): throw e
        }
    }

    /// The package root, found from this file's path (Tests/HostTests/Support/…).
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    private static func locate() -> Result<Server, Unavailable> {
        let env = ProcessInfo.processInfo.environment
        let user = env["ACMEEH_TEST_PGUSER"] ?? "acmeeh"
        switch (env["ACMEEH_TEST_PGHOST"], env["ACMEEH_TEST_PGPORT"]) {
        case let (host?, portText?):
            guard let port = Int(portText) else {
                return .failure(Unavailable(description: "ACMEEH_TEST_PGPORT=\(portText) is not a port number"))
            }
            return .success(Server(host: host, port: port, user: user))
        case (nil, nil):
            break
        default:
            return .failure(Unavailable(description: "set both ACMEEH_TEST_PGHOST and ACMEEH_TEST_PGPORT, or neither"))
        }
        let script = packageRoot.appendingPathComponent("scripts/pg-cluster").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script, "start", defaultDirectory, String(defaultPort)]
        // Output goes to a file, not a pipe: the server started by the script outlives it,
        // and must not hold a pipe we would read to EOF.
        let logURL = FileManager.default.temporaryDirectory
            .appendingPathComponent("acmeeh-pg-cluster-\(ProcessInfo.processInfo.processIdentifier).log")
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: logURL) }
        do {
            let log = try FileHandle(forWritingTo: logURL)
            defer { try? log.close() }
            process.standardOutput = log
            process.standardError = log
            process.standardInput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
        } catch {
            return .failure(Unavailable(description: "cannot run \(script): \(error)"))
        }
        let text = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            return .failure(Unavailable(description: """
                PostgreSQL for the tests is unavailable: `scripts/pg-cluster start \(defaultDirectory) \(defaultPort)` \
                exited with \(process.terminationStatus):
                \(text)
                Install PostgreSQL (apt-get install postgresql) or point ACMEEH_TEST_PGHOST/ACMEEH_TEST_PGPORT at a server.
                """))
        }
        return .success(Server(host: defaultDirectory, port: defaultPort, user: "acmeeh"))
    }

    /// A config for `database` on the test server (pool settings to be adjusted by the test).
    static func config(database: String) throws -> DatabaseConfig {
        let s = try require()
        return DatabaseConfig(
            host: s.host, port: s.port, database: database, user: s.user, password: nil, sslmode: "disable",
            minConnections: 0, maxConnections: 4, connectionTimeout: 5, maxIdleSeconds: 300, autoSetup: false)
    }

    /// Runs one statement on the `postgres` maintenance database (CREATE/DROP DATABASE).
    static func admin(_ sql: String, _ params: [PostgresValue?] = []) throws {
        let connection = try Connection(config: config(database: "postgres"))
        defer { connection.close() }
        try connection.execute(sql, params)
    }
}

/// A fresh, empty database for one test, dropped by `drop()`.
struct TestDatabase {
    let name: String
    /// Points at the database; pool: min 0, max 4, 5 s timeout (adjust per test).
    let config: DatabaseConfig

    static func create(prefix: String = "acmeeh_test_") throws -> TestDatabase {
        let suffix = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        let name = prefix + suffix
        try TestPostgres.admin("CREATE DATABASE \(quoteIdentifier(name))")
        return TestDatabase(name: name, config: try TestPostgres.config(database: name))
    }

    func drop() {
        do {
            try TestPostgres.admin("DROP DATABASE IF EXISTS \(Self.quoteIdentifier(name)) WITH (FORCE)")
        } catch {
            XCTFail("cannot drop test database \(name): \(error)")
        }
    }

    /// `"name"` with embedded quotes doubled (for names the test itself chose).
    static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
