import Foundation
@testable import Host
import XCTest

/// Orders, authorizations, challenges, finalize, certificates and ARI end to end: the
/// real `acmeeh serve` with the real CAFile plugin, a C challenge validator
/// (Fixtures/file_validator.c, reading key authorizations from files) and a private
/// PostgreSQL database.
final class OrderTests: XCTestCase {
    var directory: URL!
    var challengeDirectory: URL!
    var database: TestDatabase!
    var server: ServerProcess!

    static let urn = "urn:ietf:params:acme:error:"

    override func setUpWithError() throws {
        directory = try TestPaths.temporaryDirectory("acmeeh-orders")
        challengeDirectory = directory.appendingPathComponent("challenges")
        try FileManager.default.createDirectory(at: challengeDirectory, withIntermediateDirectories: true)
        database = try TestDatabase.create()
        let result = try Command.run(TestPaths.repository.appendingPathComponent("scripts/dev-ca").path,
                                     [directory.appendingPathComponent("ca").path])
        XCTAssertEqual(result.status, 0, result.stderr)
    }

    override func tearDownWithError() throws {
        server?.stop()
        database?.drop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts a server; `extra` is YAML appended to the configuration.
    func start(extra: String = "", allowIP: Bool = false, caBackend: String = "internal") throws {
        let libraries = try FileValidatorFixture.libraries.get()
        let port = try ServerProcess.freePort()
        let ca = TestServer.caSection(directory: directory, backend: caBackend, extra: """
              max_validity_days: 100
              profiles:
                reject: {}
                pending: {}
            """)
        let url = try TestServer.writeConfig(
            directory: directory, database: database.config, port: port, ca: ca, maxConnections: 6, extra: """
            challenges:
              enabled: ["ext:\(libraries.http)", "ext:\(libraries.dns)"]
              backoff_base_seconds: 1
              backoff_max_seconds: 2
              http01:
                max_retries: 3
              background_worker:
                poll_seconds: 1
            security:
              identifier_policy:
                allowed_domains: ["*.example.test"]
                forbidden_domains: ["bad.example.test"]
                allow_ip: \(allowIP)
            ari:
              enabled: true
            \(extra)
            """)
        server = try ServerProcess(config: url, port: port, logFile: directory.appendingPathComponent("server.log"),
                                   environment: ["ACMEEH_TEST_CHALLENGE_DIR": challengeDirectory.path])
        try server.waitUntilLive()
    }

    func client() throws -> OrderTestClient { try OrderTestClient(base: server.baseURL, database: database.config) }

    func problemType(_ response: HTTP.Response) -> String? {
        (response.json?["type"] as? String).map { $0.replacingOccurrences(of: Self.urn, with: "") }
    }

    func text(_ response: HTTP.Response) -> String { String(decoding: response.body, as: UTF8.self) }

    /// The order's first authorization and its challenge of `type`.
    func challenge(_ client: OrderTestClient, order: [String: Any], type: String = "http-01")
        throws -> (authz: String, challenge: [String: Any]) {
        let authzURL = try XCTUnwrap((order["authorizations"] as? [String])?.first)
        let authz = try client.post(authzURL, nil)
        XCTAssertEqual(authz.status, 200, text(authz))
        let challenges = try XCTUnwrap(authz.json?["challenges"] as? [[String: Any]])
        let found = try XCTUnwrap(challenges.first { $0["type"] as? String == type }, "no \(type) in \(challenges)")
        return (authzURL, found)
    }

    /// Publishes the key authorization and triggers the challenge (RFC 8555 §7.5.1).
    @discardableResult
    func solve(_ client: OrderTestClient, _ challenge: [String: Any], content: String? = nil) throws -> HTTP.Response {
        let token = try XCTUnwrap(challenge["token"] as? String)
        try (content ?? "\(token).\(client.key.thumbprint)")
            .write(to: challengeDirectory.appendingPathComponent(token), atomically: true, encoding: .utf8)
        return try client.post(try XCTUnwrap(challenge["url"] as? String), [:])
    }

    /// newOrder + authorize every authorization: the order, ready.
    func readyOrder(_ client: OrderTestClient, _ names: [String], extra: [String: Any] = [:]) throws -> (url: String, json: [String: Any]) {
        let created = try client.newOrder(names, extra: extra)
        XCTAssertTrue([200, 201].contains(created.status), text(created))
        let url = try XCTUnwrap(created.header("Location"))
        for authzURL in try XCTUnwrap(created.json?["authorizations"] as? [String]) {
            let authz = try client.post(authzURL, nil).json ?? [:]
            if authz["status"] as? String == "valid" { continue }
            let http = try XCTUnwrap((authz["challenges"] as? [[String: Any]])?.first { $0["type"] as? String == "http-01" })
            let solved = try solve(client, http)
            XCTAssertEqual(solved.json?["status"] as? String, "valid", text(solved))
        }
        let order = try client.post(url, nil)
        XCTAssertEqual(order.json?["status"] as? String, "ready", text(order))
        return (url, order.json ?? [:])
    }

    // MARK: Tests

    func testPunycodeAndDomainMatching() throws {
        // RFC 3492 §7.1 samples and common IDNs.
        XCTAssertEqual(Punycode.encode("bücher"), "bcher-kva")
        XCTAssertEqual(Punycode.encode("münchen"), "mnchen-3ya")
        XCTAssertEqual(Punycode.encode("他们为什么不说中文"), "ihqwcrb4cv8a8dqg056pqjye")
        XCTAssertEqual(Punycode.decode("bcher-kva"), "bücher")
        XCTAssertEqual(Punycode.decode("ihqwcrb4cv8a8dqg056pqjye"), "他们为什么不说中文")
        XCTAssertNil(Punycode.decode("zz"), "a truncated delta")
        XCTAssertTrue(IdentifierPolicy.matches("*.example.test", "example.test"))
        XCTAssertTrue(IdentifierPolicy.matches("*.example.test", "a.b.example.test"))
        XCTAssertFalse(IdentifierPolicy.matches("*.example.test", "badexample.test"))
        XCTAssertFalse(IdentifierPolicy.matches("example.test", "a.example.test"))
        var config = IdentifierPolicyConfig()
        config.forbiddenDomains = ["secret.example.test"]
        let policy = IdentifierPolicy(config: config)
        // A wildcard covering a forbidden name is refused.
        XCTAssertThrowsError(try policy.check(Identifier(type: "dns", value: "*.example.test")))
        XCTAssertEqual(try policy.check(Identifier(type: "dns", value: "*.Other.Example.test")).value, "*.other.example.test")
        XCTAssertThrowsError(try policy.check(Identifier(type: "dns", value: "*.*.example.test")))
        XCTAssertThrowsError(try policy.check(Identifier(type: "dns", value: "localhost")))
        XCTAssertThrowsError(try policy.check(Identifier(type: "dns", value: "::1")))
        // RFC 8555 §7.1.4: identifiers arrive as A-labels, and `xn--` labels are verified.
        XCTAssertEqual(try policy.check(Identifier(type: "dns", value: "www.XN--bcher-kva.example.test")).value,
                       "www.xn--bcher-kva.example.test")
        for (value, why) in [("xn--zz.example.test", "not Punycode"),
                             ("xn--abc.example.test", "decodes to control characters"),
                             ("xn--bcher-kvb.example.test", "decodes to bcǈher, with a titlecase letter"),
                             ("bücher.example.test", "a U-label, not rewritten"),
                             ("*.münchen.example.test", "a U-label under a wildcard")] {
            XCTAssertThrowsError(try policy.check(Identifier(type: "dns", value: value)), why) { error in
                XCTAssertEqual((error as? Problem)?.type, .malformed, "\(value): \(why)")
            }
        }
        XCTAssertEqual(IPAddress.canonical("2001:DB8:0:0::1"), "2001:db8::1")
    }

    func testHappyPathToCertificateAndRenewalInfo() throws {
        try start()
        let client = try client()
        let created = try client.newOrder(["www.example.test", "api.example.test"])
        XCTAssertEqual(created.status, 201, text(created))
        let orderURL = try XCTUnwrap(created.header("Location"))
        let order = try XCTUnwrap(created.json)
        XCTAssertEqual(order["status"] as? String, "pending")
        XCTAssertEqual((order["authorizations"] as? [String])?.count, 2)
        XCTAssertEqual(order["finalize"] as? String, orderURL + "/finalize")
        XCTAssertNotNil(order["expires"] as? String)

        // Finalize before the order is ready: orderNotReady (RFC 8555 §7.4).
        let keyPath = try TestCSR.newKey(in: directory)
        let csr = try TestCSR.make(names: ["www.example.test", "api.example.test"], keyPath: keyPath,
                                   commonName: "www.example.test", in: directory)
        let early = try client.post(orderURL + "/finalize", ["csr": csr])
        XCTAssertEqual(early.status, 403, text(early))
        XCTAssertEqual(problemType(early), "orderNotReady")

        let (authzURL, http) = try challenge(client, order: order)
        XCTAssertEqual((http["token"] as? String)?.count, 43, "32 random bytes, base64url")
        let solved = try solve(client, http)
        XCTAssertEqual(solved.status, 200, text(solved))
        XCTAssertEqual(solved.json?["status"] as? String, "valid", text(solved))
        XCTAssertNotNil(solved.json?["validated"] as? String)
        XCTAssertTrue((solved.header("Link") ?? "").contains("<\(authzURL)>;rel=\"up\""), solved.header("Link") ?? "")
        XCTAssertEqual(try client.post(authzURL, nil).json?["status"] as? String, "valid")
        XCTAssertEqual(try client.post(orderURL, nil).json?["status"] as? String, "pending", "one authorization left")

        let ready = try readyOrder(client, ["www.example.test", "api.example.test"])
        XCTAssertEqual(ready.url, orderURL, "the open order is returned (dedup)")

        let finalized = try client.post(orderURL + "/finalize", ["csr": csr])
        XCTAssertEqual(finalized.status, 200, text(finalized))
        XCTAssertEqual(finalized.json?["status"] as? String, "valid", text(finalized))
        XCTAssertEqual(finalized.header("Location"), orderURL)
        let certificateURL = try XCTUnwrap(finalized.json?["certificate"] as? String)

        let download = try client.post(certificateURL, nil)
        XCTAssertEqual(download.status, 200, text(download))
        XCTAssertEqual(download.header("Content-Type"), "application/pem-certificate-chain")
        let chain = directory.appendingPathComponent("chain.pem")
        try download.body.write(to: chain)
        let root = directory.appendingPathComponent("ca/root.pem").path
        let verify = try Command.tool("openssl", ["verify", "-CAfile", root, chain.path])
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
        let sans = try Command.tool("openssl", ["x509", "-in", chain.path, "-noout", "-ext", "subjectAltName"])
        XCTAssertTrue(sans.stdout.contains("DNS:www.example.test") && sans.stdout.contains("DNS:api.example.test"), sans.stdout)

        // Finalize again: RFC 8555 §7.4, the order is not ready (it is valid): 403 orderNotReady.
        let again = try client.post(orderURL + "/finalize", ["csr": csr])
        XCTAssertEqual(again.status, 403, text(again))
        XCTAssertEqual(problemType(again), "orderNotReady", text(again))
        XCTAssertEqual(try client.post(orderURL, nil).json?["status"] as? String, "valid")

        // RFC 9773: renewal information by certID.
        let certID = try CertificateID(pemChain: text(download)).text
        let info = try HTTP.get("\(server.baseURL)/renewalInfo/\(certID)")
        XCTAssertEqual(info.status, 200, String(decoding: info.body, as: UTF8.self))
        let window = try XCTUnwrap(info.json?["suggestedWindow"] as? [String: Any])
        XCTAssertNotNil(window["start"] as? String)
        XCTAssertNotNil(window["end"] as? String)
        XCTAssertEqual(info.header("Retry-After"), "21600")
        XCTAssertTrue(server.log.contains("renewalInfo") && server.log.contains(certID), server.log)
        let unknown = try HTTP.get("\(server.baseURL)/renewalInfo/AAAA.AQ")
        XCTAssertEqual(unknown.status, 404)

        // RFC 9773 §5: replaces; a second replacement is alreadyReplaced.
        let renewal = try client.newOrder(["www.example.test", "api.example.test"], extra: ["replaces": certID])
        XCTAssertEqual(renewal.status, 201, text(renewal))
        XCTAssertEqual(renewal.json?["replaces"] as? String, certID)
        XCTAssertEqual(renewal.json?["status"] as? String, "ready", "both authorizations are reused")
        let twice = try client.newOrder(["www.example.test", "api.example.test"], extra: ["replaces": certID])
        XCTAssertEqual(twice.status, 409, text(twice))
        XCTAssertEqual(problemType(twice), "alreadyReplaced")
    }

    func testFinalizeRefusesBadCSRsAndKeepsTheOrderReady() throws {
        try start()
        let client = try client()
        let keyPath = try TestCSR.newKey(in: directory)
        let order = try readyOrder(client, ["one.example.test"])
        /// RFC 8555 §7.4: a refused CSR leaves the order ready, for a corrected CSR.
        func assertStillReady(_ url: String, file: StaticString = #filePath, line: UInt = #line) throws {
            let json = try client.post(url, nil).json
            XCTAssertEqual(json?["status"] as? String, "ready", "\(json ?? [:])", file: file, line: line)
            XCTAssertNil(json?["error"], file: file, line: line)
        }

        // An extra SAN.
        let extra = try client.post(order.url + "/finalize", ["csr": try TestCSR.make(
            names: ["one.example.test", "two.example.test"], keyPath: keyPath, in: directory)])
        XCTAssertEqual(extra.status, 400, text(extra))
        XCTAssertEqual(problemType(extra), "badCSR")
        let sub = try XCTUnwrap(extra.json?["subproblems"] as? [[String: Any]])
        XCTAssertEqual((sub.first?["identifier"] as? [String: Any])?["value"] as? String, "two.example.test")
        try assertStillReady(order.url)

        // A missing name (the authorizations are reused: the new order starts ready).
        let secondReady = try readyOrder(client, ["one.example.test", "three.example.test"])
        let missing = try client.post(secondReady.url + "/finalize", ["csr": try TestCSR.make(
            names: ["one.example.test"], keyPath: keyPath, in: directory)])
        XCTAssertEqual(problemType(missing), "badCSR", text(missing))
        XCTAssertTrue(text(missing).contains("three.example.test"), text(missing))
        try assertStillReady(secondReady.url)

        // A CSR signed with the account key (RFC 8555 §11.1).
        let accountKey = directory.appendingPathComponent("account.key")
        try client.key.privateKeyPEM.write(to: accountKey, atomically: true, encoding: .utf8)
        let sameKey = try client.post(order.url + "/finalize", ["csr": try TestCSR.make(
            names: ["one.example.test"], keyPath: accountKey.path, in: directory)])
        XCTAssertEqual(problemType(sameKey), "badCSR", text(sameKey))
        XCTAssertTrue(text(sameKey).contains("account key"), text(sameKey))
        try assertStillReady(order.url)

        // A weak key, a common name that is not an identifier, a signature that does not
        // verify, and garbage: badCSR each, the order still ready.
        let weakKey = directory.appendingPathComponent("weak.key").path
        let genrsa = try Command.tool("openssl", ["genrsa", "-out", weakKey, "1024"])
        XCTAssertEqual(genrsa.status, 0, genrsa.stderr)
        var tampered = try XCTUnwrap(Base64URL.decode(try TestCSR.make(names: ["one.example.test"], keyPath: keyPath, in: directory)))
        tampered[tampered.count - 1] ^= 0x01
        for csr in [try TestCSR.make(names: ["one.example.test"], keyPath: weakKey, in: directory),
                    try TestCSR.make(names: ["one.example.test"], keyPath: keyPath, commonName: "two.example.test", in: directory),
                    Base64URL.encode(tampered), "AAAA"] {
            let refused = try client.post(order.url + "/finalize", ["csr": csr])
            XCTAssertEqual(problemType(refused), "badCSR", text(refused))
            try assertStillReady(order.url)
        }

        // RFC 8555 §7.4: the dns identifier in the subject's commonName only, with no
        // subjectAltName extension, is accepted; the leaf carries the name in its SAN.
        let commonNameOnly = try client.post(order.url + "/finalize", ["csr": try TestCSR.make(
            names: [], keyPath: keyPath, commonName: "one.example.test", in: directory)])
        XCTAssertEqual(commonNameOnly.status, 200, text(commonNameOnly))
        XCTAssertEqual(commonNameOnly.json?["status"] as? String, "valid", text(commonNameOnly))
        let certificateURL = try XCTUnwrap(commonNameOnly.json?["certificate"] as? String)
        let download = try client.post(certificateURL, nil)
        XCTAssertEqual(download.status, 200, text(download))
        let chain = directory.appendingPathComponent("cn-only.pem")
        try download.body.write(to: chain)
        let sans = try Command.tool("openssl", ["x509", "-in", chain.path, "-noout", "-ext", "subjectAltName"])
        XCTAssertTrue(sans.stdout.contains("DNS:one.example.test"), sans.stdout + sans.stderr)

        // RFC 8555 §7.4: an order that is not ready (here: valid) cannot be finalized again.
        let again = try client.post(order.url + "/finalize", ["csr": try TestCSR.make(
            names: ["one.example.test"], keyPath: keyPath, in: directory)])
        XCTAssertEqual(again.status, 403, text(again))
        XCTAssertEqual(problemType(again), "orderNotReady", text(again))
        XCTAssertEqual(try client.post(order.url, nil).json?["status"] as? String, "valid")
    }

    /// Two finalize requests for one ready order at the same moment: one claims the order
    /// and draws one serial, the other is refused (RFC 8555 §7.4: the order is no longer
    /// ready), and exactly one certificate is recorded.
    func testConcurrentFinalizesMakeOneClaimAndOneCertificate() throws {
        try start()
        let client = try client()
        let order = try readyOrder(client, ["race.example.test"])
        let keyPath = try TestCSR.newKey(in: directory)
        let csr = try TestCSR.make(names: ["race.example.test"], keyPath: keyPath, in: directory)
        let finalize = try XCTUnwrap(order.json["finalize"] as? String)
        let requests = [try client.signedRequest(finalize, ["csr": csr]), try client.signedRequest(finalize, ["csr": csr])]
        let connection = try Connection(config: database.config)
        defer { connection.close() }
        let lastSerial = { try connection.queryFirst("SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS drawn FROM certificate_serial_seq")?.int("drawn") }
        let serialsBefore = try lastSerial()
        nonisolated(unsafe) var replies: [HTTP.Response?] = [nil, nil]
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            let reply = try? HTTP.send(requests[index])
            lock.withLock { replies[index] = reply }
        }
        let statuses = replies.map { $0?.status ?? 0 }.sorted()
        XCTAssertEqual(statuses, [200, 403], replies.map { $0.map(text) ?? "no reply" }.joined(separator: "\n"))
        if let refused = replies.first(where: { $0?.status == 403 }) ?? nil {
            XCTAssertEqual(problemType(refused), "orderNotReady", text(refused))
        }
        let orderID = try XCTUnwrap(UUID(uuidString: String(order.url.split(separator: "/").last ?? "")))
        XCTAssertEqual(try connection.queryFirst("SELECT count(*) AS n FROM certificates WHERE order_id = $1",
                                                 [.uuid(orderID)])?.int("n"), 1)
        let serialsAfter = try lastSerial()
        XCTAssertEqual(serialsAfter.flatMap { after in serialsBefore.map { after - $0 } }, 1, "one serial drawn")
    }

