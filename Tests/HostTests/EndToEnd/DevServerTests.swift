import Foundation
@testable import Host
import XCTest

/// The README's first five minutes: the configuration `scripts/dev --config-only` writes,
/// served by `acmeeh serve` with the loopback DNS responder answering the zone scripts/dev
/// writes, gives a certificate for the development name to exactly the README's certbot and
/// lego commands. Only the ports differ (free ones, so parallel runs and a running
/// `scripts/dev` do not collide): the server's 8443, the http-01 port and the DNS port.
final class DevServerTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = try TestPaths.temporaryDirectory("acmeeh-dev")
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    /// One command of the README: its words, `\`-continued lines joined.
    struct ReadmeCommand {
        let words: [String]

        /// The value after `flag` (`--flag VALUE`).
        func value(of flag: String) -> String? {
            guard let index = words.firstIndex(of: flag), index + 1 < words.count else { return nil }
            return words[index + 1]
        }

        /// The words with the README's server URL and http-01 port replaced by the test's.
        func onPorts(directoryURL: String, httpPort: Int, readmeHTTPPort: Int) -> [String] {
            words.map { word in
                switch word {
                case DevServerTests.readmeDirectoryURL: directoryURL
                case String(readmeHTTPPort): String(httpPort)
                case ":\(readmeHTTPPort)": ":\(httpPort)"
                default: word
                }
            }
        }
    }

    static let readmeDirectoryURL = "http://127.0.0.1:8443/directory"

    /// The README's commands whose first word is `program`.
    static func readmeCommands(_ program: String) throws -> [ReadmeCommand] {
        let readme = try String(contentsOf: TestPaths.repository.appendingPathComponent("README.md"), encoding: .utf8)
        var commands: [ReadmeCommand] = []
        var lines = readme.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }[...]
        while let line = lines.popFirst() {
            guard line.hasPrefix(program + " ") else { continue }
            var text = line
            while text.hasSuffix("\\"), let next = lines.popFirst() {
                text = String(text.dropLast()) + " " + next
            }
            commands.append(ReadmeCommand(words: text.split(separator: " ").map(String.init)))
        }
        return commands
    }

    /// The variables that change what scripts/dev writes (its header lists them).
    static let devVariables = ["ACMEEH_DEV_PORT", "ACMEEH_DEV_HTTP01_PORT", "ACMEEH_DEV_DNS_PORT", "ACMEEH_DEV_PGHOST",
                               "ACMEEH_DEV_PGPORT", "ACMEEH_DEV_PGUSER", "ACMEEH_DEV_DATABASE"]

    /// `scripts/dev --config-only DIR` with `environment`; the path of the config it printed.
    func writeDevConfig(_ dir: URL, environment: [String: String] = [:]) throws -> URL {
        // Empty is unset for scripts/dev: what the caller's shell sets must not change the defaults.
        var variables = Dictionary(uniqueKeysWithValues: Self.devVariables.map { ($0, "") })
        variables.merge(environment) { _, new in new }
        let result = try Command.run(TestPaths.repository.appendingPathComponent("scripts/dev").path,
                                     ["--config-only", dir.path], environment: variables)
        XCTAssertEqual(result.status, 0, result.stderr)
        let path = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(path, dir.appendingPathComponent("acmeeh.yaml").path, result.stderr)
        return URL(fileURLWithPath: path)
    }

    /// The README's ports are the ones the default development configuration uses, and that
    /// configuration validates on loopback only because it says so.
    func testReadmePortsAreTheDevConfigurationDefaults() throws {
        let certbot = try XCTUnwrap(Self.readmeCommands("certbot").first, "no certbot command in README.md")
        let lego = try XCTUnwrap(Self.readmeCommands("lego").first, "no lego command in README.md")
        let config = try ConfigLoader.load(path: try writeDevConfig(directory.appendingPathComponent("dev")).path,
                                           environment: [:])
        XCTAssertEqual(certbot.value(of: "--server"), Self.readmeDirectoryURL)
        XCTAssertEqual(lego.value(of: "--server"), Self.readmeDirectoryURL)
        XCTAssertEqual(config.server.externalURL + "/directory", Self.readmeDirectoryURL)
        XCTAssertEqual(config.server.port, 8443)
        XCTAssertEqual(certbot.value(of: "--http-01-port"), String(config.challenges.http01.port))
        XCTAssertEqual(lego.value(of: "--http.port"), ":\(config.challenges.http01.port)")
        XCTAssertEqual(config.dns.resolvers, ["127.0.0.1:5053"])
        XCTAssertFalse(config.challenges.http01.blockedNetworks.contains("127.0.0.0/8"))
        XCTAssertTrue(config.challenges.http01.blockedNetworks.contains("169.254.0.0/16"))
        XCTAssertEqual(config.security.identifierPolicy.allowedDomains, ["*.acmeeh.test"])
        let text = try String(contentsOf: directory.appendingPathComponent("dev/acmeeh.yaml"), encoding: .utf8)
        XCTAssertTrue(text.contains("DEVELOPMENT ONLY: loopback"), text)
    }

    /// A config an older scripts/dev wrote is set aside and written anew; a current one is kept.
    func testOlderDevConfigIsRewrittenAndCurrentOneKept() throws {
        let dev = directory.appendingPathComponent("dev")
        try FileManager.default.createDirectory(at: dev, withIntermediateDirectories: true)
        let old = "# Development configuration written by scripts/dev. Edit freely; it is not overwritten.\nserver: {}\n"
        try old.write(to: dev.appendingPathComponent("acmeeh.yaml"), atomically: true, encoding: .utf8)
        let config = try writeDevConfig(dev)
        XCTAssertEqual(try String(contentsOf: dev.appendingPathComponent("acmeeh.yaml.old"), encoding: .utf8), old)
        var current = try String(contentsOf: config, encoding: .utf8)
        XCTAssertTrue(current.contains("http01:"), current)
        current += "# edited\n"
        try current.write(to: config, atomically: true, encoding: .utf8)
        _ = try writeDevConfig(dev)
        XCTAssertEqual(try String(contentsOf: config, encoding: .utf8), current, "an edited current config is kept")
    }

    /// The README's certbot and lego commands, run as written (from a directory standing in
    /// for the repository root), get a certificate for the development name that verifies
    /// against the development root CA.
    func testReadmeCertbotAndLegoGetCertificates() throws {
        let certbot = try XCTUnwrap(Self.readmeCommands("certbot").first, "no certbot command in README.md")
        let lego = try XCTUnwrap(Self.readmeCommands("lego").first, "no lego command in README.md")
        let readmeHTTPPort = try XCTUnwrap(certbot.value(of: "--http-01-port").flatMap(Int.init))
        let name = try XCTUnwrap(certbot.value(of: "-d"))
        XCTAssertTrue(name.hasSuffix(".acmeeh.test"), name)
        XCTAssertEqual(lego.value(of: "--domains"), name)

        let database = try TestDatabase.create()
        defer { database.drop() }
        let dns = try LoopbackDNS(directory: directory, zone: "")
        defer { dns.stop() }
        let serverPort = try ServerProcess.freePort()
        let httpPort = try ServerProcess.freePort()
        let dev = directory.appendingPathComponent("dev")
        let config = try writeDevConfig(dev, environment: [
            "ACMEEH_DEV_PORT": String(serverPort), "ACMEEH_DEV_HTTP01_PORT": String(httpPort),
            "ACMEEH_DEV_DNS_PORT": String(dns.port),
            "ACMEEH_DEV_PGHOST": database.config.host, "ACMEEH_DEV_PGPORT": String(database.config.port),
            "ACMEEH_DEV_PGUSER": database.config.user, "ACMEEH_DEV_DATABASE": database.config.database,
        ])
        // The responder answers the zone scripts/dev wrote for itself.
        try dns.write(String(contentsOf: dev.appendingPathComponent("dns.zone"), encoding: .utf8))
        let server = try ServerProcess(config: config, port: serverPort, logFile: directory.appendingPathComponent("server.log"))
        defer { server.stop() }
        try server.waitUntilLive()

        let root = dev.appendingPathComponent("ca/root.pem")
        let directoryURL = "\(server.baseURL)/directory"
        let work = directory.appendingPathComponent("repository")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        /// Runs `command` from `work` and asserts it stored a certificate for `name` in `folder`
        /// (relative to `work`) as these three files.
        func assertObtains(_ command: ReadmeCommand, folder: String, _ certificate: String, _ chain: String,
                           _ key: String) throws {
            let words = command.onPorts(directoryURL: directoryURL, httpPort: httpPort, readmeHTTPPort: readmeHTTPPort)
            XCTAssertTrue(words.contains(directoryURL), "\(command.words) does not name the server")
            let result = try TimedCommand.run("/usr/bin/env", words, currentDirectory: work, timeout: 180)
            let stored = work.appendingPathComponent(folder)
            let files = CertificateFiles(certificate: stored.appendingPathComponent(certificate),
                                         chain: stored.appendingPathComponent(chain), key: stored.appendingPathComponent(key))
            assertIssued(ClientRun(commandLine: words, result: result, files: files), dns: [name], root: root)
        }
        try assertObtains(certbot, folder: XCTUnwrap(certbot.value(of: "--config-dir")) + "/live/\(name)",
                          "cert.pem", "chain.pem", "privkey.pem")
        try assertObtains(lego, folder: XCTUnwrap(lego.value(of: "--path")) + "/certificates",
                          "\(name).crt", "\(name).issuer.crt", "\(name).key")

        XCTAssertTrue(dns.log.contains("query \(name) type 1 -> rcode 0, 1 answer(s)"), dns.log)
        if testRun?.hasSucceeded == false { print("--- acmeeh log ---\n\(server.log)") }
    }
}
