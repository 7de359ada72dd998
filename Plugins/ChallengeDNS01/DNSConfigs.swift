import PluginKit

/// Keys shared by `challenges.dns01` and `challenges.dnspersist01`.
private func decodeResolvers<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K) throws -> [String] {
    let resolvers: [String] = try c.decode(key, default: [])
    for resolver in resolvers where NetworkSyntax.resolver(resolver) == nil {
        throw ConfigValueError(key, "\"\(resolver)\" is not a resolver address (ip, ip:port or [v6]:port)")
    }
    return resolvers
}

/// `challenges.dns01`.
struct DNS01Config: StrictConfig {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case resolvers, timeout_seconds, propagation_wait_seconds, max_retries, auto_validate
        case require_dnssec, require_authoritative
    }
    /// Resolvers to ask ([] = the system's).
    let resolvers: [String]
    /// Lookup timeout (30 s).
    let timeoutSeconds: Int
    /// Accepted for compatibility (10); the reference never uses it.
    let propagationWaitSeconds: Int
    /// Read by the host (5).
    let maxRetries: Int
    /// Read by the host (false).
    let autoValidate: Bool
    /// Require the AD bit on answers (false).
    let requireDNSSEC: Bool
    /// Ask the zone's authoritative servers (false).
    let requireAuthoritative: Bool

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        resolvers = try decodeResolvers(c, .resolvers)
        timeoutSeconds = try c.decode(.timeout_seconds, default: 30, in: 1...3600)
        propagationWaitSeconds = try c.decode(.propagation_wait_seconds, default: 10, in: 0...3600)
        maxRetries = try c.decode(.max_retries, default: 5, in: 0...1000)
        autoValidate = try c.decode(.auto_validate, default: false)
        requireDNSSEC = try c.decode(.require_dnssec, default: false)
        requireAuthoritative = try c.decode(.require_authoritative, default: false)
    }
}

/// `challenges.dnspersist01` (draft-ietf-acme-dns-persist).
struct DNSPersist01Config: StrictConfig {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case issuer_domain_names, resolvers, timeout_seconds, propagation_wait_seconds, max_retries
        case auto_validate, require_dnssec, require_authoritative, allow_wildcard_policy, allow_subdomain_policy
    }
    /// This CA's issuer domain names, lowercased A-labels. Required, not empty.
    let issuerDomainNames: [String]
    let resolvers: [String]
    let timeoutSeconds: Int
    let propagationWaitSeconds: Int
    let maxRetries: Int
    let autoValidate: Bool
    let requireDNSSEC: Bool
    let requireAuthoritative: Bool
    /// Honour policy=wildcard records (true).
    let allowWildcardPolicy: Bool
    /// Also look at ancestors' records with policy=wildcard (false).
    let allowSubdomainPolicy: Bool

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let names: [String] = try c.require(.issuer_domain_names)
        guard !names.isEmpty else {
            throw ConfigValueError(CodingKeys.issuer_domain_names, "must name at least one issuer domain")
        }
        issuerDomainNames = try names.map { name in
            let lower = name.lowercased()
            guard NetworkSyntax.isDomainName(lower) else {
                throw ConfigValueError(CodingKeys.issuer_domain_names, "\"\(name)\" is not a domain name in A-label form")
            }
            return lower
        }
        resolvers = try decodeResolvers(c, .resolvers)
        timeoutSeconds = try c.decode(.timeout_seconds, default: 30, in: 1...3600)
        propagationWaitSeconds = try c.decode(.propagation_wait_seconds, default: 10, in: 0...3600)
        maxRetries = try c.decode(.max_retries, default: 5, in: 0...1000)
        autoValidate = try c.decode(.auto_validate, default: false)
        requireDNSSEC = try c.decode(.require_dnssec, default: false)
        requireAuthoritative = try c.decode(.require_authoritative, default: false)
        allowWildcardPolicy = try c.decode(.allow_wildcard_policy, default: true)
        allowSubdomainPolicy = try c.decode(.allow_subdomain_policy, default: false)
    }
}
