import Foundation
@testable import Host
import XCTest

/// Certificate Transparency (`ct_logging`, RFC 6962) at a real `acmeeh serve` with the file
/// CA and test logs of `Fixtures/ct_log.py` (each with its own key and real SCT signatures):
/// with `submit_precert` the logs receive the precertificate (poison extension) and the issued
/// certificate embeds their SCTs, which verify on their own (Python's cryptography) under the
/// logs' keys; a log that is unreachable or hangs costs its `timeout_seconds` and its SCT,
/// never the order. Without `submit_precert` the issued chain reaches `add-chain` after the
/// order is valid.
final class CTTests: XCTestCase {
    var workspace: FileValidatorServe!
    var server: ServerProcess!

    override func setUpWithError() throws {
        workspace = try FileValidatorServe(prefix: "acmeeh-ct")
    }

    override func tearDownWithError() throws {
        server?.stop()
        workspace?.cleanUp()
    }

    func file(_ name: String) -> URL { workspace.directory.appendingPathComponent(name) }

    func ctSection(submitPrecert: Bool, logs: [(url: String, key: String?, timeout: Int)]) -> String {
        var yaml = "ct_logging:\n  enabled: true\n  submit_precert: \(submitPrecert)\n  logs:\n"
        for log in logs {
            yaml += "    - url: \(log.url)\n      timeout_seconds: \(log.timeout)\n"
            if let key = log.key { yaml += "      public_key_path: \(key)\n" }
        }
        return yaml + "metrics:\n  enabled: true\n"
    }

