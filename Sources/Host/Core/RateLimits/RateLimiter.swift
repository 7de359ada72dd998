import Foundation

/// Decides whether a request is within `security.rate_limits` (fixed windows). With
/// `backend: memory` the counters are this process's and a refusal is immediate; with
/// `backend: database` the counter is incremented by the request's first batch (a guard
/// statement of it, so no extra round trip) and a full window aborts that batch: nothing
/// of the request is committed, and the gateway renders `problem(from:)`.
struct RateLimiter: Sendable {
    let database: Database
    let memory: MemoryRateCounters
    private let settings: @Sendable () -> RateLimitsConfig

    /// The limits in force now (SIGHUP replaces them; the memory sweep keeps its interval).
    var config: RateLimitsConfig { settings() }

    init(config: RateLimitsConfig, database: Database) {
        self.init(settings: { config }, database: database)
    }

    /// Limits read from `settings` at each request (`ReloadableSettings`).
    init(settings: @escaping @Sendable () -> RateLimitsConfig, database: Database) {
        self.settings = settings
        self.database = database
        self.memory = MemoryRateCounters(gcInterval: TimeInterval(settings().gcIntervalSeconds))
    }

    /// Counts one request of `limit` for `key`, or throws the `rateLimited` problem. With the
    /// database backend the count rides in `requestGuard`'s batch when it is still to be
    /// sent, else it is one statement of its own.
    func admit(_ limit: RateLimit, key: String, _ requestGuard: RequestGuard?) async throws {
        let config = self.config
        guard config.enabled else { return }
        let rule = limit.rule(config)
        let now = Date()
        let window = RateLimitWindow(rule, at: now)
        let counterKey = "\(limit.rawValue):\(key)"
        switch config.backend {
        case .memory:
            if let end = memory.hit(counterKey, window: window, limit: rule.requests, now: now) {
                throw Self.refusal(limit, retryAfter: RateLimitWindow.retryAfter(until: end, now: now))
            }
        case .database:
            let charge = RateLimitCharge(
                key: counterKey, windowStart: window.start, limit: rule.requests,
                guardName: "\(Self.guardPrefix)\(limit.rawValue):\(Int64(window.end.timeIntervalSince1970))")
            if let requestGuard, requestGuard.charge(charge) { return }
            guard try await database.withConnection({ try $0.chargeRateLimit(charge) }) else {
                throw Self.refusal(limit, retryAfter: RateLimitWindow.retryAfter(until: window.end))
            }
        }
    }

    private static let guardPrefix = "rate_limit:"

    /// The `rateLimited` problem of a batch aborted by a rate-limit guard, else nil.
    static func problem(from error: StoreError) -> Problem? {
        guard error.kind == .guardFailed, let name = error.guardName, name.hasPrefix(guardPrefix) else { return nil }
        let parts = name.dropFirst(guardPrefix.count).split(separator: ":")
        guard parts.count == 2, let limit = RateLimit(rawValue: String(parts[0])), let end = Int64(parts[1]) else {
            return nil
        }
        return refusal(limit, retryAfter: RateLimitWindow.retryAfter(until: Date(timeIntervalSince1970: TimeInterval(end))))
    }

    /// 429 `rateLimited` with `Retry-After` (RFC 8555 §6.6).
    static func refusal(_ limit: RateLimit, retryAfter: Int) -> Problem {
        Problem(.rateLimited, "rate limit \(limit.rawValue) exceeded; retry after \(retryAfter) s",
                headers: ["Retry-After": String(retryAfter)])
    }
}
