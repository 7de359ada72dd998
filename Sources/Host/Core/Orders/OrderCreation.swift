import Foundation

/// newOrder (RFC 8555 §7.4) and newAuthz (§7.4.1): checks a request against the
/// identifier policy, validity limits, profiles (draft-ietf-acme-profiles) and
/// `replaces` (RFC 9773 §5), and creates the order, its authorizations and their
/// challenges in one transaction, reusing what may be reused.
struct OrderCreation: Sendable {
    let config: AppConfig
    let database: Database
    let types: ChallengeTypes
    let rateLimiter: RateLimiter
    let quotas: Quotas

    /// A newOrder payload, already decoded.
    struct Request: Sendable {
        var identifiers: [Identifier]
        var notBefore: Date?
        var notAfter: Date?
        var profile: String?
        var replaces: String?
    }

    /// The order and whether it was created (false: an identical open order was returned).
    func newOrder(account: Account, _ request: Request, _ requestGuard: RequestGuard? = nil) async throws
        -> (order: Order, created: Bool)
    {
        let identifiers = try IdentifierPolicy(config: config.security.identifierPolicy).check(order: request.identifiers)
        for identifier in identifiers {
            try await rateLimiter.admit(.newOrderPerIdentifier, key: identifier.value, requestGuard)
        }
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

        if let replaces = request.replaces, let replacedID = try request.replaces.map({ try CertificateID.parse($0) }) {
            try await database.withConnection { try Self.checkReplaces(replaces, replacedID, account: account, connection: $0) }
        }
        return try await create(account: account, request, identifiers: identifiers, plans: plans, requestGuard)
    }

    /// Two batches: the guard with the dedup lookup and the reusable authorizations, then
    /// the new authorizations, challenges, order and links, with the order read back.
    private func create(account: Account, _ request: Request, identifiers: [Identifier],
                        plans: [(Identifier, Bool, [ChallengeTypeInfo])], _ requestGuard: RequestGuard?,
                        retried: Bool = false) async throws -> (order: Order, created: Bool) {
        let hash = OrderTokens.identifiersHash(identifiers)
        let now = Date()
        // Dedup: the same account asking again for the same identifiers gets the open order.
        let dedup = request.replaces == nil && request.notBefore == nil && request.notAfter == nil
        var reads: [BatchStatement] = dedup ? [.openOrder(accountID: account.id, identifiersHash: hash)] : []
        // Reuse a valid authorization with the same wildcard flag, never a plain one for a wildcard.
        reads += plans.map { .reusableAuthorization(accountID: account.id, identifier: $0.0, wildcard: $0.1, validUntil: now) }
        // The account's allowlist, when enforced, is read in the same batch.
        let allowlistIndex = reads.count
        if enforcesAllowlist { reads.append(.accountAllowedIdentifiers(accountID: account.id)) }
        // The quota guard goes last: the results above keep their places.
        let found: [BatchStatementResult]
        do {
            found = try await database.runBatch(after: requestGuard, reads + quotas.orderGuards(accountID: account.id))
        } catch let error as StoreError {
            throw await quotas.refusal(error, accountID: account.id) ?? error
        }
        if enforcesAllowlist {
            try AccountAllowlist(try found[allowlistIndex].allowedIdentifiers.map(\.identifier)).check(identifiers)
        }
        if dedup, let existing = try found[0].orders.first, existing.profile == request.profile {
            return (existing, false)
        }

        let authzExpires = now.addingTimeInterval(TimeInterval(config.order.authorizationExpirySeconds))
        var writes: [BatchStatement] = []
        var authorizationIDs: [UUID] = [], reused: [UUID] = []
        for (index, (base, wildcard, offered)) in plans.enumerated() {
            if let reusable = try found[(dedup ? 1 : 0) + index].authorizations.first {
                authorizationIDs.append(reusable.id)
                reused.append(reusable.id)
                continue
            }
            let id = RandomBytes.uuid()
            authorizationIDs.append(id)
            writes += Self.newAuthorization(id, accountID: account.id, identifier: base, wildcard: wildcard,
                                            offered: offered, expires: authzExpires)
        }
        // The reused ones must still be valid when the order is written.
        if !reused.isEmpty { writes.insert(.authorizationsStillValid(reused), at: 0) }
        let orderID = RandomBytes.uuid()
        // RFC 8555 §7.1.6: with every authorization already valid the order is ready.
        writes.append(.insertOrder(
            id: orderID, accountID: account.id, identifiers: identifiers, identifiersHash: hash,
            status: reused.count == plans.count ? .ready : .pending,
            expires: now.addingTimeInterval(TimeInterval(config.order.expirySeconds)), notBefore: request.notBefore,
            notAfter: request.notAfter, profile: request.profile, replaces: request.replaces))
        for (position, authorizationID) in authorizationIDs.enumerated() {
            writes.append(.linkOrder(orderID, authorization: authorizationID, position: position))
        }
        writes.append(.order(id: orderID))
        do {
            guard let order = try await database.runBatch(writes).last?.orders.first else {
                throw StoreError(.decoding, "order \(orderID) vanished")
            }
            return (order, true)
        } catch let error as StoreError where error.kind == .guardFailed && !retried {
            // A reused authorization was deactivated or expired meanwhile: plan again.
            return try await create(account: account, request, identifiers: identifiers, plans: plans, requestGuard,
                                    retried: true)
        }
    }

