/// The PostgreSQL advisory lock ids that elect each background worker's leader (the
/// reference ACMEEH's ids, so mixed deployments never run a worker twice). 712000 is the
/// migrator's; 712948 the CRL cache's.
enum WorkerLock {
    /// The cleanup worker (`CleanupWorker`).
    static let cleanup = 712_001
    /// The expiration-warning worker of the notifications work; reserved, not built yet.
    static let expiration = 712_002
    /// The challenge worker (`ChallengeWorker`).
    static let challenge = 712_003
}
