import Foundation

/// The order steps of RFC 8555 §7.4: newOrder, the order fetch and finalize.
extension CoreServices {
    /// newOrder; `created` is false when an identical open order was returned.
    func newOrder(_ request: OrderCreation.Request, by account: Account, _ requestGuard: RequestGuard? = nil) async throws
        -> (order: Order, created: Bool)
    {
        let (order, created) = try await orderCreation.newOrder(account: account, request, requestGuard)
        if created {
            logger.info("order created", metadata: ["order": "\(order.id)", "account": "\(account.id)",
                                                     "identifiers": "\(order.identifiers.map(\.value))"])
        }
        events.publish(.orderCreated(orderID: order.id, accountID: account.id, identifiers: order.identifiers,
                                     authorizationIDs: order.authorizationIDs, created: created))
        return (order, created)
    }

    /// The order, for its owner (one batch, opened by the request's guard).
    func order(_ id: UUID, for account: Account, _ requestGuard: RequestGuard? = nil) async throws -> Order {
        guard let order = try await database.runBatch(after: requestGuard, [.order(id: id)])[0].orders.first else {
            throw ResourceAccess.notFound("order")
        }
        try ResourceAccess.requireOwner(order.accountID, account, "order")
        return order
    }

    /// finalize: signs the CSR for a `ready` order; returns the order afterwards (valid,
    /// or processing while the CA defers).
    func finalize(_ id: UUID, by account: Account, csrDER: [UInt8], _ requestGuard: RequestGuard? = nil) async throws -> Order {
        let order = try await order(id, for: account, requestGuard)
        // RFC 8555 §7.4: "A request to finalize an order will result in an error if the
        // order is not in the "ready" state" (orderNotReady, 403).
        guard order.status == .ready else {
            throw Problem(.orderNotReady, "order is \(order.status.rawValue), not ready; it cannot be finalized")
        }
        if order.expires < Date() { throw Problem(.orderNotReady, "order has expired") }
        return try await issuance.finalize(order: order, account: account, csrDER: csrDER)
    }
}
