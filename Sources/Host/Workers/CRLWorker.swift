/// The CRL worker (`crl.enabled`), run by the leader of advisory lock 712948: every
/// `CRLPublisher.checkSeconds` it rebuilds each backend's CRL that is due — older than
/// `crl.rebuild_interval_seconds`, or behind a revocation, so a revoked certificate is
/// listed within seconds.
struct CRLWorker: Sendable {
    let publisher: CRLPublisher
    let metrics: WorkerMetrics

    func round() async throws -> Bool {
        do {
            for backend in publisher.backends where try await publisher.rebuild(backend) != nil {
                metrics.crlsPublished.increment()
            }
        } catch {
            metrics.crlErrors.increment()
            throw error
        }
        return false
    }
}
