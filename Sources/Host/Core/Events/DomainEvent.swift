import Foundation

/// Something a Core operation changed, reported after its commit: what metrics, hooks,
/// notifications and the audit log react to. The names and context fields are those of
/// ACMEEH's hooks (`account.registration`, `order.creation`, …), plus the state changes
/// it never reported (account deactivation and key rollover, authorization deactivation),
/// and the refusals the audit log records (`requestRefused`: a refused JWS or external
/// account binding, a rate-limit hit), which change nothing.
enum DomainEvent: Sendable, Equatable {
    /// The identifying fields of a challenge that every challenge event carries.
    struct ChallengeContext: Sendable, Equatable {
        var challengeID: UUID
        var authorizationID: UUID
        var accountID: UUID
        var challengeType: String
        var token: String?
        var identifier: Identifier
    }

    /// A request refused for a security reason: what the audit log records of it. Never a
    /// secret: the problem's detail, never the JWS, its signature or a MAC key.
    struct RefusedRequest: Sendable, Equatable {
        enum Kind: String, Sendable, CaseIterable {
            /// RFC 8555 §6.2–6.4: the JWS did not verify or broke a rule of its header.
            case jws = "jws.refused"
            /// §7.3.4: newAccount without a required binding, or with one that is refused.
            case eab = "eab.refused"
            /// §6.6: a rate limit or quota was hit.
            case rateLimit = "rate_limit.exceeded"
        }
        var kind: Kind
        /// The problem type's URN suffix (`unauthorized`, `rateLimited`, …) and its detail.
        var problem: String
        var detail: String
        /// Known to the HTTP layer only: the request path and the peer's address.
        var path: String? = nil
        var clientIP: String? = nil
        /// The credential a refused binding named.
        var eabKID: String? = nil
    }

    /// Why an order came to nothing.
    struct OrderFailure: Sendable, Equatable {
        enum Kind: String, Sendable, CaseIterable {
            /// §7.4: newOrder refused by the identifier policy (`rejectedIdentifier`, `unsupportedIdentifier`).
            case rejected = "order.rejected"
            /// newOrder or finalize refused by `quotas`.
            case quotaExceeded = "order.quota_exceeded"
            /// §7.4: finalize refused the CSR (`badCSR`); the order stays ready.
            case csrRefused = "order.csr_refused"
            /// The CA refused to sign, or CAA forbade it: the order is invalid.
            case signingFailed = "order.failed"
            /// The cleanup worker ended an order left `processing` by an interrupted issuance.
            case staleRecovered = "order.stale_recovered"
        }
        var kind: Kind
        /// nil for a refused newOrder.
        var orderID: UUID?
        var accountID: UUID
        var identifiers: [Identifier]
        var error: String
    }

    /// RFC 8555 §7.3: a new account (not a newAccount that found an existing one).
    case accountRegistered(accountID: UUID, contacts: [String], jwkThumbprint: String, termsOfServiceAgreed: Bool,
                           eabKID: String? = nil)
    /// §7.3.2: contacts replaced or terms agreed.
    case accountUpdated(accountID: UUID, contacts: [String])
    /// §7.3.6
    case accountDeactivated(accountID: UUID)
    /// An operator revoked the account (status `revoked`), e.g. with its external account
    /// binding credential; `reason` says why, for its holder.
    case accountRevoked(accountID: UUID, reason: String)
    /// §7.3.5
    case accountKeyRolledOver(accountID: UUID, oldThumbprint: String, newThumbprint: String)
    /// §7.4; `created` is false when an identical open order was returned (ACMEEH fires
    /// the hook for those too).
    case orderCreated(orderID: UUID, accountID: UUID, identifiers: [Identifier], authorizationIDs: [UUID], created: Bool)
    /// §7.5.1: a validation attempt starts.
    case challengeBeforeValidate(ChallengeContext)
    /// The attempt succeeded: the challenge and its authorization are valid.
    case challengeAfterValidate(ChallengeContext)
    /// The attempt failed for good: challenge and authorization invalid.
    case challengeFailed(ChallengeContext, error: String)
    /// §8.2: the attempt failed and will be retried after `backoffSeconds`.
    case challengeRetried(ChallengeContext, error: String, retryCount: Int, backoffSeconds: Int)
    /// §7.5.2
    case authorizationDeactivated(authorizationID: UUID, accountID: UUID, identifier: Identifier)
    /// §7.4: the order is valid with this certificate.
    case certificateIssued(certificateID: UUID, orderID: UUID, accountID: UUID, serial: String,
                           domains: [String], notAfter: Date, pemChain: String)
    /// §7.6; `reason` is the RFC 5280 CRLReason name.
    case certificateRevoked(certificateID: UUID, accountID: UUID, serial: String, reason: String)
    /// The CA backend that issued the certificate refused, for good, to record its
    /// revocation (the revocation stands here; the backend's own CRL will not list it).
    case revocationRefusedByCA(certificateID: UUID, accountID: UUID, serial: String, error: String)
    /// §7.4.2: the owner downloaded the certificate.
    case certificateDelivered(certificateID: UUID, accountID: UUID, serial: String)
    /// RFC 6962: one CT log's answer to the submission of an issued certificate (its
    /// precertificate when `precertificate`): an SCT (base64 of the TLS struct) or the error.
    case ctSubmitted(certificateID: UUID, serial: String, logURL: String, precertificate: Bool, sct: String?, error: String?)
    /// An order refused, or ended without a certificate: what the account is told.
    case orderUnfulfilled(OrderFailure)
    /// A refused request (no state changed).
    case requestRefused(RefusedRequest)

