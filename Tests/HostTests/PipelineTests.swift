import Foundation
import XCTest

@testable import Host

/// Pipelined batches (`Connection.runBatch`) against a real PostgreSQL: one round trip,
/// one implicit transaction, guards and nonce replays that undo the whole batch, and a
/// session lost before or during a batch. Each test gets its own migrated database.
final class PipelineTests: DatabaseTestCase {
    /// A migrated pool on this test's database with a scratch table `items (id int PRIMARY KEY, note text)`.
    private func makeMigratedDatabase(maxConnections: Int) async throws -> Database {
        let db = makeDatabase { $0.maxConnections = maxConnections }
        _ = try await Migrator(database: db).migrate()
        try await db.withConnection { try $0.executeScript("CREATE TABLE items (id int PRIMARY KEY, note text)") }
        return db
    }

    private static func item(_ id: Int, _ note: String = "n") -> BatchStatement {
        BatchStatement("INSERT INTO items (id, note) VALUES ($1, $2)", [.int(id), .string(note)])
    }

    private func count(_ db: Database, _ sql: String) async throws -> Int {
        try await db.withConnection { try $0.query(sql).first!.int("n") }
    }

    /// Runs `body`, which must throw a StoreError, and returns it.
    private func storeError(_ body: () async throws -> Void, file: StaticString = #filePath, line: UInt = #line) async -> StoreError? {
        do {
            try await body()
            XCTFail("expected a StoreError", file: file, line: line)
        } catch let e as StoreError {
            return e
        } catch {
            XCTFail("expected a StoreError, got \(error)", file: file, line: line)
        }
        return nil
    }

    // MARK: - One round trip

    func testBatchOfSeveralStatementsIsOneRoundTrip() async throws {
        let db = try await makeMigratedDatabase(maxConnections: 1)
        let expires = Date().addingTimeInterval(3600)
        let batch: @Sendable (Int) -> [BatchStatement] = { n in
            [
                .recordNonce("nonce-\(n)", expiresAt: expires),
                Self.item(n, "first"),
                .exactlyOneRow("item exists", "UPDATE items SET note = $2 WHERE id = $1 RETURNING id, note",
                               [.int(n), .string("second")]),
                .isTrue("one item per batch", "SELECT count(*) = $1 FROM items", [.int(n)]),
                BatchStatement("SELECT id FROM items ORDER BY id"),
            ]
        }
        let (first, second, connectionTrips, poolTrips) = try await db.withConnection { c in
            let (c0, p0) = (c.roundTrips, db.roundTrips)
            let first = try c.runBatch(batch(1))  // every statement new: Parses ride along
            let (c1, p1) = (c.roundTrips, db.roundTrips)
            let second = try c.runBatch(batch(2))  // all prepared now
            return (first, second, [c1 - c0, c.roundTrips - c1], [p1 - p0, db.roundTrips - p1])
        }
        XCTAssertEqual(connectionTrips, [1, 1], "each batch of 5 statements is one round trip")
        XCTAssertEqual(poolTrips, [1, 1], "and the pool's total counts the same")

        XCTAssertEqual(first.map(\.affectedRows), [1, 1, 1, 1, 1])
        XCTAssertEqual(try first[2].rows.map { try $0.string("note") }, ["second"], "a guarded statement's row comes back")
        XCTAssertEqual(try first[3].rows.first?.bool("ok"), true)
        XCTAssertEqual(try second[4].rows.map { try $0.int("id") }, [1, 2])
        let notes = try await db.withConnection { try $0.query("SELECT note FROM items ORDER BY id").map { try $0.string("note") } }
        XCTAssertEqual(notes, ["second", "second"], "both batches committed")
        let counted = try await count(db, "SELECT count(*) AS n FROM nonces")
        XCTAssertEqual(counted, 2)

        let prepared = try await db.withConnection {
            try $0.query("SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE 'INSERT INTO items%'").first!.int("n")
        }
        XCTAssertEqual(prepared, 1, "a batch statement is prepared once per session")
    }

