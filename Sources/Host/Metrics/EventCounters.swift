import Metrics

/// The counters of the guide's table that count committed domain events: accounts
/// created and deactivated, orders created, challenge validation results, certificates
/// issued and revoked, CT log submissions by outcome, and requests refused as security events (a JWS or binding refused,
/// a rate limit or quota hit). Made once at startup (so each series reads 0 before its first
/// event); a subscriber only increments an atomic.
struct EventCounters: Sendable {
    let accountsCreated: Counter
    let accountsDeactivated: Counter
    let ordersCreated: Counter
    let validatedSuccess: Counter
    let validatedRetry: Counter
    let validatedFailure: Counter
    let certificatesIssued: Counter
    let certificatesRevoked: Counter
    let refused: [DomainEvent.RefusedRequest.Kind: Counter]
    let ctSubmissionsSCT: Counter
    let ctSubmissionsFailed: Counter

    init(metrics: ServerMetrics) {
        accountsCreated = metrics.counter("acmeeh_accounts_created_total")
        accountsDeactivated = metrics.counter("acmeeh_accounts_deactivated_total")
        ordersCreated = metrics.counter("acmeeh_orders_created_total")
        validatedSuccess = metrics.counter("acmeeh_challenges_validated_total", [("result", "success")])
        validatedRetry = metrics.counter("acmeeh_challenges_validated_total", [("result", "retry")])
        validatedFailure = metrics.counter("acmeeh_challenges_validated_total", [("result", "failure")])
        certificatesIssued = metrics.counter("acmeeh_certificates_issued_total")
        certificatesRevoked = metrics.counter("acmeeh_certificates_revoked_total")
        ctSubmissionsSCT = metrics.counter("acmeeh_ct_submissions_total", [("result", "sct")])
        ctSubmissionsFailed = metrics.counter("acmeeh_ct_submissions_total", [("result", "failed")])
        refused = Dictionary(uniqueKeysWithValues: DomainEvent.RefusedRequest.Kind.allCases.map {
            ($0, metrics.counter("acmeeh_requests_refused_total", [("kind", $0.rawValue)]))
        })
    }

    /// Counts every event `dispatcher` publishes from now on.
    static func subscribe(_ dispatcher: EventDispatcher, metrics: ServerMetrics) {
        let counters = EventCounters(metrics: metrics)
        dispatcher.subscribe { counters.count($0) }
    }

    func count(_ event: DomainEvent) {
        switch event {
        case .accountRegistered: accountsCreated.increment()
        case .accountDeactivated: accountsDeactivated.increment()
        // An identical open order handed back again is no new order.
        case .orderCreated(_, _, _, _, let created): if created { ordersCreated.increment() }
        case .challengeAfterValidate: validatedSuccess.increment()
        case .challengeRetried: validatedRetry.increment()
        case .challengeFailed: validatedFailure.increment()
        case .certificateIssued: certificatesIssued.increment()
        case .certificateRevoked: certificatesRevoked.increment()
        case .requestRefused(let refusal): refused[refusal.kind]?.increment()
        case .ctSubmitted(_, _, _, _, let sct, _): (sct == nil ? ctSubmissionsFailed : ctSubmissionsSCT).increment()
        case .accountUpdated, .accountRevoked, .accountKeyRolledOver, .challengeBeforeValidate, .authorizationDeactivated,
             .certificateDelivered, .orderUnfulfilled, .revocationRefusedByCA:
            break
        }
    }
}
