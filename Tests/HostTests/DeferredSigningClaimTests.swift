import Foundation
@testable import Host
import XCTest

/// The deferred-signing poller runs at every instance (it is not elected): instances share
/// the due orders through `claimDueSigningPolls`. A claim in progress at one instance is
/// skipped by another (never waited for, never taken twice), and a claimed order is not
/// due again until its lease has passed.
final class DeferredSigningClaimTests: DatabaseTestCase {
    func testTwoInstancesNeverClaimTheSameDeferredOrder() async throws {
        let database = makeDatabase()
        _ = try await Migrator(database: database).migrate()
        let orders = try await database.withConnection { c -> [UUID] in
            let account = try c.insertAccount(jwk: #"{"kty":"EC"}"#, thumbprint: "t", contacts: [],
                                              termsOfServiceAgreed: true, eabKID: nil)
            return try (0..<5).map { index in
                try c.queryFirst(
                    """
                    INSERT INTO orders (account_id, status, identifiers, identifiers_hash, expires,
                                        ca_pending_backend, ca_pending_handle, ca_poll_at, ca_pending_since)
                    VALUES ($1, 'processing', '[]', $2, now() + interval '1 day', 'primary', $2,
                            now() - interval '1 second', now())
                    RETURNING id
                    """, [.uuid(account.id), .string("handle-\(index)")])!.uuid("id")
            }
        }

        let first = try Connection(config: testDB.config)
        let second = try Connection(config: testDB.config)
        defer { first.close(); second.close() }
        // Waiting for the first claim's row locks would fail here instead of hanging.
        _ = try second.execute("SET lock_timeout = '5s'")

        // The first instance's claim is still open (its transaction holds the rows) while
        // the second claims: it gets the other orders at once.
        _ = try first.execute("BEGIN")
        let claimedFirst = try first.claimDueSigningPolls(limit: 2, leaseSeconds: 60).map(\.orderID)
        let claimedSecond = try second.claimDueSigningPolls(limit: 8, leaseSeconds: 60).map(\.orderID)
        _ = try first.execute("COMMIT")
        XCTAssertEqual(claimedFirst.count, 2)
        XCTAssertEqual(claimedSecond.count, 3)
        XCTAssertTrue(Set(claimedFirst).isDisjoint(with: claimedSecond), "\(claimedFirst) \(claimedSecond)")
        XCTAssertEqual(Set(claimedFirst + claimedSecond), Set(orders))

        // Within the lease nobody claims them again.
        XCTAssertEqual(try first.claimDueSigningPolls(limit: 8, leaseSeconds: 60).count, 0)
        XCTAssertEqual(try second.claimDueSigningPolls(limit: 8, leaseSeconds: 60).count, 0)
        // An order whose lease ran out (its poller died) is due again, once.
        _ = try first.execute("UPDATE orders SET ca_poll_at = now() - interval '1 second' WHERE id = $1",
                              [.uuid(claimedFirst[0])])
        XCTAssertEqual(try second.claimDueSigningPolls(limit: 8, leaseSeconds: 60).map(\.orderID), [claimedFirst[0]])
        XCTAssertEqual(try first.claimDueSigningPolls(limit: 8, leaseSeconds: 60).count, 0)
    }
}
