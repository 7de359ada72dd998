import Foundation
@testable import Host
import XCTest

/// Nonces (RFC 8555 §6.5): self-authenticating, refused when forged, tampered with or
/// expired; one key shared by every instance of a database; each redeemable once.
final class NonceTests: XCTestCase {
    let key = [UInt8](repeating: 7, count: 32)

    func testIssuedNonceIsAcceptedUntilItsExpiry() throws {
        var config = NonceConfig()
        config.expirySeconds = 120
        let nonces = Nonces(key: key, config: config)
        let value = try nonces.issue()
        let expiry = try XCTUnwrap(nonces.expiry(of: value))
        XCTAssertEqual(expiry.timeIntervalSinceNow, 120, accuracy: 2)
        XCTAssertNotEqual(try nonces.issue(), value, "every nonce is new")
    }

    func testForgedTamperedAndExpiredNoncesAreRefused() throws {
        let nonces = Nonces(key: key, config: NonceConfig())
        let value = try nonces.issue()
        XCTAssertNil(Nonces(key: [UInt8](repeating: 8, count: 32), config: NonceConfig()).expiry(of: value),
                     "a nonce under another key")
        var bytes = try XCTUnwrap(Base64URL.decode(value))
        bytes[3] ^= 1  // move the expiry
        XCTAssertNil(nonces.expiry(of: Base64URL.encode(bytes)))
        for garbage in ["", "bm9uY2U", String(repeating: "A", count: 300), "!!!"] {
            XCTAssertNil(nonces.expiry(of: garbage), garbage)
        }
        // A well-formed nonce whose expiry has passed.
        let past = UInt64(Date().timeIntervalSince1970) - 1
        var body = (0..<8).map { UInt8(truncatingIfNeeded: past >> (8 * (7 - $0))) } + [UInt8](repeating: 1, count: 16)
        body += Digest.hmac(.sha256, key: key, data: body).prefix(Nonces.macLength)
        XCTAssertNil(nonces.expiry(of: Base64URL.encode(body)))
    }

    func testKeyIsSharedAndEachNonceRedeemsOnce() async throws {
        let testDatabase = try TestDatabase.create()
        defer { testDatabase.drop() }
        let database = Database(config: testDatabase.config)
        _ = try await Migrator(database: database).migrate()
        let first = try await database.withConnection { try $0.nonceKey(creatingWith: [UInt8](repeating: 1, count: 32)) }
        let second = try await database.withConnection { try $0.nonceKey(creatingWith: [UInt8](repeating: 2, count: 32)) }
        XCTAssertEqual(first, [UInt8](repeating: 1, count: 32))
        XCTAssertEqual(second, first, "a second instance gets the first one's key")

        // A nonce is recorded once: the second batch recording it aborts with .nonceReplayed.
        _ = try await database.runBatch([.recordNonce("n1", expiresAt: Date().addingTimeInterval(60))])
        do {
            _ = try await database.runBatch([.recordNonce("n1", expiresAt: Date().addingTimeInterval(60))])
            XCTFail("a nonce redeems once")
        } catch let error as StoreError {
            XCTAssertEqual(error.kind, .nonceReplayed)
        }

        // The request guard of a kid-signed request: the nonce, on the condition that the
        // account is valid with the verified key.
        let account = try await database.withConnection {
            try $0.insertAccount(jwk: #"{"kty":"EC"}"#, thumbprint: "t", contacts: ["mailto:a@example.com", "mailto:a@example.com"],
                                 termsOfServiceAgreed: true, eabKID: nil)
        }
        XCTAssertEqual(account.contacts, ["mailto:a@example.com"])
        func guarded(_ nonce: String, _ thumbprint: String) async -> StoreError? {
            let requestGuard = RequestGuard(nonce: nonce, nonceExpiry: Date().addingTimeInterval(60),
                                            account: (account.id, thumbprint))
            do {
                _ = try await database.runBatch(after: requestGuard, [], asynchronousCommit: true)
                return nil
            } catch {
                return error as? StoreError
            }
        }
        let fresh = await guarded("n2", "t")
        XCTAssertNil(fresh)
        let replayed = await guarded("n2", "t")
        XCTAssertEqual(replayed?.kind, .nonceReplayed)
        let staleKey = await guarded("n3", "other")
        XCTAssertEqual(staleKey?.guardName, BatchStatement.signerGuardName)
        let recorded = try await database.withConnection {
            try $0.query("SELECT value FROM nonces ORDER BY value").map { try $0.string("value") }
        }
        XCTAssertEqual(recorded, ["n1", "n2"], "a failed guard records nothing")

        // A guarded read turns synchronous commit off inside the guard's own statement; a
        // guarded change keeps it on (sessions of this database default to on, unlike the
        // test cluster's).
        try await database.withConnection {
            try $0.executeScript("ALTER DATABASE \"\(testDatabase.config.database)\" SET synchronous_commit = on")
        }
        let durable = Database(config: testDatabase.config)
        let setting = BatchStatement("SELECT current_setting('synchronous_commit') AS s")
        func settingInside(_ nonce: String, read: Bool) async throws -> String {
            let requestGuard = RequestGuard(nonce: nonce, nonceExpiry: Date().addingTimeInterval(60),
                                            account: (account.id, "t"))
            let results = try await durable.runBatch(after: requestGuard, [setting], asynchronousCommit: read)
            XCTAssertEqual(results.count, 1)
            return try results[0].rows[0].string("s")
        }
        let opening = BatchStatement.opening(
            RequestGuard(nonce: "n4", nonceExpiry: Date(), account: (account.id, "t")), asynchronousCommit: true)
        XCTAssertEqual(opening.statements.count, 1, "no statement of its own")
        XCTAssertTrue(opening.turnsOffSynchronousCommit)
        let readSetting = try await settingInside("n5", read: true)
        XCTAssertEqual(readSetting, "off")
        let writeSetting = try await settingInside("n6", read: false)
        XCTAssertEqual(writeSetting, "on")
        await durable.shutdown()
        await database.shutdown()
    }
}
