import Foundation
@testable import Host
import XCTest

/// `ca.failover` from YAML through full ACME orders against the real `acmeeh serve`:
/// with the external signing service down the internal CA (CAFile) issues, each
/// certificate records its backend and is revoked there; and a deferred signing is
/// polled at the failover backend that deferred it (`Fixtures/approval_ca.c`).
final class CAFailoverOrderTests: XCTestCase {
    var harness: CAOrderHarness!

    override func setUpWithError() throws { harness = try CAOrderHarness() }
    override func tearDown() { harness?.shutdown() }

    func testInternalIssuesWhileExternalIsDownAndRevocationsGoToTheIssuer() throws {
        let pki = try CAFilePKI.shared()
        let port = try ServerProcess.freePort()  // nothing listens there yet
        try harness.start(ca: """
            backend: external
            failover: [internal]
            internal:
              root_cert_path: \(harness.internalRoot)
              root_key_path: \(harness.internalRootKey)
            external:
              sign_url: http://127.0.0.1:\(port)/sign
              revoke_url: http://127.0.0.1:\(port)/revoke
              timeout_seconds: 5
            """)
        // The primary fails its self-check; with a failover backend that passes, serve starts.
        XCTAssertTrue(harness.log.contains("ca.backend: CA backend external failed its self-check"), harness.log)
        let client = try harness.client()

        let down = try harness.finalize(client, try harness.readyOrder(client, ["fo1.example.test"]), ["fo1.example.test"])
        XCTAssertEqual(down.json?["status"] as? String, "valid", CAOrderHarness.text(down))
        let (_, internalChain) = try harness.certificate(client, order: down.json ?? [:])
        XCTAssertTrue(try CAOrderHarness.verifies(internalChain, root: harness.internalRoot), "issued by the internal CA")
        XCTAssertFalse(try CAOrderHarness.verifies(internalChain, root: pki.rsaRootCert))
        XCTAssertTrue(harness.log.contains("CA failover: signed by internal"), harness.log)

        // The service comes up on its port: the primary signs again.
        let service = try startSigningService(["--port", "\(port)"])
        let up = try harness.finalize(client, try harness.readyOrder(client, ["fo2.example.test"]), ["fo2.example.test"])
        XCTAssertEqual(up.json?["status"] as? String, "valid", CAOrderHarness.text(up))
        let (_, externalChain) = try harness.certificate(client, order: up.json ?? [:])
        XCTAssertTrue(try CAOrderHarness.verifies(externalChain, root: pki.rsaRootCert), "issued by the signing service")

        let internalSerial = try CAOrderHarness.storedSerial(ofChain: internalChain)
        let externalSerial = try CAOrderHarness.storedSerial(ofChain: externalChain)
        XCTAssertEqual(try harness.certificateRows().map(\.serial), [internalSerial, externalSerial])
        XCTAssertEqual(try harness.certificateRows().map(\.backend), ["internal", "external"])

        // Each revocation goes to the backend that issued: the internal one never reaches the service.
        XCTAssertEqual(try harness.revoke(client, chainFile: internalChain).status, 200)
        XCTAssertEqual(service.requests().filter { $0["path"] as? String == "/revoke" }.count, 0, "\(service.requests())")
        XCTAssertEqual(try harness.revoke(client, chainFile: externalChain, reason: 1).status, 200)
        let revokes = service.requests().filter { $0["path"] as? String == "/revoke" }
        XCTAssertEqual(revokes.compactMap { ($0["body"] as? [String: Any])?["serial_number"] as? String }, [externalSerial])
        XCTAssertEqual(try harness.certificateRows().map(\.revoked), [true, true])
    }

    /// A primary that cannot work as configured (its TLS certificate is not trusted) is
    /// not retried, but the order fails over to the next backend.
    func testUntrustedExternalFailsOverToInternal() throws {
        let tls = try TLSTestPKI.shared()
        let service = try startSigningService(tls.serviceArguments(mutual: false))
        try harness.start(ca: """
            backend: external
            failover: [internal]
            internal:
              root_cert_path: \(harness.internalRoot)
              root_key_path: \(harness.internalRootKey)
            external:
              sign_url: \(service.url("/sign"))
              max_retries: 3
            """)
        let client = try harness.client()
        let finalized = try harness.finalize(client, try harness.readyOrder(client, ["tls-fo.example.test"]), ["tls-fo.example.test"])
        XCTAssertEqual(finalized.json?["status"] as? String, "valid", CAOrderHarness.text(finalized))
        XCTAssertEqual(try harness.certificateRows().map(\.backend), ["internal"])
        XCTAssertTrue(harness.log.contains("CA backend external failed by its configuration"), harness.log)
        // One refused handshake at startup (self-check) and one for the order: no retries.
        XCTAssertEqual(service.requests().filter { $0["tls_error"] != nil }.count, 2, "\(service.requests())")
    }

