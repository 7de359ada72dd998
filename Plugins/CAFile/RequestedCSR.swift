import PluginKit

/// What the leaf takes from a PKCS#10 CSR (RFC 2986 §4), located in its DER without
/// decoding the public key or verifying the signature: the host parsed and verified the
/// CSR before `ca_sign` ("already checked by the host", acmeeh_plugin.h), and OpenSSL 3.0
/// decodes the key through its provider decoders on every d2i of a CSR, which cost more
/// than the signature itself.
struct RequestedCSR {
    /// The whole DER CSR the ranges below point into.
    let der: [UInt8]
    /// The subject Name TLV (its commonName may carry a DNS identifier, RFC 8555 §7.4).
    let subject: Range<Int>
    /// subjectPKInfo: the complete SubjectPublicKeyInfo TLV, certified byte for byte.
    let subjectPublicKeyInfo: Range<Int>
    /// Its AlgorithmIdentifier's OBJECT IDENTIFIER TLV.
    let keyAlgorithm: Range<Int>
    /// Its AlgorithmIdentifier's parameters TLV; nil when absent.
    let keyParameters: Range<Int>?
    /// The subjectPublicKey BIT STRING's bits (after the unused-bits octet, which is 0).
    let publicKey: Range<Int>
    /// The extnValue octets of the subjectAltName extension in the extensionRequest
    /// attribute (RFC 2985 §5.4.2); nil when there is none.
    let subjectAltNames: Range<Int>?

    /// rsaEncryption (RFC 8017 §A.1), the only key type that gets keyEncipherment.
    static let rsaEncryption: [UInt8] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01]
    /// pkcs-9-at-extensionRequest (RFC 2985 §5.4.2).
    private static let extensionRequest: [UInt8] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x0E]
    /// Microsoft's older extension request attribute, which OpenSSL (and so the host) also reads.
    private static let msExtensionRequest: [UInt8] = [0x06, 0x0A, 0x2B, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x01, 0x0E]
    /// id-ce-subjectAltName (RFC 5280 §4.2.1.6).
    private static let subjectAltName: [UInt8] = [0x06, 0x03, 0x55, 0x1D, 0x11]

    var isRSA: Bool { der[keyAlgorithm].elementsEqual(Self.rsaEncryption) }

    init(der: [UInt8]) throws(PluginError) {
        self.der = der
        var outer = DERCursor(der, 0..<der.count)
        let request = try outer.read(0x30, "CertificationRequest")
        guard outer.atEnd else {
            throw Self.malformed("\(der.count - request.whole.upperBound) bytes follow the DER structure")
        }
        var requestFields = DERCursor(der, request.contents)
        let info = try requestFields.read(0x30, "certificationRequestInfo")
        _ = try requestFields.read(0x30, "signatureAlgorithm")
        _ = try requestFields.read(0x03, "signature")

        var infoFields = DERCursor(der, info.contents)
        _ = try infoFields.read(0x02, "version")
        subject = try infoFields.read(0x30, "subject").whole
        let spki = try infoFields.read(0x30, "subjectPKInfo")
        var spkiFields = DERCursor(der, spki.contents)
        let algorithm = try spkiFields.read(0x30, "subjectPKInfo.algorithm")
        let bits = try spkiFields.read(0x03, "subjectPKInfo.subjectPublicKey")
        var algorithmFields = DERCursor(der, algorithm.contents)
        keyAlgorithm = try algorithmFields.read(0x06, "subjectPKInfo.algorithm.algorithm").whole
        keyParameters = algorithmFields.atEnd ? nil : try algorithmFields.next("subjectPKInfo.algorithm.parameters").whole
        // RSA and EC keys are whole octets: a BIT STRING with unused bits is not one of them.
        guard !bits.contents.isEmpty, der[bits.contents.lowerBound] == 0 else {
            throw Self.malformed("the subjectPublicKey BIT STRING has unused bits")
        }
        subjectPublicKeyInfo = spki.whole
        publicKey = bits.contents.lowerBound + 1..<bits.contents.upperBound

        var altNames: Range<Int>? = nil
        if !infoFields.atEnd {
            let attributes = try infoFields.read(0xA0, "attributes")
            var attributeList = DERCursor(der, attributes.contents)
            // The extensions the host checked are those OpenSSL's X509_REQ_get_extensions
            // returns: the first extensionRequest, else the first Microsoft one.
            var standard: Range<Int>? = nil, microsoft: Range<Int>? = nil
            while !attributeList.atEnd {
                var attribute = DERCursor(der, try attributeList.read(0x30, "attribute").contents)
                let type = try attribute.read(0x06, "attribute type").whole
                if standard == nil, der[type].elementsEqual(Self.extensionRequest) {
                    standard = try attribute.read(0x31, "extensionRequest values").contents
                } else if microsoft == nil, der[type].elementsEqual(Self.msExtensionRequest) {
                    microsoft = try attribute.read(0x31, "extensionRequest values").contents
                }
            }
            if let chosen = standard ?? microsoft {
                var values = DERCursor(der, chosen)
                var extensions = DERCursor(der, try values.read(0x30, "extensionRequest").contents)
                while !extensions.atEnd {
                    var fields = DERCursor(der, try extensions.read(0x30, "extension").contents)
                    let id = try fields.read(0x06, "extnID").whole
                    if fields.peekTag == 0x01 { _ = try fields.read(0x01, "critical") }
                    let value = try fields.read(0x04, "extnValue")
                    guard der[id].elementsEqual(Self.subjectAltName) else { continue }
                    // RFC 5280 §4.2: one instance of an extension; which one the host read is unclear.
                    guard altNames == nil else {
                        throw PluginError.invalidInput("the CSR requests two subjectAltName extensions", problemType: ProblemType.badCSR)
                    }
                    altNames = value.contents
                }
            }
        }
        subjectAltNames = altNames
    }

    static func malformed(_ detail: String) -> PluginError {
        .invalidInput("the CSR is not a valid PKCS#10 DER structure (\(detail))", problemType: ProblemType.badCSR)
    }
}

