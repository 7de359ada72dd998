import Foundation
@testable import Host
import XCTest

/// The admin policies at the ACME side, through a real `acmeeh serve`: the account
/// allowlist at newOrder, the CSR profile and `require_csr_profile` at finalize, and an
/// external account binding's allowlist and profile carried to its account.
final class PolicyOrderTests: XCTestCase {
    var harness: CAOrderHarness!

    override func setUpWithError() throws { harness = try CAOrderHarness() }
    override func tearDown() { harness?.shutdown() }

    var internalCA: String {
        "backend: internal\ninternal:\n  root_cert_path: \(harness.internalRoot)\n  root_key_path: \(harness.internalRootKey)\n  serial_source: database"
    }

    func sql<T>(_ body: (Connection) throws -> T) throws -> T {
        let connection = try Connection(config: harness.database.config)
        defer { connection.close() }
        return try body(connection)
    }

    static func accountID(_ client: OrderTestClient) -> UUID { UUID(uuidString: String(client.accountURL.split(separator: "/").last!))! }

    func testAllowlistRefusesOtherNamesWithRejectedIdentifier() throws {
        try harness.start(ca: internalCA, identifierPolicy: "enforce_account_allowlist: true")
        let client = try harness.client()
        // Nothing on the allowlist: nothing may be ordered.
        let empty = try client.newOrder(["a.ok.example.test"])
        XCTAssertEqual(empty.json?["type"] as? String, "urn:ietf:params:acme:error:rejectedIdentifier", CAOrderHarness.text(empty))

        try sql { connection in
            for value in ["*.ok.example.test", "exact.example.test"] {
                let entry = try connection.insertAllowedIdentifier(Identifier(type: "dns", value: value), createdBy: nil)
                try connection.linkAllowedIdentifier(entry.id, accountID: Self.accountID(client))
            }
        }
        let refused = try client.newOrder(["a.ok.example.test", "other.example.test", "sub.exact.example.test"])
        XCTAssertEqual(refused.status, 400, CAOrderHarness.text(refused))
        XCTAssertEqual(refused.json?["type"] as? String, "urn:ietf:params:acme:error:rejectedIdentifier")
        let subproblems = refused.json?["subproblems"] as? [[String: Any]] ?? []
        XCTAssertEqual(subproblems.compactMap { ($0["identifier"] as? [String: Any])?["value"] as? String },
                       ["other.example.test", "sub.exact.example.test"])
        XCTAssertEqual(Set(subproblems.compactMap { $0["type"] as? String }), ["urn:ietf:params:acme:error:rejectedIdentifier"])

        let allowed = try client.newOrder(["a.ok.example.test", "exact.example.test"])
        XCTAssertEqual(allowed.status, 201, CAOrderHarness.text(allowed))
        // newAuthz too.
        let newAuthz = harness.server!.baseURL + "/new-authz"
        let authz = try client.post(newAuthz, ["identifier": ["type": "dns", "value": "other.example.test"]])
        XCTAssertEqual(authz.json?["type"] as? String, "urn:ietf:params:acme:error:rejectedIdentifier", CAOrderHarness.text(authz))
    }

    func testCSRProfileAndRequiredProfileAtFinalize() throws {
        try harness.start(ca: internalCA, security: "require_csr_profile: true")
        let client = try harness.client()
        let orderURL = try harness.readyOrder(client, ["p.example.test"])

        // No profile: refused with 403.
        let unprofiled = try harness.finalize(client, orderURL, ["p.example.test"])
        XCTAssertEqual(unprofiled.status, 403, CAOrderHarness.text(unprofiled))
        XCTAssertEqual(unprofiled.json?["type"] as? String, "urn:ietf:params:acme:error:badCSR")

        // Only P-384: the P-256 CSR is refused, with the violation in the subproblems.
        try sql { connection in
            let profile = try connection.insertCSRProfile(
                name: "p384-only", description: "", profileData: #"{"authorized_keys": {"EC.secp384r1": 384}, "san_maximum": 5}"#,
                createdBy: nil)
            try connection.setAccountCSRProfile(accountID: Self.accountID(client), profileID: profile.id)
        }
        let weak = try harness.finalize(client, orderURL, ["p.example.test"])
        XCTAssertEqual(weak.status, 400, CAOrderHarness.text(weak))
        XCTAssertEqual(weak.json?["type"] as? String, "urn:ietf:params:acme:error:badCSR")
        let details = (weak.json?["subproblems"] as? [[String: Any]] ?? []).compactMap { $0["detail"] as? String }
        XCTAssertEqual(details.count, 1, "\(details)")
        XCTAssertTrue(details.first?.hasPrefix("authorized_keys:") ?? false, "\(details)")
        XCTAssertEqual(try client.post(orderURL, nil).json?["status"] as? String, "ready")

        // A P-384 key complies.
        let key = harness.directory.appendingPathComponent("p384.key").path
        let made = try Command.tool("openssl", ["ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", key])
        XCTAssertEqual(made.status, 0, made.stderr)
        let csr = try TestCSR.make(names: ["p.example.test"], keyPath: key, in: harness.directory)
        let finalized = try client.post(orderURL + "/finalize", ["csr": csr])
        XCTAssertEqual(finalized.status, 200, CAOrderHarness.text(finalized))
        XCTAssertEqual(try harness.settledOrder(client, orderURL)["status"] as? String, "valid")
    }

    func testExternalAccountBindingCarriesAllowlistAndProfile() throws {
        try harness.start(ca: internalCA, identifierPolicy: "enforce_account_allowlist: true")
        let hmac: [UInt8] = Array(repeating: 7, count: 32)
        let (eab, ids, profile) = try sql { connection in
            let eab = try connection.insertEABCredential(kid: "eab-policy", hmacKey: hmac, label: nil)
            let ids = try ["a.example.test", "b.example.test"].map {
                try connection.insertAllowedIdentifier(Identifier(type: "dns", value: $0), createdBy: nil).id
            }
            try connection.linkAllowedIdentifier(ids[0], eabID: eab.id)
            let profile = try connection.insertCSRProfile(name: "eab", description: "", profileData: "{}", createdBy: nil)
            try connection.setEABCSRProfile(eabID: eab.id, profileID: profile.id)
            return (eab, ids, profile)
        }
        let acme = try ACMETestClient(directoryURL: harness.server!.baseURL + "/directory")
        let key = TestKey.ec()
        let register = {
            try acme.newAccount(key, ["termsOfServiceAgreed": true,
                                      "externalAccountBinding": acme.externalAccountBinding(kid: eab.kid, hmacKey: hmac, key: key)])
        }
        let (created, accountURL) = try register()
        XCTAssertEqual(created.status, 201, created.text)
        let account = try XCTUnwrap(UUID(uuidString: String(accountURL.split(separator: "/").last ?? "")))
        XCTAssertEqual(try sql { try $0.allowedIdentifiers(accountID: account).map(\.id) }, [ids[0]])
        XCTAssertEqual(try sql { try $0.accountCSRProfile(accountID: account)?.id }, profile.id)

        // Binding again re-syncs with the credential's links as they are now.
        try sql { connection in
            try connection.unlinkAllowedIdentifier(ids[0], eabID: eab.id)
            try connection.linkAllowedIdentifier(ids[1], eabID: eab.id)
        }
        let again = try register().0
        XCTAssertEqual(again.status, 200, again.text)
        XCTAssertEqual(try sql { try $0.allowedIdentifiers(accountID: account).map(\.id) }, [ids[1]])
    }
}
