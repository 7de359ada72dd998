import Foundation
@testable import Host
import XCTest

/// CAA at finalize (RFC 8659, RFC 8657): the record parser and the decision without any
/// network, the libldns lookup against `LoopbackDNS` (scripts/loopback-dns), and
/// finalize end to end through the real server with that responder as `dns.resolvers`.
final class CAATests: XCTestCase {
    static let ours = "ca.acmeeh.test"
    static let urn = "urn:ietf:params:acme:error:"

    // MARK: - Parser

    func testIssueValueGrammar() throws {
        let plain = try XCTUnwrap(CAAIssueValue("Ca.Acmeeh.Test"))
        XCTAssertEqual(plain.issuer, "ca.acmeeh.test")
        XCTAssertTrue(plain.parameters.isEmpty)
        XCTAssertNil(try XCTUnwrap(CAAIssueValue(";")).issuer, "an empty issuer forbids every CA")
        XCTAssertNil(try XCTUnwrap(CAAIssueValue("")).issuer)
        XCTAssertNil(try XCTUnwrap(CAAIssueValue("  ; ")).issuer)

        let full = try XCTUnwrap(CAAIssueValue(
            " ca.acmeeh.test ;  accounturi = https://a.test/acct/1 ;validationmethods=dns-01,http-01"))
        XCTAssertEqual(full.issuer, "ca.acmeeh.test")
        XCTAssertEqual(full.values(of: "accounturi"), ["https://a.test/acct/1"])
        XCTAssertEqual(full.values(of: "validationmethods"), ["dns-01,http-01"])
        XCTAssertEqual(try XCTUnwrap(CAAIssueValue("; Policy=x")).parameters.first?.tag, "policy")
        XCTAssertNotNil(CAAIssueValue("ca.acmeeh.test; a=b;"), "one trailing semicolon is tolerated")
        XCTAssertEqual(try XCTUnwrap(CAAIssueValue("ca.acmeeh.test; a=")).values(of: "a"), [""], "values may be empty")

        for malformed in ["ca..acmeeh.test", "-ca.test", "ca-.test", "ca.test.", "ca_x.test", "ca.test x",
                          "ca.test; flag", "ca.test; a=b c", "ca.test; -a=b", "ca.test; a=b;; c=d", "ca.test; =b"] {
            XCTAssertNil(CAAIssueValue(malformed), malformed)
        }
    }

    func testRecordFromRDATA() throws {
        let rdata: [UInt8] = [128, 5] + Array("issue".utf8) + Array("ca.test".utf8)
        let record = try XCTUnwrap(CAARecord(rdata: rdata))
        XCTAssertEqual(record, CAARecord(flags: 128, tag: "issue", value: "ca.test"))
        XCTAssertTrue(record.critical)
        XCTAssertEqual(CAARecord(rdata: [0, 5] + Array("iodef".utf8))?.value, [])
        XCTAssertNil(CAARecord(rdata: [0]))
        XCTAssertNil(CAARecord(rdata: [0, 0]), "a tag has at least one octet")
        XCTAssertNil(CAARecord(rdata: [0, 9] + Array("issue".utf8)))
    }

    // MARK: - Decision

    let policy = CAAPolicy(identities: ["CA.acmeeh.test", "alias.acmeeh.test"])
    let account = "https://acme.test/acct/1"

    func request(wildcard: Bool = false, methods: Set<String> = ["http-01"]) -> CAAPolicy.Request {
        CAAPolicy.Request(wildcard: wildcard, accountURL: account, validationMethods: methods)
    }

    func issue(_ value: String, flags: UInt8 = 0) -> CAARecord { CAARecord(flags: flags, tag: "issue", value: value) }
    func wild(_ value: String) -> CAARecord { CAARecord(flags: 0, tag: "issuewild", value: value) }

    func assertRefused(_ verdict: CAAPolicy.Verdict, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        guard case .refused(let why) = verdict else { return XCTFail("allowed; expected a refusal", file: file, line: line) }
        XCTAssertTrue(why.contains(fragment), why, file: file, line: line)
    }

