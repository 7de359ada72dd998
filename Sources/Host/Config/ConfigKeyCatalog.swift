/// Every key the loader accepts (leaf keys; a mapping such as `acme.paths` is not a key
/// itself, a list such as `hooks.registered` is), with its status: the one place that says which keys work,
/// which are refused, and which load before their feature exists. A later change flips an
/// entry to `.works` when its feature lands; ConfigKeyCoverageTests keeps this list equal
/// to what the section readers ask for, and to docs/configuration.md.
enum ConfigKeyCatalog {
    /// Keys SIGHUP reloads (the deployment guide's set, held by `ReloadableSettings`); a
    /// change of any other key needs a restart.
    static let reloadablePrefixes = [
        "logging.level", "security.rate_limits", "metrics.enabled",
        // what the notification recorder, sender and expiration worker read per round
        "notifications.max_retries", "notifications.retry_delay_seconds", "notifications.batch_size",
        "notifications.expiration_warning_days", "notifications.retry_backoff_multiplier",
        "notifications.retry_max_delay_seconds", "notifications.disabled_types",
    ]

    /// Mappings whose keys are names the operator chooses (`ca.profiles.web`).
    static let freeNameParents: Set<String> = ["ca.profiles"]

    /// A path listed twice keeps its first entry (ConfigKeyCoverageTests fails on it).
    static let byPath: [String: ConfigKey] = Dictionary(entries.map { ($0.path, $0) }) { first, _ in first }

    static func isReloadable(_ path: String) -> Bool {
        reloadablePrefixes.contains { path == $0 || path.hasPrefix($0 + ".") }
    }

    static func works(_ section: String, _ keys: String...) -> [ConfigKey] {
        keys.map { ConfigKey(path: KeyPath.member(section, $0), status: .works) }
    }

    static func noEffect(_ path: String, unless usual: ScalarValue, _ why: String) -> ConfigKey {
        ConfigKey(path: path, status: .noEffect(why: why, when: .differs(usual)))
    }

    static func refused(_ path: String, when trigger: ConfigTrigger, _ why: String) -> ConfigKey {
        ConfigKey(path: path, status: .refused(why: why, when: trigger))
    }
}
