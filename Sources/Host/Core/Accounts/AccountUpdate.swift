import Foundation

/// Changes to an existing account (RFC 8555 §7.3.2 update, §7.3.6 deactivation) and its
/// orders list (§7.1.2.1).
extension CoreServices {
    /// An account update: new contacts, agreement to the terms, or both; nil fields stay.
    struct AccountChanges: Sendable {
        var contacts: [String]?
        var agreesToTerms = false
    }

    /// §7.3.2: replaces the contacts and/or records agreement; returns the account as stored.
    func updateAccount(_ account: Account, _ changes: AccountChanges) async throws -> Account {
        var contacts: [String]? = nil
        if let requested = changes.contacts {
            guard config.account.allowContactUpdate else {
                throw Problem(.unauthorized, "contact updates are disabled on this server")
            }
            contacts = try ContactPolicy(config.email).check(requested)
        }
        if contacts != nil || changes.agreesToTerms {
            let (newContacts, agreeing) = (contacts, changes.agreesToTerms)
            try await database.transaction { db in
                if let newContacts { try db.replaceContacts(accountID: account.id, newContacts) }
                if agreeing { try db.setTermsOfServiceAgreed(account.id) }
            }
        }
        let updated = try await reloadAccount(account.id)
        if contacts != nil || changes.agreesToTerms {
            events.publish(.accountUpdated(accountID: account.id, contacts: updated.contacts))
        }
        return updated
    }

    /// §7.3.6: the account becomes deactivated and, in the same transaction, what it had
    /// in flight ("the server SHOULD cancel any pending operations").
    func deactivateAccount(_ account: Account) async throws -> Account {
        guard config.account.allowDeactivation else {
            throw Problem(.unauthorized, "account deactivation is disabled on this server")
        }
        let ended = Problem(.unauthorized, "the account was deactivated").documentJSON
        let changed = try await database.withConnection { try $0.deactivateAccount(account.id, orderError: ended) }
        let updated = try await reloadAccount(account.id)
        if changed {
            logger.info("account deactivated", metadata: ["account": "\(account.id)"])
            events.publish(.accountDeactivated(accountID: account.id))
        }
        return updated
    }

    /// §7.1.2.1: one page of the account's orders, newest first, after the order `cursor`.
    func orders(of account: Account, after cursor: UUID?, limit: Int) async throws -> (ids: [UUID], more: Bool) {
        let page = try await database.withConnection { db -> (ids: [UUID], more: Bool)? in
            if let cursor, try !db.accountOwnsOrder(accountID: account.id, orderID: cursor) { return nil }
            return try db.accountOrders(accountID: account.id, after: cursor, limit: limit)
        }
        guard let page else { throw Problem(.malformed, "cursor does not name one of this account's orders") }
        return page
    }

    func reloadAccount(_ id: UUID) async throws -> Account {
        guard let account = try await database.withConnection({ try $0.account(id: id) }) else {
            throw Problem(.accountDoesNotExist, "account \(accountURL(id)) no longer exists")
        }
        return account
    }
}
