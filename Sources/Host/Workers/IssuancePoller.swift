import Foundation

/// The background half of deferred signing: polls the CA for processing orders whose
/// poll time has come, several instances sharing them through `FOR UPDATE SKIP LOCKED`.
/// Not elected: a claim moves the order's poll time a lease (60 s) ahead in the same
/// statement, so no two instances poll one order at once and a dead instance's orders come
/// due again after the lease; the certificate is recorded only while the order is still
/// processing, so even a repeated poll cannot store it twice.
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
