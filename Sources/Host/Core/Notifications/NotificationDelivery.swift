import Foundation
import Logging

/// Delivers recorded notifications through the SMTP notifier plugin: claims the due ones
/// (`notifications.batch_size` at a time, leased, shared by instances), delivers each, and
/// records the outcome. A failed attempt is retried after retry_delay_seconds ×
/// retry_backoff_multiplier^(n−1), capped at retry_max_delay_seconds; after max_retries
/// retries, or at once when the mail server refuses for good (a rejected recipient), the
/// notification is `failed`.
struct NotificationDelivery: Sendable {
    let database: Database
    let notifier: NotifierPluginInstance
    /// `notifications` as in force now (SIGHUP reloads it): batch size, retries, backoff.
    let settings: @Sendable () -> NotificationsConfig
    /// The bound on one delivery (`smtp.timeout_seconds`).
    let timeoutSeconds: Int
    let observer: NotificationObserver
    let logger: Logger

    /// An attempt under way keeps its row from other instances this long.
    var leaseSeconds: Int { timeoutSeconds + 30 }

    /// The delay before the next attempt after `attempts` failed ones (1, 2, …).
    static func retryDelaySeconds(afterAttempts attempts: Int, config: NotificationsConfig) -> Int {
        let delay = Double(config.retryDelaySeconds) * pow(config.retryBackoffMultiplier, Double(min(max(attempts, 1) - 1, 60)))
        return max(1, min(config.retryMaxDelaySeconds, Int(delay.rounded(.up))))
    }

    /// One round: claims the due notifications and attempts each; returns how many it claimed.
    func deliverDue() async throws -> Int {
        let config = settings()
        let due = try await database.runBatch([.claimDueNotifications(limit: config.batchSize, leaseSeconds: leaseSeconds)])[0]
            .dueNotifications
        await withTaskGroup(of: Void.self) { group in
            for notification in due { group.addTask { await attempt(notification, config: config) } }
        }
        return due.count
    }

    private func attempt(_ notification: DueNotification, config: NotificationsConfig) async {
        let attempts = notification.attempts + 1
        let metadata: Logger.Metadata = ["notification": "\(notification.id)", "type": "\(notification.type)",
                                         "attempts": "\(attempts)"]
        let statement: BatchStatement
        do {
            try await notifier.deliver(PluginNotification(event: notification.type, recipients: notification.recipients,
                                                          subject: notification.subject, body: notification.bodyText,
                                                          bodyHTML: notification.bodyHTML),
                                       timeout: .seconds(timeoutSeconds))
            statement = .notificationSent(notification.id, attempts: attempts)
            observer.settled(notification.type, .sent)
            logger.info("notification sent", metadata: metadata)
        } catch {
            let final = !error.retryable && error.code != .config
            if final || attempts > config.maxRetries {
                statement = .notificationFailed(notification.id, attempts: attempts, error: error.detail)
                observer.settled(notification.type, .failed)
                logger.error("notification failed", metadata: metadata.merging(["error": "\(error.detail)"]) { $1 })
            } else {
                let delay = Self.retryDelaySeconds(afterAttempts: attempts, config: config)
                statement = .notificationRetry(notification.id, attempts: attempts, retryInSeconds: delay, error: error.detail)
                observer.settled(notification.type, .retried)
                logger.warning("notification not delivered; will retry",
                               metadata: metadata.merging(["error": "\(error.detail)", "retry_in_seconds": "\(delay)"]) { $1 })
            }
        }
        do {
            _ = try await database.runBatch([statement])
        } catch {
            // The lease runs out and the row comes due again: at worst one more attempt.
            logger.warning("could not record a notification attempt", metadata: metadata.merging(["error": "\(error)"]) { $1 })
        }
    }
}

/// Told how each delivery attempt settled (the metrics).
struct NotificationObserver: Sendable {
    enum Result: String, Sendable { case sent, retried, failed }
    let settled: @Sendable (_ type: String, _ result: Result) -> Void

    static let none = NotificationObserver { _, _ in }
}
