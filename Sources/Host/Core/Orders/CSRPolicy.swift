import COpenSSL
import Foundation

/// The finalize checks of a PKCS#10 CSR (RFC 8555 §7.4, RFC 2986): its own signature,
/// the allowed signature algorithms (`security.allowed_csr_signature_algorithms`), the key
/// size (`security.min_csr_*_key_size`), a key other than the account key (§11.1), the
/// names of subjectAltName and the CN together exactly the order's identifiers, and a CN
/// among them.
/// Every violation is reported in one `badCSR` with subproblems.
struct CSRPolicy: Sendable {
    let security: SecurityConfig

    /// What the checks of the CSR alone found: its names, and the refusals that do not
    /// depend on the order.
    struct Inspected: Sendable {
        var names: (identifiers: [Identifier], unsupported: [String])
        var commonName: String?
        var problems: [Problem.Subproblem]
        /// SHA-256 hex of the key's DER SubjectPublicKeyInfo, when asked for (the CSR profile's facts).
        var publicKeyFingerprint: String? = nil

        /// RFC 8738 has ip identifiers in subjectAltName only: a CN stands for a dns one.
        var commonNameDNS: Identifier? {
            commonName.flatMap { IPAddress.canonical($0) == nil ? Identifier(type: "dns", value: $0.lowercased()) : nil }
        }

        /// The identifiers the CSR asks for, as an order holds them: its subjectAltNames and
        /// a DNS commonName (for a CSR that names exactly its order's identifiers, these are
        /// the order's identifiers).
        var requested: [Identifier] {
            var all = Set(names.identifiers)
            if let commonNameDNS { all.insert(commonNameDNS) }
            return Array(all)
        }
    }

    /// The checks of the CSR alone: it parses, its signature verifies (else it is refused at
    /// once), and the refusals of its algorithm and key are collected for `check`.
    func inspect(der: [UInt8], accountThumbprint: String, keyFingerprint: Bool = false) throws(Problem) -> Inspected {
        guard let request = Self.parse(der) else {
            throw Problem(.badCSR, "the csr is not a DER PKCS#10 certification request")
        }
        defer { X509_REQ_free(request) }
        guard let key = X509_REQ_get0_pubkey(request) else {
            throw Problem(.badCSR, "the CSR has no usable public key")
        }
        // RFC 2986 §3: the CSR is signed with its own key.
        guard X509_REQ_verify(request, key) == 1 else {
            ERR_clear_error()
            throw Problem(.badCSR, "the CSR's signature does not verify with its public key")
        }
        var problems: [Problem.Subproblem] = []
        func refuse(_ detail: String, _ identifier: Identifier? = nil) {
            problems.append(.init(type: .badCSR, detail: detail, identifier: identifier))
        }

        let algorithm = Self.signatureAlgorithmName(X509_REQ_get_signature_nid(request))
        if !security.allowedCSRSignatureAlgorithms.contains(where: { $0.caseInsensitiveCompare(algorithm) == .orderedSame }) {
            refuse("CSR signature algorithm \(algorithm) is not allowed (allowed: \(security.allowedCSRSignatureAlgorithms.joined(separator: ", ")))")
        }
        let bits = Int(EVP_PKEY_get_bits(key))
        switch EVP_PKEY_get_base_id(key) {
        case EVP_PKEY_RSA:
            if bits < security.minCSRRSAKeySize { refuse("RSA key of \(bits) bits; at least \(security.minCSRRSAKeySize) required") }
        case EVP_PKEY_EC:
            if bits < security.minCSRECKeySize { refuse("EC key of \(bits) bits; at least \(security.minCSRECKeySize) required") }
        default:
            refuse("the CSR key type is not supported (RSA or EC)")
        }
        // RFC 8555 §11.1: the certificate key must not be the account key.
        if let thumbprint = Self.jwkThumbprint(key), thumbprint == accountThumbprint {
            refuse("the CSR's key is the account key; use a separate key for the certificate (RFC 8555 §11.1)")
        }

        return Inspected(names: Self.subjectAltNames(request), commonName: Self.commonName(request), problems: problems,
                         publicKeyFingerprint: keyFingerprint
                             ? CertificateChain.subjectPublicKeyInfo(of: key).map(CertificateChain.sha256Hex) : nil)
    }

