import CLDNS
import NIOPosix

/// `email.validate_mx`: a contact's domain must be able to receive mail (RFC 5321 §5.1): it
/// has an MX record that is not a null MX (RFC 7505), or, without MX records, an address
/// record (the implicit MX). A domain that does not exist, or whose lookup fails, is refused.
struct MailDomainCheck: Sendable {
    let resolver: StubResolver

    init(dns: DnsConfig) {
        resolver = StubResolver(dns: dns)
    }

    /// Checks the domains of `contacts` (stored `mailto:` URLs), each once, off the event loops.
    func check(_ contacts: [String]) async throws {
        var domains: [String] = []
        for contact in contacts {
            guard let at = contact.lastIndex(of: "@") else { continue }
            let domain = String(contact[contact.index(after: at)...]).lowercased()
            if !domains.contains(domain) { domains.append(domain) }
        }
        for domain in domains {
            try await NIOThreadPool.singleton.runIfActive { try self.checkBlocking(domain) }
        }
    }

    func checkBlocking(_ domain: String) throws(Problem) {
        switch try lookup(domain, LDNS_RR_TYPE_MX, "MX") {
        case .nameError:
            throw Problem(.invalidContact, "contact domain \(domain) does not exist (NXDOMAIN)")
        case .records(let mx) where !mx.isEmpty:
            // RFC 7505: a single MX whose exchange is the root ("."): the domain takes no mail.
            if mx.allSatisfy({ $0.count == 3 && $0[2] == 0 }) {
                throw Problem(.invalidContact, "contact domain \(domain) accepts no mail (null MX, RFC 7505)")
            }
        case .records:
            for (type, name) in [(LDNS_RR_TYPE_A, "A"), (LDNS_RR_TYPE_AAAA, "AAAA")] {
                if case .records(let addresses) = try lookup(domain, type, name), !addresses.isEmpty { return }
            }
            throw Problem(.invalidContact, "contact domain \(domain) has no MX, A or AAAA record to receive mail")
        }
    }

    private func lookup(_ domain: String, _ type: ldns_rr_type, _ name: String) throws(Problem) -> StubResolver.Answer {
        do {
            return try resolver.lookup(domain, type, typeName: name)
        } catch {
            throw Problem(.invalidContact, "cannot verify contact domain \(domain): \(error.detail)")
        }
    }
}
