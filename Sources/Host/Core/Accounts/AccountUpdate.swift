import Foundation

/// The account resource (RFC 8555 §7.3.2 fetch and update, §7.3.6 deactivation) and its
/// orders list (§7.1.2.1): each one batch opened by the request's guard.
extension CoreServices {
    /// An account update: new contacts, agreement to the terms, or both; nil fields stay.
    struct AccountChanges: Sendable {
        var contacts: [String]?
        var agreesToTerms = false
    }

    /// POST-as-GET: the account as stored (a read: committed without waiting for the flush).
    func account(_ account: Account, _ requestGuard: RequestGuard? = nil) async throws -> Account {
        try await readBack(account.id, try await database.runBatch(after: requestGuard, [.account(id: account.id)],
                                                                   asynchronousCommit: true))
    }

    /// §7.3.2: replaces the contacts and/or records agreement; returns the account as stored.
    func updateAccount(_ account: Account, _ changes: AccountChanges, _ requestGuard: RequestGuard? = nil) async throws
        -> Account
    {
        var statements: [BatchStatement] = []
        if let requested = changes.contacts {
            guard config.account.allowContactUpdate else {
                throw Problem(.unauthorized, "contact updates are disabled on this server")
            }
            let contacts = try ContactPolicy(config.email).check(requested)
            if config.email.validateMX { try await MailDomainCheck(dns: config.dns).check(contacts) }
            statements += BatchStatement.replaceContacts(accountID: account.id, contacts)
        }
        if changes.agreesToTerms { statements.append(.agreeToTerms(accountID: account.id)) }
        let changed = !statements.isEmpty
        let updated = try await readBack(account.id, try await database.runBatch(
            after: requestGuard, statements + [.account(id: account.id)], asynchronousCommit: !changed))
        if changed { events.publish(.accountUpdated(accountID: account.id, contacts: updated.contacts)) }
        return updated
    }

    /// §7.3.6: the account becomes deactivated and, in the same batch, what it had in
    /// flight ends ("the server SHOULD cancel any pending operations").
    func deactivateAccount(_ account: Account, _ requestGuard: RequestGuard? = nil) async throws -> Account {
        guard config.account.allowDeactivation else {
            throw Problem(.unauthorized, "account deactivation is disabled on this server")
        }
        let ended = Problem(.unauthorized, "the account was deactivated").documentJSON
        let results = try await database.runBatch(
            after: requestGuard, BatchStatement.deactivateAccount(account.id, orderError: ended) + [.account(id: account.id)])
        let updated = try readBack(account.id, results)
        if !results[0].rows.isEmpty {
            logger.info("account deactivated", metadata: ["account": "\(account.id)"])
            events.publish(.accountDeactivated(accountID: account.id))
        }
        return updated
    }

    /// §7.1.2.1: one page of the account's orders, newest first, after the order `cursor`
    /// (a read).
    func orders(of account: Account, after cursor: UUID?, limit: Int, _ requestGuard: RequestGuard? = nil) async throws
        -> (ids: [UUID], more: Bool)
    {
        var statements: [BatchStatement] = [.accountOrders(accountID: account.id, after: cursor, limit: limit)]
        if let cursor { statements.append(.accountOwnsOrder(accountID: account.id, orderID: cursor)) }
        let results = try await database.runBatch(after: requestGuard, statements, asynchronousCommit: true)
        if cursor != nil, results[1].rows.isEmpty {
            throw Problem(.malformed, "cursor does not name one of this account's orders")
        }
        let ids = try results[0].rows.map { try $0.uuid("id") }
        return (Array(ids.prefix(limit)), ids.count > limit)
    }

    /// The account a batch read back last.
    private func readBack(_ id: UUID, _ results: [BatchStatementResult]) throws -> Account {
        guard let account = try results.last?.accounts.first else {
            throw Problem(.accountDoesNotExist, "account \(accountURL(id)) no longer exists")
        }
        return account
    }
}
