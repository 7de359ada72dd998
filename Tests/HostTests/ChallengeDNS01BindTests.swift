import COpenSSL
import Foundation
import XCTest

@testable import Host

/// libChallengeDNS01.so against a real BIND 9 (`apt-get install bind9 bind9-dnsutils`):
/// zone `dns.test` on a loopback port with TSIG-signed RFC 2136 updates, the records
/// published with `nsupdate` as certbot's `--dns-rfc2136` does (`NamedServer`). Fails
/// without bind9: scripts/clients installs it.
final class ChallengeDNS01BindTests: XCTestCase {
    static let pool = PluginThreadPool(numberOfThreads: 2)

    func testValidatesAgainstBINDWithRFC2136Updates() async throws {
        let directory = try TestPaths.temporaryDirectory("dns01-bind")
        defer { try? FileManager.default.removeItem(at: directory) }
        let named = try NamedServer(directory: directory)
        defer { named.stop() }
        let port = named.port

        let value = ChallengeDNS01Tests.digest("www.thumb")
        try named.update("""
            update add _acme-challenge.www.dns.test. 60 TXT "unrelated"
            update add _acme-challenge.www.dns.test. 60 TXT "\(value)"
            update add _acme-challenge.alias.dns.test. 60 CNAME _acme-challenge.www.dns.test.
            update add _validation-persist.www.dns.test. 60 TXT "ca.test; accounturi=\(ChallengeDNS01Tests.account)"
            """)

        for (extra, label) in [("", "plain"), (#", "require_authoritative": true"#, "authoritative")] {
            let json = #"{"resolvers": ["127.0.0.1:\#(port)"], "timeout_seconds": 5\#(extra)}"#
            let v = try await PluginRegistry(threadPool: Self.pool).loadChallenge(
                entry: "dns-01", configKey: "challenges.enabled[0]", directory: TestPaths.products.path,
                configJSON: json, configPath: "challenges.dns01")
            for name in ["www.dns.test", "alias.dns.test"] {
                let request = ChallengeValidationRequest(
                    challengeType: "dns-01", identifierType: "dns", identifierValue: name, token: "tok",
                    keyAuthorization: "www.thumb", accountURL: ChallengeDNS01Tests.account)
                do {
                    try await v.validate(request, timeout: .seconds(20))
                } catch {
                    XCTFail("\(label) \(name): \(error)")
                }
            }
            await v.close()
        }
        let persist = try await PluginRegistry(threadPool: Self.pool).loadChallenge(
            entry: "dns-persist-01", configKey: "challenges.enabled[0]", directory: TestPaths.products.path,
            configJSON: #"{"resolvers": ["127.0.0.1:\#(port)"], "issuer_domain_names": ["ca.test"]}"#,
            configPath: "challenges.dnspersist01")
        let request = ChallengeValidationRequest(
            challengeType: "dns-persist-01", identifierType: "dns", identifierValue: "www.dns.test", token: nil,
            keyAuthorization: nil, accountURL: ChallengeDNS01Tests.account)
        do {
            try await persist.validate(request, timeout: .seconds(20))
        } catch {
            XCTFail("dns-persist-01: \(error)")
        }
        await persist.close()
    }
}