    func testOwnershipAndUnknownResources() throws {
        try start()
        let alice = try client(), mallory = try client()
        let order = try alice.newOrder(["alice.example.test"])
        let orderURL = try XCTUnwrap(order.header("Location"))
        let (authzURL, http) = try challenge(alice, order: order.json ?? [:])

        for url in [orderURL, authzURL, try XCTUnwrap(http["url"] as? String)] {
            let stolen = try mallory.post(url, nil)
            XCTAssertEqual(stolen.status, 403, url)
            XCTAssertEqual(problemType(stolen), "unauthorized", text(stolen))
        }
        let finalize = try mallory.post(orderURL + "/finalize", ["csr": "AAAA"])
        XCTAssertEqual(problemType(finalize), "unauthorized")

        // RFC 8555 §7.5.2: deactivation by the owner only; the order relying on it becomes invalid.
        let foreign = try mallory.post(authzURL, ["status": "deactivated"])
        XCTAssertEqual(problemType(foreign), "unauthorized")
        XCTAssertEqual(try alice.post(authzURL, nil).json?["status"] as? String, "pending", "a foreign deactivation changes nothing")
        XCTAssertEqual(try alice.post(orderURL, nil).json?["status"] as? String, "pending")
        let wrong = try alice.post(authzURL, ["status": "valid"])
        XCTAssertEqual(problemType(wrong), "malformed")
        let deactivated = try alice.post(authzURL, ["status": "deactivated"])
        XCTAssertEqual(deactivated.status, 200, text(deactivated))
        XCTAssertEqual(deactivated.json?["status"] as? String, "deactivated")
        XCTAssertEqual(try alice.post(orderURL, nil).json?["status"] as? String, "invalid")
        let twice = try alice.post(authzURL, ["status": "deactivated"])
        XCTAssertEqual(problemType(twice), "malformed")

        let unknown = try alice.post(server.baseURL + "/order/" + UUID().uuidString.lowercased(), nil)
        XCTAssertEqual(unknown.status, 404)
        XCTAssertEqual(problemType(unknown), "malformed")
        let badID = try alice.post(server.baseURL + "/authz/not-a-uuid", nil)
        XCTAssertEqual(badID.status, 404)
    }

