import COpenSSL
import Foundation

/// newAccount (RFC 8555 §7.3): finds the account of the signing key, or creates one.
extension ACMEServices {
    func newAccount(_ request: ACMERequest) async throws -> ACMEReply {
        let payload = try request.object()
        let key = request.key
        let thumbprint = key.thumbprint

        // RFC 8555 §7.3.1: a known key gets its account back, 200 + Location.
        if let existing = try await database.withConnection({ try $0.account(thumbprint: thumbprint) }) {
            return try existingAccount(existing)
        }
        if let only = payload["onlyReturnExisting"] {
            guard let flag = only as? Bool else { throw Problem(.malformed, "\"onlyReturnExisting\" must be a boolean") }
            if flag { throw Problem(.accountDoesNotExist, "no account exists for this key") }
        }

        var agreed = false
        if let value = payload["termsOfServiceAgreed"] {
            guard let flag = value as? Bool else { throw Problem(.malformed, "\"termsOfServiceAgreed\" must be a boolean") }
            agreed = flag
        }
        // RFC 8555 §7.3: the client indicates agreement with termsOfServiceAgreed. A missing
        // agreement is malformed, as in the reference (userActionRequired, §7.3.3, is for
        // terms that changed after the account was created).
        if config.tos.requireAgreement && !agreed {
            throw Problem(.malformed, "this server requires \"termsOfServiceAgreed\": true (terms: \(config.tos.url ?? "-"))")
        }
        var requested: [String] = []
        if let value = payload["contact"] { requested = try Self.contactList(value) }
        let contacts = try ContactPolicy(config.email).check(requested)

        // RFC 8555 §7.3.4: external account binding.
        var credential: EABCredential? = nil
        if let binding = try ExternalAccountBinding.inNewAccountPayload(payload) {
            credential = try await redeemable(binding, key: key, url: request.url)
        } else if config.acme.eabRequired {
            throw Problem(.externalAccountRequired, "this server requires an externalAccountBinding in newAccount")
        }

        let jwk = key.canonicalJSON
        let tosAgreed = agreed
        let eabKID = credential?.kid
        let reusable = config.acme.eabReusable
        let created: Account
        do {
            // The account and the credential's use are one transaction.
            created = try await database.transaction { db in
                let account = try db.insertAccount(jwk: jwk, thumbprint: thumbprint, contacts: contacts,
                                                   termsOfServiceAgreed: tosAgreed, eabKID: eabKID)
                if let eabKID, try !db.claimEABCredential(kid: eabKID, accountID: account.id, reusable: reusable) {
                    throw Problem(.unauthorized, "externalAccountBinding: the credential \(eabKID) was used or revoked meanwhile")
                }
                return account
            }
        } catch let error as StoreError where error.isUniqueViolation {
            // A concurrent newAccount with the same key won the race: that account is the answer.
            if let existing = try await database.withConnection({ try $0.account(thumbprint: thumbprint) }) {
                return try existingAccount(existing)
            }
            throw error
        }
        logger.info("account created", metadata: ["account": "\(created.id)", "eab_kid": "\(eabKID ?? "-")"])
        var body = accountJSON(created)
        // RFC 8555 §7.1.2: the account object carries the binding it was created with.
        if let binding = payload["externalAccountBinding"] as? [String: Any] {
            body["externalAccountBinding"] = [
                "protected": binding["protected"] as? String ?? "",
                "payload": binding["payload"] as? String ?? "",
                "signature": binding["signature"] as? String ?? "",
            ]
        }
        return ACMEReply(status: 201, .json(body), location: url("acct", created.id))
    }

    /// The credential a binding names, once its MAC verifies. An unknown kid is MAC'd
    /// with a random key, so that it takes as long and answers as a wrong MAC does.
    private func redeemable(_ binding: ExternalAccountBinding, key: JWK, url: String) async throws -> EABCredential {
        let kid = binding.kid
        let credential = try await database.withConnection { try $0.eabCredential(kid: kid) }
        var macKey = credential?.hmacKey ?? [UInt8](repeating: 0, count: 32)
        if credential == nil { _ = RAND_bytes(&macKey, Int32(macKey.count)) }
        _ = try binding.verify(hmacKey: macKey, outerJWK: key, expectedURL: url)
        guard let credential else {
            throw Problem(.unauthorized, "externalAccountBinding signature does not verify")
        }
        guard !credential.revoked else {
            throw Problem(.unauthorized, "externalAccountBinding: the credential \(kid) has been revoked")
        }
        guard !credential.used || config.acme.eabReusable else {
            throw Problem(.unauthorized, "externalAccountBinding: the credential \(kid) has already been used")
        }
        return credential
    }

    private func existingAccount(_ account: Account) throws(Problem) -> ACMEReply {
        // RFC 8555 §7.3.6: no further request authorized by a deactivated account's key is
        // accepted, newAccount included: 401 unauthorized (as for a revoked account).
        guard account.status == .valid else {
            throw Problem(.unauthorized, "the account of this key is \(account.status.rawValue)", status: 401)
        }
        return ACMEReply(status: 200, .json(accountJSON(account)), location: url("acct", account.id))
    }
}
