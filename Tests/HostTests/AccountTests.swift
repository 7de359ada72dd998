import Foundation
@testable import Host
import XCTest

/// The account resources of RFC 8555 §7.3 and revokeCert (§7.6), end to end: the real
/// server on a private PostgreSQL, driven by hand-built JWS (ACMETestClient). Every refusal
/// is checked for its problem type and HTTP status.
final class AccountTests: XCTestCase {
    /// Default policies; small orders pages and body limit.
    nonisolated(unsafe) static var open: TestServer?
    /// Terms required, contacts required from example.com, EAB required, no contact
    /// updates, no deactivation.
    nonisolated(unsafe) static var strict: TestServer?

    static func openServer() throws -> TestServer {
        if let open { return open }
        let server = try TestServer(extra: """
            acme:
              orders_page_size: 2
            security:
              max_request_body_bytes: 8192
            """)
        open = server
        return server
    }

    static func strictServer() throws -> TestServer {
        if let strict { return strict }
        let server = try TestServer(extra: """
            tos:
              url: https://example.com/tos
              require_agreement: true
            email:
              require_contact: true
              allowed_domains: [example.com]
            acme:
              eab_required: true
            account:
              allow_contact_update: false
              allow_deactivation: false
            admin_api:
              enabled: true
              initial_admin_email: admin@example.com
              token_secret: 0123456789abcdef0123
            """)
        strict = server
        return server
    }

    override class func tearDown() {
        open?.shutdown()
        strict?.shutdown()
        open = nil
        strict = nil
        super.tearDown()
    }

    func client(_ server: TestServer) throws -> ACMETestClient { try ACMETestClient(directoryURL: server.directoryURL) }

    func assertProblem(_ reply: ACMETestClient.Reply, _ type: String, _ status: Int,
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(reply.status, status, reply.text, file: file, line: line)
        XCTAssertEqual(reply.problem, type, reply.text, file: file, line: line)
        XCTAssertEqual(reply.header("Content-Type"), "application/problem+json", file: file, line: line)
        XCTAssertNotNil(reply.header("Replay-Nonce"), "every response carries a nonce (RFC 8555 §6.5)", file: file, line: line)
        if type == "badSignatureAlgorithm" {
            // RFC 8555 §6.2: the problem lists the algorithms the server accepts.
            XCTAssertFalse((reply.json?["algorithms"] as? [String] ?? []).isEmpty, reply.text, file: file, line: line)
        }
    }

    /// A value shared by the threads of `concurrentPerform`.
    final class LockedBox<T>: @unchecked Sendable {
        private var stored: T
        private let lock = NSLock()
        init(_ value: T) { stored = value }
        var value: T { lock.withLock { stored } }
        func append<E>(_ element: E) where T == [E] { lock.withLock { stored.append(element) } }
    }

    static func id(of url: String) -> UUID { UUID(uuidString: String(url.split(separator: "/").last ?? ""))! }

    // MARK: newAccount (§7.3, §7.3.1)

    func testNewAccountCreatesThenReturnsExisting() throws {
        let server = try Self.openServer()
        let acme = try client(server)
        let key = TestKey.ec()
        let (created, accountURL) = try acme.newAccount(key, ["termsOfServiceAgreed": true, "contact": ["mailto:a@example.org"]])
        XCTAssertEqual(created.status, 201, created.text)
        XCTAssertTrue(accountURL.hasPrefix(server.baseURL + "/acct/"), accountURL)
        XCTAssertEqual(created.json?["status"] as? String, "valid")
        XCTAssertEqual(created.json?["contact"] as? [String], ["mailto:a@example.org"])
        XCTAssertEqual(created.json?["termsOfServiceAgreed"] as? Bool, true)
        XCTAssertEqual(created.json?["orders"] as? String, accountURL + "/orders")
        XCTAssertNotNil(created.header("Replay-Nonce"))
        XCTAssertEqual(created.header("Cache-Control"), "no-store")
        XCTAssertTrue(created.header("Link")?.contains("<\(server.directoryURL)>;rel=\"index\"") ?? false)

        let again = try acme.newAccount(key, [:]).0
        XCTAssertEqual(again.status, 200, again.text)
        XCTAssertEqual(again.location, accountURL)
        XCTAssertEqual(again.json?["contact"] as? [String], ["mailto:a@example.org"])

        let existing = try acme.post(acme.url("newAccount"), .json(["onlyReturnExisting": true]), key: key)
        XCTAssertEqual(existing.status, 200, existing.text)
        XCTAssertEqual(existing.location, accountURL)

        let unknown = try acme.post(acme.url("newAccount"), .json(["onlyReturnExisting": true]), key: TestKey.ec())
        assertProblem(unknown, "accountDoesNotExist", 400)

        let rsa = try acme.newAccount(TestKey.rsa()).0
        XCTAssertEqual(rsa.status, 201, rsa.text)

        // Stored key: the RFC 7638 thumbprint of the signing key.
        let stored = try server.sql { try $0.account(id: Self.id(of: accountURL)) }
        XCTAssertEqual(stored?.thumbprint, key.thumbprint)
    }

