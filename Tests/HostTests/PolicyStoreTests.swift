import Foundation
@testable import Host
import XCTest

/// The admin policy tables through Store: allowlist and CSR profile CRUD, links, pages,
/// the finalize read, EAB inheritance and the EAB revocation cascade.
final class PolicyStoreTests: DatabaseTestCase {
    func migratedConnection() async throws -> Connection {
        _ = try await Migrator(database: makeDatabase()).migrate()
        return try Connection(config: testDB.config)
    }

    func account(_ connection: Connection, eabKID: String? = nil) throws -> UUID {
        let key = UUID().uuidString
        return try connection.insertAccount(jwk: #"{"kty":"oct","k":"\#(key)"}"#, thumbprint: key, contacts: ["mailto:a@example.com"],
                                            termsOfServiceAgreed: true, eabKID: eabKID).id
    }

    func testAllowedIdentifiersCRUDLinksAndPages() async throws {
        let connection = try await migratedConnection()
        defer { connection.close() }
        var created: [AllowedIdentifier] = []
        for value in ["a.example.com", "*.b.example.com", "c.example.com"] {
            created.append(try connection.insertAllowedIdentifier(Identifier(type: "dns", value: value), createdBy: nil))
        }
        XCTAssertThrowsError(try connection.insertAllowedIdentifier(Identifier(type: "dns", value: "a.example.com"), createdBy: nil)) {
            XCTAssertTrue(($0 as? StoreError)?.isUniqueViolation ?? false, "\($0)")
        }
        XCTAssertThrowsError(try connection.insertAllowedIdentifier(Identifier(type: "email", value: "x"), createdBy: nil))

        let first = try connection.allowedIdentifiers(page: PageRequest(limit: 2))
        XCTAssertEqual(first.map(\.identifier.value), ["a.example.com", "*.b.example.com"])
        let second = try connection.allowedIdentifiers(page: PageRequest(limit: 2, after: first.last?.pageCursor))
        XCTAssertEqual(second.map(\.identifier.value), ["c.example.com"])
        XCTAssertEqual(try connection.allowedIdentifiers(page: PageRequest(limit: 5, offset: 2)).map(\.id), [created[2].id])

        let account = try account(connection)
        XCTAssertTrue(try connection.linkAllowedIdentifier(created[0].id, accountID: account))
        XCTAssertFalse(try connection.linkAllowedIdentifier(created[0].id, accountID: account))
        XCTAssertTrue(try connection.linkAllowedIdentifier(created[1].id, accountID: account))
        XCTAssertEqual(try connection.allowedIdentifiers(accountID: account).map(\.id), [created[0].id, created[1].id])
        XCTAssertEqual(try connection.allowedIdentifier(id: created[0].id, withAccounts: true)?.accountIDs, [account])
        XCTAssertNil(try connection.allowedIdentifier(id: created[0].id)?.accountIDs)
        XCTAssertEqual(try connection.allowedIdentifiers(page: PageRequest(limit: 1), withAccounts: true).first?.accountIDs, [account])
        XCTAssertTrue(try connection.unlinkAllowedIdentifier(created[0].id, accountID: account))
        XCTAssertFalse(try connection.unlinkAllowedIdentifier(created[0].id, accountID: account))
        XCTAssertThrowsError(try connection.linkAllowedIdentifier(UUID(), accountID: account)) {
            XCTAssertTrue(($0 as? StoreError)?.isForeignKeyViolation ?? false)
        }

        let eab = try connection.insertEABCredential(kid: "k1", hmacKey: [1, 2, 3], label: nil)
        XCTAssertTrue(try connection.linkAllowedIdentifier(created[2].id, eabID: eab.id))
        XCTAssertEqual(try connection.allowedIdentifiers(eabID: eab.id).map(\.id), [created[2].id])
        XCTAssertTrue(try connection.unlinkAllowedIdentifier(created[2].id, eabID: eab.id))
        XCTAssertEqual(try connection.allowedIdentifiers(eabID: eab.id), [])

        XCTAssertTrue(try connection.deleteAllowedIdentifier(id: created[1].id))
        XCTAssertFalse(try connection.deleteAllowedIdentifier(id: created[1].id))
        XCTAssertEqual(try connection.allowedIdentifiers(accountID: account), [])
    }

