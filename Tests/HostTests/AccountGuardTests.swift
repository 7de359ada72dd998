import Foundation
@testable import Host
import XCTest

/// The account steps (fetch, update, deactivation, orders list, keyChange), newAuthz and
/// revokeCert open their first batch with the request guard: a replayed nonce, and an
/// account deactivated behind the server's account cache, commit nothing at any of them.
extension AccountTests {
    /// One signed request of a step, sent with `nonce` (a fresh one when nil).
    typealias Step = (name: String, send: (_ nonce: String?) throws -> ACMETestClient.Reply)

    /// The kid-signed steps of `accountURL`, each a change if it went through.
    func kidSignedSteps(_ acme: ACMETestClient, accountURL: String, key: TestKey, certificate: Certificate) -> [Step] {
        func post(_ url: String, _ payload: ACMETestClient.Payload) -> (String?) throws -> ACMETestClient.Reply {
            { try acme.post(url, payload, key: key, kid: accountURL, nonce: $0) }
        }
        return [
            ("account fetch", post(accountURL, .empty)),
            ("account update", post(accountURL, .json(["contact": ["mailto:changed@example.org"], "termsOfServiceAgreed": true]))),
            ("deactivation", post(accountURL, .json(["status": "deactivated"]))),
            ("orders list", post(accountURL + "/orders", .empty)),
            ("keyChange", post(acme.url("keyChange"), keyChangeBody(acme, accountURL: accountURL, oldKey: key, newKey: TestKey.ec()))),
            ("newAuthz", post(acme.url("newAuthz"), .json(["identifier": ["type": "dns", "value": "pre2.guard.example.org"]]))),
            ("revokeCert", post(acme.url("revokeCert"), .json(["certificate": certificate.b64]))),
        ]
    }

    /// What the steps change, read from the database: the account's status, key, terms,
    /// contacts, authorizations and revoked certificates.
    func state(_ server: TestServer, account: UUID) throws -> String {
        try server.sql {
            try $0.queryFirst(
                """
                SELECT concat_ws('|', a.status, a.jwk_thumbprint, a.tos_agreed::text,
                    (SELECT string_agg(uri, ',' ORDER BY id) FROM account_contacts WHERE account_id = a.id),
                    (SELECT count(*) FROM authorizations WHERE account_id = a.id)::text,
                    (SELECT count(*) FROM certificates WHERE account_id = a.id AND revoked_at IS NOT NULL)::text) AS s
                FROM accounts a WHERE a.id = $1
                """, [.uuid(account)])!.string("s")
        }
    }

    func testReplayedNonceCommitsNothingAtAnyStep() throws {
        let server = try Self.openServer()
        let acme = try client(server)
        let key = TestKey.ec()
        let accountURL = try acme.newAccount(key, ["contact": ["mailto:first@example.org"]]).1
        let accountID = Self.id(of: accountURL)
        let certificate = try issue(server, account: accountID, names: ["replay.guard.example.org"])
        let nonce = try acme.newNonce()
        XCTAssertEqual(try acme.post(accountURL, .empty, key: key, kid: accountURL, nonce: nonce).status, 200)
        let before = try state(server, account: accountID)

        var steps = kidSignedSteps(acme, accountURL: accountURL, key: key, certificate: certificate)
        steps.append(("revokeCert by the certificate key",
                      { try acme.post(acme.url("revokeCert"), .json(["certificate": certificate.b64]), key: certificate.key, nonce: $0) }))
        steps.append(("newNonce POST-as-GET", { try acme.post(acme.url("newNonce"), .empty, key: key, kid: accountURL, nonce: $0) }))
        for step in steps {
            let replay = try step.send(nonce)
            assertProblem(replay, "badNonce", 400)
            XCTAssertEqual(try state(server, account: accountID), before, step.name)
        }
        // With a fresh nonce the update goes through.
        XCTAssertEqual(try steps[1].send(nil).status, 200)
        XCTAssertNotEqual(try state(server, account: accountID), before)
    }

    func testAccountDeactivatedBehindTheCacheIsRefusedByTheGuardAtEveryStep() throws {
        let server = try Self.openServer()
        let acme = try client(server)
        let key = TestKey.ec()
        let accountURL = try acme.newAccount(key).1
        let accountID = Self.id(of: accountURL)
        let certificate = try issue(server, account: accountID, names: ["deactivated.guard.example.org"])
        let preAuthorization = try acme.post(acme.url("newAuthz"), .json(["identifier": ["type": "dns", "value": "pre1.guard.example.org"]]),
                                             key: key, kid: accountURL)
        XCTAssertEqual(preAuthorization.status, 201, preAuthorization.text)
        func setStatus(_ status: String) throws {
            try server.sql { _ = try $0.execute("UPDATE accounts SET status = $2 WHERE id = $1", [.uuid(accountID), .string(status)]) }
        }
        for step in kidSignedSteps(acme, accountURL: accountURL, key: key, certificate: certificate) {
            // The server caches the account as valid; another instance deactivates it.
            try setStatus("valid")
            XCTAssertEqual(try acme.post(accountURL, .empty, key: key, kid: accountURL).status, 200, step.name)
            try setStatus("deactivated")
            let before = try state(server, account: accountID)
            let refused = try step.send(nil)
            assertProblem(refused, "unauthorized", 401)
            XCTAssertTrue((refused.json?["detail"] as? String ?? "").contains("changed"), "the guard refused it: \(refused.text)")
            XCTAssertEqual(try state(server, account: accountID), before, step.name)
        }
    }
}