    func testIdentifierPolicyDedupAndWildcards() throws {
        try start()
        let client = try client()
        func refused(_ identifiers: [[String: String]], _ type: String, file: StaticString = #filePath, line: UInt = #line) throws -> HTTP.Response {
            let response = try client.post(server.baseURL + "/new-order", ["identifiers": identifiers])
            XCTAssertEqual(response.status, 400, text(response), file: file, line: line)
            XCTAssertEqual(problemType(response), type, text(response), file: file, line: line)
            return response
        }
        // RFC 8738: an IP address sent as a dns identifier.
        try refused([["type": "dns", "value": "192.0.2.1"]], "rejectedIdentifier")
        // allow_ip is false.
        try refused([["type": "ip", "value": "192.0.2.1"]], "rejectedIdentifier")
        try refused([["type": "email", "value": "a@example.test"]], "unsupportedIdentifier")
        try refused([["type": "dns", "value": "bad.example.test"]], "rejectedIdentifier")
        try refused([["type": "dns", "value": "other.test"]], "rejectedIdentifier")
        try refused([["type": "dns", "value": "-x.example.test"]], "rejectedIdentifier")
        let several = try refused([["type": "dns", "value": "bad.example.test"], ["type": "dns", "value": "ok.example.test"],
                                   ["type": "dns", "value": "elsewhere.test"]], "rejectedIdentifier")
        XCTAssertEqual((several.json?["subproblems"] as? [[String: Any]])?.count, 2, text(several))
        try refused([], "malformed")

        // RFC 8555 §7.1.4: IDNs arrive as A-labels (lowercased here); a U-label is not
        // rewritten but refused, and so is an "xn--" label that is not proper Punycode.
        let idn = try client.newOrder(["XN--BCHER-KVA.example.test"])
        XCTAssertEqual(idn.status, 201, text(idn))
        XCTAssertEqual((idn.json?["identifiers"] as? [[String: Any]])?.first?["value"] as? String,
                       "xn--bcher-kva.example.test")
        try refused([["type": "dns", "value": "BÜCHER.example.test"]], "malformed")
        try refused([["type": "dns", "value": "xn--zz.example.test"]], "malformed")

        // Dedup: the same identifiers again return the open order with 200.
        let first = try client.newOrder(["dedup.example.test", "www.dedup.example.test"])
        XCTAssertEqual(first.status, 201)
        let second = try client.newOrder(["www.dedup.example.test", "DEDUP.example.test"])
        XCTAssertEqual(second.status, 200, text(second))
        XCTAssertEqual(second.header("Location"), first.header("Location"))

        // A wildcard: its own authorization, no http-01 (RFC 8555 §8.3), never the plain one reused.
        _ = try readyOrder(client, ["wild.example.test"])
        let wildcard = try client.newOrder(["*.wild.example.test"])
        XCTAssertEqual(wildcard.status, 201, text(wildcard))
        XCTAssertEqual(wildcard.json?["status"] as? String, "pending", "a plain authorization never stands in for a wildcard")
        let authzURL = try XCTUnwrap((wildcard.json?["authorizations"] as? [String])?.first)
        let authz = try XCTUnwrap(try client.post(authzURL, nil).json)
        XCTAssertEqual(authz["wildcard"] as? Bool, true)
        XCTAssertEqual((authz["identifier"] as? [String: Any])?["value"] as? String, "wild.example.test")
        let types = (authz["challenges"] as? [[String: Any]])?.compactMap { $0["type"] as? String }
        XCTAssertEqual(types, ["dns-01"])
        // dns-01 has auto_validate false: the trigger queues it and the worker validates it.
        let dns = try XCTUnwrap((authz["challenges"] as? [[String: Any]])?.first)
        let queued = try solve(client, dns)
        // The worker may validate before the trigger's response is rendered: `valid` is as right
        // as `processing` then, and only a `processing` challenge carries Retry-After (RFC 8555 §7.5.1).
        let queuedStatus = queued.json?["status"] as? String
        XCTAssertTrue(["processing", "valid"].contains(queuedStatus), text(queued))
        XCTAssertEqual(queued.header("Retry-After") != nil, queuedStatus == "processing", text(queued))
        let wildcardURL = try XCTUnwrap(wildcard.header("Location"))
        let deadline = Date().addingTimeInterval(20)
        var wildcardStatus = ""
        while Date() < deadline {
            wildcardStatus = try client.post(wildcardURL, nil).json?["status"] as? String ?? ""
            if wildcardStatus != "pending" { break }
            Thread.sleep(forTimeInterval: 0.3)
        }
        XCTAssertEqual(wildcardStatus, "ready", server.log)

        // Validity limits and profiles.
        let tooLong = try client.newOrder(["v.example.test"], extra: [
            "notBefore": Date().formatted(.iso8601), "notAfter": Date().addingTimeInterval(200 * 86_400).formatted(.iso8601)])
        XCTAssertEqual(problemType(tooLong), "malformed", text(tooLong))
        XCTAssertTrue(text(tooLong).contains("100 days"), text(tooLong))
        let backwards = try client.newOrder(["v.example.test"], extra: [
            "notBefore": Date().addingTimeInterval(86_400).formatted(.iso8601), "notAfter": Date().formatted(.iso8601)])
        XCTAssertEqual(problemType(backwards), "malformed")
        let profile = try client.newOrder(["v.example.test"], extra: ["profile": "nope"])
        XCTAssertEqual(problemType(profile), "invalidProfile", text(profile))

        // newAuthz (RFC 8555 §7.4.1) with the same policy.
        let pre = try client.post(server.baseURL + "/new-authz", ["identifier": ["type": "dns", "value": "pre.example.test"]])
        XCTAssertEqual(pre.status, 201, text(pre))
        XCTAssertNotNil(pre.header("Location"))
        let preRefused = try client.post(server.baseURL + "/new-authz", ["identifier": ["type": "dns", "value": "bad.example.test"]])
        XCTAssertEqual(problemType(preRefused), "rejectedIdentifier")
    }

