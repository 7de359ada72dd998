import COpenSSL
import Glibc
import PluginKit

/// The names a CSR asks for: DNS names and IP addresses, in the CSR's order (a DNS
/// commonName that is not also a subjectAltName last).
struct RequestedNames {
    var dnsNames: [String] = []
    var ipCount = 0
    /// GENERAL_NAMES* holding copies of exactly those names (the caller frees it).
    var generalNames: OpaquePointer
}

extension CAFile {
    /// Builds and signs the leaf for `request` (CN, SANs, validity, profile, BC, SKI/AKI,
    /// CRL distribution point and OCSP URL when the host hands them, then the CT poison or
    /// SCT list),
    /// then renders the chain. The CSR is trusted as the ABI promises ("already checked by
    /// the host": signature, SANs, key policy): its signature is not verified again and its
    /// key not decoded; the SubjectPublicKeyInfo is copied into the leaf byte for byte.
    func issueLeaf(_ request: SignRequest) throws -> SignOutcome {
        let csr = try RequestedCSR(der: request.csrDER)
        let names = try requestedNames(csr)
        defer { acmeeh_GENERAL_NAMES_free(names.generalNames) }

        let revocationExtensions = try ExtensionSet.revocation(
            crlDistributionPoint: request.crlDistributionPoint, ocspURL: request.ocspURL, issuer: issuer)
        let profileExtensions = try profiles.extensions(
            profile: request.profile, json: request.profileJSON, rsaKey: csr.isRSA, issuer: issuer)
        if !profileExtensions.dropped.isEmpty {
            log.debug("profile \(request.profile): \(profileExtensions.dropped.joined(separator: ", ")) left out for a non-RSA key")
        }

        // Validity (RFC 5280 §4.1.2.5).
        let now = Int64(time(nil))
        let notBefore = request.notBefore != 0 ? request.notBefore : now
        let notAfter: Int64
        if request.notAfter != 0 {
            notAfter = request.notAfter
        } else {
            guard request.validityDays > 0 else {
                throw PluginError.invalidInput("neither not_after nor validity_days was given")
            }
            notAfter = notBefore + Int64(request.validityDays) * 86_400
        }
        guard notAfter > notBefore else {
            throw PluginError.invalidInput("not_after (\(rfc3339(notAfter))) is not after not_before (\(rfc3339(notBefore)))")
        }

        let (serial, serialHex) = try makeSerial(request.serialHex)
        defer { BN_free(serial) }

        guard let leaf = X509_new() else { throw openSSLFailure("X509_new") }
        defer { X509_free(leaf) }
        guard X509_set_version(leaf, Int(X509_VERSION_3)) == 1 else { throw openSSLFailure("X509_set_version") }
        guard let serialInteger = BN_to_ASN1_INTEGER(serial, nil) else { throw openSSLFailure("BN_to_ASN1_INTEGER") }
        defer { ASN1_INTEGER_free(serialInteger) }
        guard X509_set_serialNumber(leaf, serialInteger) == 1 else { throw openSSLFailure("X509_set_serialNumber") }
        guard X509_set_issuer_name(leaf, X509_get_subject_name(issuer)) == 1 else { throw openSSLFailure("X509_set_issuer_name") }

        // Subject: CN = the first DNS name that fits ub-common-name (64); never an
        // IP address. Without a CN the subject is empty and the SAN critical
        // (RFC 5280 §4.2.1.6).
        guard let subject = X509_NAME_new() else { throw openSSLFailure("X509_NAME_new") }
        defer { X509_NAME_free(subject) }
        let commonName = names.dnsNames.first { $0.utf8.count <= 64 }
        if let commonName {
            guard X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_ASC, commonName, -1, -1, 0) == 1 else {
                throw openSSLFailure("X509_NAME_add_entry_by_NID(CN)")
            }
        }
        guard X509_set_subject_name(leaf, subject) == 1 else { throw openSSLFailure("X509_set_subject_name") }

        guard ASN1_TIME_set(X509_getm_notBefore(leaf), time_t(notBefore)) != nil,
              ASN1_TIME_set(X509_getm_notAfter(leaf), time_t(notAfter)) != nil else {
            throw openSSLFailure("ASN1_TIME_set")
        }
        try setSubjectPublicKeyInfo(leaf, from: csr)

