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
        let swept = try await worker.sweep()
        XCTAssertEqual(swept.nonces, 1)
        XCTAssertEqual(swept.orders, [ids.0])

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
}
