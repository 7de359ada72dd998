import Foundation
import Logging

/// Gets every recorded revocation to the CA backend that issued the certificate
/// (`certificates.ca_backend`), through the `revocation_outbox` row written with the
/// revocation: the request makes the first attempt; a retryable failure is retried by
/// `RevocationForwarder` on every instance, `backoffBaseSeconds`·2^(n−1) after the n-th
/// failed attempt, capped at `maxBackoffSeconds`, until the backend confirms. A final
/// refusal (the backend answers that it will not, e.g. an unknown serial) is kept as
/// `failed`, logged at error and not retried. Every attempt is at least once: the backend
/// may see the same serial again (docs/plugins.md, `ca_revoke`).
struct RevocationForwarding: Sendable {
    let database: Database
    let ca: GuardedCA
    /// The bound on one CA call (`server.timeout`).
    let timeout: Duration
    /// The first retry's delay (`ca.circuit_breaker_recovery_timeout`).
    let backoffBaseSeconds: Double
    let backlog: RevocationBacklog
    let observer: PluginCallObserver
    /// Told of a final refusal (`certificate.revocation_refused_by_ca`).
    var events: EventDispatcher? = nil
    let logger: Logger

    /// The longest delay between two attempts.
    static let maxBackoffSeconds = 3600
    /// Rows one claim takes.
    static let claimLimit = 8

    /// How long an attempt under way keeps its row from the other instances: the CA call's
    /// bound and a margin. A row whose instance died becomes due again after it.
    var leaseSeconds: Int { Self.leaseSeconds(timeout: timeout) }

    static func leaseSeconds(timeout: Duration) -> Int { Int(timeout.components.seconds) + 30 }

    /// The delay before the next attempt after `attempts` failed ones (1, 2, …).
    func backoffSeconds(afterAttempts attempts: Int) -> Int {
        Self.backoffSeconds(afterAttempts: attempts, base: backoffBaseSeconds)
    }

    /// base·2^(attempts−1) seconds, at least 1, at most `maxBackoffSeconds`.
    static func backoffSeconds(afterAttempts attempts: Int, base: Double) -> Int {
        let exponent = Double(max(attempts, 1) - 1)
        let delay = base * pow(2, min(exponent, 30))
        return max(1, min(maxBackoffSeconds, Int(delay.rounded(.up))))
    }

    /// What one attempt came to.
    enum Outcome: Sendable, Equatable {
        case delivered
        /// Retryable (the backend unreachable, its breaker open, a timeout, a configuration
        /// error such as TLS trust, fixed without the request changing).
        case retry(String)
        /// A final refusal.
        case refused(String)
    }

    /// One attempt at the backend, its outcome recorded in the outbox (one round trip) and
    /// reported to the observer when settled. `attempts` counts this one.
    @discardableResult
    func attempt(certificateID: UUID, accountID: UUID, serial: String, certificateDER: [UInt8], reason: Int?,
                 backend: String, attempts: Int) async -> Outcome {
        let outcome: Outcome
        do {
            try await ca.revoke(CARevokeRequest(serialHex: serial, certificateDER: certificateDER, reason: reason.map(Int32.init)),
                                backend: backend, timeout: timeout)
            outcome = .delivered
        } catch {
            outcome = error.retryable || error.code == .config ? .retry(error.detail) : .refused("\(error)")
        }
        let metadata: Logger.Metadata = ["serial": "\(serial)", "backend": "\(backend)", "attempts": "\(attempts)"]
        let statement: BatchStatement
        switch outcome {
        case .delivered:
            statement = .revocationDelivered(certificateID)
            if attempts > 1 { logger.info("revocation delivered to the CA backend after retries", metadata: metadata) }
        case .retry(let detail):
            let delay = backoffSeconds(afterAttempts: attempts)
            statement = .revocationRetry(certificateID, attempts: attempts, retryInSeconds: delay, error: detail)
            logger.warning("CA backend did not confirm the revocation; it is recorded and will be retried",
                           metadata: metadata.merging(["error": "\(detail)", "retry_in_seconds": "\(delay)"]) { $1 })
        case .refused(let detail):
            statement = .revocationRefused(certificateID, attempts: attempts, error: detail)
            logger.error("CA backend refused the revocation for good; it is recorded here only and not retried",
                         metadata: metadata.merging(["error": "\(detail)"]) { $1 })
        }
        do {
            _ = try await database.runBatch([statement])
        } catch {
            // The row keeps its lease and comes due again after it: at worst one more attempt.
            logger.warning("could not record the revocation attempt", metadata: metadata.merging(["error": "\(error)"]) { $1 })
        }
        switch outcome {
        case .delivered: observer.caRevocationSettled(backend, true)
        case .refused(let detail):
            observer.caRevocationSettled(backend, false)
            events?.publish(.revocationRefusedByCA(certificateID: certificateID, accountID: accountID, serial: serial, error: detail))
        case .retry: break
        }
        return outcome
    }

    /// The worker's round: claims the due revocations (and counts the backlog, in the same
    /// round trip), attempts each; returns how many it claimed.
    func forwardDue() async throws -> Int {
        let results = try await database.runBatch([
            .claimDueRevocations(limit: Self.claimLimit, leaseSeconds: leaseSeconds), .revocationBacklog,
        ])
        let due = try results[0].pendingRevocations
        backlog.update(try results[1].revocationBacklog)
        for revocation in due {
            let der: [UInt8]
            do {
                der = try IssuedLeaf(pemChain: revocation.pemChain).der
            } catch {
                _ = try? await database.runBatch([
                    .revocationRefused(revocation.certificateID, attempts: revocation.attempts,
                                       error: "the stored certificate cannot be read: \(error)"),
                ])
                logger.error("revocation not forwarded: the stored certificate cannot be read",
                             metadata: ["serial": "\(revocation.serial)", "error": "\(error)"])
                continue
            }
            await attempt(certificateID: revocation.certificateID, accountID: revocation.accountID, serial: revocation.serial,
                          certificateDER: der,
                          reason: revocation.reason, backend: revocation.backend, attempts: revocation.attempts + 1)
        }
        return due.count
    }
}