    /// newAuthz (RFC 8555 §7.4.1): a pre-authorization for one identifier, or a reusable one,
    /// with its challenges. Two batches: the guard with the reusable lookup, then the new
    /// authorization and challenges read back (or the reused one's challenges).
    func newAuthorization(account: Account, identifier raw: Identifier, _ requestGuard: RequestGuard? = nil) async throws
        -> (Authorization, [Challenge], created: Bool)
    {
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
        let found = try await database.runBatch(after: requestGuard, [
            .reusableAuthorization(accountID: account.id, identifier: base, wildcard: false, validUntil: now),
        ] + (enforcesAllowlist ? [.accountAllowedIdentifiers(accountID: account.id)] : []))
        if enforcesAllowlist { try AccountAllowlist(try found[1].allowedIdentifiers.map(\.identifier)).check([identifier]) }
        if let reusable = try found[0].authorizations.first {
            return (reusable, try await database.runBatch([.challenges(authorizationID: reusable.id)])[0].challenges, false)
        }
        let id = RandomBytes.uuid()
        let statements = Self.newAuthorization(id, accountID: account.id, identifier: base, wildcard: false,
                                               offered: offered, expires: expires)
            + [.authorization(id: id), .challenges(authorizationID: id)]
        let results = try await database.runBatch(statements)
        guard let authorization = try results[results.count - 2].authorizations.first else {
            throw StoreError(.decoding, "authorization \(id) vanished")
        }
        return (authorization, try results[results.count - 1].challenges, true)
    }

    /// `security.identifier_policy.enforce_account_allowlist`: newOrder and newAuthz read
    /// the account's allowlist in their first batch (no statement otherwise).
    private var enforcesAllowlist: Bool { config.security.identifierPolicy.enforceAccountAllowlist }

    /// The statements of a new pending authorization with one challenge per offered type.
    private static func newAuthorization(_ id: UUID, accountID: UUID, identifier: Identifier, wildcard: Bool,
                                         offered: [ChallengeTypeInfo], expires: Date) -> [BatchStatement] {
        [.insertAuthorization(id: id, accountID: accountID, identifier: identifier, wildcard: wildcard, status: .pending,
                              expires: expires)]
            + offered.map {
                .insertChallenge(authorizationID: id, type: $0.challengeType,
                                 token: $0.usesToken ? OrderTokens.challengeToken() : nil, status: .pending)
            }
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
