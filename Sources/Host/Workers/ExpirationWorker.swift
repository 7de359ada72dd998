/// The expiration worker (`notifications.enabled`), run by the leader of advisory lock
/// 712002 every `notifications.expiration_check_interval_seconds`: records the expiration
/// warnings that are due (`ExpirationWarnings`).
struct ExpirationWorker: Sendable {
    let warnings: ExpirationWarnings
    let metrics: WorkerMetrics

    func round() async throws -> Bool {
        do {
            _ = try await warnings.round()
        } catch {
            metrics.expirationErrors.increment()
            throw error
        }
        return false
    }
}
