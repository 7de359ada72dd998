import Foundation
@testable import Host
import XCTest

/// The logs of a whole run of `acmeeh serve` at debug level, with `logging.format: json`,
/// external account binding required (credentials made by `acmeeh eab create`, one used by
/// certbot, one by the test client), a database password and an audit file: every line the
/// server writes is a JSON object with its fields, the audit file records the security
/// events of the run, and no secret appears anywhere.
final class LoggingEndToEndTests: XCTestCase {
    var workspace: FileValidatorServe!

    override func setUpWithError() throws {
        workspace = try FileValidatorServe(prefix: "acmeeh-logging")
    }

    override func tearDownWithError() throws {
        workspace?.cleanUp()
    }

    func testAFullRunLogsJSONLinesAnAuditTrailAndNoSecret() throws {
        let directory = workspace.directory
        let auditPath = directory.appendingPathComponent("audit.log").path
        let password = "pw-" + Base64URLTest.encode((0..<12).map { _ in UInt8.random(in: 0...255) })
        var configURL: URL?
        let server = try workspace.start(extra: """
            acme:
              eab_required: true
            """) { url in
            configURL = url
            var yaml = try String(contentsOf: url, encoding: .utf8)
            for (old, new) in [
                ("logging:\n  format: human", "logging:\n  format: json\n  level: DEBUG\n  audit:\n    file: \(auditPath)"),
                ("  rate_limits:\n    enabled: false", "  rate_limits:\n    new_account: {requests: 4, window_seconds: 3600}"),
                ("  auto_setup: true", "  auto_setup: true\n  password: \(password)"),
            ] {
                XCTAssertTrue(yaml.contains(old), "\(old) not in:\n\(yaml)")
                yaml = yaml.replacingOccurrences(of: old, with: new)
            }
            try yaml.write(to: url, atomically: true, encoding: .utf8)
        }
        defer { server.stop() }

        // The credentials, made by the CLI as an operator makes them.
        func createEAB(_ kid: String) throws -> (run: CommandResult, key: String) {
            let run = try Command.run(TestPaths.executable.path,
                                      ["-c", try XCTUnwrap(configURL).path, "eab", "create", "--kid", kid, "--json"])
            XCTAssertEqual(run.status, 0, run.stderr)
            let credential = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            return (run, try XCTUnwrap(credential["hmac_key"] as? String))
        }
        let kid = "kid-logging", certbotKID = "kid-certbot"
        let (eab, hmacText) = try createEAB(kid)
        let hmacKey = try XCTUnwrap(Base64URLTest.decode(hmacText))
        let (certbotEAB, certbotHMAC) = try createEAB(certbotKID)

        // A real client registers with the second credential.
        let certbot = try Certbot(.debian21, endpoint: ACMEEndpoint(directoryURL: server.baseURL + "/directory"),
                                  httpPort: try ServerProcess.freePort(), directory: directory.appendingPathComponent("certbot"))
        let registered = try certbot.register(eab: EABCredential(kid: certbotKID, hmacKey: certbotHMAC))
        XCTAssertTrue(registered.succeeded, registered.description)

        let client = try ACMETestClient(directoryURL: server.baseURL + "/directory")
        let key = TestKey.ec()
        // newAccount without a binding, then with a wrong key: both refused.
        XCTAssertEqual(try client.newAccount(key).0.problem, "externalAccountRequired")
        let wrong = try client.newAccount(key, ["termsOfServiceAgreed": true, "externalAccountBinding":
                                                    client.externalAccountBinding(kid: kid, hmacKey: Array(repeating: 7, count: 32), key: key)])
        XCTAssertEqual(wrong.0.status, 403, wrong.0.text)
        let (created, account) = try client.newAccount(key, ["termsOfServiceAgreed": true, "externalAccountBinding":
                                                                 client.externalAccountBinding(kid: kid, hmacKey: hmacKey, key: key)])
        XCTAssertEqual(created.status, 201, created.text)

        let name = "logging.example.test"
        let flow = try workspace.issue(client, name: name, account: (key, account))
        let revoked = try client.post(client.url("revokeCert"), .json(["certificate": flow.certificate, "reason": 4]),
                                      key: key, kid: account)
        XCTAssertEqual(revoked.status, 200, revoked.text)
        // A JWS signed by another key than the account's.
        XCTAssertEqual(try client.post(account, .empty, key: TestKey.ec(), kid: account).status, 400)
        // The fourth newAccount from this address is over new_account's limit.
        XCTAssertEqual(try client.newAccount(TestKey.ec()).0.status, 429)
        XCTAssertEqual(server.stop(), 0, server.log)

        // Every line on stdout and stderr is one JSON object with its fields.
        let log = server.log
        let lines = log.split(separator: "\n")
        XCTAssertGreaterThan(lines.count, 10, log)
        var requestLines = 0
        for line in lines {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                XCTFail("not a JSON object: \(line)")
                continue
            }
            for field in ["timestamp", "level", "logger", "message"] {
                XCTAssertNotNil(object[field] as? String, "\(field) missing: \(line)")
            }
            let timestamp = object["timestamp"] as? String ?? ""
            XCTAssertNotNil(try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(timestamp), line.description)
            // Each answered request: its line carries the id the response's X-Request-ID had.
            if object["message"] as? String == "request" {
                requestLines += 1
                XCTAssertEqual(object["logger"] as? String, "acmeeh.http", line.description)
                XCTAssertNotNil(object["client_ip"] as? String, line.description)
                let id = object["request_id"] as? String ?? "-"
                XCTAssertTrue(id != "-" && !id.isEmpty, line.description)
                XCTAssertNotNil(object["status"] as? String, line.description)
            }
        }
        // The flow's requests (each POST and the nonces) are all there.
        XCTAssertGreaterThan(requestLines, 20, log)

