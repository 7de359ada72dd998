import Foundation
@testable import Host
import XCTest

/// Maintenance mode as the deployment guide's table gives it, at two `acmeeh serve`
/// instances on one database: `acmeeh maintenance on` makes newOrder and newAuthz answer
/// 503 with `Retry-After: 300` at both within 2 s, while finalization, challenges,
/// downloads and account operations go on; `off` restores them; `status` prints the state.
final class MaintenanceModeTests: XCTestCase {
    var first: TestServer!
    var second: ServerProcess!
    var client: ACMETestClient!
    let key = TestKey.ec()
    var account = ""

    override func setUpWithError() throws {
        first = try TestServer()
        let port = try ServerProcess.freePort()
        let yaml = try String(contentsOf: first.configFile, encoding: .utf8)
            .replacingOccurrences(of: "\n  port: \(first.port)\n", with: "\n  port: \(port)\n")
        let config = first.directory.appendingPathComponent("second.yaml")
        try yaml.write(to: config, atomically: true, encoding: .utf8)
        second = try ServerProcess(config: config, port: port, logFile: first.directory.appendingPathComponent("second.log"))
        try second.waitUntilLive()
        client = try ACMETestClient(directoryURL: first.directoryURL)
        let (created, url) = try client.newAccount(key)
        XCTAssertEqual(created.status, 201, created.text)
        account = url
    }

    override func tearDownWithError() throws {
        second?.stop()
        first?.shutdown()
    }

    /// POSTs to `instance` (either server's base URL) a JWS signed for the shared URL.
    func post(_ url: String, _ payload: ACMETestClient.Payload, at instance: String) throws -> ACMETestClient.Reply {
        let header = client.protectedHeader(url: url, key: key, kid: account, nonce: try client.newNonce())
        let body = ACMETestClient.jws(protected: header, payload: payload.bytes, key: key)
        return try client.postRaw(url.replacingOccurrences(of: first.baseURL, with: instance),
                                  Array(try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])))
    }

    func newOrder(_ name: String, at instance: String) throws -> ACMETestClient.Reply {
        try post(client.url("newOrder"), .json(["identifiers": [["type": "dns", "value": name]]]), at: instance)
    }

    func newAuthz(_ name: String, at instance: String) throws -> ACMETestClient.Reply {
        try post(client.url("newAuthz"), .json(["identifier": ["type": "dns", "value": name]]), at: instance)
    }

    /// Polls until newOrder at `instance` answers `status`; the seconds it took.
    func secondsUntilNewOrder(answers status: Int, at instance: String, since start: Date) throws -> TimeInterval {
        var index = 0
        while Date().timeIntervalSince(start) < 5 {
            index += 1
            if try newOrder("wait\(index).example.test", at: instance).status == status { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return Date().timeIntervalSince(start)
    }

    func testMaintenanceModeAtTwoInstances() throws {
        let instances = [first.baseURL, second.baseURL]
        // Arranged before: an order made ready (its authorization valid) and one still pending.
        let session = try ACMEOrderSession(server: first)
        let readyOrder = try session.newOrder(["ready.example.test"])
        let readyID = try XCTUnwrap(UUID(uuidString: String(readyOrder.split(separator: "/").last ?? "")))
        try first.sql { connection in
            _ = try connection.execute("""
                UPDATE authorizations SET status = 'valid'
                WHERE id IN (SELECT authorization_id FROM order_authorizations WHERE order_id = $1)
                """, [.uuid(readyID)])
            _ = try connection.execute("UPDATE orders SET status = 'ready' WHERE id = $1", [.uuid(readyID)])
        }
        let pendingOrder = try newOrder("pending.example.test", at: first.baseURL)
        let authorization = try XCTUnwrap((pendingOrder.json?["authorizations"] as? [String])?.first)
        XCTAssertEqual(try first.acmeeh(["maintenance", "status"]).stdout, "maintenance mode is off\n")

        let start = Date()
        let on = try first.acmeeh(["maintenance", "on"])
        XCTAssertEqual(on.status, 0, on.stderr)
        XCTAssertTrue(on.stdout.hasPrefix("maintenance mode is now on"), on.stdout)
        for instance in instances {
            XCTAssertLessThan(try secondsUntilNewOrder(answers: 503, at: instance, since: start), 2, instance)
            for reply in [try newOrder("paused.example.test", at: instance), try newAuthz("paused.example.test", at: instance)] {
                XCTAssertEqual(reply.status, 503, reply.text)
                XCTAssertEqual(reply.header("Retry-After"), "300", instance)
                XCTAssertEqual(reply.header("Content-Type"), "application/problem+json")
                XCTAssertEqual(reply.json?["type"] as? String, "urn:ietf:params:acme:error:serverInternal", reply.text)
                XCTAssertEqual(reply.json?["status"] as? Int, 503, reply.text)
                XCTAssertTrue((reply.json?["detail"] as? String ?? "").contains("maintenance"), reply.text)
            }
            let health = try HTTP.get("\(instance)/healthz")
            XCTAssertEqual(health.json?["maintenance_mode"] as? Bool, true, String(decoding: health.body, as: UTF8.self))
        }
        XCTAssertEqual(try first.acmeeh(["maintenance", "status"]).stdout, "maintenance mode is on\n")
        XCTAssertEqual(try first.acmeeh(["maintenance", "status", "--json"]).stdout, "{\"maintenance_mode\":true}\n")
        let counted = try orderCount()
        for instance in instances {
            XCTAssertEqual(try newOrder("still-paused.example.test", at: instance).status, 503)
            XCTAssertEqual(try newAuthz("still-paused.example.test", at: instance).status, 503)
        }
        XCTAssertEqual(try orderCount(), counted, "no order is written while paused")

        // Everything else goes on, at either instance: account, order, authorization and
        // challenge requests, finalization and the download.
        let updated = try post(account, .json(["contact": ["mailto:ops@example.test"]]), at: second.baseURL)
        XCTAssertEqual(updated.status, 200, updated.text)
        let authz = try post(authorization, .empty, at: second.baseURL)
        XCTAssertEqual(authz.status, 200, authz.text)
        let challenge = try XCTUnwrap((authz.json?["challenges"] as? [[String: Any]])?.first?["url"] as? String)
        let responded = try post(challenge, .json([:]), at: first.baseURL)
        XCTAssertEqual(responded.status, 200, responded.text)
        let chain = try session.finalize(readyOrder, names: ["ready.example.test"], in: first.directory)
        XCTAssertTrue(try String(contentsOf: chain, encoding: .utf8).contains("BEGIN CERTIFICATE"))

        let resumed = Date()
        let off = try first.acmeeh(["maintenance", "off"])
        XCTAssertEqual(off.stdout, "maintenance mode is now off\n", off.stderr)
        for instance in instances {
            XCTAssertLessThan(try secondsUntilNewOrder(answers: 201, at: instance, since: resumed), 2, instance)
            XCTAssertEqual(try newAuthz("resumed.example.test", at: instance).status, 201)
            XCTAssertEqual(try HTTP.get("\(instance)/healthz").json?["maintenance_mode"] as? Bool, false)
        }
        XCTAssertEqual(try first.acmeeh(["maintenance", "status"]).stdout, "maintenance mode is off\n")
    }

    func orderCount() throws -> Int {
        try first.sql { try $0.query("SELECT count(*) AS n FROM orders").first?.int("n") ?? -1 }
    }
}
