import Logging

/// The background work of a serving instance, started by `serve` and run until cancelled:
/// the challenge worker (advisory lock 712003, unless `challenges.background_worker.enabled`
/// is false) and the cleanup worker (712001), each elected on its own database session,
/// and the deferred-signing poller and the revocation forwarder, which every instance runs
/// (their rows are shared through `FOR UPDATE SKIP LOCKED`), and with `crl.enabled` the CRL
/// worker (712948); with `notifications.enabled` the expiration worker (712002) and, with
/// `smtp.enabled` too, the notification sender, which every instance runs.
struct BackgroundWorkers: Sendable {
    let core: CoreServices
    let challenge: WorkerState
    let cleanup: WorkerState
    let expiration: WorkerState
    let crl: WorkerState

    let metrics: WorkerMetrics

    init(core: CoreServices, metrics: WorkerMetrics = .disabled) {
        self.core = core
        self.metrics = metrics
        let config = core.config
        challenge = WorkerState(name: "challenge", lockID: WorkerLock.challenge,
                                intervalSeconds: config.challenges.backgroundWorker.pollSeconds,
                                enabled: config.challenges.backgroundWorker.enabled)
        cleanup = WorkerState(name: "cleanup", lockID: WorkerLock.cleanup,
                              intervalSeconds: Self.cleanupWorker(core).pollSeconds, enabled: true)
        expiration = WorkerState(name: "expiration", lockID: WorkerLock.expiration,
                                 intervalSeconds: config.notifications.expirationCheckIntervalSeconds,
                                 enabled: core.notificationRecorder != nil)
        crl = WorkerState(name: "crl", lockID: WorkerLock.crl, intervalSeconds: CRLPublisher.checkSeconds,
                          enabled: core.crl != nil)
    }

    /// Every worker's state, in `/healthz` order.
    var states: [WorkerState] { [challenge, cleanup, expiration, crl] }

    func run() async {
        let core = self.core, config = core.config, challenge = self.challenge, cleanup = self.cleanup
        let metrics = self.metrics, crl = self.crl, expiration = self.expiration
        await withTaskGroup(of: Void.self) { group in
            if let publisher = core.crl {
                group.addTask {
                    let worker = CRLWorker(publisher: publisher, metrics: metrics)
                    await ElectedWorker(session: LeaderSession(key: WorkerLock.crl, config: config.database),
                                        state: crl, intervalSeconds: CRLPublisher.checkSeconds, bell: nil,
                                        logger: Logger(label: "acmeeh.worker.crl"), round: { try await worker.round() }).run()
                }
            }
            if let warnings = core.expirationWarnings {
                group.addTask {
                    let worker = ExpirationWorker(warnings: warnings, metrics: metrics)
                    await ElectedWorker(session: LeaderSession(key: WorkerLock.expiration, config: config.database),
                                        state: expiration, intervalSeconds: config.notifications.expirationCheckIntervalSeconds,
                                        bell: nil, logger: Logger(label: "acmeeh.worker.expiration"),
                                        round: { try await worker.round() }).run()
                }
            }
            if let delivery = core.notificationDelivery, let recorder = core.notificationRecorder {
                group.addTask {
                    await NotificationSender(delivery: delivery, bell: recorder.bell, pollSeconds: Self.notificationPollSeconds).run()
                }
            }
            if config.challenges.backgroundWorker.enabled {
                group.addTask {
                    let worker = ChallengeWorker(validation: core.validation,
                                                 staleSeconds: config.challenges.backgroundWorker.staleSeconds,
                                                 metrics: metrics)
                    await ElectedWorker(session: LeaderSession(key: WorkerLock.challenge, config: config.database),
                                        state: challenge, intervalSeconds: config.challenges.backgroundWorker.pollSeconds,
                                        bell: core.workerBell, logger: Logger(label: "acmeeh.worker.challenge"),
                                        round: { try await worker.round() }).run()
                }
            }
            group.addTask {
                let worker = Self.cleanupWorker(core, metrics: metrics)
                await ElectedWorker(session: LeaderSession(key: WorkerLock.cleanup, config: config.database),
                                    state: cleanup, intervalSeconds: worker.pollSeconds, bell: nil,
                                    logger: Logger(label: "acmeeh.worker.cleanup"), round: { try await worker.round() }).run()
            }
            group.addTask {
                await IssuancePoller(issuance: core.issuance,
                                     pollSeconds: config.challenges.backgroundWorker.pollSeconds).run()
            }
            group.addTask {
                await RevocationForwarder(forwarding: core.revocationForwarding,
                                          pollSeconds: config.challenges.backgroundWorker.pollSeconds).run()
            }
        }
    }

    /// How often the sender looks for retries that came due and other instances' rows.
    static let notificationPollSeconds = 5

    private static func cleanupWorker(_ core: CoreServices, metrics: WorkerMetrics = .disabled) -> CleanupWorker {
        CleanupWorker(database: core.database, nonce: core.config.nonce, order: core.config.order,
                      logger: Logger(label: "acmeeh.worker.cleanup"), rateLimits: core.config.security.rateLimits,
                      retention: core.config.retention, auditRetention: core.config.auditRetention, metrics: metrics,
                      events: core.events)
    }
}
