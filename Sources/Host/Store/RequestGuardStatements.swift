import Foundation

/// The statements that open a guarded request's batch, and the batch runner that adds them.
extension BatchStatement {
    /// The name of the signer guard in `StoreError.guardName`.
    static let signerGuardName = "signer"

    /// The signer's account is valid with the verified key; then the nonce is recorded
    /// (a replay aborts the batch). Empty when the guard was already taken.
    static func opening(_ requestGuard: RequestGuard?) -> [BatchStatement] {
        guard let requestGuard, requestGuard.take() else { return [] }
        var statements: [BatchStatement] = []
        if let account = requestGuard.account {
            statements.append(.isTrue(
                signerGuardName,
                "SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1 AND jwk_thumbprint = $2 AND status = 'valid')",
                [.uuid(account.id), .string(account.thumbprint)]))
        }
        statements.append(.recordNonce(requestGuard.nonce, expiresAt: requestGuard.nonceExpiry))
        return statements
    }
}

extension Database {
    /// Runs `statements` as one batch (one round trip, one transaction), opened by the
    /// request guard's statements when it is not taken yet; returns the results of
    /// `statements` only.
    func runBatch(after requestGuard: RequestGuard?, _ statements: [BatchStatement]) async throws -> [BatchStatementResult] {
        let opening = BatchStatement.opening(requestGuard)
        let results = try await runBatch(opening + statements)
        return Array(results.dropFirst(opening.count))
    }
}

/// Typed rows of a batch result.
extension BatchStatementResult {
    var orders: [Order] { get throws { try rows.map(Connection.order) } }
    var authorizations: [Authorization] { get throws { try rows.map(Connection.authorization) } }
    var challenges: [Challenge] { get throws { try rows.map(Connection.challenge) } }
    var issuedCertificates: [IssuedCertificate] { get throws { try rows.map(Connection.issued) } }
}
