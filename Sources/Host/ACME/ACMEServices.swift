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
    let logger: Logger

    init(runtime: Runtime, logger: Logger) {
        config = runtime.config
        urls = ACMEURLs(config: runtime.config)
        database = runtime.database
        self.runtime = runtime
        self.logger = logger
        gateway = ACMEGateway(config: config, urls: urls, database: database,
                              nonces: Nonces(database: database, config: config.nonce), logger: logger)
    }

    /// `<base>/<kind>/<id>`: the URL of a stored resource (acct, order, authz, chall, cert).
    func url(_ kind: String, _ id: UUID) -> String { urls.absolute("/\(kind)/\(id.uuidString.lowercased())") }
}
