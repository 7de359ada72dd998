/// The background half of `NotificationDelivery` (`notifications.enabled` and
/// `smtp.enabled`): delivers due notifications on every instance (rows are leased through
/// `FOR UPDATE SKIP LOCKED`, so instances share them and a dead instance's rows come due
/// again after the lease), at once when this instance recorded one (`bell`), else every
/// `pollSeconds` for retries and other instances' rows.
struct NotificationSender: Sendable {
    let delivery: NotificationDelivery
    let bell: WorkerBell
    let pollSeconds: Int

    func run() async {
        while !Task.isCancelled {
            do {
                if try await delivery.deliverDue() > 0 { continue }
            } catch {
                delivery.logger.warning("notification poll failed", metadata: ["error": "\(error)"])
            }
            await bell.wait(upTo: .seconds(pollSeconds))
        }
    }
}
