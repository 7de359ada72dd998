import COpenSSL
import PluginKit
import Synchronization

/// Leaf extensions that do not depend on the CSR, built once as X509_EXTENSION
/// objects and only copied into each leaf: what the issuer fixes (basicConstraints,
/// authorityKeyIdentifier) at `create`, and what a profile fixes (keyUsage,
/// extendedKeyUsage) on that profile's first certificate, for the instance's life.
///
/// `@unchecked Sendable`: the extensions are never changed after `init` and freed in
/// `deinit`; `X509_add_ext` only reads (duplicates) them, which OpenSSL allows concurrently.
final class ExtensionSet: @unchecked Sendable {
    /// X509_EXTENSION* in the order they go into a leaf.
    let extensions: [OpaquePointer]
    /// Key usages the profile named that were left out for a non-RSA key (for a log line).
    let dropped: [String]

    /// Builds `values` ((NID, OpenSSL X509V3 configuration value) pairs) for leaves of `issuer`.
    init(_ values: [(Int32, String)], issuer: OpaquePointer, dropped: [String] = []) throws(PluginError) {
        var ctx = X509V3_CTX()
        X509V3_set_ctx(&ctx, issuer, nil, nil, nil, 0)
        var built: [OpaquePointer] = []
        for (nid, value) in values {
            guard let ext = X509V3_EXT_conf_nid(nil, &ctx, nid, value) else {
                let failure = openSSLFailure("building extension \(String(cString: OBJ_nid2sn(nid))) = \(value)")
                built.forEach { X509_EXTENSION_free($0) }
                throw failure
            }
            built.append(ext)
        }
        extensions = built
        self.dropped = dropped
    }

    deinit { extensions.forEach { X509_EXTENSION_free($0) } }

    /// The issuer's part: basicConstraints CA:FALSE, critical (RFC 5280 §4.2.1.9), and the
    /// authorityKeyIdentifier = the issuer's subjectKeyIdentifier (RFC 5280 §4.2.1.1).
    static func issuer(_ issuer: OpaquePointer) throws(PluginError) -> (basicConstraints: ExtensionSet, authorityKeyIdentifier: ExtensionSet) {
        (try ExtensionSet([(NID_basic_constraints, "critical,CA:FALSE")], issuer: issuer),
         try ExtensionSet([(NID_authority_key_identifier, "keyid:always")], issuer: issuer))
    }

    /// A profile's part: keyUsage (critical, RFC 5280 §4.2.1.3) and extendedKeyUsage, each
    /// left out when the profile lists none.
    static func profile(_ profile: LeafProfile, dropped: [String], issuer: OpaquePointer) throws(PluginError) -> ExtensionSet {
        var values: [(Int32, String)] = []
        if !profile.keyUsages.isEmpty {
            values.append((NID_key_usage, "critical," + profile.keyUsages.joined(separator: ",")))
        }
        if !profile.extendedKeyUsages.isEmpty {
            values.append((NID_ext_key_usage, profile.extendedKeyUsages.joined(separator: ",")))
        }
        return try ExtensionSet(values, issuer: issuer, dropped: dropped)
    }

    /// Where relying parties check revocation, as the host hands it in: cRLDistributionPoints
    /// with one fullName URI (RFC 5280 §4.2.1.13) and authorityInfoAccess id-ad-ocsp
    /// (RFC 5280 §4.2.2.1), each left out when its URL is nil. A URL that is not an http(s)
    /// URL this encoding can carry is refused.
    static func revocation(crlDistributionPoint: String?, ocspURL: String?, issuer: OpaquePointer) throws(PluginError) -> ExtensionSet {
        var values: [(Int32, String)] = []
        if let url = crlDistributionPoint {
            try checkURL(url, "crl_distribution_point")
            values.append((NID_crl_distribution_points, "URI:" + url))
        }
        if let url = ocspURL {
            try checkURL(url, "ocsp_url")
            values.append((NID_info_access, "OCSP;URI:" + url))
        }
        return try ExtensionSet(values, issuer: issuer)
    }

    /// The longest URL put in a leaf.
    static let maxURLBytes = 2048

    /// An http:// or https:// URL of printable ASCII (an IA5String in the leaf) without a
    /// comma, which the OpenSSL configuration syntax would split at, of at most maxURLBytes.
    private static func checkURL(_ url: String, _ field: String) throws(PluginError) {
        let bytes = Array(url.utf8)
        let lowered = url.lowercased()
        let scheme = lowered.hasPrefix("https://") ? 8 : lowered.hasPrefix("http://") ? 7 : 0
        guard bytes.count <= maxURLBytes else {
            throw PluginError.invalidInput("\(field) is \(bytes.count) bytes, more than \(maxURLBytes)")
        }
        guard scheme > 0, bytes.count > scheme,
              bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ",") }) else {
            throw PluginError.invalidInput("\(field) \"\(url.prefix(80))\" is not an http:// or https:// URL without commas, spaces or control characters")
        }
    }

    /// Appends copies of the extensions to `leaf`.
    func add(to leaf: OpaquePointer) throws(PluginError) {
        for ext in extensions {
            guard X509_add_ext(leaf, ext, -1) == 1 else { throw openSSLFailure("X509_add_ext") }
        }
    }
}

/// The profile extensions of one instance, keyed by what decides them: the profile's
/// JSON as the host hands it in and whether the key is RSA.
final class ProfileExtensionCache: Sendable {
    private struct Key: Hashable {
        var profileJSON: String
        var rsaKey: Bool
    }

    /// Profiles come from the host's configuration, so a handful of entries; past this
    /// bound (a host inventing profiles per request) they are built per certificate.
    static let capacity = 64
    private let entries = Mutex<[Key: ExtensionSet]>([:])

    /// The cached set, or a new one built (and kept while there is room).
    func extensions(profile: String, json: String, rsaKey: Bool, issuer: OpaquePointer) throws(PluginError) -> ExtensionSet {
        let key = Key(profileJSON: json, rsaKey: rsaKey)
        if let cached = entries.withLock({ $0[key] }) { return cached }
        let (parsed, dropped) = try LeafProfile.parse(profile: profile, json: json, rsaKey: rsaKey)
        let built = try ExtensionSet.profile(parsed, dropped: dropped, issuer: issuer)
        return entries.withLock { entries in
            if let raced = entries[key] { return raced }
            if entries.count < Self.capacity { entries[key] = built }
            return built
        }
    }
}
