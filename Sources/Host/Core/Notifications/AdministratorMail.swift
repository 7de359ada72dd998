import Foundation

/// The mails to an administrator that carry a password (`admin_user_created`,
/// `admin_password_reset`). Unlike every other notification they are never recorded in
/// `notifications` — the row would keep the password in clear — but rendered and sent
/// once, at once, through the SMTP notifier; an undelivered one is logged and the
/// password is still shown to whoever made the change.
extension CoreServices {
    /// Whether the mail was sent (false: notifications or SMTP off, the type disabled, or the delivery failed).
    @discardableResult
    func mailAdministrator(_ type: NotificationType, to address: String, username: String, role: String,
                           password: String) async -> Bool {
        guard let recorder = notificationRecorder, let delivery = notificationDelivery, recorder.isEnabled(type),
              !address.isEmpty
        else { return false }
        let rendered = recorder.templates.render(type, [
            "type": type.rawValue, "server_url": config.server.externalURL, "timestamp": Date().formatted(.iso8601),
            "account_id": "", "contacts": [address], "username": username, "role": role, "password": password,
        ])
        do {
            try await delivery.notifier.deliver(
                PluginNotification(event: type.rawValue, recipients: [address], subject: rendered.subject,
                                   body: rendered.text, bodyHTML: rendered.html),
                timeout: .seconds(delivery.timeoutSeconds))
            delivery.observer.settled(type.rawValue, .sent)
            logger.info("administrator mail sent", metadata: ["type": "\(type.rawValue)", "username": "\(username)"])
            return true
        } catch {
            delivery.observer.settled(type.rawValue, .failed)
            logger.error("administrator mail not delivered",
                         metadata: ["type": "\(type.rawValue)", "username": "\(username)", "error": "\(error.detail)"])
            return false
        }
    }
}
