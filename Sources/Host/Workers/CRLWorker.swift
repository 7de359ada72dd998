/// The CRL worker (`crl.enabled`), run by the leader of advisory lock 712948: every
/// `CRLPublisher.checkSeconds` it rebuilds each backend's CRL that is due — older than
/// `crl.rebuild_interval_seconds`, or behind a revocation, so a revoked certificate is
/// listed within seconds.
struct CRLWorker: Sendable {
    let publisher: CRLPublisher

    func round() async throws -> Bool {
        for backend in publisher.backends { try await publisher.rebuild(backend) }
        return false
    }
}
