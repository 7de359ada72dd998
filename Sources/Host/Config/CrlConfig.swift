/// The `crl` section: the certificate revocation list served by the internal CA.
struct CrlConfig: Sendable, Equatable {
    var enabled: Bool = false
    var path: String = "/crl"
    var rebuildIntervalSeconds: Int = 3600
    var nextUpdateSeconds: Int = 86400
    var hashAlgorithm: HashAlgorithm = .sha256
}

extension CrlConfig {
    /// Where the CRL of the CA backend at `index` is served: `path` for `ca.backend`,
    /// `path/1`, `path/2`, … for the `ca.failover` backends in order.
    func path(forBackendAt index: Int) -> String {
        index == 0 ? path : path + "/" + String(index)
    }

    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("enabled", into: &enabled)
        r.read("path", into: &path)
        r.read("rebuild_interval_seconds", into: &rebuildIntervalSeconds, min: 1)
        r.read("next_update_seconds", into: &nextUpdateSeconds, min: 1)
        r.read("hash_algorithm", into: &hashAlgorithm)
        r.finish()
    }
}
