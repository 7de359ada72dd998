import Foundation
@testable import Host
import XCTest

/// The Store queries behind the admin lists, on a real PostgreSQL: certificate search by each
/// filter, accounts by each filter with their counts, notifications listed, retried (so the
/// sender's claim takes them again) and purged, keyset and offset paging, and the cleanup
/// worker's `audit_retention` task.
final class AdminQueryTests: DatabaseTestCase {
    struct Fixture: Sendable {
        var accountA: UUID, accountB: UUID
        /// active (A, alpha), revoked (A, beta, reason 1), expired (B, alpha).
        var active: UUID, revoked: UUID, expired: UUID
    }

    static func arrange(_ c: Connection) throws -> Fixture {
        let a = try c.insertAccount(jwk: #"{"kty":"EC","n":"a"}"#, thumbprint: "thumb-a", contacts: ["mailto:Ops@Example.com"],
                                    termsOfServiceAgreed: true, eabKID: nil)
        try c.execute("INSERT INTO eab_credentials (kid, hmac_key) VALUES ('kid-1', '\\x01')")
        let b = try c.insertAccount(jwk: #"{"kty":"EC","n":"b"}"#, thumbprint: "thumb-b", contacts: ["mailto:dev@other.test"],
                                    termsOfServiceAgreed: false, eabKID: "kid-1")
        try c.execute("UPDATE accounts SET status = 'deactivated' WHERE id = $1", [.uuid(b.id)])
        try c.execute("UPDATE accounts SET created_at = now() - interval '10 days' WHERE id = $1", [.uuid(a.id)])
        func certificate(_ account: UUID, serial: String, names: [String], ageDays: Int, expired: Bool,
                         reason: Int? = nil) throws -> UUID {
            try c.queryFirst(
                """
                INSERT INTO certificates (account_id, serial, fingerprint, pem_chain, not_before, not_after,
                                          public_key_fingerprint, san_values, ca_backend, created_at, revoked_at, revocation_reason)
                VALUES ($1, $2, $3, 'pem', now() - interval '100 days',
                        CASE WHEN $4 THEN now() - interval '1 day' ELSE now() + interval '60 days' END,
                        $3, $5, 'internal', now() - make_interval(days => $6::int),
                        CASE WHEN $7::int IS NULL THEN NULL ELSE now() END, $7::int)
                RETURNING id
                """, [.uuid(account), .string(serial), .string(String(repeating: String(serial.suffix(1)), count: 64)), .bool(expired),
                      .textArray(names), .int(ageDays), reason.map { .int($0) }])!.uuid("id")
        }
        let active = try certificate(a.id, serial: "a1", names: ["alpha.example.test"], ageDays: 3, expired: false)
        let revoked = try certificate(a.id, serial: "b2", names: ["beta.example.test", "10.0.0.1"], ageDays: 2, expired: false,
                                      reason: 1)
        let expired = try certificate(b.id, serial: "c3", names: ["alpha.example.test"], ageDays: 1, expired: true)
        try c.execute("""
            INSERT INTO orders (account_id, status, identifiers, identifiers_hash, expires)
            VALUES ($1, 'valid', '[]', 'h', now()), ($1, 'invalid', '[]', 'h', now())
            """, [.uuid(a.id)])
        return Fixture(accountA: a.id, accountB: b.id, active: active, revoked: revoked, expired: expired)
    }

