import Foundation

/// The CAA check of finalize (RFC 8659; RFC 8657 parameters): for every DNS identifier of
/// the order, the Relevant RRset found by climbing the tree must let this CA issue.
/// Refusals become one `caa` problem, lookup failures one `dns` problem, each with a
/// subproblem per identifier. IP identifiers have no CAA (RFC 8738 §7 leaves it out).
struct CAACheck: Sendable {
    let policy: CAAPolicy
    /// The CAA RRset of exactly one name (CNAMEs followed as the resolver returns them);
    /// empty for no record or NXDOMAIN; throws `CAALookupError` when there is no answer.
    let lookup: @Sendable (String) async throws -> [CAARecord]

    /// `acme.caa_enforce` with a non-empty `acme.caa_identities`; nil when CAA is off.
    init?(config: AppConfig) {
        guard config.acme.caaEnforce, !config.acme.caaIdentities.isEmpty else { return nil }
        let lookup = CAALookup(dns: config.dns)
        self.init(policy: CAAPolicy(identities: config.acme.caaIdentities), lookup: { try await lookup.records(at: $0) })
    }

    init(policy: CAAPolicy, lookup: @escaping @Sendable (String) async throws -> [CAARecord]) {
        self.policy = policy
        self.lookup = lookup
    }

    /// The check of an order at finalize, with its account's URL and the challenge types
    /// recorded for its authorizations.
    func check(order: Order, accountID: UUID, config: AppConfig, database: Database) async throws(Problem) {
        let methods: [Identifier: Set<String>]
        do {
            let id = order.id
            methods = try await database.withConnection { try $0.validationMethods(orderID: id) }
        } catch {
            throw Problem(.serverInternal, "cannot read how the order's authorizations were validated")
        }
        try await check(identifiers: order.identifiers, accountURL: Self.accountURL(config: config, accountID: accountID),
                        validationMethods: methods)
    }

    /// Throws the `caa` or `dns` problem that ends the order; returns when every identifier may be issued for.
    /// `validationMethods` maps each identifier (as in the order, `*.` kept) to the challenge types that validated it.
    func check(identifiers: [Identifier], accountURL: String,
               validationMethods: [Identifier: Set<String>]) async throws(Problem) {
        var refused: [Problem.Subproblem] = []
        var failed: [Problem.Subproblem] = []
        var cache: [String: [CAARecord]] = [:]
        for identifier in identifiers where identifier.type == "dns" {
            let wildcard = identifier.value.hasPrefix("*.")
            // RFC 8659 §3: a wildcard's CAA is looked up at the name without "*.".
            let name = wildcard ? String(identifier.value.dropFirst(2)) : identifier.value
            let found: (domain: String, records: [CAARecord])?
            do {
                found = try await Self.relevantRRset(for: name) { candidate in
                    if let known = cache[candidate] { return known }
                    let records = try await lookup(candidate)
                    cache[candidate] = records
                    return records
                }
            } catch {
                failed.append(.init(type: .dns, detail: "CAA lookup for \(identifier.value) failed: \(error)",
                                    identifier: identifier))
                continue
            }
            guard let found else { continue }
            let request = CAAPolicy.Request(wildcard: wildcard, accountURL: accountURL,
                                            validationMethods: validationMethods[identifier] ?? [])
            if case .refused(let why) = policy.decide(found.records, for: request) {
                refused.append(.init(type: .caa, detail: "CAA at \(found.domain) forbids issuance for \(identifier.value): \(why)",
                                     identifier: identifier))
            }
        }
        // A refusal is final; a lookup failure is reported on its own only when nothing was refused.
        if !refused.isEmpty {
            let names = refused.compactMap { $0.identifier?.value }.joined(separator: ", ")
            let detail = refused.count == 1 ? refused[0].detail : "CAA records forbid issuance for \(names)"
            // RFC 8555 §6.7 `caa`; 403: the domain's owner forbids it, retrying cannot help.
            throw Problem(.caa, detail, refusal: .forbidden, subproblems: refused + failed)
        }
        if !failed.isEmpty {
            let detail = failed.count == 1 ? failed[0].detail
                : "CAA lookups failed for " + failed.compactMap { $0.identifier?.value }.joined(separator: ", ")
            // RFC 8659 §3: no issuance without a CAA answer. 400, not the reference's 500: the
            // failing DNS is the identifier's (SERVFAIL from its servers, a silent zone), the
            // order is invalid afterwards, and resending the same request cannot succeed.
            throw Problem(.dns, detail, refusal: .badRequest, subproblems: failed)
        }
    }

    /// RFC 8659 §3: the CAA RRset of `name`, or of its closest ancestor that has one (the
    /// root excluded); nil when no name up the tree has CAA records.
    static func relevantRRset(for name: String, lookup: (String) async throws -> [CAARecord])
        async throws -> (domain: String, records: [CAARecord])? {
        var labels = name.lowercased().split(separator: ".").map(String.init)
        while !labels.isEmpty {
            let candidate = labels.joined(separator: ".")
            let records = try await lookup(candidate)
            if !records.isEmpty { return (candidate, records) }
            labels.removeFirst()
        }
        return nil
    }

    /// The account URL as ACME serves it (`<external_url><api.base_path>/acct/<id>`, the rule
    /// of ACMEURLs, which Core cannot call): what `accounturi` is compared with (RFC 8657 §3).
    static func accountURL(config: AppConfig, accountID: UUID) -> String {
        func trimmed(_ s: String) -> String {
            var s = s
            while s.hasSuffix("/") { s.removeLast() }
            return s
        }
        var prefix = trimmed(config.api.basePath)
        if !prefix.isEmpty, !prefix.hasPrefix("/") { prefix = "/" + prefix }
        return trimmed(config.server.externalURL) + prefix + "/acct/" + accountID.uuidString.lowercased()
    }
}
