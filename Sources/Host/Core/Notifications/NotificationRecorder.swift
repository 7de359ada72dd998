import Foundation
import Logging

/// Turns committed domain events into notifications for the account's contacts: renders
/// the type's templates and records the result in `notifications` for the sender. Built
/// only when `notifications.enabled`; a type in `disabled_types` (as SIGHUP last loaded
/// it) and an account without a mail contact record nothing. With `smtp.enabled` false a
/// notification is recorded `unsent`. Recording runs after the event's commit, on its own
/// task: it never delays or fails the request (a crash in between loses the notification,
/// not the change).
struct NotificationRecorder: Sendable {
    let database: Database
    let templates: NotificationTemplates
    /// `notifications` as in force now (SIGHUP reloads it).
    let settings: @Sendable () -> NotificationsConfig
    /// `smtp.enabled`: whether what is recorded will be sent.
    let deliverable: Bool
    let serverURL: String
    /// Rung after a notification is recorded, so the sender starts at once.
    let bell: WorkerBell
    let logger: Logger
    let contacts = ContactsCache()

    /// Records the notification of each event `dispatcher` publishes from now on.
    func subscribe(_ dispatcher: EventDispatcher) {
        dispatcher.subscribe { event in
            switch event {
            case .accountRegistered(let account, let list, _, _, _), .accountUpdated(let account, let list):
                contacts.remember(list, of: account)
            default:
                break
            }
            guard let (type, accountID, variables) = Self.notification(of: event), isEnabled(type) else { return }
            Task { await record(type, accountID: accountID, variables: variables) }
        }
    }

    /// Renders and records one notification to the account's mail contacts.
    func record(_ type: NotificationType, accountID: UUID, variables: [String: Any]) async {
        guard isEnabled(type) else { return }
        do {
            var known = contacts.contacts(of: accountID)
            if known == nil {
                guard let account = try await database.withConnection({ try $0.account(id: accountID) }) else { return }
                contacts.remember(account.contacts, of: accountID)
                known = account.contacts
            }
            guard let statement = statement(type, accountID: accountID, contacts: known ?? [], variables: variables)
            else { return }
            _ = try await database.runBatch([statement])
            bell.ring()
        } catch {
            logger.error("could not record a notification", metadata: ["type": "\(type.rawValue)", "account": "\(accountID)",
                                                                         "error": "\(error)"])
        }
    }

    /// The insert of `type` for the account with `contacts` (nil: no mail contact), rendered
    /// with the common variables and `variables`; `expiration` makes it an expiration
    /// warning recorded once per threshold.
    func statement(_ type: NotificationType, accountID: UUID, contacts: [String], variables: [String: Any],
                   expiration: (certificateID: UUID, warningDays: Int)? = nil) -> BatchStatement? {
        let recipients = Self.mailAddresses(contacts)
        guard !recipients.isEmpty else {
            logger.debug("notification not recorded: the account has no mail contact",
                         metadata: ["type": "\(type.rawValue)", "account": "\(accountID)"])
            return nil
        }
        var context = variables
        context["type"] = type.rawValue
        context["server_url"] = serverURL
        context["timestamp"] = Date().formatted(.iso8601)
        context["account_id"] = DomainEvent.text(accountID)
        context["contacts"] = recipients
        let rendered = templates.render(type, context)
        let record = NotificationRecord(id: RandomBytes.uuid(), type: type.rawValue, accountID: accountID, recipients: recipients,
                                        subject: rendered.subject, bodyText: rendered.text, bodyHTML: rendered.html,
                                        deliverable: deliverable)
        if let expiration {
            return .insertExpirationWarning(record, certificateID: expiration.certificateID, warningDays: expiration.warningDays)
        }
        return .insertNotification(record)
    }

    /// Whether `type` is not in `disabled_types`.
    func isEnabled(_ type: NotificationType) -> Bool {
        !settings().disabledTypes.contains(type.rawValue)
    }

    /// The addresses of `mailto:` contacts (RFC 8555 §7.3: other schemes are not mail).
    static func mailAddresses(_ contacts: [String]) -> [String] {
        contacts.compactMap { contact in
            guard contact.lowercased().hasPrefix("mailto:") else { return nil }
            let address = String(contact.dropFirst("mailto:".count))
            return address.isEmpty ? nil : address.removingPercentEncoding ?? address
        }
    }

    /// The notification an event calls for: its type, the account told, and the variables
    /// of its templates (docs/notifications.md).
    static func notification(of event: DomainEvent) -> (NotificationType, UUID, [String: Any])? {
        switch event {
        case .accountRegistered(let account, _, _, let agreed, let eabKID):
            (.registrationSucceeded, account, ["tos_agreed": agreed, "eab_kid": eabKID ?? ""])
        case .certificateIssued(let certificate, let order, let account, let serial, let domains, let notAfter, _):
            (.deliverySucceeded, account, ["order_id": DomainEvent.text(order), "certificate_id": DomainEvent.text(certificate),
                                           "serial_number": serial, "domains": domains, "not_after": notAfter.formatted(.iso8601)])
        case .certificateRevoked(let certificate, let account, let serial, let reason):
            (.revocationSucceeded, account, ["certificate_id": DomainEvent.text(certificate), "serial_number": serial,
                                             "reason": reason])
        case .challengeFailed(let challenge, let error):
            (.challengeFailed, challenge.accountID, [
                "challenge_type": challenge.challengeType, "identifier_type": challenge.identifier.type,
                "identifier_value": challenge.identifier.value, "authz_id": DomainEvent.text(challenge.authorizationID),
                "error": error])
        case .accountDeactivated(let account):
            (.accountDeactivated, account, [:])
        case .accountRevoked(let account, let reason):
            (.accountRevoked, account, ["reason": reason])
        case .accountKeyRolledOver(let account, let old, let new):
            (.keyRolloverSucceeded, account, ["old_jwk_thumbprint": old, "jwk_thumbprint": new])
        case .authorizationDeactivated(let authorization, let account, let identifier):
            (.authorizationDeactivated, account, ["authz_id": DomainEvent.text(authorization),
                                                  "identifier_type": identifier.type, "identifier_value": identifier.value])
        case .revocationRefusedByCA(let certificate, let account, let serial, let error):
            (.revocationFailed, account, ["certificate_id": DomainEvent.text(certificate), "serial_number": serial, "error": error])
        case .orderUnfulfilled(let failure):
            (failure.kind.notificationType, failure.accountID, [
                "order_id": failure.orderID.map(DomainEvent.text) ?? "", "domains": failure.identifiers.map(\.value),
                "identifiers": failure.identifiers.map { "\($0.type):\($0.value)" }, "error": failure.error])
        case .accountUpdated, .orderCreated, .challengeBeforeValidate, .challengeAfterValidate, .challengeRetried,
             .certificateDelivered, .ctSubmitted, .requestRefused:
            nil
        }
    }
}

extension DomainEvent.OrderFailure.Kind {
    var notificationType: NotificationType {
        switch self {
        case .rejected: .orderRejected
        case .quotaExceeded: .orderQuotaExceeded
        case .csrRefused: .csrValidationFailed
        case .signingFailed: .deliveryFailed
        case .staleRecovered: .orderStaleRecovered
        }
    }
}
