import Foundation

/// The `challenges` table (RFC 8555 §7.1.5, §7.5.1, §8).
extension Connection {
    static let challengeColumns = """
        c.id, c.authorization_id, c.type, c.token, c.status, c.error::text AS error, c.validated_at,
        c.retry_count, c.next_retry_at
        """

    func challenge(id: UUID) throws -> Challenge? {
        try query(.challenge(id: id)).first.map(Self.challenge)
    }

    /// The worker's batch: processing challenges nobody holds whose retry time has come,
    /// locked for this worker (`FOR UPDATE SKIP LOCKED`: several instances share the queue).
    func claimDueChallenges(lockedBy: String, limit: Int) throws -> [Challenge] {
        try query(
            """
            UPDATE challenges c SET locked_by = $1, locked_at = now()
            WHERE c.id IN (SELECT id FROM challenges
                           WHERE status = 'processing' AND locked_by IS NULL
                             AND (next_retry_at IS NULL OR next_retry_at <= now())
                           ORDER BY next_retry_at NULLS FIRST LIMIT $2 FOR UPDATE SKIP LOCKED)
            RETURNING \(Self.challengeColumns)
            """, [.string(lockedBy), .int(limit)]).map(Self.challenge)
    }

    /// Locks older than `seconds` (a crashed validator) go back to the queue.
    func releaseStaleChallengeLocks(olderThan seconds: Int) throws {
        try execute(
            """
            UPDATE challenges SET locked_by = NULL, locked_at = NULL
            WHERE status = 'processing' AND locked_at < now() - make_interval(secs => $1)
            """, [.int(seconds)])
    }

    /// RFC 8555 §8.2: still "processing" while the server retries; the last error is shown.
    func scheduleChallengeRetry(_ id: UUID, error: String, at next: Date) throws {
        try execute(.scheduleChallengeRetry(id, error: error, at: next))
    }

    static func challenge(_ row: Row) throws -> Challenge {
        Challenge(
            id: try row.uuid("id"), authorizationID: try row.uuid("authorization_id"), type: try row.string("type"),
            token: try row.stringIfPresent("token"),
            status: Challenge.Status(rawValue: try row.string("status")) ?? .invalid,
            errorJSON: try row.jsonIfPresent("error"), validatedAt: try row.dateIfPresent("validated_at"),
            retryCount: try row.int("retry_count"), nextRetryAt: try row.dateIfPresent("next_retry_at"))
    }
}

/// The `challenges` statements that steps send in batches.
extension BatchStatement {
    static func insertChallenge(authorizationID: UUID, type: String, token: String?, status: Challenge.Status) -> BatchStatement {
        BatchStatement(
            """
            INSERT INTO challenges (authorization_id, type, token, status, validated_at)
            VALUES ($1, $2, $3, $4, CASE WHEN $4 = 'valid' THEN now() END)
            """, [.uuid(authorizationID), .string(type), token.map { .string($0) }, .string(status.rawValue)])
    }

    static func challenges(authorizationID: UUID) -> BatchStatement {
        BatchStatement("SELECT \(Connection.challengeColumns) FROM challenges c WHERE c.authorization_id = $1 ORDER BY c.type",
                       [.uuid(authorizationID)])
    }

    static func challenge(id: UUID) -> BatchStatement {
        BatchStatement("SELECT \(Connection.challengeColumns) FROM challenges c WHERE c.id = $1", [.uuid(id)])
    }

    /// RFC 8555 §7.5.1: pending → processing when the client answers, if the challenge's
    /// type is one of `types`, its authorization belongs to `accountID` and is pending and
    /// unexpired. Types in `inRequest` are locked by `lock` (validated in the request); the
    /// others are queued for the worker. Affects 0 or 1 row.
    static func claimChallenge(_ id: UUID, accountID: UUID, types: [String], inRequest: [String],
                               lock: String) -> BatchStatement {
        BatchStatement(
            """
            UPDATE challenges c SET status = 'processing',
                   locked_by = CASE WHEN c.type = ANY($4) THEN $5 END,
                   locked_at = CASE WHEN c.type = ANY($4) THEN now() END, next_retry_at = NULL
            FROM authorizations a
            WHERE c.id = $1 AND c.status = 'pending' AND c.type = ANY($3)
              AND a.id = c.authorization_id AND a.account_id = $2 AND a.status = 'pending' AND a.expires > now()
            """, [.uuid(id), .uuid(accountID), .textArray(types), .textArray(inRequest), .string(lock)])
    }

    /// The authorization a challenge belongs to.
    static func authorization(ofChallenge id: UUID) -> BatchStatement {
        BatchStatement(
            """
            SELECT \(Connection.authorizationColumns) FROM authorizations a
            JOIN challenges c ON c.authorization_id = a.id WHERE c.id = $1
            """, [.uuid(id)])
    }

    /// The guard of an outcome whose challenge is no longer processing (drained back to
    /// pending at a shutdown): the outcome's batch aborts and changes nothing.
    static let challengeHeldGuardName = "challenge-held"

    static func setChallengeValid(_ id: UUID) -> BatchStatement {
        .exactlyOneRow(
            challengeHeldGuardName,
            """
            UPDATE challenges SET status = 'valid', validated_at = now(), error = NULL, locked_by = NULL,
                   locked_at = NULL, next_retry_at = NULL
            WHERE id = $1 AND status = 'processing' RETURNING id
            """, [.uuid(id)])
    }

    static func setChallengeInvalid(_ id: UUID, error: String) -> BatchStatement {
        .exactlyOneRow(
            challengeHeldGuardName,
            """
            UPDATE challenges SET status = 'invalid', error = $2, locked_by = NULL, locked_at = NULL, next_retry_at = NULL
            WHERE id = $1 AND status = 'processing' RETURNING id
            """, [.uuid(id), .jsonb(error)])
    }

    /// RFC 8555 §8.2: still "processing" while the server retries; the last error is shown.
    static func scheduleChallengeRetry(_ id: UUID, error: String, at next: Date) -> BatchStatement {
        BatchStatement(
            """
            UPDATE challenges SET error = $2, retry_count = retry_count + 1, next_retry_at = $3,
                   locked_by = NULL, locked_at = NULL
            WHERE id = $1 AND status = 'processing'
            """, [.uuid(id), .jsonb(error), .date(next)])
    }
}
