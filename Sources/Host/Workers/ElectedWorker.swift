import Logging

/// Runs one worker's rounds on the instance that holds its advisory lock. Every interval
/// (or at a ring of `bell`) the loop confirms or takes the lock on its own session; the
/// leader then runs a round, a standby only waits, so when the leader dies (its session
/// ends and the lock frees) a standby takes over within one interval. A round that
/// reports more work runs again at once. Cancelling the task resigns the lock.
struct ElectedWorker: Sendable {
    let session: LeaderSession
    let state: WorkerState
    let intervalSeconds: Int
    let bell: WorkerBell?
    let logger: Logger
    /// One round of the work; returns true when more work is waiting.
    let round: @Sendable () async throws -> Bool

    func run() async {
        state.started()
        var wasLeader = false
        while !Task.isCancelled {
            var more = false
            do {
                let leader = try await session.confirm()
                state.checked(leader: leader)
                if leader != wasLeader {
                    logger.info(leader ? "took the lead (advisory lock \(session.key))" : "standing by (advisory lock \(session.key))")
                    wasLeader = leader
                }
                if leader {
                    more = try await round()
                    state.ran()
                }
            } catch {
                state.failed(error)
                logger.warning("worker round failed", metadata: ["error": "\(error)"])
            }
            if more { continue }
            if let bell { await bell.wait(upTo: .seconds(intervalSeconds)) } else { try? await Task.sleep(for: .seconds(intervalSeconds)) }
        }
        await session.resign()
        state.ended()
    }
}
