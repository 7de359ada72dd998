import Foundation

/// The URLs of the ACME resources: absolute ones for clients (directory, Location,
/// the JWS `url` check) and the paths the router serves, both from
/// `server.external_url`, `api.base_path` and `acme.paths.*`.
struct ACMEURLs: Sendable {
    /// `external_url` + `api.base_path`, without a trailing slash.
    let base: String
    /// `api.base_path` as a router prefix ("" or "/something").
    let routePrefix: String
    let paths: AcmePathsConfig
    let renewalInfoPath: String?

    init(config: AppConfig) {
        let prefix = Self.trimmedPrefix(config.api.basePath)
        routePrefix = prefix
        base = Self.trimmedSlash(config.server.externalURL) + prefix
        paths = config.acme.paths
        renewalInfoPath = config.ari.enabled ? config.ari.path : nil
    }

    func absolute(_ path: String) -> String { base + path }

    /// `<base>/<kind>/<id>`: the URL of a stored resource (acct, order, authz, chall, cert).
    func resource(_ kind: String, _ id: UUID) -> String { absolute("/\(kind)/\(id.uuidString.lowercased())") }
    func route(_ path: String) -> String { routePrefix + path }

    var directory: String { absolute(paths.directory) }

    private static func trimmedSlash(_ s: String) -> String {
        var s = s
        while s.hasSuffix("/") { s.removeLast() }
        return s
    }

    private static func trimmedPrefix(_ s: String) -> String {
        let s = trimmedSlash(s)
        if s.isEmpty { return "" }
        return s.hasPrefix("/") ? s : "/" + s
    }
}