    func testCSRProfilesCRUDLinksAndTheFinalizeRead() async throws {
        let connection = try await migratedConnection()
        defer { connection.close() }
        let strict = try connection.insertCSRProfile(name: "strict", description: "RSA 3072",
                                                     profileData: #"{"authorized_keys": {"RSA": 3072}}"#, createdBy: nil)
        XCTAssertEqual(try CSRProfile(json: strict.profileData).authorizedKeys, ["RSA": 3072])
        XCTAssertThrowsError(try connection.insertCSRProfile(name: "strict", description: "", profileData: "{}", createdBy: nil)) {
            XCTAssertTrue(($0 as? StoreError)?.isUniqueViolation ?? false, "\($0)")
        }
        let loose = try connection.insertCSRProfile(name: "loose", description: "", profileData: "{}", createdBy: nil)
        XCTAssertEqual(try connection.csrProfiles(page: PageRequest(limit: 10)).map(\.name), ["strict", "loose"])
        XCTAssertEqual(try connection.csrProfiles(page: PageRequest(limit: 10, after: strict.pageCursor)).map(\.name), ["loose"])
        let renamed = try connection.updateCSRProfile(id: loose.id, name: "looser", description: "d", profileData: #"{"reuse_key": false}"#)
        XCTAssertEqual(renamed?.name, "looser")
        XCTAssertNil(try connection.updateCSRProfile(id: UUID(), name: "x", description: "", profileData: "{}"))

        let account = try account(connection)
        XCTAssertNil(try connection.accountCSRProfile(accountID: account))
        try connection.setAccountCSRProfile(accountID: account, profileID: strict.id)
        XCTAssertEqual(try connection.accountCSRProfile(accountID: account)?.id, strict.id)
        try connection.setAccountCSRProfile(accountID: account, profileID: loose.id)
        XCTAssertEqual(try connection.accountCSRProfile(accountID: account)?.id, loose.id)
        XCTAssertEqual(try connection.csrProfile(id: loose.id, withAccounts: true)?.accountIDs, [account])

        let eab = try connection.insertEABCredential(kid: "k2", hmacKey: [1], label: nil)
        try connection.setEABCSRProfile(eabID: eab.id, profileID: strict.id)
        XCTAssertEqual(try connection.eabCSRProfile(eabID: eab.id)?.id, strict.id)
        XCTAssertTrue(try connection.clearEABCSRProfile(eabID: eab.id))
        XCTAssertNil(try connection.eabCSRProfile(eabID: eab.id))

        // The finalize read: the key already issued, the same names' latest not_after.
        let spki = String(repeating: "ab", count: 32)
        let facts = { (names: [String]) in
            try connection.runBatch([.accountCSRProfileFacts(accountID: account, publicKeyFingerprint: spki, names: names)])[0]
                .csrProfileFacts
        }
        XCTAssertEqual(try facts(["a.example.com"])?.keyAlreadyIssued, false)
        let notAfter = Date().addingTimeInterval(50 * 86_400)
        try connection.execute(BatchStatement.insertCertificate(
            id: UUID(), accountID: account, orderID: try order(connection, account), serial: "0a1b", fingerprint: String(repeating: "cd", count: 32),
            pemChain: "-", notBefore: Date(), notAfter: notAfter, publicKeyFingerprint: spki,
            sanValues: ["b.example.com", "a.example.com"], caBackend: "internal"))
        let found = try XCTUnwrap(try facts(["a.example.com", "b.example.com"]))
        XCTAssertTrue(found.keyAlreadyIssued)
        XCTAssertEqual(found.sameNamesNotAfter.map { Int($0.timeIntervalSince1970) }, Int(notAfter.timeIntervalSince1970))
        XCTAssertNil(try facts(["a.example.com"])?.sameNamesNotAfter)
        XCTAssertTrue(try connection.clearAccountCSRProfile(accountID: account))
        XCTAssertNil(try facts(["a.example.com"]))

        XCTAssertTrue(try connection.deleteCSRProfile(id: strict.id))
        XCTAssertFalse(try connection.deleteCSRProfile(id: strict.id))
    }

    func order(_ connection: Connection, _ account: UUID) throws -> UUID {
        try XCTUnwrap(connection.queryFirst(
            "INSERT INTO orders (account_id, identifiers, identifiers_hash, expires) VALUES ($1, '[]', 'h', now() + interval '1 day') RETURNING id",
            [.uuid(account)])).uuid("id")
    }

    func testEABSyncReplacesOnlyTheCredentialsLinks() async throws {
        let connection = try await migratedConnection()
        defer { connection.close() }
        let eab = try connection.insertEABCredential(kid: "k3", hmacKey: [1], label: nil)
        let ids = try ["a.example.com", "b.example.com", "c.example.com"].map {
            try connection.insertAllowedIdentifier(Identifier(type: "dns", value: $0), createdBy: nil).id
        }
        let profile = try connection.insertCSRProfile(name: "p", description: "", profileData: "{}", createdBy: nil)
        try connection.linkAllowedIdentifier(ids[0], eabID: eab.id)
        try connection.linkAllowedIdentifier(ids[1], eabID: eab.id)
        try connection.setEABCSRProfile(eabID: eab.id, profileID: profile.id)
        let account = try account(connection, eabKID: "k3")
        _ = try connection.runBatch(BatchStatement.syncEABPolicies(accountID: account, kid: "k3"))
        XCTAssertEqual(Set(try connection.allowedIdentifiers(accountID: account).map(\.id)), [ids[0], ids[1]])
        XCTAssertEqual(try connection.accountCSRProfile(accountID: account)?.id, profile.id)

        // An operator's own link stays; the credential's changed links are replaced.
        try connection.linkAllowedIdentifier(ids[2], accountID: account)
        try connection.unlinkAllowedIdentifier(ids[0], eabID: eab.id)
        try connection.clearEABCSRProfile(eabID: eab.id)
        _ = try connection.runBatch(BatchStatement.syncEABPolicies(accountID: account, kid: "k3"))
        XCTAssertEqual(Set(try connection.allowedIdentifiers(accountID: account).map(\.id)), [ids[1], ids[2]])
        XCTAssertNil(try connection.accountCSRProfile(accountID: account))
    }

    func testEABRevocationCascade() async throws {
        let connection = try await migratedConnection()
        defer { connection.close() }
        let eab = try connection.insertEABCredential(kid: "k4", hmacKey: [1], label: nil)
        let bound = try account(connection, eabKID: "k4"), other = try account(connection)
        for (account, status) in [(bound, "pending"), (bound, "valid"), (bound, "invalid"), (other, "valid")] {
            try connection.execute(
                "INSERT INTO authorizations (account_id, identifier_type, identifier_value, status, expires) VALUES ($1, 'dns', 'a.example.com', $2, now() + interval '1 day')",
                [.uuid(account), .string(status)])
        }
        let results = try connection.runBatch(BatchStatement.revokeEABCredential(id: eab.id))
        XCTAssertEqual(try results[0].rows.first?.string("kid"), "k4")
        XCTAssertEqual(try results[1].rows.map { try $0.uuid("id") }, [bound])
        XCTAssertEqual(results[2].rows.count, 2)
        XCTAssertEqual(try connection.eabCredential(kid: "k4")?.revoked, true)
        XCTAssertEqual(try connection.account(id: bound)?.status, .revoked)
        XCTAssertEqual(try connection.account(id: other)?.status, .valid)
        let statuses = try connection.query("SELECT account_id, status FROM authorizations ORDER BY status")
            .map { "\(try $0.uuid("account_id") == bound ? "bound" : "other") \(try $0.string("status"))" }
        XCTAssertEqual(statuses.sorted(), ["bound deactivated", "bound deactivated", "bound invalid", "other valid"])
        XCTAssertThrowsError(try connection.runBatch(BatchStatement.revokeEABCredential(id: UUID()))) {
            XCTAssertEqual(($0 as? StoreError)?.guardName, "eab-credential-exists")
        }

        // The event an admin revocation publishes is the account_revoked notification.
        let notification = NotificationRecorder.notification(of: .accountRevoked(accountID: bound, reason: "r"))
        XCTAssertEqual(notification?.0, .accountRevoked)
        XCTAssertEqual(notification?.1, bound)
        XCTAssertEqual(notification?.2["reason"] as? String, "r")
    }
}
