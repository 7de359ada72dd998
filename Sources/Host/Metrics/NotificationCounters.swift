import Metrics

/// `acmeeh_notifications_total{type, result}` (sent, retried, failed per delivery attempt)
/// and `acmeeh_expiration_warnings_sent_total`, made once at startup so every series reads 0
/// before its first delivery.
struct NotificationCounters: Sendable {
    private let attempts: [String: Counter]
    private let expirationWarningsSent: Counter

    init(metrics: ServerMetrics) {
        var attempts: [String: Counter] = [:]
        for type in NotificationType.allCases {
            for result in [NotificationObserver.Result.sent, .retried, .failed] {
                attempts["\(type.rawValue) \(result.rawValue)"] =
                    metrics.counter("acmeeh_notifications_total", [("type", type.rawValue), ("result", result.rawValue)])
            }
        }
        self.attempts = attempts
        expirationWarningsSent = metrics.counter("acmeeh_expiration_warnings_sent_total")
    }

    var observer: NotificationObserver {
        NotificationObserver { type, result in
            attempts["\(type) \(result.rawValue)"]?.increment()
            if type == NotificationType.expirationWarning.rawValue, result == .sent { expirationWarningsSent.increment() }
        }
    }
}