    func testFailedValidationInvalidatesAuthorizationAndOrder() throws {
        try start()
        let client = try client()
        let order = try client.newOrder(["fail.example.test"])
        let orderURL = try XCTUnwrap(order.header("Location"))
        let (authzURL, http) = try challenge(client, order: order.json ?? [:])
        let failed = try solve(client, http, content: "not the key authorization")
        XCTAssertEqual(failed.json?["status"] as? String, "invalid", text(failed))
        XCTAssertEqual((failed.json?["error"] as? [String: Any])?["type"] as? String, Self.urn + "incorrectResponse")
        XCTAssertEqual(try client.post(authzURL, nil).json?["status"] as? String, "invalid")
        let invalid = try client.post(orderURL, nil).json
        XCTAssertEqual(invalid?["status"] as? String, "invalid")
        XCTAssertNotNil(invalid?["error"])
        // A terminal challenge is returned unchanged.
        let again = try client.post(try XCTUnwrap(http["url"] as? String), [:])
        XCTAssertEqual(again.json?["status"] as? String, "invalid")
        // A fresh order for the same name gets a fresh authorization.
        let fresh = try client.newOrder(["fail.example.test"])
        XCTAssertEqual(fresh.status, 201)
        XCTAssertNotEqual(fresh.header("Location"), orderURL)
    }

