import COpenSSL
import Foundation
import Logging

/// What the ACME resources share: configuration, URLs, the database, the loaded
/// plugins and the gateway that verifies and renders every request.
struct ACMEServices: Sendable {
    let config: AppConfig
    let urls: ACMEURLs
    let database: Database
    let runtime: Runtime
    let gateway: ACMEGateway
    /// Rung when a challenge is queued for the worker, so it starts without waiting a poll.
    let workerBell = WorkerBell()
    let logger: Logger

    init(runtime: Runtime, nonceKey: [UInt8], logger: Logger) {
        config = runtime.config
        urls = ACMEURLs(config: runtime.config)
        database = runtime.database
        self.runtime = runtime
        self.logger = logger
        gateway = ACMEGateway(config: config, urls: urls, database: database,
                              nonces: Nonces(key: nonceKey, config: config.nonce), logger: logger)
    }

    /// The services of a started runtime, with the cluster's nonce key (created on first use).
    static func start(runtime: Runtime, logger: Logger) async throws -> ACMEServices {
        var candidate = [UInt8](repeating: 0, count: 32)
        guard RAND_bytes(&candidate, Int32(candidate.count)) == 1 else {
            throw Problem(.serverInternal, "cannot draw random bytes for the nonce key")
        }
        let key = try await runtime.database.withConnection { [candidate] in try $0.nonceKey(creatingWith: candidate) }
        return ACMEServices(runtime: runtime, nonceKey: key, logger: logger)
    }

    /// `<base>/<kind>/<id>`: the URL of a stored resource (acct, order, authz, chall, cert).
    func url(_ kind: String, _ id: UUID) -> String { urls.absolute("/\(kind)/\(id.uuidString.lowercased())") }
}
