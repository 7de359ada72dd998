import Foundation

/// Brings the schema up to date (`acmeeh db migrate`, startup with `auto_setup: true`)
/// and reports where it stands (`acmeeh db status`).
///
/// `migrate()` holds the session advisory lock `Migrator.advisoryLockKey` (712000, next to
/// the workers' 712001–712003 and the CRL's 712948) for its whole run, so two instances
/// starting together migrate one after the other; the second finds nothing pending.
struct Migrator: Sendable {
    /// `pg_advisory_lock` key serialising migrations across instances.
    static let advisoryLockKey: Int64 = 712_000

    let database: Database
    let migrations: [Migration]

    init(database: Database, migrations: [Migration] = Migrations.all) {
        self.database = database
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// Applies every pending migration, each in its own transaction; returns those applied
    /// (empty when the schema was current).
    func migrate() async throws -> [Migration] {
        let migrations = self.migrations
        return try await database.withConnection { try Self.migrate(on: $0, migrations) }
    }

    /// Connectivity, server version, schema version and pending migrations. Never throws:
    /// an unreachable database is a status (`connected == false`, `error`).
    func status() async -> MigrationStatus {
        let migrations = self.migrations
        do {
            return try await database.withConnection { try Self.status(on: $0, migrations) }
        } catch {
            return MigrationStatus(unreachable: error, known: migrations)
        }
    }

    /// What `serve` does before accepting requests: with `auto_setup: true`, migrate and
    /// return what was applied; otherwise require a current schema and throw
    /// `StoreError(.migration)` naming the pending migrations and `acmeeh db migrate`.
    func prepareForStartup() async throws -> [Migration] {
        if database.config.autoSetup { return try await migrate() }
        let migrations = self.migrations
        let status = try await database.withConnection { try Self.status(on: $0, migrations) }
        guard status.pending.isEmpty else {
            let names = status.pending.map { "\(String(format: "%04d", $0.version))_\($0.name)" }.joined(separator: ", ")
            throw StoreError(
                .migration,
                "database schema is at version \(status.schemaVersion), pending: \(names); "
                    + "run `acmeeh db migrate` or set database.auto_setup: true")
        }
        return []
    }

    @available(*, noasync, message: "blocks the thread; use migrate() in async code")
    func migrateSync() throws -> [Migration] {
        try database.withConnectionSync { try Self.migrate(on: $0, migrations) }
    }

    @available(*, noasync, message: "blocks the thread; use status() in async code")
    func statusSync() -> MigrationStatus {
        do {
            return try database.withConnectionSync { try Self.status(on: $0, migrations) }
        } catch {
            return MigrationStatus(unreachable: error, known: migrations)
        }
    }

    // MARK: - On one connection

    static func migrate(on conn: Connection, _ migrations: [Migration]) throws -> [Migration] {
        try conn.execute("SELECT pg_advisory_lock($1)", [.int(advisoryLockKey)])
        defer { _ = try? conn.execute("SELECT pg_advisory_unlock($1)", [.int(advisoryLockKey)]) }

        // Without the NOTICE "relation already exists" that libpq would print on stderr.
        try conn.executeScript(
            """
            SET client_min_messages = warning;
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version     integer PRIMARY KEY,
                name        text NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now()
            );
            RESET client_min_messages
            """)
        let applied = Set(try conn.query("SELECT version FROM schema_migrations").map { try $0.int("version") })
        var done: [Migration] = []
        for m in migrations where !applied.contains(m.version) {
            do {
                try conn.transaction { c in
                    try c.executeScript(m.sql)
                    try c.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                        [.int(m.version), .string(m.name)])
                }
            } catch let e as StoreError {
                throw StoreError(
                    .migration, "\(String(format: "%04d", m.version))_\(m.name): \(e.message)",
                    sqlState: e.sqlState, detail: e.detail, constraint: e.constraint)
            }
            done.append(m)
        }
        return done
    }

    static func status(on conn: Connection, _ migrations: [Migration]) throws -> MigrationStatus {
        let version = try conn.serverVersion()
        var applied: [MigrationStatus.Applied] = []
        let exists = try conn.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present").first!.bool("present")
        if exists {
            applied = try conn.query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version").map {
                MigrationStatus.Applied(version: try $0.int("version"), name: try $0.string("name"), appliedAt: try $0.date("applied_at"))
            }
        }
        let appliedVersions = Set(applied.map(\.version))
        let knownVersions = Set(migrations.map(\.version))
        return MigrationStatus(
            connected: true, error: nil, serverVersion: version,
            schemaVersion: applied.map(\.version).max() ?? 0,
            applied: applied,
            pending: migrations.filter { !appliedVersions.contains($0.version) },
            unknown: applied.filter { !knownVersions.contains($0.version) })
    }
}

/// What `acmeeh db status` prints.
struct MigrationStatus: Sendable {
    struct Applied: Sendable, Equatable {
        let version: Int
        let name: String
        let appliedAt: Date
    }

    var connected: Bool
    /// Why the database could not be reached (when `connected` is false).
    var error: String?
    /// The `server_version` setting.
    var serverVersion: String?
    /// Highest applied migration; 0 for an empty database.
    var schemaVersion: Int
    var applied: [Applied]
    /// Known to this build, not applied yet (all of them when unreachable: unknown state).
    var pending: [Migration]
    /// Applied, but unknown to this build: the database is newer than the binary.
    var unknown: [Applied]

    init(connected: Bool, error: String?, serverVersion: String?, schemaVersion: Int,
         applied: [Applied], pending: [Migration], unknown: [Applied]) {
        self.connected = connected
        self.error = error
        self.serverVersion = serverVersion
        self.schemaVersion = schemaVersion
        self.applied = applied
        self.pending = pending
        self.unknown = unknown
    }

    init(unreachable error: Error, known: [Migration]) {
        self.init(connected: false, error: "\(error)", serverVersion: nil, schemaVersion: 0,
                  applied: [], pending: known, unknown: [])
    }

    /// True when connected and nothing is pending.
    var isCurrent: Bool { connected && pending.isEmpty }

    /// Human-readable lines for the CLI.
    var lines: [String] {
        var out: [String] = []
        if connected {
            out.append("connectivity: ok")
            out.append("server version: \(serverVersion ?? "unknown")")
            out.append("schema version: \(schemaVersion)")
        } else {
            out.append("connectivity: error: \(error ?? "unknown error")")
        }
        if pending.isEmpty {
            out.append("pending migrations: none")
        } else {
            out.append("pending migrations: \(pending.count)")
            out += pending.map { "  \(String(format: "%04d", $0.version)) \($0.name)" }
        }
        if !unknown.isEmpty {
            out.append("applied migrations unknown to this build (database is newer): "
                + unknown.map { "\($0.version) \($0.name)" }.joined(separator: ", "))
        }
        return out
    }
}
