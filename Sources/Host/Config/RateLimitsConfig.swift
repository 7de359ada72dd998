/// `security.rate_limits`: request budgets per client (or per identifier) and window.
struct RateLimitsConfig: Sendable, Equatable {
    /// Where counters live: per process, or shared through PostgreSQL.
    enum Backend: String, Sendable, CaseIterable {
        case memory, database
    }

    /// At most `requests` in any `windowSeconds`.
    struct Rule: Sendable, Equatable {
        var requests: Int
        var windowSeconds: Int
    }

    var enabled: Bool = true
    var backend: Backend = .memory
    var newNonce = Rule(requests: 100, windowSeconds: 60)
    var newAccount = Rule(requests: 10, windowSeconds: 3600)
    var newOrder = Rule(requests: 300, windowSeconds: 3600)
    var newOrderPerIdentifier = Rule(requests: 50, windowSeconds: 604_800)
    var challenge = Rule(requests: 60, windowSeconds: 60)
    var challengeValidation = Rule(requests: 30, windowSeconds: 60)
    var gcIntervalSeconds: Int = 300
    var gcMaxAgeSeconds: Int = 7200
}

extension RateLimitsConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("enabled", into: &enabled)
        r.read("backend", into: &backend)
        Self.readRule(r, "new_nonce", into: &newNonce)
        Self.readRule(r, "new_account", into: &newAccount)
        Self.readRule(r, "new_order", into: &newOrder)
        Self.readRule(r, "new_order_per_identifier", into: &newOrderPerIdentifier)
        Self.readRule(r, "challenge", into: &challenge)
        Self.readRule(r, "challenge_validation", into: &challengeValidation)
        r.read("gc_interval_seconds", into: &gcIntervalSeconds, min: 1)
        r.read("gc_max_age_seconds", into: &gcMaxAgeSeconds, min: 1)
        r.finish()
    }

    /// A rule written in the file must give both numbers (as the reference's schema demands).
    private static func readRule(_ r: ConfigObjectReader, _ key: String, into rule: inout Rule) {
        guard r.member(key) != nil else { return }
        let o = r.object(key)
        o.requireKeys("requests", "window_seconds")
        o.read("requests", into: &rule.requests, min: 1)
        o.read("window_seconds", into: &rule.windowSeconds, min: 1)
        o.finish()
    }
}
