import COpenSSL

/// The check a flow ends with: the downloaded `application/pem-certificate-chain`
/// (RFC 8555 §7.4.2) parses, and its first certificate names exactly the ordered names.
enum IssuedCertificate {
    /// nil when the chain is good, else what is wrong with it.
    static func problem(pem: [UInt8], names: [String]) -> String? {
        // BIO_new_mem_buf does not copy: the BIO must not outlive the buffer's closure.
        let read = pem.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_X509(bio, nil, nil, nil)
        }
        guard let leaf = read else {
            ERR_clear_error()
            return "the chain does not start with a PEM certificate"
        }
        defer { X509_free(leaf) }
        var found: [String] = []
        if let sans = X509_get_ext_d2i(leaf, NID_subject_alt_name, nil, nil) {
            let list = OpaquePointer(sans)
            defer { acmeeh_GENERAL_NAMES_free(list) }
            for index in 0..<acmeeh_sk_GENERAL_NAME_num(list) {
                guard let name = acmeeh_sk_GENERAL_NAME_value(list, index), name.pointee.type == GEN_DNS,
                      let value = name.pointee.d.dNSName, let data = ASN1_STRING_get0_data(value) else { continue }
                let bytes = UnsafeBufferPointer(start: data, count: Int(ASN1_STRING_length(value)))
                found.append(String(decoding: bytes, as: UTF8.self).lowercased())
            }
        }
        guard Set(found) == Set(names.map { $0.lowercased() }) else {
            return "subjectAltName \(found.sorted()) is not the ordered \(names.sorted())"
        }
        return nil
    }
}
