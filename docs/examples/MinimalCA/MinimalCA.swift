// MinimalCA: a complete acmeeh CA plugin in Swift, written with PluginKit.
//
// Built as the package product `ExampleMinimalCA` (libExampleMinimalCA.so next to the
// acmeeh executable). Configuration, for `ca.backend: ext:ExampleMinimalCA`:
//
//     ca:
//       backend: ext:ExampleMinimalCA
//       issuer_cert: /etc/acmeeh/ca.pem
//       issuer_key: /etc/acmeeh/ca-key.pem
//
// Check it: `acmeeh plugins check .build/debug/libExampleMinimalCA.so --config '{...}'`.
import COpenSSL
import PluginAPI
import PluginKit

nonisolated(unsafe) let descriptor = PluginDescriptor.ca(
    name: "ExampleMinimalCA", version: "1.0.0",
    description: "Example CA in Swift: signs with issuer_cert/issuer_key",
    create: { createInstance(MinimalCA.self, $0, $1, $2) },
    crl: true)  // ABI 1.1: installs ca_sign_crl, which calls MinimalCA.signCRL

@_cdecl("acmeeh_plugin_register")
public func acmeeh_plugin_register(_ hostABIVersion: UInt32) -> UnsafePointer<acmeeh_plugin_descriptor>? {
    descriptor  // a major mismatch is reported by the host
}

/// The configuration: two required paths; any other key is refused, naming it.
struct MinimalCAConfig: StrictConfig {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case issuerCert = "issuer_cert"
        case issuerKey = "issuer_key"
    }
    var issuerCert: String
    var issuerKey: String

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        issuerCert = try c.require(.issuerCert)
        issuerKey = try c.require(.issuerKey)
    }
}

/// One instance. `@unchecked Sendable`: the issuer and key are read in `init` and only read
/// afterwards, which OpenSSL 3 allows from several threads at once.
final class MinimalCA: CAInstance, @unchecked Sendable {
    let issuer: OpaquePointer  // X509*
    let key: OpaquePointer  // EVP_PKEY*
    let issuerPEM: String

    init(_ context: CreateContext) throws {
        let config = try context.decodeConfig(MinimalCAConfig.self)
        let path = context.configPath
        guard let issuer = readPEM(config.issuerCert, { PEM_read_bio_X509($0, nil, nil, nil) }) else {
            throw PluginError.config("\(path).issuer_cert: cannot read a PEM certificate from \(config.issuerCert)")
        }
        guard let key = readPEM(config.issuerKey, { PEM_read_bio_PrivateKey($0, nil, nil, nil) }),
              X509_check_private_key(issuer, key) == 1 else {
            X509_free(issuer)
            throw PluginError.config("\(path).issuer_key: \(config.issuerKey) is not the key of \(config.issuerCert)")
        }
        self.issuer = issuer
        self.key = key
        self.issuerPEM = pem(issuer) ?? ""
        context.log.info("MinimalCA signs as \(config.issuerCert)")
    }

    deinit {
        X509_free(issuer)
        EVP_PKEY_free(key)
    }

    /// Leaf = the CSR's subject, key and subjectAltName, signed by the issuer.
    func sign(_ request: SignRequest) throws -> SignOutcome {
        try request.deadline.check("signing")
        defer { ERR_clear_error() }
        let csr = request.csrDER.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var cursor = buffer.baseAddress
            return d2i_X509_REQ(nil, &cursor, buffer.count)
        }
        guard let csr, let publicKey = X509_REQ_get0_pubkey(csr), X509_REQ_verify(csr, publicKey) == 1 else {
            throw PluginError.invalidInput("the CSR does not parse or verify", problemType: ProblemType.badCSR)
        }
        defer { X509_REQ_free(csr) }
        guard let leaf = X509_new() else { throw PluginError.internal("out of memory") }
        defer { X509_free(leaf) }

        var random = [UInt8](repeating: 0, count: 16)
        RAND_bytes(&random, 16)
        random[0] = (random[0] & 0x7f) | 0x01  // positive, no leading zero byte
        let randomHex: String = random.map { byte in byte < 16 ? "0" + String(byte, radix: 16) : String(byte, radix: 16) }.joined()
        let serialHex: String = request.serialHex ?? randomHex
        var serial: OpaquePointer? = nil  // BIGNUM*
        BN_hex2bn(&serial, serialHex)
        defer { BN_free(serial) }
        let notBefore = request.notBefore != 0 ? request.notBefore : Int64(time(nil))
        let notAfter = request.notAfter != 0 ? request.notAfter : notBefore + Int64(request.validityDays) * 86_400

