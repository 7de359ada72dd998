#if canImport(Glibc)
import Glibc
#endif
import PluginAPI
import PluginKit
import PluginNetwork

/// dns-persist-01 (draft-ietf-acme-dns-persist): a persistent TXT record at
/// `_validation-persist.<domain>` names this CA and the account.
struct DNSPersist01Validation {
    let config: DNSPersist01Config
    let resolver: Resolver

    func validate(_ request: ChallengeRequest) throws(PluginError) {
        let bound = ValidationBound(timeoutSeconds: config.timeoutSeconds, callDeadline: request.deadline)
        let now = Int64(time(nil))
        // The identifier itself, then (allow_subdomain_policy) its ancestors of two labels or more.
        var names = [request.identifierValue]
        if config.allowSubdomainPolicy {
            var labels = request.identifierValue.split(separator: ".")
            while labels.count > 2 {
                labels.removeFirst()
                names.append(labels.joined(separator: "."))
            }
        }
        var refusals: [String] = []
        var lookupFailure: PluginError? = nil
        var looked: [String] = []
        for (index, domain) in names.enumerated() {
            let name = "_validation-persist.\(domain)"
            looked.append(name)
            let answer: TXTAnswer
            do {
                answer = try resolver.txtRecords(of: name, deadline: bound.deadline, authoritative: config.requireAuthoritative,
                                                 requestAuthenticated: config.requireDNSSEC)
            } catch {
                if error.kind != .nameNotFound && error.kind != .noRecords && lookupFailure == nil {
                    lookupFailure = bound.problem(error, context: "dns-persist-01 looking up TXT \(name)")
                }
                if error.kind == .deadline { break }
                continue
            }
            let ancestor = index > 0
            for bytes in answer.records {
                // Malformed records and other CAs' records are skipped.
                guard let record = PersistRecord(bytes), config.issuerDomainNames.contains(record.issuer) else { continue }
                if let reason = refusal(record, request: request, ancestor: ancestor, now: now,
                                        authenticated: answer.authenticated) {
                    refusals.append("\(name): \(reason)")
                } else {
                    return
                }
            }
        }
        if !refusals.isEmpty {
            throw PluginError.rejected(
                "dns-persist-01: no _validation-persist record authorizes account \(request.accountURL) for "
                    + "\(request.wildcard ? "*." : "")\(request.identifierValue): " + refusals.prefix(5).joined(separator: "; "),
                problemType: ProblemType.unauthorized)
        }
        if let lookupFailure { throw lookupFailure }
        throw PluginError.rejected(
            "dns-persist-01: no TXT record for this CA (issuer \(config.issuerDomainNames.joined(separator: ", "))) at "
                + looked.joined(separator: ", ") + "; the record may not have propagated yet",
            problemType: ProblemType.dns, retryable: true)
    }

    /// Why a record naming this CA does not authorize the request, or nil when it does.
    private func refusal(_ record: PersistRecord, request: ChallengeRequest, ancestor: Bool, now: Int64,
                         authenticated: Bool) -> String? {
        if config.requireDNSSEC && !authenticated {
            return "the answer is not DNSSEC-authenticated (no AD bit) and require_dnssec is on"
        }
        guard let account = record.accountURI else { return "the record names no accounturi" }
        guard account == request.accountURL else {
            return "accounturi \"\(escapedForDetail(account))\" is not this account (\(request.accountURL))"
        }
        if let until = record.persistUntil {
            guard until.utf8.allSatisfy({ (0x30...0x39).contains($0) }), until.count <= 18, let seconds = Int64(until) else {
                return "persistUntil \"\(escapedForDetail(until))\" is not a Unix time"
            }
            guard seconds > now else { return "the record expired (persistUntil \(seconds) is before now, \(now))" }
        }
        if request.wildcard || ancestor {
            let what = ancestor ? "a subdomain of the record's name" : "a wildcard identifier"
            guard record.wildcardPolicy else { return "\(what) needs policy=wildcard" }
            guard config.allowWildcardPolicy else { return "\(what) needs policy=wildcard, which allow_wildcard_policy turns off" }
        }
        return nil
    }
}
