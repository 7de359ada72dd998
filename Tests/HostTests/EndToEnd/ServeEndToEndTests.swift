import Foundation
@testable import Host
import XCTest

/// The walking skeleton end to end: the real `acmeeh` executable with the real CAFile
/// plugin and a private PostgreSQL, driven through its CLI and HTTP endpoints.
final class ServeEndToEndTests: XCTestCase {
    var directory: URL!
    var database: TestDatabase!

    override func setUpWithError() throws {
        directory = try TestPaths.temporaryDirectory("acmeeh-e2e")
        database = try TestDatabase.create()
        let result = try Command.run(TestPaths.repository.appendingPathComponent("scripts/dev-ca").path,
                                     [directory.appendingPathComponent("ca").path])
        XCTAssertEqual(result.status, 0, result.stderr)
    }

    override func tearDownWithError() throws {
        database?.drop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Writes a configuration for this test's database and CA; `extra` is appended YAML.
    func writeConfig(port: Int, backend: String = "internal", extra: String = "") throws -> URL {
        try TestServer.writeConfig(directory: directory, database: database.config, port: port,
                                   ca: TestServer.caSection(directory: directory, backend: backend), extra: extra)
    }

    func acmeeh(_ arguments: [String]) throws -> CommandResult {
        try Command.run(TestPaths.executable.path, arguments)
    }

    func testServeAnswersDirectoryAndHealth() throws {
        let port = try ServerProcess.freePort()
        let config = try writeConfig(port: port)
        let server = try ServerProcess(config: config, port: port,
                                       logFile: directory.appendingPathComponent("server.log"))
        try server.waitUntilLive()

        let live = try HTTP.get("\(server.baseURL)/livez")
        XCTAssertEqual(live.json?["alive"] as? Bool, true)
        XCTAssertNotNil(live.json?["version"] as? String)

        let directoryResponse = try HTTP.get("\(server.baseURL)/directory")
        XCTAssertEqual(directoryResponse.status, 200)
        let dir = try XCTUnwrap(directoryResponse.json)
        XCTAssertEqual(dir["newNonce"] as? String, "http://127.0.0.1:\(port)/new-nonce")
        XCTAssertEqual(dir["newAccount"] as? String, "http://127.0.0.1:\(port)/new-account")
        XCTAssertEqual(dir["newOrder"] as? String, "http://127.0.0.1:\(port)/new-order")
        XCTAssertEqual(dir["revokeCert"] as? String, "http://127.0.0.1:\(port)/revoke-cert")
        XCTAssertEqual(dir["keyChange"] as? String, "http://127.0.0.1:\(port)/key-change")
        XCTAssertNil(dir["renewalInfo"], "ARI is off by default")
        XCTAssertEqual(directoryResponse.header("X-Content-Type-Options"), "nosniff")
        XCTAssertEqual(directoryResponse.header("X-Frame-Options"), "DENY")
        XCTAssertEqual(directoryResponse.header("Content-Security-Policy"), "default-src 'none'; frame-ancestors 'none'")
        XCTAssertNil(directoryResponse.header("Strict-Transport-Security"), "no HSTS over plain http")
        XCTAssertNotNil(directoryResponse.header("X-Request-ID"))
        // A request id is taken only from a trusted proxy (ReverseProxyTests); a client's own is replaced.
        let offered = try HTTP.get("\(server.baseURL)/directory", headers: ["X-Request-ID": "abc-123"])
        let replaced = try XCTUnwrap(offered.header("X-Request-ID"))
        XCTAssertNotEqual(replaced, "abc-123")
        XCTAssertNotNil(UUID(uuidString: replaced), replaced)

        let health = try HTTP.get("\(server.baseURL)/healthz")
        XCTAssertEqual(health.status, 200, String(decoding: health.body, as: UTF8.self))
        let checks = try XCTUnwrap(health.json?["checks"] as? [String: Any])
        XCTAssertEqual((checks["database"] as? [String: Any])?["status"] as? String, "ok")
        XCTAssertNotNil((checks["database"] as? [String: Any])?["pool"] as? [String: Any])
        XCTAssertEqual((checks["ca_backend"] as? [String: Any])?["status"] as? String, "ok")
        XCTAssertEqual(health.json?["shutting_down"] as? Bool, false)

        let ready = try HTTP.get("\(server.baseURL)/readyz")
        XCTAssertEqual(ready.status, 200)
        XCTAssertEqual(ready.json?["ready"] as? Bool, true)

        // The database check is real: with the database gone, health and readiness fail.
        database.drop()
        let degraded = try HTTP.get("\(server.baseURL)/healthz")
        XCTAssertEqual(degraded.status, 503)
        XCTAssertEqual(degraded.json?["status"] as? String, "degraded")
        let notReady = try HTTP.get("\(server.baseURL)/readyz")
        XCTAssertEqual(notReady.status, 503)
        XCTAssertEqual(notReady.json?["reason"] as? String, "database unavailable")

        XCTAssertEqual(server.stop(), 0, server.log)
    }

    func testHealthReportsCABackendFailure() throws {
        let port = try ServerProcess.freePort()
        let config = try writeConfig(port: port)
        let server = try ServerProcess(config: config, port: port,
                                       logFile: directory.appendingPathComponent("server.log"))
        try server.waitUntilLive()
        // The CA check is the plugin's self-check: a key that disappears fails it.
        try FileManager.default.removeItem(at: directory.appendingPathComponent("ca/root-key.pem"))
        let health = try HTTP.get("\(server.baseURL)/healthz")
        XCTAssertEqual(health.status, 503)
        let checks = try XCTUnwrap(health.json?["checks"] as? [String: Any])
        XCTAssertEqual((checks["ca_backend"] as? [String: Any])?["status"] as? String, "error")
        XCTAssertEqual((checks["database"] as? [String: Any])?["status"] as? String, "ok")
        server.stop()
    }

    func testCATestSignProducesACertificateOpenSSLVerifies() throws {
        let config = try writeConfig(port: 8443)
        let chain = directory.appendingPathComponent("chain.pem")
        let result = try acmeeh(["-c", config.path, "ca", "test-sign", "--out", chain.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("subject:"), result.stdout)
        XCTAssertTrue(result.stdout.contains("serial:"), result.stdout)
        XCTAssertTrue(result.stdout.contains("issuer:"), result.stdout)
        XCTAssertTrue(result.stdout.contains("chain length:"), result.stdout)
        let root = directory.appendingPathComponent("ca/root.pem").path
        let verify = try Command.tool("openssl", ["verify", "-CAfile", root, chain.path])
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
        XCTAssertTrue(verify.stdout.contains(": OK"), verify.stdout)
    }

    func testValidateOnly() throws {
        let good = try writeConfig(port: 8443)
        let ok = try acmeeh(["-c", good.path, "--validate-only"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(ok.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "configuration OK")

        let bad = directory.appendingPathComponent("bad.yaml")
        try """
        server:
          external_url: http://127.0.0.1:8443/
          port: eighty
        database:
          database: x
          user: y
          colour: blue
        """.write(to: bad, atomically: true, encoding: .utf8)
        let failed = try acmeeh(["-c", bad.path, "--validate-only"])
        XCTAssertEqual(failed.status, 1)
        XCTAssertTrue(failed.stderr.contains("server.port"), failed.stderr)
        XCTAssertTrue(failed.stderr.contains("database.colour"), failed.stderr)
        XCTAssertTrue(failed.stderr.contains("server.external_url"), failed.stderr)
        XCTAssertFalse(failed.stdout.contains("configuration OK"))

        let missing = try acmeeh(["-c", directory.appendingPathComponent("nope.yaml").path, "--validate-only"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("nope.yaml"), missing.stderr)
    }

    /// Sections whose feature is not built yet load with one warning each (ConfigKeyCatalog).
    func testServeLogsTheConfigWarnings() throws {
        let port = try ServerProcess.freePort()
        let config = try writeConfig(port: port)
        let text = try String(contentsOf: config, encoding: .utf8)
            .replacingOccurrences(of: "server:\n", with: "server:\n  worker_class: gevent\n")
        try text.write(to: config, atomically: true, encoding: .utf8)
        let server = try ServerProcess(config: config, port: port,
                                       logFile: directory.appendingPathComponent("server.log"))
        try server.waitUntilLive()
        let log = server.log
        let lines = log.split(separator: "\n").filter { $0.contains("server.worker_class has no effect") }
        XCTAssertEqual(lines.count, 1, log)
        XCTAssertTrue(lines.first?.contains("WARNING") ?? false, log)
        XCTAssertEqual(server.stop(), 0)
    }

    func testStartupRefusesABrokenCAPlugin() throws {
        let port = try ServerProcess.freePort()
        let config = try writeConfig(port: port, backend: "ext:/nonexistent/libNoSuchCA.so")
        let result = try acmeeh(["-c", config.path, "serve"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("ca.backend"), result.stderr)
        XCTAssertTrue(result.stderr.contains("/nonexistent/libNoSuchCA.so"), result.stderr)
    }

    func testDatabaseCommands() throws {
        let config = try writeConfig(port: 8443)
        let before = try acmeeh(["-c", config.path, "db", "status"])
        XCTAssertEqual(before.status, 0, before.stderr)
        XCTAssertTrue(before.stdout.contains("connectivity: ok"), before.stdout)
        XCTAssertTrue(before.stdout.contains("pending"), before.stdout)

        let migrate = try acmeeh(["-c", config.path, "db", "migrate"])
        XCTAssertEqual(migrate.status, 0, migrate.stderr)
        XCTAssertTrue(migrate.stdout.contains("applied"), migrate.stdout)
        let again = try acmeeh(["-c", config.path, "db", "migrate"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("up to date"), again.stdout)

        let after = try acmeeh(["-c", config.path, "db", "status"])
        XCTAssertTrue(after.stdout.contains("pending migrations: none"), after.stdout)
    }

    func testVersionFlag() throws {
        for flag in ["-v", "--version"] {
            let result = try acmeeh([flag])
            XCTAssertEqual(result.status, 0)
            XCTAssertTrue(result.stdout.hasPrefix("acmeeh "), result.stdout)
        }
    }
}
