import PluginAPI

/// One message for a delivery channel (`acmeeh_notification`).
struct PluginNotification: Sendable, Equatable {
    /// e.g. "certificate.issuance", "expiration_warning".
    var event: String
    var recipients: [String]
    var subject: String
    var body: String
    /// The event's data as a JSON object.
    var payloadJSON: String = "{}"
    /// An HTML alternative of `body` (ABI 1.1 `body_html`), or nil.
    var bodyHTML: String? = nil
}

/// A notifier instance (SMTP, webhook, ...).
final class NotifierPluginInstance: Sendable {
    let instance: PluginInstance

    init(_ instance: PluginInstance) { self.instance = instance }

    var name: String { instance.library.name }

    func deliver(_ notification: PluginNotification, timeout: Duration) async throws(PluginError) {
        try await instance.call("deliver", timeout: timeout) { descriptor, handle, deadline in
            var error = acmeeh_error.empty()
            let fields: [String?] = [notification.event, notification.subject, notification.body,
                                     notification.payloadJSON, notification.bodyHTML]
            let status = withCStrings(fields + notification.recipients.map(Optional.some)) { s in
                let recipients = Array(s[fields.count...])
                return recipients.withUnsafeBufferPointer { list in
                    var cNotification = acmeeh_notification(
                        struct_size: UInt32(MemoryLayout<acmeeh_notification>.size),
                        event: s[0], recipients: list.baseAddress, recipient_count: list.count,
                        subject: s[1], body: s[2], payload_json: s[3], deadline_ms: deadline, body_html: s[4])
                    return descriptor.notifier_deliver!(handle, &cNotification, &error)
                }
            }
            return self.instance.plainOutcome(status, error, operation: "deliver")
        }
    }

    func selfCheck(timeout: Duration) async throws(PluginError) {
        try await instance.selfCheck(timeout: timeout)
    }

    func close() async { await instance.close() }
}
