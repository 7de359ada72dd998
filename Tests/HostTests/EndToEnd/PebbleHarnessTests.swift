import Foundation
import XCTest

/// Proves the real-client harness (`ACMEClients.swift`) against a reference ACME server:
/// Debian's Pebble 2.4 on loopback, validating http-01 against the client's standalone port
/// and resolving the `.test` names through the loopback DNS responder. The same client
/// calls run against acmeeh in `ClientEndToEndTests`. Flows run one at a time (Pebble is
/// known to freeze under concurrent load).
final class PebbleHarnessTests: XCTestCase {
    var directory: URL!
    var dns: LoopbackDNS!
    var pebble: PebbleServer!
    var httpPort = 0
    var root: URL!

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: PebbleServer.executable) else {
            throw XCTSkip("pebble is not installed (scripts/clients installs it)")
        }
        directory = try TestPaths.temporaryDirectory("acmeeh-pebble")
        dns = try LoopbackDNS(directory: directory)
        httpPort = try ServerProcess.freePort()
        pebble = try PebbleServer(directory: directory, httpPort: httpPort, dnsServer: dns.address)
        try pebble.waitUntilReady()
        root = try pebble.fetchRoot()
    }

    override func tearDownWithError() throws {
        pebble?.stop()
        dns?.stop()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    func testCertbot21IssuesECDSAForTwoNamesRenewsAndRevokes() throws {
        let certbot = try Certbot(.debian21, endpoint: pebble.endpoint, httpPort: httpPort,
                                  directory: directory.appendingPathComponent("certbot21"))
        let names = ["one.test", "two.test"]
        let issued = try certbot.certonly(names: names, keyType: .ecdsa, certName: "pair")
        let files = try XCTUnwrap(assertIssued(issued, dns: names, keyAlgorithm: "EC", root: root),
                                  certbot.debugLog)
        let first = try CertificateCheck.fingerprint(files.certificate)

        let renewed = try certbot.renew(certName: "pair")
        _ = try XCTUnwrap(assertIssued(renewed, dns: names, keyAlgorithm: "EC", root: root), certbot.debugLog)
        XCTAssertNotEqual(try CertificateCheck.fingerprint(files.certificate), first, "renewal re-issues")

        let serial = try CertificateCheck.serial(files.certificate)
        XCTAssertEqual(try pebble.certificateStatus(serial: serial), "Valid")
        let revoked = try certbot.revoke(certName: "pair")
        XCTAssertEqual(revoked.status, 0, "\(revoked)\n\(certbot.debugLog)")
        XCTAssertEqual(try pebble.certificateStatus(serial: serial), "Revoked")
    }

    func testCertbot5IssuesRSAAndUnregisters() throws {
        let certbot = try Certbot(.venv5, endpoint: pebble.endpoint, httpPort: httpPort,
                                  directory: directory.appendingPathComponent("certbot5"))
        let registered = try certbot.register()
        XCTAssertEqual(registered.status, 0, "\(registered)")

        let names = ["rsa.test", "www.rsa.test"]
        let issued = try certbot.certonly(names: names, keyType: .rsa)
        let files = try XCTUnwrap(assertIssued(issued, dns: names, keyAlgorithm: "RSA", root: root),
                                  certbot.debugLog)

        // Revocation signed with the certificate's own key, no account involved.
        let serial = try CertificateCheck.serial(files.certificate)
        let revoked = try certbot.revoke(certificate: files.certificate, key: files.key)
        XCTAssertEqual(revoked.status, 0, "\(revoked)\n\(certbot.debugLog)")
        XCTAssertEqual(try pebble.certificateStatus(serial: serial), "Revoked")

        let updated = try certbot.updateAccount(email: "changed@example.com")
        XCTAssertEqual(updated.status, 0, "\(updated)")
        XCTAssertTrue(updated.output.contains("changed@example.com"), "\(updated)")

        let unregistered = try certbot.unregister()
        XCTAssertEqual(unregistered.status, 0, "\(unregistered)")
        XCTAssertTrue(unregistered.output.contains("Account deactivated"), "\(unregistered)")
    }

    /// certbot 5's `--ip-address` (RFC 8738) and `--preferred-profile` flags reach the server.
    func testCertbot5IPAddressAndPreferredProfileFlags() throws {
        let certbot = try Certbot(.venv5, endpoint: pebble.endpoint, httpPort: httpPort,
                                  directory: directory.appendingPathComponent("certbot5-ip"))
        let ip = try certbot.certonly(names: ["ip.test"], ipAddresses: ["127.0.0.1"], keyType: .ecdsa, certName: "ip")
        XCTAssertTrue(ip.commandLine.contains("--ip-address"))
        assertIssued(ip, dns: ["ip.test"], ip: ["127.0.0.1"], keyAlgorithm: "EC", root: root)

        // Pebble 2.4 announces no profiles: certbot falls back to the default one.
        let profiled = try certbot.certonly(names: ["profile.test"], keyType: .ecdsa, preferredProfile: "shortlived")
        XCTAssertTrue(profiled.commandLine.contains("--preferred-profile"))
        assertIssued(profiled, dns: ["profile.test"], keyAlgorithm: "EC", root: root)
    }

    func testLegoRunsRenewsAndRevokes() throws {
        let lego = try Lego(endpoint: pebble.endpoint, httpPort: httpPort, directory: directory)
        let names = ["lego.test", "alt.lego.test"]
        let issued = try lego.obtain(names: names, keyType: .ecdsa)
        let files = try XCTUnwrap(assertIssued(issued, dns: names, keyAlgorithm: "EC", root: root))
        let first = try CertificateCheck.fingerprint(files.certificate)

        let renewed = try lego.renew(names: names, keyType: .ecdsa)
        _ = try XCTUnwrap(assertIssued(renewed, dns: names, keyAlgorithm: "EC", root: root))
        XCTAssertNotEqual(try CertificateCheck.fingerprint(files.certificate), first, "renewal re-issues")

        let serial = try CertificateCheck.serial(files.certificate)
        let revoked = try lego.revoke(name: names[0], reason: 4)
        XCTAssertEqual(revoked.status, 0, "\(revoked)")
        XCTAssertEqual(try pebble.certificateStatus(serial: serial), "Revoked")

        let rsa = try lego.obtain(names: ["rsa.lego.test"], keyType: .rsa)
        assertIssued(rsa, dns: ["rsa.lego.test"], keyAlgorithm: "RSA", root: root)
    }

    /// lego 4.9.1 sends an IP as a `dns` identifier; the refusal reaches the test as a non-zero
    /// exit with the problem in stderr (Pebble says `malformed`; acmeeh must say
    /// `rejectedIdentifier`, asserted in ClientEndToEndTests).
    func testLegoIPAsDNSIdentifierIsRefused() throws {
        let lego = try Lego(endpoint: pebble.endpoint, httpPort: httpPort, directory: directory)
        let refused = try lego.obtain(names: ["127.0.0.1"])
        XCTAssertNotEqual(refused.status, 0, "\(refused)")
        XCTAssertTrue(refused.result.stderr.contains("urn:ietf:params:acme:error:"), "\(refused)")
        XCTAssertTrue(refused.result.stderr.contains("127.0.0.1"), "\(refused)")
        XCTAssertEqual(refused.files?.missing.count, 3, "no certificate files")
    }

    /// A client that overruns its deadline is killed and the run reports it.
    func testTimedCommandKillsAnOverrunningClient() throws {
        let started = Date()
        let result = try TimedCommand.run("/bin/sleep", ["60"], timeout: 1)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("killed: no exit within 1 s"), result.stderr)
    }

    /// The EAB flags of both clients, against a Pebble that requires EAB.
    func testExternalAccountBindingFlags() throws {
        pebble.stop()
        var bytes = [UInt8](repeating: 0, count: 32)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        let hmac = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let eab = EABCredential(kid: "harness-kid", hmacKey: hmac)
        pebble = try PebbleServer(directory: directory, httpPort: httpPort, dnsServer: dns.address,
                                  eabKeys: [eab.kid: eab.hmacKey])
        try pebble.waitUntilReady()
        root = try pebble.fetchRoot()

        let certbot = try Certbot(.debian21, endpoint: pebble.endpoint, httpPort: httpPort,
                                  directory: directory.appendingPathComponent("certbot-eab"))
        let refused = try certbot.register()
        XCTAssertNotEqual(refused.status, 0, "\(refused)")
        XCTAssertTrue(refused.output.lowercased().contains("external account"), "\(refused)")
        let registered = try certbot.register(eab: eab)
        XCTAssertEqual(registered.status, 0, "\(registered)\n\(certbot.debugLog)")
        let issued = try certbot.certonly(names: ["eab.test"], keyType: .ecdsa)
        assertIssued(issued, dns: ["eab.test"], keyAlgorithm: "EC", root: root)

        let withoutEAB = try Lego(endpoint: pebble.endpoint, httpPort: httpPort,
                                  directory: directory.appendingPathComponent("lego-no-eab"))
        let legoRefused = try withoutEAB.obtain(names: ["eab.lego.test"])
        XCTAssertNotEqual(legoRefused.status, 0, "\(legoRefused)")
        XCTAssertTrue(legoRefused.output.lowercased().contains("external account"), "\(legoRefused)")

        let lego = try Lego(endpoint: pebble.endpoint, httpPort: httpPort,
                            directory: directory.appendingPathComponent("lego-eab"))
        let legoIssued = try lego.obtain(names: ["eab.lego.test"], eab: eab)
        assertIssued(legoIssued, dns: ["eab.lego.test"], keyAlgorithm: "EC", root: root)
    }
}