    func testRetryWithBackoffThenSuccessThroughTheWorker() throws {
        try start()
        let client = try client()
        let order = try client.newOrder(["retry.example.test"])
        let orderURL = try XCTUnwrap(order.header("Location"))
        let (_, http) = try challenge(client, order: order.json ?? [:])
        let challengeURL = try XCTUnwrap(http["url"] as? String)
        let token = try XCTUnwrap(http["token"] as? String)

        // Nothing published yet: a retryable failure keeps it processing (RFC 8555 §8.2).
        let first = try client.post(challengeURL, [:])
        XCTAssertEqual(first.json?["status"] as? String, "processing", text(first))
        XCTAssertEqual((first.json?["error"] as? [String: Any])?["type"] as? String, Self.urn + "connection")
        XCTAssertNotNil(first.header("Retry-After"))

        // Publish; the worker retries after the backoff and succeeds.
        try "\(token).\(client.key.thumbprint)".write(to: challengeDirectory.appendingPathComponent(token),
                                                        atomically: true, encoding: .utf8)
        let deadline = Date().addingTimeInterval(30)
        var status = ""
        while Date() < deadline {
            status = try client.post(challengeURL, nil).json?["status"] as? String ?? ""
            if status != "processing" { break }
            Thread.sleep(forTimeInterval: 0.5)
        }
        XCTAssertEqual(status, "valid", server.log)
        XCTAssertEqual(try client.post(orderURL, nil).json?["status"] as? String, "ready")
        let calls = try String(contentsOf: challengeDirectory.appendingPathComponent("calls.log"), encoding: .utf8)
        XCTAssertGreaterThanOrEqual(calls.split(separator: "\n").count, 2, calls)
    }

