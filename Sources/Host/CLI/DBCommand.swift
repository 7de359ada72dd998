import ArgumentParser
import Foundation
import Logging

/// `acmeeh db status|migrate`.
struct DB: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Database schema tools.", subcommands: [DBStatus.self, DBMigrate.self])

    /// Runs `body` with a pool of one connection to the configured database.
    static func withDatabase<T>(_ config: AppConfig, _ body: (Migrator) async throws -> T) async throws -> T {
        var settings = config.database
        settings.minConnections = 0
        settings.maxConnections = 1
        let database = Database(config: settings, logger: Logger(label: "acmeeh.store"))
        do {
            let result = try await body(Migrator(database: database))
            await database.shutdown()
            return result
        } catch {
            await database.shutdown()
            throw error
        }
    }
}

/// `acmeeh db status`: connectivity, server version, schema version, pending migrations.
struct DBStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Check database connectivity and schema.")

    @OptionGroup var globals: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        guard let invocation = Invocation.start(globals) else { return }
        let status = try await DB.withDatabase(invocation.config) { await $0.status() }
        if json {
            printJSON([
                "connected": status.connected, "error": status.error as Any,
                "server_version": status.serverVersion as Any, "schema_version": status.schemaVersion,
                "pending": status.pending.map { ["version": $0.version, "name": $0.name] },
            ])
        } else {
            status.lines.forEach { print($0) }
        }
        if !status.connected { throw ExitCode.failure }
    }
}

/// `acmeeh db migrate`: applies pending migrations and lists them.
struct DBMigrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply pending database schema migrations.")

    @OptionGroup var globals: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        guard let invocation = Invocation.start(globals) else { return }
        let applied: [Migration]
        do {
            applied = try await DB.withDatabase(invocation.config) { try await $0.migrate() }
        } catch {
            invocation.fail(CLIError("db migrate: \(error)"))
        }
        if json {
            printJSON(["applied": applied.map { ["version": $0.version, "name": $0.name] }])
        } else if applied.isEmpty {
            print("schema is up to date; nothing applied")
        } else {
            for migration in applied {
                print("applied \(String(format: "%04d", migration.version)) \(migration.name)")
            }
        }
    }
}

/// Prints one JSON object on stdout (the `--json` output of CLI commands).
func printJSON(_ object: [String: Any]) {
    print(String(decoding: JSONResponse.bytes(object), as: UTF8.self))
}
