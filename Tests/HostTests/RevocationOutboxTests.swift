import Foundation
@testable import Host
import XCTest

/// No revocation lost on the way to the CA (migration 0007, `RevocationForwarding`): a
/// real `acmeeh serve` with the `external` backend and `Fixtures/signing_service.py`. While
/// the service is down a revocation is recorded (200) and kept in `revocation_outbox`,
/// shown by `/healthz` and the metrics, retried with backoff, and reaches the service once
/// it is back — also from a fresh instance after the one that took it was killed. A final
/// refusal is recorded as failed and not retried.
final class RevocationOutboxTests: XCTestCase {
    var harness: CAOrderHarness!

    override func setUpWithError() throws { harness = try CAOrderHarness() }
    override func tearDown() { harness?.shutdown() }

    /// `ca` with a 1 s backoff base (`circuit_breaker_recovery_timeout`), no retries
    /// inside the plugin, and `revoke` as the revoke path.
    func caSection(_ service: SigningService, revoke: String = "/revoke") -> String {
        """
        backend: external
        circuit_breaker_recovery_timeout: 1
        external:
          sign_url: \(service.url("/sign"))
          revoke_url: \(service.url(revoke))
          timeout_seconds: 2
          max_retries: 0
        """
    }

    static let metricsOn = "metrics:\n  enabled: true"

    /// Issues a certificate for `name`: its chain file and its serial.
    func issue(_ client: OrderTestClient, _ name: String) throws -> (chain: String, serial: String) {
        let finalized = try harness.finalize(client, try harness.readyOrder(client, [name]), [name])
        XCTAssertEqual(finalized.json?["status"] as? String, "valid", CAOrderHarness.text(finalized))
        let (_, chain) = try harness.certificate(client, order: finalized.json ?? [:])
        return (chain, try CAOrderHarness.storedSerial(ofChain: chain))
    }

    func testRevocationRecordedWhileTheServiceIsDownReachesItWhenItReturns() throws {
        let service = try startSigningService()
        let port = service.port
        try harness.start(ca: caSection(service), extra: Self.metricsOn)
        let client = try harness.client()
        let (chain, serial) = try issue(client, "outbox.example.test")
        service.stop()

        // Recorded although the CA could not be told: 200, revoked, one pending outbox row.
        let revoked = try harness.revoke(client, chainFile: chain, reason: 1)
        XCTAssertEqual(revoked.status, 200, CAOrderHarness.text(revoked))
        XCTAssertEqual(try harness.certificateRows().map(\.revoked), [true])
        let first = try outbox()
        XCTAssertEqual(first.map(\.state), ["pending"])
        XCTAssertEqual(first.first?.attempts, 1)
        XCTAssertTrue(first.first?.error?.contains("unreachable") ?? false, "\(first)")

        // The worker retries while the service is down; /healthz and the metrics show the backlog.
        try waitFor("a retry by the worker") { try self.outbox().first?.attempts ?? 0 >= 2 }
        try waitFor("/healthz counting the pending revocation") { try self.revocationsCheck()["pending"] as? Int == 1 }
        let check = try revocationsCheck()
        XCTAssertEqual(check["status"] as? String, "degraded", "\(check)")
        XCTAssertEqual(check["failed"] as? Int, 0)
        XCTAssertNotNil(check["oldest_pending_seconds"] as? Int, "\(check)")
        XCTAssertEqual(try metric("acmeeh_revocations_pending"), 1)
        XCTAssertEqual(try metric("acmeeh_ca_revocations_delivered_total"), 0)

        // Back on its port: the revocation arrives, with its serial and reason, and the outbox empties.
        let restarted = try startSigningService(["--port", "\(port)"])
        try waitFor("the revocation at the restarted service") {
            restarted.requests().contains { $0["path"] as? String == "/revoke" && $0["status"] as? Int == 200 }
        }
        let revokes = restarted.requests().filter { $0["path"] as? String == "/revoke" }
        XCTAssertEqual(revokes.count, 1, "\(revokes)")
        XCTAssertEqual((revokes.first?["body"] as? [String: Any])?["serial_number"] as? String, serial)
        XCTAssertEqual((revokes.first?["body"] as? [String: Any])?["reason"] as? Int, 1)
        try waitFor("the outbox emptied") { try self.outbox().isEmpty }
        try waitFor("/healthz ok again") { try self.revocationsCheck()["pending"] as? Int == 0 }
        XCTAssertEqual(try revocationsCheck()["status"] as? String, "ok")
        XCTAssertEqual(try metric("acmeeh_ca_revocations_delivered_total"), 1)
        XCTAssertEqual(try metric("acmeeh_revocations_pending"), 0)
        XCTAssertTrue(harness.log.contains("revocation delivered to the CA backend after retries"), harness.log)
    }