    /// Concurrent newAccount requests with one key create one account; the others get it back.
    func testConcurrentNewAccountWithOneKey() throws {
        let acme = try client(try Self.openServer())
        let key = TestKey.ec()
        let count = 6
        let nonces = try (0..<count).map { _ in try acme.newNonce() }
        let results = LockedBox<[(Int, String)]>([])
        DispatchQueue.concurrentPerform(iterations: count) { index in
            if let reply = try? acme.post(acme.url("newAccount"), .json(["termsOfServiceAgreed": true]),
                                          key: key, nonce: nonces[index]) {
                results.append((reply.status, reply.location ?? ""))
            }
        }
        let replies = results.value
        XCTAssertEqual(replies.count, count)
        XCTAssertEqual(replies.filter { $0.0 == 201 }.count, 1, "\(replies)")
        XCTAssertEqual(replies.filter { $0.0 == 200 }.count, count - 1, "\(replies)")
        XCTAssertEqual(Set(replies.map(\.1)).count, 1, "one account URL for all")
    }

    func testContactPolicy() throws {
        let acme = try client(try Self.openServer())
        assertProblem(try acme.newAccount(TestKey.ec(), ["contact": ["tel:+1555"]]).0, "unsupportedContact", 400)
        assertProblem(try acme.newAccount(TestKey.ec(), ["contact": ["mailto:a@example.org?subject=x"]]).0, "invalidContact", 400)
        assertProblem(try acme.newAccount(TestKey.ec(), ["contact": ["mailto:not-an-address"]]).0, "invalidContact", 400)
        assertProblem(try acme.newAccount(TestKey.ec(), ["contact": ["mailto:a@example.org,b@example.org"]]).0, "invalidContact", 400)
        assertProblem(try acme.newAccount(TestKey.ec(), ["contact": "mailto:a@example.org"]).0, "malformed", 400)

        let strict = try client(try Self.strictServer())
        let eab = try createEAB(try Self.strictServer(), kid: "contact-policy")
        let key = TestKey.ec()
        let binding = strict.externalAccountBinding(kid: eab.kid, hmacKey: eab.key, key: key)
        // email.require_contact and email.allowed_domains
        assertProblem(try strict.newAccount(key, ["termsOfServiceAgreed": true, "externalAccountBinding": binding]).0,
                      "invalidContact", 400)
        assertProblem(try strict.newAccount(key, ["termsOfServiceAgreed": true, "contact": ["mailto:a@example.org"],
                                                  "externalAccountBinding": binding]).0,
                      "invalidContact", 400)
    }

    // MARK: JWS pipeline (§6.2–6.5), through newAccount and the account URL

    func testJWSRefusals() throws {
        let server = try Self.openServer()
        let acme = try client(server)
        let newAccount = acme.url("newAccount")
        let key = TestKey.ec()
        let accountURL = try acme.newAccount(key).1

        // Bad signature: one bit of the signature flipped.
        assertProblem(try acme.post(newAccount, .json([:]), key: key, tamper: { jws in
            var signature = Base64URLTest.decode(jws["signature"]!)!
            signature[5] ^= 0x01
            jws["signature"] = Base64URLTest.encode(signature)
        }), "malformed", 400)

        // An algorithm outside security.allowed_algorithms (ES256, RS256).
        let p384 = try acme.post(newAccount, .json([:]), key: TestKey.ec("P-384"))
        assertProblem(p384, "badSignatureAlgorithm", 400)
        XCTAssertEqual(p384.json?["algorithms"] as? [String], ["ES256", "RS256"], p384.text)
        // An algorithm that does not fit the key (ES256 over a P-384 key) lists them too.
        let mismatch = try acme.post(newAccount, .json([:]), key: TestKey.ec("P-384"), override: ["alg": "ES256"])
        assertProblem(mismatch, "badSignatureAlgorithm", 400)
        XCTAssertEqual(mismatch.json?["algorithms"] as? [String], ["ES256", "RS256"], mismatch.text)
        // "alg": "none" (an unsecured JWS, empty signature) is badSignatureAlgorithm, not malformed.
        let unsecured = try acme.post(newAccount, .json([:]), key: key, override: ["alg": "none"],
                                      tamper: { $0["signature"] = "" })
        assertProblem(unsecured, "badSignatureAlgorithm", 400)
        XCTAssertEqual(unsecured.json?["algorithms"] as? [String], ["ES256", "RS256"], unsecured.text)

        // Nonces: a reused one and an unknown one, each answered with a fresh nonce.
        let nonce = try acme.newNonce()
        XCTAssertEqual(try acme.post(accountURL, .empty, key: key, kid: accountURL, nonce: nonce).status, 200)
        let reused = try acme.post(accountURL, .empty, key: key, kid: accountURL, nonce: nonce)
        assertProblem(reused, "badNonce", 400)
        XCTAssertNotEqual(reused.header("Replay-Nonce"), nonce)
        let unknownNonce = try acme.post(accountURL, .empty, key: key, kid: accountURL, nonce: "AAAAAAAAAAAAAAAAAAAAAA")
        assertProblem(unknownNonce, "badNonce", 400)
        let fresh = try XCTUnwrap(unknownNonce.header("Replay-Nonce"))
        XCTAssertEqual(try acme.post(accountURL, .empty, key: key, kid: accountURL, nonce: fresh).status, 200,
                       "the nonce of an error response is usable")

        // The signed url must be the request URL (RFC 8555 §6.4: unauthorized).
        assertProblem(try acme.post(accountURL, .empty, key: key, kid: accountURL,
                                    override: ["url": server.baseURL + "/somewhere-else"]), "unauthorized", 403)

        // kid of an account that does not exist.
        let ghost = server.baseURL + "/acct/" + UUID().uuidString.lowercased()
        assertProblem(try acme.post(ghost, .empty, key: key, kid: ghost), "accountDoesNotExist", 400)

        // jwk and kid together.
        assertProblem(try acme.post(accountURL, .empty, key: key, kid: accountURL, override: ["jwk": key.jwk]),
                      "malformed", 400)

        // Oversized body (security.max_request_body_bytes 8192) and wrong media type.
        let big = try acme.post(newAccount, .json(["contact": [String(repeating: "x", count: 9000)]]), key: key)
        assertProblem(big, "malformed", 413)
        assertProblem(try acme.post(newAccount, .json([:]), key: key, contentType: "application/json"), "malformed", 415)

        // Not JSON; JSON but not a JWS; a protected header that is not base64url.
        assertProblem(try acme.postRaw(newAccount, Array("{not json".utf8)), "malformed", 400)
        assertProblem(try acme.postRaw(newAccount, Array("[1,2]".utf8)), "malformed", 400)
        assertProblem(try acme.post(newAccount, .json([:]), key: key, tamper: { $0["protected"] = "!!not*base64url!!" }),
                      "malformed", 400)
        assertProblem(try acme.post(newAccount, .json([:]), key: key, tamper: { $0["payload"] = "%%%" }), "malformed", 400)
        // A payload that is not a JSON object.
        assertProblem(try acme.post(newAccount, .raw(Array("[]".utf8)), key: TestKey.ec()), "malformed", 400)
    }

