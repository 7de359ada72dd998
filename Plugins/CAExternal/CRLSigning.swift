import COpenSSL
import Foundation
import PluginKit

/// `ca_sign_crl` (ABI 1.1) through the service's `crl_url`: POSTs the host's draft
/// (number, dates, entries) and reads back `{crl: base64 DER}`, which must parse as a
/// CRL carrying the requested cRLNumber. Without `crl_url` the instance signs no CRLs.
extension CAExternal {
    func signCRL(_ request: CRLRequest) throws -> [UInt8] {
        guard let crlURL = config.crlURL else {
            throw PluginError.unsupported("\(path).crl_url is not set: this external CA signs no CRLs")
        }
        try request.deadline.check("signing a CRL")
        let revoked: [[String: Any]] = request.entries.map { entry in
            ["serial_number": hexString(entry.serial), "revocation_time": Int(entry.revocationTime),
             "reason": entry.reason.map { Int($0) as Any } ?? NSNull()]
        }
        let json = try encode([
            "crl_number": hexString(request.crlNumber),
            "this_update": Int(request.thisUpdate),
            "next_update": Int(request.nextUpdate),
            "hash_algorithm": request.hashAlgorithm ?? "sha256",
            "revoked": revoked,
        ])
        let answer = try withRetries("signing a CRL", deadline: request.deadline) { () throws(PluginError) -> [UInt8] in
            try post(crlURL, json, deadline: request.deadline, what: "CRL", maxBytes: ExternalHTTP.maxCRLBytes)
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(answer))) as? [String: Any],
              let text = object["crl"] as? String,
              let der = Data(base64Encoded: text, options: .ignoreUnknownCharacters), !der.isEmpty else {
            throw PluginError.internal("the CRL API answered 2xx without a crl string of base64 DER")
        }
        let bytes = [UInt8](der)
        try Self.checkCRL(bytes, number: request.crlNumber)
        log.info("CRL signed through the CRL API: \(request.entries.count) entries, number \(hexString(request.crlNumber))")
        return bytes
    }

    /// Refuses bytes that are not one DER CRL, or whose cRLNumber is not `number`.
    static func checkCRL(_ der: [UInt8], number: [UInt8]) throws(PluginError) {
        ERR_clear_error()
        defer { ERR_clear_error() }
        var consumed = 0
        let crl: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var pointer = buffer.baseAddress
            let crl = d2i_X509_CRL(nil, &pointer, buffer.count)
            if let pointer, let base = buffer.baseAddress { consumed = base.distance(to: pointer) }
            return crl
        }
        guard let crl else { throw PluginError.internal("the CRL API's crl is not a DER CRL") }
        defer { X509_CRL_free(crl) }
        guard consumed == der.count else {
            throw PluginError.internal("the CRL API's crl has \(der.count - consumed) bytes after the DER CRL")
        }
        guard let raw = X509_CRL_get_ext_d2i(crl, NID_crl_number, nil, nil) else {
            throw PluginError.internal("the CRL API's CRL has no cRLNumber extension")
        }
        let integer = raw.assumingMemoryBound(to: ASN1_INTEGER.self)
        defer { ASN1_INTEGER_free(integer) }
        guard let bn = ASN1_INTEGER_to_BN(integer, nil) else { throw PluginError.internal("cannot read the CRL's cRLNumber") }
        defer { BN_free(bn) }
        var got = [UInt8](repeating: 0, count: Int((BN_num_bits(bn) + 7) / 8))
        _ = got.withUnsafeMutableBufferPointer { BN_bn2bin(bn, $0.baseAddress) }
        let wanted = Array(number.drop { $0 == 0 })
        guard got == wanted else {
            throw PluginError.internal("the CRL API's CRL has number \(hexString(got)), not the requested \(hexString(wanted))")
        }
    }
}

/// Lowercase hex, two digits per byte ("" for none).
func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}
