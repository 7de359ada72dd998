import PluginKit

/// One `_validation-persist` TXT record (draft-ietf-acme-dns-persist §3): an RFC 8659
/// §4.2 issue-value, `issuer-domain-name; accounturi=<uri>; policy=wildcard; persistUntil=<unix>`.
struct PersistRecord: Equatable {
    /// Lowercased, no final dot.
    let issuer: String
    /// Tags lowercased (compared case-insensitively); values as written.
    let parameters: [String: String]

    var accountURI: String? { parameters["accounturi"] }
    /// policy=wildcard (the value compared case-insensitively).
    var wildcardPolicy: Bool { parameters["policy"]?.lowercased() == "wildcard" }
    var persistUntil: String? { parameters["persistuntil"] }

    /// nil when the text is not an issue-value with an issuer domain name (such records are skipped).
    init?(_ bytes: [UInt8]) {
        guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
        var parts = text.split(separator: ";", omittingEmptySubsequences: false).map { $0.trimmingWSP() }
        let issuer = parts.removeFirst().lowercased()
        let bare = issuer.hasSuffix(".") ? String(issuer.dropLast()) : issuer
        guard !bare.isEmpty, NetworkSyntax.isDomainName(bare) else { return nil }
        self.issuer = bare
        // RFC 8659: a trailing ";" with no parameter is allowed.
        if parts.last == "" { parts.removeLast() }
        var parameters: [String: String] = [:]
        for part in parts {
            guard let equals = part.firstIndex(of: "=") else { return nil }
            let tag = part[..<equals].trimmingWSP().lowercased()
            let value = part[part.index(after: equals)...].trimmingWSP()
            guard isTag(tag), value.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != UInt8(ascii: ";") }),
                  parameters[tag] == nil else { return nil }
            parameters[tag] = value
        }
        self.parameters = parameters
    }
}

/// RFC 8659 tag: (ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT)).
private func isTag(_ tag: String) -> Bool {
    let bytes = Array(tag.utf8)
    guard let first = bytes.first, let last = bytes.last else { return false }
    func alnum(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) }
    return alnum(first) && alnum(last) && bytes.allSatisfy { alnum($0) || $0 == UInt8(ascii: "-") }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (RFC 5234 WSP).
    fileprivate func trimmingWSP() -> String {
        let isWSP: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = firstIndex(where: { !isWSP($0) }), let end = lastIndex(where: { !isWSP($0) }) else { return "" }
        return String(self[start...end])
    }
}