    /// RFC 8555 §6.3: the directory and newNonce take POST-as-GET in addition to GET.
    func testPostAsGetToDirectoryAndNewNonce() throws {
        let server = try Self.openServer()
        let acme = try client(server)
        let key = TestKey.ec()
        let accountURL = try acme.newAccount(key).1

        let directory = try acme.post(acme.directoryURL, .empty, key: key, kid: accountURL)
        XCTAssertEqual(directory.status, 200, directory.text)
        XCTAssertEqual(directory.header("Content-Type"), "application/json")
        for resource in ["newNonce", "newAccount", "newOrder", "revokeCert", "keyChange"] {
            XCTAssertEqual(directory.json?[resource] as? String, acme.url(resource), directory.text)
        }
        XCTAssertNotNil(directory.header("Replay-Nonce"))
        XCTAssertEqual(directory.header("Link"), "<\(acme.directoryURL)>;rel=\"index\"")

        // §7.2 names HEAD 200 and GET 204; the POST-as-GET answers as GET: 204 with a nonce.
        let nonce = try acme.post(acme.url("newNonce"), .empty, key: key, kid: accountURL)
        XCTAssertEqual(nonce.status, 204, nonce.text)
        XCTAssertTrue(nonce.body.isEmpty, nonce.text)
        let fresh = try XCTUnwrap(nonce.header("Replay-Nonce"))
        XCTAssertEqual(nonce.header("Cache-Control"), "no-store")
        XCTAssertEqual(nonce.header("Link"), "<\(acme.directoryURL)>;rel=\"index\"")
        XCTAssertEqual(try acme.post(accountURL, .empty, key: key, kid: accountURL, nonce: fresh).status, 200,
                       "the nonce is usable")

        // They are POST-as-GET, verified like every POST: a payload, a bad signature or no
        // account is refused with a problem document.
        assertProblem(try acme.post(acme.directoryURL, .json([:]), key: key, kid: accountURL), "malformed", 400)
        assertProblem(try acme.post(acme.url("newNonce"), .empty, key: key, kid: accountURL, tamper: { jws in
            var signature = Base64URLTest.decode(jws["signature"]!)!
            signature[5] ^= 0x01
            jws["signature"] = Base64URLTest.encode(signature)
        }), "malformed", 400)
        assertProblem(try acme.post(acme.directoryURL, .empty, key: TestKey.ec()), "malformed", 400)
    }

    // MARK: Terms of service and external account binding (§7.3, §7.3.4)

    func testTermsOfServiceRequired() throws {
        let server = try Self.strictServer()
        let acme = try client(server)
        let eab = try createEAB(server, kid: "tos")
        let key = TestKey.ec()
        let reply = try acme.newAccount(key, ["contact": ["mailto:a@example.com"],
                                              "externalAccountBinding": acme.externalAccountBinding(kid: eab.kid, hmacKey: eab.key, key: key)]).0
        assertProblem(reply, "malformed", 400)
        XCTAssertTrue((reply.json?["detail"] as? String)?.contains("termsOfServiceAgreed") ?? false, reply.text)
    }

