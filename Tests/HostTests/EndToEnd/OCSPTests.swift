import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
@testable import Host
import XCTest

/// The OCSP responder (`ocsp.*`, RFC 6960) at a real `acmeeh serve` with the file CA, asked
/// by `openssl ocsp`: a fresh certificate is good, then revoked with its time and reason
/// keyCompromise; a serial never issued is unknown; the response is signed by a delegated
/// responder certificate (id-kp-OCSPSigning) that the CA issued and verifies against the CA
/// root, and echoes openssl's nonce. GET with the base64 request in the path answers the
/// same, cacheably; garbage gets malformedRequest.
final class OCSPTests: XCTestCase {
    var workspace: FileValidatorServe!
    var server: ServerProcess!

    override func setUpWithError() throws {
        workspace = try FileValidatorServe(prefix: "acmeeh-ocsp")
    }

    override func tearDownWithError() throws {
        server?.stop()
        workspace?.cleanUp()
    }

    var root: String { workspace.directory.appendingPathComponent("ca/root.pem").path }
    func file(_ name: String) -> String { workspace.directory.appendingPathComponent(name).path }

    /// `openssl ocsp` against the server's responder with `arguments` naming the certificate;
    /// stdout and stderr together (openssl writes "Response verify OK" to stderr).
    func ask(_ arguments: [String]) throws -> String {
        let result = try Command.run("/usr/bin/openssl", ["ocsp", "-issuer", root, "-CAfile", root,
                                                           "-url", server.baseURL + "/ocsp", "-resp_text"] + arguments)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        return result.stdout + "\n" + result.stderr
    }

    func testGoodThenRevokedUnknownNonceGETAndMalformed() throws {
        server = try workspace.start(extra: "ocsp:\n  enabled: true\n  next_update_seconds: 600\n")
        let health = try HTTP.get(server.baseURL + "/healthz").json?["checks"] as? [String: Any]
        let ocspHealth = health?["ocsp"] as? [String: Any]
        XCTAssertEqual(ocspHealth?["status"] as? String, "ok", "\(health ?? [:])")
        XCTAssertEqual(ocspHealth?["responder_serial"] as? String, "1", "the first serial of serial_source: database")
        XCTAssertNotNil(ocspHealth?["responder_not_after"] as? String)
        let client = try ACMETestClient(directoryURL: server.baseURL + "/directory")
        let flow = try workspace.issue(client, name: "ocsp.example.test")
        let chain = try client.post(flow.certificateURL, .empty, key: flow.key, kid: flow.account).text
        try chain.write(toFile: file("leaf.pem"), atomically: true, encoding: .utf8)
        let leaf = file("leaf.pem")
        let aia = try Command.run("/usr/bin/openssl", ["x509", "-in", leaf, "-noout", "-ext", "authorityInfoAccess"])
        XCTAssertTrue(aia.stdout.contains("OCSP - URI:\(server.baseURL)/ocsp"), "the leaf names the responder: \(aia.stdout)")

        let good = try ask(["-cert", leaf])
        XCTAssertTrue(good.contains("\(leaf): good"), good)
        XCTAssertTrue(good.contains("Response verify OK"), good)
        XCTAssertTrue(good.contains("OCSP Nonce"), "the nonce openssl sent comes back: \(good)")
        XCTAssertFalse(good.contains("WARNING"), good)
        XCTAssertTrue(good.contains("OCSP Signing"), "a delegated responder certificate: \(good)")
        XCTAssertTrue(good.contains("ocsp-responder.invalid"), good)
        let sha256 = try ask(["-sha256", "-cert", leaf])
        XCTAssertTrue(sha256.contains("Hash Algorithm: sha256"), sha256)
        XCTAssertTrue(sha256.contains("\(leaf): good"), "a CertID hashed with SHA-256: \(sha256)")

        // The same serial under another issuer's name and key is not ours: unknown.
        let other = try Command.run("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                                                          "-nodes", "-keyout", file("other.key"), "-out", file("other.pem"),
                                                          "-subj", "/CN=another CA", "-days", "1"])
        XCTAssertEqual(other.status, 0, other.stderr)
        let serial = "0x" + (try CertificateChain(pem: chain).leaf.serialHex)
        let foreign = try Command.run("/usr/bin/openssl", ["ocsp", "-issuer", file("other.pem"), "-serial", serial,
                                                            "-url", server.baseURL + "/ocsp", "-noverify"])
        XCTAssertTrue(foreign.stdout.contains("\(serial): unknown"), foreign.stdout + foreign.stderr)

