import Foundation
@testable import Host
import XCTest

/// The domain events of one ACME flow, as `acmeeh serve` logs them at debug level: every
/// step of RFC 8555 a client takes — newAccount, newOrder, the challenge, finalize,
/// download, revocation, key rollover, authorization and account deactivation — is
/// reported once, after its commit, in the order the steps happened.
final class DomainEventTests: XCTestCase {
    var workspace: FileValidatorServe!
    var server: ServerProcess!
    var directory: URL { workspace.directory }
    var challengeDirectory: URL { workspace.challengeDirectory }

    override func setUpWithError() throws {
        workspace = try FileValidatorServe(prefix: "acmeeh-events")
        // Debug level: the event log lines are what this test reads.
        // The round-trip counts are the ACME steps' own: no notification is recorded here
        // (NotificationTests covers those, one INSERT each, off the request path).
        server = try workspace.start(extra: "notifications:\n  enabled: false\n") { url in
            let yaml = try String(contentsOf: url, encoding: .utf8)
                .replacingOccurrences(of: "logging:\n  format: human", with: "logging:\n  format: json\n  level: DEBUG")
            XCTAssertTrue(yaml.contains("level: DEBUG"), yaml)
            try yaml.write(to: url, atomically: true, encoding: .utf8)
        }
    }

    override func tearDownWithError() throws {
        server?.stop()
        workspace?.cleanUp()
    }

