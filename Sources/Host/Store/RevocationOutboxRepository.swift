import Foundation

/// A revocation the CA backend has not confirmed, claimed for one more attempt
/// (`claimDueRevocations`).
struct PendingRevocation: Sendable, Equatable {
    let certificateID: UUID
    let serial: String
    /// The certificate's chain as issued (PEM, leaf first): the backend gets the leaf's DER.
    let pemChain: String
    /// RFC 5280 CRLReason code, nil when none was given.
    let reason: Int?
    /// `certificates.ca_backend`: the backend that issued it, where the revocation goes.
    let backend: String
    /// CA calls made so far.
    let attempts: Int
    /// The certificate's account (told when the backend refuses for good).
    let accountID: UUID
}

/// The outbox as `/healthz` and the metrics show it.
struct RevocationBacklogCount: Sendable, Equatable {
    /// Revocations still to be delivered.
    var pending: Int
    /// When the oldest pending revocation was recorded (nil: none pending).
    var oldestPending: Date?
    /// Revocations the backend refused for good (not retried).
    var failed: Int

    static let empty = RevocationBacklogCount(pending: 0, oldestPending: nil, failed: 0)
}

/// The `revocation_outbox` statements (migration 0007): claim due rows, record each
/// attempt's outcome, count the backlog. `markCertificateRevoked` writes the rows.
extension BatchStatement {
    /// Pending revocations whose next attempt is due, leased for `leaseSeconds` (`next_at`
    /// moved ahead in the same statement; `FOR UPDATE SKIP LOCKED`: instances share them).
    static func claimDueRevocations(limit: Int, leaseSeconds: Int) -> BatchStatement {
        BatchStatement(
            """
            UPDATE revocation_outbox o SET next_at = now() + make_interval(secs => $2)
            FROM certificates c
            WHERE c.id = o.certificate_id
              AND o.certificate_id IN (SELECT certificate_id FROM revocation_outbox
                                       WHERE state = 'pending' AND next_at <= now()
                                       ORDER BY next_at LIMIT $1 FOR UPDATE SKIP LOCKED)
            RETURNING o.certificate_id, o.attempts, c.serial, c.pem_chain, c.revocation_reason, c.ca_backend, c.account_id
            """, [.int(limit), .int(leaseSeconds)])
    }

    /// The backend confirmed: the row is done.
    static func revocationDelivered(_ certificateID: UUID) -> BatchStatement {
        BatchStatement("DELETE FROM revocation_outbox WHERE certificate_id = $1", [.uuid(certificateID)])
    }

    /// A failed attempt to retry after `retryInSeconds`.
    static func revocationRetry(_ certificateID: UUID, attempts: Int, retryInSeconds: Int, error: String) -> BatchStatement {
        BatchStatement(
            """
            UPDATE revocation_outbox SET attempts = $2, next_at = now() + make_interval(secs => $3), last_error = $4
            WHERE certificate_id = $1 AND state = 'pending'
            """, [.uuid(certificateID), .int(attempts), .int(retryInSeconds), .string(String(error.prefix(1024)))])
    }

    /// The backend refused for good: kept as `failed`, not retried.
    static func revocationRefused(_ certificateID: UUID, attempts: Int, error: String) -> BatchStatement {
        BatchStatement(
            "UPDATE revocation_outbox SET state = 'failed', attempts = $2, last_error = $3 WHERE certificate_id = $1",
            [.uuid(certificateID), .int(attempts), .string(String(error.prefix(1024)))])
    }

    /// One row: `pending`, `oldest_pending`, `failed`.
    static let revocationBacklog = BatchStatement(
        """
        SELECT count(*) FILTER (WHERE state = 'pending') AS pending,
               min(created_at) FILTER (WHERE state = 'pending') AS oldest_pending,
               count(*) FILTER (WHERE state = 'failed') AS failed
        FROM revocation_outbox
        """)
}

extension Connection {
    /// Queues every revocation a backend refused for good for another attempt now (after
    /// the operator fixed what the backend refused); returns how many.
    func retryFailedRevocations() throws -> Int {
        try execute("UPDATE revocation_outbox SET state = 'pending', next_at = now() WHERE state = 'failed'")
    }
}

extension BatchStatementResult {
    var pendingRevocations: [PendingRevocation] {
        get throws {
            try rows.map { row in
                PendingRevocation(
                    certificateID: try row.uuid("certificate_id"), serial: try row.string("serial"),
                    pemChain: try row.string("pem_chain"), reason: try row.intIfPresent("revocation_reason"),
                    backend: try row.string("ca_backend"), attempts: try row.int("attempts"),
                    accountID: try row.uuid("account_id"))
            }
        }
    }

    var revocationBacklog: RevocationBacklogCount {
        get throws {
            guard let row = rows.first else { return .empty }
            return RevocationBacklogCount(pending: try row.int("pending"), oldestPending: try row.dateIfPresent("oldest_pending"),
                                          failed: try row.int("failed"))
        }
    }
}
