import ArgumentParser
import Foundation

/// `acmeeh maintenance on|off|status`: the cluster-wide maintenance switch (deployment
/// guide, "Maintenance Mode"), stored in PostgreSQL; every instance obeys it within 2 s.
struct Maintenance: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "maintenance", abstract: "Pause or resume new orders and authorizations (every instance).",
        subcommands: [MaintenanceOn.self, MaintenanceOff.self, MaintenanceStatus.self])

    /// Applies `change` (nil: only reads) and prints the state.
    static func run(_ globals: GlobalOptions, set change: Bool?, json: Bool) async throws {
        guard let invocation = Invocation.start(globals) else { return }
        let on: Bool
        do {
            on = try await EAB.withStore(invocation.config) { connection in
                if let change { try connection.setMaintenanceMode(change) }
                return try connection.maintenanceMode()
            }
        } catch {
            invocation.fail(CLIError("maintenance: \(error)"))
        }
        if json {
            printJSON(["maintenance_mode": on])
        } else if change != nil {
            print("maintenance mode is now \(on ? "on" : "off")" + (on
                ? ": newOrder and newAuthz answer 503 (Retry-After: 300) at every instance within 2 s" : ""))
        } else {
            print("maintenance mode is \(on ? "on" : "off")")
        }
    }
}

struct MaintenanceOn: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "on", abstract: "Turn maintenance mode on.")
    @OptionGroup var globals: GlobalOptions
    @Flag(help: "Print JSON.") var json = false
    func run() async throws { try await Maintenance.run(globals, set: true, json: json) }
}

struct MaintenanceOff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "off", abstract: "Turn maintenance mode off.")
    @OptionGroup var globals: GlobalOptions
    @Flag(help: "Print JSON.") var json = false
    func run() async throws { try await Maintenance.run(globals, set: false, json: json) }
}

struct MaintenanceStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show whether maintenance mode is on.")
    @OptionGroup var globals: GlobalOptions
    @Flag(help: "Print JSON.") var json = false
    func run() async throws { try await Maintenance.run(globals, set: nil, json: json) }
}