    /// The `event …` lines of the server log: (name, context).
    func events() -> [(name: String, context: [String: String])] {
        server.log.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  object["logger"] as? String == "acmeeh.events",
                  let message = object["message"] as? String, message.hasPrefix("event ") else { return nil }
            var context: [String: String] = [:]
            for (key, value) in object where !["timestamp", "level", "logger", "message"].contains(key) {
                context[key] = value as? String
            }
            return (String(message.dropFirst(6)), context)
        }
    }

    func testEventsOfOneFlowArriveInOrderWithTheirContext() throws {
        let client = try ACMETestClient(directoryURL: server.baseURL + "/directory")
        let key = TestKey.ec()
        let (created, account) = try client.newAccount(key, ["termsOfServiceAgreed": true, "contact": ["mailto:ops@example.test"]])
        XCTAssertEqual(created.status, 201, created.text)
        // A second newAccount with the same key finds the account: no event.
        XCTAssertEqual(try client.newAccount(key).0.status, 200)
        func post(_ url: String, _ payload: ACMETestClient.Payload, by signer: TestKey? = nil) throws -> ACMETestClient.Reply {
            let reply = try client.post(url, payload, key: signer ?? key, kid: account)
            XCTAssertTrue((200..<300).contains(reply.status), "POST \(url): \(reply.status) \(reply.text)")
            return reply
        }

        let name = "events.example.test"
        let order = try post(client.url("newOrder"), .json(["identifiers": [["type": "dns", "value": name]]]))
        let orderURL = try XCTUnwrap(order.location)
        let authorizationURL = try XCTUnwrap((order.json?["authorizations"] as? [String])?.first)
        let challenges = try XCTUnwrap(try post(authorizationURL, .empty).json?["challenges"] as? [[String: Any]])
        let challenge = try XCTUnwrap(challenges.first { $0["type"] as? String == "http-01" })
        let token = try XCTUnwrap(challenge["token"] as? String)
        try "\(token).\(key.thumbprint)".write(to: challengeDirectory.appendingPathComponent(token), atomically: true,
                                               encoding: .utf8)
        XCTAssertEqual(try post(try XCTUnwrap(challenge["url"] as? String), .json([:])).json?["status"] as? String, "valid")

        let csr = try TestCSR.make(names: [name], keyPath: try TestCSR.newKey(in: directory), in: directory)
        let finalized = try post(try XCTUnwrap(order.json?["finalize"] as? String), .json(["csr": csr]))
        let certificateURL = try XCTUnwrap(finalized.json?["certificate"] as? String, finalized.text)
        let pem = try post(certificateURL, .empty).text
        let der = try CertificateChain(pem: pem).leaf.der
        XCTAssertEqual(try post(client.url("revokeCert"), .json(["certificate": Base64URL.encode(der), "reason": 4])).status, 200)

        let newKey = TestKey.ec()
        let inner = ACMETestClient.jws(protected: ["alg": newKey.alg, "jwk": newKey.jwk, "url": client.url("keyChange")],
                                       payload: Array(try JSONSerialization.data(withJSONObject: [
                                           "account": account, "oldKey": key.jwk] as [String: Any], options: [.sortedKeys])),
                                       key: newKey)
        XCTAssertEqual(try post(client.url("keyChange"), .json(inner)).status, 200)
        let second = try post(client.url("newOrder"), .json(["identifiers": [["type": "dns", "value": "other.example.test"]]]),
                              by: newKey)
        let secondAuthorization = try XCTUnwrap((second.json?["authorizations"] as? [String])?.first)
        XCTAssertEqual(try post(secondAuthorization, .json(["status": "deactivated"]), by: newKey).json?["status"] as? String,
                       "deactivated")
        XCTAssertEqual(try post(account, .json(["status": "deactivated"]), by: newKey).json?["status"] as? String, "deactivated")

        let events = events()
        XCTAssertEqual(events.map(\.name), [
            "account.registration", "order.creation", "challenge.before_validate", "challenge.after_validate",
            "certificate.issuance", "certificate.delivery", "certificate.revocation", "account.key_change",
            "order.creation", "authorization.deactivation", "account.deactivation",
        ], server.log)
        guard events.count == 11 else { return }
        let accountID = String(account.split(separator: "/").last ?? "")
        let orderID = String(orderURL.split(separator: "/").last ?? "")
        XCTAssertEqual(events[0].context["account_id"], accountID)
        XCTAssertEqual(events[0].context["jwk_thumbprint"], key.thumbprint)
        XCTAssertEqual(events[0].context["contacts"], "mailto:ops@example.test")
        XCTAssertEqual(events[1].context["order_id"], orderID)
        XCTAssertEqual(events[1].context["identifiers"], "dns:\(name)")
        XCTAssertEqual(events[2].context["token"], token)
        XCTAssertEqual(events[2].context["identifier_value"], name)
        XCTAssertEqual(events[3].context["result"], "success")
        XCTAssertEqual(events[4].context["order_id"], orderID)
        XCTAssertEqual(events[4].context["domains"], name)
        let serial = try XCTUnwrap(events[4].context["serial_number"])
        XCTAssertEqual(events[5].context["serial_number"], serial)
        XCTAssertEqual(events[6].context["serial_number"], serial)
        XCTAssertEqual(events[6].context["reason"], "superseded")
        XCTAssertEqual(events[7].context["jwk_thumbprint"], newKey.thumbprint)
        XCTAssertEqual(events[7].context["old_jwk_thumbprint"], key.thumbprint)
        XCTAssertEqual(events[9].context["identifier_value"], "other.example.test")
        XCTAssertEqual(events[10].context["account_id"], accountID)
    }

    /// The database round trips the server has made (`/healthz`, read before its own ping).
    func roundTrips() throws -> Int {
        let health = try HTTP.get(server.baseURL + "/healthz").json
        let database = (health?["checks"] as? [String: Any])?["database"] as? [String: Any]
        return try XCTUnwrap((database?["pool"] as? [String: Any])?["round_trips"] as? Int, "\(health ?? [:])")
    }

    /// One issuance flow as acmeeh-bench runs it — newAccount, newOrder, the authorization,
    /// the challenge (validated in the request), finalize, the certificate — and the
    /// database round trips it costs: one batch per step, and two for the steps with an
    /// outside call between (the challenge's validation, finalize's signing) and for newOrder
    /// (the reusable authorizations, then the writes). The workers poll hourly here, so
    /// nothing else talks to PostgreSQL.
    func testOneIssuanceFlowCostsNineRoundTrips() throws {
        let client = try ACMETestClient(directoryURL: server.baseURL + "/directory")
        // Settle: the workers' first polls at start-up, and one flow for the sessions'
        // statement preparation (a statement's first use outside a batch costs a Parse).
        _ = try workspace.issue(client, name: "warm.example.test")
        try settle()
        let before = try roundTrips()
        _ = try workspace.issue(client, name: "counted.example.test")
        // The read before the flow pinged once after taking its count.
        XCTAssertEqual(try roundTrips() - before - 1, 9)
    }

    /// The account steps, newAuthz and both kinds of revocation: one batch for each step
    /// with no outside call, two for newAuthz (the reusable lookup, then the writes), three
    /// for revokeCert (the reads; the record with its outbox row; the CA's revoke, then its
    /// answer recorded).
    func testAccountStepsAndRevocationCostTheirRoundTrips() throws {
        let client = try ACMETestClient(directoryURL: server.baseURL + "/directory")
        let first = try workspace.issue(client, name: "first.example.test")
        let second = try workspace.issue(client, name: "second.example.test")
        try settle()
        let (key, account) = (first.key, first.account)
        func post(_ url: String, _ payload: ACMETestClient.Payload, by signer: TestKey? = nil,
                  kid: String? = nil) throws -> ACMETestClient.Reply {
            try client.post(url, payload, key: signer ?? key, kid: signer == nil ? account : kid)
        }
        let newKey = TestKey.ec()
        let inner = ACMETestClient.jws(protected: ["alg": newKey.alg, "jwk": newKey.jwk, "url": client.url("keyChange")],
                                       payload: Array(try JSONSerialization.data(withJSONObject: [
                                           "account": account, "oldKey": key.jwk] as [String: Any], options: [.sortedKeys])),
                                       key: newKey)
        let steps: [(String, Int, () throws -> ACMETestClient.Reply)] = [
            ("account fetch", 1, { try post(account, .empty) }),
            ("account update", 1, { try post(account, .json(["contact": ["mailto:new@example.test"]])) }),
            ("orders list", 1, { try post(account + "/orders", .empty) }),
            ("newNonce POST-as-GET", 1, { try post(client.url("newNonce"), .empty) }),
            ("newAuthz", 2, { try post(client.url("newAuthz"), .json(["identifier": ["type": "dns", "value": "pre.example.test"]])) }),
            ("revokeCert by the account", 3, { try post(client.url("revokeCert"), .json(["certificate": first.certificate])) }),
            ("revokeCert by the certificate key", 3, {
                try post(client.url("revokeCert"), .json(["certificate": second.certificate]), by: second.certificateKey)
            }),
            ("keyChange", 1, { try post(client.url("keyChange"), .json(inner)) }),
            ("deactivation", 1, { try post(account, .json(["status": "deactivated"]), by: newKey, kid: account) }),
        ]
        for (name, expected, send) in steps {
            let before = try roundTrips()
            let reply = try send()
            XCTAssertTrue((200..<300).contains(reply.status), "\(name): \(reply.status) \(reply.text)")
            XCTAssertEqual(try roundTrips() - before - 1, expected, name)
        }
        // Both revocations are reported, for the two certificates issued.
        let serials = { (name: String) in self.events().filter { $0.name == name }.compactMap { $0.context["serial_number"] } }
        XCTAssertEqual(serials("certificate.revocation"), serials("certificate.issuance"))
        XCTAssertEqual(serials("certificate.revocation").count, 2)
    }

    /// Waits until only the health reads' own pings reach the database.
    private func settle() throws {
        var before = try roundTrips()
        while true {
            Thread.sleep(forTimeInterval: 0.2)
            let next = try roundTrips()
            if next == before + 1 { return }  // only the previous read's ping since
            before = next
        }
    }
}
