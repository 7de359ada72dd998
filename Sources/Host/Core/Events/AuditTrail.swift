import Foundation
import Logging

/// The security audit trail (`logging.audit`): one JSON object per security event, with
/// its time (RFC 3339, UTC), its name and its fields. The events audited are the account
/// changes, order creation, authorization deactivation, certificate issuance and
/// revocation, and the refusals (a refused JWS or external account binding, a rate-limit
/// hit). The certificate chain is left out; no event carries a secret.
enum AuditTrail {
    /// Whether `event` belongs to the audit trail.
    static func isAudited(_ event: DomainEvent) -> Bool {
        switch event {
        case .accountRegistered, .accountUpdated, .accountDeactivated, .accountRevoked, .accountKeyRolledOver, .orderCreated,
             .authorizationDeactivated, .certificateIssued, .certificateRevoked, .revocationRefusedByCA, .requestRefused:
            true
        case .challengeBeforeValidate, .challengeAfterValidate, .challengeFailed, .challengeRetried,
             .certificateDelivered, .ctSubmitted, .orderUnfulfilled:
            false
        }
    }

    /// The fields of one record: `timestamp`, `event` and the event's context.
    static func fields(_ event: DomainEvent, at date: Date = Date()) -> [String: any Sendable] {
        var fields = event.context
        fields["pem_chain"] = nil
        fields["timestamp"] = date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        fields["event"] = event.name
        return fields
    }

    /// The record as one JSON line (keys sorted, no newline).
    static func line(_ event: DomainEvent, at date: Date = Date()) -> String {
        let object = fields(event, at: date).mapValues { $0 as Any }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// Hands each audited event's JSON line to `write` (the audit log file).
    static func subscribe(_ dispatcher: EventDispatcher, write: @escaping @Sendable (String) -> Void) {
        dispatcher.subscribe { event in
            if isAudited(event) { write(line(event)) }
        }
    }

    /// Without an audit file: each audited event becomes a line `audit <event>` of the main
    /// log at info level, its fields as metadata.
    static func subscribe(_ dispatcher: EventDispatcher, logger: Logger) {
        dispatcher.subscribe { event in
            guard isAudited(event) else { return }
            var record = fields(event)
            record["timestamp"] = nil
            logger.info("audit \(event.name)", metadata: EventLog.metadata(record))
        }
    }
}