    /// The CSR names exactly the order's identifiers (RFC 8555 §7.4: a dns one may appear in
    /// the subject's commonName, in subjectAltName, or both); throws every refusal at once.
    func check(_ inspected: Inspected, identifiers: [Identifier]) throws(Problem) {
        var problems = inspected.problems
        func refuse(_ detail: String, _ identifier: Identifier? = nil) {
            problems.append(.init(type: .badCSR, detail: detail, identifier: identifier))
        }
        let names = inspected.names, commonName = inspected.commonName, commonNameDNS = inspected.commonNameDNS
        var seen: Set<Identifier> = []
        for name in names.identifiers {
            if !seen.insert(name).inserted { refuse("subjectAltName \(name.value) appears twice", name) }
        }
        for other in names.unsupported { refuse("subjectAltName of type \(other) is not allowed") }
        let wanted = Set(identifiers)
        for name in names.identifiers where !wanted.contains(name) {
            refuse("the CSR names \(name.value), which is not an identifier of this order", name)
        }
        for identifier in identifiers where !seen.contains(identifier) && identifier != commonNameDNS {
            refuse("the CSR names \(identifier.value) neither in subjectAltName nor as its common name", identifier)
        }
        if let commonName {
            let lowered = commonName.lowercased()
            if !identifiers.contains(where: { $0.value == lowered || $0.value == IPAddress.canonical(commonName) }) {
                refuse("the CSR's common name \(commonName) is not an identifier of this order")
            }
        }
        if problems.count == 1 {
            throw Problem(.badCSR, problems[0].detail, subproblems: problems[0].identifier == nil ? [] : problems)
        }
        if !problems.isEmpty {
            throw Problem(.badCSR, "the CSR was refused: " + problems.map(\.detail).joined(separator: "; "),
                          subproblems: problems)
        }
    }

    // MARK: OpenSSL

