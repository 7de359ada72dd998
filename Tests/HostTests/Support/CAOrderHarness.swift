import Foundation
@testable import Host
import XCTest

/// A real `acmeeh serve` whose `ca` section the test writes (external, failover, circuit
/// breaker), on a private database, with the C http-01 validator of OrderTests
/// (Fixtures/file_validator.c, key authorizations read from files) and a throwaway
/// internal CA (`scripts/dev-ca`). Takes orders from newOrder to a certificate and revokes.
final class CAOrderHarness {
    let directory: URL
    let challengeDirectory: URL
    let database: TestDatabase
    private(set) var server: ServerProcess?

    /// The internal CA's root certificate and key (for `ca.internal` and `ext:` CAs).
    var internalRoot: String { directory.appendingPathComponent("ca/root.pem").path }
    var internalRootKey: String { directory.appendingPathComponent("ca/root-key.pem").path }

    init() throws {
        directory = try TestPaths.temporaryDirectory("acmeeh-ca-orders")
        challengeDirectory = directory.appendingPathComponent("challenges")
        try FileManager.default.createDirectory(at: challengeDirectory, withIntermediateDirectories: true)
        database = try TestDatabase.create()
        let ca = try Command.run(TestPaths.repository.appendingPathComponent("scripts/dev-ca").path,
                                 [directory.appendingPathComponent("ca").path])
        guard ca.status == 0 else { throw CLIFailure("scripts/dev-ca failed: \(ca.stderr)") }
    }

    /// `ca` is the body of the `ca:` section (YAML, not indented); `extra` more top-level YAML.
    /// `security` and `identifierPolicy`: more lines (YAML, not indented) of those sections.
    func writeConfig(ca: String, port: Int, extra: String = "", security: String = "", identifierPolicy: String = "") throws -> URL {
        let libraries = try FileValidatorFixture.libraries.get()
        let caSection = ca.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
        let url = try TestServer.writeConfig(directory: directory, database: database.config, port: port,
                                             ca: caSection, maxConnections: 6, extra: """
            challenges:
              enabled: ["ext:\(libraries.http)"]
              background_worker:
                poll_seconds: 1
            security:
            \(Self.indent(security, 2))
              identifier_policy:
                allowed_domains: ["*.example.test"]
            \(Self.indent(identifierPolicy, 4))
            \(extra)
            """)
        return url
    }

    /// Writes the configuration and starts `acmeeh serve`; throws with the server's log if
    /// it does not come up.
    func start(ca: String, extra: String = "", security: String = "", identifierPolicy: String = "") throws {
        let port = try ServerProcess.freePort()
        let config = try writeConfig(ca: ca, port: port, extra: extra, security: security, identifierPolicy: identifierPolicy)
        configFile = config
        server = try ServerProcess(config: config, port: port, logFile: directory.appendingPathComponent("server-\(port).log"),
                                   environment: ["ACMEEH_TEST_CHALLENGE_DIR": challengeDirectory.path])
        try server!.waitUntilLive()
    }

    var log: String { server?.log ?? "" }
    /// The configuration of the last `start`.
    var configFile: URL?

    func shutdown() {
        server?.stop()
        database.drop()
        try? FileManager.default.removeItem(at: directory)
    }

    func client() throws -> OrderTestClient {
        guard let server else { throw CLIFailure("the server is not started") }
        return try OrderTestClient(base: server.baseURL, database: database.config)
    }

    /// newOrder, then every authorization solved through http-01: the order URL, ready.
    func readyOrder(_ client: OrderTestClient, _ names: [String]) throws -> String {
        let created = try client.newOrder(names)
        guard [200, 201].contains(created.status), let url = created.header("Location") else {
            throw CLIFailure("newOrder: \(created.status) \(Self.text(created))")
        }
        for authzURL in created.json?["authorizations"] as? [String] ?? [] {
            let authz = try client.post(authzURL, nil).json ?? [:]
            if authz["status"] as? String == "valid" { continue }
            guard let http = (authz["challenges"] as? [[String: Any]])?.first(where: { $0["type"] as? String == "http-01" }),
                  let token = http["token"] as? String, let challengeURL = http["url"] as? String
            else { throw CLIFailure("no http-01 challenge in \(authz)") }
            try "\(token).\(client.key.thumbprint)".write(to: challengeDirectory.appendingPathComponent(token),
                                                            atomically: true, encoding: .utf8)
            let solved = try client.post(challengeURL, [:])
            guard solved.json?["status"] as? String == "valid" else { throw CLIFailure("http-01: \(Self.text(solved))") }
        }
        let order = try client.post(url, nil)
        guard order.json?["status"] as? String == "ready" else { throw CLIFailure("order not ready: \(Self.text(order))") }
        return url
    }

