import ArgumentParser
import Foundation

/// `acmeeh inspect order|certificate|account ID [--json]`: one stored resource as an
/// operator looks it up, read from the database of `-c CONFIG`. An unknown or malformed ID
/// is named on standard error, exit status 1.
struct Inspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Show an order, a certificate or an account as stored.",
        subcommands: [InspectOrder.self, InspectCertificate.self, InspectAccount.self])

    /// Reads the resource with `read` (nil: not found) and prints it as lines or one JSON
    /// object; fails naming `what` when it is unknown.
    static func show(_ globals: GlobalOptions, json: Bool, what: String,
                     _ read: @escaping @Sendable (Connection) throws -> InspectReport?) async {
        guard let invocation = Invocation.start(globals) else { return }
        let report: InspectReport?
        do {
            report = try await EAB.withStore(invocation.config, read)
        } catch {
            invocation.fail(CLIError("inspect: \(error)"))
        }
        guard let report else { invocation.fail(CLIError("inspect: no \(what)")) }
        if json {
            printJSON(report.json)
        } else {
            report.lines.forEach { print($0) }
        }
    }

    /// The UUID an ID names; fails naming the kind of resource otherwise.
    static func uuid(_ text: String, _ kind: String, _ globals: GlobalOptions) -> UUID {
        guard let id = UUID(uuidString: text) else {
            Invocation.fail("inspect \(kind): \"\(text)\" is not a\(kind == "order" || kind == "account" ? "n" : "") \(kind) ID (a UUID)",
                            globals: globals)
        }
        return id
    }
}

struct InspectOrder: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "order", abstract: "An order with its authorizations and their challenges.")

    @OptionGroup var globals: GlobalOptions
    @Argument(help: "The order's ID (UUID).") var id: String
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        let id = Inspect.uuid(self.id, "order", globals)
        await Inspect.show(globals, json: json, what: "order \(id.uuidString.lowercased())") { connection in
            try InspectReport.order(id, connection)
        }
    }
}

struct InspectCertificate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certificate", abstract: "A certificate: serial, names, validity, status, account, order.")

    @OptionGroup var globals: GlobalOptions
    @Argument(help: "The certificate's ID (UUID) or serial number (hex).") var id: String
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        if let uuid = UUID(uuidString: id) {
            await Inspect.show(globals, json: json, what: "certificate \(uuid.uuidString.lowercased())") { connection in
                try connection.certificateRecord(id: uuid).map(InspectReport.certificate)
            }
        } else if let serial = CertificateRecord.normalizedSerial(id) {
            await Inspect.show(globals, json: json, what: "certificate with serial \(serial)") { connection in
                try connection.certificateRecord(serial: serial).map(InspectReport.certificate)
            }
        } else {
            Invocation.fail("inspect certificate: \"\(id)\" is neither a certificate ID (a UUID) nor a serial number (hex)",
                            globals: globals)
        }
    }
}

struct InspectAccount: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account", abstract: "An account: status, key thumbprint, contacts, EAB kid, counts.")

    @OptionGroup var globals: GlobalOptions
    @Argument(help: "The account's ID (UUID, the last part of its URL).") var id: String
    @Flag(help: "Print one JSON object.") var json = false

    func run() async throws {
        let id = Inspect.uuid(self.id, "account", globals)
        await Inspect.show(globals, json: json, what: "account \(id.uuidString.lowercased())") { connection in
            try connection.accountDetail(id: id).map(InspectReport.account)
        }
    }
}
