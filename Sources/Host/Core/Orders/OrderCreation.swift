import Foundation

/// newOrder (RFC 8555 §7.4) and newAuthz (§7.4.1): checks a request against the
/// identifier policy, validity limits, profiles (draft-ietf-acme-profiles) and
/// `replaces` (RFC 9773 §5), and creates the order, its authorizations and their
/// challenges in one transaction, reusing what may be reused.
struct OrderCreation: Sendable {
    let config: AppConfig
    let database: Database
    let types: ChallengeTypes

    /// A newOrder payload, already decoded.
    struct Request: Sendable {
        var identifiers: [Identifier]
        var notBefore: Date?
        var notAfter: Date?
        var profile: String?
        var replaces: String?
    }

    /// The order and whether it was created (false: an identical open order was returned).
    func newOrder(account: Account, _ request: Request) async throws -> (order: Order, created: Bool) {
        let identifiers = try IdentifierPolicy(config: config.security.identifierPolicy).check(order: request.identifiers)
        try checkValidity(notBefore: request.notBefore, notAfter: request.notAfter)
        if let profile = request.profile, config.ca.profiles[profile] == nil {
            throw Problem(.invalidProfile, "unknown profile \"\(profile)\" (available: \(config.ca.profiles.keys.sorted().joined(separator: ", ")))")
        }
        var plans: [(Identifier, Bool, [ChallengeTypeInfo])] = []
        var refused: [Problem.Subproblem] = []
        for identifier in identifiers {
            let (base, wildcard) = Self.split(identifier)
            let offered = types.offered(for: base, wildcard: wildcard)
            if offered.isEmpty {
                refused.append(.init(type: .rejectedIdentifier,
                                     detail: "no enabled challenge type can validate \(identifier.value)", identifier: identifier))
            }
            plans.append((base, wildcard, offered))
        }
        if refused.count == 1 { throw Problem(.rejectedIdentifier, refused[0].detail, subproblems: refused) }
        if refused.count > 1 {
            throw Problem(.rejectedIdentifier, "\(refused.count) identifiers cannot be validated here", subproblems: refused)
        }

        let plannedAuthorizations = plans
        let hash = OrderTokens.identifiersHash(identifiers)
        let replacedID = try request.replaces.map { try CertificateID.parse($0) }
        let now = Date()
        let orderExpires = now.addingTimeInterval(TimeInterval(config.order.expirySeconds))
        let authzExpires = now.addingTimeInterval(TimeInterval(config.order.authorizationExpirySeconds))
        return try await database.transaction { connection in
            // Dedup: the same account asking again for the same identifiers gets the open order.
            if request.replaces == nil, request.notBefore == nil, request.notAfter == nil,
               let existing = try connection.openOrder(accountID: account.id, identifiersHash: hash),
               existing.profile == request.profile {
                return (order: existing, created: false)
            }
            if let replaces = request.replaces, let replacedID {
                try Self.checkReplaces(replaces, replacedID, account: account, connection: connection)
            }
            var authorizationIDs: [UUID] = []
            var allValid = true
            for (base, wildcard, offered) in plannedAuthorizations {
                // Reuse a valid authorization with the same wildcard flag, never a plain one for a wildcard.
                if let reusable = try connection.reusableAuthorization(
                    accountID: account.id, identifier: base, wildcard: wildcard, validUntil: now) {
                    authorizationIDs.append(reusable.id)
                    continue
                }
                allValid = false
                authorizationIDs.append(try Self.insertAuthorization(
                    connection, accountID: account.id, identifier: base, wildcard: wildcard, offered: offered,
                    expires: authzExpires))
            }
            // RFC 8555 §7.1.6: with every authorization already valid the order is ready.
            let id = try connection.insertOrder(
                accountID: account.id, identifiers: identifiers, identifiersHash: hash,
                status: allValid ? .ready : .pending, expires: orderExpires, notBefore: request.notBefore,
                notAfter: request.notAfter, profile: request.profile, replaces: request.replaces)
            for (position, authorizationID) in authorizationIDs.enumerated() {
                try connection.linkOrder(id, authorization: authorizationID, position: position)
            }
            guard let order = try connection.order(id: id) else { throw StoreError(.decoding, "order \(id) vanished") }
            return (order: order, created: true)
        }
    }

