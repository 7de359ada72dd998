/// The `account` section: what clients may change on their own account (RFC 8555 §7.3.2, §7.3.6).
struct AccountConfig: Sendable, Equatable {
    var allowContactUpdate: Bool = true
    var allowDeactivation: Bool = true
}

extension AccountConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("allow_contact_update", into: &allowContactUpdate)
        r.read("allow_deactivation", into: &allowDeactivation)
        r.finish()
    }
}
