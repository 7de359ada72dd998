import Foundation
@testable import Host
import XCTest

/// CRL publishing (`crl.*`) at a real `acmeeh serve` with the file CA: the CRL worker builds
/// and stores a CRL signed by the CA (`openssl crl` verifies it), `openssl verify -crl_check`
/// accepts a certificate before `certbot revoke` and refuses it within seconds after, with its
/// reason; the number grows with each build; `acmeeh crl rebuild` publishes at once; a second
/// instance serves the same bytes; `/healthz` reports the CRL; a CA plugin without
/// `ca_sign_crl` makes `crl.enabled` refuse to start.
final class CRLTests: XCTestCase {
    var workspace: FileValidatorServe!
    var server: ServerProcess!
    var configFile: URL!

    override func setUpWithError() throws {
        workspace = try FileValidatorServe(prefix: "acmeeh-crl")
    }

    override func tearDownWithError() throws {
        server?.stop()
        workspace?.cleanUp()
    }

    var root: String { workspace.directory.appendingPathComponent("ca/root.pem").path }

    /// The served CRL once its number is at least `number`, written as PEM to `crl.pem`.
    func fetchCRL(atLeast number: Int, timeout: TimeInterval = 15) throws -> (response: HTTP.Response, pem: String, text: String) {
        let end = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < end {
            let response = try HTTP.get(server.baseURL + "/crl")
            if response.status == 200 {
                let der = workspace.directory.appendingPathComponent("crl.der")
                try response.body.write(to: der)
                let text = try Command.run("/usr/bin/openssl", ["crl", "-inform", "DER", "-in", der.path, "-noout", "-text"])
                last = text.stdout
                if let current = Self.crlNumber(text.stdout), current >= number {
                    let pem = workspace.directory.appendingPathComponent("crl.pem").path
                    _ = try Command.run("/usr/bin/openssl", ["crl", "-inform", "DER", "-in", der.path, "-out", pem])
                    return (response, pem, text.stdout)
                }
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        throw CLIFailure("no CRL numbered \(number) or more within \(timeout) s; last:\n\(last)\n\(server.log)")
    }

    static func crlNumber(_ text: String) -> Int? {
        guard let range = text.range(of: "X509v3 CRL Number: \n") else { return nil }
        return Int(text[range.upperBound...].prefix { $0 != "\n" }.trimmingCharacters(in: .whitespaces))
    }

    func testRevocationReachesTheServedCRLWhichTheCASigned() throws {
        server = try workspace.start(extra: "crl:\n  enabled: true\n  rebuild_interval_seconds: 3600\n  next_update_seconds: 7200\n"
                                         + "metrics:\n  enabled: true\n",
                                     edit: { self.configFile = $0 })
        let first = try fetchCRL(atLeast: 1)
        XCTAssertEqual(first.response.header("Content-Type"), "application/pkix-crl")
        let maxAge = first.response.header("Cache-Control").flatMap { $0.split(separator: "=").last }
            .flatMap { Int($0.prefix { $0.isNumber }) } ?? -1
        XCTAssertTrue((7000...7200).contains(maxAge), first.response.header("Cache-Control") ?? "-")
        XCTAssertNotNil(first.response.header("Expires"))
        let verified = try Command.run("/usr/bin/openssl", ["crl", "-in", first.pem, "-CAfile", root, "-noout"])
        XCTAssertTrue((verified.stdout + verified.stderr).contains("verify OK"), verified.stderr)
        XCTAssertTrue(first.text.contains("No Revoked Certificates"), first.text)

        // A certificate passes the CRL check, then is revoked (keyCompromise) and fails it.
        let client = try ACMETestClient(directoryURL: server.baseURL + "/directory")
        let flow = try workspace.issue(client, name: "crl.example.test")
        let leaf = workspace.directory.appendingPathComponent("leaf.pem")
        let chain = try client.post(flow.certificateURL, .empty, key: flow.key, kid: flow.account).text
        try chain.write(to: leaf, atomically: true, encoding: .utf8)
        // The leaf names where that CRL is served (cRLDistributionPoints, RFC 5280 §4.2.1.13).
        let distribution = try Command.run("/usr/bin/openssl", ["x509", "-in", leaf.path, "-noout", "-ext", "crlDistributionPoints"])
        XCTAssertEqual(distribution.status, 0, distribution.stderr)
        XCTAssertTrue(distribution.stdout.components(separatedBy: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                        .contains("URI:\(server.baseURL)/crl"), distribution.stdout)
        func verify(_ crl: String) throws -> CommandResult {
            try Command.run("/usr/bin/openssl", ["verify", "-crl_check", "-CAfile", root, "-CRLfile", crl, leaf.path])
        }
        XCTAssertEqual(try verify(first.pem).status, 0)

        // certbot revokes it, signing with the certificate's own key (RFC 8555 §7.6).
        let certbot = try Certbot(.debian21, endpoint: ACMEEndpoint(directoryURL: server.baseURL + "/directory"), httpPort: 0,
                                  directory: workspace.directory.appendingPathComponent("certbot"))
        let revoked = try certbot.revoke(certificate: leaf, key: URL(fileURLWithPath: flow.certificateKeyPath),
                                         reason: "keycompromise")
        XCTAssertTrue(revoked.succeeded, "\(revoked)")
        let second = try fetchCRL(atLeast: 2, timeout: 10)
        XCTAssertEqual(Self.crlNumber(second.text), 2, "the next number, within seconds of the revocation")
        XCTAssertTrue(second.text.contains("Key Compromise"), second.text)
        func number(_ hex: String) -> String { String(hex.uppercased().drop { $0 == "0" }) }
        let listed = second.text.components(separatedBy: "Serial Number: ").dropFirst()
            .map { number(String($0.prefix { $0 != "\n" }).replacingOccurrences(of: ":", with: "")) }
        XCTAssertEqual(listed, [number(try CertificateChain(pem: chain).leaf.serialHex)], second.text)
        let metrics = String(decoding: try HTTP.get(server.baseURL + "/metrics").body, as: UTF8.self)
        XCTAssertTrue(metrics.contains("\nacmeeh_crl_rebuilds_total 2\n"), metrics)
        XCTAssertTrue(metrics.contains("\nacmeeh_crl_worker_errors_total 0\n"), metrics)
        let refused = try verify(second.pem)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue((refused.stdout + refused.stderr).contains("certificate revoked"), refused.stdout + refused.stderr)

        // /healthz reports the CRL; `acmeeh crl rebuild` publishes the next number at once.
        let health = try HTTP.get(server.baseURL + "/healthz").json?["checks"] as? [String: Any]
        let crlHealth = health?["crl"] as? [String: Any]
        XCTAssertEqual(crlHealth?["status"] as? String, "ok", "\(health ?? [:])")
        XCTAssertEqual(crlHealth?["stale"] as? Bool, false)
        let rebuilt = try Command.run(TestPaths.executable.path, ["-c", configFile.path, "crl", "rebuild"])
        XCTAssertEqual(rebuilt.status, 0, rebuilt.stderr)
        XCTAssertTrue(rebuilt.stdout.hasPrefix("CRL 3 of internal: 1 entries, next update "), rebuilt.stdout)
        let third = try fetchCRL(atLeast: 3, timeout: 2)
        XCTAssertEqual(Self.crlNumber(third.text), 3, "served by the running server at once")

        // A second instance on the same database serves the same bytes, and builds none of its own.
        let other = try workspace.start(extra: "crl:\n  enabled: true\n  rebuild_interval_seconds: 3600\n  next_update_seconds: 7200\n")
        defer { other.stop() }
        Thread.sleep(forTimeInterval: Double(CRLPublisher.checkSeconds) + 1)
        XCTAssertEqual(try HTTP.get(other.baseURL + "/crl").body, third.response.body)
        XCTAssertEqual(try HTTP.get(server.baseURL + "/crl").body, third.response.body)
    }

    func testACAWithoutCRLSigningRefusesToStart() throws {
        XCTAssertThrowsError(try workspace.start(extra: "crl:\n  enabled: true\n", edit: { url in
            let yaml = try String(contentsOf: url, encoding: .utf8)
            try yaml.replacingOccurrences(of: "  backend: internal\n", with: """
                  backend: external
                  external:
                    sign_url: http://127.0.0.1:9/sign

                """).write(to: url, atomically: true, encoding: .utf8)
        })) { error in
            XCTAssertTrue("\(error)".contains("crl.enabled: ca.backend: CA plugin CAExternal (external) cannot sign CRLs "
                                               + "without ca.external.crl_url"), "\(error)")
        }
    }
}
