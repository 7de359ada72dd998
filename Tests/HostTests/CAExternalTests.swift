import Foundation
import Logging
import NIOConcurrencyHelpers
import XCTest

@testable import Host

/// The `external` CA (libCAExternal.so) through the host's real plugin loader, against
/// `Fixtures/signing_service.py` on loopback, which signs for real with the openssl CLI
/// under the RSA root of `CAFilePKI`; and the host's circuit breaker and failover around it.
final class CAExternalTests: XCTestCase {
    static let pool = PluginThreadPool(numberOfThreads: 4)

    // MARK: - signing

    func testSignsThroughTheServiceAndTheChainVerifies() async throws {
        let pki = try CAFilePKI.shared()
        let service = try startService()
        let ca = try await loadExternal(["sign_url": service.url("/sign")])
        let csr = try pki.csr(key: pki.rsaLeafKey, sans: ["DNS:www.example.test", "DNS:example.test", "IP:192.0.2.10"])
        let outcome = try await ca.sign(CASignRequest(csrDER: csr, profile: "default", validityDays: 7), timeout: .seconds(30))
        guard case .issued(let chain, let serial, let notBefore, let notAfter) = outcome else {
            return XCTFail("expected an issued certificate, got \(outcome)")
        }
        let blocks = pemBlocks(chain)
        XCTAssertEqual(blocks.count, 2, chain)
        let leaf = try write(blocks[0])
        let verify = try Command.tool("openssl", ["verify", "-CAfile", pki.rsaRootCert, leaf])
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
        XCTAssertEqual(verify.stdout, "\(leaf): OK\n")
        // Serial and validity are read from the leaf itself.
        // openssl pads the hex to whole bytes (a leading 0); the plugin reports the number.
        let printed = try openssl(["x509", "-in", leaf, "-noout", "-serial"])
        XCTAssertTrue(printed.hasPrefix("serial="), printed)
        XCTAssertEqual(String(printed.dropFirst(7).drop { $0 == "0" }), String(serial.uppercased().drop { $0 == "0" }))
        XCTAssertEqual(notAfter - notBefore, 7 * 86400)
        XCTAssertLessThan(abs(notBefore - Int64(Date().timeIntervalSince1970)), 120)
        XCTAssertTrue(try openssl(["x509", "-in", leaf, "-noout", "-ext", "subjectAltName"])
            .contains("DNS:www.example.test, DNS:example.test, IP Address:192.0.2.10"))

        // What the API received: the CSR as PEM, the profile and validity_days.
        let request = try XCTUnwrap(service.requests().first)
        let body = try XCTUnwrap(request["body"] as? [String: Any])
        XCTAssertEqual(body["profile"] as? String, "default")
        XCTAssertEqual(body["validity_days"] as? Int, 7)
        let csrPEM = try XCTUnwrap(body["csr"] as? String)
        XCTAssertTrue(csrPEM.hasPrefix("-----BEGIN CERTIFICATE REQUEST-----\n"), csrPEM)
        XCTAssertEqual(request["auth"] as? NSNull, NSNull())
    }

    // MARK: - CRL (crl_url)

