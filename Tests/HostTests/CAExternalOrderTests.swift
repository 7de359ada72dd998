import Foundation
@testable import Host
import XCTest

/// The `external` CA backend configured from YAML and driven by full ACME orders against
/// the real `acmeeh serve`: `Fixtures/signing_service.py` signs for real with openssl
/// (plain HTTP, HTTPS with mutual TLS), revocations reach its revoke_url, and the circuit
/// breaker opens when the service is killed and closes when it returns.
final class CAExternalOrderTests: XCTestCase {
    var harness: CAOrderHarness!

    override func setUpWithError() throws { harness = try CAOrderHarness() }
    override func tearDown() { harness?.shutdown() }

    func testOrderIssuedByTheSigningServiceAndRevokedThroughIt() throws {
        let pki = try CAFilePKI.shared()
        let service = try startSigningService(["--auth", "Bearer s3cret", "--auth-header", "X-Api-Key"])
        try harness.start(ca: """
            backend: external
            external:
              sign_url: \(service.url("/sign"))
              revoke_url: \(service.url("/revoke"))
              auth_header: X-Api-Key
              auth_value: Bearer s3cret
            """)
        let client = try harness.client()
        let names = ["ext.example.test", "www.ext.example.test"]
        let orderURL = try harness.readyOrder(client, names)
        let finalized = try harness.finalize(client, orderURL, names)
        XCTAssertEqual(finalized.status, 200, CAOrderHarness.text(finalized))
        XCTAssertEqual(finalized.json?["status"] as? String, "valid", CAOrderHarness.text(finalized))
        let (_, chain) = try harness.certificate(client, order: finalized.json ?? [:])
        XCTAssertTrue(try CAOrderHarness.verifies(chain, root: pki.rsaRootCert), "the leaf verifies against the service's root")
        XCTAssertFalse(try CAOrderHarness.verifies(chain, root: harness.internalRoot))
        let sans = try Command.tool("openssl", ["x509", "-in", chain, "-noout", "-ext", "subjectAltName"]).stdout
        XCTAssertTrue(sans.contains("DNS:ext.example.test") && sans.contains("DNS:www.ext.example.test"), sans)

        // The service got the CSR with the configured credential; the host recorded the backend.
        let signs = service.requests().filter { $0["path"] as? String == "/sign" }
        XCTAssertEqual(signs.count, 1)
        XCTAssertEqual(signs.first?["auth"] as? String, "Bearer s3cret")
        XCTAssertEqual((signs.first?["body"] as? [String: Any])?["validity_days"] as? Int, 90)
        let serial = try CAOrderHarness.storedSerial(ofChain: chain)
        XCTAssertEqual(try harness.certificateRows().map(\.serial), [serial])
        XCTAssertEqual(try harness.certificateRows().map(\.backend), ["external"])

        // revokeCert (RFC 8555 §7.6) reaches the service's revoke_url with the serial and reason.
        let revoked = try harness.revoke(client, chainFile: chain, reason: 4)
        XCTAssertEqual(revoked.status, 200, CAOrderHarness.text(revoked))
        let revokes = service.requests().filter { $0["path"] as? String == "/revoke" }
        XCTAssertEqual(revokes.count, 1, "\(service.requests())")
        let body = revokes.first?["body"] as? [String: Any]
        XCTAssertEqual(body?["serial_number"] as? String, serial)
        XCTAssertEqual(body?["reason"] as? Int, 4)
        XCTAssertEqual(revokes.first?["status"] as? Int, 200)
        XCTAssertEqual(try harness.certificateRows().map(\.revoked), [true])
    }

