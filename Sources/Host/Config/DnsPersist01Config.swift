/// `challenges.dnspersist01`: the dns-persist-01 validator (draft-ietf-acme-dns-persist),
/// which checks one long-lived `_validation-persist` TXT record naming this CA.
struct DnsPersist01Config: Sendable, Equatable {
    /// This CA's issuer domain names (lowercased); required when dns-persist-01 is enabled.
    var issuerDomainNames: [String] = []
    /// As `challenges.dns01.resolvers`: empty = `dns.resolvers`, then the system resolver.
    var resolvers: [String] = []
    var timeoutSeconds: Int = 30
    /// The least wait before a failed validation is tried again (the reference never waited on it).
    var propagationWaitSeconds: Int = 10
    var maxRetries: Int = 5
    var autoValidate: Bool = false
    var requireDNSSEC: Bool = false
    var requireAuthoritative: Bool = false
    var allowWildcardPolicy: Bool = true
    /// A `policy=wildcard` record on an ancestor also authorizes names below it.
    var allowSubdomainPolicy: Bool = false
}

extension DnsPersist01Config {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("issuer_domain_names", into: &issuerDomainNames) { name in
            name.isEmpty || name.contains(" ") ? "\"\(name)\" is not a domain name" : nil
        }
        issuerDomainNames = issuerDomainNames.map { $0.lowercased() }
        r.read("resolvers", into: &resolvers, check: NetworkSyntax.resolverProblem)
        r.read("timeout_seconds", into: &timeoutSeconds, min: 1)
        r.read("propagation_wait_seconds", into: &propagationWaitSeconds, min: 0)
        r.read("max_retries", into: &maxRetries, min: 0)
        r.read("auto_validate", into: &autoValidate)
        r.read("require_dnssec", into: &requireDNSSEC)
        r.read("require_authoritative", into: &requireAuthoritative)
        r.read("allow_wildcard_policy", into: &allowWildcardPolicy)
        r.read("allow_subdomain_policy", into: &allowSubdomainPolicy)
        r.finish()
    }
}
