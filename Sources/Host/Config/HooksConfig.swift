/// The `hooks` section: event delivery settings. acmeeh delivers events through notifier
/// plugins; the reference's Python hook classes (`registered[].class`) cannot be loaded.
struct HooksConfig: Sendable, Equatable {
    static let events: Set<String> = [
        "account.registration", "order.creation", "challenge.before_validate", "challenge.after_validate",
        "challenge.on_failure", "challenge.on_retry", "certificate.issuance", "certificate.revocation",
        "certificate.delivery", "ct.submission",
    ]

    var timeoutSeconds: Int = 30
    var maxWorkers: Int = 4
    var maxRetries: Int = 0
    /// JSON-lines file for events whose delivery failed after all retries.
    var deadLetterLog: String? = nil
    /// Always empty in a loaded configuration: a registered Python hook is refused.
    var registered: [RegisteredHook] = []
}

/// One `hooks.registered[]` entry as the reference wrote it.
struct RegisteredHook: Sendable, Equatable {
    var className: String = ""
    var enabled: Bool = true
    var events: [String] = []
    var timeoutSeconds: Int? = nil
}

extension HooksConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("timeout_seconds", into: &timeoutSeconds, min: 1, max: 300)
        r.read("max_workers", into: &maxWorkers, min: 1, max: 16)
        r.read("max_retries", into: &maxRetries, min: 0)
        r.read("dead_letter_log", into: &deadLetterLog)
        if let items = r.elements("registered") {
            registered = items.map { path, node in
                RegisteredHook(reading: ConfigObjectReader(node: node, path: path, line: node.line,
                                                           diagnostics: r.diagnostics))
            }
            if items.count > 50 {
                r.report(KeyPath.member(r.path, "registered"), r.member("registered")?.line ?? r.line, "at most 50 hooks")
            }
        }
        r.finish()
    }
}

extension RegisteredHook {
    init(reading r: ConfigObjectReader) {
        self.init()
        className = r.requiredString("class")  // refused by ConfigKeyCatalog: a Python class
        r.read("enabled", into: &enabled)
        r.read("events", into: &events) { HooksConfig.events.contains($0) ? nil : "unknown hook event \"\($0)\"" }
        r.read("timeout_seconds", into: &timeoutSeconds, min: 1, max: 300)
        _ = r.member("config")  // free-form settings of the hook
        r.finish(allowComment: true)
    }
}
