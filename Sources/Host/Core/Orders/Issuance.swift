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
    let logger: Logger

    /// Returns the order as it stands afterwards (valid, or processing when the CA defers).
    func finalize(order: Order, account: Account, csrDER: [UInt8]) async throws -> Order {
        let database = self.database
        // RFC 8555 §7.4: the CSR must match the order. A refused CSR is the client's to
        // correct: the order stays ready (only the CA's failure ends it).
        _ = try CSRPolicy(security: config.security).check(
            der: csrDER, identifiers: order.identifiers, accountThumbprint: account.thumbprint)
        // ready → processing, and (serial_source: database) the serial, in one round trip.
        let drawsSerial: Bool
        if case .internal = config.ca.backend, config.ca.internal.serialSource == .database {
            drawsSerial = true
        } else {
            drawsSerial = false
        }
        let (claimed, serialHex) = try await database.withConnection { connection -> (Bool, String?) in
            guard try connection.setOrderStatus(order.id, to: .processing, from: [.ready]) else { return (false, nil) }
            return (true, drawsSerial ? try connection.nextCertificateSerial() : nil)
        }
        guard claimed else {
            // Someone else finalized it meanwhile. RFC 8555 §7.4: an order that is not ready
            // cannot be finalized (403 orderNotReady).
            guard let current = try await database.withConnection({ try $0.order(id: order.id) }) else {
                throw Problem(.malformed, "no such order", status: 404)
            }
            throw Problem(.orderNotReady, "order is \(current.status.rawValue), not ready")
        }

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
            let issued = try await database.transaction { connection -> Order? in
                let id = try connection.insertCertificate(
                    accountID: order.accountID, orderID: order.id, serial: CertificateID.normalisedSerial(leaf.serialHex),
                    fingerprint: leaf.fingerprint, pemChain: chain,
                    notBefore: leaf.notBefore, notAfter: leaf.notAfter, publicKeyFingerprint: leaf.publicKeyFingerprint,
                    sanValues: order.identifiers.map(\.value), caBackend: backend)
                guard try connection.setOrderCertificate(order.id, certificateID: id) else {
                    throw Problem(.serverInternal, "order \(order.id) left processing while signing")
                }
                return try connection.order(id: order.id)
            }
            logger.info("certificate issued", metadata: ["order": "\(order.id)", "serial": "\(leaf.serialHex)"])
            guard let issued else { throw Problem(.malformed, "no such order", status: 404) }
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
            throw Problem(.malformed, "no such order", status: 404)
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