    func testRetriesExhaustedMakeTheChallengeInvalid() throws {
        try start()
        let client = try client()
        let order = try client.newOrder(["gone.example.test"])
        let orderURL = try XCTUnwrap(order.header("Location"))
        let (_, http) = try challenge(client, order: order.json ?? [:])
        let challengeURL = try XCTUnwrap(http["url"] as? String)
        XCTAssertEqual(try client.post(challengeURL, [:]).json?["status"] as? String, "processing")
        // 1 + max_retries (3) attempts with 1 s, 2 s, 2 s of backoff.
        let deadline = Date().addingTimeInterval(40)
        var json: [String: Any] = [:]
        while Date() < deadline {
            json = try client.post(challengeURL, nil).json ?? [:]
            if json["status"] as? String != "processing" { break }
            Thread.sleep(forTimeInterval: 0.5)
        }
        XCTAssertEqual(json["status"] as? String, "invalid", "\(json)")
        XCTAssertEqual((json["error"] as? [String: Any])?["type"] as? String, Self.urn + "connection")
        XCTAssertEqual(try client.post(orderURL, nil).json?["status"] as? String, "invalid")
        let calls = try String(contentsOf: challengeDirectory.appendingPathComponent("calls.log"), encoding: .utf8)
        XCTAssertEqual(calls.split(separator: "\n").count, 4, calls)
    }

