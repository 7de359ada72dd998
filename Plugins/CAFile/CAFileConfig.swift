import PluginKit

/// `ca.internal`: where the issuing certificate and key live and how leaves are signed.
struct CAFileConfig: StrictConfig {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case root_cert_path, root_key_path, chain_path, serial_source, hash_algorithm
    }

    /// PEM certificate of the issuer (a root or an intermediate). Required.
    let rootCertPath: String
    /// PEM private key of the issuer, unencrypted, mode 0600 or stricter. Required.
    let rootKeyPath: String
    /// PEM certificates served after the issuer (its issuers, bottom-up). Optional.
    let chainPath: String?
    /// "database" (the host hands in a serial) or "random" (159 random bits). Default "database".
    let serialSource: String
    /// "sha256" (default), "sha384" or "sha512".
    let hashAlgorithm: String

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        rootCertPath = try c.require(.root_cert_path)
        rootKeyPath = try c.require(.root_key_path)
        if rootCertPath.isEmpty { throw ConfigValueError(CodingKeys.root_cert_path, "is required") }
        if rootKeyPath.isEmpty { throw ConfigValueError(CodingKeys.root_key_path, "is required") }
        let chain: String? = try c.decodeIfPresent(String.self, forKey: .chain_path)
        chainPath = (chain?.isEmpty ?? true) ? nil : chain
        serialSource = try c.decode(.serial_source, default: "database", oneOf: ["database", "random"])
        hashAlgorithm = try c.decode(.hash_algorithm, default: "sha256", oneOf: ["sha256", "sha384", "sha512"])
    }
}