    /// The instance that recorded the revocation is killed before the CA learns of it; a
    /// fresh one on the same database delivers it.
    func testPendingRevocationSurvivesTheLossOfTheInstance() throws {
        let service = try startSigningService()
        let port = service.port
        try harness.start(ca: caSection(service))
        let client = try harness.client()
        let (chain, serial) = try issue(client, "survivor.example.test")
        service.stop()
        XCTAssertEqual(try harness.revoke(client, chainFile: chain).status, 200)
        XCTAssertEqual(try outbox().map(\.state), ["pending"])
        harness.server?.killNow()

        let restarted = try startSigningService(["--port", "\(port)"])
        XCTAssertTrue(restarted.requests().isEmpty)
        try harness.start(ca: caSection(service))
        try waitFor("the revocation from the fresh instance") {
            restarted.requests().contains { $0["path"] as? String == "/revoke" && $0["status"] as? Int == 200 }
        }
        let body = restarted.requests().first { $0["path"] as? String == "/revoke" }?["body"] as? [String: Any]
        XCTAssertEqual(body?["serial_number"] as? String, serial)
        try waitFor("the outbox emptied") { try self.outbox().isEmpty }
    }

    /// A backend that refuses (HTTP 404 from the revoke URL: a final refusal) is not asked
    /// again: the row is kept as failed, /healthz and the metrics count it.
    func testFinalRefusalIsRecordedAsFailedAndNotRetried() throws {
        let service = try startSigningService()
        try harness.start(ca: caSection(service, revoke: "/no-such-endpoint"), extra: Self.metricsOn)
        let client = try harness.client()
        let (chain, _) = try issue(client, "refused.example.test")
        XCTAssertEqual(try harness.revoke(client, chainFile: chain).status, 200)
        let rows = try outbox()
        XCTAssertEqual(rows.map(\.state), ["failed"])
        XCTAssertEqual(rows.first?.attempts, 1)
        XCTAssertTrue(harness.log.contains("CA backend refused the revocation for good"), harness.log)
        try waitFor("/healthz counting the failed revocation") { try self.revocationsCheck()["failed"] as? Int == 1 }
        XCTAssertEqual(try revocationsCheck()["status"] as? String, "degraded")
        // Informational: with the CA up, the instance stays healthy.
        let health = try HTTP.get(try XCTUnwrap(harness.server?.baseURL) + "/healthz")
        XCTAssertEqual(health.status, 200, "a revocation backlog alone does not make the instance unhealthy")
        XCTAssertEqual(health.json?["status"] as? String, "ok")
        XCTAssertEqual(try metric("acmeeh_ca_revocations_failed_total"), 1)
        XCTAssertEqual(try metric("acmeeh_revocations_failed"), 1)
        // Several worker polls (1 s) later: still one call, still failed.
        Thread.sleep(forTimeInterval: 3)
        XCTAssertEqual(service.requests().filter { $0["path"] as? String == "/no-such-endpoint" }.count, 1)
        XCTAssertEqual(try outbox().map(\.attempts), [1])

        // `acmeeh revocations retry` sends it once more (here refused again).
        let retried = try Command.run(TestPaths.executable.path,
                                      ["-c", try XCTUnwrap(harness.configFile).path, "revocations", "retry"])
        XCTAssertEqual(retried.status, 0, retried.stderr)
        XCTAssertEqual(retried.stdout, "1 failed revocation(s) queued for another attempt\n")
        try waitFor("the second attempt") { try self.outbox().map(\.attempts) == [2] }
        XCTAssertEqual(try outbox().map(\.state), ["failed"])
        XCTAssertEqual(service.requests().filter { $0["path"] as? String == "/no-such-endpoint" }.count, 2)
    }

    // MARK: - Helpers

    /// The outbox rows: (state, attempts, last_error).
    func outbox() throws -> [(state: String, attempts: Int, error: String?)] {
        let connection = try Connection(config: harness.database.config)
        defer { connection.close() }
        return try connection.query("SELECT state, attempts, last_error FROM revocation_outbox ORDER BY created_at").map {
            (try $0.string("state"), try $0.int("attempts"), try $0.stringIfPresent("last_error"))
        }
    }

    func revocationsCheck() throws -> [String: Any] {
        let health = try HTTP.get(try XCTUnwrap(harness.server?.baseURL) + "/healthz").json
        return try XCTUnwrap((health?["checks"] as? [String: Any])?["revocations"] as? [String: Any], "\(health ?? [:])")
    }

    /// One unlabelled series of the scrape.
    func metric(_ name: String) throws -> Double? {
        let text = String(decoding: try HTTP.get(try XCTUnwrap(harness.server?.baseURL) + "/metrics").body, as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    func waitFor(_ what: String, timeout: TimeInterval = 30, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return }
            Thread.sleep(forTimeInterval: 0.25)
        }
        XCTFail("timed out waiting for \(what)\n\(harness.log)")
        throw CLIFailure("timed out waiting for \(what)")
    }
}
