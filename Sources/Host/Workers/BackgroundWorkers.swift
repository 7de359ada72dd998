import Logging

/// The background work of a serving instance, started by `serve` and run until
/// cancelled: queued and retried challenge validations (RFC 8555 §8.2), polls of
/// deferred signings, and the cleanup worker.
struct BackgroundWorkers: Sendable {
    let core: CoreServices

    func run() async {
        let config = core.config, core = self.core
        let pollSeconds = config.challenges.backgroundWorker.pollSeconds
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await ChallengeWorker(validation: core.validation, pollSeconds: pollSeconds,
                                      staleSeconds: config.challenges.backgroundWorker.staleSeconds,
                                      bell: core.workerBell).run()
            }
            group.addTask { await IssuancePoller(issuance: core.issuance, pollSeconds: pollSeconds).run() }
            group.addTask {
                await CleanupWorker(database: core.database, nonce: config.nonce, order: config.order,
                                    logger: Logger(label: "acmeeh.cleanup"), rateLimits: config.security.rateLimits).run()
            }
        }
    }
}