    static func parse(_ der: [UInt8]) -> OpaquePointer? {
        der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            let request = d2i_X509_REQ(nil, &cursor, buffer.count)
            // Trailing bytes after the request are refused too.
            if let request, let cursor, cursor != buffer.baseAddress! + buffer.count {
                X509_REQ_free(request)
                return nil
            }
            if request == nil { ERR_clear_error() }
            return request
        }
    }

    static func signatureAlgorithmName(_ nid: Int32) -> String {
        switch nid {
        case NID_sha256WithRSAEncryption: "SHA256withRSA"
        case NID_sha384WithRSAEncryption: "SHA384withRSA"
        case NID_sha512WithRSAEncryption: "SHA512withRSA"
        case NID_sha1WithRSAEncryption: "SHA1withRSA"
        case NID_ecdsa_with_SHA256: "SHA256withECDSA"
        case NID_ecdsa_with_SHA384: "SHA384withECDSA"
        case NID_ecdsa_with_SHA512: "SHA512withECDSA"
        case NID_ecdsa_with_SHA1: "SHA1withECDSA"
        case NID_ED25519: "Ed25519"
        default: OBJ_nid2sn(nid).map { String(cString: $0) } ?? "unknown"
        }
    }

    private static func subjectAltNames(_ request: OpaquePointer) -> (identifiers: [Identifier], unsupported: [String]) {
        var identifiers: [Identifier] = []
        var unsupported: [String] = []
        guard let extensions = X509_REQ_get_extensions(request) else { return ([], []) }
        defer { acmeeh_sk_X509_EXTENSION_pop_free(extensions) }
        for index in 0..<acmeeh_sk_X509_EXTENSION_num(extensions) {
            guard let ext = acmeeh_sk_X509_EXTENSION_value(extensions, index),
                  OBJ_obj2nid(X509_EXTENSION_get_object(ext)) == NID_subject_alt_name,
                  let decoded = X509V3_EXT_d2i(ext) else { continue }
            let list = OpaquePointer(decoded)
            defer { acmeeh_GENERAL_NAMES_free(list) }
            for position in 0..<acmeeh_sk_GENERAL_NAME_num(list) {
                guard let name = acmeeh_sk_GENERAL_NAME_value(list, position) else { continue }
                switch name.pointee.type {
                case GEN_DNS:
                    identifiers.append(Identifier(type: "dns", value: asn1String(name.pointee.d.dNSName).lowercased()))
                case GEN_IPADD:
                    let bytes = asn1Bytes(name.pointee.d.iPAddress)
                    identifiers.append(Identifier(type: "ip", value: ipText(bytes)))
                case GEN_EMAIL: unsupported.append("email")
                case GEN_URI: unsupported.append("URI")
                default: unsupported.append("other (\(name.pointee.type))")
                }
            }
        }
        return (identifiers, unsupported)
    }

    private static func commonName(_ request: OpaquePointer) -> String? {
        guard let subject = X509_REQ_get_subject_name(request) else { return nil }
        let index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1)
        guard index >= 0, let entry = X509_NAME_get_entry(subject, index),
              let data = X509_NAME_ENTRY_get_data(entry) else { return nil }
        var utf8: UnsafeMutablePointer<UInt8>? = nil
        let length = ASN1_STRING_to_UTF8(&utf8, data)
        guard length >= 0, let utf8 else { return nil }
        defer { acmeeh_OPENSSL_free(utf8) }
        return String(decoding: UnsafeBufferPointer(start: utf8, count: Int(length)), as: UTF8.self)
    }

    static func asn1Bytes(_ string: UnsafePointer<ASN1_STRING>?) -> [UInt8] {
        guard let string, let data = ASN1_STRING_get0_data(string) else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: Int(ASN1_STRING_length(string))))
    }

    static func asn1String(_ string: UnsafePointer<ASN1_STRING>?) -> String {
        String(decoding: asn1Bytes(string), as: UTF8.self)
    }

    static func ipText(_ bytes: [UInt8]) -> String {
        let family = bytes.count == 4 ? AF_INET : bytes.count == 16 ? AF_INET6 : -1
        guard family != -1 else { return Hex.encode(bytes) }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// RFC 7638 thumbprint of an RSA or EC public key, to compare with the account's.
    static func jwkThumbprint(_ key: OpaquePointer) -> String? {
        let json: String
        switch EVP_PKEY_get_base_id(key) {
        case EVP_PKEY_RSA:
            guard let n = bignum(key, "n"), let e = bignum(key, "e") else { return nil }
            json = "{\"e\":\"\(Base64URL.encode(e))\",\"kty\":\"RSA\",\"n\":\"\(Base64URL.encode(n))\"}"
        case EVP_PKEY_EC:
            var buffer = [UInt8](repeating: 0, count: 256)
            var length = 0
            guard EVP_PKEY_get_octet_string_param(key, "encoded-pub-key", &buffer, buffer.count, &length) == 1,
                  length > 1, buffer[0] == 4 else { ERR_clear_error(); return nil }
            let size = (length - 1) / 2
            let curve: String
            switch size {
            case 32: curve = "P-256"
            case 48: curve = "P-384"
            case 66: curve = "P-521"
            default: return nil
            }
            let x = Array(buffer[1...size]), y = Array(buffer[(1 + size)..<(1 + 2 * size)])
            json = "{\"crv\":\"\(curve)\",\"kty\":\"EC\",\"x\":\"\(Base64URL.encode(x))\",\"y\":\"\(Base64URL.encode(y))\"}"
        default:
            return nil
        }
        return Base64URL.encode(Digest.sha256(Array(json.utf8)))
    }

    private static func bignum(_ key: OpaquePointer, _ name: String) -> [UInt8]? {
        var bn: OpaquePointer? = nil
        guard EVP_PKEY_get_bn_param(key, name, &bn) == 1, let bn else { ERR_clear_error(); return nil }
        defer { BN_free(bn) }
        var bytes = [UInt8](repeating: 0, count: Int((BN_num_bits(bn) + 7) / 8))
        _ = BN_bn2bin(bn, &bytes)
        return bytes
    }
}
