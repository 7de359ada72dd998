#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PluginKit

/// Key usages and extended key usages of a leaf, from a `ca.profiles.<name>`
/// entry (names as in the reference: snake_case) rendered as OpenSSL's
/// X509V3 configuration values.
struct LeafProfile {
    /// e.g. ["digitalSignature", "keyEncipherment"]; empty = no KU extension.
    var keyUsages: [String]
    /// e.g. ["serverAuth"]; empty = no EKU extension.
    var extendedKeyUsages: [String]

    static let keyUsageNames: [String: String] = [
        "digital_signature": "digitalSignature",
        "content_commitment": "nonRepudiation",
        "non_repudiation": "nonRepudiation",
        "key_encipherment": "keyEncipherment",
        "data_encipherment": "dataEncipherment",
        "key_agreement": "keyAgreement",
        "key_cert_sign": "keyCertSign",
        "crl_sign": "cRLSign",
        "encipher_only": "encipherOnly",
        "decipher_only": "decipherOnly",
    ]

    static let extendedKeyUsageNames: [String: String] = [
        "server_auth": "serverAuth",
        "client_auth": "clientAuth",
        "code_signing": "codeSigning",
        "email_protection": "emailProtection",
        "time_stamping": "timeStamping",
        "ocsp_signing": "OCSPSigning",
    ]

    /// The only keys of `profile_json` this plugin reads; the host owns the rest
    /// (validity_days, max_validity_days), so other keys are ignored here.
    private struct Settings: Decodable {
        var key_usages: [String]?
        var extended_key_usages: [String]?
    }

    /// Parses `profile_json` for a leaf whose public key is RSA (`rsaKey`) or not.
    ///
    /// Defaults: KU digitalSignature (+ keyEncipherment for RSA), EKU serverAuth.
    /// For non-RSA keys keyEncipherment and dataEncipherment are dropped even when
    /// the profile names them (RFC 5480 §3 and RFC 8410 §5 do not allow them
    /// for EC/EdDSA keys), and `dropped` lists them for a log line.
    static func parse(profile: String, json: String, rsaKey: Bool) throws(PluginError) -> (LeafProfile, dropped: [String]) {
        let settings: Settings
        do {
            settings = try JSONDecoder().decode(Settings.self, from: Data(json.utf8))
        } catch {
            throw .config("ca.profiles.\(profile): key_usages / extended_key_usages must be lists of strings")
        }
        var dropped: [String] = []
        var keyUsages: [String] = []
        for name in settings.key_usages ?? ["digital_signature", "key_encipherment"] {
            guard let value = keyUsageNames[name] else {
                throw .config("ca.profiles.\(profile).key_usages: unknown key usage \"\(name)\" (known: \(keyUsageNames.keys.sorted().joined(separator: ", ")))")
            }
            // RFC 5280 §4.2.1.9: keyCertSign only with cA = TRUE; leaves are CA:FALSE.
            if value == "keyCertSign" {
                throw .config("ca.profiles.\(profile).key_usages: key_cert_sign is not allowed in an end-entity certificate")
            }
            if !rsaKey && (value == "keyEncipherment" || value == "dataEncipherment") {
                dropped.append(name)
                continue
            }
            if !keyUsages.contains(value) { keyUsages.append(value) }
        }
        var extendedKeyUsages: [String] = []
        for name in settings.extended_key_usages ?? ["server_auth"] {
            guard let value = extendedKeyUsageNames[name] else {
                throw .config("ca.profiles.\(profile).extended_key_usages: unknown extended key usage \"\(name)\" (known: \(extendedKeyUsageNames.keys.sorted().joined(separator: ", ")))")
            }
            if !extendedKeyUsages.contains(value) { extendedKeyUsages.append(value) }
        }
        return (LeafProfile(keyUsages: keyUsages, extendedKeyUsages: extendedKeyUsages), dropped)
    }
}
