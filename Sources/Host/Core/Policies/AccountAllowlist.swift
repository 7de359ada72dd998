/// An account's admin-managed identifier allowlist
/// (`security.identifier_policy.enforce_account_allowlist`): which identifiers newOrder
/// and newAuthz accept for it. An empty allowlist allows nothing.
///
/// Matching: the same type and value; a dns entry `*.example.com` also allows every name
/// below `example.com` (`a.example.com`, `b.a.example.com`, `*.a.example.com`) and the
/// wildcard identifier `*.example.com` itself, but not `example.com`; a dns entry
/// `example.com` allows only `example.com`.
struct AccountAllowlist: Sendable, Equatable {
    let entries: [Identifier]

    init(_ entries: [Identifier]) {
        self.entries = entries
    }

    func allows(_ identifier: Identifier) -> Bool {
        entries.contains { entry in
            guard entry.type == identifier.type else { return false }
            if entry.value == identifier.value { return true }
            guard entry.type == "dns", entry.value.hasPrefix("*.") else { return false }
            return identifier.value.hasSuffix(String(entry.value.dropFirst(1)))
        }
    }

    /// RFC 8555 §6.7.1: refuses the identifiers not allowed, each as a `rejectedIdentifier`
    /// subproblem of one `rejectedIdentifier` problem.
    func check(_ identifiers: [Identifier]) throws(Problem) {
        let refused = identifiers.filter { !allows($0) }.map {
            Problem.Subproblem(type: .rejectedIdentifier, detail: "\($0.value) is not on this account's allowlist",
                               identifier: $0)
        }
        guard !refused.isEmpty else { return }
        throw Problem(.rejectedIdentifier,
                      refused.count == 1 ? refused[0].detail : "\(refused.count) identifiers are not on this account's allowlist",
                      subproblems: refused)
    }

    /// An allowlist entry as it is stored: a `dns` name (lowercase; `*.` allowed) or an
    /// `ip` address in canonical form, checked as an order's identifier would be without
    /// the site's domain lists; a loopback, unspecified or multicast address is refused.
    /// For the admin API, before `insertAllowedIdentifier`.
    static func normalized(_ identifier: Identifier) throws(Problem) -> Identifier {
        var permissive = IdentifierPolicyConfig()
        permissive.allowWildcards = true
        permissive.allowIP = true
        let checked = try IdentifierPolicy(config: permissive).check(identifier)
        if checked.type == "ip", let kind = IPAddress.bytes(checked.value).flatMap(unusableKind) {
            throw Problem(.rejectedIdentifier, "\(checked.value) is \(kind); it cannot be on an allowlist")
        }
        return checked
    }

    /// Loopback (127/8, ::1), unspecified (0.0.0.0, ::) or multicast (224/4, ff00::/8), else nil.
    private static func unusableKind(_ bytes: [UInt8]) -> String? {
        if bytes.count == 4 {
            if bytes[0] == 127 { return "loopback" }
            if bytes.allSatisfy({ $0 == 0 }) { return "unspecified" }
            return bytes[0] & 0xF0 == 0xE0 ? "multicast" : nil
        }
        if bytes.dropLast().allSatisfy({ $0 == 0 }) {
            if bytes[15] == 1 { return "loopback" }
            if bytes[15] == 0 { return "unspecified" }
        }
        return bytes[0] == 0xFF ? "multicast" : nil
    }
}
