import Foundation
import Logging
import XCTest

@testable import Host

/// CAExternal over HTTPS and mutual TLS, through the host's plugin loader, against
/// `Fixtures/signing_service.py` serving TLS with a certificate from a test CA
/// (`TLSTestPKI`): trust comes from `ca_cert_path` only, and a trust or client
/// certificate problem is a final error that names the key to fix.
final class CAExternalTLSTests: XCTestCase {
    static let pool = PluginThreadPool(numberOfThreads: 2)

    func testHTTPSSigningWorksWhenCACertPathTrustsTheService() async throws {
        let tls = try TLSTestPKI.shared()
        let service = try startSigningService(tls.serviceArguments(mutual: false))
        let ca = try await loadExternal(["sign_url": service.url("/sign"), "ca_cert_path": tls.caCert])
        try await ca.selfCheck(timeout: .seconds(10))
        let outcome = try await ca.sign(try request("https.example.test"), timeout: .seconds(30))
        guard case .issued(let chain, _, _, _) = outcome else { return XCTFail("expected issued, got \(outcome)") }
        XCTAssertTrue(chain.hasPrefix("-----BEGIN CERTIFICATE-----"), chain)
        XCTAssertEqual(service.requests().filter { $0["path"] as? String == "/sign" }.count, 1)
    }

    func testUntrustedServiceCertificateIsAFinalErrorNamingCACertPath() async throws {
        let tls = try TLSTestPKI.shared()
        let service = try startSigningService(tls.serviceArguments(mutual: false))
        let pki = try CAFilePKI.shared()
        for (config, trust) in [([String: Any](), "the system's trusted CAs (set ca.external.ca_cert_path"),
                                (["ca_cert_path": pki.rsaRootCert], "ca.external.ca_cert_path (\(pki.rsaRootCert))")] {
            var settings = config
            settings["sign_url"] = service.url("/sign")
            settings["max_retries"] = 2
            settings["retry_delay_seconds"] = 0.05
            let ca = try await loadExternal(settings)
            let error = try await signError(ca, try request("untrusted.example.test"))
            XCTAssertEqual(error.code, .config, "\(error)")
            XCTAssertFalse(error.retryable, "retrying cannot fix trust")
            XCTAssertTrue(error.detail.hasPrefix("ca.external: TLS to the sign API failed: its certificate did not verify against \(trust)"),
                          error.detail)
        }
        XCTAssertEqual(service.requests().filter { $0["path"] != nil }.count, 0, "no request got through")
    }

    func testMutualTLSNeedsTheClientCertificateTheServiceTrusts() async throws {
        let tls = try TLSTestPKI.shared()
        let service = try startSigningService(tls.serviceArguments(mutual: true))

        let anonymous = try await loadExternal(["sign_url": service.url("/sign"), "ca_cert_path": tls.caCert, "max_retries": 2])
        let missing = try await signError(anonymous, try request("mtls.example.test"))
        XCTAssertEqual(missing.code, .config, "\(missing)")
        XCTAssertFalse(missing.retryable)
        XCTAssertTrue(missing.detail.contains("requires a client certificate (mutual TLS) and none is configured "
            + "(set ca.external.client_cert_path and client_key_path)"), missing.detail)
        do {
            try await anonymous.selfCheck(timeout: .seconds(10))
            XCTFail("the self-check passed without a client certificate")
        } catch {
            XCTAssertTrue(error.detail.hasPrefix("ca.external.sign_url: TLS to the signing API failed: it requires a client certificate"),
                          error.detail)
        }

        let stranger = try await loadExternal([
            "sign_url": service.url("/sign"), "ca_cert_path": tls.caCert,
            "client_cert_path": tls.strangerCert, "client_key_path": tls.strangerKey,
        ])
        let refused = try await signError(stranger, try request("mtls.example.test"))
        XCTAssertFalse(refused.retryable)
        XCTAssertTrue(refused.detail.contains("refused the client certificate ca.external.client_cert_path (\(tls.strangerCert))"),
                      refused.detail)
        // The service refused those handshakes itself (one per attempt: no retries of a final error).
        // It records a refused handshake after the client has seen it fail: wait for the records.
        var refusals = 0
        for _ in 0..<50 {
            refusals = service.requests().filter { $0["tls_error"] != nil }.count
            if refusals >= 3 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        XCTAssertEqual(refusals, 3, "\(service.requests())")

        let trusted = try await loadExternal([
            "sign_url": service.url("/sign"), "ca_cert_path": tls.caCert,
            "client_cert_path": tls.clientCert, "client_key_path": tls.clientKey,
        ])
        let outcome = try await trusted.sign(try request("mtls.example.test"), timeout: .seconds(30))
        guard case .issued = outcome else { return XCTFail("expected issued, got \(outcome)") }
        XCTAssertEqual(service.requests().last?["client_cn"] as? String, "acmeeh signing client")
    }

    /// `acmeeh serve` with an external CA whose TLS certificate it does not trust does not
    /// start, and says why.
    func testServeRefusesToStartWhenTheServiceIsNotTrusted() throws {
        let tls = try TLSTestPKI.shared()
        let service = try startSigningService(tls.serviceArguments(mutual: false))
        let harness = try CAOrderHarness()
        defer { harness.shutdown() }
        XCTAssertThrowsError(try harness.start(ca: """
            backend: external
            external:
              sign_url: \(service.url("/sign"))
            """)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("ca.backend: CA plugin external failed its self-check: ca.external.sign_url: "
                + "TLS to the signing API failed: its certificate did not verify against the system's trusted CAs"), text)
        }
    }

    // MARK: - helpers

    func loadExternal(_ config: [String: Any]) async throws -> CAPluginInstance {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys, .withoutEscapingSlashes]),
                          as: UTF8.self)
        return try await PluginRegistry(threadPool: Self.pool) { Logger(label: $0) }.loadCA(
            backend: "external", configKey: "ca.backend", directory: TestPaths.products.path,
            configJSON: json, configPath: "ca.external")
    }

    func request(_ name: String) throws -> CASignRequest {
        let pki = try CAFilePKI.shared()
        return CASignRequest(csrDER: try pki.csr(key: pki.ecLeafKey, sans: ["DNS:\(name)"]), validityDays: 30)
    }

    func signError(_ ca: CAPluginInstance, _ request: CASignRequest) async throws -> PluginError {
        do {
            let outcome = try await ca.sign(request, timeout: .seconds(30))
            throw CLIFailure("sign succeeded (\(outcome)); expected a PluginError")
        } catch let error as PluginError {
            return error
        }
    }
}
