import Foundation

/// Which identifiers this server will certify (`security.identifier_policy`): syntax
/// (RFC 1035 labels, RFC 8555 §7.1.3 wildcards, RFC 8738 IP addresses), normalisation
/// (lowercase; IDNs only as verified A-labels) and the site's allow/forbid lists.
struct IdentifierPolicy: Sendable {
    let config: IdentifierPolicyConfig

    /// Normalises and checks the identifiers of a newOrder; duplicates collapse.
    /// One refusal is thrown as itself; several as `rejectedIdentifier` with subproblems
    /// (RFC 8555 §6.7.1).
    func check(order identifiers: [Identifier]) throws(Problem) -> [Identifier] {
        guard !identifiers.isEmpty else {
            throw Problem(.malformed, "an order needs at least one identifier (RFC 8555 §7.4)")
        }
        guard identifiers.count <= config.maxIdentifiersPerOrder else {
            throw Problem(.rejectedIdentifier,
                          "an order may hold at most \(config.maxIdentifiersPerOrder) identifiers, not \(identifiers.count)")
        }
        var result: [Identifier] = []
        var problems: [Problem.Subproblem] = []
        for identifier in identifiers {
            do {
                let normalised = try check(identifier)
                if !result.contains(normalised) { result.append(normalised) }
            } catch {
                problems.append(.init(type: error.type, detail: error.detail, identifier: identifier))
            }
        }
        if problems.count == 1 {
            throw Problem(problems[0].type, problems[0].detail, subproblems: problems)
        }
        if problems.count > 1 {
            throw Problem(.rejectedIdentifier,
                          "\(problems.count) identifiers were refused; see subproblems", subproblems: problems)
        }
        return result
    }

    /// Normalises and checks one identifier (also newAuthz, RFC 8555 §7.4.1).
    func check(_ identifier: Identifier) throws(Problem) -> Identifier {
        switch identifier.type {
        case "dns": return Identifier(type: "dns", value: try checkDNS(identifier.value))
        case "ip": return Identifier(type: "ip", value: try checkIP(identifier.value))
        default:
            throw Problem(.unsupportedIdentifier,
                          "identifier type \"\(identifier.type)\" is not supported (dns, ip)")
        }
    }

    private func checkDNS(_ raw: String) throws(Problem) -> String {
        // RFC 8738 §3: an IP address is an "ip" identifier, never a dns name.
        if IPAddress.canonical(raw) != nil {
            throw Problem(.rejectedIdentifier,
                          "\(raw) is an IP address: send it as {\"type\":\"ip\"} (RFC 8738)")
        }
        // RFC 8555 §7.1.4: the value is as it appears in the certificate, U-labels converted
        // to A-labels by the client; a name that is not is a malformed request, not one to rewrite.
        guard raw.unicodeScalars.allSatisfy(\.isASCII) else {
            throw Problem(.malformed, "\(raw) is not ASCII: send internationalized labels as A-labels (xn--…)")
        }
        let name = raw.lowercased()
        guard name.utf8.count <= config.maxIdentifierValueLength else {
            throw Problem(.rejectedIdentifier, "\(raw) is longer than \(config.maxIdentifierValueLength) characters")
        }
        var base = name
        let wildcard = name.hasPrefix("*.")
        if wildcard {
            // RFC 8555 §7.1.3: a wildcard is "*." followed by a domain name; one level only.
            guard config.allowWildcards else {
                throw Problem(.rejectedIdentifier, "wildcard identifiers are not allowed here")
            }
            base = String(name.dropFirst(2))
        }
        let labels = base.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else {
            throw Problem(.rejectedIdentifier, "\(raw) is not a fully qualified domain name")
        }
        for label in labels {
            guard !label.isEmpty, label.utf8.count <= 63 else {
                throw Problem(.rejectedIdentifier, "\(raw) has an empty label or one longer than 63 octets")
            }
            guard label.utf8.allSatisfy({ Self.ldh.contains($0) }), label.first != "-", label.last != "-" else {
                throw Problem(.rejectedIdentifier,
                              "\(raw) is not a valid domain name (letters, digits and inner hyphens only)")
            }
            // RFC 8555 §7.1.4: servers MUST verify that "xn--" labels are properly encoded.
            guard Punycode.isProperALabel(label) else {
                throw Problem(.malformed, "\(raw): \(label) is not a properly encoded A-label (RFC 5890)")
            }
        }
        // forbidden_domains are checked before allowed_domains.
        if config.forbiddenDomains.contains(where: { Self.forbids($0.lowercased(), base: base, wildcard: wildcard) }) {
            throw Problem(.rejectedIdentifier, "\(name) is in a forbidden domain")
        }
        if !config.allowedDomains.isEmpty,
           !config.allowedDomains.contains(where: { Self.allows($0.lowercased(), base: base, wildcard: wildcard) }) {
            throw Problem(.rejectedIdentifier, "\(name) is not in an allowed domain")
        }
        return name
    }

    private func checkIP(_ raw: String) throws(Problem) -> String {
        guard config.allowIP else {
            throw Problem(.rejectedIdentifier, "IP address identifiers are not allowed here")
        }
        guard let canonical = IPAddress.canonical(raw) else {
            throw Problem(.malformed, "\(raw) is not an IPv4 or IPv6 address (RFC 8738 §3)")
        }
        return canonical
    }

    private static let ldh: Set<UInt8> = Set(Array("abcdefghijklmnopqrstuvwxyz0123456789-".utf8))

    /// `*.x` matches x and every name under it; `x` matches x only.
    static func matches(_ entry: String, _ name: String) -> Bool {
        if entry.hasPrefix("*.") {
            let domain = entry.dropFirst(2)
            return name == domain || name.hasSuffix("." + domain)
        }
        return name == entry
    }

    /// A wildcard is allowed only by an entry covering every name under its base.
    private static func allows(_ entry: String, base: String, wildcard: Bool) -> Bool {
        wildcard ? (entry.hasPrefix("*.") && matches(entry, base)) : matches(entry, base)
    }

    /// A wildcard is forbidden when its base or any name under it is.
    private static func forbids(_ entry: String, base: String, wildcard: Bool) -> Bool {
        if matches(entry, base) { return true }
        guard wildcard else { return false }
        let domain = entry.hasPrefix("*.") ? String(entry.dropFirst(2)) : entry
        return domain.hasSuffix("." + base)
    }
}

/// IP address text in canonical form (inet_ntop), RFC 8738 §3.
enum IPAddress {
    static func canonical(_ text: String) -> String? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return format(AF_INET, &v4, Int(INET_ADDRSTRLEN)) }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return format(AF_INET6, &v6, Int(INET6_ADDRSTRLEN)) }
        return nil
    }

    /// The address bytes (4 or 16), for comparing with a certificate's iPAddress SAN.
    static func bytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    private static func format<T>(_ family: Int32, _ address: inout T, _ size: Int) -> String? {
        var buffer = [CChar](repeating: 0, count: size)
        guard inet_ntop(family, &address, &buffer, socklen_t(size)) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
