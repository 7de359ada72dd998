import Foundation
import XCTest

@testable import Host

/// The built libChallengeHTTP01.so, loaded through the host's own loader, against an HTTP
/// server (a Python stdlib script below) and `LoopbackDNS`, both on loopback only.
final class ChallengeHTTP01Tests: XCTestCase {
    static let pool = PluginThreadPool(numberOfThreads: 4)
    nonisolated(unsafe) static var servers: Result<LoopbackServers, any Error> = .failure(CLIFailure("not started"))

    override class func setUp() {
        super.setUp()
        servers = Result { try LoopbackServers.start() }
    }

    override class func tearDown() {
        if case .success(let servers) = servers { servers.stop() }
        servers = .failure(CLIFailure("stopped"))
        super.tearDown()
    }

    private var servers: LoopbackServers {
        get throws { try Self.servers.get() }
    }

    /// An instance for `challenges.http01`: the test HTTP server's port, the test DNS
    /// server as resolver, nothing blocked unless `blocked` says otherwise.
    private func validator(port: Int? = nil, timeoutSeconds: Int = 5, blocked: String = "[]",
                           extra: String = "") async throws -> ChallengePluginInstance {
        let s = try servers
        let json = """
            {"port": \(port ?? s.httpPort), "timeout_seconds": \(timeoutSeconds), "blocked_networks": \(blocked), \
            "resolvers": ["127.0.0.1:\(s.dnsPort)"], "max_retries": 3, "auto_validate": true\(extra)}
            """
        let registry = PluginRegistry(threadPool: Self.pool)
        return try await registry.loadChallenge(
            entry: "http-01", configKey: "challenges.enabled[0]", directory: TestPaths.products.path,
            configJSON: json, configPath: "challenges.http01")
    }

    /// Validates `token` for the identifier; the key authorization is `token.thumb`, what
    /// the test server answers for well-behaved tokens. Returns the error, nil on success.
    private func validate(_ v: ChallengePluginInstance, _ value: String, type: String = "dns", token: String,
                          keyAuthorization: String? = nil, timeout: Duration = .seconds(20)) async -> PluginError? {
        let request = ChallengeValidationRequest(
            challengeType: "http-01", identifierType: type, identifierValue: value, token: token,
            keyAuthorization: keyAuthorization ?? "\(token).thumb", accountURL: "https://ca.test/acct/1")
        do {
            try await v.validate(request, timeout: timeout)
            return nil
        } catch {
            return error
        }
    }

    private func expectFailure(_ error: PluginError?, _ problem: String, retryable: Bool, _ detail: String,
                               file: StaticString = #filePath, line: UInt = #line) {
        guard let error else { return XCTFail("validation succeeded, expected \(problem)", file: file, line: line) }
        XCTAssertEqual(error.problemType, "urn:ietf:params:acme:error:" + problem, "\(error)", file: file, line: line)
        XCTAssertEqual(error.retryable, retryable, "\(error)", file: file, line: line)
        XCTAssertTrue(error.detail.contains(detail), "detail \"\(error.detail)\" lacks \"\(detail)\"", file: file, line: line)
    }

    // MARK: - success

    func testSucceedsByName() async throws {
        let v = try await validator()
        let error = await validate(v, "good.test", token: "good-name")
        XCTAssertNil(error)
        await v.close()
    }

    func testSucceedsByIPv4AndIPv6() async throws {
        let v = try await validator()
        let v4 = await validate(v, "127.0.0.1", type: "ip", token: "good-v4")
        XCTAssertNil(v4)
        let v6 = await validate(v, "::1", type: "ip", token: "good-v6")
        XCTAssertNil(v6)
        // A name with only an AAAA record.
        let byName = await validate(v, "v6.test", token: "good-v6name")
        XCTAssertNil(byName)
        await v.close()
    }

    func testTrailingWhitespaceIsIgnored() async throws {
        let v = try await validator()
        let error = await validate(v, "good.test", token: "newline-1")
        XCTAssertNil(error)
        await v.close()
    }

    func testRedirectChainIsFollowedUpToTen() async throws {
        let v = try await validator()
        // hops-N answers a redirect to /r/N/..., which counts down: N + 1 redirects.
        let three = await validate(v, "good.test", token: "hops-3")
        XCTAssertNil(three)
        let ten = await validate(v, "good.test", token: "hops-9")
        XCTAssertNil(ten)
        // Across names and address families: good.test (127.0.0.1) → [::1].
        let crossFamily = await validate(v, "good.test", token: "tov6-1")
        XCTAssertNil(crossFamily)
        let toName = await validate(v, "127.0.0.1", type: "ip", token: "toname-1")
        XCTAssertNil(toName)
        await v.close()
    }

