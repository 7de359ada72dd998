import Foundation
@testable import Host
import XCTest

/// acmeeh behind a real nginx that terminates TLS (docs/reverse-proxy.md): nginx listens on
/// https://127.0.0.1:PORT and connects to acmeeh from 127.0.0.2 (`proxy_bind`), the only
/// trusted proxy (`proxy.trusted_proxies: [127.0.0.2/32]`), so the clients on 127.0.0.1 and
/// 127.0.0.3 are clients, not proxies. `server.external_url` is nginx's https URL.
final class ReverseProxyTests: XCTestCase {
    var directory: URL!
    var database: TestDatabase!
    var dns: LoopbackDNS?
    var server: ServerProcess?
    var nginx: NginxProxy?
    var tls: TLSTestPKI!
    var httpPort = 0

    static let proxySource = "127.0.0.2"

    override func setUpWithError() throws {
        guard NginxProxy.executable != nil else {
            throw XCTSkip("nginx is not installed (scripts/clients installs it)")
        }
        directory = try TestPaths.temporaryDirectory("acmeeh-proxy")
        database = try TestDatabase.create()
        let ca = try Command.run(TestPaths.repository.appendingPathComponent("scripts/dev-ca").path,
                                 [directory.appendingPathComponent("ca").path])
        XCTAssertEqual(ca.status, 0, ca.stderr)
        tls = try TLSTestPKI.shared()
        httpPort = try ServerProcess.freePort()
    }

