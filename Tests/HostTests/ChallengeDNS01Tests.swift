import COpenSSL
import Foundation
import XCTest

@testable import Host

/// The built libChallengeDNS01.so, loaded through the host's own loader, against
/// `LoopbackDNS` (scripts/loopback-dns) answering from the zone written here.
final class ChallengeDNS01Tests: XCTestCase {
    static let pool = PluginThreadPool(numberOfThreads: 4)
    nonisolated(unsafe) static var server: Result<LoopbackDNS, any Error> = .failure(CLIFailure("not started"))
    static let account = "https://ca.test/acct/1"

    /// base64url(SHA-256(key authorization)), RFC 8555 §8.4.
    static func digest(_ keyAuthorization: String) -> String {
        var md = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let input = Array(keyAuthorization.utf8)
        _ = EVP_Digest(input, input.count, &md, &length, EVP_sha256(), nil)
        return Data(md).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static var zone: String {
        let multi = digest("multi.thumb")
        let half = multi.index(multi.startIndex, offsetBy: 20)
        let account = Self.account
        return """
            _acme-challenge.good.test TXT "\(digest("good.thumb"))"
            _acme-challenge.wrong.test TXT "not-the-value"
            _acme-challenge.multi.test TXT "other-1"
            _acme-challenge.multi.test TXT "\(multi[..<half])" "\(multi[half...])"
            _acme-challenge.multi.test TXT "other-2"
            _acme-challenge.alias.test CNAME hop1.elsewhere.test
            hop1.elsewhere.test CNAME hop2.elsewhere.test
            hop2.elsewhere.test TXT "\(digest("alias.thumb"))"
            _acme-challenge.loop.test CNAME loop-a.test
            loop-a.test CNAME loop-b.test
            loop-b.test CNAME _acme-challenge.loop.test
            _acme-challenge.dangling.test CNAME nowhere.test
            _acme-challenge.signed.test TXT "\(digest("signed.thumb"))"
            _acme-challenge.signed.test AD
            _acme-challenge.unsigned.test TXT "\(digest("unsigned.thumb"))"
            _acme-challenge.servfail.test RCODE SERVFAIL
            _acme-challenge.silent.test SILENT
            _validation-persist.persist.test TXT "ca.test; accounturi=\(account)"
            _validation-persist.future.test TXT "CA.test;accounturi=\(account);persistUntil=4000000000"
            _validation-persist.otheracct.test TXT "ca.test; accounturi=https://ca.test/acct/2"
            _validation-persist.expired.test TXT "ca.test; accounturi=\(account); persistUntil=1000000000"
            _validation-persist.nowild.test TXT "ca.test; accounturi=\(account)"
            _validation-persist.wild.test TXT "ca.test; accounturi=\(account); policy=wildcard"
            _validation-persist.otherca.test TXT "other-ca.example; accounturi=\(account)"
            _validation-persist.malformed.test TXT "ca.test; accounturi"
            _validation-persist.malformed.test TXT "ca.test; accounturi=\(account) ; policy=wildcard;"
            _validation-persist.parent.test TXT "ca.test; accounturi=\(account); policy=wildcard"
            _validation-persist.plainparent.test TXT "ca.test; accounturi=\(account)"

            """
    }

    override class func setUp() {
        super.setUp()
        server = Result { try LoopbackDNS(directory: TestPaths.temporaryDirectory("dns01-zone"), zone: zone) }
    }

    override class func tearDown() {
        if case .success(let dns) = server {
            dns.stop()
            try? FileManager.default.removeItem(at: dns.zoneFile.deletingLastPathComponent())
        }
        server = .failure(CLIFailure("stopped"))
        super.tearDown()
    }

    private func validator(_ type: String = "dns-01", _ extra: String = "", timeoutSeconds: Int = 5) async throws -> ChallengePluginInstance {
        let server = try Self.server.get()
        let issuers = type == "dns-persist-01" ? #", "issuer_domain_names": ["ca.test"]"# : ""
        let json = #"{"resolvers": ["127.0.0.1:\#(server.port)"], "timeout_seconds": \#(timeoutSeconds)\#(issuers)\#(extra)}"#
        return try await PluginRegistry(threadPool: Self.pool).loadChallenge(
            entry: type, configKey: "challenges.enabled[0]", directory: TestPaths.products.path,
            configJSON: json, configPath: type == "dns-01" ? "challenges.dns01" : "challenges.dnspersist01")
    }

    private func dns01(_ v: ChallengePluginInstance, _ domain: String) async -> PluginError? {
        let request = ChallengeValidationRequest(
            challengeType: "dns-01", identifierType: "dns", identifierValue: domain, token: "tok",
            keyAuthorization: "\(domain.split(separator: ".")[0]).thumb", accountURL: Self.account)
        do {
            try await v.validate(request, timeout: .seconds(20))
            return nil
        } catch {
            return error
        }
    }

    private func persist(_ v: ChallengePluginInstance, _ domain: String, wildcard: Bool = false,
                         account: String = ChallengeDNS01Tests.account) async -> PluginError? {
        let request = ChallengeValidationRequest(
            challengeType: "dns-persist-01", identifierType: "dns", identifierValue: domain, token: nil,
            keyAuthorization: nil, accountURL: account, wildcard: wildcard)
        do {
            try await v.validate(request, timeout: .seconds(20))
            return nil
        } catch {
            return error
        }
    }

    private func expectFailure(_ error: PluginError?, _ problem: String, retryable: Bool, _ details: String...,
                               file: StaticString = #filePath, line: UInt = #line) {
        guard let error else { return XCTFail("validation succeeded, expected \(problem)", file: file, line: line) }
        XCTAssertEqual(error.problemType, "urn:ietf:params:acme:error:" + problem, "\(error)", file: file, line: line)
        XCTAssertEqual(error.retryable, retryable, "\(error)", file: file, line: line)
        for detail in details {
            XCTAssertTrue(error.detail.contains(detail), "detail \"\(error.detail)\" lacks \"\(detail)\"", file: file, line: line)
        }
    }

    // MARK: - dns-01

    func testDNS01Valid() async throws {
        let v = try await validator()
        let good = await dns01(v, "good.test")
        XCTAssertNil(good)
        // Several records, the matching one split over two character-strings.
        let multi = await dns01(v, "multi.test")
        XCTAssertNil(multi)
        // A CNAME chain to the value.
        let alias = await dns01(v, "alias.test")
        XCTAssertNil(alias)
        await v.close()
    }

    func testDNS01WrongValueIsFinalIncorrectResponse() async throws {
        let v = try await validator()
        let error = await dns01(v, "wrong.test")
        expectFailure(error, "incorrectResponse", retryable: false, "no TXT record at _acme-challenge.wrong.test",
                      Self.digest("wrong.thumb"), #"received 1 record: "not-the-value""#)
        await v.close()
    }

    func testDNS01MissingIsRetryableDNS() async throws {
        let v = try await validator()
        let missing = await dns01(v, "missing.test")
        expectFailure(missing, "dns", retryable: true, "_acme-challenge.missing.test does not exist (NXDOMAIN", "may not have propagated")
        let dangling = await dns01(v, "dangling.test")
        expectFailure(dangling, "dns", retryable: true, "nowhere.test does not exist", "via CNAME")
        let servfail = await dns01(v, "servfail.test")
        expectFailure(servfail, "dns", retryable: true, "SERVFAIL")
        await v.close()
    }

    func testDNS01TimeoutIsRetryable() async throws {
        let v = try await validator(timeoutSeconds: 1)
        let start = ContinuousClock.now
        let error = await dns01(v, "silent.test")
        expectFailure(error, "dns", retryable: true, "_acme-challenge.silent.test")
        XCTAssertLessThan(ContinuousClock.now - start, .milliseconds(3000))
        await v.close()
    }

    func testDNS01CNAMELoopIsFinal() async throws {
        let v = try await validator()
        let error = await dns01(v, "loop.test")
        expectFailure(error, "dns", retryable: false, "CNAME chain from _acme-challenge.loop.test loops")
        await v.close()
    }

    func testDNS01RequireDNSSEC() async throws {
        let v = try await validator("dns-01", #", "require_dnssec": true"#)
        let signed = await dns01(v, "signed.test")
        XCTAssertNil(signed)
        // Unsigned (no AD bit): a property of the zone, not a propagation delay, so final.
        let unsigned = await dns01(v, "unsigned.test")
        expectFailure(unsigned, "dns", retryable: false, "not DNSSEC-authenticated (no AD bit)")
        // Without require_dnssec the same answer is fine.
        let plain = try await validator()
        let ok = await dns01(plain, "unsigned.test")
        XCTAssertNil(ok)
        await v.close()
        await plain.close()
    }

    func testDNS01RequireAuthoritativeFallsBackWithoutNS() async throws {
        // The test zone publishes no NS records: the resolvers are asked instead.
        let v = try await validator("dns-01", #", "require_authoritative": true"#)
        let error = await dns01(v, "good.test")
        XCTAssertNil(error)
        await v.close()
    }

    // MARK: - dns-persist-01

    func testPersistValid() async throws {
        let v = try await validator("dns-persist-01")
        let plain = await persist(v, "persist.test")
        XCTAssertNil(plain)
        // Issuer case, no spaces, a persistUntil in the future.
        let future = await persist(v, "future.test")
        XCTAssertNil(future)
        // A malformed record is skipped; the well-formed one with a trailing ";" authorizes.
        let malformed = await persist(v, "malformed.test")
        XCTAssertNil(malformed)
        // policy=wildcard authorizes a wildcard.
        let wild = await persist(v, "wild.test", wildcard: true)
        XCTAssertNil(wild)
        await v.close()
    }

    func testPersistRefusalsAreFinalUnauthorized() async throws {
        let v = try await validator("dns-persist-01")
        let account = await persist(v, "otheracct.test")
        expectFailure(account, "unauthorized", retryable: false, #"accounturi "https://ca.test/acct/2" is not this account"#)
        let expired = await persist(v, "expired.test")
        expectFailure(expired, "unauthorized", retryable: false, "expired (persistUntil 1000000000")
        let wildcard = await persist(v, "nowild.test", wildcard: true)
        expectFailure(wildcard, "unauthorized", retryable: false, "a wildcard identifier needs policy=wildcard")
        let otherAccount = await persist(v, "persist.test", account: "https://ca.test/acct/9")
        expectFailure(otherAccount, "unauthorized", retryable: false, "is not this account (https://ca.test/acct/9)")
        await v.close()
    }

    func testPersistWithoutRecordForThisCAIsRetryable() async throws {
        let v = try await validator("dns-persist-01")
        let other = await persist(v, "otherca.test")
        expectFailure(other, "dns", retryable: true, "no TXT record for this CA (issuer ca.test)", "_validation-persist.otherca.test")
        let none = await persist(v, "nothing.test")
        expectFailure(none, "dns", retryable: true, "no TXT record for this CA")
        await v.close()
    }

    func testPersistSubdomainPolicy() async throws {
        let off = try await validator("dns-persist-01")
        let notLooked = await persist(off, "host.sub.parent.test")
        expectFailure(notLooked, "dns", retryable: true, "_validation-persist.host.sub.parent.test")
        let on = try await validator("dns-persist-01", #", "allow_subdomain_policy": true"#)
        let found = await persist(on, "host.sub.parent.test")
        XCTAssertNil(found)
        // An ancestor's record without policy=wildcard does not cover its subdomains.
        let plain = await persist(on, "a.plainparent.test")
        expectFailure(plain, "unauthorized", retryable: false, "_validation-persist.plainparent.test: a subdomain of the record's name needs policy=wildcard")
        // allow_wildcard_policy off: policy=wildcard is not honoured.
        let strict = try await validator("dns-persist-01", #", "allow_subdomain_policy": true, "allow_wildcard_policy": false"#)
        let refused = await persist(strict, "host.sub.parent.test")
        expectFailure(refused, "unauthorized", retryable: false, "allow_wildcard_policy")
        await off.close()
        await on.close()
        await strict.close()
    }
}
