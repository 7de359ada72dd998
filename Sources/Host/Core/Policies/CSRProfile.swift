import Foundation

/// A CSR profile: the rules an operator set for the CSRs of some accounts (admin API,
/// `admin.csr_profiles.profile_data`), as in ACMEEH. Loaded strictly — an unknown key, a
/// wrong type, an unknown name or an invalid regular expression makes the profile
/// invalid (`CSRProfileError` names the key) — and evaluated at finalize
/// (`CSRProfile+Evaluation.swift`). Every rule is optional; an absent rule allows anything.
///
/// `@unchecked Sendable`: the compiled regular expressions are immutable and
/// NSRegularExpression is safe to use from several threads.
struct CSRProfile: @unchecked Sendable {
    /// Key type ("RSA", "EC.secp256r1", "EC.secp384r1", "EC.secp521r1", "Ed25519", "Ed448")
    /// → minimum bits; a type not listed is refused.
    var authorizedKeys: [String: Int]?
    /// Signature algorithm names (compared without regard to case).
    var authorizedSignatureAlgorithms: [String]?
    /// keyUsage and extendedKeyUsage names a CSR may request.
    var authorizedKeyUsages: [String]?
    var authorizedExtendedKeyUsages: [String]?
    /// Bounds on the number of commonName attributes and of subjectAltNames; −1 = no limit.
    var commonNameMinimum: Int?
    var commonNameMaximum: Int?
    var sanMinimum: Int?
    var sanMaximum: Int?
    /// Full-match patterns for each commonName, each subjectAltName value, the RFC 4514 subject.
    var commonNameRegex: Pattern?
    var sanRegex: Pattern?
    var subjectRegex: Pattern?
    /// The subjectAltName kinds allowed (`CSRContents.SubjectAltName.kind`).
    var sanTypes: [String]?
    /// false forbids a `*.` name in the commonName / in subjectAltName.
    var wildcardInCommonName: Bool?
    var wildcardInSAN: Bool?
    /// How many labels a name may have below its base domain (see `subdomainDepth`).
    var maxSubdomainDepth: Int?
    var depthBaseDomains: [String] = []
    /// false: the CSR's key must not be the key of a certificate this server issued.
    var reuseKey: Bool?
    /// A CSR for the same names as an unrevoked, unexpired certificate of the account is
    /// refused unless that certificate expires within this many days.
    var renewalWindowDays: Int?

    /// A compiled full-match regular expression and the pattern it came from.
    struct Pattern: @unchecked Sendable {
        let source: String
        let expression: NSRegularExpression

        func matches(_ text: String) -> Bool {
            expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
        }
    }

    static let keyTypes = ["RSA", "EC.secp256r1", "EC.secp384r1", "EC.secp521r1", "Ed25519", "Ed448"]
    static let signatureAlgorithms = [
        "SHA256withRSA", "SHA384withRSA", "SHA512withRSA", "SHA1withRSA",
        "SHA256withECDSA", "SHA384withECDSA", "SHA512withECDSA", "SHA1withECDSA", "Ed25519", "Ed448",
    ]
    static let sanKinds = [
        "DNS_NAME", "IP_ADDRESS", "RFC822_NAME", "UNIFORM_RESOURCE_IDENTIFIER", "DIRECTORY_NAME", "REGISTERED_ID",
        "OTHER_NAME", "X400_ADDRESS", "EDI_PARTY_NAME",
    ]
    static let keys: Set<String> = [
        "authorized_keys", "authorized_signature_algorithms", "authorized_key_usages", "authorized_extended_key_usages",
        "common_name_minimum", "common_name_maximum", "san_minimum", "san_maximum", "common_name_regex", "san_regex",
        "subject_regex", "san_types", "wildcard_in_common_name", "wildcard_in_san", "max_subdomain_depth",
        "depth_base_domains", "reuse_key", "renewal_window_days",
    ]

    /// A profile with no rules.
    init() {}

    /// The profile of `profile_data` as JSON text (UTF-8).
    init(json text: String) throws(CSRProfileError) {
        let value: ProfileJSON
        do {
            value = try JSONDecoder().decode(ProfileJSON.self, from: Data(text.utf8))
        } catch {
            throw CSRProfileError(key: nil, "profile_data is not valid JSON")
        }
        try self.init(value)
    }

