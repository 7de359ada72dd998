import Foundation

/// What issuance records of the certificate a CA plugin returned, read straight from the
/// DER of the chain's first PEM block (RFC 5280 §4.1): serial, validity and the
/// SubjectPublicKeyInfo. OpenSSL 3.0 decodes a certificate's public key through its
/// provider decoders on every parse, which made parsing cost as much as signing; the
/// fields recorded here need no key.
struct IssuedLeaf: Sendable {
    let der: [UInt8]
    /// Lowercase hex of the serial's content octets without leading zero octets.
    let serialHex: String
    let notBefore: Date
    let notAfter: Date
    /// The DER SubjectPublicKeyInfo exactly as certified.
    let subjectPublicKeyInfo: [UInt8]

    /// `certificates.fingerprint`: SHA-256 hex of the DER certificate.
    var fingerprint: String { CertificateChain.sha256Hex(der) }
    /// `certificates.public_key_fingerprint`: SHA-256 hex of the SubjectPublicKeyInfo.
    var publicKeyFingerprint: String { CertificateChain.sha256Hex(subjectPublicKeyInfo) }

    struct ParseError: Error, CustomStringConvertible {
        let description: String
    }

    init(pemChain: String) throws {
        let begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----"
        guard let start = pemChain.range(of: begin), let stop = pemChain.range(of: end, range: start.upperBound..<pemChain.endIndex)
        else { throw ParseError(description: "the chain holds no PEM certificate") }
        let base64 = pemChain[start.upperBound..<stop.lowerBound].filter { !$0.isWhitespace }
        guard let der = Data(base64Encoded: String(base64)).map(Array.init) else {
            throw ParseError(description: "the first PEM certificate is not base64")
        }
        try self.init(der: der)
    }

    init(der: [UInt8]) throws {
        var outer = DERReader(der)
        let certificate = try outer.read(tag: 0x30, "Certificate")
        guard outer.atEnd else { throw ParseError(description: "bytes after the certificate") }
        var fields = DERReader(certificate.content)
        var tbs = DERReader(try fields.read(tag: 0x30, "TBSCertificate").content)
        if tbs.peekTag == 0xA0 { _ = try tbs.read(tag: 0xA0, "version") }
        let serial = try tbs.read(tag: 0x02, "serialNumber").content
        _ = try tbs.read(tag: 0x30, "signature")
        _ = try tbs.read(tag: 0x30, "issuer")
        var validity = DERReader(try tbs.read(tag: 0x30, "validity").content)
        let notBefore = try Self.time(validity.readAny("notBefore"))
        let notAfter = try Self.time(validity.readAny("notAfter"))
        _ = try tbs.read(tag: 0x30, "subject")
        let spki = try tbs.read(tag: 0x30, "subjectPublicKeyInfo")

        self.der = der
        self.serialHex = Hex.encode(Array(serial.drop { $0 == 0 }))
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.subjectPublicKeyInfo = spki.whole
    }

    /// UTCTime `YYMMDDHHMMSSZ` (years 1950–2049) or GeneralizedTime `YYYYMMDDHHMMSSZ`
    /// (RFC 5280 §4.1.2.5).
    private static func time(_ element: DERReader.Element) throws -> Date {
        let text = Array(element.content)
        let digits: Int
        switch element.tag {
        case 0x17: digits = 2
        case 0x18: digits = 4
        default: throw ParseError(description: "validity time has tag \(element.tag)")
        }
        guard text.count == digits + 11, text.last == UInt8(ascii: "Z"),
              text.dropLast().allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw ParseError(description: "validity time \(String(decoding: text, as: UTF8.self)) is not in RFC 5280 form")
        }
        func number(_ from: Int, _ count: Int) -> Int { text[from..<from + count].reduce(0) { $0 * 10 + Int($1 - 0x30) } }
        var year = number(0, digits)
        if digits == 2 { year += year < 50 ? 2000 : 1900 }
        var components = DateComponents()
        (components.year, components.month, components.day) = (year, number(digits, 2), number(digits + 2, 2))
        (components.hour, components.minute, components.second) = (number(digits + 4, 2), number(digits + 6, 2), number(digits + 8, 2))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let date = calendar.date(from: components) else {
            throw ParseError(description: "validity time \(String(decoding: text, as: UTF8.self)) is not a date")
        }
        return date
    }
}

/// Reads DER TLVs (X.690 §8.1) with single-octet tags and definite lengths.
struct DERReader {
    struct Element {
        let tag: UInt8
        let content: ArraySlice<UInt8>
        /// Tag, length and content.
        let whole: [UInt8]
    }

    private let bytes: [UInt8]
    private var index: Int

    init<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        self.bytes = Array(bytes)
        self.index = 0
    }

    var atEnd: Bool { index == bytes.count }
    var peekTag: UInt8? { atEnd ? nil : bytes[index] }

    mutating func read(tag: UInt8, _ what: String) throws -> Element {
        let element = try readAny(what)
        guard element.tag == tag else { throw IssuedLeaf.ParseError(description: "\(what): tag \(element.tag), expected \(tag)") }
        return element
    }

    mutating func readAny(_ what: String) throws -> Element {
        let start = index
        guard bytes.count - index >= 2 else { throw IssuedLeaf.ParseError(description: "\(what): truncated") }
        let tag = bytes[index]
        var length = Int(bytes[index + 1])
        index += 2
        if length & 0x80 != 0 {
            let octets = length & 0x7F
            guard (1...4).contains(octets), bytes.count - index >= octets else {
                throw IssuedLeaf.ParseError(description: "\(what): bad length")
            }
            length = bytes[index..<index + octets].reduce(0) { $0 << 8 | Int($1) }
            index += octets
        }
        guard bytes.count - index >= length else { throw IssuedLeaf.ParseError(description: "\(what): truncated") }
        let content = bytes[index..<index + length]
        index += length
        return Element(tag: tag, content: content, whole: Array(bytes[start..<index]))
    }
}