    override func tearDownWithError() throws {
        nginx?.stop()
        if let server, server.stop() != 0 || (testRun?.totalFailureCount ?? 0) > 0 {
            print("--- acmeeh log ---\n\(server.log)")
            if let nginx { print("--- nginx error log ---\n\(nginx.errorLog)") }
        }
        dns?.stop()
        database?.drop()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    /// Starts nginx and acmeeh (JSON logs, `proxy` on, external URL = nginx), `extra` YAML added.
    func start(extra: String) throws {
        let port = try ServerProcess.freePort()
        let proxyPort = try ServerProcess.freePort()
        let nginx = try NginxProxy(directory: directory.appendingPathComponent("nginx"), port: proxyPort,
                                   upstreamPort: port, upstreamSource: Self.proxySource, tls: tls)
        self.nginx = nginx
        let written = try TestServer.writeConfig(directory: directory, database: database.config, port: port, extra: """
            proxy:
              enabled: true
              trusted_proxies: [\(Self.proxySource)/32]
            \(extra)
            """)
        let yaml = try String(contentsOf: written, encoding: .utf8)
            .replacingOccurrences(of: "external_url: http://127.0.0.1:\(port)\n", with: "external_url: \(nginx.baseURL)\n")
            .replacingOccurrences(of: "logging:\n  format: human\n", with: "logging:\n  format: json\n")
        XCTAssertTrue(yaml.contains("external_url: \(nginx.baseURL)\n") && yaml.contains("format: json"), yaml)
        try yaml.write(to: written, atomically: true, encoding: .utf8)
        let server = try ServerProcess(config: written, port: port, logFile: directory.appendingPathComponent("server.log"))
        self.server = server
        try server.waitUntilLive()
        try nginx.waitUntilServing(caFile: tls.caCert)
    }

    /// The `request` lines of acmeeh's JSON log.
    func requestLines() throws -> [[String: String]] {
        let log = try XCTUnwrap(server).log
        return log.split(separator: "\n").compactMap { line in
            guard let data = line.data(using: .utf8),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  object["message"] as? String == "request" else { return nil }
            return object.compactMapValues { $0 as? String }
        }
    }

    // MARK: issuance through nginx

    /// certbot, trusting only the test TLS CA, registers and gets a certificate through nginx;
    /// acmeeh sees certbot (127.0.0.1), not nginx (127.0.0.2), and sends HSTS on https.
    func testCertbotIssuesThroughNginx() throws {
        let dns = try LoopbackDNS(directory: directory)
        self.dns = dns
        try start(extra: """
            challenges:
              http01:
                port: \(httpPort)
                blocked_networks: []
            dns:
              resolvers: ["\(dns.address)"]
            """)
        let nginx = try XCTUnwrap(nginx)

        let directoryAnswer = try Curl.request("\(nginx.baseURL)/directory", caFile: tls.caCert,
                                               headers: ["X-Request-ID": "proxy-test-42"])
        XCTAssertEqual(directoryAnswer.status, 200, directoryAnswer.body)
        XCTAssertTrue(directoryAnswer.body.contains("\"newNonce\":\"\(nginx.baseURL)/new-nonce\""), directoryAnswer.body)
        XCTAssertNotNil(directoryAnswer.header("Strict-Transport-Security"), "HSTS: nginx reports https")
        XCTAssertEqual(directoryAnswer.header("X-Request-ID"), "proxy-test-42", "kept: it came through the trusted proxy")
        let logged = try requestLines().first { $0["request_id"] == "proxy-test-42" }
        XCTAssertEqual(logged?["client_ip"], "127.0.0.1", "\(String(describing: logged))")
        XCTAssertEqual(logged?["path"], "/directory")
        XCTAssertEqual(logged?["status"], "200")

        let release: Certbot.Release = FileManager.default.isExecutableFile(atPath: Certbot.Release.venv5.executable)
            ? .venv5 : .debian21
        let certbot = try Certbot(release, endpoint: ACMEEndpoint(directoryURL: "\(nginx.baseURL)/directory",
                                                                  tlsRoot: URL(fileURLWithPath: tls.caCert)),
                                  httpPort: httpPort, directory: directory.appendingPathComponent("certbot"))
        let names = ["proxied.test", "www.proxied.test"]
        let issued = try certbot.certonly(names: names, keyType: .ecdsa)
        assertIssued(issued, dns: names, keyAlgorithm: "EC", root: directory.appendingPathComponent("ca/root.pem"))

        let lines = try requestLines()
        let posts = lines.filter { $0["method"] == "POST" }
        XCTAssertGreaterThanOrEqual(posts.count, 5, "newAccount, newOrder, challenges, finalize, downloads")
        XCTAssertEqual(Set(lines.compactMap { $0["client_ip"] }), ["127.0.0.1"],
                       "every request is certbot's or curl's on 127.0.0.1, none is nginx's 127.0.0.2")
        XCTAssertEqual(Set(posts.compactMap { $0["request_id"] }).count, posts.count, "each request has its own id")
    }

    // MARK: rate limits per client behind nginx

    /// `new_nonce` allows 3 per client: the fourth from 127.0.0.1 through nginx is refused, and a
    /// spoofed leftmost `X-Forwarded-For` does not help it, while 127.0.0.3 through the same
    /// nginx still gets nonces. Direct to acmeeh (a peer that is no trusted proxy) the header is
    /// ignored either way.
    func testRateLimitsCountTheClientBehindNginx() throws {
        let window = 3600
        try start(extra: """
            security:
              rate_limits:
                backend: memory
                new_nonce: {requests: 3, window_seconds: \(window)}
            """)
        let nginx = try XCTUnwrap(nginx), server = try XCTUnwrap(server)
        // Fixed windows: do not start within a minute of a window's end.
        let now = Date().timeIntervalSince1970
        let left = Double(window) - now.truncatingRemainder(dividingBy: Double(window))
        if left < 60 { Thread.sleep(forTimeInterval: left + 0.5) }

        let viaNginx = "\(nginx.baseURL)/new-nonce"
        func nonce(_ url: String, source: String? = nil, headers: [String: String] = [:]) throws -> Curl.Answer {
            try Curl.request(url, caFile: url.hasPrefix("https:") ? tls.caCert : nil, source: source, headers: headers)
        }
        for attempt in 1...3 {
            let answer = try nonce(viaNginx)
            XCTAssertEqual(answer.status, 204, "nonce \(attempt): \(answer.body)")
            XCTAssertNotNil(answer.header("Replay-Nonce"))
        }
        let fourth = try nonce(viaNginx)
        XCTAssertEqual(fourth.status, 429, fourth.body)
        XCTAssertTrue(fourth.body.contains("rateLimited"), fourth.body)
        let spoofed = try nonce(viaNginx, headers: ["X-Forwarded-For": "198.51.100.7"])
        XCTAssertEqual(spoofed.status, 429, "nginx appends 127.0.0.1 after the client's own entry: \(spoofed.body)")

        let other = try nonce(viaNginx, source: "127.0.0.3")
        XCTAssertEqual(other.status, 204, "the limit is per client, not per nginx: \(other.body)")

        // Direct to acmeeh: 127.0.0.1 and 127.0.0.4 are no trusted proxies, so their headers do not count.
        let direct = "\(server.baseURL)/new-nonce"
        let directSpoofed = try nonce(direct, headers: ["X-Forwarded-For": "198.51.100.9"])
        XCTAssertEqual(directSpoofed.status, 429, "still 127.0.0.1's limit: \(directSpoofed.body)")
        let directOther = try nonce(direct, source: "127.0.0.4",
                                    headers: ["X-Forwarded-For": "127.0.0.1", "X-Request-ID": "chosen-by-client"])
        XCTAssertEqual(directOther.status, 204, "counted as 127.0.0.4, not as the 127.0.0.1 it names: \(directOther.body)")
        XCTAssertNil(directOther.header("Strict-Transport-Security"),
                     "straight to acmeeh is plain http, though external_url is https")
        XCTAssertNotEqual(directOther.header("X-Request-ID"), "chosen-by-client", "only a trusted proxy's request id is kept")

        let lines = try requestLines().filter { $0["path"] == "/new-nonce" }
        func statuses(_ ip: String) -> [String] { lines.filter { $0["client_ip"] == ip }.compactMap { $0["status"] } }
        XCTAssertEqual(statuses("127.0.0.1"), ["204", "204", "204", "429", "429", "429"])
        XCTAssertEqual(statuses("127.0.0.3"), ["204"])
        XCTAssertEqual(statuses("127.0.0.4"), ["204"])
        XCTAssertEqual(statuses("198.51.100.7") + statuses("198.51.100.9") + statuses(Self.proxySource), [])
    }
}