    /// The profile of a decoded `profile_data`, which must be an object.
    init(_ value: ProfileJSON) throws(CSRProfileError) {
        guard case .object(let object) = value else {
            throw CSRProfileError(key: nil, "profile_data must be an object, not \(value.kind)")
        }
        if let unknown = object.keys.sorted().first(where: { !Self.keys.contains($0) }) {
            throw CSRProfileError(key: unknown, "is not a CSR profile rule (rules: \(Self.keys.sorted().joined(separator: ", ")))")
        }
        let r = Reader(object: object)
        if let keys = try r.object("authorized_keys") {
            var minimums: [String: Int] = [:]
            for (name, bits) in keys {
                guard let type = Self.keyTypes.first(where: { $0.caseInsensitiveCompare(name) == .orderedSame }) else {
                    throw CSRProfileError(key: "authorized_keys", "unknown key type \"\(name)\" (known: \(Self.keyTypes.joined(separator: ", ")))")
                }
                guard case .integer(let minimum) = bits, minimum >= 0 else {
                    throw CSRProfileError(key: "authorized_keys", "\"\(name)\" must map to a minimum number of bits (an integer ≥ 0), not \(bits.kind)")
                }
                minimums[type] = minimum
            }
            authorizedKeys = minimums
        }
        authorizedSignatureAlgorithms = try r.names("authorized_signature_algorithms", among: Self.signatureAlgorithms)
        authorizedKeyUsages = try r.names("authorized_key_usages", among: CSRContents.keyUsageNames)
        authorizedExtendedKeyUsages = try r.names("authorized_extended_key_usages",
                                                  among: CSRContents.extendedKeyUsageNames.values.sorted())
        commonNameMinimum = try r.integer("common_name_minimum", min: 0)
        commonNameMaximum = try r.integer("common_name_maximum", min: -1)
        sanMinimum = try r.integer("san_minimum", min: 0)
        sanMaximum = try r.integer("san_maximum", min: -1)
        try Self.checkBounds(commonNameMinimum, commonNameMaximum, "common_name_maximum", "common_name_minimum")
        try Self.checkBounds(sanMinimum, sanMaximum, "san_maximum", "san_minimum")
        commonNameRegex = try r.pattern("common_name_regex")
        sanRegex = try r.pattern("san_regex")
        subjectRegex = try r.pattern("subject_regex")
        sanTypes = try r.names("san_types", among: Self.sanKinds)
        wildcardInCommonName = try r.bool("wildcard_in_common_name")
        wildcardInSAN = try r.bool("wildcard_in_san")
        maxSubdomainDepth = try r.integer("max_subdomain_depth", min: 0)
        depthBaseDomains = try r.strings("depth_base_domains")?.map { base throws(CSRProfileError) in
            let lowered = base.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "."))
            guard !lowered.isEmpty, !lowered.contains("*"), !lowered.contains("..") else {
                throw CSRProfileError(key: "depth_base_domains", "\"\(base)\" is not a domain name")
            }
            return lowered
        } ?? []
        reuseKey = try r.bool("reuse_key")
        renewalWindowDays = try r.integer("renewal_window_days", min: 0)
    }

    private static func checkBounds(_ minimum: Int?, _ maximum: Int?, _ maxKey: String, _ minKey: String) throws(CSRProfileError) {
        if let minimum, let maximum, maximum != -1, maximum < minimum {
            throw CSRProfileError(key: maxKey, "is \(maximum), below \(minKey) (\(minimum))")
        }
    }

    /// Typed reads of the rules of one object, each refusal naming its key.
    private struct Reader {
        let object: [String: ProfileJSON]

        func bool(_ key: String) throws(CSRProfileError) -> Bool? {
            guard let value = object[key] else { return nil }
            guard case .bool(let flag) = value else { throw CSRProfileError(key: key, "must be a boolean, not \(value.kind)") }
            return flag
        }

        func integer(_ key: String, min: Int) throws(CSRProfileError) -> Int? {
            guard let value = object[key] else { return nil }
            guard case .integer(let number) = value else { throw CSRProfileError(key: key, "must be an integer, not \(value.kind)") }
            guard number >= min else { throw CSRProfileError(key: key, "must be at least \(min), not \(number)") }
            return number
        }

        func string(_ key: String) throws(CSRProfileError) -> String? {
            guard let value = object[key] else { return nil }
            guard case .string(let text) = value else { throw CSRProfileError(key: key, "must be a string, not \(value.kind)") }
            return text
        }

        func strings(_ key: String) throws(CSRProfileError) -> [String]? {
            guard let value = object[key] else { return nil }
            guard case .array(let items) = value else { throw CSRProfileError(key: key, "must be a list of strings, not \(value.kind)") }
            var strings: [String] = []
            for item in items {
                guard case .string(let text) = item else {
                    throw CSRProfileError(key: key, "must be a list of strings; it holds \(item.kind)")
                }
                strings.append(text)
            }
            return strings
        }

        /// A list of names from `known` (compared without regard to case, kept as `known` spells them).
        func names(_ key: String, among known: [String]) throws(CSRProfileError) -> [String]? {
            try strings(key)?.map { name throws(CSRProfileError) in
                guard let match = known.first(where: { $0.caseInsensitiveCompare(name) == .orderedSame }) else {
                    throw CSRProfileError(key: key, "unknown name \"\(name)\" (known: \(known.joined(separator: ", ")))")
                }
                return match
            }
        }

        func object(_ key: String) throws(CSRProfileError) -> [String: ProfileJSON]? {
            guard let value = object[key] else { return nil }
            guard case .object(let members) = value else { throw CSRProfileError(key: key, "must be an object, not \(value.kind)") }
            return members
        }

        func pattern(_ key: String) throws(CSRProfileError) -> Pattern? {
            guard let source = try string(key) else { return nil }
            do {
                return Pattern(source: source, expression: try NSRegularExpression(pattern: "\\A(?:\(source))\\z"))
            } catch {
                throw CSRProfileError(key: key, "is not a valid regular expression: \(source)")
            }
        }
    }
}

/// Why a CSR profile is invalid: the rule (`key`, nil for the document as a whole) and
/// what is wrong with it. The admin API answers it as a 400.
struct CSRProfileError: Error, Sendable, Equatable, CustomStringConvertible {
    var key: String?
    var message: String

    init(key: String?, _ message: String) {
        self.key = key
        self.message = message
    }

    var description: String { key.map { "\($0): \(message)" } ?? message }
}
