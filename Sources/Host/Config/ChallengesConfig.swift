/// The `challenges` section: which validation methods are offered, how each is tuned,
/// and how failed validations are retried.
struct ChallengesConfig: Sendable, Equatable {
    var enabled: [ChallengeRef] = [.http01]
    /// Accept every challenge without validating (for a proxy in front of another CA).
    var autoAccept: Bool = false
    /// `Retry-After` on a pending authorization or processing challenge.
    var retryAfterSeconds: Int = 3
    /// Retry delay = min(base · 2^n, max).
    var backoffBaseSeconds: Int = 5
    var backoffMaxSeconds: Int = 300
    var http01 = Http01Config()
    var dns01 = Dns01Config()
    var tlsalpn01 = TlsAlpn01Config()
    var dnspersist01 = DnsPersist01Config()
    var backgroundWorker = BackgroundWorkerConfig()
}

extension ChallengesConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        if let items = r.elements("enabled") {
            enabled = []
            for (path, node) in items {
                guard let text = ConfigObjectReader.string(node, path, node.line, r.diagnostics) else { continue }
                switch ChallengeRef.parse(text) {
                case .success(let ref) where enabled.contains(ref):
                    r.report(path, node.line, "\"\(text)\" is listed twice")
                case .success(let ref): enabled.append(ref)
                case .failure(let problem): r.report(path, node.line, problem.message)
                }
            }
            if items.isEmpty { r.report(KeyPath.member(r.path, "enabled"), r.member("enabled")?.line ?? r.line, "needs at least 1 item(s)") }
        }
        r.read("auto_accept", into: &autoAccept)
        r.read("retry_after_seconds", into: &retryAfterSeconds, min: 1)
        r.read("backoff_base_seconds", into: &backoffBaseSeconds, min: 1)
        r.read("backoff_max_seconds", into: &backoffMaxSeconds, min: 1)
        http01 = Http01Config(reading: r.object("http01"))
        dns01 = Dns01Config(reading: r.object("dns01"))
        tlsalpn01 = TlsAlpn01Config(reading: r.object("tlsalpn01"))
        dnspersist01 = DnsPersist01Config(reading: r.object("dnspersist01"))
        backgroundWorker = BackgroundWorkerConfig(reading: r.object("background_worker"))
        r.finish()
    }
}
