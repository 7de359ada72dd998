import COpenSSL
import Foundation
import XCTest

@testable import Host

/// The built libChallengeTLSALPN.so, loaded through the host's own loader, against TLS
/// responders on loopback (Python's ssl module over OpenSSL, below) that present
/// certificates made here with `openssl req -x509 -addext`, and the loopback DNS responder.
final class ChallengeTLSALPNTests: XCTestCase {
    static let pool = PluginThreadPool(numberOfThreads: 4)
    static let keyAuthorization = "tok-1.thumbprint"

    var directory: URL!
    var dns: LoopbackDNS!
    var responder: TLSALPNResponder?

    override func setUpWithError() throws {
        directory = try TestPaths.temporaryDirectory("tlsalpn01")
        dns = try LoopbackDNS(directory: directory)
    }

    override func tearDownWithError() throws {
        responder?.stop()
        dns?.stop()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    // MARK: - helpers

    /// `1.3.6.1.5.5.7.1.31=critical,DER:04:20:<SHA-256(keyAuthorization)>` and variants.
    static func acmeIdentifier(_ keyAuthorization: String = keyAuthorization, critical: Bool = true,
                               prefix: String = "04:20", suffix: String = "") -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        let input = Array(keyAuthorization.utf8)
        input.withUnsafeBufferPointer { _ = SHA256($0.baseAddress, $0.count, &digest) }
        let hex = digest.map { String(format: "%02x", $0) }.joined(separator: ":")
        return "1.3.6.1.5.5.7.1.31=\(critical ? "critical," : "")DER:\(prefix):\(hex)\(suffix)"
    }