    func testCertificateSearchFiltersAndPages() async throws {
        let database = makeDatabase()
        _ = try await Migrator(database: database).migrate()
        try await database.withConnection { c in
            let f = try Self.arrange(c)
            func ids(_ search: CertificateSearch, _ page: PageRequest = PageRequest(limit: 50)) throws -> [UUID] {
                try c.searchCertificates(search, page: page).map(\.id)
            }
            XCTAssertEqual(try ids(CertificateSearch()), [f.expired, f.revoked, f.active], "newest first")
            XCTAssertEqual(try ids(CertificateSearch(accountID: f.accountA)), [f.revoked, f.active])
            XCTAssertEqual(try ids(CertificateSearch(serial: "00:B2")), [f.revoked])
            XCTAssertEqual(try ids(CertificateSearch(serial: "zz")), [])
            XCTAssertEqual(try ids(CertificateSearch(fingerprint: String(repeating: "3", count: 64))), [f.expired])
            XCTAssertEqual(try ids(CertificateSearch(status: .active)), [f.active])
            XCTAssertEqual(try ids(CertificateSearch(status: .revoked)), [f.revoked])
            XCTAssertEqual(try ids(CertificateSearch(status: .expired)), [f.expired])
            XCTAssertEqual(try ids(CertificateSearch(domain: "Alpha.Example.Test")), [f.expired, f.active])
            XCTAssertEqual(try ids(CertificateSearch(domain: "example.test")), [], "exact SAN match, no suffix")
            XCTAssertEqual(try ids(CertificateSearch(domain: "10.0.0.1")), [f.revoked])
            XCTAssertEqual(try ids(CertificateSearch(expiringBefore: Date())), [f.expired])
            let twoDaysAgo = Date().addingTimeInterval(-2.5 * 86400)
            XCTAssertEqual(try ids(CertificateSearch(issuedAfter: twoDaysAgo)), [f.expired, f.revoked])
            XCTAssertEqual(try ids(CertificateSearch(issuedBefore: twoDaysAgo)), [f.active])
            XCTAssertEqual(try c.countCertificates(CertificateSearch(domain: "alpha.example.test")), 2)

            // Paging: by offset, and by the cursor of the last row of the previous page.
            XCTAssertEqual(try ids(CertificateSearch(), PageRequest(limit: 2)), [f.expired, f.revoked])
            XCTAssertEqual(try ids(CertificateSearch(), PageRequest(limit: 2, offset: 2)), [f.active])
            let page = try c.searchCertificates(CertificateSearch(), page: PageRequest(limit: 2))
            XCTAssertEqual(try ids(CertificateSearch(), PageRequest(limit: 2, offset: 99, after: page.last?.pageCursor)), [f.active],
                           "a cursor wins over the offset")

            let record = try XCTUnwrap(c.certificateRecord(serial: "B2"))
            XCTAssertEqual(record.id, f.revoked)
            XCTAssertEqual(record.status(), .revoked)
            XCTAssertEqual(record.revocationReasonName, "keyCompromise")
            XCTAssertEqual(record.sanValues, ["beta.example.test", "10.0.0.1"])
            XCTAssertEqual(record.caBackend, "internal")
            XCTAssertEqual(try c.certificateRecord(fingerprint: String(repeating: "1", count: 64).uppercased())?.id, f.active)
            XCTAssertEqual(try c.certificateRecord(id: f.expired)?.status(), .expired)
            XCTAssertNil(try c.certificateRecord(serial: "ffff"))
            XCTAssertNil(try c.certificateRecord(serial: "not hex"))
            XCTAssertNil(try c.certificateRecord(id: f.active).flatMap(\.revocationReasonName))
        }
    }

