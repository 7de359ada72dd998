import Foundation
import Logging
import Synchronization

/// Maintenance mode (deployment guide, "Maintenance Mode"): while it is on, newOrder and
/// newAuthz are refused with 503 and `Retry-After: 300`; finalization, challenges,
/// downloads, revocation and account operations go on. The switch lives in PostgreSQL
/// (`server_settings`), set by `acmeeh maintenance` (and the admin API); each instance
/// keeps a copy that `run` refreshes every second, so a request reads it without a round
/// trip and every instance obeys a change within 2 s. The refresh has a connection of its
/// own: it neither waits for nor counts among the requests' round trips.
final class MaintenanceMode: Sendable {
    /// The `Retry-After` of a refused request, as the guide gives it.
    static let retryAfterSeconds = 300
    static let refreshInterval: Duration = .seconds(1)

    private let database: Database
    private let state = Mutex(false)

    /// Reads the switch from the database of `config`, over one connection opened on demand.
    init(config: DatabaseConfig) {
        var settings = config
        settings.minConnections = 0
        settings.maxConnections = 1
        database = Database(config: settings, logger: Logger(label: "acmeeh.maintenance"))
    }

    /// Closes the refresh connection (at shutdown, after `run` ended).
    func close() async {
        await database.shutdown()
    }

    /// The last state read from the database.
    var isOn: Bool { state.withLock { $0 } }

    /// The refusal of a request that creates new orders or authorizations. The reference
    /// sends `serverInternal` with 503; RFC 8555 has no more specific type.
    static let refusal = Problem(
        .serverInternal, "the server is in maintenance mode: new orders and authorizations are paused; retry later",
        refusal: .unavailable, headers: ["Retry-After": String(retryAfterSeconds)])

    /// Throws the refusal while maintenance mode is on.
    func checkOpen() throws(Problem) {
        if isOn { throw Self.refusal }
    }

    /// Reads the state from the database now.
    func refresh() async throws {
        let on = try await database.withConnection { try $0.maintenanceMode() }
        state.withLock { $0 = on }
    }

    /// Refreshes every `refreshInterval` until the task is cancelled; a failed read keeps
    /// the last state and is logged once per failure streak.
    func run(logger: Logger) async {
        var failing = false
        while !Task.isCancelled {
            do {
                let was = isOn
                try await refresh()
                if was != isOn { logger.notice("maintenance mode \(isOn ? "on" : "off")") }
                failing = false
            } catch {
                if !failing { logger.warning("cannot read maintenance mode; keeping \(isOn ? "on" : "off")",
                                             metadata: ["error": "\(error)"]) }
                failing = true
            }
            try? await Task.sleep(for: Self.refreshInterval)
        }
    }
}
