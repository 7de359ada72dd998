import COpenSSL
import PluginKit
import PluginNetwork

/// What a tls-alpn-01 validation proves control of.
enum ValidationIdentifier: CustomStringConvertible {
    case dns(String)
    case ip(IPAddress)

    /// RFC 8737 §3 (the name) and RFC 8738 §6 (the reverse-DNS name of an address:
    /// `d.c.b.a.in-addr.arpa`, or the 32 reversed nibbles under `ip6.arpa`).
    var serverName: String {
        switch self {
        case .dns(let name):
            return name
        case .ip(let address):
            if address.isIPv6 {
                let hex = Array("0123456789abcdef")
                let nibbles = address.bytes.flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 0xF)]] }
                return nibbles.reversed().map(String.init).joined(separator: ".") + ".ip6.arpa"
            }
            return address.bytes.reversed().map(String.init).joined(separator: ".") + ".in-addr.arpa"
        }
    }

    var description: String {
        switch self {
        case .dns(let name): return name
        case .ip(let address): return address.description
        }
    }
}

/// The checks of RFC 8737 §3 on the certificate a server presented for `acme-tls/1`.
///
/// Problem types (RFC 8737 names none; RFC 8555 §6.7 gives the vocabulary):
/// - a certificate that does not name exactly the identifier (no subjectAltName, several
///   entries, another name or address) is `unauthorized`: whoever answered does not speak
///   for this identifier, as an http-01 server answering 404;
/// - a certificate that names the identifier but whose acmeIdentifier extension is missing,
///   not critical, not a DER OCTET STRING of 32 bytes, or not SHA-256 of the key
///   authorization is `incorrectResponse`: a response came for this identifier and it does
///   not match the challenge's requirements, as an http-01 body that is not the key
///   authorization.
/// Both are final: the same server would present the same certificate again.
enum ValidationCertificate {
    /// id-pe-acmeIdentifier (RFC 8737 §6.1).
    static let acmeIdentifierOID = "1.3.6.1.5.5.7.1.31"

    /// `certificate` is an X509*, borrowed.
    static func check(_ certificate: OpaquePointer, identifier: ValidationIdentifier,
                      keyAuthorization: String) throws(PluginError) {
        try checkSubjectAltName(certificate, identifier: identifier)
        try checkACMEIdentifier(certificate, keyAuthorization: keyAuthorization)
    }

    /// RFC 8737 §3: one subjectAltName extension with exactly one entry, the dNSName of the
    /// identifier (RFC 8738 §6: the iPAddress of an IP identifier).
    private static func checkSubjectAltName(_ certificate: OpaquePointer,
                                            identifier: ValidationIdentifier) throws(PluginError) {
        var critical: Int32 = 0
        let decoded = X509_get_ext_d2i(certificate, NID_subject_alt_name, &critical, nil)
        guard let decoded else {
            ERR_clear_error()
            switch critical {
            case -1: throw unauthorized("the certificate has no subjectAltName extension")
            case -2: throw unauthorized("the certificate has more than one subjectAltName extension")
            default: throw unauthorized("the certificate's subjectAltName extension cannot be decoded")
            }
        }
        let names = OpaquePointer(decoded)
        defer { acmeeh_GENERAL_NAMES_free(names) }
        let count = acmeeh_sk_GENERAL_NAME_num(names)
        guard count == 1, let name = acmeeh_sk_GENERAL_NAME_value(names, 0) else {
            throw unauthorized("the certificate's subjectAltName has \(max(0, count)) entries; "
                               + "tls-alpn-01 needs exactly one, \(expected(identifier))")
        }
        switch (identifier, name.pointee.type) {
        case (.dns(let domain), GEN_DNS):
            let presented = bytes(of: name.pointee.d.dNSName)
            // DNS names compare without regard to ASCII case (RFC 4343); the identifier is lowercase.
            let lowered = presented.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
            guard lowered == Array(domain.utf8) else {
                throw unauthorized("the certificate names DNS:\(escapedForDetail(presented, limit: 253)), "
                                   + "not \(expected(identifier))")
            }
        case (.ip(let address), GEN_IPADD):
            let presented = bytes(of: name.pointee.d.iPAddress)
            guard presented == address.bytes else {
                let shown = IPAddress(bytes: presented).map { "IP:\($0)" }
                    ?? "an iPAddress of \(presented.count) bytes"
                throw unauthorized("the certificate names \(shown), not \(expected(identifier))")
            }
        default:
            throw unauthorized("the certificate's subjectAltName entry is not \(expected(identifier))")
        }
    }

