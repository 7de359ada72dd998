import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

@testable import Host

/// Rate limits and quotas through a real `acmeeh serve` and PostgreSQL: each request over
/// a limit gets 429 `rateLimited` with a `Retry-After` within its window and changes
/// nothing — no row, no counter, not even its nonce.
final class RateLimitServerTests: XCTestCase {
    private func count(_ server: TestServer, _ sql: String) throws -> Int {
        try server.sql { try $0.queryFirst(sql)?.int("n") ?? -1 }
    }

    private func assertRateLimited(_ reply: ACMETestClient.Reply, window: Int, file: StaticString = #filePath,
                                   line: UInt = #line) {
        XCTAssertEqual(reply.status, 429, reply.text, file: file, line: line)
        XCTAssertEqual(reply.problem, "rateLimited", reply.text, file: file, line: line)
        let retryAfter = Int(reply.header("Retry-After") ?? "") ?? -1
        XCTAssertTrue((1...window).contains(retryAfter), "Retry-After \(retryAfter)", file: file, line: line)
    }

    func testDatabaseBackendRefusesEachLimitAndChangesNothing() throws {
        let server = try TestServer(extra: """
            security:
              rate_limits:
                backend: database
                new_nonce: {requests: 1000, window_seconds: 3600}
                new_account: {requests: 2, window_seconds: 3600}
                new_order: {requests: 3, window_seconds: 3600}
                new_order_per_identifier: {requests: 2, window_seconds: 3600}
                challenge: {requests: 4, window_seconds: 3600}
                challenge_validation: {requests: 1, window_seconds: 3600}
            """)
        defer { server.shutdown() }
        let a = try ACMEOrderSession(server: server)
        _ = try ACMEOrderSession(server: server)

        // new_account: the third from this address is refused, and its nonce stays usable.
        let nonce = try a.client.newNonce()
        let third = try a.client.post(a.client.url("newAccount"), .json(["termsOfServiceAgreed": true]),
                                      key: TestKey.ec(), nonce: nonce)
        assertRateLimited(third, window: 3600)
        XCTAssertEqual(try count(server, "SELECT count(*) AS n FROM accounts"), 2)
        let reused = try a.client.post(a.accountURL, .empty, key: a.key, kid: a.accountURL, nonce: nonce)
        XCTAssertEqual(reused.status, 200, "the refused request's nonce was not spent: \(reused.text)")

        // new_order_per_identifier: x1.test twice, then refused (before the dedup answers).
        let first = try a.newOrder(["x1.test"])
        _ = try a.newOrder(["x1.test", "y.test"])
        let newOrder = a.client.url("newOrder")
        assertRateLimited(try a.client.post(newOrder, .json(["identifiers": [["type": "dns", "value": "x1.test"]]]),
                                            key: a.key, kid: a.accountURL), window: 3600)
        XCTAssertEqual(try count(server, "SELECT count(*) AS n FROM orders"), 2)
        // new_order: the refusal above was not counted, so one more goes through.
        let second = try a.newOrder(["z.test"])
        assertRateLimited(try a.client.post(newOrder, .json(["identifiers": [["type": "dns", "value": "w.test"]]]),
                                            key: a.key, kid: a.accountURL), window: 3600)
        XCTAssertEqual(try count(server, "SELECT count(*) AS n FROM orders"), 3)
        XCTAssertEqual(try count(server, "SELECT count(*) AS n FROM authorizations"), 4)

        // challenge (per address) and challenge_validation (per account).
        let (_, challenge) = try a.challenge(first, type: "http-01")
        let (_, other) = try a.challenge(second, type: "http-01")
        let challengeURL = try XCTUnwrap(challenge["url"] as? String)
        let otherURL = try XCTUnwrap(other["url"] as? String)
        _ = try a.get(challengeURL)  // challenge 1
        try a.respond(challenge)  // challenge 2, validation 1
        let refusedResponse = try a.client.post(otherURL, .json([:] as [String: Any]), key: a.key, kid: a.accountURL)
        assertRateLimited(refusedResponse, window: 3600)
        XCTAssertEqual(try a.get(otherURL)["status"] as? String, "pending", "the refused response changed nothing")
        _ = try a.get(otherURL)  // challenge 4 (the refusal was not counted; the get above was 3)
        assertRateLimited(try a.client.post(otherURL, .empty, key: a.key, kid: a.accountURL), window: 3600)
        XCTAssertEqual(try count(server, "SELECT count(*) AS n FROM rate_limit_counters WHERE key LIKE 'challenge:%'"), 1)
    }