    /// A self-signed P-256 certificate with these -addext values.
    func certificate(_ label: String, _ extensions: [String]) throws -> TLSALPNResponder.Endpoint {
        let cert = directory.appendingPathComponent("\(label).pem")
        let key = directory.appendingPathComponent("\(label)-key.pem")
        let arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                         "-keyout", key.path, "-out", cert.path, "-subj", "/CN=acme-tls-alpn", "-days", "1"]
            + extensions.flatMap { ["-addext", $0] }
        let result = try Command.tool("openssl", arguments)
        XCTAssertEqual(result.status, 0, result.stderr)
        return TLSALPNResponder.Endpoint(certificate: cert, key: key)
    }

    /// Starts one responder for `endpoints`; their ports in order.
    func serve(_ endpoints: [TLSALPNResponder.Endpoint]) throws -> [Int] {
        let started = try TLSALPNResponder.start(endpoints, directory: directory)
        responder = started
        return started.ports
    }

    func validator(port: Int, blocked: String = "[]", timeoutSeconds: Int = 5) async throws -> ChallengePluginInstance {
        let json = """
            {"port": \(port), "timeout_seconds": \(timeoutSeconds), "blocked_networks": \(blocked), \
            "resolvers": ["\(dns.address)"], "max_retries": 3, "auto_validate": true}
            """
        let registry = PluginRegistry(threadPool: Self.pool)
        return try await registry.loadChallenge(
            entry: "tls-alpn-01", configKey: "challenges.enabled[0]", directory: TestPaths.products.path,
            configJSON: json, configPath: "challenges.tlsalpn01")
    }

    func validate(_ v: ChallengePluginInstance, _ value: String, type: String = "dns",
                  keyAuthorization: String = keyAuthorization) async -> PluginError? {
        let request = ChallengeValidationRequest(
            challengeType: "tls-alpn-01", identifierType: type, identifierValue: value, token: "tok-1",
            keyAuthorization: keyAuthorization, accountURL: "https://ca.test/acct/1")
        do {
            try await v.validate(request, timeout: .seconds(20))
            return nil
        } catch {
            return error
        }
    }

    func expectFailure(_ error: PluginError?, _ problem: String, retryable: Bool, _ detail: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        guard let error else { return XCTFail("validation succeeded, expected \(problem)", file: file, line: line) }
        XCTAssertEqual(error.problemType, "urn:ietf:params:acme:error:" + problem, "\(error)", file: file, line: line)
        XCTAssertEqual(error.retryable, retryable, "\(error)", file: file, line: line)
        XCTAssertTrue(error.detail.contains(detail), "detail \"\(error.detail)\" lacks \"\(detail)\"", file: file, line: line)
    }

    // MARK: - valid

    func testValidByName() async throws {
        let good = try certificate("good", ["subjectAltName=DNS:good.test", Self.acmeIdentifier()])
        let ports = try serve([good])
        let v = try await validator(port: ports[0])
        let error = await validate(v, "good.test")
        XCTAssertNil(error)
        // RFC 8737 §3: SNI is the name, ALPN acme-tls/1.
        XCTAssertEqual(responder?.serverNames(port: ports[0]), ["good.test"])
        await v.close()
    }

    func testValidByIPv4AndIPv6() async throws {
        let v4 = try certificate("v4", ["subjectAltName=IP:127.0.0.1", Self.acmeIdentifier()])
        let v6 = try certificate("v6", ["subjectAltName=IP:::1", Self.acmeIdentifier()])
        let ports = try serve([v4, v6])
        let v = try await validator(port: ports[0])
        let error4 = await validate(v, "127.0.0.1", type: "ip")
        XCTAssertNil(error4)
        await v.close()
        // RFC 8738 §6: SNI is the reverse-DNS name of the address.
        XCTAssertEqual(responder?.serverNames(port: ports[0]), ["1.0.0.127.in-addr.arpa"])

        let w = try await validator(port: ports[1])
        let error6 = await validate(w, "::1", type: "ip")
        XCTAssertNil(error6)
        await w.close()
        XCTAssertEqual(responder?.serverNames(port: ports[1]), ["1." + String(repeating: "0.", count: 31) + "ip6.arpa"])
    }

    // MARK: - the certificate is wrong

    func testWrongDigestIsIncorrectResponse() async throws {
        let wrong = try certificate("wrong", ["subjectAltName=DNS:good.test", Self.acmeIdentifier("other.thumbprint")])
        let ports = try serve([wrong])
        let v = try await validator(port: ports[0])
        let error = await validate(v, "good.test")
        expectFailure(error, "incorrectResponse", retryable: false, "not SHA-256 of the key authorization")
        XCTAssertEqual(error?.code, .rejected)
        await v.close()
    }

    func testMalformedACMEIdentifierIsIncorrectResponse() async throws {
        let extra = try certificate("extra", ["subjectAltName=DNS:good.test", Self.acmeIdentifier(prefix: "04:21", suffix: ":00")])
        let short = try certificate("short", ["subjectAltName=DNS:good.test",
                                              "1.3.6.1.5.5.7.1.31=critical,DER:04:02:ab:cd"])
        let missing = try certificate("missing", ["subjectAltName=DNS:good.test"])
        let ports = try serve([extra, short, missing])
        for (port, detail) in zip(ports, ["not a DER OCTET STRING of 32 bytes (35 bytes",
                                          "not a DER OCTET STRING of 32 bytes (4 bytes",
                                          "no acmeIdentifier extension"]) {
            let v = try await validator(port: port)
            let error = await validate(v, "good.test")
            expectFailure(error, "incorrectResponse", retryable: false, detail)
            await v.close()
        }
    }

    func testNonCriticalExtensionIsRefused() async throws {
        let lax = try certificate("lax", ["subjectAltName=DNS:good.test", Self.acmeIdentifier(critical: false)])
        let ports = try serve([lax])
        let v = try await validator(port: ports[0])
        let error = await validate(v, "good.test")
        expectFailure(error, "incorrectResponse", retryable: false, "acmeIdentifier extension is not critical")
        await v.close()
    }

    func testTwoSubjectAltNamesAreUnauthorized() async throws {
        let two = try certificate("two", ["subjectAltName=DNS:good.test,DNS:other.test", Self.acmeIdentifier()])
        let other = try certificate("other", ["subjectAltName=DNS:other.test", Self.acmeIdentifier()])
        let ipForName = try certificate("ipforname", ["subjectAltName=IP:127.0.0.1", Self.acmeIdentifier()])
        let ports = try serve([two, other, ipForName])
        var v = try await validator(port: ports[0])
        expectFailure(await validate(v, "good.test"), "unauthorized", retryable: false, "has 2 entries")
        await v.close()
        v = try await validator(port: ports[1])
        expectFailure(await validate(v, "good.test"), "unauthorized", retryable: false,
                      "names DNS:other.test, not DNS:good.test")
        await v.close()
        v = try await validator(port: ports[2])
        expectFailure(await validate(v, "good.test"), "unauthorized", retryable: false, "is not DNS:good.test")
        await v.close()
    }

    // MARK: - TLS and the network

    func testNoALPNIsATLSProblem() async throws {
        var plain = try certificate("plain", ["subjectAltName=DNS:good.test", Self.acmeIdentifier()])
        plain.alpn = nil
        var other = plain
        other.alpn = "h2"
        let ports = try serve([plain, other])
        var v = try await validator(port: ports[0])
        expectFailure(await validate(v, "good.test"), "tls", retryable: false, "did not negotiate ALPN acme-tls/1")
        await v.close()
        // A server that only speaks h2 refuses the handshake (no_application_protocol alert).
        v = try await validator(port: ports[1])
        expectFailure(await validate(v, "good.test"), "tls", retryable: false, "acme-tls/1")
        await v.close()
    }

    func testNotTLSIsATLSProblem() async throws {
        // An HTTP-ish server that answers garbage and closes.
        var garbage = try certificate("garbage", ["subjectAltName=DNS:good.test", Self.acmeIdentifier()])
        garbage.garbage = true
        let ports = try serve([garbage])
        let v = try await validator(port: ports[0])
        expectFailure(await validate(v, "good.test"), "tls", retryable: false, "TLS handshake failed")
        await v.close()
    }

    func testRefusedPortIsRetryable() async throws {
        let port = try ServerProcess.freePort()
        let v = try await validator(port: port)
        expectFailure(await validate(v, "127.0.0.1", type: "ip"), "connection", retryable: true,
                      "could not connect to 127.0.0.1 port \(port)")
        await v.close()
    }

    func testBlockedNetworksAreRefusedBeforeConnecting() async throws {
        let good = try certificate("good", ["subjectAltName=DNS:good.test", Self.acmeIdentifier()])
        let ports = try serve([good])
        // No blocked_networks: the defaults (loopback, link-local).
        let registry = PluginRegistry(threadPool: Self.pool)
        let defaults = try await registry.loadChallenge(
            entry: "tls-alpn-01", configKey: "challenges.enabled[0]", directory: TestPaths.products.path,
            configJSON: #"{"port": \#(ports[0]), "resolvers": ["\#(dns.address)"]}"#, configPath: "challenges.tlsalpn01")
        expectFailure(await validate(defaults, "good.test"), "connection", retryable: false,
                      "refusing to connect to 127.0.0.1 (an address of good.test): it is in the blocked network 127.0.0.0/8")
        expectFailure(await validate(defaults, "::1", type: "ip"), "connection", retryable: false, "blocked network ::1/128")
        await defaults.close()
        XCTAssertEqual(responder?.serverNames(port: ports[0]), [], "nothing connected")
    }

    func testDNSFailureIsADNSProblem() async throws {
        let v = try await validator(port: 443)
        expectFailure(await validate(v, "nowhere.invalid"), "dns", retryable: false, "does not exist")
        await v.close()
    }

    // MARK: - configuration and input

    func testConfigIsStrict() async throws {
        let registry = PluginRegistry(threadPool: Self.pool)
        for (json, message) in [(#"{"blocked_networks": ["10.0.0.0/33"]}"#, "challenges.tlsalpn01.blocked_networks"),
                                (#"{"resolvers": ["dns.example"]}"#, "challenges.tlsalpn01.resolvers"),
                                (#"{"alpn": "h2"}"#, "challenges.tlsalpn01.alpn: unknown key")] {
            do {
                _ = try await registry.loadChallenge(
                    entry: "tls-alpn-01", configKey: "challenges.enabled[0]", directory: TestPaths.products.path,
                    configJSON: json, configPath: "challenges.tlsalpn01")
                XCTFail("\(json) was accepted")
            } catch {
                XCTAssertTrue(error.description.contains(message), error.description)
            }
        }
        let v = try await validator(port: 443)
        let wildcard = ChallengeValidationRequest(
            challengeType: "tls-alpn-01", identifierType: "dns", identifierValue: "good.test", token: "t",
            keyAuthorization: "t.x", accountURL: "https://ca.test/acct/1", wildcard: true)
        do throws(PluginError) {
            try await v.validate(wildcard, timeout: .seconds(5))
            XCTFail("a wildcard was validated")
        } catch {
            XCTAssertEqual(error.code, .invalidInput)
        }
        let bad = await validate(v, "Not A Name")
        XCTAssertEqual(bad?.code, .invalidInput)
        await v.close()
    }
}

/// Loopback TLS responders for tls-alpn-01: one port per endpoint (127.0.0.1 and ::1), each
/// presenting its certificate, selecting `alpn` when the client offers it, and writing every
/// SNI it is sent to `sni-PORT` in the directory.
final class TLSALPNResponder: @unchecked Sendable {
    struct Endpoint: Encodable {
        var certificate: URL
        var key: URL
        /// The protocol the server supports (nil: no ALPN at all).
        var alpn: String? = "acme-tls/1"
        /// Answer plain bytes instead of TLS.
        var garbage = false

        enum CodingKeys: String, CodingKey { case certificate, key, alpn, garbage }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(certificate.path, forKey: .certificate)
            try c.encode(key.path, forKey: .key)
            try c.encode(alpn, forKey: .alpn)
            try c.encode(garbage, forKey: .garbage)
        }
    }

    let process: Process
    let ports: [Int]
    let directory: URL

    private init(process: Process, ports: [Int], directory: URL) {
        self.process = process
        self.ports = ports
        self.directory = directory
    }

    static func start(_ endpoints: [Endpoint], directory: URL) throws -> TLSALPNResponder {
        let script = directory.appendingPathComponent("tlsalpn_responder.py")
        try source.write(to: script, atomically: true, encoding: .utf8)
        let spec = directory.appendingPathComponent("endpoints.json")
        try JSONEncoder().encode(endpoints).write(to: spec)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-u", script.path, spec.path, directory.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        var line = Data()
        let handle = output.fileHandleForReading
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let ports = try? JSONDecoder().decode([Int].self, from: line), ports.count == endpoints.count else {
            process.terminate()
            throw CLIFailure("the TLS responder did not start: \(String(decoding: line, as: UTF8.self))")
        }
        return TLSALPNResponder(process: process, ports: ports, directory: directory)
    }

    /// The SNI values received on `port`, in order ("" for a handshake without SNI).
    func serverNames(port: Int) -> [String] {
        let text = (try? String(contentsOf: directory.appendingPathComponent("sni-\(port)"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    func stop() {
        // SIGKILL: the responder keeps no state worth a clean exit, and SIGTERM may be ignored.
        kill(process.processIdentifier, SIGKILL)
        let end = Date().addingTimeInterval(5)
        while process.isRunning && Date() < end { Thread.sleep(forTimeInterval: 0.02) }
    }

    static let source = #"""
    import json, os, socket, ssl, sys, threading

    spec, directory = json.load(open(sys.argv[1])), sys.argv[2]

    def context(endpoint, port):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(endpoint["certificate"], endpoint["key"])
        if endpoint["alpn"]:
            ctx.set_alpn_protocols([endpoint["alpn"]])
        log = os.path.join(directory, "sni-%d" % port)
        def sni(sock, name, ctx):
            with open(log, "a") as f:
                f.write((name or "") + "\n")
        ctx.sni_callback = sni
        return ctx

    def serve(listener, endpoint, ctx):
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=handle, args=(conn, endpoint, ctx), daemon=True).start()

    def handle(conn, endpoint, ctx):
        try:
            conn.settimeout(10)
            if endpoint["garbage"]:
                conn.recv(4096)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" + bytes(range(256)))
                return
            with ctx.wrap_socket(conn, server_side=True) as tls:
                try:
                    tls.recv(1)
                except Exception:
                    pass
        except Exception:
            pass
        finally:
            try:
                conn.close()
            except Exception:
                pass

    ports = []
    for endpoint in spec:
        v4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        v4.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        v4.bind(("127.0.0.1", 0))
        port = v4.getsockname()[1]
        listeners = [v4]
        try:
            v6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            v6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            v6.bind(("::1", port))
            listeners.append(v6)
        except OSError:
            pass
        ctx = context(endpoint, port)
        for listener in listeners:
            listener.listen(16)
            threading.Thread(target=serve, args=(listener, endpoint, ctx), daemon=True).start()
        ports.append(port)
    print(json.dumps(ports), flush=True)
    threading.Event().wait()
    """#
}
