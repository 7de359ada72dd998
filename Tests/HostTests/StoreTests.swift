import Dispatch
import Foundation
import XCTest

@testable import Host

/// The Store layer against a real PostgreSQL: migrations, the pool, errors, codecs.
/// Each test gets its own fresh database (see `TestDatabase`).
final class StoreTests: DatabaseTestCase {
    /// Polls until `condition` holds (pool state changes on other threads), at most 5 s.
    private func eventually(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(5)
        while !condition() {
            if Date() > deadline { XCTFail("timed out waiting for: \(what)"); return }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
    }

    // MARK: - Migrations

    func testMigrateAppliesAllOnEmptyDatabaseThenNothing() async throws {
        let db = makeDatabase()
        let migrator = Migrator(database: db)

        let before = await migrator.status()
        XCTAssertTrue(before.connected, before.error ?? "")
        XCTAssertEqual(before.schemaVersion, 0)
        XCTAssertEqual(before.pending.map(\.version), Migrations.all.map(\.version))
        XCTAssertTrue(before.applied.isEmpty)
        XCTAssertFalse(before.isCurrent)
        XCTAssertTrue(before.serverVersion?.first?.isNumber ?? false, "server version: \(before.serverVersion ?? "nil")")

        let applied = try await migrator.migrate()
        XCTAssertEqual(applied.map(\.version), Migrations.all.map(\.version))

        let again = try await migrator.migrate()
        XCTAssertEqual(again, [], "a second run must apply nothing")

        let after = await migrator.status()
        XCTAssertTrue(after.isCurrent)
        XCTAssertEqual(after.schemaVersion, Migrations.all.last!.version)
        XCTAssertEqual(after.applied.map(\.name), Migrations.all.map(\.name))
        XCTAssertTrue(after.pending.isEmpty)
        XCTAssertTrue(after.unknown.isEmpty)
        XCTAssertTrue(after.lines.contains("pending migrations: none"), after.lines.joined(separator: "\n"))
        XCTAssertTrue(after.lines.contains("schema version: \(after.schemaVersion)"))
    }

    func testStartupMigratesOnlyWithAutoSetup() async throws {
        let manual = makeDatabase { $0.autoSetup = false }
        do {
            _ = try await Migrator(database: manual).prepareForStartup()
            XCTFail("a schema with pending migrations must stop startup without auto_setup")
        } catch let e as StoreError {
            XCTAssertEqual(e.kind, .migration)
            XCTAssertTrue(e.description.contains("acmeeh db migrate"), e.description)
            XCTAssertTrue(e.description.contains("0001_initial"), e.description)
        }
        let auto = makeDatabase { $0.autoSetup = true }
        let applied = try await Migrator(database: auto).prepareForStartup()
        XCTAssertEqual(applied.count, Migrations.all.count)
        let none = try await Migrator(database: manual).prepareForStartup()
        XCTAssertEqual(none, [])
    }

    func testCancelledWaiterLeavesTheQueue() async throws {
        let db = makeDatabase { $0.maxConnections = 1; $0.connectionTimeout = 30 }
        let gate = DispatchSemaphore(value: 0)
        async let holder: Void = db.withConnection { _ in gate.wait() }
        try await eventually("one lent") { db.stats.inUse == 1 }
        let waiter = Task { try await db.withConnection { _ in 1 } }
        try await eventually("one waiting") { db.stats.waiting == 1 }
        waiter.cancel()
        do {
            _ = try await waiter.value
            XCTFail("expected cancellation")
        } catch is CancellationError {}
        XCTAssertEqual(db.stats.waiting, 0)
        gate.signal()
        try await holder
        let after = try await db.withConnection { _ in 2 }
        XCTAssertEqual(after, 2)
    }

    func testConcurrentMigrationsAreSerialisedByTheAdvisoryLock() async throws {
        let a = Migrator(database: makeDatabase())
        let b = Migrator(database: makeDatabase())
        async let ra = a.migrate()
        async let rb = b.migrate()
        let (x, y) = try await (ra, rb)
        XCTAssertEqual((x + y).map(\.version), Migrations.all.map(\.version), "each migration applied exactly once")
        XCTAssertTrue(x.isEmpty || y.isEmpty)
        let count = try await a.database.withConnection {
            try $0.query("SELECT count(*) AS n FROM schema_migrations").first!.int("n")
        }
        XCTAssertEqual(count, Migrations.all.count)
    }

    func testFailingMigrationIsRolledBackAndReported() async throws {
        let db = makeDatabase()
        let broken = Migrations.all + [
            Migration(version: 9_999, name: "broken", sql: "CREATE TABLE half_done (x int); SELECT no_such_column FROM accounts;")
        ]
        do {
            _ = try await Migrator(database: db, migrations: broken).migrate()
            XCTFail("expected the broken migration to fail")
        } catch let e as StoreError {
            XCTAssertEqual(e.kind, .migration)
            XCTAssertTrue(e.message.contains("9999_broken"), e.message)
            XCTAssertEqual(e.sqlState, "42703")
        }
        let status = await Migrator(database: db, migrations: broken).status()
        XCTAssertEqual(status.schemaVersion, Migrations.all.last!.version, "earlier migrations stay applied")
        XCTAssertEqual(status.pending.map(\.version), [9_999])
        let halfDone = try await db.withConnection {
            try $0.query("SELECT to_regclass('half_done') IS NULL AS gone").first!.bool("gone")
        }
        XCTAssertTrue(halfDone, "the failed migration's own statements are rolled back")
        // The advisory lock was released: another session can take it at once.
        let free = try await db.withConnection {
            try $0.query("SELECT pg_try_advisory_lock($1) AS ok", [.int(Migrator.advisoryLockKey)]).first!.bool("ok")
        }
        XCTAssertTrue(free)
    }

    func testSchemaTablesSequenceAndConstraintsExist() async throws {
        let db = makeDatabase()
        _ = try await Migrator(database: db).migrate()
        let tables = try await db.withConnection { c in
            try c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").map { try $0.string("tablename") }
        }
        for t in [
            "accounts", "account_contacts", "orders", "authorizations", "order_authorizations", "challenges",
            "certificates", "nonces", "eab_credentials", "server_settings", "schema_migrations",
        ] {
            XCTAssertTrue(tables.contains(t), "table \(t) missing; have \(tables)")
        }
        let seq = try await db.withConnection {
            try $0.query("SELECT to_regclass('certificate_serial_seq')::text AS s").first!.stringIfPresent("s")
        }
        XCTAssertEqual(seq, "certificate_serial_seq")
        let indexes = try await db.withConnection { c in
            try c.query("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'").map { try $0.string("indexname") }
        }
        for i in ["orders_account_idx", "challenges_retry_idx", "nonces_expires_idx", "certificates_not_after_idx", "certificates_san_idx"] {
            XCTAssertTrue(indexes.contains(i), "index \(i) missing")
        }

        // CHECK on a status enum, foreign keys, unique (authorization, type)
        try await db.withConnection { c in
            let account = try c.query(
                "INSERT INTO accounts (jwk, jwk_thumbprint) VALUES ($1, $2) RETURNING id",
                [.jsonb(#"{"kty":"EC"}"#), .string("tp1")]
            ).first!.uuid("id")
            XCTAssertThrowsError(try c.execute("UPDATE accounts SET status = 'bogus' WHERE id = $1", [.uuid(account)])) {
                XCTAssertTrue(($0 as? StoreError)?.isCheckViolation ?? false, "\($0)")
            }
            XCTAssertThrowsError(
                try c.execute(
                    "INSERT INTO orders (account_id, identifiers, identifiers_hash, expires) VALUES ($1, '[]', 'h', now())",
                    [.uuid(UUID())])
            ) { XCTAssertTrue(($0 as? StoreError)?.isForeignKeyViolation ?? false, "\($0)") }
            let authz = try c.query(
                "INSERT INTO authorizations (account_id, identifier_type, identifier_value, expires) VALUES ($1, 'dns', 'example.com', now() + interval '1 day') RETURNING id",
                [.uuid(account)]
            ).first!.uuid("id")
            try c.execute("INSERT INTO challenges (authorization_id, type, token) VALUES ($1, 'http-01', 't1')", [.uuid(authz)])
            XCTAssertThrowsError(
                try c.execute("INSERT INTO challenges (authorization_id, type, token) VALUES ($1, 'http-01', 't2')", [.uuid(authz)])
            ) { XCTAssertTrue(($0 as? StoreError)?.isUniqueViolation ?? false, "\($0)") }
            // updated_at trigger
            let touched = try c.query(
                "UPDATE accounts SET tos_agreed = true WHERE id = $1 RETURNING updated_at >= created_at AS ok", [.uuid(account)]
            ).first!.bool("ok")
            XCTAssertTrue(touched)
        }
    }

    func testNextSerialReturnsDistinctLowercaseHex() async throws {
        let db = makeDatabase()
        _ = try await Migrator(database: db).migrate()
        let serials = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<40 { group.addTask { try await db.nextSerial() } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        XCTAssertEqual(Set(serials).count, 40, "serials must be distinct: \(serials)")
        for s in serials {
            XCTAssertFalse(s.isEmpty)
            XCTAssertTrue(s.allSatisfy { "0123456789abcdef".contains($0) }, "not lowercase hex: \(s)")
        }
        let values = serials.map { Int($0, radix: 16)! }.sorted()
        XCTAssertEqual(values, Array(1...40))
    }

    func testPingAndServerVersion() async throws {
        let db = makeDatabase()
        try await db.ping()
        let version = try await db.serverVersion()
        XCTAssertTrue(version.first?.isNumber ?? false, version)
    }

    // MARK: - Pool

    func testPoolHonoursMaxConnectionsAndFailsWhenExhausted() async throws {
        let db = makeDatabase { $0.maxConnections = 2; $0.connectionTimeout = 1 }
        let gate = DispatchSemaphore(value: 0)
        async let h1: Int32 = db.withConnection { c in gate.wait(); return c.backendPID }
        async let h2: Int32 = db.withConnection { c in gate.wait(); return c.backendPID }
        try await eventually("two connections lent") { db.stats.inUse == 2 }

        let started = Date()
        do {
            try await db.withConnection { _ in XCTFail("a third connection must not be lent") }
            XCTFail("expected the pool to be exhausted")
        } catch let e as StoreError {
            XCTAssertEqual(e.kind, .poolExhausted)
            XCTAssertTrue(e.description.contains("database pool exhausted"), e.description)
        }
        let waited = Date().timeIntervalSince(started)
        XCTAssertGreaterThanOrEqual(waited, 0.9, "the checkout waits connectionTimeout before failing")
        XCTAssertLessThan(waited, 3)
        XCTAssertEqual(db.stats.size, 2)
        XCTAssertEqual(db.stats.waiting, 0)

        gate.signal()
        gate.signal()
        let (p1, p2) = try await (h1, h2)
        XCTAssertNotEqual(p1, p2, "two holders, two sessions")
        let s = db.stats
        XCTAssertEqual(s.size, 2)
        XCTAssertEqual(s.available, 2)
        XCTAssertEqual(s.inUse, 0)
    }

    func testWaiterGetsTheConnectionReleasedByAHolder() async throws {
        let db = makeDatabase { $0.maxConnections = 2; $0.connectionTimeout = 10 }
        let gate1 = DispatchSemaphore(value: 0)
        let gate2 = DispatchSemaphore(value: 0)
        async let h1: Int32 = db.withConnection { c in gate1.wait(); return c.backendPID }
        async let h2: Int32 = db.withConnection { c in gate2.wait(); return c.backendPID }
        try await eventually("two connections lent") { db.stats.inUse == 2 }

        let third = Task { try await db.withConnection { $0.backendPID } }
        try await eventually("the third checkout waits") { db.stats.waiting == 1 }
        XCTAssertEqual(db.stats.size, 2, "never more than maxConnections")

        let started = Date()
        gate1.signal()
        let p1 = try await h1
        let p3 = try await third.value
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "served on release, not at the timeout")
        XCTAssertEqual(p3, p1, "the waiter got the released session")
        gate2.signal()
        _ = try await h2
        XCTAssertEqual(db.stats.size, 2)
    }

    func testBodiesRunOnTheDatabaseThreadPool() async throws {
        let db = makeDatabase()
        let name = try await db.withConnection { _ -> String in
            Thread.current.name ?? "" 
        }
        XCTAssertTrue(name.hasPrefix("TP-#"), "body ran on thread \(name), not the NIOThreadPool")
    }

    func testIdleConnectionTerminatedByTheServerIsReplaced() async throws {
        let db = makeDatabase { $0.maxConnections = 2 }
        let pid = try await db.withConnection { $0.backendPID }
        XCTAssertEqual(db.stats.available, 1)

        let killer = try Connection(config: testDB.config)
        defer { killer.close() }
        let terminated = try killer.query("SELECT pg_terminate_backend($1::int, 5000) AS ok", [.int(Int(pid))]).first!.bool("ok")
        XCTAssertTrue(terminated)

        let (newPID, one) = try await db.withConnection { c in (c.backendPID, try c.query("SELECT 1 AS one").first!.int("one")) }
        XCTAssertEqual(one, 1, "the next use works")
        XCTAssertNotEqual(newPID, pid, "on a new session")
        XCTAssertEqual(db.stats.size, 1, "the dead connection was discarded, not added to")
    }

    func testConnectionBrokenDuringUseIsDiscarded() async throws {
        let db = makeDatabase { $0.maxConnections = 1 }
        let pid = try await db.withConnection { $0.backendPID }
        do {
            try await db.withConnection { try $0.execute("SELECT pg_terminate_backend(pg_backend_pid())") }
            XCTFail("the statement kills its own session")
        } catch let e as StoreError {
            XCTAssertEqual(e.kind, .connectionLost, "\(e)")
            XCTAssertTrue(e.isUnavailable)
        }
        XCTAssertEqual(db.stats.size, 0, "the broken connection left the pool")
        let newPID = try await db.withConnection { $0.backendPID }
        XCTAssertNotEqual(newPID, pid)
        try await db.ping()
    }

    func testIdleConnectionsAreReapedDownToMinimum() async throws {
        let db = makeDatabase { $0.minConnections = 1; $0.maxConnections = 4; $0.maxIdleSeconds = 1 }
        try await db.start()
        XCTAssertEqual(db.stats.size, 1, "start() opens minConnections")
        XCTAssertEqual(db.stats.available, 1)

        // Three concurrent holders force three sessions.
        let gate = DispatchSemaphore(value: 0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 { group.addTask { try await db.withConnection { _ in gate.wait() } } }
            try await eventually("three lent") { db.stats.inUse == 3 }
            for _ in 0..<3 { gate.signal() }
            try await group.waitForAll()
        }
        XCTAssertEqual(db.stats.size, 3)
        XCTAssertEqual(db.stats.available, 3)

        await db.runMaintenance()
        XCTAssertEqual(db.stats.size, 3, "fresh idle connections are kept")

        try await Task.sleep(nanoseconds: 1_300_000_000)
        await db.runMaintenance()
        XCTAssertEqual(db.stats.size, 1, "idle past maxIdleSeconds: closed down to minConnections")
        XCTAssertEqual(db.stats.available, 1)

        // The server ends a backend shortly after its Terminate message: poll.
        var sessions = 0
        for _ in 0..<100 {
            sessions = try await db.withConnection { c in
                try c.query(
                    "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'acmeeh'"
                ).first!.int("n")
            }
            if sessions == 1 { break }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        XCTAssertEqual(sessions, 1, "the reaped sessions are really closed on the server")
    }

    func testShutdownFailsLaterCheckouts() async throws {
        let db = Database(config: testDB.config)
        try await db.ping()
        await db.shutdown()
        do {
            try await db.ping()
            XCTFail("expected poolClosed")
        } catch let e as StoreError {
            XCTAssertEqual(e.kind, .poolClosed)
        }
    }

    // MARK: - Transactions and errors

    func testTransactionThatThrowsIsRolledBack() async throws {
        struct Boom: Error {}
        let db = makeDatabase()
        try await db.withConnection { try $0.execute("CREATE TABLE t (v text UNIQUE)") }
        do {
            try await db.transaction { c in
                try c.execute("INSERT INTO t VALUES ($1)", [.string("rolled back")])
                throw Boom()
            }
            XCTFail("expected Boom")
        } catch is Boom {}
        try await db.transaction { try $0.execute("INSERT INTO t VALUES ($1)", [.string("kept")]) }
        let values = try await db.withConnection { c in try c.query("SELECT v FROM t").map { try $0.string("v") } }
        XCTAssertEqual(values, ["kept"])

        // A nested transaction is a savepoint: the inner failure alone is undone.
        try await db.transaction { c in
            try c.execute("INSERT INTO t VALUES ('outer')")
            _ = try? c.transaction { inner in
                try inner.execute("INSERT INTO t VALUES ('inner')")
                throw Boom()
            }
        }
        let after = try await db.withConnection { c in try c.query("SELECT v FROM t ORDER BY v").map { try $0.string("v") } }
        XCTAssertEqual(after, ["kept", "outer"])

        // A statement error swallowed inside the body still aborts the commit.
        do {
            try await db.transaction { c in
                try c.execute("INSERT INTO t VALUES ('lost')")
                _ = try? c.execute("INSERT INTO t VALUES ('kept')")  // unique violation, ignored
            }
            XCTFail("commit of an aborted transaction must fail")
        } catch let e as StoreError {
            XCTAssertEqual(e.sqlState, "25P02")
        }
        let final = try await db.withConnection { c in try c.query("SELECT count(*) AS n FROM t").first!.int("n") }
        XCTAssertEqual(final, 2)
    }

    func testUniqueViolationIsDistinguishable() async throws {
        let db = makeDatabase()
        _ = try await Migrator(database: db).migrate()
        let insert = "INSERT INTO accounts (jwk, jwk_thumbprint) VALUES ($1, $2)"
        try await db.withConnection { try $0.execute(insert, [.jsonb("{}"), .string("same")]) }
        do {
            try await db.withConnection { try $0.execute(insert, [.jsonb("{}"), .string("same")]) }
            XCTFail("expected unique violation")
        } catch let e as StoreError {
            XCTAssertTrue(e.isUniqueViolation, "\(e)")
            XCTAssertEqual(e.kind, .server)
            XCTAssertEqual(e.sqlState, "23505")
            XCTAssertEqual(e.constraint, "accounts_jwk_thumbprint_key")
            XCTAssertFalse(e.isUnavailable)
        }
        // The connection is still usable after a server error.
        try await db.ping()
    }

    // MARK: - Connection strings and connection errors

    func testConninfoEscapesEveryValue() throws {
        var config = testDB.config
        config.password = #"p a's\s x=y"#
        config.host = "/tmp/dir with 'quote"
        let info = Conninfo.build(config)
        XCTAssertTrue(info.contains(#"password='p a\'s\\s x=y'"#), info)
        let parsed = try XCTUnwrap(Conninfo.parse(info), "libpq rejects: \(info)")
        XCTAssertEqual(parsed["password"], #"p a's\s x=y"#)
        XCTAssertEqual(parsed["host"], "/tmp/dir with 'quote")
        XCTAssertEqual(parsed["dbname"], testDB.name)
        XCTAssertEqual(parsed["user"], config.user)
        XCTAssertEqual(parsed["port"], String(config.port))
        XCTAssertEqual(parsed["sslmode"], "disable")
        XCTAssertEqual(parsed["connect_timeout"], "5")
        XCTAssertEqual(parsed["application_name"], "acmeeh")
        XCTAssertFalse(Conninfo.redacted(config).contains("p a"))
    }

    func testNamesAndPasswordsWithSpacesAndQuotesConnect() async throws {
        // A database whose name needs escaping, reached with a password that does too
        // (the test cluster trusts local users, so the password only has to survive parsing).
        let odd = TestDatabase(name: #"acmeeh test 'q\ \#(UUID().uuidString.prefix(8))"#, config: testDB.config)
        try TestPostgres.admin("CREATE DATABASE \(TestDatabase.quoteIdentifier(odd.name))")
        defer { odd.drop() }
        let db = makeDatabase { $0.database = odd.name; $0.password = #"sp ace 'quote' \back x=y"# }
        let (name, app) = try await db.withConnection { c in
            let r = try c.query("SELECT current_database() AS d, current_setting('application_name') AS a").first!
            return (try r.string("d"), try r.string("a"))
        }
        XCTAssertEqual(name, odd.name)
        XCTAssertEqual(app, "acmeeh")
    }

    func testWrongDatabaseNameGivesAClearError() async throws {
        let db = makeDatabase { $0.database = "acmeeh_no_such_db" }
        do {
            try await db.ping()
            XCTFail("expected a connection error")
        } catch let e as StoreError {
            XCTAssertEqual(e.kind, .connectionFailed)
            XCTAssertTrue(e.description.contains("acmeeh_no_such_db"), e.description)
            XCTAssertTrue(e.description.contains("does not exist"), e.description)
        }
        XCTAssertEqual(db.stats.size, 0, "the failed slot is freed")
        XCTAssertNotNil(db.stats.lastConnectError)

        let status = await Migrator(database: db).status()
        XCTAssertFalse(status.connected)
        XCTAssertTrue(status.error?.contains("acmeeh_no_such_db") ?? false)
        XCTAssertTrue(status.lines.first?.hasPrefix("connectivity: error") ?? false)
    }

    // MARK: - Values

    func testParametersAndRowAccessorsRoundTrip() async throws {
        let db = makeDatabase()
        let id = UUID()
        let when = Date(timeIntervalSince1970: 1_790_000_000.123456)
        let bytes: [UInt8] = [0, 1, 0x7f, 0x80, 0xff]
        let row = try await db.withConnection { c in
            try c.query(
                """
                SELECT $1::text AS s, $2::bigint AS i, $3::boolean AS b, $4::timestamptz AS t, $5::bytea AS y,
                       $6::uuid AS u, $7::jsonb AS j, $8::text[] AS a, $9::text AS n, $10::float8 AS d,
                       '-infinity'::timestamptz AS ninf
                """,
                [.string("it's \"q\" ü"), .int(-42), .bool(true), .date(when), .bytea(bytes), .uuid(id),
                 .jsonb(#"{"k": [1, "x"]}"#), .textArray(["a b", "c,d", #"e"f\g"#, nil]), nil, .double(0.5)]
            ).first!
        }
        XCTAssertEqual(try row.string("s"), "it's \"q\" ü")
        XCTAssertEqual(try row.int("i"), -42)
        XCTAssertEqual(try row.bool("b"), true)
        XCTAssertEqual(try row.date("t").timeIntervalSince1970, when.timeIntervalSince1970, accuracy: 0.000_002)
        XCTAssertEqual(try row.bytes("y"), bytes)
        XCTAssertEqual(try row.uuid("u"), id)
        XCTAssertEqual(try row.json("j"), #"{"k": [1, "x"]}"#)
        XCTAssertEqual(try row.stringArray("a"), ["a b", "c,d", #"e"f\g"#])
        XCTAssertNil(try row.stringIfPresent("n"))
        XCTAssertTrue(try row.isNull("n"))
        XCTAssertEqual(try row.double("d"), 0.5)
        XCTAssertEqual(try row.date("ninf"), .distantPast)
        XCTAssertThrowsError(try row.string("n")) { XCTAssertEqual(($0 as? StoreError)?.kind, .decoding) }
        XCTAssertThrowsError(try row.int("s")) { XCTAssertEqual(($0 as? StoreError)?.kind, .decoding) }
        XCTAssertThrowsError(try row.string("missing")) { XCTAssertEqual(($0 as? StoreError)?.kind, .decoding) }
    }

    /// Each statement is prepared once per session and then run by name; a failure inside a
    /// rolled-back transaction does not lose the prepared statement.
    func testStatementsArePreparedOncePerSession() async throws {
        let db = makeDatabase { $0.maxConnections = 1 }
        let sql = "SELECT $1::bigint + 1 AS n"
        let results = try await db.withConnection { c in
            try (0..<3).map { try c.query(sql, [.int($0)]).first!.int("n") }
        }
        XCTAssertEqual(results, [1, 2, 3])
        _ = try? await db.transaction { c in
            _ = try c.query(sql, [.int(1)])
            try c.execute("SELECT 1/0")
        }
        let (again, prepared) = try await db.withConnection { c in
            (try c.query(sql, [.int(41)]).first!.int("n"),
             try c.query("SELECT count(*) AS n FROM pg_prepared_statements WHERE statement = $1", [.string(sql)])
                .first!.int("n"))
        }
        XCTAssertEqual(again, 42)
        XCTAssertEqual(prepared, 1, "one prepared statement for the repeated SQL")
    }

    /// The blocking API the CLI uses.
    func testSynchronousAPIForTheCLI() throws {
        let db = Database(config: testDB.config)
        defer {
            let done = DispatchSemaphore(value: 0)
            Task { await db.shutdown(); done.signal() }
            done.wait()
        }
        let migrator = Migrator(database: db)
        XCTAssertEqual(migrator.statusSync().pending.count, Migrations.all.count)
        XCTAssertEqual(try migrator.migrateSync().count, Migrations.all.count)
        XCTAssertEqual(try migrator.migrateSync().count, 0)
        XCTAssertTrue(migrator.statusSync().isCurrent)
        let serial = try db.withConnectionSync { try $0.nextSerial() }
        XCTAssertEqual(serial, "01", "canonical serials are whole bytes")
        XCTAssertThrowsError(try db.transactionSync { c in
            try c.execute("INSERT INTO server_settings (key, value) VALUES ('maintenance_mode', 'true')")
            try c.execute("INSERT INTO server_settings (key, value) VALUES ('maintenance_mode', 'false')")
        }) { XCTAssertTrue(($0 as? StoreError)?.isUniqueViolation ?? false) }
        let count = try db.withConnectionSync { try $0.query("SELECT count(*) AS n FROM server_settings").first!.int("n") }
        XCTAssertEqual(count, 0)
    }
}
