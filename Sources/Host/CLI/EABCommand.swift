import ArgumentParser
import COpenSSL
import Foundation
import Logging

/// `acmeeh eab create|list`: external account binding credentials (RFC 8555 §7.3.4) for
/// sites that run without the admin API.
struct EAB: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eab", abstract: "External account binding credentials.",
        subcommands: [EABCreate.self, EABList.self])

    /// Runs `body` with one connection to the configured database, whose schema must be
    /// current (or is migrated when `database.auto_setup` is true).
    static func withStore<T: Sendable>(_ config: AppConfig,
                                       _ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        var settings = config.database
        settings.minConnections = 0
        settings.maxConnections = 1
        let database = Database(config: settings, logger: Logger(label: "acmeeh.store"))
        do {
            _ = try await Migrator(database: database).prepareForStartup()
            let result = try await database.withConnection(body)
            await database.shutdown()
            return result
        } catch {
            await database.shutdown()
            throw error
        }
    }
}

/// `acmeeh eab create --kid KID [--label LABEL] [--json]`: a new credential with 32 random
/// bytes of MAC key, printed once.
struct EABCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Create an EAB credential and print its MAC key (shown once).")

    @OptionGroup var globals: GlobalOptions
    @Option(help: "The key identifier clients send as the EAB kid.") var kid: String
    @Option(help: "A free-text label.") var label: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        guard let invocation = Invocation.start(globals) else { return }
        guard !kid.isEmpty else { invocation.fail(CLIError("eab create: --kid must not be empty")) }
        var key = [UInt8](repeating: 0, count: 32)
        guard RAND_bytes(&key, Int32(key.count)) == 1 else {
            invocation.fail(CLIError("eab create: cannot draw random bytes"))
        }
        let (kid, label, hmacKey) = (self.kid, self.label, key)
        let credential: EABCredential
        do {
            credential = try await EAB.withStore(invocation.config) {
                try $0.insertEABCredential(kid: kid, hmacKey: hmacKey, label: label)
            }
        } catch let error as StoreError where error.isUniqueViolation {
            invocation.fail(CLIError("eab create: an EAB credential with kid \"\(kid)\" already exists"))
        } catch {
            invocation.fail(CLIError("eab create: \(error)"))
        }
        let encoded = Base64URL.encode(credential.hmacKey)
        if json {
            printJSON(["id": credential.id.uuidString.lowercased(), "kid": credential.kid,
                       "label": credential.label as Any, "hmac_key": encoded])
        } else {
            print("kid: \(credential.kid)")
            print("hmac_key: \(encoded)")
            if let label = credential.label { print("label: \(label)") }
            print("the hmac_key is shown only now; give it to the client with the kid")
        }
    }
}

/// `acmeeh eab list [--json]`: every credential, without its key.
struct EABList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List EAB credentials (keys are not shown).")

    @OptionGroup var globals: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        guard let invocation = Invocation.start(globals) else { return }
        let credentials: [EABCredential]
        do {
            credentials = try await EAB.withStore(invocation.config) { try $0.eabCredentials() }
        } catch {
            invocation.fail(CLIError("eab list: \(error)"))
        }
        let dates = Date.ISO8601FormatStyle()
        if json {
            printJSON(["credentials": credentials.map { c -> [String: Any] in
                ["id": c.id.uuidString.lowercased(), "kid": c.kid, "label": c.label as Any,
                 "account_id": c.accountID?.uuidString.lowercased() as Any, "used": c.used,
                 "used_at": c.usedAt.map { dates.format($0) } as Any, "revoked": c.revoked,
                 "created_at": dates.format(c.createdAt)]
            }])
            return
        }
        if credentials.isEmpty { print("no EAB credentials") }
        for c in credentials {
            let state = c.revoked ? "revoked" : c.used ? "used" : "unused"
            var line = "\(c.kid)\t\(state)\tcreated \(dates.format(c.createdAt))"
            if let account = c.accountID { line += "\taccount \(account.uuidString.lowercased())" }
            if let label = c.label { line += "\tlabel \(label)" }
            print(line)
        }
    }
}