    func testSignsACRLThroughTheServiceThatVerifiesAgainstItsCA() async throws {
        let pki = try CAFilePKI.shared()
        let service = try startService()
        let ca = try await loadExternal(["sign_url": service.url("/sign"), "crl_url": service.url("/crl")])
        XCTAssertTrue(ca.canSignCRL)
        let now = Int64(Date().timeIntervalSince1970)
        let der = try await ca.signCRL(CASignCRLRequest(
            entries: [CRLEntry(serial: [0x0a, 0x1b, 0x2c], revokedAt: now - 60, reason: 1),
                      CRLEntry(serial: [0x7f, 0x01], revokedAt: now - 30)],
            thisUpdate: now, nextUpdate: now + 3600, crlNumber: [0x01, 0x02]), timeout: .seconds(30))
        let file = CAFilePKI.scratch.appendingPathComponent("\(UUID().uuidString).crl")
        try Data(der).write(to: file)
        let verify = try Command.tool("openssl", ["crl", "-inform", "DER", "-in", file.path, "-CAfile", pki.rsaRootCert, "-noout"])
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
        XCTAssertTrue((verify.stdout + verify.stderr).contains("verify OK"), verify.stdout + verify.stderr)
        XCTAssertEqual(try openssl(["crl", "-inform", "DER", "-in", file.path, "-noout", "-crlnumber"]), "crlNumber=0x0102")
        let text = try openssl(["crl", "-inform", "DER", "-in", file.path, "-noout", "-text"])
        XCTAssertTrue(text.contains("Serial Number: 0A1B2C"), text)
        XCTAssertTrue(text.contains("Serial Number: 7F01"), text)
        XCTAssertTrue(text.contains("Key Compromise"), text)

        // What the API received: the host's draft as JSON.
        let request = try XCTUnwrap(service.requests().last)
        XCTAssertEqual(request["path"] as? String, "/crl")
        let body = try XCTUnwrap(request["body"] as? [String: Any])
        XCTAssertEqual(body["crl_number"] as? String, "0102")
        XCTAssertEqual(body["this_update"] as? Int, Int(now))
        XCTAssertEqual(body["next_update"] as? Int, Int(now + 3600))
        XCTAssertEqual(body["hash_algorithm"] as? String, "sha256")
        let revoked = try XCTUnwrap(body["revoked"] as? [[String: Any]])
        XCTAssertEqual(revoked.map { $0["serial_number"] as? String }, ["0a1b2c", "7f01"])
        XCTAssertEqual(revoked.map { $0["revocation_time"] as? Int }, [Int(now - 60), Int(now - 30)])
        XCTAssertEqual(revoked[0]["reason"] as? Int, 1)
        XCTAssertEqual(revoked[1]["reason"] as? NSNull, NSNull())
    }

    func testACRLOfAnotherNumberOrNoCRLIsRefusedAndNoCRLURLIsUnsupported() async throws {
        let wrong = try startService(["--crl-wrong-number"])
        let now = Int64(Date().timeIntervalSince1970)
        let request = CASignCRLRequest(entries: [], thisUpdate: now, nextUpdate: now + 60, crlNumber: [0x05])
        func crlError(_ ca: CAPluginInstance) async throws -> PluginError {
            do {
                let der = try await ca.signCRL(request, timeout: .seconds(30))
                throw CAFileTestFailure("signCRL returned \(der.count) bytes; expected a PluginError")
            } catch let error as PluginError {
                return error
            }
        }
        let renumbered = try await crlError(try await loadExternal(["sign_url": wrong.url("/sign"), "crl_url": wrong.url("/crl")]))
        XCTAssertEqual(renumbered.code, .internalError)
        XCTAssertEqual(renumbered.detail, "the CRL API's CRL has number 06, not the requested 05")

        let notACRL = try await crlError(try await loadExternal(["sign_url": wrong.url("/sign"), "crl_url": wrong.url("/sign")]))
        XCTAssertEqual(notACRL.code, .rejected, notACRL.detail)

        let without = try await loadExternal(["sign_url": wrong.url("/sign")])
        XCTAssertTrue(without.canSignCRL, "the descriptor is static: ca_sign_crl is there, the instance refuses")
        let unsupported = try await crlError(without)
        XCTAssertEqual(unsupported.code, .unsupported)
        XCTAssertEqual(unsupported.detail, "ca.external.crl_url is not set: this external CA signs no CRLs")
        XCTAssertEqual(wrong.requests().map { $0["path"] as? String }, ["/crl", "/sign"], "no request without crl_url")
    }