        // The GET form (RFC 6960 Appendix A.1) of a nonce-less request, cacheable until nextUpdate.
        let made = try Command.run("/usr/bin/openssl", ["ocsp", "-issuer", root, "-cert", leaf, "-no_nonce",
                                                         "-reqout", file("request.der")])
        XCTAssertEqual(made.status, 0, made.stderr)
        let request = try Data(contentsOf: URL(fileURLWithPath: file("request.der")))
        let encoded = try XCTUnwrap(request.base64EncodedString()
            .addingPercentEncoding(withAllowedCharacters: .alphanumerics))
        let got = try HTTP.get(server.baseURL + "/ocsp/" + encoded)
        XCTAssertEqual(got.status, 200)
        XCTAssertEqual(got.header("Content-Type"), "application/ocsp-response")
        XCTAssertTrue(got.header("Cache-Control")?.contains("max-age=") ?? false, "\(got.headers)")
        try got.body.write(to: URL(fileURLWithPath: file("response.der")))
        let read = try Command.run("/usr/bin/openssl", ["ocsp", "-respin", file("response.der"), "-issuer", root,
                                                         "-cert", leaf, "-CAfile", root, "-no_nonce"])
        XCTAssertTrue((read.stdout + read.stderr).contains("Response verify OK"), read.stdout + read.stderr)
        XCTAssertTrue(read.stdout.contains("\(leaf): good"), read.stdout + read.stderr)
        // Clients that put the base64 in the path as it is ('/', '+' and '=' unescaped), and base64url.
        let raw = try HTTP.get(server.baseURL + "/ocsp/" + request.base64EncodedString())
        XCTAssertEqual(raw.status, 200)
        for body in [raw.body, try HTTP.get(server.baseURL + "/ocsp/" + Base64URL.encode([UInt8](request))).body] {
            try body.write(to: URL(fileURLWithPath: file("response.der")))
            let again = try Command.run("/usr/bin/openssl", ["ocsp", "-respin", file("response.der"), "-issuer", root,
                                                              "-cert", leaf, "-CAfile", root, "-no_nonce"])
            XCTAssertTrue(again.stdout.contains("\(leaf): good"), again.stdout + again.stderr)
        }

        // Revoked (keyCompromise) at once, with its time.
        XCTAssertEqual(try client.post(client.url("revokeCert"), .json(["certificate": flow.certificate, "reason": 1]),
                                       key: flow.key, kid: flow.account).status, 200)
        let revoked = try ask(["-cert", leaf])
        XCTAssertTrue(revoked.contains("\(leaf): revoked"), revoked)
        XCTAssertTrue(revoked.contains("Reason: keyCompromise"), revoked)
        XCTAssertTrue(revoked.contains("Revocation Time:"), revoked)
        XCTAssertTrue(revoked.contains("Response verify OK"), revoked)

        // A serial this server never issued.
        let unknown = try ask(["-serial", "0x123456"])
        XCTAssertTrue(unknown.contains("0x123456: unknown"), unknown)
        XCTAssertTrue(unknown.contains("Response verify OK"), unknown)