    func testAccountSearchAndDetail() async throws {
        let database = makeDatabase()
        _ = try await Migrator(database: database).migrate()
        try await database.withConnection { c in
            let f = try Self.arrange(c)
            func ids(_ search: AccountSearch, _ page: PageRequest = PageRequest(limit: 50)) throws -> [UUID] {
                try c.searchAccounts(search, page: page).map(\.account.id)
            }
            XCTAssertEqual(try ids(AccountSearch()), [f.accountB, f.accountA])
            XCTAssertEqual(try ids(AccountSearch(status: .deactivated)), [f.accountB])
            XCTAssertEqual(try ids(AccountSearch(eabOnly: true)), [f.accountB])
            XCTAssertEqual(try ids(AccountSearch(eabKID: "kid-1")), [f.accountB])
            XCTAssertEqual(try ids(AccountSearch(eabKID: "kid-2")), [])
            XCTAssertEqual(try ids(AccountSearch(contact: "ops@example.COM")), [f.accountA], "substring, any case")
            XCTAssertEqual(try ids(AccountSearch(contact: "other")), [f.accountB])
            XCTAssertEqual(try ids(AccountSearch(createdBefore: Date().addingTimeInterval(-86400))), [f.accountA])
            XCTAssertEqual(try ids(AccountSearch(createdAfter: Date().addingTimeInterval(-86400))), [f.accountB])
            XCTAssertEqual(try c.countAccounts(AccountSearch()), 2)
            let first = try c.searchAccounts(AccountSearch(), page: PageRequest(limit: 1))
            XCTAssertEqual(try ids(AccountSearch(), PageRequest(limit: 1, after: first.first?.pageCursor)), [f.accountA])

            let detail = try XCTUnwrap(c.accountDetail(id: f.accountA))
            XCTAssertEqual(detail.record.account.thumbprint, "thumb-a")
            XCTAssertEqual(detail.record.account.contacts, ["mailto:Ops@Example.com"])
            XCTAssertEqual(detail.record.account.jwk, #"{"n": "a", "kty": "EC"}"#)
            XCTAssertEqual(detail.orderCount, 2)
            XCTAssertEqual(detail.certificateCount, 2)
            XCTAssertEqual(detail.activeCertificateCount, 1)
            XCTAssertEqual(try c.accountDetail(id: f.accountB)?.record.account.eabKID, "kid-1")
            XCTAssertNil(try c.accountDetail(id: UUID()))
        }
    }

    func testNotificationsListRetryAndPurge() async throws {
        let database = makeDatabase()
        _ = try await Migrator(database: database).migrate()
        try await database.withConnection { c in
            func record(_ status: String, ageDays: Int) throws -> UUID {
                let id = UUID()
                try c.execute(
                    """
                    INSERT INTO notifications (id, type, recipients, subject, body_text, body_html, status, attempts,
                                               next_attempt_at, last_error, created_at)
                    VALUES ($1, 'revocation_succeeded', '{a@example.test}', 's', 't', 'h', $2, 5,
                            now() + interval '1 hour', 'smtp down', now() - make_interval(days => $3::int))
                    """, [.uuid(id), .string(status), .int(ageDays)])
                return id
            }
            let oldSent = try record("sent", ageDays: 40), oldFailed = try record("failed", ageDays: 39)
            let oldUnsent = try record("unsent", ageDays: 38), oldPending = try record("pending", ageDays: 37)
            let newFailed = try record("failed", ageDays: 1)

            XCTAssertEqual(try c.notifications(status: nil, page: PageRequest(limit: 10)).map(\.id),
                           [newFailed, oldPending, oldUnsent, oldFailed, oldSent])
            let failed = try c.notifications(status: .failed, page: PageRequest(limit: 1))
            XCTAssertEqual(failed.map(\.id), [newFailed])
            XCTAssertEqual(failed.first?.lastError, "smtp down")
            XCTAssertEqual(failed.first?.recipients, ["a@example.test"])
            XCTAssertEqual(try c.notifications(status: .failed, page: PageRequest(limit: 1, after: failed.first?.pageCursor)).map(\.id),
                           [oldFailed])

            // Retried: pending, attempts reset, due now — the sender's claim takes both.
            XCTAssertEqual(try c.retryFailedNotifications(), 2)
            let claimed = try c.query(.claimDueNotifications(limit: 10, leaseSeconds: 60)).map { try $0.uuid("id") }
            XCTAssertEqual(Set(claimed), [newFailed, oldFailed], "the pending row not yet due stays")
            XCTAssertEqual(try c.notifications(status: .pending, page: PageRequest(limit: 10)).map(\.attempts), [0, 5, 0])

            // Purge: finished rows older than 30 days; pending ones are never purged.
            try c.execute("UPDATE notifications SET status = 'failed' WHERE id = $1", [.uuid(oldFailed)])
            XCTAssertEqual(try c.purgeNotifications(olderThanDays: 30), 3)
            XCTAssertEqual(Set(try c.notifications(status: nil, page: PageRequest(limit: 10)).map(\.id)), [newFailed, oldPending])
            _ = (oldSent, oldUnsent)
        }
    }

    func testAuditRetentionPrunesOnlyOldRows() async throws {
        let database = makeDatabase()
        _ = try await Migrator(database: database).migrate()
        try await database.withConnection { c in
            try c.execute("""
                INSERT INTO admin.audit_log (action, created_at)
                SELECT 'old', now() - interval '100 days' FROM generate_series(1, 1500)
                """)
            try c.execute("INSERT INTO admin.audit_log (action, created_at) VALUES ('young', now() - interval '10 days')")
        }
        var audit = AuditRetentionConfig()
        audit.enabled = true
        audit.maxAgeDays = 30
        audit.cleanupIntervalSeconds = 7
        let worker = CleanupWorker(database: database, nonce: NonceConfig(), order: OrderConfig(), logger: .init(label: "test"),
                                   auditRetention: audit)
        XCTAssertTrue(worker.jobs.contains(.auditRetention))
        XCTAssertEqual(worker.interval(.auditRetention), 7)
        XCTAssertEqual(worker.pollSeconds, 7)
        _ = try await worker.round()
        let left = try await database.withConnection { c in try c.query("SELECT action FROM admin.audit_log").map { try $0.string("action") } }
        XCTAssertEqual(left, ["young"], "1500 old rows go in batches of \(CleanupWorker.retentionBatch)")
        XCTAssertFalse(CleanupWorker(database: database, nonce: NonceConfig(), order: OrderConfig(), logger: .init(label: "test"))
                        .jobs.contains(.auditRetention), "off by default")
    }
}
