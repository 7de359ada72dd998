import Foundation

/// newAccount (RFC 8555 §7.3): finds the account of the signing key, or creates one,
/// redeeming an external account binding (§7.3.4) in the same transaction.
extension CoreServices {
    /// A newAccount request whose JWS the ACME layer has verified.
    struct NewAccount: Sendable {
        /// The signing key as canonical JWK JSON, and its RFC 7638 thumbprint.
        var jwk: String
        var thumbprint: String
        /// The peer's address (for the audit trail of a refused binding).
        var clientIP: String? = nil
        var onlyReturnExisting = false
        var termsOfServiceAgreed = false
        var contacts: [String] = []
        var binding: Binding?
    }

    /// An external account binding: the credential's kid and a check of the binding's MAC
    /// under a given key (the JWS details stay in the ACME layer).
    struct Binding: Sendable {
        var kid: String
        var verifyMAC: @Sendable (_ hmacKey: [UInt8]) throws -> Void
    }

    /// The account and whether this request created it: the lookup in one batch opened by
    /// the request's guard, the new account (with its contacts and its binding's credential)
    /// in a second.
    func newAccount(_ request: NewAccount, _ requestGuard: RequestGuard? = nil) async throws
        -> (account: Account, created: Bool)
    {
        let thumbprint = request.thumbprint
        // Without a binding, a request that meets the policy is one batch: the account is
        // inserted unless its key is known, else the known one is read.
        // (Contacts whose mail domains must be looked up take the second path: a known key
        // gets its account back before any lookup.)
        if let checked = try? checkedContacts(request), request.binding == nil, !config.acme.eabRequired,
           !request.onlyReturnExisting, !config.email.validateMX || checked.isEmpty {
            let results = try await database.runBatch(after: requestGuard, [
                .insertAccount(id: RandomBytes.uuid(), jwk: request.jwk, thumbprint: thumbprint, contacts: checked,
                               termsOfServiceAgreed: request.termsOfServiceAgreed, eabKID: nil, unlessKeyKnown: true),
                .account(thumbprint: thumbprint),
            ])
            if let created = try results[0].accounts.first {
                registered(created)
                return (created, true)
            }
            guard let known = try results[1].accounts.first else { throw StoreError(.decoding, "account \(thumbprint) vanished") }
            return (try Self.usable(known), false)
        }
        // §7.3.1: a known key gets its account back. §7.3.6: a deactivated account's key
        // authorizes nothing more, this lookup included.
        if let existing = try await database.runBatch(after: requestGuard, [.account(thumbprint: thumbprint)])[0]
            .accounts.first {
            let account = try Self.usable(existing)
            // A binding sent again re-syncs the account's allowlist and profile with its credential.
            if let binding = request.binding, eabPoliciesActive {
                return (try await rebind(account, binding, request), false)
            }
            return (account, false)
        }
        if request.onlyReturnExisting { throw Problem(.accountDoesNotExist, "no account exists for this key") }
        let contacts = try checkedContacts(request)
        if config.email.validateMX { try await MailDomainCheck(dns: config.dns).check(contacts) }
        var credential: EABCredential? = nil
        if let binding = request.binding {
            do {
                credential = try await redeemable(binding)
            } catch let problem as Problem {
                throw refusedBinding(problem, kid: binding.kid, request)
            }
        } else if config.acme.eabRequired {
            throw refusedBinding(Problem(.externalAccountRequired, "this server requires an externalAccountBinding in newAccount"),
                                 kid: nil, request)
        }

        let eabKID = credential?.kid
        let reusable = config.acme.eabReusable
        let id = RandomBytes.uuid()
        var statements: [BatchStatement] = [.insertAccount(
            id: id, jwk: request.jwk, thumbprint: thumbprint, contacts: contacts,
            termsOfServiceAgreed: request.termsOfServiceAgreed, eabKID: eabKID)]
        if let eabKID {
            statements.append(.claimEABCredential(kid: eabKID, accountID: id, reusable: reusable))
            // The credential's allowlist and CSR profile become the account's.
            if eabPoliciesActive { statements += BatchStatement.syncEABPolicies(accountID: id, kid: eabKID) }
        }
        let created: Account
        do {
            guard let account = try await database.runBatch(statements)[0].accounts.first else {
                throw StoreError(.decoding, "account \(id) vanished")
            }
            created = account
        } catch let error as StoreError where error.kind == .guardFailed {
            throw refusedBinding(Problem(.unauthorized,
                                         "externalAccountBinding: the credential \(eabKID ?? "-") was used or revoked meanwhile"),
                                 kid: eabKID, request)
        } catch let error as StoreError where error.isUniqueViolation {
            // A concurrent newAccount with the same key won the race: that account is the answer.
            if let existing = try await database.withConnection({ try $0.account(thumbprint: thumbprint) }) {
                return (try Self.usable(existing), false)
            }
            throw error
        }
        registered(created)
        return (created, true)
    }