    /// newAuthz (RFC 8555 §7.4.1): a pre-authorization for one identifier, or a reusable one.
    func newAuthorization(account: Account, identifier raw: Identifier) async throws -> (Authorization, created: Bool) {
        let identifier = try IdentifierPolicy(config: config.security.identifierPolicy).check(raw)
        let (base, wildcard) = Self.split(identifier)
        // §7.4.1: pre-authorization is not for wildcards.
        if wildcard {
            throw Problem(.rejectedIdentifier, "pre-authorization is not available for wildcard identifiers (RFC 8555 §7.4.1)")
        }
        let offered = types.offered(for: base, wildcard: false)
        if offered.isEmpty { throw Problem(.rejectedIdentifier, "no enabled challenge type can validate \(identifier.value)") }
        let now = Date()
        let expires = now.addingTimeInterval(TimeInterval(config.order.preAuthorizationLifetimeDays * 86_400))
        return try await database.transaction { connection in
            if let reusable = try connection.reusableAuthorization(
                accountID: account.id, identifier: base, wildcard: false, validUntil: now) {
                return (reusable, false)
            }
            let id = try Self.insertAuthorization(connection, accountID: account.id, identifier: base, wildcard: false,
                                                  offered: offered, expires: expires)
            guard let authorization = try connection.authorization(id: id) else {
                throw StoreError(.decoding, "authorization \(id) vanished")
            }
            return (authorization, true)
        }
    }

    private static func insertAuthorization(_ connection: Connection, accountID: UUID, identifier: Identifier,
                                            wildcard: Bool, offered: [ChallengeTypeInfo], expires: Date) throws -> UUID {
        let id = try connection.insertAuthorization(accountID: accountID, identifier: identifier, wildcard: wildcard,
                                                    status: .pending, expires: expires)
        for info in offered {
            try connection.insertChallenge(authorizationID: id, type: info.challengeType,
                                           token: info.usesToken ? OrderTokens.challengeToken() : nil, status: .pending)
        }
        return id
    }

    /// "*.example.com" → ("example.com", wildcard) (RFC 8555 §7.1.4: the authorization names the base).
    static func split(_ identifier: Identifier) -> (Identifier, Bool) {
        guard identifier.type == "dns", identifier.value.hasPrefix("*.") else { return (identifier, false) }
        return (Identifier(type: "dns", value: String(identifier.value.dropFirst(2))), true)
    }

    /// RFC 8555 §7.4: notBefore/notAfter are honoured within `ca.max_validity_days`.
    private func checkValidity(notBefore: Date?, notAfter: Date?) throws(Problem) {
        guard notBefore != nil || notAfter != nil else { return }
        let now = Date()
        let start = notBefore ?? now
        if let notAfter {
            guard notAfter > start else { throw Problem(.malformed, "notAfter must be later than notBefore (or now)") }
            guard notAfter > now else { throw Problem(.malformed, "notAfter is in the past") }
            let days = notAfter.timeIntervalSince(start) / 86_400
            guard days <= Double(config.ca.maxValidityDays) else {
                throw Problem(.malformed, "the requested validity (\(Int(days.rounded(.up))) days) exceeds the maximum of \(config.ca.maxValidityDays) days")
            }
        }
        if let notBefore, notBefore.timeIntervalSince(now) > Double(config.ca.maxValidityDays) * 86_400 {
            throw Problem(.malformed, "notBefore is too far in the future")
        }
    }

    /// RFC 9773 §5: `replaces` names a certificate of this account not already replaced.
    private static func checkReplaces(_ text: String, _ id: CertificateID, account: Account, connection: Connection) throws {
        guard let certificate = try connection.issuedCertificate(serial: id.serialHex),
              let actual = try? CertificateID(pemChain: certificate.pemChain), actual == id else {
            throw Problem(.malformed, "replaces: no certificate \(text) was issued here")
        }
        // Another account's certificate is reported like an unknown one (no disclosure).
        guard certificate.accountID == account.id else {
            throw Problem(.malformed, "replaces: no certificate \(text) was issued to this account")
        }
        if try connection.orderReplacing(text) != nil {
            throw Problem(.alreadyReplaced, "certificate \(text) has already been replaced by another order")
        }
    }
}