    func testDecisionIssueAndIssuer() {
        XCTAssertEqual(policy.decide([], for: request()), .allowed, "no CAA at all: allowed")
        XCTAssertEqual(policy.decide([issue("ca.acmeeh.test")], for: request()), .allowed)
        XCTAssertEqual(policy.decide([issue("Alias.Acmeeh.Test")], for: request()), .allowed, "any of caa_identities")
        XCTAssertEqual(policy.decide([issue("other.test"), issue("ca.acmeeh.test")], for: request()), .allowed,
                       "one authorizing property is enough")
        assertRefused(policy.decide([issue("other.test")], for: request()), "names another CA")
        assertRefused(policy.decide([issue(";")], for: request()), "forbids every CA")
        assertRefused(policy.decide([issue("ca.acmeeh.test x")], for: request()), "malformed")
        XCTAssertEqual(policy.decide([CAARecord(flags: 0, tag: "iodef", value: "mailto:x@y.test")], for: request()), .allowed,
                       "no issue property: unrestricted (RFC 8659 §4.1)")
        XCTAssertEqual(policy.decide([CAARecord(flags: 0, tag: "ISSUE", value: "ca.acmeeh.test"), issue("other.test")],
                                     for: request()), .allowed, "tags are case-insensitive")
        XCTAssertEqual(policy.decide([issue("ca.acmeeh.test; policy=ev; foo=bar")], for: request()), .allowed,
                       "unknown parameters are ignored")
    }

    func testDecisionCriticalFlag() {
        assertRefused(policy.decide([issue("ca.acmeeh.test"), CAARecord(flags: 128, tag: "tbs", value: "x")], for: request()),
                      "critical")
        XCTAssertEqual(policy.decide([issue("ca.acmeeh.test"), CAARecord(flags: 0, tag: "tbs", value: "x")], for: request()),
                       .allowed, "an unknown tag without the flag is ignored")
        XCTAssertEqual(policy.decide([issue("ca.acmeeh.test", flags: 128)], for: request()), .allowed,
                       "a critical issue is understood")
        XCTAssertEqual(policy.decide([issue("ca.acmeeh.test"), CAARecord(flags: 1, tag: "tbs", value: "x")], for: request()),
                       .allowed, "reserved flag bits are not the critical flag")
    }

    func testDecisionWildcard() {
        let records = [issue("ca.acmeeh.test"), wild("other.test")]
        XCTAssertEqual(policy.decide(records, for: request()), .allowed, "issuewild is ignored for other names")
        assertRefused(policy.decide(records, for: request(wildcard: true)), "issuewild")
        XCTAssertEqual(policy.decide([issue("other.test"), wild("ca.acmeeh.test")], for: request(wildcard: true)), .allowed)
        XCTAssertEqual(policy.decide([issue("ca.acmeeh.test")], for: request(wildcard: true)), .allowed,
                       "no issuewild: issue applies")
        assertRefused(policy.decide([issue("other.test")], for: request(wildcard: true)), "names another CA")
        XCTAssertEqual(policy.decide([wild("other.test")], for: request()), .allowed, "only issuewild, plain name")
        assertRefused(policy.decide([issue("ca.acmeeh.test"), wild(";")], for: request(wildcard: true)), "forbids")
    }

    func testDecisionAccountURIAndValidationMethods() {
        XCTAssertEqual(policy.decide([issue("ca.acmeeh.test; accounturi=\(account)")], for: request()), .allowed)
        assertRefused(policy.decide([issue("ca.acmeeh.test; accounturi=https://acme.test/acct/2")], for: request()),
                      "bound to account")
        assertRefused(policy.decide([issue("ca.acmeeh.test; accounturi=\(account)/")], for: request()), "bound to account")
        assertRefused(policy.decide([issue("ca.acmeeh.test; accounturi=\(account); accounturi=\(account)")], for: request()),
                      "more than one accounturi")
        XCTAssertEqual(policy.decide([issue("ca.acmeeh.test; accounturi=https://acme.test/acct/2"),
                                      issue("ca.acmeeh.test; accounturi=\(account)")], for: request()), .allowed)

        XCTAssertEqual(policy.decide([issue("ca.acmeeh.test; validationmethods=dns-01,http-01")], for: request()), .allowed)
        assertRefused(policy.decide([issue("ca.acmeeh.test; validationmethods=dns-01")], for: request()),
                      "validation method used (http-01)")
        assertRefused(policy.decide([issue("ca.acmeeh.test; validationmethods=http-01")], for: request(methods: [])),
                      "none recorded")
        assertRefused(policy.decide([issue("ca.acmeeh.test; validationmethods=http-01,")], for: request()), "malformed")
        XCTAssertEqual(policy.decide([issue("ca.acmeeh.test; accounturi=\(account); validationmethods=tls-alpn-01,dns-01")],
                                     for: request(methods: ["dns-01"])), .allowed)
        assertRefused(policy.decide([issue("ca.acmeeh.test; accounturi=https://x.test/acct/9; validationmethods=http-01")],
                                    for: request()), "bound to account")
    }

