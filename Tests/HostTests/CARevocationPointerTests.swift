import Foundation
import Logging
import Testing

@testable import Host

/// Where each leaf points relying parties for revocation: Runtime gives each CA backend the
/// URL of its own CRL while `crl.enabled` is on, and GuardedCA hands the backend it asks that
/// URL (and its OCSP URL), whatever the request carried; CAFile puts them in the leaf.
@Suite struct CARevocationPointerTests {
    let registry = PluginRegistry(threadPool: Fixtures.pool) { label in Logger(label: label) { _ in SwiftLogNoOpLogHandler() } }

    func config(crl: String) throws -> AppConfig {
        let pki = try CAFilePKI.shared()
        return try ConfigLoader.load(yaml: """
            server:
              external_url: https://acme.example.com
            database:
              database: acmeeh
              user: acmeeh
            plugins:
              directory: \(TestPaths.products.path)
            ca:
              backend: internal
              failover: [internal]
              internal:
                root_cert_path: \(pki.rsaRootCert)
                root_key_path: \(pki.rsaRootKey)
            \(crl)
            """, source: "test.yaml", environment: [:])
    }

    @Test func eachBackendGetsItsCRLURLWhileCRLsArePublished() async throws {
        let on = try config(crl: "crl:\n  enabled: true\n  path: /revoked\n")
        let ca = try await Runtime.loadGuardedCA(config: on, plugins: registry, directory: TestPaths.products.path,
                                                 logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        // The repeated failover entry is dropped, so indexes are those CRLEndpoint serves.
        #expect(ca.backends.map(\.name) == ["internal"])
        #expect(ca.backends.map(\.crlDistributionPoint) == ["https://acme.example.com/revoked"])
        #expect(ca.ocspURL == nil)
        for backend in ca.backends { await backend.instance.close() }

        let off = try config(crl: "")
        let plain = try await Runtime.loadGuardedCA(config: off, plugins: registry, directory: TestPaths.products.path,
                                                    logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        #expect(plain.backends.map(\.crlDistributionPoint) == [nil])
        for backend in plain.backends { await backend.instance.close() }
    }

    /// The primary's breaker is open, so the failover backend signs: its leaf names its own
    /// CRL (not the primary's, not the request's) and the GuardedCA's OCSP responder.
    @Test func theBackendThatSignsNamesItsOwnCRL() async throws {
        let pki = try CAFilePKI.shared()
        let json = #"{"root_cert_path": "\#(pki.rsaRootCert)", "root_key_path": "\#(pki.rsaRootKey)"}"#
        func load() async throws -> CAPluginInstance {
            try await registry.loadCA(backend: "internal", directory: TestPaths.products.path, configJSON: json, configPath: "ca.internal")
        }
        let open = CircuitBreaker(failureThreshold: 1, recoveryTimeout: 3600)
        _ = open.recordFailure()
        let ca = GuardedCA(backends: [
            .init(name: "primary", instance: try await load(), breaker: open, crlDistributionPoint: "http://acme.example.test/crl"),
            .init(name: "failover", instance: try await load(), breaker: CircuitBreaker(failureThreshold: 5, recoveryTimeout: 60),
                  crlDistributionPoint: "http://acme.example.test/crl/1"),
        ], logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }, ocspURL: "http://ocsp.example.test/")

        var request = CASignRequest(csrDER: try pki.csr(key: pki.ecLeafKey, sans: ["DNS:pointer.example.test"]), validityDays: 7)
        request.crlDistributionPoint = "http://request.example.test/crl"
        let (outcome, backend) = try await ca.sign(request, timeout: .seconds(30))
        #expect(backend == "failover")
        guard case .issued(let chain, _, _, _) = outcome else {
            Issue.record("expected an issued certificate, got \(outcome)")
            return
        }
        let directory = try TestPaths.temporaryDirectory("acmeeh-cdp")
        defer { try? FileManager.default.removeItem(at: directory) }
        let leaf = directory.appendingPathComponent("leaf.pem").path
        try chain.write(toFile: leaf, atomically: true, encoding: .utf8)
        let printed = try Command.tool("openssl", ["x509", "-in", leaf, "-noout", "-ext", "crlDistributionPoints,authorityInfoAccess"])
        #expect(printed.status == 0, "\(printed.stderr)")
        let lines = printed.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(lines.filter { $0.contains("URI:") } == ["URI:http://acme.example.test/crl/1", "OCSP - URI:http://ocsp.example.test/"],
                "\(printed.stdout)")
        for backend in ca.backends { await backend.instance.close() }
    }
}