    func testMemoryBackendNewNonceWindowFreesAgain() throws {
        let server = try TestServer(extra: """
            security:
              rate_limits:
                new_nonce: {requests: 2, window_seconds: 2}
            """)
        defer { server.shutdown() }
        let client = try ACMETestClient(directoryURL: server.directoryURL)
        var request = URLRequest(url: URL(string: client.url("newNonce"))!)
        request.httpMethod = "HEAD"
        // Two in one window (started at its beginning), then refused until it ends.
        let now = Date().timeIntervalSince1970
        Thread.sleep(forTimeInterval: (now / 2).rounded(.up) * 2 - now + 0.05)
        XCTAssertEqual(try HTTP.send(request).status, 200)
        XCTAssertEqual(try HTTP.get(client.url("newNonce")).status, 204)
        let refused = try HTTP.get(client.url("newNonce"))
        XCTAssertEqual(refused.status, 429)
        let retryAfter = try XCTUnwrap(Int(refused.header("Retry-After") ?? ""))
        XCTAssertTrue((1...2).contains(retryAfter), "\(retryAfter)")
        XCTAssertTrue(String(decoding: refused.body, as: UTF8.self).contains("rateLimited"))
        Thread.sleep(forTimeInterval: Double(retryAfter) + 0.1)
        XCTAssertEqual(try HTTP.send(request).status, 200)
        XCTAssertEqual(try count(server, "SELECT count(*) AS n FROM rate_limit_counters"), 0, "memory only")
    }

    func testQuotasPerAccount() throws {
        let server = try TestServer(extra: """
            quotas:
              enabled: true
              max_orders_per_account_per_day: 2
              max_certificates_per_account_per_day: 1
            """)
        defer { server.shutdown() }
        let a = try ACMEOrderSession(server: server)
        let b = try ACMEOrderSession(server: server)
        let first = try a.newOrder(["q1.test"])
        let second = try a.newOrder(["q2.test"])
        let newOrder = a.client.url("newOrder")
        let refused = try a.client.post(newOrder, .json(["identifiers": [["type": "dns", "value": "q3.test"]]]),
                                        key: a.key, kid: a.accountURL)
        assertRateLimited(refused, window: 86_400)
        XCTAssertGreaterThan(Int(refused.header("Retry-After") ?? "") ?? 0, 86_000)
        XCTAssertEqual(try count(server, "SELECT count(*) AS n FROM orders"), 2)
        _ = try b.newOrder(["q3.test"])  // another account has its own quota

        // Certificates: both orders made ready by hand; the second finalize is refused.
        try server.sql { _ = try $0.execute("UPDATE authorizations SET status = 'valid'") }
        try server.sql { _ = try $0.execute("UPDATE orders SET status = 'ready'") }
        let directory = try TestPaths.temporaryDirectory("quota")
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try a.finalize(first, names: ["q1.test"], in: directory)
        let csr = try TestCSR.make(names: ["q2.test"], keyPath: try TestCSR.newKey(in: directory), in: directory)
        let finalizeURL = try XCTUnwrap(a.get(second)["finalize"] as? String)
        assertRateLimited(try a.client.post(finalizeURL, .json(["csr": csr]), key: a.key, kid: a.accountURL),
                          window: 86_400)
        XCTAssertEqual(try count(server, "SELECT count(*) AS n FROM certificates"), 1)
        XCTAssertEqual(try a.get(second)["status"] as? String, "ready")
    }

    /// Two `acmeeh serve` processes on one database (`backend: database`) share the counters.
    func testDatabaseBackendIsSharedByTwoInstances() throws {
        let first = try TestServer(extra: """
            security:
              rate_limits:
                backend: database
                new_account: {requests: 2, window_seconds: 3600}
            """)
        defer { first.shutdown() }
        let port = try ServerProcess.freePort()
        let yaml = try String(contentsOf: first.configFile, encoding: .utf8)
            .replacingOccurrences(of: "\n  port: \(first.port)\n", with: "\n  port: \(port)\n")
        let config = first.directory.appendingPathComponent("second.yaml")
        try yaml.write(to: config, atomically: true, encoding: .utf8)
        let second = try ServerProcess(config: config, port: port, logFile: first.directory.appendingPathComponent("second.log"))
        defer { second.stop() }
        try second.waitUntilLive()
        let client = try ACMETestClient(directoryURL: first.directoryURL)
        func newAccount(at base: String) throws -> ACMETestClient.Reply {
            let url = client.url("newAccount")
            let key = TestKey.ec()
            let jws = ACMETestClient.jws(protected: client.protectedHeader(url: url, key: key, kid: nil,
                                                                           nonce: try client.newNonce()),
                                         payload: Array(#"{"termsOfServiceAgreed":true}"#.utf8), key: key)
            let target = url.replacingOccurrences(of: first.baseURL, with: base)
            return try client.postRaw(target, Array(try JSONSerialization.data(withJSONObject: jws, options: [.sortedKeys])))
        }
        XCTAssertEqual(try newAccount(at: first.baseURL).status, 201)
        XCTAssertEqual(try newAccount(at: second.baseURL).status, 201)
        assertRateLimited(try newAccount(at: second.baseURL), window: 3600)
        assertRateLimited(try newAccount(at: first.baseURL), window: 3600)
        XCTAssertEqual(try count(first, "SELECT count(*) AS n FROM accounts"), 2)
    }
}