    func testIPIdentifierGetsHTTP01AndACertificate() throws {
        try start(allowIP: true)
        let client = try client()
        let order = try client.post(server.baseURL + "/new-order", ["identifiers": [["type": "ip", "value": "192.0.2.10"]]])
        XCTAssertEqual(order.status, 201, text(order))
        let orderURL = try XCTUnwrap(order.header("Location"))
        let authzURL = try XCTUnwrap((order.json?["authorizations"] as? [String])?.first)
        let authz = try XCTUnwrap(try client.post(authzURL, nil).json)
        XCTAssertEqual((authz["identifier"] as? [String: Any])?["type"] as? String, "ip")
        // RFC 8738 §7: no DNS-based challenge for an IP address.
        let challenges = try XCTUnwrap(authz["challenges"] as? [[String: Any]])
        XCTAssertEqual(challenges.compactMap { $0["type"] as? String }, ["http-01"])
        XCTAssertEqual(try solve(client, challenges[0]).json?["status"] as? String, "valid")
        XCTAssertEqual(try client.post(orderURL, nil).json?["status"] as? String, "ready")

        let keyPath = try TestCSR.newKey(in: directory)
        let csr = try TestCSR.make(names: ["IP:192.0.2.10"], keyPath: keyPath, in: directory)
        let finalized = try client.post(orderURL + "/finalize", ["csr": csr])
        XCTAssertEqual(finalized.json?["status"] as? String, "valid", text(finalized))
        let certificate = try client.post(try XCTUnwrap(finalized.json?["certificate"] as? String), nil)
        let chain = directory.appendingPathComponent("ip.pem")
        try certificate.body.write(to: chain)
        let sans = try Command.tool("openssl", ["x509", "-in", chain.path, "-noout", "-ext", "subjectAltName"])
        XCTAssertTrue(sans.stdout.contains("IP Address:192.0.2.10"), sans.stdout)
    }

