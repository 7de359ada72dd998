import PluginKit
import PluginNetwork

/// `challenges.tlsalpn01`, plus `resolvers`, which the host fills from `dns.resolvers`.
struct TLSALPN01Config: StrictConfig {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case port, timeout_seconds, max_retries, auto_validate, blocked_networks, resolvers
    }
    /// The same defaults as http-01: loopback and link-local are never connected to.
    static let defaultBlockedNetworks = ["127.0.0.0/8", "::1/128", "169.254.0.0/16", "fe80::/10"]

    /// Port to connect to (443; RFC 8737 §3 says 443, tests and labs move it).
    let port: Int
    /// Bound on one whole validation: resolution, connect and handshake (10 s); the call's deadline also bounds it.
    let timeoutSeconds: Int
    /// Read by the host (3); accepted here because it lives in this subtree.
    let maxRetries: Int
    /// Read by the host (true); accepted here because it lives in this subtree.
    let autoValidate: Bool
    /// Networks never connected to (loopback and link-local by default).
    let blockedNetworks: BlockedNetworks
    /// DNS resolvers (`ip`, `ip:port`, `[v6]:port`); empty = the system's.
    let resolver: Resolver

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        port = try c.decode(.port, default: 443, in: 1...65535)
        timeoutSeconds = try c.decode(.timeout_seconds, default: 10, in: 1...3600)
        maxRetries = try c.decode(.max_retries, default: 3, in: 0...1000)
        autoValidate = try c.decode(.auto_validate, default: true)
        let networks: [String] = try c.decode(.blocked_networks, default: Self.defaultBlockedNetworks)
        for network in networks where NetworkSyntax.cidr(network) == nil {
            throw ConfigValueError(CodingKeys.blocked_networks, "\"\(network)\" is not an IP network in CIDR form")
        }
        blockedNetworks = BlockedNetworks(cidrs: networks) ?? BlockedNetworks([])
        let resolvers: [String] = try c.decode(.resolvers, default: [])
        do {
            resolver = try Resolver(resolvers: resolvers)
        } catch {
            throw ConfigValueError(CodingKeys.resolvers, "\"\(error.entry)\" is not a resolver address (ip, ip:port or [v6]:port)")
        }
    }
}