    /// The event's name, as ACMEEH's hooks name it.
    var name: String {
        switch self {
        case .accountRegistered: "account.registration"
        case .accountUpdated: "account.update"
        case .accountDeactivated: "account.deactivation"
        case .accountRevoked: "account.revocation"
        case .accountKeyRolledOver: "account.key_change"
        case .orderCreated: "order.creation"
        case .challengeBeforeValidate: "challenge.before_validate"
        case .challengeAfterValidate: "challenge.after_validate"
        case .challengeFailed: "challenge.on_failure"
        case .challengeRetried: "challenge.on_retry"
        case .authorizationDeactivated: "authorization.deactivation"
        case .certificateIssued: "certificate.issuance"
        case .certificateRevoked: "certificate.revocation"
        case .certificateDelivered: "certificate.delivery"
        case .ctSubmitted: "ct.submission"
        case .revocationRefusedByCA: "certificate.revocation_refused_by_ca"
        case .orderUnfulfilled(let failure): failure.kind.rawValue
        case .requestRefused(let refusal): refusal.kind.rawValue
        }
    }

    /// The context fields, named as ACMEEH's hook contexts name them (JSON-ready values).
    var context: [String: any Sendable] {
        switch self {
        case .accountRegistered(let account, let contacts, let thumbprint, let agreed, let eabKID):
            ["account_id": Self.text(account), "contacts": contacts, "jwk_thumbprint": thumbprint, "tos_agreed": agreed]
                .merging(eabKID.map { ["eab_kid": $0] } ?? [:]) { $1 }
        case .accountUpdated(let account, let contacts):
            ["account_id": Self.text(account), "contacts": contacts]
        case .accountDeactivated(let account):
            ["account_id": Self.text(account)]
        case .accountRevoked(let account, let reason):
            ["account_id": Self.text(account), "reason": reason]
        case .accountKeyRolledOver(let account, let old, let new):
            ["account_id": Self.text(account), "old_jwk_thumbprint": old, "jwk_thumbprint": new]
        case .orderCreated(let order, let account, let identifiers, let authorizations, let created):
            ["order_id": Self.text(order), "account_id": Self.text(account),
             "identifiers": identifiers.map { ["type": $0.type, "value": $0.value] },
             "authz_ids": authorizations.map(Self.text), "created": created]
        case .challengeBeforeValidate(let challenge):
            challenge.fields
        case .challengeAfterValidate(let challenge):
            challenge.fields.merging(["result": "success"]) { $1 }
        case .challengeFailed(let challenge, let error):
            challenge.fields.merging(["error": error]) { $1 }
        case .challengeRetried(let challenge, let error, let retry, let backoff):
            challenge.fields.merging(["error": error, "retry_count": retry, "backoff_seconds": backoff]) { $1 }
        case .authorizationDeactivated(let authorization, let account, let identifier):
            ["authz_id": Self.text(authorization), "account_id": Self.text(account),
             "identifier_type": identifier.type, "identifier_value": identifier.value]
        case .certificateIssued(let certificate, let order, let account, let serial, let domains, let notAfter, let pem):
            ["certificate_id": Self.text(certificate), "order_id": Self.text(order), "account_id": Self.text(account),
             "serial_number": serial, "domains": domains, "not_after": notAfter.formatted(.iso8601), "pem_chain": pem]
        case .certificateRevoked(let certificate, let account, let serial, let reason):
            ["certificate_id": Self.text(certificate), "account_id": Self.text(account), "serial_number": serial,
             "reason": reason]
        case .certificateDelivered(let certificate, let account, let serial):
            ["certificate_id": Self.text(certificate), "account_id": Self.text(account), "serial_number": serial]
        case .ctSubmitted(let certificate, let serial, let url, let precertificate, let sct, let error):
            ["certificate_id": Self.text(certificate), "serial_number": serial, "ct_log_url": url,
             "entry_type": precertificate ? "precert" : "x509", "result": sct == nil ? "failed" : "sct"]
                .merging(sct.map { ["sct": $0] } ?? error.map { ["error": $0] } ?? [:]) { $1 }
        case .revocationRefusedByCA(let certificate, let account, let serial, let error):
            ["certificate_id": Self.text(certificate), "account_id": Self.text(account), "serial_number": serial, "error": error]
        case .orderUnfulfilled(let failure):
            ["account_id": Self.text(failure.accountID), "error": failure.error,
             "identifiers": failure.identifiers.map { ["type": $0.type, "value": $0.value] }]
                .merging(failure.orderID.map { ["order_id": Self.text($0)] } ?? [:]) { $1 }
        case .requestRefused(let refusal):
            refusal.fields
        }
    }

    static func text(_ id: UUID) -> String { id.uuidString.lowercased() }
}

extension DomainEvent.RefusedRequest {
    fileprivate var fields: [String: any Sendable] {
        var fields: [String: any Sendable] = ["problem": problem, "detail": detail]
        if let path { fields["path"] = path }
        if let clientIP { fields["client_ip"] = clientIP }
        if let eabKID { fields["eab_kid"] = eabKID }
        return fields
    }
}

extension DomainEvent.ChallengeContext {
    fileprivate var fields: [String: any Sendable] {
        var fields: [String: any Sendable] = [
            "challenge_id": DomainEvent.text(challengeID), "authz_id": DomainEvent.text(authorizationID),
            "account_id": DomainEvent.text(accountID), "challenge_type": challengeType,
            "identifier_type": identifier.type, "identifier_value": identifier.value,
        ]
        if let token { fields["token"] = token }
        return fields
    }
}
