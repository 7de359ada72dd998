import Foundation
@testable import Host
import XCTest

/// `acmeeh inspect order|certificate|account ID [--json]`, the real binary, on what a real
/// `acmeeh serve` issued: the fields an operator looks for, in lines and as one JSON
/// object; an unknown or malformed ID is named, exit status 1.
final class InspectCommandTests: XCTestCase {
    var workspace: FileValidatorServe!

    override func setUpWithError() throws { workspace = try FileValidatorServe(prefix: "acmeeh-inspect") }
    override func tearDown() { workspace?.cleanUp() }

    func testInspectShowsTheIssuedOrderCertificateAndAccount() throws {
        var configFile: URL?
        let server = try workspace.start(edit: { configFile = $0 })
        defer { server.stop() }
        let config = try XCTUnwrap(configFile).path
        let client = try ACMETestClient(directoryURL: server.baseURL + "/directory")
        let flow = try workspace.issue(client, name: "inspect.example.test")
        let leaf = try CertificateChain(pem: try client.post(flow.certificateURL, .empty, key: flow.key, kid: flow.account).text).leaf
        let accountID = try XCTUnwrap(flow.account.split(separator: "/").last).lowercased()
        let connection = try Connection(config: workspace.database.config)
        defer { connection.close() }
        let row = try XCTUnwrap(connection.queryFirst("SELECT id, order_id, serial, fingerprint FROM certificates"))
        let certificateID = try row.uuid("id").uuidString.lowercased()
        let orderID = try row.uuid("order_id").uuidString.lowercased()
        let serial = try row.string("serial")
        XCTAssertEqual(CertificateRecord.normalizedSerial(leaf.serialHex), serial)

        func inspect(_ arguments: [String]) throws -> CommandResult {
            try Command.run(TestPaths.executable.path, ["-c", config, "inspect"] + arguments)
        }
        func object(_ result: CommandResult) throws -> [String: Any] {
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(result.stdout.split(separator: "\n").count, 1, "one JSON object: \(result.stdout)")
            return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout)
        }

        // The certificate, by serial (as openssl prints it: colons, upper case) and by ID.
        let colonSerial = stride(from: 0, to: serial.count, by: 2).map { i -> String in
            let start = serial.index(serial.startIndex, offsetBy: i)
            return String(serial[start..<(serial.index(start, offsetBy: 2, limitedBy: serial.endIndex) ?? serial.endIndex)])
        }.joined(separator: ":").uppercased()
        let human = try inspect(["certificate", colonSerial])
        XCTAssertEqual(human.status, 0, human.stderr)
        for line in ["certificate \(certificateID)", "  serial: \(serial)", "  names: inspect.example.test", "  status: active",
                     "  account: \(accountID)", "  order: \(orderID)", "  fingerprint (SHA-256): \(leaf.fingerprint)"] {
            XCTAssertTrue(human.stdout.components(separatedBy: "\n").contains(line), "\(line)\n\(human.stdout)")
        }
        XCTAssertTrue(human.stdout.contains("  not after: "), human.stdout)
        let certificate = try object(try inspect(["certificate", certificateID, "--json"]))
        XCTAssertEqual(certificate["serial_number"] as? String, serial)
        XCTAssertEqual(certificate["san_values"] as? [String], ["inspect.example.test"])
        XCTAssertEqual(certificate["status"] as? String, "active")
        XCTAssertEqual(certificate["account_id"] as? String, accountID)
        XCTAssertEqual(certificate["order_id"] as? String, orderID)
        XCTAssertEqual(certificate["fingerprint"] as? String, leaf.fingerprint)
        XCTAssertTrue(certificate["revocation_reason"] is NSNull, "\(certificate)")
        XCTAssertNotNil(certificate["not_before"] as? String)