    /// `crl.enabled` with `crl_url`: the CRL the server publishes is the one the service signed
    /// (it verifies against the service's root), and lists a certificate revoked through ACME.
    func testServedCRLIsSignedByTheServiceAndListsARevokedCertificate() throws {
        let pki = try CAFilePKI.shared()
        let service = try startSigningService()
        try harness.start(ca: """
            backend: external
            external:
              sign_url: \(service.url("/sign"))
              revoke_url: \(service.url("/revoke"))
              crl_url: \(service.url("/crl"))
            """, extra: "crl:\n  enabled: true\n  rebuild_interval_seconds: 3600\n  next_update_seconds: 7200\n")
        let client = try harness.client()
        let names = ["crl.ext.example.test"]
        let finalized = try harness.finalize(client, try harness.readyOrder(client, names), names)
        XCTAssertEqual(finalized.json?["status"] as? String, "valid", CAOrderHarness.text(finalized))
        let (_, chain) = try harness.certificate(client, order: finalized.json ?? [:])
        let serial = try CAOrderHarness.storedSerial(ofChain: chain)
        XCTAssertEqual(try harness.revoke(client, chainFile: chain, reason: 1).status, 200)

        // The served CRL lists the serial within seconds, and verifies against the service's root.
        let der = harness.directory.appendingPathComponent("served.crl")
        var text = ""
        var listed: [String] = []
        let end = Date().addingTimeInterval(20)
        while Date() < end, listed.isEmpty {
            let response = try HTTP.get(try XCTUnwrap(harness.server?.baseURL) + "/crl")
            if response.status == 200 {
                try response.body.write(to: der)
                text = try Command.tool("openssl", ["crl", "-inform", "DER", "-in", der.path, "-noout", "-text"]).stdout
                listed = text.components(separatedBy: "Serial Number: ").dropFirst()
                    .map { CertificateID.normalisedSerial(String($0.prefix { $0 != "\n" }).replacingOccurrences(of: ":", with: "")) }
            }
            if listed.isEmpty { Thread.sleep(forTimeInterval: 0.3) }
        }
        XCTAssertEqual(listed, [serial], text + harness.log)
        XCTAssertTrue(text.contains("Key Compromise"), text)
        let verified = try Command.tool("openssl", ["crl", "-inform", "DER", "-in", der.path, "-CAfile", pki.rsaRootCert, "-noout"])
        XCTAssertEqual(verified.status, 0, verified.stdout + verified.stderr)
        XCTAssertTrue((verified.stdout + verified.stderr).contains("verify OK"), verified.stdout + verified.stderr)
        XCTAssertNotEqual(try Command.tool("openssl", ["crl", "-inform", "DER", "-in", der.path, "-CAfile", harness.internalRoot, "-noout"]).status, 0,
                          "not signed by the internal root")

        // The service was asked for it: the last /crl request carried the serial with its reason.
        let crls = service.requests().filter { $0["path"] as? String == "/crl" }
        let last = try XCTUnwrap(crls.last?["body"] as? [String: Any], "\(service.requests())")
        let revoked = try XCTUnwrap(last["revoked"] as? [[String: Any]])
        XCTAssertEqual(revoked.map { CertificateID.normalisedSerial($0["serial_number"] as? String ?? "") }, [serial])
        XCTAssertEqual(revoked.first?["reason"] as? Int, 1)
        XCTAssertEqual(crls.last?["status"] as? Int, 200)
    }

    func testOrderOverMutualTLSWithTheConfiguredClientCertificate() throws {
        let pki = try CAFilePKI.shared()
        let tls = try TLSTestPKI.shared()
        let service = try startSigningService(tls.serviceArguments(mutual: true))
        XCTAssertTrue(service.url("/sign").hasPrefix("https://127.0.0.1:"))
        try harness.start(ca: """
            backend: external
            external:
              sign_url: \(service.url("/sign"))
              revoke_url: \(service.url("/revoke"))
              ca_cert_path: \(tls.caCert)
              client_cert_path: \(tls.clientCert)
              client_key_path: \(tls.clientKey)
            """)
        let client = try harness.client()
        let orderURL = try harness.readyOrder(client, ["mtls.example.test"])
        let finalized = try harness.finalize(client, orderURL, ["mtls.example.test"])
        XCTAssertEqual(finalized.json?["status"] as? String, "valid", CAOrderHarness.text(finalized))
        let (_, chain) = try harness.certificate(client, order: finalized.json ?? [:])
        XCTAssertTrue(try CAOrderHarness.verifies(chain, root: pki.rsaRootCert))
        XCTAssertEqual(try harness.revoke(client, chainFile: chain).status, 200)

        // Both calls came over mutual TLS with the configured client certificate.
        let requests = service.requests().filter { $0["path"] != nil }
        XCTAssertEqual(requests.map { $0["path"] as? String }, ["/sign", "/revoke"])
        XCTAssertEqual(requests.map { $0["client_cn"] as? String }, ["acmeeh signing client", "acmeeh signing client"])
        XCTAssertFalse(harness.log.contains("plain http"), harness.log)
    }