    // MARK: - Tree climb and problems

    func testTreeClimbAndProblems() async throws {
        let zone: [String: [CAARecord]] = [
            "example.test": [issue("ca.acmeeh.test")],
            "other.test": [issue("other-ca.test")],
            "deep.other.test": [CAARecord(flags: 0, tag: "iodef", value: "mailto:a@b.test")],
        ]
        let asked = Asked()
        let lookup: @Sendable (String) async throws -> [CAARecord] = { name in
            await asked.add(name)
            if name.hasPrefix("broken") { throw CAALookupError(detail: "DNS: SERVFAIL for \(name)") }
            return zone[name] ?? []
        }
        let found = try await CAACheck.relevantRRset(for: "a.b.Example.test", lookup: lookup)
        XCTAssertEqual(found?.domain, "example.test")
        let climbed = await asked.names
        XCTAssertEqual(climbed, ["a.b.example.test", "b.example.test", "example.test"])
        let none = try await CAACheck.relevantRRset(for: "x.free.test", lookup: lookup)
        XCTAssertNil(none)
        let nearest = try await CAACheck.relevantRRset(for: "a.deep.other.test", lookup: lookup)
        XCTAssertEqual(nearest?.domain, "deep.other.test", "the closest RRset wins, even without issue")

        let check = CAACheck(policy: CAAPolicy(identities: [Self.ours]), lookup: lookup)
        func id(_ value: String, _ type: String = "dns") -> Identifier { Identifier(type: type, value: value) }
        try await check.check(identifiers: [id("www.example.test"), id("*.example.test"), id("x.free.test"),
                                            id("a.deep.other.test"), id("192.0.2.1", "ip"), id("broken.test", "ip")],
                              accountURL: account, validationMethods: [:])

        do {
            try await check.check(identifiers: [id("www.example.test"), id("a.other.test"), id("*.other.test")],
                                  accountURL: account, validationMethods: [:])
            XCTFail("allowed")
        } catch {
            XCTAssertEqual(error.type, .caa)
            XCTAssertEqual(error.status, 403)
            XCTAssertEqual(error.subproblems.map(\.identifier?.value), ["a.other.test", "*.other.test"])
            XCTAssertTrue(error.subproblems.allSatisfy { $0.type == .caa })
            XCTAssertTrue(error.subproblems[0].detail.contains("CAA at other.test"), error.subproblems[0].detail)
        }
        do {
            try await check.check(identifiers: [id("www.example.test"), id("broken.test")],
                                  accountURL: account, validationMethods: [:])
            XCTFail("allowed")
        } catch {
            XCTAssertEqual(error.type, .dns)
            XCTAssertEqual(error.status, 400)
            XCTAssertEqual(error.subproblems.map(\.identifier?.value), ["broken.test"])
            XCTAssertTrue(error.detail.contains("SERVFAIL"), error.detail)
        }
        do {
            try await check.check(identifiers: [id("broken.test"), id("a.other.test")], accountURL: account, validationMethods: [:])
            XCTFail("allowed")
        } catch {
            XCTAssertEqual(error.type, .caa, "a refusal outweighs a failed lookup")
            XCTAssertEqual(Set(error.subproblems.map(\.type)), [.caa, .dns])
        }

        // validationmethods reads the methods of each identifier, wildcards by their "*." form.
        let methodZone: @Sendable (String) async throws -> [CAARecord] = { name in
            name == "m.test" ? [CAARecord(flags: 0, tag: "issue", value: "ca.acmeeh.test; validationmethods=dns-01")] : []
        }
        let methods = CAACheck(policy: CAAPolicy(identities: [Self.ours]), lookup: methodZone)
        try await methods.check(identifiers: [id("*.m.test")], accountURL: account,
                                validationMethods: [id("*.m.test"): ["dns-01"], id("m.test"): ["http-01"]])
        do {
            try await methods.check(identifiers: [id("m.test")], accountURL: account,
                                    validationMethods: [id("*.m.test"): ["dns-01"], id("m.test"): ["http-01"]])
            XCTFail("allowed")
        } catch {
            XCTAssertEqual(error.type, .caa)
        }
    }

