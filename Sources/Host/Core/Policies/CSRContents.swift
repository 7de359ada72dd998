import COpenSSL
import Foundation

/// What a CSR profile looks at in a PKCS#10 request (RFC 2986), read once with OpenSSL:
/// its key, signature algorithm, subject, subjectAltNames and requested key usages.
struct CSRContents: Sendable, Equatable {
    /// A subjectAltName with the kind `san_types` names it by.
    struct SubjectAltName: Sendable, Equatable {
        var kind: String
        var value: String
    }

    /// "RSA", "EC.secp256r1", "EC.secp384r1", "EC.secp521r1", "Ed25519", "Ed448", or
    /// OpenSSL's short name of another type.
    var keyType: String
    var keyBits: Int
    /// As `CSRPolicy.signatureAlgorithmName` names it ("SHA256withRSA", "Ed25519", …).
    var signatureAlgorithm: String
    /// Every commonName attribute of the subject, in order.
    var commonNames: [String]
    /// The subject in RFC 4514 string form (most significant RDN last).
    var subject: String
    var subjectAltNames: [SubjectAltName]
    /// The keyUsage bits requested (extensionRequest), by their snake_case names.
    var keyUsages: [String]
    /// The extendedKeyUsage purposes requested, by their snake_case names (an OID without
    /// a name as its dotted text).
    var extendedKeyUsages: [String]

    /// RFC 5280 §4.2.1.3, in bit order.
    static let keyUsageNames = [
        "digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
        "key_cert_sign", "crl_sign", "encipher_only", "decipher_only",
    ]

    /// RFC 5280 §4.2.1.12 purposes a profile may name.
    static let extendedKeyUsageNames: [Int32: String] = [
        NID_server_auth: "server_auth", NID_client_auth: "client_auth", NID_code_sign: "code_signing",
        NID_email_protect: "email_protection", NID_time_stamp: "time_stamping", NID_OCSP_sign: "ocsp_signing",
    ]

    /// The contents of a DER CSR; nil when it does not parse or has no key (its
    /// signature is `CSRPolicy`'s to check).
    init?(der: [UInt8]) {
        guard let request = CSRPolicy.parse(der) else { return nil }
        defer { X509_REQ_free(request) }
        guard let key = X509_REQ_get0_pubkey(request) else { ERR_clear_error(); return nil }
        keyType = Self.keyType(key)
        keyBits = Int(EVP_PKEY_get_bits(key))
        signatureAlgorithm = CSRPolicy.signatureAlgorithmName(X509_REQ_get_signature_nid(request))
        let name = X509_REQ_get_subject_name(request)
        commonNames = Self.commonNames(name)
        subject = CertificateChain.nameText(name)
        subjectAltNames = []
        keyUsages = []
        extendedKeyUsages = []
        readExtensions(request)
        ERR_clear_error()
    }

    private static func keyType(_ key: OpaquePointer) -> String {
        switch EVP_PKEY_get_base_id(key) {
        case EVP_PKEY_RSA: return "RSA"
        case EVP_PKEY_ED25519: return "Ed25519"
        case EVP_PKEY_ED448: return "Ed448"
        case EVP_PKEY_EC:
            var buffer = [CChar](repeating: 0, count: 80)
            var length = 0
            guard EVP_PKEY_get_group_name(key, &buffer, buffer.count, &length) == 1 else { return "EC" }
            let group = String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            // OpenSSL names P-256 by its X9.62 name.
            return "EC." + (group == "prime256v1" ? "secp256r1" : group)
        default:
            return OBJ_nid2sn(EVP_PKEY_get_base_id(key)).map { String(cString: $0) } ?? "unknown"
        }
    }

    private static func commonNames(_ name: OpaquePointer?) -> [String] {
        guard let name else { return [] }
        var names: [String] = []
        var index: Int32 = -1
        while true {
            index = X509_NAME_get_index_by_NID(name, NID_commonName, index)
            guard index >= 0 else { return names }
            guard let entry = X509_NAME_get_entry(name, index), let data = X509_NAME_ENTRY_get_data(entry) else { continue }
            var utf8: UnsafeMutablePointer<UInt8>? = nil
            let length = ASN1_STRING_to_UTF8(&utf8, data)
            guard length >= 0, let utf8 else { continue }
            names.append(String(decoding: UnsafeBufferPointer(start: utf8, count: Int(length)), as: UTF8.self))
            acmeeh_OPENSSL_free(utf8)
        }
    }