    /// RFC 8737 §3: a critical acmeIdentifier extension whose extnValue is the DER
    /// encoding of an OCTET STRING holding SHA-256 of the key authorization (RFC 8555 §8.1).
    private static func checkACMEIdentifier(_ certificate: OpaquePointer, keyAuthorization: String) throws(PluginError) {
        guard let oid = OBJ_txt2obj(acmeIdentifierOID, 1) else {
            throw PluginError.internal("OBJ_txt2obj(\(acmeIdentifierOID)): \(openSSLErrors())")
        }
        defer { ASN1_OBJECT_free(oid) }
        let index = X509_get_ext_by_OBJ(certificate, oid, -1)
        guard index >= 0 else {
            throw incorrect("the certificate has no acmeIdentifier extension (\(acmeIdentifierOID))")
        }
        guard X509_get_ext_by_OBJ(certificate, oid, index) < 0 else {
            throw incorrect("the certificate has more than one acmeIdentifier extension")
        }
        guard let extensionEntry = X509_get_ext(certificate, index) else {
            throw incorrect("the certificate's acmeIdentifier extension cannot be read")
        }
        guard X509_EXTENSION_get_critical(extensionEntry) == 1 else {
            throw incorrect("the certificate's acmeIdentifier extension is not critical (RFC 8737 §3 requires it to be)")
        }
        let value = bytes(of: X509_EXTENSION_get_data(extensionEntry))
        // Strict DER: tag 04, short-form length 32, then exactly 32 bytes: nothing before or after.
        guard value.count == 34, value[0] == 0x04, value[1] == 0x20 else {
            throw incorrect("the certificate's acmeIdentifier extension is not a DER OCTET STRING of 32 bytes "
                            + "(\(value.count) bytes: \(hex(value.prefix(40)))\(value.count > 40 ? "..." : ""))")
        }
        let expected = sha256(Array(keyAuthorization.utf8))
        guard constantTimeEquals(Array(value[2...]), expected) else {
            throw incorrect("the certificate's acmeIdentifier is \(hex(value[2...])), "
                            + "not SHA-256 of the key authorization (\(hex(expected)))")
        }
    }

    private static func expected(_ identifier: ValidationIdentifier) -> String {
        switch identifier {
        case .dns(let name): return "DNS:\(name)"
        case .ip(let address): return "IP:\(address)"
        }
    }

    private static func unauthorized(_ detail: String) -> PluginError {
        .rejected(detail, problemType: ProblemType.unauthorized)
    }

    private static func incorrect(_ detail: String) -> PluginError {
        .rejected(detail, problemType: ProblemType.incorrectResponse)
    }
}

/// The content bytes of an ASN1_STRING (borrowed); empty for NULL.
func bytes(of string: UnsafePointer<ASN1_STRING>?) -> [UInt8] {
    guard let string, let data = ASN1_STRING_get0_data(string) else { return [] }
    let length = Int(ASN1_STRING_length(string))
    guard length > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: length))
}

func bytes(of string: UnsafeMutablePointer<ASN1_STRING>?) -> [UInt8] {
    bytes(of: string.map { UnsafePointer($0) })
}

func sha256(_ input: [UInt8]) -> [UInt8] {
    var digest = [UInt8](repeating: 0, count: 32)
    input.withUnsafeBufferPointer { _ = SHA256($0.baseAddress, $0.count, &digest) }
    return digest
}

func hex(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef")
    return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] })
}

/// Equality whose time depends only on the lengths, not on where the bytes differ.
func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var difference = UInt8(a.count == b.count ? 0 : 1)
    for i in 0..<max(a.count, b.count) {
        difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
    }
    return difference == 0
}
