import Foundation
@testable import Host
import XCTest

/// certbot 2.1 `--dns-rfc2136` and lego 4.9.1 `--dns rfc2136` against the real `acmeeh serve`
/// with dns-01 only: each client publishes its records into a real BIND 9 (`NamedServer`,
/// zone dns.test, TSIG-signed RFC 2136 updates), the server's challenge worker validates
/// them through `challenges.dns01.resolvers` = that named, and one certificate covers a
/// name and its wildcard. Fails, never skips, without named, certbot or lego (scripts/clients).
final class DNSClientTests: XCTestCase {
    var directory: URL!
    var named: NamedServer!
    var server: TestServer?

    var root: URL { server!.directory.appendingPathComponent("ca/root.pem") }
    var endpoint: ACMEEndpoint { ACMEEndpoint(directoryURL: server!.directoryURL) }

    override func setUpWithError() throws {
        directory = try TestPaths.temporaryDirectory("acmeeh-dns-clients")
        named = try NamedServer(directory: directory)
        // dns-01 is validated by the worker (auto_validate is off by default): poll every second.
        server = try TestServer(extra: """
            challenges:
              enabled: [dns-01]
              dns01:
                resolvers: ["\(named.address)"]
                timeout_seconds: 5
              background_worker:
                poll_seconds: 1
            """)
    }

    override func tearDownWithError() throws {
        if let server, testRun?.hasSucceeded == false {
            print("--- acmeeh log ---\n\(server.process.log)\n--- named log ---\n\(named?.log ?? "")")
        }
        server?.shutdown()
        named?.stop()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    /// The certificate names both, verifies against the test root, and each authorization
    /// was proven by a valid dns-01 challenge.
    func assertNameAndWildcard(_ run: ClientRun, base: String, log: String = "",
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let names = [base, "*." + base]
        XCTAssertNotNil(assertIssued(run, dns: names, keyAlgorithm: "EC", root: root, file: file, line: line), log,
                        file: file, line: line)
        XCTAssertEqual(try server!.challengeRows(), names.sorted().map { "\($0) dns-01 valid" }, file: file, line: line)
    }

    func testCertbotRFC2136IssuesForNameAndWildcard() throws {
        let certbot = try Certbot(.debian21, endpoint: endpoint, httpPort: 0, directory: directory.appendingPathComponent("certbot"))
        let credentials = try named.certbotCredentials(at: directory.appendingPathComponent("rfc2136.ini"))
        let run = try certbot.certonlyRFC2136(names: ["x.dns.test", "*.x.dns.test"], credentials: credentials)
        try assertNameAndWildcard(run, base: "x.dns.test", log: certbot.debugLog)
    }

    func testLegoRFC2136IssuesForNameAndWildcard() throws {
        let lego = try Lego(endpoint: endpoint, httpPort: 0, directory: directory)
        let run = try lego.obtainRFC2136(names: ["y.dns.test", "*.y.dns.test"], environment: named.legoEnvironment,
                                         resolver: named.address)
        try assertNameAndWildcard(run, base: "y.dns.test")
        XCTAssertTrue(run.output.contains("dns-01"), "lego used another challenge:\n\(run)")
    }
}
