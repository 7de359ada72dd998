import Synchronization

/// The settings SIGHUP reloads: `logging.level`, `security.rate_limits`, `notifications`
/// (the guide's `metrics.enabled` needs a restart here: its route is set up with the HTTP
/// server). The features they steer read them here rather than from the configuration the
/// process started with, so a reload reaches them; every other key needs a restart.
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

    init(_ config: AppConfig) {
        state = Mutex(Values(config))
    }

    /// The values in force now.
    var current: Values { state.withLock { $0 } }

    /// Takes the reloadable values of a newly loaded configuration.
    func replace(with config: AppConfig) {
        let values = Values(config)
        state.withLock { $0 = values }
    }
}