        // The audit trail of the run.
        let audit = try String(contentsOfFile: auditPath, encoding: .utf8)
        let records = audit.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        XCTAssertEqual(records.count, audit.split(separator: "\n").count, audit)
        func named(_ event: String) -> [[String: Any]] { records.filter { $0["event"] as? String == event } }
        let accountID = String(account.split(separator: "/").last ?? "")
        XCTAssertEqual(named("account.registration").map { $0["eab_kid"] as? String }, [certbotKID, kid], audit)
        XCTAssertEqual(named("account.registration").last?["account_id"] as? String, accountID)
        XCTAssertEqual(named("order.creation").first?["account_id"] as? String, accountID, audit)
        let serials = named("certificate.issuance").compactMap { $0["serial_number"] as? String }
        XCTAssertEqual(serials.count, 1, audit)
        XCTAssertEqual(named("certificate.revocation").compactMap { $0["serial_number"] as? String }, serials, audit)
        XCTAssertEqual(named("certificate.revocation").first?["reason"] as? String, "superseded")
        let eabRefusals = named("eab.refused")
        XCTAssertEqual(eabRefusals.map { $0["problem"] as? String }, ["externalAccountRequired", "unauthorized"], audit)
        XCTAssertEqual(eabRefusals.last?["eab_kid"] as? String, kid)
        XCTAssertEqual(eabRefusals.map { $0["client_ip"] as? String }, ["127.0.0.1", "127.0.0.1"])
        let jws = named("jws.refused")
        XCTAssertEqual(jws.count, 1, audit)
        XCTAssertEqual(jws.first?["client_ip"] as? String, "127.0.0.1")
        XCTAssertEqual(jws.first?["path"] as? String, URL(string: account)?.path)
        let limited = named("rate_limit.exceeded")
        XCTAssertEqual(limited.map { $0["path"] as? String }, [URL(string: client.url("newAccount"))?.path], audit)
        XCTAssertEqual(limited.first?["client_ip"] as? String, "127.0.0.1")
        XCTAssertTrue(records.allSatisfy { ($0["timestamp"] as? String)?.hasSuffix("Z") == true }, audit)

        // No secret in the server's output, the audit file or the CLI's diagnostics.
        var secrets = [password, "PRIVATE KEY"]
        for text in [hmacText, certbotHMAC] {
            let hex = try XCTUnwrap(Base64URLTest.decode(text)).map { String(format: "%02x", $0) }.joined()
            secrets += [text, hex, hex.uppercased()]
        }
        for (name, text) in [("server log", log), ("audit log", audit), ("eab create stderr", eab.stderr + certbotEAB.stderr)] {
            for secret in secrets {
                let leaks = text.split(separator: "\n").filter { $0.contains(secret) }
                XCTAssertEqual(leaks, [], "\(name) contains \(secret)")
            }
        }
        // The checks could fail: the key is on disk, the password in the configuration.
        XCTAssertTrue(try String(contentsOf: try XCTUnwrap(configURL), encoding: .utf8).contains(password))
        XCTAssertTrue(eab.stdout.contains(hmacText))
    }
}
