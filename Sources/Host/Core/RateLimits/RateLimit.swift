import Foundation

/// The six named limits of `security.rate_limits`, with what each counts and by which key.
enum RateLimit: String, Sendable, CaseIterable {
    /// newNonce (HEAD, GET, POST-as-GET), per client address.
    case newNonce = "new_nonce"
    /// newAccount, per client address.
    case newAccount = "new_account"
    /// newOrder, per client address.
    case newOrder = "new_order"
    /// newOrder, per identifier value named in the order.
    case newOrderPerIdentifier = "new_order_per_identifier"
    /// Requests to challenge URLs (fetches and responses), per client address.
    case challenge
    /// Challenge responses (requests to validate), per account.
    case challengeValidation = "challenge_validation"

    func rule(_ config: RateLimitsConfig) -> RateLimitsConfig.Rule {
        switch self {
        case .newNonce: config.newNonce
        case .newAccount: config.newAccount
        case .newOrder: config.newOrder
        case .newOrderPerIdentifier: config.newOrderPerIdentifier
        case .challenge: config.challenge
        case .challengeValidation: config.challengeValidation
        }
    }
}

/// A fixed window of a rule: windows start at multiples of `window_seconds` since the epoch.
struct RateLimitWindow: Sendable, Equatable {
    let start: Date
    let end: Date

    init(_ rule: RateLimitsConfig.Rule, at now: Date) {
        let seconds = Double(rule.windowSeconds)
        let start = (now.timeIntervalSince1970 / seconds).rounded(.down) * seconds
        self.start = Date(timeIntervalSince1970: start)
        self.end = Date(timeIntervalSince1970: start + seconds)
    }

    /// Whole seconds until the window ends (at least 1): the `Retry-After` of a refusal.
    static func retryAfter(until end: Date, now: Date = Date()) -> Int {
        max(1, Int(end.timeIntervalSince(now).rounded(.up)))
    }
}
