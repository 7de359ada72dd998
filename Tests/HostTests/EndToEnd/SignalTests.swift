import Foundation
@testable import Host
import XCTest

/// The deployment guide's signals at a real `acmeeh serve`: SIGHUP reloads the
/// configuration file's reloadable set (a broken file keeps the running configuration;
/// restart-only changes are named in a warning), and SIGTERM shuts down gracefully,
/// returning the challenges the instance was validating to pending.
final class SignalTests: XCTestCase {
    var server: TestServer!

    override func tearDownWithError() throws {
        server?.shutdown()
    }

    func waitForLog(_ process: ServerProcess, _ text: String, count: Int = 1, timeout: TimeInterval = 10) throws {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if process.log.components(separatedBy: text).count - 1 >= count { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw CLIFailure("\"\(text)\" not logged \(count) time(s) within \(timeout)s:\n\(process.log)")
    }

    func rewriteConfig(_ change: (String) -> String) throws {
        let yaml = try String(contentsOf: server.configFile, encoding: .utf8)
        try change(yaml).write(to: server.configFile, atomically: true, encoding: .utf8)
    }

    func hangUp() {
        kill(server.process.process.processIdentifier, SIGHUP)
    }

    func testSIGHUPReloadsLoggingLevelAndNamesRestartOnlyKeys() throws {
        server = try TestServer()
        let client = try ACMETestClient(directoryURL: server.directoryURL)
        XCTAssertEqual(try client.newAccount(TestKey.ec()).0.status, 201)
        let debugLine = "DEBUG [acmeeh.events] event"
        XCTAssertFalse(server.process.log.contains(debugLine), "INFO before the reload")

        try rewriteConfig {
            $0.replacingOccurrences(of: "logging:\n  format: human", with: "logging:\n  format: human\n  level: DEBUG")
                .replacingOccurrences(of: "  workers: 2\n", with: "  workers: 2\n  timeout: 12\n")
        }
        hangUp()
        try waitForLog(server.process, "SIGHUP: configuration reloaded")
        XCTAssertTrue(server.process.process.isRunning)
        let warning = try XCTUnwrap(server.process.log.split(separator: "\n").first { $0.contains("need a restart") })
        XCTAssertTrue(warning.contains("WARNING"), String(warning))
        XCTAssertTrue(warning.hasSuffix(": server.timeout"), String(warning))

        XCTAssertEqual(try client.newAccount(TestKey.ec()).0.status, 201)
        try waitForLog(server.process, debugLine)
        XCTAssertEqual(try HTTP.get("\(server.baseURL)/livez").status, 200)
    }

    /// `metrics.enabled` is in the reloadable set: SIGHUP serves `/metrics` (with what was
    /// counted before) and hides it again.
    func testSIGHUPSwitchesMetricsOnAndOff() throws {
        server = try TestServer()
        let client = try ACMETestClient(directoryURL: server.directoryURL)
        XCTAssertEqual(try client.newAccount(TestKey.ec()).0.status, 201)
        XCTAssertEqual(try HTTP.get(server.baseURL + "/metrics").status, 404)

        try rewriteConfig { $0 + "\nmetrics:\n  enabled: true\n" }
        hangUp()
        try waitForLog(server.process, "SIGHUP: configuration reloaded")
        XCTAssertEqual(try client.newAccount(TestKey.ec()).0.status, 201)
        let on = try HTTP.get(server.baseURL + "/metrics")
        XCTAssertEqual(on.status, 200)
        let text = String(decoding: on.body, as: UTF8.self)
        XCTAssertTrue(text.contains("\nacmeeh_accounts_created_total 2"), "counted before the reload too:\n\(text)")
        XCTAssertTrue(text.contains(#"acmeeh_http_requests_total{method="POST",status="201"} 1"#),
                      "requests are timed from the reload on:\n\(text)")
        XCTAssertFalse(server.process.log.contains("need a restart"), server.process.log)

        try rewriteConfig { $0.replacingOccurrences(of: "metrics:\n  enabled: true", with: "metrics:\n  enabled: false") }
        hangUp()
        try waitForLog(server.process, "SIGHUP: configuration reloaded", count: 2)
        XCTAssertEqual(try HTTP.get(server.baseURL + "/metrics").status, 404)
    }

    func testSIGHUPWithABrokenFileKeepsTheRunningConfiguration() throws {
        server = try TestServer()
        let original = try String(contentsOf: server.configFile, encoding: .utf8)
        try rewriteConfig {
            $0.replacingOccurrences(of: "logging:\n  format: human", with: "logging:\n  format: human\n  level: LOUD")
                .replacingOccurrences(of: "  workers: 2\n", with: "  workers: many\n")
        }
        hangUp()
        try waitForLog(server.process, "the running configuration is kept", count: 2)
        let log = server.process.log
        XCTAssertTrue(log.contains("logging.level"), log)
        XCTAssertTrue(log.contains("server.workers"), log)
        XCTAssertFalse(log.contains("SIGHUP: configuration reloaded"), log)

        // A YAML syntax error too.
        try (original + "\nserver: [\n").write(to: server.configFile, atomically: true, encoding: .utf8)
        hangUp()
        try waitForLog(server.process, "the running configuration is kept", count: 3)

        // Still serving, at the level it had.
        XCTAssertTrue(server.process.process.isRunning)
        let client = try ACMETestClient(directoryURL: server.directoryURL)
        XCTAssertEqual(try client.newAccount(TestKey.ec()).0.status, 201)
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertFalse(server.process.log.contains("DEBUG ["), server.process.log)
    }

    /// An http-01 validation in a request, its target holding the answer, when SIGTERM
    /// arrives: after `graceful_timeout` the challenge is pending again; the restarted
    /// server's worker takes it up and it becomes valid.
    func testSIGTERMMidValidationReturnsTheChallengeToPendingAndItFinishesAfterRestart() throws {
        let directory = try TestPaths.temporaryDirectory("held-http01")
        defer { try? FileManager.default.removeItem(at: directory) }
        let target = Process()
        target.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        target.arguments = [TestPaths.repository.appendingPathComponent("Tests/HostTests/Fixtures/held_http01.py").path,
                            directory.path]
        try target.run()
        defer { target.terminate() }
        let dns = try LoopbackDNS(directory: directory)
        defer { dns.process.terminate() }
        let portFile = directory.appendingPathComponent("port")
        let end = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: portFile.path), Date() < end { Thread.sleep(forTimeInterval: 0.05) }
        let targetPort = try String(contentsOf: portFile, encoding: .utf8)

        server = try TestServer(extra: """
            challenges:
              enabled: [http-01]
              http01:
                port: \(targetPort)
                blocked_networks: []
                timeout_seconds: 4
                auto_validate: true
            dns:
              resolvers: ["\(dns.address)"]
            """)
        // graceful_timeout: 1 (the server section is TestServer's), on the same port.
        server.process.stop()
        try rewriteConfig { $0.replacingOccurrences(of: "  workers: 2\n", with: "  workers: 2\n  graceful_timeout: 1\n") }
        let first = try ServerProcess(config: server.configFile, port: server.port,
                                      logFile: directory.appendingPathComponent("first.log"))
        try first.waitUntilLive()

        let session = try ACMEOrderSession(server: server)
        let order = try session.newOrder(["held.test"])
        let (_, challenge) = try session.challenge(order, type: "http-01")
        let token = try XCTUnwrap(challenge["token"] as? String)
        let url = try XCTUnwrap(challenge["url"] as? String)
        try "\(token).\(session.key.thumbprint)".write(to: directory.appendingPathComponent(token), atomically: true,
                                                       encoding: .utf8)
        let hold = directory.appendingPathComponent("hold")
        FileManager.default.createFile(atPath: hold.path, contents: nil)
        nonisolated(unsafe) let responder = session, answered = challenge
        DispatchQueue.global().async { try? responder.respond(answered) }
        let seen = directory.appendingPathComponent("seen-\(token)")
        let asked = Date().addingTimeInterval(15)
        while !FileManager.default.fileExists(atPath: seen.path), Date() < asked { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: seen.path), first.log)
        XCTAssertEqual(try state(token), "processing locked")

        XCTAssertEqual(first.stop(), 0, first.log)
        XCTAssertEqual(try state(token), "pending unlocked", first.log)
        XCTAssertTrue(first.log.contains("1 processing challenge(s) returned to pending"), first.log)

        try FileManager.default.removeItem(at: hold)
        let restarted = try ServerProcess(config: server.configFile, port: server.port,
                                          logFile: directory.appendingPathComponent("restarted.log"))
        defer { restarted.stop() }
        try restarted.waitUntilLive()
        let finished = try session.waitForStatus(url, notIn: ["pending", "processing"], timeout: 30)
        XCTAssertEqual(finished["status"] as? String, "valid", "\(finished)\n\(restarted.log)")
        XCTAssertEqual(try session.get(order)["status"] as? String, "ready")
    }

    /// "STATUS locked|unlocked" of the challenge with `token`.
    func state(_ token: String) throws -> String {
        try server.sql { connection in
            let row = try XCTUnwrap(try connection.queryFirst(
                "SELECT status, locked_by IS NOT NULL AS locked FROM challenges WHERE token = $1", [.string(token)]))
            return "\(try row.string("status")) \(try row.bool("locked") ? "locked" : "unlocked")"
        }
    }
}