    func testSingleStatementPathsCountRoundTrips() async throws {
        let db = try await makeMigratedDatabase(maxConnections: 1)
        let trips = try await db.withConnection { c -> [Int] in
            var out: [Int] = []
            var last = c.roundTrips
            func step() { out.append(c.roundTrips - last); last = c.roundTrips }
            _ = try c.query("SELECT $1::int AS n", [.int(1)]); step()  // Parse, then execution
            _ = try c.query("SELECT $1::int AS n", [.int(2)]); step()  // prepared
            try c.executeScript("SELECT 1"); step()
            _ = try c.transaction { try $0.execute("SELECT $1::int AS n", [.int(3)]) }; step()  // BEGIN, statement, COMMIT
            return out
        }
        XCTAssertEqual(trips, [2, 1, 1, 3])
        let total = db.roundTrips
        _ = try await db.withConnection { try $0.query("SELECT $1::int AS n", [.int(4)]) }
        XCTAssertEqual(db.roundTrips, total + 1)
    }

    // MARK: - All or nothing

    func testGuardThatFailsHalfwayLeavesNoRows() async throws {
        let db = try await makeMigratedDatabase(maxConnections: 2)
        let missing = await storeError {
            _ = try await db.runBatch([
                Self.item(1), Self.item(2),
                .exactlyOneRow("order is pending", "UPDATE items SET note = 'x' WHERE id = 99 RETURNING id"),
                Self.item(3),
            ])
        }
        XCTAssertEqual(missing?.kind, .guardFailed, "\(String(describing: missing))")
        XCTAssertEqual(missing?.guardName, "order is pending")
        XCTAssertEqual(missing?.sqlState, SQLState.guardFailed)
        let counted = try await count(db, "SELECT count(*) AS n FROM items")
        XCTAssertEqual(counted, 0, "the statements before the guard rolled back")

        let twoRows = await storeError {
            _ = try await db.runBatch([
                Self.item(1), Self.item(2),
                .exactlyOneRow("one item", "SELECT id FROM items"),
            ])
        }
        XCTAssertEqual(twoRows?.kind, .guardFailed)
        XCTAssertEqual(twoRows?.guardName, "one item", "two rows fail an exactly-one guard too")

        let falseCondition = await storeError {
            _ = try await db.runBatch([
                Self.item(1),
                .isTrue("no items yet", "SELECT NOT EXISTS (SELECT 1 FROM items)"),
                Self.item(2),
            ])
        }
        XCTAssertEqual(falseCondition?.kind, .guardFailed)
        XCTAssertEqual(falseCondition?.guardName, "no items yet")
        let left = try await count(db, "SELECT count(*) AS n FROM items")
        XCTAssertEqual(left, 0)
    }

    func testReplayedNonceInABatchCommitsNothing() async throws {
        let db = try await makeMigratedDatabase(maxConnections: 2)
        let expires = Date().addingTimeInterval(3600)
        _ = try await db.runBatch([.recordNonce("replayed", expiresAt: expires), Self.item(1)])

        let replay = await storeError {
            _ = try await db.runBatch([
                Self.item(2), .recordNonce("fresh", expiresAt: expires),
                .recordNonce("replayed", expiresAt: expires), Self.item(3),
            ])
        }
        XCTAssertEqual(replay?.kind, .nonceReplayed, "\(String(describing: replay))")
        XCTAssertEqual(replay?.sqlState, SQLState.uniqueViolation)
        let items = try await db.withConnection { try $0.query("SELECT id FROM items ORDER BY id").map { try $0.int("id") } }
        XCTAssertEqual(items, [1], "the replaying batch's items are absent")
        let nonces = try await db.withConnection { try $0.query("SELECT value FROM nonces ORDER BY value").map { try $0.string("value") } }
        XCTAssertEqual(nonces, ["replayed"], "its fresh nonce was rolled back too")
    }