        // Extensions, in the order leaves have always had them.
        guard X509_add1_ext_i2d(leaf, NID_subject_alt_name, UnsafeMutableRawPointer(names.generalNames),
                                commonName == nil ? 1 : 0, UInt(X509V3_ADD_DEFAULT)) == 1 else {
            throw openSSLFailure("adding subjectAltName")
        }
        try basicConstraints.add(to: leaf)
        try profileExtensions.add(to: leaf)
        try addSubjectKeyIdentifier(leaf, csr)
        try authorityKeyIdentifier.add(to: leaf)
        try revocationExtensions.add(to: leaf)
        if request.precertificate {
            try TransparencyExtension.addPoison(to: leaf)
        } else if let scts = request.sctList {
            try TransparencyExtension.addSCTList(scts, to: leaf)
        }

        try request.deadline.check("signing the certificate")
        guard X509_sign(leaf, issuerKey, digest) > 0 else { throw openSSLFailure("X509_sign") }

        let chain = try pemText(leaf) + chainTailPEM
        log.debug("issued \(request.precertificate ? "precertificate" : "certificate") serial \(serialHex) for \(names.dnsNames.count) DNS name(s) and \(names.ipCount) IP address(es), profile \(request.profile)")
        return .issued(pemChain: chain, serialHex: serialHex, notBefore: notBefore, notAfter: notAfter)
    }

    /// Puts the CSR's SubjectPublicKeyInfo into `leaf` as it is encoded there (algorithm,
    /// parameters and key bits), through X509_PUBKEY_set0_param: no key is decoded or
    /// re-encoded, as X509_set_pubkey would.
    private func setSubjectPublicKeyInfo(_ leaf: OpaquePointer, from csr: RequestedCSR) throws {
        guard let publicKeyInfo = X509_get_X509_PUBKEY(leaf) else { throw openSSLFailure("X509_get_X509_PUBKEY") }
        let algorithm: OpaquePointer? = csr.der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress! + csr.keyAlgorithm.lowerBound
            return d2i_ASN1_OBJECT(nil, &cursor, csr.keyAlgorithm.count)
        }
        guard let algorithm else {
            ERR_clear_error()
            throw RequestedCSR.malformed("the subjectPKInfo algorithm is not an OBJECT IDENTIFIER")
        }
        // Parameters: absent, NULL (RSA), or any other TLV kept as its encoding (V_ASN1_OTHER
        // is written out as is): an EC named curve, explicit curve parameters, RSASSA-PSS.
        var parameterType = V_ASN1_UNDEF
        var parameters: UnsafeMutableRawPointer? = nil
        if let range = csr.keyParameters {
            if csr.der[range].elementsEqual([0x05, 0x00]) {
                parameterType = V_ASN1_NULL
            } else {
                guard let encoded = ASN1_STRING_type_new(V_ASN1_OTHER),
                      csr.der[range].withContiguousStorageIfAvailable({ ASN1_STRING_set(encoded, $0.baseAddress, Int32($0.count)) }) == 1 else {
                    ASN1_OBJECT_free(algorithm)
                    throw openSSLFailure("ASN1_STRING_set")
                }
                parameterType = V_ASN1_OTHER
                parameters = UnsafeMutableRawPointer(encoded)
            }
        }
        func freeParameters() { if parameterType == V_ASN1_OTHER { ASN1_STRING_free(parameters?.assumingMemoryBound(to: ASN1_STRING.self)) } }
        guard !csr.publicKey.isEmpty, let bits = CRYPTO_malloc(csr.publicKey.count, #fileID, #line) else {
            ASN1_OBJECT_free(algorithm)
            freeParameters()
            throw openSSLFailure("CRYPTO_malloc")
        }
        csr.der.withUnsafeBufferPointer { buffer in
            bits.copyMemory(from: buffer.baseAddress! + csr.publicKey.lowerBound, byteCount: csr.publicKey.count)
        }
        // On success the X509_PUBKEY owns algorithm, parameters and bits.
        guard X509_PUBKEY_set0_param(publicKeyInfo, algorithm, parameterType, parameters,
                                     bits.assumingMemoryBound(to: UInt8.self), Int32(csr.publicKey.count)) == 1 else {
            ASN1_OBJECT_free(algorithm)
            freeParameters()
            CRYPTO_free(bits, #fileID, #line)
            throw openSSLFailure("X509_PUBKEY_set0_param")
        }
    }

    /// subjectKeyIdentifier = SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2, method 1).
    private func addSubjectKeyIdentifier(_ leaf: OpaquePointer, _ csr: RequestedCSR) throws {
        var hash = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let hashed = csr.der.withUnsafeBufferPointer { buffer in
            EVP_Digest(buffer.baseAddress! + csr.publicKey.lowerBound, csr.publicKey.count, &hash, &length, sha1, nil)
        }
        guard hashed == 1 else { throw openSSLFailure("SHA-1 of the public key") }
        guard let keyIdentifier = ASN1_OCTET_STRING_new() else { throw openSSLFailure("ASN1_OCTET_STRING_new") }
        defer { ASN1_OCTET_STRING_free(keyIdentifier) }
        guard ASN1_OCTET_STRING_set(keyIdentifier, hash, Int32(length)) == 1,
              X509_add1_ext_i2d(leaf, NID_subject_key_identifier, UnsafeMutableRawPointer(keyIdentifier), 0,
                                UInt(X509V3_ADD_DEFAULT)) == 1 else {
            throw openSSLFailure("adding subjectKeyIdentifier")
        }
    }

    /// The CSR's DNS and IP subjectAltNames and its DNS commonName; other name types are
    /// not carried over.
    private func requestedNames(_ csr: RequestedCSR) throws -> RequestedNames {
        guard let generalNames = GENERAL_NAMES_new() else { throw openSSLFailure("GENERAL_NAMES_new") }
        var names = RequestedNames(generalNames: generalNames)
        var ok = false
        defer { if !ok { acmeeh_GENERAL_NAMES_free(generalNames) } }

        if let range = csr.subjectAltNames {
            let decoded: OpaquePointer? = csr.der.withUnsafeBufferPointer { buffer in
                var cursor: UnsafePointer<UInt8>? = buffer.baseAddress! + range.lowerBound
                return d2i_GENERAL_NAMES(nil, &cursor, range.count)
            }
            guard let requested = decoded else {
                ERR_clear_error()
                throw PluginError.invalidInput("the CSR's subjectAltName extension is not valid DER", problemType: ProblemType.badCSR)
            }
            do {
                defer { acmeeh_GENERAL_NAMES_free(requested) }
                for i in 0..<acmeeh_sk_GENERAL_NAME_num(requested) {
                    guard let name = acmeeh_sk_GENERAL_NAME_value(requested, i) else { continue }
                    switch name.pointee.type {
                    case GEN_DNS:
                        let value = name.pointee.d.dNSName
                        guard let data = ASN1_STRING_get0_data(value), ASN1_STRING_length(value) > 0 else {
                            throw PluginError.invalidInput("the CSR has an empty DNS name", problemType: ProblemType.badCSR)
                        }
                        let bytes = UnsafeBufferPointer(start: data, count: Int(ASN1_STRING_length(value)))
                        guard bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                            throw PluginError.invalidInput("the CSR has a DNS name that is not printable ASCII", problemType: ProblemType.badCSR)
                        }
                        names.dnsNames.append(String(decoding: bytes, as: UTF8.self))
                    case GEN_IPADD:
                        let length = ASN1_STRING_length(name.pointee.d.iPAddress)
                        guard length == 4 || length == 16 else {
                            throw PluginError.invalidInput("the CSR has an IP address of \(length) bytes", problemType: ProblemType.badCSR)
                        }
                        names.ipCount += 1
                    default:
                        continue
                    }
                    guard let copy = GENERAL_NAME_dup(name) else { throw openSSLFailure("GENERAL_NAME_dup") }
                    guard acmeeh_sk_GENERAL_NAME_push(generalNames, copy) > 0 else {
                        GENERAL_NAME_free(copy)
                        throw openSSLFailure("sk_GENERAL_NAME_push")
                    }
                }
            }
        }
        // RFC 8555 §7.4: a DNS name may be requested in the subject's commonName only (the
        // host checked it is an identifier of the order); the leaf names it in subjectAltName.
        if let commonName = try commonNameDNS(csr), !names.dnsNames.contains(where: { $0.lowercased() == commonName }) {
            guard let name = a2i_GENERAL_NAME(nil, nil, nil, GEN_DNS, commonName, 0) else {
                throw openSSLFailure("a2i_GENERAL_NAME(CN)")
            }
            guard acmeeh_sk_GENERAL_NAME_push(generalNames, name) > 0 else {
                GENERAL_NAME_free(name)
                throw openSSLFailure("sk_GENERAL_NAME_push")
            }
            names.dnsNames.append(commonName)
        }
        ERR_clear_error()
        guard names.dnsNames.count + names.ipCount > 0 else {
            throw PluginError.invalidInput("the CSR requests no DNS name or IP address in subjectAltName or commonName", problemType: ProblemType.badCSR)
        }
        ok = true
        return names
    }

    /// The CSR subject's commonName, lowercased, when it is a DNS name (printable ASCII, not
    /// an IP address); nil when there is none.
    private func commonNameDNS(_ csr: RequestedCSR) throws -> String? {
        let decoded: OpaquePointer? = csr.der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress! + csr.subject.lowerBound
            return d2i_X509_NAME(nil, &cursor, csr.subject.count)
        }
        guard let subject = decoded else {
            ERR_clear_error()
            throw PluginError.invalidInput("the CSR's subject is not a valid Name", problemType: ProblemType.badCSR)
        }
        defer { X509_NAME_free(subject) }
        let index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1)
        guard index >= 0, let entry = X509_NAME_get_entry(subject, index),
              let data = X509_NAME_ENTRY_get_data(entry) else { return nil }
        var utf8: UnsafeMutablePointer<UInt8>? = nil
        let length = ASN1_STRING_to_UTF8(&utf8, data)
        guard length > 0, let utf8 else { ERR_clear_error(); return nil }
        defer { acmeeh_OPENSSL_free(utf8) }
        let bytes = UnsafeBufferPointer(start: utf8, count: Int(length))
        guard bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw PluginError.invalidInput("the CSR's common name is not printable ASCII", problemType: ProblemType.badCSR)
        }
        let text = String(decoding: bytes, as: UTF8.self).lowercased()
        var address = in6_addr()
        if inet_pton(AF_INET, text, &address) == 1 || inet_pton(AF_INET6, text, &address) == 1 { return nil }
        return text
    }

    /// The host's serial when given (checked: hex, positive, at most 20 octets
    /// in DER as RFC 5280 §4.1.2.2 requires), else 159 random bits, nonzero.
    /// Returns the BIGNUM (caller frees) and its canonical lowercase hex.
    private func makeSerial(_ hostSerial: String?) throws -> (OpaquePointer, String) {
        guard let bn = BN_new() else { throw openSSLFailure("BN_new") }
        var ok = false
        defer { if !ok { BN_free(bn) } }
        if let hostSerial {
            guard !hostSerial.isEmpty, hostSerial.utf8.count <= 40,
                  hostSerial.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || ($0 >= 0x41 && $0 <= 0x46) }) else {
                throw PluginError.invalidInput("serial_hex \"\(hostSerial.prefix(48))\" is not 1 to 40 hex digits")
            }
            var pointer: OpaquePointer? = bn
            guard BN_hex2bn(&pointer, hostSerial) > 0 else { throw openSSLFailure("BN_hex2bn") }
            guard BN_is_zero(bn) == 0, BN_num_bits(bn) <= 159 else {
                throw PluginError.invalidInput("serial_hex \(hostSerial) must be positive and at most 159 bits (RFC 5280 §4.1.2.2)")
            }
        } else {
            if config.serialSource == "database" {
                log.debug("serial_source is database but the host gave no serial; using 159 random bits")
            }
            repeat {
                guard BN_rand(bn, 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 else { throw openSSLFailure("BN_rand") }
            } while BN_is_zero(bn) == 1
        }
        guard let hex = BN_bn2hex(bn) else { throw openSSLFailure("BN_bn2hex") }
        defer { acmeeh_OPENSSL_free(hex) }
        ok = true
        return (bn, String(cString: hex).lowercased())
    }
}
