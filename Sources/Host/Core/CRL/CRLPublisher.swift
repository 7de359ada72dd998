import Foundation
import Logging

/// CRL publishing (RFC 5280 §5, `crl.*`): each CA backend's CRL is signed by that backend
/// (`ca_sign_crl`) and stored in `crl_cache`, so that every instance serves the same bytes.
/// A CRL is rebuilt when it is older than `rebuild_interval_seconds` or when a certificate
/// was revoked after it was built (the CRL worker, leader of advisory lock 712948, checks
/// every few seconds); the store takes only the successor of the stored CRL, so numbers
/// never repeat or go back even when `acmeeh crl rebuild` races the worker.
struct CRLPublisher: Sendable {
    /// Signs `draft` with the key of backend `backend` (its `ca.backend`/`ca.failover` name).
    typealias Signer = @Sendable (_ backend: String, _ draft: CRLDraft) async throws -> [UInt8]

    let config: CrlConfig
    let database: Database
    /// The backends whose certificates get a CRL, the primary first.
    let backends: [String]
    let sign: Signer
    let logger: Logger

    /// How often the CRL worker looks: a revocation is listed within this many seconds.
    static let checkSeconds = 2

    /// A CRL older than twice the rebuild interval is stale (`/healthz` 503).
    var staleAfter: TimeInterval { TimeInterval(2 * config.rebuildIntervalSeconds) }

    /// Builds and stores `backend`'s CRL when it is due (or `force`); returns the CRL stored
    /// afterwards (this build's, or the one another builder stored meanwhile), nil when
    /// nothing was due.
    @discardableResult
    func rebuild(_ backend: String, force: Bool = false, now: Date = Date()) async throws -> StoredCRL? {
        let state = try await database.withConnection { try $0.crlState(backend: backend) }
        guard force || isDue(state, now: now) else { return nil }
        let entries = try await database.withConnection { try $0.revokedEntries(backend: backend, at: now) }
        let draft = CRLDraft(
            entries: entries.map { entry in
                // Stored serials are hex without leading zeros, so possibly of odd length.
                CRLDraft.Entry(serial: Hex.decode(entry.serial.count % 2 == 0 ? entry.serial : "0" + entry.serial) ?? [],
                               revokedAt: entry.revokedAt, reason: entry.reason == 0 ? nil : entry.reason)
            },
            thisUpdate: now, nextUpdate: now.addingTimeInterval(TimeInterval(config.nextUpdateSeconds)),
            number: state.number + 1, hashAlgorithm: config.hashAlgorithm)
        let der = try await sign(backend, draft)
        let crl = StoredCRL(backend: backend, number: draft.number, der: der, entries: entries.count,
                            thisUpdate: draft.thisUpdate, nextUpdate: draft.nextUpdate,
                            newestRevocation: state.newestRevocation)
        if try await database.withConnection({ try $0.storeCRL(crl) }) {
            logger.info("CRL \(crl.number) of \(backend) published",
                        metadata: ["entries": "\(crl.entries)", "next_update": "\(crl.nextUpdate)"])
            return crl
        }
        return try await current(backend)
    }

    /// Whether the CRL must be rebuilt: none yet, older than the interval, or behind a revocation.
    func isDue(_ state: CRLState, now: Date) -> Bool {
        guard let thisUpdate = state.thisUpdate else { return true }
        if now.timeIntervalSince(thisUpdate) >= TimeInterval(config.rebuildIntervalSeconds) { return true }
        guard let newest = state.newestRevocation else { return false }
        return state.listedRevocation.map { newest > $0 } ?? true
    }

    /// The stored CRL of `backend`, nil before the first build.
    func current(_ backend: String) async throws -> StoredCRL? {
        try await database.withConnection { try $0.storedCRL(backend: backend) }
    }

    /// `/healthz`: the primary's CRL, stale when older than twice the rebuild interval (or
    /// not built yet); nil number when it cannot be read.
    func health(now: Date = Date()) async -> (stale: Bool, number: Int64?, detail: String?) {
        do {
            let state = try await database.withConnection { try $0.crlState(backend: backends[0]) }
            guard let thisUpdate = state.thisUpdate else { return (true, nil, "no CRL built yet") }
            let age = now.timeIntervalSince(thisUpdate)
            return age > staleAfter ? (true, state.number, "built \(Int(age)) s ago") : (false, state.number, nil)
        } catch {
            return (true, nil, "\(error)")
        }
    }
}