    /// Reads and nonce-only requests commit without waiting for the WAL flush: the setting
    /// holds for that batch's transaction only, costs no round trip, and the batch's
    /// writes commit as any batch's.
    func testAsynchronousCommitHoldsForItsBatchOnly() async throws {
        let db = try await makeMigratedDatabase(maxConnections: 1)
        let setting = BatchStatement("SELECT current_setting('synchronous_commit') AS s")
        let (before, inside, after, trips) = try await db.withConnection { c -> (String, String, String, Int) in
            let before = try c.query("SHOW synchronous_commit").first!.string("synchronous_commit")
            _ = try c.runBatch([setting], asynchronousCommit: true)  // prepares the statements
            let trips0 = c.roundTrips
            let results = try c.runBatch([Self.item(1), setting], asynchronousCommit: true)
            let trips = c.roundTrips - trips0
            XCTAssertEqual(results.count, 2, "the setting's own result is not returned")
            let after = try c.runBatch([setting])[0].rows[0].string("s")
            return (before, try results[1].rows[0].string("s"), after, trips)
        }
        XCTAssertEqual(inside, "off")
        XCTAssertEqual(after, before)
        XCTAssertEqual(trips, 1)
        let committed = try await count(db, "SELECT count(*) AS n FROM items")
        XCTAssertEqual(committed, 1)
    }

    func testUniqueViolationMidBatchRollsBackEarlierStatements() async throws {
        let db = try await makeMigratedDatabase(maxConnections: 2)
        let duplicate = await storeError {
            _ = try await db.runBatch([Self.item(1), Self.item(2), Self.item(1), Self.item(4)])
        }
        XCTAssertEqual(duplicate?.kind, .server, "no mapping asked: a plain server error")
        XCTAssertEqual(duplicate?.isUniqueViolation, true)
        XCTAssertEqual(duplicate?.constraint, "items_pkey")
        XCTAssertTrue(duplicate?.message.hasPrefix("statement 3 of 4") ?? false, "\(String(describing: duplicate))")
        let counted = try await count(db, "SELECT count(*) AS n FROM items")
        XCTAssertEqual(counted, 0)
    }

    func testConnectionIsUsableAfterAbortedBatches() async throws {
        let db = try await makeMigratedDatabase(maxConnections: 1)
        let (pids, ids, idle) = try await db.withConnection { c -> ([Int32], [Int], Bool) in
            let pid = c.backendPID
            // Aborted by a failing statement: the Parses after it never ran.
            XCTAssertThrowsError(try c.runBatch([
                Self.item(1), Self.item(1), BatchStatement("UPDATE items SET note = $1", [.string("later")]),
            ]))
            // Aborted by a Parse that fails (no such table).
            XCTAssertThrowsError(try c.runBatch([Self.item(5), BatchStatement("SELECT * FROM no_such_table")]))
            // The same statements again, on the same session: prepared ones reused, skipped ones parsed now.
            let results = try c.runBatch([
                Self.item(1), Self.item(2), BatchStatement("UPDATE items SET note = $1", [.string("later")]),
            ])
            XCTAssertEqual(results.map(\.affectedRows), [1, 1, 2])
            let ids = try c.query("SELECT id FROM items ORDER BY id").map { try $0.int("id") }
            return ([pid, c.backendPID], ids, c.isIdle)
        }
        XCTAssertEqual(pids[0], pids[1], "the session survived the aborted batches")
        XCTAssertEqual(ids, [1, 2])
        XCTAssertTrue(idle, "no transaction left open")
        XCTAssertEqual(db.stats.size, 1, "the connection went back to the pool")
    }

