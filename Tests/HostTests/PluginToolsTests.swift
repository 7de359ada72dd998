import Foundation
@testable import Host
import XCTest

/// The tools for plugin authors, run as the real `acmeeh` executable: `plugins list`,
/// `plugins check` (on the built plugins, the C fixtures and the two examples of
/// docs/plugins.md) and `ca test-sign --all`. No database is needed.
final class PluginToolsTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = try TestPaths.temporaryDirectory("acmeeh-plugintools")
        let result = try Command.run(TestPaths.repository.appendingPathComponent("scripts/dev-ca").path,
                                     [ca.path])
        XCTAssertEqual(result.status, 0, result.stderr)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    var ca: URL { directory.appendingPathComponent("ca") }
    var rootCert: String { ca.appendingPathComponent("root.pem").path }
    var rootKey: String { ca.appendingPathComponent("root-key.pem").path }
    /// Where the built plugins are, as the executable sees itself (/proc/self/exe, symlinks resolved).
    var products: String { TestPaths.products.resolvingSymlinksInPath().path }

    /// A configuration whose database is never opened by these commands; `ca` is the YAML
    /// of the `ca` section's extra keys, `extra` more top-level YAML.
    func writeConfig(backend: String = "internal", ca: String = "", extra: String = "") throws -> URL {
        let yaml = """
        server:
          external_url: http://127.0.0.1:8443
        database:
          host: 127.0.0.1
          port: 1
          database: never_opened
          user: nobody
        ca:
          backend: \(backend)
          internal:
            root_cert_path: \(rootCert)
            root_key_path: \(rootKey)
            serial_source: random
        \(ca)
        logging:
          format: human
        \(extra)
        """
        let url = directory.appendingPathComponent("acmeeh-\(UUID().uuidString.prefix(6)).yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func acmeeh(_ arguments: [String]) throws -> CommandResult {
        try Command.run(TestPaths.executable.path, arguments)
    }

    func json(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                      "not a JSON object: \(text)", file: file, line: line)
    }

    var caConfigJSON: String { #"{"root_cert_path": "\#(rootCert)", "root_key_path": "\#(rootKey)", "serial_source": "random"}"# }

    // MARK: - plugins list

    func testListShowsTheConfiguredPluginsLoaded() throws {
        let config = try writeConfig(extra: "challenges:\n  enabled: [http-01]")
        let table = try acmeeh(["-c", config.path, "plugins", "list"])
        XCTAssertEqual(table.status, 0, table.stdout + table.stderr)
        let lines = table.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3, table.stdout)
        XCTAssertTrue(lines[0].hasPrefix("KIND"), table.stdout)
        XCTAssertTrue(lines[1].hasPrefix("ca "), table.stdout)
        XCTAssertTrue(lines[1].contains("CAFile") && lines[1].contains(products + "/libCAFile.so")
                      && lines[1].contains("ca.backend") && lines[1].hasSuffix("loaded"), table.stdout)
        XCTAssertTrue(lines[2].hasPrefix("challenge "), table.stdout)
        XCTAssertTrue(lines[2].contains(products + "/libChallengeHTTP01.so")
                      && lines[2].contains("challenges.enabled[0]") && lines[2].hasSuffix("loaded"), table.stdout)

        let listed = try acmeeh(["-c", config.path, "plugins", "list", "--json"])
        XCTAssertEqual(listed.status, 0, listed.stderr)
        let object = try json(listed.stdout)
        XCTAssertEqual(object["ok"] as? Bool, true)
        let plugins = try XCTUnwrap(object["plugins"] as? [[String: Any]])
        XCTAssertEqual(plugins.count, 2)
        XCTAssertEqual(plugins[0]["kind"] as? String, "ca")
        XCTAssertEqual(plugins[0]["name"] as? String, "CAFile")
        XCTAssertEqual(plugins[0]["abi_version"] as? String, "1.1")
        XCTAssertNotNil(plugins[0]["version"] as? String)
        XCTAssertEqual(plugins[0]["path"] as? String, products + "/libCAFile.so")
        XCTAssertEqual(plugins[0]["config_key"] as? String, "ca.backend")
        XCTAssertEqual(plugins[0]["state"] as? String, "loaded")
        XCTAssertEqual(plugins[1]["kind"] as? String, "challenge")
        XCTAssertEqual(plugins[1]["name"] as? String, "ChallengeHTTP01")
        XCTAssertEqual(plugins[1]["path"] as? String, products + "/libChallengeHTTP01.so")
        XCTAssertEqual(plugins[1]["config_key"] as? String, "challenges.enabled[0]")
        XCTAssertEqual(plugins[1]["state"] as? String, "loaded")
    }

    func testListReportsABrokenPluginAndExitsOne() throws {
        let notELF = directory.appendingPathComponent("libNotELF.so").path
        try "not a library\n".write(toFile: notELF, atomically: true, encoding: .utf8)
        let config = try writeConfig(ca: "  failover: [\"ext:\(notELF)\"]")
        let table = try acmeeh(["-c", config.path, "plugins", "list"])
        XCTAssertEqual(table.status, 1, table.stdout + table.stderr)
        XCTAssertTrue(table.stdout.contains("ca.failover[0]"), table.stdout)
        XCTAssertTrue(table.stdout.contains("failed: ca.failover[0]: cannot load plugin \(notELF): not a shared library"), table.stdout)

        let listed = try acmeeh(["-c", config.path, "plugins", "list", "--json"])
        XCTAssertEqual(listed.status, 1)
        let object = try json(listed.stdout)
        XCTAssertEqual(object["ok"] as? Bool, false)
        let plugins = try XCTUnwrap(object["plugins"] as? [[String: Any]])
        // ca.backend, the broken ca.failover[0], then the default challenges.enabled.
        XCTAssertEqual(plugins.prefix(2).map { $0["state"] as? String }, ["loaded", "failed"])
        XCTAssertEqual(plugins.filter { $0["state"] as? String == "failed" }.count, 1)
        XCTAssertEqual(plugins[1]["path"] as? String, notELF)
        let error = try XCTUnwrap(plugins[1]["error"] as? String)
        XCTAssertTrue(error.hasPrefix("ca.failover[0]: cannot load plugin \(notELF): not a shared library"), error)
    }

    // MARK: - plugins check

    func testCheckCAFileSignsAndVerifies() throws {
        let result = try acmeeh(["plugins", "check", products + "/libCAFile.so", "--config", caConfigJSON, "--config-path", "ca.internal"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("name         CAFile"), result.stdout)
        XCTAssertTrue(result.stdout.contains("ABI          built for 1.1 (minor 1); host 1.1; descriptor 152 bytes"), result.stdout)
        XCTAssertTrue(result.stdout.contains("optional     self_check present, ca_poll absent, ca_sign_crl present"), result.stdout)
        XCTAssertTrue(result.stdout.contains("features     precertificate"), result.stdout)
        XCTAssertTrue(result.stdout.contains("[ok] precertificate: serial "), result.stdout)
        XCTAssertTrue(result.stdout.contains("the certificate adds the SCT list and nothing else"), result.stdout)
        XCTAssertTrue(result.stdout.contains("[ok] crl: a v2 CRL listing serial "), result.stdout)
        XCTAssertTrue(result.stdout.contains(", signed by the leaf's issuer"), result.stdout)
        XCTAssertTrue(result.stdout.contains("[ok] SANs: DNS:plugin-check.invalid, DNS:www.plugin-check.invalid"), result.stdout)
        XCTAssertTrue(result.stdout.contains("[ok] signature: the leaf verifies with its issuer's key"), result.stdout)
        XCTAssertFalse(result.stdout.contains("[FAIL]"), result.stdout)
        XCTAssertTrue(result.stdout.hasSuffix("\n") && lastLine(result.stdout).hasPrefix("PASS: CA CAFile signed"), result.stdout)

        let json = try json(try acmeeh(["plugins", "check", products + "/libCAFile.so", "--config", caConfigJSON, "--json"]).stdout)
        XCTAssertEqual(json["verdict"] as? String, "PASS")
        XCTAssertEqual(json["kind"] as? String, "ca")
        XCTAssertEqual(json["abi_minor"] as? Int, 1)
        XCTAssertEqual(json["optional_functions"] as? [String: Bool], ["self_check": true, "ca_poll": false, "ca_sign_crl": true])
        let certificate = try XCTUnwrap(json["certificate"] as? [String: Any])
        XCTAssertEqual(certificate["dns_names"] as? [String], ["plugin-check.invalid", "www.plugin-check.invalid"])
        XCTAssertEqual(certificate["chain_length"] as? Int, 2)
        // The certificate is good by OpenSSL's own verify too.
        let pem = directory.appendingPathComponent("checked.pem")
        try XCTUnwrap(certificate["pem"] as? String).write(to: pem, atomically: true, encoding: .utf8)
        let verify = try Command.tool("openssl", ["verify", "-CAfile", rootCert, pem.path])
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
    }

    /// CAExternal has ca_sign_crl whatever its configuration: with crl_url the service's CRL is
    /// checked like any other; without it the instance signs no CRLs, which is no failure.
    func testCheckCAExternalWithAndWithoutCRLURL() throws {
        let service = try startSigningService()
        let withCRL = try acmeeh(["plugins", "check", products + "/libCAExternal.so", "--config-path", "ca.external", "--config",
                                  #"{"sign_url": "\#(service.url("/sign"))", "crl_url": "\#(service.url("/crl"))"}"#])
        XCTAssertEqual(withCRL.status, 0, withCRL.stdout + withCRL.stderr)
        XCTAssertTrue(withCRL.stdout.contains("optional     self_check present, ca_poll absent, ca_sign_crl present"), withCRL.stdout)
        XCTAssertTrue(withCRL.stdout.contains("[ok] crl: a v2 CRL listing serial "), withCRL.stdout)
        XCTAssertTrue(lastLine(withCRL.stdout).hasSuffix("; the CRL it signed verifies too"), withCRL.stdout)
        XCTAssertEqual(service.requests().map { $0["path"] as? String }, ["/sign", "/crl"])

        let without = try acmeeh(["plugins", "check", products + "/libCAExternal.so", "--config-path", "ca.external", "--config",
                                  #"{"sign_url": "\#(service.url("/sign"))"}"#])
        XCTAssertEqual(without.status, 0, without.stdout + without.stderr)
        XCTAssertTrue(without.stdout.contains("[ok] crl: none (ca.external.crl_url is not set: this external CA signs no CRLs)"),
                      without.stdout)
        XCTAssertFalse(lastLine(without.stdout).contains("CRL"), without.stdout)
    }

    func testCheckCAFileWithABadConfigQuotesCreate() throws {
        let result = try acmeeh(["plugins", "check", products + "/libCAFile.so", "--config", #"{"root_cert_path": "/nonexistent.pem", "root_key_path": "/k"}"#])
        XCTAssertEqual(result.status, 1, result.stdout)
        XCTAssertTrue(lastLine(result.stdout).hasPrefix("FAIL: plugins check: cannot load plugin \(products)/libCAFile.so: create() failed: config.root_cert_path"), result.stdout)
    }

    func testCheckChallengePluginReportsItsTypes() throws {
        let result = try acmeeh(["plugins", "check", products + "/libChallengeHTTP01.so"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("challenge types  http-01 (identifiers: dns, ip; token)"), result.stdout)
        XCTAssertTrue(lastLine(result.stdout).hasPrefix("PASS: challenge validator ChallengeHTTP01"), result.stdout)

        let json = try json(try acmeeh(["plugins", "check", products + "/libChallengeHTTP01.so", "--json", "--challenge-type", "http-01"]).stdout)
        XCTAssertEqual(json["verdict"] as? String, "PASS")
        let types = try XCTUnwrap(json["challenge_types"] as? [[String: Any]])
        XCTAssertEqual(types.first?["type"] as? String, "http-01")
        XCTAssertEqual(types.first?["identifier_types"] as? [String], ["dns", "ip"])

        let wrongType = try acmeeh(["plugins", "check", products + "/libChallengeHTTP01.so", "--challenge-type", "dns-01"])
        XCTAssertEqual(wrongType.status, 1)
        XCTAssertTrue(lastLine(wrongType.stdout).hasPrefix("FAIL: ChallengeHTTP01 does not serve dns-01"), wrongType.stdout)
    }

    func testCheckCFixtures() throws {
        let fixtures = try Fixtures.shared.get().directory
        let validator = try acmeeh(["plugins", "check", fixtures + "/libThumbprintC.so", "--config", #"{"thumbprint": "T"}"#])
        XCTAssertEqual(validator.status, 0, validator.stdout + validator.stderr)
        XCTAssertTrue(lastLine(validator.stdout).hasPrefix("PASS: challenge validator ThumbprintC"), validator.stdout)

        let notifier = try acmeeh(["plugins", "check", fixtures + "/libNotifierC.so"])
        XCTAssertTrue(lastLine(notifier.stdout).hasPrefix("PASS: notifier"), notifier.stdout + notifier.stderr)

        let wrongABI = try acmeeh(["plugins", "check", fixtures + "/libBrokenAbiMajor.so"])
        XCTAssertEqual(wrongABI.status, 1)
        XCTAssertEqual(lastLine(wrongABI.stdout),
                       "FAIL: plugins check: cannot load plugin \(fixtures)/libBrokenAbiMajor.so: ABI major 2, this host speaks 1")

        // CountingCA built against the verbatim 1.0 header, and against 1.1 without ca_sign_crl:
        // both load; check names the minor each was built for and what each lacks (its fake
        // PEM then fails the certificate checks, which is not the point here).
        for (library, minor, text) in [("libCountingCA10.so", 0, "built for 1.0 (minor 0); host 1.1; descriptor 136 bytes"),
                                       ("libCountingCA.so", 1, "built for 1.1 (minor 1); host 1.1; descriptor 152 bytes")] {
            let check = try acmeeh(["plugins", "check", fixtures + "/" + library])
            XCTAssertTrue(check.stdout.contains("ABI          \(text)"), check.stdout)
            XCTAssertTrue(check.stdout.contains("optional     self_check present, ca_poll present, ca_sign_crl absent"), check.stdout)
            XCTAssertTrue(check.stdout.contains("features     none"), check.stdout)
            XCTAssertTrue(check.stdout.contains("[ok] load: CA plugin CountingCA passed the loader's ABI checks"), check.stdout)
            XCTAssertTrue(check.stdout.contains("[ok] sign: issued serial 0a1b"), check.stdout)
            let json = try json(try acmeeh(["plugins", "check", fixtures + "/" + library, "--json"]).stdout)
            XCTAssertEqual(json["abi_version"] as? String, "1.\(minor)")
            XCTAssertEqual(json["abi_minor"] as? Int, minor)
            XCTAssertEqual(json["optional_functions"] as? [String: Bool], ["self_check": true, "ca_poll": true, "ca_sign_crl": false])
        }

        let createFails = try acmeeh(["plugins", "check", fixtures + "/libBrokenCreateFails.so"])
        XCTAssertEqual(createFails.status, 1)
        XCTAssertTrue(lastLine(createFails.stdout).hasSuffix("create() failed: config.key_file: cannot read /nonexistent/ca.key"), createFails.stdout)
    }

    func testCheckRefusesWhatIsNotALibrary() throws {
        let text = directory.appendingPathComponent("libText.so").path
        try "hello\n".write(toFile: text, atomically: true, encoding: .utf8)
        let result = try acmeeh(["plugins", "check", text])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(lastLine(result.stdout).hasPrefix("FAIL: plugins check: cannot load plugin \(text): not a shared library"), result.stdout)

        let missing = try acmeeh(["plugins", "check", directory.appendingPathComponent("libNothing.so").path, "--json"])
        XCTAssertEqual(missing.status, 1)
        let json = try json(missing.stdout)
        XCTAssertEqual(json["verdict"] as? String, "FAIL")
        XCTAssertTrue((json["message"] as? String)?.hasSuffix("libNothing.so: file not found") == true, missing.stdout)
    }

    // MARK: - the examples of docs/plugins.md

    func testCExampleMinimalCAPasses() throws {
        let library = directory.appendingPathComponent("libMinimalCA.so").path
        let repository = TestPaths.repository.path
        let cc = try Command.tool("cc", [
            "-shared", "-fPIC", "-std=c11", "-Wall", "-Werror", "-fvisibility=hidden", "-I", repository + "/Sources/PluginAPI/include",
            "-Wl,--version-script=" + repository + "/Plugins/exports.map", "-Wl,-Bsymbolic",
            "-o", library, repository + "/docs/examples/minimal_ca.c", "-lcrypto"])
        XCTAssertEqual(cc.status, 0, cc.stderr)
        let config = #"{"issuer_cert": "\#(rootCert)", "issuer_key": "\#(rootKey)"}"#
        let result = try acmeeh(["plugins", "check", library, "--config", config])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("[ok] signature: the leaf verifies with its issuer's key"), result.stdout)
        XCTAssertTrue(result.stdout.contains("ca_sign_crl present"), result.stdout)
        XCTAssertTrue(result.stdout.contains("[ok] crl: a v2 CRL listing serial "), result.stdout)
        XCTAssertTrue(result.stdout.contains("features     precertificate"), result.stdout)
        XCTAssertTrue(result.stdout.contains("[ok] precertificate: serial "), result.stdout)
        XCTAssertTrue(lastLine(result.stdout).hasPrefix("PASS: CA MinimalCA signed"), result.stdout)
        XCTAssertTrue(lastLine(result.stdout).hasSuffix("its precertificate and SCT certificate keep the RFC 6962 contract"), result.stdout)

        let missing = try acmeeh(["plugins", "check", library])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(lastLine(missing.stdout).hasSuffix("create() failed: config.issuer_cert is required"), missing.stdout)
    }

    /// A CA that announces the precertificate feature but ignores the request fails the check.
    func testACAThatClaimsPrecertificatesWithoutSigningThemFails() throws {
        let repository = TestPaths.repository.path
        let source = try String(contentsOfFile: repository + "/docs/examples/minimal_ca.c", encoding: .utf8)
        let broken = source.replacingOccurrences(of: "    ok = ok && add_transparency(leaf, request);\n", with: "")
        XCTAssertNotEqual(broken, source)
        let file = directory.appendingPathComponent("no_poison.c")
        try ("#define add_transparency unused_add_transparency\n" + broken).write(to: file, atomically: true, encoding: .utf8)
        let library = directory.appendingPathComponent("libNoPoison.so").path
        let cc = try Command.tool("cc", [
            "-shared", "-fPIC", "-std=c11", "-Wno-unused-function", "-I", repository + "/Sources/PluginAPI/include",
            "-o", library, file.path, "-lcrypto"])
        XCTAssertEqual(cc.status, 0, cc.stderr)
        let result = try acmeeh(["plugins", "check", library, "--config", #"{"issuer_cert": "\#(rootCert)", "issuer_key": "\#(rootKey)"}"#])
        XCTAssertEqual(result.status, 1, result.stdout)
        XCTAssertTrue(result.stdout.contains("[FAIL] precertificate: the precertificate's last extension is not the critical poison"),
                      result.stdout)
        XCTAssertTrue(lastLine(result.stdout).hasPrefix("FAIL: MinimalCA breaks the precertificate contract"), result.stdout)
    }

    func testSwiftExampleMinimalCAPasses() throws {
        // The package product ExampleMinimalCA (docs/examples/MinimalCA), built by `swift build`.
        let library = products + "/libExampleMinimalCA.so"
        XCTAssertTrue(FileManager.default.fileExists(atPath: library), "run swift build: \(library) is missing")
        let config = #"{"issuer_cert": "\#(rootCert)", "issuer_key": "\#(rootKey)"}"#
        let result = try acmeeh(["plugins", "check", library, "--config", config])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("[ok] signature: the leaf verifies with its issuer's key"), result.stdout)
        XCTAssertTrue(result.stdout.contains("ca_sign_crl present"), result.stdout)
        XCTAssertTrue(result.stdout.contains("[ok] crl: a v2 CRL listing serial "), result.stdout)
        XCTAssertTrue(lastLine(result.stdout).hasPrefix("PASS: CA ExampleMinimalCA signed"), result.stdout)

        let unknownKey = try acmeeh(["plugins", "check", library, "--config", #"{"issuer": "x"}"#, "--config-path", "ca"])
        XCTAssertEqual(unknownKey.status, 1)
        XCTAssertTrue(lastLine(unknownKey.stdout).contains("create() failed: ca.issuer: unknown key"), unknownKey.stdout)
    }

    // MARK: - ca test-sign --all

    func testTestSignAllWithOneBackend() throws {
        let config = try writeConfig()
        let result = try acmeeh(["-c", config.path, "ca", "test-sign", "--all"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.hasPrefix("== ca.backend: internal\n"), result.stdout)
        XCTAssertTrue(result.stdout.contains("SANs: DNS:acmeeh-test-sign.invalid"), result.stdout)
        XCTAssertTrue(result.stdout.contains("result: OK"), result.stdout)
        XCTAssertEqual(lastLine(result.stdout), "1 of 1 CA backend signed")
    }

    func testTestSignAllReportsEachBackend() throws {
        let notELF = directory.appendingPathComponent("libNotELF.so").path
        try "not a library\n".write(toFile: notELF, atomically: true, encoding: .utf8)
        let config = try writeConfig(ca: "  failover: [internal, \"ext:\(notELF)\"]")
        let result = try acmeeh(["-c", config.path, "ca", "test-sign", "--all"])
        XCTAssertEqual(result.status, 1, result.stdout + result.stderr)
        let blocks = result.stdout.components(separatedBy: "\n\n")
        XCTAssertEqual(blocks.count, 4, result.stdout)
        XCTAssertTrue(blocks[0].hasPrefix("== ca.backend: internal") && blocks[0].hasSuffix("result: OK"), result.stdout)
        XCTAssertTrue(blocks[1].hasPrefix("== ca.failover[0]: internal") && blocks[1].hasSuffix("result: OK"), result.stdout)
        XCTAssertTrue(blocks[2].hasPrefix("== ca.failover[1]: ext:\(notELF)"), result.stdout)
        XCTAssertTrue(blocks[2].contains("result: FAILED: ca.failover[1]: cannot load plugin \(notELF): not a shared library"), result.stdout)
        XCTAssertEqual(lastLine(result.stdout), "1 of 3 CA backends failed: ca.failover[1]")
    }

    func lastLine(_ text: String) -> String {
        text.split(separator: "\n").last.map(String.init) ?? ""
    }
}