    /// The policy of a new account (RFC 8555 §7.3): agreement to the terms where required,
    /// and the contacts as they will be stored.
    private func checkedContacts(_ request: NewAccount) throws(Problem) -> [String] {
        // Agreement is indicated by termsOfServiceAgreed. A missing agreement is malformed,
        // as in ACMEEH (userActionRequired, §7.3.3, is for terms that changed after the
        // account was created).
        if config.tos.requireAgreement && !request.termsOfServiceAgreed {
            throw Problem(.malformed, "this server requires \"termsOfServiceAgreed\": true (terms: \(config.tos.url ?? "-"))")
        }
        return try ContactPolicy(config.email).check(request.contacts)
    }

    private func registered(_ account: Account) {
        logger.info("account created", metadata: ["account": "\(account.id)", "eab_kid": "\(account.eabKID ?? "-")"])
        events.publish(.accountRegistered(accountID: account.id, contacts: account.contacts,
                                          jwkThumbprint: account.thumbprint, termsOfServiceAgreed: account.termsOfServiceAgreed,
                                          eabKID: account.eabKID))
    }

    /// A known account that sends an external account binding again (§7.3.4): the binding
    /// must verify and its credential be redeemable by this account (its own, or an unused
    /// or reusable one); the account is bound to it, and the links it had from a credential
    /// become the credential's links, in one batch.
    private func rebind(_ account: Account, _ binding: Binding, _ request: NewAccount) async throws -> Account {
        let credential: EABCredential
        do {
            credential = try await redeemable(binding, boundTo: account.eabKID)
        } catch let problem as Problem {
            throw refusedBinding(problem, kid: binding.kid, request)
        }
        let own = credential.kid == account.eabKID
        do {
            _ = try await database.runBatch(
                [.claimEABCredential(kid: credential.kid, accountID: account.id, reusable: own || config.acme.eabReusable),
                 .rebindAccount(account.id, kid: credential.kid)]
                    + BatchStatement.syncEABPolicies(accountID: account.id, kid: credential.kid))
        } catch let error as StoreError where error.kind == .guardFailed {
            throw refusedBinding(Problem(.unauthorized,
                                         "externalAccountBinding: the credential \(credential.kid) was used or revoked meanwhile"),
                                 kid: credential.kid, request)
        }
        logger.info("account re-bound", metadata: ["account": "\(account.id)", "eab_kid": "\(credential.kid)"])
        var bound = account
        bound.eabKID = credential.kid
        return bound
    }

    /// Reports a refused binding (§7.3.4) to the audit log and returns its problem.
    private func refusedBinding(_ problem: Problem, kid: String?, _ request: NewAccount) -> Problem {
        events.publish(.requestRefused(.init(kind: .eab, problem: problem.type.rawValue, detail: problem.detail,
                                             clientIP: request.clientIP, eabKID: kid)))
        return problem
    }

    /// RFC 8555 §7.3.6: "the server MUST NOT accept further requests authorized by that
    /// account's key" once an account is deactivated (or revoked).
    static func usable(_ account: Account) throws(Problem) -> Account {
        guard account.status == .valid else { throw Problem(.unauthorized, "account is \(account.status.rawValue)", refusal: .unauthenticated) }
        return account
    }

    /// The credential a binding names, once its MAC verifies. An unknown kid is MAC'd
    /// with a random key, so that it takes as long and answers as a wrong MAC does.
    private func redeemable(_ binding: Binding, boundTo ownKID: String? = nil) async throws -> EABCredential {
        let kid = binding.kid
        let credential = try await database.withConnection { try $0.eabCredential(kid: kid) }
        let macKey = credential?.hmacKey ?? RandomBytes.draw(32)
        try binding.verifyMAC(macKey)
        guard let credential else {
            throw Problem(.unauthorized, "externalAccountBinding signature does not verify")
        }
        guard !credential.revoked else {
            throw Problem(.unauthorized, "externalAccountBinding: the credential \(kid) has been revoked")
        }
        guard !credential.used || config.acme.eabReusable || credential.kid == ownKID else {
            throw Problem(.unauthorized, "externalAccountBinding: the credential \(kid) has already been used")
        }
        return credential
    }
}
