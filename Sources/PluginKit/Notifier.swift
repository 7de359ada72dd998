import PluginAPI

/// One message to deliver (`acmeeh_notification`), copied out of the borrowed C struct.
/// (Not named `Notification`: that would clash with Foundation's in every plugin importing both.)
public struct NotifierMessage: Sendable, Equatable {
    /// e.g. "certificate.issuance", "expiration_warning".
    public var event: String
    /// May be empty (a webhook needs none).
    public var recipients: [String]
    public var subject: String
    /// Plain text.
    public var body: String
    /// Since 1.1: an HTML alternative of `body`, or nil (always nil from a 1.0 host).
    public var bodyHTML: String?
    /// The event's data as a JSON object ("{}" when the host sent none).
    public var payloadJSON: String
    public var deadline: Deadline

    public init(event: String, recipients: [String] = [], subject: String = "", body: String = "",
                bodyHTML: String? = nil, payloadJSON: String = "{}", deadline: Deadline) {
        self.event = event
        self.recipients = recipients
        self.subject = subject
        self.body = body
        self.bodyHTML = bodyHTML
        self.payloadJSON = payloadJSON
        self.deadline = deadline
    }
}

/// A notifier instance (`ACMEEH_KIND_NOTIFIER`): hands messages to one transport.
public protocol NotifierInstance: PluginInstance {
    /// Returns when the transport accepted the message (an SMTP server took it, a webhook
    /// answered 2xx); throws otherwise. Delivery is at least once: a retryable error may
    /// bring the same message again.
    func deliver(_ message: NotifierMessage) throws
}

extension PluginDescriptor {
    /// A notifier plugin (`notifier_deliver` calls `NotifierInstance.deliver`).
    public static func notifier(name: String, version: String, description: String,
                                create: CreateFunction) -> UnsafePointer<acmeeh_plugin_descriptor> {
        var d = base(kind: ACMEEH_KIND_NOTIFIER, name: name, version: version, description: description, create: create)
        d.notifier_deliver = notifierDeliverThunk
        return permanent(d)
    }
}

/// The message as Swift values; throws ACMEEH_E_INVALID_INPUT for a malformed recipient list.
private func notifierMessage(_ n: acmeeh_notification) throws(PluginError) -> NotifierMessage {
    guard n.recipient_count == 0 || n.recipients != nil else {
        throw .invalidInput("recipient_count is \(n.recipient_count) but recipients is NULL")
    }
    var recipients: [String] = []
    recipients.reserveCapacity(n.recipient_count)
    for index in 0..<n.recipient_count {
        guard let recipient = borrowedString(n.recipients![index]) else {
            throw .invalidInput("recipient \(index) is NULL")
        }
        recipients.append(recipient)
    }
    // body_html (1.1): borrowedStruct left it NULL when the host's struct_size stops before it.
    return NotifierMessage(
        event: borrowedString(n.event) ?? "", recipients: recipients,
        subject: borrowedString(n.subject) ?? "", body: borrowedString(n.body) ?? "",
        bodyHTML: borrowedString(n.body_html), payloadJSON: borrowedString(n.payload_json) ?? "{}",
        deadline: Deadline(milliseconds: n.deadline_ms))
}

let notifierDeliverThunk: @convention(c) (
    UnsafeMutableRawPointer?, UnsafePointer<acmeeh_notification>?, UnsafeMutablePointer<acmeeh_error>?
) -> Int32 = { instance, notification, err in
    guard let notifier = object(instance) as? any NotifierInstance, let notification else {
        return fail(.internal("notifier_deliver called with NULL or unknown arguments"), err)
    }
    guard let n = borrowedStruct(notification, v1Size: ACMEEH_NOTIFICATION_V1_SIZE) else {
        return fail(.internal("notification struct_size is smaller than the v1.0 layout"), err)
    }
    do {
        try notifier.deliver(try notifierMessage(n))
        return ACMEEH_STATUS_OK
    } catch {
        return fail(asPluginError(error), err)
    }
}