    /// The value of one `acmeeh_ct_submissions_total` series.
    func submissions(_ result: String) throws -> Double? {
        let text = String(decoding: try HTTP.get(server.baseURL + "/metrics").body, as: UTF8.self)
        let line = text.split(separator: "\n").first { $0.hasPrefix("acmeeh_ct_submissions_total{result=\"\(result)\"}") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    func testPrecertificatesGoToEveryLogAndTheSCTsThatArriveAreEmbeddedAndVerify() throws {
        let checked = try startCTLog()
        let unchecked = try startCTLog()
        let hanging = try startCTLog(mode: "hang", hangSeconds: 60)
        let unreachable = "http://127.0.0.1:\(try ServerProcess.freePort())/"
        server = try workspace.start(extra: ctSection(submitPrecert: true, logs: [
            (checked.url(""), checked.ctLogKeyPath, 10), (unchecked.url("/ct/v1"), nil, 10),
            (hanging.url(""), hanging.ctLogKeyPath, 2), (unreachable, nil, 2),
        ]))
        XCTAssertTrue(server.log.contains("has no public_key_path: its SCTs are embedded unchecked"), server.log)

        let client = try ACMETestClient(directoryURL: server.baseURL + "/directory")
        let started = Date()
        let flow = try workspace.issue(client, name: "ct.example.test")
        XCTAssertLessThan(Date().timeIntervalSince(started), 30, "the hanging log (60 s) is cut off at its timeout_seconds (2 s)")
        let chain = try client.post(flow.certificateURL, .empty, key: flow.key, kid: flow.account).text
        try chain.write(to: file("leaf.pem"), atomically: true, encoding: .utf8)

        // Each log got the precertificate (add-pre-chain, poison) and the CA root as its issuer.
        for log in [checked, unchecked, hanging] {
            let records = log.records()
            XCTAssertEqual(records.count, 1, "\(records)")
            XCTAssertEqual(records.first?["path"] as? String, "/ct/v1/add-pre-chain")
            XCTAssertEqual(records.first?["has_poison"] as? Bool, true)
        }
        XCTAssertEqual(checked.records().first?["status"] as? Int, 200)
        let precertificate = try XCTUnwrap(Data(base64Encoded: checked.records().first?["leaf_der_b64"] as? String ?? ""))
        let issued = try CertificateChain(pem: chain).leaf
        XCTAssertEqual(try CertificateChain.leaf(der: [UInt8](precertificate)).serialHex, issued.serialHex,
                       "the certificate has the precertificate's serial")

        // The certificate: SCT list, no poison, two SCTs that verify under the two answering logs' keys.
        let text = try Command.run("/usr/bin/openssl", ["x509", "-in", file("leaf.pem").path, "-noout", "-text"]).stdout
        XCTAssertTrue(text.contains("CT Precertificate SCTs"), text)
        XCTAssertFalse(text.contains("CT Precertificate Poison"), text)
        let verified = try Command.run("/usr/bin/python3", [
            TestPaths.repository.appendingPathComponent("Tests/HostTests/Fixtures/verify_scts.py").path,
            file("leaf.pem").path, workspace.directory.appendingPathComponent("ca/root.pem").path,
            checked.ctLogKeyPath, unchecked.ctLogKeyPath, hanging.ctLogKeyPath])
        XCTAssertEqual(verified.status, 0, verified.stderr)
        let lines = verified.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2, verified.stdout)
        XCTAssertEqual(lines.filter { $0.hasSuffix("verified-by \(checked.ctLogKeyPath)") }.count, 1, verified.stdout)
        XCTAssertEqual(lines.filter { $0.hasSuffix("verified-by \(unchecked.ctLogKeyPath)") }.count, 1, verified.stdout)

        // Every outcome is an event (counted) and a log line.
        XCTAssertEqual(try submissions("sct"), 2)
        XCTAssertEqual(try submissions("failed"), 2)
        XCTAssertTrue(server.log.contains("no answer within 2 s"), server.log)
        XCTAssertTrue(server.log.contains(unreachable), server.log)
    }

    func testAnSCTThatDoesNotVerifyIsLeftOut() throws {
        let log = try startCTLog()
        let other = try startCTLog()
        // The log's SCTs checked against another log's key: wrong log ID, dropped.
        server = try workspace.start(extra: ctSection(submitPrecert: true, logs: [(log.url(""), other.ctLogKeyPath, 10)]))
        let client = try ACMETestClient(directoryURL: server.baseURL + "/directory")
        let flow = try workspace.issue(client, name: "wrong-key.example.test")
        let chain = try client.post(flow.certificateURL, .empty, key: flow.key, kid: flow.account).text
        try chain.write(to: file("leaf.pem"), atomically: true, encoding: .utf8)
        let text = try Command.run("/usr/bin/openssl", ["x509", "-in", file("leaf.pem").path, "-noout", "-text"]).stdout
        XCTAssertFalse(text.contains("CT Precertificate SCTs"), "no SCT arrived that verifies: \(text)")
        XCTAssertEqual(log.records().count, 1)
        XCTAssertEqual(try submissions("failed"), 1)
        XCTAssertTrue(server.log.contains("does not verify under the log's public key"), server.log)
    }

    func testWithoutPrecertificatesTheIssuedChainGoesToAddChain() throws {
        let log = try startCTLog()
        server = try workspace.start(extra: ctSection(submitPrecert: false, logs: [(log.url(""), log.ctLogKeyPath, 10)]))
        let client = try ACMETestClient(directoryURL: server.baseURL + "/directory")
        let flow = try workspace.issue(client, name: "after.example.test")
        let deadline = Date().addingTimeInterval(20)
        while try submissions("sct") != 1, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        XCTAssertEqual(try submissions("sct"), 1)
        let records = log.records()
        XCTAssertEqual(records.count, 1, "\(records)")
        XCTAssertEqual(records.first?["path"] as? String, "/ct/v1/add-chain")
        XCTAssertEqual(records.first?["has_poison"] as? Bool, false)
        XCTAssertEqual((records.first?["leaf_der_b64"] as? String).flatMap { Data(base64Encoded: $0) }.map(Base64URL.encode),
                       flow.certificate, "the log received the issued certificate")
    }

    func testStartupRefusals() throws {
        // A CA plugin without the precertificate feature cannot serve submit_precert.
        let library = TestPaths.products.resolvingSymlinksInPath().path + "/libExampleMinimalCA.so"
        let ca = workspace.directory.appendingPathComponent("ca")
        let section = ctSection(submitPrecert: true, logs: [("http://127.0.0.1:9", nil, 1)])
        XCTAssertThrowsError(try workspace.start(extra: section, edit: { url in
            let yaml = try String(contentsOf: url, encoding: .utf8)
            try yaml.replacingOccurrences(of: "  backend: internal\n", with: """
                  backend: "ext:\(library)"
                  issuer_cert: \(ca.appendingPathComponent("root.pem").path)
                  issuer_key: \(ca.appendingPathComponent("root-key.pem").path)

                """).write(to: url, atomically: true, encoding: .utf8)
        })) { error in
            XCTAssertTrue("\(error)".contains("ct_logging.submit_precert: ca.backend: CA plugin ExampleMinimalCA"), "\(error)")
            XCTAssertTrue("\(error)".contains("cannot sign precertificates"), "\(error)")
        }
        // A log key that cannot be read stops startup, naming its key path.
        let missing = workspace.directory.appendingPathComponent("missing.pem").path
        XCTAssertThrowsError(try workspace.start(extra: ctSection(submitPrecert: false, logs: [("http://127.0.0.1:9", missing, 1)]))) { error in
            XCTAssertTrue("\(error)".contains("ct_logging.logs[0].public_key_path: cannot read \(missing)"), "\(error)")
        }
    }

    func testLogURLsMustBeHTTP() throws {
        let yaml = ConfigTests.minimal + "ct_logging:\n  enabled: true\n  logs:\n    - url: ftp://127.0.0.1/log\n"
        XCTAssertThrowsError(try ConfigLoader.load(yaml: yaml, source: "test.yaml", environment: [:])) { error in
            XCTAssertEqual((error as? ConfigError)?.problems.map(\.path), ["ct_logging.logs[0].url"], "\(error)")
        }
    }
}
