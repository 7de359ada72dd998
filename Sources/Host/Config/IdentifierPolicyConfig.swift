/// `security.identifier_policy`: which names and addresses may appear in an order.
struct IdentifierPolicyConfig: Sendable, Equatable {
    /// Allowed domains; `*.x` matches x and every name below it. Empty = any.
    var allowedDomains: [String] = []
    /// Checked before `allowedDomains`.
    var forbiddenDomains: [String] = []
    var allowWildcards: Bool = true
    /// IP identifiers (RFC 8738).
    var allowIP: Bool = false
    var maxIdentifiersPerOrder: Int = 100
    var maxIdentifierValueLength: Int = 253
    /// Only identifiers on the account's admin-managed allowlist may be ordered.
    var enforceAccountAllowlist: Bool = false
}

extension IdentifierPolicyConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("allowed_domains", into: &allowedDomains)
        r.read("forbidden_domains", into: &forbiddenDomains)
        r.read("allow_wildcards", into: &allowWildcards)
        r.read("allow_ip", into: &allowIP)
        r.read("max_identifiers_per_order", into: &maxIdentifiersPerOrder, min: 1)
        r.read("max_identifier_value_length", into: &maxIdentifierValueLength, min: 1)
        r.read("enforce_account_allowlist", into: &enforceAccountAllowlist)
        r.finish()
    }
}