/// Reads DER TLVs (X.690 §8.1: single-octet tags, definite lengths) within a range of
/// one buffer, handing out ranges instead of copies.
struct DERCursor {
    struct Element {
        let tag: UInt8
        /// Tag, length and contents.
        let whole: Range<Int>
        let contents: Range<Int>
    }

    private let bytes: [UInt8]
    private var index: Int
    private let end: Int

    init(_ bytes: [UInt8], _ range: Range<Int>) {
        self.bytes = bytes
        self.index = range.lowerBound
        self.end = range.upperBound
    }

    var atEnd: Bool { index == end }
    var peekTag: UInt8? { atEnd ? nil : bytes[index] }

    mutating func read(_ tag: UInt8, _ what: String) throws(PluginError) -> Element {
        let element = try next(what)
        guard element.tag == tag else {
            throw RequestedCSR.malformed("\(what) has tag 0x\(String(element.tag, radix: 16)), expected 0x\(String(tag, radix: 16))")
        }
        return element
    }

    mutating func next(_ what: String) throws(PluginError) -> Element {
        let start = index
        guard end - index >= 2 else { throw RequestedCSR.malformed("\(what) is truncated") }
        let tag = bytes[index]
        guard tag & 0x1F != 0x1F else { throw RequestedCSR.malformed("\(what) has a multi-octet tag") }
        var length = Int(bytes[index + 1])
        index += 2
        if length & 0x80 != 0 {
            let octets = length & 0x7F
            guard (1...3).contains(octets), end - index >= octets else {
                throw RequestedCSR.malformed("\(what) has an indefinite or oversized length")
            }
            length = bytes[index..<index + octets].reduce(0) { $0 << 8 | Int($1) }
            index += octets
        }
        guard end - index >= length else { throw RequestedCSR.malformed("\(what) is truncated") }
        index += length
        return Element(tag: tag, whole: start..<index, contents: index - length..<index)
    }
}
