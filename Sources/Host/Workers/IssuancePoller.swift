import Foundation

/// The background half of deferred signing: polls the CA for processing orders whose
/// poll time has come, several instances sharing them through `FOR UPDATE SKIP LOCKED`.
struct IssuancePoller: Sendable {
    let issuance: Issuance
    let pollSeconds: Int

    func run() async {
        while !Task.isCancelled {
            do {
                let due = try await issuance.database.withConnection {
                    try $0.claimDueSigningPolls(limit: 8, leaseSeconds: 60)
                }
                for poll in due { await issuance.poll(poll) }
                if !due.isEmpty { continue }
            } catch {
                issuance.logger.warning("deferred signing poll failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(pollSeconds))
        }
    }
}