    func testExternalAccountBinding() throws {
        let server = try Self.strictServer()
        let acme = try client(server)
        XCTAssertEqual((acme.directory["meta"] as? [String: Any])?["externalAccountRequired"] as? Bool, true)
        let base: [String: Any] = ["termsOfServiceAgreed": true, "contact": ["mailto:ops@example.com"]]
        func with(_ binding: [String: String]) -> [String: Any] { base.merging(["externalAccountBinding": binding]) { $1 } }

        assertProblem(try acme.newAccount(TestKey.ec(), base).0, "externalAccountRequired", 400)

        let eab = try createEAB(server, kid: "eab-main", label: "team a")
        let key = TestKey.ec()
        // Wrong MAC key, unknown kid, binding of another key, binding for another URL.
        assertProblem(try acme.newAccount(key, with(acme.externalAccountBinding(
            kid: eab.kid, hmacKey: Array(repeating: 7, count: 32), key: key))).0, "unauthorized", 403)
        assertProblem(try acme.newAccount(key, with(acme.externalAccountBinding(
            kid: "no-such-kid", hmacKey: eab.key, key: key))).0, "unauthorized", 403)
        assertProblem(try acme.newAccount(key, with(acme.externalAccountBinding(
            kid: eab.kid, hmacKey: eab.key, key: TestKey.ec()))).0, "unauthorized", 403)
        assertProblem(try acme.newAccount(key, with(acme.externalAccountBinding(
            kid: eab.kid, hmacKey: eab.key, key: key, url: server.baseURL + "/elsewhere"))).0, "malformed", 400)

        let binding = acme.externalAccountBinding(kid: eab.kid, hmacKey: eab.key, key: key)
        let (created, accountURL) = try acme.newAccount(key, with(binding))
        XCTAssertEqual(created.status, 201, created.text)
        XCTAssertEqual((created.json?["externalAccountBinding"] as? [String: Any])?["protected"] as? String, binding["protected"])
        let account = try server.sql { try $0.account(id: Self.id(of: accountURL)) }
        XCTAssertEqual(account?.eabKID, eab.kid)
        let credential = try server.sql { try $0.eabCredential(kid: eab.kid) }
        XCTAssertEqual(credential?.used, true)
        XCTAssertEqual(credential?.accountID, Self.id(of: accountURL))

        // eab_reusable is false: a second account cannot redeem it.
        let other = TestKey.ec()
        assertProblem(try acme.newAccount(other, with(acme.externalAccountBinding(
            kid: eab.kid, hmacKey: eab.key, key: other))).0, "unauthorized", 403)

        // The CLI lists it as used, and refuses a duplicate kid.
        let list = try server.acmeeh(["eab", "list"])
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertTrue(list.stdout.contains("eab-main\tused"), list.stdout)
        XCTAssertFalse(list.stdout.contains(Base64URLTest.encode(eab.key)), "keys are never listed")
        let duplicate = try server.acmeeh(["eab", "create", "--kid", "eab-main"])
        XCTAssertEqual(duplicate.status, 1)
        XCTAssertTrue(duplicate.stderr.contains("already exists"), duplicate.stderr)

        // A revoked credential is refused.
        let revoked = try createEAB(server, kid: "eab-revoked")
        try server.sql { try $0.execute("UPDATE eab_credentials SET revoked = true WHERE kid = 'eab-revoked'") }
        let third = TestKey.ec()
        assertProblem(try acme.newAccount(third, with(acme.externalAccountBinding(
            kid: revoked.kid, hmacKey: revoked.key, key: third))).0, "unauthorized", 403)
    }

    func testReusableBindingIsOptionalUnlessRequired() throws {
        let server = try TestServer(extra: """
            acme:
              eab_reusable: true
            """)
        defer { server.shutdown() }
        let acme = try client(server)
        // Without acme.eab_required a binding is optional …
        XCTAssertEqual(try acme.newAccount(TestKey.ec()).0.status, 201)
        // … and with acme.eab_reusable one credential binds several accounts.
        let eab = try createEAB(server, kid: "shared")
        for _ in 0..<2 {
            let key = TestKey.ec()
            let reply = try acme.newAccount(key, ["externalAccountBinding": acme.externalAccountBinding(
                kid: eab.kid, hmacKey: eab.key, key: key)]).0
            XCTAssertEqual(reply.status, 201, reply.text)
        }
        let bound = try server.sql {
            try $0.queryFirst("SELECT count(*) AS n FROM accounts WHERE eab_kid = 'shared'")!.int("n")
        }
        XCTAssertEqual(bound, 2)
    }

