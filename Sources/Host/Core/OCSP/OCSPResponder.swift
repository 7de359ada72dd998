import COpenSSL
import Foundation
import Logging

/// The OCSP responder (RFC 6960, `ocsp.*`) of this instance. It answers for the primary CA
/// backend's certificates from the `certificates` table, signing with a delegated responder
/// certificate (§4.2.2.2) that the primary CA issues through its normal sign call for a key
/// this instance generates and never stores: each instance has its own, re-issued when it
/// is within `ocsp.renew_before_days` of expiry (`run` checks hourly or when the renewal is
/// due, every minute while it has none). Until the first one is issued, requests get `tryLater`.
actor OCSPResponder {
    let config: OcspConfig
    let database: Database
    let ca: GuardedCA
    /// Whether the host draws serials from `certificate_serial_seq` (`serial_source: database`).
    let drawsSerial: Bool
    let timeout: Duration
    let logger: Logger
    private(set) var credential: OCSPResponderCredential?

    /// The name in the responder certificate's CSR (CAFile wants a subjectAltName); `.invalid`
    /// (RFC 6761 §6.4) is no name anyone can own.
    static let subjectName = "ocsp-responder.invalid"
    /// The profile the responder certificate is issued with (`profile_json` of the sign call).
    static let profileJSON = #"{"extended_key_usages":["ocsp_signing"],"key_usages":["digital_signature"]}"#

    init(config: OcspConfig, database: Database, ca: GuardedCA, drawsSerial: Bool, timeout: Duration, logger: Logger) {
        self.config = config
        self.database = database
        self.ca = ca
        self.drawsSerial = drawsSerial
        self.timeout = timeout
        self.logger = logger
    }

    /// Whether the responder certificate must be (re-)issued at `now`.
    func isDue(now: Date = Date()) -> Bool {
        Self.isDue(notAfter: credential?.notAfter, renewBeforeDays: config.renewBeforeDays, now: now)
    }

    /// How long `run` waits before it looks again: an hour, or less when the renewal is due
    /// sooner (at least a minute).
    static func checkSeconds(notAfter: Date?, renewBeforeDays: Int, now: Date = Date()) -> Int {
        guard let notAfter else { return 60 }
        let untilDue = notAfter.timeIntervalSince(now) - TimeInterval(renewBeforeDays * 86400)
        return Int(max(60, min(3600, untilDue.rounded(.up))))
    }

    /// Due without a certificate, and from `renewBeforeDays` before its notAfter on.
    static func isDue(notAfter: Date?, renewBeforeDays: Int, now: Date) -> Bool {
        guard let notAfter else { return true }
        return notAfter.timeIntervalSince(now) <= TimeInterval(renewBeforeDays * 86400)
    }

    /// Issues a new responder certificate when due; true when one is in use afterwards.
    @discardableResult
    func refresh(now: Date = Date()) async -> Bool {
        guard isDue(now: now) else { return true }
        do {
            let fresh = try await issue()
            credential = fresh
            logger.info("OCSP responder certificate issued",
                        metadata: ["serial": "\(fresh.serialHex)", "not_after": "\(fresh.notAfter)"])
        } catch {
            logger.error("cannot issue the OCSP responder certificate", metadata: ["error": "\(error)"])
        }
        return credential.map { $0.notAfter > now } ?? false
    }

    /// The first responder certificate, before the server listens. A CA that cannot issue it
    /// for good (it leaves out id-kp-OCSPSigning, returns no issuer, refuses the request) makes
    /// this throw, so that `serve` refuses to start; a retryable failure (CA down) is logged
    /// and `run` tries again, answering `tryLater` meanwhile.
    func start() async throws {
        do {
            let fresh = try await issue()
            credential = fresh
            logger.info("OCSP responder certificate issued",
                        metadata: ["serial": "\(fresh.serialHex)", "not_after": "\(fresh.notAfter)"])
        } catch let error as PluginError where error.retryable {
            logger.warning("cannot issue the OCSP responder certificate yet; retrying every minute",
                           metadata: ["error": "\(error)"])
        }
    }

    /// `/healthz`: the responder certificate in use (serial, notAfter); nil when there is
    /// none or it has expired (requests get `tryLater`).
    func health(now: Date = Date()) -> (serial: String, notAfter: Date)? {
        guard let credential, credential.notAfter > now else { return nil }
        return (credential.serialHex, credential.notAfter)
    }

    /// Keeps the responder certificate fresh until cancelled.
    func run() async {
        while !Task.isCancelled {
            let ready = await refresh()
            try? await Task.sleep(for: .seconds(ready ? Self.checkSeconds(notAfter: credential?.notAfter,
                                                                          renewBeforeDays: config.renewBeforeDays) : 60))
        }
    }

    /// Has the primary CA sign a CSR for a fresh P-256 key with the OCSP-signing profile.
    private func issue() async throws -> OCSPResponderCredential {
        guard let key = ThrowawayCSR.generateKey() else {
            throw OCSPResponderCredential.Failure(description: "cannot generate a P-256 key")
        }
        let csr: [UInt8]
        do {
            csr = try ThrowawayCSR.make(dnsNames: [Self.subjectName], key: key)
        } catch {
            EVP_PKEY_free(key)
            throw error
        }
        var serial: String? = nil
        if drawsSerial {
            do {
                serial = try await database.nextSerial()
            } catch {
                EVP_PKEY_free(key)
                throw error
            }
        }
        let request = CASignRequest(csrDER: csr, profile: "ocsp-responder", profileJSON: Self.profileJSON,
                                    validityDays: UInt32(config.responderValidityDays), serialHex: serial)
        let primary = ca.primary, timeout = self.timeout
        let outcome: CASignOutcome
        do {
            outcome = try await ca.guarded(primary, "sign") { () async throws(PluginError) in
                try await primary.instance.sign(request, timeout: timeout)
            }
        } catch {
            EVP_PKEY_free(key)
            throw error
        }
        guard case .issued(let chain, _, _, _) = outcome else {
            EVP_PKEY_free(key)
            throw OCSPResponderCredential.Failure(description: "the CA deferred signing; the OCSP responder needs a CA that signs at once")
        }
        return try OCSPResponderCredential(key: key, chainPEM: chain)
    }

    /// The DER OCSPResponse to a DER OCSPRequest (RFC 6960 §2.2, §2.3): malformedRequest
    /// for anything unparsable, tryLater without a responder certificate, internalError when
    /// the database fails; otherwise good / revoked / unknown for each CertID. A CertID of
    /// another issuer, or a serial the primary backend never issued, is unknown.
    nonisolated func respond(to der: [UInt8], now: Date = Date()) async -> Answer {
        guard let request = OCSPRequest(der: der) else { return Answer(OCSPResponseBuilder.error(.malformedRequest)) }
        guard let credential = await credential, credential.notAfter > now else {
            return Answer(OCSPResponseBuilder.error(.tryLater))
        }
        let ours = request.items.map { item in item.serialHex.flatMap { request.names(credential.issuer, item) ? $0 : nil } }
        let serials = Array(Set(ours.compactMap { $0 }))
        let backend = ca.primary.name
        let states: [String: CertificateRevocationState]
        do {
            states = Dictionary(
                try await database.withConnection { try $0.revocationStates(serials: serials, backend: backend) }
                    .map { ($0.serial, $0) }, uniquingKeysWith: { first, _ in first })
        } catch {
            logger.error("OCSP: cannot read certificate states", metadata: ["error": "\(error)"])
            return Answer(OCSPResponseBuilder.error(.internalError))
        }
        let statuses = ours.map { serial -> OCSPResponseBuilder.Status in
            guard let serial, let state = states[serial] else { return .unknown }
            guard let revokedAt = state.revokedAt else { return .good }
            return .revoked(at: revokedAt, reason: state.reason == 0 ? nil : state.reason)
        }
        let nextUpdate = now.addingTimeInterval(TimeInterval(config.nextUpdateSeconds))
        guard let signed = OCSPResponseBuilder.signed(request, statuses: statuses, credential: credential, now: now,
                                                      nextUpdate: nextUpdate) else {
            logger.error("OCSP: cannot sign a response")
            return Answer(OCSPResponseBuilder.error(.internalError))
        }
        return Answer(signed, thisUpdate: now, nextUpdate: nextUpdate)
    }

    /// A DER OCSPResponse; `thisUpdate`/`nextUpdate` only for a signed one (HTTP caching, RFC 5019 §6.2).
    struct Answer: Sendable {
        var der: [UInt8]
        var thisUpdate: Date? = nil
        var nextUpdate: Date? = nil

        init(_ der: [UInt8], thisUpdate: Date? = nil, nextUpdate: Date? = nil) {
            self.der = der
            self.thisUpdate = thisUpdate
            self.nextUpdate = nextUpdate
        }
    }
}
