import Foundation
import Logging

/// Order finalization (RFC 8555 §7.4): checks the CSR, moves the order
/// ready → processing (compare-and-set), asks the CA plugin to sign, and records the
/// certificate and the valid order in one transaction. A refused CSR leaves the order
/// ready for a corrected one; a CAA refusal or a final CA error makes it invalid.
struct Issuance: Sendable {
    let config: AppConfig
    let database: Database
    let ca: GuardedCA
    let timeout: Duration
    let events: EventDispatcher
    let logger: Logger

    /// Whether the host draws the serial (`ca.internal.serial_source: database`).
    var drawsSerial: Bool {
        if case .internal = config.ca.backend { config.ca.internal.serialSource == .database } else { false }
    }

    /// Signs the CSR for an order this caller has claimed (processing) and records the
    /// certificate; returns the order afterwards (valid, or processing when the CA defers).
    func sign(claimed order: Order, account: Account, csrDER: [UInt8], serialHex: String?) async throws -> Order {
        // RFC 8659 (CAA), after the CSR checks and before signing: a refusal ends the order.
        if let caa = CAACheck(config: config) {
            do {
                try await caa.check(order: order, accountID: account.id, config: config, database: database)
            } catch {
                logger.info("CAA check refused issuance", metadata: ["order": "\(order.id)", "problem": "\(error)"])
                try await fail(order.id, error)
            }
        }

        let profileName = order.profile ?? "default"
        let profile = config.ca.profiles[profileName] ?? config.ca.profiles["default"]
        var validityDays = min(profile?.validityDays ?? config.ca.defaultValidityDays, config.ca.maxValidityDays)
        if let cap = profile?.maxValidityDays { validityDays = min(validityDays, cap) }
        let request = CASignRequest(
            csrDER: csrDER, profile: profileName, profileJSON: Self.profileJSON(profile),
            notBefore: order.notBefore.map { Int64($0.timeIntervalSince1970) } ?? 0,
            notAfter: order.notAfter.map { Int64($0.timeIntervalSince1970) } ?? 0,
            validityDays: UInt32(validityDays), serialHex: serialHex)

        let outcome: CASignOutcome
        let backend: String
        do {
            (outcome, backend) = try await ca.sign(request, timeout: timeout)
        } catch {
            logger.error("CA refused to sign", metadata: ["order": "\(order.id)", "error": "\(error)"])
            try await fail(order.id, Problem(ProblemType(urn: error.problemType) ?? .serverInternal, error.detail))
        }
        return try await complete(outcome, order: order, backend: backend)
    }

    /// Applies a sign or poll answer: records an issued certificate (certificate row and
    /// valid order in one transaction), or schedules the next poll of a deferred one.
    private func complete(_ outcome: CASignOutcome, order: Order, backend: String) async throws -> Order {
        let database = self.database
        switch outcome {
        case .pending(let handle, let retryAfter):
            // Deferred signing: the order stays processing; the poller asks the same backend again.
            let delay = max(1, Int(retryAfter.components.seconds))
            logger.info("CA deferred signing", metadata: ["order": "\(order.id)", "backend": "\(backend)", "retry_after": "\(delay)"])
            try await database.withConnection {
                try $0.setOrderPendingSigning(order.id, backend: backend, handle: handle,
                                              pollAt: Date().addingTimeInterval(TimeInterval(delay)))
            }
            return try await reload(order.id)
        case .issued(let chain, _, _, _):
            let leaf: IssuedLeaf
            do {
                leaf = try IssuedLeaf(pemChain: chain)
            } catch {
                // A chain acmeeh cannot read cannot be served: the order ends here.
                logger.error("CA returned an unreadable certificate chain",
                             metadata: ["order": "\(order.id)", "error": "\(error)", "chain": "\(chain.prefix(4096))"])
                try await fail(order.id, Problem(.serverInternal, "the CA returned a certificate that cannot be parsed"))
            }
            // The certificate and the valid order in one batch (one round trip, one transaction).
            let certificateID = RandomBytes.uuid()
            let record: [BatchStatement] = [
                .insertCertificate(
                    id: certificateID, accountID: order.accountID, orderID: order.id,
                    serial: CertificateID.normalisedSerial(leaf.serialHex), fingerprint: leaf.fingerprint, pemChain: chain,
                    notBefore: leaf.notBefore, notAfter: leaf.notAfter, publicKeyFingerprint: leaf.publicKeyFingerprint,
                    sanValues: order.identifiers.map(\.value), caBackend: backend),
                .setOrderCertificate(order.id, certificateID: certificateID),
                .order(id: order.id),
            ]
            let issued: Order
            do {
                issued = try await IssuanceRecord(database: database, logger: logger).send(record, orderID: order.id)
            } catch let error as StoreError where error.kind == .guardFailed {
                throw Problem(.serverInternal, "order \(order.id) left processing while signing")
            }
            logger.info("certificate issued", metadata: ["order": "\(order.id)", "serial": "\(leaf.serialHex)"])
            events.publish(.certificateIssued(
                certificateID: certificateID, orderID: order.id, accountID: order.accountID,
                serial: CertificateID.normalisedSerial(leaf.serialHex), domains: order.identifiers.map(\.value),
                notAfter: leaf.notAfter, pemChain: chain))
            return issued
        }
    }

    /// processing → invalid with the problem, which is then thrown.
    private func fail(_ id: UUID, _ problem: Problem) async throws -> Never {
        try await database.withConnection {
            try $0.setOrderStatus(id, to: .invalid, from: [.processing], error: problem.documentJSON)
        }
        throw problem
    }

    /// Polls one deferred signing (`ca_poll`) at the backend that deferred it; past
    /// `ca.deferred_signing_timeout` the order is invalid.
    func poll(_ due: DueSigningPoll) async {
        let orderID = due.orderID
        let backend = ca.backend(named: due.backend).name
        do {
            let order = try await reload(orderID)
            guard order.status == .processing else { return }
            if Date().timeIntervalSince(due.since) > TimeInterval(config.ca.deferredSigningTimeout) {
                try await fail(orderID, Problem(.serverInternal, "the CA did not issue the certificate within \(config.ca.deferredSigningTimeout) seconds"))
            }
            let outcome: CASignOutcome
            do {
                outcome = try await ca.poll(handle: due.handle, backend: backend, timeout: timeout)
            } catch {
                if error.retryable {
                    logger.warning("CA poll failed; will ask again", metadata: ["order": "\(orderID)", "backend": "\(backend)", "error": "\(error)"])
                    return
                }
                try await fail(orderID, Problem(ProblemType(urn: error.problemType) ?? .serverInternal, error.detail))
            }
            _ = try await complete(outcome, order: order, backend: backend)
        } catch {
            logger.info("deferred signing ended", metadata: ["order": "\(orderID)", "result": "\(error)"])
        }
    }

    private func reload(_ id: UUID) async throws -> Order {
        guard let order = try await database.withConnection({ try $0.order(id: id) }) else {
            throw ResourceAccess.notFound("order")
        }
        return order
    }

    /// The profile's key usages and validity for the CA plugin, as JSON.
    private static func profileJSON(_ profile: CertificateProfile?) -> String {
        guard let profile else { return "{}" }
        var object: [String: Any] = ["key_usages": profile.keyUsages, "extended_key_usages": profile.extendedKeyUsages]
        if let days = profile.validityDays { object["validity_days"] = days }
        if let days = profile.maxValidityDays { object["max_validity_days"] = days }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
