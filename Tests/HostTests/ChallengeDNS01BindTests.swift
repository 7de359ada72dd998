import COpenSSL
import Foundation
import XCTest

@testable import Host

/// libChallengeDNS01.so against a real BIND 9 (`apt-get install bind9 bind9-dnsutils`):
/// zone `dns.test` on a loopback port with TSIG-signed RFC 2136 updates, the records
/// published with `nsupdate` as certbot's `--dns-rfc2136` does. Skipped without named.
final class ChallengeDNS01BindTests: XCTestCase {
    static let pool = PluginThreadPool(numberOfThreads: 2)

    func testValidatesAgainstBINDWithRFC2136Updates() async throws {
        // scripts/clients installs bind9 and bind9-dnsutils; their absence is a broken set-up.
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/named"),
              FileManager.default.isExecutableFile(atPath: "/usr/bin/nsupdate") else {
            return XCTFail("bind9 and bind9-dnsutils are not installed: run scripts/clients")
        }
        let directory = try TestPaths.temporaryDirectory("dns01-bind")
        let port = Int.random(in: 40000...60000)
        let secret = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let d = directory.path
        try """
            options { directory "\(d)"; listen-on port \(port) { 127.0.0.1; }; listen-on-v6 { none; };
                      recursion no; dnssec-validation no; pid-file "\(d)/named.pid"; session-keyfile "\(d)/session.key"; };
            key "acme-key" { algorithm hmac-sha256; secret "\(secret)"; };
            zone "dns.test" { type primary; file "\(d)/dns.test.zone"; allow-update { key acme-key; }; };
            """.write(toFile: d + "/named.conf", atomically: true, encoding: .utf8)
        try "$TTL 60\n@ SOA ns.dns.test. admin.dns.test. 1 60 60 600 60\n@ NS ns.dns.test.\nns A 127.0.0.1\n"
            .write(toFile: d + "/dns.test.zone", atomically: true, encoding: .utf8)
        let named = Process()
        named.executableURL = URL(fileURLWithPath: "/usr/sbin/named")
        named.arguments = ["-g", "-c", d + "/named.conf", "-u", "root"]
        named.standardOutput = FileHandle.nullDevice
        named.standardError = FileHandle.nullDevice
        try named.run()
        defer { named.terminate(); named.waitUntilExit() }

        let value = ChallengeDNS01Tests.digest("www.thumb")
        // Retried until named listens.
        var updated = false
        for _ in 0..<50 where !updated {
            updated = try nsupdate(secret: secret, port: port, """
                update add _acme-challenge.www.dns.test. 60 TXT "unrelated"
                update add _acme-challenge.www.dns.test. 60 TXT "\(value)"
                update add _acme-challenge.alias.dns.test. 60 CNAME _acme-challenge.www.dns.test.
                update add _validation-persist.www.dns.test. 60 TXT "ca.test; accounturi=\(ChallengeDNS01Tests.account)"
                """)
            if !updated { try await Task.sleep(for: .milliseconds(200)) }
        }
        XCTAssertTrue(updated, "nsupdate never succeeded")

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

    private func nsupdate(secret: String, port: Int, _ commands: String) throws -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/nsupdate")
        process.arguments = ["-t", "2", "-y", "hmac-sha256:acme-key:\(secret)"]
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        input.fileHandleForWriting.write(Data("server 127.0.0.1 \(port)\n\(commands)\nsend\n".utf8))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}
