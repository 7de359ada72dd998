import COpenSSL
import PluginAPI
import PluginKit

/// The file-based CA (the reference's `internal` backend): an issuing
/// certificate and its private key in PEM files, signing with OpenSSL.
nonisolated(unsafe) let descriptor = PluginDescriptor.ca(
    name: "CAFile", version: "0.1.0",
    description: "File-based CA: PEM issuer certificate and key (ca.internal), signs with OpenSSL",
    create: { createInstance(CAFile.self, $0, $1, $2) }, crl: true, precertificate: true)

@_cdecl("acmeeh_plugin_register")
public func acmeeh_plugin_register(_ hostABIVersion: UInt32) -> UnsafePointer<acmeeh_plugin_descriptor>? {
    descriptor
}

/// One `ca.internal` instance.
///
/// `@unchecked Sendable`: the OpenSSL objects are created in `init`, never
/// mutated afterwards and freed in `deinit`; OpenSSL 3 allows concurrent
/// read-only use of an X509, an EVP_MD and concurrent signing with one EVP_PKEY.
final class CAFile: CAInstance, @unchecked Sendable {
    let config: CAFileConfig
    let path: String
    let log: HostLog
    /// X509* of the issuer.
    let issuer: OpaquePointer
    /// EVP_PKEY* of the issuer.
    let issuerKey: OpaquePointer
    /// const EVP_MD* for `hash_algorithm`.
    let digest: OpaquePointer
    /// PEM of everything after the leaf: the issuer, then chain_path's certificates.
    let chainTailPEM: String
    /// Every leaf's basicConstraints and authorityKeyIdentifier, built once from the issuer.
    let basicConstraints: ExtensionSet
    let authorityKeyIdentifier: ExtensionSet
    /// keyUsage and extendedKeyUsage, built once per profile.
    let profiles = ProfileExtensionCache()
    /// const EVP_MD* SHA-1, fetched once, for subjectKeyIdentifiers.
    let sha1: OpaquePointer

    init(_ context: CreateContext) throws {
        ERR_clear_error()
        let config = try context.decodeConfig(CAFileConfig.self)
        let path = context.configPath
        self.config = config
        self.path = path
        self.log = context.log

        switch config.hashAlgorithm {
        case "sha384": digest = EVP_sha384()
        case "sha512": digest = EVP_sha512()
        default: digest = EVP_sha256()
        }

        let certKey = "\(path).root_cert_path"
        let certificates: [OpaquePointer]
        do {
            certificates = try parseCertificates(try readConfigFile(config.rootCertPath, key: certKey))
        } catch {
            throw configError(error, key: certKey, file: config.rootCertPath)
        }
        guard let issuer = certificates.first else {
            throw PluginError.config("\(certKey): \(config.rootCertPath) contains no PEM certificate")
        }
        if certificates.count > 1 {
            context.log.warning("\(certKey): \(config.rootCertPath) holds \(certificates.count) certificates; the first is the issuer, the others are ignored (put them in chain_path)")
        }
        certificates.dropFirst().forEach { X509_free($0) }
        var ok = false
        defer { if !ok { X509_free(issuer) } }
        // A leaf signed by a non-CA certificate never verifies (RFC 5280 §4.2.1.9).
        guard X509_check_ca(issuer) >= 1 else {
            throw PluginError.config("\(certKey): \(config.rootCertPath) is not a CA certificate (no basicConstraints CA:TRUE)")
        }
        // Every leaf's authorityKeyIdentifier is the issuer's SKI (RFC 5280 §4.2.1.1, which
        // §4.2.1.2 requires in CA certificates): without it no leaf could be signed.
        guard X509_get_ext_by_NID(issuer, NID_subject_key_identifier, -1) >= 0 else {
            throw PluginError.config("\(certKey): \(config.rootCertPath) has no subjectKeyIdentifier extension, which leaves need for their authorityKeyIdentifier (RFC 5280 §4.2.1.2)")
        }

        let key = try Self.loadKey(config.rootKeyPath, key: "\(path).root_key_path", issuer: issuer)
        defer { if !ok { EVP_PKEY_free(key) } }

        var tail = [try pemText(issuer)]
        if let chainPath = config.chainPath {
            let chainKey = "\(path).chain_path"
            let chain: [OpaquePointer]
            do {
                chain = try parseCertificates(try readConfigFile(chainPath, key: chainKey))
            } catch {
                throw configError(error, key: chainKey, file: chainPath)
            }
            defer { chain.forEach { X509_free($0) } }
            if chain.isEmpty { throw PluginError.config("\(chainKey): \(chainPath) contains no PEM certificate") }
            // Served order: leaf, issuer, then chain_path's certificates (each
            // certifying the one before: RFC 8446 §4.4.2), the issuer not repeated.
            var previous = issuer
            for (index, certificate) in chain.enumerated() where X509_cmp(certificate, issuer) != 0 {
                if X509_check_issued(certificate, previous) != X509_V_OK {
                    context.log.warning("\(chainKey): certificate #\(index + 1) of \(chainPath) did not issue the certificate before it in the served chain")
                }
                tail.append(try pemText(certificate))
                previous = certificate
            }
        }
        (basicConstraints, authorityKeyIdentifier) = try ExtensionSet.issuer(issuer)
        guard let sha1 = EVP_MD_fetch(nil, "SHA1", nil) else { throw openSSLFailure("EVP_MD_fetch(SHA1)") }
        self.sha1 = sha1
        self.issuer = issuer
        self.issuerKey = key
        self.chainTailPEM = tail.joined()
        ok = true

        if let notAfter = unixTime(X509_get0_notAfter(issuer)), notAfter < Int64(time(nil)) {
            context.log.error("\(certKey): the issuer certificate expired at \(rfc3339(notAfter))")
        }
        context.log.info("CA loaded from \(config.rootCertPath) (serial_source \(config.serialSource), \(config.hashAlgorithm))")
    }