/// Debian's `pebble` on loopback with its own TLS certificate (its directory is HTTPS only),
/// validating http-01 on `httpPort` and resolving through `dnsServer`.
final class PebbleServer {
    static let executable = "/usr/bin/pebble"

    let process = Process()
    let port: Int
    let managementPort: Int
    let directory: URL
    let logFile: URL
    /// The root that signs Pebble's TLS certificate (for the clients' `tlsRoot`, and curl).
    let tlsRoot: URL

    var endpoint: ACMEEndpoint { ACMEEndpoint(directoryURL: "https://127.0.0.1:\(port)/dir", tlsRoot: tlsRoot) }

    /// `eabKeys`: kid → base64url HMAC key; when given, Pebble requires EAB.
    init(directory: URL, httpPort: Int, dnsServer: String, eabKeys: [String: String] = [:]) throws {
        self.directory = directory
        port = try ServerProcess.freePort()
        managementPort = try ServerProcess.freePort()
        tlsRoot = directory.appendingPathComponent("pebble-tls-root.pem")
        let (certificate, key) = try Self.makeTLSCertificate(in: directory, root: tlsRoot)
        let tlsPort = try ServerProcess.freePort()
        var pebble: [String: Any] = [
            "listenAddress": "127.0.0.1:\(port)",
            "managementListenAddress": "127.0.0.1:\(managementPort)",
            "certificate": certificate.path,
            "privateKey": key.path,
            "httpPort": httpPort,
            "tlsPort": tlsPort,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": !eabKeys.isEmpty,
        ]
        if !eabKeys.isEmpty { pebble["externalAccountMACKeys"] = eabKeys }
        let config = directory.appendingPathComponent("pebble-config.json")
        try JSONSerialization.data(withJSONObject: ["pebble": pebble], options: [.sortedKeys]).write(to: config)

        logFile = directory.appendingPathComponent("pebble.log")
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile)
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = ["-config", config.path, "-dnsserver", dnsServer]
        process.environment = ProcessInfo.processInfo.environment.merging([
            "PEBBLE_VA_NOSLEEP": "1",
            "PEBBLE_WFE_NONCEREJECT": "0",
        ]) { _, new in new }
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// A throwaway root and a leaf for 127.0.0.1 and localhost that it signs.
    private static func makeTLSCertificate(in directory: URL, root: URL) throws -> (URL, URL) {
        let rootKey = directory.appendingPathComponent("pebble-tls-root-key.pem")
        let key = directory.appendingPathComponent("pebble-tls-key.pem")
        let csr = directory.appendingPathComponent("pebble-tls.csr")
        let certificate = directory.appendingPathComponent("pebble-tls-cert.pem")
        let extensions = directory.appendingPathComponent("pebble-tls.ext")
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n"
            .write(to: extensions, atomically: true, encoding: .utf8)
        let steps: [[String]] = [
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", rootKey.path, "-out", root.path, "-days", "2", "-subj", "/CN=pebble test TLS root",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"],
            ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", key.path, "-out", csr.path, "-subj", "/CN=localhost"],
            ["x509", "-req", "-in", csr.path, "-CA", root.path, "-CAkey", rootKey.path, "-set_serial", "1",
             "-days", "2", "-extfile", extensions.path, "-out", certificate.path],
        ]
        for step in steps {
            let result = try TimedCommand.run("/usr/bin/openssl", step, timeout: 30)
            guard result.status == 0 else { throw CLIFailure("openssl \(step[0]) failed: \(result.stderr)") }
        }
        return (certificate, key)
    }

    /// GET over HTTPS trusting `tlsRoot` (curl: Foundation's URLSession cannot be told to).
    func get(_ url: String) throws -> CommandResult {
        try TimedCommand.run("/usr/bin/curl", ["-sS", "--fail", "--max-time", "10", "--noproxy", "*",
                                               "--cacert", tlsRoot.path, url], timeout: 20)
    }

    /// Waits until the directory answers, or fails with Pebble's log.
    func waitUntilReady(timeout: TimeInterval = 30) throws {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            guard process.isRunning else {
                throw CLIFailure("pebble exited with \(process.terminationStatus):\n\(log)")
            }
            if let answer = try? get(endpoint.directoryURL), answer.status == 0, answer.stdout.contains("newOrder") {
                return
            }
            Thread.sleep(forTimeInterval: 0.2)
        }
        throw CLIFailure("pebble did not serve its directory within \(timeout)s:\n\(log)")
    }

    /// Pebble's root (from the management API), saved as `pebble-root.pem`.
    func fetchRoot() throws -> URL {
        let answer = try get("https://127.0.0.1:\(managementPort)/roots/0")
        guard answer.status == 0, answer.stdout.contains("BEGIN CERTIFICATE") else {
            throw CLIFailure("cannot fetch Pebble's root: \(answer.stderr)")
        }
        let url = directory.appendingPathComponent("pebble-root.pem")
        try answer.stdout.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// `Valid` or `Revoked`, as the management API reports the certificate with this serial.
    func certificateStatus(serial: String) throws -> String? {
        let answer = try get("https://127.0.0.1:\(managementPort)/cert-status-by-serial/\(serial)")
        guard answer.status == 0 else { throw CLIFailure("cert-status-by-serial/\(serial): \(answer.stderr)") }
        let json = try JSONSerialization.jsonObject(with: Data(answer.stdout.utf8)) as? [String: Any]
        return json?["Status"] as? String
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let end = Date().addingTimeInterval(10)
        while process.isRunning && Date() < end { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
}