        // Garbage: an OCSPResponse of status malformedRequest (1) only, by POST and by GET.
        var post = URLRequest(url: URL(string: server.baseURL + "/ocsp")!)
        post.httpMethod = "POST"
        post.setValue("application/ocsp-request", forHTTPHeaderField: "Content-Type")
        post.httpBody = Data("not an OCSP request".utf8)
        let garbage = try HTTP.send(post)
        XCTAssertEqual(garbage.status, 200)
        XCTAssertEqual([UInt8](garbage.body), [0x30, 0x03, 0x0A, 0x01, 0x01])
        XCTAssertEqual([UInt8](try HTTP.get(server.baseURL + "/ocsp/AAAA").body), [0x30, 0x03, 0x0A, 0x01, 0x01])
        post.httpBody = Data(repeating: 0x30, count: OCSPEndpoint.maxRequestBytes + 1)
        XCTAssertEqual([UInt8](try HTTP.send(post).body), [0x30, 0x03, 0x0A, 0x01, 0x01], "an oversized body")
    }

    /// A CA plugin that ignores the profile's extended key usages (the example MinimalCA
    /// issues serverAuth only) cannot make a responder certificate: `serve` refuses to start.
    func testACAThatLeavesOutOCSPSigningRefusesToStart() throws {
        let library = TestPaths.products.resolvingSymlinksInPath().path + "/libExampleMinimalCA.so"
        XCTAssertTrue(FileManager.default.fileExists(atPath: library), "run swift build: \(library) is missing")
        let ca = workspace.directory.appendingPathComponent("ca")
        XCTAssertThrowsError(try workspace.start(extra: "ocsp:\n  enabled: true\n", edit: { url in
            let yaml = try String(contentsOf: url, encoding: .utf8)
            try yaml.replacingOccurrences(of: "  backend: internal\n", with: """
                  backend: "ext:\(library)"
                  issuer_cert: \(ca.appendingPathComponent("root.pem").path)
                  issuer_key: \(ca.appendingPathComponent("root-key.pem").path)

                """).write(to: url, atomically: true, encoding: .utf8)
        })) { error in
            XCTAssertTrue("\(error)".contains("ocsp.enabled: ca.backend ext:"), "\(error)")
            XCTAssertTrue("\(error)".contains("without extended key usage id-kp-OCSPSigning"), "\(error)")
        }
    }

    /// `ocsp.path` must not be a path acmeeh already serves.
    func testAPathAlreadyServedIsRefused() throws {
        XCTAssertThrowsError(try workspace.start(extra: "ocsp:\n  enabled: true\n  path: /directory\n")) { error in
            XCTAssertTrue("\(error)".contains("ocsp.path /directory is already served by acmeeh"), "\(error)")
        }
    }

    func testTheResponderCertificateIsDueWithinRenewBeforeDays() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let day: TimeInterval = 86400
        XCTAssertTrue(OCSPResponder.isDue(notAfter: nil, renewBeforeDays: 2, now: now), "none yet")
        XCTAssertFalse(OCSPResponder.isDue(notAfter: now + 2 * day + 1, renewBeforeDays: 2, now: now))
        XCTAssertTrue(OCSPResponder.isDue(notAfter: now + 2 * day, renewBeforeDays: 2, now: now))
        XCTAssertTrue(OCSPResponder.isDue(notAfter: now - 1, renewBeforeDays: 0, now: now), "expired")
        XCTAssertFalse(OCSPResponder.isDue(notAfter: now + 1, renewBeforeDays: 0, now: now))
        XCTAssertEqual(OCSPResponder.checkSeconds(notAfter: now + 7 * day, renewBeforeDays: 2, now: now), 3600)
        XCTAssertEqual(OCSPResponder.checkSeconds(notAfter: now + 2 * day + 600, renewBeforeDays: 2, now: now), 600,
                       "wakes when the renewal is due")
        XCTAssertEqual(OCSPResponder.checkSeconds(notAfter: now + 10, renewBeforeDays: 0, now: now), 60)
    }

    func testResponderURLAndConfigChecks() throws {
        let on = try ConfigLoader.load(yaml: ConfigTests.minimal + "ocsp:\n  enabled: true\n  path: /status\n",
                                       source: "test.yaml", environment: [:])
        XCTAssertEqual(on.ocspResponderURL, on.server.externalURL + "/status")
        let off = try ConfigLoader.load(yaml: ConfigTests.minimal, source: "test.yaml", environment: [:])
        XCTAssertNil(off.ocspResponderURL)
        XCTAssertEqual(off.ocsp, OcspConfig())

        for (yaml, path) in [("ocsp:\n  renew_before_days: 7\n", "ocsp.renew_before_days"),
                             ("ocsp:\n  path: ocsp\n", "ocsp.path"),
                             ("ocsp:\n  path: /ocsp/\n", "ocsp.path")] {
            XCTAssertThrowsError(try ConfigLoader.load(yaml: ConfigTests.minimal + yaml, source: "test.yaml", environment: [:])) { error in
                XCTAssertEqual((error as? ConfigError)?.problems.map(\.path), [path], "\(yaml): \(error)")
            }
        }
    }
}
