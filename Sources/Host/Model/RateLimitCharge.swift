import Foundation

/// One request counted against a rate limit kept in PostgreSQL (`backend: database`): the
/// request's first batch increments the counter row (`key`, `windowStart`), and its guard
/// `guardName` refuses the whole batch once the counter would pass `limit`.
struct RateLimitCharge: Sendable, Equatable {
    let key: String
    let windowStart: Date
    let limit: Int
    /// Names the limit and when its window ends, so that a refusal can say when to retry.
    let guardName: String
}
