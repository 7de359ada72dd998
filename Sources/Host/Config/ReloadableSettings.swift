import Synchronization

/// The settings SIGHUP reloads: `logging.level`, `security.rate_limits`, `metrics.enabled`
/// and the per-round `notifications` settings (`ConfigKeyCatalog.reloadablePrefixes`). The features they steer read them here rather than from the
/// configuration the process started with, so a reload reaches them; every other key needs
/// a restart.
final class ReloadableSettings: Sendable {
    struct Values: Sendable, Equatable {
        var loggingLevel: LoggingConfig.Level
        var rateLimits: RateLimitsConfig
        var notifications: NotificationsConfig

        init(_ config: AppConfig) {
            loggingLevel = config.logging.level
            rateLimits = config.security.rateLimits
            notifications = config.notifications
        }
    }

    private let state: Mutex<Values>
    /// `metrics.enabled`, read by every request (a lock-free load).
    private let metrics: Atomic<Bool>

    init(_ config: AppConfig) {
        state = Mutex(Values(config))
        metrics = Atomic(config.metrics.enabled)
    }

    /// Whether `/metrics` is served and requests are timed now.
    var metricsEnabled: Bool { metrics.load(ordering: .relaxed) }

    /// The values in force now.
    var current: Values { state.withLock { $0 } }

    /// Takes the reloadable values of a newly loaded configuration.
    func replace(with config: AppConfig) {
        let values = Values(config)
        state.withLock { $0 = values }
        metrics.store(config.metrics.enabled, ordering: .relaxed)
    }
}
