import Foundation
@testable import Host
import XCTest

/// Real ACME clients against the real `acmeeh serve`: certbot 2.1 (Debian), certbot 5
/// (venv) and lego 4.9.1 (Debian), each with its own directories, over plain http on
/// loopback. The server validates http-01 on the client's standalone port and resolves the
/// `.test` names through the loopback DNS responder; every certificate is checked with
/// `openssl verify` against the test root, and the server's own records (PostgreSQL) are
/// checked after revocation, account updates and deactivation.
///
/// The same harness is proven against Pebble by `PebbleHarnessTests`.
final class ClientEndToEndTests: XCTestCase {
    var directory: URL!
    var database: TestDatabase!
    var dns: LoopbackDNS!
    var server: ServerProcess?
    var configURL: URL!
    /// The client's standalone http-01 port, which the server validates against.
    var httpPort = 0

    var root: URL { directory.appendingPathComponent("ca/root.pem") }
    var endpoint: ACMEEndpoint { ACMEEndpoint(directoryURL: "\(server!.baseURL)/directory") }

    override func setUpWithError() throws {
        directory = try TestPaths.temporaryDirectory("acmeeh-clients")
        database = try TestDatabase.create()
        let ca = try Command.run(TestPaths.repository.appendingPathComponent("scripts/dev-ca").path,
                                 [directory.appendingPathComponent("ca").path])
        XCTAssertEqual(ca.status, 0, ca.stderr)
        dns = try LoopbackDNS(directory: directory)
        httpPort = try ServerProcess.freePort()
    }

