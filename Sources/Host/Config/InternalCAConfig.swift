/// `ca.internal`: the file-based CA (PEM root certificate and key, optional chain).
struct InternalCAConfig: Sendable, Equatable {
    /// Where serial numbers come from: a database sequence or 159 random bits.
    enum SerialSource: String, Sendable, CaseIterable {
        case database, random
    }

    var rootCertPath: String = ""
    var rootKeyPath: String = ""
    var chainPath: String? = nil
    var serialSource: SerialSource = .database
    var hashAlgorithm: HashAlgorithm = .sha256
}

/// A signature hash for certificates and CRLs.
enum HashAlgorithm: String, Sendable, CaseIterable {
    case sha256, sha384, sha512
}

extension InternalCAConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("root_cert_path", into: &rootCertPath)
        r.read("root_key_path", into: &rootKeyPath)
        r.read("chain_path", into: &chainPath)
        r.read("serial_source", into: &serialSource)
        r.read("hash_algorithm", into: &hashAlgorithm)
        r.finish()
    }
}