    func testAccountURLAndConfigSwitches() throws {
        var config = try ConfigLoader.load(yaml: """
            server:
              external_url: https://acme.test
            database:
              database: acmeeh
              user: acmeeh
            ca:
              internal:
                root_cert_path: /nonexistent/root.pem
                root_key_path: /nonexistent/root-key.pem
            """, source: "test.yaml", environment: [:])
        let id = UUID()
        XCTAssertEqual(CAACheck.accountURL(config: config, accountID: id), "https://acme.test/acct/\(id.uuidString.lowercased())")
        config.api.basePath = "acme/"
        XCTAssertEqual(CAACheck.accountURL(config: config, accountID: id),
                       "https://acme.test/acme/acct/\(id.uuidString.lowercased())")
        XCTAssertNil(CAACheck(config: config), "no caa_identities: no check")
        config.acme.caaIdentities = [Self.ours]
        XCTAssertNotNil(CAACheck(config: config))
        config.acme.caaEnforce = false
        XCTAssertNil(CAACheck(config: config))

        XCTAssertEqual(StubResolver.server("192.0.2.1"), .init(address: "192.0.2.1", isIPv6: false, port: 53))
        XCTAssertEqual(StubResolver.server("192.0.2.1:5353"), .init(address: "192.0.2.1", isIPv6: false, port: 5353))
        XCTAssertEqual(StubResolver.server("[2001:db8::1]:53"), .init(address: "2001:db8::1", isIPv6: true, port: 53))
        XCTAssertEqual(StubResolver.server("2001:db8::1"), .init(address: "2001:db8::1", isIPv6: true, port: 53))
        XCTAssertNil(StubResolver.server("resolver.test"))
    }

    // MARK: - Lookup over loopback DNS

