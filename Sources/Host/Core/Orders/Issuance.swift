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
    /// `ct_logging` when enabled: precertificates and embedded SCTs, or the issued chain
    /// submitted afterwards.
    var transparency: CertificateTransparency? = nil

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

        if let transparency, transparency.embedsSCTs {
            return try await signWithSCTs(request, order: order, transparency: transparency)
        }
        let outcome: CASignOutcome
        let backend: String
        do {
            (outcome, backend) = try await ca.sign(request, timeout: timeout)
        } catch {
            try await refused(order.id, error)
        }
        return try await complete(outcome, order: order, backend: backend)
    }

    /// RFC 6962 §3.1: the CA signs a precertificate, every log is given it, and the same
    /// backend signs the certificate with the SCTs that arrived (none: no SCT extension).
    private func signWithSCTs(_ request: CASignRequest, order: Order,
                              transparency: CertificateTransparency) async throws -> Order {
        var precertificateRequest = request
        precertificateRequest.precertificate = true
        let precertificate: CASignOutcome
        let backend: String
        do {
            (precertificate, backend) = try await ca.sign(precertificateRequest, timeout: timeout)
        } catch {
            try await refused(order.id, error)
        }
        guard case .issued(let pem, _, _, _) = precertificate,
              let chain = CertificateChain.derCertificates(pem: pem), let first = chain.first,
              let leaf = try? IssuedLeaf(der: first)
        else {
            logger.error("CA returned no readable precertificate", metadata: ["order": "\(order.id)", "backend": "\(backend)"])
            try await fail(order.id, Problem(.serverInternal, "the CA did not return a precertificate"))
        }
        let submissions = await transparency.submit(chain: chain, precertificate: true)
        let scts = submissions.compactMap { try? $0.result.get() }

        var final = request
        final.serialHex = leaf.serialHex
        final.notBefore = Int64(leaf.notBefore.timeIntervalSince1970)
        final.notAfter = Int64(leaf.notAfter.timeIntervalSince1970)
        final.sctList = scts.isEmpty ? nil : SignedCertificateTimestamp.list(scts)
        let outcome: CASignOutcome
        do {
            outcome = try await ca.sign(final, on: backend, timeout: timeout)
        } catch {
            try await refused(order.id, error)
        }
        guard case .issued(let pem, _, _, _) = outcome else {
            try await fail(order.id, Problem(.serverInternal, "the CA deferred the certificate of a precertificate"))
        }
        // The SCTs hold only for the precertificate's serial (and TBSCertificate).
        guard (try? IssuedLeaf(pemChain: pem))?.serialHex == leaf.serialHex else {
            logger.error("CA signed the certificate with another serial than its precertificate",
                         metadata: ["order": "\(order.id)", "backend": "\(backend)", "precertificate_serial": "\(leaf.serialHex)"])
            try await fail(order.id, Problem(.serverInternal, "the CA did not sign the certificate of its precertificate"))
        }
        return try await complete(outcome, order: order, backend: backend, ctSubmissions: submissions)
    }

    /// A CA's refusal to sign ends the order with the CA's problem type.
    private func refused(_ id: UUID, _ error: PluginError) async throws -> Never {
        logger.error("CA refused to sign", metadata: ["order": "\(id)", "error": "\(error)"])
        try await fail(id, Problem(ProblemType(urn: error.problemType) ?? .serverInternal, error.detail))
    }

    /// Applies a sign or poll answer: records an issued certificate (certificate row and
    /// valid order in one transaction), or schedules the next poll of a deferred one.
    /// `ctSubmissions` are the CT logs' answers for its precertificate; without
    /// precertificates the issued chain goes to the logs after it is recorded.
    private func complete(_ outcome: CASignOutcome, order: Order, backend: String,
                          ctSubmissions: [CertificateTransparency.Submission] = []) async throws -> Order {
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
            let serial = CertificateID.normalisedSerial(leaf.serialHex)
            events.publish(.certificateIssued(
                certificateID: certificateID, orderID: order.id, accountID: order.accountID, serial: serial,
                domains: order.identifiers.map(\.value), notAfter: leaf.notAfter, pemChain: chain))
            for submission in ctSubmissions {
                events.publish(submission.event(certificateID: certificateID, serial: serial, precertificate: true))
            }
            if let transparency, !transparency.embedsSCTs, let ders = CertificateChain.derCertificates(pem: chain) {
                // After the fact (RFC 6962 §3.1 add-chain): the order is valid already and
                // waits for no log.
                let events = self.events
                Task {
                    for submission in await transparency.submit(chain: ders, precertificate: false) {
                        events.publish(submission.event(certificateID: certificateID, serial: serial, precertificate: false))
                    }
                }
            }
            return issued
        }
    }

    /// processing → invalid with the problem, which is then thrown; the account is told.
    private func fail(_ id: UUID, _ problem: Problem) async throws -> Never {
        let failed = try await database.withConnection {
            try $0.setOrderStatus(id, to: .invalid, from: [.processing], error: problem.documentJSON)
        }
        if failed, let order = try? await reload(id) {
            events.publish(.orderUnfulfilled(.init(kind: .signingFailed, orderID: id, accountID: order.accountID,
                                                   identifiers: order.identifiers, error: problem.detail)))
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