    func testAuthHeaderIsSentAndRequired() async throws {
        let pki = try CAFilePKI.shared()
        let service = try startService(["--auth", "Bearer s3cret", "--auth-header", "X-Api-Key"])
        let csr = try pki.csr(key: pki.ecLeafKey, sans: ["DNS:auth.example.test"])

        let anonymous = try await loadExternal(["sign_url": service.url("/sign"), "max_retries": 2, "retry_delay_seconds": 0.05])
        let refused = try await signError(anonymous, csr)
        XCTAssertEqual(refused.code, .rejected)
        XCTAssertFalse(refused.retryable)
        XCTAssertEqual(refused.problemType, "urn:ietf:params:acme:error:unauthorized")
        XCTAssertEqual(refused.detail, "bad credentials")
        XCTAssertEqual(service.requests().count, 1, "a 4xx is final: no retries")

        let authenticated = try await loadExternal([
            "sign_url": service.url("/sign"), "auth_header": "X-Api-Key", "auth_value": "Bearer s3cret",
        ])
        let outcome = try await authenticated.sign(CASignRequest(csrDER: csr, validityDays: 30), timeout: .seconds(30))
        guard case .issued = outcome else { return XCTFail("expected issued, got \(outcome)") }
        XCTAssertEqual(service.requests().last?["auth"] as? String, "Bearer s3cret")
    }