    func testLookupThroughLDNS() throws {
        let directory = try TestPaths.temporaryDirectory("acmeeh-caa-lookup")
        defer { try? FileManager.default.removeItem(at: directory) }
        let dns = try LoopbackDNS(directory: directory, zone: """
            \(LoopbackDNS.everyTestName)
            example.test CAA 0 issue "ca.acmeeh.test; accounturi=https://a.test/acct/1"
            example.test CAA 128 tbs x
            example.test CAA 0 iodef mailto:x@example.test
            alias.test CNAME example.test
            broken.test RCODE SERVFAIL
            refused.test RCODE REFUSED
            gone.test RCODE NXDOMAIN
            silent.test SILENT
            """)
        defer { dns.stop() }
        let lookup = CAALookup(dns: DnsConfig(resolvers: [dns.address], timeoutSeconds: 1, retries: 0))
        let records = try lookup.recordsBlocking(at: "example.test")
        XCTAssertEqual(records, [CAARecord(flags: 0, tag: "issue", value: "ca.acmeeh.test; accounturi=https://a.test/acct/1"),
                                 CAARecord(flags: 128, tag: "tbs", value: "x"),
                                 CAARecord(flags: 0, tag: "iodef", value: "mailto:x@example.test")])
        XCTAssertEqual(try lookup.recordsBlocking(at: "alias.test").count, 3, "CNAME followed")
        XCTAssertEqual(try lookup.recordsBlocking(at: "nothing.test"), [])
        XCTAssertEqual(try lookup.recordsBlocking(at: "gone.test"), [], "NXDOMAIN: no records")
        XCTAssertThrowsError(try lookup.recordsBlocking(at: "broken.test")) {
            XCTAssertTrue("\($0)".contains("SERVFAIL"), "\($0)")
        }
        XCTAssertThrowsError(try lookup.recordsBlocking(at: "refused.test")) {
            XCTAssertTrue("\($0)".contains("REFUSED"), "\($0)")
        }
        let start = Date()
        XCTAssertThrowsError(try lookup.recordsBlocking(at: "silent.test"))
        XCTAssertLessThan(Date().timeIntervalSince(start), 5, "dns.timeout_seconds bounds the wait")

        // dns.retries: a round without a usable answer is asked again, an answered one is not.
        func queries(_ name: String) -> Int { dns.log.components(separatedBy: "query \(name) type 257").count - 1 }
        let retrying = CAALookup(dns: DnsConfig(resolvers: [dns.address], timeoutSeconds: 1, retries: 2))
        XCTAssertThrowsError(try retrying.recordsBlocking(at: "broken.test")) {
            XCTAssertTrue("\($0)".contains("asked 3 times"), "\($0)")
        }
        XCTAssertEqual(queries("broken.test"), 1 + 3, "one query without retries, then 1 + dns.retries")
        _ = try retrying.recordsBlocking(at: "example.test")
        XCTAssertEqual(queries("example.test"), 1 + 1)

        // A dead resolver first, then the working one: asked in order.
        let dead = try ServerProcess.freePort()
        let both = CAALookup(dns: DnsConfig(resolvers: ["127.0.0.1:\(dead)", dns.address], timeoutSeconds: 1))
        XCTAssertEqual(try both.recordsBlocking(at: "example.test").count, 3)
    }

    // MARK: - End to end

    var directory: URL!
    var challengeDirectory: URL!
    var database: TestDatabase!
    var server: ServerProcess!
    var dns: LoopbackDNS!