    func testBatchInsideATransactionJoinsIt() async throws {
        let db = try await makeMigratedDatabase(maxConnections: 1)
        struct Later: Error {}
        do {
            try await db.transaction { c in
                let results = try c.runBatch([Self.item(1), Self.item(2)])
                XCTAssertEqual(results.map(\.affectedRows), [1, 1])
                throw Later()
            }
            XCTFail("the body throws")
        } catch is Later {}
        let afterRollback = try await count(db, "SELECT count(*) AS n FROM items")
        XCTAssertEqual(afterRollback, 0, "the batch's sync did not commit the enclosing transaction")

        let failed = await storeError {
            try await db.transaction { c in
                try c.execute("INSERT INTO items (id, note) VALUES (7, 'before')")
                _ = try c.runBatch([Self.item(8), .isTrue("never", "SELECT false")])
            }
        }
        XCTAssertEqual(failed?.kind, .guardFailed)
        let afterGuard = try await count(db, "SELECT count(*) AS n FROM items")
        XCTAssertEqual(afterGuard, 0, "the failed guard aborted the enclosing transaction")
        let usable = try await db.runBatch([Self.item(9)])
        XCTAssertEqual(usable.first?.affectedRows, 1)
    }

    // MARK: - Lost session

    func testSessionTerminatedBeforeABatchIsLostAndReplaced() async throws {
        let db = try await makeMigratedDatabase(maxConnections: 1)
        let config = testDB.config
        let (pid, error) = try await db.withConnection { c -> (Int32, StoreError?) in
            let pid = c.backendPID
            let killer = try Connection(config: config)
            defer { killer.close() }
            let killed = try killer.query("SELECT pg_terminate_backend($1::int, 5000) AS ok", [.int(Int(pid))]).first!.bool("ok")
            XCTAssertTrue(killed)
            do {
                _ = try c.runBatch([Self.item(1), Self.item(2)])
                return (pid, nil)
            } catch let e as StoreError {
                XCTAssertTrue(c.isBroken, "the lost session is closed")
                return (pid, e)
            }
        }
        XCTAssertEqual(error?.kind, .connectionLost, "\(String(describing: error))")
        XCTAssertEqual(error?.isUnavailable, true)
        XCTAssertEqual(db.stats.size, 0, "the dead connection left the pool")
        let newPID = try await db.withConnection { $0.backendPID }
        XCTAssertNotEqual(newPID, pid, "a new session replaces it")
        _ = try await db.runBatch([Self.item(3)])
        let ids = try await db.withConnection { try $0.query("SELECT id FROM items").map { try $0.int("id") } }
        XCTAssertEqual(ids, [3])
    }

    func testSessionTerminatedDuringABatchIsLostAndNothingCommits() async throws {
        let db = try await makeMigratedDatabase(maxConnections: 2)
        let tripsBefore = db.roundTrips
        async let batchPID = Self.runSleepingBatch(db)
        let killer = try Connection(config: testDB.config)
        defer { killer.close() }
        var killed = false
        let deadline = Date().addingTimeInterval(10)
        while !killed, Date() < deadline {
            try await Task.sleep(nanoseconds: 20_000_000)
            killed = try killer.query(
                """
                SELECT count(pg_terminate_backend(pid, 5000)) = 1 AS ok FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event = 'PgSleep'
                """).first!.bool("ok")
        }
        XCTAssertTrue(killed, "the sleeping batch was found and terminated")
        let pid = try await batchPID
        XCTAssertEqual(db.stats.size, 0, "the dead connection left the pool")
        XCTAssertGreaterThan(db.roundTrips, tripsBefore, "a closed connection's round trips stay counted")
        let counted = try await count(db, "SELECT count(*) AS n FROM items")
        XCTAssertEqual(counted, 0, "the first insert never committed")
        let newPID = try await db.withConnection { $0.backendPID }
        XCTAssertNotEqual(newPID, pid)
    }