    private mutating func readExtensions(_ request: OpaquePointer) {
        guard let extensions = X509_REQ_get_extensions(request) else { return }
        defer { acmeeh_sk_X509_EXTENSION_pop_free(extensions) }
        for index in 0..<acmeeh_sk_X509_EXTENSION_num(extensions) {
            guard let ext = acmeeh_sk_X509_EXTENSION_value(extensions, index) else { continue }
            let nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext))
            guard [NID_subject_alt_name, NID_key_usage, NID_ext_key_usage].contains(nid), let decoded = X509V3_EXT_d2i(ext)
            else { continue }
            switch nid {
            case NID_subject_alt_name:
                let list = OpaquePointer(decoded)
                defer { acmeeh_GENERAL_NAMES_free(list) }
                for position in 0..<acmeeh_sk_GENERAL_NAME_num(list) {
                    guard let name = acmeeh_sk_GENERAL_NAME_value(list, position) else { continue }
                    subjectAltNames.append(Self.subjectAltName(name.pointee))
                }
            case NID_key_usage:
                let bits = decoded.assumingMemoryBound(to: ASN1_BIT_STRING.self)
                defer { ASN1_BIT_STRING_free(bits) }
                keyUsages = Self.keyUsageNames.indices.filter { ASN1_BIT_STRING_get_bit(bits, Int32($0)) == 1 }
                    .map { Self.keyUsageNames[$0] }
            case NID_ext_key_usage:
                let list = OpaquePointer(decoded)
                defer { acmeeh_EXTENDED_KEY_USAGE_free(list) }
                for position in 0..<acmeeh_sk_ASN1_OBJECT_num(list) {
                    guard let object = acmeeh_sk_ASN1_OBJECT_value(list, position) else { continue }
                    extendedKeyUsages.append(Self.extendedKeyUsageNames[OBJ_obj2nid(object)] ?? Self.oidText(object))
                }
            default:
                break
            }
        }
    }

    private static func subjectAltName(_ name: GENERAL_NAME) -> SubjectAltName {
        switch name.type {
        case GEN_DNS: SubjectAltName(kind: "DNS_NAME", value: CSRPolicy.asn1String(name.d.dNSName).lowercased())
        case GEN_IPADD: SubjectAltName(kind: "IP_ADDRESS", value: CSRPolicy.ipText(CSRPolicy.asn1Bytes(name.d.iPAddress)))
        case GEN_EMAIL: SubjectAltName(kind: "RFC822_NAME", value: CSRPolicy.asn1String(name.d.rfc822Name))
        case GEN_URI: SubjectAltName(kind: "UNIFORM_RESOURCE_IDENTIFIER", value: CSRPolicy.asn1String(name.d.uniformResourceIdentifier))
        case GEN_DIRNAME: SubjectAltName(kind: "DIRECTORY_NAME", value: CertificateChain.nameText(name.d.directoryName))
        case GEN_RID: SubjectAltName(kind: "REGISTERED_ID", value: oidText(name.d.registeredID))
        case GEN_OTHERNAME: SubjectAltName(kind: "OTHER_NAME", value: "")
        case GEN_X400: SubjectAltName(kind: "X400_ADDRESS", value: "")
        case GEN_EDIPARTY: SubjectAltName(kind: "EDI_PARTY_NAME", value: "")
        default: SubjectAltName(kind: "UNKNOWN", value: "")
        }
    }

    private static func oidText(_ object: OpaquePointer?) -> String {
        var buffer = [CChar](repeating: 0, count: 128)
        let length = OBJ_obj2txt(&buffer, Int32(buffer.count), object, 1)
        guard length > 0 else { return "" }
        return String(decoding: buffer.prefix(Int(min(length, 127))).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
