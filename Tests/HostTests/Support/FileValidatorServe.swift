import Foundation
@testable import Host
import XCTest

/// A real `acmeeh serve` that validates http-01 through the file validator fixture, as the
/// end-to-end tests of whole flows use it: a scratch directory with the challenge folder the
/// fixture reads, a test database, a dev CA, the configuration, and one issuance flow.
struct FileValidatorServe {
    let directory: URL
    let challengeDirectory: URL
    let database: TestDatabase

    init(prefix: String) throws {
        directory = try TestPaths.temporaryDirectory(prefix)
        challengeDirectory = directory.appendingPathComponent("challenges")
        try FileManager.default.createDirectory(at: challengeDirectory, withIntermediateDirectories: true)
        database = try TestDatabase.create()
        let ca = try Command.run(TestPaths.repository.appendingPathComponent("scripts/dev-ca").path,
                                 [directory.appendingPathComponent("ca").path])
        XCTAssertEqual(ca.status, 0, ca.stderr)
    }

    /// Writes the configuration (the fixture validator, workers and cleanup polling hourly,
    /// `*.example.test` allowed, then `extra`); `edit` may rewrite the file before the start.
    func start(extra: String = "", edit: (URL) throws -> Void = { _ in }) throws -> ServerProcess {
        let libraries = try FileValidatorFixture.libraries.get()
        let port = try ServerProcess.freePort()
        let url = try TestServer.writeConfig(directory: directory, database: database.config, port: port, extra: """
            challenges:
              enabled: ["ext:\(libraries.http)"]
              background_worker:
                poll_seconds: 3600
            nonce:
              gc_interval_seconds: 3600
            order:
              stale_processing_threshold_seconds: 3600
            security:
              identifier_policy:
                allowed_domains: ["*.example.test"]
            \(extra)
            """)
        try edit(url)
        let server = try ServerProcess(config: url, port: port, logFile: directory.appendingPathComponent("server.log"),
                                       environment: ["ACMEEH_TEST_CHALLENGE_DIR": challengeDirectory.path])
        try server.waitUntilLive()
        return server
    }

    func cleanUp() {
        database.drop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// What a flow leaves: the account, its key, the certificate's URL and the certificate
    /// (base64url DER) with its key.
    struct Flow {
        var key: TestKey
        var account: String
        var certificateURL: String
        var certificate: String
        var certificateKey: TestKey
        /// The certificate's key as a PEM file.
        var certificateKeyPath: String
    }

    /// One issuance flow (newAccount unless `account` is given, newOrder, the authorization,
    /// the challenge validated in the request, finalize, one download).
    func issue(_ client: ACMETestClient, name: String, account existing: (key: TestKey, url: String)? = nil) throws -> Flow {
        let key: TestKey, account: String
        if let existing {
            (key, account) = existing
        } else {
            key = TestKey.ec()
            let created: ACMETestClient.Reply
            (created, account) = try client.newAccount(key)
            XCTAssertEqual(created.status, 201, created.text)
        }
        let order = try client.post(client.url("newOrder"), .json(["identifiers": [["type": "dns", "value": name]]]),
                                    key: key, kid: account)
        let authorization = try XCTUnwrap((order.json?["authorizations"] as? [String])?.first, order.text)
        let challenges = try client.post(authorization, .empty, key: key, kid: account).json?["challenges"] as? [[String: Any]]
        let challenge = try XCTUnwrap(challenges?.first { $0["type"] as? String == "http-01" })
        let token = try XCTUnwrap(challenge["token"] as? String)
        try "\(token).\(key.thumbprint)".write(to: challengeDirectory.appendingPathComponent(token), atomically: true,
                                               encoding: .utf8)
        let answered = try client.post(try XCTUnwrap(challenge["url"] as? String), .json([:]), key: key, kid: account)
        XCTAssertEqual(answered.json?["status"] as? String, "valid", answered.text)
        let keyPath = try TestCSR.newKey(in: directory)
        let csr = try TestCSR.make(names: [name], keyPath: keyPath, in: directory)
        let finalized = try client.post(try XCTUnwrap(order.json?["finalize"] as? String), .json(["csr": csr]),
                                        key: key, kid: account)
        let certificateURL = try XCTUnwrap(finalized.json?["certificate"] as? String, finalized.text)
        let download = try client.post(certificateURL, .empty, key: key, kid: account)
        XCTAssertEqual(download.status, 200)
        let leaf = try CertificateChain(pem: download.text).leaf
        return Flow(key: key, account: account, certificateURL: certificateURL, certificate: Base64URL.encode(leaf.der),
                    certificateKey: try TestKey.pem(try String(contentsOfFile: keyPath, encoding: .utf8)),
                    certificateKeyPath: keyPath)
    }
}