    override func tearDownWithError() throws {
        if let server, server.stop() != 0 || testRun?.hasSucceeded == false {
            print("--- acmeeh log ---\n\(server.log)")
        }
        dns?.stop()
        database?.drop()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    // MARK: server

    struct Options {
        var eabRequired = false
        var allowIP = false
        var ari = false
        /// `ca.profiles.NAME` entries, YAML bodies indented for the profile's level.
        var profiles: [String: String] = [:]
        /// Only tls-alpn-01 (RFC 8737), validated at the client's port, instead of http-01.
        var tlsALPNOnly = false
    }

    /// Writes the configuration (like ServeEndToEndTests, plus http-01 — or only tls-alpn-01 —
    /// on the client's port, no blocked networks, and the loopback resolver) and starts
    /// `acmeeh serve`.
    @discardableResult
    func startServer(_ options: Options = Options()) throws -> ServerProcess {
        let port = try ServerProcess.freePort()
        var profiles = ""
        if !options.profiles.isEmpty {
            profiles = "  profiles:\n" + options.profiles.sorted { $0.key < $1.key }
                .map { "    \($0.key):\n\($0.value)" }.joined(separator: "\n")
        }
        let challenges = options.tlsALPNOnly
            ? "challenges:\n  enabled: [tls-alpn-01]\n  tlsalpn01:\n    port: \(httpPort)\n    blocked_networks: []"
            : "challenges:\n  http01:\n    port: \(httpPort)\n    blocked_networks: []"
        configURL = try TestServer.writeConfig(
            directory: directory, database: database.config, port: port,
            ca: TestServer.caSection(directory: directory, extra: profiles), extra: """
            acme:
              eab_required: \(options.eabRequired)
            \(challenges)
            dns:
              resolvers: ["\(dns.address)"]
            security:
              identifier_policy:
                allow_ip: \(options.allowIP)
            ari:
              enabled: \(options.ari)
            """)
        let server = try ServerProcess(config: configURL, port: port,
                                       logFile: directory.appendingPathComponent("server.log"))
        self.server = server
        try server.waitUntilLive()
        return server
    }

    /// `acmeeh -c CONFIG eab create --kid KID`, parsing `hmac_key: VALUE` from its output.
    func createEAB(kid: String) throws -> EABCredential {
        let result = try Command.run(TestPaths.executable.path, ["-c", configURL.path, "eab", "create", "--kid", kid])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let line = result.stdout.split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .first { $0.hasPrefix("hmac_key:") }
        let key = try XCTUnwrap(line, "no hmac_key in: \(result.stdout)")
            .dropFirst("hmac_key:".count).trimmingCharacters(in: .whitespaces)
        XCTAssertFalse(key.isEmpty)
        return EABCredential(kid: kid, hmacKey: key)
    }

    // MARK: the server's records

    func withDatabase<T>(_ body: (Connection) throws -> T) throws -> T {
        let connection = try Connection(config: database.config)
        defer { connection.close() }
        return try body(connection)
    }

    /// (revoked, reason) of the certificate with this serial as the server stored it.
    func revocation(serial: String) throws -> (revoked: Bool, reason: Int?) {
        try withDatabase { db in
            let row = try XCTUnwrap(try db.queryFirst(
                "SELECT revoked_at IS NOT NULL AS revoked, revocation_reason FROM certificates WHERE ltrim(serial, '0') = $1",
                [.string(serial)]), "no certificate with serial \(serial)")
            return (try row.bool("revoked"), try row.intIfPresent("revocation_reason"))
        }
    }

    func accountStatuses() throws -> [String] {
        try withDatabase { db in try db.query("SELECT status FROM accounts ORDER BY created_at").map { try $0.string("status") } }
    }

    func contacts() throws -> [String] {
        try withDatabase { db in try db.query("SELECT uri FROM account_contacts ORDER BY id").map { try $0.string("uri") } }
    }

    func eabKids() throws -> [String] {
        try withDatabase { db in
            try db.query("SELECT eab_kid FROM accounts WHERE eab_kid IS NOT NULL").map { try $0.string("eab_kid") }
        }
    }

    func assertRevoked(_ files: CertificateFiles, reason: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let serial = try CertificateCheck.serial(files.certificate)
        let state = try revocation(serial: serial)
        XCTAssertTrue(state.revoked, "serial \(serial) not revoked", file: file, line: line)
        XCTAssertEqual(state.reason, reason, "revocation reason of \(serial)", file: file, line: line)
    }

    // MARK: certbot 2.1 and 5

    func testCertbot21Lifecycle() throws { try certbotLifecycle(.debian21) }
    func testCertbot5Lifecycle() throws { try certbotLifecycle(.venv5) }

    /// register, ECDSA and RSA certificates for several names, renew, revoke with the account
    /// key and with the certificate key, update the account, unregister.
    func certbotLifecycle(_ release: Certbot.Release) throws {
        try startServer()
        let certbot = try Certbot(release, endpoint: endpoint, httpPort: httpPort,
                                  directory: directory.appendingPathComponent("certbot"))
        let registered = try certbot.register()
        XCTAssertEqual(registered.status, 0, "\(registered)\n\(certbot.debugLog)")
        XCTAssertEqual(try accountStatuses(), ["valid"])
        XCTAssertEqual(try contacts(), ["mailto:admin@example.com"])

        let ecNames = ["a.test", "b.test", "c.test"]
        let ec = try certbot.certonly(names: ecNames, keyType: .ecdsa, certName: "ec")
        let ecFiles = try XCTUnwrap(assertIssued(ec, dns: ecNames, keyAlgorithm: "EC", root: root), certbot.debugLog)

        let rsaNames = ["rsa.test", "www.rsa.test"]
        let rsa = try certbot.certonly(names: rsaNames, keyType: .rsa, certName: "rsa")
        let rsaFiles = try XCTUnwrap(assertIssued(rsa, dns: rsaNames, keyAlgorithm: "RSA", root: root),
                                     certbot.debugLog)

        let before = try CertificateCheck.fingerprint(ecFiles.certificate)
        let renewed = try certbot.renew(certName: "ec")
        _ = try XCTUnwrap(assertIssued(renewed, dns: ecNames, keyAlgorithm: "EC", root: root), certbot.debugLog)
        XCTAssertNotEqual(try CertificateCheck.fingerprint(ecFiles.certificate), before, "renewal re-issues")

        let byAccount = try certbot.revoke(certName: "ec", reason: "keycompromise")
        XCTAssertEqual(byAccount.status, 0, "\(byAccount)\n\(certbot.debugLog)")
        try assertRevoked(ecFiles, reason: 1)

        let byKey = try certbot.revoke(certificate: rsaFiles.certificate, key: rsaFiles.key, reason: "superseded")
        XCTAssertEqual(byKey.status, 0, "\(byKey)\n\(certbot.debugLog)")
        try assertRevoked(rsaFiles, reason: 4)

        // RFC 8555 §7.6: revoking again is refused as alreadyRevoked.
        let again = try certbot.revoke(certificate: rsaFiles.certificate, key: rsaFiles.key)
        XCTAssertNotEqual(again.status, 0, "\(again)")
        XCTAssertTrue((again.output + certbot.debugLog).contains("alreadyRevoked"), "\(again)")

        let updated = try certbot.updateAccount(email: "changed@example.com")
        XCTAssertEqual(updated.status, 0, "\(updated)\n\(certbot.debugLog)")
        XCTAssertEqual(try contacts(), ["mailto:changed@example.com"])

        let unregistered = try certbot.unregister()
        XCTAssertEqual(unregistered.status, 0, "\(unregistered)\n\(certbot.debugLog)")
        XCTAssertEqual(try accountStatuses(), ["deactivated"])
    }

    func testCertbot21ExternalAccountBinding() throws { try certbotEAB(.debian21) }
    func testCertbot5ExternalAccountBinding() throws { try certbotEAB(.venv5) }

    /// With `acme.eab_required`, registering without EAB is refused and with a credential
    /// from `acmeeh eab create` it works, binding the account to the kid.
    func certbotEAB(_ release: Certbot.Release) throws {
        try startServer(Options(eabRequired: true))
        let eab = try createEAB(kid: "certbot-kid")
        let certbot = try Certbot(release, endpoint: endpoint, httpPort: httpPort,
                                  directory: directory.appendingPathComponent("certbot"))
        // certbot reads meta.externalAccountRequired and refuses before sending anything.
        let refused = try certbot.register()
        XCTAssertNotEqual(refused.status, 0, "\(refused)")
        XCTAssertTrue(refused.output.lowercased().contains("external account"), "\(refused)")
        XCTAssertEqual(try accountStatuses(), [])

        let registered = try certbot.register(eab: eab)
        XCTAssertEqual(registered.status, 0, "\(registered)\n\(certbot.debugLog)")
        XCTAssertEqual(try eabKids(), ["certbot-kid"])

        let names = ["eab.test", "www.eab.test"]
        let issued = try certbot.certonly(names: names, keyType: .ecdsa)
        assertIssued(issued, dns: names, keyAlgorithm: "EC", root: root)
    }

    // MARK: certbot 5 only

    /// RFC 8738 IP identifiers (`--ip-address`), with `security.identifier_policy.allow_ip`.
    func testCertbot5IPAddressCertificate() throws {
        try startServer(Options(allowIP: true))
        let certbot = try Certbot(.venv5, endpoint: endpoint, httpPort: httpPort,
                                  directory: directory.appendingPathComponent("certbot"))
        let issued = try certbot.certonly(names: ["ip.test"], ipAddresses: ["127.0.0.1"], keyType: .ecdsa,
                                          certName: "ip")
        assertIssued(issued, dns: ["ip.test"], ip: ["127.0.0.1"], keyAlgorithm: "EC", root: root)
    }

    /// `--preferred-profile NAME` picks `ca.profiles.NAME`: its validity and usages show.
    func testCertbot5PreferredProfile() throws {
        let short = """
                  key_usages: [digital_signature]
                  extended_key_usages: [server_auth, client_auth]
                  validity_days: 7
            """
        let server = try startServer(Options(profiles: ["shortlived": short]))
        let dir = try HTTP.get("\(server.baseURL)/directory").json
        let profiles = (dir?["meta"] as? [String: Any])?["profiles"] as? [String: Any]
        XCTAssertNotNil(profiles?["shortlived"], "directory meta.profiles: \(String(describing: dir))")

        let certbot = try Certbot(.venv5, endpoint: endpoint, httpPort: httpPort,
                                  directory: directory.appendingPathComponent("certbot"))
        let issued = try certbot.certonly(names: ["profile.test"], keyType: .ecdsa, preferredProfile: "shortlived")
        let files = try XCTUnwrap(assertIssued(issued, dns: ["profile.test"], keyAlgorithm: "EC", root: root),
                                  certbot.debugLog)
        XCTAssertTrue(try CertificateCheck.expires(files.certificate, within: 8 * 86_400), "7-day profile")
        XCTAssertTrue(try CertificateCheck.text(files.certificate).contains("TLS Web Client Authentication"))

        let standard = try certbot.certonly(names: ["standard.test"], keyType: .ecdsa)
        let standardFiles = try XCTUnwrap(assertIssued(standard, dns: ["standard.test"], root: root))
        XCTAssertFalse(try CertificateCheck.expires(standardFiles.certificate, within: 8 * 86_400), "default profile")
    }

    /// With `ari.enabled`, certbot 5's renew asks the renewalInfo endpoint (RFC 9773) for the
    /// window before deciding, and a forced renewal still works.
    func testCertbot5RenewalFetchesARIWindow() throws {
        let server = try startServer(Options(ari: true))
        let certbot = try Certbot(.venv5, endpoint: endpoint, httpPort: httpPort,
                                  directory: directory.appendingPathComponent("certbot"))
        let names = ["ari.test"]
        let issued = try certbot.certonly(names: names, keyType: .ecdsa, certName: "ari")
        let files = try XCTUnwrap(assertIssued(issued, dns: names, root: root), certbot.debugLog)

        let checked = try certbot.renew(certName: "ari", force: false)
        XCTAssertEqual(checked.status, 0, "\(checked)\n\(certbot.debugLog)")
        XCTAssertTrue(server.log.contains("renewalInfo"), "no renewalInfo request in the server log:\n\(server.log)")

        let before = try CertificateCheck.fingerprint(files.certificate)
        let renewed = try certbot.renew(certName: "ari", force: true)
        _ = try XCTUnwrap(assertIssued(renewed, dns: names, root: root), certbot.debugLog)
        XCTAssertNotEqual(try CertificateCheck.fingerprint(files.certificate), before)
    }

    // MARK: lego 4.9.1

    func testLegoRunRenewRevoke() throws {
        try startServer()
        let lego = try Lego(endpoint: endpoint, httpPort: httpPort, directory: directory)
        let names = ["lego.test", "alt.lego.test"]
        let issued = try lego.obtain(names: names, keyType: .ecdsa)
        let files = try XCTUnwrap(assertIssued(issued, dns: names, keyAlgorithm: "EC", root: root))
        XCTAssertEqual(try accountStatuses(), ["valid"])

        let before = try CertificateCheck.fingerprint(files.certificate)
        let renewed = try lego.renew(names: names, keyType: .ecdsa)
        _ = try XCTUnwrap(assertIssued(renewed, dns: names, keyAlgorithm: "EC", root: root))
        XCTAssertNotEqual(try CertificateCheck.fingerprint(files.certificate), before, "renewal re-issues")

        let revoked = try lego.revoke(name: names[0], reason: 4)
        XCTAssertEqual(revoked.status, 0, "\(revoked)")
        try assertRevoked(files, reason: 4)

        let rsa = try lego.obtain(names: ["rsa.lego.test"], keyType: .rsa)
        assertIssued(rsa, dns: ["rsa.lego.test"], keyAlgorithm: "RSA", root: root)
    }

    func testLegoExternalAccountBinding() throws {
        try startServer(Options(eabRequired: true))
        let eab = try createEAB(kid: "lego-kid")
        let without = try Lego(endpoint: endpoint, httpPort: httpPort,
                               directory: directory.appendingPathComponent("no-eab"))
        let refused = try without.obtain(names: ["eab.lego.test"])
        XCTAssertNotEqual(refused.status, 0, "\(refused)")
        XCTAssertTrue(refused.output.lowercased().contains("external account"), "\(refused)")
        XCTAssertEqual(try accountStatuses(), [])

        let lego = try Lego(endpoint: endpoint, httpPort: httpPort, directory: directory.appendingPathComponent("eab"))
        let issued = try lego.obtain(names: ["eab.lego.test"], eab: eab)
        assertIssued(issued, dns: ["eab.lego.test"], root: root)
        XCTAssertEqual(try eabKids(), ["lego-kid"])
    }

    /// lego 4.9.1 sends an IP address as `{"type": "dns"}`; the server refuses it as
    /// rejectedIdentifier (RFC 8738 §3: IPs are `ip` identifiers), even with IPs allowed.
    func testLegoIPAsDNSIdentifierIsRejected() throws {
        try startServer(Options(allowIP: true))
        let lego = try Lego(endpoint: endpoint, httpPort: httpPort, directory: directory)
        let refused = try lego.obtain(names: ["127.0.0.1"])
        XCTAssertNotEqual(refused.status, 0, "\(refused)")
        XCTAssertTrue(refused.result.stderr.contains("rejectedIdentifier"), "\(refused)")
        XCTAssertTrue(refused.files?.missing.count == 3, "no certificate files")
    }

    // MARK: tls-alpn-01

    /// `lego --tls --tls.port 127.0.0.1:P -d a.test run` with only tls-alpn-01 enabled
    /// (RFC 8737): lego answers with its own `acme-tls/1` responder, the server connects to
    /// it, the certificate is issued and its chain verifies.
    func testLegoTLSALPNRun() throws {
        try startServer(Options(tlsALPNOnly: true))
        let lego = try Lego(endpoint: endpoint, httpPort: 0, directory: directory)
        let names = ["a.test"]
        let arguments = [
            "--server", endpoint.directoryURL, "--path", lego.path.path, "--accept-tos", "--email", lego.email,
            "--key-type", ACMEKeyType.ecdsa.legoName, "--tls", "--tls.port", "127.0.0.1:\(httpPort)",
        ] + names.flatMap { ["--domains", $0] } + ["run"]
        let result = try TimedCommand.run(Lego.executable, arguments, timeout: 180)
        let run = ClientRun(commandLine: [Lego.executable] + arguments, result: result, files: lego.files(for: names[0]))
        assertIssued(run, dns: names, keyAlgorithm: "EC", root: root)
        XCTAssertTrue(run.output.contains("tls-alpn-01"), "lego used another challenge:\n\(run)")
        let log = server?.log ?? ""
        XCTAssertTrue(log.contains("tls-alpn-01 a.test: valid"), "no tls-alpn-01 validation in the server log:\n\(log)")
    }
}
