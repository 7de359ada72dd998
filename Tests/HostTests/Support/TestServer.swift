import Foundation
@testable import Host
import XCTest

/// A real `acmeeh serve` on a private database with the CAFile plugin and a throwaway CA
/// (`scripts/dev-ca`), configured like ServeEndToEndTests, plus direct Store access to the
/// same database for arranging rows the tests need.
final class TestServer {
    let directory: URL
    let database: TestDatabase
    let port: Int
    let process: ServerProcess
    let configFile: URL
    /// A small pool on the server's database, for the test's own reads and writes.
    let store: Database

    var baseURL: String { process.baseURL }
    var directoryURL: String { baseURL + "/directory" }

    /// Starts a server; `extra` is YAML appended to the configuration (top-level sections
    /// the base config does not set).
    init(extra: String = "") throws {
        directory = try TestPaths.temporaryDirectory("acmeeh-server")
        database = try TestDatabase.create()
        let ca = try Command.run(TestPaths.repository.appendingPathComponent("scripts/dev-ca").path,
                                 [directory.appendingPathComponent("ca").path])
        guard ca.status == 0 else { throw CLIFailure("scripts/dev-ca failed: \(ca.stderr)") }
        port = try ServerProcess.freePort()
        configFile = try Self.writeConfig(directory: directory, database: database.config, port: port, extra: extra)
        process = try ServerProcess(config: configFile, port: port,
                                    logFile: directory.appendingPathComponent("server.log"))
        var storeConfig = database.config
        storeConfig.maxConnections = 2
        store = Database(config: storeConfig)
        try process.waitUntilLive()
    }

    /// Stops the server, closes the pool, drops the database and removes the files.
    func shutdown() {
        process.stop()
        let store = self.store
        let done = DispatchSemaphore(value: 0)
        Task {
            await store.shutdown()
            done.signal()
        }
        done.wait()
        database.drop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// The one base configuration of the tests that start `acmeeh serve`: `port`, `database`,
    /// `ca` (the indented body of the `ca:` section; by default the internal CA that
    /// `scripts/dev-ca` made in `directory/ca`) and `extra`, more top-level YAML.
    static func writeConfig(directory: URL, database db: DatabaseConfig, port: Int, ca: String? = nil,
                            maxConnections: Int = 4, extra: String = "") throws -> URL {
        let yaml = """
        server:
          external_url: http://127.0.0.1:\(port)
          bind: 127.0.0.1
          port: \(port)
          workers: 2
        database:
          host: \(db.host)
          port: \(db.port)
          database: \(db.database)
          user: \(db.user)
          min_connections: 1
          max_connections: \(maxConnections)
          auto_setup: true
        ca:
        \(ca ?? caSection(directory: directory))
        logging:
          format: human
        \(rateLimitsOffUnlessSet(extra))
        """
        let url = directory.appendingPathComponent("acmeeh-\(port).yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// `extra` with `security.rate_limits.enabled: false` unless it configures rate limits
    /// itself: the reference defaults (on, 10 accounts per hour per address) would refuse the
    /// many accounts these tests make from 127.0.0.1. RateLimitServerTests set their own.
    static func rateLimitsOffUnlessSet(_ extra: String) -> String {
        if extra.contains("rate_limits:") { return extra }
        let off = "  rate_limits:\n    enabled: false"
        var lines = extra.components(separatedBy: "\n")
        if let security = lines.firstIndex(of: "security:") {
            lines.insert(off, at: security + 1)
            return lines.joined(separator: "\n")
        }
        return extra + "\nsecurity:\n" + off + "\n"
    }

    /// The `ca:` body for the internal CA of `directory/ca`; `extra` are more `ca` keys,
    /// indented like the others (two spaces).
    static func caSection(directory: URL, backend: String = "internal", extra: String = "") -> String {
        let ca = directory.appendingPathComponent("ca")
        return """
          backend: \(backend)
          internal:
            root_cert_path: \(ca.appendingPathComponent("root.pem").path)
            root_key_path: \(ca.appendingPathComponent("root-key.pem").path)
            serial_source: database
        \(extra)
        """
    }

    /// Runs `body` on a connection to the server's database (blocking; for test set-up).
    @discardableResult
    func sql<T>(_ body: (Connection) throws -> T) throws -> T {
        try store.withConnectionSync(body)
    }

    /// Every challenge the server stored, as "IDENTIFIER TYPE STATUS" (a wildcard
    /// authorization's identifier with its "*."), sorted.
    func challengeRows() throws -> [String] {
        try sql { connection in
            try connection.query("""
                SELECT CASE WHEN a.wildcard THEN '*.' ELSE '' END || a.identifier_value AS identifier,
                       c.type, c.status
                FROM challenges c JOIN authorizations a ON a.id = c.authorization_id
                """).map { "\(try $0.string("identifier")) \(try $0.string("type")) \(try $0.string("status"))" }.sorted()
        }
    }

    /// Runs the `acmeeh` executable against this server's configuration.
    func acmeeh(_ arguments: [String]) throws -> CommandResult {
        try Command.run(TestPaths.executable.path, ["-c", configFile.path] + arguments)
    }
}
