/// `ca.profiles.<name>`: key usages, extended key usages and validity of one kind of
/// certificate (draft-ietf-acme-profiles names them in newOrder).
struct CertificateProfile: Sendable, Equatable {
    static let keyUsageNames: Set<String> = [
        "digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
        "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only",
    ]
    static let extendedKeyUsageNames: Set<String> = [
        "server_auth", "client_auth", "code_signing", "email_protection", "time_stamping", "ocsp_signing",
    ]

    /// The profile used when none is configured under the name `default`.
    static let implicitDefault = CertificateProfile(
        keyUsages: ["digital_signature", "key_encipherment"], extendedKeyUsages: ["server_auth"])

    var keyUsages: [String] = []
    var extendedKeyUsages: [String] = []
    /// nil: `ca.default_validity_days`.
    var validityDays: Int? = nil
    /// nil: `ca.max_validity_days`.
    var maxValidityDays: Int? = nil
}

extension CertificateProfile {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("key_usages", into: &keyUsages) { Self.check($0, Self.keyUsageNames, "key usage") }
        r.read("extended_key_usages", into: &extendedKeyUsages) {
            Self.check($0, Self.extendedKeyUsageNames, "extended key usage")
        }
        r.read("validity_days", into: &validityDays, min: 1)
        r.read("max_validity_days", into: &maxValidityDays, min: 1)
        r.finish()
    }

    private static func check(_ value: String, _ names: Set<String>, _ what: String) -> String? {
        names.contains(value) ? nil : "unknown \(what) \"\(value)\" (one of \(names.sorted().joined(separator: ", ")))"
    }
}