    /// The C CA of PluginLoaderTests (Fixtures/counting_ca.c): it refuses the "reject"
    /// profile with badCSR, defers "pending", and answers "default" with a fake chain.
    func testCAErrorsMakeTheOrderInvalid() throws {
        let fixtures = try Fixtures.shared.get()
        try start(caBackend: "ext:\(fixtures.directory)/libCountingCA.so")
        let client = try client()
        let keyPath = try TestCSR.newKey(in: directory)
        func finalize(_ name: String, profile: String?) throws -> (String, HTTP.Response) {
            let order = try readyOrder(client, [name], extra: profile.map { ["profile": $0] } ?? [:])
            XCTAssertEqual(order.json["profile"] as? String, profile)
            let csr = try TestCSR.make(names: [name], keyPath: keyPath, in: directory)
            return (order.url, try client.post(order.url + "/finalize", ["csr": csr]))
        }
        // A final CA refusal: the plugin's problem, the order invalid with it.
        let (rejectedURL, rejected) = try finalize("reject.example.test", profile: "reject")
        XCTAssertEqual(problemType(rejected), "badCSR", text(rejected))
        let rejectedOrder = try client.post(rejectedURL, nil).json
        XCTAssertEqual(rejectedOrder?["status"] as? String, "invalid")
        XCTAssertEqual((rejectedOrder?["error"] as? [String: Any])?["type"] as? String, Self.urn + "badCSR")

        // Deferred signing: the order stays processing, with Retry-After, until the poller
        // asks the CA again (after its 3 s); this CA then answers with its fake chain.
        let (pendingURL, pending) = try finalize("pending.example.test", profile: "pending")
        XCTAssertEqual(pending.status, 200, text(pending))
        XCTAssertEqual(pending.json?["status"] as? String, "processing")
        XCTAssertNotNil(pending.header("Retry-After"))
        let deadline = Date().addingTimeInterval(20)
        var polled: [String: Any] = [:]
        while Date() < deadline {
            polled = try client.post(pendingURL, nil).json ?? [:]
            if polled["status"] as? String != "processing" { break }
            Thread.sleep(forTimeInterval: 0.5)
        }
        XCTAssertEqual(polled["status"] as? String, "invalid", "\(polled)")
        XCTAssertTrue(((polled["error"] as? [String: Any])?["detail"] as? String ?? "").contains("cannot be parsed"), "\(polled)")

        // A chain that cannot be parsed is not served: the order is invalid (serverInternal).
        let (brokenURL, broken) = try finalize("broken.example.test", profile: nil)
        XCTAssertEqual(problemType(broken), "serverInternal", text(broken))
        XCTAssertEqual(try client.post(brokenURL, nil).json?["status"] as? String, "invalid")
    }

    func testExpiredAuthorizationsAndOrdersMoveOn() throws {
        try start(extra: "order:\n  authorization_expiry_seconds: 1\n  cleanup_interval_seconds: 1")
        let client = try client()
        let order = try client.newOrder(["late.example.test"])
        let orderURL = try XCTUnwrap(order.header("Location"))
        let authzURL = try XCTUnwrap((order.json?["authorizations"] as? [String])?.first)
        let deadline = Date().addingTimeInterval(15)
        var stored: (String, String) = ("", "")
        while Date() < deadline {
            Thread.sleep(forTimeInterval: 0.5)
            let connection = try Connection(config: database.config)
            defer { connection.close() }
            let authz = try connection.queryFirst("SELECT status FROM authorizations")?.string("status") ?? ""
            let orderStatus = try connection.queryFirst("SELECT status FROM orders")?.string("status") ?? ""
            stored = (authz, orderStatus)
            if stored == ("expired", "invalid") { break }
        }
        XCTAssertEqual(stored.0, "expired")
        XCTAssertEqual(stored.1, "invalid")
        XCTAssertEqual(try client.post(authzURL, nil).json?["status"] as? String, "expired")
        let invalid = try client.post(orderURL, nil).json
        XCTAssertEqual(invalid?["status"] as? String, "invalid")
        XCTAssertNotNil(invalid?["error"])
        // An expired authorization cannot be validated any more.
        let challenge = try XCTUnwrap(((try client.post(authzURL, nil).json?["challenges"]) as? [[String: Any]])?.first)
        XCTAssertEqual(try client.post(try XCTUnwrap(challenge["url"] as? String), [:]).json?["status"] as? String, "pending")
    }
}
