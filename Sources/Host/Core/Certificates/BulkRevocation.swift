import Foundation

/// Which certificates an administrator's bulk revocation takes: every criterion set must
/// hold (AND). At least one is required; an empty filter is refused rather than read as
/// "every certificate".
struct BulkRevocationFilter: Sendable, Equatable {
    var accountID: UUID? = nil
    /// Any of these serial numbers (hex, any case, `:` separators allowed); from
    /// `serial_numbers` or a lone `serial_number`.
    var serialNumbers: [String] = []
    /// A subjectAltName value the certificate holds exactly.
    var domain: String? = nil
    /// Issued (`certificates.created_at`) before this moment.
    var issuedBefore: Date? = nil
    /// Issued at or after this moment.
    var issuedAfter: Date? = nil

    var isEmpty: Bool {
        accountID == nil && serialNumbers.isEmpty && domain == nil && issuedBefore == nil && issuedAfter == nil
    }
}

/// What a bulk revocation came to.
struct BulkRevocationResult: Sendable, Equatable {
    /// One certificate that could not be revoked, and why.
    struct Failure: Sendable, Equatable {
        var serial: String
        var detail: String
    }

    var dryRun: Bool
    /// Unrevoked certificates the filter matched when the call began (every one, beyond
    /// `BulkRevocation.maxPerCall` too).
    var matched: Int
    /// Dry run: the serials that would be revoked, oldest first, at most
    /// `BulkRevocation.maxListedSerials`. Empty for a real run.
    var serials: [String] = []
    /// Real run: certificates revoked by this call.
    var revoked: Int = 0
    /// Real run: the certificates that failed, at most `BulkRevocation.maxListedFailures`.
    var failures: [Failure] = []
    /// Real run: failures in all (`failures` may list fewer).
    var failed: Int = 0
    /// Matches left unrevoked because the call stopped at `BulkRevocation.maxPerCall`;
    /// calling again with the same filter continues with them.
    var remaining: Int = 0
}

/// The bounds of one bulk revocation.
enum BulkRevocation {
    /// Certificates one call revokes at most (oldest first); the rest stay for the next call.
    static let maxPerCall = 10_000
    /// Certificates read and revoked per chunk.
    static let chunkSize = 100
    /// Revocations of a chunk under way at once (each one round trip and a CA call).
    static let concurrency = 8
    static let maxListedSerials = 100
    static let maxListedFailures = 50
}

extension CoreServices {
    /// An administrator revokes every unrevoked certificate matching `filter`, each exactly
    /// as revokeCert does (RFC 8555 §7.6): recorded with its revocation-outbox row,
    /// `certificateRevoked` published (notifications, hooks, audit), the CA backend that
    /// issued it told (retried through the outbox), so it is in the next CRL and OCSP
    /// answer. `reason` is an RFC 5280 CRLReason code (checked like revokeCert's);
    /// `dryRun` changes nothing and lists what would be revoked. `by` names the
    /// administrator in the log. Work is bounded: chunks of `BulkRevocation.chunkSize`,
    /// at most `BulkRevocation.maxPerCall` certificates per call.
    func bulkRevoke(_ filter: BulkRevocationFilter, reason requested: Int?, dryRun: Bool,
                    by: String) async throws -> BulkRevocationResult {
        let reason = try RevocationReason.check(requested)
        let search = try Self.bulkRevocationSearch(filter)
        let matched = try await database.withConnection { try $0.countRevocationCandidates(search) }
        if dryRun {
            let listed = try await database.withConnection {
                try $0.revocationCandidates(search, after: nil, limit: BulkRevocation.maxListedSerials)
            }
            return BulkRevocationResult(dryRun: true, matched: matched, serials: listed.map(\.certificate.serial))
        }

        var result = BulkRevocationResult(dryRun: false, matched: matched)
        var cursor: PageCursor? = nil
        var processed = 0
        while processed < BulkRevocation.maxPerCall {
            let limit = min(BulkRevocation.chunkSize, BulkRevocation.maxPerCall - processed)
            let after = cursor
            let chunk = try await database.withConnection { try $0.revocationCandidates(search, after: after, limit: limit) }
            guard let last = chunk.last else { break }
            cursor = last.pageCursor
            processed += chunk.count
            for failure in await revokeChunk(chunk, reason: reason, by: by) {
                result.failed += 1
                if result.failures.count < BulkRevocation.maxListedFailures { result.failures.append(failure) }
            }
            result.revoked = processed - result.failed
            if chunk.count < limit { break }
        }
        if processed == BulkRevocation.maxPerCall {
            result.remaining = try await database.withConnection { try $0.countRevocationCandidates(search) }
        }
        logger.info("bulk revocation", metadata: [
            "by": "\(by)", "matched": "\(matched)", "revoked": "\(result.revoked)", "failed": "\(result.failed)",
            "remaining": "\(result.remaining)", "reason": "\(reason.map(String.init) ?? "-")",
        ])
        return result
    }

    /// Revokes one chunk, `BulkRevocation.concurrency` at a time; returns its failures.
    private func revokeChunk(_ chunk: [RevocationCandidate], reason: Int?, by: String) async -> [BulkRevocationResult.Failure] {
        await withTaskGroup(of: BulkRevocationResult.Failure?.self) { group in
            var failures: [BulkRevocationResult.Failure] = []
            var next = chunk.makeIterator()
            func start(_ candidate: RevocationCandidate) {
                group.addTask {
                    let serial = candidate.certificate.serial
                    do {
                        let der = try IssuedLeaf(pemChain: candidate.pemChain).der
                        let done = try await recordRevocation(of: candidate.certificate, certificateDER: der, reason: reason,
                                                              by: "admin \(by) (bulk)")
                        return done ? nil : .init(serial: serial, detail: "already revoked (by a concurrent request)")
                    } catch {
                        return .init(serial: serial, detail: "\(error)")
                    }
                }
            }
            for _ in 0..<BulkRevocation.concurrency {
                guard let candidate = next.next() else { break }
                start(candidate)
            }
            while let outcome = await group.next() {
                if let failure = outcome { failures.append(failure) }
                if let candidate = next.next() { start(candidate) }
            }
            return failures
        }
    }

    /// The certificate search of a filter: refuses an empty one, a serial that is not hex
    /// and an empty domain.
    static func bulkRevocationSearch(_ filter: BulkRevocationFilter) throws(Problem) -> CertificateSearch {
        guard !filter.isEmpty else {
            throw Problem(.malformed, "a bulk revocation needs at least one criterion: account_id, serial_numbers, "
                          + "domain, issued_before or issued_after")
        }
        var search = CertificateSearch(accountID: filter.accountID, issuedAfter: filter.issuedAfter,
                                       issuedBefore: filter.issuedBefore)
        for serial in filter.serialNumbers where CertificateRecord.normalizedSerial(serial) == nil {
            throw Problem(.malformed, "serial number \"\(serial.prefix(80))\" is not hexadecimal")
        }
        search.serials = filter.serialNumbers
        if let domain = filter.domain {
            let trimmed = domain.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { throw Problem(.malformed, "domain is empty") }
            search.domain = trimmed.lowercased()
        }
        return search
    }
}