    /// Finalizes a ready order with a fresh P-256 key's CSR for `names`.
    func finalize(_ client: OrderTestClient, _ orderURL: String, _ names: [String]) throws -> HTTP.Response {
        let key = try TestCSR.newKey(in: directory)
        let csr = try TestCSR.make(names: names, keyPath: key, in: directory)
        return try client.post(orderURL + "/finalize", ["csr": csr])
    }

    /// Polls the order until it leaves `processing` (deferred signing), up to `timeout` seconds.
    func settledOrder(_ client: OrderTestClient, _ orderURL: String, timeout: TimeInterval = 30) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        var order: [String: Any] = [:]
        repeat {
            order = try client.post(orderURL, nil).json ?? [:]
            if order["status"] as? String != "processing" { break }
            Thread.sleep(forTimeInterval: 0.3)
        } while Date() < deadline
        return order
    }

    /// Downloads the certificate of a valid order (PEM chain) and writes it to a file.
    func certificate(_ client: OrderTestClient, order: [String: Any]) throws -> (pem: String, file: String) {
        guard let url = order["certificate"] as? String else { throw CLIFailure("no certificate in \(order)") }
        let download = try client.post(url, nil)
        guard download.status == 200 else { throw CLIFailure("certificate download: \(Self.text(download))") }
        let file = directory.appendingPathComponent("\(UUID().uuidString).pem")
        try download.body.write(to: file)
        return (Self.text(download), file.path)
    }

    /// revokeCert (RFC 8555 §7.6) of the chain's leaf, signed by the ordering account.
    func revoke(_ client: OrderTestClient, chainFile: String, reason: Int? = nil) throws -> HTTP.Response {
        let der = directory.appendingPathComponent("\(UUID().uuidString).der").path
        let converted = try Command.tool("openssl", ["x509", "-in", chainFile, "-outform", "DER", "-out", der])
        guard converted.status == 0 else { throw CLIFailure("openssl x509: \(converted.stderr)") }
        var payload: [String: Any] = ["certificate": Base64URL.encode(Array(try Data(contentsOf: URL(fileURLWithPath: der))))]
        if let reason { payload["reason"] = reason }
        let directoryURL = try XCTUnwrap(server?.baseURL) + "/directory"
        guard let revokeURL = try HTTP.get(directoryURL).json?["revokeCert"] as? String else {
            throw CLIFailure("no revokeCert in the directory")
        }
        return try client.post(revokeURL, payload)
    }

    /// The leaf's serial as lowercase hex (openssl prints it in upper case).
    private static func serial(ofChain file: String) throws -> String {
        let out = try Command.tool("openssl", ["x509", "-in", file, "-noout", "-serial"])
        guard out.status == 0 else { throw CLIFailure("openssl x509 -serial: \(out.stderr)") }
        return out.stdout.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "serial=", with: "").lowercased()
    }

    /// The leaf's serial as `certificates.serial` stores it (no leading zeros).
    static func storedSerial(ofChain file: String) throws -> String {
        CertificateID.normalisedSerial(try serial(ofChain: file))
    }

    /// `openssl verify` of the chain's leaf against `root`: true when it verifies.
    static func verifies(_ file: String, root: String) throws -> Bool {
        try Command.tool("openssl", ["verify", "-CAfile", root, file]).status == 0
    }

    /// (serial, ca_backend, revoked) of every certificate, by issue time.
    func certificateRows() throws -> [(serial: String, backend: String, revoked: Bool)] {
        let connection = try Connection(config: database.config)
        defer { connection.close() }
        return try connection.query("SELECT serial, ca_backend, revoked_at IS NOT NULL AS revoked FROM certificates ORDER BY created_at")
            .map { (try $0.string("serial"), try $0.string("ca_backend"), try $0.bool("revoked")) }
    }

    private static func indent(_ yaml: String, _ spaces: Int) -> String {
        yaml.split(separator: "\n").map { String(repeating: " ", count: spaces) + $0 }.joined(separator: "\n")
    }

    static func text(_ response: HTTP.Response) -> String { String(decoding: response.body, as: UTF8.self) }
}
