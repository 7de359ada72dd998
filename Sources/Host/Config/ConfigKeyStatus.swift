/// What acmeeh does with one configuration key. `ConfigKeyCatalog` gives every key the
/// loader accepts one status; docs/configuration.md shows the same table.
enum ConfigKeyStatus: Sendable, Equatable {
    /// Implemented: the key changes what acmeeh does.
    case works
    /// Accepted so reference files load; has no effect. A warning names it when `when` matches.
    case noEffect(why: String, when: ConfigTrigger)
    /// Loading fails when `when` matches: ignoring the value would be unsafe or misleading.
    case refused(why: String, when: ConfigTrigger)
}

/// Which values in the file a status applies to.
enum ConfigTrigger: Sendable, Equatable {
    /// Any value except null or an empty string.
    case set
    /// Exactly this value (`true` for a switch acmeeh cannot honour yet).
    case equals(ScalarValue)
    /// Any value other than this one (the reference default).
    case differs(ScalarValue)

    func matches(_ value: ScalarValue) -> Bool {
        switch self {
        case .set: return value != .null && value != .string("") && value != .unresolved
        case .equals(let wanted): return value == wanted
        case .differs(let usual): return value != usual && value != .null && value != .unresolved
        }
    }
}

/// One key of the schema: its path (`[]` for list elements, `<name>` for free names) and status.
struct ConfigKey: Sendable, Equatable {
    var path: String
    var status: ConfigKeyStatus
}
