/// The PostgreSQL advisory lock ids that elect each background worker's leader (the
/// reference ACMEEH's ids, so mixed deployments never run a worker twice). 712000 is the
/// migrator's.
enum WorkerLock {
    /// The cleanup worker (`CleanupWorker`).
    static let cleanup = 712_001
    /// The expiration-warning worker (`ExpirationWorker`).
    static let expiration = 712_002
    /// The challenge worker (`ChallengeWorker`).
    static let challenge = 712_003
    /// The CRL worker (`CRLWorker`); ACMEEH takes the same id to write its CRL cache, so a
    /// mixed deployment never builds two CRLs at once either.
    static let crl = 712_948
}