    func testServerErrorsAreRetriedWithBackoffThenSucceed() async throws {
        let pki = try CAFilePKI.shared()
        let service = try startService(["--fail-first", "2"])
        let ca = try await loadExternal(["sign_url": service.url("/sign"), "max_retries": 2, "retry_delay_seconds": 0.2])
        let csr = try pki.csr(key: pki.rsaLeafKey, sans: ["DNS:retry.example.test"])
        let start = Date()
        let outcome = try await ca.sign(CASignRequest(csrDER: csr, validityDays: 30), timeout: .seconds(30))
        guard case .issued = outcome else { return XCTFail("expected issued, got \(outcome)") }
        // 0.2 s + 0.4 s of backoff before the third attempt.
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(start), 0.6)
        XCTAssertEqual(service.requests().map { $0["status"] as? Int }, [500, 500, 200])
    }

    func testServerErrorWithoutRetriesIsRetryableUnavailable() async throws {
        let pki = try CAFilePKI.shared()
        let service = try startService(["--always-500"])
        let ca = try await loadExternal(["sign_url": service.url("/sign"), "max_retries": 1, "retry_delay_seconds": 0.05])
        let error = try await signError(ca, try pki.csr(key: pki.rsaLeafKey, sans: ["DNS:down.example.test"]))
        XCTAssertEqual(error.code, .unavailable)
        XCTAssertTrue(error.retryable)
        XCTAssertTrue(error.detail.contains("HTTP 500"), error.detail)
        XCTAssertEqual(service.requests().count, 2)
    }

    func testBadRequestIsFinal() async throws {
        let pki = try CAFilePKI.shared()
        let service = try startService(["--reject-400"])
        let ca = try await loadExternal(["sign_url": service.url("/sign"), "max_retries": 3, "retry_delay_seconds": 0.05])
        let error = try await signError(ca, try pki.csr(key: pki.rsaLeafKey, sans: ["DNS:no.example.test"]))
        XCTAssertEqual(error.code, .rejected)
        XCTAssertFalse(error.retryable)
        XCTAssertEqual(error.problemType, "urn:ietf:params:acme:error:rejectedIdentifier")
        XCTAssertEqual(error.detail, "policy forbids this name")
        XCTAssertEqual(service.requests().count, 1)
    }

    func testSlowServiceTimesOut() async throws {
        let pki = try CAFilePKI.shared()
        let service = try startService(["--slow", "5"])
        let ca = try await loadExternal(["sign_url": service.url("/sign"), "timeout_seconds": 1])
        let start = Date()
        let error = try await signError(ca, try pki.csr(key: pki.rsaLeafKey, sans: ["DNS:slow.example.test"]))
        XCTAssertLessThan(Date().timeIntervalSince(start), 4)
        XCTAssertEqual(error.code, .unavailable, "\(error)")
        XCTAssertTrue(error.retryable)
        XCTAssertTrue(error.detail.lowercased().contains("timed out"), error.detail)
    }

    func testDeadPortIsRetryableAndFailsSelfCheck() async throws {
        let pki = try CAFilePKI.shared()
        let port = try deadPort()
        let ca = try await loadExternal(["sign_url": "http://127.0.0.1:\(port)/sign", "timeout_seconds": 2])
        let error = try await signError(ca, try pki.csr(key: pki.rsaLeafKey, sans: ["DNS:dead.example.test"]))
        XCTAssertEqual(error.code, .unavailable)
        XCTAssertTrue(error.retryable)
        do {
            try await ca.selfCheck(timeout: .seconds(5))
            XCTFail("self-check passed against a dead port")
        } catch {
            XCTAssertEqual(error.code, .unavailable)
            XCTAssertTrue(error.detail.contains("unreachable"), error.detail)
        }
        let service = try startService()
        let up = try await loadExternal(["sign_url": service.url("/sign")])
        try await up.selfCheck(timeout: .seconds(5))
    }

    func testRevokePostsSerialAndReason() async throws {
        let service = try startService()
        let ca = try await loadExternal(["sign_url": service.url("/sign"), "revoke_url": service.url("/revoke")])
        try await ca.revoke(CARevokeRequest(serialHex: "1a2b3c", certificateDER: [0x30, 0x00], reason: 4), timeout: .seconds(10))
        let request = try XCTUnwrap(service.requests().last)
        XCTAssertEqual(request["path"] as? String, "/revoke")
        let body = try XCTUnwrap(request["body"] as? [String: Any])
        XCTAssertEqual(body["serial_number"] as? String, "1a2b3c")
        XCTAssertEqual(body["reason"] as? Int, 4)

        // Without revoke_url the host's record is all there is: OK, no request.
        let recordOnly = try await loadExternal(["sign_url": service.url("/sign")])
        try await recordOnly.revoke(CARevokeRequest(serialHex: "1a2b3d", certificateDER: [0x30, 0x00]), timeout: .seconds(10))
        XCTAssertEqual(service.requests().count, 1)
    }

    // MARK: - circuit breaker and failover in the host

    func testBreakerOpensAfterFailuresAndClosesWhenTheServiceReturns() async throws {
        let pki = try CAFilePKI.shared()
        let port = try deadPort()
        let external = try await loadExternal(["sign_url": "http://127.0.0.1:\(port)/sign", "timeout_seconds": 2])
        let breaker = CircuitBreaker(failureThreshold: 2, recoveryTimeout: 3.0)
        let ca = GuardedCA(backends: [.init(name: "external", instance: external, breaker: breaker)])
        let csr = try pki.csr(key: pki.rsaLeafKey, sans: ["DNS:breaker.example.test"])
        let request = CASignRequest(csrDER: csr, validityDays: 30)

        for _ in 0..<2 {
            let error = try await guardedSignError(ca, request)
            XCTAssertTrue(error.detail.contains("unreachable"), error.detail)
        }
        guard case .open = breaker.state else { return XCTFail("breaker is \(breaker.state) after 2 failures") }
        let fast = try await guardedSignError(ca, request)
        XCTAssertEqual(fast.code, .unavailable)
        XCTAssertTrue(fast.retryable)
        XCTAssertTrue(fast.detail.contains("circuit breaker open"), fast.detail)

        // The service comes back on the same port; after the recovery time one probe closes it.
        let service = try startService(["--port", "\(port)"])
        let stillOpen = try await guardedSignError(ca, request)
        XCTAssertTrue(stillOpen.detail.contains("circuit breaker open"), stillOpen.detail)
        XCTAssertEqual(service.requests().count, 0, "an open breaker does not call the backend")
        try await Task.sleep(for: .milliseconds(3100))
        let (outcome, backend) = try await ca.sign(request, timeout: .seconds(30))
        guard case .issued = outcome else { return XCTFail("expected issued, got \(outcome)") }
        XCTAssertEqual(backend, "external")
        XCTAssertEqual(breaker.state, .closed)
        XCTAssertEqual(service.requests().count, 1)
    }

    func testFailoverToInternalWhenExternalIsDown() async throws {
        let pki = try CAFilePKI.shared()
        let port = try deadPort()
        let external = try await loadExternal(["sign_url": "http://127.0.0.1:\(port)/sign", "timeout_seconds": 2])
        let registry = makeRegistry()
        let internalCA = try await registry.loadCA(
            backend: "internal", configKey: "ca.failover[0]", directory: TestPaths.products.path,
            configJSON: try json(["root_cert_path": pki.ecRootCert, "root_key_path": pki.ecRootKey]),
            configPath: "ca.internal")
        let primaryBreaker = CircuitBreaker(failureThreshold: 2, recoveryTimeout: 60)
        let calls = NIOLockedValueBox<[String]>([])
        let ca = GuardedCA(backends: [
            .init(name: "external", instance: external, breaker: primaryBreaker),
            .init(name: "internal", instance: internalCA, breaker: CircuitBreaker(failureThreshold: 2, recoveryTimeout: 60)),
        ], observer: PluginCallObserver(caSigned: { backend, _, failed in
            calls.withLockedValue { $0.append("\(backend) \(failed ? "failed" : "signed")") }
        }))
        let csr = try pki.csr(key: pki.rsaLeafKey, sans: ["DNS:failover.example.test"])
        for _ in 0..<3 {
            let (outcome, backend) = try await ca.sign(CASignRequest(csrDER: csr, validityDays: 30), timeout: .seconds(30))
            XCTAssertEqual(backend, "internal")
            guard case .issued(let chain, _, _, _) = outcome else { return XCTFail("expected issued, got \(outcome)") }
            let leaf = try write(pemBlocks(chain)[0])
            XCTAssertEqual(try Command.tool("openssl", ["verify", "-CAfile", pki.ecRootCert, leaf]).status, 0)
        }
        guard case .open = primaryBreaker.state else { return XCTFail("primary breaker is \(primaryBreaker.state)") }
        // The metrics' view: every backend call, the one refused by the open breaker included.
        XCTAssertEqual(calls.withLockedValue { $0 }, Array(repeating: ["external failed", "internal signed"], count: 3).flatMap { $0 })

        // A final refusal does not fail over: the primary's answer stands.
        let service = try startService(["--reject-400"])
        let rejecting = try await loadExternal(["sign_url": service.url("/sign")])
        let strict = GuardedCA(backends: [
            .init(name: "external", instance: rejecting, breaker: CircuitBreaker(failureThreshold: 2, recoveryTimeout: 60)),
            .init(name: "internal", instance: internalCA, breaker: CircuitBreaker(failureThreshold: 2, recoveryTimeout: 60)),
        ])
        let error = try await guardedSignError(strict, CASignRequest(csrDER: csr, validityDays: 30))
        XCTAssertEqual(error.code, .rejected)

        // Revoke goes to the backend that issued.
        try await ca.revoke(CARevokeRequest(serialHex: "01", certificateDER: [0x30, 0x00]), backend: "internal", timeout: .seconds(10))
        XCTAssertEqual(ca.backend(named: "internal").name, "internal")
        XCTAssertEqual(ca.backend(named: "gone").name, "external")
    }

    // MARK: - helpers

    func makeRegistry() -> PluginRegistry {
        PluginRegistry(threadPool: Self.pool) { Logger(label: $0) }
    }

    func json(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]),
               as: UTF8.self)
    }

    func loadExternal(_ config: [String: Any]) async throws -> CAPluginInstance {
        let ca = try await makeRegistry().loadCA(
            backend: "external", configKey: "ca.backend", directory: TestPaths.products.path,
            configJSON: try json(config), configPath: "ca.external")
        XCTAssertEqual(ca.name, "CAExternal")
        return ca
    }

    func signError(_ ca: CAPluginInstance, _ csr: [UInt8]) async throws -> PluginError {
        do {
            let outcome = try await ca.sign(CASignRequest(csrDER: csr, validityDays: 30), timeout: .seconds(30))
            throw CAFileTestFailure("sign succeeded (\(outcome)); expected a PluginError")
        } catch let error as PluginError {
            return error
        }
    }

    func guardedSignError(_ ca: GuardedCA, _ request: CASignRequest) async throws -> PluginError {
        do {
            let answer = try await ca.sign(request, timeout: .seconds(30))
            throw CAFileTestFailure("sign succeeded (\(answer)); expected a PluginError")
        } catch let error as PluginError {
            return error
        }
    }

    /// A loopback port nothing listens on (bound, then closed).
    func deadPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw CAFileTestFailure("cannot bind a loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    func startService(_ arguments: [String] = []) throws -> SigningService {
        let pki = try CAFilePKI.shared()
        let directory = try TestPaths.temporaryDirectory("acmeeh-caexternal")
        let service = try SigningService(directory: directory, caCert: pki.rsaRootCert, caKey: pki.rsaRootKey, arguments: arguments)
        addTeardownBlock {
            service.stop()
            try? FileManager.default.removeItem(at: directory)
        }
        return service
    }

    func write(_ text: String) throws -> String {
        let path = CAFilePKI.scratch.appendingPathComponent("\(UUID().uuidString).pem").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @discardableResult
    func openssl(_ arguments: [String]) throws -> String {
        let result = try Command.tool("openssl", arguments)
        guard result.status == 0 else { throw CAFileTestFailure("openssl \(arguments): \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func pemBlocks(_ text: String) -> [String] {
        var blocks: [String] = []
        var current: [Substring]? = nil
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("-----BEGIN ") { current = [] }
            current?.append(line)
            if line.hasPrefix("-----END "), let block = current {
                blocks.append(block.joined(separator: "\n") + "\n")
                current = nil
            }
        }
        return blocks
    }
}

/// `Fixtures/signing_service.py` as a child process on a loopback port.
final class SigningService: @unchecked Sendable {
    let process: Process
    let port: Int
    let logFile: URL
    /// "https" when started with --tls-cert.
    let scheme: String

    init(directory: URL, caCert: String, caKey: String, arguments: [String]) throws {
        scheme = arguments.contains("--tls-cert") ? "https" : "http"
        let script = TestPaths.repository.appendingPathComponent("Tests/HostTests/Fixtures/signing_service.py")
        let portFile = directory.appendingPathComponent("port")
        logFile = directory.appendingPathComponent("requests.jsonl")
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let output = directory.appendingPathComponent("service.out")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [script.path, "--ca-cert", caCert, "--ca-key", caKey, "--port-file", portFile.path,
                             "--log", logFile.path] + arguments
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let end = Date().addingTimeInterval(20)
        var found: Int? = nil
        while Date() < end, process.isRunning {
            if let text = try? String(contentsOf: portFile, encoding: .utf8),
               let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                found = value
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        guard let found else {
            if process.isRunning { process.terminate(); process.waitUntilExit() }
            throw CAFileTestFailure("signing service did not start: \((try? String(contentsOf: output, encoding: .utf8)) ?? "")")
        }
        port = found
    }

    func url(_ path: String) -> String { "\(scheme)://127.0.0.1:\(port)\(path)" }

    /// The requests received so far, as the service logged them (path, n, auth, body, status).
    func requests() -> [[String: Any]] {
        guard let text = try? String(contentsOf: logFile, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
    }

    func stop() {
        // SIGKILL: the child may have inherited a mask that blocks SIGTERM.
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