    /// Threshold 2: two orders fail retryably with the service killed, the third fails
    /// fast on the open breaker (the restarted service sees no request); after the
    /// recovery time one probe goes through, succeeds, and orders issue again.
    func testCircuitBreakerOpensWhileTheServiceIsDownAndClosesWhenItReturns() throws {
        let service = try startSigningService()
        let port = service.port
        try harness.start(ca: """
            backend: external
            circuit_breaker_failure_threshold: 2
            circuit_breaker_recovery_timeout: 15
            external:
              sign_url: \(service.url("/sign"))
              timeout_seconds: 5
              max_retries: 0
            """)
        let client = try harness.client()
        let first = try harness.finalize(client, try harness.readyOrder(client, ["cb0.example.test"]), ["cb0.example.test"])
        XCTAssertEqual(first.json?["status"] as? String, "valid", CAOrderHarness.text(first))

        // Ready orders made beforehand, so that the breaker's recovery time is spent on finalizing only.
        let names = (1...4).map { "cb\($0).example.test" }
        let ready = try names.map { try harness.readyOrder(client, [$0]) }
        service.stop()

        // Retryable failures: the order ends invalid with serverInternal (HTTP 500) naming the cause.
        for index in 0..<2 {
            let failed = try harness.finalize(client, ready[index], [names[index]])
            XCTAssertEqual(failed.status, 500, CAOrderHarness.text(failed))
            XCTAssertEqual(failed.json?["type"] as? String, "urn:ietf:params:acme:error:serverInternal")
            XCTAssertTrue((failed.json?["detail"] as? String ?? "").contains("unreachable"), CAOrderHarness.text(failed))
            let order = try client.post(ready[index], nil).json
            XCTAssertEqual(order?["status"] as? String, "invalid")
            XCTAssertEqual((order?["error"] as? [String: Any])?["type"] as? String, "urn:ietf:params:acme:error:serverInternal")
        }
        XCTAssertTrue(harness.log.contains("circuit breaker for CA backend external opened"), harness.log)

        // Open: fails fast, naming the breaker, and the service (back on its port) is not called.
        let fast = try harness.finalize(client, ready[2], [names[2]])
        XCTAssertEqual(fast.status, 500)
        XCTAssertTrue((fast.json?["detail"] as? String ?? "").contains("circuit breaker open"), CAOrderHarness.text(fast))
        let restarted = try startSigningService(["--port", "\(port)"])
        let stillOpen = try harness.finalize(client, ready[3], [names[3]])
        XCTAssertTrue((stillOpen.json?["detail"] as? String ?? "").contains("circuit breaker open"), CAOrderHarness.text(stillOpen))
        XCTAssertEqual(restarted.requests().count, 0, "an open breaker does not call the backend")

        // After the recovery time a half-open probe goes through and issues; the circuit is closed again.
        let deadline = Date().addingTimeInterval(60)
        var issued: HTTP.Response? = nil
        while Date() < deadline {
            let attempt = try harness.finalize(client, try harness.readyOrder(client, ["cb5.example.test"]), ["cb5.example.test"])
            if attempt.json?["status"] as? String == "valid" {
                issued = attempt
                break
            }
            XCTAssertTrue((attempt.json?["detail"] as? String ?? "").contains("circuit breaker open"), CAOrderHarness.text(attempt))
            Thread.sleep(forTimeInterval: 1)
        }
        XCTAssertNotNil(issued, "no order issued after the recovery time")
        XCTAssertEqual(restarted.requests().map { $0["status"] as? Int }, [200], "exactly one probe, which succeeded")
        let after = try harness.finalize(client, try harness.readyOrder(client, ["cb6.example.test"]), ["cb6.example.test"])
        XCTAssertEqual(after.json?["status"] as? String, "valid", CAOrderHarness.text(after))
        XCTAssertEqual(try harness.certificateRows().map(\.backend), ["external", "external", "external"])
    }
}
