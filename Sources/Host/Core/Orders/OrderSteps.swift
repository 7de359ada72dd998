import Foundation

/// The order steps of RFC 8555 §7.4: newOrder, the order fetch and finalize.
extension CoreServices {
    /// newOrder; `created` is false when an identical open order was returned.
    func newOrder(_ request: OrderCreation.Request, by account: Account, _ requestGuard: RequestGuard? = nil) async throws
        -> (order: Order, created: Bool)
    {
        let (order, created): (Order, Bool)
        do {
            (order, created) = try await orderCreation.newOrder(account: account, request, requestGuard)
        } catch let problem as Problem {
            // The identifier policy or a quota refused it: the account is told.
            if let kind: DomainEvent.OrderFailure.Kind = [.rejectedIdentifier, .unsupportedIdentifier].contains(problem.type)
                ? .rejected : Quotas.isQuotaRefusal(problem) ? .quotaExceeded : nil {
                events.publish(.orderUnfulfilled(.init(kind: kind, orderID: nil, accountID: account.id,
                                                       identifiers: request.identifiers, error: problem.detail)))
            }
            throw problem
        }
        if created {
            logger.info("order created", metadata: ["order": "\(order.id)", "account": "\(account.id)",
                                                     "identifiers": "\(order.identifiers.map(\.value))"])
        }
        events.publish(.orderCreated(orderID: order.id, accountID: account.id, identifiers: order.identifiers,
                                     authorizationIDs: order.authorizationIDs, created: created))
        return (order, created)
    }

    /// The order, for its owner (one batch, opened by the request's guard; a read, committed
    /// without waiting for the flush).
    func order(_ id: UUID, for account: Account, _ requestGuard: RequestGuard? = nil) async throws -> Order {
        guard let order = try await database.runBatch(after: requestGuard, [.order(id: id)], asynchronousCommit: true)[0]
            .orders.first else {
            throw ResourceAccess.notFound("order")
        }
        try ResourceAccess.requireOwner(order.accountID, account, "order")
        return order
    }

    /// finalize: signs the CSR for a `ready` order; returns the order afterwards (valid, or
    /// processing while the CA defers). The CSR is checked first; the claim — owner, ready,
    /// unexpired, exactly the CSR's identifiers — and the serial are one statement of the
    /// batch opened by the request's guard, which also reads the order back.
    func finalize(_ id: UUID, by account: Account, csrDER: [UInt8], _ requestGuard: RequestGuard? = nil) async throws -> Order {
        let claimed: (order: Order, serialHex: String?)
        do {
            claimed = try await claimForSigning(id, by: account, csrDER: csrDER, requestGuard)
        } catch let problem as Problem {
            // A refused CSR or a quota: the account is told (the order stays ready).
            if let kind: DomainEvent.OrderFailure.Kind = problem.type == .badCSR ? .csrRefused
                : Quotas.isQuotaRefusal(problem) ? .quotaExceeded : nil {
                let identifiers = (try? await order(id, for: account))?.identifiers ?? []
                events.publish(.orderUnfulfilled(.init(kind: kind, orderID: id, accountID: account.id,
                                                       identifiers: identifiers, error: problem.detail)))
            }
            throw problem
        }
        return try await issuance.sign(claimed: claimed.order, account: account, csrDER: csrDER, serialHex: claimed.serialHex)
    }

    /// The CSR checked and the order claimed (`processing`) with its serial, or the refusal.
    private func claimForSigning(_ id: UUID, by account: Account, csrDER: [UInt8],
                                 _ requestGuard: RequestGuard?) async throws -> (order: Order, serialHex: String?) {
        let policy = CSRPolicy(security: config.security)
        let inspected: CSRPolicy.Inspected
        do {
            inspected = try policy.inspect(der: csrDER, accountThumbprint: account.thumbprint, keyFingerprint: csrProfilesActive)
        } catch {
            // An unknown or foreign order, or one that is not ready, is the answer before the CSR.
            let order = try await order(id, for: account, requestGuard)
            guard order.status == .ready else {
                throw Problem(.orderNotReady, "order is \(order.status.rawValue), not ready; it cannot be finalized")
            }
            throw error
        }
        let issuance = self.issuance
        // The account's CSR profile, when profiles are active, is read in the same batch.
        let profileRead = csrProfileRead(account: account, inspected)
        let results: [BatchStatementResult]
        do {
            // The quota guard goes last: the claim, the order and the profile keep their places.
            results = try await database.runBatch(after: requestGuard, [
                .claimOrderForSigning(id, accountID: account.id,
                                      identifiersHash: OrderTokens.identifiersHash(inspected.requested),
                                      drawSerial: issuance.drawsSerial),
                .order(id: id),
            ] + (profileRead.map { [$0] } ?? []) + quotas.certificateGuards(accountID: account.id))
        } catch let error as StoreError {
            throw await quotas.refusal(error, accountID: account.id) ?? error
        }
        guard let order = try results[1].orders.first else { throw ResourceAccess.notFound("order") }
        try ResourceAccess.requireOwner(order.accountID, account, "order")
        guard let claim = results[0].rows.first, try claim.int("claimed") == 1 else {
            // RFC 8555 §7.4: "A request to finalize an order will result in an error if the
            // order is not in the "ready" state" (orderNotReady, 403).
            guard order.status == .ready else {
                throw Problem(.orderNotReady, "order is \(order.status.rawValue), not ready; it cannot be finalized")
            }
            if order.expires < Date() { throw Problem(.orderNotReady, "order has expired") }
            // The CSR does not name the order's identifiers. A refused CSR is the client's to
            // correct: the order stays ready.
            try policy.check(inspected, identifiers: order.identifiers)
            throw Problem(.badCSR, "the CSR does not name exactly the order's identifiers")
        }
        do {
            try policy.check(inspected, identifiers: order.identifiers)
            if profileRead != nil, let refusal = csrProfileRefusal(try results[2].csrProfileFacts, csrDER: csrDER) {
                throw refusal
            }
        } catch {
            // A refusal that the identifiers did not show (a weak key, a repeated name, the
            // account's CSR profile): the order goes back to ready for a corrected CSR.
            try await database.withConnection { _ = try $0.setOrderStatus(id, to: .ready, from: [.processing]) }
            throw error
        }
        // Whole bytes, as the CA plugin ABI expects.
        let serialHex = try claim.stringIfPresent("serial").map { $0.count % 2 == 1 ? "0" + $0 : $0 }
        return (order, serialHex)
    }
}
