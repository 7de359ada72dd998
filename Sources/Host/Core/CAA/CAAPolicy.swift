/// Whether the Relevant RRset of one name lets this CA issue (RFC 8659 §4, with RFC 8657's
/// `accounturi` and `validationmethods` parameters). Pure: no DNS, no database.
struct CAAPolicy: Sendable {
    /// `acme.caa_identities`, lowercased: the issuer-domain-names that mean this CA.
    let identities: Set<String>

    init(identities: [String]) {
        self.identities = Set(identities.map { $0.lowercased() })
    }

    /// What the request being decided is.
    struct Request: Sendable {
        /// A wildcard identifier (`*.example.com`): `issuewild` first (RFC 8659 §4.3).
        var wildcard: Bool
        /// The ordering account's URL (RFC 8657 §3).
        var accountURL: String
        /// The challenge types that validated the authorization (RFC 8657 §4).
        var validationMethods: Set<String>
    }

    enum Verdict: Sendable, Equatable {
        case allowed
        case refused(String)
    }

    /// The property tags RFC 8659 §4.2–4.4 defines; any other with the critical flag refuses.
    static let knownTags: Set<String> = ["issue", "issuewild", "iodef"]

    func decide(_ records: [CAARecord], for request: Request) -> Verdict {
        // RFC 8659 §3: no CAA record anywhere up the tree: any CA may issue.
        if records.isEmpty { return .allowed }
        // RFC 8659 §4.1: a critical property the CA does not understand forbids issuance.
        if let unknown = records.first(where: { $0.critical && !Self.knownTags.contains($0.normalisedTag) }) {
            return .refused("the CAA record \(unknown) has the critical flag and a property acmeeh does not understand")
        }
        let issue = records.filter { $0.normalisedTag == "issue" }
        let issuewild = records.filter { $0.normalisedTag == "issuewild" }
        // RFC 8659 §4.3: issuewild, when present, replaces issue for wildcard names; it is
        // ignored for other names.
        let relevant = request.wildcard && !issuewild.isEmpty ? issuewild : issue
        let tagName = request.wildcard && !issuewild.isEmpty ? "issuewild" : "issue"
        // RFC 8659 §4.1: an RRset without issue properties (iodef only, say) does not restrict issuance.
        if relevant.isEmpty { return .allowed }

        var reasons: [String] = []
        for record in relevant {
            switch authorizes(record, request) {
            case nil: return .allowed
            case let reason?: reasons.append(reason)
            }
        }
        return .refused("no CAA \(tagName) record authorizes this CA (\(identities.sorted().joined(separator: ", "))): "
                        + reasons.joined(separator: "; "))
    }

    /// nil when `record` authorizes the request; else why not.
    private func authorizes(_ record: CAARecord, _ request: Request) -> String? {
        guard let value = CAAIssueValue(record.valueText) else {
            // RFC 8659 §4.2: a malformed value authorizes no one.
            return "\(record) is malformed"
        }
        guard let issuer = value.issuer else { return "\(record) forbids every CA" }
        guard identities.contains(issuer) else { return "\(record) names another CA" }
        // RFC 8657 §3: the record binds issuance to one account URL, compared exactly.
        let accounts = value.values(of: "accounturi")
        if accounts.count > 1 { return "\(record) has more than one accounturi (unusable, RFC 8657 §3)" }
        if let account = accounts.first, account != request.accountURL {
            return "\(record) is bound to account \(account), not \(request.accountURL)"
        }
        // RFC 8657 §4: the record lists the ACME validation methods it allows.
        let methodLists = value.values(of: "validationmethods")
        if methodLists.count > 1 { return "\(record) has more than one validationmethods (unusable, RFC 8657 §4)" }
        if let list = methodLists.first {
            let methods = list.split(separator: ",", omittingEmptySubsequences: false)
            guard methods.allSatisfy(CAAIssueValue.isLabel) else { return "\(record) has a malformed validationmethods" }
            let allowed = Set(methods.map { $0.lowercased() })
            if allowed.isDisjoint(with: request.validationMethods) {
                let used = request.validationMethods.sorted().joined(separator: ", ")
                return "\(record) does not allow the validation method used (\(used.isEmpty ? "none recorded" : used))"
            }
        }
        // Other parameters are CA-specific and ignored (RFC 8659 §4.2).
        return nil
    }
}
