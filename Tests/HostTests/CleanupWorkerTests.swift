import Foundation
@testable import Host
import XCTest

/// The cleanup worker against a real database: records of expired nonces go, live ones stay; an
/// order stuck in `processing` past the threshold becomes invalid, a fresh one and one
/// waiting on a deferring CA do not.
final class CleanupWorkerTests: XCTestCase {
    func testSweepDeletesExpiredNoncesAndGivesUpInterruptedIssuances() async throws {
        let testDatabase = try TestDatabase.create()
        defer { testDatabase.drop() }
        let database = Database(config: testDatabase.config)
        try await database.start()
        _ = try await Migrator(database: database).migrate()

        _ = try await database.runBatch([.recordNonce("expired", expiresAt: Date().addingTimeInterval(-10)),
                                         .recordNonce("live", expiresAt: Date().addingTimeInterval(600))])
        let ids = try await database.withConnection { c -> (UUID, UUID, UUID) in
            let account = try c.insertAccount(jwk: #"{"kty":"EC"}"#, thumbprint: "t", contacts: [],
                                              termsOfServiceAgreed: true, eabKID: nil)
            // The touch trigger runs on UPDATE only, so an INSERT can set an old updated_at.
            func order(_ status: String, age: Int, pending: Bool) throws -> UUID {
                try c.queryFirst(
                    """
                    INSERT INTO orders (account_id, status, identifiers, identifiers_hash, expires,
                                        ca_pending_handle, updated_at)
                    VALUES ($1, $2, '[]', 'h', now() + interval '1 day', $3, now() - make_interval(secs => $4::int))
                    RETURNING id
                    """, [.uuid(account.id), .string(status), pending ? .string("handle") : nil, .int(age)])!.uuid("id")
            }
            return (try order("processing", age: 3600, pending: false),
                    try order("processing", age: 10, pending: false),
                    try order("processing", age: 3600, pending: true))
        }
        var orderConfig = OrderConfig()
        orderConfig.staleProcessingThresholdSeconds = 600
        let worker = CleanupWorker(database: database, nonce: NonceConfig(), order: orderConfig,
                                   logger: .init(label: "test"))
        let deleted = try await worker.deleteExpiredNonces()
        XCTAssertEqual(deleted, 1)
        let givenUp = try await worker.failStaleProcessingOrders()
        XCTAssertEqual(givenUp, [ids.0])

        let states = try await database.withConnection { c -> [String] in
            try [ids.0, ids.1, ids.2].map { try c.queryFirst("SELECT status FROM orders WHERE id = $1", [.uuid($0)])!.string("status") }
        }
        XCTAssertEqual(states, ["invalid", "processing", "processing"])
        let live = try await database.withConnection {
            try $0.query("SELECT value FROM nonces").map { try $0.string("value") }
        }
        XCTAssertEqual(live, ["live"], "the record of a used nonce survives the sweep until it expires")
        await database.shutdown()
    }

    /// Each task runs when its own interval has passed; a new leader runs every task at once.
    func testRoundRunsEachTaskOnItsOwnInterval() async throws {
        let testDatabase = try TestDatabase.create()
        defer { testDatabase.drop() }
        let database = Database(config: testDatabase.config)
        _ = try await Migrator(database: database).migrate()
        var nonce = NonceConfig(), order = OrderConfig()
        nonce.gcIntervalSeconds = 10
        order.cleanupIntervalSeconds = 100
        order.staleProcessingThresholdSeconds = 1000
        let worker = CleanupWorker(database: database, nonce: nonce, order: order, logger: .init(label: "test"))
        XCTAssertEqual(worker.pollSeconds, 10)
        let start = Date()
        func expiredNonce() async throws {
            _ = try await database.runBatch([.recordNonce(RandomBytes.uuid().uuidString, expiresAt: start.addingTimeInterval(-1))])
        }
        func nonces() async throws -> Int {
            try await database.withConnection { try $0.queryFirst("SELECT count(*) AS n FROM nonces")!.int("n") }
        }
        try await expiredNonce()
        _ = try await worker.round(now: start)
        var left = try await nonces()
        XCTAssertEqual(left, 0, "the first round runs every task")
        try await expiredNonce()
        _ = try await worker.round(now: start.addingTimeInterval(5))
        left = try await nonces()
        XCTAssertEqual(left, 1, "not due before nonce.gc_interval_seconds")
        _ = try await worker.round(now: start.addingTimeInterval(11))
        left = try await nonces()
        XCTAssertEqual(left, 0)
        await database.shutdown()
    }