    /// Runs a batch whose second statement sleeps 30 s, expecting its session to be
    /// terminated meanwhile; returns the session's backend pid.
    private static func runSleepingBatch(_ db: Database) async throws -> Int32 {
        try await db.withConnection { c -> Int32 in
            let pid = c.backendPID
            do {
                _ = try c.runBatch([item(1), BatchStatement("SELECT pg_sleep(30)"), item(2)])
                XCTFail("the batch's session was terminated")
            } catch let e as StoreError {
                XCTAssertEqual(e.kind, .connectionLost, "\(e)")
                XCTAssertTrue(e.isUnavailable)
                XCTAssertTrue(c.isBroken, "the lost session is closed")
            }
            return pid
        }
    }

    // MARK: - Several batches in one pipeline

    func testBatchesSharingAPipelineAreSeparateTransactions() async throws {
        let db = try await makeMigratedDatabase(maxConnections: 1)
        let (outcomes, trips) = try await db.withConnection { c in
            let before = c.roundTrips
            let outcomes = c.runBatches([
                [Self.item(1), Self.item(2)],
                [Self.item(3), .isTrue("never", "SELECT false"), Self.item(4)],
                [],
                [Self.item(5), BatchStatement("SELECT count(*) AS n FROM items")],
                [Self.item(1)],  // unique violation: this batch only
            ])
            return (outcomes, c.roundTrips - before)
        }
        XCTAssertEqual(trips, 1, "one round trip for every batch")
        XCTAssertEqual(outcomes.count, 5)
        XCTAssertNoThrow(try outcomes[0].get())
        XCTAssertEqual((try? outcomes[2].get())?.count, 0, "an empty batch succeeds with no results")
        XCTAssertThrowsError(try outcomes[1].get()) { error in
            XCTAssertEqual((error as? StoreError)?.guardName, "never")
        }
        let counted = try outcomes[3].get()[1].rows.first?.int("n") as Int?
        XCTAssertEqual(counted, 3, "a batch sees the commits of the batches before it, not the aborted one")
        XCTAssertThrowsError(try outcomes[4].get()) { error in
            XCTAssertTrue((error as? StoreError)?.isUniqueViolation ?? false, "\(error)")
        }
        let ids = try await db.withConnection { try $0.query("SELECT id FROM items ORDER BY id").map { try $0.int("id") } }
        XCTAssertEqual(ids, [1, 2, 5])
    }

    /// Batches submitted at once through the pool share pipelines: every one is answered
    /// with its own outcome, and the round trips are at most one per batch.
    func testConcurrentBatchesThroughThePoolAreAnsweredEach() async throws {
        let db = try await makeMigratedDatabase(maxConnections: 2)
        let before = db.roundTrips
        let outcomes = await withTaskGroup(of: (Int, Bool).self) { group in
            for n in 1...64 {
                group.addTask {
                    // Every 8th batch repeats id 1 and must fail alone.
                    let id = n % 8 == 0 ? 1 : n
                    do {
                        let rows = try await db.runBatch([Self.item(id, "c\(n)"), BatchStatement("SELECT $1::int AS n", [.int(n)])])
                        return (n, try rows[1].rows.first?.int("n") == n)
                    } catch {
                        return (n, false)
                    }
                }
            }
            var all: [Int: Bool] = [:]
            for await (n, ok) in group { all[n] = ok }
            return all
        }
        XCTAssertEqual(outcomes.count, 64)
        for n in 1...64 {
            XCTAssertEqual(outcomes[n], n % 8 != 0, "batch \(n)")
        }
        let counted = try await count(db, "SELECT count(*) AS n FROM items")
        XCTAssertEqual(counted, 56)
        XCTAssertLessThanOrEqual(db.roundTrips - before, 64)
    }

    // MARK: - Micro-benchmark

