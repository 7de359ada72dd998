import Foundation
@testable import Host
import XCTest

/// Whole ACME orders (RFC 8555 §7.4) validated against a real BIND 9 (`NamedServer`)
/// through the repository's own client (`ACMETestClient`): dns-persist-01
/// (draft-ietf-acme-dns-persist) with its `_validation-persist` record placed by `nsupdate`,
/// and dns-01 resolved through `dns.resolvers` when `challenges.dns01.resolvers` is empty.
/// The challenge worker validates (auto_validate is off by default), polling every second.
final class DNSOrderTests: XCTestCase {
    static let issuer = "ca.acmeeh.test"

    var directory: URL!
    var named: NamedServer!
    var server: TestServer?

    override func setUpWithError() throws {
        directory = try TestPaths.temporaryDirectory("acmeeh-dns-orders")
        named = try NamedServer(directory: directory)
    }

    override func tearDownWithError() throws {
        if let server, testRun?.hasSucceeded == false {
            print("--- acmeeh log ---\n\(server.process.log)\n--- named log ---\n\(named?.log ?? "")")
        }
        server?.shutdown()
        named?.stop()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    func start(_ challenges: String) throws -> TestServer {
        let server = try TestServer(extra: challenges)
        self.server = server
        return server
    }

    /// dns-persist-01 only, its lookups sent to named.
    func startPersist() throws -> TestServer {
        try start("""
            challenges:
              enabled: [dns-persist-01]
              dnspersist01:
                issuer_domain_names: [\(Self.issuer)]
                resolvers: ["\(named.address)"]
                timeout_seconds: 5
              background_worker:
                poll_seconds: 1
            """)
    }

    // MARK: dns-persist-01

    func testDNSPersist01OrderIssuesWithRecordPlacedByNSUpdate() throws {
        let server = try startPersist()
        let acme = try ACMEOrderSession(server: server)
        let name = "persist.dns.test"
        let order = try acme.newOrder([name])
        let (authorization, challenge) = try acme.challenge(order, type: "dns-persist-01")
        // The draft's challenge: no token; the account and this CA's issuer names to publish.
        XCTAssertNil(challenge["token"], "\(challenge)")
        XCTAssertEqual(challenge["accounturi"] as? String, acme.accountURL)
        XCTAssertEqual(challenge["issuer-domain-names"] as? [String], [Self.issuer])

        try named.update(#"update add _validation-persist.\#(name). 60 TXT "\#(Self.issuer); accounturi=\#(acme.accountURL)""#)
        try acme.respond(challenge)
        XCTAssertEqual(try acme.waitForStatus(authorization, notIn: ["pending"])["status"] as? String, "valid")

        let certificate = try acme.finalize(order, names: [name], in: directory)
        XCTAssertEqual(try CertificateCheck.subjectAltNames(certificate), ["DNS:\(name)"])
        let verify = try CertificateCheck.verify(certificate: certificate, chain: certificate,
                                                 root: server.directory.appendingPathComponent("ca/root.pem"))
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
        XCTAssertEqual(try server.challengeRows(), ["\(name) dns-persist-01 valid"])
    }

    func testDNSPersist01RecordForAnotherAccountLeavesAuthorizationInvalid() throws {
        let server = try startPersist()
        let acme = try ACMEOrderSession(server: server)
        let name = "stranger.dns.test"
        let order = try acme.newOrder([name])
        let (authorization, challenge) = try acme.challenge(order, type: "dns-persist-01")
        let other = server.baseURL + "/acct/00000000-0000-4000-8000-000000000000"
        try named.update(#"update add _validation-persist.\#(name). 60 TXT "\#(Self.issuer); accounturi=\#(other)""#)
        try acme.respond(challenge)

        let final = try acme.waitForStatus(authorization, notIn: ["pending"])
        XCTAssertEqual(final["status"] as? String, "invalid", "\(final)")
        let failed = (final["challenges"] as? [[String: Any]])?.first { $0["type"] as? String == "dns-persist-01" }
        let error = failed?["error"] as? [String: Any]
        XCTAssertEqual(error?["type"] as? String, "urn:ietf:params:acme:error:unauthorized", "\(final)")
        let detail = error?["detail"] as? String ?? ""
        XCTAssertTrue(detail.contains(other) && detail.contains("is not this account"), detail)
        XCTAssertEqual(try acme.get(order)["status"] as? String, "invalid")
        XCTAssertEqual(try server.challengeRows(), ["\(name) dns-persist-01 invalid"])
    }

    // MARK: resolver fallback

    /// `challenges.dns01.resolvers` unset: the validator asks `dns.resolvers` (the issue's
    /// "when empty, dns.resolvers, then the system's"), here named; the order gets its certificate.
    func testDNS01WithoutOwnResolversUsesDNSResolvers() throws {
        let server = try start("""
            challenges:
              enabled: [dns-01]
              dns01:
                timeout_seconds: 5
              background_worker:
                poll_seconds: 1
            dns:
              resolvers: ["\(named.address)"]
            """)
        let acme = try ACMEOrderSession(server: server)
        let name = "fallback.dns.test"
        let order = try acme.newOrder([name])
        let (authorization, challenge) = try acme.challenge(order, type: "dns-01")
        let token = try XCTUnwrap(challenge["token"] as? String)
        // RFC 8555 §8.4: base64url(SHA-256(token "." thumbprint)).
        let value = Base64URLTest.encode(TestKey.sha256(Array("\(token).\(acme.key.thumbprint)".utf8)))
        try named.update(#"update add _acme-challenge.\#(name). 60 TXT "\#(value)""#)
        try acme.respond(challenge)
        XCTAssertEqual(try acme.waitForStatus(authorization, notIn: ["pending"])["status"] as? String, "valid")
        let certificate = try acme.finalize(order, names: [name], in: directory)
        XCTAssertEqual(try CertificateCheck.subjectAltNames(certificate), ["DNS:\(name)"])
        XCTAssertEqual(try server.challengeRows(), ["\(name) dns-01 valid"])
    }
}
