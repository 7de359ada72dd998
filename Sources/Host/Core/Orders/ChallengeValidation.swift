import Foundation
import Logging

/// Runs one validation attempt of a challenge through its plugin and applies the
/// outcome to the state machines of RFC 8555 §7.1.6 / §8.2: success makes the challenge
/// and its authorization valid and every order whose authorizations are all valid
/// ready; a retryable failure under `max_retries` keeps the challenge processing with a
/// backoff (base·2^n, capped); a final failure makes the challenge and the
/// authorization invalid and the pending orders using it invalid.
struct ChallengeValidation: Sendable {
    let database: Database
    let validators: [String: ChallengePluginInstance]
    let types: ChallengeTypes
    let timeout: Duration
    /// The account URL (`accounturi` of dns-persist-01, plugin logs).
    let accountURL: @Sendable (UUID) -> String
    let events: EventDispatcher
    let logger: Logger
    /// Told how long each validation attempt took.
    var observer: PluginCallObserver = .none

    /// Validates a challenge that this caller has claimed (status processing, locked), and
    /// returns it as the outcome left it (nil when that could not be recorded). A caller
    /// that already holds the challenge's authorization and its account passes them and
    /// saves a lookup.
    @discardableResult
    func attempt(_ challenge: Challenge, holders: (Authorization, Account)? = nil) async -> Challenge? {
        do {
            return try await run(challenge, holders: holders)
        } catch let error as StoreError where error.guardName == BatchStatement.challengeHeldGuardName {
            // Drained back to pending (a shutdown) while validating: the outcome is dropped
            // and the challenge is validated again.
            logger.info("challenge was released while validating; its outcome is discarded",
                        metadata: ["challenge": "\(challenge.id)"])
            return nil
        } catch {
            logger.error("challenge validation failed to complete",
                         metadata: ["challenge": "\(challenge.id)", "error": "\(error)"])
            // Leave it for the worker: unlock so the stale-lock recovery is not needed.
            let problem = Problem(.serverInternal, "validation could not be completed; it will be retried")
            _ = try? await database.withConnection {
                try $0.scheduleChallengeRetry(challenge.id, error: problem.documentJSON, at: Date().addingTimeInterval(5))
            }
            return nil
        }
    }

    private func run(_ challenge: Challenge, holders: (Authorization, Account)?) async throws -> Challenge? {
        let loaded: (Authorization?, Account?)
        if let holders {
            loaded = holders
        } else {
            loaded = try await database.withConnection { connection -> (Authorization?, Account?) in
                let authorization = try connection.authorization(id: challenge.authorizationID)
                return (authorization, try authorization.flatMap { try connection.account(id: $0.accountID) })
            }
        }
        guard let authorization = loaded.0, let account = loaded.1 else { return nil }
        guard let validator = validators[challenge.type] else {
            return try await fail(challenge, authorization,
                                  Problem(.serverInternal, "challenge type \(challenge.type) is no longer enabled"))
        }
        // RFC 8555 §8.1: keyAuthorization = token || '.' || base64url(Thumbprint(accountKey)).
        let request = ChallengeValidationRequest(
            challengeType: challenge.type, identifierType: authorization.identifier.type,
            identifierValue: authorization.identifier.value, token: challenge.token,
            keyAuthorization: challenge.token.map { $0 + "." + account.thumbprint },
            accountURL: accountURL(account.id), wildcard: authorization.wildcard)
        let context = DomainEvent.ChallengeContext(
            challengeID: challenge.id, authorizationID: authorization.id, accountID: account.id,
            challengeType: challenge.type, token: challenge.token, identifier: authorization.identifier)
        events.publish(.challengeBeforeValidate(context))
        let started = ContinuousClock.now
        do {
            try await validator.validate(request, timeout: timeout)
            observer.validated(challenge.type, ContinuousClock.now - started)
        } catch {
            observer.validated(challenge.type, ContinuousClock.now - started)
            let problem = Problem(ProblemType(urn: error.problemType) ?? .serverInternal, error.detail, refusal: .badRequest)
            if error.retryable, challenge.retryCount < types.maxRetries(challenge.type) {
                let delay = types.retryDelaySeconds(challenge.type, retry: challenge.retryCount)
                logger.info("challenge validation will be retried",
                            metadata: ["challenge": "\(challenge.id)", "type": "\(challenge.type)",
                                       "retry": "\(challenge.retryCount + 1)", "backoff_seconds": "\(delay)",
                                       "error": "\(error.detail)"])
                let after = try await database.runBatch([
                    .scheduleChallengeRetry(challenge.id, error: problem.documentJSON,
                                            at: Date().addingTimeInterval(TimeInterval(delay))),
                    .challenge(id: challenge.id),
                ])[1].challenges.first
                events.publish(.challengeRetried(context, error: error.detail, retryCount: challenge.retryCount + 1,
                                                 backoffSeconds: delay))
                await validator.cleanup(request, timeout: timeout)
                return after
            }
            logger.info("challenge invalid", metadata: ["challenge": "\(challenge.id)", "error": "\(error.detail)"])
            let after = try await fail(challenge, authorization, problem)
            events.publish(.challengeFailed(context, error: error.detail))
            await validator.cleanup(request, timeout: timeout)
            return after
        }
        await validator.cleanup(request, timeout: timeout)
        logger.info("challenge valid", metadata: ["challenge": "\(challenge.id)", "type": "\(challenge.type)",
                                                   "identifier": "\(authorization.identifier.value)"])
        // RFC 8555 §7.1.6: one valid challenge makes the authorization valid, and the orders
        // whose authorizations are then all valid ready; one batch, the challenge read back.
        let after = try await database.runBatch([
            .setChallengeValid(challenge.id),
            .setAuthorizationStatus(authorization.id, to: .valid, from: [.pending]),
            .readyOrders(usingAuthorization: authorization.id),
            .challenge(id: challenge.id),
        ])[3].challenges.first
        events.publish(.challengeAfterValidate(context))
        return after
    }

    /// The challenge and its authorization invalid, and the pending orders using it; one
    /// batch, the challenge read back.
    private func fail(_ challenge: Challenge, _ authorization: Authorization, _ problem: Problem) async throws -> Challenge? {
        let orderProblem = Problem(.unauthorized, "authorization for \(authorization.identifier.value) failed",
                                   refusal: .forbidden, subproblems: [.init(type: problem.type, detail: problem.detail,
                                                                    identifier: authorization.identifier)])
        return try await database.runBatch([
            .setChallengeInvalid(challenge.id, error: problem.documentJSON),
            .setAuthorizationStatus(authorization.id, to: .invalid, from: [.pending]),
            .invalidateOrders(usingAuthorization: authorization.id, statuses: [.pending], error: orderProblem.documentJSON),
            .challenge(id: challenge.id),
        ])[3].challenges.first
    }
}
