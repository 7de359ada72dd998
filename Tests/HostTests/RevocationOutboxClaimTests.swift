import Foundation
@testable import Host
import XCTest

/// The revocation outbox's store side (migration 0007): recording a revocation queues it in
/// the same statement (leased to the request), instances share due rows through
/// `claimDueRevocations` without taking one twice, a row whose lease ran out — its
/// instance died — is claimed again by another, the outcomes delete, reschedule or fail a
/// row; and the backoff schedule.
final class RevocationOutboxClaimTests: DatabaseTestCase {
    func testRevocationIsQueuedWithItsRecordAndSharedByInstancesUntilDelivered() async throws {
        let database = makeDatabase()
        _ = try await Migrator(database: database).migrate()
        let certificates = try await database.withConnection { c -> [UUID] in
            let account = try c.insertAccount(jwk: #"{"kty":"EC"}"#, thumbprint: "t", contacts: [],
                                              termsOfServiceAgreed: true, eabKID: nil)
            return try (0..<3).map { index in
                try c.queryFirst(
                    """
                    INSERT INTO certificates (account_id, serial, fingerprint, pem_chain, not_before, not_after,
                                              public_key_fingerprint, ca_backend)
                    VALUES ($1, $2, repeat($2, 64), 'pem', now(), now() + interval '1 day', repeat('b', 64), 'external')
                    RETURNING id
                    """, [.uuid(account.id), .string("\(index + 1)")])!.uuid("id")
            }
        }

        let first = try Connection(config: testDB.config)
        let second = try Connection(config: testDB.config)
        defer { first.close(); second.close() }
        _ = try second.execute("SET lock_timeout = '5s'")

        // Recorded and queued in one statement; a second revocation of the same certificate queues nothing.
        for id in certificates {
            XCTAssertEqual(try first.runBatch([.markCertificateRevoked(id, reason: 4, leaseSeconds: 60)])[0].rows.count, 1)
        }
        XCTAssertEqual(try first.runBatch([.markCertificateRevoked(certificates[0], reason: nil, leaseSeconds: 60)])[0].rows.count, 0)
        XCTAssertEqual(try backlog(first).pending, 3)
        // Leased to the requests that recorded them: nobody else tries them meanwhile.
        XCTAssertEqual(try claim(second).count, 0)

        // Those requests died before the CA answered: the leases run out, the rows are due again,
        // and two instances share them.
        _ = try first.execute("UPDATE revocation_outbox SET next_at = now() - interval '1 second'")
        _ = try first.execute("BEGIN")
        let claimedFirst = try claim(first, limit: 2)
        let claimedSecond = try claim(second)
        _ = try first.execute("COMMIT")
        XCTAssertEqual(claimedFirst.count, 2)
        XCTAssertEqual(claimedSecond.count, 1)
        XCTAssertEqual(Set((claimedFirst + claimedSecond).map(\.certificateID)), Set(certificates))
        XCTAssertEqual(claimedFirst.first?.reason, 4)
        XCTAssertEqual(claimedFirst.first?.backend, "external")
        XCTAssertEqual(claimedFirst.first?.attempts, 0)
        XCTAssertEqual(try claim(first).count + claim(second).count, 0, "leased again by the claim")

        // Outcomes: delivered (gone), retry (due later, attempts counted), refused (kept as failed).
        let (a, b, c) = (claimedFirst[0].certificateID, claimedFirst[1].certificateID, claimedSecond[0].certificateID)
        _ = try first.runBatch([
            .revocationDelivered(a), .revocationRetry(b, attempts: 1, retryInSeconds: 3600, error: "unreachable"),
            .revocationRefused(c, attempts: 1, error: "rejected"),
        ])
        let counted = try backlog(first)
        XCTAssertEqual(counted.pending, 1)
        XCTAssertEqual(counted.failed, 1)
        XCTAssertNotNil(counted.oldestPending)
        XCTAssertEqual(try claim(second).count, 0, "the retry waits for its backoff")
        _ = try first.execute("UPDATE revocation_outbox SET next_at = now() - interval '1 second'")
        let again = try claim(second)
        XCTAssertEqual(again.map(\.certificateID), [b], "the failed row is never claimed")
        XCTAssertEqual(again.first?.attempts, 1)
    }

    func testBackoffDoublesFromTheBaseUpToOneHour() {
        XCTAssertEqual((1...9).map { RevocationForwarding.backoffSeconds(afterAttempts: $0, base: 30) },
                       [30, 60, 120, 240, 480, 960, 1920, 3600, 3600])
        XCTAssertEqual(RevocationForwarding.backoffSeconds(afterAttempts: 500, base: 30), 3600)
        XCTAssertEqual((1...3).map { RevocationForwarding.backoffSeconds(afterAttempts: $0, base: 0.1) }, [1, 1, 1])
        XCTAssertEqual(RevocationForwarding.leaseSeconds(timeout: .seconds(10)), 40)
    }

    private func claim(_ connection: Connection, limit: Int = 8) throws -> [PendingRevocation] {
        try connection.runBatch([.claimDueRevocations(limit: limit, leaseSeconds: 60)])[0].pendingRevocations
    }

    private func backlog(_ connection: Connection) throws -> RevocationBacklogCount {
        try connection.runBatch([.revocationBacklog])[0].revocationBacklog
    }
}