    /// email.validate_mx: a contact domain must take mail (RFC 5321 §5.1, RFC 7505): an MX, or
    /// an address record without one; at newAccount and at a contact update.
    func testValidateMXRefusesDomainsThatTakeNoMail() throws {
        let directory = try TestPaths.temporaryDirectory("acmeeh-validate-mx")
        defer { try? FileManager.default.removeItem(at: directory) }
        let dns = try LoopbackDNS(directory: directory, zone: """
            mail.test MX 10 mx.mail.test
            mx.mail.test A 127.0.0.1
            plain.test A 127.0.0.1
            nomail.test MX 0 .
            textonly.test TXT "v=spf1 -all"
            broken.test RCODE SERVFAIL
            """)
        defer { dns.stop() }
        let server = try TestServer(extra: """
            email:
              validate_mx: true
            dns:
              resolvers: ["\(dns.address)"]
              timeout_seconds: 1
              retries: 0
            """)
        defer { server.shutdown() }
        let acme = try client(server)
        func register(_ address: String) throws -> ACMETestClient.Reply {
            try acme.newAccount(TestKey.ec(), ["termsOfServiceAgreed": true, "contact": ["mailto:ops@\(address)"]]).0
        }
        XCTAssertEqual(try register("mail.test").status, 201)
        XCTAssertEqual(try register("plain.test").status, 201, "an address record is the implicit MX")
        for (domain, why) in [("nomail.test", "null MX"), ("textonly.test", "no MX, A or AAAA"),
                              ("absent.test", "does not exist"), ("broken.test", "SERVFAIL")] {
            let reply = try register(domain)
            assertProblem(reply, "invalidContact", 400)
            XCTAssertTrue(reply.text.contains(why), reply.text)
        }
        let key = TestKey.ec()
        let accountURL = try acme.newAccount(key).1
        assertProblem(try acme.post(accountURL, .json(["contact": ["mailto:a@nomail.test"]]), key: key, kid: accountURL),
                      "invalidContact", 400)
        XCTAssertEqual(try acme.post(accountURL, .json(["contact": ["mailto:a@mail.test"]]), key: key, kid: accountURL).status,
                       200)
    }

    func testContactPolicyRules() throws {
        var email = EmailConfig()
        email.allowedDomains = ["Example.COM"]
        let policy = ContactPolicy(email)
        XCTAssertEqual(try policy.check(["mailto:a.b+c@example.com", "MAILTO:a.b+c@example.com"]),
                       ["mailto:a.b+c@example.com"])
        XCTAssertEqual(try policy.check(["mailto:ops%2Bteam@example.com"]), ["mailto:ops+team@example.com"])
        XCTAssertEqual(try policy.check([]), [])
        for bad in ["mailto:@example.com", "mailto:a@", "mailto:a@-x.example.com", "mailto:a..b@example.com",
                    "mailto:a@example", "mailto:a@sub.example.com"] {
            XCTAssertThrowsError(try policy.check([bad]), bad) { error in
                XCTAssertEqual((error as? Problem)?.type, .invalidContact, bad)
            }
        }
        XCTAssertThrowsError(try policy.check(["https://example.com"])) { error in
            XCTAssertEqual((error as? Problem)?.type, .unsupportedContact)
        }
        email.requireContact = true
        XCTAssertThrowsError(try ContactPolicy(email).check([])) { error in
            XCTAssertEqual((error as? Problem)?.type, .invalidContact)
        }
        XCTAssertEqual(try RevocationReason.check(nil), nil)
        XCTAssertEqual(try RevocationReason.check(10), 10)
        XCTAssertThrowsError(try RevocationReason.check(7))
        XCTAssertThrowsError(try RevocationReason.check(11))
    }

