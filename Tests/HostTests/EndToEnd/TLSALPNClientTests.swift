import Foundation
@testable import Host
import XCTest

/// lego 4.9.1 (Debian) against the real `acmeeh serve` with only tls-alpn-01 enabled
/// (RFC 8737): lego answers with its own `acme-tls/1` responder on 127.0.0.1, the server
/// resolves `.test` names through the loopback DNS responder, connects to lego's port
/// (`challenges.tlsalpn01.port`, nothing blocked) and the issued chain is checked with
/// `openssl verify` against the test root. The harness is `ClientEndToEndTests`'s.
final class TLSALPNClientTests: XCTestCase {
    var directory: URL!
    var database: TestDatabase!
    var dns: LoopbackDNS!
    var server: ServerProcess?
    /// lego's tls-alpn-01 port, which the server validates against.
    var tlsPort = 0

    var root: URL { directory.appendingPathComponent("ca/root.pem") }
    var endpoint: ACMEEndpoint { ACMEEndpoint(directoryURL: "\(server!.baseURL)/directory") }

    override func setUpWithError() throws {
        directory = try TestPaths.temporaryDirectory("acmeeh-tlsalpn-client")
        database = try TestDatabase.create()
        let ca = try Command.run(TestPaths.repository.appendingPathComponent("scripts/dev-ca").path,
                                 [directory.appendingPathComponent("ca").path])
        XCTAssertEqual(ca.status, 0, ca.stderr)
        dns = try LoopbackDNS(directory: directory)
        tlsPort = try ServerProcess.freePort()
    }

    override func tearDownWithError() throws {
        if let server, server.stop() != 0 || testRun?.hasSucceeded == false {
            print("--- acmeeh log ---\n\(server.log)")
        }
        dns?.stop()
        database?.drop()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    /// The configuration of `ClientEndToEndTests.startServer`, with tls-alpn-01 as the only
    /// challenge type, on lego's port.
    func startServer() throws {
        let port = try ServerProcess.freePort()
        let configURL = try TestServer.writeConfig(directory: directory, database: database.config, port: port, extra: """
            challenges:
              enabled: [tls-alpn-01]
              tlsalpn01:
                port: \(tlsPort)
                blocked_networks: []
            dns:
              resolvers: ["\(dns.address)"]
            """)
        let server = try ServerProcess(config: configURL, port: port,
                                       logFile: directory.appendingPathComponent("server.log"))
        self.server = server
        try server.waitUntilLive()
    }

    /// `lego --tls --tls.port 127.0.0.1:P -d a.test run`: the order offers only tls-alpn-01,
    /// lego answers it, the certificate is issued and its chain verifies.
    func testLegoTLSALPNRun() throws {
        try startServer()
        let lego = try Lego(endpoint: endpoint, httpPort: 0, directory: directory)
        let names = ["a.test"]
        let arguments = [
            "--server", endpoint.directoryURL, "--path", lego.path.path, "--accept-tos", "--email", lego.email,
            "--key-type", ACMEKeyType.ecdsa.legoName, "--tls", "--tls.port", "127.0.0.1:\(tlsPort)",
        ] + names.flatMap { ["--domains", $0] } + ["run"]
        let result = try TimedCommand.run(Lego.executable, arguments, timeout: 180)
        let run = ClientRun(commandLine: [Lego.executable] + arguments, result: result, files: lego.files(for: names[0]))
        assertIssued(run, dns: names, keyAlgorithm: "EC", root: root)
        XCTAssertTrue(run.output.contains("tls-alpn-01"), "lego used another challenge:\n\(run)")
        let log = server?.log ?? ""
        XCTAssertTrue(log.contains("tls-alpn-01 a.test: valid"), "no tls-alpn-01 validation in the server log:\n\(log)")
    }
}
