/// The `email` section: rules for account contact addresses (RFC 8555 §7.3).
struct EmailConfig: Sendable, Equatable {
    /// newAccount without a `mailto:` contact is refused.
    var requireContact: Bool = false
    /// Allowed contact domains; empty = any.
    var allowedDomains: [String] = []
    /// A contact's domain must have an MX (or address) record (unused by the reference).
    var validateMX: Bool = false
}

extension EmailConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("require_contact", into: &requireContact)
        r.read("allowed_domains", into: &allowedDomains)
        r.read("validate_mx", into: &validateMX)
        r.finish()
    }
}
