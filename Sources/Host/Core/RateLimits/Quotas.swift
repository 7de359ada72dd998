import Foundation

/// The `quotas` section: at most so many orders (checked at newOrder) and certificates
/// (checked at finalize) per account over the rolling last 24 hours, counted from the
/// `orders` and `certificates` tables; 0 is no quota. Each check is a guard statement of
/// the step's batch, so a refusal (429 `rateLimited`) changes nothing. Two concurrent
/// requests of one account may both pass the last free slot (the counts are read, not locked).
struct Quotas: Sendable {
    let config: QuotasConfig
    let database: Database

    static let ordersGuard = "quota:orders"
    static let certificatesGuard = "quota:certificates"

    /// The guard of newOrder's first batch (none without a quota).
    func orderGuards(accountID: UUID) -> [BatchStatement] {
        guard config.enabled, config.maxOrdersPerAccountPerDay > 0 else { return [] }
        return [.orderQuota(accountID: accountID, max: config.maxOrdersPerAccountPerDay, guardName: Self.ordersGuard)]
    }

    /// The guard of finalize's claim batch (none without a quota).
    func certificateGuards(accountID: UUID) -> [BatchStatement] {
        guard config.enabled, config.maxCertificatesPerAccountPerDay > 0 else { return [] }
        return [.certificateQuota(accountID: accountID, max: config.maxCertificatesPerAccountPerDay,
                                  guardName: Self.certificatesGuard)]
    }

    /// The `rateLimited` problem of a batch aborted by a quota guard (with `Retry-After`
    /// when the oldest counted row leaves the window), else nil.
    /// How every quota refusal's detail begins.
    static let refusalPrefix = "quota exceeded"

    /// Whether `problem` is a quota's refusal (not a rate limit's).
    static func isQuotaRefusal(_ problem: Problem) -> Bool {
        problem.type == .rateLimited && problem.detail.hasPrefix(refusalPrefix)
    }

    func refusal(_ error: StoreError, accountID: UUID) async -> Problem? {
        guard error.kind == .guardFailed, let name = error.guardName,
              name == Self.ordersGuard || name == Self.certificatesGuard else { return nil }
        let certificates = name == Self.certificatesGuard
        let retryAfter = (try? await database.withConnection {
            try $0.quotaRetryAfter(accountID: accountID, certificates: certificates)
        }) ?? 3600
        let what = certificates ? "certificates (\(config.maxCertificatesPerAccountPerDay))"
            : "orders (\(config.maxOrdersPerAccountPerDay))"
        return Problem(.rateLimited, "\(Self.refusalPrefix): this account may have \(what) per 24 hours; retry after \(retryAfter) s",
                       headers: ["Retry-After": String(retryAfter)])
    }
}