        var ok = serial != nil && X509_set_version(leaf, Int(X509_VERSION_3)) == 1
            && BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(leaf)) != nil
            && X509_set_issuer_name(leaf, X509_get_subject_name(issuer)) == 1
            && X509_set_subject_name(leaf, X509_REQ_get_subject_name(csr)) == 1
            && X509_set_pubkey(leaf, publicKey) == 1
            && ASN1_TIME_set(X509_getm_notBefore(leaf), time_t(notBefore)) != nil
            && ASN1_TIME_set(X509_getm_notAfter(leaf), time_t(notAfter)) != nil
        if let extensions = X509_REQ_get_extensions(csr) {
            for index in 0..<acmeeh_sk_X509_EXTENSION_num(extensions) {
                let ext = acmeeh_sk_X509_EXTENSION_value(extensions, index)
                if OBJ_obj2nid(X509_EXTENSION_get_object(ext)) == NID_subject_alt_name {
                    ok = ok && X509_add_ext(leaf, ext, -1) == 1
                }
            }
            acmeeh_sk_X509_EXTENSION_pop_free(extensions)
        }
        var context = X509V3_CTX()
        X509V3_set_ctx(&context, issuer, leaf, nil, nil, 0)
        for (name, value) in [("basicConstraints", "critical,CA:FALSE"), ("keyUsage", "critical,digitalSignature"),
                              ("extendedKeyUsage", "serverAuth"), ("authorityKeyIdentifier", "keyid:always")] {
            guard let ext = X509V3_EXT_conf(nil, &context, name, value) else { ok = false; continue }
            ok = ok && X509_add_ext(leaf, ext, -1) == 1
            X509_EXTENSION_free(ext)
        }
        let digest = EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? nil : EVP_sha256()
        guard ok, X509_sign(leaf, key, digest) > 0, let leafPEM = pem(leaf) else {
            throw PluginError.internal("signing failed")
        }
        return .issued(pemChain: leafPEM + issuerPEM, serialHex: serialHex.lowercased(),
                       notBefore: notBefore, notAfter: notAfter)
    }

    /// The host records revocations and builds CRLs; this CA keeps no state.
    func revoke(_ request: RevokeRequest) throws {}

    /// ABI 1.1: a v2 CRL of the issuer listing the host's entries, with cRLNumber and AKI.
    func signCRL(_ request: CRLRequest) throws -> [UInt8] {
        let digest: OpaquePointer?
        switch request.hashAlgorithm ?? "sha256" {
        case "sha256": digest = EVP_sha256()
        case "sha384": digest = EVP_sha384()
        case "sha512": digest = EVP_sha512()
        case let other: throw PluginError.invalidInput("unsupported hash_algorithm \(other)")
        }
        guard let crl = X509_CRL_new(), let time = ASN1_TIME_set(nil, time_t(request.thisUpdate)) else {
            throw PluginError.internal("out of memory")
        }
        defer { X509_CRL_free(crl); ASN1_TIME_free(time) }
        var ok = X509_CRL_set_version(crl, 1) == 1  // v2
            && X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) == 1
            && X509_CRL_set1_lastUpdate(crl, time) == 1
            && ASN1_TIME_set(time, time_t(request.nextUpdate)) != nil && X509_CRL_set1_nextUpdate(crl, time) == 1
        for entry in request.entries where ok {
            guard let revoked = X509_REVOKED_new() else { throw PluginError.internal("out of memory") }
            ok = withInteger(entry.serial) { X509_REVOKED_set_serialNumber(revoked, $0) == 1 }
                && ASN1_TIME_set(time, time_t(entry.revocationTime)) != nil
                && X509_REVOKED_set_revocationDate(revoked, time) == 1
            if ok, let reason = entry.reason, let code = ASN1_ENUMERATED_new() {
                ok = ASN1_ENUMERATED_set(code, Int(reason)) == 1
                    && X509_REVOKED_add1_ext_i2d(revoked, NID_crl_reason, UnsafeMutableRawPointer(code), 0, 0) == 1
                ASN1_ENUMERATED_free(code)
            }
            if ok, X509_CRL_add0_revoked(crl, revoked) == 1 { continue }
            X509_REVOKED_free(revoked)
            ok = false
        }
        var context = X509V3_CTX()
        X509V3_set_ctx(&context, issuer, nil, nil, crl, 0)
        let aki = X509V3_EXT_conf_nid(nil, &context, NID_authority_key_identifier, "keyid:always")
        defer { X509_EXTENSION_free(aki) }
        ok = ok && aki != nil && X509_CRL_add_ext(crl, aki, -1) == 1
            && withInteger(request.crlNumber) { X509_CRL_add1_ext_i2d(crl, NID_crl_number, UnsafeMutableRawPointer($0), 0, 0) == 1 }
            && X509_CRL_sign(crl, key, EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? nil : digest) > 0
        var der: UnsafeMutablePointer<UInt8>? = nil
        let length = ok ? i2d_X509_CRL(crl, &der) : 0
        guard length > 0, let der else { throw PluginError.internal("signing the CRL failed") }
        defer { acmeeh_OPENSSL_free(der) }
        return Array(UnsafeBufferPointer(start: der, count: Int(length)))
    }
}

/// Reads one PEM object from a file with `read`.
/// `body` with a positive ASN1_INTEGER of the unsigned big-endian `bytes`.
private func withInteger(_ bytes: [UInt8], _ body: (UnsafeMutablePointer<ASN1_INTEGER>) -> Bool) -> Bool {
    guard let bn = BN_bin2bn(bytes, Int32(bytes.count), nil) else { return false }
    defer { BN_free(bn) }
    guard let integer = BN_to_ASN1_INTEGER(bn, nil) else { return false }
    defer { ASN1_INTEGER_free(integer) }
    return body(integer)
}

private func readPEM(_ file: String, _ read: (OpaquePointer) -> OpaquePointer?) -> OpaquePointer? {
    guard let bio = BIO_new_file(file, "r") else { ERR_clear_error(); return nil }
    defer { BIO_free(bio) }
    return read(bio)
}

/// The PEM text of a certificate.
private func pem(_ certificate: OpaquePointer) -> String? {
    guard let bio = BIO_new(BIO_s_mem()) else { return nil }
    defer { BIO_free(bio) }
    guard PEM_write_bio_X509(bio, certificate) == 1 else { return nil }
    var data: UnsafeMutablePointer<CChar>? = nil
    let length = acmeeh_BIO_get_mem_data(bio, &data)
    guard let data, length > 0 else { return nil }
    return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
}
