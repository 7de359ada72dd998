import Foundation
import Logging
import XCTest

@testable import Host

/// `security.rate_limits` in Core with real PostgreSQL: the database backend is shared by
/// two pools (as by two instances), the memory backend is per limiter (per instance), a
/// window that ends lets requests through again, the cleanup worker deletes old counters,
/// and `enabled: false` never limits.
final class RateLimiterTests: DatabaseTestCase {
    private func config(_ backend: RateLimitsConfig.Backend, requests: Int, window: Int) -> RateLimitsConfig {
        var config = RateLimitsConfig()
        config.backend = backend
        config.newOrder = .init(requests: requests, windowSeconds: window)
        return config
    }

    private func assertRefused(_ body: () async throws -> Void, window: Int, file: StaticString = #filePath,
                               line: UInt = #line) async {
        do {
            try await body()
            XCTFail("not refused", file: file, line: line)
        } catch let problem as Problem {
            XCTAssertEqual(problem.type, .rateLimited, file: file, line: line)
            XCTAssertEqual(problem.status, 429, file: file, line: line)
            let retryAfter = Int(problem.headers["Retry-After"] ?? "") ?? -1
            XCTAssertTrue((1...window).contains(retryAfter), "Retry-After \(retryAfter)", file: file, line: line)
        } catch {
            XCTFail("\(error)", file: file, line: line)
        }
    }

    func testDatabaseBackendIsSharedByTwoPools() async throws {
        let first = makeDatabase(), second = makeDatabase()
        _ = try await Migrator(database: first).migrate()
        let a = RateLimiter(config: config(.database, requests: 2, window: 3600), database: first)
        let b = RateLimiter(config: config(.database, requests: 2, window: 3600), database: second)
        try await a.admit(.newOrder, key: "192.0.2.1", nil)
        try await b.admit(.newOrder, key: "192.0.2.1", nil)
        await assertRefused({ try await a.admit(.newOrder, key: "192.0.2.1", nil) }, window: 3600)
        await assertRefused({ try await b.admit(.newOrder, key: "192.0.2.1", nil) }, window: 3600)
        // Another client, another counter.
        try await b.admit(.newOrder, key: "192.0.2.2", nil)
        let count = try await first.withConnection {
            try $0.queryFirst("SELECT count FROM rate_limit_counters WHERE key = 'new_order:192.0.2.1'")?.int("count")
        }
        XCTAssertEqual(count, 2, "a refusal is not counted")
    }

    func testChargeRidesInTheRequestsFirstBatchAndARefusalRollsItBack() async throws {
        let db = makeDatabase()
        _ = try await Migrator(database: db).migrate()
        let limiter = RateLimiter(config: config(.database, requests: 1, window: 3600), database: db)
        func request(_ nonce: String) async throws {
            let requestGuard = RequestGuard(nonce: nonce, nonceExpiry: Date().addingTimeInterval(600), account: nil)
            try await limiter.admit(.newOrder, key: "198.51.100.7", requestGuard)
            XCTAssertEqual(requestGuard.rateLimitCharges.count, 1)
            let roundTrips = db.roundTrips
            do {
                _ = try await db.runBatch(after: requestGuard, [])
            } catch let error as StoreError {
                XCTAssertEqual(db.roundTrips, roundTrips + 1)
                throw RateLimiter.problem(from: error) ?? error
            }
            XCTAssertEqual(db.roundTrips, roundTrips + 1, "the counter costs no round trip of its own")
        }
        try await request("nonce-1")
        await assertRefused({ try await request("nonce-2") }, window: 3600)
        let nonces = try await db.withConnection { try $0.queryFirst("SELECT count(*) AS n FROM nonces")?.int("n") }
        XCTAssertEqual(nonces, 1, "the refused request's nonce is not spent")
    }

    func testMemoryBackendIsPerInstance() async throws {
        let db = makeDatabase()
        let a = RateLimiter(config: config(.memory, requests: 2, window: 3600), database: db)
        let b = RateLimiter(config: config(.memory, requests: 2, window: 3600), database: db)
        try await a.admit(.newOrder, key: "k", nil)
        try await a.admit(.newOrder, key: "k", nil)
        await assertRefused({ try await a.admit(.newOrder, key: "k", nil) }, window: 3600)
        try await b.admit(.newOrder, key: "k", nil)
        try await b.admit(.newOrder, key: "k", nil)
        await assertRefused({ try await b.admit(.newOrder, key: "k", nil) }, window: 3600)
    }

    func testWindowExpiryAdmitsAgain() async throws {
        let db = makeDatabase()
        _ = try await Migrator(database: db).migrate()
        for backend in RateLimitsConfig.Backend.allCases {
            let limiter = RateLimiter(config: config(backend, requests: 1, window: 1), database: db)
            // Start at the beginning of a window so that the second hit falls in the same one.
            let now = Date().timeIntervalSince1970
            try await Task.sleep(for: .seconds(now.rounded(.up) - now + 0.05))
            try await limiter.admit(.newOrder, key: "expiry", nil)
            await assertRefused({ try await limiter.admit(.newOrder, key: "expiry", nil) }, window: 1)
            try await Task.sleep(for: .seconds(1.05))
            try await limiter.admit(.newOrder, key: "expiry", nil)
            try await db.withConnection { _ = try $0.execute("DELETE FROM rate_limit_counters") }
        }
    }

    func testDisabledNeverLimits() async throws {
        let db = makeDatabase()
        for backend in RateLimitsConfig.Backend.allCases {
            var settings = config(backend, requests: 1, window: 3600)
            settings.enabled = false
            let limiter = RateLimiter(config: settings, database: db)
            for _ in 0..<5 { try await limiter.admit(.newOrder, key: "off", nil) }
        }
    }

    func testCleanupWorkerDeletesOldCounters() async throws {
        let db = makeDatabase()
        _ = try await Migrator(database: db).migrate()
        try await db.withConnection {
            _ = try $0.execute("""
                INSERT INTO rate_limit_counters (key, window_start, count) VALUES
                ('new_order:old', now() - interval '3 hours', 4), ('new_order:new', now(), 1)
                """)
        }
        var rateLimits = RateLimitsConfig()
        rateLimits.backend = .database
        rateLimits.gcMaxAgeSeconds = 7200
        let worker = CleanupWorker(database: db, nonce: NonceConfig(), order: OrderConfig(),
                                   logger: .init(label: "test"), rateLimits: rateLimits)
        let deleted = try await worker.sweepRateLimitCounters()
        XCTAssertEqual(deleted, 1)
        let keys = try await db.withConnection { try $0.query("SELECT key FROM rate_limit_counters").map { try $0.string("key") } }
        XCTAssertEqual(keys, ["new_order:new"])
    }

    func testMemoryCountersAreBoundedAndCollected() {
        let counters = MemoryRateCounters(capacity: 10, gcInterval: 3600)
        let rule = RateLimitsConfig.Rule(requests: 5, windowSeconds: 60)
        let now = Date()
        for i in 0..<25 { XCTAssertNil(counters.hit("k\(i)", window: RateLimitWindow(rule, at: now), limit: 5, now: now)) }
        XCTAssertLessThanOrEqual(counters.count, 10)
        // Once the windows have ended, the next sweep drops them.
        let later = now.addingTimeInterval(7200)
        XCTAssertNil(counters.hit("fresh", window: RateLimitWindow(rule, at: later), limit: 5, now: later))
        XCTAssertEqual(counters.count, 1)
    }
}
