import Foundation

/// A rendered notification to record (`notifications`, migration 0008).
struct NotificationRecord: Sendable, Equatable {
    var id: UUID
    /// A `NotificationsConfig.types` name.
    var type: String
    var accountID: UUID?
    /// Mail addresses (never empty).
    var recipients: [String]
    var subject: String
    var bodyText: String
    var bodyHTML: String
    /// false: recorded while `smtp.enabled` is false, never sent (`unsent`).
    var deliverable: Bool
}

/// A pending notification claimed for one delivery attempt (`claimDueNotifications`).
struct DueNotification: Sendable, Equatable {
    let id: UUID
    let type: String
    let recipients: [String]
    let subject: String
    let bodyText: String
    let bodyHTML: String
    /// Attempts made before this one.
    let attempts: Int
}

/// A certificate that has crossed an expiration warning threshold it was not warned for.
struct ExpiringCertificate: Sendable, Equatable {
    let certificateID: UUID
    let accountID: UUID
    let serial: String
    let domains: [String]
    let notAfter: Date
    /// The smallest configured threshold (days) the certificate is within.
    let warningDays: Int
    /// The account's contact URIs (`mailto:…`).
    let contacts: [String]
}

/// The `notifications` and `certificate_expiration_notices` statements: record, claim
/// due rows under a lease (`FOR UPDATE SKIP LOCKED`, shared by instances), record each
/// attempt's outcome, and find the certificates due an expiration warning.
extension BatchStatement {
    static func insertNotification(_ record: NotificationRecord) -> BatchStatement {
        BatchStatement(
            """
            INSERT INTO notifications (id, type, account_id, recipients, subject, body_text, body_html, status)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """, record.parameters)
    }

    /// The expiration warning of `certificateID` at `warningDays`, recorded only if this
    /// threshold has no notice yet (one statement: the notice and the notification commit
    /// together or not at all, whichever instance gets there first). Answers one row when
    /// recorded, none when it was there already.
    static func insertExpirationWarning(_ record: NotificationRecord, certificateID: UUID, warningDays: Int) -> BatchStatement {
        BatchStatement(
            """
            WITH notice AS (
                INSERT INTO certificate_expiration_notices (certificate_id, warning_days) VALUES ($9, $10)
                ON CONFLICT DO NOTHING RETURNING certificate_id)
            INSERT INTO notifications (id, type, account_id, recipients, subject, body_text, body_html, status)
            SELECT $1, $2, $3, $4, $5, $6, $7, $8 FROM notice
            RETURNING id
            """, record.parameters + [.uuid(certificateID), .int(warningDays)])
    }

    /// The notice alone (a certificate whose account has no mail contact).
    static func insertExpirationNotice(certificateID: UUID, warningDays: Int) -> BatchStatement {
        BatchStatement("INSERT INTO certificate_expiration_notices (certificate_id, warning_days) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                       [.uuid(certificateID), .int(warningDays)])
    }

    /// Pending notifications whose next attempt is due, leased for `leaseSeconds`.
    static func claimDueNotifications(limit: Int, leaseSeconds: Int) -> BatchStatement {
        BatchStatement(
            """
            UPDATE notifications SET next_attempt_at = now() + make_interval(secs => $2)
            WHERE id IN (SELECT id FROM notifications WHERE status = 'pending' AND next_attempt_at <= now()
                         ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
            RETURNING id, type, recipients, subject, body_text, body_html, attempts
            """, [.int(limit), .int(leaseSeconds)])
    }

    static func notificationSent(_ id: UUID, attempts: Int) -> BatchStatement {
        BatchStatement("UPDATE notifications SET status = 'sent', attempts = $2, sent_at = now(), last_error = NULL WHERE id = $1",
                       [.uuid(id), .int(attempts)])
    }

    /// A failed attempt, tried again after `retryInSeconds`.
    static func notificationRetry(_ id: UUID, attempts: Int, retryInSeconds: Int, error: String) -> BatchStatement {
        BatchStatement(
            """
            UPDATE notifications SET attempts = $2, next_attempt_at = now() + make_interval(secs => $3), last_error = $4
            WHERE id = $1 AND status = 'pending'
            """, [.uuid(id), .int(attempts), .int(retryInSeconds), .string(String(error.prefix(1024)))])
    }

    /// Retries exhausted, or refused for good: `failed`, not tried again.
    static func notificationFailed(_ id: UUID, attempts: Int, error: String) -> BatchStatement {
        BatchStatement("UPDATE notifications SET status = 'failed', attempts = $2, last_error = $3 WHERE id = $1",
                       [.uuid(id), .int(attempts), .string(String(error.prefix(1024)))])
    }

    /// Unrevoked certificates of valid accounts within the largest of `warningDays` of
    /// their notAfter, not renewed (no newer unrevoked certificate of the same account for
    /// the same names), whose smallest crossed threshold has no notice yet.
    static func expiringCertificates(warningDays: [Int], limit: Int) -> BatchStatement {
        BatchStatement(
            """
            SELECT * FROM (
                SELECT c.id, c.account_id, c.serial, c.san_values, c.not_after,
                       (SELECT min(d) FROM unnest($1::text[]::int[]) AS d
                        WHERE c.not_after <= now() + make_interval(days => d)) AS warning_days,
                       ARRAY(SELECT uri FROM account_contacts k WHERE k.account_id = c.account_id ORDER BY k.id) AS contacts
                FROM certificates c JOIN accounts a ON a.id = c.account_id
                WHERE c.revoked_at IS NULL AND a.status = 'valid'
                  AND c.not_after > now() AND c.not_after <= now() + make_interval(days => $2::int)
                  AND NOT EXISTS (SELECT 1 FROM certificates n
                                  WHERE n.account_id = c.account_id AND n.id <> c.id AND n.revoked_at IS NULL
                                    AND n.not_after > c.not_after
                                    AND n.san_values @> c.san_values AND c.san_values @> n.san_values)
            ) due
            WHERE due.warning_days IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM certificate_expiration_notices e
                              WHERE e.certificate_id = due.id AND e.warning_days <= due.warning_days)
            ORDER BY due.not_after LIMIT $3
            """, [.textArray(warningDays.map { String($0) }), .int(warningDays.max() ?? 0), .int(limit)])
    }
}

extension NotificationRecord {
    fileprivate var parameters: [PostgresValue?] {
        [.uuid(id), .string(type), accountID.map(PostgresValue.uuid), .textArray(recipients), .string(subject),
         .string(bodyText), .string(bodyHTML), .string(deliverable ? "pending" : "unsent")]
    }
}

extension BatchStatementResult {
    var dueNotifications: [DueNotification] {
        get throws {
            try rows.map { row in
                DueNotification(id: try row.uuid("id"), type: try row.string("type"), recipients: try row.stringArray("recipients"),
                                subject: try row.string("subject"), bodyText: try row.string("body_text"),
                                bodyHTML: try row.string("body_html"), attempts: try row.int("attempts"))
            }
        }
    }

    var expiringCertificates: [ExpiringCertificate] {
        get throws {
            try rows.map { row in
                ExpiringCertificate(certificateID: try row.uuid("id"), accountID: try row.uuid("account_id"),
                                    serial: try row.string("serial"), domains: try row.stringArray("san_values"),
                                    notAfter: try row.date("not_after"), warningDays: try row.int("warning_days"),
                                    contacts: try row.stringArray("contacts"))
            }
        }
    }
}
