/// The `nonce` section: anti-replay nonces (RFC 8555 §7.2).
struct NonceConfig: Sendable, Equatable {
    var expirySeconds: Int = 3600
    var gcIntervalSeconds: Int = 300
    /// Random bytes per nonce; at least 16 (RFC 8555 §7.2 wants enough entropy).
    var length: Int = 32
    /// Keep a record of consumed nonces.
    var auditConsumed: Bool = false
    /// Accepted for compatibility; unused by the reference.
    var maxAgeSeconds: Int = 300
}

extension NonceConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("expiry_seconds", into: &expirySeconds, min: 1)
        r.read("gc_interval_seconds", into: &gcIntervalSeconds, min: 1)
        r.read("length", into: &length, max: 128)  // < 16 is a cross-field error
        r.read("audit_consumed", into: &auditConsumed)
        r.read("max_age_seconds", into: &maxAgeSeconds, min: 1)
        r.finish()
    }
}