        // Revoked (keyCompromise): the status says so, with the reason.
        let revoked = try client.post(client.url("revokeCert"), .json(["certificate": flow.certificate, "reason": 1]),
                                      key: flow.key, kid: flow.account)
        XCTAssertEqual(revoked.status, 200, revoked.text)
        let afterRevocation = try inspect(["certificate", serial])
        XCTAssertTrue(afterRevocation.stdout.contains("  status: revoked (keyCompromise) at "), afterRevocation.stdout)
        let revokedJSON = try object(try inspect(["certificate", serial, "--json"]))
        XCTAssertEqual(revokedJSON["status"] as? String, "revoked")
        XCTAssertEqual(revokedJSON["revocation_reason"] as? String, "keyCompromise")

        // The order with its authorization and challenge.
        let order = try inspect(["order", orderID])
        XCTAssertEqual(order.status, 0, order.stderr)
        for line in ["  status: valid", "  identifiers: dns:inspect.example.test", "  certificate serial: \(serial)",
                     "    challenge http-01: valid"] {
            XCTAssertTrue(order.stdout.components(separatedBy: "\n").contains(line), "\(line)\n\(order.stdout)")
        }
        XCTAssertTrue(order.stdout.contains("  authorization "), order.stdout)
        let orderJSON = try object(try inspect(["order", orderID, "--json"]))
        XCTAssertEqual(orderJSON["status"] as? String, "valid")
        XCTAssertEqual(orderJSON["certificate_serial"] as? String, serial)
        let authorizations = try XCTUnwrap(orderJSON["authorizations"] as? [[String: Any]])
        XCTAssertEqual(authorizations.count, 1)
        XCTAssertEqual((authorizations.first?["identifier"] as? [String: Any])?["value"] as? String, "inspect.example.test")
        XCTAssertEqual(authorizations.first?["status"] as? String, "valid")
        let challenges = try XCTUnwrap(authorizations.first?["challenges"] as? [[String: Any]])
        XCTAssertEqual(challenges.first { $0["type"] as? String == "http-01" }?["status"] as? String, "valid")

        // The account with its counts.
        let account = try inspect(["account", accountID])
        XCTAssertEqual(account.status, 0, account.stderr)
        for line in ["  status: valid", "  orders: 1", "  certificates: 1 (0 active)", "  EAB kid: -",
                     "  key thumbprint: \(flow.key.thumbprint)"] {
            XCTAssertTrue(account.stdout.components(separatedBy: "\n").contains(line), "\(line)\n\(account.stdout)")
        }
        let accountJSON = try object(try inspect(["account", accountID, "--json"]))
        XCTAssertEqual(accountJSON["jwk_thumbprint"] as? String, flow.key.thumbprint)
        XCTAssertEqual(accountJSON["order_count"] as? Int, 1)
        XCTAssertEqual(accountJSON["certificate_count"] as? Int, 1)
        XCTAssertEqual(accountJSON["contacts"] as? [String], [])
        XCTAssertTrue(accountJSON["eab_kid"] is NSNull)

        // Unknown and malformed IDs.
        let unknown = UUID().uuidString.lowercased()
        let missing = try inspect(["order", unknown])
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.stderr, "acmeeh: inspect: no order \(unknown)\n")
        XCTAssertEqual(missing.stdout, "")
        let missingSerial = try inspect(["certificate", "abcdef0123", "--json"])
        XCTAssertEqual(missingSerial.status, 1)
        XCTAssertTrue(missingSerial.stderr.contains("no certificate with serial abcdef0123"), missingSerial.stderr)
        let malformed = try inspect(["account", "not-an-id"])
        XCTAssertEqual(malformed.status, 1)
        XCTAssertTrue(malformed.stderr.contains("\"not-an-id\" is not an account ID (a UUID)"), malformed.stderr)
        let notSerial = try inspect(["certificate", "xyz"])
        XCTAssertEqual(notSerial.status, 1)
        XCTAssertTrue(notSerial.stderr.contains("\"xyz\" is neither a certificate ID (a UUID) nor a serial number (hex)"),
                      notSerial.stderr)
    }
}
