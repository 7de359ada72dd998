import COpenSSL
import Foundation

/// RFC 9773 §4.1 certificate identifier: base64url(AKI keyIdentifier) "." base64url(serial
/// DER content octets), as used in ARI URLs and newOrder `replaces`.
struct CertificateID: Sendable, Equatable {
    var keyIdentifier: [UInt8]
    /// The serial's DER INTEGER content octets (with a leading 0 when the high bit is set).
    var serialBytes: [UInt8]

    var text: String { Base64URL.encode(keyIdentifier) + "." + Base64URL.encode(serialBytes) }

    /// Lowercase hex of the serial without leading zeros, as stored in `certificates.serial`.
    var serialHex: String { Self.normalisedSerial(Hex.encode(serialBytes)) }

    static func parse(_ text: String) throws(Problem) -> CertificateID {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let aki = Base64URL.decode(parts[0]), let serial = Base64URL.decode(parts[1]),
              !aki.isEmpty, !serial.isEmpty else {
            throw Problem(.malformed, "\(text) is not an RFC 9773 certID (base64url(AKI).base64url(serial))")
        }
        return CertificateID(keyIdentifier: aki, serialBytes: serial)
    }

    /// The certID of the first certificate of a PEM chain; throws when it has no AKI.
    init(pemChain: String) throws {
        let der = try CertificateChain(pem: pemChain).leaf.der
        guard let x509 = LeafCertificate.parse(der) else { throw CertificateChain.ParseError(description: "bad leaf") }
        defer { X509_free(x509) }
        guard let aki = X509_get0_authority_key_id(x509), let data = ASN1_STRING_get0_data(aki) else {
            throw CertificateChain.ParseError(description: "the certificate has no authorityKeyIdentifier")
        }
        keyIdentifier = Array(UnsafeBufferPointer(start: data, count: Int(ASN1_STRING_length(aki))))
        var serial = Hex.decode(Self.evenHex(CertificateID.normalisedSerial(
            (try? CertificateChain(pem: pemChain).leaf.serialHex) ?? "0"))) ?? [0]
        if let first = serial.first, first & 0x80 != 0 { serial.insert(0, at: 0) }
        serialBytes = serial
    }

    init(keyIdentifier: [UInt8], serialBytes: [UInt8]) {
        self.keyIdentifier = keyIdentifier
        self.serialBytes = serialBytes
    }

    static func normalisedSerial(_ hex: String) -> String {
        let trimmed = hex.lowercased().drop { $0 == "0" }
        return trimmed.isEmpty ? "0" : String(trimmed)
    }

    private static func evenHex(_ hex: String) -> String { hex.count % 2 == 1 ? "0" + hex : hex }
}

/// Facts about a leaf certificate's DER that issuance records.
enum LeafCertificate {
    static func parse(_ der: [UInt8]) -> OpaquePointer? {
        der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_X509(nil, &cursor, buffer.count)
        }
    }
}