    /// N units of the same 5 statements on one session: pipelined (1 round trip), against
    /// one round trip per statement in a transaction (BEGIN + 5 + COMMIT, as atomic), and
    /// against 5 autocommitted round trips (not atomic). Asserts the round trips and the
    /// rows; prints wall time and the backend's CPU (from /proc).
    /// N = `ACMEEH_PIPELINE_BENCH_BATCHES` (default 200).
    func testPipelinedBatchesAgainstOneRoundTripPerStatement() async throws {
        let db = try await makeMigratedDatabase(maxConnections: 1)
        let n = ProcessInfo.processInfo.environment["ACMEEH_PIPELINE_BENCH_BATCHES"].flatMap { Int($0) } ?? 200
        let expires = Date().addingTimeInterval(3600)
        let unit: @Sendable (Int) -> [BatchStatement] = { id in
            [
                .recordNonce("bench-\(id)", expiresAt: expires),
                .isTrue("item is new", "SELECT NOT EXISTS (SELECT 1 FROM items WHERE id = $1)", [.int(id)]),
                Self.item(id, "new"),
                .exactlyOneRow("item updated", "UPDATE items SET note = $2 WHERE id = $1 RETURNING id", [.int(id), .string("done")]),
                BatchStatement("SELECT id, note FROM items WHERE id = $1", [.int(id)]),
            ]
        }
        struct Run { var seconds: Double; var backendCPU: Double?; var trips: Int }
        let runs = try await db.withConnection { c -> [Run] in
            func measure(_ body: () throws -> Void) rethrows -> Run {
                let (cpu0, trips0, t0) = (Self.cpuSeconds(pid: c.backendPID), c.roundTrips, Date())
                try body()
                let seconds = Date().timeIntervalSince(t0)
                let cpu = Self.cpuSeconds(pid: c.backendPID).flatMap { end in cpu0.map { end - $0 } }
                return Run(seconds: seconds, backendCPU: cpu, trips: c.roundTrips - trips0)
            }
            _ = try c.runBatch(unit(-1))  // prepare both ways' statements first
            try c.transaction { t in for s in unit(-2) { _ = try t.query(s.sql, s.params) } }
            let pipelined = try measure { for i in 0..<n { _ = try c.runBatch(unit(i)) } }
            let sequential = try measure {
                for i in n..<(2 * n) { try c.transaction { t in for s in unit(i) { _ = try t.query(s.sql, s.params) } } }
            }
            let autocommit = try measure {
                for i in (2 * n)..<(3 * n) { for s in unit(i) { _ = try c.query(s.sql, s.params) } }
            }
            return [pipelined, sequential, autocommit]
        }
        XCTAssertEqual(runs[0].trips, n, "one round trip per batch")
        XCTAssertEqual(runs[1].trips, 7 * n, "BEGIN, 5 statements, COMMIT")
        XCTAssertEqual(runs[2].trips, 5 * n, "5 statements")
        let counted = try await count(db, "SELECT count(*) AS n FROM items WHERE note = 'done'")
        XCTAssertEqual(counted, 3 * n + 2)
        func line(_ name: String, _ r: Run) -> String {
            let cpu = r.backendCPU.map { String(format: "%.1f ms backend CPU (%.3f ms/batch)", $0 * 1000, $0 * 1000 / Double(n)) } ?? "backend CPU unreadable"
            return String(format: "%@: %d batches, %d round trips, %.1f ms wall (%.3f ms/batch), ", name, n, r.trips, r.seconds * 1000, r.seconds * 1000 / Double(n)) + cpu
        }
        print("pipeline micro-benchmark: " + line("pipelined", runs[0]))
        print("pipeline micro-benchmark: " + line("one round trip per statement, BEGIN/COMMIT", runs[1]))
        print("pipeline micro-benchmark: " + line("one round trip per statement, autocommit", runs[2]))
    }

    /// utime + stime of a local process, from /proc (nil when unreadable).
    private static func cpuSeconds(pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After "pid (comm)": field 3 is fields[0]; utime is field 14, stime 15.
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
