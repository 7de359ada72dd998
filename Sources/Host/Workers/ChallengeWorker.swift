import Foundation

/// The background half of challenge validation (RFC 8555 §8.2), run by the leader of
/// advisory lock 712003: releases challenges locked longer than `stale_seconds` (an
/// instance died mid-validation), then validates the processing challenges nobody holds
/// whose retry time has passed (queued by a trigger with `auto_validate: false`, or
/// scheduled for a retry), claimed with `FOR UPDATE SKIP LOCKED`. It also queues again the
/// challenges an instance's graceful shutdown returned to pending.
struct ChallengeWorker: Sendable {
    let validation: ChallengeValidation
    let staleSeconds: Int
    var metrics: WorkerMetrics = .disabled
    let name = ChallengeLocks.worker

    /// One round; true when it claimed challenges (more may have been queued meanwhile).
    func round() async throws -> Bool {
        let name = self.name, stale = staleSeconds
        metrics.challengePolls.increment()
        let due: [Challenge]
        do {
            due = try await validation.database.withConnection { connection -> [Challenge] in
                try connection.releaseStaleChallengeLocks(olderThan: stale)
                // Challenges an instance drained at its shutdown are taken up again.
                try connection.requeueDrainedChallenges()
                return try connection.claimDueChallenges(lockedBy: name, limit: 16)
            }
        } catch {
            metrics.challengeErrors.increment()
            throw error
        }
        await withTaskGroup(of: Void.self) { group in
            for challenge in due { group.addTask { await validation.attempt(challenge) } }
        }
        return !due.isEmpty
    }
}
