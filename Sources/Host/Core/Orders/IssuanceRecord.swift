import Foundation
import Logging

/// Records an issued certificate — the certificate row, the order valid with it, the order
/// read back — as one batch, surviving a connection lost on the way.
struct IssuanceRecord: Sendable {
    let database: Database
    let logger: Logger

    /// Sends `record` (its last statement reads the order). A connection lost on the way
    /// leaves the commit unknown: the order is read again, and the batch sent once more
    /// unless it did commit (the certificate's id, serial and fingerprint are unique, so
    /// nothing is recorded twice).
    func send(_ record: [BatchStatement], orderID: UUID) async throws -> Order {
        do {
            return try await sendOnce(record)
        } catch let error as StoreError where error.kind == .connectionLost {
            logger.warning("connection lost while recording a certificate; reading the order again",
                           metadata: ["order": "\(orderID)"])
            if let order = try await database.runBatch([.order(id: orderID)])[0].orders.first, order.status == .valid {
                return order
            }
            return try await sendOnce(record)
        }
    }

    private func sendOnce(_ record: [BatchStatement]) async throws -> Order {
        guard let order = try await database.runBatch(record).last?.orders.first else { throw ResourceAccess.notFound("order") }
        return order
    }
}
