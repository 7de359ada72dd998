import Foundation

/// The statements that open a request's first batch, and the batch runner that adds them.
extension BatchStatement {
    /// The name of the signer guard in `StoreError.guardName`.
    static let signerGuardName = "signer"

    /// One statement: the signer's account is valid with the verified key (else the guard
    /// `signer` aborts the batch), and the nonce is recorded (a replay aborts it with
    /// `.nonceReplayed`); then the request's rate-limit counters, each a guard. Empty when
    /// the guard was already taken. `asynchronousCommit` (a read) also turns
    /// `synchronous_commit` off for the batch inside the first statement, so a read pays no
    /// extra statement for it; `turnsOffSynchronousCommit` says whether it did.
    static func opening(_ requestGuard: RequestGuard?, asynchronousCommit: Bool = false)
        -> (statements: [BatchStatement], turnsOffSynchronousCommit: Bool)
    {
        guard let requestGuard, requestGuard.take() else { return ([], false) }
        let (first, folded) = nonceAndSigner(requestGuard, asynchronousCommit: asynchronousCommit)
        return ([first] + requestGuard.rateLimitCharges.map(chargeRateLimit), folded)
    }

    private static func nonceAndSigner(_ requestGuard: RequestGuard, asynchronousCommit: Bool) -> (BatchStatement, Bool) {
        guard let account = requestGuard.account else {
            return (.recordNonce(requestGuard.nonce, expiresAt: requestGuard.nonceExpiry), false)
        }
        let statement = BatchStatement(
            """
            INSERT INTO nonces (value, expires_at)
            SELECT $1, $2 WHERE acmeeh_guard(
                EXISTS (SELECT 1 FROM accounts WHERE id = $3 AND jwk_thumbprint = $4 AND status = 'valid'), $5::text)
              AND (NOT $6::bool OR set_config('synchronous_commit', 'off', true) IS NOT NULL)
            """, [.string(requestGuard.nonce), .date(requestGuard.nonceExpiry), .uuid(account.id),
                  .string(account.thumbprint), .string(signerGuardName), .bool(asynchronousCommit)],
            uniqueViolation: .nonceReplayed)
        return (statement, asynchronousCommit)
    }
}

extension Database {
    /// Runs `statements` as one batch (one round trip, one transaction), opened by the
    /// request guard's statements when it is not taken yet; returns the results of
    /// `statements` only. `asynchronousCommit` only for a read (the nonce is its one write).
    func runBatch(after requestGuard: RequestGuard?, _ statements: [BatchStatement],
                  asynchronousCommit: Bool = false) async throws -> [BatchStatementResult] {
        let opening = BatchStatement.opening(requestGuard, asynchronousCommit: asynchronousCommit)
        let results = try await runBatch(opening.statements + statements,
                                         asynchronousCommit: asynchronousCommit && !opening.turnsOffSynchronousCommit)
        return Array(results.dropFirst(opening.statements.count))
    }
}

/// Typed rows of a batch result.
extension BatchStatementResult {
    var orders: [Order] { get throws { try rows.map(Connection.order) } }
    var authorizations: [Authorization] { get throws { try rows.map(Connection.authorization) } }
    var challenges: [Challenge] { get throws { try rows.map(Connection.challenge) } }
    var issuedCertificates: [IssuedCertificate] { get throws { try rows.map(Connection.issued) } }
}
