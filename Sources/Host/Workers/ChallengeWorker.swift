import Foundation

/// The background half of challenge validation: picks up processing challenges that
/// nobody holds and whose retry time has passed (queued by a trigger with
/// `auto_validate: false`, or scheduled for a retry), several instances sharing the
/// queue through `FOR UPDATE SKIP LOCKED`; a challenge queued by this instance rings
/// the bell and is picked up at once. Each round also expires pending
/// authorizations and open orders past their expiry, and queues again the challenges an
/// instance's graceful shutdown returned to pending.
struct ChallengeWorker: Sendable {
    let validation: ChallengeValidation
    let pollSeconds: Int
    let staleSeconds: Int
    let bell: WorkerBell
    let name = ChallengeLocks.worker

    /// Runs until the task is cancelled.
    func run() async {
        while !Task.isCancelled {
            do {
                let database = validation.database, name = self.name, stale = staleSeconds
                let expiredProblem = Problem(.malformed, "the order or one of its authorizations expired").documentJSON
                let due = try await database.withConnection { connection -> [Challenge] in
                    // RFC 8555 §7.1.6: expiry moves pending authorizations and open orders on.
                    try connection.expireStaleAuthorizationsAndOrders(orderError: expiredProblem)
                    try connection.releaseStaleChallengeLocks(olderThan: stale)
                    // Challenges an instance drained at its shutdown are taken up again.
                    try connection.requeueDrainedChallenges()
                    return try connection.claimDueChallenges(lockedBy: name, limit: 16)
                }
                await withTaskGroup(of: Void.self) { group in
                    for challenge in due { group.addTask { await validation.attempt(challenge) } }
                }
                if !due.isEmpty { continue }
            } catch {
                validation.logger.warning("challenge worker poll failed", metadata: ["error": "\(error)"])
            }
            await bell.wait(upTo: .seconds(pollSeconds))
        }
    }
}