    func testConnectionIsPinnedToTheCheckedAddress() async throws {
        // rebind.test answers 127.0.0.1 once, then 127.0.0.2 (blocked, and nothing listens there).
        let v = try await validator(blocked: #"["127.0.0.2/32"]"#)
        let error = await validate(v, "rebind.test", token: "good-rebind")
        XCTAssertNil(error)
        await v.close()
    }

    func testConcurrentValidationsOnOneInstance() async throws {
        let v = try await validator()
        let failures = await withTaskGroup(of: PluginError?.self) { group in
            for index in 0..<16 {
                let token = "good-c\(index)"
                let request = ChallengeValidationRequest(
                    challengeType: "http-01", identifierType: "dns", identifierValue: index % 2 == 0 ? "good.test" : "v6.test",
                    token: token, keyAuthorization: "\(token).thumb", accountURL: "https://ca.test/acct/1")
                group.addTask { () async -> PluginError? in
                    do throws(PluginError) {
                        try await v.validate(request, timeout: .seconds(20))
                        return nil
                    } catch {
                        return error
                    }
                }
            }
            var failures: [PluginError] = []
            for await error in group { if let error { failures.append(error) } }
            return failures
        }
        XCTAssertEqual(failures, [])
        await v.close()
    }

    // MARK: - the answer is wrong

    func testWrongBodyIsIncorrectResponse() async throws {
        let v = try await validator()
        let error = await validate(v, "good.test", token: "wrong-1")
        expectFailure(error, "incorrectResponse", retryable: false, #"expected "wrong-1.thumb""#)
        // What came back is escaped and cut: no raw control characters in the detail.
        expectFailure(error, "incorrectResponse", retryable: false, #"received "not-it\x00\x01\"<script>xxx"#)
        XCTAssertFalse(error?.detail.contains("\u{1}") ?? true)
        XCTAssertEqual(error?.code, .rejected)
        await v.close()
    }

    func testNotFoundIsUnauthorized() async throws {
        let v = try await validator()
        let error = await validate(v, "good.test", token: "missing-1")
        expectFailure(error, "unauthorized", retryable: false, "answered HTTP 404")
        await v.close()
    }

    func testOversizedBodyIsRefused() async throws {
        let v = try await validator(extra: #", "max_response_bytes": 1000"#)
        // With a Content-Length, and streamed without one.
        for token in ["big-1", "bigstream-1"] {
            let error = await validate(v, "good.test", token: token)
            expectFailure(error, "incorrectResponse", retryable: false, "larger than max_response_bytes (1000 bytes)")
        }
        await v.close()
    }

    // MARK: - the network fails

    func testConnectionRefusedIsRetryable() async throws {
        let v = try await validator(port: try servers.closedPort)
        let error = await validate(v, "127.0.0.1", type: "ip", token: "good-refused")
        expectFailure(error, "connection", retryable: true, "could not connect to 127.0.0.1")
        await v.close()
    }

    func testSlowServerTimesOutWithinTheBound() async throws {
        let v = try await validator(timeoutSeconds: 1)
        let start = ContinuousClock.now
        let error = await validate(v, "good.test", token: "slow-1")
        let elapsed = ContinuousClock.now - start
        expectFailure(error, "connection", retryable: true, "timeout_seconds 1 passed")
        XCTAssertLessThan(elapsed, .milliseconds(2500), "took \(elapsed)")

        // The call's own deadline binds too, when it is the shorter one.
        let long = try await validator(timeoutSeconds: 30)
        let start2 = ContinuousClock.now
        let late = await validate(long, "good.test", token: "slow-2", timeout: .milliseconds(1200))
        let elapsed2 = ContinuousClock.now - start2
        expectFailure(late, "connection", retryable: true, "deadline passed")
        XCTAssertEqual(late?.code, .deadline)
        XCTAssertLessThan(elapsed2, .milliseconds(2500), "took \(elapsed2)")
        await v.close()
        await long.close()
    }

    func testDNSFailures() async throws {
        let v = try await validator(timeoutSeconds: 2)
        let nx = await validate(v, "nx.test", token: "good-nx")
        expectFailure(nx, "dns", retryable: false, "nx.test does not exist (NXDOMAIN")
        let empty = await validate(v, "empty.test", token: "good-empty")
        expectFailure(empty, "dns", retryable: false, "empty.test has no")
        let servfail = await validate(v, "servfail.test", token: "good-servfail")
        expectFailure(servfail, "dns", retryable: true, "SERVFAIL")
        let start = ContinuousClock.now
        let silent = await validate(v, "silent.test", token: "good-silent")
        expectFailure(silent, "dns", retryable: true, "silent.test")
        XCTAssertLessThan(ContinuousClock.now - start, .milliseconds(3500))
        await v.close()
    }

    // MARK: - where the validator refuses to go

    func testBlockedAddressesAreRefused() async throws {
        // The defaults block loopback: the first hop is refused before any connection.
        let defaults = try await validator(blocked: #"["127.0.0.0/8", "::1/128", "169.254.0.0/16", "fe80::/10"]"#)
        let byName = await validate(defaults, "good.test", token: "good-blocked")
        expectFailure(byName, "connection", retryable: false, "refusing to connect to 127.0.0.1 (an address of good.test)")
        expectFailure(byName, "connection", retryable: false, "blocked network 127.0.0.0/8")
        let byIP = await validate(defaults, "::1", type: "ip", token: "good-blocked6")
        expectFailure(byIP, "connection", retryable: false, "blocked network ::1/128")
        // One blocked address among several refuses the hop.
        let mixed = try await validator(blocked: #"["127.0.0.2/32"]"#)
        let some = await validate(mixed, "blocked.test", token: "good-mixed")
        expectFailure(some, "connection", retryable: false, "refusing to connect to 127.0.0.2")
        await defaults.close()
        await mixed.close()
    }

    func testRedirectToABlockedAddressIsRefused() async throws {
        let v = try await validator(blocked: #"["127.0.0.2/32"]"#)
        let error = await validate(v, "good.test", token: "toblocked-1")
        expectFailure(error, "connection", retryable: false, "refusing to connect to 127.0.0.2")
        let byName = await validate(v, "good.test", token: "toblockedname-1")
        expectFailure(byName, "connection", retryable: false, "(an address of blocked.test)")
        await v.close()
    }

    func testTooManyRedirectsAreRefused() async throws {
        let v = try await validator()
        let error = await validate(v, "good.test", token: "hops-10")
        expectFailure(error, "connection", retryable: false, "more than 10 redirects")
        await v.close()
    }

    func testRedirectsOutsideHTTPAreRefused() async throws {
        let v = try await validator()
        let ftp = await validate(v, "good.test", token: "toftp-1")
        expectFailure(ftp, "connection", retryable: false, "only http and https redirects are followed")
        let file = await validate(v, "good.test", token: "tofile-1")
        expectFailure(file, "connection", retryable: false, "only http and https redirects are followed")
        let port = await validate(v, "good.test", token: "badport-1")
        expectFailure(port, "connection", retryable: false, "port 25 is not allowed")
        let noLocation = await validate(v, "good.test", token: "noloc-1")
        expectFailure(noLocation, "connection", retryable: false, "without a usable Location header")
        await v.close()
    }

    // MARK: - configuration and input

    func testConfigRejectsBadResolversAndUnknownKeys() async throws {
        let registry = PluginRegistry(threadPool: Self.pool)
        do {
            _ = try await registry.loadChallenge(
                entry: "http-01", configKey: "challenges.enabled[0]", directory: TestPaths.products.path,
                configJSON: #"{"resolvers": ["dns.example:53"]}"#, configPath: "challenges.http01")
            XCTFail("a host name as resolver was accepted")
        } catch {
            XCTAssertTrue(error.description.contains("challenges.http01.resolvers: \"dns.example:53\" is not a resolver address"), error.description)
        }
        do {
            _ = try await registry.loadChallenge(
                entry: "http-01", configKey: "challenges.enabled[0]", directory: TestPaths.products.path,
                configJSON: #"{"follow_redirects": false}"#, configPath: "challenges.http01")
            XCTFail("an unknown key was accepted")
        } catch {
            XCTAssertTrue(error.description.contains("challenges.http01.follow_redirects: unknown key"), error.description)
        }
        // The documented defaults, with system resolvers, load.
        let plain = try await registry.loadChallenge(
            entry: "http-01", configKey: "challenges.enabled[0]", directory: TestPaths.products.path,
            configJSON: #"{"resolvers": ["127.0.0.1", "127.0.0.1:5353", "[::1]:53"]}"#, configPath: "challenges.http01")
        await plain.close()
    }

    func testTokenThatIsNotBase64URLIsRejected() async throws {
        let v = try await validator()
        let error = await validate(v, "good.test", token: "../../etc")
        XCTAssertEqual(error?.code, .invalidInput)
        XCTAssertTrue(error?.detail.contains("not base64url") ?? false)
        await v.close()
    }
}

/// The loopback HTTP servers (127.0.0.1 and ::1, one port) and DNS server of the tests.
final class LoopbackServers: @unchecked Sendable {
    let process: Process
    let dns: LoopbackDNS
    let httpPort: Int
    var dnsPort: Int { dns.port }
    /// A loopback port nothing listens on.
    let closedPort: Int

    init(process: Process, dns: LoopbackDNS, httpPort: Int, closedPort: Int) {
        self.process = process
        self.dns = dns
        self.httpPort = httpPort
        self.closedPort = closedPort
    }

    /// The names the validator resolves; any other name is NXDOMAIN.
    static let zone = """
        good.test A 127.0.0.1
        v6.test AAAA ::1
        blocked.test A 127.0.0.1
        blocked.test A 127.0.0.2
        empty.test TXT "a name without addresses"
        servfail.test RCODE SERVFAIL
        silent.test SILENT
        rebind.test A 127.0.0.1
        rebind.test A 127.0.0.2
        rebind.test SEQUENCE

        """

    static func start() throws -> LoopbackServers {
        let directory = try TestPaths.temporaryDirectory("http01-servers")
        let dns = try LoopbackDNS(directory: directory, zone: zone)
        let script = directory.appendingPathComponent("servers.py")
        try serverScript.write(to: script, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", script.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        // The script prints one JSON line with its ports once it listens.
        var line = Data()
        let handle = output.fileHandleForReading
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        struct Ports: Decodable { let http: Int; let closed: Int }
        guard let ports = try? JSONDecoder().decode(Ports.self, from: line) else {
            kill(process.processIdentifier, SIGKILL)
            dns.stop()
            throw CLIFailure("the loopback HTTP servers did not start: \(String(decoding: line, as: UTF8.self))")
        }
        return LoopbackServers(process: process, dns: dns, httpPort: ports.http, closedPort: ports.closed)
    }

    /// SIGKILL: processes the test runner starts may inherit a blocked SIGTERM.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        dns.stop()
        try? FileManager.default.removeItem(at: dns.zoneFile.deletingLastPathComponent())
    }

    /// Only loopback addresses are ever bound or answered.
    static let serverScript = #"""
    import json, socket, threading, time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    PREFIX = "/.well-known/acme-challenge/"

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, status, body=b"", headers=(), length=True):
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            if length:
                self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True

        def redirect(self, location):
            self.reply(302, b"moved", [("Location", location)])

        def do_GET(self):
            port = self.server.server_address[1]
            if self.path.startswith("/r/"):
                _, _, count, token = self.path.split("/", 3)
                count = int(count)
                if count == 0:
                    return self.reply(200, (token + ".thumb").encode())
                return self.redirect("/r/%d/%s" % (count - 1, token))
            if not self.path.startswith(PREFIX):
                return self.reply(404)
            token = self.path[len(PREFIX):]
            kind = token.split("-")[0]
            answer = (token + ".thumb").encode()
            if kind == "good":
                self.reply(200, answer)
            elif kind == "newline":
                self.reply(200, answer + b" \r\n\n")
            elif kind == "wrong":
                self.reply(200, b"not-it\x00\x01\"<script>" + b"x" * 300)
            elif kind == "missing":
                self.reply(404, b"no such token")
            elif kind == "big":
                self.reply(200, answer + b"y" * 5000)
            elif kind == "bigstream":
                self.reply(200, answer + b"y" * 5000, length=False)
            elif kind == "slow":
                time.sleep(5)
                self.reply(200, answer)
            elif kind == "hops":
                self.redirect("/r/%d/%s" % (int(token.split("-")[1]), token))
            elif kind == "tov6":
                self.redirect("http://[::1]:%d/r/0/%s" % (port, token))
            elif kind == "toname":
                self.redirect("http://good.test:%d/r/0/%s" % (port, token))
            elif kind == "toblocked":
                self.redirect("http://127.0.0.2:%d/r/0/%s" % (port, token))
            elif kind == "toblockedname":
                self.redirect("http://blocked.test:%d/r/0/%s" % (port, token))
            elif kind == "toftp":
                self.redirect("ftp://127.0.0.1/%s" % token)
            elif kind == "tofile":
                self.redirect("file:///etc/passwd")
            elif kind == "badport":
                self.redirect("http://127.0.0.1:25/%s" % token)
            elif kind == "noloc":
                self.reply(302, b"moved")
            else:
                self.reply(404)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    class Server6(Server):
        address_family = socket.AF_INET6

    http4 = Server(("127.0.0.1", 0), Handler)
    port = http4.server_address[1]
    http6 = Server6(("::1", port), Handler)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    for target in (http4.serve_forever, http6.serve_forever):
        threading.Thread(target=target, daemon=True).start()
    print(json.dumps({"http": port, "closed": closed_port}), flush=True)
    threading.Event().wait()
    """#
}