    /// `acmeeh eab create --kid K --json`: the credential and its key.
    func createEAB(_ server: TestServer, kid: String, label: String? = nil) throws -> (kid: String, key: [UInt8]) {
        let result = try server.acmeeh(["eab", "create", "--kid", kid, "--json"] + (label.map { ["--label", $0] } ?? []))
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["kid"] as? String, kid)
        let key = try XCTUnwrap(Base64URLTest.decode(try XCTUnwrap(json["hmac_key"] as? String)))
        XCTAssertEqual(key.count, 32)
        return (kid, key)
    }

    // MARK: Account updates and deactivation (§7.3.2, §7.3.6)

    func testContactUpdateFetchAndDeactivation() throws {
        let server = try Self.openServer()
        let acme = try client(server)
        let key = TestKey.ec()
        let accountURL = try acme.newAccount(key, ["contact": ["mailto:old@example.org"]]).1
        let accountID = Self.id(of: accountURL)

        let updated = try acme.post(accountURL, .json(["contact": ["mailto:new@example.org", "mailto:two@example.org"]]),
                                    key: key, kid: accountURL)
        XCTAssertEqual(updated.status, 200, updated.text)
        XCTAssertEqual(updated.json?["contact"] as? [String], ["mailto:new@example.org", "mailto:two@example.org"])
        assertProblem(try acme.post(accountURL, .json(["contact": ["http://example.org"]]), key: key, kid: accountURL),
                      "unsupportedContact", 400)
        // RFC 8555 §7.3.2: a "status" other than "deactivated" is ignored, the rest applied.
        for status in ["valid", "revoked"] {
            let ignored = try acme.post(accountURL, .json(["status": status, "contact": ["mailto:\(status)@example.org"]]),
                                        key: key, kid: accountURL)
            XCTAssertEqual(ignored.status, 200, ignored.text)
            XCTAssertEqual(ignored.json?["status"] as? String, "valid", ignored.text)
            XCTAssertEqual(ignored.json?["contact"] as? [String], ["mailto:\(status)@example.org"], ignored.text)
        }
        XCTAssertEqual(try acme.post(accountURL, .empty, key: key, kid: accountURL).json?["status"] as? String, "valid")
        XCTAssertEqual(try acme.post(accountURL, .json(["contact": ["mailto:new@example.org", "mailto:two@example.org"]]),
                                     key: key, kid: accountURL).status, 200)

        let fetched = try acme.post(accountURL, .empty, key: key, kid: accountURL)
        XCTAssertEqual(fetched.status, 200)
        XCTAssertEqual(fetched.json?["contact"] as? [String], ["mailto:new@example.org", "mailto:two@example.org"])
        XCTAssertEqual(fetched.location, accountURL)

        // Another account's URL signed with this account's kid.
        let otherKey = TestKey.ec()
        let otherURL = try acme.newAccount(otherKey).1
        assertProblem(try acme.post(otherURL, .empty, key: key, kid: accountURL), "unauthorized", 403)

        // Deactivation takes the account's live authorizations with it.
        let authz = try insertAuthorization(server, account: accountID, value: "deact.example.org", status: "valid")
        let deactivated = try acme.post(accountURL, .json(["status": "deactivated"]), key: key, kid: accountURL)
        XCTAssertEqual(deactivated.status, 200, deactivated.text)
        XCTAssertEqual(deactivated.json?["status"] as? String, "deactivated")
        let authzStatus = try server.sql {
            try $0.queryFirst("SELECT status FROM authorizations WHERE id = $1", [.uuid(authz)])?.string("status")
        }
        XCTAssertEqual(authzStatus, "deactivated")
        // RFC 8555 §7.3.6: nothing more is accepted from it (401 unauthorized) …
        assertProblem(try acme.post(accountURL, .empty, key: key, kid: accountURL), "unauthorized", 401)
        assertProblem(try acme.post(accountURL, .json(["contact": ["mailto:x@example.org"]]), key: key, kid: accountURL),
                      "unauthorized", 401)
        // … nor from its key through newAccount.
        assertProblem(try acme.newAccount(key, ["onlyReturnExisting": true]).0, "unauthorized", 401)
        assertProblem(try acme.newAccount(key).0, "unauthorized", 401)
    }

    func testUpdatesDisabledByConfiguration() throws {
        let server = try Self.strictServer()
        let acme = try client(server)
        let eab = try createEAB(server, kid: "updates")
        let key = TestKey.ec()
        let (created, accountURL) = try acme.newAccount(key, [
            "termsOfServiceAgreed": true, "contact": ["mailto:a@example.com"],
            "externalAccountBinding": acme.externalAccountBinding(kid: eab.kid, hmacKey: eab.key, key: key),
        ])
        XCTAssertEqual(created.status, 201, created.text)
        assertProblem(try acme.post(accountURL, .json(["contact": ["mailto:b@example.com"]]), key: key, kid: accountURL),
                      "unauthorized", 403)
        assertProblem(try acme.post(accountURL, .json(["status": "deactivated"]), key: key, kid: accountURL),
                      "unauthorized", 403)
    }

    // MARK: Orders list (§7.1.2.1)

    func testOrdersListPaging() throws {
        let server = try Self.openServer()
        let acme = try client(server)
        let key = TestKey.ec()
        let accountURL = try acme.newAccount(key).1
        let accountID = Self.id(of: accountURL)
        let otherID = Self.id(of: try acme.newAccount(TestKey.ec()).1)
        var listed: [UUID] = []
        for (index, status) in ["pending", "ready", "valid", "processing", "invalid"].enumerated() {
            let id = try insertOrder(server, account: accountID, status: status, minutesAgo: 10 - index)
            if status != "invalid" { listed.insert(id, at: 0) }
        }
        _ = try insertOrder(server, account: otherID, status: "valid", minutesAgo: 1)

        var urls: [String] = []
        var next: String? = accountURL + "/orders"
        var pages = 0
        while let page = next {
            let reply = try acme.post(page, .empty, key: key, kid: accountURL)
            XCTAssertEqual(reply.status, 200, reply.text)
            let orders = try XCTUnwrap(reply.json?["orders"] as? [String])
            XCTAssertLessThanOrEqual(orders.count, 2)
            urls += orders
            next = Self.nextLink(reply.header("Link"))
            pages += 1
            XCTAssertLessThan(pages, 5)
        }
        XCTAssertEqual(pages, 2)
        XCTAssertEqual(urls, listed.map { server.baseURL + "/order/" + $0.uuidString.lowercased() },
                       "newest first, without the invalid order or another account's")

        assertProblem(try acme.post(accountURL + "/orders?cursor=nope", .empty, key: key, kid: accountURL), "malformed", 400)
        let foreign = try insertOrder(server, account: otherID, status: "valid", minutesAgo: 2)
        assertProblem(try acme.post(accountURL + "/orders?cursor=\(foreign.uuidString.lowercased())", .empty,
                                    key: key, kid: accountURL), "malformed", 400)
        let otherAccountURL = server.baseURL + "/acct/" + otherID.uuidString.lowercased()
        assertProblem(try acme.post(otherAccountURL + "/orders", .empty, key: key, kid: accountURL), "unauthorized", 403)
    }

    static func nextLink(_ header: String?) -> String? {
        guard let header else { return nil }
        for part in header.components(separatedBy: ",") where part.contains("rel=\"next\"") {
            guard let start = part.firstIndex(of: "<"), let end = part.firstIndex(of: ">") else { continue }
            return String(part[part.index(after: start)..<end])
        }
        return nil
    }

    // MARK: keyChange (§7.3.5)

    func keyChangeBody(_ acme: ACMETestClient, accountURL: String, oldKey: TestKey, newKey: TestKey,
                       url: String? = nil, account: String? = nil) -> ACMETestClient.Payload {
        let keyChange = acme.url("keyChange")
        let inner = ACMETestClient.jws(
            protected: ["alg": newKey.alg, "jwk": newKey.jwk, "url": url ?? keyChange],
            payload: Array(try! JSONSerialization.data(withJSONObject: ["account": account ?? accountURL, "oldKey": oldKey.jwk])),
            key: newKey)
        return .json(inner)
    }

    func testKeyChange() throws {
        let server = try Self.openServer()
        let acme = try client(server)
        let keyChange = acme.url("keyChange")
        let oldKey = TestKey.ec()
        let accountURL = try acme.newAccount(oldKey).1
        let newKey = TestKey.rsa()

        // Refusals: the wrong old key, the wrong url, the wrong account.
        assertProblem(try acme.post(keyChange, keyChangeBody(acme, accountURL: accountURL, oldKey: TestKey.ec(), newKey: newKey),
                                    key: oldKey, kid: accountURL), "malformed", 400)
        assertProblem(try acme.post(keyChange, keyChangeBody(acme, accountURL: accountURL, oldKey: oldKey, newKey: newKey,
                                                             url: accountURL), key: oldKey, kid: accountURL), "malformed", 400)
        assertProblem(try acme.post(keyChange, keyChangeBody(acme, accountURL: accountURL, oldKey: oldKey, newKey: newKey,
                                                             account: server.baseURL + "/acct/x"), key: oldKey, kid: accountURL),
                      "malformed", 400)
        // The new key must pass the key policy and the algorithm list.
        let p384 = TestKey.ec("P-384")
        assertProblem(try acme.post(keyChange, keyChangeBody(acme, accountURL: accountURL, oldKey: oldKey, newKey: p384),
                                    key: oldKey, kid: accountURL), "badSignatureAlgorithm", 400)

        let changed = try acme.post(keyChange, keyChangeBody(acme, accountURL: accountURL, oldKey: oldKey, newKey: newKey),
                                    key: oldKey, kid: accountURL)
        XCTAssertEqual(changed.status, 200, changed.text)
        XCTAssertEqual(try acme.post(accountURL, .empty, key: newKey, kid: accountURL).status, 200)
        // The old key no longer signs for the account (an ES256 signature for an RSA account key).
        assertProblem(try acme.post(accountURL, .empty, key: oldKey, kid: accountURL), "badSignatureAlgorithm", 400)
        XCTAssertEqual(try acme.newAccount(newKey, ["onlyReturnExisting": true]).0.location, accountURL)
        assertProblem(try acme.newAccount(oldKey, ["onlyReturnExisting": true]).0, "accountDoesNotExist", 400)

        // A key another account holds: 409 with that account's URL.
        let takenKey = TestKey.ec()
        let holderURL = try acme.newAccount(takenKey).1
        let conflict = try acme.post(keyChange, keyChangeBody(acme, accountURL: accountURL, oldKey: newKey, newKey: takenKey),
                                     key: newKey, kid: accountURL)
        assertProblem(conflict, "malformed", 409)
        XCTAssertEqual(conflict.location, holderURL)
    }

    // MARK: revokeCert (§7.6)

    func testRevocation() throws {
        let server = try Self.openServer()
        let acme = try client(server)
        let revokeCert = acme.url("revokeCert")
        let ownerKey = TestKey.ec()
        let ownerURL = try acme.newAccount(ownerKey).1
        let ownerID = Self.id(of: ownerURL)

        // (a) by the account that ordered it, with a reason; then once more.
        let first = try issue(server, account: ownerID, names: ["a.revoke.example"])
        assertProblem(try acme.post(revokeCert, .json(["certificate": first.b64, "reason": 7]), key: ownerKey, kid: ownerURL),
                      "badRevocationReason", 400)
        let revoked = try acme.post(revokeCert, .json(["certificate": first.b64, "reason": 1]), key: ownerKey, kid: ownerURL)
        XCTAssertEqual(revoked.status, 200, revoked.text)
        let row = try server.sql {
            try $0.queryFirst("SELECT revoked_at IS NOT NULL AS revoked, revocation_reason FROM certificates WHERE fingerprint = $1",
                              [.string(first.fingerprint)])
        }
        XCTAssertEqual(try row?.bool("revoked"), true)
        XCTAssertEqual(try row?.intIfPresent("revocation_reason"), 1)
        assertProblem(try acme.post(revokeCert, .json(["certificate": first.b64]), key: ownerKey, kid: ownerURL),
                      "alreadyRevoked", 400)

        // Unknown certificate; a stranger account; the wrong key.
        let unknown = try makeCertificate(names: ["unknown.revoke.example"])
        assertProblem(try acme.post(revokeCert, .json(["certificate": unknown.b64]), key: ownerKey, kid: ownerURL),
                      "malformed", 404)
        let second = try issue(server, account: ownerID, names: ["b.revoke.example", "c.revoke.example"])
        let strangerKey = TestKey.ec()
        let strangerURL = try acme.newAccount(strangerKey).1
        assertProblem(try acme.post(revokeCert, .json(["certificate": second.b64]), key: strangerKey, kid: strangerURL),
                      "unauthorized", 403)
        assertProblem(try acme.post(revokeCert, .json(["certificate": second.b64]), key: TestKey.ec()), "unauthorized", 403)

        // (c) an account with valid authorizations for every name; one for only some is not enough.
        let holderKey = TestKey.ec()
        let holderURL = try acme.newAccount(holderKey).1
        _ = try insertAuthorization(server, account: Self.id(of: holderURL), value: "b.revoke.example", status: "valid")
        assertProblem(try acme.post(revokeCert, .json(["certificate": second.b64]), key: holderKey, kid: holderURL),
                      "unauthorized", 403)
        _ = try insertAuthorization(server, account: Self.id(of: holderURL), value: "c.revoke.example", status: "valid")
        XCTAssertEqual(try acme.post(revokeCert, .json(["certificate": second.b64, "reason": 4]),
                                     key: holderKey, kid: holderURL).status, 200)

        // (b) signed with the certificate's own key (jwk).
        let third = try issue(server, account: ownerID, names: ["d.revoke.example"])
        let byKey = try acme.post(revokeCert, .json(["certificate": third.b64, "reason": 0]), key: third.key)
        XCTAssertEqual(byKey.status, 200, byKey.text)
        assertProblem(try acme.post(revokeCert, .json(["certificate": "!!!"]), key: ownerKey, kid: ownerURL), "malformed", 400)
    }

    // MARK: Fixtures written straight to the database

    struct Certificate {
        let pem: String
        let der: [UInt8]
        let key: TestKey
        var b64: String { Base64URLTest.encode(der) }
        var fingerprint: String { TestKey.sha256(der).map { String(format: "%02x", $0) }.joined() }
    }

    /// A self-signed EC P-256 certificate for `names`, made by the openssl tool.
    func makeCertificate(names: [String]) throws -> Certificate {
        let dir = try TestPaths.temporaryDirectory("acmeeh-cert")
        defer { try? FileManager.default.removeItem(at: dir) }
        let keyFile = dir.appendingPathComponent("key.pem").path, certFile = dir.appendingPathComponent("cert.pem").path
        let san = names.map { "DNS:\($0)" }.joined(separator: ",")
        let result = try Command.tool("openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", keyFile, "-out", certFile, "-subj", "/CN=\(names[0])", "-days", "30",
            "-addext", "subjectAltName=\(san)",
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        let pem = try String(contentsOfFile: certFile, encoding: .utf8)
        let der = try CertificateChain(pem: pem).leaf.der
        return Certificate(pem: pem, der: der, key: try TestKey.pem(try String(contentsOfFile: keyFile, encoding: .utf8)))
    }

    /// A certificate row as finalize writes it, for `account`.
    func issue(_ server: TestServer, account: UUID, names: [String]) throws -> Certificate {
        let certificate = try makeCertificate(names: names)
        let leaf = try CertificateChain(pem: certificate.pem).leaf
        XCTAssertEqual(leaf.fingerprint, certificate.fingerprint)
        try server.sql {
            try $0.execute(
                """
                INSERT INTO certificates (account_id, serial, fingerprint, pem_chain, not_before, not_after,
                                          public_key_fingerprint, san_values, ca_backend)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'internal')
                """, [.uuid(account), .string(leaf.serialHex), .string(leaf.fingerprint), .string(certificate.pem),
                      .date(leaf.notBefore), .date(leaf.notAfter), .string(leaf.publicKeyFingerprint),
                      .textArray(leaf.dnsNames)])
        }
        return certificate
    }

    func insertAuthorization(_ server: TestServer, account: UUID, value: String, status: String) throws -> UUID {
        try server.sql {
            try $0.queryFirst(
                """
                INSERT INTO authorizations (account_id, identifier_type, identifier_value, status, expires)
                VALUES ($1, 'dns', $2, $3, now() + interval '1 day') RETURNING id
                """, [.uuid(account), .string(value), .string(status)])!.uuid("id")
        }
    }

    func insertOrder(_ server: TestServer, account: UUID, status: String, minutesAgo: Int) throws -> UUID {
        try server.sql {
            try $0.queryFirst(
                """
                INSERT INTO orders (account_id, status, identifiers, identifiers_hash, expires, created_at)
                VALUES ($1, $2, '[{"type":"dns","value":"x.example"}]', md5(random()::text), now() + interval '7 days',
                        now() - make_interval(mins => $3::int))
                RETURNING id
                """, [.uuid(account), .string(status), .int(minutesAgo)])!.uuid("id")
        }
    }
}