    override func tearDownWithError() throws {
        server?.stop()
        dns?.stop()
        database?.drop()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    /// A server whose CAA lookups go to a fresh `LoopbackDNS`; `caa_identities` = [ours].
    func start(timeoutSeconds: Int = 2) throws {
        directory = try TestPaths.temporaryDirectory("acmeeh-caa")
        challengeDirectory = directory.appendingPathComponent("challenges")
        try FileManager.default.createDirectory(at: challengeDirectory, withIntermediateDirectories: true)
        database = try TestDatabase.create()
        let ca = directory.appendingPathComponent("ca")
        let made = try Command.run(TestPaths.repository.appendingPathComponent("scripts/dev-ca").path, [ca.path])
        XCTAssertEqual(made.status, 0, made.stderr)
        dns = try LoopbackDNS(directory: directory)
        let libraries = try FileValidatorFixture.libraries.get()
        let port = try ServerProcess.freePort()
        let url = try TestServer.writeConfig(directory: directory, database: database.config, port: port,
                                             maxConnections: 6, extra: """
            challenges:
              enabled: ["ext:\(libraries.http)", "ext:\(libraries.dns)"]
              background_worker:
                poll_seconds: 1
            acme:
              caa_identities: ["\(Self.ours)"]
            dns:
              resolvers: ["\(dns.address)"]
              timeout_seconds: \(timeoutSeconds)
            """)
        server = try ServerProcess(config: url, port: port, logFile: directory.appendingPathComponent("server.log"),
                                   environment: ["ACMEEH_TEST_CHALLENGE_DIR": challengeDirectory.path])
        try server.waitUntilLive()
    }

    /// Replaces the responder's zone with `records` below every `.test` name answering
    /// without CAA (as an unsigned zone with no CAA records would).
    func writeZone(_ records: String) throws { try dns.write(LoopbackDNS.everyTestName + records + "\n") }

    func client() throws -> OrderTestClient { try OrderTestClient(base: server.baseURL, database: database.config) }

    func text(_ response: HTTP.Response) -> String { String(decoding: response.body, as: UTF8.self) }

    /// newOrder, every authorization validated (http-01, or dns-01 through the worker for
    /// wildcards), then finalize with a CSR for `names`: the finalize response and the order URL.
    func finalize(_ client: OrderTestClient, _ names: [String],
                  file: StaticString = #filePath, line: UInt = #line) throws -> (response: HTTP.Response, order: String) {
        let created = try client.newOrder(names)
        XCTAssertTrue([200, 201].contains(created.status), text(created), file: file, line: line)
        let orderURL = try XCTUnwrap(created.header("Location"), file: file, line: line)
        for authzURL in try XCTUnwrap(created.json?["authorizations"] as? [String]) {
            let authz = try client.post(authzURL, nil).json ?? [:]
            if authz["status"] as? String == "valid" { continue }
            let challenges = authz["challenges"] as? [[String: Any]] ?? []
            let challenge = try XCTUnwrap(challenges.first { $0["type"] as? String == "http-01" }
                                          ?? challenges.first { $0["type"] as? String == "dns-01" }, file: file, line: line)
            let token = try XCTUnwrap(challenge["token"] as? String)
            try "\(token).\(client.key.thumbprint)".write(to: challengeDirectory.appendingPathComponent(token),
                                                         atomically: true, encoding: .utf8)
            try client.post(try XCTUnwrap(challenge["url"] as? String), [:])
        }
        let deadline = Date().addingTimeInterval(30)
        var status = ""
        while Date() < deadline {
            status = try client.post(orderURL, nil).json?["status"] as? String ?? ""
            if status != "pending" { break }
            Thread.sleep(forTimeInterval: 0.3)
        }
        XCTAssertEqual(status, "ready", server.log, file: file, line: line)
        let key = try TestCSR.newKey(in: directory)
        let csr = try TestCSR.make(names: names, keyPath: key, in: directory)
        return (try client.post(orderURL + "/finalize", ["csr": csr]), orderURL)
    }

    /// Finalize succeeded: 200 and a valid order.
    func assertIssued(_ client: OrderTestClient, _ names: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let (response, _) = try finalize(client, names, file: file, line: line)
        XCTAssertEqual(response.status, 200, text(response), file: file, line: line)
        XCTAssertEqual(response.json?["status"] as? String, "valid", text(response), file: file, line: line)
    }

    /// Finalize refused with `type` and `status`; the order is invalid with that problem.
    /// Returns the identifiers of the subproblems.
    @discardableResult
    func assertRefused(_ client: OrderTestClient, _ names: [String], type: String, status: Int, containing fragment: String = "",
                       file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        let (response, orderURL) = try finalize(client, names, file: file, line: line)
        XCTAssertEqual(response.status, status, text(response), file: file, line: line)
        XCTAssertEqual(response.json?["type"] as? String, Self.urn + type, text(response), file: file, line: line)
        if !fragment.isEmpty { XCTAssertTrue(text(response).contains(fragment), text(response), file: file, line: line) }
        let order = try client.post(orderURL, nil).json
        XCTAssertEqual(order?["status"] as? String, "invalid", file: file, line: line)
        XCTAssertEqual((order?["error"] as? [String: Any])?["type"] as? String, Self.urn + type, file: file, line: line)
        let subproblems = response.json?["subproblems"] as? [[String: Any]] ?? []
        XCTAssertTrue(subproblems.allSatisfy { ($0["type"] as? String)?.hasPrefix(Self.urn) == true }, file: file, line: line)
        return subproblems.compactMap { ($0["identifier"] as? [String: Any])?["value"] as? String }
    }

    func testFinalizeHonoursIssueCriticalFlagsAndCNAMEs() throws {
        try start()
        // RFC 8659 §3: alias2's climb goes up from the name asked, not from its CNAME's target.
        try writeZone("""
            other.caa.test CAA 0 issue other-ca.test
            ours.caa.test CAA 0 issue other-ca.test
            ours.caa.test CAA 0 issue \(Self.ours)
            alias.caa.test CNAME other.test
            alias2.caa.test CNAME target.other.test
            other.test CAA 0 issue other-ca.test
            crit.caa.test CAA 0 issue \(Self.ours)
            crit.caa.test CAA 128 tbs unknown
            noncrit.caa.test CAA 0 issue \(Self.ours)
            noncrit.caa.test CAA 0 tbs unknown
            none.caa.test CAA 0 issue ";"
            """)
        let client = try client()
        // No CAA anywhere up the tree.
        try assertIssued(client, ["free.caa.test"])
        // Our issuer among others.
        try assertIssued(client, ["ours.caa.test"])
        // Another CA, found by climbing from www.other.caa.test (RFC 8659 §3).
        XCTAssertEqual(try assertRefused(client, ["www.other.caa.test"], type: "caa", status: 403, containing: "other.caa.test"),
                       ["www.other.caa.test"])
        // Several identifiers: one subproblem per refused identifier.
        XCTAssertEqual(try assertRefused(client, ["ours.caa.test", "other.caa.test"], type: "caa", status: 403),
                       ["other.caa.test"])
        // A CNAME, followed as the resolver returns it.
        try assertRefused(client, ["alias.caa.test"], type: "caa", status: 403, containing: "other-ca.test")
        try assertIssued(client, ["alias2.caa.test"])
        // An unknown critical property, and the empty issuer.
        try assertRefused(client, ["crit.caa.test"], type: "caa", status: 403, containing: "critical")
        try assertIssued(client, ["noncrit.caa.test"])
        try assertRefused(client, ["none.caa.test"], type: "caa", status: 403)
        XCTAssertTrue(server.log.contains("CAA check refused issuance"), server.log)
    }

    func testFinalizeHonoursAccountURIAndValidationMethods() throws {
        try start()
        let owner = try client(), stranger = try client()
        try writeZone("""
            acct.caa.test CAA 0 issue "\(Self.ours); accounturi=\(owner.accountURL)"
            http.caa.test CAA 0 issue "\(Self.ours); validationmethods=http-01"
            dns.caa.test CAA 0 issue "\(Self.ours); validationmethods=dns-01,tls-alpn-01"
            """)
        try assertIssued(owner, ["acct.caa.test"])
        try assertRefused(stranger, ["acct.caa.test"], type: "caa", status: 403, containing: "bound to account")
        try assertIssued(owner, ["a.http.caa.test"])
        // Validated with http-01, but the record wants dns-01 or tls-alpn-01.
        try assertRefused(owner, ["b.dns.caa.test"], type: "caa", status: 403, containing: "validation method")
    }

    func testWildcardsUseIssuewild() throws {
        try start()
        try writeZone("""
            plain.caa.test CAA 0 issue \(Self.ours)
            plain.caa.test CAA 0 issuewild other-ca.test
            wild.caa.test CAA 0 issue other-ca.test
            wild.caa.test CAA 0 issuewild \(Self.ours)
            fallback.caa.test CAA 0 issue \(Self.ours)
            """)
        let client = try client()
        try assertIssued(client, ["plain.caa.test"])
        try assertRefused(client, ["*.plain.caa.test"], type: "caa", status: 403, containing: "issuewild")
        try assertIssued(client, ["*.wild.caa.test"])
        try assertRefused(client, ["wild.caa.test"], type: "caa", status: 403)
        try assertIssued(client, ["*.fallback.caa.test"])
    }

    func testLookupFailuresAreDNSProblems() throws {
        try start(timeoutSeconds: 1)
        try writeZone("""
            fail.caa.test RCODE SERVFAIL
            silent.caa.test SILENT
            """)
        let client = try client()
        XCTAssertEqual(try assertRefused(client, ["fail.caa.test"], type: "dns", status: 400, containing: "SERVFAIL"),
                       ["fail.caa.test"])
        try assertRefused(client, ["www.silent.caa.test"], type: "dns", status: 400)
        // A failure while climbing (x.fail.caa.test has no CAA; its parent fails) is one too.
        try assertRefused(client, ["x.fail.caa.test"], type: "dns", status: 400, containing: "fail.caa.test")
        // Lookups that answer are unaffected.
        try assertIssued(client, ["ok.caa.test"])
    }
}

/// Names `relevantRRset` asked for, in order.
private actor Asked {
    var names: [String] = []
    func add(_ name: String) { names.append(name) }
}
