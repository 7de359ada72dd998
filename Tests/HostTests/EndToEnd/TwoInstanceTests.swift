import Foundation
@testable import Host
import XCTest

/// Two `acmeeh serve` instances on one database, as an HA deployment runs them (one
/// `external_url`, a load balancer in front): what one instance changes, the other obeys
/// at once, although it verifies requests against the account keys it has cached. Each
/// guarded request's first batch re-checks its signer and redeems its nonce in
/// PostgreSQL, so a rotated key, a deactivated account and a replayed nonce commit nothing.
final class TwoInstanceTests: XCTestCase {
    var first: TestServer!
    var second: ServerProcess!
    var client: ACMETestClient!

    override func setUpWithError() throws {
        first = try TestServer()
        // The same configuration on another port: the same external_url and database.
        let port = try ServerProcess.freePort()
        let yaml = try String(contentsOf: first.configFile, encoding: .utf8)
            .replacingOccurrences(of: "\n  port: \(first.port)\n", with: "\n  port: \(port)\n")
        XCTAssertTrue(yaml.contains("port: \(port)"), yaml)
        let config = first.directory.appendingPathComponent("second.yaml")
        try yaml.write(to: config, atomically: true, encoding: .utf8)
        second = try ServerProcess(config: config, port: port, logFile: first.directory.appendingPathComponent("second.log"))
        try second.waitUntilLive()
        client = try ACMETestClient(directoryURL: first.directoryURL)
    }

    override func tearDownWithError() throws {
        second?.stop()
        first?.shutdown()
    }

    /// POSTs a JWS signed for `url` (the shared external URL) to the second instance.
    func postToSecond(_ url: String, _ payload: ACMETestClient.Payload, key: TestKey, kid: String?,
                      nonce: String? = nil) throws -> ACMETestClient.Reply {
        let header = client.protectedHeader(url: url, key: key, kid: kid, nonce: try nonce ?? client.newNonce())
        let body = ACMETestClient.jws(protected: header, payload: payload.bytes, key: key)
        let target = url.replacingOccurrences(of: first.baseURL, with: second.baseURL)
        return try client.postRaw(target, Array(try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])))
    }

    func newOrder(_ name: String) -> ACMETestClient.Payload {
        .json(["identifiers": [["type": "dns", "value": name]]])
    }

    func orderCount() throws -> Int {
        try first.sql { try $0.query("SELECT count(*) AS n FROM orders").first?.int("n") ?? -1 }
    }

    func testKeyRolledOverAtOneInstanceIsRefusedAtTheOther() throws {
        let key = TestKey.ec()
        let (created, account) = try client.newAccount(key)
        XCTAssertEqual(created.status, 201, created.text)
        // The second instance verifies (and caches) the account key.
        XCTAssertEqual(try postToSecond(client.url("newOrder"), newOrder("one.example.test"), key: key, kid: account).status, 201)

        let newKey = TestKey.ec()
        let inner = ACMETestClient.jws(
            protected: ["alg": newKey.alg, "jwk": newKey.jwk, "url": client.url("keyChange")],
            payload: Array(try JSONSerialization.data(withJSONObject: ["account": account, "oldKey": key.jwk] as [String: Any],
                                                      options: [.sortedKeys])), key: newKey)
        let rolled = try client.post(client.url("keyChange"), .json(inner), key: key, kid: account)
        XCTAssertEqual(rolled.status, 200, rolled.text)

        // The old key still verifies against the second instance's cache; the guard refuses it.
        let stale = try postToSecond(client.url("newOrder"), newOrder("two.example.test"), key: key, kid: account)
        XCTAssertEqual(stale.status, 401, stale.text)
        XCTAssertEqual(stale.problem, "unauthorized", stale.text)
        XCTAssertEqual(try orderCount(), 1)
        // The new key is taken up at the second instance.
        XCTAssertEqual(try postToSecond(client.url("newOrder"), newOrder("two.example.test"), key: newKey, kid: account).status, 201)
        XCTAssertEqual(try orderCount(), 2)
    }

    func testAccountDeactivatedAtOneInstanceIsRefusedAtTheOther() throws {
        let key = TestKey.ec()
        let (_, account) = try client.newAccount(key)
        let order = try postToSecond(client.url("newOrder"), newOrder("one.example.test"), key: key, kid: account)
        XCTAssertEqual(order.status, 201, order.text)
        let orderURL = try XCTUnwrap(order.location)

        let deactivated = try client.post(account, .json(["status": "deactivated"]), key: key, kid: account)
        XCTAssertEqual(deactivated.json?["status"] as? String, "deactivated", deactivated.text)

        // RFC 8555 §7.3.6: nothing more, at either instance, reads included.
        for reply in [try postToSecond(client.url("newOrder"), newOrder("two.example.test"), key: key, kid: account),
                      try postToSecond(orderURL, .empty, key: key, kid: account)] {
            XCTAssertEqual(reply.status, 401, reply.text)
            XCTAssertEqual(reply.problem, "unauthorized", reply.text)
        }
        XCTAssertEqual(try orderCount(), 1)
    }

    func testNonceRedeemedAtOneInstanceCommitsNothingAtTheOther() throws {
        let key = TestKey.ec()
        let (_, account) = try client.newAccount(key)
        let nonce = try client.newNonce()
        let once = try client.post(client.url("newOrder"), newOrder("one.example.test"), key: key, kid: account, nonce: nonce)
        XCTAssertEqual(once.status, 201, once.text)
        // RFC 8555 §6.5: the replay fails with badNonce, and its order is not written.
        let replay = try postToSecond(client.url("newOrder"), newOrder("two.example.test"), key: key, kid: account, nonce: nonce)
        XCTAssertEqual(replay.status, 400, replay.text)
        XCTAssertEqual(replay.problem, "badNonce", replay.text)
        XCTAssertNotNil(replay.header("Replay-Nonce"))
        XCTAssertEqual(try orderCount(), 1)
        // A new account by the same replay: nothing either.
        let other = TestKey.ec()
        let header = client.protectedHeader(url: client.url("newAccount"), key: other, kid: nil, nonce: nonce)
        let body = ACMETestClient.jws(protected: header, payload: ACMETestClient.Payload.json(["termsOfServiceAgreed": true]).bytes,
                                      key: other)
        let account2 = try client.postRaw(client.url("newAccount").replacingOccurrences(of: first.baseURL, with: second.baseURL),
                                          Array(try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])))
        XCTAssertEqual(account2.problem, "badNonce", account2.text)
        XCTAssertEqual(try first.sql { try $0.query("SELECT count(*) AS n FROM accounts").first?.int("n") }, 1)
    }
}