    deinit {
        X509_free(issuer)
        EVP_PKEY_free(issuerKey)
        EVP_MD_free(sha1)
    }

    /// Loads the issuer's key, refusing loose permissions, encryption, unsupported
    /// types and a key that does not match `issuer`.
    static func loadKey(_ file: String, key configKey: String, issuer: OpaquePointer) throws(PluginError) -> OpaquePointer {
        let pkey: OpaquePointer
        do {
            pkey = try parsePrivateKey(try readConfigFile(file, key: configKey, privateKey: true))
        } catch {
            throw configError(error, key: configKey, file: file)
        }
        let type = EVP_PKEY_get_base_id(pkey)
        guard type == EVP_PKEY_RSA || type == EVP_PKEY_EC else {
            EVP_PKEY_free(pkey)
            throw .config("\(configKey): \(file): only RSA and EC issuer keys are supported")
        }
        guard X509_check_private_key(issuer, pkey) == 1 else {
            ERR_clear_error()
            EVP_PKEY_free(pkey)
            throw .config("\(configKey): \(file) does not match the certificate in root_cert_path")
        }
        return pkey
    }

    func sign(_ request: SignRequest) throws -> SignOutcome {
        try request.deadline.check("signing")
        ERR_clear_error()
        defer { ERR_clear_error() }
        return try issueLeaf(request)
    }

    /// The file CA keeps no revocation state: the host records revocations and
    /// builds CRLs, so there is nothing to do here.
    func revoke(_ request: RevokeRequest) throws {
        let reason = request.reason.map { " (reason \($0))" } ?? ""
        log.info("revocation of serial \(request.serialHex)\(reason): recorded by the host; the file CA keeps no revocation state")
    }

    /// The key file is still readable, private and matching; the issuer has not expired.
    func selfCheck(deadline: Deadline) throws {
        ERR_clear_error()
        let key = try Self.loadKey(config.rootKeyPath, key: "\(path).root_key_path", issuer: issuer)
        EVP_PKEY_free(key)
        guard let notAfter = unixTime(X509_get0_notAfter(issuer)) else {
            throw PluginError.internal("\(path).root_cert_path: cannot read the issuer's notAfter")
        }
        if notAfter <= Int64(time(nil)) {
            throw PluginError.config("\(path).root_cert_path: the issuer certificate \(config.rootCertPath) expired at \(rfc3339(notAfter)) (notAfter)")
        }
    }
}
