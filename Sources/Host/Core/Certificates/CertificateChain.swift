import COpenSSL
import Foundation

/// A PEM certificate chain as a CA plugin returns it (leaf first), with the fields
/// of the leaf that acmeeh records and prints.
struct CertificateChain: Sendable {
    struct Leaf: Sendable {
        var subject: String
        var issuer: String
        var serialHex: String
        var dnsNames: [String]
        var ipAddresses: [String]
        var notBefore: Date
        var notAfter: Date
        var der: [UInt8]
        /// The DER SubjectPublicKeyInfo of the certified key.
        var subjectPublicKeyInfo: [UInt8]

        /// `certificates.fingerprint`: SHA-256 hex (lowercase) of the DER certificate.
        var fingerprint: String { CertificateChain.sha256Hex(der) }
        /// `certificates.public_key_fingerprint`: SHA-256 hex of the DER SubjectPublicKeyInfo.
        var publicKeyFingerprint: String { CertificateChain.sha256Hex(subjectPublicKeyInfo) }
    }

    let leaf: Leaf
    /// Number of certificates in the chain, leaf included.
    let count: Int

    struct ParseError: Error, CustomStringConvertible {
        let description: String
    }

    init(pem: String) throws {
        let bytes = Array(pem.utf8)
        // BIO_new_mem_buf does not copy: the BIO must not outlive the buffer's closure.
        leaf = try bytes.withUnsafeBytes { buffer throws -> Leaf in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else {
                throw ParseError(description: "out of memory")
            }
            defer { BIO_free(bio) }
            // Only the leaf is decoded (OpenSSL 3 decodes each certificate's key on parsing,
            // which dominates the cost); the others are counted.
            guard let first = PEM_read_bio_X509(bio, nil, nil, nil) else {
                ERR_clear_error()
                throw ParseError(description: "the chain holds no PEM certificate")
            }
            defer { X509_free(first) }
            return try Self.leaf(first)
        }
        count = pem.components(separatedBy: "-----BEGIN CERTIFICATE-----").count - 1
    }

    /// Every PEM certificate block of `pem` as DER, in order; nil when a block is not base64.
    static func derCertificates(pem: String) -> [[UInt8]]? {
        let begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----"
        var certificates: [[UInt8]] = []
        var rest = pem[...]
        while let start = rest.range(of: begin), let stop = rest.range(of: end, range: start.upperBound..<rest.endIndex) {
            guard let der = Data(base64Encoded: String(rest[start.upperBound..<stop.lowerBound].filter { !$0.isWhitespace }))
            else { return nil }
            certificates.append(Array(der))
            rest = rest[stop.upperBound...]
        }
        return certificates
    }

    /// Parses one DER certificate (as revokeCert carries it, RFC 8555 §7.6); the whole
    /// input must be the certificate.
    static func leaf(der: [UInt8]) throws -> Leaf {
        let x509 = der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            guard let base = buffer.baseAddress else { return nil }
            var cursor: UnsafePointer<UInt8>? = base
            guard let x509 = d2i_X509(nil, &cursor, buffer.count) else { return nil }
            guard cursor == base + buffer.count else {
                X509_free(x509)
                return nil
            }
            return x509
        }
        guard let x509 else {
            ERR_clear_error()
            throw ParseError(description: "not a DER X.509 certificate")
        }
        defer { X509_free(x509) }
        return try leaf(x509)
    }

    /// The DER SubjectPublicKeyInfo of an OpenSSL key (to compare a JWK with a certificate's key).
    static func subjectPublicKeyInfo(of pkey: OpaquePointer) -> [UInt8]? {
        let length = i2d_PUBKEY(pkey, nil)
        guard length > 0 else { return nil }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var pointer: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return i2d_PUBKEY(pkey, &pointer)
        }
        return written == length ? der : nil
    }

    /// Lowercase hex of SHA-256.
    static func sha256Hex(_ bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeBufferPointer { _ = SHA256($0.baseAddress, $0.count, &digest) }
        return digest.map { String(format: "%02x", $0) }.joined()
    }

    private static func leaf(_ x509: OpaquePointer) throws -> Leaf {
        var (dns, ips) = ([String](), [String]())
        if let names = X509_get_ext_d2i(x509, NID_subject_alt_name, nil, nil) {
            let list = OpaquePointer(names)
            defer { acmeeh_GENERAL_NAMES_free(list) }
            for index in 0..<acmeeh_sk_GENERAL_NAME_num(list) {
                guard let name = acmeeh_sk_GENERAL_NAME_value(list, index) else { continue }
                switch name.pointee.type {
                case GEN_DNS: dns.append(asn1String(name.pointee.d.dNSName))
                case GEN_IPADD: ips.append(ipText(asn1Bytes(name.pointee.d.iPAddress)))
                default: break
                }
            }
        }
        let derLength = i2d_X509(x509, nil)
        guard derLength > 0 else { throw ParseError(description: "cannot encode the leaf certificate") }
        var der = [UInt8](repeating: 0, count: Int(derLength))
        der.withUnsafeMutableBufferPointer { buffer in
            var pointer: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            _ = i2d_X509(x509, &pointer)
        }
        guard let pkey = X509_get0_pubkey(x509), let spki = subjectPublicKeyInfo(of: pkey) else {
            throw ParseError(description: "cannot encode the certificate's public key")
        }
        return Leaf(
            subject: nameText(X509_get_subject_name(x509)),
            issuer: nameText(X509_get_issuer_name(x509)),
            serialHex: serialHex(X509_get_serialNumber(x509)),
            dnsNames: dns, ipAddresses: ips,
            notBefore: date(X509_get0_notBefore(x509)),
            notAfter: date(X509_get0_notAfter(x509)),
            der: der, subjectPublicKeyInfo: spki)
    }

    static func nameText(_ name: OpaquePointer?) -> String {
        guard let name, let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        X509_NAME_print_ex(bio, name, 0, acmeeh_XN_FLAG_RFC2253())
        var data: UnsafeMutablePointer<CChar>?
        let length = acmeeh_BIO_get_mem_data(bio, &data)
        guard let data, length > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    }

    private static func serialHex(_ serial: UnsafePointer<ASN1_INTEGER>?) -> String {
        guard let serial, let bn = ASN1_INTEGER_to_BN(serial, nil) else { return "" }
        defer { BN_free(bn) }
        guard let hex = BN_bn2hex(bn) else { return "" }
        defer { acmeeh_OPENSSL_free(hex) }
        return String(decoding: UnsafeRawBufferPointer(start: hex, count: strlen(hex)), as: UTF8.self).lowercased()
    }

    private static func date(_ time: UnsafePointer<ASN1_TIME>?) -> Date {
        var tm = tm()
        guard let time, ASN1_TIME_to_tm(time, &tm) == 1 else { return .distantPast }
        return Date(timeIntervalSince1970: TimeInterval(timegm(&tm)))
    }

    private static func asn1Bytes(_ string: UnsafePointer<ASN1_STRING>?) -> [UInt8] {
        guard let string, let data = ASN1_STRING_get0_data(string) else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: Int(ASN1_STRING_length(string))))
    }

    private static func asn1String(_ string: UnsafePointer<ASN1_STRING>?) -> String {
        String(decoding: asn1Bytes(string), as: UTF8.self)
    }

    private static func ipText(_ bytes: [UInt8]) -> String {
        let family = bytes.count == 4 ? AF_INET : bytes.count == 16 ? AF_INET6 : -1
        guard family != -1 else { return bytes.map { String(format: "%02x", $0) }.joined() }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
