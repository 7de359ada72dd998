import Foundation

/// Evaluating a CSR against a profile: every rule is checked and every violation
/// reported, as one short sentence naming its rule.
extension CSRProfile {
    /// What the rules that look beyond the CSR need to know of this server's
    /// certificates (read by Store in finalize's batch: `CSRProfileFacts`).
    struct Context: Sendable, Equatable {
        /// A certificate this server issued has the CSR's public key (`reuse_key`).
        var keyAlreadyIssued = false
        /// The latest `not_after` of the account's unrevoked, unexpired certificates for
        /// exactly the CSR's names (`renewal_window_days`).
        var sameNamesNotAfter: Date? = nil
        var now = Date()
    }

    /// The violations of `csr`, in the order of the rules; empty when it complies.
    func violations(of csr: CSRContents, context: Context = Context()) -> [String] {
        var found: [String] = []
        func refuse(_ sentence: String) { found.append(sentence) }

        if let authorizedKeys {
            if let minimum = authorizedKeys[csr.keyType] {
                if csr.keyBits < minimum {
                    refuse("authorized_keys: the \(csr.keyType) key has \(csr.keyBits) bits; the profile requires at least \(minimum)")
                }
            } else {
                refuse("authorized_keys: key type \(csr.keyType) is not allowed (allowed: \(authorizedKeys.keys.sorted().joined(separator: ", ")))")
            }
        }
        if let allowed = authorizedSignatureAlgorithms,
           !allowed.contains(where: { $0.caseInsensitiveCompare(csr.signatureAlgorithm) == .orderedSame }) {
            refuse("authorized_signature_algorithms: signature algorithm \(csr.signatureAlgorithm) is not allowed (allowed: \(allowed.joined(separator: ", ")))")
        }
        if let allowed = authorizedKeyUsages {
            for usage in csr.keyUsages where !allowed.contains(usage) {
                refuse("authorized_key_usages: key usage \(usage) is not allowed")
            }
        }
        if let allowed = authorizedExtendedKeyUsages {
            for usage in csr.extendedKeyUsages where !allowed.contains(usage) {
                refuse("authorized_extended_key_usages: extended key usage \(usage) is not allowed")
            }
        }
        let commonNames = csr.commonNames.count, sans = csr.subjectAltNames.count
        if let commonNameMinimum, commonNames < commonNameMinimum {
            refuse("common_name_minimum: the subject has \(commonNames) common names; at least \(commonNameMinimum) required")
        }
        if let commonNameMaximum, commonNameMaximum != -1, commonNames > commonNameMaximum {
            refuse("common_name_maximum: the subject has \(commonNames) common names; at most \(commonNameMaximum) allowed")
        }
        if let sanMinimum, sans < sanMinimum {
            refuse("san_minimum: the CSR has \(sans) subjectAltNames; at least \(sanMinimum) required")
        }
        if let sanMaximum, sanMaximum != -1, sans > sanMaximum {
            refuse("san_maximum: the CSR has \(sans) subjectAltNames; at most \(sanMaximum) allowed")
        }
        if let commonNameRegex {
            for name in csr.commonNames where !commonNameRegex.matches(name) {
                refuse("common_name_regex: common name \(name) does not match \(commonNameRegex.source)")
            }
        }
        if let sanRegex {
            for name in csr.subjectAltNames where !sanRegex.matches(name.value) {
                refuse("san_regex: subjectAltName \(name.value) does not match \(sanRegex.source)")
            }
        }
        if let subjectRegex, !subjectRegex.matches(csr.subject) {
            refuse("subject_regex: subject \"\(csr.subject)\" does not match \(subjectRegex.source)")
        }
        if let sanTypes {
            for kind in Set(csr.subjectAltNames.map(\.kind)).sorted() where !sanTypes.contains(kind) {
                refuse("san_types: subjectAltNames of type \(kind) are not allowed (allowed: \(sanTypes.joined(separator: ", ")))")
            }
        }
        if wildcardInCommonName == false {
            for name in csr.commonNames where name.hasPrefix("*.") {
                refuse("wildcard_in_common_name: wildcard common name \(name) is not allowed")
            }
        }
        let dnsNames = csr.subjectAltNames.filter { $0.kind == "DNS_NAME" }.map(\.value)
        if wildcardInSAN == false {
            for name in dnsNames where name.hasPrefix("*.") {
                refuse("wildcard_in_san: wildcard subjectAltName \(name) is not allowed")
            }
        }
        if let maxSubdomainDepth {
            var measured: Set<String> = []
            let names = dnsNames + csr.commonNames.map { $0.lowercased() }.filter { IPAddress.canonical($0) == nil }
            for name in names where measured.insert(name).inserted {
                let depth = subdomainDepth(of: name)
                if depth > maxSubdomainDepth {
                    refuse("max_subdomain_depth: \(name) is \(depth) labels below its base domain; at most \(maxSubdomainDepth) allowed")
                }
            }
        }
        if reuseKey == false, context.keyAlreadyIssued {
            refuse("reuse_key: the CSR's public key is the key of a certificate already issued; use a new key")
        }
        if let renewalWindowDays, let notAfter = context.sameNamesNotAfter,
           notAfter.timeIntervalSince(context.now) > Double(renewalWindowDays) * 86_400 {
            let days = Int((notAfter.timeIntervalSince(context.now) / 86_400).rounded(.down))
            refuse("renewal_window_days: a certificate for the same names is valid for \(days) more days; renewal opens \(renewalWindowDays) days before it expires")
        }
        return found
    }

    /// `max_subdomain_depth`: the number of labels of `name` below the longest of
    /// `depth_base_domains` it equals or ends in; below none of them, the labels below its
    /// last two (the registrable domain as far as a rule without the public suffix list can
    /// tell: `a.b.example.com` is 2). A wildcard's `*` counts as a label.
    func subdomainDepth(of name: String) -> Int {
        let labels = name.lowercased().split(separator: ".", omittingEmptySubsequences: false).count
        let base = depthBaseDomains
            .filter { name.lowercased() == $0 || name.lowercased().hasSuffix("." + $0) }
            .map { $0.split(separator: ".").count }
            .max()
        return max(0, labels - (base ?? 2))
    }
}
