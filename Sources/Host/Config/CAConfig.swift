/// The `ca` section: which CA signs, validity limits, certificate profiles, the circuit
/// breaker, and the settings of the built-in backends.
///
/// `ca` is the one open section: keys it does not define belong to a CA plugin, are kept
/// in `pluginKeys`, and reach the plugin through `AppConfig.pluginConfigJSON(at: "ca")`.
struct CAConfig: Sendable, Equatable {
    var backend: CABackendRef = .internal
    /// Backends tried in order when the primary fails with a retryable error.
    var failover: [CABackendRef] = []
    var defaultValidityDays: Int = 90
    var maxValidityDays: Int = 397
    /// By name; always has `default` (the implicit one unless configured).
    var profiles: [String: CertificateProfile] = ["default": .implicitDefault]
    var circuitBreakerFailureThreshold: Int = 5
    var circuitBreakerRecoveryTimeout: Double = 30.0
    /// Accepted for compatibility; unused by the reference.
    var deferredSigningTimeout: Int = 600
    var `internal` = InternalCAConfig()
    var external = ExternalCAConfig()
    /// Names of the keys left for a CA plugin (e.g. `vault_addr`, `hsm`), in document order.
    var pluginKeys: [String] = []
}

extension CAConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        if let entry = r.member("backend") {
            let path = KeyPath.member(r.path, "backend")
            if let backend = Self.backend(entry.value, path, entry.line, r) { self.backend = backend }
        }
        if let items = r.elements("failover") {
            failover = items.compactMap { Self.backend($0.node, $0.path, $0.node.line, r) }
        }
        r.read("default_validity_days", into: &defaultValidityDays, min: 1)
        r.read("max_validity_days", into: &maxValidityDays, min: 1)
        readProfiles(r.object("profiles"))
        r.read("circuit_breaker_failure_threshold", into: &circuitBreakerFailureThreshold, min: 1)
        r.read("circuit_breaker_recovery_timeout", into: &circuitBreakerRecoveryTimeout, min: 0.1)
        r.read("deferred_signing_timeout", into: &deferredSigningTimeout, min: 1)
        `internal` = InternalCAConfig(reading: r.object("internal"))
        external = ExternalCAConfig(reading: r.object("external"))
        pluginKeys = r.unreadEntries().map(\.key)
    }

    private static func backend(_ node: ConfigNode, _ path: String, _ line: Int,
                                _ r: ConfigObjectReader) -> CABackendRef? {
        guard let text = ConfigObjectReader.string(node, path, line, r.diagnostics) else { return nil }
        switch CABackendRef.parse(text) {
        case .success(let ref): return ref
        case .failure(let problem):
            r.report(path, line, problem.message)
            return nil
        }
    }

    private mutating func readProfiles(_ r: ConfigObjectReader) {
        for name in r.keys {
            profiles[name] = CertificateProfile(reading: r.namedObject(name))
        }
    }
}
