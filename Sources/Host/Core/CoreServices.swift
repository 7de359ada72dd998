import Foundation
import Logging

/// The one place where ACME state changes are decided: each RFC 8555 step is one
/// operation on this value (in the files beside it, by resource). An operation checks
/// the request against policy and the current state, has `Store` apply the change in one
/// transaction, runs the slow outside work (signing, validation) through `Plugins`, and
/// publishes the domain events of what it committed. It knows nothing of HTTP.
struct CoreServices: Sendable {
    let config: AppConfig
    let database: Database
    /// The CA backends (`ca.backend`, then `ca.failover`) behind their circuit breakers.
    let ca: GuardedCA
    /// One validator per enabled challenge type.
    let validators: [String: ChallengePluginInstance]
    let events: EventDispatcher
    /// Rung when a challenge is queued for the worker, so it starts without waiting a poll.
    let workerBell: WorkerBell
    /// The account URL (`accounturi` of dns-persist-01, the `account` of a key change).
    let accountURL: @Sendable (UUID) -> String
    /// The cluster-wide maintenance switch, as this instance last read it.
    let maintenance: MaintenanceMode
    /// The settings SIGHUP reloads.
    let reloadable: ReloadableSettings
    let logger: Logger
    /// `security.rate_limits` (its memory counters are shared by every copy).
    let rateLimiter: RateLimiter
    /// Told how long each validation attempt took and how each forwarded revocation
    /// settled (the CA's sign calls are observed by `ca`).
    var pluginObserver: PluginCallObserver = .none
    /// `ct_logging` when enabled (its log keys read at startup).
    var transparency: CertificateTransparency? = nil
    /// `notifications.enabled`: records the notifications of committed events.
    var notificationRecorder: NotificationRecorder? = nil
    /// `smtp.enabled` too: delivers what is recorded.
    var notificationDelivery: NotificationDelivery? = nil
    /// The revocation outbox as this instance last counted it.
    let revocationBacklog = RevocationBacklog()

    var quotas: Quotas { Quotas(config: config.quotas, database: database) }
    /// The bound on each plugin call made for a request (`server.timeout`).
    var pluginTimeout: Duration { .seconds(config.server.timeout) }

    var challengeTypes: ChallengeTypes { ChallengeTypes(validators: validators, config: config.challenges) }

    var validation: ChallengeValidation {
        ChallengeValidation(database: database, validators: validators, types: challengeTypes,
                            timeout: pluginTimeout, accountURL: accountURL, events: events, logger: logger,
                            observer: pluginObserver)
    }

    /// Revocations to the CA backend that issued, retried until it confirms.
    var revocationForwarding: RevocationForwarding {
        RevocationForwarding(database: database, ca: ca, timeout: pluginTimeout,
                             backoffBaseSeconds: config.ca.circuitBreakerRecoveryTimeout, backlog: revocationBacklog,
                             observer: pluginObserver, events: events, logger: logger)
    }

    var issuance: Issuance {
        Issuance(config: config, database: database, ca: ca, timeout: pluginTimeout, events: events, logger: logger,
                 transparency: transparency)
    }

    /// CRL publishing (`crl.enabled`; nil when off): every backend signs its own CRL.
    var crl: CRLPublisher? {
        guard config.crl.enabled else { return nil }
        let ca = self.ca, timeout = pluginTimeout
        return CRLPublisher(config: config.crl, database: database, backends: ca.backends.map(\.name),
                            sign: { name, draft in
                                guard let backend = ca.backends.first(where: { $0.name == name }) else {
                                    throw StoreError(.decoding, "no CA backend \(name)")
                                }
                                return try await backend.instance.signCRL(CASignCRLRequest(draft), timeout: timeout)
                            }, logger: logger)
    }

    /// The expiration warnings (`notifications.enabled`; nil when off).
    var expirationWarnings: ExpirationWarnings? {
        notificationRecorder.map {
            ExpirationWarnings(database: database, recorder: $0, logger: Logger(label: "acmeeh.worker.expiration"))
        }
    }

    var orderCreation: OrderCreation {
        OrderCreation(config: config, database: database, types: challengeTypes, rateLimiter: rateLimiter, quotas: quotas)
    }
}
