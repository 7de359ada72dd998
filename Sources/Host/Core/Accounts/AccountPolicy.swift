import Foundation

/// What the server accepts in an account's `contact` list (RFC 8555 §7.3, §7.3.2), from the
/// `email` section: `mailto:` URLs only, one well-formed address each, no hfields, from
/// the allowed domains, and at least one when contacts are required.
struct ContactPolicy: Sendable {
    var requireContact: Bool
    /// Lowercased; empty = any domain. A contact's domain must equal one of them.
    var allowedDomains: [String]

    init(_ email: EmailConfig) {
        requireContact = email.requireContact
        allowedDomains = email.allowedDomains.map { $0.lowercased() }
    }

    /// Checks the contact URLs a client sent and returns them as they will be stored.
    func check(_ contacts: [String]) throws(Problem) -> [String] {
        if requireContact && contacts.isEmpty {
            throw Problem(.invalidContact, "this server requires at least one mailto: contact")
        }
        var accepted: [String] = []
        for contact in contacts {
            // RFC 8555 §7.3: an unsupported scheme is unsupportedContact, a bad value invalidContact.
            guard contact.lowercased().hasPrefix("mailto:") else {
                throw Problem(.unsupportedContact, "contact \"\(contact)\" is not a mailto: URL; only mailto: is supported")
            }
            let address = String(contact.dropFirst("mailto:".count))
            // RFC 8555 §7.3: no hfields, exactly one addr-spec.
            if address.contains("?") {
                throw Problem(.invalidContact, "contact \"\(contact)\" has hfields (\"?…\"), which are not allowed")
            }
            guard let decoded = address.removingPercentEncoding, !decoded.contains(",") else {
                throw Problem(.invalidContact, "contact \"\(contact)\" must hold exactly one email address")
            }
            guard let domain = Self.domain(ofAddress: decoded) else {
                throw Problem(.invalidContact, "contact \"\(contact)\" is not a valid email address")
            }
            if !allowedDomains.isEmpty && !allowedDomains.contains(domain) {
                throw Problem(.invalidContact,
                              "contact domain \(domain) is not allowed here (allowed: \(allowedDomains.joined(separator: ", ")))")
            }
            let normalized = "mailto:" + decoded
            if !accepted.contains(normalized) { accepted.append(normalized) }
        }
        return accepted
    }

    /// The lowercased domain of `local@domain` when both parts are well formed (RFC 5321
    /// dot-atom local part, LDH domain of at least two labels); nil otherwise.
    static func domain(ofAddress address: String) -> String? {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, address.utf8.count <= 254 else { return nil }
        let local = parts[0], domain = parts[1].lowercased()
        let atext = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=^_`{|}~")
        let localAtoms = local.split(separator: ".", omittingEmptySubsequences: false)
        guard !local.isEmpty, local.count <= 64,
              localAtoms.allSatisfy({ !$0.isEmpty && $0.allSatisfy(atext.contains) })
        else { return nil }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        let ldh = Set("abcdefghijklmnopqrstuvwxyz0123456789-")
        guard labels.count >= 2, labels.allSatisfy({ label in
            (1...63).contains(label.count) && label.allSatisfy(ldh.contains)
                && label.first != "-" && label.last != "-"
        }) else { return nil }
        return domain
    }
}
