/// The `ct_logging` section: Certificate Transparency logs (RFC 6962) the internal CA submits to.
struct CTLoggingConfig: Sendable, Equatable {
    var enabled: Bool = false
    var logs: [CTLogConfig] = []
    /// Submit a precertificate and embed the SCTs in the certificate.
    var submitPrecert: Bool = false
}

/// One `ct_logging.logs[]` entry.
struct CTLogConfig: Sendable, Equatable {
    var url: String
    /// Accepted for compatibility; unused by the reference.
    var publicKeyPath: String? = nil
    var timeoutSeconds: Int = 10
}

extension CTLoggingConfig {
    init(reading r: ConfigObjectReader) {
        self.init()
        r.read("enabled", into: &enabled)
        if let items = r.elements("logs") {
            logs = items.map { path, node in
                CTLogConfig(reading: ConfigObjectReader(node: node, path: path, line: node.line, diagnostics: r.diagnostics))
            }
        }
        r.read("submit_precert", into: &submitPrecert)
        r.finish()
    }
}

extension CTLogConfig {
    init(reading r: ConfigObjectReader) {
        self.init(url: r.requiredString("url"))
        r.read("public_key_path", into: &publicKeyPath)
        r.read("timeout_seconds", into: &timeoutSeconds, min: 1)
        r.finish()
    }
}
