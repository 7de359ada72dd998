import COpenSSL
import Foundation
import Logging

/// What the ACME resources share: configuration, URLs, the Core operations they call and
/// the gateway that verifies and renders every request.
struct ACMEServices: Sendable {
    let config: AppConfig
    let urls: ACMEURLs
    let core: CoreServices
    let gateway: ACMEGateway
    let logger: Logger

    init(core: CoreServices, urls: ACMEURLs, nonceKey: [UInt8], logger: Logger) {
        config = core.config
        self.urls = urls
        self.core = core
        self.logger = logger
        gateway = ACMEGateway(config: config, urls: urls, database: core.database,
                              nonces: Nonces(key: nonceKey, config: config.nonce), maintenance: core.maintenance,
                              rateLimiter: core.rateLimiter, events: core.events,
                              logger: logger)
    }

    /// The services over `core`, with the cluster's nonce key (created on first use).
    static func start(core: CoreServices, urls: ACMEURLs, logger: Logger) async throws -> ACMEServices {
        var candidate = [UInt8](repeating: 0, count: 32)
        guard RAND_bytes(&candidate, Int32(candidate.count)) == 1 else {
            throw Problem(.serverInternal, "cannot draw random bytes for the nonce key")
        }
        let key = try await core.database.withConnection { [candidate] in try $0.nonceKey(creatingWith: candidate) }
        return ACMEServices(core: core, urls: urls, nonceKey: key, logger: logger)
    }

    /// `<base>/<kind>/<id>`: the URL of a stored resource (acct, order, authz, chall, cert).
    func url(_ kind: String, _ id: UUID) -> String { urls.resource(kind, id) }
}
