import Foundation

/// The background half of `RevocationForwarding`: retries the revocations a CA backend has
/// not confirmed, on every instance (not elected: a claim leases its rows through `FOR
/// UPDATE SKIP LOCKED`, so instances share them and a dead instance's rows come due again
/// after the lease). Each poll also counts the outbox for `/healthz` and the metrics.
struct RevocationForwarder: Sendable {
    let forwarding: RevocationForwarding
    let pollSeconds: Int

    func run() async {
        while !Task.isCancelled {
            do {
                if try await forwarding.forwardDue() > 0 { continue }
            } catch {
                forwarding.logger.warning("revocation outbox poll failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(pollSeconds))
        }
    }
}
