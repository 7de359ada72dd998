/// The `hooks` section: lifecycle events delivered to notifier plugins (docs/hooks.md).
/// Each `registered[]` entry names a notifier (`webhook`, `smtp`, `ext:NAME`); the
/// reference's Python hook classes (`registered[].class`) are refused.
struct HooksConfig: Sendable, Equatable {
    /// The events a hook can ask for, as the reference names them.
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
    var registered: [RegisteredHook] = []

    /// The entries to load (`enabled`), each with its index in `registered`.
    var active: [(index: Int, hook: RegisteredHook)] {
        registered.enumerated().filter { $0.element.enabled }.map { ($0.offset, $0.element) }
    }
}

/// One `hooks.registered[]` entry: a notifier plugin and the events it receives.
struct RegisteredHook: Sendable, Equatable {
    /// `webhook`, `smtp` or `ext:NAME`; empty only in an entry refused for its `class`.
    var notifier: String = ""
    var enabled: Bool = true
    /// The events delivered; empty = every event of `HooksConfig.events`.
    var events: [String] = []
    /// Overrides `hooks.timeout_seconds`.
    var timeoutSeconds: Int? = nil
    /// `config` as a JSON object: the notifier instance's configuration.
    var configJSON: String = "{}"

    /// The events this hook receives.
    var wantedEvents: Set<String> { events.isEmpty ? HooksConfig.events : Set(events) }
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
    /// The notifier names besides `ext:NAME`.
    static let builtinNotifiers = ["webhook", "smtp"]

    init(reading r: ConfigObjectReader) {
        self.init()
        // `class` (a Python class) is refused by ConfigKeyCatalog; such an entry needs no notifier.
        let hasClass = r.member("class") != nil
        if hasClass {
            r.read("notifier", into: &notifier)
        } else {
            notifier = r.requiredString("notifier")
        }
        if !notifier.isEmpty, let problem = Self.notifierProblem(notifier) {
            r.report(KeyPath.member(r.path, "notifier"), r.member("notifier")?.line ?? r.line, problem)
        }
        r.read("enabled", into: &enabled)
        r.read("events", into: &events) { HooksConfig.events.contains($0) ? nil : "unknown hook event \"\($0)\"" }
        r.read("timeout_seconds", into: &timeoutSeconds, min: 1, max: 300)
        if let entry = r.member("config") {
            switch entry.value {
            case .mapping: configJSON = entry.value.jsonText
            case .scalar(let s) where s.value == .null: break
            default: r.report(KeyPath.member(r.path, "config"), entry.line,
                              "expected a mapping, found \(entry.value.kindDescription)")
            }
        }
        r.finish(allowComment: true)
    }

    /// Why `value` names no notifier, or nil.
    static func notifierProblem(_ value: String) -> String? {
        if builtinNotifiers.contains(value) { return nil }
        if value.hasPrefix(PluginReferenceSyntax.prefix) {
            if case .failure(let problem) = PluginReferenceSyntax.parse(value) { return problem.message }
            return nil
        }
        return "unknown notifier \"\(value)\" (expected webhook, smtp or ext:NAME for a notifier plugin)"
    }
}