    /// The primary (external, down) fails retryably, the `ext:` failover defers; the
    /// poller must ask that backend, whose handle means nothing to the primary.
    func testDeferredSigningIsPolledAtTheBackendThatDeferred() throws {
        let library = try ApprovalCAFixture.library.get()
        let port = try ServerProcess.freePort()
        let calls = harness.directory.appendingPathComponent("approval-calls.log")
        let backend = "ext:\(library)"
        try harness.start(ca: """
            backend: external
            failover: ["\(backend)"]
            issuer_cert: \(harness.internalRoot)
            issuer_key: \(harness.internalRootKey)
            call_log: \(calls.path)
            external:
              sign_url: http://127.0.0.1:\(port)/sign
              timeout_seconds: 5
            """)
        let client = try harness.client()
        let orderURL = try harness.readyOrder(client, ["approve.example.test"])
        let finalized = try harness.finalize(client, orderURL, ["approve.example.test"])
        // RFC 8555 §7.4: processing, with Retry-After, until the CA issues.
        XCTAssertEqual(finalized.status, 200, CAOrderHarness.text(finalized))
        XCTAssertEqual(finalized.json?["status"] as? String, "processing", CAOrderHarness.text(finalized))
        XCTAssertNotNil(finalized.header("Retry-After"))
        XCTAssertEqual(try pendingBackends(), [backend])

        let order = try harness.settledOrder(client, orderURL)
        XCTAssertEqual(order["status"] as? String, "valid", "\(order)\n\(harness.log)")
        let (_, chain) = try harness.certificate(client, order: order)
        XCTAssertTrue(try CAOrderHarness.verifies(chain, root: harness.internalRoot), "signed by ApprovalCA at poll time")
        XCTAssertEqual(try harness.certificateRows().map(\.backend), [backend])
        let log = try String(contentsOf: calls, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(log.first, "sign approval-1")
        XCTAssertTrue(log.dropFirst().allSatisfy { $0 == "poll approval-1" } && log.count >= 2, "\(log)")

        // Revocation goes to it as well.
        XCTAssertEqual(try harness.revoke(client, chainFile: chain).status, 200)
        let serial = try CAOrderHarness.storedSerial(ofChain: chain)
        XCTAssertEqual(try String(contentsOf: calls, encoding: .utf8).split(separator: "\n").last.map(String.init), "revoke \(serial)")
    }

    /// `orders.ca_pending_backend` of every order that has one.
    func pendingBackends() throws -> [String] {
        let connection = try Connection(config: harness.database.config)
        defer { connection.close() }
        return try connection.query("SELECT ca_pending_backend FROM orders WHERE ca_pending_backend IS NOT NULL")
            .map { try $0.string("ca_pending_backend") }
    }
}

/// `Fixtures/approval_ca.c` (a deferring CA built on docs/examples/minimal_ca.c), compiled once per run.
enum ApprovalCAFixture {
    static let library: Result<String, any Error> = Result {
        let directory = try TestPaths.temporaryDirectory("acmeeh-approval-ca")
        let output = directory.appendingPathComponent("libApprovalCA.so").path
        let repository = TestPaths.repository.path
        let cc = try Command.tool("cc", [
            "-shared", "-fPIC", "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-I", repository + "/Sources/PluginAPI/include",
            "-Wl,--version-script=" + repository + "/Plugins/exports.map", "-Wl,-Bsymbolic",
            "-o", output, repository + "/Tests/HostTests/Fixtures/approval_ca.c", "-lcrypto", "-lpthread"])
        guard cc.status == 0 else { throw CLIFailure("cc approval_ca.c: \(cc.stderr)") }
        return output
    }
}