    /// `retention`: invalid orders, long-expired authorizations (with their challenges) and
    /// invalid challenges older than their limits go, in batches; younger ones, valid orders
    /// and certificates stay; the loop wakes every `cleanup_loop_interval_seconds`.
    func testRetentionDeletesOnlyWhatIsOlderThanItsLimit() async throws {
        let testDatabase = try TestDatabase.create()
        defer { testDatabase.drop() }
        let database = Database(config: testDatabase.config)
        _ = try await Migrator(database: database).migrate()
        struct Rows: Sendable { var oldOrder, youngOrder, validOrder, oldAuthz, youngAuthz, oldChallenge, youngChallenge, pendingChallenge: UUID }
        let rows = try await database.withConnection { c -> Rows in
            let account = try c.insertAccount(jwk: #"{"kty":"EC"}"#, thumbprint: "t", contacts: [],
                                              termsOfServiceAgreed: true, eabKID: nil)
            func order(_ status: String, daysOld: Int) throws -> UUID {
                try c.queryFirst(
                    """
                    INSERT INTO orders (account_id, status, identifiers, identifiers_hash, expires, updated_at)
                    VALUES ($1, $2, '[]', 'h', now() - make_interval(days => $3::int),
                            now() - make_interval(days => $3::int))
                    RETURNING id
                    """, [.uuid(account.id), .string(status), .int(daysOld)])!.uuid("id")
            }
            func authorization(expiredDaysAgo days: Int) throws -> UUID {
                try c.queryFirst(
                    """
                    INSERT INTO authorizations (account_id, identifier_type, identifier_value, status, expires)
                    VALUES ($1, 'dns', 'example.test', 'valid', now() - make_interval(days => $2::int))
                    RETURNING id
                    """, [.uuid(account.id), .int(days)])!.uuid("id")
            }
            func challenge(_ authorization: UUID, _ type: String, _ status: String, daysOld: Int) throws -> UUID {
                try c.queryFirst(
                    """
                    INSERT INTO challenges (authorization_id, type, token, status, updated_at)
                    VALUES ($1, $2, 'tok', $3, now() - make_interval(days => $4::int))
                    RETURNING id
                    """, [.uuid(authorization), .string(type), .string(status), .int(daysOld)])!.uuid("id")
            }
            let oldAuthz = try authorization(expiredDaysAgo: 40), youngAuthz = try authorization(expiredDaysAgo: 5)
            _ = try challenge(oldAuthz, "http-01", "valid", daysOld: 40)
            return Rows(oldOrder: try order("invalid", daysOld: 40), youngOrder: try order("invalid", daysOld: 5),
                        validOrder: try order("valid", daysOld: 400), oldAuthz: oldAuthz, youngAuthz: youngAuthz,
                        oldChallenge: try challenge(youngAuthz, "dns-01", "invalid", daysOld: 40),
                        youngChallenge: try challenge(youngAuthz, "http-01", "invalid", daysOld: 5),
                        pendingChallenge: try challenge(youngAuthz, "tls-alpn-01", "pending", daysOld: 40))
        }
        var retention = RetentionConfig()
        retention.cleanupLoopIntervalSeconds = 30
        let worker = CleanupWorker(database: database, nonce: NonceConfig(), order: OrderConfig(),
                                   logger: .init(label: "test"), retention: retention)
        XCTAssertTrue(worker.jobs.contains(.retention))
        XCTAssertEqual(worker.pollSeconds, 30)
        let deleted = try await worker.applyRetention()
        XCTAssertEqual(deleted.orders, 1)
        XCTAssertEqual(deleted.authorizations, 1)
        XCTAssertEqual(deleted.challenges, 1)

        func ids(_ table: String) async throws -> Set<UUID> {
            try await database.withConnection { c in Set(try c.query("SELECT id FROM \(table)").map { try $0.uuid("id") }) }
        }
        let orders = try await ids("orders"), authorizations = try await ids("authorizations")
        let challenges = try await ids("challenges")
        XCTAssertEqual(orders, [rows.youngOrder, rows.validOrder])
        XCTAssertEqual(authorizations, [rows.youngAuthz])
        XCTAssertEqual(challenges, [rows.youngChallenge, rows.pendingChallenge],
                       "the old invalid challenge goes; the old authorization's challenge goes with it")

        retention.enabled = false
        let off = CleanupWorker(database: database, nonce: NonceConfig(), order: OrderConfig(),
                                logger: .init(label: "test"), retention: retention)
        XCTAssertFalse(off.jobs.contains(.retention))
        await database.shutdown()
    }
}
